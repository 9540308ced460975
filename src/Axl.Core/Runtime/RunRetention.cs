namespace Axl.Runtime;

/// <summary>Which runs a retention pass removes: Remove-AxlRun and `axl runs prune`.</summary>
public sealed class RetentionOptions
{
    /// <summary>The run root (default: the one runs are written to).</summary>
    public string RunRoot { get; init; } = RunOptions.DefaultRunRoot();
    /// <summary>The workflows looked at (names or wildcards; empty: all).</summary>
    public IReadOnlyList<string> Workflows { get; init; } = Array.Empty<string>();
    /// <summary>The runs looked at (ids or wildcards; empty: all).</summary>
    public IReadOnlyList<string> RunIds { get; init; } = Array.Empty<string>();
    /// <summary>Only runs that started longer ago than this.</summary>
    public TimeSpan? OlderThan { get; init; }
    /// <summary>Keep the newest N runs of each workflow (of those looked at), whatever else selects them.</summary>
    public int? Keep { get; init; }
    /// <summary>The time "older than" counts from (tests set it).</summary>
    public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>What a retention pass decided about one run.</summary>
public enum RetentionAction { Remove, Keep, InUse }

/// <summary>One run and what a retention pass does with it, and why.</summary>
public sealed record RetentionDecision(AxlRun Run, RetentionAction Action, string Reason)
{
    public string Workflow => Run.Workflow;
    public string RunId => Run.RunId;
    public string Directory => Run.Directory;
}

/// <summary>The outcome of removing one run.</summary>
public sealed record RunRemoval(AxlRun Run, bool Removed, long Bytes, string? Error)
{
    public string Workflow => Run.Workflow;
    public string RunId => Run.RunId;
    public string Directory => Run.Directory;
}

/// <summary>
/// Retention of local runs: which runs to remove (by id, age, or all but the newest N per workflow) and removing them
/// without touching a run in progress. A run being run or resumed holds its lock (<see cref="RunLock"/>): a pass takes
/// the lock of each run before it removes it, so a run in progress is never removed, and a run cannot start resuming
/// one that is half removed (the run folder is renamed away under the lock first, then deleted).
/// </summary>
public static class RunRetention
{
    /// <summary>The prefix of a run folder being removed (renamed away from the workflow's runs, then deleted).</summary>
    public const string RemovingPrefix = ".removing-";

    /// <summary>
    /// Decides, for every run the options look at, whether it is removed, kept (with the reason) or in use. Runs come
    /// newest first per workflow. Nothing is changed.
    /// </summary>
    public static IReadOnlyList<RetentionDecision> Plan(RetentionOptions o)
    {
        if (o.Keep is < 0) throw new ArgumentOutOfRangeException(nameof(o), o.Keep, "Keep must be 0 or more.");
        var runs = RunStore.List(o.RunRoot, new NameFilter(o.Workflows), new NameFilter(o.RunIds)).ToList();
        var decisions = new List<RetentionDecision>();
        foreach (var group in runs.GroupBy(r => r.Workflow, StringComparer.OrdinalIgnoreCase))
        {
            var rank = 0;
            foreach (var run in group.OrderByDescending(r => r.StartTime).ThenByDescending(r => r.RunId, StringComparer.Ordinal))
            {
                rank++;
                if (RunLock.IsHeld(run.Directory))
                    decisions.Add(new RetentionDecision(run, RetentionAction.InUse, "in progress (its lock is held)"));
                else if (o.Keep is { } keep && rank <= keep)
                    decisions.Add(new RetentionDecision(run, RetentionAction.Keep, $"one of the newest {keep} of {run.Workflow}"));
                else if (o.OlderThan is { } age && run.StartTime > o.Now - age)
                    decisions.Add(new RetentionDecision(run, RetentionAction.Keep, $"started less than {Describe(age)} ago"));
                else
                    decisions.Add(new RetentionDecision(run, RetentionAction.Remove,
                        o.Keep is { } k ? $"older than the newest {k}" : o.OlderThan is { } a ? $"started more than {Describe(a)} ago" : "selected by id"));
            }
        }
        return decisions;
    }

    /// <summary>
    /// Removes one run: takes its lock (refused when another process holds it: the run is in progress), renames the
    /// folder away under the lock, releases it, deletes the folder and the run's entries in the workflow's cache.
    /// </summary>
    public static RunRemoval Remove(AxlRun run)
    {
        var dir = run.Directory;
        if (!System.IO.Directory.Exists(dir)) return new RunRemoval(run, false, 0, $"run '{run.RunId}' of workflow '{run.Workflow}' is gone already ({dir}).");
        var bytes = SizeOf(dir);
        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(dir))!;
        var away = Path.Combine(parent, RemovingPrefix + Path.GetFileName(Path.TrimEndingDirectorySeparator(dir)) + "-" + Guid.NewGuid().ToString("N")[..8]);
        var held = RunLock.TryAcquire(dir);
        if (held is null)
            return new RunRemoval(run, false, 0, $"run '{run.RunId}' of workflow '{run.Workflow}' is in progress (another process holds its lock): not removed. Fix: remove it once it has ended.");
        try
        {
            try { System.IO.Directory.Move(dir, away); }
            catch (IOException) when (OperatingSystem.IsWindows())
            {
                // Windows does not rename a folder with an open file in it: release the lock and take it back by rename.
                held.Dispose();
                held = null;
                System.IO.Directory.Move(dir, away);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new RunRemoval(run, false, 0, $"run '{run.RunId}' of workflow '{run.Workflow}' could not be removed: {ex.Message}");
        }
        finally { held?.Dispose(); }
        string? error = null;
        try { System.IO.Directory.Delete(away, recursive: true); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"run '{run.RunId}' of workflow '{run.Workflow}' was taken out of the run list, but deleting {away} failed: {ex.Message}. Fix: delete that folder (the next prune tries again).";
        }
        ForgetCacheEntries(parent, dir, run.RunId);
        return new RunRemoval(run, true, bytes, error);
    }

    /// <summary>Deletes what an interrupted removal left (folders renamed away but not deleted) under the run root.</summary>
    public static int CleanInterrupted(string runRoot)
    {
        if (!System.IO.Directory.Exists(runRoot)) return 0;
        var n = 0;
        foreach (var workflowDir in System.IO.Directory.GetDirectories(runRoot))
            foreach (var left in System.IO.Directory.GetDirectories(workflowDir, RemovingPrefix + "*"))
            {
                try { System.IO.Directory.Delete(left, recursive: true); n++; }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
            }
        return n;
    }

    /// <summary>The cache of a workflow (.cache) points at run folders: entries of a removed run are dropped.</summary>
    private static void ForgetCacheEntries(string workflowDir, string runDir, string runId)
    {
        var cache = Path.Combine(workflowDir, ".cache");
        if (!System.IO.Directory.Exists(cache)) return;
        foreach (var file in System.IO.Directory.EnumerateFiles(cache))
        {
            try
            {
                var name = Path.GetFileName(file);
                // A journal of the run's own entries, or a per-key entry that points into the run.
                if (name.StartsWith(runId + ".", StringComparison.Ordinal) || (name.EndsWith(".json", StringComparison.Ordinal) && PointsInto(file, runDir)))
                    File.Delete(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException) { /* the cache is an optimisation */ }
        }
    }

    /// <summary>True when a per-key cache entry's "directory" is in the run folder (compared as paths, not as text in the file).</summary>
    private static bool PointsInto(string entryFile, string runDir)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(entryFile));
        if (!doc.RootElement.TryGetProperty("directory", out var d) || d.GetString() is not { } dir) return false;
        var relative = Path.GetRelativePath(runDir, dir);
        return relative == "." || (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative));
    }

    private static long SizeOf(string dir)
    {
        try { return new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return 0; }
    }

    /// <summary>
    /// An age as users write it: "30d", "12h", "90m", "2w", "1d12h" (w, d, h, m, s), or a TimeSpan ("30.00:00:00",
    /// "12:00:00"). Zero and negative ages are refused.
    /// </summary>
    public static bool TryParseAge(string? text, out TimeSpan age)
    {
        age = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim();
        var m = System.Text.RegularExpressions.Regex.Match(s, @"^(?:(?<n>[0-9]+(?:\.[0-9]+)?)(?<u>[wdhms]))+$");
        if (m.Success)
        {
            double seconds = 0;
            for (var i = 0; i < m.Groups["n"].Captures.Count; i++)
            {
                var n = double.Parse(m.Groups["n"].Captures[i].Value, System.Globalization.CultureInfo.InvariantCulture);
                seconds += m.Groups["u"].Captures[i].Value switch { "w" => n * 604800, "d" => n * 86400, "h" => n * 3600, "m" => n * 60, _ => n };
            }
            age = TimeSpan.FromSeconds(seconds);
        }
        else if (!s.Contains(':') || !TimeSpan.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out age)) return false;
        return age > TimeSpan.Zero;
    }

    /// <summary>A span as people say it: "30 days", "12 hours", "45 minutes".</summary>
    public static string Describe(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalDays == Math.Floor(span.TotalDays) ? Plural((int)span.TotalDays, "day")
        : span.TotalHours >= 1 && span.TotalHours == Math.Floor(span.TotalHours) ? Plural((int)span.TotalHours, "hour")
        : span.TotalMinutes >= 1 ? Plural((int)Math.Round(span.TotalMinutes), "minute")
        : Plural((int)Math.Round(span.TotalSeconds), "second");

    private static string Plural(int n, string unit) => n == 1 ? $"1 {unit}" : $"{n} {unit}s";
}
