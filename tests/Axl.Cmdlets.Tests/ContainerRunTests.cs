using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using Axl.TestServices;
using Docker.DotNet.Models;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Invoke-AxlLocalRun -Container and axl run local --in-containers against a real engine (Podman's Docker API service,
/// started by the ContainerServices fixture as for ImageCmdletTests). The image is built here with Build-AxlImage on the
/// locally made base (scratch + this machine's .NET runtime, no shell, no pwsh) with -RunnerPath artifacts/cli.
/// What this proves: each step ran in its own container of that image (the engine's events for the containers labelled
/// with the run's id, one per step), and the outputs have the same SHA-256 as an
/// in-process run; a step that throws in its container fails with the container's exit code and log tail, and the run
/// resumes (the succeeded step reused); no engine, and an image that cannot be had, are clear errors before any step.
/// </summary>
[Collection("PowerShell")]
public sealed class ContainerRunTests(PowerShellFixture ps, ContainerServices engine) : IClassFixture<ContainerServices>, IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private static string DiamondFile => Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");
    private static string Runner => Path.Combine(Repo.Root, "artifacts", "cli");

    private string BuildImage(string file, string name)
    {
        var tag = $"localhost/axl-test/{name}:{Guid.NewGuid().ToString("N")[..8]}";
        var built = ps.Run("Get-AxlWorkflow $file | Build-AxlImage -Tag $tag -BaseImage $base -RunnerPath $runner -DockerHost $dockerHost",
            new Dictionary<string, object> { ["file"] = file, ["tag"] = tag, ["base"] = engine.BaseImage(), ["runner"] = Runner, ["dockerHost"] = engine.DockerHost });
        built.ShouldSucceed();
        return tag;
    }

    private static Dictionary<string, string?> StepHashes(string runJson)
    {
        using var run = JsonDocument.Parse(runJson);
        return run.RootElement.GetProperty("steps").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("output").GetProperty("sha256").GetString());
    }

    /// <summary>The containers the engine started for a run (label io.axl.run-id) since <paramref name="since"/>: their names and steps (label io.axl.step), from its events.</summary>
    private List<(string Id, string Step)> Started(string runId, DateTime since)
    {
        var started = new List<(string, string)>();
        var parameters = new ContainerEventsParameters
        {
            Since = ((DateTimeOffset)since.AddSeconds(-2)).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            Until = DateTimeOffset.UtcNow.AddSeconds(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["type"] = new Dictionary<string, bool> { ["container"] = true },
                ["event"] = new Dictionary<string, bool> { ["start"] = true },
            },
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        engine.Client.System.MonitorEventsAsync(parameters, new SyncProgress<Message>(m =>
        {
            if (m.Actor?.Attributes is { } a && a.TryGetValue("io.axl.step", out var step) && a.TryGetValue("io.axl.run-id", out var id) && id == runId)
                lock (started) started.Add((a.TryGetValue("name", out var name) ? name : m.Actor.ID ?? m.ID, step)); // the name: Podman's events carry another ID
        }), timeout.Token).GetAwaiter().GetResult();
        return started;
    }

    /// <summary>The steps of the containers started for the run, once the engine reports <paramref name="expected"/> of them (its event log can lag a moment behind), or what it reports after 20 s.</summary>
    private List<string> StartedSteps(string runId, DateTime since, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var steps = Started(runId, since).Select(s => s.Step).ToList();
            if (steps.Count >= expected || DateTime.UtcNow > deadline) return steps;
            Thread.Sleep(500);
        }
    }

    [ContainerFact]
    public void Every_step_runs_in_a_container_of_the_image_with_the_outputs_of_an_in_process_run()
    {
        var image = BuildImage(DiamondFile, "diamond-run");
        var root = Path.Combine(_dir.Path, "runs");
        var local = CliTests.Axl("run", "local", DiamondFile, "--run-root", root, "--run-id", "local", "--json", "--quiet", "--param", "Base=7");
        Assert.True(local.Exit == 0, local.Err);
        var localSha = StepHashes(local.Out);
        Assert.Equal(4, localSha.Count);

        // The cmdlet: the image given as what Build-AxlImage output would be (a tag here), the engine by -DockerHost.
        var cmdletId = "cmdlet-" + Guid.NewGuid().ToString("N")[..8];
        var since = DateTime.UtcNow;
        var vars = new Dictionary<string, object> { ["file"] = DiamondFile, ["image"] = image, ["dockerHost"] = engine.DockerHost, ["root"] = root, ["id"] = cmdletId };
        var r = ps.Run("Invoke-AxlLocalRun -Path $file -Container -Image $image -DockerHost $dockerHost -RunRoot $root -RunId $id -Parameters @{ Base = 7 } -Verbose", vars);
        r.ShouldSucceed();
        var run = Assert.Single(r.Output);
        Assert.Equal("Succeeded", run.Properties["Status"].Value.ToString());
        var runDir = (string)run.Properties["Directory"].Value;
        var cmdletSha = StepHashes(File.ReadAllText(Path.Combine(runDir, "run.json")));
        Assert.Equal(localSha, cmdletSha);
        Assert.Equal(new[] { "join", "left", "right", "start" }, StartedSteps(cmdletId, since, 4).OrderBy(s => s));
        // The step log says where it ran; the step folders hold nothing of the containers' staging.
        var log = File.ReadAllText(Path.Combine(runDir, "log.jsonl"));
        Assert.Contains($"runs in a container of {image}", log);
        foreach (var step in localSha.Keys)
        {
            Assert.Empty(Directory.EnumerateDirectories(Path.Combine(runDir, step)));
            Assert.True(File.Exists(Path.Combine(runDir, step, "output.meta.json")), step);
            Assert.Contains(step, File.ReadAllText(Path.Combine(runDir, step, "step.json")));
        }
        vars["run"] = run;
        Assert.Equal(22L, Convert.ToInt64(ps.Run("Get-AxlArtifact $run join", vars).Output.Single().BaseObject)); // (7 + 1) + (7 * 2)

        // The command, the same way.
        var cliId = "cli-" + Guid.NewGuid().ToString("N")[..8];
        since = DateTime.UtcNow;
        var cli = CliTests.Axl("run", "local", DiamondFile, "--in-containers", "--image", image, "--docker-host", engine.DockerHost, "--run-root", root, "--run-id", cliId, "--json", "--quiet", "--param", "Base=7");
        Assert.True(cli.Exit == 0, cli.Err);
        Assert.Equal(localSha, StepHashes(cli.Out));
        Assert.Equal(new[] { "join", "left", "right", "start" }, StartedSteps(cliId, since, 4).OrderBy(s => s));
    }

    [ContainerFact]
    public void A_step_that_fails_in_its_container_reports_its_log_and_the_run_resumes()
    {
        // Code delivery Artifact: the workflow's folder is bound at /axl/workdir, so the image only needs the runner.
        var file = _dir.Write("flow/failing.axl.ps1", """
            AxlWorkflow failing -CodeDelivery Artifact {
                Parameter Fixed -Default 'no'
                Step first { 'one' }
                Step boom {
                    param($first, $Fixed)
                    Write-Warning "boom sees $first"
                    if ($Fixed -ne 'yes') { throw "boom: not fixed yet ($first)" }
                    "$first fixed"
                }
            }
            """);
        var image = BuildImage(file, "failing");
        var root = Path.Combine(_dir.Path, "runs");
        var vars = new Dictionary<string, object> { ["file"] = file, ["image"] = image, ["dockerHost"] = engine.DockerHost, ["root"] = root };
        var since = DateTime.UtcNow;
        var r = ps.Run("Invoke-AxlLocalRun -Path $file -Container -Image $image -DockerHost $dockerHost -RunRoot $root -RunId one", vars);
        var error = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.StepFailed", error.FullyQualifiedErrorId);
        var message = error.Exception.Message;
        Assert.Contains("boom: not fixed yet (one)", message);
        Assert.Contains("exit code 1", message);
        Assert.Contains("Last lines of the container's log", message);
        Assert.Contains("boom sees one", message); // the warning the step wrote, in the tail
        Assert.Contains(r.Warnings, w => w.Contains("boom sees one", StringComparison.Ordinal)); // and as it was written
        Assert.Equal("Failed", Assert.Single(r.Output).Properties["Status"].Value.ToString());

        var resumed = ps.Run("Invoke-AxlLocalRun -Path $file -Container -Image $image -DockerHost $dockerHost -RunRoot $root -Resume one -Parameters @{ Fixed = 'yes' }", vars);
        resumed.ShouldSucceed();
        var run = Assert.Single(resumed.Output);
        Assert.Equal("Succeeded", run.Properties["Status"].Value.ToString());
        var steps = ((System.Collections.IEnumerable)run.Properties["Steps"].Value).Cast<object>().Select(PSObject.AsPSObject).ToDictionary(s => (string)s.Properties["Name"].Value);
        Assert.Equal("resume", steps["first"].Properties["ReusedFrom"].Value);
        Assert.Null(steps["boom"].Properties["ReusedFrom"].Value);
        vars["run"] = run;
        Assert.Equal("one fixed", ps.Run("Get-AxlArtifact $run boom", vars).Output.Single().BaseObject);

        // The command exits 1 with the container's exit code and log in its error.
        var cli = CliTests.Axl("run", "local", file, "--in-containers", "--image", image, "--docker-host", engine.DockerHost, "--run-root", root, "--run-id", "two", "--quiet");
        Assert.Equal(1, cli.Exit);
        Assert.Contains("error Axl.StepFailed: step 'boom'", cli.Err);
        Assert.Contains("exit code 1", cli.Err);
    }

    [ContainerFact]
    public void Timeouts_and_retries_are_the_steps_and_every_attempt_is_a_container_of_its_own()
    {
        var file = _dir.Write("slow/slow.axl.ps1", """
            AxlWorkflow slow -CodeDelivery Artifact {
                Parameter Sleep -Default 60
                Step nap -Timeout 2 -Retries 1 { param($Sleep) Start-Sleep -Seconds $Sleep; 'woke' }
            }
            """);
        var image = BuildImage(file, "slow");
        var root = Path.Combine(_dir.Path, "runs");
        var vars = new Dictionary<string, object> { ["file"] = file, ["image"] = image, ["dockerHost"] = engine.DockerHost, ["root"] = root };

        // The timeout: each attempt is stopped, retried once, and the step fails as timed out after 2 attempts.
        var since = DateTime.UtcNow;
        var r = ps.Run("Invoke-AxlLocalRun -Path $file -Container -Image $image -DockerHost $dockerHost -RunRoot $root -RunId timeout -RetryBackoff '00:00:00.1'", vars);
        var error = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.StepFailed", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.OperationTimeout, error.CategoryInfo.Category);
        Assert.Contains("timed out", error.Exception.Message);
        var run = Assert.Single(r.Output);
        var nap = ((System.Collections.IEnumerable)run.Properties["Steps"].Value).Cast<object>().Select(PSObject.AsPSObject).Single();
        Assert.Equal(2, Convert.ToInt32(nap.Properties["Attempts"].Value));
        Assert.Equal(new[] { "nap", "nap" }, StartedSteps("timeout", since, 2));

        // A run with a short sleep succeeds: the parameter reached the container.
        var quick = CliTests.Axl("run", "local", file, "--in-containers", "--image", image, "--docker-host", engine.DockerHost, "--run-root", root, "--run-id", "quick", "--param", "Sleep=0", "--json", "--quiet");
        Assert.True(quick.Exit == 0, quick.Err);
    }

    [ContainerFact]
    public void An_image_that_cannot_be_had_is_an_error_before_any_step()
    {
        var root = Path.Combine(_dir.Path, "runs");
        var missing = "localhost:1/axl-test/not-built:" + Guid.NewGuid().ToString("N")[..8];
        var r = ps.Run("Invoke-AxlLocalRun -Path $file -Container -Image $image -DockerHost $dockerHost -RunRoot $root",
            new Dictionary<string, object> { ["file"] = DiamondFile, ["image"] = missing, ["dockerHost"] = engine.DockerHost, ["root"] = root });
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.ImageNotFound", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        Assert.Contains(missing, e.Exception.Message);
        Assert.Contains("Build-AxlImage", e.Exception.Message);
        Assert.Empty(r.Output);
        Assert.False(Directory.Exists(Path.Combine(root, "diamond")), "no run was started");
    }

    [Fact]
    public void No_engine_is_one_clear_error_before_any_step()
    {
        var root = Path.Combine(_dir.Path, "runs");
        var nowhere = "unix://" + Path.Combine(_dir.Path, "no-engine.sock");
        // DOCKER_HOST is what the command reads when --docker-host is not given.
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        foreach (var a in new[] { Path.Combine(Runner, "axl.dll"), "run", "local", DiamondFile, "--in-containers", "--run-root", root }) psi.ArgumentList.Add(a);
        psi.Environment["DOCKER_HOST"] = nowhere;
        using (var p = Process.Start(psi)!)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(120_000));
            Assert.Equal(1, p.ExitCode);
            Assert.Contains("error Axl.ImageEngineUnavailable", stderr);
            Assert.Contains("no-engine.sock", stderr);
            Assert.Contains("DOCKER_HOST", stderr);
            Assert.Contains("podman system service", stderr);
            Assert.Equal("", stdout.Result);
        }
        Assert.False(Directory.Exists(Path.Combine(root, "diamond")), "no run was started");

        var vars = new Dictionary<string, object> { ["file"] = DiamondFile, ["nowhere"] = nowhere, ["root"] = root };
        var r = ps.Run("Invoke-AxlLocalRun -Path $file -Container -DockerHost $nowhere -RunRoot $root", vars);
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.ImageEngineUnavailable", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, e.CategoryInfo.Category);
        Assert.Contains("no-engine.sock", e.Exception.Message);
        Assert.False(Directory.Exists(Path.Combine(root, "diamond")), "no run was started");

        // -Image and -DockerHost without -Container, and their options without --in-containers, are refused.
        var bad = ps.Run("Invoke-AxlLocalRun -Path $file -DockerHost $nowhere -RunRoot $root", vars);
        Assert.StartsWith("Axl.InvalidParameter", Assert.Single(bad.Errors).FullyQualifiedErrorId);
        var badCli = CliTests.Axl("run", "local", DiamondFile, "--image", "localhost/x:1", "--run-root", root);
        Assert.NotEqual(0, badCli.Exit);
        Assert.Contains("--in-containers", badCli.Err);
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
