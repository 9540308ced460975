using System.Collections;
using Axl.Jobs.Envelopes;
using Axl.Model;

namespace Axl.Jobs.Queue;

/// <summary>
/// The Queue target of Submit-AxlJob: the workflow (command steps only) becomes a job envelope, which goes onto the
/// Redis stream for workers (Start-AxlWorker, axl worker). The handle follows the job's record in Redis.
/// </summary>
public sealed class QueueJobTarget : IJobTarget
{
    public JobTargetKind Kind => JobTargetKind.Queue;

    public IJobHandle Submit(AxlJobSpec spec, JobSubmitOptions options)
    {
        RedisOf(options); // fail before loading the workflow when there is no queue to send it to
        var wf = options.LoadWorkflow(spec);
        var parameters = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (var kv in spec.EffectiveParameters()) parameters[kv.Key] = kv.Value;
        JobEnvelope envelope;
        try
        {
            envelope = JobEnvelopeBuilder.FromWorkflow(wf, parameters, options.RunId).Envelope;
        }
        catch (JobEnvelopeException ex)
        {
            throw new AxlJobSpecException($"Workflow '{wf.Name}' cannot go to the queue as a job envelope: {ex.Message}", "target");
        }
        return SubmitEnvelope(envelope, spec, wf.Name, options);
    }

    /// <summary>Puts a job envelope (ConvertTo-AxlJobEnvelope, or one read from JSON) on the queue as it is.</summary>
    public IJobHandle SubmitEnvelope(JobEnvelope envelope, AxlJobSpec spec, string? workflow, JobSubmitOptions options)
    {
        var redis = RedisOf(options);
        JobQueue queue;
        try
        {
            queue = JobQueue.Connect(redis, options.QueueOptions);
        }
        catch (StackExchange.Redis.RedisException ex)
        {
            throw new JobQueueException($"cannot reach the queue's Redis at {redis}: {ex.Message} Fix: start Redis there, or give the right -QueueEndpoint.", ex);
        }
        try
        {
            var id = queue.Submit(envelope);
            return new QueueJobHandle(spec, queue, id, workflow ?? envelope.PlanDescription ?? envelope.PlanId);
        }
        catch (StackExchange.Redis.RedisException ex)
        {
            queue.Dispose();
            throw new JobQueueException($"submitting to the queue at {redis} failed: {ex.Message}", ex);
        }
        catch
        {
            queue.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends a job envelope to an AGQ server (seed 003: AUTH with the session key, then PLAN.SUBMIT or JOB.SUBMIT over
    /// RESP). The server owns the job from then on: it answers with the job id, and there is nothing to follow here.
    /// </summary>
    public static AgqSubmission SubmitToAgq(JobEnvelope envelope, string server, string? sessionKey = null, string verb = AgqClient.PlanSubmit)
    {
        var id = AgqClient.SubmitAsync(server, envelope, sessionKey, verb).GetAwaiter().GetResult();
        return new AgqSubmission(id, envelope.PlanId, server, verb, envelope.Tasks.Count);
    }

    private static string RedisOf(JobSubmitOptions options) =>
        options.QueueEndpoint ?? Environment.GetEnvironmentVariable("AXL_REDIS")
        ?? throw new AxlJobSpecException("The Queue target needs the Redis server of the queue. Fix: give -QueueEndpoint host:port to Submit-AxlJob (or -Option @{ Queue = @{ Endpoint = ... } }), or set $env:AXL_REDIS.", "target");
}

/// <summary>A job handed to an AGQ server: the id it gave, the plan, the server and the verb used.</summary>
public sealed record AgqSubmission(string JobId, string PlanId, string Server, string Verb, int Tasks)
{
    public override string ToString() => $"{JobId} (plan {PlanId}, {Tasks} task(s), on {Server})";
}

/// <summary>A job on the queue, followed by polling its record: status changes, then the task outputs as log lines and the result.</summary>
internal sealed class QueueJobHandle : PolledJobHandle
{
    private readonly JobQueue _queue;
    private readonly string _workflow;

    public QueueJobHandle(AxlJobSpec spec, JobQueue queue, string jobId, string workflow) : base(spec, jobId)
    {
        _queue = queue;
        _workflow = workflow;
        Follow(FollowAsync);
    }

    private async Task FollowAsync()
    {
        try
        {
            while (!Stopping.IsCancellationRequested)
            {
                var job = await _queue.GetAsync(RunId).ConfigureAwait(false);
                var status = job?.State switch
                {
                    QueuedJobState.Running => JobStatus.Running,
                    QueuedJobState.Succeeded => JobStatus.Succeeded,
                    QueuedJobState.Failed => JobStatus.Failed,
                    QueuedJobState.Cancelled => JobStatus.Cancelled,
                    _ => JobStatus.Pending,
                };
                if (job is not null && job.IsTerminal)
                {
                    foreach (var t in job.Tasks)
                    {
                        Emit(new JobLogLine($"task {t.TaskNumber} ({t.Command}): {t.Status}", t.Status == "succeeded" ? "info" : "error", null, $"task {t.TaskNumber} ({t.Command}) {t.Status} in {t.DurationMs} ms" + (t.Error is null ? "" : ": " + t.Error), "TaskFinished"));
                        foreach (var line in t.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                            Emit(new JobLogLine(line, "warning", null, $"task {t.TaskNumber} stderr: {line}", "TaskStderr"));
                    }
                    End(new JobResult
                    {
                        JobName = Spec.Name, Status = status, RunId = RunId, Workflow = _workflow,
                        ExitCode = job.Tasks.Count > 0 ? job.Tasks[^1].ExitCode : null,
                        StartTime = job.StartedAt ?? SubmittedAt, EndTime = job.FinishedAt ?? DateTimeOffset.UtcNow,
                        Error = job.Error, Output = job.Output,
                    });
                    return;
                }
                Set(status);
                await Task.Delay(_queue.Options.PollInterval, Stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException or IOException)
        {
            End(new JobResult { JobName = Spec.Name, Status = JobStatus.Failed, RunId = RunId, Workflow = _workflow, StartTime = SubmittedAt, EndTime = DateTimeOffset.UtcNow, Error = $"lost the queue while following job {RunId}: {ex.Message}" });
        }
    }

    /// <summary>
    /// Cancels through the queue (JobQueue.Cancel): a job no worker took yet ends cancelled at once; a running one is
    /// stopped by its worker (SIGTERM, then SIGKILL), which records it cancelled with the tasks that ended. The status
    /// follows the record, so the job still ends in exactly one terminal state (succeeded when it ended first).
    /// </summary>
    public override void Cancel()
    {
        try
        {
            _queue.Cancel(RunId, "cancelled by Stop-Job");
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            throw new JobQueueException($"cancelling job {RunId} failed: the queue's Redis did not answer ({ex.Message}).", ex);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _queue.Dispose();
    }
}
