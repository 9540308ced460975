using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Axl.Cmdlets;
using Axl.Model;

namespace Axl.Cli;

/// <summary>The PowerShell engine inside the axl command, with the Axl cmdlets and DSL keywords loaded.</summary>
public sealed class AxlEngineHost : IDisposable
{
    private readonly Runspace _runspace;

    public AxlEngineHost()
    {
        var formatFile = Path.Combine(AppContext.BaseDirectory, "Axl.Format.ps1xml");
        StartupTrace.Mark("engine host: start");
        AxlSessionState.ConfigureEngine(formatFile);
        StartupTrace.Mark("engine configured");
        var iss = AxlSessionState.Create(formatFile);
        StartupTrace.Mark("session state created");
        _runspace = RunspaceFactory.CreateRunspace(iss);
        _runspace.Open();
        StartupTrace.Mark("runspace opened");
    }

    /// <summary>Loads workflows through Get-AxlWorkflow (the same code path as the module); load errors come back as records.</summary>
    public (List<AxlWorkflow> Workflows, List<ErrorRecord> Errors) LoadWorkflows(string reference)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddCommand("Get-AxlWorkflow").AddParameter("Path", reference);
        var workflows = new List<AxlWorkflow>();
        var errors = new List<ErrorRecord>();
        try
        {
            foreach (var o in ps.Invoke()) if (o?.BaseObject is AxlWorkflow wf) workflows.Add(wf);
        }
        catch (RuntimeException ex)
        {
            errors.Add(ex.ErrorRecord);
        }
        errors.AddRange(ps.Streams.Error);
        if (StartupTrace.Enabled) StartupTrace.Mark($"loaded {reference}");
        return (workflows, errors);
    }

    public void Dispose() => _runspace.Dispose();
}
