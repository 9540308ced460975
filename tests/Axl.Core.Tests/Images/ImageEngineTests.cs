using Axl.Core.Tests.Compilers;
using Axl.Core.Tests.Delivery;
using Axl.Dsl;
using Axl.Images;
using Axl.Model;
using Axl.TestServices;

namespace Axl.Core.Tests.Images;

/// <summary>
/// Image builds against a real engine (Podman's Docker API service) and registry (docker-registry), started by
/// .ci/services.sh (see ContainerServices). The base image is made locally (no image can be pulled here).
/// </summary>
[Collection(ContainerCollection.Name)]
public sealed class ImageEngineTests : IDisposable
{
    private readonly ContainerServices _services;
    private readonly TempTree _tree = new("image-engine");

    public ImageEngineTests(ContainerServices services) => _services = services;
    public void Dispose() => Directory.Delete(_tree.Root, recursive: true);

    private static string Runner => Path.Combine(Golden.RepoRoot, "artifacts", "cli");

    private AxlWorkflow Flow()
    {
        var file = _tree.Write("flows/flow.axl.ps1", "AxlWorkflow flow { Step a { 1 } }\n");
        _tree.Write("flows/lib/helper.ps1", "function Get-One { 1 }\n");
        return new WorkflowBuilder("flow", new WorkflowDefinitionOptions { Description = "engine test" }, new SourceLocation(file, 1)).AddStep("a", "1").Build();
    }

    [ContainerFact]
    public async Task The_same_inputs_give_the_same_layers_and_the_push_lands_in_the_registry()
    {
        var wf = Flow();
        var repository = "axl-test/flow-" + Guid.NewGuid().ToString("N")[..8];
        var tag = $"{_services.Registry}/{repository}:1";
        var options = new ImageBuildOptions { Tag = tag, BaseImage = _services.BaseImage(), RunnerDirectory = Runner, DockerHost = _services.DockerHost };
        using var engine = await DockerEngine.ConnectAsync(_services.DockerHost);
        Assert.True(engine.IsPodman, $"expected Podman's service at {_services.DockerHost}, got {engine}");

        var events = new List<ImageBuildEvent>();
        var progress = new Collect(events);
        var first = await ImageBuilder.BuildAsync(engine, wf, ImageContext.Create(wf, options), options, progress);
        var second = await ImageBuilder.BuildAsync(engine, wf, ImageContext.Create(wf, options), options with { Tag = $"{_services.Registry}/{repository}:2", NoCache = true, Push = true });

        Assert.Equal(first.ContextSha256, second.ContextSha256);
        Assert.True(first.Layers.Count >= 3, $"expected the base, runner and code layers, got {string.Join(", ", first.Layers)}");
        Assert.Equal(first.Layers, second.Layers); // rebuilt without the cache: byte-identical layers
        Assert.Contains(events, e => e.Phase == ImageBuildEvent.Build && e.Step is > 0 && e.Steps is > 0); // streamed "STEP n/m" lines
        Assert.Contains(events, e => e.Message.Contains("COPY axl/code/ /", StringComparison.Ordinal));

        // Labels on the image: OCI, Axl version, workflow name and hash.
        Assert.Equal(wf.Hash, first.Labels["io.axl.workflow.hash"]);
        Assert.Equal("flow", first.Labels["io.axl.workflow.name"]);
        Assert.Equal(AxlInfo.Version, first.Labels["io.axl.version"]);
        Assert.Equal("engine test", first.Labels["org.opencontainers.image.description"]);
        Assert.Equal("1", first.Labels["org.opencontainers.image.version"]);

        // The push: the registry has the tag, under the digest the build reported.
        Assert.True(second.Pushed);
        Assert.Contains("2", _services.RegistryTags(repository));
        Assert.NotNull(second.Digest);
        Assert.Equal(_services.RegistryDigest(repository, "2"), second.Digest);
        Assert.Equal($"{tag[..^2]}:2@{second.Digest}", second.Reference);
        Assert.Empty(_services.RegistryTags(repository).Where(t => t == "1")); // not pushed without -Push
    }

    [ContainerFact]
    public async Task A_failing_build_step_reports_the_engine_error_and_the_last_lines()
    {
        var wf = new WorkflowBuilder("flow", new WorkflowDefinitionOptions { RequirementsFile = "requirements.txt" }, new SourceLocation(_tree.Write("py/flow.axl.ps1", "x"), 1)).AddStep("a", "1").Build();
        _tree.Write("py/requirements.txt", "pandas==1.5.3\n");
        var options = new ImageBuildOptions { Tag = "localhost/axl-test/fails:1", BaseImage = _services.BaseImage(), DockerHost = _services.DockerHost };
        // The test base image has no shell and no python: the RUN of the requirements fails in the engine.
        var ex = await Assert.ThrowsAsync<AxlImageException>(() => ImageBuilder.BuildAsync(wf, options));
        Assert.Equal(ImageErrorIds.BuildFailed, ex.Id);
        Assert.Contains("the build of localhost/axl-test/fails:1 failed", ex.Message);
        Assert.Contains("Last lines of the build", ex.Message);
    }

    [ContainerFact]
    public async Task A_push_to_a_registry_that_does_not_answer_fails_with_the_registry_named()
    {
        var wf = Flow();
        var port = Loopback.FreePort();
        var options = new ImageBuildOptions { Tag = $"127.0.0.1:{port}/axl-test/nowhere:1", BaseImage = _services.BaseImage(), DockerHost = _services.DockerHost, Push = true, Credential = new RegistryCredential("u", "p") };
        var ex = await Assert.ThrowsAsync<AxlImageException>(() => ImageBuilder.BuildAsync(wf, options));
        Assert.Equal(ImageErrorIds.PushFailed, ex.Id);
        Assert.Contains($"127.0.0.1:{port}", ex.Message);
    }

    private sealed class Collect(List<ImageBuildEvent> events) : IProgress<ImageBuildEvent>
    {
        public void Report(ImageBuildEvent value)
        {
            lock (events) events.Add(value);
        }
    }
}

/// <summary>Engine errors that need no engine.</summary>
public sealed class DockerEngineTests
{
    [Fact]
    public async Task No_engine_at_the_host_is_an_error_that_says_how_to_start_one()
    {
        var socket = Path.Combine(Path.GetTempPath(), "axl-no-engine-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        var ex = await Assert.ThrowsAsync<AxlImageException>(() => DockerEngine.ConnectAsync("unix://" + socket));
        Assert.Equal(ImageErrorIds.EngineUnavailable, ex.Id);
        Assert.Contains(socket, ex.Message);
        Assert.Contains("DOCKER_HOST", ex.Message);
        Assert.Equal(ImageErrorIds.EngineUnavailable, (await Assert.ThrowsAsync<AxlImageException>(() => DockerEngine.ConnectAsync("not a uri"))).Id);
    }

    [Fact]
    public void The_host_is_the_option_then_DOCKER_HOST()
    {
        Assert.Equal("tcp://10.0.0.1:2375", DockerEngine.ResolveHost("tcp://10.0.0.1:2375"));
        var before = Environment.GetEnvironmentVariable("DOCKER_HOST");
        try
        {
            Environment.SetEnvironmentVariable("DOCKER_HOST", "unix:///tmp/some.sock");
            Assert.Equal("unix:///tmp/some.sock", DockerEngine.ResolveHost(null));
        }
        finally
        {
            Environment.SetEnvironmentVariable("DOCKER_HOST", before);
        }
    }

    [Fact]
    public void Registry_credentials_come_from_the_environment_or_the_docker_config()
    {
        var dir = Path.Combine(Path.GetTempPath(), "axl-docker-config-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var saved = new[] { "AXL_REGISTRY_USERNAME", "AXL_REGISTRY_PASSWORD", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR" }.ToDictionary(v => v, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var v in saved.Keys) Environment.SetEnvironmentVariable(v, null);
            File.WriteAllText(Path.Combine(dir, "config.json"), "{\"auths\":{\"https://reg.example:5000\":{\"auth\":\"" + Convert.ToBase64String("alice:s3cret:x"u8.ToArray()) + "\"}}}");
            Environment.SetEnvironmentVariable("DOCKER_CONFIG", dir);
            Assert.Equal(new RegistryCredential("alice", "s3cret:x"), ImageBuilder.CredentialFor("reg.example:5000/team/flow:1"));
            Assert.Null(ImageBuilder.CredentialFor("other.example/team/flow:1"));
            Environment.SetEnvironmentVariable("AXL_REGISTRY_USERNAME", "ci");
            Environment.SetEnvironmentVariable("AXL_REGISTRY_PASSWORD", "token");
            Assert.Equal(new RegistryCredential("ci", "token"), ImageBuilder.CredentialFor("reg.example:5000/team/flow:1"));
            Assert.Equal("ci:***", new RegistryCredential("ci", "token").ToString()); // never printed
        }
        finally
        {
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
            Directory.Delete(dir, recursive: true);
        }
    }
}
