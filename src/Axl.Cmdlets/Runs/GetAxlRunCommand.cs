using Axl.Cmdlets.Completion;
using System.Management.Automation;
using Axl.Runtime;

namespace Axl.Cmdlets.Runs;

/// <summary>Lists the local runs recorded under the run root, newest first (a run recorded as running that no process holds shows as Interrupted).</summary>
[Cmdlet(VerbsCommon.Get, "AxlRun")]
[OutputType(typeof(AxlRun))]
public sealed class GetAxlRunCommand : PSCmdlet
{
    /// <summary>Name of the workflow (or an AxlWorkflow piped in, by its Name); wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(WorkflowNameCompleter))]
    public string[]? Workflow { get; set; }

    /// <summary>The run id(s); wildcards allowed.</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(RunIdCompleter))]
    public string[]? RunId { get; set; }
    [Parameter] public string? RunRoot { get; set; }
    /// <summary>Only the newest N runs.</summary>
    [Parameter] [ValidateRange(1, int.MaxValue)] public int? Last { get; set; }

    protected override void ProcessRecord()
    {
        var root = RunRoot is null ? RunRoots.Default(this) : SessionState.Path.GetUnresolvedProviderPathFromPSPath(RunRoot);
        var workflows = new NameFilter(Workflow);
        var runIds = new NameFilter(RunId);
        var runs = RunStore.List(root, workflows, runIds);
        if (Last is { } n) runs = runs.Take(n);
        foreach (var run in runs) WriteObject(RunStore.WithLiveStatus(run));
        // Like Get-Job: a name without wildcards that matched no run is an error; one with wildcards is just empty.
        // A missing run id is reported alone (its message names the workflows), not again as a missing workflow.
        var of = Workflow is { Length: > 0 } ? $" of workflow {string.Join(", ", Workflow.Select(w => $"'{w}'"))}" : "";
        var listHint = $"list runs with Get-AxlRun{(Workflow is { Length: > 0 } ? " " + string.Join(",", Workflow) : "")}";
        var missingIds = runIds.Unmatched;
        foreach (var id in missingIds)
            WriteError(new ErrorRecord(new ItemNotFoundException($"There is no run '{id}'{of} under {root}. Fix: {listHint}; give -RunRoot if the runs are elsewhere."),
                "Axl.RunNotFound", ErrorCategory.ObjectNotFound, id));
        if (missingIds.Count > 0) return;
        foreach (var name in workflows.Unmatched)
            WriteError(new ErrorRecord(new ItemNotFoundException($"There is no run of workflow '{name}' under {root}. Fix: list the workflows that have runs with Get-AxlRun; run it with Invoke-AxlLocalRun; give -RunRoot if its runs are elsewhere."),
                "Axl.RunNotFound", ErrorCategory.ObjectNotFound, name));
    }
}
