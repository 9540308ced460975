using Axl.Cmdlets.Completion;
using System.Collections;
using System.Management.Automation;
using Axl.Cmdlets.Runs;
using Axl.Cmdlets.Workflows;
using Axl.Compilers.Argo;
using Axl.Jobs;
using Axl.Jobs.Argo;
using Axl.Jobs.Envelopes;
using Axl.Jobs.Queue;
using Axl.Model;

namespace Axl.Cmdlets.Jobs;

/// <summary>
/// Submits workflows, job specs, compiled Argo workflows or job envelopes to a target and outputs an AxlJob per job
/// (also added to the session's jobs: Get-Job). Envelopes sent to an AGQ server (-Protocol Agq) give the server's job id.
/// </summary>
[Cmdlet(VerbsLifecycle.Submit, "AxlJob", DefaultParameterSetName = SpecSet, SupportsShouldProcess = true, HelpUri = AxlHelp.OnlineBase + "Submit-AxlJob.md")]
[OutputType(typeof(AxlJob), typeof(AgqSubmission))]
public sealed class SubmitAxlJobCommand : PSCmdlet
{
    private const string SpecSet = "JobSpec";
    private const string WorkflowSet = "Workflow";
    private const string ManifestSet = "Manifest";
    private const string EnvelopeSet = "Envelope";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = SpecSet)]
    public AxlJobSpec[] JobSpec { get; set; } = Array.Empty<AxlJobSpec>();

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = WorkflowSet)]
    public AxlWorkflow[] Workflow { get; set; } = Array.Empty<AxlWorkflow>();

    /// <summary>Compiled Argo Workflows (ConvertTo-ArgoWorkflow): submitted as they are to -Target Argo.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ManifestSet)]
    public ArgoDocument[] Manifest { get; set; } = Array.Empty<ArgoDocument>();

    /// <summary>Job envelopes (ConvertTo-AxlJobEnvelope): put on the queue as they are (-Target Queue).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = EnvelopeSet)]
    public JobEnvelope[] Envelope { get; set; } = Array.Empty<JobEnvelope>();

    /// <summary>Name of the job (default: the spec's name, or the workflow's).</summary>
    [Parameter] public string? Name { get; set; }
    [Parameter] [ArgumentCompleter(typeof(WorkflowParameterCompleter))] public Hashtable? Parameters { get; set; }
    [Parameter] [ArgumentCompleter(typeof(WorkflowParameterCompleter))] public Hashtable? Overrides { get; set; }
    /// <summary>A string, not the Core enum (see New-AxlJobSpec): overrides the target of the specs.</summary>
    [Parameter] [ValidateSet("Local", "Argo", "Queue", "Kfp")] public string? Target { get; set; }
    [Parameter] public string? RunRoot { get; set; }

    /// <summary>
    /// Per-target settings (Argo, Queue and Kfp sections): an AxlJobOption (New-AxlJobOption) or a hashtable such as
    /// @{ Argo = @{ Namespace = 'team-a' } }; default $AxlJobOption. The flat parameters below override it when bound.
    /// </summary>
    [Parameter] public AxlJobOption? Option { get; set; }

    /// <summary>Queue target: the Redis server of the queue (host:port), or the AGQ server with -Protocol Agq; default $env:AXL_REDIS (Option: Queue.Endpoint).</summary>
    [Parameter] public string? QueueEndpoint { get; set; }
    /// <summary>Queue target: Redis (Axl's own workers; default) or Agq (an AGQ server over RESP: PLAN.SUBMIT/JOB.SUBMIT).</summary>
    [Parameter] [ValidateSet("Redis", "Agq")] public string? Protocol { get; set; }
    /// <summary>AGQ: the session key sent with AUTH first.</summary>
    [Parameter] public string? SessionKey { get; set; }
    /// <summary>AGQ: the submit verb, PLAN.SUBMIT (default) or JOB.SUBMIT.</summary>
    [Parameter] [ValidateSet("PLAN.SUBMIT", "JOB.SUBMIT")] public string? AgqVerb { get; set; }

    /// <summary>Argo target: the kubeconfig (default $env:KUBECONFIG, ~/.kube/config, else the pod's service account).</summary>
    [Parameter] public string? KubeConfig { get; set; }
    /// <summary>Argo target: the kubeconfig context (default: its current context).</summary>
    [Parameter] public string? KubeContext { get; set; }
    /// <summary>Argo target: the namespace (default: the context's, else "default").</summary>
    [Parameter] public string? Namespace { get; set; }
    /// <summary>Argo target: the runner image of steps without their own -Image.</summary>
    [Parameter] public string? Image { get; set; }
    /// <summary>Argo target: the pods' service account.</summary>
    [Parameter] public string? ServiceAccount { get; set; }
    /// <summary>Argo target: where the code archive is (Publish-AxlWorkflowCode): the code reaches the pods as an artifact.</summary>
    [Parameter] public Axl.Delivery.CodeArchiveLocation? CodeArchive { get; set; }
    /// <summary>Argo target: the largest Workflow accepted (default 1 MiB, etcd's practical limit).</summary>
    [Parameter] [ValidateRange(1, long.MaxValue)] public long? MaxBytes { get; set; }
    /// <summary>Argo target: the most templates one object may hold (Argo v4's full CRDs: 200); more splits the workflow into WorkflowTemplates.</summary>
    [Parameter] [ValidateRange(3, int.MaxValue)] public int? MaxTemplates { get; set; }
    /// <summary>Argo target: the most tasks one DAG may hold (Argo v4's full CRDs: 200); more splits the workflow.</summary>
    [Parameter] [ValidateRange(2, int.MaxValue)] public int? MaxDagTasks { get; set; }
    /// <summary>Argo target: Auto (default) splits a workflow over a limit into WorkflowTemplates installed before the run; None refuses it.</summary>
    /// <remarks>A string, not the Core enum: a field of a Core value type would load Axl.Core before the module's resolver.</remarks>
    [Parameter] [ValidateSet("Auto", "None")] public string? Split { get; set; }
    /// <summary>Argo target: how many pods run at once (spec.parallelism; a split workflow's default is 100; 0: no limit).</summary>
    [Parameter] [ValidateRange(0, int.MaxValue)] public int? Parallelism { get; set; }
    /// <summary>Argo target: what Stop-Job asks for: Stop (default; exit handlers run) or Terminate.</summary>
    [Parameter] [ValidateSet("Stop", "Terminate")] public string? Shutdown { get; set; }
    /// <summary>Argo target: how often the workflow's status is read (default 2 s).</summary>
    [Parameter] public TimeSpan? PollInterval { get; set; }
    /// <summary>Kfp target: the base URL of the KFP API (http://host:port); default $env:AXL_KFP_ENDPOINT.</summary>
    [Parameter] public string? Endpoint { get; set; }
    /// <summary>Local target: the job's axl process goes on after this session ends (by default it ends with it).</summary>
    [Parameter] public SwitchParameter Detached { get; set; }

    /// <summary>The options in force: $AxlJobOption, then -Option, then the bound flat parameters.</summary>
    private AxlJobOption _option = new();

    protected override void BeginProcessing()
    {
        _option = JobOptions.Resolve(this, Option, FlatOptions());
    }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case WorkflowSet:
                foreach (var spec in Workflow.Select(FromWorkflow)) if (spec is not null) SubmitSpec(spec);
                break;
            case ManifestSet:
                foreach (var doc in Manifest) SubmitManifest(doc);
                break;
            case EnvelopeSet:
                foreach (var envelope in Envelope) SubmitEnvelope(envelope);
                break;
            default:
                foreach (var spec in JobSpec.Select(Adjust)) SubmitSpec(spec);
                break;
        }
    }

    private AxlJobSpec? FromWorkflow(AxlWorkflow wf)
    {
        if (wf.SourceFile is null)
        {
            WriteError(new ErrorRecord(new AxlJobSpecException($"Workflow '{wf.Name}' was not loaded from a file; a job runs it in another process, which needs the file. Fix: save it as a .axl.ps1 file and load it with Get-AxlWorkflow.", "workflowPath"),
                "Axl.InvalidJobSpec", ErrorCategory.InvalidArgument, wf));
            return null;
        }
        return new AxlJobSpec
        {
            Name = Name ?? wf.Name,
            WorkflowPath = wf.SourceFile,
            WorkflowName = wf.Name,
            Parameters = JobValues.ToMap(Parameters),
            Overrides = JobValues.ToMap(Overrides),
            Target = Target is null ? JobTargetKind.Local : JobValues.TargetKind(Target),
        };
    }

    private AxlJobSpec Adjust(AxlJobSpec original)
    {
        var spec = original.Clone();
        if (Name is not null) spec.Name = Name;
        if (Target is not null) spec.Target = JobValues.TargetKind(Target);
        foreach (var kv in JobValues.ToMap(Parameters)) spec.Parameters[kv.Key] = kv.Value;
        foreach (var kv in JobValues.ToMap(Overrides)) spec.Overrides[kv.Key] = kv.Value;
        return spec;
    }

    private void SubmitSpec(AxlJobSpec spec)
    {
        var problems = spec.Validate();
        if (problems.Count > 0)
        {
            WriteError(JobErrors.InvalidSpec(new AxlJobSpecException(string.Join(" ", problems)), spec));
            return;
        }
        if (spec.Target == JobTargetKind.Argo)
        {
            // Compiled first, so -WhatIf names every object the submit creates (a split workflow's templates too).
            var options = Options();
            ArgoDocument? doc = null;
            Emit(JobLauncher.Submit(this, spec, options, (target, o) =>
            {
                doc = ArgoJobTarget.Compile(spec, o);
                return ShouldProcess(Describe(spec, $"workflow {spec.WorkflowReference} as {ArgoJobTarget.DescribeObjects(doc)}"), "Submit to target Argo")
                    ? Installed(((ArgoJobTarget)target).SubmitDocument(doc, spec, o))
                    : null;
            }));
            return;
        }
        if (!ShouldProcess(Describe(spec, $"workflow {spec.WorkflowReference}"), $"Submit to target {spec.Target}")) return;
        if (spec.Target == JobTargetKind.Queue && _option.Queue.Protocol == "Agq")
        {
            WriteError(new ErrorRecord(new AxlJobSpecException("-Protocol Agq sends job envelopes: convert the workflow first (ConvertTo-AxlJobEnvelope | Submit-AxlJob -Protocol Agq).", "target"),
                "Axl.InvalidJobSpec", ErrorCategory.InvalidArgument, spec));
            return;
        }
        Emit(JobLauncher.Submit(this, spec, Options(), (target, options) => target.Submit(spec, options)));
    }

    private void SubmitManifest(ArgoDocument doc)
    {
        if (Target is { } t && JobValues.TargetKind(t) != JobTargetKind.Argo)
        {
            WriteError(new ErrorRecord(new AxlJobSpecException($"'{doc.Name}' is a compiled Argo {doc.Kind}: it can only go to -Target Argo (got -Target {t}). Fix: drop -Target, or submit the workflow itself (Get-AxlWorkflow ... | Submit-AxlJob -Target {t}).", "target"),
                "Axl.InvalidJobSpec", ErrorCategory.InvalidArgument, doc));
            return;
        }
        var spec = new AxlJobSpec
        {
            Name = Name ?? doc.Workflow, WorkflowName = doc.Workflow, Target = JobTargetKind.Argo,
            Parameters = JobValues.ToMap(Parameters), Overrides = JobValues.ToMap(Overrides),
        };
        if (!ShouldProcess(Describe(spec, $"compiled {doc} as {ArgoJobTarget.DescribeObjects(doc)}"), "Submit to target Argo")) return;
        Emit(JobLauncher.Submit(this, spec, Options(), (target, options) => Installed(((ArgoJobTarget)target).SubmitDocument(doc, spec, options))));
    }

    private void SubmitEnvelope(JobEnvelope envelope)
    {
        if (Target is { } t && JobValues.TargetKind(t) != JobTargetKind.Queue)
        {
            WriteError(new ErrorRecord(new AxlJobSpecException($"Job envelope {envelope.JobId} goes to a queue: it can only go to -Target Queue (got -Target {t}).", "target"),
                "Axl.InvalidJobSpec", ErrorCategory.InvalidArgument, envelope));
            return;
        }
        if (Parameters is { Count: > 0 } || Overrides is { Count: > 0 })
        {
            WriteError(new ErrorRecord(new AxlJobSpecException($"Job envelope {envelope.JobId} has its parameter values in its tasks already. Fix: give -Parameters to ConvertTo-AxlJobEnvelope instead.", "parameters"),
                "Axl.InvalidJobSpec", ErrorCategory.InvalidArgument, envelope));
            return;
        }
        var queue = _option.Queue;
        var verb = queue.AgqVerb ?? AgqClient.PlanSubmit;
        var agq = queue.Protocol == "Agq";
        var where = agq ? $"AGQ server {queue.Endpoint ?? "(none)"} ({verb})" : "target Queue";
        if (!ShouldProcess($"job envelope {envelope}", $"Submit to {where}")) return;
        if (agq)
        {
            if (queue.Endpoint is not { } server)
            {
                WriteError(new ErrorRecord(new AxlJobSpecException("-Protocol Agq needs the AGQ server: give -QueueEndpoint host:port (or -Option @{ Queue = @{ Endpoint = 'host:port' } }).", "queueEndpoint"), "Axl.InvalidJobSpec", ErrorCategory.InvalidArgument, envelope));
                return;
            }
            try { WriteObject(QueueJobTarget.SubmitToAgq(envelope, server, queue.SessionKey, verb)); }
            catch (JobQueueException ex) { WriteError(new ErrorRecord(ex, "Axl.AgqRejected", ErrorCategory.ResourceUnavailable, envelope)); }
            catch (JobEnvelopeException ex) { WriteError(new ErrorRecord(ex, "Axl.InvalidJobEnvelope", ErrorCategory.InvalidData, envelope)); }
            catch (ArgumentException ex) { WriteError(new ErrorRecord(ex, "Axl.InvalidJobSpec", ErrorCategory.InvalidArgument, server)); }
            return;
        }
        var spec = new AxlJobSpec { Name = Name ?? envelope.PlanDescription ?? envelope.JobId, Target = JobTargetKind.Queue };
        Emit(JobLauncher.Submit(this, spec, Options(), (target, options) => ((QueueJobTarget)target).SubmitEnvelope(envelope, spec, null, options)));
    }

    /// <summary>Says (-Verbose) what the submit did with each WorkflowTemplate of a split workflow.</summary>
    private IJobHandle Installed(IJobHandle handle)
    {
        if (handle is ArgoJobHandle argo)
            foreach (var t in argo.Templates) WriteVerbose($"WorkflowTemplate {t.Name} in namespace {argo.Namespace}: {t.Action.ToString().ToLowerInvariant()}");
        return handle;
    }

    private void Emit(AxlJob? job)
    {
        if (job is not null) WriteObject(job);
    }

    private JobSubmitOptions Options() => JobOptions.Apply(this, _option, new JobSubmitOptions
    {
        RunRoot = JobLauncher.RootOf(this, RunRoot),
        WorkingDirectory = SessionState.Path.CurrentFileSystemLocation.ProviderPath,
        Detached = Detached,
        WorkflowLoader = (path, name) => Axl.Dsl.WorkflowLoader.Load(SessionState, path, name)[0],
        StepPreferences = Runs.StepPreferencesOf.Get(this),
    });

    /// <summary>The per-target parameters given on the command line, as an option layer (those not given are empty).</summary>
    private AxlJobOption FlatOptions()
    {
        var o = new AxlJobOption();
        var (a, q) = (o.Argo, o.Queue);
        (q.Endpoint, q.Protocol, q.SessionKey, q.AgqVerb) = (QueueEndpoint, Protocol, SessionKey, AgqVerb);
        (a.KubeConfig, a.KubeContext, a.Namespace, a.Image, a.ServiceAccount, a.CodeArchive) = (KubeConfig, KubeContext, Namespace, Image, ServiceAccount, CodeArchive);
        (a.MaxBytes, a.MaxTemplates, a.MaxDagTasks, a.Split, a.Parallelism, a.Shutdown, a.PollInterval) = (MaxBytes, MaxTemplates, MaxDagTasks, Split, Parallelism, Shutdown, PollInterval);
        o.Kfp.Endpoint = Endpoint;
        return o;
    }

    private string Describe(AxlJobSpec spec, string what)
    {
        var parameters = spec.EffectiveParameters();
        return $"job '{spec.Name}': {what}" +
               (parameters.Count > 0 ? $" with {string.Join(", ", parameters.OrderBy(k => k.Key, StringComparer.OrdinalIgnoreCase).Select(kv => $"{kv.Key}={Show(kv.Value)}"))}" : "") +
               (spec.Resources.IsEmpty ? "" : $" ({spec.Resources})");
    }

    private static string Show(object? v) => v switch
    {
        null => "$null",
        string s => s,
        IEnumerable e => "(" + string.Join(", ", e.Cast<object?>().Select(Show)) + ")",
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}

/// <summary>Submits a spec to its target and adds the AxlJob to the session's job repository.</summary>
internal static class JobLauncher
{
    /// <summary>
    /// Starts a job with <paramref name="start"/> on the spec's target (null from it: nothing started, as under
    /// -WhatIf); errors that keep it from starting become error records.
    /// </summary>
    public static AxlJob? Submit(PSCmdlet cmdlet, AxlJobSpec spec, JobSubmitOptions options, Func<IJobTarget, JobSubmitOptions, IJobHandle?> start)
    {
        IJobTarget target;
        try { target = JobTargets.Get(spec.Target); }
        catch (NotSupportedException ex)
        {
            cmdlet.WriteError(new ErrorRecord(ex, "Axl.JobTargetNotAvailable", ErrorCategory.NotImplemented, spec));
            return null;
        }
        IJobHandle? handle;
        try { handle = start(target, options); }
        catch (AxlJobSpecException ex)
        {
            cmdlet.WriteError(JobErrors.InvalidSpec(ex, spec));
            return null;
        }
        catch (Axl.Dsl.AxlLoadException ex)
        {
            cmdlet.WriteError(new ErrorRecord(ex, ex.Id, ErrorCategory.InvalidData, spec));
            return null;
        }
        catch (JobEnvelopeException ex)
        {
            cmdlet.WriteError(new ErrorRecord(ex, "Axl.InvalidJobEnvelope", ErrorCategory.InvalidData, spec));
            return null;
        }
        catch (Exception ex) when (ex is FileNotFoundException or System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException
                                   or JobQueueException or ArgoClusterException)
        {
            var id = ex switch
            {
                ArgoClusterException { StatusCode: not null } => "Axl.ClusterRefused",
                ArgoClusterException => "Axl.ClusterUnavailable",
                _ => "Axl.JobNotStarted",
            };
            cmdlet.WriteError(new ErrorRecord(ex, id, ErrorCategory.ResourceUnavailable, spec));
            return null;
        }
        if (handle is null) return null;
        var job = new AxlJob(handle, $"Submit-AxlJob {(spec.WorkflowReference is { Length: > 0 } w ? w : spec.Name)} -Target {spec.Target}");
        cmdlet.JobRepository.Add(job);
        job.EndWith(System.Management.Automation.Runspaces.Runspace.DefaultRunspace);
        return job;
    }

    public static string RootOf(PSCmdlet cmdlet, string? runRoot) =>
        runRoot is null ? Path.GetFullPath(RunRoots.Default(cmdlet)) : cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(runRoot);
}

/// <summary>The Axl jobs of this session (those in its job repository), by name, id or state.</summary>
[Cmdlet(VerbsCommon.Get, "AxlJob", DefaultParameterSetName = "Name", HelpUri = AxlHelp.OnlineBase + "Get-AxlJob.md")]
[OutputType(typeof(AxlJob))]
public sealed class GetAxlJobCommand : PSCmdlet
{
    [Parameter(Position = 0, ParameterSetName = "Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(JobNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "Id")]
    [ArgumentCompleter(typeof(JobNameCompleter))]
    public int[] Id { get; set; } = Array.Empty<int>();

    [Parameter] public JobState? State { get; set; }

    protected override void ProcessRecord()
    {
        var jobs = JobRepository.Jobs.OfType<AxlJob>().OrderBy(j => j.Id).ToList();
        // Like Get-Job: an id, or a name without wildcards, that matches no Axl job writes ObjectNotFound.
        if (ParameterSetName == "Id")
        {
            foreach (var id in Id.Where(id => !jobs.Any(j => j.Id == id)).Distinct())
                WriteError(new ErrorRecord(new ItemNotFoundException($"There is no Axl job with id {id}. Fix: list them with Get-AxlJob (Get-Job lists every job of the session)."),
                    "Axl.JobNotFound", ErrorCategory.ObjectNotFound, id));
            jobs = jobs.Where(j => Id.Contains(j.Id)).ToList();
        }
        else
        {
            var names = new NameFilter(Name);
            jobs = jobs.Where(j => names.IsMatch(j.Name)).ToList();
            foreach (var name in names.Unmatched)
                WriteError(new ErrorRecord(new ItemNotFoundException($"There is no Axl job named '{name}'. Fix: list them with Get-AxlJob (Get-Job lists every job of the session)."),
                    "Axl.JobNotFound", ErrorCategory.ObjectNotFound, name));
        }
        if (State is { } s) jobs = jobs.Where(j => j.JobStateInfo.State == s).ToList();
        foreach (var j in jobs) WriteObject(j);
    }
}

/// <summary>Waits for Axl jobs to end and outputs their JobResults.</summary>
[Cmdlet(VerbsLifecycle.Wait, "AxlJob", HelpUri = AxlHelp.OnlineBase + "Wait-AxlJob.md")]
[OutputType(typeof(JobResult))]
public sealed class WaitAxlJobCommand : PSCmdlet
{
    private readonly CancellationTokenSource _cancel = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public AxlJob[] Job { get; set; } = Array.Empty<AxlJob>();

    /// <summary>Seconds to wait for each job (-1: no limit).</summary>
    [Parameter] [ValidateRange(-1, int.MaxValue)] public int Timeout { get; set; } = -1;

    private readonly List<AxlJob> _jobs = new();

    // The jobs piped in are all known before the wait starts: the progress record counts them all.
    protected override void ProcessRecord() => _jobs.AddRange(Job.Where(j => !_jobs.Contains(j)));

    protected override void EndProcessing()
    {
        var activity = Math.Abs(string.Join(",", _jobs.Select(j => j.InstanceId)).GetHashCode()) % 10000 + 1;
        var progress = new JobWaitProgress(this, _jobs, activity);
        try
        {
            foreach (var job in _jobs)
            {
                // Wait in short slices: between them, the progress record (jobs done of total, the running ones) moves on.
                var limit = Timeout < 0 ? (DateTimeOffset?)null : DateTimeOffset.UtcNow.AddSeconds(Timeout);
                bool done;
                while (true)
                {
                    progress.Write();
                    var slice = limit is { } l ? TimeSpan.FromTicks(Math.Max(0, Math.Min((l - DateTimeOffset.UtcNow).Ticks, TimeSpan.FromMilliseconds(500).Ticks))) : TimeSpan.FromMilliseconds(500);
                    try { done = job.WaitForResult(slice, _cancel.Token); }
                    catch (OperationCanceledException) { return; }
                    if (done || limit is { } end && DateTimeOffset.UtcNow >= end) break;
                }
                if (!done || job.Result is null)
                {
                    WriteError(new ErrorRecord(new TimeoutException($"job '{job.Name}' (id {job.Id}) did not end within {Timeout} s; it is {job.Status.ToString().ToLowerInvariant()}. Wait again, or stop it with Stop-Job."),
                        "Axl.JobTimeout", ErrorCategory.OperationTimeout, job));
                    continue;
                }
                WriteObject(job.Result);
            }
        }
        finally
        {
            if (!_cancel.IsCancellationRequested) progress.Complete();
        }
    }

    protected override void StopProcessing() => _cancel.Cancel();
}

/// <summary>
/// Wait-AxlJob's progress: one record for the wait (jobs done of total, the running ones by name) and a child record
/// per job that is not done (its status, how long it has run, the last thing its run reported).
/// </summary>
internal sealed class JobWaitProgress(PSCmdlet cmdlet, IReadOnlyList<AxlJob> jobs, int activityId)
{
    private readonly HashSet<AxlJob> _shown = new();

    public void Write()
    {
        var done = jobs.Count(IsDone);
        var running = jobs.Where(j => !IsDone(j)).ToList();
        var names = running.Count == 0 ? "" : $"waiting for: {string.Join(", ", running.Take(5).Select(j => j.Name))}{(running.Count > 5 ? $" and {running.Count - 5} more" : "")}";
        cmdlet.WriteProgress(new ProgressRecord(activityId, "Axl: waiting for jobs", $"{done} of {jobs.Count} jobs done" + (names.Length > 0 ? "; " + names : ""))
        {
            PercentComplete = jobs.Count == 0 ? 100 : done * 100 / jobs.Count,
            CurrentOperation = names.Length > 0 ? names : null,
        });
        for (int i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            var id = ChildId(i);
            if (IsDone(job))
            {
                if (_shown.Remove(job))
                    cmdlet.WriteProgress(new ProgressRecord(id, $"job '{job.Name}'", job.Status.ToString().ToLowerInvariant()) { ParentActivityId = activityId, RecordType = ProgressRecordType.Completed });
                continue;
            }
            var since = job.PSBeginTime is { } b ? DateTime.Now - b : (TimeSpan?)null;
            var status = $"{job.Status.ToString().ToLowerInvariant()}{(since is { } t ? $" for {(int)t.TotalSeconds} s" : "")}{(job.LastEvent is { } last ? ": " + last : "")}";
            cmdlet.WriteProgress(new ProgressRecord(id, $"job '{job.Name}'", status) { ParentActivityId = activityId });
            _shown.Add(job);
        }
    }

    public void Complete()
    {
        for (int i = 0; i < jobs.Count; i++)
            if (_shown.Remove(jobs[i]))
                cmdlet.WriteProgress(new ProgressRecord(ChildId(i), $"job '{jobs[i].Name}'", jobs[i].Status.ToString().ToLowerInvariant()) { ParentActivityId = activityId, RecordType = ProgressRecordType.Completed });
        cmdlet.WriteProgress(new ProgressRecord(activityId, "Axl: waiting for jobs", $"{jobs.Count(IsDone)} of {jobs.Count} jobs done") { PercentComplete = 100, RecordType = ProgressRecordType.Completed });
    }

    private int ChildId(int index) => 30_000_000 + activityId * 1000 + index % 1000;

    private static bool IsDone(AxlJob j) => j.Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}
