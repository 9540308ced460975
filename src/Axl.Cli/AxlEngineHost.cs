using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Axl.Cmdlets;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Cli;

/// <summary>
/// The PowerShell engine inside the axl command, with the Axl cmdlets and DSL keywords loaded. Its runspace is opened
/// when a command first needs it: a workflow file that <see cref="StaticWorkflowFile"/> reads without running it needs
/// none, and opening one is most of a short command's start.
/// </summary>
public sealed class AxlEngineHost : IDisposable
{
    private Runspace? _runspace;

    public AxlEngineHost()
    {
        StartupTrace.Mark("engine host: start");
        ConfigureEngine();
        StartupTrace.Mark("engine configured");
    }

    private static int _configured;

    /// <summary>
    /// Sets the engine's session state factory (the Axl commands and views) once per process: by the first host made, or
    /// earlier by a command that opens a runspace before it makes one (<see cref="Commands.StepCommand.StartEarly"/>).
    /// <paramref name="typesByCommand"/>: the command registers the Axl type accelerators itself (<see cref="RegisterTypes"/>)
    /// before any of its runspaces runs a script, instead of the first runspace on its way to open.
    /// </summary>
    public static void ConfigureEngine(bool typesByCommand = false)
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1) return;
        if (StartupTrace.Enabled) Axl.AxlEngine.StartupMark = StartupTrace.Mark;
        AxlSessionState.ConfigureEngine(Path.Combine(AppContext.BaseDirectory, "Axl.Format.ps1xml"), registerTypesNow: false, typesByHost: typesByCommand);
    }

    /// <summary>Registers the Axl type accelerators now (once per process; later calls cost a lock).</summary>
    public static void RegisterTypes()
    {
        AxlSessionState.RegisterTypes();
        StartupTrace.Mark("type accelerators registered");
    }

    private Runspace Runspace
    {
        get
        {
            if (_runspace is not null) return _runspace;
            _runspace = Axl.AxlEngine.OpenRunspace();
            AxlSessionState.RegisterTypes(); // before its first script, whoever configured the engine
            StartupTrace.Mark("runspace opened");
            return _runspace;
        }
    }

    /// <summary>
    /// Loads workflows through Get-AxlWorkflow (the same code path as the module); load errors come back as records.
    /// <paramref name="runsBodies"/> false (the command never runs a step body in this process): a file
    /// <see cref="StaticWorkflowFile"/> reads is read without opening the runspace, with the same workflows;
    /// <paramref name="read"/> says how it is parsed (<see cref="FileRead.Whole"/> for a caller that binds a body to the
    /// file's tree at once).
    /// </summary>
    public (List<AxlWorkflow> Workflows, List<ErrorRecord> Errors) LoadWorkflows(string reference, bool runsBodies = true, FileRead read = FileRead.Auto)
    {
        ReadWithoutRunningIt = false;
        if (!runsBodies && ReadWithoutRunning(reference, read) is { } workflows)
        {
            ReadWithoutRunningIt = true;
            if (StartupTrace.Enabled) StartupTrace.Mark($"read {reference}{(StaticWorkflowFile.LastReadInPieces is > 0 and var n ? $" ({n} steps from pieces parsed on their own)" : "")} without running it");
            return (workflows, new List<ErrorRecord>());
        }
        using var ps = PowerShell.Create();
        ps.Runspace = Runspace;
        ps.AddCommand("Get-AxlWorkflow").AddParameter("Path", reference);
        var loaded = new List<AxlWorkflow>();
        var errors = new List<ErrorRecord>();
        try
        {
            foreach (var o in ps.Invoke()) if (o?.BaseObject is AxlWorkflow wf) loaded.Add(wf);
        }
        catch (RuntimeException ex)
        {
            errors.Add(ex.ErrorRecord);
        }
        errors.AddRange(ps.Streams.Error);
        if (StartupTrace.Enabled) StartupTrace.Mark($"loaded {reference}");
        return (loaded, errors);
    }

    /// <summary>Whether the last <see cref="LoadWorkflows"/> read its file without running it (nothing in it wrote anything).</summary>
    public bool ReadWithoutRunningIt { get; private set; }

    /// <summary>
    /// The workflows of a reference to one existing file (no wildcards: Get-AxlWorkflow's -Path expands those, and
    /// resolves '~' and PowerShell drives), when its top level needs no running; null otherwise.
    /// </summary>
    private static List<AxlWorkflow>? ReadWithoutRunning(string reference, FileRead how)
    {
        if (reference.IndexOfAny(new[] { '*', '?', '[', ']', '`' }) >= 0 || reference.StartsWith('~')) return null;
        WorkflowReference parsed;
        try { parsed = WorkflowReference.Parse(reference); }
        catch (ArgumentException) { return null; }
        if (!File.Exists(parsed.Path)) return null;
        var read = StaticWorkflowFile.TryRead(parsed.Path, parsed.Name, AxlSessionState.Keyword, out var why, how);
        if (read is null && StartupTrace.Enabled) StartupTrace.Mark($"{reference} runs: {why}");
        return read?.ToList();
    }

    public void Dispose() => _runspace?.Dispose();
}
