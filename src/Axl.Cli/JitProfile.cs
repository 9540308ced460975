using System.Runtime;

namespace Axl.Cli;

/// <summary>
/// Multi-core JIT for the command's start, as pwsh does for its own: each command (validate, run, step ...) records which
/// methods its start had to JIT-compile (those the ReadyToRun images cannot hold: mostly generic collections over the
/// engine's and Axl's types, and code of assemblies left as IL), and the next start of the same command compiles them on
/// another core before the main thread needs them. The profiles live in $XDG_CACHE_HOME/axl (else ~/.cache/axl), one
/// small file per command; the runtime ignores a profile of other builds of the assemblies and does nothing on one core.
/// AXL_JIT_PROFILE=0 turns it off; where the folder cannot be written the command starts without it.
/// Not for `axl step`: its start already keeps both cores busy (the command reads the workflow while the step host's
/// runspace opens on the other core), so the profile's compiling thread only competes with them (a cold step measured
/// slower with it, in wall and CPU time: bench/README.md, "Startup"), and in a pod, where it runs, the cache starts
/// empty every time: the profile would be written at every exit and never read.
/// </summary>
public static class JitProfile
{
    private static readonly HashSet<string> Commands = new(StringComparer.Ordinal) { "validate", "compile", "run", "worker", "build-image" };

    public static void Start(string[] args)
    {
        if (args.Length == 0 || !Commands.Contains(args[0])) return; // --version and --help JIT almost nothing
        if (Environment.GetEnvironmentVariable("AXL_JIT_PROFILE") is "0" or "false") return;
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home ? Path.Combine(home, ".cache") : null;
        if (cache is null) return;
        try
        {
            var dir = Path.Combine(cache, "axl");
            Directory.CreateDirectory(dir);
            ProfileOptimization.SetProfileRoot(dir);
            ProfileOptimization.StartProfile(args[0] + ".jitprofile");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            // A read-only home (a locked-down container): start without the profile.
        }
    }
}
