using System.Globalization;
using System.Text;
using System.Text.Json;
using Axl.Serialization;

namespace Axl.Runtime;

/// <summary>
/// Run records on disk: &lt;run&gt;/run.json (the run) and &lt;run&gt;/&lt;step&gt;/step.json (each step, the truth while a run is
/// going on: small, written atomically on every change). Readers merge the two.
/// </summary>
public static class RunStore
{
    public const string RunFile = "run.json";
    public const string StepFile = "step.json";

    public static string WorkflowDirectory(string runRoot, string workflow) => Path.Combine(runRoot, workflow);
    public static string RunDirectory(string runRoot, string workflow, string runId) => Path.Combine(runRoot, workflow, runId);

    public static string NewRunId() =>
        DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 3).ToLowerInvariant();

    public static void SaveRun(AxlRun run)
    {
        var tree = new Dictionary<string, object?>
        {
            ["runId"] = run.RunId,
            ["workflow"] = run.Workflow,
            ["workflowHash"] = run.WorkflowHash,
            ["source"] = run.SourceFile,
            ["axlVersion"] = AxlInfo.Version,
            ["status"] = run.Status.ToString(),
            ["startTime"] = run.StartTime,
            ["endTime"] = run.EndTime,
            ["durationMs"] = run.Duration is { } d ? (long)d.TotalMilliseconds : null,
            ["resumes"] = run.Resumes,
            ["parameters"] = run.Parameters.ToDictionary(kv => kv.Key, kv => kv.Value),
            ["steps"] = run.Steps.Select(s => (object?)StepTree(s)).ToList(),
        };
        WriteAtomic(Path.Combine(run.Directory, RunFile), IrDocument.ToJson(tree));
    }

    /// <summary>Step records are rewritten often and only guide resume (artifacts are re-verified by hash): atomic, not synced.</summary>
    public static void SaveStep(AxlStepResult s) => SaveStep(s.Directory, StepRecord(s));

    /// <summary>The text of a step's step.json as it is now (to write it later with <see cref="SaveStep(string, string)"/>).</summary>
    public static string StepRecord(AxlStepResult s) => IrDocument.ToJson(StepTree(s));

    /// <summary>Writes a step record made by <see cref="StepRecord"/> into the step's directory: atomic, not synced.</summary>
    public static void SaveStep(string stepDirectory, string record) =>
        WriteAtomic(Path.Combine(stepDirectory, StepFile), record, durable: false);

    private static Dictionary<string, object?> StepTree(AxlStepResult s) => new()
    {
        ["name"] = s.Name,
        ["status"] = s.Status.ToString(),
        ["attempts"] = s.Attempts,
        ["startTime"] = s.StartTime,
        ["endTime"] = s.EndTime,
        ["durationMs"] = s.Duration is { } d ? (long)d.TotalMilliseconds : null,
        ["attemptLog"] = s.AttemptList.Count == 0 ? null : s.AttemptList.Select(a => (object?)new Dictionary<string, object?>
        {
            ["attempt"] = a.Number,
            ["startTime"] = a.StartTime,
            ["endTime"] = a.EndTime,
            ["outcome"] = a.Outcome,
            ["error"] = a.Error,
        }).ToList(),
        ["key"] = s.Key,
        ["reusedFrom"] = s.ReusedFrom,
        ["skipReason"] = s.SkipReason,
        ["error"] = s.Error is null ? null : new Dictionary<string, object?>
        {
            ["message"] = s.Error.Message,
            ["kind"] = s.Error.Kind.ToString(),
            ["file"] = s.Error.File,
            ["line"] = s.Error.Line,
            ["scriptLine"] = s.Error.ScriptLine,
        },
        ["output"] = s.OutputPath is null ? null : new Dictionary<string, object?>
        {
            ["path"] = s.OutputPath,
            ["ioHandler"] = s.OutputHandler,
            ["size"] = s.OutputSize,
            ["sha256"] = s.OutputHash,
        },
    };

    /// <summary>Loads a run from its directory (run.json merged with the step.json files).</summary>
    public static AxlRun Load(string runDirectory)
    {
        var file = Path.Combine(runDirectory, RunFile);
        if (!File.Exists(file)) throw new FileNotFoundException($"{runDirectory} holds no run record ({RunFile}).", file);
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var r = doc.RootElement;
        var steps = new List<AxlStepResult>();
        foreach (var se in r.GetProperty("steps").EnumerateArray())
        {
            var name = se.GetProperty("name").GetString()!;
            var dir = Path.Combine(runDirectory, name);
            var stepFile = Path.Combine(dir, StepFile);
            if (File.Exists(stepFile))
            {
                try
                {
                    using var sd = JsonDocument.Parse(File.ReadAllText(stepFile));
                    steps.Add(ReadStep(sd.RootElement, dir));
                    continue;
                }
                catch (JsonException) { /* fall back to the run record */ }
            }
            steps.Add(ReadStep(se, dir));
        }
        var parameters = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        if (r.TryGetProperty("parameters", out var pe) && pe.ValueKind == JsonValueKind.Object)
            foreach (var p in pe.EnumerateObject()) parameters[p.Name] = Scalar(p.Value);
        return new AxlRun
        {
            RunId = r.GetProperty("runId").GetString()!,
            Workflow = r.GetProperty("workflow").GetString()!,
            WorkflowHash = Str(r, "workflowHash") ?? "",
            SourceFile = Str(r, "source"),
            Status = Enum.Parse<RunStatus>(Str(r, "status") ?? "Running"),
            StartTime = Time(r, "startTime") ?? DateTimeOffset.MinValue,
            EndTime = Time(r, "endTime"),
            Directory = runDirectory,
            Parameters = parameters,
            Steps = steps,
            Resumes = r.TryGetProperty("resumes", out var re) && re.ValueKind == JsonValueKind.Number ? re.GetInt32() : 0,
        };
    }

    private static AxlStepResult ReadStep(JsonElement e, string dir)
    {
        var s = new AxlStepResult
        {
            Name = e.GetProperty("name").GetString()!,
            Status = Enum.Parse<StepStatus>(Str(e, "status") ?? "Pending"),
            Attempts = e.TryGetProperty("attempts", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetInt32() : 0,
            StartTime = Time(e, "startTime"),
            EndTime = Time(e, "endTime"),
            Key = Str(e, "key"),
            ReusedFrom = Str(e, "reusedFrom"),
            SkipReason = Str(e, "skipReason"),
            Directory = dir,
        };
        if (e.TryGetProperty("attemptLog", out var al) && al.ValueKind == JsonValueKind.Array)
            foreach (var at in al.EnumerateArray())
                if (Time(at, "startTime") is { } start)
                    s.AttemptList.Add(new StepAttempt(at.TryGetProperty("attempt", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt32() : s.AttemptList.Count + 1,
                        start, Time(at, "endTime"), Str(at, "outcome") ?? "", Str(at, "error")));
        if (e.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object)
            s.Error = new StepError(Str(err, "message") ?? "", Enum.TryParse<FailureKind>(Str(err, "kind"), out var k) ? k : FailureKind.User,
                Str(err, "file"), err.TryGetProperty("line", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : 0, Str(err, "scriptLine"));
        if (e.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.Object)
        {
            s.OutputPath = Str(o, "path");
            s.OutputHandler = Str(o, "ioHandler");
            s.OutputSize = o.TryGetProperty("size", out var sz) && sz.ValueKind == JsonValueKind.Number ? sz.GetInt64() : null;
            s.OutputHash = Str(o, "sha256");
        }
        return s;
    }

    /// <summary>The names of the workflows that have at least one run under the root, by name (none when the root is missing).</summary>
    public static IEnumerable<string> Workflows(string runRoot)
    {
        if (!Directory.Exists(runRoot)) return Enumerable.Empty<string>();
        return Directory.GetDirectories(runRoot)
            .Where(w => !Path.GetFileName(w).StartsWith('.'))
            .Where(w => Directory.EnumerateDirectories(w).Any(d => File.Exists(Path.Combine(d, RunFile))))
            .Select(w => Path.GetFileName(w))
            .OrderBy(n => n, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    /// <summary>Runs under the root, newest first; optionally of one workflow or with one id (exact names, any case).</summary>
    public static IEnumerable<AxlRun> List(string runRoot, string? workflow = null, string? runId = null) =>
        List(runRoot,
            name => workflow is null || name.Equals(workflow, StringComparison.OrdinalIgnoreCase),
            name => runId is null || name.Equals(runId, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Runs under the root, newest first, of the workflows and with the run ids the filters match (wildcards allowed).
    /// A workflow name matches when its folder holds a run; a run id when its run record is there. Every candidate is
    /// seen by the filters before the first run is returned, so their <see cref="NameFilter.Unmatched"/> names are
    /// complete once the caller has read a run or reached the end (even when it stops early, as -Last does).
    /// </summary>
    public static IEnumerable<AxlRun> List(string runRoot, NameFilter workflows, NameFilter runIds) =>
        List(runRoot, workflows.Test, runIds.Test, workflows, runIds);

    private static IEnumerable<AxlRun> List(string runRoot, Func<string, bool> workflow, Func<string, bool> runId,
        NameFilter? workflowFilter = null, NameFilter? runIdFilter = null)
    {
        if (!Directory.Exists(runRoot)) yield break;
        var dirs = Directory.GetDirectories(runRoot)
            .Where(d => workflow(Path.GetFileName(d)))
            .SelectMany(w => Directory.GetDirectories(w))
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .Where(d => File.Exists(Path.Combine(d, RunFile)))
            .Where(d => runId(Path.GetFileName(d)))
            .ToList();
        // Recorded here, on the runs that exist, so a workflow folder without runs does not count as found.
        foreach (var d in dirs)
        {
            workflowFilter?.IsMatch(Path.GetFileName(Path.GetDirectoryName(d))!);
            runIdFilter?.IsMatch(Path.GetFileName(d));
        }
        dirs.Sort((a, b) => StringComparer.Ordinal.Compare(Path.GetFileName(b), Path.GetFileName(a)));
        // Newest first. Run ids sort by their time to the second; runs of one second are ordered by their start time
        // (loaded a second at a time, so -Last N still reads about N records).
        var second = new List<AxlRun>();
        string? secondKey = null;
        foreach (var d in dirs)
        {
            AxlRun? run;
            try { run = Load(d); }
            catch (Exception ex) when (ex is JsonException or IOException or KeyNotFoundException or InvalidOperationException) { run = null; }
            if (run is null) continue;
            var key = TimePart(Path.GetFileName(d));
            if (key != secondKey)
            {
                foreach (var r in NewestFirst(second)) yield return r;
                second.Clear();
                secondKey = key;
            }
            second.Add(run);
        }
        foreach (var r in NewestFirst(second)) yield return r;
    }

    /// <summary>
    /// The run as it stands now: a run recorded as running whose lock no process holds (killed, crashed) is shown as
    /// <see cref="RunStatus.Interrupted"/>. For display (Get-AxlRun); the record on disk is not changed.
    /// </summary>
    public static AxlRun WithLiveStatus(AxlRun run)
    {
        if (run.Status == RunStatus.Running && !RunLock.IsHeld(run.Directory)) run.Status = RunStatus.Interrupted;
        return run;
    }

    /// <summary>The time part of a run id (yyyyMMdd-HHmmss), or the whole id when it has none.</summary>
    private static string TimePart(string runId) => runId.Length > 15 && runId[15] == '-' ? runId[..15] : runId;

    private static IEnumerable<AxlRun> NewestFirst(List<AxlRun> runs) =>
        runs.Count < 2 ? runs : runs.OrderByDescending(r => r.StartTime).ThenByDescending(r => r.RunId, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Writes a file so that readers see the old content or the new one, never a part (temp file + rename).
    /// <paramref name="durable"/> also syncs it to disk before the rename, for what must survive a power loss.
    /// </summary>
    public static void WriteAtomic(string path, string content, bool durable = true)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.tmp-{Guid.NewGuid():N}");
        using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            var bytes = new UTF8Encoding(false).GetBytes(content);
            fs.Write(bytes);
            fs.Flush(flushToDisk: durable);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>
    /// <see cref="WriteAtomic(string, string, bool)"/> for text written in pieces (UTF-8, no BOM) by <paramref name="write"/>,
    /// never joined into one string first (a split compile is several MB). The file is left alone when it throws.
    /// </summary>
    public static void WriteAtomic(string path, Action<TextWriter> write, bool durable = true)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.tmp-{Guid.NewGuid():N}");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024))
            {
                using (var w = new StreamWriter(fs, new UTF8Encoding(false), 64 * 1024, leaveOpen: true)) write(w);
                fs.Flush(flushToDisk: durable);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    private static DateTimeOffset? Time(JsonElement e, string name) =>
        Str(e, name) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : null;
    private static object? Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => e.GetRawText(),
    };
}
