using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Axl.Jobs.Queue;

/// <summary>Where a queued job is. Succeeded, Failed and Cancelled are terminal: every job reaches exactly one, once.</summary>
public enum QueuedJobState { Queued, Running, Succeeded, Failed, Cancelled }

/// <summary>What a cancel did: the job was queued and is now cancelled; it runs and its worker was asked to stop it; it had ended.</summary>
public enum CancelOutcome { Cancelled, Requested, AlreadyEnded }

/// <summary>Names and timings of the Redis layout (docs/jobs-queue.md).</summary>
public sealed class JobQueueOptions
{
    /// <summary>The stream jobs are added to (XADD) and read from (XREADGROUP).</summary>
    public string Stream { get; init; } = "axl:jobs";
    /// <summary>The consumer group the workers share.</summary>
    public string Group { get; init; } = "axl-workers";
    /// <summary>Prefix of the per-job status hash: &lt;prefix&gt;&lt;job_id&gt;.</summary>
    public string KeyPrefix { get; init; } = "axl:job:";
    /// <summary>
    /// A pending job whose worker has not touched it for this long is reclaimed (XAUTOCLAIM) by another worker. A
    /// worker renews the claim on its running job every third of this (the heartbeat), so it must be at least
    /// <see cref="MinClaimIdle"/>: shorter, and live workers would take each other's jobs.
    /// </summary>
    public TimeSpan ClaimIdle { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>The least <see cref="ClaimIdle"/> a worker accepts.</summary>
    public static readonly TimeSpan MinClaimIdle = TimeSpan.FromSeconds(1);
    /// <summary>How often a worker renews the claim on its running job: a third of <see cref="ClaimIdle"/>.</summary>
    public TimeSpan Heartbeat => ClaimIdle / 3;

    /// <summary>Null when the options can run a worker, else what is wrong and how to fix it.</summary>
    public string? WorkerProblem() => ClaimIdle < MinClaimIdle
        ? $"claim-idle is {ClaimIdle.TotalSeconds:0.###} s: it must be at least {MinClaimIdle.TotalSeconds:0} s, larger than the heartbeat (a third of it) with which a worker keeps its running job; shorter, every live worker would take and run every job. Fix: give a claim-idle of 1 s or more (default 60)."
        : null;
    /// <summary>How often a worker polls the stream when there is nothing to do.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Time between SIGTERM and SIGKILL when a task times out.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>At most this many bytes of each task's stdout and stderr are kept in the result (the piping itself is not capped).</summary>
    public int MaxCapturedBytes { get; init; } = 64 * 1024;
    /// <summary>Seconds the job hash is kept after the job ends (0: forever).</summary>
    public int ResultTtlSeconds { get; init; } = 7 * 24 * 3600;
    /// <summary>The folder tasks run in (default: the worker's current directory).</summary>
    public string? WorkingDirectory { get; init; }

    public string JobKey(string jobId) => KeyPrefix + jobId;
}

/// <summary>What one task did.</summary>
public sealed class QueuedTaskResult
{
    [JsonPropertyName("task_number")] public int TaskNumber { get; set; }
    [JsonPropertyName("command")] public string Command { get; set; } = "";
    /// <summary>succeeded, failed (non-zero exit), timeout, crashed (killed by a signal or could not start), cancelled (stopped on request).</summary>
    [JsonPropertyName("status")] public string Status { get; set; } = "";
    [JsonPropertyName("exit_code")] public int? ExitCode { get; set; }
    [JsonPropertyName("stdout")] public string Stdout { get; set; } = "";
    [JsonPropertyName("stderr")] public string Stderr { get; set; } = "";
    [JsonPropertyName("stdout_truncated")] public bool StdoutTruncated { get; set; }
    [JsonPropertyName("stderr_truncated")] public bool StderrTruncated { get; set; }
    [JsonPropertyName("duration_ms")] public long DurationMs { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }

    public override string ToString() => $"task {TaskNumber} ({Command}): {Status}";
}

/// <summary>A job as the queue records it in its hash.</summary>
public sealed class QueuedJob
{
    public string JobId { get; init; } = "";
    public string? PlanId { get; init; }
    public QueuedJobState State { get; init; }
    /// <summary>The worker that ran (or runs) it.</summary>
    public string? Worker { get; init; }
    /// <summary>How many times a worker started it (more than 1 after a reclaim).</summary>
    public int Attempts { get; init; }
    public DateTimeOffset? QueuedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>Why it failed: the first failing task and what happened.</summary>
    public string? Error { get; init; }
    public int? FailedTask { get; init; }
    /// <summary>How many terminal transitions were recorded (always 1 for an ended job: the transition is atomic).</summary>
    public int TerminalTransitions { get; init; }
    /// <summary>The tasks that ran, in order, up to and including the failing one.</summary>
    public IReadOnlyList<QueuedTaskResult> Tasks { get; init; } = Array.Empty<QueuedTaskResult>();

    public bool IsTerminal => State is QueuedJobState.Succeeded or QueuedJobState.Failed or QueuedJobState.Cancelled;

    /// <summary>The last task's standard output (the job's result), or "".</summary>
    public string Output => Tasks.Count > 0 ? Tasks[^1].Stdout : "";

    public override string ToString() => $"{JobId}: {State.ToString().ToLowerInvariant()}" + (Error is null ? "" : $" ({Error})");

    internal static QueuedJob FromHash(string jobId, IReadOnlyDictionary<string, string> h)
    {
        string? S(string k) => h.TryGetValue(k, out var v) && v.Length > 0 ? v : null;
        DateTimeOffset? T(string k) => S(k) is { } v && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        int I(string k) => S(k) is { } v && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : 0;
        return new QueuedJob
        {
            JobId = jobId,
            PlanId = S("plan_id"),
            State = Enum.TryParse<QueuedJobState>(S("state"), ignoreCase: true, out var st) ? st : QueuedJobState.Queued,
            Worker = S("worker"),
            Attempts = I("attempts"),
            QueuedAt = T("queued_at"),
            StartedAt = T("started_at"),
            FinishedAt = T("finished_at"),
            Error = S("error"),
            FailedTask = S("failed_task") is null ? null : I("failed_task"),
            TerminalTransitions = I("terminal_transitions"),
            Tasks = S("result") is { } json ? JsonSerializer.Deserialize<List<QueuedTaskResult>>(json) ?? new() : new List<QueuedTaskResult>(),
        };
    }
}

/// <summary>A queue server said no, or could not be reached; the message carries the server's text.</summary>
public sealed class JobQueueException : Exception
{
    public JobQueueException(string message) : base(message) { }
    public JobQueueException(string message, Exception inner) : base(message, inner) { }
}
