using System.Management.Automation;
using Axl.Runtime;

namespace Axl.Cmdlets.Runs;

/// <summary>Lists the local runs recorded under the run root, newest first (a run recorded as running that no process holds shows as Interrupted).</summary>
[Cmdlet(VerbsCommon.Get, "AxlRun")]
[OutputType(typeof(AxlRun))]
public sealed class GetAxlRunCommand : PSCmdlet
{
    /// <summary>Name of the workflow (or an AxlWorkflow piped in, by its Name).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    public string? Workflow { get; set; }

    [Parameter(Position = 1)] public string? RunId { get; set; }
    [Parameter] public string? RunRoot { get; set; }
    /// <summary>Only the newest N runs.</summary>
    [Parameter] [ValidateRange(1, int.MaxValue)] public int? Last { get; set; }

    protected override void ProcessRecord()
    {
        var root = RunRoot is null ? RunRoots.Default(this) : SessionState.Path.GetUnresolvedProviderPathFromPSPath(RunRoot);
        var runs = RunStore.List(root, Workflow, RunId);
        if (Last is { } n) runs = runs.Take(n);
        var any = false;
        foreach (var run in runs)
        {
            any = true;
            WriteObject(RunStore.WithLiveStatus(run));
        }
        if (!any && RunId is not null)
            WriteError(new ErrorRecord(new ItemNotFoundException($"There is no run '{RunId}'{(Workflow is null ? "" : $" of workflow '{Workflow}'")} under {root}. Fix: list runs with Get-AxlRun{(Workflow is null ? "" : " " + Workflow)}; give -RunRoot if the runs are elsewhere."),
                "Axl.RunNotFound", ErrorCategory.ObjectNotFound, RunId));
    }
}
