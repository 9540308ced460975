using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Axl.Images;

/// <summary>An image as the engine describes it.</summary>
public sealed record EngineImage(string Id, IReadOnlyList<string> Layers, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<string> Env, IReadOnlyList<string> RepoDigests, string? WorkingDir);

/// <summary>A container to run: its image, entrypoint and command, environment, labels and bind mounts (host:container[:ro]).</summary>
public sealed record ContainerSpec(string Image, IReadOnlyList<string> Command)
{
    public IReadOnlyList<string>? Entrypoint { get; init; }
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Binds { get; init; } = Array.Empty<string>();
    public string? WorkingDir { get; init; }
}

/// <summary>How a container ended: its exit code (null when it was stopped), and whether it was stopped for its timeout or a cancellation.</summary>
public sealed record ContainerOutcome(string Id, long? ExitCode, bool TimedOut, bool Cancelled);

/// <summary>A finished container: its exit code and output.</summary>
public sealed record ContainerRunResult(long ExitCode, string Stdout, string Stderr);

/// <summary>
/// A container engine through the Docker Engine API (Docker.DotNet): Docker, or Podman's Docker-compatible service.
/// The host is the option, else $DOCKER_HOST, else the first socket that exists of /var/run/docker.sock,
/// $XDG_RUNTIME_DIR/podman/podman.sock and /run/podman/podman.sock. Docker.DotNet's types stay inside: callers see
/// Axl's records, <see cref="ImageBuildEvent"/>s and <see cref="AxlImageException"/>s.
/// </summary>
public sealed partial class DockerEngine : IDisposable
{
    public const string HostVariable = "DOCKER_HOST";
    private readonly DockerClient _client;
    private readonly BuildTimestampCredentials _credentials;

    private DockerEngine(string host, DockerClient client, BuildTimestampCredentials credentials)
    {
        Host = host;
        _client = client;
        _credentials = credentials;
    }

    public string Host { get; }
    /// <summary>"Podman Engine", "Docker Engine - Community" ...</summary>
    public string Name { get; private set; } = "";
    public string Version { get; private set; } = "";
    public string ApiVersion { get; private set; } = "";
    public bool IsPodman { get; private set; }

    public override string ToString() => $"{Name} {Version} (API {ApiVersion}) at {Host}";

    /// <summary>The Docker host to use: <paramref name="host"/>, $DOCKER_HOST, or the first existing default socket.</summary>
    public static string ResolveHost(string? host)
    {
        if (!string.IsNullOrWhiteSpace(host)) return host.Trim();
        if (Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } env) return env;
        if (OperatingSystem.IsWindows()) return "npipe://./pipe/docker_engine";
        var candidates = new List<string> { "/var/run/docker.sock" };
        if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg) candidates.Add(Path.Combine(xdg, "podman", "podman.sock"));
        candidates.Add("/run/podman/podman.sock");
        return "unix://" + (candidates.FirstOrDefault(File.Exists) ?? candidates[0]);
    }

    /// <summary>Connects and asks the engine for its version.</summary>
    /// <exception cref="AxlImageException"><see cref="ImageErrorIds.EngineUnavailable"/>, saying which host was tried and how to start one.</exception>
    public static async Task<DockerEngine> ConnectAsync(string? host, CancellationToken cancel = default)
    {
        var resolved = ResolveHost(host);
        Uri uri;
        try
        {
            uri = new Uri(resolved);
        }
        catch (UriFormatException ex)
        {
            throw new AxlImageException(ImageErrorIds.EngineUnavailable, $"the Docker host '{resolved}' is not a URI (unix:///path/docker.sock, tcp://host:2375, npipe://./pipe/docker_engine).", ex);
        }
        var credentials = new BuildTimestampCredentials();
        var client = new DockerClientConfiguration(uri, credentials, Timeout.InfiniteTimeSpan).CreateClient();
        var engine = new DockerEngine(resolved, client, credentials);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            await client.System.PingAsync(timeout.Token).ConfigureAwait(false);
            var version = await client.System.GetVersionAsync(timeout.Token).ConfigureAwait(false);
            var component = version.Components?.FirstOrDefault(c => c.Name?.Contains("Engine", StringComparison.OrdinalIgnoreCase) == true);
            engine.Name = component?.Name ?? "Docker Engine";
            engine.Version = component?.Version ?? version.Version ?? "";
            engine.ApiVersion = version.APIVersion ?? "";
            engine.IsPodman = version.Components?.Any(c => c.Name?.Contains("Podman", StringComparison.OrdinalIgnoreCase) == true) == true;
            return engine;
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException or TimeoutException or DockerApiException or OperationCanceledException && !cancel.IsCancellationRequested)
        {
            engine.Dispose();
            throw new AxlImageException(ImageErrorIds.EngineUnavailable,
                $"no container engine answers at {resolved} ({Root(ex).Message}). Fix: start Docker, or Podman's Docker API service (podman system service --time=0 unix:///run/podman/podman.sock), and point DOCKER_HOST (or -DockerHost / --docker-host) at its socket.", ex);
        }
    }

    /// <summary>
    /// Builds <paramref name="context"/> (a tar) and tags it. With <paramref name="timestamp"/>, Podman writes that time
    /// into every layer and the config (its build API's timestamp parameter), and BuildKit reads it as SOURCE_DATE_EPOCH.
    /// </summary>
    /// <returns>The image ID.</returns>
    /// <exception cref="AxlImageException"><see cref="ImageErrorIds.BuildFailed"/> with the engine's error and the last lines of output.</exception>
    public async Task<string> BuildAsync(Stream context, string tag, DateTimeOffset? timestamp, bool noCache, string? platform,
        IProgress<ImageBuildEvent>? progress, CancellationToken cancel = default)
    {
        var parameters = new ImageBuildParameters
        {
            Tags = new List<string> { tag },
            Dockerfile = "Dockerfile",
            NoCache = noCache,
            Remove = true,
            ForceRemove = true,
            Platform = platform,
        };
        if (timestamp is { } t) parameters.BuildArgs = new Dictionary<string, string> { ["SOURCE_DATE_EPOCH"] = t.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) };
        var tail = new Queue<string>();
        string? error = null;
        int? step = null, steps = null;
        var reporter = new Progress(m =>
        {
            if ((m.Error?.Message ?? m.ErrorMessage) is { Length: > 0 } e) error ??= e.Trim();
            var text = (m.Stream ?? m.Status ?? "").TrimEnd();
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0) continue;
                var s = StepRegex().Match(line);
                if (s.Success)
                {
                    step = int.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture);
                    steps = int.Parse(s.Groups[2].Value, CultureInfo.InvariantCulture);
                }
                tail.Enqueue(line);
                if (tail.Count > 30) tail.Dequeue();
                progress?.Report(new ImageBuildEvent(ImageBuildEvent.Build, line, step, steps));
            }
        });
        _credentials.Timestamp = IsPodman ? timestamp : null;
        try
        {
            await _client.Images.BuildImageFromDockerfileAsync(parameters, context, null, null, reporter, cancel).ConfigureAwait(false);
        }
        catch (DockerApiException ex)
        {
            throw new AxlImageException(ImageErrorIds.BuildFailed, $"the engine refused the build of {tag}: {ApiMessage(ex)}", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancel.IsCancellationRequested)
        {
            throw new AxlImageException(ImageErrorIds.BuildFailed, $"the connection to the engine at {Host} broke during the build of {tag}: {Root(ex).Message}", ex);
        }
        finally
        {
            _credentials.Timestamp = null;
        }
        if (error is not null)
            throw new AxlImageException(ImageErrorIds.BuildFailed, $"the build of {tag} failed: {error}\nLast lines of the build:\n  {string.Join("\n  ", tail)}");
        var image = await InspectAsync(tag, cancel).ConfigureAwait(false)
            ?? throw new AxlImageException(ImageErrorIds.BuildFailed, $"the build of {tag} ended without an error, but the engine has no image {tag}. Last lines:\n  {string.Join("\n  ", tail)}");
        return image.Id;
    }

    /// <summary>The image, or null when the engine has none by that name.</summary>
    public async Task<EngineImage?> InspectAsync(string image, CancellationToken cancel = default)
    {
        try
        {
            var i = await _client.Images.InspectImageAsync(image, cancel).ConfigureAwait(false);
            return new EngineImage(i.ID, i.RootFS?.Layers?.ToList() ?? new List<string>(),
                new SortedDictionary<string, string>(i.Config?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal),
                i.Config?.Env?.ToList() ?? new List<string>(), i.RepoDigests?.ToList() ?? new List<string>(), i.Config?.WorkingDir);
        }
        catch (DockerImageNotFoundException)
        {
            return null;
        }
        catch (DockerApiException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Pushes <paramref name="reference"/> (name:tag) and returns the manifest digest the registry reported (null when it reported none).</summary>
    /// <exception cref="AxlImageException"><see cref="ImageErrorIds.PushFailed"/> with the registry's answer.</exception>
    public async Task<string?> PushAsync(string reference, RegistryCredential? credential, IProgress<ImageBuildEvent>? progress, CancellationToken cancel = default)
    {
        var repository = ImageReference.RepositoryOf(reference);
        var tag = ImageReference.TagOf(reference) ?? "latest";
        var registry = ImageReference.RegistryOf(reference);
        var auth = credential is null ? new AuthConfig() : new AuthConfig { Username = credential.Username, Password = credential.Password, ServerAddress = registry };
        string? error = null, digest = null;
        var reporter = new Progress(m =>
        {
            if ((m.Error?.Message ?? m.ErrorMessage) is { Length: > 0 } e) error ??= e.Trim();
            var text = string.Join(" ", new[] { m.ID, m.Status, m.Stream, m.ProgressMessage }.Where(x => !string.IsNullOrWhiteSpace(x))).Trim();
            if (DigestRegex().Match(text) is { Success: true } d) digest = d.Groups[1].Value;
            if (m.Aux?.ExtensionData is { } aux && aux.TryGetValue("Digest", out var ad) && ad?.ToString() is { } auxDigest && auxDigest.StartsWith("sha256:", StringComparison.Ordinal)) digest = auxDigest;
            if (text.Length > 0) progress?.Report(new ImageBuildEvent(ImageBuildEvent.Push, text));
        });
        try
        {
            await _client.Images.PushImageAsync(repository, new ImagePushParameters { Tag = tag }, auth, reporter, cancel).ConfigureAwait(false);
        }
        catch (DockerApiException ex)
        {
            throw new AxlImageException(ImageErrorIds.PushFailed, $"the engine could not push {reference}: {ApiMessage(ex)}{PushHint(registry, credential)}", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancel.IsCancellationRequested)
        {
            throw new AxlImageException(ImageErrorIds.PushFailed, $"the connection to the engine at {Host} broke while pushing {reference}: {Root(ex).Message}", ex);
        }
        if (error is not null)
            throw new AxlImageException(ImageErrorIds.PushFailed, $"pushing {reference} failed: {error}{PushHint(registry, credential)}");
        if (digest is null && await InspectAsync(reference, cancel).ConfigureAwait(false) is { } image)
            digest = image.RepoDigests.Select(r => r.Split('@')).FirstOrDefault(p => p.Length == 2 && p[0] == repository)?[1];
        return digest;
    }

    private static string PushHint(string registry, RegistryCredential? credential) =>
        credential is null
            ? $" (no credentials were sent to {registry}: give -Credential, or set AXL_REGISTRY_USERNAME and AXL_REGISTRY_PASSWORD, or log in with docker/podman login)"
            : $" (as user '{credential.Username}' on {registry}; an insecure registry must be allowed in the engine's configuration: daemon.json insecure-registries, or registries.conf for Podman)";

    /// <summary>Runs <paramref name="command"/> in a new container of <paramref name="image"/>, waits, returns its exit code and output, and removes it.</summary>
    public async Task<ContainerRunResult> RunAsync(string image, IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? env = null,
        IReadOnlyList<string>? binds = null, string? workingDir = null, bool hostNetwork = false, CancellationToken cancel = default)
    {
        string? id = null;
        try
        {
            var created = await _client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Image = image,
                Cmd = command.ToList(),
                Env = env?.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
                WorkingDir = workingDir,
                HostConfig = new HostConfig { Binds = binds?.ToList(), NetworkMode = hostNetwork ? "host" : null },
            }, cancel).ConfigureAwait(false);
            id = created.ID;
            await _client.Containers.StartContainerAsync(id, new ContainerStartParameters(), cancel).ConfigureAwait(false);
            var wait = await _client.Containers.WaitContainerAsync(id, cancel).ConfigureAwait(false);
            using var logs = await _client.Containers.GetContainerLogsAsync(id, tty: false, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true }, cancel).ConfigureAwait(false);
            var (stdout, stderr) = await logs.ReadOutputToEndAsync(cancel).ConfigureAwait(false);
            return new ContainerRunResult(wait.StatusCode, stdout, stderr);
        }
        catch (DockerApiException ex)
        {
            throw new AxlImageException(ImageErrorIds.RunFailed, $"the engine could not run a container of {image}: {ApiMessage(ex)}", ex);
        }
        finally
        {
            if (id is not null)
            {
                try { await _client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, CancellationToken.None).ConfigureAwait(false); }
                catch (DockerApiException) { }
            }
        }
    }

    /// <summary>
    /// Pulls <paramref name="image"/> (name[:tag] or name@digest) from its registry.
    /// </summary>
    /// <exception cref="AxlImageException"><see cref="ImageErrorIds.PullFailed"/> with the engine's or registry's answer.</exception>
    public async Task PullAsync(string image, CancellationToken cancel = default)
    {
        string? error = null;
        var reporter = new Progress(m => { if ((m.Error?.Message ?? m.ErrorMessage) is { Length: > 0 } e) error ??= e.Trim(); });
        var parameters = image.Contains('@', StringComparison.Ordinal)
            ? new ImagesCreateParameters { FromImage = image }
            : new ImagesCreateParameters { FromImage = ImageReference.RepositoryOf(image), Tag = ImageReference.TagOf(image) ?? "latest" };
        try
        {
            await _client.Images.CreateImageAsync(parameters, new AuthConfig(), reporter, cancel).ConfigureAwait(false);
        }
        catch (DockerApiException ex)
        {
            throw new AxlImageException(ImageErrorIds.PullFailed, $"the engine at {Host} could not pull {image}: {ApiMessage(ex)}", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancel.IsCancellationRequested)
        {
            throw new AxlImageException(ImageErrorIds.PullFailed, $"the connection to the engine at {Host} broke while pulling {image}: {Root(ex).Message}", ex);
        }
        if (error is not null) throw new AxlImageException(ImageErrorIds.PullFailed, $"pulling {image} failed: {error}");
    }

    /// <summary>
    /// Runs one container to its end: created with <paramref name="spec"/>'s entrypoint, command, environment, labels
    /// and bind mounts, its output lines handed to <paramref name="onLine"/> as they come (true: standard error), and
    /// always removed. On <paramref name="timeout"/> or <paramref name="cancel"/> it is stopped (SIGTERM, SIGKILL after
    /// <paramref name="killGrace"/>). <see cref="ContainerOutcome.ExitCode"/> is null when it was stopped.
    /// </summary>
    /// <exception cref="AxlImageException"><see cref="ImageErrorIds.RunFailed"/> when the engine cannot create or start it.</exception>
    public ContainerOutcome RunContainer(ContainerSpec spec, Action<string, bool> onLine, TimeSpan timeout, TimeSpan killGrace, CancellationToken cancel)
    {
        string? id = null;
        try
        {
            try
            {
                var created = _client.Containers.CreateContainerAsync(new CreateContainerParameters
                {
                    Image = spec.Image,
                    Entrypoint = spec.Entrypoint?.ToList(),
                    Cmd = spec.Command.ToList(),
                    Env = spec.Env.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
                    Labels = spec.Labels.ToDictionary(kv => kv.Key, kv => kv.Value),
                    WorkingDir = spec.WorkingDir,
                    HostConfig = new HostConfig { Binds = spec.Binds.ToList() },
                }, CancellationToken.None).GetAwaiter().GetResult();
                id = created.ID;
                lock (_running) _running.Add(id);
                cancel.ThrowIfCancellationRequested();
                _client.Containers.StartContainerAsync(id, new ContainerStartParameters(), CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (DockerApiException ex)
            {
                throw new AxlImageException(ImageErrorIds.RunFailed, $"the engine at {Host} could not run a container of {spec.Image}: {ApiMessage(ex)}", ex);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                throw new AxlImageException(ImageErrorIds.RunFailed, $"the connection to the engine at {Host} broke while starting a container of {spec.Image}: {Root(ex).Message}", ex);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return new ContainerOutcome(id ?? "", null, false, true); // cancelled before it started; removed below
            }
            var logs = Task.Run(() => FollowLogs(id, onLine));
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            if (timeout != Timeout.InfiniteTimeSpan) deadline.CancelAfter(timeout);
            long? exit = null;
            var stopped = false;
            try
            {
                exit = _client.Containers.WaitContainerAsync(id, deadline.Token).GetAwaiter().GetResult().StatusCode;
            }
            catch (OperationCanceledException)
            {
                stopped = true;
                var seconds = (uint)Math.Max(0, Math.Ceiling(killGrace.TotalSeconds));
                try { _client.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = seconds }, CancellationToken.None).GetAwaiter().GetResult(); }
                catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException) { }
            }
            try { logs.Wait(TimeSpan.FromSeconds(30)); } catch (AggregateException) { }
            return new ContainerOutcome(id, exit, stopped && !cancel.IsCancellationRequested, stopped && cancel.IsCancellationRequested);
        }
        finally
        {
            if (id is not null) Remove(id);
        }
    }

    private void FollowLogs(string id, Action<string, bool> onLine)
    {
        try
        {
            using var stream = _client.Containers.GetContainerLogsAsync(id, tty: false,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Follow = true }, CancellationToken.None).GetAwaiter().GetResult();
            var buffer = new byte[16384];
            var pending = new[] { new StringBuilder(), new StringBuilder() };
            var decoders = new[] { Encoding.UTF8.GetDecoder(), Encoding.UTF8.GetDecoder() };
            var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
            while (true)
            {
                var read = stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None).GetAwaiter().GetResult();
                if (read.EOF) break;
                var err = read.Target == MultiplexedStream.TargetStream.StandardError ? 1 : 0;
                var n = decoders[err].GetChars(buffer, 0, read.Count, chars, 0);
                var sb = pending[err];
                for (var i = 0; i < n; i++)
                {
                    if (chars[i] == '\n') { onLine(sb.ToString().TrimEnd('\r'), err == 1); sb.Clear(); }
                    else sb.Append(chars[i]);
                }
            }
            for (var e = 0; e < 2; e++) if (pending[e].Length > 0) onLine(pending[e].ToString(), e == 1);
        }
        catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException or ObjectDisposedException) { }
    }

    private readonly HashSet<string> _running = new(StringComparer.Ordinal);

    /// <summary>Force-removes (kills) every container <see cref="RunContainer"/> started and has not removed yet: for an abort.</summary>
    public void RemoveAllContainers()
    {
        List<string> ids;
        lock (_running) ids = _running.ToList();
        foreach (var id in ids) Remove(id);
    }

    private void Remove(string id)
    {
        try { _client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, CancellationToken.None).GetAwaiter().GetResult(); }
        catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException) { }
        lock (_running) _running.Remove(id);
    }

    /// <summary>Removes an image from the engine (not from registries); false when there was none.</summary>
    public async Task<bool> RemoveImageAsync(string image, CancellationToken cancel = default)
    {
        try
        {
            await _client.Images.DeleteImageAsync(image, new ImageDeleteParameters { Force = true }, cancel).ConfigureAwait(false);
            return true;
        }
        catch (DockerApiException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public void Dispose() => _client.Dispose();

    private static string ApiMessage(DockerApiException ex)
    {
        var body = ex.ResponseBody?.Trim() ?? "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("message", out var m) && m.GetString() is { } msg) return $"{msg} (HTTP {(int)ex.StatusCode})";
        }
        catch (JsonException) { }
        return $"{(body.Length > 0 ? body : ex.Message)} (HTTP {(int)ex.StatusCode})";
    }

    private static Exception Root(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex;
    }

    /// <summary>Synchronous progress (Progress&lt;T&gt; posts to the thread pool: order and completion would be lost).</summary>
    private sealed class Progress(Action<JSONMessage> report) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => report(value);
    }

    /// <summary>
    /// Docker.DotNet's only hook on the HTTP pipeline is its Credentials' handler: this one adds Podman's build
    /// "timestamp" query parameter (seconds since 1970: the time of every file in the layers and of the image), which
    /// ImageBuildParameters has no property for. Docker ignores unknown parameters; Axl adds it only for Podman.
    /// </summary>
    private sealed class BuildTimestampCredentials : Credentials
    {
        public DateTimeOffset? Timestamp { get; set; }
        public override bool IsTlsCredentials() => false;
        public override HttpMessageHandler GetHandler(HttpMessageHandler innerHandler) => new Handler(this, innerHandler);
        public override void Dispose() { }

        private sealed class Handler(BuildTimestampCredentials owner, HttpMessageHandler inner) : DelegatingHandler(inner)
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (owner.Timestamp is { } t && request.RequestUri is { } uri && uri.AbsolutePath.EndsWith("/build", StringComparison.Ordinal))
                {
                    var separator = string.IsNullOrEmpty(uri.Query) ? "?" : "&";
                    request.RequestUri = new Uri(uri + separator + "timestamp=" + t.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
                }
                return base.SendAsync(request, cancellationToken);
            }
        }
    }

    [GeneratedRegex(@"^(?:STEP|Step) (\d+)/(\d+)\s*:")]
    private static partial Regex StepRegex();
    [GeneratedRegex(@"digest: (sha256:[0-9a-f]{64})")]
    private static partial Regex DigestRegex();
}
