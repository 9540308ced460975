using System.Text;
using System.Text.Json;
using Axl.Model;

namespace Axl.Images;

/// <summary>
/// Builds a workflow image: the context (<see cref="ImageContext"/>), the build through the Docker Engine API
/// (<see cref="DockerEngine"/>), then the push when asked. Used by Build-AxlImage and axl build-image.
/// </summary>
public static class ImageBuilder
{
    public const string UsernameVariable = "AXL_REGISTRY_USERNAME";
    public const string PasswordVariable = "AXL_REGISTRY_PASSWORD";

    /// <summary>Builds (and pushes) the image of <paramref name="wf"/>.</summary>
    /// <exception cref="AxlImageException">The context, the engine, the build or the push failed; <see cref="AxlImageException.Id"/> says which.</exception>
    public static async Task<ImageBuildResult> BuildAsync(AxlWorkflow wf, ImageBuildOptions options, IProgress<ImageBuildEvent>? progress = null, CancellationToken cancel = default)
    {
        ImageReference.Validate(options.Tag);
        progress?.Report(new ImageBuildEvent(ImageBuildEvent.Context, $"Making the build context of workflow '{wf.Name}'"));
        var context = ImageContext.Create(wf, options);
        progress?.Report(new ImageBuildEvent(ImageBuildEvent.Context, $"Context {context.Sha256}: {context.FileCount} files, {context.Tar.Length} bytes, {context.Dependencies}"));
        using var engine = await DockerEngine.ConnectAsync(options.DockerHost, cancel).ConfigureAwait(false);
        return await BuildAsync(engine, wf, context, options, progress, cancel).ConfigureAwait(false);
    }

    /// <summary>Builds a context made beforehand on a connected engine (tests build one context twice).</summary>
    public static async Task<ImageBuildResult> BuildAsync(DockerEngine engine, AxlWorkflow wf, ImageContext context, ImageBuildOptions options,
        IProgress<ImageBuildEvent>? progress = null, CancellationToken cancel = default)
    {
        ImageReference.Validate(options.Tag);
        progress?.Report(new ImageBuildEvent(ImageBuildEvent.Build, $"Building {options.Tag} on {context.BaseImage} with {engine}"));
        using var stream = new MemoryStream(context.Tar, writable: false);
        var id = await engine.BuildAsync(stream, options.Tag, context.SourceDate, options.NoCache, options.Platform, progress, cancel).ConfigureAwait(false);
        var image = await engine.InspectAsync(options.Tag, cancel).ConfigureAwait(false)
            ?? throw new AxlImageException(ImageErrorIds.BuildFailed, $"the engine built {id} but has no image {options.Tag}.");
        string? digest = null;
        if (options.Push)
        {
            var credential = options.Credential ?? CredentialFor(options.Tag);
            progress?.Report(new ImageBuildEvent(ImageBuildEvent.Push, $"Pushing {options.Tag}{(credential is null ? "" : $" as {credential.Username}")}"));
            digest = await engine.PushAsync(options.Tag, credential, progress, cancel).ConfigureAwait(false);
        }
        return new ImageBuildResult
        {
            Tag = options.Tag,
            ImageId = image.Id,
            Layers = image.Layers,
            Labels = image.Labels,
            Digest = digest,
            Pushed = options.Push,
            Workflow = wf.Name,
            WorkflowHash = context.Labels.TryGetValue("io.axl.workflow.hash", out var hash) ? hash : wf.Hash,
            ContextSha256 = context.Sha256,
            ContextSize = context.Tar.Length,
            CodeSha256 = context.CodeSha256,
            BaseImage = context.BaseImage,
            Dockerfile = context.Dockerfile,
            Dependencies = context.Dependencies,
            Engine = $"{engine.Name} {engine.Version}".Trim(),
        };
    }

    /// <summary>
    /// Registry credentials for <paramref name="reference"/> when none were given: $AXL_REGISTRY_USERNAME and
    /// $AXL_REGISTRY_PASSWORD (CI secrets), else an "auth" entry for its registry in the Docker config
    /// ($DOCKER_CONFIG/config.json or ~/.docker/config.json) or Podman's auth file ($REGISTRY_AUTH_FILE or
    /// $XDG_RUNTIME_DIR/containers/auth.json); else null (anonymous: the engine may still have its own login).
    /// Credential helpers (credsStore) are not run.
    /// </summary>
    public static RegistryCredential? CredentialFor(string reference)
    {
        if (Environment.GetEnvironmentVariable(UsernameVariable) is { Length: > 0 } user)
            return new RegistryCredential(user, Environment.GetEnvironmentVariable(PasswordVariable) ?? "");
        var registry = ImageReference.RegistryOf(reference);
        var files = new List<string>();
        if (Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } dockerConfig) files.Add(Path.Combine(dockerConfig, "config.json"));
        else files.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker", "config.json"));
        if (Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE") is { Length: > 0 } authFile) files.Add(authFile);
        if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg) files.Add(Path.Combine(xdg, "containers", "auth.json"));
        foreach (var file in files.Where(File.Exists))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file));
                if (!doc.RootElement.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object) continue;
                foreach (var entry in auths.EnumerateObject())
                {
                    var host = entry.Name.Replace("https://", "").Replace("http://", "").TrimEnd('/');
                    if (host.EndsWith("/v1", StringComparison.Ordinal)) host = host[..^3];
                    if (host == "index.docker.io") host = "docker.io";
                    if (!host.Equals(registry, StringComparison.OrdinalIgnoreCase)) continue;
                    if (!entry.Value.TryGetProperty("auth", out var auth) || auth.GetString() is not { Length: > 0 } encoded) continue;
                    var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
                    var colon = decoded.IndexOf(':');
                    if (colon > 0) return new RegistryCredential(decoded[..colon], decoded[(colon + 1)..]);
                }
            }
            catch (Exception ex) when (ex is JsonException or FormatException or IOException) { }
        }
        return null;
    }
}
