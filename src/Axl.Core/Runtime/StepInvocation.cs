using Axl.Model;

namespace Axl.Runtime;

/// <summary>Everything one attempt of one step needs: the step, its bound inputs, where its output goes, its limits.</summary>
public sealed class StepInvocation
{
    public required AxlWorkflow Workflow { get; init; }
    public required AxlStep Step { get; init; }
    /// <summary>Script steps: parameter name to value (object mode) or artifact path (path mode).</summary>
    public IReadOnlyDictionary<string, object?> Arguments { get; init; } = new Dictionary<string, object?>();
    /// <summary>Command steps: placeholder name to the text that replaces it (an artifact path or a parameter value).</summary>
    public IReadOnlyDictionary<string, string> Placeholders { get; init; } = new Dictionary<string, string>();
    /// <summary>Command steps: the file piped to standard input.</summary>
    public string? StdinPath { get; init; }
    public required string OutputDirectory { get; init; }
    public required string RunId { get; init; }
    public int Attempt { get; init; } = 1;
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Where command steps run; the workflow file's folder by default.</summary>
    public string? WorkingDirectory { get; init; }
    /// <summary>What the step writes besides its output (warnings, verbose, host text, a command's stderr ...), as it writes it.</summary>
    public Action<StepStreamRecord>? Streams { get; init; }
    /// <summary>Secret environment variables (name to value), read just before the step runs; never logged or written.</summary>
    public IReadOnlyDictionary<string, string> SecretEnvironment { get; init; } = new Dictionary<string, string>();
    /// <summary>Replaces secret and sensitive values in text the step writes to files kept with the run (stderr.log); null for none.</summary>
    public Func<string, string>? Mask { get; init; }
    /// <summary>Where the step's installed packages are (PSModulePath, PYTHONPATH with the package folders first); see <see cref="StepPackages"/>.</summary>
    public IReadOnlyDictionary<string, string> PackageEnvironment { get; init; } = new Dictionary<string, string>();
    /// <summary>The preference variables the step starts with.</summary>
    public StepPreferences Preferences { get; init; } = StepPreferences.Default;
}

/// <summary>What one attempt produced: for script steps the value, for command steps the file holding the output.</summary>
public sealed record StepAttemptResult(bool Success, object? Value, string? OutputFile, StepError? Error)
{
    public static StepAttemptResult Ok(object? value) => new(true, value, null, null);
    public static StepAttemptResult OkFile(string file) => new(true, null, file, null);
    public static StepAttemptResult Fail(StepError error) => new(false, null, null, error);
    /// <summary>The attempt did not stop when told to (a script step stuck in a .NET call) and was left running: no retry may start on top of it.</summary>
    public bool Abandoned { get; init; }
}

/// <summary>The run context handed to a step parameter named AxlContext.</summary>
public sealed record AxlStepContext(string Workflow, string RunId, string Step, int Attempt, string OutputDirectory, IReadOnlyDictionary<string, object?> Parameters);
