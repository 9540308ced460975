using Axl.Cmdlets.Completion;
using System.Collections;
using System.Collections.Concurrent;
using System.Management.Automation;
using Axl.Cmdlets.Workflows;
using Axl.Model;
using Axl.Runtime;

namespace Axl.Cmdlets.Runs;

/// <summary>Runs workflows on this machine and outputs an AxlRun per workflow (or, with -PassThru, what its final steps produced).</summary>
[Cmdlet(VerbsLifecycle.Invoke, "AxlLocalRun", DefaultParameterSetName = "Workflow", SupportsShouldProcess = true, HelpUri = AxlHelp.OnlineBase + "Invoke-AxlLocalRun.md")]
[OutputType(typeof(AxlRun), typeof(object))]
public sealed class InvokeAxlLocalRunCommand : WorkflowInputCmdlet
{
    private readonly CancellationTokenSource _cancel = new();

    [Parameter] [Alias("Params")] [ArgumentCompleter(typeof(WorkflowParameterCompleter))] public Hashtable? Parameters { get; set; }
    [Parameter] public string? ParametersFile { get; set; }
    [Parameter] [ValidateRange(1, 1024)] public int ThrottleLimit { get; set; } = Environment.ProcessorCount;
    /// <summary>Where runs are kept (default $env:AXL_RUN_ROOT, else .axl/runs here); binds the RunRoot of a run or job piped in.</summary>
    // By property name only in the file sets: a run piped in binds -LiteralPath by its WorkflowReference, and a pipeline
    // property bound in the default (Workflow) set would keep the binder there and turn the run into a -Path string.
    [Parameter(ParameterSetName = WorkflowSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralSet)]
    public string? RunRoot { get; set; }
    /// <summary>
    /// The id of the new run (default: a new time-sortable id). Binds the RunId of a run or job piped in, which only
    /// -ResumeRun uses: without it, a run piped in is run again as a new run.
    /// </summary>
    [Parameter(ParameterSetName = WorkflowSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralSet)]
    public string? RunId { get; set; }
    /// <summary>The id of a failed, cancelled or interrupted run of this workflow to resume (its succeeded steps are reused).</summary>
    [Parameter] [ArgumentCompleter(typeof(RunIdCompleter))] public string? Resume { get; set; }
    /// <summary>Resumes the run piped in (Get-AxlRun ... | Invoke-AxlLocalRun -ResumeRun), or the one -RunId names, instead of starting a new run: -Resume with the run's id.</summary>
    [Parameter] public SwitchParameter ResumeRun { get; set; }
    [Parameter] public SwitchParameter Cache { get; set; }
    /// <summary>Keep step outputs in the run root's hash-addressed store (&lt;run root&gt;/store/&lt;hash&gt;): an output many runs produce is on disk once; Remove-AxlRun frees what no run uses.</summary>
    [Parameter] public SwitchParameter UseHash { get; set; }
    [Parameter] public SwitchParameter IsolateSteps { get; set; }
    [Parameter] public TimeSpan? RetryBackoff { get; set; }
    [Parameter] public TimeSpan? KillGrace { get; set; }
    [Parameter] [ValidateSet("Text", "Json")] public string LogFormat { get; set; } = "Text";
    [Parameter] public SwitchParameter PassThru { get; set; }
    /// <summary>
    /// At the end of each run (failed and cancelled ones too), write its metrics to this file in the Prometheus text
    /// exposition format, atomically: for node_exporter's textfile collector (name it *.prom in its directory).
    /// </summary>
    [Parameter] public string? MetricsFile { get; set; }
    /// <summary>
    /// Run every step in a container of its image through the Docker Engine API (Docker, or Podman's API service), as a
    /// compiled Argo pod runs it: try the production image on this machine before pushing it.
    /// </summary>
    [Parameter] public SwitchParameter Container { get; set; }
    /// <summary>With -Container: the image of steps that name none (a tag, or what Build-AxlImage output), before the workflow's -Image, as ConvertTo-ArgoWorkflow -Image.</summary>
    [Parameter] public string? Image { get; set; }
    /// <summary>With -Container: the engine's Docker host (unix:///run/podman/podman.sock, tcp://host:2375); default $env:DOCKER_HOST, else the default sockets.</summary>
    [Parameter] public string? DockerHost { get; set; }

    // -RunId as typed (null when it was not): a RunId bound later came from the object piped in.
    private string? _typedRunId;
    // The runs of this invocation so far: the metrics file holds them all (one workflow piped after another).
    private readonly List<AxlRun> _metricsRuns = new();

    protected override void BeginProcessing()
    {
        _typedRunId = MyInvocation.BoundParameters.ContainsKey(nameof(RunId)) ? RunId : null;
        if (!Container && (Image is not null || DockerHost is not null))
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-{(Image is not null ? "Image" : "DockerHost")} applies to runs in containers: add -Container (or leave it out to run the steps in this process)."),
                "Axl.InvalidParameter", ErrorCategory.InvalidArgument, Image ?? DockerHost));
        if (ResumeRun && Resume is not null)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-ResumeRun resumes the run piped in (or -RunId); -Resume names the run itself: give one of them."),
                "Axl.InvalidParameter", ErrorCategory.InvalidArgument, Resume));
    }

    protected override void ProcessRecord()
    {
        // A new run gets the typed -RunId (or a new id); the id of a run piped in names the run to resume, with -ResumeRun.
        string? resume = Resume, newId = _typedRunId;
        if (ResumeRun)
        {
            if (string.IsNullOrEmpty(RunId))
            {
                WriteError(new ErrorRecord(new ArgumentException("-ResumeRun resumes the run piped in, and none was. Fix: pipe the run (Get-AxlRun <workflow> -Last 1 | Invoke-AxlLocalRun -ResumeRun), or give -Resume <run id>."),
                    "Axl.InvalidParameter", ErrorCategory.InvalidArgument, null));
                return;
            }
            (resume, newId) = (RunId, null);
        }
        foreach (var wf in InputWorkflows())
        {
            if (_cancel.IsCancellationRequested) return;
            if (!ShouldProcess($"workflow '{wf.Name}' ({wf.StepCount} steps){(resume is null ? "" : $", resuming run {resume}")}", "Run locally")) continue;
            RunOne(wf, resume, newId);
        }
    }

    protected override void StopProcessing() => _cancel.Cancel();

    private void RunOne(AxlWorkflow wf, string? resume, string? runId)
    {
        var options = new RunOptions
        {
            RunRoot = RunRoot is null ? RunRoots.Default(this) : SessionState.Path.GetUnresolvedProviderPathFromPSPath(RunRoot),
            RunId = runId,
            Resume = resume,
            Parameters = Parameters,
            ParametersFile = ParametersFile is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(ParametersFile),
            ThrottleLimit = ThrottleLimit,
            Cache = Cache,
            UseHash = UseHash,
            IsolateSteps = IsolateSteps,
            RetryBackoff = RetryBackoff ?? TimeSpan.FromSeconds(1),
            KillGrace = KillGrace ?? TimeSpan.FromSeconds(10),
            Preferences = StepPreferencesOf.Get(this),
            Containers = Container ? new ContainerRunOptions { Image = Image, DockerHost = DockerHost } : null,
        };
        var events = new BlockingCollection<RunEvent>();
        var task = Task.Run(() =>
        {
            try { return LocalRunner.Run(wf, options, events.Add, _cancel.Token); }
            finally { events.CompleteAdding(); }
        });
        var progress = new RunProgress(wf, this);
        var metricsPath = MetricsFile is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(MetricsFile);
        try
        {
            // An event when there is one; in between, once a second, the running steps' elapsed times move on.
            while (!events.IsCompleted)
            {
                if (events.TryTake(out var e, 1000)) progress.Show(e, LogFormat == "Json");
                else progress.Refresh();
            }
        }
        catch (PipelineStoppedException)
        {
            // Ctrl+C (StopProcessing cancelled the run): let the runner stop the steps and record the run as cancelled
            // (resumable) before the pipeline ends; its metrics are written too.
            try
            {
                task.Wait();
                if (metricsPath is not null) { _metricsRuns.Add(task.Result); MetricsWriter.Write(_metricsRuns, metricsPath); }
            }
            catch (Exception ex) when (ex is AggregateException or AxlMetricsException) { }
            throw;
        }

        AxlRun run;
        try
        {
            run = task.GetAwaiter().GetResult();
        }
        catch (AxlInvalidWorkflowException ex)
        {
            foreach (var d in ex.Diagnostics.Where(d => d.IsError)) WriteError(AxlErrors.FromDiagnostic(d, wf));
            return;
        }
        catch (AxlParameterException ex)
        {
            WriteError(new ErrorRecord(ex, "Axl.InvalidParameter", ErrorCategory.InvalidArgument, wf));
            return;
        }
        catch (AxlRunLockedException ex)
        {
            WriteError(new ErrorRecord(ex, "Axl.RunLocked", ErrorCategory.ResourceBusy, wf));
            return;
        }
        catch (AxlRunException ex)
        {
            WriteError(new ErrorRecord(ex, "Axl.RunNotStarted", ErrorCategory.InvalidOperation, wf));
            return;
        }
        catch (Axl.Images.AxlImageException ex)
        {
            // -Container: no engine, an image that cannot be had, or one with other code; nothing was run.
            WriteError(new ErrorRecord(ex, ex.Id, ex.Id switch
            {
                Axl.Images.ImageErrorIds.EngineUnavailable => ErrorCategory.ConnectionError,
                Axl.Images.ImageErrorIds.PullFailed => ErrorCategory.ObjectNotFound,
                Axl.Images.ImageErrorIds.InvalidTag => ErrorCategory.InvalidArgument,
                _ => ErrorCategory.InvalidData,
            }, wf));
            return;
        }
        if (metricsPath is not null)
        {
            _metricsRuns.Add(run);
            try { MetricsWriter.Write(_metricsRuns, metricsPath); }
            catch (AxlMetricsException ex) { WriteError(new ErrorRecord(ex, "Axl.MetricsNotWritten", ErrorCategory.WriteError, MetricsFile)); }
        }
        foreach (var failed in run.Failed)
            WriteError(new ErrorRecord(new AxlStepFailedException(run, failed), "Axl.StepFailed",
                failed.Error?.Kind == FailureKind.Timeout ? ErrorCategory.OperationTimeout : ErrorCategory.InvalidResult, failed));
        if (!PassThru)
        {
            WriteObject(run);
            return;
        }
        foreach (var leaf in wf.Steps.Where(s => wf.OutgoingEdges(s.Name).Count == 0))
            if (run.GetStep(leaf.Name) is { Status: StepStatus.Succeeded }) WriteObject(run.GetOutput(leaf.Name), enumerateCollection: true);
    }
}

/// <summary>The default run root of a cmdlet: $env:AXL_RUN_ROOT, else .axl/runs under the current PowerShell location.</summary>
internal static class RunRoots
{
    public static string Default(PSCmdlet cmdlet) => RunOptions.DefaultRunRoot(cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath);
}

/// <summary>A failed step, for ErrorRecords: the step, the error, the script line and where its artifacts are.</summary>
public sealed class AxlStepFailedException(AxlRun run, AxlStepResult step)
    : Exception($"step '{step.Name}' of workflow '{run.Workflow}' (run {run.RunId}) failed after {step.Attempts} attempt(s): {step.Error}. Artifacts and logs are kept in {step.Directory}; fix the step and resume with -Resume {run.RunId}.")
{
    public AxlRun Run { get; } = run;
    public AxlStepResult Step { get; } = step;
}

/// <summary>
/// Turns run events into Write-Progress, verbose and information records on the pipeline thread, and writes what the
/// steps wrote on their streams (<see cref="StepStreamWriter"/>). The run's record says how many steps are done of
/// the total and which are running; every running step has a child record of its own (its elapsed time and attempt),
/// completed when the step ends; at the end of the run every record is completed.
/// </summary>
internal sealed class RunProgress
{
    private readonly AxlWorkflow wf;
    private readonly PSCmdlet cmdlet;
    private readonly Dictionary<string, (int Id, DateTimeOffset Since, int Attempt)> _running = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _order = new();
    private readonly Dictionary<string, int> _index;
    private readonly int _activityId;
    private readonly StepStreamWriter _streams;
    private int _done, _total;
    private bool _finished;

    public RunProgress(AxlWorkflow wf, PSCmdlet cmdlet)
    {
        this.wf = wf;
        this.cmdlet = cmdlet;
        _activityId = Math.Abs(wf.Name.GetHashCode()) % 10000 + 1;
        // What a step writes with Write-Progress goes under the step's own record while it runs.
        _streams = new StepStreamWriter(cmdlet, _activityId) { StepParent = step => _running.TryGetValue(step, out var r) ? r.Id : -1 };
        _index = wf.Steps.Select((s, i) => (s.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.OrdinalIgnoreCase);
        _total = wf.StepCount;
    }

    /// <summary>The activity of the run's record (steps' records are its children).</summary>
    public int ActivityId => _activityId;

    public void Show(RunEvent e, bool json)
    {
        if (e is { Kind: RunEventKind.StepLog, Step: { } step, Record: { } written })
        {
            // In JSON form the log line is the information record; the other streams keep their kind.
            if (json) cmdlet.WriteInformation(new InformationRecord(e.Json, "axl") { Tags = { "axl-log" } });
            if (!json || written.Stream is not (StepStream.Information or StepStream.Stderr)) _streams.Write(step, written);
            return;
        }
        if (json) cmdlet.WriteInformation(new InformationRecord(e.Json, "axl") { Tags = { "axl-log" } });
        else if (e.Kind == RunEventKind.StepRetrying) cmdlet.WriteWarning(e.Message);
        else cmdlet.WriteVerbose(e.Message);

        _done = e.Done;
        _total = e.Total;
        var now = DateTimeOffset.UtcNow;
        if (e.Step is { } name)
        {
            switch (e.Kind)
            {
                case RunEventKind.StepStarted:
                    if (!_running.ContainsKey(name)) _order.Add(name);
                    _running[name] = (StepActivity(name), now, 1);
                    break;
                case RunEventKind.StepRetrying when _running.TryGetValue(name, out var r):
                    _running[name] = r with { Attempt = r.Attempt + 1 };
                    break;
                case RunEventKind.StepSucceeded or RunEventKind.StepFailed or RunEventKind.StepSkipped or RunEventKind.StepReused:
                    if (_running.Remove(name, out var ended))
                    {
                        _order.Remove(name);
                        cmdlet.WriteProgress(new ProgressRecord(ended.Id, $"step '{name}'", e.Kind.ToString()["Step".Length..].ToLowerInvariant())
                            { ParentActivityId = _activityId, RecordType = ProgressRecordType.Completed });
                    }
                    break;
            }
        }
        if (e.Kind == RunEventKind.RunFinished)
        {
            foreach (var name2 in _order)
                cmdlet.WriteProgress(new ProgressRecord(_running[name2].Id, $"step '{name2}'", "ended") { ParentActivityId = _activityId, RecordType = ProgressRecordType.Completed });
            _running.Clear();
            _order.Clear();
            cmdlet.WriteProgress(new ProgressRecord(_activityId, Activity, $"{_done} of {_total} steps done") { PercentComplete = 100, RecordType = ProgressRecordType.Completed });
            _finished = true;
            return;
        }
        Write(now, e.Kind == RunEventKind.StepStarted ? e.Step : null);
    }

    /// <summary>Between events: the records again, with the running steps' elapsed times moved on.</summary>
    public void Refresh()
    {
        if (!_finished && _running.Count > 0) Write(DateTimeOffset.UtcNow, null);
    }

    private string Activity => $"Axl: running workflow '{wf.Name}'";

    private void Write(DateTimeOffset now, string? started)
    {
        var running = _order.Count > 0 ? $"running: {string.Join(", ", _order.Take(5))}{(_order.Count > 5 ? $" and {_order.Count - 5} more" : "")}" : "";
        cmdlet.WriteProgress(new ProgressRecord(_activityId, Activity, $"{_done} of {_total} steps done" + (running.Length > 0 ? "; " + running : ""))
        {
            PercentComplete = _total == 0 ? 100 : Math.Min(100, _done * 100 / _total),
            CurrentOperation = running.Length > 0 ? running : null,
        });
        foreach (var name in _order)
        {
            var (id, since, attempt) = _running[name];
            cmdlet.WriteProgress(new ProgressRecord(id, $"step '{name}'", $"running for {Elapsed(now - since)}{(attempt > 1 ? $" (attempt {attempt})" : "")}")
            {
                ParentActivityId = _activityId,
            });
        }
    }

    /// <summary>The child activity of a step: its own id range, apart from the run's and from the steps' own progress records.</summary>
    private int StepActivity(string step) => 20_000_000 + _activityId * 1000 + (_index.TryGetValue(step, out var i) ? i % 1000 : 999);

    private static string Elapsed(TimeSpan t) =>
        t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s" : $"{Math.Max(0, t.TotalSeconds).ToString("0", System.Globalization.CultureInfo.InvariantCulture)}s";
}
