using System.Diagnostics;
using System.Globalization;

namespace Axl.Bench;

/// <summary>
/// The timing harness: warm-up runs (not kept), then N timed runs; the figure is the median. Each run times only its own
/// measured part (setup and clean-up of a run are outside the stopwatch). A full GC runs before every run so that one
/// run's garbage is not collected on the next one's clock.
/// </summary>
public static class Harness
{
    /// <summary>One timed run: does its setup, times its work with the stopwatch it is given, cleans up.</summary>
    public delegate void TimedRun(Stopwatch clock);

    public static Timing Measure(string name, int warmups, int runs, TimedRun run)
    {
        for (var i = 0; i < warmups; i++) run(new Stopwatch());
        var seconds = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            Collect();
            var clock = new Stopwatch();
            run(clock);
            seconds[i] = clock.Elapsed.TotalSeconds;
        }
        var t = new Timing(name, seconds);
        Console.WriteLine($"    {name}: median {Fmt.Seconds(t.Median)} of {runs} run(s) [{string.Join(", ", seconds.Select(Fmt.Seconds))}]");
        return t;
    }

    /// <summary>Times a whole action (no setup to exclude).</summary>
    public static Timing Measure(string name, int warmups, int runs, Action action) =>
        Measure(name, warmups, runs, clock => { clock.Start(); action(); clock.Stop(); });

    private static readonly List<(string Label, double Cpu, double Fsync)> Probes = new();

    /// <summary>
    /// Probes the machine before a measured round: a fixed piece of CPU work (about 50 ms when the machine is quiet) and
    /// the mean fsync of 20 small new files in <paramref name="dir"/>. Across the run they show how much the machine's speed
    /// and the disk's latency wandered (other processes, other tenants of the host).
    /// </summary>
    public static void Probe(string label, string dir)
    {
        var sw = Stopwatch.StartNew();
        ulong x = 88172645463325252UL, acc = 0;
        for (var i = 0; i < 40_000_000; i++)
        {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            acc += x & 0xff;
        }
        sw.Stop();
        if (acc == 42) Console.Write(""); // keeps the loop
        var cpu = sw.Elapsed.TotalSeconds;

        var d = Path.Combine(dir, "probe-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        var payload = new byte[400];
        double fsync = 0;
        for (var i = 0; i < 20; i++)
        {
            using var fs = new FileStream(Path.Combine(d, i.ToString(CultureInfo.InvariantCulture)), FileMode.CreateNew, FileAccess.Write, FileShare.None);
            fs.Write(payload);
            fs.Flush();
            var t = Stopwatch.GetTimestamp();
            fs.Flush(flushToDisk: true);
            fsync += Stopwatch.GetElapsedTime(t).TotalSeconds;
        }
        Directory.Delete(d, recursive: true);
        lock (Probes) Probes.Add((label, cpu, fsync / 20));
    }

    public static IReadOnlyList<(string Label, double Cpu, double Fsync)> ProbeResults
    {
        get { lock (Probes) return Probes.ToList(); }
    }

    public static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}

/// <summary>The seconds of the timed runs of one measurement.</summary>
public sealed record Timing(string Name, double[] Seconds)
{
    public double Median
    {
        get
        {
            var s = Seconds.OrderBy(x => x).ToArray();
            return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
        }
    }

    public double Min => Seconds.Min();
    public double Max => Seconds.Max();
    public int Runs => Seconds.Length;

    /// <summary>"median (min–max, n runs)" for the tables.</summary>
    public string Spread => Runs == 1 ? "1 run" : $"{Fmt.Seconds(Min)}–{Fmt.Seconds(Max)}, {Runs} runs";
}

public static class Fmt
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Seconds(double s) => s switch
    {
        double.NaN => "n/a",
        < 0.001 => (s * 1e6).ToString("0.0", C) + " µs",
        < 1 => (s * 1e3).ToString("0.0", C) + " ms",
        _ => s.ToString("0.00", C) + " s",
    };

    public static string Ms(double ms) => double.IsNaN(ms) ? "n/a" : ms < 0.1 ? ms.ToString("0.000", C) : ms < 10 ? ms.ToString("0.00", C) : ms.ToString("0.0", C);
    public static string Ratio(double r) => double.IsNaN(r) || double.IsInfinity(r) ? "n/a" : r < 10 ? r.ToString("0.00", C) + "×" : r.ToString("0", C) + "×";
    public static string MBps(double bytes, double seconds) => seconds <= 0 || double.IsNaN(seconds) ? "n/a" : (bytes / 1e6 / seconds).ToString(bytes / 1e6 / seconds < 10 ? "0.00" : "0.0", C);
    public static string MB(double bytes) => (bytes / 1e6).ToString(bytes < 10e6 ? "0.00" : "0.0", C) + " MB";
    public static string Int(long n) => n.ToString("N0", C);
    public static string Pct(double p) => double.IsNaN(p) ? "n/a" : (p * 100).ToString("0", C) + " %";
}
