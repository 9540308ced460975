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
/// taken from it. Every Redis call rides out outages (<see cref="CallAsync"/>); docs/jobs-queue.md, "Redis outages".
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

    /// <summary>The first wait after a Redis call failed for an outage; each further failure doubles it, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Outages seen (Redis unreachable, then back) and times the consumer group was re-created (NOGROUP).</summary>
    public int Outages => _outages;
    public int GroupsRecreated => _groupsRecreated;

    private readonly object _outageLock = new();
    private DateTime? _outageSince;
    private volatile bool _down;
    private int _outages, _groupsRecreated;

    /// <summary>
    /// Runs jobs until cancelled, or until <paramref name="maxJobs"/> jobs ended here (0: no limit). Returns how many ended.
    /// Redis outages of any length are ridden out: every Redis call is retried with backoff (one log line when Redis
    /// goes away, one when it is back), a missing group is re-created, a finished job's result is kept until it can be
    /// written.
    /// </summary>
    public async Task<int> RunAsync(int maxJobs = 0, CancellationToken cancellation = default)
    {
        var o = _queue.Options;
        if (o.WorkerProblem() is { } problem) throw new ArgumentException(problem, nameof(JobQueueOptions.ClaimIdle));
        var done = 0;
        try
        {
            await CallAsync("create the consumer group", async _ => { await _queue.EnsureGroupAsync().ConfigureAwait(false); return true; }, cancellation).ConfigureAwait(false);
            Log?.Invoke($"worker {Name}: reading {o.Stream} as group {o.Group}");
            while (!cancellation.IsCancellationRequested && (maxJobs <= 0 || done < maxJobs))
            {
                var entry = await NextAsync(cancellation).ConfigureAwait(false);
                if (entry is null)
                {
                    await Task.Delay(o.PollInterval, cancellation).ConfigureAwait(false);
                    continue;
                }
                if (await ProcessAsync(entry.Value, cancellation).ConfigureAwait(false)) done++;
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { }
        Log?.Invoke($"worker {Name}: stopped after {done} job(s)");
        return done;
    }

    /// <summary>
    /// Makes one Redis call, repeating it through an outage (capped exponential backoff) until it answers or
    /// <paramref name="cancellation"/> fires (then <see cref="OperationCanceledException"/>). NOGROUP re-creates the
    /// stream and the group (XGROUP CREATE ... MKSTREAM) and repeats the call. Other errors propagate.
    /// </summary>
    private async Task<T> CallAsync<T>(string what, Func<IDatabase, Task<T>> call, CancellationToken cancellation)
    {
        var backoff = MinBackoff;
        while (true)
        {
            // Tried at least once even when the worker is stopping (a finished job's result is still written).
            try
            {
                var r = await call(_queue.Db).ConfigureAwait(false);
                Recovered();
                return r;
            }
            catch (Exception ex) when (JobQueue.IsNoGroup(ex))
            {
                Recovered();
                var o = _queue.Options;
                Interlocked.Increment(ref _groupsRecreated);
                Log?.Invoke($"worker {Name}: the group {o.Group} of stream {o.Stream} is gone (Redis restarted without its data?); re-creating it");
                try { await _queue.EnsureGroupAsync().ConfigureAwait(false); }
                catch (Exception again) when (JobQueue.IsTransient(again)) { Down(what, again); await Task.Delay(backoff, cancellation).ConfigureAwait(false); }
            }
            catch (Exception ex) when (JobQueue.IsTransient(ex))
            {
                Down(what, ex);
                await Task.Delay(backoff, cancellation).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
        }
    }

    private void Down(string what, Exception ex)
    {
        lock (_outageLock)
        {
            if (_outageSince is not null) return;
            _outageSince = DateTime.UtcNow;
            _down = true;
        }
        Log?.Invoke($"worker {Name}: redis unreachable at {_queue.Endpoint} ({what}: {ex.GetType().Name}: {Short(ex.Message)}); retrying every {MinBackoff.TotalSeconds:0.#} s to {MaxBackoff.TotalSeconds:0.#} s");
    }

    /// <summary>The client's message without its diagnostic tail (", mc: 1/1/0, IOCP: ...").</summary>
    private static string Short(string message)
    {
        var first = message.Split('\n')[0];
        var cut = first.IndexOf(", ", StringComparison.Ordinal);
        return cut > 0 ? first[..cut] : first;
    }

    private void Recovered()
    {
        if (!_down) return;
        DateTime since;
        lock (_outageLock)
        {
            if (_outageSince is not { } s) return;
            since = s;
            _outageSince = null;
            _down = false;
        }
        Interlocked.Increment(ref _outages);
        Log?.Invoke($"worker {Name}: redis back after {(DateTime.UtcNow - since).TotalSeconds:0.#} s");
    }

    private async Task<StreamEntry?> NextAsync(CancellationToken cancellation)
    {
        var o = _queue.Options;
        var claimed = await CallAsync("reclaim (XAUTOCLAIM)", db => db.StreamAutoClaimAsync(o.Stream, o.Group, Name, (long)o.ClaimIdle.TotalMilliseconds, "0-0", count: 1), cancellation).ConfigureAwait(false);
        foreach (var e in claimed.ClaimedEntries)
        {
            if (e.IsNull || e.Values is null || e.Values.Length == 0) continue;
            Log?.Invoke($"worker {Name}: reclaimed {e["job_id"]} (its worker was silent for {o.ClaimIdle.TotalSeconds:0.#} s)");
            return e;
        }
        var read = await CallAsync("read (XREADGROUP)", db => db.StreamReadGroupAsync(o.Stream, o.Group, Name, StreamPosition.NewMessages, count: 1), cancellation).ConfigureAwait(false);
        return read.Length > 0 ? read[0] : null;
    }

    /// <summary>Why the worker will not run this entry (the rule named), or null: the same validator as Submit and Test-AxlJobEnvelope, and the entry's job id.</summary>
    internal static string? Refusal(string jobId, RedisValue raw, out JobEnvelope? envelope)
    {
        envelope = null;
        if (raw.IsNull) return $"refused ({JobEnvelopeValidator.InvalidStructure}): the stream entry has no envelope field";
        try { envelope = JobEnvelopeJson.Parse((byte[])raw!); }
        catch (JobEnvelopeException ex) { return $"refused ({JobEnvelopeValidator.InvalidStructure}): {ex.Message}"; }
        var errors = JobEnvelopeValidator.Validate(envelope).Where(d => d.IsError).ToList();
        if (errors.Count > 0) return $"refused ({errors[0].Id}): " + string.Join("; ", errors.Select(e => e.Message));
        if (!string.Equals(envelope.JobId, jobId, StringComparison.Ordinal))
            return $"refused ({JobIdMismatch}): the stream entry is for job '{jobId}' but its envelope's job_id is '{envelope.JobId}'";
        return null;
    }

    /// <summary>The rule id of a stream entry whose job_id differs from its envelope's.</summary>
    public const string JobIdMismatch = "Axl.Job.JobIdMismatch";

    /// <summary>Runs one stream entry. True when the job reached a terminal state here.</summary>
    private async Task<bool> ProcessAsync(StreamEntry entry, CancellationToken cancellation)
    {
        var o = _queue.Options;
        var jobId = entry["job_id"].ToString();
        if (jobId.Length == 0)
        {
            Log?.Invoke($"worker {Name}: stream entry {entry.Id} has no job_id; acknowledged and left alone");
            await CallAsync("acknowledge (XACK)", db => db.StreamAcknowledgeAsync(o.Stream, o.Group, entry.Id), cancellation).ConfigureAwait(false);
            return false;
        }
        var key = o.JobKey(jobId);
        if (Refusal(jobId, entry["envelope"], out var parsed) is { } refusal)
            return await FinishAsync(entry, key, QueuedJobState.Failed, new List<QueuedTaskResult>(), refusal, null, cancellation).ConfigureAwait(false);
        var envelope = parsed!;

        var attempt = (long)await CallAsync("start the job", db => db.ScriptEvaluateAsync(JobQueue.StartScript, new RedisKey[] { key },
            new RedisValue[] { Name, Now() }), cancellation).ConfigureAwait(false);
        if (attempt == 0)
        {
            // Ended already (its worker died between recording the end and acknowledging): acknowledge only.
            await CallAsync("acknowledge (XACK)", db => db.StreamAcknowledgeAsync(o.Stream, o.Group, entry.Id), cancellation).ConfigureAwait(false);
            return false;
        }
        if (attempt > MaxAttempts)
            return await FinishAsync(entry, key, QueuedJobState.Failed, new List<QueuedTaskResult>(),
                $"abandoned: started {attempt - 1} times by workers that stopped before it ended", null, cancellation).ConfigureAwait(false);
        Log?.Invoke($"worker {Name}: running {jobId} (attempt {attempt}, {envelope.Tasks.Count} task(s))");

        // Heartbeat: re-claim our entry so its idle time stays below the reclaim threshold while the tasks run, and
        // until the result is written (a result waiting for Redis to come back keeps its claim).
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = Task.Run(async () =>
        {
            while (!heartbeatStop.IsCancellationRequested)
            {
                await Task.Delay(o.Heartbeat, heartbeatStop.Token).ConfigureAwait(false);
                await CallAsync("heartbeat (XCLAIM)", db => db.StreamClaimIdsOnlyAsync(o.Stream, o.Group, Name, 0, new[] { entry.Id }), heartbeatStop.Token).ConfigureAwait(false);
            }
        });
        // Cancel watch: JobQueue.Cancel records a request on the job's hash; seeing it stops the running task.
        using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(heartbeatStop.Token);
        using var abort = new CancellationTokenSource();
        var cancelWatch = Task.Run(async () =>
        {
            while (!watchStop.IsCancellationRequested)
            {
                if (await CallAsync("cancel watch", _ => _queue.IsCancelRequestedAsync(jobId), watchStop.Token).ConfigureAwait(false))
                {
                    Log?.Invoke($"worker {Name}: {jobId} was cancelled; stopping its running task");
                    abort.Cancel();
                    break;
                }
                await Task.Delay(o.PollInterval, watchStop.Token).ConfigureAwait(false);
            }
        });
        try
        {
            EnvelopeRunResult run;
            try
            {
                run = await Task.Run(() => EnvelopeExecutor.Run(envelope, o, cancellation, Log, abort.Token), CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                watchStop.Cancel();
                await Quietly(cancelWatch).ConfigureAwait(false);
            }
            if (run.Cancelled)
            {
                // Stopping: leave the entry pending, so another worker reclaims and runs it.
                Log?.Invoke($"worker {Name}: stopped during {jobId}; it stays pending for another worker");
                return false;
            }
            var state = run.Aborted ? QueuedJobState.Cancelled : run.Succeeded ? QueuedJobState.Succeeded : QueuedJobState.Failed;
            return await FinishAsync(entry, key, state, run.Tasks, run.Error, run.FailedTask, cancellation).ConfigureAwait(false);
        }
        finally
        {
            heartbeatStop.Cancel();
            await Quietly(heartbeat).ConfigureAwait(false);
        }
    }

    private async Task Quietly(Task loop)
    {
        try { await loop.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        catch (RedisException ex) { Log?.Invoke($"worker {Name}: {ex.GetType().Name}: {ex.Message}"); }
    }

    /// <summary>
    /// Records the terminal state and acknowledges the entry (one script). Through an outage the result is kept and
    /// the write repeated until Redis answers; only a worker that stops first gives up, leaving the entry pending (the
    /// job is then reclaimed and run again).
    /// </summary>
    private async Task<bool> FinishAsync(StreamEntry entry, string key, QueuedJobState state, List<QueuedTaskResult> tasks, string? error, int? failedTask, CancellationToken cancellation)
    {
        var o = _queue.Options;
        var jobId = key[o.KeyPrefix.Length..];
        var args = new RedisValue[]
        {
            state.ToString().ToLowerInvariant(), Name, Now(), JsonSerializer.Serialize(tasks), error ?? "",
            failedTask?.ToString(CultureInfo.InvariantCulture) ?? "", o.ResultTtlSeconds, o.Group, entry.Id.ToString(),
        };
        long made;
        try
        {
            made = (long)await CallAsync("write the result", db => db.ScriptEvaluateAsync(JobQueue.FinishScript, new RedisKey[] { key, o.Stream }, args), cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log?.Invoke($"worker {Name}: stopped before the result of {jobId} could be written; it stays pending and will run again");
            throw;
        }
        if (made == 0)
        {
            Log?.Invoke($"worker {Name}: {jobId} had ended already; its first result is kept");
            return false;
        }
        Log?.Invoke($"worker {Name}: {jobId} {state.ToString().ToLowerInvariant()}" + (error is null ? "" : $": {error}"));
        if (JobFinished is not null)
        {
            QueuedJob? job = null;
            try { job = await _queue.GetAsync(jobId).ConfigureAwait(false); }
            catch (Exception ex) when (JobQueue.IsTransient(ex)) { Down("read the finished job", ex); }
            JobFinished(job ?? new QueuedJob { JobId = jobId, State = state, Worker = Name, Error = error, FailedTask = failedTask, Tasks = tasks, TerminalTransitions = 1 });
        }
        return true;
    }

    private static string Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
}
