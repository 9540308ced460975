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

/// <summary>One step of a run: status, attempts, times, error, output artifact.</summary>
public sealed class AxlStepResult
{
    public string Name { get; init; } = "";
    public StepStatus Status { get; internal set; } = StepStatus.Pending;
    public int Attempts { get; internal set; }
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
    public string? OutputPath { get; internal set; }
    public string? OutputHandler { get; internal set; }
    public long? OutputSize { get; internal set; }
    public string? OutputHash { get; internal set; }
    public string Directory { get; internal set; } = "";

    public bool IsSuccess => Status == StepStatus.Succeeded;
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

    public AxlStepResult? GetStep(string name) => Steps.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Loads a step's output back as an object through its IO handler (verifying its hash).</summary>
    public object? GetOutput(string step)
    {
        var s = GetStep(step) ?? throw new ArgumentException($"Run {RunId} of '{Workflow}' has no step '{step}'. Steps: {string.Join(", ", Steps.Select(x => x.Name))}.", nameof(step));
        if (s.Status != StepStatus.Succeeded)
            throw new InvalidOperationException($"Step '{s.Name}' of run {RunId} has no output: it is {s.Status.ToString().ToLowerInvariant()}{(s.Error is null ? "" : ": " + s.Error.Message)}{(s.SkipReason is null ? "" : " (" + s.SkipReason + ")")}.");
        return IO.ArtifactIO.Load(s.Directory);
    }

    public IEnumerable<AxlStepResult> Failed => Steps.Where(s => s.Status == StepStatus.Failed);
    public override string ToString() => $"{Workflow} {RunId}: {Status}";
}
