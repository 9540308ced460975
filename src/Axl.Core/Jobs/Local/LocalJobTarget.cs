using System.Diagnostics;
using System.Text.Json;
using Axl.Runtime;

namespace Axl.Jobs;

/// <summary>
/// Runs a job on this machine in a separate process: `dotnet axl.dll run local &lt;workflow&gt; --json --log-json
/// --run-root R --run-id ID [--params P]`. Log lines stream from its stderr; Cancel kills the process tree; the result
/// comes from the run record.
/// </summary>
public sealed class LocalJobTarget : IJobTarget
{
    public const string CliVariable = "AXL_CLI";
    public JobTargetKind Kind => JobTargetKind.Local;

    public IJobHandle Submit(AxlJobSpec spec, JobSubmitOptions options)
    {
        spec.ThrowIfInvalid();
        var cli = FindCli();
        var copy = spec.Clone();
        copy.WorkflowPath = Path.GetFullPath(spec.WorkflowPath!, options.WorkingDirectory);
        if (!File.Exists(copy.WorkflowPath))
            throw new AxlJobSpecException($"job '{spec.Name}': the workflow file {copy.WorkflowPath} does not exist.", "workflowPath");
        var handle = new LocalJobHandle(copy, cli, options);
        handle.Start();
        return handle;
    }

    /// <summary>
    /// Where axl.dll is: $AXL_CLI (the dll, or a folder holding it); else, going up from the folder of this assembly
    /// (in the module: artifacts/module/Axl/Dependencies), the first axl.dll found as ./axl.dll, ./cli/axl.dll or
    /// ./artifacts/cli/axl.dll. In the built repository that is &lt;repo&gt;/artifacts/cli/axl.dll.
    /// </summary>
    public static string FindCli()
    {
        if (Environment.GetEnvironmentVariable(CliVariable) is { Length: > 0 } env)
        {
            var candidate = Directory.Exists(env) ? Path.Combine(env, "axl.dll") : env;
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
            throw new FileNotFoundException($"{CliVariable} is set to '{env}', but there is no axl.dll there. Fix: point {CliVariable} at artifacts/cli/axl.dll (build it with `dotnet build`), or unset it.");
        }
        var start = Path.GetDirectoryName(typeof(LocalJobTarget).Assembly.Location) ?? AppContext.BaseDirectory;
        var looked = new List<string>();
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            foreach (var rel in new[] { "axl.dll", Path.Combine("cli", "axl.dll"), Path.Combine("artifacts", "cli", "axl.dll") })
            {
                var f = Path.Combine(dir.FullName, rel);
                if (File.Exists(f)) return f;
                if (looked.Count < 6) looked.Add(f);
            }
        throw new FileNotFoundException($"Cannot find the axl command (axl.dll) that runs local jobs; looked above {start} (e.g. {string.Join(", ", looked.Take(3))}). Fix: build it (`dotnet build` lays it out in artifacts/cli) or set {CliVariable} to its path.");
    }

    /// <summary>The dotnet host that runs axl.dll: $DOTNET_HOST_PATH when set, else dotnet on the PATH.</summary>
    public static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h
        : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? p
        : "dotnet";
}

/// <summary>A local job: the axl process, its log lines and its run record.</summary>
public sealed class LocalJobHandle : IJobHandle
{
    private readonly string _cli;
    private readonly JobSubmitOptions _options;
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _done = new(false);
    private readonly List<string> _plainLines = new();
    private Process? _process;
    private volatile bool _cancelRequested;
    private string? _workflowName;

    internal LocalJobHandle(AxlJobSpec spec, string cli, JobSubmitOptions options)
    {
        Spec = spec;
        _cli = cli;
        _options = options;
        RunId = options.RunId ?? RunStore.NewRunId();
        SubmittedAt = DateTimeOffset.Now;
    }

    public AxlJobSpec Spec { get; }
    public string RunId { get; }
    public JobStatus Status { get; private set; } = JobStatus.Pending;
    public DateTimeOffset SubmittedAt { get; }
    public JobResult? Result { get; private set; }
    /// <summary>The id of the axl process (while it runs, and after).</summary>
    public int? ProcessId { get; private set; }
    /// <summary>When the axl process started (with the id, it tells the process from a later one that reuses the id).</summary>
    public DateTimeOffset? ProcessStartTime { get; private set; }
    public event Action<JobStatus>? StatusChanged;
    public event Action<JobLogLine>? Log;

    /// <summary>The run root the job's run is kept under.</summary>
    public string RunRoot => _options.RunRoot;
    /// <summary>The workflow's name once known (the spec's, else the first log line's), else null.</summary>
    public string? WorkflowName => Result?.Workflow ?? _workflowName ?? Spec.WorkflowName;

    /// <summary>Where the job keeps its spec and parameter file: &lt;run root&gt;/.jobs/&lt;run id&gt;.</summary>
    public string JobDirectory => Path.Combine(_options.RunRoot, ".jobs", RunId);

    internal void Start()
    {
        Directory.CreateDirectory(JobDirectory);
        RunStore.WriteAtomic(Path.Combine(JobDirectory, "spec.json"), Spec.ToJson());
        var psi = new ProcessStartInfo(LocalJobTarget.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = _options.WorkingDirectory,
        };
        foreach (var a in new[] { _cli, "run", "local", Spec.WorkflowReference, "--json", "--log-json", "--run-root", _options.RunRoot, "--run-id", RunId }) psi.ArgumentList.Add(a);
        if (_options.StepPreferences.VerboseOn) psi.ArgumentList.Add("--verbose");
        if (_options.StepPreferences.DebugOn) psi.ArgumentList.Add("--debug");
        var parameters = Spec.EffectiveParameters();
        if (parameters.Count > 0)
        {
            var file = Path.Combine(JobDirectory, "params.json");
            using (var ms = new MemoryStream())
            {
                using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true })) AxlJobSpec.WriteMap(w, parameters);
                RunStore.WriteAtomic(file, System.Text.Encoding.UTF8.GetString(ms.ToArray()));
            }
            psi.ArgumentList.Add("--params");
            psi.ArgumentList.Add(file);
        }
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } line) OnLine(line); };
        p.Start();
        p.StandardInput.Close();
        _process = p;
        ProcessId = p.Id;
        try { ProcessStartTime = p.StartTime; } catch (InvalidOperationException) { }
        var stdout = p.StandardOutput.ReadToEndAsync();
        p.BeginErrorReadLine();
        SetStatus(JobStatus.Running);
        _ = Task.Run(async () =>
        {
            try
            {
                await p.WaitForExitAsync().ConfigureAwait(false);
                p.WaitForExit(); // the stderr reader is drained
                Finish(p.ExitCode, await stdout.ConfigureAwait(false));
            }
            catch (Exception ex)
            {
                Finish(null, "", ex.Message);
            }
        });
    }

    private void OnLine(string line)
    {
        var log = JobLogLine.Parse(line);
        if (!line.StartsWith('{'))
        {
            lock (_plainLines) if (_plainLines.Count < 50) _plainLines.Add(line);
        }
        else if (_workflowName is null)
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("workflow", out var w) && w.ValueKind == JsonValueKind.String) _workflowName = w.GetString();
            }
            catch (JsonException) { }
        }
        try { Log?.Invoke(log); } catch { /* a listener's failure must not stop the reader */ }
    }

    public void Cancel()
    {
        lock (_gate)
        {
            if (Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled) return;
            _cancelRequested = true;
        }
        try { if (_process is not null) StepChildren.KillTree(_process, TimeSpan.FromSeconds(5)); }
        catch (InvalidOperationException) { /* it had exited */ }
    }

    public bool Wait(TimeSpan timeout, CancellationToken cancellation = default) =>
        timeout == Timeout.InfiniteTimeSpan ? _done.Wait(Timeout.Infinite, cancellation) : _done.Wait(timeout, cancellation);

    private void Finish(int? exitCode, string stdout, string? failure = null)
    {
        AxlRun? run = null;
        var dir = ResolveRunDirectory(stdout);
        if (dir is not null)
            try { run = RunStore.Load(dir); }
            catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException) { }
        var status = _cancelRequested ? JobStatus.Cancelled : exitCode == 0 && run?.Status == RunStatus.Succeeded ? JobStatus.Succeeded : JobStatus.Failed;
        if (status == JobStatus.Cancelled && run is { Status: RunStatus.Running } && dir is not null)
        {
            // The process was killed: no clean-up ran. Record the truth in run.json (the step records keep how far it got),
            // under the run's lock: a run that another process is still running (a resume) is not ours to mark.
            try
            {
                using var held = RunLock.TryAcquire(dir, TimeSpan.FromSeconds(2));
                if (held is not null && RunStore.Load(dir) is { Status: RunStatus.Running } current)
                {
                    current.Status = RunStatus.Cancelled;
                    current.EndTime = DateTimeOffset.Now;
                    RunStore.SaveRun(current);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException) { }
        }
        string? error = failure;
        if (status == JobStatus.Cancelled) error ??= $"job '{Spec.Name}' was cancelled; its process was killed.";
        else if (status == JobStatus.Failed)
        {
            var failed = run?.Failed.Select(s => $"step '{s.Name}' failed: {s.Error}").ToList() ?? new List<string>();
            lock (_plainLines) failed.AddRange(_plainLines.Where(l => !l.StartsWith("error Axl.StepFailed", StringComparison.Ordinal)).Take(10));
            error ??= failed.Count > 0 ? string.Join(Environment.NewLine, failed) : $"axl exited with code {exitCode}.";
        }
        var result = new JobResult
        {
            JobName = Spec.Name,
            Status = status,
            ExitCode = exitCode,
            RunId = RunId,
            Workflow = run?.Workflow ?? _workflowName ?? Spec.WorkflowName,
            RunDirectory = run?.Directory ?? dir,
            StartTime = SubmittedAt,
            EndTime = DateTimeOffset.Now,
            Steps = run?.Steps ?? Array.Empty<AxlStepResult>(),
            Artifacts = run?.Steps.Where(s => s.Status == StepStatus.Succeeded && s.OutputPath is not null)
                .ToDictionary(s => s.Name, s => Path.IsPathRooted(s.OutputPath!) ? s.OutputPath! : Path.Combine(s.Directory, Path.GetFileName(s.OutputPath!)))
                ?? new Dictionary<string, string>(),
            Error = error,
            Run = run,
        };
        lock (_gate)
        {
            Result = result;
        }
        SetStatus(status);
        _done.Set();
    }

    private string? ResolveRunDirectory(string stdout)
    {
        if (stdout.TrimStart().StartsWith('{'))
            try
            {
                using var doc = JsonDocument.Parse(stdout);
                if (doc.RootElement.TryGetProperty("workflow", out var w) && w.GetString() is { } wf) _workflowName = wf;
            }
            catch (JsonException) { }
        if (_workflowName is { } name)
        {
            var d = RunStore.RunDirectory(_options.RunRoot, name, RunId);
            if (Directory.Exists(d)) return d;
        }
        return RunStore.List(_options.RunRoot, null, RunId).FirstOrDefault()?.Directory;
    }

    private void SetStatus(JobStatus s)
    {
        lock (_gate)
        {
            if (Status == s || Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled) return;
            Status = s;
        }
        StatusChanged?.Invoke(s);
    }

    public void Dispose()
    {
        _process?.Dispose();
    }
}
