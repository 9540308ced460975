// Linked into tests/Axl.Core.Tests (the job queue tests).
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Axl.TestServices;

/// <summary>
/// A real Redis for the job queue tests, on 127.0.0.1. In order:
/// 1. $AXL_TEST_REDIS (host:port), when set (it must answer);
/// 2. the redis-server that `.ci/services.sh start` runs (AXL_TEST_REDIS in its services.env), when it answers;
/// 3. a redis-server this fixture starts on a free port (no persistence), and stops at the end.
/// When none is possible the tests fail with the install command; they are skipped only when redis-server is not on
/// PATH and apt-get does not exist to install it (see <see cref="RedisFactAttribute"/>).
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly Process? _process;
    private readonly string? _endpoint;
    private readonly string? _error;
    private readonly string? _dir;

    public RedisServer()
    {
        try
        {
            if (Environment.GetEnvironmentVariable("AXL_TEST_REDIS") is { Length: > 0 } fromEnv)
            {
                if (!Answers(fromEnv)) throw new InvalidOperationException($"AXL_TEST_REDIS={fromEnv} does not answer. Start the services with `.ci/services.sh start`, or unset the variable so the tests start redis-server themselves.");
                _endpoint = fromEnv;
                Origin = "AXL_TEST_REDIS";
                return;
            }
            if (ServicesEnv.Read(ServicesEnv.File).TryGetValue("AXL_TEST_REDIS", out var named) && Answers(named))
            {
                _endpoint = named;
                Origin = ServicesEnv.File;
                return;
            }
            if (BinaryPath is not { } binary) throw new InvalidOperationException(InstallMessage);
            var port = FreePort();
            _dir = Path.Combine(Path.GetTempPath(), "axl-redis-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(_dir);
            var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _dir };
            foreach (var a in new[] { "--bind", "127.0.0.1", "--port", port.ToString(), "--save", "", "--appendonly", "no", "--dir", _dir }) psi.ArgumentList.Add(a);
            _process = Process.Start(psi)!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            var endpoint = $"127.0.0.1:{port}";
            var until = DateTime.UtcNow.AddSeconds(10);
            while (!Answers(endpoint))
            {
                if (_process.HasExited || DateTime.UtcNow > until) throw new InvalidOperationException($"redis-server did not start on {endpoint}.");
                Thread.Sleep(50);
            }
            _endpoint = endpoint;
            Origin = $"started by the test fixture (pid {_process.Id})";
        }
        catch (InvalidOperationException ex)
        {
            _error = ex.Message;
            Dispose();
        }
    }

    /// <summary>host:port; throws, with how to fix it, when no Redis is available.</summary>
    public string Endpoint => _endpoint ?? throw new InvalidOperationException(_error);
    public string Origin { get; } = "";

    public const string InstallMessage = "redis-server is not on PATH: the job queue tests need a real Redis. Install it with: apt-get install -y redis-server   (or run `.ci/services.sh start`, which installs and starts it).";

    public static string? BinaryPath { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);

    /// <summary>True when redis-server could be had: on PATH, named by the environment or services.env, or installable with apt-get.</summary>
    public static bool Obtainable =>
        BinaryPath is not null || Environment.GetEnvironmentVariable("AXL_TEST_REDIS") is { Length: > 0 } || File.Exists(S3rver.ServicesEnvFile) || File.Exists("/usr/bin/apt-get");

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            try { _process.Kill(entireProcessTree: true); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        }
        _process?.Dispose();
        if (_dir is not null) try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static bool Answers(string endpoint)
    {
        try
        {
            var i = endpoint.LastIndexOf(':');
            using var client = new TcpClient();
            if (!client.ConnectAsync(endpoint[..i], int.Parse(endpoint[(i + 1)..])).Wait(1000)) return false;
            using var s = client.GetStream();
            s.Write("*1\r\n$4\r\nPING\r\n"u8);
            s.ReadTimeout = 1000;
            var buffer = new byte[7];
            var n = s.Read(buffer);
            return n > 0 && buffer[0] == (byte)'+';
        }
        catch (Exception ex) when (ex is SocketException or AggregateException or IOException or FormatException or ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static int FreePort() => Loopback.FreePort();
}

/// <summary>A test against a real Redis: skipped, with the reason, only when redis-server cannot be had on this platform.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (!RedisServer.Obtainable) Skip = RedisServer.InstallMessage;
    }
}
