using System.Management.Automation;
using Axl.Jobs;
using Axl.Runtime;

namespace Axl.Cmdlets.Jobs;

/// <summary>
/// A submitted Axl job as a PowerShell job: Get-Job, Wait-Job, Receive-Job (what steps wrote on each of their streams as
/// records of that kind, log lines as information records, then the JobResult as output), Stop-Job (cancel: stops a
/// local job's process group as Ctrl+C would, sets spec.shutdown on an Argo workflow, cancels a queued job) and
/// Remove-Job work on it. A failed job's JobStateInfo.Reason holds its error. Delegates to an
/// <see cref="IJobHandle"/> of Core.
/// </summary>
public sealed class AxlJob : Job2
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

    /// <summary>
    /// Job2.SetJobState(JobState, Exception): protected in every PowerShell 7 (what sets JobStateInfo.Reason), missing
    /// from the PowerShellStandard reference this module compiles against, so it is found at run time.
    /// </summary>
    private static readonly System.Reflection.MethodInfo? SetJobStateWithReason = typeof(Job2).GetMethod(
        "SetJobState", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public,
        null, new[] { typeof(JobState), typeof(Exception) }, null);

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
    /// <summary>The last event its run reported ("step 'train' started" ...), for progress; null before the first.</summary>
    public string? LastEvent { get; private set; }
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

    // Job2 (what ThreadJob derives from too): Stop-Job calls StopJobAsync and waits for StopJobCompleted; a job is
    // started when it is submitted, and cannot be suspended.
    public override void StopJob(bool force, string reason) => StopJob();
    public override void StopJobAsync() => StopJobAsync(false, "");
    public override void StopJobAsync(bool force, string reason) => Task.Run(() =>
    {
        Exception? error = null;
        try { StopJob(); }
        catch (Exception ex) { error = ex; }
        OnStopJobCompleted(new System.ComponentModel.AsyncCompletedEventArgs(error, false, null));
    });
    public override void StartJob() { }
    public override void StartJobAsync() => OnStartJobCompleted(new System.ComponentModel.AsyncCompletedEventArgs(null, false, null));
    public override void SuspendJob() => throw new NotSupportedException("An Axl job cannot be suspended; stop it (Stop-Job) and resume its run (Invoke-AxlLocalRun -Resume).");
    public override void SuspendJobAsync() => SuspendJob();
    public override void SuspendJob(bool force, string reason) => SuspendJob();
    public override void SuspendJobAsync(bool force, string reason) => SuspendJob();
    public override void ResumeJob() => throw new NotSupportedException("An Axl job cannot be suspended, nor resumed.");
    public override void ResumeJobAsync() => ResumeJob();
    public override void UnblockJob() => throw new NotSupportedException("An Axl job is never blocked.");
    public override void UnblockJobAsync() => UnblockJob();

    /// <summary>Waits for the job to end; false when the timeout passed first.</summary>
    public bool WaitForResult(TimeSpan timeout, CancellationToken cancellation = default) =>
        Handle.Wait(timeout, cancellation) && WaitForState(timeout);

    private bool WaitForState(TimeSpan timeout) => IsFinishedState(JobStateInfo.State) || Finished.WaitOne(timeout);

    private void OnLog(JobLogLine line)
    {
        // What a step wrote on a stream goes to the job's stream of that kind (Receive-Job shows warnings as warnings).
        if (line is { Event: "StepLog", Step: { } step, Message: { } message } && StepStreamRecord.Parse(line.Stream) is { } stream)
        {
            lock (_streamsGate) _streams.Write(step, StepStreamRecord.FromLog(stream, message, line.Tags, line.Progress));
            return;
        }
        if (line is { Event: not null and not "StepLog", Message: { } said }) LastEvent = said;
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
        // A failed job's error is its JobStateInfo.Reason too, as a failed Start-Job's or ThreadJob's is.
        AxlJobFailedException? reason = null;
        if (status == JobStatus.Failed)
        {
            reason = new AxlJobFailedException(Name, result);
            Error.Add(new ErrorRecord(reason, "Axl.JobFailed", ErrorCategory.InvalidResult, result));
        }
        if (JobStateInfo.State == JobState.NotStarted) SetJobState(JobState.Running);
        var state = status switch
        {
            JobStatus.Succeeded => JobState.Completed,
            JobStatus.Failed => JobState.Failed,
            _ => JobState.Stopped,
        };
        if (reason is null || SetJobStateWithReason is null) SetJobState(state);
        else SetJobStateWithReason.Invoke(this, new object[] { state, reason });
    }

    /// <summary>
    /// Ends the job's process when <paramref name="runspace"/> (the session that submitted it) closes, as the end of
    /// the pwsh process ends it (a detached local job goes on; remote targets are not this session's to stop).
    /// </summary>
    internal void EndWith(System.Management.Automation.Runspaces.Runspace? runspace)
    {
        if (runspace is null || Handle is not LocalJobHandle { Detached: false }) return;
        runspace.StateChanged += (_, e) =>
        {
            if (e.RunspaceStateInfo.State is System.Management.Automation.Runspaces.RunspaceState.Closing
                or System.Management.Automation.Runspaces.RunspaceState.Closed or System.Management.Automation.Runspaces.RunspaceState.Broken)
                Handle.Cancel();
        };
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

/// <summary>A failed Axl job: its JobStateInfo.Reason and error record, with the step's error message and the JobResult.</summary>
public sealed class AxlJobFailedException(string job, JobResult? result)
    : Exception($"job '{job}' failed: {result?.Error ?? "no result was recorded"}")
{
    public JobResult? Result { get; } = result;
}
