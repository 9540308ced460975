using Axl.Runtime;

namespace Axl.Jobs;

/// <summary>The state of a submitted job. Succeeded, Failed and Cancelled are terminal: a job reaches exactly one.</summary>
public enum JobStatus { Pending, Running, Succeeded, Failed, Cancelled }

/// <summary>Where and how a target should run a job (the caller's context).</summary>
public sealed record JobSubmitOptions
{
    /// <summary>Where runs are kept (the target writes its run records under it when it runs locally).</summary>
    public required string RunRoot { get; init; }
    /// <summary>The folder relative paths in the spec are resolved from.</summary>
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;
    /// <summary>The run id to use (default: a new time-sortable id).</summary>
    public string? RunId { get; init; }
    /// <summary>Queue target: the Redis server (host:port); default $AXL_REDIS.</summary>
    public string? QueueEndpoint { get; init; }
    public Queue.JobQueueOptions? QueueOptions { get; init; }
    /// <summary>Argo target: the cluster (kubeconfig, context, namespace), compile options, polling and shutdown.</summary>
    public Argo.ArgoSubmitOptions? Argo { get; init; }
    /// <summary>Kfp target: the base URL of the KFP API (http://host:port, the ml-pipeline service or the UI's proxy); default $AXL_KFP_ENDPOINT.</summary>
    public string? KfpEndpoint { get; init; }
    /// <summary>Kfp target: the bearer token of a multi-user installation; default $AXL_KFP_TOKEN.</summary>
    public string? KfpToken { get; init; }
    /// <summary>Kfp target: how often the run's state is read; default the target's (5 s).</summary>
    public TimeSpan? KfpPollInterval { get; init; }
    /// <summary>Local target: the preferences the steps start with (the `axl` process gets --verbose/--debug from them).</summary>
    public StepPreferences StepPreferences { get; init; } = StepPreferences.Default;
    /// <summary>
    /// Local target: the axl process does not end with the process that submitted it (by default it does, even when
    /// that process is killed: see <see cref="LocalJobHandle"/>). Its run is recorded as usual; Get-AxlRun finds it.
    /// </summary>
    public bool Detached { get; init; }
    /// <summary>Loads a workflow (file path, workflow name or null) in the host's engine, for targets that compile it here.</summary>
    public Func<string, string?, Model.AxlWorkflow>? WorkflowLoader { get; init; }

    /// <summary>
    /// The spec's workflow through <see cref="WorkflowLoader"/>, its path taken from <see cref="WorkingDirectory"/>:
    /// what the targets that compile the workflow here (Argo, Kfp, Queue) start with.
    /// </summary>
    public Model.AxlWorkflow LoadWorkflow(AxlJobSpec spec)
    {
        var load = WorkflowLoader
            ?? throw new AxlJobSpecException($"The {spec.Target} target compiles the workflow here, and this host gave no workflow loader.", "workflowPath");
        return load(Path.GetFullPath(spec.WorkflowPath!, WorkingDirectory), spec.WorkflowName);
    }
}

/// <summary>
/// An execution target: turns a job spec into a running job. Implementations: LocalJobTarget (a separate `axl` process),
/// Argo.ArgoJobTarget (a Workflow through the Kubernetes API), Queue.QueueJobTarget (a job envelope on a Redis stream);
/// registered in <see cref="JobTargets"/>.
/// </summary>
public interface IJobTarget
{
    JobTargetKind Kind { get; }
    /// <summary>Starts the job and returns at once; errors that keep it from starting (bad spec, missing tool) are thrown.</summary>
    IJobHandle Submit(AxlJobSpec spec, JobSubmitOptions options);
}

/// <summary>A submitted job: state, logs, result, cancel. Events may be raised on any thread.</summary>
public interface IJobHandle : IDisposable
{
    AxlJobSpec Spec { get; }
    /// <summary>The id of the run the job makes (the target's own id, e.g. an Argo workflow name, for remote targets).</summary>
    string RunId { get; }
    JobStatus Status { get; }
    DateTimeOffset SubmittedAt { get; }
    /// <summary>Raised once per change; the last raise carries a terminal status, after <see cref="Result"/> is set.</summary>
    event Action<JobStatus>? StatusChanged;
    /// <summary>One log line as it arrives (for Local: a JSON log line of the run, or a plain line of the axl command).</summary>
    event Action<JobLogLine>? Log;
    /// <summary>The result once the job is terminal, else null.</summary>
    JobResult? Result { get; }
    /// <summary>Waits for a terminal status; false when the timeout passed first.</summary>
    bool Wait(TimeSpan timeout, CancellationToken cancellation = default);
    /// <summary>Cancels the job (kills what it started); the status becomes Cancelled unless it had ended already.</summary>
    void Cancel();
}

/// <summary>One log line of a job: the raw text and, for structured lines, its parts.</summary>
public sealed record JobLogLine(string Text, string? Level, string? Step, string? Message, string? Event)
{
    /// <summary>For what a step wrote besides its output: the stream ("warning", "verbose", "stderr" ...).</summary>
    public string? Stream { get; init; }
    /// <summary>The tags of an information record a step wrote (PSHOST for Write-Host).</summary>
    public IReadOnlyList<string>? Tags { get; init; }
    /// <summary>The progress record a step wrote (its activity, status, percent ...), for the "progress" stream.</summary>
    public System.Management.Automation.ProgressRecord? Progress { get; init; }

    public override string ToString() => Message is null ? Text : Step is null ? Message : $"[{Step}] {Message}";

    /// <summary>
    /// Reads one line of a log: a JSON line of a local run or of the runner (level, step, message, and event or status)
    /// becomes a structured line; anything else is kept as plain text (level "error" when it starts with "error" or "axl:").
    /// </summary>
    public static JobLogLine Parse(string line, string? step = null)
    {
        if (line.StartsWith('{'))
        {
            try
            {
                using var doc = System.Text.Json.JsonDocument.Parse(line);
                var r = doc.RootElement;
                string? S(string n) => r.TryGetProperty(n, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
                var tags = r.TryGetProperty("tags", out var t) && t.ValueKind == System.Text.Json.JsonValueKind.Array
                    ? t.EnumerateArray().Where(x => x.ValueKind == System.Text.Json.JsonValueKind.String).Select(x => x.GetString()!).ToList() : null;
                return new JobLogLine(line, S("level"), S("step") ?? step, S("message"), S("event") ?? S("status")) { Stream = S("stream"), Tags = tags, Progress = ProgressLog.Read(r) };
            }
            catch (System.Text.Json.JsonException) { }
        }
        var error = line.StartsWith("error", StringComparison.Ordinal) || line.StartsWith("axl:", StringComparison.Ordinal);
        return new JobLogLine(line, error ? "error" : null, step, step is null ? null : line, null);
    }
}

/// <summary>What a finished job did: status, exit code, per-step results from the run record, artifact locations, duration.</summary>
public sealed class JobResult
{
    public string JobName { get; init; } = "";
    public JobStatus Status { get; init; }
    public int? ExitCode { get; init; }
    public string RunId { get; init; } = "";
    public string? Workflow { get; init; }
    public string? RunDirectory { get; init; }
    /// <summary>The run root the run is kept under (local runs: the parent of the workflow's folder), else null.</summary>
    public string? RunRoot => RunDirectory is { Length: > 0 } d ? Path.GetDirectoryName(Path.GetDirectoryName(d)) : null;
    /// <summary>The workflow file the run loaded, when known.</summary>
    public string? WorkflowPath => Run?.SourceFile;
    /// <summary>"file.axl.ps1:Name" of the run's workflow, when known: what -LiteralPath binds.</summary>
    public string? WorkflowReference => Run?.WorkflowReference;
    public DateTimeOffset StartTime { get; init; }
    public DateTimeOffset EndTime { get; init; }
    public TimeSpan Duration => EndTime - StartTime;
    /// <summary>Every step of the run record (empty when the run never started).</summary>
    public IReadOnlyList<AxlStepResult> Steps { get; init; } = Array.Empty<AxlStepResult>();
    /// <summary>Every step with its status, "load: Succeeded, train: Failed" (for views).</summary>
    public string StepStates => AxlRun.DescribeSteps(Steps);
    /// <summary>Step name to the path of its output artifact, for the steps that produced one.</summary>
    public IReadOnlyDictionary<string, string> Artifacts { get; init; } = new Dictionary<string, string>();
    /// <summary>Why the job failed or was cancelled (a failed step, the command's error lines), else null.</summary>
    public string? Error { get; init; }
    /// <summary>The run record, when there is one.</summary>
    public AxlRun? Run { get; init; }
    /// <summary>Queue jobs: the standard output of the last task (the job's result).</summary>
    public string? Output { get; init; }

    /// <summary>Loads a step's output back as an object (through the run record).</summary>
    public object? GetOutput(string step) => (Run ?? throw new InvalidOperationException($"Job '{JobName}' has no run record{(Error is null ? "" : ": " + Error)}.")).GetOutput(step);

    public override string ToString() => $"{JobName}: {Status}";
}

/// <summary>The targets this Axl knows: Local, Argo and Queue.</summary>
public static class JobTargets
{
    private static readonly Dictionary<JobTargetKind, IJobTarget> Registered = new()
    {
        [JobTargetKind.Local] = new LocalJobTarget(),
        [JobTargetKind.Argo] = new Argo.ArgoJobTarget(),
        [JobTargetKind.Queue] = new Queue.QueueJobTarget(),
        [JobTargetKind.Kfp] = new Kfp.KfpJobTarget(),
    };

    /// <summary>Registers (or replaces) the implementation of a target (tests, or a host with its own).</summary>
    public static void Register(IJobTarget target) { lock (Registered) Registered[target.Kind] = target; }

    public static IJobTarget Get(JobTargetKind kind)
    {
        lock (Registered)
            if (Registered.TryGetValue(kind, out var t)) return t;
        throw new NotSupportedException($"The {kind} job target is not available in this Axl; use -Target Local.");
    }
}
