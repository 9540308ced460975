using System.Management.Automation;
using Axl.Jobs;
using Axl.Runtime;

namespace Axl.Cmdlets.Jobs;

/// <summary>
/// A submitted Axl job as a PowerShell job: Get-Job, Wait-Job, Receive-Job (log lines as information records, then the
/// JobResult as output), Stop-Job (cancel: kills a local job's process tree, sets spec.shutdown on an Argo workflow,
/// cancels a queued job) and Remove-Job work on it. Delegates to an
/// <see cref="IJobHandle"/> of Core.
/// </summary>
public sealed class AxlJob : Job
{
    private readonly object _gate = new();
    private readonly object _streamsGate = new();
    private readonly Runs.StepStreamWriter _streams;
    private bool _terminal;

    public AxlJob(IJobHandle handle, string command) : base(command, handle.Spec.Name)
    {
        Handle = handle;
        PSJobTypeName = "AxlJob";
        _streams = new Runs.StepStreamWriter(new Runs.JobStreamSink(this));
        handle.Log += OnLog;
        handle.StatusChanged += OnStatus;
        OnStatus(handle.Status); // it may have moved on before we subscribed
    }

    public IJobHandle Handle { get; }
    public AxlJobSpec Spec => Handle.Spec;
    public string RunId => Handle.RunId;
    /// <summary>
    /// The workflow's name (the spec's, else what the run reported; null until known). With RunId and RunRoot, what the
    /// run cmdlets bind by property name: Get-AxlJob | Get-AxlRun gives this job's run, not the runs of a workflow named like the job.
    /// </summary>
    public string? Workflow => Handle is LocalJobHandle local ? local.WorkflowName : Result?.Workflow ?? Spec.WorkflowName;
    /// <summary>The workflow file, where the job ran one.</summary>
    public string? WorkflowPath => Spec.WorkflowPath;
    /// <summary>"file.axl.ps1:Name" of the workflow (what -LiteralPath of the workflow cmdlets binds), where the job ran a file.</summary>
    public string? WorkflowReference => Spec.WorkflowPath is null ? null : Spec.WorkflowReference;
    /// <summary>The run root of a Local job's run (else null).</summary>
    public string? RunRoot => Result?.RunRoot ?? (Handle as LocalJobHandle)?.RunRoot;
    public JobTargetKind Target => Spec.Target;
    public JobStatus Status => Handle.Status;
    public JobResult? Result => Handle.Result;
    /// <summary>The process id of a Local job (the axl command).</summary>
    public int? ProcessId => (Handle as LocalJobHandle)?.ProcessId;

    public override string StatusMessage => Handle.Status.ToString();
    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Information.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0;
    public override string Location => Handle switch
    {
        Axl.Jobs.Argo.ArgoJobHandle argo => $"{argo.Server} ({argo.Namespace})",
        _ => Target == JobTargetKind.Local ? Environment.MachineName : Target.ToString(),
    };

    public override void StopJob()
    {
        Handle.Cancel();
        Handle.Wait(TimeSpan.FromSeconds(60));
    }

    /// <summary>Waits for the job to end; false when the timeout passed first.</summary>
    public bool WaitForResult(TimeSpan timeout, CancellationToken cancellation = default) =>
        Handle.Wait(timeout, cancellation) && WaitForState(timeout);

    private bool WaitForState(TimeSpan timeout) => IsFinishedState(JobStateInfo.State) || Finished.WaitOne(timeout);

    private void OnLog(JobLogLine line)
    {
        // What a step wrote on a stream goes to the job's stream of that kind (Receive-Job shows warnings as warnings).
        if (line is { Event: "StepLog", Step: { } step, Message: { } message } && StepStreamRecord.Parse(line.Stream) is { } stream)
        {
            lock (_streamsGate) _streams.Write(step, StepStreamRecord.FromLog(stream, message, line.Tags));
            return;
        }
        var record = new InformationRecord(line, "axl:" + Name);
        record.Tags.Add("axl-log");
        if (line.Level is { } level) record.Tags.Add(level);
        Information.Add(record);
    }

    private void OnStatus(JobStatus status)
    {
        lock (_gate)
        {
            if (_terminal) return;
            switch (status)
            {
                case JobStatus.Running:
                    if (JobStateInfo.State != JobState.Running) SetJobState(JobState.Running);
                    return;
                case JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled:
                    _terminal = true;
                    break;
                default:
                    return;
            }
        }
        var result = Handle.Result;
        if (result is not null) Output.Add(PSObject.AsPSObject(result));
        if (status == JobStatus.Failed)
            Error.Add(new ErrorRecord(new InvalidOperationException($"job '{Name}' failed: {result?.Error}"), "Axl.JobFailed", ErrorCategory.InvalidResult, result));
        if (JobStateInfo.State == JobState.NotStarted) SetJobState(JobState.Running);
        SetJobState(status switch
        {
            JobStatus.Succeeded => JobState.Completed,
            JobStatus.Failed => JobState.Failed,
            _ => JobState.Stopped,
        });
    }

    private static bool IsFinishedState(JobState s) => s is JobState.Completed or JobState.Failed or JobState.Stopped;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Handle.Log -= OnLog;
            Handle.StatusChanged -= OnStatus;
            if (Handle.Status is JobStatus.Pending or JobStatus.Running) Handle.Cancel();
            Handle.Dispose();
        }
        base.Dispose(disposing);
    }
}
