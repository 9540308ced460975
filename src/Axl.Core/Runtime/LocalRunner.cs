using System.Collections;
using System.Globalization;
using Axl.Graph;
using Axl.IO;
using Axl.Model;
using Axl.Runner;
using Axl.Serialization;
using Axl.Validation;

namespace Axl.Runtime;

/// <summary>The workflow does not pass validation, so it is not run. The diagnostics say why.</summary>
public sealed class AxlInvalidWorkflowException(AxlWorkflow workflow, IReadOnlyList<AxlDiagnostic> diagnostics)
    : Exception($"workflow '{workflow.Name}' is not valid: {diagnostics.Count(d => d.IsError)} error(s). First: {diagnostics.First(d => d.IsError)}")
{
    public AxlWorkflow Workflow { get; } = workflow;
    public IReadOnlyList<AxlDiagnostic> Diagnostics { get; } = diagnostics;
}

/// <summary>A run that cannot start: a bad run root, an unknown run to resume, a run of another workflow.</summary>
public sealed class AxlRunException(string message) : Exception(message);

/// <summary>
/// Runs a workflow on this machine: steps in topological order, independent ones in parallel up to the throttle,
/// outputs saved through IO handlers under &lt;root&gt;/&lt;workflow&gt;/&lt;run-id&gt;/&lt;step&gt;/, retries with backoff, timeouts,
/// conditions, resume in place, and reuse of unchanged steps by content key.
/// </summary>
public sealed class LocalRunner
{
    private readonly AxlWorkflow _wf;
    private readonly RunOptions _options;
    private readonly Action<RunEvent>? _onEvent;
    private readonly CancellationToken _ct;
    private readonly object _logGate = new();
    private AxlRun _run = null!;
    private Dictionary<string, AxlStepResult> _results = null!;
    private Dictionary<string, AxlStepResult> _previous = new(StringComparer.OrdinalIgnoreCase);
    private Dictionary<string, object?> _parameters = null!;
    private string? _codeHash;
    private string? _stepKeyCode; // the code in every step's key: the code root with the workflow file's Step commands cut out
    private int _done;
    private StreamWriter? _log;
    private readonly SecretMask _mask = new();
    private ScriptStepHostPool? _hosts;
    private StepCommitter? _commits;
    private RunLock? _lock;
    private readonly object _saveGate = new();
    private bool _aborted;
    private readonly RunTrace? _trace = RunTrace.FromEnvironment();
    private WarmEnv _warm = WarmEnv.None;
    private IReadOnlyDictionary<string, string> _warmEnv = new Dictionary<string, string>();
    private ContainerSteps? _containers;
    private StepFolders _folders = StepFolders.None;

    private LocalRunner(AxlWorkflow wf, RunOptions options, Action<RunEvent>? onEvent, CancellationToken ct)
    {
        _wf = wf;
        _options = options;
        _onEvent = onEvent;
        _ct = ct;
    }

    public static AxlRun Run(AxlWorkflow wf, RunOptions options, Action<RunEvent>? onEvent = null, CancellationToken ct = default)
    {
        var diagnostics = WorkflowValidator.Validate(wf);
        if (diagnostics.Any(d => d.IsError)) throw new AxlInvalidWorkflowException(wf, diagnostics);
        return new LocalRunner(wf, options, onEvent, ct).Execute();
    }

    private AxlRun Execute()
    {
        // In containers: the engine and every image are checked before the run starts (nothing is written when they fail).
        if (_options.Containers is { } containers) _containers = ContainerSteps.Connect(_wf, containers, _options.RunRoot, _ct);
        var tp = RunTrace.Now();
        try { Prepare(); }
        catch
        {
            _log?.Dispose();
            _lock?.Dispose();
            _containers?.Dispose();
            throw;
        }
        tp = _trace?.Add("run: prepare", tp) ?? tp;
        _folders = StepFolders.MakeAhead(_wf.Steps.Select(s => (s.Name, _results[s.Name].Directory)).ToList());
        _hosts = new ScriptStepHostPool(_options.IsolateSteps);
        _commits = new StepCommitter(CommitFailed, _options.SyncFiles, _trace);
        using var abort = _options.Abort.Register(AbortNow);
        try
        {
            Emit(RunEventKind.RunStarted, null, $"run {_run.RunId} of '{_wf.Name}' started ({_wf.StepCount} steps) in {_run.Directory}", "Running");
            if (WarmUp()) Schedule();
            tp = _trace?.Add("run: schedule (all steps)", tp) ?? tp;
            _commits.Flush(); // every step's record written, its artifact durable
            tp = _trace?.Add("run: final flush", tp) ?? tp;
            _run.Status = _results.Values.Any(r => r.Status == StepStatus.Failed) || _uncommitted.Count > 0 ? RunStatus.Failed
                : _results.Values.Any(r => r.Status == StepStatus.Cancelled) || _ct.IsCancellationRequested ? RunStatus.Cancelled
                : RunStatus.Succeeded;
        }
        catch
        {
            _run.Status = RunStatus.Failed;
            throw;
        }
        finally
        {
            _folders.Dispose(); // no folder is made after this
            _commits.Dispose(); // what is queued is written first (after a failure too)
            lock (_saveGate)
            {
                if (!_aborted)
                {
                    _run.EndTime = DateTimeOffset.UtcNow;
                    RunStore.SaveRun(_run);
                }
            }
            tp = _trace?.Add("run: run.json at the end", tp) ?? tp;
            Emit(RunEventKind.RunFinished, null, $"run {_run.RunId} of '{_wf.Name}' {_run.Status.ToString().ToLowerInvariant()} in {_run.Duration?.TotalSeconds:0.0} s", _run.Status.ToString());
            _log?.Dispose();
            CloseCacheJournal();
            _hosts?.Dispose();
            _containers?.Dispose();
            _trace?.Add("run: close (hosts, logs)", tp);
            if (_trace is not null) Console.Error.Write(_trace.Summary(_wf.StepCount));
            _lock?.Dispose(); // last: until here this process is the run's only writer
        }
        return _run;
    }

    /// <summary>A second signal: kill every step's process group now, record the run as cancelled, write nothing more.</summary>
    private void AbortNow()
    {
        StepProcess.KillAll();
        _containers?.KillAll();
        lock (_saveGate)
        {
            if (_aborted) return;
            _aborted = true;
            var now = DateTimeOffset.UtcNow;
            foreach (var r in _run.Steps.Where(r => r.Status == StepStatus.Running))
            {
                r.Status = StepStatus.Cancelled;
                r.Error = new StepError($"step '{r.Name}' was cancelled: the run was aborted (a second interrupt); its processes were killed", FailureKind.Cancelled);
                r.EndTime = now;
                try { RunStore.SaveStep(r); } catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
            }
            _run.Status = RunStatus.Cancelled;
            _run.EndTime = now;
            try { RunStore.SaveRun(_run); } catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
    }

    private void Prepare()
    {
        string runId;
        IDictionary? previousParameters = null;
        var resumes = 0;
        if (_options.Resume is { } resume)
        {
            var dir = RunStore.RunDirectory(_options.RunRoot, _wf.Name, resume);
            if (!File.Exists(Path.Combine(dir, RunStore.RunFile)))
            {
                var known = RunStore.List(_options.RunRoot, _wf.Name).Take(5).Select(r => r.RunId).ToList();
                throw new AxlRunException($"there is no run '{resume}' of workflow '{_wf.Name}' under {_options.RunRoot}." +
                    (known.Count > 0 ? $" Recent runs: {string.Join(", ", known)}." : " It has no runs there yet.") + " Fix: pass a run id from Get-AxlRun (or the run directory's name).");
            }
            // One run, one writer: a second resume of a run that is going on is refused before it touches anything.
            _lock = RunLock.Acquire(dir, resume, _wf.Name);
            // Under the lock no one else writes here: temp files are what a killed writer left. Remove them (run records
            // and every step's folder; a step that runs again cleans its own folder anyway).
            ArtifactIO.CleanTemporaryFiles(dir);
            foreach (var s in _wf.Steps) ArtifactIO.CleanTemporaryFiles(Path.Combine(dir, s.Name));
            var previous = RunStore.Load(dir);
            foreach (var s in previous.Steps) _previous[s.Name] = s;
            previousParameters = new Hashtable(StringComparer.OrdinalIgnoreCase);
            foreach (var kv in previous.Parameters) previousParameters[kv.Key] = kv.Value;
            runId = previous.RunId;
            resumes = previous.Resumes + 1;
        }
        else
        {
            runId = _options.RunId ?? RunStore.NewRunId();
            if (Directory.Exists(RunStore.RunDirectory(_options.RunRoot, _wf.Name, runId)))
                throw new AxlRunException($"run '{runId}' of workflow '{_wf.Name}' already exists under {_options.RunRoot}. Fix: choose another {Remedies.RunIdOption(_options.Remedies)}, or {Remedies.ResumeOption(_options.Remedies, runId)} to continue it.");
        }

        // Parameters: the resumed run's values, then the file, then explicit values.
        var explicitValues = new Hashtable(StringComparer.OrdinalIgnoreCase);
        if (previousParameters is not null)
            foreach (DictionaryEntry e in previousParameters)
                if (_wf.Parameters.FirstOrDefault(p => p.Name.Equals((string)e.Key, StringComparison.OrdinalIgnoreCase)) is { Sensitive: false })
                    explicitValues[e.Key] = e.Value; // a sensitive value was never kept: it must be given again
        var fromFile = _options.ParametersFile is null ? null : ParameterResolver.ReadFile(_options.ParametersFile);
        if (fromFile is not null) foreach (var (k, v) in fromFile) explicitValues[k] = v;
        if (_options.Parameters is not null) foreach (DictionaryEntry e in _options.Parameters) explicitValues[e.Key] = e.Value;
        if (previousParameters is not null)
        {
            var missing = _wf.Parameters.Where(p => p.Sensitive && !explicitValues.ContainsKey(p.Name)).Select(p => p.Name).ToList();
            if (missing.Count > 0)
                throw new AxlParameterException($"run '{runId}' of workflow '{_wf.Name}' cannot be resumed without its sensitive parameter{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"'{m}'"))}: sensitive values are not kept in the run record. Fix: give {(missing.Count > 1 ? "them" : "it")} again ({Remedies.ResumeWithParameter(_options.Remedies, runId, missing[0])}).");
        }
        _parameters = ParameterResolver.Resolve(_wf, null, explicitValues);
        foreach (var p in _wf.Parameters.Where(p => p.Sensitive))
            _mask.Add(Convert.ToString(_parameters.GetValueOrDefault(p.Name), CultureInfo.InvariantCulture));

        // The code the run starts with, once: every step's key has it (a changed helper or top-level function is not
        // reused), and a run root inside the code root is left out (its own outputs are not code).
        var tq = RunTrace.Now();
        _codeHash = _wf.CodeHashFor(null, new[] { _options.RunRoot });
        _stepKeyCode = _wf.CodeRoot is { } codeRoot && _wf.SourceFile is { } source
            ? Hashing.CodeTreeHasher.ComputeForStepKeys(codeRoot, source, new[] { _options.RunRoot }) : null;
        tq = _trace?.Add("prepare: code hashes", tq) ?? tq;
        var runDir = RunStore.RunDirectory(_options.RunRoot, _wf.Name, runId);
        Directory.CreateDirectory(runDir);
        if (_lock is null)
        {
            _lock = RunLock.Acquire(runDir, runId, _wf.Name); // a new run: two starts with one -RunId cannot both write it
            if (File.Exists(Path.Combine(runDir, RunStore.RunFile)))
                throw new AxlRunException($"run '{runId}' of workflow '{_wf.Name}' already exists under {_options.RunRoot}. Fix: choose another {Remedies.RunIdOption(_options.Remedies)}, or {Remedies.ResumeOption(_options.Remedies, runId)} to continue it.");
        }
        _results = new Dictionary<string, AxlStepResult>(StringComparer.OrdinalIgnoreCase);
        var list = new List<AxlStepResult>();
        if (_wf.Options.WarmEnv)
        {
            // The synthetic first step: in the run's records (step.json, Get-AxlRun, progress, report), not in the DAG.
            var warm = new AxlStepResult { Name = WarmEnvironment.StepName, Directory = Path.Combine(runDir, WarmEnvironment.StepName) };
            _results[warm.Name] = warm;
            list.Add(warm);
        }
        foreach (var s in _wf.Steps)
        {
            var r = new AxlStepResult { Name = s.Name, Directory = Path.Combine(runDir, s.Name) };
            _results[s.Name] = r;
            list.Add(r);
        }
        _run = new AxlRun
        {
            RunId = runId,
            Workflow = _wf.Name,
            WorkflowHash = Hashing.CodeTreeHasher.Combine(_wf.DefinitionHash, _codeHash),
            SourceFile = _wf.SourceFile,
            StartTime = DateTimeOffset.UtcNow,
            Directory = runDir,
            Parameters = _wf.Parameters.ToDictionary(p => p.Name, p => p.Sensitive && _parameters.GetValueOrDefault(p.Name) is not null ? AxlParameter.Masked : _parameters.GetValueOrDefault(p.Name), StringComparer.OrdinalIgnoreCase),
            Steps = list,
            Resumes = resumes,
        };
        _log = new StreamWriter(new FileStream(Path.Combine(runDir, "log.jsonl"), FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        tq = _trace?.Add("prepare: records", tq) ?? tq;
        RunStore.SaveRun(_run);
        tq = _trace?.Add("prepare: run.json", tq) ?? tq;
        try { Visual.WorkflowDag.FromWorkflow(_wf).Save(runDir); } // for the run's report; a run does not fail for a picture
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        _trace?.Add("prepare: DAG for the report", tq);
    }

    // ---- warm environment ---------------------------------------------------------------------------------

    private StepPackageOptions PackageOptions => _options.Packages ?? StepPackageOptions.FromEnvironment(_options.RunRoot);

    /// <summary>
    /// -WarmEnv: the synthetic step <see cref="WarmEnvironment.StepName"/> builds (or finds in the cache) the Python
    /// environment and saves the steps' modules, once, before any user step. False when it failed: every user step is
    /// then skipped and the run fails with its message. A resumed run does it again (a cache hit: nothing installed).
    /// </summary>
    private bool WarmUp()
    {
        if (!_wf.Options.WarmEnv) return true;
        var name = WarmEnvironment.StepName;
        var r = _results[name];
        Directory.CreateDirectory(r.Directory);
        r.Status = StepStatus.Running;
        r.StartTime = DateTimeOffset.UtcNow;
        r.EndTime = null;
        r.Error = null;
        r.Attempts++;
        RunStore.SaveStep(r);
        Emit(RunEventKind.StepStarted, name, $"step '{name}' started", "Running");
        void Log(string text) => Emit(RunEventKind.StepLog, name, text, "Running", new StepStreamRecord(StepStream.Information, text));
        try
        {
            _warm = WarmEnvironment.Prepare(_wf, PackageOptions, Log);
            _warmEnv = _warm.Environment();
            Log(_warm.Summary);
            r.Status = StepStatus.Succeeded;
            r.EndTime = DateTimeOffset.UtcNow;
            RunStore.SaveStep(r);
            Emit(RunEventKind.StepSucceeded, name, $"step '{name}' succeeded in {r.Duration?.TotalMilliseconds:0} ms: {_warm.Summary}", "Succeeded");
            return true;
        }
        catch (Exception ex) when (ex is AxlWarmEnvException or IOException or UnauthorizedAccessException)
        {
            r.Status = StepStatus.Failed;
            r.Error = ex is AxlWarmEnvException
                ? new StepError(ex.Message, FailureKind.User, _wf.SourceFile, _wf.Location.Line)
                : new StepError($"{name}: the environment could not be written to the package cache ({PackageOptions.CacheRoot}): {ex.Message}. Fix: make the folder writable, or point {StepPackageOptions.CacheVariable} elsewhere.", FailureKind.Infrastructure, _wf.SourceFile, _wf.Location.Line);
            r.EndTime = DateTimeOffset.UtcNow;
            RunStore.SaveStep(r);
            Emit(RunEventKind.StepFailed, name, $"step '{name}' failed: {r.Error}", "Failed");
            foreach (var s in _wf.Steps) MarkSkipped(s, StepStatus.Skipped, $"the warm environment ({name}) failed");
            return false;
        }
    }

    // ---- scheduling -------------------------------------------------------------------------------------

    private void Schedule()
    {
        var steps = _wf.Steps;
        var index = new Dictionary<string, int>(steps.Count, StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < steps.Count; i++) index[steps[i].Name] = i;
        var pending = new int[steps.Count];
        var blocked = new string?[steps.Count];
        for (int i = 0; i < steps.Count; i++) pending[i] = steps[i].Upstream.Count;

        var ready = new PriorityQueue<int, int>();
        var finished = new Queue<int>();
        for (int i = 0; i < steps.Count; i++) if (pending[i] == 0) Arrive(i);

        // Workers, up to the throttle: each takes the next ready step, runs it, releases the steps after it and takes the
        // next, on its own thread: no hand-off to a scheduler and back per step. This thread is the first worker; another
        // starts when a worker leaves ready steps behind and fewer than the throttle run. A chain runs on this thread alone.
        var throttle = Math.Max(1, _options.ThrottleLimit);
        var gate = new object();
        var workers = new List<Task>();
        var running = 0;
        Exception? bug = null;
        ReleaseFinished(); // steps skipped as they arrived (a false condition on a first step)
        Work();
        while (true) // the others end once nothing runs and nothing is ready, or after a bug
        {
            Task[] others;
            lock (gate) others = workers.Where(w => !w.IsCompleted).ToArray();
            if (others.Length == 0) break;
            Task.WaitAll(others);
        }
        if (bug is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(bug).Throw(); // RunStep never throws for step failures: a real bug

        void Work()
        {
            try { WorkLoop(); }
            catch (Exception ex) // a bug (records or events could not be written): every worker stops, the first one throws it
            {
                lock (gate) { bug ??= ex; Monitor.PulseAll(gate); }
            }
        }

        void WorkLoop()
        {
            while (true)
            {
                int i;
                lock (gate)
                {
                    while (true)
                    {
                        if (bug is not null) return;
                        if (ready.Count > 0 && _ct.IsCancellationRequested)
                        {
                            while (ready.TryDequeue(out var c, out _)) { MarkSkipped(steps[c], StepStatus.Cancelled, "the run was cancelled before the step started"); finished.Enqueue(c); }
                            ReleaseFinished();
                            continue;
                        }
                        if (ready.Count > 0)
                        {
                            i = ready.Dequeue();
                            running++;
                            if (ready.Count > 0 && workers.Count + 1 < throttle) // more ready than this worker takes: one more worker
                                workers.Add(Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
                            break;
                        }
                        if (running == 0) { Monitor.PulseAll(gate); return; } // nothing runs, nothing is ready: the run is through
                        Monitor.Wait(gate);
                    }
                }
                try { RunStep(steps[i]); }
                catch
                {
                    lock (gate) running--;
                    throw;
                }
                lock (gate)
                {
                    running--;
                    finished.Enqueue(i);
                    ReleaseFinished();
                    Monitor.PulseAll(gate);
                }
            }
        }

        void ReleaseFinished()
        {
            var released = RunTrace.Now();
            while (finished.TryDequeue(out var f)) Release(f);
            _trace?.Add("scheduler: release, arrive", released);
        }

        // Anything never reached (a cancelled run) is cancelled.
        foreach (var s in steps)
            if (_results[s.Name].Status is StepStatus.Pending) MarkSkipped(s, StepStatus.Cancelled, "the run was cancelled before the step started");

        void Release(int f)
        {
            var step = steps[f];
            var status = _results[step.Name].Status;
            foreach (var to in _wf.OutgoingEdges(step.Name).Select(e => e.To).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                int t = index[to];
                if (status != StepStatus.Succeeded && blocked[t] is null)
                {
                    var dataEdge = _wf.OutgoingEdges(step.Name).Any(e => e.To.Equals(to, StringComparison.OrdinalIgnoreCase) && e.Kind == EdgeKind.Data);
                    var conditionSkip = status == StepStatus.Skipped && _results[step.Name].SkipReason?.StartsWith("condition", StringComparison.Ordinal) == true;
                    if (dataEdge || !conditionSkip)
                        blocked[t] = $"upstream step '{step.Name}' {Describe(status)}";
                }
                if (--pending[t] == 0) Arrive(t);
            }
        }

        void Arrive(int i)
        {
            var step = steps[i];
            if (blocked[i] is { } reason)
            {
                MarkSkipped(step, _ct.IsCancellationRequested ? StepStatus.Cancelled : StepStatus.Skipped, reason);
                finished.Enqueue(i);
                return;
            }
            if (_ct.IsCancellationRequested)
            {
                MarkSkipped(step, StepStatus.Cancelled, "the run was cancelled before the step started");
                finished.Enqueue(i);
                return;
            }
            if (step.Condition is { } condition)
            {
                bool pass;
                try
                {
                    pass = ConditionEvaluator.Evaluate(condition, name => ArtifactIO.Load(_results[name].Directory), _parameters);
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException or FormatException)
                {
                    var r = _results[step.Name];
                    r.Status = StepStatus.Failed;
                    r.Error = new StepError($"the condition '{step.Condition}' could not be evaluated: {ex.Message}", FailureKind.User, step.Location.File, step.Location.Line);
                    r.StartTime = r.EndTime = DateTimeOffset.UtcNow;
                    Record(r);
                    Emit(RunEventKind.StepFailed, step.Name, r.Error.ToString(), "Failed");
                    finished.Enqueue(i);
                    return;
                }
                if (!pass)
                {
                    MarkSkipped(step, StepStatus.Skipped, $"condition '{step.Condition}' is false");
                    finished.Enqueue(i);
                    return;
                }
            }
            ready.Enqueue(i, i);
        }
    }

    private static string Describe(StepStatus s) => s switch
    {
        StepStatus.Failed => "failed",
        StepStatus.Skipped => "was skipped",
        StepStatus.Cancelled => "was cancelled",
        _ => s.ToString().ToLowerInvariant(),
    };

    private void MarkSkipped(AxlStep step, StepStatus status, string reason)
    {
        var r = _results[step.Name];
        r.Status = status;
        r.SkipReason = reason;
        r.Error = null;
        Record(r);
        Interlocked.Increment(ref _done);
        Emit(RunEventKind.StepSkipped, step.Name, $"step '{step.Name}' {(status == StepStatus.Cancelled ? "cancelled" : "skipped")}: {reason}", status.ToString());
    }

    // ---- one step -----------------------------------------------------------------------------------------

    private void RunStep(AxlStep step)
    {
        var t = RunTrace.Now();
        var r = _results[step.Name];
        // A new run's step folder is new: nothing to clean. One that exists (a resumed run, a retry of the run) may hold
        // what a killed writer left. Most are made new ahead of their steps, on another thread.
        var fresh = _folders.Claim(step.Name);
        if (!fresh)
        {
            fresh = !Directory.Exists(r.Directory);
            Directory.CreateDirectory(r.Directory);
        }
        if (!fresh) ArtifactIO.CleanTemporaryFiles(r.Directory);
        r.Status = StepStatus.Running;
        r.StartTime = DateTimeOffset.UtcNow;
        r.EndTime = null;
        r.Error = null;
        r.ReusedFrom = null;
        _previous.TryGetValue(step.Name, out var prev);
        r.Attempts = prev?.Attempts ?? 0;
        r.AttemptList.Clear();
        if (prev is not null) r.AttemptList.AddRange(prev.AttemptLog);

        Bound invocation;
        try
        {
            t = _trace?.Add("directory", t) ?? t;
            invocation = Bind(step, r);
            t = _trace?.Add("bind (manifest, inputs, key)", t) ?? t;
        }
        catch (AxlInputException ex)
        {
            Finish(step, r, StepStatus.Failed, new StepError(ex.Message, ex.Kind, step.Location.File, step.Location.Line));
            return;
        }

        // Reuse: the same step with the same inputs already produced this output.
        if (prev is { Status: StepStatus.Succeeded } && (prev.Key == r.Key || (r.LegacyKey is not null && prev.Key == r.LegacyKey))
            && ArtifactIO.IsComplete(r.Directory, verifyHash: true))
        {
            Reuse(step, r, "resume", r.Directory);
            return;
        }
        if (_options.Cache && FindCached(r.Key!) is { } cachedDir && !SameDirectory(cachedDir, r.Directory))
        {
            try
            {
                CopyArtifact(cachedDir, r.Directory);
                Reuse(step, r, "cache", cachedDir);
                return;
            }
            catch (IOException) { /* fall through and compute it */ }
        }

        // Secrets are read now, when the step runs, and live only in its environment.
        IReadOnlyDictionary<string, string> secretEnv;
        try
        {
            secretEnv = step.Secrets.Count == 0 ? new Dictionary<string, string>() : SecretResolver.Resolve(step);
            foreach (var v in secretEnv.Values) _mask.Add(v);
        }
        catch (AxlSecretException ex)
        {
            Finish(step, r, StepStatus.Failed, new StepError(ex.Message, FailureKind.User, step.Location.File, step.Location.Line));
            return;
        }

        // Packages: installed (or found in the cache) before the step runs; missing and not installable fails it here.
        PreparedPackages packages;
        try
        {
            var packageOptions = _warmEnv.TryGetValue("PATH", out var warmPath) ? PackageOptions with { SearchPath = warmPath } : PackageOptions;
            // In a container the image has the packages (Build-AxlImage bakes them); nothing is installed here.
            packages = _containers is not null ? PreparedPackages.None : StepPackages.Prepare(_wf, step, packageOptions,
                text => Emit(RunEventKind.StepLog, step.Name, text, "Running", new StepStreamRecord(StepStream.Information, text)));
        }
        catch (AxlPackageException ex)
        {
            Finish(step, r, StepStatus.Failed, new StepError(ex.Message, FailureKind.User, step.Location.File, step.Location.Line));
            return;
        }
        var packageEnv = _warmEnv.Count == 0 ? packages.Environment()
            : _warmEnv.Concat(packages.Environment()).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

        if (!fresh) DeleteMetadata(r.Directory);
        t = _trace?.Add("reuse check, secrets", t) ?? t;
        Emit(RunEventKind.StepStarted, step.Name, $"step '{step.Name}' started", "Running");
        t = _trace?.Add("event StepStarted", t) ?? t;
        var maxAttempts = Math.Max(0, step.Retries) + 1;
        StepError? error = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++)
        {
            r.Attempts++;
            var attemptStart = DateTimeOffset.UtcNow;
            r.AttemptList.Add(new StepAttempt(r.Attempts, attemptStart, null, "Running"));
            RecordRunning(r); // a crash mid-attempt still counts it (and shows it running)
            t = _trace?.Add("step.json before the attempt", t) ?? t;
            var inv = new StepInvocation
            {
                Workflow = _wf, Step = step, Arguments = WithAttempt(invocation.Binding.Arguments, attempt), Placeholders = invocation.Binding.Placeholders,
                StdinPath = invocation.Binding.StdinPath, OutputDirectory = r.Directory, RunId = _run.RunId, Attempt = attempt,
                KillGrace = _options.KillGrace, WorkingDirectory = invocation.WorkingDirectory,
                Streams = record => Emit(RunEventKind.StepLog, step.Name, record.Message, "Running", record),
                Preferences = _options.Preferences,
                SecretEnvironment = secretEnv,
                PackageEnvironment = packageEnv,
                Mask = _mask.IsEmpty ? null : _mask.Apply,
            };
            StepAttemptResult result;
            try
            {
                result = _containers is not null ? _containers.Run(ContainerCall(inv, invocation), _ct)
                    : step.Kind == StepKind.Command ? CommandStepExecutor.Run(inv, _ct) : _hosts!.Run(inv, _ct);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                result = StepAttemptResult.Fail(new StepError($"the step could not be run: {ex.GetType().Name}: {ex.Message}", FailureKind.Infrastructure, step.Location.File, step.Location.Line));
            }
            r.AttemptList[^1] = new StepAttempt(r.Attempts, attemptStart, DateTimeOffset.UtcNow,
                result.Success ? "Succeeded" : result.Error!.Kind.ToString(), result.Success ? null : MaskText(result.Error!.Message));
            t = _trace?.Add("step host run", t) ?? t;
            if (result.Success)
            {
                try
                {
                    // Not synced here: the committer makes it durable with the other steps' outputs before it records
                    // the step as done; the steps after this one read it from the page cache meanwhile.
                    var meta = StepRunner.SaveOutput(invocation.Manifest, step, result, durable: false);
                    if (_containers is not null) ContainerSteps.RemoveStaging(r.Directory);
                    t = _trace?.Add("artifact saved", t) ?? t;
                    r.OutputPath = Path.Combine(r.Directory, meta.File);
                    r.OutputHandler = meta.IoHandler;
                    r.OutputSize = meta.Size;
                    r.OutputHash = meta.Sha256;
                    _savedHere[step.Name] = meta;
                    var output = r.OutputPath;
                    Finish(step, r, StepStatus.Succeeded, null, StepRunner.OutputFiles(invocation.Manifest, meta),
                        beforeRecord: _options.UseHash ? () => ContentStore.Adopt(_options.RunRoot, output, meta.Sha256) : null,
                        afterRecord: () => WriteCacheEntry(r));
                    _trace?.Add("step done (record queued), event", t);
                    return;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    error = new StepError($"the output of step '{step.Name}' could not be written with the '{step.IoHandler}' IO handler: {ex.Message}. Fix: return a value that handler can write, or choose another -IoHandler.", FailureKind.User, step.Location.File, step.Location.Line);
                    break; // the same value would fail again
                }
            }
            error = result.Error!;
            if (error.Kind == FailureKind.Cancelled || _ct.IsCancellationRequested) break;
            if (result.Abandoned) break; // it may still be running: no attempt on top of it
            if (attempt < maxAttempts)
            {
                var delay = TimeSpan.FromTicks(Math.Min(_options.MaxRetryBackoff.Ticks, _options.RetryBackoff.Ticks * (1L << Math.Min(20, attempt - 1))));
                Emit(RunEventKind.StepRetrying, step.Name, $"step '{step.Name}' attempt {attempt} of {maxAttempts} failed: {error.Message}; retrying in {delay.TotalSeconds:0.###} s", "Retrying");
                if (_ct.WaitHandle.WaitOne(delay)) break;
            }
        }
        var cancelled = error?.Kind == FailureKind.Cancelled || _ct.IsCancellationRequested;
        Finish(step, r, cancelled ? StepStatus.Cancelled : StepStatus.Failed, error);
    }

    /// <summary>The attempt as <see cref="ContainerSteps.Run"/> takes it: the same step, inputs (the upstream steps' folders of this run), parameters, secrets and streams.</summary>
    private ContainerStepCall ContainerCall(StepInvocation inv, Bound invocation) => new()
    {
        Step = inv.Step,
        RunId = _run.RunId,
        Attempt = inv.Attempt,
        OutputDirectory = inv.OutputDirectory,
        InputDirectory = up => _results[up.Name].Directory,
        Parameters = _parameters,
        SecretEnvironment = inv.SecretEnvironment,
        KillGrace = inv.KillGrace,
        Preferences = inv.Preferences,
        Streams = inv.Streams,
        Mask = inv.Mask,
    };

    private string MaskText(string text) => _mask.IsEmpty ? text : _mask.Apply(text);

    /// <summary>The arguments with $AxlContext.Attempt set to this attempt's number.</summary>
    private static IReadOnlyDictionary<string, object?> WithAttempt(IReadOnlyDictionary<string, object?> arguments, int attempt)
    {
        if (!arguments.Values.Any(v => v is AxlStepContext c && c.Attempt != attempt)) return arguments;
        var copy = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in arguments) copy[k] = v is AxlStepContext c ? c with { Attempt = attempt } : v;
        return copy;
    }

    /// <summary>
    /// The artifacts this run wrote itself (hashed while written, then only read), by step: the steps after them load
    /// them with this metadata, without reading it from disk or hashing the data again. Artifacts from a resumed run or
    /// the cache are not in it; they are verified when loaded.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ArtifactMetadata> _savedHere = new(StringComparer.OrdinalIgnoreCase);

    private sealed record Bound(StepManifest Manifest, StepBinding Binding, string? WorkingDirectory);

    /// <summary>
    /// The step's content key: its definition, its inputs (upstream outputs by their SHA-256, parameter values, constants)
    /// and the code around it. BLAKE3; <paramref name="legacy"/> gives the SHA-256 key Axl recorded before.
    /// </summary>
    private string StepKey(AxlStep step, bool legacy)
    {
        var keyInputs = new List<object?>();
        foreach (var b in step.Inputs)
        {
            switch (b.Source)
            {
                case BindingSource.Step:
                    var up = _results[b.SourceName!];
                    keyInputs.Add(new Dictionary<string, object?> { ["name"] = b.Name, ["step"] = up.Name, ["sha256"] = up.OutputHash, ["mode"] = b.Mode.ToString() });
                    break;
                case BindingSource.Parameter:
                    var value = _parameters.GetValueOrDefault(b.SourceName!);
                    // A sensitive value enters the key only as a hash of it (the key is kept in step.json and names cache files).
                    if (_wf.Parameters.FirstOrDefault(p => p.Name.Equals(b.SourceName, StringComparison.OrdinalIgnoreCase)) is { Sensitive: true })
                    {
                        var secret = System.Text.Encoding.UTF8.GetBytes("axl-sensitive\n" + b.SourceName + "\n" + IrDocument.ToJson(value, indented: false));
                        value = legacy ? Hashing.ContentHash.OfLegacy(secret) : Hashing.ContentHash.Of(secret);
                    }
                    keyInputs.Add(new Dictionary<string, object?> { ["name"] = b.Name, ["parameter"] = b.SourceName, ["value"] = value });
                    break;
                case BindingSource.Constant:
                    keyInputs.Add(new Dictionary<string, object?> { ["name"] = b.Name, ["value"] = b.Constant });
                    break;
            }
        }
        var key = new Dictionary<string, object?>
        {
            ["step"] = IrDocument.Step(step, includeLocations: false),
            ["inputs"] = keyInputs,
        };
        var code = legacy ? LegacyStepKeyCode : _stepKeyCode;
        if (code is not null) key["code"] = code;
        return IrDocument.Hash(key, legacy);
    }

    private string? _legacyStepKeyCode;
    private bool _legacyStepKeyCodeDone;

    /// <summary>The code part of a SHA-256 step key (for runs recorded before BLAKE3), computed once when needed.</summary>
    private string? LegacyStepKeyCode
    {
        get
        {
            if (_legacyStepKeyCodeDone) return _legacyStepKeyCode;
            _legacyStepKeyCode = _wf.CodeRoot is { } codeRoot && _wf.SourceFile is { } source
                ? Hashing.CodeTreeHasher.ComputeForStepKeys(codeRoot, source, new[] { _options.RunRoot }, legacy: true) : null;
            _legacyStepKeyCodeDone = true;
            return _legacyStepKeyCode;
        }
    }

    /// <summary>The step's manifest (the same contract the container runner reads), its bound inputs, and its content key.</summary>
    private Bound Bind(AxlStep step, AxlStepResult r)
    {
        var workdir = _wf.SourceFile is { } f ? Path.GetDirectoryName(Path.GetFullPath(f)) : null;
        var manifest = ManifestBuilder.For(_wf, step, new ManifestLayout
        {
            InputDirectory = up => _results[up.Name].Directory,
            OutputDirectory = s => _results[s.Name].Directory,
            ParameterValue = p => Convert.ToString(_parameters.GetValueOrDefault(p.Name), CultureInfo.InvariantCulture),
            WorkflowFile = _wf.SourceFile ?? "",
            WorkDir = workdir,
            RunId = _run.RunId,
        });
        var binding = StepRunner.Bind(manifest, _wf, step, _parameters, saved: name => _savedHere.GetValueOrDefault(name));
        r.Key = StepKey(step, legacy: false);
        // A run recorded before keys were BLAKE3 has SHA-256 keys: recompute this step's key that way to reuse its output.
        if (_previous.TryGetValue(step.Name, out var prev) && Hashing.ContentHash.IsLegacy(prev.Key))
            r.LegacyKey = StepKey(step, legacy: true);
        return new Bound(manifest, binding, workdir);
    }

    private void Reuse(AxlStep step, AxlStepResult r, string from, string sourceDir)
    {
        var meta = ArtifactIO.ReadMetadata(r.Directory)!;
        var data = Path.Combine(r.Directory, meta.File);
        r.ReusedFrom = from;
        r.OutputPath = Path.Combine(r.Directory, meta.File);
        r.OutputHandler = meta.IoHandler;
        r.OutputSize = meta.Size;
        r.OutputHash = meta.Sha256;
        r.Status = StepStatus.Succeeded;
        r.EndTime = DateTimeOffset.UtcNow;
        // A copy from the cache is new bytes of this run: durable before the step is recorded (and linked into the store).
        if (from == "cache")
            Record(r, new[] { data }, beforeRecord: _options.UseHash ? () => ContentStore.Adopt(_options.RunRoot, data, meta.Sha256) : null);
        else
            Record(r);
        Interlocked.Increment(ref _done);
        Emit(RunEventKind.StepReused, step.Name, $"step '{step.Name}' reused its output from {(from == "cache" ? "the cache (" + sourceDir + ")" : "the run being resumed")}: code and inputs unchanged", "Succeeded");
    }

    private void Finish(AxlStep step, AxlStepResult r, StepStatus status, StepError? error,
        IReadOnlyList<string>? durable = null, Action? beforeRecord = null, Action? afterRecord = null)
    {
        if (error is not null && !_mask.IsEmpty) error = error with { Message = _mask.Apply(error.Message), ScriptLine = error.ScriptLine is null ? null : _mask.Apply(error.ScriptLine) };
        r.Status = status;
        r.Error = error;
        r.EndTime = DateTimeOffset.UtcNow;
        Record(r, durable, beforeRecord, afterRecord);
        Interlocked.Increment(ref _done);
        if (status == StepStatus.Succeeded)
            Emit(RunEventKind.StepSucceeded, step.Name, $"step '{step.Name}' succeeded in {r.Duration?.TotalMilliseconds:0} ms ({r.OutputSize} bytes, {r.OutputHandler})", "Succeeded");
        else
            Emit(RunEventKind.StepFailed, step.Name, $"step '{step.Name}' {status.ToString().ToLowerInvariant()} after {r.Attempts} attempt(s): {error}", status.ToString());
    }

    /// <summary>
    /// Records a finished step (step.json) through the committer: after <paramref name="durable"/> are on disk and after
    /// the records of the steps that finished before it. The step is done in memory at once (the scheduler releases the
    /// steps after it); only its record waits. <paramref name="r"/> is not changed after it is handed in.
    /// <paramref name="beforeRecord"/> runs just before step.json is written (the store link: made only for durable
    /// bytes), <paramref name="afterRecord"/> just after (the cache journal line: it vouches for a recorded step only).
    /// </summary>
    private void Record(AxlStepResult r, IReadOnlyList<string>? durable = null, Action? beforeRecord = null, Action? afterRecord = null)
    {
        _commits!.Commit(r.Name, durable ?? Array.Empty<string>(), () =>
        {
            // Records are written in the order steps finished, so an upstream step's failed commit is known here.
            if (_wf.GetStep(r.Name)?.Upstream.FirstOrDefault(_uncommitted.Contains) is { } up)
            {
                CommitFailed(r.Name, new IOException($"its upstream step '{up}' is not recorded"));
                return false;
            }
            lock (_saveGate)
            {
                if (_aborted) return false; // a second interrupt: nothing more is written
                beforeRecord?.Invoke();
                RunStore.SaveStep(r);
            }
            afterRecord?.Invoke();
            return true;
        });
    }

    /// <summary>
    /// Records a step as running (its attempt counted) through the committer, as it is now: in order with the other
    /// records, off this thread, and not at all when the step's final record is written in the same batch (a short step:
    /// its step.json is written once). A step that runs longer than a batch is shown running while it runs, and a crash
    /// during its attempt still counts the attempt.
    /// </summary>
    private void RecordRunning(AxlStepResult r)
    {
        var record = RunStore.StepRecord(r);
        var dir = r.Directory;
        _commits!.CommitProvisional(r.Name, () =>
        {
            lock (_saveGate)
            {
                if (_aborted) return; // a second interrupt: nothing more is written
                RunStore.SaveStep(dir, record);
            }
        });
    }

    /// <summary>Steps whose record was not written (their files could not be made durable); only the committer's thread uses it.</summary>
    private readonly HashSet<string> _uncommitted = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A step whose output could not be made durable (or whose record could not be written) is not recorded as done, nor
    /// is any step after it: they run again on resume, and the run ends as failed.
    /// </summary>
    private void CommitFailed(string step, Exception ex)
    {
        _uncommitted.Add(step);
        var text = $"step '{step}' finished, but it could not be recorded as done ({ex.Message}); it runs again when the run is resumed";
        Emit(RunEventKind.StepLog, step, text, _results[step].Status.ToString(), new StepStreamRecord(StepStream.Warning, text));
    }

    // ---- cache ------------------------------------------------------------------------------------------------

    private string CacheDirectory => Path.Combine(RunStore.WorkflowDirectory(_options.RunRoot, _wf.Name), ".cache");

    /// <summary>A cache entry of an older Axl: one file per key (still read).</summary>
    private string CacheFile(string key) => Path.Combine(CacheDirectory, Hashing.ContentHash.Hex(key) + ".json");

    /// <summary>This run's cache journal: one JSON line per finished step (key, directory, hash), appended as steps end.</summary>
    private string CacheJournal => Path.Combine(CacheDirectory, _run.RunId + CacheJournalSuffix);

    private const string CacheJournalSuffix = ".cache.jsonl";
    private readonly object _cacheGate = new();
    private StreamWriter? _cacheWriter;
    private Dictionary<string, string>? _cacheIndex;

    /// <summary>
    /// Records the finished step's key and folder in the run's cache journal: an append to one open file, not a file per
    /// step. An optimisation: a line lost in a crash (or torn) only means a recomputation, and every hit is verified
    /// (the artifact complete, its SHA-256 matching) before it is reused.
    /// </summary>
    private void WriteCacheEntry(AxlStepResult r)
    {
        if (r.Key is null) return;
        var line = IrDocument.ToJson(new Dictionary<string, object?>
        {
            ["key"] = r.Key, ["runId"] = _run.RunId, ["step"] = r.Name, ["directory"] = r.Directory, ["sha256"] = r.OutputHash,
        }, indented: false);
        lock (_cacheGate)
        {
            try
            {
                if (_cacheWriter is null)
                {
                    Directory.CreateDirectory(CacheDirectory);
                    _cacheWriter = new StreamWriter(new FileStream(CacheJournal, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
                }
                _cacheWriter.WriteLine(line);
            }
            catch (IOException) { /* the cache is an optimisation */ }
            catch (UnauthorizedAccessException) { }
        }
    }

    private void CloseCacheJournal()
    {
        lock (_cacheGate)
        {
            try { _cacheWriter?.Dispose(); }
            catch (IOException) { }
            _cacheWriter = null;
        }
    }

    private string? FindCached(string key)
    {
        var dir = CachedDirectory(key);
        return dir is not null && ArtifactIO.IsComplete(dir, verifyHash: true) ? dir : null;
    }

    /// <summary>The folder recorded for the key: an older Axl's entry file, else the journals of the workflow's runs (read once per run; the last line of a key wins).</summary>
    private string? CachedDirectory(string key)
    {
        var file = CacheFile(key);
        if (File.Exists(file))
        {
            try
            {
                using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
                return doc.RootElement.GetProperty("directory").GetString();
            }
            catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException) { }
        }
        lock (_cacheGate)
        {
            _cacheIndex ??= ReadCacheJournals();
            return _cacheIndex.GetValueOrDefault(key);
        }
    }

    private Dictionary<string, string> ReadCacheJournals()
    {
        var index = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(CacheDirectory)) return index;
        foreach (var journal in Directory.EnumerateFiles(CacheDirectory, "*" + CacheJournalSuffix).OrderBy(f => File.GetLastWriteTimeUtc(f)))
        {
            string[] lines;
            try
            {
                using var stream = new FileStream(journal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream);
                lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { continue; }
            foreach (var line in lines)
            {
                try
                {
                    using var doc = System.Text.Json.JsonDocument.Parse(line);
                    if (doc.RootElement.GetProperty("key").GetString() is { } k && doc.RootElement.GetProperty("directory").GetString() is { } d) index[k] = d;
                }
                catch (Exception ex) when (ex is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException) { /* a torn last line */ }
            }
        }
        return index;
    }

    private static void CopyArtifact(string from, string to)
    {
        var meta = ArtifactIO.ReadMetadata(from) ?? throw new IOException($"{from} has no artifact metadata");
        Directory.CreateDirectory(to);
        DeleteMetadata(to);
        var tmp = Path.Combine(to, $".{meta.File}.tmp-{Guid.NewGuid():N}");
        File.Copy(Path.Combine(from, meta.File), tmp);
        File.Move(tmp, Path.Combine(to, meta.File), overwrite: true);
        var metaName = meta.Name + ".meta.json";
        var tmpMeta = Path.Combine(to, $".{metaName}.tmp-{Guid.NewGuid():N}");
        File.Copy(Path.Combine(from, metaName), tmpMeta);
        File.Move(tmpMeta, Path.Combine(to, metaName), overwrite: true);
    }

    private static void DeleteMetadata(string dir)
    {
        var meta = Path.Combine(dir, "output.meta.json");
        if (File.Exists(meta)) File.Delete(meta);
    }

    private static bool SameDirectory(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);

    // ---- events and logs ------------------------------------------------------------------------------------

    private void Emit(RunEventKind kind, string? step, string message, string status, StepStreamRecord? record = null)
    {
        if (!_mask.IsEmpty)
        {
            // A step that prints a secret or a sensitive value does not put it in the log or the events.
            message = _mask.Apply(message);
            if (record is not null && _mask.Apply(record.Message) is var masked && masked != record.Message)
                record = record with { Message = masked, Record = null }; // the original record holds the value too
        }
        var r = step is null ? null : _results.GetValueOrDefault(step);
        var line = IrDocument.ToJson(new Dictionary<string, object?>
        {
            ["ts"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            ["level"] = record?.Level ?? kind switch { RunEventKind.StepFailed => "error", RunEventKind.StepRetrying => "warning", _ => "info" },
            ["event"] = kind.ToString(),
            ["stream"] = record?.Name,
            ["tags"] = record?.Tags,
            ["workflow"] = _wf.Name,
            ["run_id"] = _run?.RunId,
            ["step"] = step,
            ["status"] = status,
            ["attempt"] = r?.Attempts,
            ["duration_ms"] = kind == RunEventKind.RunFinished ? (long?)_run?.Duration?.TotalMilliseconds : r?.Duration is { } d ? (long)d.TotalMilliseconds : null,
            ["message"] = message,
        }.WithProgress(record), indented: false);
        lock (_logGate) _log?.WriteLine(line);
        _onEvent?.Invoke(new RunEvent(kind, step, message, Volatile.Read(ref _done), _wf.StepCount, line) { Record = record });
    }
}
