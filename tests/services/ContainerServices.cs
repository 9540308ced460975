// Shared by tests/Axl.Core.Tests and tests/Axl.Cmdlets.Tests (linked into both projects).
using System.Diagnostics;
using System.Formats.Tar;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Xunit;

namespace Axl.TestServices;

/// <summary>
/// A real container engine with the Docker Engine API (Podman's service) and a real OCI registry (docker-registry),
/// both on loopback. In order:
/// 1. $AXL_TEST_DOCKER_HOST and $AXL_TEST_REGISTRY, when set (they must answer);
/// 2. those `.ci/services.sh start` wrote to its services.env, when they answer;
/// 3. `.ci/services.sh start registry podman` run by this fixture with its own state directory (installing the
///    packages with apt-get when root), stopped again at the end.
/// The tests are skipped, with the reason, only when no engine can be started here (see <see cref="ContainerFactAttribute"/>).
/// </summary>
public sealed class ContainerServices : IDisposable
{
    private readonly string? _stateDir;
    private readonly string? _error;
    private readonly string? _dockerHost;
    private readonly string? _registry;
    private DockerClient? _client;

    public ContainerServices()
    {
        try
        {
            var host = Environment.GetEnvironmentVariable("AXL_TEST_DOCKER_HOST");
            var registry = Environment.GetEnvironmentVariable("AXL_TEST_REGISTRY");
            if (host is { Length: > 0 } || registry is { Length: > 0 })
            {
                if (host is not { Length: > 0 } || registry is not { Length: > 0 } || !SocketAnswers(host) || !TcpAnswers(registry))
                    throw new InvalidOperationException($"AXL_TEST_DOCKER_HOST={host} and AXL_TEST_REGISTRY={registry} must both be set and answer. Start them with `.ci/services.sh start registry podman`, or unset both so the tests start them.");
                (_dockerHost, _registry, Origin) = (host, registry, "AXL_TEST_DOCKER_HOST/AXL_TEST_REGISTRY");
                return;
            }
            var named = ServicesEnv.Read(S3rver.ServicesEnvFile);
            if (named.TryGetValue("AXL_TEST_DOCKER_HOST", out var h) && named.TryGetValue("AXL_TEST_REGISTRY", out var r) && SocketAnswers(h) && TcpAnswers(r))
            {
                (_dockerHost, _registry, Origin) = (h, r, S3rver.ServicesEnvFile);
                return;
            }
            _stateDir = Path.Combine(Path.GetTempPath(), "axl-containers-" + Guid.NewGuid().ToString("N")[..8]);
            var (exit, output) = Services("start", _stateDir);
            if (exit != 0) throw new InvalidOperationException($".ci/services.sh start registry podman failed (exit {exit}):\n{output}");
            var started = ServicesEnv.Read(Path.Combine(_stateDir, "services.env"));
            _dockerHost = started["AXL_TEST_DOCKER_HOST"];
            _registry = started["AXL_TEST_REGISTRY"];
            Origin = $"started by the test fixture in {_stateDir}";
        }
        catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or IOException)
        {
            _error = ex.Message;
        }
    }

    /// <summary>The engine's Docker host (unix:///...podman.sock); throws with how to fix it when there is none.</summary>
    public string DockerHost => _dockerHost ?? throw new InvalidOperationException(_error);
    /// <summary>The registry as host:port (127.0.0.1:5000).</summary>
    public string Registry => _registry ?? throw new InvalidOperationException(_error);
    public string Origin { get; } = "";

    public DockerClient Client => _client ??= new DockerClientConfiguration(new Uri(DockerHost), null, Timeout.InfiniteTimeSpan).CreateClient();

    /// <summary>The tags of a repository in the registry (GET /v2/&lt;name&gt;/tags/list), empty when it has none.</summary>
    public IReadOnlyList<string> RegistryTags(string repository)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var response = http.GetAsync($"http://{Registry}/v2/{repository}/tags/list").GetAwaiter().GetResult();
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return Array.Empty<string>();
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, $"GET tags of {repository}: {(int)response.StatusCode} {text}");
        using var doc = System.Text.Json.JsonDocument.Parse(text);
        return doc.RootElement.TryGetProperty("tags", out var tags) && tags.ValueKind == System.Text.Json.JsonValueKind.Array
            ? tags.EnumerateArray().Select(t => t.GetString()!).ToList() : Array.Empty<string>();
    }

    /// <summary>The manifest digest the registry serves for repository:tag (Docker-Content-Digest).</summary>
    public string? RegistryDigest(string repository, string tag)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var request = new HttpRequestMessage(HttpMethod.Head, $"http://{Registry}/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        using var response = http.Send(request);
        return response.Headers.TryGetValues("Docker-Content-Digest", out var v) ? v.First() : null;
    }

    /// <summary>One container of the image through the Docker API (a pod of the simulated cluster: its folders bound, optionally on the host network): its exit code and output; the container is always removed.</summary>
    public (long Exit, string Output) RunContainer(string image, IEnumerable<string> command, IReadOnlyDictionary<string, string> env, IEnumerable<string> binds, bool hostNetwork = false)
    {
        var client = Client;
        var created = client.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = image,
            Cmd = command.ToList(),
            Env = env.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
            HostConfig = new HostConfig { Binds = binds.ToList(), NetworkMode = hostNetwork ? "host" : null },
        }).GetAwaiter().GetResult();
        try
        {
            client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters()).GetAwaiter().GetResult();
            var wait = client.Containers.WaitContainerAsync(created.ID).GetAwaiter().GetResult();
            using var logs = client.Containers.GetContainerLogsAsync(created.ID, false, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }).GetAwaiter().GetResult();
            var (stdout, stderr) = logs.ReadOutputToEndAsync(default).GetAwaiter().GetResult();
            return (wait.StatusCode, stdout + stderr);
        }
        finally
        {
            client.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true }).GetAwaiter().GetResult();
        }
    }

    private readonly object _baseLock = new();
    private string? _baseImage;

    private string? _pythonBaseImage;

    /// <summary>
    /// A base image made here, since none can be pulled: FROM scratch with this machine's .NET runtime (the one running
    /// the tests, which is the one axl needs), the C libraries it links (found with ldd), libssl and libcrypto (loaded
    /// by .NET's cryptography), /etc/passwd and /tmp. No shell, no pwsh: axl hosts PowerShell itself. Built once per
    /// engine (its tag names the content).
    /// </summary>
    public string BaseImage()
    {
        lock (_baseLock) return _baseImage ??= Build("localhost/axl-test-base", BaseContext(withPython: false));
    }

    /// <summary>
    /// <see cref="BaseImage"/> plus this machine's python3 (the one on PATH, which local runs use, so a step gives the
    /// same bytes in both) and what command steps and image builds need around it: python3 at /usr/local/bin (its
    /// standard library at /usr/local/lib/python3.X without the test suite, site-packages, tkinter, idlelib and the
    /// static library; ensurepip stays, so `python3 -m venv` installs pip offline), the C libraries of its extension
    /// modules, /bin/sh (dash: axl starts command steps through a small sh wrapper, and Dockerfile RUN lines need a
    /// shell), setsid and sleep. Built once per engine; its tag names the content.
    /// </summary>
    public string PythonBaseImage()
    {
        lock (_baseLock) return _pythonBaseImage ??= Build("localhost/axl-test-base-python", BaseContext(withPython: true));
    }

    private string Build(string repository, (byte[] Tar, string Hash) context)
    {
        var tag = repository + ":" + context.Hash[..12];
        try
        {
            Client.Images.InspectImageAsync(tag).GetAwaiter().GetResult();
            return tag;
        }
        catch (DockerImageNotFoundException) { }
        var errors = new List<string>();
        var progress = new SyncProgress(m => { if ((m.Error?.Message ?? m.ErrorMessage) is { Length: > 0 } e) errors.Add(e); });
        using var stream = new MemoryStream(context.Tar);
        Client.Images.BuildImageFromDockerfileAsync(new ImageBuildParameters { Tags = new List<string> { tag }, Dockerfile = "Dockerfile" }, stream, null, null, progress).GetAwaiter().GetResult();
        Assert.True(errors.Count == 0, $"building the test base image {tag} failed: " + string.Join("\n", errors));
        return tag;
    }

    /// <summary>The C libraries a binary links, as ldd lists them (full paths on this machine).</summary>
    private static IEnumerable<string> Linked(string binary)
    {
        var psi = new ProcessStartInfo("ldd", binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        foreach (var line in output.Split('\n'))
        {
            var parts = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var path = parts.Length >= 3 && parts[1] == "=>" ? parts[2] : parts.Length >= 1 && parts[0].StartsWith('/') ? parts[0] : null;
            if (path is not null && path.StartsWith('/') && File.Exists(path)) yield return path;
        }
    }

    /// <summary>The python3 on PATH: its installation prefix and X.Y version (asked from the interpreter itself).</summary>
    private static (string Prefix, string Version) HostPython()
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("import sys; print(sys.base_prefix); print('%d.%d' % sys.version_info[:2])");
        try
        {
            using var p = Process.Start(psi)!;
            var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            p.WaitForExit();
            Assert.True(p.ExitCode == 0 && lines.Length == 2, "python3 -c 'import sys ...' failed: the python test base image copies this machine's python3");
            return (lines[0].Trim(), lines[1].Trim());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("python3 is not on PATH: the python test base image copies this machine's python3. Install python3.");
        }
    }

    private static (byte[] Tar, string Hash) BaseContext(bool withPython)
    {
        var runtimeDir = Path.TrimEndingDirectorySeparator(RuntimeEnvironment.GetRuntimeDirectory()); // <root>/shared/Microsoft.NETCore.App/<version>
        var dotnetRoot = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal); // path in the image -> file here
        void AddTree(string dir)
        {
            foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
                files["usr/share/dotnet/" + Path.GetRelativePath(dotnetRoot, f).Replace('\\', '/')] = f;
        }
        files["usr/share/dotnet/dotnet"] = Path.Combine(dotnetRoot, "dotnet");
        AddTree(Path.Combine(dotnetRoot, "host"));
        AddTree(runtimeDir);
        var linked = new[] { Path.Combine(dotnetRoot, "dotnet") }.Concat(Directory.EnumerateFiles(runtimeDir, "*.so")).Concat(Directory.EnumerateFiles(Path.Combine(dotnetRoot, "host"), "*.so", SearchOption.AllDirectories));
        string? libDir = null;
        foreach (var binary in linked)
            foreach (var path in Linked(binary))
            {
                if (path.StartsWith(dotnetRoot, StringComparison.Ordinal)) continue;
                files[path.TrimStart('/')] = path;
                if (Path.GetFileName(path) == "libc.so.6") libDir = Path.GetDirectoryName(path);
            }
        Assert.True(libDir is not null, "ldd found no libc.so.6 for the .NET host: the test base image needs glibc (this is not a glibc Linux?)");
        foreach (var ssl in new[] { "libssl.so.3", "libcrypto.so.3" })
        {
            var path = new[] { libDir!, "/usr/lib/" + Path.GetFileName(libDir!), "/usr/lib64", "/lib64" }.Select(d => Path.Combine(d, ssl)).FirstOrDefault(File.Exists);
            Assert.True(path is not null, $"{ssl} is not installed here (.NET's cryptography loads it): apt-get install -y libssl3");
            files[path!.TrimStart('/')] = path;
        }

        var links = new SortedDictionary<string, string>(StringComparer.Ordinal); // path in the image -> link target
        if (withPython) AddPython(files, links, libDir!);

        var generated = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["Dockerfile"] = Encoding.UTF8.GetBytes("FROM scratch\nCOPY rootfs/ /\nENV DOTNET_ROOT=/usr/share/dotnet DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 HOME=/tmp PATH=/usr/local/bin:/usr/bin:/bin\n"),
            ["rootfs/etc/passwd"] = Encoding.UTF8.GetBytes("root:x:0:0:root:/root:/bin/sh\n"),
            ["rootfs/etc/group"] = Encoding.UTF8.GetBytes("root:x:0:\n"),
        };
        var time = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var names = files.Keys.Concat(links.Keys).Select(k => "rootfs/" + k).Concat(generated.Keys).ToList();
        var dirs = new SortedSet<string>(StringComparer.Ordinal) { "rootfs/tmp" };
        foreach (var n in names)
            for (var d = Path.GetDirectoryName(n)?.Replace('\\', '/'); !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d)?.Replace('\\', '/')) dirs.Add(d);
        using var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Gnu, leaveOpen: true))
        {
            foreach (var entry in dirs.Select(d => (Name: d, Dir: true)).Concat(names.Select(n => (Name: n, Dir: false))).OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                var e = new GnuTarEntry(entry.Dir ? TarEntryType.Directory : TarEntryType.RegularFile, entry.Dir ? entry.Name + "/" : entry.Name) { ModificationTime = time, Uid = 0, Gid = 0 };
                if (entry.Dir)
                {
                    e.Mode = entry.Name == "rootfs/tmp" ? (UnixFileMode)0b1_111_111_111 : (UnixFileMode)0b111_101_101;
                    w.WriteEntry(e);
                    continue;
                }
                if (links.TryGetValue(entry.Name["rootfs/".Length..], out var target))
                {
                    w.WriteEntry(new GnuTarEntry(TarEntryType.SymbolicLink, entry.Name) { LinkName = target, ModificationTime = time, Uid = 0, Gid = 0, Mode = (UnixFileMode)0b111_111_111 });
                    continue;
                }
                var source = generated.TryGetValue(entry.Name, out var bytes) ? null : files[entry.Name["rootfs/".Length..]];
                var executable = source is not null && (File.GetUnixFileMode(source) & UnixFileMode.UserExecute) != 0;
                e.Mode = executable ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100;
                e.DataStream = source is null ? new MemoryStream(bytes!) : File.OpenRead(source);
                w.WriteEntry(e);
                e.DataStream.Dispose();
            }
        }
        var tar = ms.ToArray();
        return (tar, Convert.ToHexString(SHA256.HashData(tar)).ToLowerInvariant());
    }

    /// <summary>The python3 of this machine laid out under /usr/local, with the libraries it and its modules link, and a shell.</summary>
    private static void AddPython(SortedDictionary<string, string> files, SortedDictionary<string, string> links, string libDir)
    {
        var (prefix, version) = HostPython();
        var binary = Path.Combine(prefix, "bin", "python" + version);
        Assert.True(File.Exists(binary), $"{binary} does not exist (python3's base_prefix is {prefix})");
        files["usr/local/bin/python" + version] = binary;
        links["usr/local/bin/python3"] = "python" + version;
        links["usr/local/bin/python"] = "python" + version;
        var linkedBy = new List<string> { binary };

        // The standard library, without what a step does not need (tests, the packages installed here, GUI modules,
        // the static library for embedding) and without byte code (Python writes it again as it imports).
        var stdlib = Path.Combine(prefix, "lib", "python" + version);
        var skipped = new HashSet<string>(StringComparer.Ordinal) { "test", "site-packages", "idlelib", "tkinter", "turtledemo", "__pycache__" };
        void AddLibrary(string dir)
        {
            foreach (var sub in Directory.EnumerateDirectories(dir))
            {
                var name = Path.GetFileName(sub);
                if (skipped.Contains(name) || name.StartsWith("config-", StringComparison.Ordinal) || new FileInfo(sub).LinkTarget is not null) continue;
                AddLibrary(sub);
            }
            foreach (var f in Directory.EnumerateFiles(dir))
            {
                var name = Path.GetFileName(f);
                if (name.StartsWith("_tkinter", StringComparison.Ordinal) || name.EndsWith(".pyc", StringComparison.Ordinal) || new FileInfo(f).LinkTarget is not null) continue;
                files["usr/local/lib/python" + version + "/" + Path.GetRelativePath(stdlib, f).Replace('\\', '/')] = f;
                if (name.EndsWith(".so", StringComparison.Ordinal)) linkedBy.Add(f);
            }
        }
        AddLibrary(stdlib);

        // The shell and the two programs axl's command-step wrapper runs.
        foreach (var (inImage, candidates) in new[] { ("bin/sh", new[] { "/usr/bin/dash", "/bin/dash" }), ("usr/bin/setsid", new[] { "/usr/bin/setsid", "/bin/setsid" }), ("usr/bin/sleep", new[] { "/usr/bin/sleep", "/bin/sleep" }) })
        {
            var found = candidates.FirstOrDefault(File.Exists);
            Assert.True(found is not null, $"{string.Join(" or ", candidates)} is not installed here (the python test base image copies it to /{inImage})");
            files[inImage] = found!;
            linkedBy.Add(found!);
        }

        // libpython (its RUNPATH names this machine's prefix) and the extension modules' libraries go beside libc,
        // where the dynamic loader looks without a cache.
        foreach (var path in linkedBy.SelectMany(Linked).Distinct())
        {
            var name = Path.GetFileName(path);
            files[path.StartsWith(prefix, StringComparison.Ordinal) ? libDir.TrimStart('/') + "/" + name : path.TrimStart('/')] = path;
        }
    }

    public void Dispose()
    {
        _client?.Dispose();
        if (_stateDir is not null) Services("stop", _stateDir);
    }

    /// <summary>True when a container engine can be used or started here; else why not (the skip reason).</summary>
    public static string? SkipReason { get; } = FindSkipReason();

    private static string? FindSkipReason()
    {
        if (!OperatingSystem.IsLinux()) return "the image tests run Podman's Docker API service, which this script starts on Linux only; on other systems set AXL_TEST_DOCKER_HOST and AXL_TEST_REGISTRY to a running engine and registry.";
        if (Environment.GetEnvironmentVariable("AXL_TEST_DOCKER_HOST") is { Length: > 0 }) return null;
        var named = ServicesEnv.Read(S3rver.ServicesEnvFile);
        if (named.ContainsKey("AXL_TEST_DOCKER_HOST")) return null;
        if (OnPath("podman") && OnPath("docker-registry")) return null;
        if (Environment.UserName == "root" && OnPath("apt-get")) return null; // services.sh installs them
        return "no container engine can be started here: podman and docker-registry are not installed and apt-get cannot install them (not root). Install them (apt-get install -y podman runc docker-registry) or point AXL_TEST_DOCKER_HOST and AXL_TEST_REGISTRY at a running engine and registry.";
    }

    private static bool OnPath(string name) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, name)));

    private static (int Exit, string Output) Services(string verb, string stateDir)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(S3rver.RepoRoot, ".ci", "services.sh"));
        psi.ArgumentList.Add(verb);
        psi.ArgumentList.Add("registry");
        psi.ArgumentList.Add("podman");
        psi.Environment["AXL_SERVICES_DIR"] = stateDir;
        psi.Environment["AXL_REGISTRY_PORT"] = Loopback.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.GetAwaiter().GetResult());
    }

    private static bool SocketAnswers(string host)
    {
        if (!host.StartsWith("unix://", StringComparison.Ordinal)) return TcpAnswers(new Uri(host).Authority);
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(host["unix://".Length..]));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool TcpAnswers(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync(hostPort[..colon], int.Parse(hostPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Wait(1000) && client.Connected;
        }
        catch (Exception ex) when (ex is SocketException or AggregateException or FormatException or ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private sealed class SyncProgress(Action<JSONMessage> report) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => report(value);
    }
}

/// <summary>A test against a real container engine and registry: skipped, with the reason, only when none can be started here.</summary>
public sealed class ContainerFactAttribute : FactAttribute
{
    public ContainerFactAttribute()
    {
        if (ContainerServices.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>The test classes that use the engine share one (starting Podman and building the base image cost seconds).</summary>
[CollectionDefinition(Name)]
public sealed class ContainerCollection : ICollectionFixture<ContainerServices>
{
    public const string Name = "container engine";
}
