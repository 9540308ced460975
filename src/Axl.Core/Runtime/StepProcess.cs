using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Axl.Runtime;

/// <summary>
/// A step's program (a command step, a job envelope's task) with all the processes it starts, so that they can be
/// ended together. On Linux and macOS the program runs in a session and process group of its own (a /bin/sh wrapper
/// that execs <c>setsid</c>, so the program keeps the wrapper's pid and that pid is the group's id); stopping it sends
/// SIGTERM to the whole group, then SIGKILL to the whole group after the grace period. The wrapper also leaves a
/// watcher behind (a child in axl's own group) that holds the read end of a lifeline pipe whose write end only this
/// process holds: when axl ends in any way, even by SIGKILL, the pipe closes and the watcher ends the group the same
/// way. Standard output and error are redirected for the caller to read; standard input is the file given (or empty).
/// The environment stays in <see cref="ProcessStartInfo.Environment"/>, never on a command line.
/// On Windows (no process groups here) the program is started directly and stopped with its whole process tree.
/// </summary>
public sealed class StepProcess : IDisposable
{
    // $1 grace seconds, $2 stdin file ('' = empty), $3 setsid ('' = none), then the program and its arguments.
    // fd 3 keeps the lifeline (our stdin, whose write end only axl holds); the watcher blocks reading it, and when it
    // ends (axl closed it, exited or was killed), TERMs the group, waits up to the grace period, then KILLs it.
    private const string Wrapper = """
        g=$1; in=$2; s=$3; shift 3
        exec 3<&0
        ( trap '' INT HUP
          read _ <&3
          kill -TERM -$$ 2>/dev/null || exit 0
          i=0
          while [ $i -lt $g ] && kill -0 -$$ 2>/dev/null; do sleep 1; i=$((i+1)); done
          kill -KILL -$$ 2>/dev/null
        ) >/dev/null 2>&1 &
        exec $s "$@" <"${in:-/dev/null}" 3<&-
        """;

    private static readonly string? Setsid = OperatingSystem.IsWindows() ? null
        : new[] { "/usr/bin/setsid", "/bin/setsid", "/usr/local/bin/setsid" }.FirstOrDefault(File.Exists);

    private static readonly ConcurrentDictionary<StepProcess, byte> Live = new();

    private readonly Task _stdin;
    private int _stopped;

    private StepProcess(Process process, bool grouped, Task stdin)
    {
        Process = process;
        Grouped = grouped;
        _stdin = stdin;
    }

    /// <summary>The program's process (on Linux its pid is also its process group's id).</summary>
    public Process Process { get; }
    public int Id => Process.Id;
    /// <summary>True when the program runs in a process group of its own (Linux and macOS with setsid).</summary>
    public bool Grouped { get; }
    /// <summary>True once <see cref="Stop"/> was called.</summary>
    public bool Stopped => Volatile.Read(ref _stopped) != 0;

    /// <summary>
    /// Starts <paramref name="psi"/>'s program (FileName, ArgumentList, Environment, WorkingDirectory are used; the
    /// streams are redirected here). Throws <see cref="Win32Exception"/> when the program cannot be found or started.
    /// </summary>
    public static StepProcess Start(ProcessStartInfo psi, string? stdinPath, TimeSpan killGrace)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        if (OperatingSystem.IsWindows())
        {
            var p = new Process { StartInfo = psi };
            p.Start();
            var copy = Task.Run(async () =>
            {
                try
                {
                    if (stdinPath is not null)
                    {
                        await using var src = File.OpenRead(stdinPath);
                        await src.CopyToAsync(p.StandardInput.BaseStream);
                    }
                }
                catch (IOException) { /* the program closed its stdin early: fine */ }
                finally { try { p.StandardInput.Close(); } catch (IOException) { } }
            });
            return Track(new StepProcess(p, grouped: false, copy));
        }

        // Found on the PATH the program gets (a warm environment puts its venv first there).
        var program = ResolveProgram(psi.FileName, psi.Environment.TryGetValue("PATH", out var path) ? path : null);
        var wrapped = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = psi.WorkingDirectory,
        };
        wrapped.ArgumentList.Add("-c");
        wrapped.ArgumentList.Add(Wrapper);
        wrapped.ArgumentList.Add("axl-step");
        wrapped.ArgumentList.Add(((long)Math.Ceiling(Math.Max(0, killGrace.TotalSeconds))).ToString(System.Globalization.CultureInfo.InvariantCulture));
        wrapped.ArgumentList.Add(stdinPath ?? "");
        wrapped.ArgumentList.Add(Setsid ?? "");
        wrapped.ArgumentList.Add(program);
        foreach (var a in psi.ArgumentList) wrapped.ArgumentList.Add(a);
        if (psi.ArgumentList.Count == 0 && !string.IsNullOrEmpty(psi.Arguments))
            throw new ArgumentException("StepProcess takes the arguments as ArgumentList, not as one Arguments string.", nameof(psi));
        wrapped.Environment.Clear();
        foreach (var kv in psi.Environment) wrapped.Environment[kv.Key] = kv.Value;
        var process = new Process { StartInfo = wrapped };
        process.Start();
        // The lifeline: never written, closed by Dispose (or by the kernel when this process ends).
        return Track(new StepProcess(process, grouped: Setsid is not null, Task.CompletedTask));
    }

    private static StepProcess Track(StepProcess p)
    {
        Live[p] = 0;
        return p;
    }

    /// <summary>Where the program is, found as <see cref="Process.Start()"/> finds it (a path as given, else the current folder, else PATH).</summary>
    internal static string ResolveProgram(string fileName, string? searchPath = null)
    {
        if (string.IsNullOrEmpty(fileName)) throw new Win32Exception(2, "no program was given");
        string? found = null;
        if (Path.IsPathRooted(fileName)) found = File.Exists(fileName) ? fileName : null;
        else if (File.Exists(Path.GetFullPath(fileName))) found = Path.GetFullPath(fileName);
        else if (!fileName.Contains('/'))
            foreach (var dir in (searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, fileName);
                if (File.Exists(candidate) && IsExecutable(candidate)) { found = candidate; break; }
            }
        if (found is null) throw new Win32Exception(2, $"An error occurred trying to start process '{fileName}'. No such file or directory");
        if (!IsExecutable(found)) throw new Win32Exception(13, $"An error occurred trying to start process '{fileName}'. Permission denied");
        return found;
    }

    private static bool IsExecutable(string path)
    {
        try
        {
            return (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>Waits for the program to exit; false when <paramref name="timeout"/> passed first. Throws when <paramref name="ct"/> is cancelled.</summary>
    public bool WaitForExit(TimeSpan timeout, CancellationToken ct) =>
        Process.WaitForExitAsync(CancellationToken.None).Wait(timeout, ct);

    /// <summary>
    /// Ends the program and everything it started: SIGTERM to the group, then SIGKILL to the group once the grace
    /// period is over (or at once with a zero grace). Returns when the program has exited.
    /// </summary>
    public void Stop(TimeSpan grace)
    {
        Interlocked.Exchange(ref _stopped, 1);
        try
        {
            if (!Grouped)
            {
                if (!OperatingSystem.IsWindows() && !Process.HasExited && Native.kill(Process.Id, Native.SIGTERM) == 0)
                    Process.WaitForExit((int)Math.Max(0, grace.TotalMilliseconds));
                if (!Process.HasExited) Process.Kill(entireProcessTree: true);
                Process.WaitForExit(5000);
                return;
            }
            // The wrapper may not have made the group yet (a stop right after the start): wait for it a little.
            var sent = false;
            for (int i = 0; i < 200 && !(sent = Native.kill(-Process.Id, Native.SIGTERM) == 0) && !Process.HasExited; i++) Thread.Sleep(10);
            if (!sent)
            {
                if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            }
            else EndGroup(grace, termSent: true);
            Process.WaitForExit(5000);
        }
        catch (InvalidOperationException) { /* already gone */ }
        catch (Win32Exception) { /* already gone */ }
    }

    /// <summary>The group's processes are still running (the program or anything it left behind).</summary>
    public bool GroupAlive => Grouped && Native.kill(-Process.Id, 0) == 0;

    private void EndGroup(TimeSpan grace, bool termSent = false)
    {
        var pgid = Process.Id;
        if (!termSent && Native.kill(-pgid, Native.SIGTERM) != 0) return; // nobody left
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < grace)
        {
            if (Native.kill(-pgid, 0) != 0) return;
            Thread.Sleep(50);
        }
        Native.kill(-pgid, Native.SIGKILL);
    }

    /// <summary>After the program exited by itself: ends what it left running in its group (SIGTERM, then SIGKILL after the grace).</summary>
    public void EndLeftovers(TimeSpan grace)
    {
        if (Grouped) EndGroup(grace);
    }

    internal static HashSet<int> LivePids()
    {
        var set = new HashSet<int>();
        foreach (var p in Live.Keys) try { set.Add(p.Process.Id); } catch (InvalidOperationException) { }
        return set;
    }

    /// <summary>Kills every running step process group at once (SIGKILL): the process is about to exit.</summary>
    public static void KillAll()
    {
        foreach (var p in Live.Keys)
        {
            try
            {
                Interlocked.Exchange(ref p._stopped, 1);
                if (p.Grouped) Native.kill(-p.Process.Id, Native.SIGKILL);
                else if (!p.Process.HasExited) p.Process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or Win32Exception) { }
        }
    }

    /// <summary>
    /// The process is about to exit on an abort (a second interrupt): kills every step process group
    /// (<see cref="KillAll"/>) and then, on Linux, every other process it started and their descendants, such as the
    /// programs a script step ran (which are plain children, not groups of their own), so none outlives the abort.
    /// </summary>
    public static void KillEverything()
    {
        KillAll();
        StepChildren.KillDescendants();
    }

    /// <summary>Stops every running step process group (SIGTERM, then SIGKILL after the grace), in parallel.</summary>
    public static void StopAll(TimeSpan grace) =>
        Task.WaitAll(Live.Keys.Select(p => Task.Run(() => p.Stop(grace))).ToArray());

    public void Dispose()
    {
        Live.TryRemove(this, out _);
        try { _stdin.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        try { Process.StandardInput.Close(); } catch (Exception ex) when (ex is IOException or InvalidOperationException) { }
        Process.Dispose();
    }

    private static class Native
    {
        public const int SIGTERM = 15;
        public const int SIGKILL = 9;
        [DllImport("libc", SetLastError = true)]
        public static extern int kill(int pid, int sig);
    }
}

/// <summary>
/// The programs a script step started (children of this process, e.g. <c>&amp; python train.py</c>), so that a stopped
/// script step does not leave them running: those started while the step ran, that are not a command step's (those
/// are <see cref="StepProcess"/> groups), are ended with their descendants. Linux only (it reads /proc); only in axl's
/// own process (<see cref="OwnedProcesses.Active"/>: in pwsh or a test host, other code's children could be new too),
/// and only while no other script step runs at the same time, since then nothing tells whose a new child is.
/// </summary>
internal static class StepChildren
{
    private static int _running;

    /// <summary>
    /// When a script step started, in the clock of /proc/&lt;pid&gt;/stat's start times (ticks since boot): one small read
    /// of /proc/uptime per step, where listing the children of every thread of this process cost a read per thread.
    /// </summary>
    public sealed class Snapshot : IDisposable
    {
        internal readonly long StartTick;
        private int _disposed;
        internal Snapshot(long startTick) { StartTick = startTick; Interlocked.Increment(ref _running); }
        public void Dispose() { if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref _running); }
    }

    public static Snapshot Take() => new(OperatingSystem.IsLinux() && OwnedProcesses.Active ? BootTicks() : long.MaxValue);

    /// <summary>Ends the children started since <paramref name="snapshot"/> (SIGTERM to each tree, SIGKILL after the grace). Returns how many.</summary>
    public static int EndNew(Snapshot snapshot, TimeSpan grace)
    {
        try
        {
            if (!OperatingSystem.IsLinux() || !OwnedProcesses.Active || snapshot.StartTick == long.MaxValue || Volatile.Read(ref _running) > 1) return 0;
            var managed = StepProcess.LivePids();
            // Started since the step began (a child of the same clock tick, 10 ms, just before it counts too: with no other
            // script step running, that is a child of a step that has ended).
            var fresh = Children(Environment.ProcessId).Where(p => !managed.Contains(p) && StartTicks(p) >= snapshot.StartTick).ToList();
            if (fresh.Count == 0) return 0;
            var tree = new List<int>();
            foreach (var p in fresh) Descend(p, tree);
            foreach (var p in tree) Kill(p, 15);
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < grace && tree.Any(Alive)) Thread.Sleep(50);
            foreach (var p in tree) if (Alive(p)) Kill(p, 9);
            return fresh.Count;
        }
        finally { snapshot.Dispose(); }
    }

    /// <summary>
    /// Kills <paramref name="process"/> with its whole tree and waits (up to <paramref name="wait"/>) until every process
    /// of the tree as it was before the kill has ended: processes that notice their parent's end and clean up (a step
    /// group's watcher, axl's <see cref="OwnedProcesses"/> watcher) are gone too when this returns, not a moment later.
    /// </summary>
    public static void KillTree(Process process, TimeSpan wait)
    {
        var tree = new List<int>();
        if (OperatingSystem.IsLinux()) { try { Descend(process.Id, tree); } catch (InvalidOperationException) { } }
        process.Kill(entireProcessTree: true);
        var watch = Stopwatch.StartNew();
        foreach (var p in tree) if (Alive(p)) Kill(p, 9); // those the kill missed: re-parented before it reached them
        while (watch.Elapsed < wait && tree.Any(Alive)) Thread.Sleep(20);
    }

    /// <summary><paramref name="pid"/> and its descendants as they are now (Linux; empty elsewhere).</summary>
    public static List<int> Tree(int pid)
    {
        var tree = new List<int>();
        if (OperatingSystem.IsLinux()) Descend(pid, tree);
        return tree;
    }

    /// <summary>Waits (up to <paramref name="wait"/>) until none of <paramref name="pids"/> runs any more.</summary>
    public static void WaitGone(IReadOnlyCollection<int> pids, TimeSpan wait)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < wait && pids.Any(Alive)) Thread.Sleep(20);
    }

    /// <summary>SIGKILLs every descendant of this process (Linux; nothing elsewhere): the process is about to exit.</summary>
    public static void KillDescendants()
    {
        if (!OperatingSystem.IsLinux()) return;
        var tree = new List<int>();
        foreach (var c in Children(Environment.ProcessId)) Descend(c, tree);
        foreach (var p in tree) Kill(p, 9);
    }

    private static void Descend(int pid, List<int> into)
    {
        if (into.Contains(pid)) return;
        into.Add(pid);
        foreach (var c in Children(pid)) Descend(c, into);
    }

    private static HashSet<int> Children(int pid)
    {
        var set = new HashSet<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                string text;
                try { text = File.ReadAllText(Path.Combine(task, "children")); }
                catch (IOException) { continue; }
                foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    if (int.TryParse(part, out var c)) set.Add(c);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return set;
    }

    private static long ClockTicksPerSecond => _ticksPerSecond ??= sysconf(SysconfClockTicks) is var t and > 0 ? t : 100;
    private static long? _ticksPerSecond;
    private const int SysconfClockTicks = 2; // _SC_CLK_TCK on Linux

    /// <summary>Now, in clock ticks since boot (/proc/uptime, the clock of the start times in /proc/&lt;pid&gt;/stat); 0 when unreadable (every child counts as new).</summary>
    private static long BootTicks()
    {
        try
        {
            var text = File.ReadAllText("/proc/uptime");
            var seconds = text[..text.IndexOf(' ')];
            return (long)Math.Floor(decimal.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture) * ClockTicksPerSecond);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException) { return 0; }
    }

    /// <summary>When a process started, in clock ticks since boot (field 22 of /proc/&lt;pid&gt;/stat); -1 when it is gone.</summary>
    private static long StartTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture); // field 22; these start at field 3
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return -1; }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern long sysconf(int name);

    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..];
            return !state.StartsWith('Z') && !state.StartsWith('X');
        }
        catch (IOException) { return false; }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private static void Kill(int pid, int sig) => kill(pid, sig);
}
