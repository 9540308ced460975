using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Axl.TestServices;
using Docker.DotNet;
using Docker.DotNet.Models;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// examples/external-repo end to end, as a team outside Axl would ship it (issue 18 point 5, M10 and M11): a workflow
/// with a Python helper (lib/features.py), data and a requirements.txt, in a folder of its own. Both code deliveries,
/// each step of the compiled Argo workflow run through the Docker API (Podman) in a container, outputs compared by
/// SHA-256 with `axl run local`:
/// - Artifact: the code is published to the S3 test server (s3rver) with Publish-AxlWorkflowCode and compiled with
///   -CodeArchive; the pods run a runner image made here (the python test base plus artifacts/cli at /opt/axl, no
///   workflow code) and get the archive as Argo's executor gives it: a container with the host's network downloads
///   the key the compiled YAML names from the endpoint it names, and the file is bound at /axl/code.tar.gz, where
///   `axl step --workflow-archive` checks its pinned hash and extracts it.
/// - Image: Build-AxlImage bakes the folder (requirements.txt installed with python3 -m venv and pip at build time,
///   offline: it pins nothing) on the same python base, pushes it to the local registry, and the pods run the
///   pushed image, pulled back by digest.
/// Not covered: a real Argo controller and executor (ArgoSimulator plays both), S3 credentials in the pods (the
/// download is anonymous: s3rver allows it), uv.
/// </summary>
[Collection("PowerShell")]
public sealed class ExternalRepoTests(PowerShellFixture ps, ContainerServices engine, S3rver s3) : IClassFixture<ContainerServices>, IClassFixture<S3rver>, IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private static string Root => Path.Combine(Repo.Examples, "external-repo");
    private static string WorkflowFile => Path.Combine(Root, "station-report.axl.ps1");
    private static string RunnerDir => Path.Combine(Repo.Root, "artifacts", "cli");
    private static readonly string[] Tasks = { "anomalies", "report", "stats", "wet-days" };

    private const string Credential = "$cred = [pscredential]::new($user, [System.Net.NetworkCredential]::new('', $secret).SecurePassword)\n";

    [ContainerFact]
    public void Artifact_delivery_runs_every_step_in_runner_containers_that_fetch_the_code_from_S3()
    {
        var runner = RunnerImage();
        var bucket = s3.NewBucket();
        var vars = new Dictionary<string, object>
        {
            ["root"] = Root, ["file"] = WorkflowFile, ["bucket"] = bucket, ["endpoint"] = s3.Endpoint, ["user"] = S3rver.AccessKey, ["secret"] = S3rver.SecretKey, ["runner"] = runner,
        };
        var compiled = ps.Run(Credential + """
            $code = Publish-AxlWorkflowCode $root -Bucket $bucket -Endpoint $endpoint -ForcePathStyle -Credential $cred
            $code
            Get-AxlWorkflow $file | ConvertTo-ArgoWorkflow -CodeArchive $code -Image $runner -AsYaml
            """, vars);
        compiled.ShouldSucceed();
        Assert.Equal(2, compiled.Output.Count);
        dynamic code = compiled.Output[0];
        string key = code.Key, sha = code.Sha256;
        var yaml = (string)compiled.Output[1].BaseObject;
        Assert.Contains(key, yaml);
        Assert.NotNull(s3.Get(bucket, key));

        var local = LocalRun(Array.Empty<string>());
        var logs = new Dictionary<string, string>();
        var fetched = new List<string>();
        var results = ArgoSimulator.Run(yaml, new Dictionary<string, string>(), Root, Path.Combine(_dir.Path, "pods"),
            call =>
            {
                Assert.Equal(runner, call.Image);
                Assert.Contains("/axl/code.tar.gz", call.Command);
                var (exit, output) = engine.RunContainer(call.Image, call.Command, call.Env, call.Binds);
                logs[call.Task] = output;
                return (exit, output);
            },
            artifact =>
            {
                Assert.Equal("code", artifact.Name);
                Assert.Equal("/axl/code.tar.gz", artifact.Path);
                Assert.Equal(bucket, artifact.S3["bucket"]);
                Assert.Equal(key, artifact.S3["key"]);
                Assert.Equal(new Uri(s3.Endpoint).Authority, artifact.S3["endpoint"]);
                FetchInContainer(artifact);
                fetched.Add(artifact.Task);
            });

        Assert.Equal(Tasks, fetched.Order(StringComparer.Ordinal));
        Assert.Equal(Tasks, logs.Keys.Order(StringComparer.Ordinal));
        foreach (var (task, log) in logs)
            Assert.True(log.Contains($"code archive /axl/code.tar.gz ({sha},", StringComparison.Ordinal) && log.Contains("extracted to /axl/workdir", StringComparison.Ordinal),
                $"task {task} did not extract the published archive in its container:\n{log}");
        AssertSameOutputs(local, results);
    }

    [ContainerFact]
    public void The_baked_image_runs_every_step_in_containers_with_the_local_outputs()
    {
        var repository = "axl-test/station-report-" + Guid.NewGuid().ToString("N")[..8];
        var tag = $"{engine.Registry}/{repository}:1";
        var vars = new Dictionary<string, object> { ["file"] = WorkflowFile, ["tag"] = tag, ["base"] = engine.PythonBaseImage(), ["runner"] = RunnerDir, ["dockerHost"] = engine.DockerHost, ["root"] = Root };
        var built = ps.Run("Get-AxlWorkflow $file | Build-AxlImage -Tag $tag -BaseImage $base -RunnerPath $runner -Push -DockerHost $dockerHost -Verbose", vars);
        built.ShouldSucceed();
        var image = Assert.Single(built.Output);
        var reference = (string)image.Properties["Reference"].Value;
        Assert.Equal(engine.RegistryDigest(repository, "1"), (string)image.Properties["Digest"].Value);
        var labels = (IReadOnlyDictionary<string, string>)image.Properties["Labels"].Value;
        Assert.Equal("station-report", labels["io.axl.workflow.name"]);
        Assert.Equal("requirements", labels["io.axl.dependencies"]); // requirements.txt beside the workflow: pip ran at build time
        Assert.Contains(built.Verbose, v => v.Contains("pip install", StringComparison.Ordinal));
        // The image holds the code that artifact delivery would publish: the same archive hash.
        var archive = ps.Run(Credential + "(Publish-AxlWorkflowCode $root -Bucket $bucket -Endpoint $endpoint -ForcePathStyle -Credential $cred).Sha256",
            new Dictionary<string, object> { ["root"] = Root, ["bucket"] = s3.NewBucket(), ["endpoint"] = s3.Endpoint, ["user"] = S3rver.AccessKey, ["secret"] = S3rver.SecretKey });
        archive.ShouldSucceed();
        Assert.Equal(labels["io.axl.code.sha256"], (string)Assert.Single(archive.Output).BaseObject);

        vars["img"] = image;
        var compiled = ps.Run("Get-AxlWorkflow $file | ConvertTo-ArgoWorkflow -Image $img -AsYaml", vars);
        compiled.ShouldSucceed();
        var yaml = (string)compiled.Output[0].BaseObject;
        Assert.DoesNotContain("--workflow-archive", yaml);

        // As a node would: the image comes from the registry by digest.
        engine.Client.Images.DeleteImageAsync(tag, new ImageDeleteParameters { Force = true }).GetAwaiter().GetResult();
        var pullErrors = new List<string>();
        engine.Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = reference }, null,
            new SyncProgress(m => { if ((m.Error?.Message ?? m.ErrorMessage) is { Length: > 0 } e) pullErrors.Add(e); })).GetAwaiter().GetResult();
        Assert.True(pullErrors.Count == 0, "pulling " + reference + ": " + string.Join("; ", pullErrors));

        var local = LocalRun(new[] { "--param", "Threshold=2" });
        var ran = new List<string>();
        var results = ArgoSimulator.Run(yaml, new Dictionary<string, string> { ["Threshold"] = "2" }, Root, Path.Combine(_dir.Path, "pods"), call =>
        {
            Assert.Equal(reference, call.Image);
            ran.Add(call.Task);
            return engine.RunContainer(call.Image, call.Command, call.Env, call.Binds);
        });
        Assert.Equal(Tasks, ran.Order(StringComparer.Ordinal));
        AssertSameOutputs(local, results);
    }

    /// <summary>The steps' output SHA-256 of `axl run local` on the example, by step name.</summary>
    private Dictionary<string, string> LocalRun(string[] parameters)
    {
        var local = CliTests.Axl(new[] { "run", "local", WorkflowFile, "--run-root", Path.Combine(_dir.Path, "local"), "--run-id", "local", "--json", "--quiet" }.Concat(parameters).ToArray());
        Assert.True(local.Exit == 0, local.Err);
        using var run = JsonDocument.Parse(local.Out);
        return run.RootElement.GetProperty("steps").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("output").GetProperty("sha256").GetString()!);
    }

    private static void AssertSameOutputs(Dictionary<string, string> local, Dictionary<string, ArgoSimulator.TaskResult> results)
    {
        Assert.Equal(local.Keys.Order(StringComparer.Ordinal), results.Values.Select(r => r.Step).Order(StringComparer.Ordinal));
        foreach (var r in results.Values)
        {
            Assert.Equal("Succeeded", r.Phase);
            using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(r.OutputDirectory!, "output.meta.json")));
            Assert.True(local[r.Step] == meta.RootElement.GetProperty("sha256").GetString(),
                $"step '{r.Step}': the output in the container differs from the local one:\n{File.ReadAllText(Path.Combine(r.OutputDirectory!, meta.RootElement.GetProperty("file").GetString()!))}");
        }
    }

    /// <summary>What Argo's executor does for an s3 input artifact: download the object the YAML names, here in a container of the pod's image with the host's network (python3's urllib; anonymous, which s3rver allows).</summary>
    private void FetchInContainer(ArgoSimulator.RepositoryArtifact artifact)
    {
        const string Download = """
            import sys, urllib.request
            endpoint, bucket, key, insecure, out = sys.argv[1:6]
            url = ("http" if insecure == "true" else "https") + "://" + endpoint + "/" + bucket + "/" + key
            with urllib.request.urlopen(url, timeout=60) as r, open(out, "wb") as f:
                f.write(r.read())
            """;
        var staging = Path.GetDirectoryName(artifact.LocalFile)!;
        var command = new[] { "python3", "-c", Download, (string)artifact.S3["endpoint"]!, (string)artifact.S3["bucket"]!, (string)artifact.S3["key"]!,
            artifact.S3.TryGetValue("insecure", out var insecure) ? insecure?.ToString()?.ToLowerInvariant() ?? "false" : "false", "/argo/staging/" + Path.GetFileName(artifact.LocalFile) };
        var (exit, output) = engine.RunContainer(artifact.Image, command, new Dictionary<string, string>(), new[] { staging + ":/argo/staging" }, hostNetwork: true);
        Assert.True(exit == 0, $"fetching {artifact.Name} for task {artifact.Task} in a container exited {exit}:\n{output}");
    }

    /// <summary>
    /// The runner image of artifact delivery, made here as runner/Dockerfile lays it out (that one needs images from
    /// mcr.microsoft.com): the python test base, this build's axl at /opt/axl first on PATH, an empty /axl/workdir.
    /// No workflow code: the pods get it from the archive. Its tag names the content.
    /// </summary>
    private string RunnerImage()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(RunnerDir, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(RunnerDir, f).Replace('\\', '/');
            if (relative.StartsWith("runtimes/", StringComparison.Ordinal) && !relative.Split('/')[1].StartsWith("linux", StringComparison.Ordinal) && relative.Split('/')[1] != "unix") continue;
            files["opt/axl/" + relative] = f;
        }
        var dockerfile = $"FROM {engine.PythonBaseImage()}\nCOPY opt/ /opt/\nWORKDIR /axl/workdir\nENV PATH=/opt/axl:/usr/local/bin:/usr/bin:/bin\n";
        var time = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var dirs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var n in files.Keys)
            for (var d = Path.GetDirectoryName(n)?.Replace('\\', '/'); !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d)?.Replace('\\', '/')) dirs.Add(d);
        using var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Gnu, leaveOpen: true))
        {
            w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "Dockerfile") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(dockerfile)), ModificationTime = time, Mode = (UnixFileMode)0b110_100_100 });
            foreach (var d in dirs) w.WriteEntry(new GnuTarEntry(TarEntryType.Directory, d + "/") { ModificationTime = time, Mode = (UnixFileMode)0b111_101_101 });
            foreach (var (name, source) in files)
            {
                using var data = File.OpenRead(source);
                var executable = (File.GetUnixFileMode(source) & UnixFileMode.UserExecute) != 0;
                w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, name) { DataStream = data, ModificationTime = time, Mode = (UnixFileMode)(executable ? 0b111_101_101 : 0b110_100_100) });
            }
        }
        var tar = ms.ToArray();
        var tag = "localhost/axl-test-runner-python:" + Convert.ToHexString(SHA256.HashData(tar)).ToLowerInvariant()[..12];
        try
        {
            engine.Client.Images.InspectImageAsync(tag).GetAwaiter().GetResult();
            return tag;
        }
        catch (DockerImageNotFoundException) { }
        var errors = new List<string>();
        using var stream = new MemoryStream(tar);
        engine.Client.Images.BuildImageFromDockerfileAsync(new ImageBuildParameters { Tags = new List<string> { tag }, Dockerfile = "Dockerfile" }, stream, null, null,
            new SyncProgress(m => { if ((m.Error?.Message ?? m.ErrorMessage) is { Length: > 0 } e) errors.Add(e); })).GetAwaiter().GetResult();
        Assert.True(errors.Count == 0, $"building the runner image {tag} failed: " + string.Join("\n", errors));
        return tag;
    }

    private sealed class SyncProgress(Action<JSONMessage> report) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => report(value);
    }
}
