using System.Management.Automation;
using Axl.Cmdlets.Completion;
using Axl.Runtime;

namespace Axl.Cmdlets.Runs;

/// <summary>
/// Removes local runs (their folders under the run root) by id, by age or all but the newest N per workflow, never a
/// run in progress: Core's <see cref="RunRetention"/>, as `axl runs prune` does.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "AxlRun", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    HelpUri = AxlHelp.OnlineBase + "Remove-AxlRun.md")]
[OutputType(typeof(RunRemoval))]
public sealed class RemoveAxlRunCommand : PSCmdlet
{
    /// <summary>The workflow(s) whose runs are looked at; wildcards allowed. Binds the Workflow of a run piped in.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Workflows")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(WorkflowNameCompleter))]
    public string[]? Workflow { get; set; }

    /// <summary>The run id(s) to remove; wildcards allowed. Binds the RunId of a run piped in (Get-AxlRun ... | Remove-AxlRun).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("RunIds")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(RunIdCompleter))]
    public string[]? RunId { get; set; }

    /// <summary>Where the runs are kept (default $env:AXL_RUN_ROOT, else .axl/runs here); binds the RunRoot of what is piped in.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? RunRoot { get; set; }

    /// <summary>Only runs that started longer ago than this: a TimeSpan (New-TimeSpan -Days 30), a number of days (30d or 30), or text such as '12h', '2w', '1d12h'.</summary>
    [Parameter]
    [AgeTransformation]
    public TimeSpan? OlderThan { get; set; }

    /// <summary>Keep the newest N runs of each workflow; the others (of those selected) are removed.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Keep { get; set; }

    /// <summary>Output one object per run removed (workflow, run id, bytes freed).</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    private readonly HashSet<string> _cleaned = new(StringComparer.Ordinal);

    protected override void ProcessRecord()
    {
        var bound = MyInvocation.BoundParameters;
        if (!bound.ContainsKey(nameof(RunId)) && OlderThan is null && Keep is null)
        {
            ThrowTerminatingError(new ErrorRecord(
                new PSArgumentException("Remove-AxlRun needs to know which runs: give -RunId (or pipe runs from Get-AxlRun), -OlderThan, or -Keep. Fix: for example Remove-AxlRun -Keep 10, or Remove-AxlRun -OlderThan 30d -WhatIf to see what would go."),
                "Axl.RunSelectionMissing", ErrorCategory.InvalidArgument, null));
        }
        if (bound.ContainsKey(nameof(RunId)) && (RunId is null || RunId.All(string.IsNullOrEmpty)))
        {
            WriteError(new ErrorRecord(new ItemNotFoundException("The object piped in has no run id: its job has not started a run yet. Nothing removed."),
                "Axl.RunNotFound", ErrorCategory.ObjectNotFound, null));
            return;
        }
        var root = RunRoot is null ? RunRoots.Default(this) : SessionState.Path.GetUnresolvedProviderPathFromPSPath(RunRoot);
        if (_cleaned.Add(root) && !MyInvocation.BoundParameters.ContainsKey("WhatIf")) RunRetention.CleanInterrupted(root);

        var ids = new NameFilter(RunId);
        var plan = RunRetention.Plan(new RetentionOptions
        {
            RunRoot = root, Workflows = Workflow ?? Array.Empty<string>(), RunIds = RunId ?? Array.Empty<string>(),
            OlderThan = OlderThan, Keep = Keep,
        });
        foreach (var d in plan) ids.IsMatch(d.RunId);
        var explicitIds = RunId is { Length: > 0 } && RunId.All(i => !WildcardPattern.ContainsWildcardCharacters(i));
        var total = plan.Count(d => d.Action == RetentionAction.Remove);
        var done = 0;
        foreach (var d in plan)
        {
            switch (d.Action)
            {
                case RetentionAction.Keep:
                    WriteVerbose($"Kept run {d.RunId} of {d.Workflow}: {d.Reason}.");
                    continue;
                case RetentionAction.InUse:
                    var message = $"Run {d.RunId} of workflow {d.Workflow} is in progress (a process holds its lock): not removed. Fix: remove it once it has ended.";
                    if (explicitIds) WriteError(new ErrorRecord(new InvalidOperationException(message), "Axl.RunInUse", ErrorCategory.ResourceBusy, d.Run));
                    else WriteWarning(message);
                    continue;
            }
            if (!ShouldProcess(d.Directory, $"Remove run {d.RunId} of workflow {d.Workflow} ({d.Reason})")) continue;
            WriteProgress(new ProgressRecord(1, "Removing runs", $"{done} of {total}: {d.Workflow} {d.RunId}") { PercentComplete = total == 0 ? 100 : done * 100 / total });
            var removal = RunRetention.Remove(d.Run);
            done++;
            if (!removal.Removed)
                WriteError(new ErrorRecord(new InvalidOperationException(removal.Error), "Axl.RunNotRemoved", ErrorCategory.ResourceBusy, d.Run));
            else
            {
                if (removal.Error is not null) WriteWarning(removal.Error);
                WriteVerbose($"Removed run {d.RunId} of {d.Workflow} ({removal.Bytes} bytes): {d.Reason}.");
                if (PassThru) WriteObject(removal);
            }
        }
        if (total > 0) WriteProgress(new ProgressRecord(1, "Removing runs", "done") { RecordType = ProgressRecordType.Completed });
        // The hash-addressed store (-UseHash runs): what no run left under the root refers to goes too.
        if (Directory.Exists(ContentStore.StoreDirectory(root)))
        {
            var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && w is SwitchParameter { IsPresent: true };
            var swept = ContentStore.Sweep(root, dryRun: whatIf);
            if (swept.Removed > 0)
                WriteVerbose(whatIf ? $"What if: {swept.Removed} store entries ({swept.Bytes} bytes) that no run uses would be removed from {ContentStore.StoreDirectory(root)}."
                    : $"Removed {swept.Removed} store entries ({swept.Bytes} bytes) that no run uses from {ContentStore.StoreDirectory(root)}; {swept.Kept} kept.");
        }
        foreach (var id in ids.Unmatched)
            WriteError(new ErrorRecord(new ItemNotFoundException($"There is no run '{id}'{(Workflow is { Length: > 0 } ? $" of workflow {string.Join(", ", Workflow)}" : "")} under {root}. Fix: list runs with Get-AxlRun; give -RunRoot if the runs are elsewhere."),
                "Axl.RunNotFound", ErrorCategory.ObjectNotFound, id));
    }
}

/// <summary>-OlderThan: a TimeSpan as it is, a number of days (30, or 30d, which PowerShell reads as the decimal 30), or text such as '12h', '2w' (<see cref="RunRetention.TryParseAge"/>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class AgeTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject p ? p.BaseObject : inputData;
        return value switch
        {
            null => null,
            TimeSpan t => t,
            // A bare number is days: PowerShell reads -OlderThan 30d as the decimal 30 (d is its decimal suffix).
            int or long or double or decimal when Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture) is > 0 and var days
                => TimeSpan.FromDays(days),
            string s when RunRetention.TryParseAge(s, out var age) => age,
            string s => throw new ArgumentTransformationMetadataException($"'{s}' is not an age. Fix: use a number and a unit (w, d, h, m, s) such as '30d' or '12h', a TimeSpan such as '30.00:00:00', or (New-TimeSpan -Days 30)."),
            _ => throw new ArgumentTransformationMetadataException($"An age of type {value.GetType().Name} is not understood. Fix: use '30d', '12h', or (New-TimeSpan -Days 30)."),
        };
    }
}
