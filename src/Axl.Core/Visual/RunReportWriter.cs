using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Net;
using System.Text;
using System.Text.Json;
using Axl.IO;
using Axl.Runtime;

namespace Axl.Visual;

/// <summary>Limits of a run report: how much of each output and log it shows, so a report stays small.</summary>
public sealed record RunReportOptions
{
    /// <summary>Rows (and list items) of an output preview.</summary>
    public int PreviewRows { get; init; } = 20;
    /// <summary>Columns of a table preview.</summary>
    public int PreviewColumns { get; init; } = 12;
    /// <summary>Outputs larger than this (bytes) are not loaded for a preview.</summary>
    public long PreviewMaxBytes { get; init; } = 1024 * 1024;
    /// <summary>Characters of a text preview.</summary>
    public int PreviewChars { get; init; } = 4000;
    /// <summary>How many steps' outputs are previewed (the first succeeded steps in run order).</summary>
    public int MaxPreviews { get; init; } = 40;
    /// <summary>Log lines shown for each failed step.</summary>
    public int LogTailLines { get; init; } = 40;
    /// <summary>Steps above which the DAG is summarised.</summary>
    public int SummariseAbove { get; init; } = WorkflowPicture.DefaultSummaryThreshold;
}

/// <summary>
/// One self-contained HTML page per run: status and times, the failures with the tail of their logs, the command that
/// resumes the run, the DAG coloured by step status, a timeline of every attempt (retries and reused outputs visible),
/// each step's duration, output size, handler and hash, the parameters, and previews of small outputs. Inline CSS
/// (light, dark, print) and inline SVG only: no scripts, no external URLs; it opens from disk, in CI artifacts and mail.
/// </summary>
public static class RunReportWriter
{
    public const string DefaultFileName = "report.html";

    /// <summary>Writes the report (atomically) to <paramref name="path"/>, by default report.html in the run's directory.</summary>
    public static FileInfo Save(AxlRun run, string? path = null, RunReportOptions? options = null)
    {
        path ??= Path.Combine(run.Directory, DefaultFileName);
        RunStore.WriteAtomic(Path.GetFullPath(path), Write(run, options), durable: false);
        return new FileInfo(path);
    }

    public static string Write(AxlRun run, RunReportOptions? options = null)
    {
        options ??= new RunReportOptions();
        var dag = run.Directory.Length > 0 ? WorkflowDag.Load(run.Directory) : null;
        var picture = WorkflowPicture.Build(dag ?? WorkflowDag.FromRun(run), run, options.SummariseAbove);
        var status = run.Status.ToString().ToLowerInvariant();
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<meta name=\"color-scheme\" content=\"light dark\">\n<meta name=\"generator\" content=\"Axl ").Append(E(AxlInfo.Version)).Append("\">\n");
        sb.Append("<title>").Append(E($"{run.Workflow} {run.RunId}: {run.Status}")).Append("</title>\n<style>\n").Append(Css()).Append(SvgWriter.Stylesheet()).Append("\n</style>\n</head>\n");
        sb.Append("<body class=\"run run-").Append(status).Append("\" data-run-id=\"").Append(E(run.RunId)).Append("\" data-status=\"").Append(status).Append("\">\n");

        Header(sb, run);
        Failures(sb, run, options);
        Resume(sb, run);
        sb.Append("<section id=\"dag\">\n<h2>DAG</h2>\n");
        if (dag is null) sb.Append("<p class=\"note\">This run did not keep its DAG (it was recorded by an older Axl): its steps are shown without edges.</p>\n");
        sb.Append(Legend()).Append("<div class=\"scroll\">").Append(SvgWriter.Write(picture, standalone: false)).Append("</div>\n</section>\n");
        Timeline(sb, run);
        Steps(sb, run);
        Parameters(sb, run);
        Outputs(sb, run, options);
        sb.Append("<footer>Report of run ").Append(E(run.RunId)).Append(" written by Axl ").Append(E(AxlInfo.Version)).Append(" at ")
          .Append(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append(".</footer>\n</body>\n</html>\n");
        return sb.ToString();
    }

    // ---- sections ------------------------------------------------------------------------------------------------

    private static void Header(StringBuilder sb, AxlRun run)
    {
        var status = run.Status.ToString().ToLowerInvariant();
        sb.Append("<header>\n<h1>").Append(E(run.Workflow)).Append(" <span class=\"badge status-").Append(status).Append("\">").Append(run.Status).Append("</span></h1>\n<dl class=\"facts\">\n");
        Fact(sb, "Run", run.RunId);
        Fact(sb, "Started", run.StartTime.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        if (run.EndTime is { } end) Fact(sb, "Ended", end.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        if (run.Duration is { } d) Fact(sb, "Duration", Format.Duration(d));
        var counts = run.Steps.GroupBy(s => s.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        Fact(sb, "Steps", $"{run.Steps.Count}: {string.Join(", ", counts)}");
        var reused = run.Steps.Count(s => s.ReusedFrom is not null);
        if (reused > 0) Fact(sb, "Reused", $"{reused} step output{(reused == 1 ? "" : "s")} (cache or resume)");
        if (run.Resumes > 0) Fact(sb, "Resumes", run.Resumes.ToString(CultureInfo.InvariantCulture));
        if (run.SourceFile is not null) Fact(sb, "Workflow file", run.SourceFile);
        Fact(sb, "Directory", run.Directory);
        sb.Append("</dl>\n</header>\n");
    }

    private static void Failures(StringBuilder sb, AxlRun run, RunReportOptions options)
    {
        var failed = run.Steps.Where(s => s.Status is StepStatus.Failed or StepStatus.Cancelled).ToList();
        if (failed.Count == 0) return;
        var tails = LogTails(run, failed.Select(s => s.Name), options.LogTailLines);
        sb.Append("<section id=\"failures\">\n<h2>Failures</h2>\n");
        foreach (var s in failed)
        {
            sb.Append("<article class=\"failure status-").Append(s.Status.ToString().ToLowerInvariant()).Append("\" data-step=\"").Append(E(s.Name)).Append("\">\n<h3>")
              .Append(E(s.Name)).Append(": ").Append(s.Status.ToString().ToLowerInvariant()).Append(s.Attempts > 1 ? $" after {s.Attempts} attempts" : "").Append("</h3>\n");
            if (s.Error is { } err)
            {
                sb.Append("<p class=\"error-message\">").Append(E(err.Message)).Append("</p>\n<p class=\"where\">").Append(E(err.Kind.ToString().ToLowerInvariant())).Append(" error");
                if (err.File is not null) sb.Append(" at <code>").Append(E(err.Line > 0 ? $"{err.File}:{err.Line}" : err.File)).Append("</code>");
                sb.Append("</p>\n");
                if (!string.IsNullOrWhiteSpace(err.ScriptLine)) sb.Append("<pre class=\"script-line\">").Append(E(err.ScriptLine.Trim())).Append("</pre>\n");
            }
            if (tails.TryGetValue(s.Name, out var lines) && lines.Count > 0)
                sb.Append("<details open><summary>Last ").Append(lines.Count).Append(" log lines</summary><pre class=\"log-tail\">").Append(E(string.Join("\n", lines))).Append("</pre></details>\n");
            else sb.Append("<p class=\"note\">The step wrote nothing to its streams.</p>\n");
            sb.Append("</article>\n");
        }
        sb.Append("</section>\n");
    }

    private static void Resume(StringBuilder sb, AxlRun run)
    {
        sb.Append("<section id=\"resume\">\n<h2>").Append(run.Status == RunStatus.Succeeded ? "Run it again" : "Resume").Append("</h2>\n");
        if (run.SourceFile is null)
        {
            sb.Append("<p class=\"note\">The workflow was not loaded from a file: resume it with <code>Invoke-AxlLocalRun -Resume ").Append(E(run.RunId)).Append("</code> on the same workflow.</p>\n</section>\n");
            return;
        }
        var reference = run.WorkflowReference!;
        sb.Append("<p>Re-runs only the steps that failed or whose code or inputs changed; the others reuse their outputs.</p>\n");
        sb.Append("<pre class=\"command\" id=\"resume-powershell\">").Append(E(Remedies.ResumeCommand(RemedyStyle.PowerShell, reference, run.RunId, run.RunRoot))).Append("</pre>\n");
        sb.Append("<pre class=\"command\" id=\"resume-cli\">").Append(E(Remedies.ResumeCommand(RemedyStyle.Cli, reference, run.RunId, run.RunRoot))).Append("</pre>\n</section>\n");
    }

    private static string Legend()
    {
        var sb = new StringBuilder("<p class=\"legend\">");
        foreach (var s in StatusColors.Light.Keys) sb.Append("<span class=\"badge status-").Append(s).Append("\">").Append(s).Append("</span> ");
        sb.Append("<span class=\"badge reused\">reused (dashed)</span></p>\n");
        return sb.ToString();
    }

    private const double TimelineLabel = 180, TimelineWidth = 760, RowHeight = 20;

    private static void Timeline(StringBuilder sb, AxlRun run)
    {
        sb.Append("<section id=\"timeline\">\n<h2>Timeline</h2>\n");
        var bars = run.Steps.Select(s => (Step: s, Bars: Bars(s))).ToList();
        var times = bars.SelectMany(b => b.Bars).SelectMany(b => new[] { b.Start, b.End }).Append(run.StartTime).ToList();
        if (run.EndTime is { } e) times.Add(e);
        var t0 = times.Min();
        var t1 = times.Max();
        var span = Math.Max(1, (t1 - t0).TotalMilliseconds);
        double X(DateTimeOffset t) => TimelineLabel + (t - t0).TotalMilliseconds / span * TimelineWidth;
        var height = RowHeight * bars.Count + 28;
        sb.Append("<p class=\"note\">Every attempt of every step from the start of the run (").Append(E(Format.Duration(t1 - t0)))
          .Append(" in all); a failed attempt in red, a retry after it, an output reused from the cache or the resumed run as a dashed bar.</p>\n");
        sb.Append("<div class=\"scroll\"><svg class=\"axl-timeline\" width=\"").Append(N(TimelineLabel + TimelineWidth + 70)).Append("\" height=\"").Append(N(height))
          .Append("\" viewBox=\"0 0 ").Append(N(TimelineLabel + TimelineWidth + 70)).Append(' ').Append(N(height)).Append("\" role=\"img\" aria-label=\"").Append(E($"Timeline of run {run.RunId}")).Append("\">\n");
        for (int i = 0; i <= 4; i++)
        {
            var x = TimelineLabel + TimelineWidth * i / 4;
            sb.Append("<line class=\"tick\" x1=\"").Append(N(x)).Append("\" x2=\"").Append(N(x)).Append("\" y1=\"0\" y2=\"").Append(N(height - 16)).Append("\"/>");
            sb.Append("<text class=\"tick-label\" x=\"").Append(N(x)).Append("\" y=\"").Append(N(height - 4)).Append("\" text-anchor=\"middle\">")
              .Append(E(Format.Duration(TimeSpan.FromMilliseconds(span * i / 4)))).Append("</text>\n");
        }
        var row = 0;
        foreach (var (step, list) in bars)
        {
            var y = row++ * RowHeight + 4;
            var status = step.Status.ToString().ToLowerInvariant();
            sb.Append("<g class=\"lane status-").Append(status).Append("\" data-step=\"").Append(E(step.Name)).Append("\" data-status=\"").Append(status).Append("\" data-attempts=\"").Append(step.Attempts).Append("\">");
            sb.Append("<text class=\"lane-label\" x=\"").Append(N(TimelineLabel - 8)).Append("\" y=\"").Append(N(y + 12)).Append("\" text-anchor=\"end\">").Append(E(WorkflowPicture.Shorten(step.Name, 26))).Append("</text>");
            if (list.Count == 0)
                sb.Append("<text class=\"lane-note\" x=\"").Append(N(TimelineLabel + 4)).Append("\" y=\"").Append(N(y + 12)).Append("\">").Append(E(step.Status == StepStatus.Skipped ? "skipped" + (step.SkipReason is null ? "" : ": " + step.SkipReason) : status)).Append("</text>");
            foreach (var b in list)
            {
                var x = X(b.Start);
                var w = Math.Max(3, X(b.End) - x);
                sb.Append("<rect class=\"bar ").Append(b.Class).Append("\" x=\"").Append(N(x)).Append("\" y=\"").Append(N(y)).Append("\" width=\"").Append(N(w)).Append("\" height=\"").Append(N(RowHeight - 6)).Append("\" rx=\"3\">")
                  .Append("<title>").Append(E(b.Title)).Append("</title></rect>");
                if (b.Label is { } label) sb.Append("<text class=\"bar-label\" x=\"").Append(N(x + w + 4)).Append("\" y=\"").Append(N(y + 12)).Append("\">").Append(E(label)).Append("</text>");
            }
            sb.Append("</g>\n");
        }
        sb.Append("</svg></div>\n</section>\n");
    }

    private sealed record Bar(DateTimeOffset Start, DateTimeOffset End, string Class, string Title, string? Label);

    private static List<Bar> Bars(AxlStepResult s)
    {
        var bars = new List<Bar>();
        if (s.ReusedFrom is { } from && s.StartTime is { } rs)
        {
            bars.Add(new Bar(rs, s.EndTime ?? rs, "reused", $"{s.Name}: output reused from {(from == "cache" ? "the cache" : "the resumed run")}", from));
            return bars;
        }
        if (s.AttemptLog.Count > 0)
        {
            foreach (var a in s.AttemptLog)
            {
                var end = a.EndTime ?? s.EndTime ?? a.StartTime;
                var cls = a.Outcome switch { "Succeeded" => "succeeded", "Running" => "running", "Cancelled" => "cancelled", _ => "failed" };
                var title = $"{s.Name} attempt {a.Number}: {a.Outcome.ToLowerInvariant()}{(a.Duration is { } d ? " in " + Format.Duration(d) : "")}{(a.Error is null ? "" : ": " + a.Error)}";
                bars.Add(new Bar(a.StartTime, end, "attempt " + cls, title, s.AttemptLog.Count > 1 ? $"#{a.Number}" : null));
            }
            return bars;
        }
        if (s.StartTime is { } start && s.Status is not StepStatus.Skipped and not StepStatus.Pending)
            bars.Add(new Bar(start, s.EndTime ?? start, "attempt " + s.Status.ToString().ToLowerInvariant(), $"{s.Name}: {s.Status.ToString().ToLowerInvariant()}{(s.Duration is { } d ? " in " + Format.Duration(d) : "")}", s.Attempts > 1 ? $"{s.Attempts} attempts" : null));
        return bars;
    }

    private static void Steps(StringBuilder sb, AxlRun run)
    {
        sb.Append("<section id=\"steps\">\n<h2>Steps</h2>\n<div class=\"scroll\"><table class=\"steps\">\n<thead><tr><th>Step</th><th>Status</th><th>Attempts</th><th>Duration</th><th>Output</th><th>Handler</th><th>Hash</th><th>Note</th></tr></thead>\n<tbody>\n");
        foreach (var s in run.Steps)
        {
            var status = s.Status.ToString().ToLowerInvariant();
            sb.Append("<tr class=\"step status-").Append(status).Append(s.ReusedFrom is null ? "" : " reused").Append("\" data-step=\"").Append(E(s.Name)).Append("\" data-status=\"").Append(status).Append("\">");
            sb.Append("<td class=\"name\">").Append(E(s.Name)).Append("</td>");
            sb.Append("<td><span class=\"badge status-").Append(status).Append("\">").Append(status).Append("</span>").Append(s.ReusedFrom is { } r ? $" <span class=\"badge reused\">{E(r)}</span>" : "").Append("</td>");
            sb.Append("<td class=\"num\">").Append(s.Attempts).Append("</td>");
            sb.Append("<td class=\"num\">").Append(s.Duration is { } d ? E(Format.Duration(d)) : "").Append("</td>");
            sb.Append("<td class=\"num\">").Append(E(Format.Bytes(s.OutputSize))).Append("</td>");
            sb.Append("<td>").Append(E(s.OutputHandler ?? "")).Append("</td>");
            sb.Append("<td><code title=\"").Append(E(s.OutputHash ?? "")).Append("\">").Append(E(ShortHash(s.OutputHash))).Append("</code></td>");
            sb.Append("<td class=\"note\">").Append(E(s.Note)).Append("</td></tr>\n");
        }
        sb.Append("</tbody>\n</table></div>\n</section>\n");
    }

    private static void Parameters(StringBuilder sb, AxlRun run)
    {
        sb.Append("<section id=\"parameters\">\n<h2>Parameters</h2>\n");
        if (run.Parameters.Count == 0) { sb.Append("<p class=\"note\">The workflow has no parameters.</p>\n</section>\n"); return; }
        sb.Append("<table class=\"parameters\"><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody>\n");
        foreach (var (name, value) in run.Parameters.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
            sb.Append("<tr><td>").Append(E(name)).Append("</td><td><code>").Append(E(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "(none)")).Append("</code></td></tr>\n");
        sb.Append("</tbody></table>\n</section>\n");
    }

    private static void Outputs(StringBuilder sb, AxlRun run, RunReportOptions options)
    {
        var withOutput = run.Steps.Where(s => s.Status == StepStatus.Succeeded && s.OutputPath is not null).ToList();
        sb.Append("<section id=\"outputs\">\n<h2>Outputs</h2>\n");
        if (withOutput.Count == 0) sb.Append("<p class=\"note\">No step has an output yet.</p>\n");
        foreach (var s in withOutput.Take(options.MaxPreviews))
        {
            sb.Append("<article class=\"output\" data-step=\"").Append(E(s.Name)).Append("\">\n<h3>").Append(E(s.Name)).Append(" <small>")
              .Append(E($"{s.OutputHandler}, {Format.Bytes(s.OutputSize)}")).Append("</small></h3>\n");
            if (s.OutputSize > options.PreviewMaxBytes)
                sb.Append("<p class=\"note\">Too large to preview here (").Append(E(Format.Bytes(s.OutputSize))).Append("). Load it with <code>Get-AxlArtifact -RunId ").Append(E(run.RunId)).Append(' ').Append(E(s.Name)).Append("</code>.</p>\n");
            else
            {
                try { Preview(sb, ArtifactIO.Load(s.Directory), options); }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    sb.Append("<p class=\"note\">No preview: ").Append(E(ex.Message)).Append("</p>\n");
                }
            }
            sb.Append("</article>\n");
        }
        if (withOutput.Count > options.MaxPreviews)
            sb.Append("<p class=\"note\">").Append(withOutput.Count - options.MaxPreviews).Append(" more outputs are not previewed (Get-AxlArtifact loads them).</p>\n");
        sb.Append("</section>\n");
    }

    // ---- previews ------------------------------------------------------------------------------------------------

    private static void Preview(StringBuilder sb, object? value, RunReportOptions options)
    {
        value = Unwrap(value);
        switch (value)
        {
            case null:
                sb.Append("<p class=\"note\">(no value)</p>\n");
                return;
            case string text:
                sb.Append("<pre class=\"preview text\">").Append(E(text.Length > options.PreviewChars ? text[..options.PreviewChars] + "\n…" : text)).Append("</pre>\n");
                return;
            case byte[] bytes:
                sb.Append("<p class=\"note\">").Append(bytes.Length).Append(" bytes of binary data: <code>").Append(Convert.ToHexString(bytes, 0, Math.Min(32, bytes.Length))).Append(bytes.Length > 32 ? "…" : "").Append("</code></p>\n");
                return;
            case IDictionary dict:
                var pairs = dict.Keys.Cast<object>().Take(options.PreviewRows).Select(k => (Key: Cell(k), Value: Cell(dict[k]))).ToList();
                Table(sb, new[] { "Key", "Value" }, pairs.Select(p => new[] { p.Key, p.Value }).ToList(), dict.Count);
                return;
        }
        if (IsScalar(value))
        {
            sb.Append("<pre class=\"preview text\">").Append(E(Cell(value))).Append("</pre>\n");
            return;
        }
        if (value is IEnumerable items)
        {
            var rows = new List<object?>();
            var total = 0;
            foreach (var item in items)
            {
                if (total < options.PreviewRows) rows.Add(Unwrap(item));
                if (++total >= 100_000) break;
            }
            if (rows.All(r => r is null || IsScalar(r)))
            {
                sb.Append("<pre class=\"preview list\">").Append(E(string.Join("\n", rows.Select(Cell)))).Append(total > rows.Count ? "\n…" : "").Append("</pre>\n");
                sb.Append("<p class=\"note\">").Append(total >= 100_000 ? "100,000 or more" : total.ToString(CultureInfo.InvariantCulture)).Append(" items.</p>\n");
                return;
            }
            var columns = new List<string>();
            foreach (var r in rows)
                foreach (var n in Names(r))
                    if (!columns.Contains(n, StringComparer.OrdinalIgnoreCase) && columns.Count < options.PreviewColumns) columns.Add(n);
            Table(sb, columns, rows.Select(r => columns.Select(c => Cell(Property(r, c))).ToArray()).ToList(), total);
            return;
        }
        // One object: its properties as a table.
        var names = Names(value).Take(options.PreviewRows).ToList();
        Table(sb, new[] { "Property", "Value" }, names.Select(n => new[] { n, Cell(Property(value, n)) }).ToList(), names.Count);
    }

    private static void Table(StringBuilder sb, IReadOnlyList<string> columns, List<string[]> rows, int total)
    {
        sb.Append("<div class=\"scroll\"><table class=\"preview\"><thead><tr>");
        foreach (var c in columns) sb.Append("<th>").Append(E(c)).Append("</th>");
        sb.Append("</tr></thead><tbody>\n");
        foreach (var r in rows)
        {
            sb.Append("<tr>");
            foreach (var c in r) sb.Append("<td>").Append(E(c)).Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody></table></div>\n<p class=\"note\">").Append(total >= 100_000 ? "100,000 or more" : total.ToString(CultureInfo.InvariantCulture))
          .Append(total == 1 ? " row" : " rows").Append(total > rows.Count ? $", the first {rows.Count} shown" : "").Append(".</p>\n");
    }

    private static object? Unwrap(object? value) => value is PSObject p && (p.BaseObject is not PSCustomObject) ? p.BaseObject is string or ValueType or IEnumerable ? p.BaseObject : value : value;

    private static bool IsScalar(object? v) => v is string or char or bool or DateTime or DateTimeOffset or TimeSpan or Guid or decimal or Enum || (v is not null && v.GetType().IsPrimitive);

    private static IEnumerable<string> Names(object? item) => item switch
    {
        null => Array.Empty<string>(),
        IDictionary d => d.Keys.Cast<object>().Select(k => Convert.ToString(k, CultureInfo.InvariantCulture) ?? ""),
        _ when IsScalar(item) => new[] { "Value" },
        _ => PSObject.AsPSObject(item).Properties.Where(p => p.IsGettable).Select(p => p.Name),
    };

    private static object? Property(object? item, string name)
    {
        try
        {
            return item switch
            {
                null => null,
                IDictionary d => d.Contains(name) ? d[name] : null,
                _ when IsScalar(item) => name == "Value" ? item : null,
                _ => PSObject.AsPSObject(item).Properties[name]?.Value,
            };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException) { return "(" + ex.Message + ")"; }
    }

    private static string Cell(object? v)
    {
        v = v is PSObject p && p.BaseObject is not PSCustomObject ? p.BaseObject : v;
        var text = v switch
        {
            null => "",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => v.ToString() ?? "",
        };
        return WorkflowPicture.Shorten(text, 120);
    }

    // ---- logs ----------------------------------------------------------------------------------------------------

    /// <summary>The last lines each of <paramref name="steps"/> wrote (its streams, retries and failure) in the run's log.jsonl.</summary>
    private static Dictionary<string, List<string>> LogTails(AxlRun run, IEnumerable<string> steps, int lines)
    {
        var wanted = new HashSet<string>(steps, StringComparer.OrdinalIgnoreCase);
        var tails = new Dictionary<string, Queue<string>>(StringComparer.OrdinalIgnoreCase);
        var file = Path.Combine(run.Directory, "log.jsonl");
        if (File.Exists(file))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0) continue;
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    var e = doc.RootElement;
                    var step = Str(e, "step");
                    if (step is null || !wanted.Contains(step)) continue;
                    var ev = Str(e, "event");
                    if (ev is not ("StepLog" or "StepRetrying" or "StepFailed" or "StepStarted")) continue;
                    var attempt = e.TryGetProperty("attempt", out var a) && a.ValueKind == JsonValueKind.Number ? $"#{a.GetInt32()} " : "";
                    var kind = Str(e, "stream") ?? Str(e, "level") ?? "";
                    var q = tails.TryGetValue(step, out var x) ? x : tails[step] = new Queue<string>();
                    q.Enqueue($"{attempt}{kind}: {Str(e, "message")}");
                    while (q.Count > lines) q.Dequeue();
                }
                catch (JsonException) { }
            }
        }
        return tails.ToDictionary(kv => kv.Key, kv => kv.Value.ToList(), StringComparer.OrdinalIgnoreCase);
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    // ---- bits ----------------------------------------------------------------------------------------------------

    private static void Fact(StringBuilder sb, string name, string value) =>
        sb.Append("<dt>").Append(E(name)).Append("</dt><dd>").Append(E(value)).Append("</dd>\n");

    private static string ShortHash(string? hash) => hash is null ? "" : hash.StartsWith("sha256:", StringComparison.Ordinal) ? hash[7..Math.Min(hash.Length, 19)] : hash[..Math.Min(hash.Length, 12)];

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string N(double v) => Math.Round(v, 1).ToString("0.#", CultureInfo.InvariantCulture);

    private static string Css()
    {
        var sb = new StringBuilder();
        sb.Append(":root{color-scheme:light dark;--fg:#212529;--bg:#ffffff;--muted:#6c757d;--line:#dee2e6;--panel:#f8f9fa;--code:#f1f3f5}");
        sb.Append("@media screen and (prefers-color-scheme: dark){:root{--fg:#e9ecef;--bg:#1a1b1e;--muted:#adb5bd;--line:#373a40;--panel:#25262b;--code:#2c2e33}}");
        sb.Append("body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:1rem 1.5rem;max-width:1200px;line-height:1.4}");
        sb.Append("h1{font-size:1.6rem;margin:.2rem 0 .6rem}h2{font-size:1.2rem;border-bottom:1px solid var(--line);padding-bottom:.2rem;margin-top:1.6rem}h3{font-size:1rem;margin:.8rem 0 .3rem}");
        sb.Append("dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-all}");
        sb.Append("code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}pre{background:var(--code);padding:.5rem .7rem;border-radius:4px;overflow-x:auto;white-space:pre-wrap;word-break:break-word}");
        sb.Append(".note{color:var(--muted);font-size:.9rem}.scroll{overflow-x:auto}");
        sb.Append("table{border-collapse:collapse;font-size:.85rem;margin:.3rem 0}th,td{border:1px solid var(--line);padding:.2rem .5rem;text-align:left;vertical-align:top}th{background:var(--panel)}td.num{text-align:right;white-space:nowrap}td.note{max-width:28rem}");
        sb.Append(".badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:.8rem;font-weight:600;border:1px solid;vertical-align:middle}.badge.reused{border-style:dashed}");
        sb.Append(".failure{border-left:4px solid;padding:.2rem .8rem;margin:.6rem 0;background:var(--panel)}.error-message{font-weight:600;white-space:pre-wrap}");
        sb.Append(".axl-timeline{font-family:inherit;font-size:11px}.axl-timeline text{fill:var(--fg)}.axl-timeline .tick{stroke:var(--line)}.axl-timeline .tick-label,.axl-timeline .lane-note{fill:var(--muted)}");
        sb.Append(".axl-timeline .bar{stroke-width:1.2}.axl-timeline .bar.reused{stroke-dasharray:4 2}");
        foreach (var (status, (fill, stroke)) in StatusColors.Light)
        {
            sb.Append(".badge.status-").Append(status).Append("{background:").Append(fill).Append(";border-color:").Append(stroke).Append(";color:#111}");
            sb.Append("tr.status-").Append(status).Append(" td.name{border-left:5px solid ").Append(stroke).Append('}');
            sb.Append(".failure.status-").Append(status).Append("{border-left-color:").Append(stroke).Append('}');
            sb.Append(".axl-timeline .bar.").Append(status).Append("{fill:").Append(stroke).Append(";stroke:").Append(stroke).Append('}');
        }
        sb.Append(".badge.status-interrupted{background:").Append(StatusColors.Light["cancelled"].Fill).Append(";border-color:").Append(StatusColors.Light["cancelled"].Stroke).Append(";color:#111}");
        sb.Append(".axl-timeline .bar.reused{fill:").Append(StatusColors.Light["succeeded"].Fill).Append(";stroke:").Append(StatusColors.Light["succeeded"].Stroke).Append('}');
        sb.Append("@media screen and (prefers-color-scheme: dark){");
        foreach (var (status, (fill, stroke)) in StatusColors.Dark)
        {
            sb.Append(".badge.status-").Append(status).Append("{background:").Append(fill).Append(";border-color:").Append(stroke).Append(";color:#f8f9fa}");
            sb.Append("tr.status-").Append(status).Append(" td.name{border-left-color:").Append(stroke).Append('}');
            sb.Append(".axl-timeline .bar.").Append(status).Append("{fill:").Append(stroke).Append(";stroke:").Append(stroke).Append('}');
        }
        sb.Append(".axl-timeline .bar.reused{fill:").Append(StatusColors.Dark["succeeded"].Fill).Append(";stroke:").Append(StatusColors.Dark["succeeded"].Stroke).Append("}}");
        sb.Append("@media print{body{max-width:none;padding:0;font-size:10pt}.scroll{overflow:visible}section,article,tr{break-inside:avoid}details>summary{display:none}svg{max-width:100%;height:auto}pre{white-space:pre-wrap}}");
        sb.Append("footer{margin-top:2rem;color:var(--muted);font-size:.8rem}\n");
        return sb.ToString();
    }
}
