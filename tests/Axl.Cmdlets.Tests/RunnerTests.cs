using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>axl step, the container runner, driven directly with manifests.</summary>
public sealed class RunnerTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private (int Exit, string Out, string Err) Step(string manifest, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir.Path };
        foreach (var a in new[] { Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll"), "step", "--manifest-json", manifest }) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail("axl step did not finish"); }
        return (p.ExitCode, o.Result, e.Result);
    }

    [Fact]
    public void Parameter_values_with_quotes_and_backslashes_arrive_intact_through_the_environment()
    {
        _dir.Write("flow.axl.ps1", """
            AxlWorkflow quoting {
                Parameter Text -Default 'plain'
                Parameter Strict -Type bool
                Step echo -IoHandler text { param($Text) $Text }
                Step strict { param($Strict) $Strict }
            }
            """);
        var outDir = Path.Combine(_dir.Path, "out", "echo");
        var manifest = JsonSerializer.Serialize(new
        {
            schemaVersion = 1, workflow = "quoting", workflowFile = "flow.axl.ps1", workDir = _dir.Path, step = "echo",
            inputs = new[] { new { name = "Text", source = "parameter", from = "Text", mode = "object", env = "AXL_PARAM_0_TEXT" } },
            output = new { directory = outDir, ioHandler = "text" },
        });
        const string tricky = "say \"hi\" C:\\temp\\{x} 'q' ünï";
        var (exit, stdout, _) = Step(manifest, new Dictionary<string, string> { ["AXL_PARAM_0_TEXT"] = tricky });
        Assert.True(exit == 0, stdout);
        Assert.Equal(tricky, File.ReadAllText(Path.Combine(outDir, "output.txt")).TrimEnd('\n'));
        // The required [bool] parameter Strict is not used by this step and needs no value here.

        var (missingExit, missingOut, _) = Step(manifest);
        Assert.Equal(3, missingExit);
        Assert.Contains("environment variable AXL_PARAM_0_TEXT, which is not set", missingOut);
    }

    [Fact]
    public void Exit_codes_separate_user_failures_from_infrastructure_failures()
    {
        _dir.Write("flow.axl.ps1", "AxlWorkflow codes {\n  Step boom { throw 'user bug' }\n}\n");
        string M(string step, string file = "flow.axl.ps1") => JsonSerializer.Serialize(new
        {
            schemaVersion = 1, workflow = "codes", workflowFile = file, workDir = _dir.Path, step,
            inputs = Array.Empty<object>(), output = new { directory = Path.Combine(_dir.Path, "out", step), ioHandler = "clixml" },
        });
        var user = Step(M("boom"));
        Assert.Equal(1, user.Exit);
        var line = user.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).Last();
        Assert.Equal("Failed", line.GetProperty("status").GetString());
        Assert.Equal("user", line.GetProperty("error_kind").GetString());
        Assert.Equal("boom", line.GetProperty("step").GetString());
        Assert.True(line.GetProperty("duration_ms").GetInt64() >= 0);

        Assert.Equal(3, Step(M("boom", "missing.axl.ps1")).Exit);
        Assert.Equal(3, Step(M("nosuchstep")).Exit);
        Assert.Equal(3, Step("{ not json").Exit);
        var badHash = Step(JsonSerializer.Serialize(new
        {
            schemaVersion = 1, workflow = "codes", workflowHash = "blake3:" + new string('0', 64), workflowFile = "flow.axl.ps1", workDir = _dir.Path, step = "boom",
            inputs = Array.Empty<object>(), output = new { directory = Path.Combine(_dir.Path, "out", "x"), ioHandler = "clixml" },
        }));
        Assert.Equal(3, badHash.Exit);
        Assert.Contains("is not the one this manifest was compiled from", badHash.Out);
    }
}
