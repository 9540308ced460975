using System.Diagnostics;
using System.Globalization;

namespace Axl.Compilers;

/// <summary>
/// Where a compile's time goes, for profiling (bench/README.md, "Whole processes"): with <c>AXL_COMPILE_TRACE=1</c> in
/// the environment each phase (validation, step templates, split planning, YAML of each object) writes one line to
/// stderr with its milliseconds and the gen-0 collections so far. Off (and free) otherwise; it changes no output.
/// </summary>
public static class CompileTrace
{
    public const string Variable = "AXL_COMPILE_TRACE";
    public static readonly bool Enabled = Environment.GetEnvironmentVariable(Variable) is "1";
    private static long _last = Stopwatch.GetTimestamp();

    /// <summary>Writes the time since the previous mark (or the first use of the trace) against <paramref name="phase"/>.</summary>
    public static void Mark(string phase)
    {
        if (!Enabled) return;
        var now = Stopwatch.GetTimestamp();
        var ms = (now - _last) * 1000.0 / Stopwatch.Frequency;
        _last = now;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"axl-compile-trace {ms,8:0.0} ms  gc0 {GC.CollectionCount(0),4}  {phase}"));
    }
}
