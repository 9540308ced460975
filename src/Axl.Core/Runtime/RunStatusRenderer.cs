using System.Globalization;
using System.Text;

namespace Axl.Runtime;

/// <summary>How a run's progress is shown on a console: plain log lines, or those lines under a live status block.</summary>
public enum ProgressMode { Plain, Live }

/// <summary>
/// Shows a local run's events on a text console (what `axl run local` prints on stderr). Plain mode writes one line per
/// event ("[12:00:01] step 'train' started", "[12:00:02] [train] WARNING: ...") and never a control code: what a log
/// file or a pipe gets. Live mode writes the same lines and keeps a status block under them, redrawn in place with ANSI
/// codes at most once per <see cref="MinInterval"/>: done, failed and total counts, and every running step with its
/// elapsed time. Thread-safe: events come from the steps' threads, <see cref="Tick"/> from a timer; the lock is the
/// writer itself, so a caller that locks it to write a line of its own does not tear the block.
/// </summary>
public sealed class RunStatusRenderer
{
    private const string Esc = "\u001b";
    private readonly TextWriter _out;
    private readonly Func<DateTimeOffset> _clock;
    private readonly Dictionary<string, (DateTimeOffset Since, int Attempt)> _running = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _order = new(); // running steps in the order they started
    private DateTimeOffset? _runStart;
    private DateTimeOffset _lastDraw = DateTimeOffset.MinValue;
    private int _drawn; // lines of the block on screen now (the cursor is on the line below it)
    private int _done, _total, _succeeded, _failed, _skipped;
    private bool _finished;

    public RunStatusRenderer(TextWriter output, ProgressMode mode, Func<DateTimeOffset>? clock = null)
    {
        _out = output;
        Mode = mode;
        _clock = clock ?? (() => DateTimeOffset.Now);
    }

    public ProgressMode Mode { get; }
    /// <summary>The workflow's name, in the block's first line.</summary>
    public string Workflow { get; init; } = "";
    /// <summary>Colour in the live block (off when NO_COLOR is set).</summary>
    public bool Color { get; init; }
    /// <summary>Only errors the steps write are shown (--quiet): no event lines, no block.</summary>
    public bool Quiet { get; init; }
    /// <summary>The console's width: block lines are cut to it so none wraps (a wrapped line would break the redraw). 0: no limit.</summary>
    public int Width { get; init; }
    /// <summary>The block is redrawn at most this often (events in between are shown by the next redraw).</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>At most this many running steps are listed; the rest are counted.</summary>
    public int MaxRunningShown { get; init; } = 8;

    /// <summary>
    /// The mode for an explicit --progress value (auto, live, plain; null is auto): auto is live only on a terminal (neither
    /// stdout nor stderr redirected, TERM not 'dumb') and never with --log-json or --quiet. Returns null for an unknown value.
    /// </summary>
    public static ProgressMode? Choose(string? option, bool outputRedirected, bool errorRedirected, string? term, bool logJson, bool quiet) =>
        (option ?? "auto").ToLowerInvariant() switch
        {
            "plain" => ProgressMode.Plain,
            "live" => ProgressMode.Live,
            "auto" => !outputRedirected && !errorRedirected && !string.Equals(term, "dumb", StringComparison.OrdinalIgnoreCase) && !logJson && !quiet
                ? ProgressMode.Live : ProgressMode.Plain,
            _ => null,
        };

    /// <summary>Shows one run event: its line (in both modes), then, live, the block when a redraw is due.</summary>
    public void OnEvent(RunEvent e)
    {
        lock (_out)
        {
            var now = _clock();
            _total = e.Total;
            _done = Math.Max(_done, e.Done);
            switch (e.Kind)
            {
                case RunEventKind.RunStarted:
                    _runStart = now;
                    break;
                case RunEventKind.StepStarted when e.Step is not null:
                    if (!_running.ContainsKey(e.Step)) _order.Add(e.Step);
                    _running[e.Step] = (now, 1);
                    break;
                case RunEventKind.StepRetrying when e.Step is not null && _running.TryGetValue(e.Step, out var r):
                    _running[e.Step] = (r.Since, r.Attempt + 1);
                    break;
                case RunEventKind.StepSucceeded or RunEventKind.StepReused:
                    _succeeded++;
                    Stop(e.Step);
                    break;
                case RunEventKind.StepFailed:
                    _failed++;
                    Stop(e.Step);
                    break;
                case RunEventKind.StepSkipped:
                    _skipped++;
                    Stop(e.Step);
                    break;
                case RunEventKind.RunFinished:
                    _running.Clear();
                    _order.Clear();
                    break;
            }

            string? line = null;
            if (e.Record is { } record)
            {
                if (!Quiet || record.Stream == StepStream.Error) line = $"[{Time(now)}] [{e.Step}] {record.ConsoleText}";
            }
            else if (!Quiet) line = $"[{Time(now)}] {e.Message}";
            if (line is not null) WriteLineLocked(line, now);
            else if (Mode == ProgressMode.Live && !Quiet && Due(now)) Draw(now);
        }
    }

    /// <summary>A line of the caller's (e.g. "cancelling the run"), above the block.</summary>
    public void Message(string line)
    {
        lock (_out) WriteLineLocked(line, _clock());
    }

    /// <summary>Live: redraws the block if a redraw is due (elapsed times move on). A timer calls it a few times a second.</summary>
    public void Tick()
    {
        lock (_out)
        {
            var now = _clock();
            if (Mode == ProgressMode.Live && !Quiet && !_finished && Due(now)) Draw(now);
        }
    }

    /// <summary>The run is over: the block is erased (what follows, the summary, takes its place) and not drawn again.</summary>
    public void Finish()
    {
        lock (_out)
        {
            Erase();
            _finished = true;
            _out.Flush();
        }
    }

    /// <summary>The lines of the block as they are now, without control codes (what a redraw shows).</summary>
    public IReadOnlyList<string> BlockLines()
    {
        lock (_out) return Block(_clock(), color: false);
    }

    private void Stop(string? step)
    {
        if (step is null) return;
        _running.Remove(step);
        _order.Remove(step);
    }

    private bool Due(DateTimeOffset now) => now - _lastDraw >= MinInterval;

    private void WriteLineLocked(string line, DateTimeOffset now)
    {
        if (Mode == ProgressMode.Plain)
        {
            _out.WriteLine(line);
            return;
        }
        Erase();
        _out.WriteLine(line);
        if (!Quiet && !_finished && Due(now)) Draw(now);
        else _out.Flush();
    }

    private void Erase()
    {
        if (_drawn == 0) return;
        // Up to the block's first line, then clear from there to the end of the screen.
        _out.Write($"\r{Esc}[{_drawn}A{Esc}[J");
        _drawn = 0;
    }

    private void Draw(DateTimeOffset now)
    {
        var lines = Block(now, Color);
        var sb = new StringBuilder();
        if (_drawn > 0) sb.Append($"\r{Esc}[{_drawn}A{Esc}[J");
        foreach (var l in lines) sb.Append(l).Append('\n');
        _out.Write(sb.ToString());
        _out.Flush();
        _drawn = lines.Count;
        _lastDraw = now;
    }

    private List<string> Block(DateTimeOffset now, bool color)
    {
        string Paint(string text, string sgr) => color ? $"{Esc}[{sgr}m{text}{Esc}[0m" : text;
        var lines = new List<string>();
        var elapsed = _runStart is { } start ? $"  {Elapsed(now - start)}" : "";
        var failed = _failed > 0 ? Paint($"{_failed} failed", "31") : "0 failed";
        lines.Add(Cut($"{Paint("axl", "1")} {Workflow}: {_done} of {_total} steps done, {failed}{(_skipped > 0 ? $", {_skipped} skipped" : "")}, {_running.Count} running{elapsed}", color));
        var width = _order.Take(MaxRunningShown).Select(s => s.Length).DefaultIfEmpty(0).Max();
        foreach (var step in _order.Take(MaxRunningShown))
        {
            var (since, attempt) = _running[step];
            lines.Add(Cut($"  {Paint("running", "36")}  {step.PadRight(width)}  {Elapsed(now - since),7}{(attempt > 1 ? $"  (attempt {attempt})" : "")}", color));
        }
        if (_order.Count > MaxRunningShown) lines.Add($"  ... and {_order.Count - MaxRunningShown} more running");
        return lines;
    }

    /// <summary>A line cut to the console's width (counting visible characters only), so it never wraps.</summary>
    private string Cut(string line, bool color)
    {
        if (Width <= 1) return line;
        var max = Width - 1;
        var sb = new StringBuilder();
        var visible = 0;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '\u001b')
            {
                var end = line.IndexOf('m', i);
                if (end < 0) break;
                sb.Append(line, i, end - i + 1);
                i = end;
                continue;
            }
            if (visible == max) continue;
            sb.Append(line[i]);
            visible++;
        }
        if (color && visible == max) sb.Append($"{Esc}[0m");
        return sb.ToString();
    }

    private static string Elapsed(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m{t.Seconds:00}s"
        : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:00}s"
        : $"{Math.Max(0, t.TotalSeconds).ToString("0.0", CultureInfo.InvariantCulture)}s";

    private static string Time(DateTimeOffset t) => t.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
