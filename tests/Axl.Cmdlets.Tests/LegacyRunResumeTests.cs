using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Issue 18, point 1: step keys are BLAKE3 now; a run recorded with SHA-256 keys by the version before
/// (tests/fixtures/legacy-sha256-run, made by Axl at commit 1ea4b62, its last step failed) still resumes: the steps
/// that succeeded are reused by their SHA-256 keys, only the failed one runs, and what it records now is BLAKE3.
/// </summary>
[Collection("PowerShell")]
public sealed class LegacyRunResumeTests(PowerShellFixture ps) : IDisposable
{
    private const string RunId = "20261206-000000-legacy";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The fixture copied out of the repository: the workflow's code root is its own folder, as it was.</summary>
    private (string Flow, string Runs) CopyFixture()
    {
        var source = Path.Combine(Repo.Root, "tests", "fixtures", "legacy-sha256-run");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative == "README.md") continue;
            var target = Path.Combine(_dir.Path, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return (Path.Combine(_dir.Path, "flow", "legacy.axl.ps1"), Path.Combine(_dir.Path, "runs"));
    }

    private static string StepJson(string runs, string step) => File.ReadAllText(Path.Combine(runs, "legacy", RunId, step, "step.json"));

    [Fact]
    public void A_run_recorded_with_sha256_keys_resumes_reusing_its_finished_steps()
    {
        var (flow, runs) = CopyFixture();
        Assert.Contains("\"key\": \"sha256:", StepJson(runs, "greet"));

        var r = ps.Run("""
            $run = Invoke-AxlLocalRun -Path $flow -RunRoot $runs -Resume $id -Parameters @{ Token = 's3cret' }
            $run.Status.ToString()
            foreach ($s in $run.Steps) { "$($s.Name) $($s.Status) $($s.ReusedFrom) $($s.Key)" }
            Get-AxlArtifact -RunId $id -RunRoot $runs -Step shout
            """, new System.Collections.Hashtable { ["flow"] = flow, ["runs"] = runs, ["id"] = RunId });
        r.ShouldSucceed();
        var lines = r.Output.Select(o => o.ToString()).ToList();
        Assert.Equal("Succeeded", lines[0]);
        Assert.Matches(@"^greet Succeeded resume blake3:[0-9a-f]{64}$", lines[1]);
        Assert.Matches(@"^count Succeeded resume blake3:[0-9a-f]{64}$", lines[2]);
        Assert.Matches(@"^shout Succeeded  blake3:[0-9a-f]{64}$", lines[3]);
        Assert.Equal("HELLO AXL", lines[4]);
        // What is recorded now is BLAKE3, so the next resume reuses every step by its new key.
        Assert.Contains("\"key\": \"blake3:", StepJson(runs, "greet"));
        Assert.Contains("\"key\": \"blake3:", StepJson(runs, "shout"));
    }

    [Fact]
    public void A_step_changed_since_the_sha256_run_is_not_reused_by_its_old_key()
    {
        // The control: recomputing the old key must not reuse what no longer matches.
        var (flow, runs) = CopyFixture();
        File.WriteAllText(flow, File.ReadAllText(flow).Replace("@{ length = $greet.Length;", "@{ length = $greet.Length + 0;", StringComparison.Ordinal));
        var r = ps.Run("""
            $run = Invoke-AxlLocalRun -Path $flow -RunRoot $runs -Resume $id -Parameters @{ Token = 's3cret' }
            foreach ($s in $run.Steps) { "$($s.Name) $($s.Status) $($s.ReusedFrom)" }
            """, new System.Collections.Hashtable { ["flow"] = flow, ["runs"] = runs, ["id"] = RunId });
        r.ShouldSucceed();
        Assert.Equal(new[] { "greet Succeeded resume", "count Succeeded ", "shout Succeeded " }, r.Output.Select(o => o.ToString()));
    }
}
