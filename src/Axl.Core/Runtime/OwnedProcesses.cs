using System.Diagnostics;

namespace Axl.Runtime;

/// <summary>
/// Every process this one starts from now on (a script step's <c>&amp; python train.py</c>, a command step's group,
/// what those start in turn) ends with it, even when it is killed with SIGKILL. Linux only (it reads /proc).
/// </summary>
/// <remarks>
/// A script step's programs are plain children of axl, outside any step process group, so nothing else would end them
/// when axl dies without running another line. This marks them: <see cref="Guard"/> puts a token of its own into this
/// process's environment as <see cref="Variable"/>, which every process started afterwards inherits (and passes on),
/// and starts one watcher (<c>/bin/sh</c>, without the token) that blocks on a lifeline pipe only this process holds.
/// When the pipe ends (this process exited or was killed), the watcher SIGKILLs every process whose starting
/// environment holds the token (<c>/proc/&lt;pid&gt;/environ</c>). A nested axl marks its own children with its own
/// token and is itself ended by its parent's watcher, whereupon its own watcher ends what it started.
/// </remarks>
public sealed class OwnedProcesses : IDisposable
{
    public const string Variable = "AXL_OWNER";

    // $1 the token. Blocks on stdin (the lifeline); once it ends, kills every process started with the token. A
    // terminal's Ctrl+C or hang-up (sent to the whole foreground group) is not for it; SIGTERM ends it, as one sent to
    // the whole tree (Stop-Job of a local job) should.
    private const string Watcher = """
        t=$1
        trap '' INT HUP
        read _ || :
        grep -lszxF "AXL_OWNER=$t" /proc/[0-9]*/environ | while read -r f; do
          p=${f#/proc/}; kill -KILL "${p%/environ}" 2>/dev/null
        done
        """;

    private readonly Process? _watcher;

    private OwnedProcesses(Process? watcher) => _watcher = watcher;

    /// <summary>The token in this process's environment (null before <see cref="Guard"/>, or off Linux).</summary>
    public string? Token { get; private init; }

    /// <summary>
    /// True once <see cref="Guard"/> was called: this process is axl's own (<c>axl run local</c>, <c>axl step</c>), so
    /// every process it starts belongs to its steps. In any other host (pwsh, a test host) other code starts processes
    /// too, and they are not a stopped script step's to end (see <see cref="StepChildren"/>).
    /// </summary>
    public static bool Active { get; private set; }

    /// <summary>Marks what this process starts from now on and starts the watcher; nothing happens off Linux or without /bin/sh.</summary>
    public static OwnedProcesses Guard()
    {
        Active = true;
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/sh") || !Directory.Exists("/proc/self")) return new OwnedProcesses(null);
        var token = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true, // the lifeline: never written; its write end is this process's alone
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Watcher);
        psi.ArgumentList.Add("axl-owner");
        psi.ArgumentList.Add(token);
        psi.Environment.Remove(Variable); // the watcher and its grep are not what it kills
        try
        {
            var watcher = Process.Start(psi)!;
            Environment.SetEnvironmentVariable(Variable, token);
            return new OwnedProcesses(watcher) { Token = token };
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return new OwnedProcesses(null);
        }
    }

    /// <summary>Ends what this process started (closing the lifeline) and waits briefly for the watcher.</summary>
    public void Dispose()
    {
        if (_watcher is null) return;
        try { _watcher.StandardInput.Close(); } catch (IOException) { }
        _watcher.WaitForExit(2000);
        _watcher.Dispose();
    }
}
