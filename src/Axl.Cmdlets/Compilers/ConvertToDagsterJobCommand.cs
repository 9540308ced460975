using System.Management.Automation;
using Axl.Cmdlets.Workflows;
using Axl.Compilers;
using Axl.Compilers.Dagster;
using Axl.Runtime;

namespace Axl.Cmdlets.Compilers;

/// <summary>Compiles workflows to Dagster jobs (a Python module with one op per step); all decisions are in DagsterCompiler.</summary>
[Cmdlet(VerbsData.ConvertTo, "DagsterJob", DefaultParameterSetName = WorkflowSet, SupportsShouldProcess = true, HelpUri = AxlHelp.OnlineBase + "ConvertTo-DagsterJob.md")]
[OutputType(typeof(DagsterDocument), typeof(string))]
public sealed class ConvertToDagsterJobCommand : WorkflowInputCmdlet
{
    [Parameter] public string? CodeRoot { get; set; }
    /// <summary>Writes the module to this file (dagster_job.py). One workflow per file.</summary>
    [Parameter] public string? OutFile { get; set; }
    [Parameter] public SwitchParameter AsText { get; set; }

    private int _written;

    protected override void ProcessRecord()
    {
        var options = new DagsterCompileOptions { CodeRoot = CodeRoot is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CodeRoot) };
        foreach (var wf in InputWorkflows())
        {
            if (CompilerOutput.Compile(this, wf, w => DagsterCompiler.Compile(w, options), d => d.Warnings) is not { } document) continue;
            WriteVerbose($"Compiled workflow '{wf.Name}' ({wf.ShortHash}) to the Dagster job {document.JobName} ({document.OpCount} ops).");
            if (OutFile is not null && !CompilerOutput.Write(this, OutFile, ref _written, wf, document.WriteTo)) continue;
            WriteObject(AsText ? document.Source : document);
        }
    }
}
