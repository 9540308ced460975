using System.Collections;

namespace Axl.Runtime;

/// <summary>How to run a workflow locally.</summary>
public sealed class RunOptions
{
    /// <summary>Root of all runs: runs go to &lt;RunRoot&gt;/&lt;workflow&gt;/&lt;run-id&gt;/. Default: $AXL_RUN_ROOT or ./.axl/runs.</summary>
    public string RunRoot { get; init; } = DefaultRunRoot();
    /// <summary>Id of the new run; a time-sortable id is made when null.</summary>
    public string? RunId { get; init; }
    /// <summary>Resume this earlier run in place: re-run only the steps that did not succeed or whose inputs or code changed.</summary>
    public string? Resume { get; init; }
    public IDictionary? Parameters { get; init; }
    public string? ParametersFile { get; init; }
    /// <summary>How many steps run at once; default the core count.</summary>
    public int ThrottleLimit { get; init; } = Environment.ProcessorCount;
    /// <summary>Reuse the output of an earlier successful run of a step whose code, options and inputs hash the same.</summary>
    public bool Cache { get; init; }
    /// <summary>
    /// Keep step outputs in the run root's hash-addressed store (<see cref="ContentStore"/>): each distinct output on disk
    /// once, shared by every run under the root (-UseHash / --use-hash).
    /// </summary>
    public bool UseHash { get; init; }
    /// <summary>Wait before the first retry; doubled for each further retry, up to <see cref="MaxRetryBackoff"/>.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxRetryBackoff { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Time a command step gets between SIGTERM and SIGKILL when it times out or is cancelled.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Give every script step a new runspace of its own. By default a run keeps one warm runspace per running step
    /// and reuses it for later steps (the workflow file is then loaded once per runspace, not once per step);
    /// each step still runs in a fresh scope, so only explicit $global: state is shared.
    /// </summary>
    public bool IsolateSteps { get; init; }

    /// <summary>Where step packages (-Modules, -Packages) are installed from and cached; null: from the environment (<see cref="StepPackageOptions.FromEnvironment"/>).</summary>
    public StepPackageOptions? Packages { get; init; }

    /// <summary>How fix hints in messages name the next command: PowerShell's (default) or the `axl` command's.</summary>
    public RemedyStyle Remedies { get; init; } = RemedyStyle.PowerShell;

    /// <summary>The preference variables every script step starts with ($VerbosePreference, $DebugPreference ...).</summary>
    public StepPreferences Preferences { get; init; } = StepPreferences.Default;
    /// <summary>
    /// Run every step in a container of its image through the Docker Engine API, as a compiled pod runs it
    /// (<see cref="ContainerSteps"/>); null: in this process.
    /// </summary>
    public ContainerRunOptions? Containers { get; init; }

    /// <summary>
    /// Aborts the run at once (a second Ctrl+C or signal): every step's process group is killed, the running steps and
    /// the run are recorded as cancelled (resumable), and nothing is written after that; the caller then exits.
    /// </summary>
    public CancellationToken Abort { get; init; }

    /// <summary>How finished steps' files are made durable before their records are written (tests put a failing disk here).</summary>
    internal Action<IReadOnlyList<string>> SyncFiles { get; init; } = Axl.IO.DurableFiles.Sync;

    /// <summary>$AXL_RUN_ROOT, else .axl/runs under <paramref name="baseDirectory"/> (default: the process's current directory).</summary>
    public static string DefaultRunRoot(string? baseDirectory = null) =>
        Environment.GetEnvironmentVariable("AXL_RUN_ROOT") is { Length: > 0 } root ? root : Path.Combine(baseDirectory ?? Environment.CurrentDirectory, ".axl", "runs");
}

public enum RunEventKind { RunStarted, StepStarted, StepSucceeded, StepFailed, StepRetrying, StepSkipped, StepReused, StepLog, RunFinished }

/// <summary>
/// What happened, as it happens: for progress bars, logs and tests. <see cref="Json"/> is the structured log line; a
/// <see cref="RunEventKind.StepLog"/> event carries the <see cref="Record"/> the step wrote (its stream and text).
/// </summary>
public sealed record RunEvent(RunEventKind Kind, string? Step, string Message, int Done, int Total, string Json)
{
    public StepStreamRecord? Record { get; init; }
}
