using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// The KFP v2 executors run as they are: each step's container args, with the placeholders replaced the way KFP's
/// launcher does it (a plain text replacement inside every argument: launcher_v2.go executeV2), run the real runner
/// (artifacts/cli/axl.dll) and produce the values a local run gives, parameter values included (they travel as
/// --env arguments, so a value with quotes and backslashes needs no escaping).
/// </summary>
public sealed class KfpExecutorTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_executor_args_with_the_placeholders_replaced_run_the_steps()
    {
        var file = _dir.Write("flow/k.axl.ps1", """
            AxlWorkflow k {
                Parameter N -Default 2
                Parameter Label -Default 'x'
                Step a { param([int] $N) $N * 10 }
                Step b -IoHandler json { param($a, [string] $Label) @{ sum = $a + 1; label = $Label } }
            }
            """);
        var compiled = CliTests.Axl("compile", "--target", "kfp", file);
        Assert.True(compiled.Exit == 0, compiled.Err);
        var spec = ArgoYaml.Parse(compiled.Out);
        var executors = ArgoYaml.M(ArgoYaml.Get(spec, "deploymentSpec", "executors"));
        const string label = "it's \"quoted\" \\ and {braced}";
        var placeholders = new Dictionary<string, string>
        {
            ["{{$.inputs.parameters['N']}}"] = "7",
            ["{{$.inputs.parameters['Label']}}"] = label,
            ["{{$.pipeline_job_name}}"] = "k-run-1",
            ["{{$.outputs.artifacts['output'].path}}"] = "",
            ["{{$.inputs.artifacts['a'].path}}"] = Path.Combine(_dir.Path, "minio", "a"),
        };
        foreach (var step in new[] { "a", "b" })
        {
            placeholders["{{$.outputs.artifacts['output'].path}}"] = Path.Combine(_dir.Path, "minio", step);
            var container = ArgoYaml.M(ArgoYaml.Get(executors["exec-" + step], "container"));
            var args = ArgoYaml.L(container["args"]).Cast<string>()
                .Select(a => placeholders.Aggregate(a, (text, p) => text.Replace(p.Key, p.Value, StringComparison.Ordinal)))
                .ToList();
            args.AddRange(new[] { "--workdir", Path.GetDirectoryName(file)! });
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir.Path };
            psi.ArgumentList.Add(Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll"));
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(120_000), $"step {step} did not finish");
            Assert.True(p.ExitCode == 0, $"step {step} exited {p.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        }
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir.Path, "minio", "b", "output.meta.json")));
        using var b = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir.Path, "minio", "b", meta.RootElement.GetProperty("file").GetString()!)));
        Assert.Equal(71, b.RootElement.GetProperty("sum").GetInt32());
        Assert.Equal(label, b.RootElement.GetProperty("label").GetString());
    }
}
