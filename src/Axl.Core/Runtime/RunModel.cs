using Axl.Model;

namespace Axl.Runtime;

public enum StepStatus { Pending, Running, Succeeded, Failed, Skipped, Cancelled }

/// <summary>
/// How a run stands. <see cref="Interrupted"/> is never written: it is how Get-AxlRun shows a run recorded as running
/// whose lock no process holds (its process was killed or crashed before it could record the end); resume it.
/// </summary>
public enum RunStatus { Running, Succeeded, Failed, Cancelled, Interrupted }

/// <summary>Who is at fault when a step fails: the user's code or input, or the machinery around it.</summary>
public enum FailureKind { User, Infrastructure, Timeout, Cancelled }

/// <summary>Why a step failed: the message, where in the script, and whose fault.</summary>
public sealed record StepError(string Message, FailureKind Kind, string? File = null, int Line = 0, string? ScriptLine = null)
{
    public override string ToString()
    {
        var where = File is null ? "" : Line > 0 ? $" at {File}:{Line}" : $" in {File}";
        var code = string.IsNullOrWhiteSpace(ScriptLine) ? "" : $" (`{ScriptLine!.Trim()}`)";
        return $"{Message}{where}{code}";
    }
}

/// <summary>
/// One attempt at running a step: when it started and ended, and how it ended ("Succeeded", or the failure kind:
/// "User", "Infrastructure", "Timeout", "Cancelled") with the error message. What the run report's timeline draws.
/// </summary>
public sealed record StepAttempt(int Number, DateTimeOffset StartTime, DateTimeOffset? EndTime, string Outcome, string? Error = null)
{
    public TimeSpan? Duration => EndTime is { } e ? e - StartTime : null;
}

/// <summary>One step of a run: status, attempts, times, error, output artifact.</summary>
public sealed class AxlStepResult
{
    public string Name { get; init; } = "";
    public StepStatus Status { get; internal set; } = StepStatus.Pending;
    public int Attempts { get; internal set; }
    /// <summary>Every attempt with its times and outcome, across resumes (empty for runs recorded before attempts were).</summary>
    public IReadOnlyList<StepAttempt> AttemptLog => AttemptList;
    internal List<StepAttempt> AttemptList { get; } = new();
    public DateTimeOffset? StartTime { get; internal set; }
    public DateTimeOffset? EndTime { get; internal set; }
    public TimeSpan? Duration => StartTime is { } s && EndTime is { } e ? e - s : null;
    public StepError? Error { get; internal set; }
    /// <summary>Why the step was skipped (condition false, upstream failed).</summary>
    public string? SkipReason { get; internal set; }
    /// <summary>"resume" or "cache" when the output was reused instead of recomputed.</summary>
    public string? ReusedFrom { get; internal set; }
    /// <summary>Content key of the step (code, options, inputs); equal keys mean equal outputs.</summary>
    public string? Key { get; internal set; }
    /// <summary>The same key as Axl computed it before BLAKE3 (SHA-256), only while resuming a run recorded then.</summary>
    internal string? LegacyKey { get; set; }
    public string? OutputPath { get; internal set; }
    public string? OutputHandler { get; internal set; }
    public long? OutputSize { get; internal set; }
    public string? OutputHash { get; internal set; }
    public string Directory { get; internal set; } = "";

    public bool IsSuccess => Status == StepStatus.Succeeded;

    // Plain text for views: properties, not methods, so a deserialized step (Receive-Job, remoting) shows the same.
    /// <summary>The output file and its size ("output.clixml (42 B)"); empty when the step has none.</summary>
    public string OutputText => OutputPath is null ? "" : $"{Path.GetFileName(OutputPath)} ({OutputSize} B)";
    /// <summary>The error (with its place), else why the step was skipped or where its output was reused from.</summary>
    public string Note => Error?.ToString() ?? SkipReason ?? (ReusedFrom is null ? "" : "reused from " + ReusedFrom);

    public override string ToString() => $"{Name}: {Status}";
}

/// <summary>A workflow run on this machine: where its artifacts are and what happened to every step.</summary>
public sealed class AxlRun
{
    public string RunId { get; init; } = "";
    public string Workflow { get; init; } = "";
    public string WorkflowHash { get; init; } = "";
    public string? SourceFile { get; init; }
    public RunStatus Status { get; internal set; } = RunStatus.Running;
    public DateTimeOffset StartTime { get; internal set; }
    public DateTimeOffset? EndTime { get; internal set; }
    public TimeSpan? Duration => EndTime is { } e ? e - StartTime : null;
    public string Directory { get; init; } = "";
    public IReadOnlyDictionary<string, object?> Parameters { get; init; } = new Dictionary<string, object?>();
    public IReadOnlyList<AxlStepResult> Steps { get; init; } = Array.Empty<AxlStepResult>();
    public int Resumes { get; internal set; }
    /// <summary>
    /// The run root the run is kept under (its directory is &lt;run root&gt;/&lt;workflow&gt;/&lt;run id&gt;), null when the
    /// run has no directory. With <see cref="Workflow"/> and <see cref="RunId"/>, what the run cmdlets bind by property name.
    /// </summary>
    public string? RunRoot => Directory.Length == 0 ? null : System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(Directory));
    /// <summary>The workflow the run ran as "file.axl.ps1:Name" (null when it was not loaded from a file): what -LiteralPath binds.</summary>
    public string? WorkflowReference => SourceFile is null ? null : $"{SourceFile}:{Workflow}";

    // Plain values for views: properties, not methods, so a deserialized run (Receive-Job, remoting) shows the same.
    public int StepCount => Steps.Count;
    public int SucceededCount => Steps.Count(s => s.Status == StepStatus.Succeeded);
    /// <summary>"3/4 succeeded".</summary>
    public string StepSummary => $"{SucceededCount}/{StepCount} succeeded";
    /// <summary>Every step with its status: "load: Succeeded, train: Failed".</summary>
    public string StepStates => DescribeSteps(Steps);
    /// <summary>The parameters as name=value, comma-separated.</summary>
    public string ParameterText => string.Join(", ", Parameters.Select(kv => $"{kv.Key}={kv.Value}"));

    internal static string DescribeSteps(IEnumerable<AxlStepResult> steps) => string.Join(", ", steps.Select(s => $"{s.Name}: {s.Status}"));

    public AxlStepResult? GetStep(string name) => Steps.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Loads a step's output back as an object through its IO handler (verifying its hash).</summary>
    public object? GetOutput(string step)
    {
        var s = GetStep(step) ?? throw new ArgumentException($"Run {RunId} of '{Workflow}' has no step '{step}'. Steps: {string.Join(", ", Steps.Select(x => x.Name))}.", nameof(step));
        if (s.Status != StepStatus.Succeeded)
            throw new InvalidOperationException($"Step '{s.Name}' of run {RunId} has no output: it is {s.Status.ToString().ToLowerInvariant()}{(s.Error is null ? "" : ": " + s.Error.Message)}{(s.SkipReason is null ? "" : " (" + s.SkipReason + ")")}.");
        return IO.ArtifactIO.Load(s.Directory);
    }

    /// <summary>A step's output as an object that says where it came from (step, handler, file, run), loaded through its IO handler.</summary>
    public AxlStepArtifact GetArtifact(string step)
    {
        var value = GetOutput(step);
        var s = GetStep(step)!;
        return new AxlStepArtifact
        {
            Workflow = Workflow,
            RunId = RunId,
            RunDirectory = Directory,
            Step = s.Name,
            Handler = s.OutputHandler,
            Path = IO.ArtifactIO.DataPath(s.Directory),
            Size = s.OutputSize,
            Value = value,
        };
    }

    public IEnumerable<AxlStepResult> Failed => Steps.Where(s => s.Status == StepStatus.Failed);
    public override string ToString() => $"{Workflow} {RunId}: {Status}";
}

/// <summary>
/// The output of one step of a run, as Get-AxlArtifact gives it without -Step: the value, and which step, handler,
/// file and run it came from (one object per step; a collection stays whole in <see cref="Value"/>).
/// </summary>
public sealed class AxlStepArtifact
{
    public string Workflow { get; init; } = "";
    public string RunId { get; init; } = "";
    public string RunDirectory { get; init; } = "";
    public string Step { get; init; } = "";
    /// <summary>The IO handler that wrote the file and read it back.</summary>
    public string? Handler { get; init; }
    public string Path { get; init; } = "";
    public long? Size { get; init; }
    /// <summary>The loaded output.</summary>
    public object? Value { get; init; }
    /// <summary>The value on one line, shortened (for views).</summary>
    public string ValueText => Jobs.ExperimentReportRow.Show(Value);

    public override string ToString() => $"{Step} = {ValueText}";
}
