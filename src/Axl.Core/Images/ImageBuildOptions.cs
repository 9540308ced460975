using Axl.Delivery;

namespace Axl.Images;

/// <summary>Error ids of image builds (the cmdlet's ErrorRecord ids, the CLI's "error &lt;id&gt;" lines).</summary>
public static class ImageErrorIds
{
    /// <summary>No container engine answers at the Docker host (DOCKER_HOST, the option, or the default sockets).</summary>
    public const string EngineUnavailable = "Axl.ImageEngineUnavailable";
    /// <summary>The build context cannot be made: the workflow has no file, a lockfile is missing, a module is not pinned ...</summary>
    public const string InvalidContext = "Axl.ImageContextInvalid";
    /// <summary>The engine reported an error while building (a Dockerfile step failed; its output is in the message).</summary>
    public const string BuildFailed = "Axl.ImageBuildFailed";
    /// <summary>The engine could not push the image (registry unreachable, refused credentials).</summary>
    public const string PushFailed = "Axl.ImagePushFailed";
    /// <summary>The tag is not a valid image reference.</summary>
    public const string InvalidTag = "Axl.ImageTagInvalid";
    /// <summary>Running a container from the image failed (engine error, not the command's exit code).</summary>
    public const string RunFailed = "Axl.ImageRunFailed";
    /// <summary>An image a run needs is neither on the engine nor pullable from its registry.</summary>
    public const string PullFailed = "Axl.ImageNotFound";
}

/// <summary>An image build that cannot go on: <see cref="Id"/> says which kind (<see cref="ImageErrorIds"/>), the message what to do.</summary>
public sealed class AxlImageException(string id, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Id { get; } = id;
}

/// <summary>User name and password (or token) for a registry.</summary>
public sealed record RegistryCredential(string Username, string Password)
{
    public override string ToString() => $"{Username}:***";
}

/// <summary>What <see cref="ImageBuilder"/> builds and where it pushes.</summary>
public sealed record ImageBuildOptions
{
    /// <summary>The image reference to tag: [registry[:port]/]name[:tag]. Required.</summary>
    public string Tag { get; init; } = "";
    /// <summary>The image to build on; default <see cref="AxlInfo.DefaultRunnerImage"/> (it has the axl command, pwsh and uv).</summary>
    public string? BaseImage { get; init; }
    /// <summary>The folder baked into /axl/workdir; default the workflow file's folder (the same default as the compilers' -CodeRoot).</summary>
    public string? CodeRoot { get; init; }
    /// <summary>
    /// A folder holding an axl build (axl.dll and its dependencies, as artifacts/cli or a `dotnet publish` of Axl.Cli),
    /// copied to /opt/axl and put first on PATH: for base images without the axl command (a plain .NET runtime image).
    /// Null: the base image must have axl (the Axl runner image does).
    /// </summary>
    public string? RunnerDirectory { get; init; }
    /// <summary>Ignore rules for the code (the same as Publish-AxlWorkflowCode's, so the image holds what the archive would).</summary>
    public CodeArchiveOptions Code { get; init; } = new();
    /// <summary>More labels (they win over Axl's own on the same key).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>
    /// The time written for reproducibility: the OCI "created" label, the engine's build timestamp (Podman) and the
    /// SOURCE_DATE_EPOCH build argument (BuildKit). Default: $SOURCE_DATE_EPOCH when set, else 2000-01-01T00:00:00Z,
    /// the time of every entry of the context.
    /// </summary>
    public DateTimeOffset? SourceDate { get; init; }
    /// <summary>Build every step again instead of reusing the engine's cache.</summary>
    public bool NoCache { get; init; }
    /// <summary>The target platform (linux/amd64, linux/arm64); default the engine's.</summary>
    public string? Platform { get; init; }
    /// <summary>The Docker host (unix:///path, tcp://host:port, npipe://...); default $DOCKER_HOST, else the usual Docker and Podman sockets.</summary>
    public string? DockerHost { get; init; }
    /// <summary>Push the tag after the build.</summary>
    public bool Push { get; init; }
    /// <summary>Registry credentials for the push; null: $AXL_REGISTRY_USERNAME/$AXL_REGISTRY_PASSWORD, else the Docker/Podman auth files, else anonymous.</summary>
    public RegistryCredential? Credential { get; init; }
}

/// <summary>One progress report of a build or push: the phase, the engine's line, and the Dockerfile step when known.</summary>
public sealed record ImageBuildEvent(string Phase, string Message, int? Step = null, int? Steps = null)
{
    public const string Context = "context";
    public const string Build = "build";
    public const string Push = "push";

    /// <summary>0-100 from the Dockerfile step, or null.</summary>
    public int? PercentComplete => Step is { } s && Steps is > 0 ? Math.Min(100, (s - 1) * 100 / Steps.Value) : null;
}

/// <summary>What a build made: the image, its labels and layers, and where it was pushed.</summary>
public sealed record ImageBuildResult
{
    public string Tag { get; init; } = "";
    /// <summary>The image ID (sha256 of its config) in the engine.</summary>
    public string ImageId { get; init; } = "";
    /// <summary>The uncompressed layer digests (RootFS.Layers): equal for equal inputs.</summary>
    public IReadOnlyList<string> Layers { get; init; } = Array.Empty<string>();
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>The manifest digest in the registry, when pushed.</summary>
    public string? Digest { get; init; }
    public bool Pushed { get; init; }
    /// <summary>The reference to run: name:tag@digest when pushed (immutable), else the tag.</summary>
    public string Reference => Digest is null ? Tag : $"{Tag}@{Digest}";
    // Plain values for views (a deserialized result shows the same as the live one).
    /// <summary>The digest cut to "sha256:" and 12 hex digits.</summary>
    public string? ShortDigest => Digest is { Length: > 19 } d ? d[..19] : Digest;
    public int LayerCount => Layers.Count;
    /// <summary>The dependencies as text ("uv.lock; modules ...").</summary>
    public string DependencyText => Dependencies.ToString();
    public string Workflow { get; init; } = "";
    public string WorkflowHash { get; init; } = "";
    /// <summary>The SHA-256 of the build context (the tar sent to the engine).</summary>
    public string ContextSha256 { get; init; } = "";
    public long ContextSize { get; init; }
    /// <summary>The SHA-256 of the code as Publish-AxlWorkflowCode would archive it (label io.axl.code.sha256).</summary>
    public string CodeSha256 { get; init; } = "";
    public string BaseImage { get; init; } = "";
    public string Dockerfile { get; init; } = "";
    public ImageDependencies Dependencies { get; init; } = ImageDependencies.None;
    /// <summary>The engine that built it ("Podman Engine 4.3.1", "Docker Engine 27.1.0").</summary>
    public string Engine { get; init; } = "";

    public override string ToString() => Reference;
}
