using System.Globalization;
using System.Text.Json;
using Axl.Jobs.Envelopes;
using StackExchange.Redis;

namespace Axl.Jobs.Queue;

/// <summary>
/// A queue worker: takes jobs from the stream with its consumer group (XREADGROUP), first reclaiming jobs whose worker
/// went silent for <see cref="JobQueueOptions.ClaimIdle"/> (XAUTOCLAIM), runs all of a job's tasks here
/// (<see cref="EnvelopeExecutor"/>), and records the one terminal state and the results atomically with the XACK.
/// While a job runs, the worker re-claims its own entry every third of the idle time, so a live worker's job is not
/// taken from it.
/// </summary>
public sealed class JobWorker
{
    private readonly JobQueue _queue;

    public JobWorker(JobQueue queue, string? name = null)
    {
        _queue = queue;
        Name = string.IsNullOrWhiteSpace(name) ? $"{Environment.MachineName}-{Environment.ProcessId}" : name;
    }

    public string Name { get; }
    /// <summary>A job is failed, not run again, once workers started it this many times (workers that keep dying on it).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Raised after a job this worker ran reached its terminal state (with the recorded job).</summary>
    public event Action<QueuedJob>? JobFinished;
    /// <summary>Progress lines (job taken, task started, job finished).</summary>
    public event Action<string>? Log;

    /// <summary>Runs jobs until cancelled, or until <paramref name="maxJobs"/> jobs ended here (0: no limit). Returns how many ended.</summary>
    public async Task<int> RunAsync(int maxJobs = 0, CancellationToken cancellation = default)
    {
        var o = _queue.Options;
        await _queue.EnsureGroupAsync().ConfigureAwait(false);
        Log?.Invoke($"worker {Name}: reading {o.Stream} as group {o.Group}");
        var done = 0;
        while (!cancellation.IsCancellationRequested && (maxJobs <= 0 || done < maxJobs))
        {
            StreamEntry? entry;
            try { entry = await NextAsync().ConfigureAwait(false); }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
            {
                Log?.Invoke($"worker {Name}: Redis is unreachable ({ex.Message}); retrying");
                entry = null;
            }
            if (entry is null)
            {
                try { await Task.Delay(o.PollInterval, cancellation).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
                continue;
            }
            if (await ProcessAsync(entry.Value, cancellation).ConfigureAwait(false)) done++;
        }
        Log?.Invoke($"worker {Name}: stopped after {done} job(s)");
        return done;
    }

    private async Task<StreamEntry?> NextAsync()
    {
        var o = _queue.Options;
        var db = _queue.Db;
        var claimed = await db.StreamAutoClaimAsync(o.Stream, o.Group, Name, (long)o.ClaimIdle.TotalMilliseconds, "0-0", count: 1).ConfigureAwait(false);
        foreach (var e in claimed.ClaimedEntries)
        {
            if (e.IsNull || e.Values is null || e.Values.Length == 0) continue;
            Log?.Invoke($"worker {Name}: reclaimed {e["job_id"]} (its worker was silent for {o.ClaimIdle.TotalSeconds:0.#} s)");
            return e;
        }
        var read = await db.StreamReadGroupAsync(o.Stream, o.Group, Name, StreamPosition.NewMessages, count: 1).ConfigureAwait(false);
        return read.Length > 0 ? read[0] : null;
    }

    /// <summary>Runs one stream entry. True when the job reached a terminal state here.</summary>
    private async Task<bool> ProcessAsync(StreamEntry entry, CancellationToken cancellation)
    {
        var o = _queue.Options;
        var db = _queue.Db;
        var jobId = entry["job_id"].ToString();
        var key = o.JobKey(jobId);
        JobEnvelope envelope;
        try
        {
            envelope = JobEnvelopeJson.Parse(entry["envelope"].ToString());
        }
        catch (JobEnvelopeException ex)
        {
            return await FinishAsync(entry, key, QueuedJobState.Failed, new List<QueuedTaskResult>(), ex.Message, null).ConfigureAwait(false);
        }

        var attempt = (long)await db.ScriptEvaluateAsync(JobQueue.StartScript, new RedisKey[] { key },
            new RedisValue[] { Name, Now() }).ConfigureAwait(false);
        if (attempt == 0)
        {
            // Ended already (its worker died between recording the end and acknowledging): acknowledge only.
            await db.StreamAcknowledgeAsync(o.Stream, o.Group, entry.Id).ConfigureAwait(false);
            return false;
        }
        if (attempt > MaxAttempts)
            return await FinishAsync(entry, key, QueuedJobState.Failed, new List<QueuedTaskResult>(),
                $"abandoned: started {attempt - 1} times by workers that stopped before it ended", null).ConfigureAwait(false);
        Log?.Invoke($"worker {Name}: running {jobId} (attempt {attempt}, {envelope.Tasks.Count} task(s))");

        // Heartbeat: re-claim our entry so its idle time stays below the reclaim threshold while the tasks run.
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = Task.Run(async () =>
        {
            var every = TimeSpan.FromMilliseconds(Math.Max(50, o.ClaimIdle.TotalMilliseconds / 3));
            while (!heartbeatStop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(every, heartbeatStop.Token).ConfigureAwait(false);
                    await db.StreamClaimIdsOnlyAsync(o.Stream, o.Group, Name, 0, new[] { entry.Id }).ConfigureAwait(false);
                }
                catch (OperationCanceledException) { break; }
                catch (RedisException) { }
            }
        });
        // Cancel watch: JobQueue.Cancel records a request on the job's hash; seeing it stops the running task.
        using var abort = new CancellationTokenSource();
        var cancelWatch = Task.Run(async () =>
        {
            while (!heartbeatStop.IsCancellationRequested)
            {
                try
                {
                    if (await _queue.IsCancelRequestedAsync(jobId).ConfigureAwait(false))
                    {
                        Log?.Invoke($"worker {Name}: {jobId} was cancelled; stopping its running task");
                        abort.Cancel();
                        break;
                    }
                    await Task.Delay(o.PollInterval, heartbeatStop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) { break; }
                catch (RedisException) { }
            }
        });
        EnvelopeRunResult run;
        try
        {
            run = await Task.Run(() => EnvelopeExecutor.Run(envelope, o, cancellation, Log, abort.Token), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            heartbeatStop.Cancel();
            try { await Task.WhenAll(heartbeat, cancelWatch).ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
        if (run.Cancelled)
        {
            // Stopping: leave the entry pending, so another worker reclaims and runs it.
            Log?.Invoke($"worker {Name}: stopped during {jobId}; it stays pending for another worker");
            return false;
        }
        var state = run.Aborted ? QueuedJobState.Cancelled : run.Succeeded ? QueuedJobState.Succeeded : QueuedJobState.Failed;
        return await FinishAsync(entry, key, state, run.Tasks, run.Error, run.FailedTask).ConfigureAwait(false);
    }

    private async Task<bool> FinishAsync(StreamEntry entry, string key, QueuedJobState state, List<QueuedTaskResult> tasks, string? error, int? failedTask)
    {
        var o = _queue.Options;
        var made = (long)await _queue.Db.ScriptEvaluateAsync(JobQueue.FinishScript, new RedisKey[] { key, o.Stream }, new RedisValue[]
        {
            state.ToString().ToLowerInvariant(), Name, Now(), JsonSerializer.Serialize(tasks), error ?? "",
            failedTask?.ToString(CultureInfo.InvariantCulture) ?? "", o.ResultTtlSeconds, o.Group, entry.Id.ToString(),
        }).ConfigureAwait(false);
        var jobId = key[o.KeyPrefix.Length..];
        if (made == 0)
        {
            Log?.Invoke($"worker {Name}: {jobId} had ended already; its first result is kept");
            return false;
        }
        Log?.Invoke($"worker {Name}: {jobId} {state.ToString().ToLowerInvariant()}" + (error is null ? "" : $": {error}"));
        if (JobFinished is not null && await _queue.GetAsync(jobId).ConfigureAwait(false) is { } job) JobFinished(job);
        return true;
    }

    private static string Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
}
