using System.Collections;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Runtime;

/// <summary>
/// A runspace with the workflow loaded in it: the workflow file is run again by path (the runner import contract), and
/// the steps are found by name; or, for a file the caller read without running it (<c>axl step</c>, <see cref="PrewarmLoad"/>),
/// the module that run would leave is made from that read. The file runs in a module of its own (see
/// <see cref="Axl.Dsl.WorkflowLoader"/>) and the step bodies are bound to it, so the functions, variables and modules of the file's top level (and of the AxlWorkflow
/// block) are visible to every step. A host runs one step at a time; each step runs in a fresh child scope of the
/// file's scope with $ErrorActionPreference = 'Stop' and the caller's other preference variables. What the step writes
/// besides its output (errors that did not stop it, warnings, information and host text, verbose, debug, progress)
/// goes to <see cref="StepInvocation.Streams"/> as it is written. A host that loads the file checks that the definition
/// (<see cref="Axl.Model.AxlWorkflow.DefinitionHash"/>: steps, options, parameters) is still the one the run started
/// with; the code around it (helper scripts, the file's top level) is covered by the workflow hash and the step keys,
/// taken once when the run starts, so files a step writes into its folder do not stop the steps after it.
/// </summary>
public sealed class ScriptStepHost : IDisposable
{
    // Loading the workflow file into a host: Get-AxlWorkflow alone in a pipeline, under $ErrorActionPreference = 'Stop'
    // set in the runspace's global scope (a file's top level and its functions see it, and an error the command writes
    // stops it), then the checks and the location in C#. It was a script once: its parsing, compiling and dynamic
    // binding (about a hundred JIT-compiled methods of call sites and stubs in a cold `axl step`) are gone; what it did is the same.

    /// <summary>The command that loads <paramref name="file"/> (a full path) in a host's runspace; run it with <see cref="Loaded"/> after it.</summary>
    private static void AddLoad(PowerShell ps, Runspace runspace, string file, string workflow)
    {
        WithRunspace(runspace, s => s.SetVariable("global:ErrorActionPreference", "Stop"));
        ps.AddCommand("Get-AxlWorkflow").AddParameter("LiteralPath", file).AddParameter("Name", WildcardPattern.Escape(workflow));
    }

    /// <summary>
    /// What a load returned, checked: the workflow is still defined and (given <paramref name="hash"/>) still has the
    /// definition the run started with. Then, as a loaded host always has: the workflow in $global:__axlLoadedWorkflow and
    /// the location at the file's folder (steps run there, like command steps and the runner in /axl/workdir).
    /// Throws InvalidOperationException with the reason otherwise.
    /// </summary>
    private static AxlWorkflow Loaded(Runspace runspace, string file, string workflow, string? hash, object? output)
    {
        var wf = (output is object[] items ? items.FirstOrDefault() : output) is var first && Base(first) is AxlWorkflow w ? w
            : throw new InvalidOperationException($"workflow '{workflow}' is no longer defined in {file}");
        if (!string.IsNullOrEmpty(hash) && !string.Equals(wf.DefinitionHash, hash, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"{file} changed after the run started (definition hash {wf.DefinitionHash.Substring(7, 12)}, expected {hash.Substring(7, 12)}); start a new run, or resume this one to pick up the change");
        WithRunspace(runspace, s => Settle(s, file, wf));
        return wf;
    }

    /// <summary>What a loaded host always has: the workflow in $global:__axlLoadedWorkflow and the location at the file's folder.</summary>
    private static void Settle(SessionStateProxy s, string file, AxlWorkflow wf)
    {
        s.SetVariable("global:__axlLoadedWorkflow", wf);
        s.Path.SetLocation(Path.GetDirectoryName(file)!);
    }

    /// <summary>
    /// Runs engine calls outside a pipeline as a pipeline on this thread would make them: with the runspace as the
    /// thread's default (where PSModuleInfo.NewBoundScriptBlock and the providers find their engine).
    /// </summary>
    private static void WithRunspace(Runspace runspace, Action<SessionStateProxy> action)
    {
        var outer = Runspace.DefaultRunspace;
        Runspace.DefaultRunspace = runspace;
        try { action(runspace.SessionStateProxy); }
        finally { Runspace.DefaultRunspace = outer; }
    }

    // What runs a step: its preference variables set in a fresh child scope of the file's scope, then the body with its
    // arguments. Bound to the file's module once per host (MakeInvoker), not parsed and bound per step; each step's
    // pipeline is one command, a FunctionInfo compiled once per host (a script's text would be compiled per pipeline).
    // The preferences are parameters (a hashtable splatted by name), so they are variables of this scope as
    // $ErrorActionPreference is, with no call sites to bind at run time.
    private const string InvokeBlock = """
        param($__axlBody, $__axlArgs, $VerbosePreference, $DebugPreference, $InformationPreference, $WarningPreference, $ProgressPreference)
        $ErrorActionPreference = 'Stop'
        & $__axlBody @__axlArgs
        """;

    /// <summary>The function each step's pipeline runs: the invoker with a step's body, arguments and preferences.</summary>
    private const string InvokeStepFunction = "param($__axlInvoke, $__axlBody, $__axlArgs, $__axlPreferences) & $__axlInvoke $__axlBody $__axlArgs @__axlPreferences";

    private const string InvokeStepName = "__axlInvokeStep";

    /// <summary>How long a cancelled (not timed-out) step may take to stop before it is abandoned.</summary>
    private static readonly TimeSpan CancelStopWait = TimeSpan.FromSeconds(3);

    private readonly Runspace _runspace;
    /// <summary>The workflow file loaded in the runspace (full path), null before the first load.</summary>
    private string? _loadedFile;
    private AxlWorkflow? _loadedWorkflow; // the workflow as this runspace loaded it: its step bodies are bound to the file's module
    /// <summary>The file's module when the workflow was not loaded but read (<see cref="PrewarmLoad"/>): its bodies are bound to it when run.</summary>
    private PSModuleInfo? _fileModule;
    private PSModuleInfo? _invokerModule;
    private (ScriptBlock Invoke, FunctionInfo Function)? _invoker;

    public ScriptStepHost()
    {
        // Pipelines run synchronously on the host's own thread (PipelineThread below), one for the host's life: handing a
        // step to it and back is a monitor signal, not PowerShell's pipeline-thread events (OS wait handles, a few
        // tenths of a millisecond per step), and the caller still waits with a timeout and can stop and abandon a step.
        if (TakePrewarmed() is { } warm)
            (_runspace, _loadedFile, _loadedWorkflow, _fileModule, _invoker, _invokerModule) = (warm.Runspace, warm.File, warm.Workflow, warm.Module, warm.Invoker, warm.Module);
        else _runspace = AxlEngine.OpenRunspace(PSThreadOptions.UseCurrentThread);
        _thread = new PipelineThread();
    }

    // ---- Prewarming: the next host's runspace opened (and its file module made from the read) on another core ----

    private sealed record Warm(Runspace Runspace, string? File, AxlWorkflow? Workflow, PSModuleInfo? Module, (ScriptBlock Invoke, FunctionInfo Function)? Invoker);

    private static readonly object PrewarmGate = new();
    private static Task<Warm?>? _prewarm;

    /// <summary>
    /// Starts opening the next step host's runspace on a thread-pool thread, for a process that runs one script step
    /// (<c>axl step</c>) and has other work to do first (reading the workflow, checking the code hash, binding inputs).
    /// The next <see cref="ScriptStepHost"/> takes it, waiting for it if it is still opening; it is the same as a host
    /// opened on the spot. A process that ends without taking it calls <see cref="DisposePrewarmed"/>.
    /// </summary>
    public static void Prewarm()
    {
        lock (PrewarmGate) _prewarm ??= Task.Run(() =>
        {
            var runspace = AxlEngine.OpenRunspace(PSThreadOptions.UseCurrentThread);
            AxlEngine.Mark("step host: open");
            return (Warm?)new Warm(runspace, null, null, null, null);
        });
    }

    /// <summary>
    /// Makes the prewarmed runspace, once it is open, what loading <paramref name="file"/> would make it, for
    /// <paramref name="workflow"/> as the caller read it without running it (<see cref="Axl.Dsl.StaticWorkflowFile"/>):
    /// the file is not run again (no Get-AxlWorkflow: most of a cold step's wait after the runspace is open), its module
    /// is made from that read (<see cref="Axl.Dsl.WorkflowLoader.ModuleOfRead"/>: the same scope, functions and variables a
    /// load leaves) with the invoker bound to it, and the step bodies are bound to it when they run. The loaded definition
    /// is the caller's own read, so the host's definition-hash check compares the read with itself; the run's check
    /// against the manifest is the caller's. Anything that fails here leaves a fresh host, which loads the file on the
    /// spot (reporting its error as always).
    /// </summary>
    public static void PrewarmLoad(string file, AxlWorkflow workflow)
    {
        var full = Path.GetFullPath(file);
        _ = workflow.DefinitionHash; // what the host compares first, taken on this thread while the runspace opens
        lock (PrewarmGate)
        {
            Prewarm();
            _prewarm = _prewarm!.ContinueWith(opened =>
            {
                var warm = opened.Result;
                if (warm is null) return null;
                try
                {
                    PSModuleInfo? module = null;
                    WithRunspace(warm.Runspace, s =>
                    {
                        s.SetVariable("global:ErrorActionPreference", "Stop"); // as AddLoad sets it
                        module = WorkflowLoader.ModuleOfRead(s.InvokeCommand, workflow);
                        if (module is not null) Settle(s, full, workflow);
                    });
                    if (module is null) return warm;
                    var invoker = MakeInvoker(warm.Runspace, module); // the steps' invoker, bound to that module, made here too
                    AxlEngine.Mark("step host: file module made");
                    return warm with { File = full, Workflow = workflow, Module = module, Invoker = invoker };
                }
                catch (Exception)
                {
                    warm.Runspace.Dispose(); // the host opens and loads on the spot, where the error is reported as always
                    return null;
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private static Warm? TakePrewarmed()
    {
        Task<Warm?>? task;
        lock (PrewarmGate)
        {
            task = _prewarm;
            _prewarm = null;
        }
        if (task is null) return null;
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            return null; // opened again on the spot, where its error surfaces as it always did
        }
    }

    /// <summary>
    /// Closes a prewarmed runspace no host took (the step was a command step, or the run stopped before it). One still
    /// opening is not waited for: its thread is a background thread, and the process is ending.
    /// </summary>
    public static void DisposePrewarmed()
    {
        Task<Warm?>? task;
        lock (PrewarmGate)
        {
            task = _prewarm;
            _prewarm = null;
        }
        if (task is { IsCompletedSuccessfully: true, Result: { } warm }) warm.Runspace.Dispose();
    }

    private readonly PipelineThread _thread;

    private static int _abandoned;

    /// <summary>How many steps this process abandoned (still running on a thread of their own): a host that ends should exit the process rather than wait for them.</summary>
    public static int AbandonedSteps => Volatile.Read(ref _abandoned);

    /// <summary>False once a step was abandoned in it (a timeout inside a .NET call): such a host is not reused.</summary>
    public bool Healthy { get; private set; } = true;

    public StepAttemptResult Run(StepInvocation inv, CancellationToken ct)
    {
        var step = inv.Step;
        var file = inv.Workflow.SourceFile is { } f && File.Exists(f) ? f : null;
        // A prewarmed load checked no hash: one of another definition is loaded again, which says the file changed
        // (a load here checked it already, so the comparison holds for every later step of the host).
        if (file is not null && _loadedFile == file && _loadedWorkflow is { } loaded && loaded.DefinitionHash != inv.Workflow.DefinitionHash)
            _loadedFile = null;
        if (file is not null && _loadedFile != file)
        {
            var load = Invoke(inv, ps => AddLoad(ps, _runspace, file, inv.Workflow.Name), ct, timeout: Timeout.InfiniteTimeSpan);
            var loadError = load.Error;
            if (load.Success)
            {
                try
                {
                    _loadedWorkflow = Loaded(_runspace, file, inv.Workflow.Name, inv.Workflow.DefinitionHash, load.Value);
                    _loadedFile = file;
                    _fileModule = null;
                }
                catch (InvalidOperationException ex)
                {
                    loadError = new StepError(ex.Message, FailureKind.Infrastructure, step.Location.File, step.Location.Line);
                }
                catch (RuntimeException ex)
                {
                    loadError = ToError(ex, inv);
                }
            }
            if (loadError is not null)
                return StepAttemptResult.Fail(loadError with { Kind = loadError.Kind == FailureKind.Cancelled ? FailureKind.Cancelled : FailureKind.Infrastructure,
                    Message = $"loading {file} for step '{step.Name}' failed: {loadError.Message}" });
        }
        // The body as this runspace loaded it (bound to the file's module), or, without a file, made from the step's source.
        var body = (file is not null ? LoadedBody(step.Name) : null) ?? ScriptBlock.Create(step.Source);
        var (invoker, invokerError) = Invoker(body.Module, inv);
        if (invoker is null) return StepAttemptResult.Fail(invokerError!);
        var tr = RunTrace.Current;
        var t0 = RunTrace.Now();
        var args = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (var kv in inv.Arguments) args[kv.Key] = kv.Value;
        t0 = tr?.Add("host: file check, args", t0) ?? t0;
        using var env = EnvironmentScope.Enter(inv.SecretEnvironment.Count == 0 && inv.PackageEnvironment.Count == 0 ? step.Env
            : inv.PackageEnvironment.Concat(step.Env.Where(kv => !inv.PackageEnvironment.ContainsKey(kv.Key))).Concat(inv.SecretEnvironment)
                .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), ct);
        var timeout = step.TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : Timeout.InfiniteTimeSpan;
        tr?.Add("host: env scope", t0);
        var (invoke, function) = invoker.Value;
        return Invoke(inv, ps => ps.AddCommand(function).AddArgument(invoke).AddArgument(body).AddArgument(args).AddArgument(inv.Preferences.Variables()), ct, timeout);
    }

    /// <summary>
    /// The step invoker for bodies of <paramref name="module"/> (the workflow file's), made once per host and module;
    /// unbound (it runs in the caller's scope) for a body without a module. A failure of the engine's calls comes back as the error.
    /// </summary>
    private ((ScriptBlock Invoke, FunctionInfo Function)? Invoker, StepError? Error) Invoker(PSModuleInfo? module, StepInvocation inv)
    {
        if (_invoker is not null && ReferenceEquals(_invokerModule, module)) return (_invoker, null);
        (ScriptBlock, FunctionInfo)? made = null;
        var work = _thread.Start(() => made = MakeInvoker(_runspace, module));
        work.Wait(Timeout.InfiniteTimeSpan, CancellationToken.None); // engine calls only, no user code: a few milliseconds
        try
        {
            work.Result();
        }
        catch (RuntimeException ex)
        {
            return (null, ToError(ex, inv));
        }
        if (made is null)
            return (null, new StepError($"step '{inv.Step.Name}' could not be bound to the scope of {inv.Workflow.SourceFile}", FailureKind.Infrastructure));
        (_invoker, _invokerModule) = (made, module);
        return (_invoker, null);
    }

    /// <summary>The body of step <paramref name="name"/> as the runspace loaded it: bound to the file's module (now, when the workflow was read rather than loaded).</summary>
    private ScriptBlock? LoadedBody(string name)
    {
        var body = _loadedWorkflow?.GetStep(name)?.Body;
        if (body is null || _fileModule is not { } module) return body;
        WithRunspace(_runspace, _ => body = module.NewBoundScriptBlock(body));
        return body;
    }

    /// <summary>
    /// Makes the invoker on the host's pipeline thread: <see cref="InvokeBlock"/> bound to the module (the file's scope,
    /// where its functions and variables are; none: the caller's), and the FunctionInfo of a function that calls it with a
    /// step's body, arguments and preferences. The function is defined in the global scope and removed from the function
    /// table at once (through the provider API, which loads no module): steps do not see it, and its FunctionInfo runs
    /// without being looked up by name.
    /// </summary>
    private static (ScriptBlock, FunctionInfo)? MakeInvoker(Runspace runspace, PSModuleInfo? module)
    {
        (ScriptBlock, FunctionInfo)? made = null;
        WithRunspace(runspace, s =>
        {
            var invoke = ScriptBlock.Create(InvokeBlock);
            if (module is not null) invoke = module.NewBoundScriptBlock(invoke);
            s.InvokeProvider.Item.New(@"function:\", InvokeStepName, null, ScriptBlock.Create(InvokeStepFunction));
            var function = s.InvokeCommand.GetCommand(InvokeStepName, CommandTypes.Function) as FunctionInfo;
            s.InvokeProvider.Item.Remove(@"function:\" + InvokeStepName, false);
            if (function is not null) made = (invoke, function);
        });
        return made;
    }

    private static object? Base(object? o) => o is PSObject p ? p.BaseObject : o;

    private StepAttemptResult Invoke(StepInvocation inv, Action<PowerShell> setup, CancellationToken ct, TimeSpan timeout)
    {
        var step = inv.Step;
        var tr = RunTrace.Current;
        var t0 = RunTrace.Now();
        var ps = PowerShell.Create();
        var detached = false;
        try
        {
            ps.Runspace = _runspace;
            setup(ps);
            HookStreams(ps, inv);
            var output = new PSDataCollection<PSObject>();
            t0 = tr?.Add("host: PowerShell created, hooked", t0) ?? t0;
            using var children = StepChildren.Take();
            t0 = tr?.Add("host: children snapshot", t0) ?? t0;
            var run = _thread.Start(() => ps.Invoke<PSObject>(null, output));
            var finished = run.Wait(timeout, ct);
            t0 = tr?.Add("host: invoke and wait", t0) ?? t0;
            if (!finished)
            {
                // PowerShell stops at the next statement; a long .NET call cannot be interrupted. Wait the grace
                // period (a cancelled run waits at most a few seconds), then leave it to finish in the background (its
                // result is discarded), retire this host, and say so: no further attempt may start on top of it.
                var timedOut = !ct.IsCancellationRequested;
                var stop = ps.BeginStop(null, null);
                var wait = timedOut ? inv.KillGrace : TimeSpan.FromTicks(Math.Min(inv.KillGrace.Ticks, CancelStopWait.Ticks));
                var stopped = run.Wait(wait, CancellationToken.None);
                StepChildren.EndNew(children, inv.KillGrace);
                if (!stopped)
                {
                    Interlocked.Increment(ref _abandoned);
                    detached = true;
                    Healthy = false;
                    var runspace = _runspace;
                    var thread = _thread;
                    _ = Task.Run(() =>
                    {
                        run.Wait(Timeout.InfiniteTimeSpan, CancellationToken.None);
                        try { ps.EndStop(stop); } catch (Exception) { /* it is being abandoned */ }
                        ps.Dispose();
                        runspace.Dispose();
                        thread.Dispose();
                    });
                    var why = timedOut ? $"timed out after {step.TimeoutSeconds} s" : "was cancelled";
                    return StepAttemptResult.Fail(new StepError(
                        $"step '{step.Name}' {why} and did not stop within {wait.TotalSeconds:0.#} s (it is stuck in a call PowerShell cannot interrupt, such as a .NET method); " +
                        "it was abandoned and no further attempt was started on top of it. Fix: make the step's long calls interruptible (e.g. Start-Sleep, or a .NET call with a timeout or cancellation), or raise -Timeout",
                        timedOut ? FailureKind.Timeout : FailureKind.Cancelled, step.Location.File, step.Location.Line)) with { Abandoned = true };
                }
                return StepAttemptResult.Fail(timedOut
                    ? new StepError($"step '{step.Name}' timed out after {step.TimeoutSeconds} s and was stopped", FailureKind.Timeout, step.Location.File, step.Location.Line)
                    : new StepError($"step '{step.Name}' was cancelled", FailureKind.Cancelled));
            }
            try
            {
                run.Result();
            }
            catch (RuntimeException ex)
            {
                return StepAttemptResult.Fail(ToError(ex, inv));
            }
            // Errors that did not stop the step (Write-Error -ErrorAction Continue, a cmdlet's error under a
            // -ErrorAction the step chose) went to the error stream as they came; as in PowerShell, they do not fail it.
            tr?.Add("host: EndInvoke", t0);
            object? value = output.Count switch
            {
                0 => null,
                1 => output[0],
                _ => output.ToArray(),
            };
            return StepAttemptResult.Ok(value);
        }
        finally
        {
            if (!detached) ps.Dispose();
        }
    }

    private static void HookStreams(PowerShell ps, StepInvocation inv)
    {
        if (inv.Streams is not { } write) return;
        var streams = ps.Streams;
        streams.Error.DataAdded += (s, e) =>
        {
            var r = ((PSDataCollection<ErrorRecord>)s!)[e.Index];
            write(new StepStreamRecord(StepStream.Error, r.ErrorDetails?.Message ?? r.Exception?.Message ?? r.ToString(), r));
        };
        streams.Warning.DataAdded += (s, e) => { var r = ((PSDataCollection<WarningRecord>)s!)[e.Index]; write(new StepStreamRecord(StepStream.Warning, r.Message, r)); };
        streams.Verbose.DataAdded += (s, e) => { var r = ((PSDataCollection<VerboseRecord>)s!)[e.Index]; write(new StepStreamRecord(StepStream.Verbose, r.Message, r)); };
        streams.Debug.DataAdded += (s, e) => { var r = ((PSDataCollection<DebugRecord>)s!)[e.Index]; write(new StepStreamRecord(StepStream.Debug, r.Message, r)); };
        streams.Information.DataAdded += (s, e) =>
        {
            var r = ((PSDataCollection<InformationRecord>)s!)[e.Index];
            write(new StepStreamRecord(StepStream.Information, Convert.ToString(r.MessageData, System.Globalization.CultureInfo.InvariantCulture) ?? "", r));
        };
        var progress = new ProgressThrottle();
        streams.Progress.DataAdded += (s, e) =>
        {
            var r = ((PSDataCollection<ProgressRecord>)s!)[e.Index];
            if (progress.ShouldWrite(r)) write(new StepStreamRecord(StepStream.Progress, StepStreamRecord.ProgressText(r), r));
        };
    }

    private static StepError ToError(RuntimeException ex, StepInvocation inv) =>
        ex.ErrorRecord is { } record ? ToError(record, inv) : new StepError(ex.Message, FailureKind.User, inv.Step.Location.File, inv.Step.Location.Line);

    private static StepError ToError(ErrorRecord record, StepInvocation inv)
    {
        var info = record.InvocationInfo;
        var message = record.Exception?.Message ?? record.ToString();
        var file = string.IsNullOrEmpty(info?.ScriptName) ? inv.Step.Location.File : info!.ScriptName;
        var line = info?.ScriptLineNumber > 0 ? info.ScriptLineNumber : inv.Step.Location.Line;
        // The driver's own lines are not the user's: point at the step instead.
        if (string.IsNullOrEmpty(info?.ScriptName) && inv.Workflow.SourceFile is not null)
            (file, line) = (inv.Step.Location.File, inv.Step.Location.Line);
        return new StepError(message, FailureKind.User, file, line, info?.Line?.TrimEnd('\r', '\n'));
    }

    public void Dispose()
    {
        if (!Healthy) return; // its abandoned step's thread disposes of it when the step ends
        _runspace.Dispose();
        _thread.Dispose();
    }

    /// <summary>
    /// The host's pipeline thread: runs one piece of work at a time (a synchronous pipeline), handed over and waited for
    /// through a monitor. With PowerShell's default 10 MB stack for pipelines (deep recursion in a step).
    /// </summary>
    private sealed class PipelineThread : IDisposable
    {
        private readonly object _gate = new();
        private Work? _next;
        private bool _closed;

        public PipelineThread()
        {
            var thread = new Thread(Loop, maxStackSize: 10_000_000) { IsBackground = true, Name = "Pipeline Execution Thread" };
            thread.Start();
        }

        public Work Start(Action action)
        {
            var work = new Work(action);
            lock (_gate)
            {
                if (_closed) throw new ObjectDisposedException(nameof(PipelineThread));
                if (_next is not null) throw new InvalidOperationException("the step host runs one pipeline at a time");
                _next = work;
                Monitor.Pulse(_gate);
            }
            return work;
        }

        private void Loop()
        {
            while (true)
            {
                Work work;
                lock (_gate)
                {
                    while (_next is null && !_closed) Monitor.Wait(_gate);
                    if (_next is null) return;
                    work = _next;
                    _next = null;
                }
                work.Run();
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _closed = true;
                Monitor.Pulse(_gate);
            }
        }
    }

    /// <summary>One piece of work on the pipeline thread: done when it returned or threw; what it threw is rethrown by <see cref="Result"/>.</summary>
    private sealed class Work(Action action)
    {
        private readonly object _gate = new();
        private bool _done;
        private Exception? _thrown;

        public void Run()
        {
            Exception? thrown = null;
            try { action(); }
            catch (Exception ex) { thrown = ex; }
            lock (_gate)
            {
                _thrown = thrown;
                _done = true;
                Monitor.PulseAll(_gate);
            }
        }

        /// <summary>True when it is done within <paramref name="timeout"/>; false on timeout or when <paramref name="ct"/> is cancelled.</summary>
        public bool Wait(TimeSpan timeout, CancellationToken ct)
        {
            using var wake = ct.CanBeCanceled ? ct.Register(() => { lock (_gate) Monitor.PulseAll(_gate); }) : default;
            var deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            lock (_gate)
            {
                while (!_done)
                {
                    if (ct.IsCancellationRequested) return false;
                    var left = deadline == long.MaxValue ? Timeout.Infinite : deadline - Environment.TickCount64;
                    if (left != Timeout.Infinite && left <= 0) return false;
                    Monitor.Wait(_gate, left == Timeout.Infinite ? Timeout.Infinite : (int)Math.Min(left, int.MaxValue));
                }
                return true;
            }
        }

        public void Result()
        {
            if (_thrown is { } ex) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex).Throw();
        }
    }
}

/// <summary>
/// Progress records pass at most one per activity and second (a loop may write thousands), and always the first one
/// of an activity and its completion.
/// </summary>
internal sealed class ProgressThrottle
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly Dictionary<int, DateTime> _last = new();

    public bool ShouldWrite(ProgressRecord r)
    {
        var now = DateTime.UtcNow;
        lock (_last)
        {
            if (r.RecordType == ProgressRecordType.Completed) { _last.Remove(r.ActivityId); return true; }
            if (_last.TryGetValue(r.ActivityId, out var last) && now - last < Interval) return false;
            _last[r.ActivityId] = now;
            return true;
        }
    }
}

/// <summary>
/// Warm step hosts for one run: at most one per running step, each reused for later steps, so the workflow file is
/// loaded once per host instead of once per step. With isolation on, every step gets a new host of its own.
/// </summary>
public sealed class ScriptStepHostPool(bool isolateSteps) : IDisposable
{
    private readonly ConcurrentBag<ScriptStepHost> _idle = new();
    private bool _disposed;

    public StepAttemptResult Run(StepInvocation inv, CancellationToken ct)
    {
        ScriptStepHost host;
        if (isolateSteps || !_idle.TryTake(out host!)) host = new ScriptStepHost();
        var result = host.Run(inv, ct);
        if (!isolateSteps && host.Healthy && !_disposed) _idle.Add(host);
        else host.Dispose();
        return result;
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var h)) h.Dispose();
    }
}

/// <summary>Runs one script step in a new host of its own (the runner: one step per process).</summary>
public static class ScriptStepExecutor
{
    public static StepAttemptResult Run(StepInvocation inv, CancellationToken ct)
    {
        using var host = new ScriptStepHost();
        AxlEngine.Mark("step host taken");
        return host.Run(inv, ct);
    }
}
