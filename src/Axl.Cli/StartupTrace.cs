using System.Diagnostics;

namespace Axl.Cli;

/// <summary>
/// Where a command's start goes, for profiling (bench/README.md, "Startup"). With AXL_STARTUP_TRACE=1 each phase (main,
/// the engine configured, the runspace opened, the workflow loaded, the run's events, exit) is written to stderr as
/// one line: milliseconds since the process started, the methods the JIT compiled so far and the time it spent, the
/// assemblies loaded, the collections of each generation and the time the collector paused the process, the managed
/// thread. AXL_STARTUP_TRACE=2 adds a line per assembly loaded.
/// Off (and free) otherwise.
/// </summary>
public static class StartupTrace
{
    private static readonly string? Level = Environment.GetEnvironmentVariable("AXL_STARTUP_TRACE");
    public static readonly bool Enabled = Level is "1" or "2";
    private static readonly DateTime ProcessStart = Enabled ? Process.GetCurrentProcess().StartTime.ToUniversalTime() : default;
    private static readonly object Gate = new();

    static StartupTrace()
    {
        if (Level == "2") AppDomain.CurrentDomain.AssemblyLoad += (_, e) => Mark("  assembly " + e.LoadedAssembly.GetName().Name);
    }

    public static void Mark(string phase)
    {
        if (!Enabled) return;
        var ms = (DateTime.UtcNow - ProcessStart).TotalMilliseconds;
        var line = FormattableString.Invariant(
            $"axl-trace {ms,8:0.0} ms  jit {System.Runtime.JitInfo.GetCompiledMethodCount(),6} methods {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds,7:0.0} ms  asm {AppDomain.CurrentDomain.GetAssemblies().Length,3}  gc0 {GC.CollectionCount(0)} gc1 {GC.CollectionCount(1)} gc2 {GC.CollectionCount(2)} paused {GC.GetTotalPauseDuration().TotalMilliseconds:0} ms  [{Environment.CurrentManagedThreadId,2}] {phase}");
        lock (Gate) Console.Error.WriteLine(line);
    }
}
