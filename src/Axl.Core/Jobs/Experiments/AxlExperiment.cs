using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Axl.Runtime;

namespace Axl.Jobs;

/// <summary>One job of an experiment: its spec, status, run and times.</summary>
public sealed class ExperimentJob
{
    public string Name { get; set; } = "";
    public AxlJobSpec Spec { get; set; } = new();
    public JobStatus Status { get; set; } = JobStatus.Pending;
    public string? RunId { get; set; }
    public string? Workflow { get; set; }
    public string? RunDirectory { get; set; }
    /// <summary>The run root the job's run is kept under (from <see cref="RunDirectory"/>): with RunId and Workflow, what Get-AxlRun binds.</summary>
    public string? RunRoot => RunDirectory is { Length: > 0 } d ? Path.GetDirectoryName(Path.GetDirectoryName(d)) : null;
    public int? ProcessId { get; set; }
    public DateTimeOffset? ProcessStartTime { get; set; }
    public DateTimeOffset? StartTime { get; set; }
    public DateTimeOffset? EndTime { get; set; }
    public TimeSpan? Duration => StartTime is { } s && EndTime is { } e ? e - s : null;
    public int? ExitCode { get; set; }
    public string? Error { get; set; }
    /// <summary>The steps whose outputs are the job's key outputs (the workflow's final steps).</summary>
    public IReadOnlyList<string> FinalSteps { get; set; } = Array.Empty<string>();
    public bool IsTerminal => Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
    public override string ToString() => $"{Name}: {Status}";
}

/// <summary>
/// A group of jobs launched together (seed: ExperimentTool): persisted in &lt;run root&gt;/.experiments/&lt;name&gt;/experiment.json,
/// written atomically under a lock file, so another session can attach (Get), stop and report.
/// </summary>
public sealed class AxlExperiment
{
    public const string StateFile = "experiment.json";
    public string Name { get; set; } = "";
    public string Directory { get; set; } = "";
    public string RunRoot { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int ThrottleLimit { get; set; } = 1;
    /// <summary>The process that launches the pending jobs (they start only while it lives).</summary>
    public int? LauncherProcessId { get; set; }
    public bool CancelRequested { get; set; }
    public List<ExperimentJob> Jobs { get; set; } = new();

    public int Total => Jobs.Count;
    /// <summary>When it was created, as "yyyy-MM-dd HH:mm:ss" (for views: a deserialized DateTimeOffset is text).</summary>
    public string Created => CreatedAt.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
    /// <summary>The jobs with their status: "lr-0.1: Succeeded, lr-0.2: Running".</summary>
    public string JobStates => string.Join(", ", Jobs.Select(j => $"{j.Name}: {j.Status}"));
    /// <summary>The workflows of its jobs and the ids of the runs they started: Get-AxlExperiment x | Get-AxlRun gives exactly those runs.</summary>
    public IReadOnlyList<string> Workflows => Jobs.Select(j => j.Workflow ?? j.Spec.WorkflowName).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    public IReadOnlyList<string> RunIds => Jobs.Select(j => j.RunId).OfType<string>().Where(id => id.Length > 0).ToList();
    public int Done => Jobs.Count(j => j.IsTerminal);
    public bool IsFinished => Jobs.All(j => j.IsTerminal);
    /// <summary>Running while any job has not ended; then Cancelled if stopped, Failed if any job failed, else Succeeded.</summary>
    public string Status => !IsFinished ? (CancelRequested ? "Cancelling" : "Running")
        : CancelRequested || Jobs.Any(j => j.Status == JobStatus.Cancelled) ? "Cancelled"
        : Jobs.Any(j => j.Status == JobStatus.Failed) ? "Failed" : "Succeeded";
    public string Summary => string.Join(", ", Jobs.GroupBy(j => j.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
    public override string ToString() => $"{Name}: {Status} ({Summary})";

    // ---- storage ---------------------------------------------------------------------------------------------

    public static string DirectoryOf(string runRoot, string name) => Path.Combine(runRoot, ".experiments", name);

    public static IEnumerable<string> Names(string runRoot)
    {
        var d = Path.Combine(runRoot, ".experiments");
        return System.IO.Directory.Exists(d)
            ? System.IO.Directory.GetDirectories(d).Where(x => File.Exists(Path.Combine(x, StateFile))).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal)!
            : Enumerable.Empty<string>();
    }

    public static AxlExperiment Load(string directory)
    {
        var file = Path.Combine(directory, StateFile);
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var r = doc.RootElement;
        var e = new AxlExperiment
        {
            Name = r.GetProperty("name").GetString()!,
            Directory = directory,
            RunRoot = r.GetProperty("runRoot").GetString()!,
            CreatedAt = Time(r, "createdAt") ?? default,
            UpdatedAt = Time(r, "updatedAt") ?? default,
            ThrottleLimit = r.GetProperty("throttleLimit").GetInt32(),
            LauncherProcessId = Int(r, "launcherProcessId"),
            CancelRequested = r.TryGetProperty("cancelRequested", out var c) && c.ValueKind == JsonValueKind.True,
        };
        foreach (var j in r.GetProperty("jobs").EnumerateArray())
            e.Jobs.Add(new ExperimentJob
            {
                Name = j.GetProperty("name").GetString()!,
                Spec = AxlJobSpec.FromJson(j.GetProperty("spec").GetRawText(), file),
                Status = Enum.Parse<JobStatus>(j.GetProperty("status").GetString()!),
                RunId = Str(j, "runId"),
                Workflow = Str(j, "workflow"),
                RunDirectory = Str(j, "runDirectory"),
                ProcessId = Int(j, "processId"),
                ProcessStartTime = Time(j, "processStartTime"),
                StartTime = Time(j, "startTime"),
                EndTime = Time(j, "endTime"),
                ExitCode = Int(j, "exitCode"),
                Error = Str(j, "error"),
                FinalSteps = j.TryGetProperty("finalSteps", out var f) && f.ValueKind == JsonValueKind.Array ? f.EnumerateArray().Select(x => x.GetString()!).ToArray() : Array.Empty<string>(),
            });
        return e;
    }

    public void Save()
    {
        UpdatedAt = DateTimeOffset.Now;
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("version", 1);
            w.WriteString("name", Name);
            w.WriteString("runRoot", RunRoot);
            w.WriteString("createdAt", CreatedAt.ToString("o", CultureInfo.InvariantCulture));
            w.WriteString("updatedAt", UpdatedAt.ToString("o", CultureInfo.InvariantCulture));
            w.WriteNumber("throttleLimit", ThrottleLimit);
            if (LauncherProcessId is { } lp) w.WriteNumber("launcherProcessId", lp); else w.WriteNull("launcherProcessId");
            w.WriteBoolean("cancelRequested", CancelRequested);
            w.WriteString("status", Status);
            w.WriteStartArray("jobs");
            foreach (var j in Jobs)
            {
                w.WriteStartObject();
                w.WriteString("name", j.Name);
                w.WriteString("status", j.Status.ToString());
                w.WriteString("runId", j.RunId);
                w.WriteString("workflow", j.Workflow);
                w.WriteString("runDirectory", j.RunDirectory);
                if (j.ProcessId is { } pid) w.WriteNumber("processId", pid); else w.WriteNull("processId");
                w.WriteString("processStartTime", j.ProcessStartTime?.ToString("o", CultureInfo.InvariantCulture));
                w.WriteString("startTime", j.StartTime?.ToString("o", CultureInfo.InvariantCulture));
                w.WriteString("endTime", j.EndTime?.ToString("o", CultureInfo.InvariantCulture));
                if (j.ExitCode is { } x) w.WriteNumber("exitCode", x); else w.WriteNull("exitCode");
                w.WriteString("error", j.Error);
                w.WriteStartArray("finalSteps");
                foreach (var s in j.FinalSteps) w.WriteStringValue(s);
                w.WriteEndArray();
                w.WritePropertyName("spec");
                using (var sd = JsonDocument.Parse(j.Spec.ToJson(false))) sd.RootElement.WriteTo(w);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        RunStore.WriteAtomic(Path.Combine(Directory, StateFile), Encoding.UTF8.GetString(ms.ToArray()));
    }

    /// <summary>Read-modify-write of the state file under a lock file (sessions and the launcher update it concurrently).</summary>
    public static AxlExperiment Update(string directory, Action<AxlExperiment> change)
    {
        var lockPath = Path.Combine(directory, ".lock");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var l = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                var e = Load(directory);
                change(e);
                e.Save();
                return e;
            }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(20); }
        }
    }

    // ---- attach: statuses from the run records ---------------------------------------------------------------

    /// <summary>
    /// Brings the statuses up to date from the run records and the processes: a job whose run record ended takes its
    /// status; a running job whose process is gone without a finished record failed; pending jobs whose launcher is gone
    /// will never start and are cancelled. Writes the state back when something changed.
    /// </summary>
    public static AxlExperiment Refresh(string directory) => Update(directory, e =>
    {
        var launcherAlive = e.LauncherProcessId is { } lp && (lp == Environment.ProcessId || IsAlive(lp, null));
        foreach (var j in e.Jobs.Where(j => !j.IsTerminal))
        {
            var run = j.RunDirectory is { } d && File.Exists(Path.Combine(d, RunStore.RunFile)) ? TryLoad(d) : null;
            if (run is not null && run.Status != RunStatus.Running)
            {
                j.Status = run.Status switch { RunStatus.Succeeded => JobStatus.Succeeded, RunStatus.Cancelled => JobStatus.Cancelled, _ => JobStatus.Failed };
                j.EndTime ??= run.EndTime ?? DateTimeOffset.Now;
                if (j.Status == JobStatus.Failed) j.Error ??= string.Join("; ", run.Failed.Select(s => $"step '{s.Name}' failed: {s.Error}"));
            }
            else if (j.Status == JobStatus.Running && !launcherAlive && j.ProcessId is { } pid && !IsAlive(pid, j.ProcessStartTime))
            {
                j.Status = e.CancelRequested ? JobStatus.Cancelled : JobStatus.Failed;
                j.EndTime ??= DateTimeOffset.Now;
                j.Error ??= "the job's process ended without finishing its run record.";
            }
            else if (j.Status == JobStatus.Pending && !launcherAlive)
            {
                j.Status = JobStatus.Cancelled;
                j.EndTime = DateTimeOffset.Now;
                j.Error = "the session that launched the experiment ended before this job started.";
            }
        }
    });

    /// <summary>Cancels every job: marks the experiment cancelled (the launcher stops starting jobs), kills the processes of running jobs.</summary>
    public static AxlExperiment Cancel(string directory)
    {
        var state = Update(directory, e =>
        {
            e.CancelRequested = true;
            foreach (var j in e.Jobs.Where(j => !j.IsTerminal))
            {
                if (j.Status == JobStatus.Running && j.ProcessId is { } pid) KillTree(pid, j.ProcessStartTime);
                j.Status = JobStatus.Cancelled;
                j.EndTime = DateTimeOffset.Now;
                j.Error ??= "cancelled by Stop-AxlExperiment.";
                if (j.RunDirectory is { } d && TryLoad(d) is { Status: RunStatus.Running })
                {
                    // Only once the run's lock is free (its process is gone): a run still being run is not ours to mark.
                    try
                    {
                        using var held = RunLock.TryAcquire(d, TimeSpan.FromSeconds(1));
                        if (held is not null && TryLoad(d) is { Status: RunStatus.Running } run)
                        {
                            run.Status = RunStatus.Cancelled;
                            run.EndTime = DateTimeOffset.Now;
                            RunStore.SaveRun(run);
                        }
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
                }
            }
        });
        return state;
    }

    private static AxlRun? TryLoad(string dir)
    {
        try { return RunStore.Load(dir); }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException) { return null; }
    }

    /// <summary>Whether a process lives and (when known) is the one started at that time, not a later one with a reused id.</summary>
    public static bool IsAlive(int pid, DateTimeOffset? startTime)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            if (p.HasExited) return false;
            return startTime is not { } st || Math.Abs((p.StartTime.ToUniversalTime() - st.UtcDateTime).TotalSeconds) < 2;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { return false; }
    }

    private static void KillTree(int pid, DateTimeOffset? startTime)
    {
        if (!IsAlive(pid, startTime)) return;
        try
        {
            using var p = Process.GetProcessById(pid);
            StepChildren.KillTree(p, TimeSpan.FromSeconds(5));
            p.WaitForExit(10_000);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    private static string? Str(JsonElement e, string n) => e.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    private static int? Int(JsonElement e, string n) => e.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
    private static DateTimeOffset? Time(JsonElement e, string n) =>
        Str(e, n) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : null;
}

/// <summary>One row of an experiment's report: a job, its parameters, status, duration and key outputs.</summary>
public sealed class ExperimentReportRow
{
    public string Experiment { get; init; } = "";
    public string Job { get; init; } = "";
    public IReadOnlyDictionary<string, object?> Parameters { get; init; } = new Dictionary<string, object?>();
    public JobStatus Status { get; init; }
    public TimeSpan? Duration { get; init; }
    public string? RunId { get; init; }
    /// <summary>The job's workflow and the run root of its run: with RunId, what Get-AxlRun and Get-AxlArtifact bind.</summary>
    public string? Workflow { get; init; }
    public string? RunRoot { get; init; }
    /// <summary>Final step name to its output (loaded from the run), for the steps that succeeded.</summary>
    public IReadOnlyDictionary<string, object?> Outputs { get; init; } = new Dictionary<string, object?>();
    public string? Error { get; init; }
    public string ParameterText => string.Join(", ", Parameters.OrderBy(k => k.Key, StringComparer.OrdinalIgnoreCase).Select(kv => $"{kv.Key}={Show(kv.Value)}"));
    public string OutputText => string.Join(", ", Outputs.Select(kv => $"{kv.Key}={Show(kv.Value)}"));

    internal static string Show(object? v)
    {
        if (v is System.Management.Automation.PSObject p) v = p.BaseObject;
        var s = v switch
        {
            null => "$null",
            string x => x,
            double d => d.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture),
            System.Collections.IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Take(5).Select(Show)) + "]",
            _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
        };
        s = s.Replace('\n', ' ');
        return s.Length > 60 ? s[..57] + "..." : s;
    }

    /// <summary>The report of an experiment: one row per job, outputs of its final steps loaded from its run.</summary>
    public static IEnumerable<ExperimentReportRow> For(AxlExperiment e)
    {
        foreach (var j in e.Jobs)
        {
            var outputs = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (j.Status == JobStatus.Succeeded && j.RunDirectory is { } d && File.Exists(Path.Combine(d, RunStore.RunFile)))
            {
                try
                {
                    var run = RunStore.Load(d);
                    foreach (var step in j.FinalSteps)
                        if (run.GetStep(step) is { Status: StepStatus.Succeeded })
                            try { outputs[step] = run.GetOutput(step); }
                            catch (Exception ex) when (ex is IOException or InvalidOperationException or InvalidDataException) { outputs[step] = "(unreadable: " + ex.Message + ")"; }
                }
                catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException) { }
            }
            yield return new ExperimentReportRow
            {
                Experiment = e.Name,
                Job = j.Name,
                Parameters = j.Spec.EffectiveParameters(),
                Status = j.Status,
                Duration = j.Duration,
                RunId = j.RunId,
                Workflow = j.Workflow,
                RunRoot = j.RunRoot,
                Outputs = outputs,
                Error = j.Error,
            };
        }
    }
}
