using Axl.Runtime;
using Xunit;

namespace Axl.Core.Tests.Runtime;

/// <summary>What `axl run local` shows while a run goes on: plain lines, or the lines under a live status block.</summary>
public sealed class RunStatusRendererTests
{
    private const char Esc = '\u001b';
    private DateTimeOffset _now = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);
    private readonly StringWriter _out = new();

    private RunStatusRenderer Renderer(ProgressMode mode, int width = 0, bool color = false, bool quiet = false) =>
        new(_out, mode, () => _now) { Workflow = "flow", Width = width, Color = color, Quiet = quiet, MinInterval = TimeSpan.FromMilliseconds(200) };

    private static RunEvent Event(RunEventKind kind, string? step, string message, int done, int total = 3) => new(kind, step, message, done, total, "{}");

    private void Advance(double seconds) => _now = _now.AddSeconds(seconds);

    private static void Feed(RunStatusRenderer r, Action<double> advance)
    {
        r.OnEvent(Event(RunEventKind.RunStarted, null, "run R of 'flow' started (3 steps) in /runs/flow/R", 0));
        advance(0.5);
        r.OnEvent(Event(RunEventKind.StepStarted, "prepare", "step 'prepare' started", 0));
        r.OnEvent(Event(RunEventKind.StepStarted, "train", "step 'train' started", 0));
        advance(1);
        r.OnEvent(Event(RunEventKind.StepLog, "train", "epoch 1", 0) with { Record = new StepStreamRecord(StepStream.Warning, "loss is high") });
        advance(1);
        r.OnEvent(Event(RunEventKind.StepFailed, "prepare", "step 'prepare' failed after 1 attempt(s): no data", 1));
        advance(0.3);
        r.OnEvent(Event(RunEventKind.StepRetrying, "train", "step 'train' attempt 1 of 2 failed: boom; retrying in 1 s", 1));
    }

    [Fact]
    public void Plain_mode_writes_one_line_per_event_and_no_control_code()
    {
        var r = Renderer(ProgressMode.Plain);
        Feed(r, Advance);
        Advance(5);
        r.Tick();
        r.Finish();
        var text = _out.ToString();
        Assert.DoesNotContain(Esc, text);
        var lines = text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.Matches(@"^\[\d\d:\d\d:\d\d\] run R of 'flow' started", lines[0]);
        Assert.Matches(@"^\[\d\d:\d\d:\d\d\] \[train\] WARNING: loss is high$", lines[3]);
        Assert.EndsWith("step 'train' attempt 1 of 2 failed: boom; retrying in 1 s", lines[5]);
        Assert.DoesNotContain(lines, l => l.Contains("running", StringComparison.Ordinal) && l.Contains("steps done", StringComparison.Ordinal));
    }

    [Fact]
    public void Quiet_plain_mode_shows_only_what_steps_write_as_errors()
    {
        var r = Renderer(ProgressMode.Plain, quiet: true);
        Feed(r, Advance);
        r.OnEvent(Event(RunEventKind.StepLog, "train", "x", 1) with { Record = new StepStreamRecord(StepStream.Error, "disk full") });
        var lines = _out.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^\[\d\d:\d\d:\d\d\] \[train\] ERROR: disk full$", Assert.Single(lines));
    }

    [Fact]
    public void Live_mode_keeps_a_block_of_counts_and_running_steps_with_elapsed_time_under_the_lines()
    {
        var r = Renderer(ProgressMode.Live);
        Feed(r, Advance);
        Advance(0.7); // train has run 3 s now, the run 3.5 s
        r.Tick();
        Assert.Equal(new[]
        {
            "axl flow: 1 of 3 steps done, 1 failed, 1 running  3.5s",
            "  running  train     3.0s  (attempt 2)",
        }, r.BlockLines());
        var text = _out.ToString();
        // The last thing written is the block, drawn in place: back up over the old block, clear, draw.
        var last = text[text.LastIndexOf($"{Esc}[J", StringComparison.Ordinal)..];
        Assert.Equal($"{Esc}[Jaxl flow: 1 of 3 steps done, 1 failed, 1 running  3.5s\n  running  train     3.0s  (attempt 2)\n", last);
        Assert.Contains($"\r{Esc}[2A{Esc}[J", text);
        // The event lines are there as in plain mode.
        Assert.Contains("[train] WARNING: loss is high", text);
        Assert.Contains("step 'prepare' failed after 1 attempt(s): no data", text);

        // The elapsed times move on with the clock; a finished step leaves the block.
        Advance(62);
        r.OnEvent(Event(RunEventKind.StepSucceeded, "train", "step 'train' succeeded", 2));
        r.OnEvent(Event(RunEventKind.StepStarted, "report", "step 'report' started", 2));
        Advance(1);
        r.Tick();
        Assert.Equal(new[] { "axl flow: 2 of 3 steps done, 1 failed, 1 running  1m06s", "  running  report     1.0s" }, r.BlockLines());

        // Finish erases the block and nothing is drawn after it.
        r.Finish();
        var end = _out.ToString();
        Assert.EndsWith($"  running  report     1.0s\n\r{Esc}[2A{Esc}[J", end); // up over the two lines of the block, clear
        Advance(10);
        r.Tick();
        Assert.Equal(end, _out.ToString());
    }

    [Fact]
    public void Live_redraws_are_bounded_by_the_interval()
    {
        var r = Renderer(ProgressMode.Live);
        r.OnEvent(Event(RunEventKind.RunStarted, null, "run R of 'flow' started", 0));
        var draws = Count(_out.ToString(), "axl flow:");
        Assert.Equal(1, draws);
        for (int i = 0; i < 50; i++) { Advance(0.001); r.Tick(); } // 50 ticks within 50 ms: no redraw
        Assert.Equal(1, Count(_out.ToString(), "axl flow:"));
        Advance(0.2);
        r.Tick();
        Assert.Equal(2, Count(_out.ToString(), "axl flow:"));
    }

    [Fact]
    public void Live_lines_are_cut_to_the_width_and_many_running_steps_are_counted()
    {
        var r = new RunStatusRenderer(_out, ProgressMode.Live, () => _now) { Workflow = "flow", Width = 30, MaxRunningShown = 2, Color = true };
        r.OnEvent(Event(RunEventKind.RunStarted, null, "run R of 'flow' started", 0, 10));
        foreach (var s in new[] { "a", "b", "c", "d" }) r.OnEvent(Event(RunEventKind.StepStarted, s, $"step '{s}' started", 0, 10));
        Advance(1);
        r.Tick();
        var block = r.BlockLines();
        Assert.Equal(4, block.Count);
        Assert.All(block, l => Assert.True(l.Length <= 29, l));
        Assert.Equal("axl flow: 0 of 10 steps done,", block[0]);
        Assert.Equal("  ... and 2 more running", block[3]);
        // With colour the codes do not count against the width, and every line ends with its colour reset.
        var drawn = _out.ToString()[_out.ToString().LastIndexOf($"{Esc}[J", StringComparison.Ordinal)..];
        Assert.Contains($"{Esc}[1maxl{Esc}[0m", drawn);
        Assert.Contains($"{Esc}[36mrunning{Esc}[0m", drawn);
    }

    [Theory]
    [InlineData(null, false, false, "xterm-256color", false, false, ProgressMode.Live)]
    [InlineData("auto", true, false, "xterm", false, false, ProgressMode.Plain)]
    [InlineData("auto", false, true, "xterm", false, false, ProgressMode.Plain)]
    [InlineData(null, false, false, "dumb", false, false, ProgressMode.Plain)]
    [InlineData(null, false, false, "xterm", true, false, ProgressMode.Plain)]
    [InlineData(null, false, false, "xterm", false, true, ProgressMode.Plain)]
    [InlineData("live", true, true, "dumb", false, false, ProgressMode.Live)]
    [InlineData("PLAIN", false, false, "xterm", false, false, ProgressMode.Plain)]
    public void The_mode_is_live_only_on_a_terminal_unless_asked(string? option, bool outRedirected, bool errRedirected, string term, bool logJson, bool quiet, ProgressMode expected) =>
        Assert.Equal(expected, RunStatusRenderer.Choose(option, outRedirected, errRedirected, term, logJson, quiet));

    [Fact]
    public void An_unknown_mode_is_null() => Assert.Null(RunStatusRenderer.Choose("fancy", false, false, "xterm", false, false));

    private static int Count(string text, string what)
    {
        int n = 0, i = 0;
        while ((i = text.IndexOf(what, i, StringComparison.Ordinal)) >= 0) { n++; i += what.Length; }
        return n;
    }
}
