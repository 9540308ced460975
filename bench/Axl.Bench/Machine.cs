using System.Diagnostics;
using System.Globalization;

namespace Axl.Bench;

/// <summary>
/// How busy the machine was with other work while a part of the benchmark ran: CPU time of the whole machine (from
/// /proc/stat) minus this process's own CPU time, as an average number of cores. Other processes on a 2-core machine
/// (a build, a test run) slow the Axl runs and the floors alike, but not always equally; the results say how much there was.
/// </summary>
public sealed class LoadMeter
{
    private static readonly List<(string Label, double OtherCores, double Seconds)> Readings = new();
    private readonly string _label;
    private readonly long _busy0;
    private readonly TimeSpan _own0;
    private readonly long _t0;

    private LoadMeter(string label)
    {
        _label = label;
        _busy0 = MachineBusyTicks();
        _own0 = Process.GetCurrentProcess().TotalProcessorTime;
        _t0 = Stopwatch.GetTimestamp();
    }

    public static LoadMeter Start(string label) => new(label);

    /// <summary>
    /// Average cores used by other processes since the start (NaN where /proc/stat is not there). <paramref name="excludeSeconds"/>:
    /// CPU time of this process's own children to leave out (the startup section's measured processes).
    /// </summary>
    public double Stop(double excludeSeconds = 0)
    {
        var wall = Stopwatch.GetElapsedTime(_t0).TotalSeconds;
        var busy = (MachineBusyTicks() - _busy0) / 100.0; // USER_HZ
        var own = (Process.GetCurrentProcess().TotalProcessorTime - _own0).TotalSeconds + (double.IsNaN(excludeSeconds) ? 0 : excludeSeconds);
        var others = _busy0 < 0 || wall <= 0 ? double.NaN : Math.Max(0, (busy - own) / wall);
        lock (Readings) Readings.Add((_label, others, wall));
        return others;
    }

    public static IReadOnlyList<(string Label, double OtherCores, double Seconds)> All
    {
        get { lock (Readings) return Readings.ToList(); }
    }

    /// <summary>user + nice + system + irq + softirq + steal of the "cpu" line of /proc/stat, in USER_HZ ticks; -1 if unreadable.</summary>
    private static long MachineBusyTicks()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            return f[0] + f[1] + f[2] + f[5] + f[6] + (f.Length > 7 ? f[7] : 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return -1;
        }
    }

    public static string Cores(double c) => double.IsNaN(c) ? "n/a" : c.ToString("0.00", CultureInfo.InvariantCulture);
}
