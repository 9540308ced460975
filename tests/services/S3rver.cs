// Shared by tests/Axl.Core.Tests and tests/Axl.Cmdlets.Tests (linked into both projects).
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Axl.TestServices;

/// <summary>
/// A real S3 API for tests: s3rver 3.7.1 on 127.0.0.1 (keys S3RVER/S3RVER; it also answers anonymous requests,
/// which the tests use to look at objects behind the code's back). In order:
/// 1. $AXL_TEST_S3_ENDPOINT, when set (it must answer);
/// 2. the s3rver that `.ci/services.sh start` runs (its .ci/.services/services.env), when it answers;
/// 3. an s3rver this fixture starts from tests/services/node_modules on a free port, and stops at the end.
/// When none is possible the tests fail with the command that fixes it; they are skipped only when node itself is
/// missing (see <see cref="S3FactAttribute"/>).
/// </summary>
public sealed class S3rver : IDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Process? _process;
    private readonly string? _dataDir;
    private readonly string? _endpoint;
    private readonly string? _error;

    public S3rver()
    {
        try
        {
            if (Environment.GetEnvironmentVariable("AXL_TEST_S3_ENDPOINT") is { Length: > 0 } fromEnv)
            {
                if (!Answers(fromEnv)) throw new InvalidOperationException($"AXL_TEST_S3_ENDPOINT={fromEnv} does not answer. Start the services with `.ci/services.sh start`, or unset the variable so the tests start s3rver themselves.");
                _endpoint = fromEnv;
                Origin = "AXL_TEST_S3_ENDPOINT";
                return;
            }
            if (ServicesEnv.Read(ServicesEnvFile).TryGetValue("AXL_TEST_S3_ENDPOINT", out var named) && Answers(named))
            {
                _endpoint = named;
                Origin = ServicesEnvFile;
                return;
            }
            if (!NodeAvailable) throw new InvalidOperationException(NoNodeMessage);
            var js = Path.Combine(RepoRoot, "tests", "services", "node_modules", "s3rver", "bin", "s3rver.js");
            if (!File.Exists(js))
                throw new InvalidOperationException($"s3rver is not installed ({js} is missing). Install it with: npm ci --prefix tests/services   (or run `.ci/services.sh start`, which installs and starts it).");
            var port = FreePort();
            _dataDir = Path.Combine(Path.GetTempPath(), "axl-s3rver-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(_dataDir);
            var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { js, "-d", _dataDir, "-a", "127.0.0.1", "-p", port.ToString(), "-s" }) psi.ArgumentList.Add(a);
            _process = Process.Start(psi)!;
            var stderr = new System.Text.StringBuilder();
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
            _process.OutputDataReceived += (_, _) => { };
            _process.BeginErrorReadLine();
            _process.BeginOutputReadLine();
            var endpoint = $"http://127.0.0.1:{port}";
            var until = DateTime.UtcNow.AddSeconds(20);
            while (!Answers(endpoint))
            {
                if (_process.HasExited || DateTime.UtcNow > until)
                    throw new InvalidOperationException($"s3rver did not start on {endpoint}: {stderr}");
                Thread.Sleep(100);
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

    /// <summary>The endpoint URL (http://127.0.0.1:port); throws, with how to fix it, when no s3rver is available.</summary>
    public string Endpoint => _endpoint ?? throw new InvalidOperationException(_error);

    /// <summary>Where the endpoint came from, for messages.</summary>
    public string Origin { get; } = "";

    /// <summary>Creates a bucket with a fresh name (anonymous PUT; s3rver allows it) and returns the name.</summary>
    public string NewBucket(string prefix = "axl-test")
    {
        var name = (prefix + "-" + Guid.NewGuid().ToString("N")[..10]).ToLowerInvariant();
        using var response = Http.Send(new HttpRequestMessage(HttpMethod.Put, $"{Endpoint}/{name}"));
        Assert.True(response.IsSuccessStatusCode, $"creating bucket {name} on {Endpoint}: {(int)response.StatusCode}");
        return name;
    }

    /// <summary>The object's bytes, or null when there is none (anonymous GET).</summary>
    public byte[]? Get(string bucket, string key)
    {
        using var response = Http.Send(new HttpRequestMessage(HttpMethod.Get, $"{Endpoint}/{bucket}/{key}"));
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        Assert.True(response.IsSuccessStatusCode, $"GET {bucket}/{key}: {(int)response.StatusCode}");
        return response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
    }

    /// <summary>The object's headers (Last-Modified, ETag, x-amz-meta-*), or null when there is none (anonymous HEAD).</summary>
    public Dictionary<string, string>? Head(string bucket, string key)
    {
        using var response = Http.Send(new HttpRequestMessage(HttpMethod.Head, $"{Endpoint}/{bucket}/{key}"));
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        Assert.True(response.IsSuccessStatusCode, $"HEAD {bucket}/{key}: {(int)response.StatusCode}");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var h in response.Headers.Concat(response.Content.Headers)) headers[h.Key] = string.Join(",", h.Value);
        return headers;
    }

    /// <summary>Writes an object behind the code's back (anonymous PUT), with optional x-amz-meta-* headers.</summary>
    public void Put(string bucket, string key, byte[] content, IDictionary<string, string>? metadata = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"{Endpoint}/{bucket}/{key}") { Content = new ByteArrayContent(content) };
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(k, v);
        using var response = Http.Send(request);
        Assert.True(response.IsSuccessStatusCode, $"PUT {bucket}/{key}: {(int)response.StatusCode}");
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            try { _process.Kill(entireProcessTree: true); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        }
        _process?.Dispose();
        if (_dataDir is not null && Directory.Exists(_dataDir))
        {
            try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
        }
    }

    public static bool NodeAvailable { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(dir => File.Exists(Path.Combine(dir, "node")) || File.Exists(Path.Combine(dir, "node.exe")));

    public const string NoNodeMessage = "node is not on PATH: the S3 tests need s3rver (Node.js 18+). Install Node.js, then `npm ci --prefix tests/services` (or `.ci/services.sh start`).";

    public static string RepoRoot { get; } = FindRoot();

    /// <summary>The state file `.ci/services.sh start` writes.</summary>
    public static string ServicesEnvFile => ServicesEnv.File;

    /// <summary>True when a running s3rver is named by $AXL_TEST_S3_ENDPOINT or by the services' state file.</summary>
    public static bool ServicesNamed =>
        Environment.GetEnvironmentVariable("AXL_TEST_S3_ENDPOINT") is { Length: > 0 } || File.Exists(ServicesEnvFile);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "axl.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (axl.sln) above " + AppContext.BaseDirectory);
    }

    private static bool Answers(string endpoint)
    {
        try
        {
            var uri = new Uri(endpoint);
            using var client = new TcpClient();
            return client.ConnectAsync(uri.Host, uri.Port).Wait(1000) && client.Connected;
        }
        catch (Exception ex) when (ex is SocketException or AggregateException or UriFormatException)
        {
            return false;
        }
    }

    private static int FreePort() => Loopback.FreePort();
}

/// <summary>
/// A test against s3rver: skipped, with the reason, only when node is not installed and no running s3rver is named
/// ($AXL_TEST_S3_ENDPOINT or the state of `.ci/services.sh start`); any other missing piece fails it.
/// </summary>
public sealed class S3FactAttribute : FactAttribute
{
    public S3FactAttribute()
    {
        if (!S3rver.NodeAvailable && !S3rver.ServicesNamed) Skip = S3rver.NoNodeMessage;
    }
}
