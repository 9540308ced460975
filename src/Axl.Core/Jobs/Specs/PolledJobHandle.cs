namespace Axl.Jobs;

/// <summary>
/// The shared part of the handles that follow a job on another system by reading its state (Argo, Kfp, Queue): the
/// status, taken terminal once with its result; listeners told before <see cref="Wait"/> returns, so a waiter sees
/// what they did; log lines whose listeners cannot stop the follower; and the follower's stop on Dispose.
/// </summary>
public abstract class PolledJobHandle : IJobHandle
{
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _ended = new();
    private volatile JobStatus _status = JobStatus.Pending;

    protected PolledJobHandle(AxlJobSpec spec, string runId)
    {
        Spec = spec;
        RunId = runId;
        SubmittedAt = DateTimeOffset.UtcNow;
    }

    public AxlJobSpec Spec { get; }
    public string RunId { get; }
    public DateTimeOffset SubmittedAt { get; }
    public JobStatus Status => _status;
    public JobResult? Result { get; private set; }
    public event Action<JobStatus>? StatusChanged;
    public event Action<JobLogLine>? Log;

    /// <summary>Cancelled by Dispose: the follower stops reading.</summary>
    protected CancellationTokenSource Stopping { get; } = new();

    /// <summary>True once the job reached its terminal status.</summary>
    public bool HasEnded => _ended.IsSet;

    public static bool IsTerminal(JobStatus s) => s is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;

    /// <summary>Starts the follower on the thread pool (call at the end of the derived constructor).</summary>
    protected void Follow(Func<Task> follower) => _ = Task.Run(follower);

    /// <summary>Moves to a non-terminal status (no event when it is the same, nothing after the end).</summary>
    protected void Set(JobStatus status)
    {
        if (IsTerminal(status)) throw new ArgumentException("a terminal status comes with its result: use End", nameof(status));
        lock (_gate)
        {
            if (IsTerminal(_status) || _status == status) return;
            _status = status;
        }
        Raise(status);
    }

    /// <summary>Ends the job with its result (the first end wins); listeners hear it, then waiters return.</summary>
    protected void End(JobResult result)
    {
        lock (_gate)
        {
            if (IsTerminal(_status)) return;
            Result = result;
            _status = result.Status;
        }
        Raise(result.Status);
        _ended.Set();
    }

    private void Raise(JobStatus status)
    {
        try { StatusChanged?.Invoke(status); } catch { /* a listener's failure must not stop the follower */ }
    }

    protected void Emit(JobLogLine line)
    {
        try { Log?.Invoke(line); } catch { /* a listener's failure must not stop the follower */ }
    }

    public bool Wait(TimeSpan timeout, CancellationToken cancellation = default) => _ended.Wait(timeout, cancellation);

    public abstract void Cancel();

    public virtual void Dispose() => Stopping.Cancel();
}
