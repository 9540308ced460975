using Axl.Cmdlets.Completion;
using System.Management.Automation;
using Axl.Cmdlets.Workflows;
using Axl.Jobs;
using Axl.Model;

namespace Axl.Cmdlets.Jobs;

/// <summary>Launches a group of job specs as a named experiment whose state is kept on disk.</summary>
[Cmdlet(VerbsLifecycle.Start, "AxlExperiment", SupportsShouldProcess = true, HelpUri = AxlHelp.OnlineBase + "Start-AxlExperiment.md")]
[OutputType(typeof(AxlExperiment))]
public sealed class StartAxlExperimentCommand : PSCmdlet
{
    private readonly List<AxlJobSpec> _specs = new();
    private readonly CancellationTokenSource _cancel = new();

    [Parameter(Mandatory = true, Position = 0)] public string Name { get; set; } = "";
    [Parameter(Mandatory = true, ValueFromPipeline = true)] public AxlJobSpec[] JobSpec { get; set; } = Array.Empty<AxlJobSpec>();
    [Parameter] [ValidateRange(1, 256)] public int ThrottleLimit { get; set; } = 2;
    [Parameter] public string? RunRoot { get; set; }
    /// <summary>Waits for every job to end, showing progress, then outputs the final state.</summary>
    [Parameter] public SwitchParameter Wait { get; set; }
    /// <summary>
    /// Per-target settings for the jobs (as Submit-AxlJob -Option: Argo, Queue and Kfp sections), an AxlJobOption or a
    /// hashtable; default $AxlJobOption; what neither sets comes from the environment, then the defaults.
    /// </summary>
    [Parameter] public AxlJobOption? Option { get; set; }

    private AxlJobOption _option = new();

    protected override void BeginProcessing() => _option = JobOptions.Resolve(this, Option, null);

    protected override void ProcessRecord() => _specs.AddRange(JobSpec);

    protected override void EndProcessing()
    {
        var jobs = new List<ExperimentJob>();
        var loaded = new Dictionary<string, AxlWorkflow?>(StringComparer.Ordinal);
        foreach (var original in _specs)
        {
            var problems = original.Validate();
            if (problems.Count > 0)
            {
                WriteError(JobErrors.InvalidSpec(new AxlJobSpecException(string.Join(" ", problems)), original));
                return;
            }
            var spec = original.Clone();
            spec.WorkflowPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(spec.WorkflowPath!);
            if (!loaded.TryGetValue(spec.WorkflowReference, out var wf))
                loaded[spec.WorkflowReference] = wf = WorkflowPathResolver.Load(this, spec.WorkflowReference, literal: true).FirstOrDefault();
            if (wf is null) return; // the load error was written
            spec.WorkflowName ??= wf.Name;
            loaded[spec.WorkflowReference] = wf;
            jobs.Add(new ExperimentJob { Name = spec.Name, Spec = spec, FinalSteps = FinalSteps(wf) });
        }
        var root = JobLauncher.RootOf(this, RunRoot);
        if (!ShouldProcess($"experiment '{Name}': {jobs.Count} job(s) ({string.Join(", ", jobs.Select(j => j.Name))}), at most {ThrottleLimit} at once, state in {AxlExperiment.DirectoryOf(root, Name)}", "Start")) return;
        AxlExperiment state;
        var cwd = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        // Targets that compile the workflow here (Argo, Kfp, Queue) get the workflows loaded above: the launcher runs on
        // its own thread, where this session's engine cannot be used. Endpoints and the rest come from -Option, else
        // $AxlJobOption, else the environment (KUBECONFIG, AXL_REDIS, AXL_KFP_ENDPOINT), as for Submit-AxlJob.
        var options = JobOptions.Apply(this, _option, new JobSubmitOptions
        {
            RunRoot = root,
            WorkingDirectory = cwd,
            WorkflowLoader = (path, name) => loaded.TryGetValue(new AxlJobSpec { WorkflowPath = path, WorkflowName = name }.WorkflowReference, out var w) && w is not null
                ? w : throw new AxlJobSpecException($"workflow {path}{(name is null ? "" : ":" + name)} was not loaded when the experiment started.", "workflowPath"),
        });
        try
        {
            state = ExperimentLauncher.Start(Name, jobs, root, cwd, ThrottleLimit, options);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
        {
            WriteError(new ErrorRecord(ex, "Axl.ExperimentNotStarted", ErrorCategory.InvalidOperation, Name));
            return;
        }
        WriteObject(Wait ? ExperimentWatch.Until(this, state.Directory, _cancel.Token) : state);
    }

    protected override void StopProcessing() => _cancel.Cancel();

    private static string[] FinalSteps(AxlWorkflow wf) => wf.Steps.Where(s => wf.OutgoingEdges(s.Name).Count == 0).Select(s => s.Name).ToArray();
}

/// <summary>Attaches to experiments on disk: their state with statuses refreshed from the run records, or a report.</summary>
[Cmdlet(VerbsCommon.Get, "AxlExperiment", HelpUri = AxlHelp.OnlineBase + "Get-AxlExperiment.md")]
[OutputType(typeof(AxlExperiment), typeof(ExperimentReportRow))]
public sealed class GetAxlExperimentCommand : PSCmdlet
{
    private readonly CancellationTokenSource _cancel = new();

    [Parameter(Position = 0)] [SupportsWildcards] [ArgumentCompleter(typeof(ExperimentNameCompleter))] public string[]? Name { get; set; }
    [Parameter] public string? RunRoot { get; set; }
    /// <summary>Outputs one report row per job instead of the experiment.</summary>
    [Parameter] public SwitchParameter Report { get; set; }
    /// <summary>Waits until every job ended, showing progress.</summary>
    [Parameter] public SwitchParameter Wait { get; set; }

    protected override void ProcessRecord()
    {
        var root = JobLauncher.RootOf(this, RunRoot);
        var names = AxlExperiment.Names(root).ToList();
        var filter = new NameFilter(Name);
        var matched = names.Where(filter.IsMatch).ToList();
        foreach (var missing in filter.Unmatched)
            WriteError(new ErrorRecord(new ItemNotFoundException($"There is no experiment '{missing}' under {root}. Fix: list them with Get-AxlExperiment; give -RunRoot if it was started with another run root."),
                "Axl.ExperimentNotFound", ErrorCategory.ObjectNotFound, missing));
        foreach (var name in matched)
        {
            var dir = AxlExperiment.DirectoryOf(root, name);
            AxlExperiment state;
            try { state = Wait ? ExperimentWatch.Until(this, dir, _cancel.Token) : AxlExperiment.Refresh(dir); }
            catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException or KeyNotFoundException or AxlJobSpecException)
            {
                WriteError(new ErrorRecord(ex, "Axl.ExperimentUnreadable", ErrorCategory.ReadError, dir));
                continue;
            }
            if (Report) WriteObject(ExperimentReportRow.For(state), enumerateCollection: true);
            else WriteObject(state);
        }
    }

    protected override void StopProcessing() => _cancel.Cancel();
}

/// <summary>Cancels every job of experiments: kills the processes they started and marks them cancelled.</summary>
[Cmdlet(VerbsLifecycle.Stop, "AxlExperiment", SupportsShouldProcess = true, DefaultParameterSetName = "Name", HelpUri = AxlHelp.OnlineBase + "Stop-AxlExperiment.md")]
[OutputType(typeof(AxlExperiment))]
public sealed class StopAxlExperimentCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = "Name")] [SupportsWildcards] [ArgumentCompleter(typeof(ExperimentNameCompleter))] public string[] Name { get; set; } = Array.Empty<string>();
    /// <summary>Where the experiments are kept; binds the RunRoot of an experiment piped in.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = "Name")] public string? RunRoot { get; set; }
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Experiment")] public AxlExperiment[] Experiment { get; set; } = Array.Empty<AxlExperiment>();
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var dirs = ParameterSetName == "Experiment" ? Experiment.Select(e => (e.Name, Dir: e.Directory)) : ByName();
        foreach (var (name, dir) in dirs)
        {
            if (!File.Exists(System.IO.Path.Combine(dir, AxlExperiment.StateFile)))
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"There is no experiment '{name}' in {dir}."), "Axl.ExperimentNotFound", ErrorCategory.ObjectNotFound, name));
                continue;
            }
            if (!ShouldProcess($"experiment '{name}' ({dir})", "Cancel all its jobs")) continue;
            var state = AxlExperiment.Cancel(dir);
            if (PassThru) WriteObject(state);
        }
    }

    /// <summary>Names as Stop-Job takes them: a pattern stops every experiment it matches (none: nothing); a name without wildcards is looked up as it is.</summary>
    private IEnumerable<(string Name, string Dir)> ByName()
    {
        var root = JobLauncher.RootOf(this, RunRoot);
        var existing = Name.Any(WildcardPattern.ContainsWildcardCharacters) ? AxlExperiment.Names(root).ToList() : new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var n in Name)
        {
            var names = WildcardPattern.ContainsWildcardCharacters(n)
                ? existing.Where(e => WildcardPattern.Get(n, WildcardOptions.IgnoreCase).IsMatch(e))
                : new[] { n };
            foreach (var name in names)
                if (seen.Add(name)) yield return (name, AxlExperiment.DirectoryOf(root, name));
        }
    }
}

/// <summary>Polls an experiment's state until every job ended, as Write-Progress records.</summary>
internal static class ExperimentWatch
{
    public static AxlExperiment Until(PSCmdlet cmdlet, string dir, CancellationToken cancel)
    {
        var id = Math.Abs(dir.GetHashCode()) % 10000 + 1;
        while (true)
        {
            var state = AxlExperiment.Refresh(dir);
            var running = state.Jobs.Where(j => j.Status == JobStatus.Running).Select(j => j.Name).ToList();
            var names = running.Count > 0 ? $"running: {string.Join(", ", running.Take(5))}{(running.Count > 5 ? $" and {running.Count - 5} more" : "")}" : null;
            cmdlet.WriteProgress(new ProgressRecord(id, $"Axl: experiment '{state.Name}'", $"{state.Done} of {state.Total} jobs done ({state.Summary})" + (names is null ? "" : "; " + names))
            {
                CurrentOperation = state.IsFinished ? null : names,
                PercentComplete = state.Total == 0 ? 100 : state.Done * 100 / state.Total,
                RecordType = state.IsFinished ? ProgressRecordType.Completed : ProgressRecordType.Processing,
            });
            if (state.IsFinished || cancel.WaitHandle.WaitOne(500)) return state;
        }
    }
}
