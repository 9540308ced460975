using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Axl.TestServices;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Code delivery Artifact end to end against a real S3 API (s3rver, see tests/services/S3rver.cs):
/// Publish-AxlWorkflowCode uploads the code of examples/diamond, the archive is downloaded as a pod would get it,
/// and `axl step --workflow-archive` (the built artifacts/cli/axl.dll, as a process) extracts it and runs steps.
/// </summary>
[Collection("PowerShell")]
public sealed class CodeDeliveryTests(PowerShellFixture ps, S3rver s3) : IClassFixture<S3rver>, IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Diamond => Path.Combine(Repo.Examples, "diamond");

    private Dictionary<string, object> Vars(string bucket, params (string, object)[] more)
    {
        var v = new Dictionary<string, object> { ["endpoint"] = s3.Endpoint, ["bucket"] = bucket, ["code"] = Diamond, ["user"] = S3rver.AccessKey, ["secret"] = S3rver.SecretKey };
        foreach (var (k, val) in more) v[k] = val;
        return v;
    }

    private const string Credential = "$cred = [pscredential]::new($user, [System.Net.NetworkCredential]::new('', $secret).SecurePassword)\n";

    private static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    [S3Fact]
    public void Publish_uploads_once_and_outputs_the_location()
    {
        var bucket = s3.NewBucket();
        var script = Credential + "Publish-AxlWorkflowCode $code -Bucket $bucket -Endpoint $endpoint -ForcePathStyle -Credential $cred -CredentialsSecret minio-creds -OutFile $out -Verbose";
        var outFile = Path.Combine(_dir.Path, "keep", "code.tar.gz");
        var r = ps.Run(script, Vars(bucket, ("out", outFile)));
        r.ShouldSucceed();
        dynamic loc = Assert.Single(r.Output);
        Assert.Equal("Axl.Delivery.CodeArchiveLocation", r.Output[0].BaseObject.GetType().FullName);
        Assert.Equal(bucket, (string)loc.Bucket);
        string key = loc.Key, sha = loc.Sha256;
        Assert.Matches("^axl/code/[0-9a-f]{64}\\.tar\\.gz$", key);
        Assert.Equal($"axl/code/{sha[7..]}.tar.gz", key);
        Assert.Equal(new Uri(s3.Endpoint).Authority, (string)loc.Endpoint);
        Assert.True((bool)loc.Insecure);
        Assert.Equal("minio-creds", (string)loc.CredentialsSecret);
        Assert.Equal("accessKey", (string)loc.AccessKeyKey);
        Assert.Equal(Diamond, (string)loc.CodeRoot);

        var stored = s3.Get(bucket, key)!;
        Assert.Equal(sha, Sha256(stored));
        Assert.Equal(stored, File.ReadAllBytes(outFile));
        Assert.Equal(sha, s3.Head(bucket, key)!["x-amz-meta-axl-sha256"]);
        Assert.Contains(r.Verbose, v => v.StartsWith("Archive of ") && v.Contains(sha));
        Assert.Contains(r.Verbose, v => v.StartsWith("Uploaded s3://"));
        Assert.Contains(r.Progress, p => p.StatusDescription.StartsWith("Uploading to s3://" + bucket));
        Assert.Contains(r.Progress, p => p.RecordType == System.Management.Automation.ProgressRecordType.Completed);

        var lastModified = s3.Head(bucket, key)!["Last-Modified"];
        Thread.Sleep(1100); // Last-Modified has a resolution of one second
        var again = ps.Run(script, Vars(bucket, ("out", outFile)));
        again.ShouldSucceed();
        Assert.Equal(key, (string)((dynamic)again.Output[0]).Key);
        Assert.Contains(again.Verbose, v => v.Contains("already holds this archive") && v.Contains("not uploaded again"));
        Assert.Equal(lastModified, s3.Head(bucket, key)!["Last-Modified"]);
    }

    [S3Fact]
    public void WhatIf_builds_the_archive_and_says_where_it_would_go_without_uploading()
    {
        var bucket = s3.NewBucket();
        var outFile = Path.Combine(_dir.Path, "whatif.tar.gz");
        var r = ps.Run(Credential + "Publish-AxlWorkflowCode -Path $code -Bucket $bucket -Endpoint $endpoint -ForcePathStyle -Credential $cred -OutFile $out -WhatIf", Vars(bucket, ("out", outFile)));
        r.ShouldSucceed();
        Assert.Empty(r.Output);
        var m = System.Text.RegularExpressions.Regex.Match(r.HostText, $@"What if: Performing the operation ""Upload the code archive of .*diamond \(1 file, \d+ bytes, (sha256:[0-9a-f]{{64}})\)"" on target ""s3://{bucket}/(axl/code/[0-9a-f]{{64}}\.tar\.gz) at {s3.Endpoint}""");
        Assert.True(m.Success, r.HostText);
        Assert.Equal($"axl/code/{m.Groups[1].Value[7..]}.tar.gz", m.Groups[2].Value);
        Assert.Contains("What if: Performing the operation \"Save the code archive", r.HostText);
        Assert.Null(s3.Head(bucket, m.Groups[2].Value));
        Assert.False(File.Exists(outFile));
    }

    [S3Fact]
    public void Publish_errors_are_terminating_with_ids()
    {
        // try/catch only sees terminating errors (a non-terminating one would let 'after' through).
        string Caught(string command)
        {
            var r = ps.Run(Credential + "try { " + command + "; 'after' } catch { $_.FullyQualifiedErrorId; $_.Exception.Message }", Vars("unused"));
            Assert.Equal(2, r.Output.Count);
            return r.Objects.First() + " | " + r.Objects.Last();
        }
        var missing = Caught("Publish-AxlWorkflowCode $code -Bucket no-such-bucket-x1 -Endpoint $endpoint -ForcePathStyle -Credential $cred");
        Assert.StartsWith("Axl.CodeUploadFailed,Axl.Cmdlets.Delivery.PublishAxlWorkflowCodeCommand | Cannot upload s3://no-such-bucket-x1/axl/code/", missing);
        Assert.Contains("404 NoSuchBucket", missing);

        Assert.StartsWith("Axl.PathNotFound,", Caught("Publish-AxlWorkflowCode ./no/such/dir -Bucket b"));
        Assert.StartsWith("Axl.InvalidEndpoint,", Caught("Publish-AxlWorkflowCode $code -Bucket b -Endpoint ftp://x"));
    }

    /// <summary>A tar.gz of the given files (path, content), written entry by entry with the framework's TarWriter.</summary>
    private string Archive(string name, params (string Path, string Content)[] files)
    {
        var file = Path.Combine(_dir.Path, name);
        using (var fs = File.Create(file))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
        using (var w = new TarWriter(gz, TarEntryFormat.Gnu))
            foreach (var (p, c) in files)
                w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, p) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(c)) });
        return file;
    }

    private const string Flow = "AxlWorkflow diamond {\n    Parameter Base -Default 10\n    Step start { param($Base) $Base }\n}\n";
    private const string CountWords = "import sys\nprint(len(sys.stdin.read().split()))\n";

    [Fact]
    public void A_tampered_archive_is_refused_with_both_hashes_before_anything_is_extracted()
    {
        var good = Archive("good.tar.gz", ("diamond.axl.ps1", Flow), ("count_words.py", CountWords));
        var pinned = Sha256(File.ReadAllBytes(good));
        var tamperedPy = Archive("tampered-py.tar.gz", ("diamond.axl.ps1", Flow), ("count_words.py", CountWords + "import os; os.system('curl evil')\n"));
        var tamperedPs1 = Archive("tampered-ps1.tar.gz", ("diamond.axl.ps1", Flow + "Write-Host 'one more line'\n"), ("count_words.py", CountWords));
        var workDir = Path.Combine(_dir.Path, "w", "workdir");
        var input = new { name = "Base", source = "parameter", from = "Base", mode = "object", value = "10" };
        string Pinned(string outName) => PinnedManifest(pinned, "", "start", Path.Combine(_dir.Path, "out", outName), null, workDir, input);

        foreach (var tampered in new[] { tamperedPy, tamperedPs1 })
        {
            var actual = Sha256(File.ReadAllBytes(tampered));
            Assert.NotEqual(pinned, actual);
            var refused = CliTests.Axl("step", "--workflow-archive", tampered, "--manifest-json", Pinned("x"));
            Assert.True(refused.Exit == 3, refused.Out + refused.Err);
            var line = Lines(refused.Out).Single();
            Assert.Equal("infrastructure", line.GetProperty("error_kind").GetString());
            var message = line.GetProperty("message").GetString()!;
            Assert.Contains($"the code archive {tampered} is not the one pinned for this workflow: its bytes hash to {actual}, but {pinned} was pinned", message);
            Assert.Contains("Nothing was extracted", message);
            Assert.False(Directory.Exists(workDir), "the tampered archive was extracted");
            Assert.False(Directory.Exists(Path.Combine(_dir.Path, "w")), "the work dir's parent was created");
            Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out", "x")), "the step ran");
        }

        // The pin given by hand must agree with the manifest's.
        var disagree = CliTests.Axl("step", "--workflow-archive", good, "--workflow-archive-sha256", Sha256(File.ReadAllBytes(tamperedPy)), "--manifest-json", Pinned("x"));
        Assert.Equal(3, disagree.Exit);
        Assert.Contains("has two different pinned hashes", Lines(disagree.Out).Single().GetProperty("message").GetString());
        Assert.False(Directory.Exists(workDir));

        // The archive that was pinned runs.
        var ok = CliTests.Axl("step", "--workflow-archive", good, "--manifest-json", Pinned("ok"));
        Assert.True(ok.Exit == 0, ok.Out + ok.Err);
        Assert.Equal(CountWords, File.ReadAllText(Path.Combine(workDir, "count_words.py")));
    }

    [Fact]
    public void An_archive_without_a_pinned_hash_is_refused_unless_pinned_by_hand()
    {
        var archive = Archive("code.tar.gz", ("diamond.axl.ps1", Flow));
        var workDir = Path.Combine(_dir.Path, "w", "workdir");
        var manifest = Manifest("", "start", Path.Combine(_dir.Path, "out", "start"), null, workDir, new { name = "Base", source = "parameter", from = "Base", mode = "object", value = "10" });

        var refused = CliTests.Axl("step", "--workflow-archive", archive, "--manifest-json", manifest);
        Assert.Equal(3, refused.Exit);
        var message = Lines(refused.Out).Single().GetProperty("message").GetString()!;
        Assert.Contains($"the code archive {archive} has no pinned SHA-256", message);
        Assert.Contains("--workflow-archive-sha256", message);
        Assert.Contains("--code-archive", message);
        Assert.False(Directory.Exists(workDir));

        var bad = CliTests.Axl("step", "--workflow-archive", archive, "--workflow-archive-sha256", "sha256:abc", "--manifest-json", manifest);
        Assert.Equal(3, bad.Exit);
        Assert.Contains("not sha256:<64 hex digits>", Lines(bad.Out).Single().GetProperty("message").GetString());

        var byHand = CliTests.Axl("step", "--workflow-archive", archive, "--workflow-archive-sha256", Sha256(File.ReadAllBytes(archive)), "--manifest-json", manifest);
        Assert.True(byHand.Exit == 0, byHand.Out + byHand.Err);
    }

    [Fact]
    public void A_gzip_bomb_is_refused_under_the_extraction_caps_and_leaves_nothing_behind()
    {
        var bomb = Path.Combine(_dir.Path, "bomb.tar.gz");
        using (var fs = File.Create(bomb))
        using (var gz = new GZipStream(fs, CompressionLevel.SmallestSize))
        using (var w = new TarWriter(gz, TarEntryFormat.Gnu))
        {
            w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "diamond.axl.ps1") { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Flow)) });
            w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "data.bin") { DataStream = new MemoryStream(new byte[32 << 20]) }); // 32 MiB of zeros
        }
        Assert.True(new FileInfo(bomb).Length < 256 << 10, $"the bomb is {new FileInfo(bomb).Length} bytes");
        var sha = Sha256(File.ReadAllBytes(bomb));
        var workDir = Path.Combine(_dir.Path, "w", "workdir");
        var manifest = PinnedManifest(sha, "", "start", Path.Combine(_dir.Path, "out", "start"), null, workDir, new { name = "Base", source = "parameter", from = "Base", mode = "object", value = "10" });
        void NothingLeft()
        {
            Assert.False(Directory.Exists(workDir), "something was extracted");
            Assert.False(Directory.Exists(Path.Combine(_dir.Path, "w")) && Directory.GetFileSystemEntries(Path.Combine(_dir.Path, "w")).Length > 0, "a partial extraction was left");
        }

        var bytes = CliTests.Axl("step", "--workflow-archive", bomb, "--max-extract-bytes", "1048576", "--manifest-json", manifest);
        Assert.True(bytes.Exit == 3, bytes.Out + bytes.Err);
        var message = Lines(bytes.Out).Single().GetProperty("message").GetString()!;
        Assert.Contains($"the code archive {bomb} would extract to more than 1048576 bytes", message);
        Assert.Contains("--max-extract-bytes", message);
        NothingLeft();

        var fromEnv = Run(new() { ["AXL_MAX_EXTRACT_BYTES"] = "2097152" }, "step", "--workflow-archive", bomb, "--manifest-json", manifest);
        Assert.True(fromEnv.Exit == 3, fromEnv.Out + fromEnv.Err);
        Assert.Contains("would extract to more than 2097152 bytes", fromEnv.Out);
        NothingLeft();

        var entries = Run(new() { ["AXL_MAX_EXTRACT_ENTRIES"] = "1" }, "step", "--workflow-archive", bomb, "--manifest-json", manifest);
        Assert.Equal(3, entries.Exit);
        Assert.Contains("has more than 1 entries", entries.Out);
        NothingLeft();

        var badEnv = Run(new() { ["AXL_MAX_EXTRACT_BYTES"] = "lots" }, "step", "--workflow-archive", bomb, "--manifest-json", manifest);
        Assert.Equal(3, badEnv.Exit);
        Assert.Contains("AXL_MAX_EXTRACT_BYTES is 'lots', not a whole number", badEnv.Out);
        Assert.Equal(1, CliTests.Axl("step", "--workflow-archive", bomb, "--max-extract-entries", "-4", "--manifest-json", manifest).Exit);
        NothingLeft();

        // A cap above the content lets it through.
        var ok = CliTests.Axl("step", "--workflow-archive", bomb, "--max-extract-bytes", (40 << 20).ToString(), "--manifest-json", manifest);
        Assert.True(ok.Exit == 0, ok.Out + ok.Err);
        Assert.Equal(32 << 20, new FileInfo(Path.Combine(workDir, "data.bin")).Length);
    }

    [Fact]
    public void Invoke_AxlStep_refuses_a_tampered_archive_and_one_over_the_caps()
    {
        var good = Archive("good.tar.gz", ("diamond.axl.ps1", Flow), ("count_words.py", CountWords));
        var tampered = Archive("tampered.tar.gz", ("diamond.axl.ps1", Flow), ("count_words.py", CountWords + "# changed\n"));
        var pinned = Sha256(File.ReadAllBytes(good));
        var actual = Sha256(File.ReadAllBytes(tampered));
        var workDir = Path.Combine(_dir.Path, "w", "workdir");
        var manifest = PinnedManifest(pinned, "", "start", Path.Combine(_dir.Path, "out", "start"), null, workDir, new { name = "Base", source = "parameter", from = "Base", mode = "object", value = "10" });
        var vars = new Dictionary<string, object> { ["m"] = manifest, ["tampered"] = tampered, ["good"] = good };

        var refused = ps.Run("Invoke-AxlStep -ManifestJson $m -WorkflowArchive $tampered", vars);
        var error = Assert.Single(refused.Errors);
        Assert.StartsWith("Axl.StepInfrastructureFailure", error.FullyQualifiedErrorId);
        Assert.Contains($"its bytes hash to {actual}, but {pinned} was pinned", error.Exception.Message);
        Assert.False(Directory.Exists(workDir));

        var capped = ps.Run("Invoke-AxlStep -ManifestJson $m -WorkflowArchive $good -MaxExtractEntries 1", vars);
        Assert.Contains("has more than 1 entries", Assert.Single(capped.Errors).Exception.Message);
        Assert.False(Directory.Exists(workDir));

        var ok = ps.Run("(Invoke-AxlStep -ManifestJson $m -WorkflowArchive $good -MaxExtractBytes 100000).ExitCode", vars);
        ok.ShouldSucceed();
        Assert.Equal(0, Convert.ToInt32(ok.Objects.Single()));
    }

    /// <summary>The built axl as a process with extra environment variables.</summary>
    private static (int Exit, string Out, string Err) Run(Dictionary<string, string> env, params string[] args) =>
        CliTests.AxlWith(env.ToDictionary(kv => kv.Key, kv => (string?)kv.Value), args);

    /// <summary>A manifest for one step of examples/diamond, as a back end writes it.</summary>
    private static string Manifest(string hash, string step, string outputDir, string? valueFile, string? workDir, params object[] inputs) =>
        PinnedManifest(null, hash, step, outputDir, valueFile, workDir, inputs);

    /// <summary>The same, with the code archive's SHA-256 pinned (what compiled workflows carry).</summary>
    private static string PinnedManifest(string? archiveSha, string hash, string step, string outputDir, string? valueFile, string? workDir, params object[] inputs) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["codeArchiveSha256"] = archiveSha,
            ["schemaVersion"] = 1,
            ["workflow"] = "diamond",
            ["workflowHash"] = hash,
            ["workflowFile"] = "diamond.axl.ps1",
            ["workDir"] = workDir,
            ["step"] = step,
            ["inputs"] = inputs,
            ["output"] = new Dictionary<string, object?> { ["directory"] = outputDir, ["ioHandler"] = "clixml", ["extension"] = ".clixml", ["valueFile"] = valueFile },
        });

    private static List<JsonElement> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [S3Fact]
    public void The_runner_extracts_the_downloaded_archive_to_the_work_dir_and_runs_the_steps()
    {
        var bucket = s3.NewBucket();
        var r = ps.Run(Credential + """
            Publish-AxlWorkflowCode $code -Bucket $bucket -Endpoint $endpoint -ForcePathStyle -Credential $cred
            (Get-AxlWorkflow "$code/diamond.axl.ps1").Hash
            """, Vars(bucket));
        r.ShouldSucceed();
        dynamic loc = r.Output[0];
        string key = loc.Key, sha = loc.Sha256;
        var hash = (string)r.Output[1].BaseObject;

        // What the pod's init container does: download the object to /axl/code.tar.gz.
        var archive = Path.Combine(_dir.Path, "axl", "code.tar.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(archive)!);
        File.WriteAllBytes(archive, s3.Get(bucket, key)!);
        Assert.Equal(sha, Sha256(File.ReadAllBytes(archive)));

        // Step "start" with --workdir.
        var workDir = Path.Combine(_dir.Path, "axl", "workdir");
        var startOut = Path.Combine(_dir.Path, "out", "start");
        var start = CliTests.Axl("step", "--workflow-archive", archive, "--workdir", workDir,
            "--manifest-json", PinnedManifest(sha, hash, "start", startOut, Path.Combine(_dir.Path, "out", "start.txt"), null,
                new { name = "Base", source = "parameter", from = "Base", mode = "object", value = "10" }));
        Assert.True(start.Exit == 0, start.Out + start.Err);
        var lines = Lines(start.Out);
        Assert.Contains(lines, l => l.GetProperty("message").GetString() == $"code archive {archive} ({sha}, 1 file) extracted to {workDir}");
        Assert.Equal("Succeeded", lines[^1].GetProperty("status").GetString());
        Assert.Equal(File.ReadAllText(Path.Combine(Diamond, "diamond.axl.ps1")), File.ReadAllText(Path.Combine(workDir, "diamond.axl.ps1")));
        Assert.Equal("10", File.ReadAllText(Path.Combine(_dir.Path, "out", "start.txt")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(workDir)!).Where(p => p.Contains(".axl-extract-")));

        // Step "left" in the same pod (a retry, or a second step): the work dir already holds the code; the work dir
        // comes from the manifest this time.
        var left = CliTests.Axl("step", "--workflow-archive", archive,
            "--manifest-json", PinnedManifest(sha, hash, "left", Path.Combine(_dir.Path, "out", "left"), Path.Combine(_dir.Path, "out", "left.txt"), workDir,
                new { name = "start", source = "step", from = "start", mode = "object", path = startOut }));
        Assert.True(left.Exit == 0, left.Out + left.Err);
        Assert.Contains(Lines(left.Out), l => l.GetProperty("message").GetString()!.Contains("is already extracted in " + workDir));
        Assert.Equal("11", File.ReadAllText(Path.Combine(_dir.Path, "out", "left.txt")));
    }

    [Fact]
    public void An_unsafe_or_unreadable_archive_is_an_infrastructure_error()
    {
        var evil = Path.Combine(_dir.Path, "evil.tar.gz");
        using (var fs = File.Create(evil))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
        using (var w = new TarWriter(gz, TarEntryFormat.Gnu))
        {
            w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "diamond.axl.ps1") { DataStream = new MemoryStream("AxlWorkflow diamond { Step start { 1 } }"u8.ToArray()) });
            w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "../escaped.txt") { DataStream = new MemoryStream("x"u8.ToArray()) });
        }
        var workDir = Path.Combine(_dir.Path, "w", "workdir");
        var manifest = Manifest("", "start", Path.Combine(_dir.Path, "out"), null, workDir, new { name = "Base", source = "parameter", from = "Base", value = "1" });

        var refused = CliTests.Axl("step", "--workflow-archive", evil, "--workflow-archive-sha256", Sha256(File.ReadAllBytes(evil)), "--manifest-json", manifest);
        Assert.Equal(3, refused.Exit);
        var line = Lines(refused.Out).Single();
        Assert.Equal("infrastructure", line.GetProperty("error_kind").GetString());
        Assert.Contains($"the code archive {evil} cannot be used: entry '../escaped.txt': has a '..' segment", line.GetProperty("message").GetString());
        Assert.False(Directory.Exists(workDir));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "w", "escaped.txt")));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "escaped.txt")));

        var garbage = _dir.Write("garbage.tar.gz", "not an archive");
        var unreadable = CliTests.Axl("step", "--workflow-archive", garbage, "--workflow-archive-sha256", Sha256(File.ReadAllBytes(garbage)), "--manifest-json", manifest);
        Assert.Equal(3, unreadable.Exit);
        Assert.Contains("is not a readable tar.gz", Lines(unreadable.Out).Single().GetProperty("message").GetString());

        var unpacked = Directory.CreateDirectory(Path.Combine(_dir.Path, "code.tar.gz")).FullName;
        var dir = CliTests.Axl("step", "--workflow-archive", unpacked, "--manifest-json", manifest);
        Assert.Equal(3, dir.Exit);
        Assert.Contains("archive: {none: {}}", Lines(dir.Out).Single().GetProperty("message").GetString());

        var usage = CliTests.Axl("step", "--help");
        Assert.Contains("--workflow-archive FILE", usage.Out);
    }
}
