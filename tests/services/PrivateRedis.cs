// Linked into tests/Axl.Core.Tests (the worker fault tests) and bench/Axl.Bench (the soak). No xunit here.
using System.Diagnostics;
using System.Net.Sockets;

namespace Axl.TestServices;

/// <summary>
/// A redis-server of one's own, to kill and restart: on a free port of 127.0.0.1, its data in a temp folder, started
/// and stopped only by the code that made it (never the shared Redis of `.ci/services.sh`). With persistence it writes
/// an append-only file synced on every write (appendfsync always), so a SIGKILL loses nothing it acknowledged; without,
/// a restart comes back empty (as a Redis restarted without persistence).
/// </summary>
public sealed class PrivateRedis : IDisposable
{
    private Process? _process;

    public PrivateRedis(bool persistence, int? port = null, bool start = true)
    {
        Binary = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not on PATH. Install it with: apt-get install -y redis-server");
        Persistence = persistence;
        Port = port ?? Loopback.FreePort();
        Dir = Path.Combine(Path.GetTempPath(), "axl-private-redis-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Dir);
        if (start) Start();
    }

    public string Binary { get; }
    public int Port { get; }
    public string Dir { get; }
    public bool Persistence { get; private set; }
    public string Endpoint => $"127.0.0.1:{Port}";
    public bool Running => _process is { HasExited: false };
    /// <summary>The process id of the running server (0 when stopped).</summary>
    public int Pid => _process is { HasExited: false } p ? p.Id : 0;

    /// <summary>Starts the server and waits until it answers PING (with persistence: until it has loaded its data).</summary>
    public void Start()
    {
        if (Running) throw new InvalidOperationException($"the private redis-server on {Endpoint} runs already (pid {Pid})");
        var psi = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Dir };
        var args = new List<string> { "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", Dir, "--save", "", "--protected-mode", "no" };
        args.AddRange(Persistence ? new[] { "--appendonly", "yes", "--appendfsync", "always" } : new[] { "--appendonly", "no" });
        foreach (var a in args) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!Answers())
        {
            if (_process.HasExited) throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode} while starting on {Endpoint} (port taken?)");
            if (DateTime.UtcNow > until) throw new InvalidOperationException($"redis-server did not answer on {Endpoint} within 20 s");
            Thread.Sleep(25);
        }
    }

    /// <summary>SIGKILL, as a crash or an OOM kill: no shutdown save, connections dropped at once.</summary>
    public void Kill()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            try { _process.Kill(entireProcessTree: false); } catch (InvalidOperationException) { }
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts it again on the same port; <paramref name="persistence"/> false also drops its data (a Redis restarted without persistence comes back empty).</summary>
    public void Restart(bool? persistence = null)
    {
        Kill();
        if (persistence is { } p) Persistence = p;
        if (!Persistence)
            foreach (var e in Directory.EnumerateFileSystemEntries(Dir))
            {
                if (Directory.Exists(e)) Directory.Delete(e, recursive: true); else File.Delete(e);
            }
        Start();
    }

    public void Dispose()
    {
        Kill();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>True when the server answers PING with +PONG (not -LOADING).</summary>
    private bool Answers()
    {
        try
        {
            using var client = new TcpClient();
            if (!client.ConnectAsync("127.0.0.1", Port).Wait(1000)) return false;
            using var s = client.GetStream();
            s.Write("*1\r\n$4\r\nPING\r\n"u8);
            s.ReadTimeout = 1000;
            var buffer = new byte[7];
            var n = s.Read(buffer);
            return n > 0 && buffer[0] == (byte)'+';
        }
        catch (Exception ex) when (ex is SocketException or AggregateException or IOException)
        {
            return false;
        }
    }
}
