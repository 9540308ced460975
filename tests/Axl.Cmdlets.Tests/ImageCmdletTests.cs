using System.Management.Automation;
using System.Security.Cryptography;
using System.Text.Json;
using Axl.TestServices;
using Docker.DotNet.Models;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Build-AxlImage and axl build-image end to end, against a real engine (Podman's Docker API service) and registry
/// (docker-registry) that .ci/services.sh starts (see tests/services/ContainerServices.cs). No image can be pulled
/// here, so the base is made locally: FROM scratch with this machine's .NET runtime and C libraries, no shell and no
/// pwsh; the image gets the axl command from -RunnerPath (artifacts/cli), and axl hosts PowerShell itself, so the
/// script steps of examples/diamond run in it. What this proves: the image built and pushed through the Docker API
/// runs the compiled workflow's steps (the commands and manifests ConvertTo-ArgoWorkflow -Image wrote) in real
/// containers, with the code from the image, and every step's output has the same SHA-256 as in a local run.
/// What it does not: the Axl runner image (runner/Dockerfile needs images from mcr.microsoft.com), uv/pip/Save-Module
/// at build time (no PyPI or PowerShell Gallery here; the generated commands are checked by the context tests).
/// </summary>
[Collection("PowerShell")]
public sealed class ImageCmdletTests(PowerShellFixture ps, ContainerServices engine) : IClassFixture<ContainerServices>, IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private static string DiamondFile => Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");
    private static string Runner => Path.Combine(Repo.Root, "artifacts", "cli");

    [ContainerFact]
    public void The_built_and_pushed_image_runs_the_compiled_steps_with_the_local_results()
    {
        var repository = "axl-test/diamond-" + Guid.NewGuid().ToString("N")[..8];
        var tag = $"{engine.Registry}/{repository}:1";
        var vars = new Dictionary<string, object> { ["file"] = DiamondFile, ["tag"] = tag, ["base"] = engine.BaseImage(), ["runner"] = Runner, ["dockerHost"] = engine.DockerHost };

        var built = ps.Run("Get-AxlWorkflow $file | Build-AxlImage -Tag $tag -BaseImage $base -RunnerPath $runner -Push -DockerHost $dockerHost -Verbose", vars);
        built.ShouldSucceed();
        var image = Assert.Single(built.Output);
        var reference = (string)image.Properties["Reference"].Value;
        var digest = (string)image.Properties["Digest"].Value;
        Assert.Equal($"{tag}@{digest}", reference);
        Assert.Equal(engine.RegistryDigest(repository, "1"), digest);
        var labels = (IReadOnlyDictionary<string, string>)image.Properties["Labels"].Value;
        Assert.Equal("diamond", labels["io.axl.workflow.name"]);
        Assert.Equal(ps.Run("(Get-AxlWorkflow $file).Hash", vars).Output[0].BaseObject, labels["io.axl.workflow.hash"]);
        Assert.Contains(built.Progress, p => p.PercentComplete > 0 && p.Activity.Contains(tag, StringComparison.Ordinal)); // streamed build output
        Assert.Contains(built.Verbose, v => v.Contains("COPY axl/code/ /", StringComparison.Ordinal));

        // Compiled with the build result as -Image: every step's container uses the pushed, digest-pinned image.
        vars["img"] = image;
        var compiled = ps.Run("Get-AxlWorkflow $file | ConvertTo-ArgoWorkflow -Image $img -AsYaml", vars);
        compiled.ShouldSucceed();
        var yaml = (string)compiled.Output[0].BaseObject;
        Assert.True(yaml.Contains($"image: '{reference}'", StringComparison.Ordinal), "the compiled images: " + string.Join(", ", yaml.Split('\n').Where(l => l.Contains("image:"))));

        // As a node would: the image comes from the registry by digest. The local copy goes first, so the pull is real.
        engine.Client.Images.DeleteImageAsync(tag, new ImageDeleteParameters { Force = true }).GetAwaiter().GetResult();
        var pullErrors = new List<string>();
        engine.Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = reference }, null,
            new SyncProgress(m => { if ((m.Error?.Message ?? m.ErrorMessage) is { Length: > 0 } e) pullErrors.Add(e); })).GetAwaiter().GetResult();
        Assert.True(pullErrors.Count == 0, "pulling " + reference + ": " + string.Join("; ", pullErrors));

        // The local run, then the compiled DAG with each pod a container of the image.
        var local = CliTests.Axl("run", "local", DiamondFile, "--run-root", Path.Combine(_dir.Path, "local"), "--run-id", "local", "--json", "--quiet", "--param", "Base=7");
        Assert.True(local.Exit == 0, local.Err);
        using var run = JsonDocument.Parse(local.Out);
        var localSha = run.RootElement.GetProperty("steps").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("output").GetProperty("sha256").GetString());
        var ran = new List<string>();
        var results = ArgoSimulator.Run(yaml, new Dictionary<string, string> { ["Base"] = "7" }, Path.GetDirectoryName(DiamondFile)!, Path.Combine(_dir.Path, "pods"), call =>
        {
            Assert.Equal(reference, call.Image);
            ran.Add(call.Task);
            return engine.RunContainer(call.Image, call.Command, call.Env, call.Binds);
        });
        Assert.Equal(new[] { "join", "left", "right", "start" }, ran.OrderBy(x => x));
        foreach (var r in results.Values)
        {
            Assert.Equal("Succeeded", r.Phase);
            using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(r.OutputDirectory!, "output.meta.json")));
            Assert.True(localSha[r.Step] == meta.RootElement.GetProperty("sha256").GetString(), $"step '{r.Step}': the output in the container differs from the local one");
        }
    }

    private sealed class SyncProgress(Action<JSONMessage> report) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => report(value);
    }

    [ContainerFact]
    public void Axl_build_image_builds_the_workflow_and_prints_the_reference()
    {
        var tag = $"localhost/axl-test/diamond-cli:{Guid.NewGuid().ToString("N")[..8]}";
        var r = CliTests.Axl("build-image", "-m", DiamondFile + ":diamond", "--tag", tag, "--base-image", engine.BaseImage(), "--include-runner", "--docker-host", engine.DockerHost, "--label", "team=ml");
        Assert.True(r.Exit == 0, r.Err);
        Assert.Equal(tag, r.Out.Trim());
        Assert.Contains("STEP", r.Err); // the engine's build output, streamed on stderr
        var inspected = engine.Client.Images.InspectImageAsync(tag).GetAwaiter().GetResult();
        Assert.Equal("ml", inspected.Config.Labels["team"]);
        Assert.Equal("diamond", inspected.Config.Labels["io.axl.workflow.name"]);
        Assert.Equal("/axl/workdir", inspected.Config.WorkingDir);
        Assert.Contains(inspected.Config.Env, e => e.StartsWith("PATH=/opt/axl:", StringComparison.Ordinal));
    }

    [Fact]
    public void The_cmdlet_and_the_command_write_the_same_context_bytes()
    {
        var fromCli = Path.Combine(_dir.Path, "cli.tar");
        var fromCmdlet = Path.Combine(_dir.Path, "cmdlet.tar");
        var r = CliTests.Axl("build-image", "-m", DiamondFile, "--tag", "reg.example/diamond:1", "--base-image", "localhost/base:1", "--include-runner", "--context-out", fromCli);
        Assert.True(r.Exit == 0, r.Err);
        var c = ps.Run("Build-AxlImage -Path $file -Tag reg.example/diamond:1 -BaseImage localhost/base:1 -IncludeRunner -ContextPath $out",
            new Dictionary<string, object> { ["file"] = DiamondFile, ["out"] = fromCmdlet });
        c.ShouldSucceed();
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(fromCli)), SHA256.HashData(File.ReadAllBytes(fromCmdlet)));
        Assert.StartsWith((string)c.Output[0].Properties["Sha256"].Value, r.Out);
        var shown = ps.Render($"Build-AxlImage -Path '{DiamondFile}' -Tag reg.example/diamond:1 -BaseImage localhost/base:1 -ContextPath '{fromCmdlet}'");
        Assert.Contains("WorkflowFile", shown); // the table view of Axl.Format.ps1xml
        Assert.Contains("diamond.axl.ps1", shown);
        Assert.Contains("no Python dependencies", shown);
    }

    [Fact]
    public void WhatIf_builds_nothing_and_errors_name_the_problem()
    {
        var vars = new Dictionary<string, object> { ["file"] = DiamondFile, ["nowhere"] = "unix://" + Path.Combine(_dir.Path, "no-engine.sock") };
        var whatIf = ps.Run("Build-AxlImage -Path $file -Tag reg.example/diamond:1 -BaseImage localhost/base:1 -DockerHost $nowhere -WhatIf", vars);
        whatIf.ShouldSucceed();
        Assert.Empty(whatIf.Output);

        var noEngine = ps.Run("Build-AxlImage -Path $file -Tag reg.example/diamond:1 -BaseImage localhost/base:1 -DockerHost $nowhere", vars);
        var e = Assert.Single(noEngine.Errors);
        Assert.StartsWith("Axl.ImageEngineUnavailable", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, e.CategoryInfo.Category);
        Assert.Contains("no-engine.sock", e.Exception.Message);

        var badTag = ps.Run("Build-AxlImage -Path $file -Tag 'Not A Tag'", vars);
        Assert.StartsWith("Axl.ImageTagInvalid", Assert.Single(badTag.Errors).FullyQualifiedErrorId);

        var cli = CliTests.Axl("build-image", "-m", DiamondFile, "--tag", "reg.example/diamond:1", "--base-image", "localhost/base:1", "--docker-host", (string)vars["nowhere"]);
        Assert.Equal(1, cli.Exit);
        Assert.Contains("error Axl.ImageEngineUnavailable", cli.Err);
    }
}
