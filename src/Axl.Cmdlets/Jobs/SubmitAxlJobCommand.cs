using System.Collections;
using System.Management.Automation;
using Axl.Cmdlets.Runs;
using Axl.Cmdlets.Workflows;
using Axl.Jobs;
using Axl.Model;

namespace Axl.Cmdlets.Jobs;

/// <summary>Submits workflows or job specs to a target and outputs an AxlJob per job (also added to the session's jobs: Get-Job).</summary>
[Cmdlet(VerbsLifecycle.Submit, "AxlJob", DefaultParameterSetName = SpecSet, SupportsShouldProcess = true)]
[OutputType(typeof(AxlJob))]
public sealed class SubmitAxlJobCommand : PSCmdlet
{
    private const string SpecSet = "JobSpec";
    private const string WorkflowSet = "Workflow";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = SpecSet)]
    public AxlJobSpec[] JobSpec { get; set; } = Array.Empty<AxlJobSpec>();

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = WorkflowSet)]
    public AxlWorkflow[] Workflow { get; set; } = Array.Empty<AxlWorkflow>();

    /// <summary>Name of the job (default: the spec's name, or the workflow's).</summary>
    [Parameter] public string? Name { get; set; }
    [Parameter] public Hashtable? Parameters { get; set; }
    [Parameter] public Hashtable? Overrides { get; set; }
    /// <summary>A string, not the Core enum (see New-AxlJobSpec): overrides the target of the specs.</summary>
    [Parameter] [ValidateSet("Local", "Argo", "Queue", "Kfp")] public string? Target { get; set; }
    [Parameter] public string? RunRoot { get; set; }
    /// <summary>Queue target: the Redis server of the queue (host:port); default $env:AXL_REDIS.</summary>
    [Parameter] public string? QueueEndpoint { get; set; }
    /// <summary>Kfp target: the base URL of the KFP API (http://host:port); default $env:AXL_KFP_ENDPOINT.</summary>
    [Parameter] public string? Endpoint { get; set; }

    protected override void ProcessRecord()
    {
        var specs = ParameterSetName == WorkflowSet ? Workflow.Select(FromWorkflow).Where(s => s is not null).Select(s => s!) : JobSpec.Select(Adjust);
        foreach (var spec in specs) SubmitOne(spec);
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

    private void SubmitOne(AxlJobSpec spec)
    {
        var problems = spec.Validate();
        if (problems.Count > 0)
        {
            WriteError(JobErrors.InvalidSpec(new AxlJobSpecException(string.Join(" ", problems)), spec));
            return;
        }
        var parameters = spec.EffectiveParameters();
        var what = $"job '{spec.Name}': workflow {spec.WorkflowReference}" +
                   (parameters.Count > 0 ? $" with {string.Join(", ", parameters.OrderBy(k => k.Key, StringComparer.OrdinalIgnoreCase).Select(kv => $"{kv.Key}={Show(kv.Value)}"))}" : "") +
                   (spec.Resources.IsEmpty ? "" : $" ({spec.Resources})");
        if (!ShouldProcess(what, $"Submit to target {spec.Target}")) return;
        var job = JobLauncher.Submit(this, spec, RunRoot, queueEndpoint: QueueEndpoint, kfpEndpoint: Endpoint);
        if (job is not null) WriteObject(job);
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
    public static AxlJob? Submit(PSCmdlet cmdlet, AxlJobSpec spec, string? runRoot, string? runId = null, string? queueEndpoint = null, string? kfpEndpoint = null)
    {
        IJobTarget target;
        try { target = JobTargets.Get(spec.Target); }
        catch (NotSupportedException ex)
        {
            cmdlet.WriteError(new ErrorRecord(ex, "Axl.JobTargetNotAvailable", ErrorCategory.NotImplemented, spec));
            return null;
        }
        var cwd = cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        var options = new JobSubmitOptions
        {
            RunRoot = RootOf(cmdlet, runRoot),
            WorkingDirectory = cwd,
            RunId = runId,
            QueueEndpoint = queueEndpoint,
            KfpEndpoint = kfpEndpoint,
            WorkflowLoader = (path, name) => Axl.Dsl.WorkflowLoader.Load(cmdlet.SessionState, path, name)[0],
        };
        IJobHandle handle;
        try { handle = target.Submit(spec, options); }
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
        catch (Exception ex) when (ex is FileNotFoundException or System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException
                                   or Axl.Jobs.Queue.JobQueueException)
        {
            cmdlet.WriteError(new ErrorRecord(ex, "Axl.JobNotStarted", ErrorCategory.ResourceUnavailable, spec));
            return null;
        }
        var job = new AxlJob(handle, $"Submit-AxlJob {spec.WorkflowReference} -Target {spec.Target}");
        cmdlet.JobRepository.Add(job);
        return job;
    }

    public static string RootOf(PSCmdlet cmdlet, string? runRoot) =>
        runRoot is null ? Path.GetFullPath(RunRoots.Default(cmdlet)) : cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(runRoot);
}

/// <summary>The Axl jobs of this session (those in its job repository), by name, id or state.</summary>
[Cmdlet(VerbsCommon.Get, "AxlJob", DefaultParameterSetName = "Name")]
[OutputType(typeof(AxlJob))]
public sealed class GetAxlJobCommand : PSCmdlet
{
    [Parameter(Position = 0, ParameterSetName = "Name")]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "Id")]
    public int[] Id { get; set; } = Array.Empty<int>();

    [Parameter] public JobState? State { get; set; }

    protected override void ProcessRecord()
    {
        var jobs = JobRepository.Jobs.OfType<AxlJob>();
        if (ParameterSetName == "Id") jobs = jobs.Where(j => Id.Contains(j.Id));
        else if (Name is { Length: > 0 })
        {
            var patterns = Name.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
            jobs = jobs.Where(j => patterns.Any(p => p.IsMatch(j.Name)));
        }
        if (State is { } s) jobs = jobs.Where(j => j.JobStateInfo.State == s);
        foreach (var j in jobs.OrderBy(j => j.Id)) WriteObject(j);
    }
}

/// <summary>Waits for Axl jobs to end and outputs their JobResults.</summary>
[Cmdlet(VerbsLifecycle.Wait, "AxlJob")]
[OutputType(typeof(JobResult))]
public sealed class WaitAxlJobCommand : PSCmdlet
{
    private readonly CancellationTokenSource _cancel = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public AxlJob[] Job { get; set; } = Array.Empty<AxlJob>();

    /// <summary>Seconds to wait for each job (-1: no limit).</summary>
    [Parameter] [ValidateRange(-1, int.MaxValue)] public int Timeout { get; set; } = -1;

    protected override void ProcessRecord()
    {
        foreach (var job in Job)
        {
            bool done;
            try { done = job.WaitForResult(Timeout < 0 ? System.Threading.Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(Timeout), _cancel.Token); }
            catch (OperationCanceledException) { return; }
            if (!done || job.Result is null)
            {
                WriteError(new ErrorRecord(new TimeoutException($"job '{job.Name}' (id {job.Id}) did not end within {Timeout} s; it is {job.Status.ToString().ToLowerInvariant()}. Wait again, or stop it with Stop-Job."),
                    "Axl.JobTimeout", ErrorCategory.OperationTimeout, job));
                continue;
            }
            WriteObject(job.Result);
        }
    }

    protected override void StopProcessing() => _cancel.Cancel();
}
