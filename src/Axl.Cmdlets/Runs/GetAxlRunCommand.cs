using Axl.Cmdlets.Completion;
using System.Management.Automation;
using Axl.Runtime;

namespace Axl.Cmdlets.Runs;

/// <summary>Lists the local runs recorded under the run root, newest first (a run recorded as running that no process holds shows as Interrupted).</summary>
[Cmdlet(VerbsCommon.Get, "AxlRun", HelpUri = AxlHelp.OnlineBase + "Get-AxlRun.md")]
[OutputType(typeof(AxlRun))]
public sealed class GetAxlRunCommand : PSCmdlet
{
    /// <summary>
    /// Name of the workflow; wildcards allowed. Binds by property name: the Workflow of a run, job, job result or
    /// experiment job piped in, the Workflows of an experiment, else the Name of an AxlWorkflow (a job's own Name is
    /// never taken for its workflow).
    /// </summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Workflows", "Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(WorkflowNameCompleter))]
    public string[]? Workflow { get; set; }

    /// <summary>The run id(s); wildcards allowed. Binds the RunId of a run, job or job result piped in ($run | Get-AxlRun gives that run again), or an experiment's RunIds.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("RunIds")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(RunIdCompleter))]
    public string[]? RunId { get; set; }

    /// <summary>Where the runs are kept (default $env:AXL_RUN_ROOT, else .axl/runs here); binds the RunRoot of what is piped in.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? RunRoot { get; set; }
    /// <summary>Only the newest N runs.</summary>
    [Parameter] [ValidateRange(1, int.MaxValue)] public int? Last { get; set; }

    protected override void ProcessRecord()
    {
        // A job or experiment job that has not started its run binds a null RunId: it has no run (not every run of its workflow).
        if (MyInvocation.BoundParameters.ContainsKey(nameof(RunId)) && (RunId is null || RunId.All(string.IsNullOrEmpty)))
        {
            WriteError(new ErrorRecord(new ItemNotFoundException($"The object piped in has no run id{(Workflow is { Length: > 0 } ? $" (workflow {string.Join(", ", Workflow)})" : "")}: its job has not started a run yet. Fix: wait for the job (Wait-AxlJob), then pipe it again."),
                "Axl.RunNotFound", ErrorCategory.ObjectNotFound, null));
            return;
        }
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
