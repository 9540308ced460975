using System.Runtime;

namespace Axl.Cli;

/// <summary>
/// Multi-core JIT for the command's start, as pwsh does for its own: each command (validate, run, step ...) records which
/// methods its start had to JIT-compile (those the ReadyToRun images cannot hold: mostly generic collections over the
/// engine's and Axl's types, and code of assemblies left as IL), and the next start of the same command compiles them on
/// another core before the main thread needs them. The profiles live in $XDG_CACHE_HOME/axl (else ~/.cache/axl), one
/// small file per command; the runtime ignores a profile of other builds of the assemblies and does nothing on one core.
/// AXL_JIT_PROFILE=0 turns it off; where the folder cannot be written the command starts without it.
/// </summary>
public static class JitProfile
{
    private static readonly HashSet<string> Commands = new(StringComparer.Ordinal) { "validate", "compile", "run", "step", "worker", "build-image" };

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
