using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Axl.Runtime;

/// <summary>
/// Where a local run's per-step time goes, for profiling: with <c>AXL_RUN_TRACE=1</c> in the environment, each phase of
/// every step (bind, run records, the step host, the artifact, events) is timed and the totals are written to stderr
/// when the run ends (ms in all, ms per step, share). Off (null) otherwise; it changes nothing a run does.
/// </summary>
internal sealed class RunTrace
{
    public const string Variable = "AXL_RUN_TRACE";
    private readonly ConcurrentDictionary<string, long> _ticks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly long _start = Stopwatch.GetTimestamp();

    public static RunTrace? FromEnvironment() => Current = Environment.GetEnvironmentVariable(Variable) is "1" ? new RunTrace() : null;

    /// <summary>The trace of the run started last in this process, for the parts a run calls (the step host); null when off.</summary>
    public static RunTrace? Current { get; private set; }

    /// <summary>A timestamp to pass to <see cref="Add"/> when the phase ends.</summary>
    public static long Now() => Stopwatch.GetTimestamp();

    /// <summary>Adds the time since <paramref name="since"/> to <paramref name="phase"/> and returns now (the start of the next phase).</summary>
    public long Add(string phase, long since)
    {
        var now = Stopwatch.GetTimestamp();
        _ticks.AddOrUpdate(phase, now - since, (_, t) => t + now - since);
        _counts.AddOrUpdate(phase, 1, (_, c) => c + 1);
        return now;
    }

    public string Summary(int steps)
    {
        var whole = Stopwatch.GetTimestamp() - _start;
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        sb.Append(c, $"axl-run-trace whole run {Ms(whole):0.0} ms, {steps} steps, {Ms(whole) / Math.Max(1, steps):0.000} ms/step\n");
        foreach (var (phase, ticks) in _ticks.OrderByDescending(kv => kv.Value))
            sb.Append(c, $"axl-run-trace {phase,-28} {Ms(ticks),10:0.0} ms  {_counts[phase],6} times  {Ms(ticks) / Math.Max(1, steps),8:0.000} ms/step  {100.0 * ticks / whole,5:0} %\n");
        return sb.ToString();
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
