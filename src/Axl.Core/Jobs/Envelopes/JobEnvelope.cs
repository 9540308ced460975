namespace Axl.Jobs.Envelopes;

/// <summary>
/// A job envelope (seed 003, schema agenix-job.schema.json, v0.2): one execution of a plan, its tasks run in order on
/// one worker, a task's standard input optionally the standard output of an earlier task.
/// </summary>
public sealed class JobEnvelope
{
    /// <summary>The schema's default per-task timeout, in seconds.</summary>
    public const int DefaultTimeoutSecs = 300;
    public const int MaxTimeoutSecs = 3600;
    public const int MaxIdLength = 64;
    public const int MaxDescriptionLength = 1024;
    public const int MaxCommandLength = 256;
    public const int MaxArgs = 100;
    public const int MaxArgLength = 65536;

    /// <summary>Unique per submission (a new uuid for each envelope the builder makes).</summary>
    public string JobId { get; set; } = "";
    /// <summary>Stable per logical plan (the workflow hash's hex).</summary>
    public string PlanId { get; set; } = "";
    public string? PlanDescription { get; set; }
    public List<JobTask> Tasks { get; set; } = new();

    /// <summary>The envelope as JSON (snake_case, exactly the schema's properties).</summary>
    public string ToJson(bool indented = true) => JobEnvelopeJson.Write(this, indented);

    public override string ToString() => $"{JobId} ({Tasks.Count} task(s), plan {PlanId})";
}

/// <summary>One task of an envelope: a program, its argument array, a timeout and where its standard input comes from.</summary>
public sealed class JobTask
{
    public int TaskNumber { get; set; }
    public string Command { get; set; } = "";
    public List<string> Args { get; set; } = new();
    /// <summary>Seconds; null means the schema default (300).</summary>
    public int? TimeoutSecs { get; set; }
    /// <summary>The earlier task whose standard output becomes this task's standard input; null for none (stdin closed).</summary>
    public int? InputFromTask { get; set; }

    public int EffectiveTimeoutSecs => TimeoutSecs ?? JobEnvelope.DefaultTimeoutSecs;

    public override string ToString() => $"{TaskNumber}: {Command} {string.Join(' ', Args)}".TrimEnd();
}

/// <summary>An envelope that cannot be read or built; the message says what and how to fix it.</summary>
public sealed class JobEnvelopeException : Exception
{
    public JobEnvelopeException(string message) : base(message) { }
    public JobEnvelopeException(string message, Exception inner) : base(message, inner) { }
}
