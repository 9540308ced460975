using Axl.Runtime;

namespace Axl.Jobs;

/// <summary>
/// Launches the jobs of an experiment, at most ThrottleLimit at once, in a background thread of this process, and keeps
/// experiment.json current. It polls the file for a cancel request (Stop-AxlExperiment, from any session).
/// </summary>
public sealed class ExperimentLauncher
{
    private readonly string _dir;
    private readonly string _workingDirectory;
    private readonly JobSubmitOptions? _options;
    private readonly Dictionary<string, IJobHandle> _handles = new(StringComparer.Ordinal);
    private readonly ManualResetEventSlim _finished = new(false);

    private ExperimentLauncher(string dir, string workingDirectory, JobSubmitOptions? options)
    {
        _dir = dir;
        _workingDirectory = workingDirectory;
        _options = options;
    }

    /// <summary>Creates the experiment's folder and state (every job Pending) and starts launching; returns the state as written.</summary>
    /// <param name="options">
    /// What the targets get besides the run root and folder: a workflow loader (targets that compile here: Argo, Kfp,
    /// Queue; it runs on the launcher's thread, so it must not need the caller's runspace), endpoints, cluster options.
    /// </param>
    public static AxlExperiment Start(string name, IReadOnlyList<ExperimentJob> jobs, string runRoot, string workingDirectory, int throttleLimit, JobSubmitOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.StartsWith('.'))
            throw new ArgumentException($"'{name}' cannot name an experiment: it becomes a folder name (no path separators, not starting with a dot).");
        if (jobs.Count == 0) throw new ArgumentException($"experiment '{name}' has no jobs: pipe job specs to -JobSpec.");
        var dupes = jobs.GroupBy(j => j.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (dupes.Count > 0) throw new ArgumentException($"experiment '{name}' has several jobs named {string.Join(", ", dupes.Select(d => $"'{d}'"))}; give each job spec its own name (New-AxlJobSpec -Name).");
        var dir = AxlExperiment.DirectoryOf(runRoot, name);
        if (File.Exists(Path.Combine(dir, AxlExperiment.StateFile)))
            throw new InvalidOperationException($"experiment '{name}' already exists in {dir}. Attach to it with Get-AxlExperiment {name}, or choose another name.");
        Directory.CreateDirectory(dir);
        var state = new AxlExperiment
        {
            Name = name,
            Directory = dir,
            RunRoot = runRoot,
            CreatedAt = DateTimeOffset.Now,
            ThrottleLimit = Math.Max(1, throttleLimit),
            LauncherProcessId = Environment.ProcessId,
            Jobs = jobs.ToList(),
        };
        state.Save();
        var launcher = new ExperimentLauncher(dir, workingDirectory, options);
        var thread = new Thread(launcher.Loop) { IsBackground = true, Name = "axl-experiment-" + name };
        thread.Start();
        return state;
    }

    private void Loop()
    {
        try
        {
            while (true)
            {
                var state = AxlExperiment.Load(_dir);
                if (state.CancelRequested)
                {
                    lock (_handles) foreach (var h in _handles.Values) h.Cancel();
                    AxlExperiment.Update(_dir, e => { foreach (var j in e.Jobs.Where(j => j.Status == JobStatus.Pending)) { j.Status = JobStatus.Cancelled; j.EndTime = DateTimeOffset.Now; j.Error ??= "cancelled before it started."; } });
                }
                else
                {
                    var running = state.Jobs.Count(j => j.Status == JobStatus.Running);
                    foreach (var next in state.Jobs.Where(j => j.Status == JobStatus.Pending).Take(Math.Max(0, state.ThrottleLimit - running)).ToList())
                        Launch(state, next);
                }
                if (AxlExperiment.Load(_dir).IsFinished && WaitHandlesDone()) break;
                Thread.Sleep(200);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            // The state folder went away or became unreadable: stop launching; jobs already started go on.
        }
        finally { _finished.Set(); }
    }

    private bool WaitHandlesDone()
    {
        lock (_handles) return _handles.Values.All(h => h.Result is not null);
    }

    private void Launch(AxlExperiment state, ExperimentJob job)
    {
        IJobHandle handle;
        try
        {
            var options = _options is null
                ? new JobSubmitOptions { RunRoot = state.RunRoot, WorkingDirectory = _workingDirectory }
                : _options with { RunRoot = state.RunRoot, WorkingDirectory = _workingDirectory, RunId = null };
            handle = JobTargets.Get(job.Spec.Target).Submit(job.Spec, options);
        }
        catch (Exception ex) when (ex is NotSupportedException or AxlJobSpecException or FileNotFoundException or IOException or System.ComponentModel.Win32Exception
                                   or Queue.JobQueueException or Argo.ArgoClusterException or Envelopes.JobEnvelopeException or Dsl.AxlLoadException)
        {
            AxlExperiment.Update(_dir, e => Mutate(e, job.Name, j => { j.Status = JobStatus.Failed; j.StartTime = j.EndTime = DateTimeOffset.Now; j.Error = ex.Message; }));
            return;
        }
        lock (_handles) _handles[job.Name] = handle;
        var local = handle as LocalJobHandle;
        AxlExperiment.Update(_dir, e => Mutate(e, job.Name, j =>
        {
            j.Status = JobStatus.Running;
            j.RunId = handle.RunId;
            j.StartTime = handle.SubmittedAt;
            j.ProcessId = local?.ProcessId;
            j.ProcessStartTime = local?.ProcessStartTime;
            if (job.Spec.WorkflowName is { } wf)
            {
                j.Workflow = wf;
                j.RunDirectory = RunStore.RunDirectory(state.RunRoot, wf, handle.RunId);
            }
        }));
        handle.StatusChanged += s =>
        {
            if (s is not (JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled) || handle.Result is not { } r) return;
            AxlExperiment.Update(_dir, e => Mutate(e, job.Name, j =>
            {
                j.Status = e.CancelRequested && r.Status != JobStatus.Succeeded ? JobStatus.Cancelled : r.Status;
                j.EndTime = r.EndTime;
                j.ExitCode = r.ExitCode;
                j.Error = r.Error;
                j.Workflow = r.Workflow ?? j.Workflow;
                j.RunDirectory = r.RunDirectory ?? j.RunDirectory;
            }));
        };
        if (handle.Result is not null && handle.Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled)
            AxlExperiment.Update(_dir, e => Mutate(e, job.Name, j => { j.Status = handle.Result!.Status; j.EndTime = handle.Result.EndTime; j.ExitCode = handle.Result.ExitCode; j.Error = handle.Result.Error; }));
    }

    /// <summary>Changes one job, unless it already ended in the file (a stop from another session wins).</summary>
    private static void Mutate(AxlExperiment e, string name, Action<ExperimentJob> change)
    {
        var j = e.Jobs.First(x => x.Name == name);
        if (j.IsTerminal) return;
        change(j);
    }
}
