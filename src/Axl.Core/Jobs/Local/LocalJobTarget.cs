using System.Diagnostics;
using System.Text.Json;
using Axl.Runtime;

namespace Axl.Jobs;

/// <summary>
/// Runs a job on this machine in a separate process: `dotnet axl.dll run local &lt;workflow&gt; --json --log-json
/// --run-root R --run-id ID --remedy-style powershell [--params P]`. Log lines stream from its stderr; the result comes
/// from the run record. The process belongs to the session that submitted it: it runs in a process group of its own
/// with a lifeline (<see cref="StepProcess"/>), so it ends (SIGTERM, then SIGKILL after a grace period) when that
/// process ends in any way, even killed; a detached job (<see cref="JobSubmitOptions.Detached"/>) keeps running.
/// Cancel stops it as Ctrl+C stops `axl run local`: SIGTERM first (the run records itself as cancelled, with its real
/// end time), SIGKILL to the group after the grace period.
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
    /// (in the module: &lt;module&gt;/Dependencies), the first axl.dll found as ./axl.dll, ./cli/axl.dll or
    /// ./artifacts/cli/axl.dll: the module's own cli/ folder (the build lays it out there, and a copied or installed
    /// module carries it), or &lt;repo&gt;/artifacts/cli in a built repository; else an axl.dll beside an `axl` on the PATH.
    /// </summary>
    public static string FindCli()
    {
        if (Environment.GetEnvironmentVariable(CliVariable) is { Length: > 0 } env)
        {
            var candidate = Directory.Exists(env) ? Path.Combine(env, "axl.dll") : env;
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
            throw new FileNotFoundException($"{CliVariable} is set to '{env}', but there is no axl.dll there. Fix: point {CliVariable} at an axl.dll (the module's cli folder, or artifacts/cli/axl.dll after `dotnet build`), or unset it.");
        }
        var start = Path.GetDirectoryName(typeof(LocalJobTarget).Assembly.Location) is { Length: > 0 } d ? d : AppContext.BaseDirectory;
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            foreach (var rel in new[] { "axl.dll", Path.Combine("cli", "axl.dll"), Path.Combine("artifacts", "cli", "axl.dll") })
            {
                var f = Path.Combine(dir.FullName, rel);
                if (File.Exists(f)) return f;
            }
        if (FindOnPath() is { } onPath) return onPath;
        var module = new DirectoryInfo(start).Parent?.FullName ?? start;
        throw new FileNotFoundException(
            $"Cannot find the axl command (axl.dll) that runs local jobs. Looked for ${CliVariable}, for cli/axl.dll and artifacts/cli/axl.dll in {start} and every folder above it " +
            $"(e.g. {Path.Combine(module, "cli", "axl.dll")}), and for axl.dll beside an `axl` on the PATH. Fix: reinstall the module with its cli folder (./build.ps1 -Install, " +
            $"or copy all of artifacts/module/Axl), or set {CliVariable} to an axl.dll (artifacts/cli/axl.dll after `dotnet build`).");
    }

    /// <summary>An axl.dll beside an `axl` (or axl.exe) on the PATH, following a symbolic link to where it points.</summary>
    private static string? FindOnPath()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var name in new[] { "axl", "axl.exe" })
            {
                try
                {
                    var file = new FileInfo(Path.Combine(dir, name));
                    if (!file.Exists) continue;
                    var target = file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file;
                    var dll = Path.Combine(target.DirectoryName ?? dir, "axl.dll");
                    if (File.Exists(dll)) return Path.GetFullPath(dll);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException) { }
            }
        return null;
    }

    /// <summary>
    /// What runs axl.dll: $DOTNET_HOST_PATH when set, this process when it is dotnet, dotnet on the PATH; else the
    /// axl program beside the dll (its apphost, which finds the runtime itself) as the program with no dll argument.
    /// </summary>
    public static (string Program, bool TakesDll) Host(string cli)
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h)) return (h, true);
        if (Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return (p, true);
        var exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if ((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, exe))))
            return ("dotnet", true);
        var apphost = Path.Combine(Path.GetDirectoryName(cli)!, OperatingSystem.IsWindows() ? "axl.exe" : "axl");
        return File.Exists(apphost) ? (apphost, false) : ("dotnet", true);
    }
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
    private StepProcess? _step;
    private volatile Task? _stopping;
    private volatile List<int>? _stopTree;
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

    /// <summary>How long a stopped job's axl gets, after SIGTERM, to stop its steps and record the run before SIGKILL.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    /// <summary>True when the process does not end with the session that started it (<see cref="JobSubmitOptions.Detached"/>).</summary>
    public bool Detached => _options.Detached;

    internal void Start()
    {
        Directory.CreateDirectory(JobDirectory);
        RunStore.WriteAtomic(Path.Combine(JobDirectory, "spec.json"), Spec.ToJson());
        var (program, takesDll) = LocalJobTarget.Host(_cli);
        var psi = new ProcessStartInfo(program) { WorkingDirectory = _options.WorkingDirectory };
        if (takesDll) psi.ArgumentList.Add(_cli);
        // Fix hints in what it writes are for the PowerShell user who reads them (Invoke-AxlLocalRun ... -Resume ID).
        foreach (var a in new[] { "run", "local", Spec.WorkflowReference, "--json", "--log-json", "--run-root", _options.RunRoot, "--run-id", RunId, "--remedy-style", Remedies.Name(RemedyStyle.PowerShell) })
            psi.ArgumentList.Add(a);
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
        Process p;
        if (_options.Detached) p = StartDetached(psi);
        else
        {
            // A process group of its own with a lifeline that only this process holds: the job ends with this session.
            _step = StepProcess.Start(psi, stdinPath: null, StopGrace);
            p = _step.Process;
        }
        p.EnableRaisingEvents = true;
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } line) OnLine(line); };
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
                var code = p.ExitCode;
                var output = await stdout.ConfigureAwait(false);
                if (_stopping is { } stopping) await stopping.ConfigureAwait(false); // the group is gone
                // The lifeline closes: what axl left running in its group is ended (SIGTERM, SIGKILL after the grace).
                _step?.Dispose();
                if (_stopTree is { } tree) StepChildren.WaitGone(tree, TimeSpan.FromSeconds(5));
                Finish(code, output);
            }
            catch (Exception ex)
            {
                Finish(null, "", ex.Message);
            }
        });
    }

    /// <summary>
    /// A detached job: a session of its own (setsid, where there is one), so neither the terminal's hang-up nor the end
    /// of this process reaches it; its output still comes here while this process lives (axl ignores a closed pipe).
    /// </summary>
    private static Process StartDetached(ProcessStartInfo psi)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var setsid = OperatingSystem.IsWindows() ? null : new[] { "/usr/bin/setsid", "/bin/setsid", "/usr/local/bin/setsid" }.FirstOrDefault(File.Exists);
        if (setsid is not null)
        {
            psi.ArgumentList.Insert(0, psi.FileName);
            psi.FileName = setsid;
        }
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        return p;
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

    /// <summary>
    /// Stops the job as Ctrl+C stops `axl run local`: SIGTERM to its process group (axl stops its steps and records
    /// the run as cancelled, with the time it stopped), SIGKILL to the group after <see cref="StopGrace"/>. Returns at
    /// once; <see cref="Wait"/> for the end.
    /// </summary>
    public void Cancel()
    {
        lock (_gate)
        {
            if (Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled || _cancelRequested) return;
            _cancelRequested = true;
        }
        var step = _step;
        var process = _process;
        // What runs under it now (its steps' programs, the lifeline's watcher): the job ends once all of it has.
        try { if (process is not null) _stopTree = StepChildren.Tree(process.Id); } catch (InvalidOperationException) { }
        var stopping = new Task(() =>
        {
            try
            {
                if (step is not null) step.Stop(StopGrace);
                else if (process is not null)
                {
                    if (!OperatingSystem.IsWindows() && !process.HasExited && kill(process.Id, 15) == 0 && process.WaitForExit((int)StopGrace.TotalMilliseconds)) return;
                    StepChildren.KillTree(process, TimeSpan.FromSeconds(5));
                }
            }
            catch (InvalidOperationException) { /* it had exited */ }
        });
        _stopping = stopping; // before the signal: the process's end waits for the whole stop
        stopping.Start();
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

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
                    var now = DateTimeOffset.Now;
                    foreach (var s in current.Steps.Where(s => s.Status == StepStatus.Running))
                    {
                        s.Status = StepStatus.Cancelled;
                        s.EndTime = now;
                        s.Error ??= new StepError("cancelled: the job was stopped and its process killed", FailureKind.Cancelled);
                        RunStore.SaveStep(s);
                    }
                    current.Status = RunStatus.Cancelled;
                    current.EndTime = now;
                    RunStore.SaveRun(current);
                    run = current;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException) { }
        }
        string? error = failure;
        if (status == JobStatus.Cancelled)
            error ??= $"job '{Spec.Name}' was stopped" + (run is null ? "." : $"; continue it with: {Remedies.ResumeCommand(RemedyStyle.PowerShell, Spec.WorkflowReference, RunId, _options.RunRoot)}");
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
        if (_step is not null) _step.Dispose(); // closes the lifeline: a job still running ends now
        else _process?.Dispose();
    }
}
