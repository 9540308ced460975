using Axl.Jobs.Envelopes;
using StackExchange.Redis;

namespace Axl.Jobs.Queue;

/// <summary>
/// Job envelopes on Redis: a stream of jobs read by a consumer group of workers, and one status hash per job.
/// Submit adds the envelope to the stream (XADD) and records the job as queued; workers move it to running and then,
/// atomically (a Lua script), to exactly one terminal state. See docs/jobs-queue.md for the layout.
/// </summary>
public sealed class JobQueue : IAsyncDisposable, IDisposable
{
    private readonly ConnectionMultiplexer _redis;
    private readonly bool _ownsConnection;

    // KEYS[1] job hash, KEYS[2] stream. ARGV: state, worker, finished_at ms, result json, error, failed_task, ttl, group, entry id.
    // Returns 1 when this call made the terminal transition, 0 when the job had already ended (the first result is kept).
    // Either way the stream entry is acknowledged in the same step, so a finished job is never reclaimed.
    internal const string FinishScript = """
        local s = redis.call('HGET', KEYS[1], 'state')
        redis.call('HINCRBY', KEYS[1], 'finish_calls', 1)
        if ARGV[9] ~= '' then redis.call('XACK', KEYS[2], ARGV[8], ARGV[9]) end
        if s == 'succeeded' or s == 'failed' or s == 'cancelled' then return 0 end
        redis.call('HSET', KEYS[1], 'state', ARGV[1], 'worker', ARGV[2], 'finished_at', ARGV[3], 'result', ARGV[4], 'error', ARGV[5], 'failed_task', ARGV[6])
        redis.call('HINCRBY', KEYS[1], 'terminal_transitions', 1)
        if tonumber(ARGV[7]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[7]) end
        return 1
        """;

    // KEYS[1] job hash. ARGV: worker, started_at ms. Returns the attempt number, or 0 when the job had already ended
    // (including a job cancelled while it waited in the stream: the worker then only acknowledges the entry).
    internal const string StartScript = """
        local s = redis.call('HGET', KEYS[1], 'state')
        if s == 'succeeded' or s == 'failed' or s == 'cancelled' then return 0 end
        redis.call('HSET', KEYS[1], 'state', 'running', 'worker', ARGV[1], 'started_at', ARGV[2])
        return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
        """;

    // KEYS[1] job hash. ARGV: finished_at ms, reason, ttl. Returns 0 when the job had ended already (nothing changes),
    // 1 when it was still queued (it is now cancelled: the one terminal transition, made here), 2 when it runs (the
    // request is recorded; its worker stops the running task and makes the transition), -1 when there is no such job.
    internal const string CancelScript = """
        local s = redis.call('HGET', KEYS[1], 'state')
        if not s then return -1 end
        if s == 'succeeded' or s == 'failed' or s == 'cancelled' then return 0 end
        redis.call('HSET', KEYS[1], 'cancel_requested', ARGV[1], 'cancel_reason', ARGV[2])
        if s == 'running' then return 2 end
        redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finished_at', ARGV[1], 'error', ARGV[2], 'result', '[]')
        redis.call('HINCRBY', KEYS[1], 'terminal_transitions', 1)
        if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
        return 1
        """;

    private JobQueue(ConnectionMultiplexer redis, JobQueueOptions options, bool owns, string endpoint = "")
    {
        _redis = redis;
        Options = options;
        _ownsConnection = owns;
        Endpoint = endpoint;
    }

    public JobQueueOptions Options { get; }
    /// <summary>The Redis server as given to Connect (for messages).</summary>
    public string Endpoint { get; }
    internal IDatabase Db => _redis.GetDatabase();

    /// <summary>Connects to Redis ("host:port", or any StackExchange.Redis configuration string).</summary>
    public static async Task<JobQueue> ConnectAsync(string redis, JobQueueOptions? options = null)
    {
        ConnectionMultiplexer mux;
        try
        {
            var config = ConfigurationOptions.Parse(redis);
            config.AbortOnConnectFail = true;
            config.ConnectTimeout = 5000;
            mux = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisException or ArgumentException)
        {
            throw new JobQueueException($"Cannot connect to Redis at {redis}: {ex.Message}. Fix: start Redis (redis-server --port 6379) or give the right --redis host:port.", ex);
        }
        var q = new JobQueue(mux, options ?? new JobQueueOptions(), owns: true, redis);
        await q.EnsureGroupAsync().ConfigureAwait(false);
        return q;
    }

    /// <summary>
    /// Connects for a worker: returns even when Redis is down (the connection comes up, and comes back, on its own,
    /// retrying every 0.5 s to 10 s), and a command made while Redis is away fails at once
    /// (<see cref="RedisConnectionException"/>) instead of waiting in a backlog; <see cref="JobWorker"/> retries it with
    /// backoff. Only a configuration string that cannot be read is an error.
    /// </summary>
    public static async Task<JobQueue> ConnectForWorkerAsync(string redis, JobQueueOptions? options = null)
    {
        ConfigurationOptions config;
        try { config = ConfigurationOptions.Parse(redis); }
        catch (ArgumentException ex)
        {
            throw new JobQueueException($"Cannot read the Redis address '{redis}': {ex.Message}. Fix: give host:port (or a StackExchange.Redis configuration string).", ex);
        }
        config.AbortOnConnectFail = false;
        config.ConnectTimeout = 5000;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ReconnectRetryPolicy = new ExponentialRetry(500, 10_000);
        var mux = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        return new JobQueue(mux, options ?? new JobQueueOptions(), owns: true, redis);
    }

    /// <summary>
    /// Whether a Redis error is an outage that passes (no connection, a timeout, a server still loading its data or
    /// not ready to write): the call is worth repeating later.
    /// </summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        RedisConnectionException or RedisTimeoutException => true,
        RedisServerException s => s.Message.StartsWith("LOADING", StringComparison.Ordinal) || s.Message.StartsWith("BUSY ", StringComparison.Ordinal)
            || s.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal) || s.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || s.Message.StartsWith("READONLY", StringComparison.Ordinal) || s.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>The consumer group (or the stream) does not exist: Redis restarted without its data, or someone deleted them.</summary>
    public static bool IsNoGroup(Exception ex) => ex is RedisServerException && ex.Message.Contains("NOGROUP", StringComparison.Ordinal);

    public static JobQueue Connect(string redis, JobQueueOptions? options = null) => ConnectAsync(redis, options).GetAwaiter().GetResult();

    /// <summary>Creates the stream and the consumer group when missing (from the stream's start, so nothing queued before is lost).</summary>
    public async Task EnsureGroupAsync()
    {
        try
        {
            await Db.StreamCreateConsumerGroupAsync(Options.Stream, Options.Group, StreamPosition.Beginning, createStream: true).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("BUSYGROUP", StringComparison.Ordinal)) { }
    }

    /// <summary>Validates the envelope (the client-side rules), records it as queued and adds it to the stream. Returns the job id.</summary>
    public async Task<string> SubmitAsync(JobEnvelope envelope, int maxTasks = 100)
    {
        JobEnvelopeValidator.EnsureValid(envelope, maxTasks);
        var key = Options.JobKey(envelope.JobId);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The hash first, only when the id is new (job ids are unique), then the stream entry.
        var created = await Db.HashSetAsync(key, "job_id", envelope.JobId, When.NotExists).ConfigureAwait(false);
        if (!created) throw new JobQueueException($"Job '{envelope.JobId}' exists already in {key}: job ids are unique. Fix: make a new envelope (ConvertTo-AxlJobEnvelope gives a new id each time).");
        await Db.HashSetAsync(key, new HashEntry[]
        {
            new("plan_id", envelope.PlanId), new("state", "queued"), new("queued_at", now), new("attempts", 0),
            new("tasks", envelope.Tasks.Count), new("stream", Options.Stream),
        }).ConfigureAwait(false);
        var id = await Db.StreamAddAsync(Options.Stream, new NameValueEntry[] { new("job_id", envelope.JobId), new("envelope", envelope.ToJson(indented: false)) }).ConfigureAwait(false);
        await Db.HashSetAsync(key, "stream_id", id.ToString()).ConfigureAwait(false);
        return envelope.JobId;
    }

    public string Submit(JobEnvelope envelope, int maxTasks = 100) => SubmitAsync(envelope, maxTasks).GetAwaiter().GetResult();

    /// <summary>
    /// Cancels a job. A queued job becomes cancelled at once (a worker that reads it later only acknowledges it); a
    /// running job's worker is asked to stop its running task (SIGTERM, then SIGKILL after the grace period) and
    /// records the job as cancelled with the results of the tasks that ended; an ended job is left as it is.
    /// </summary>
    public async Task<CancelOutcome> CancelAsync(string jobId, string? reason = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var r = (long)await Db.ScriptEvaluateAsync(CancelScript, new RedisKey[] { Options.JobKey(jobId) },
            new RedisValue[] { now, reason ?? "cancelled by request", Options.ResultTtlSeconds }).ConfigureAwait(false);
        return r switch
        {
            -1 => throw new JobQueueException($"Job '{jobId}' is not known to the queue ({Options.JobKey(jobId)} does not exist)."),
            0 => CancelOutcome.AlreadyEnded,
            1 => CancelOutcome.Cancelled,
            _ => CancelOutcome.Requested,
        };
    }

    public CancelOutcome Cancel(string jobId, string? reason = null) => CancelAsync(jobId, reason).GetAwaiter().GetResult();

    /// <summary>Whether someone asked to cancel the job (the worker running it polls this).</summary>
    internal async Task<bool> IsCancelRequestedAsync(string jobId) =>
        (await Db.HashGetAsync(Options.JobKey(jobId), "cancel_requested").ConfigureAwait(false)).HasValue;

    /// <summary>The job's record, or null when there is none.</summary>
    public async Task<QueuedJob?> GetAsync(string jobId)
    {
        var entries = await Db.HashGetAllAsync(Options.JobKey(jobId)).ConfigureAwait(false);
        if (entries.Length == 0) return null;
        return QueuedJob.FromHash(jobId, entries.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString()));
    }

    public QueuedJob? Get(string jobId) => GetAsync(jobId).GetAwaiter().GetResult();

    /// <summary>Waits until the job is terminal and returns it; throws <see cref="TimeoutException"/> when the timeout passes first.</summary>
    public async Task<QueuedJob> WaitAsync(string jobId, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await GetAsync(jobId).ConfigureAwait(false) ?? throw new JobQueueException($"Job '{jobId}' is not known to the queue ({Options.JobKey(jobId)} does not exist).");
            if (job.IsTerminal) return job;
            if (DateTime.UtcNow >= until) throw new TimeoutException($"Job '{jobId}' is still {job.State.ToString().ToLowerInvariant()} after {timeout.TotalSeconds:0.#} s" + (job.Worker is null ? " (no worker has taken it: is a worker running on this stream and group?)" : $" (worker {job.Worker})."));
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellation).ConfigureAwait(false);
        }
    }

    public QueuedJob Wait(string jobId, TimeSpan timeout, CancellationToken cancellation = default) => WaitAsync(jobId, timeout, cancellation).GetAwaiter().GetResult();

    public void Dispose()
    {
        if (_ownsConnection) _redis.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsConnection) await _redis.DisposeAsync().ConfigureAwait(false);
    }
}
