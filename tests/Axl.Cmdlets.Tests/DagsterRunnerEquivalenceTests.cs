using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Seed M6: "generated Dagster job runs locally and mirrors the IR DAG; ops invoke the Axl runner and persist
/// artifacts". Dagster is not installed here, so the generated module (axl compile --target dagster) is run
/// with a stand-in dagster package (Stubs/dagster_stub.py: it runs the graph's ops in order, passing outputs to
/// inputs and skipping ops whose inputs were not produced; it is not Dagster). The ops themselves are the generated
/// code: they evaluate conditions and run the real runner, `dotnet artifacts/cli/axl.dll step --manifest-json ...`.
/// Every step must end as it does in axl run local, with the same output sha256.
/// </summary>
public sealed class DagsterRunnerEquivalenceTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private static string? Python3 { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "python3")).FirstOrDefault(File.Exists);

    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { "iris-knn", "NNeighbors=5" },
        new object[] { "log-errors", "" },
        new object[] { "diamond", "Base=7" },
        new object[] { "external-repo", "Threshold=2" },
        new object[] { "gates", "" },
        new object[] { "gates", "Mode=dry-run" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_generated_job_run_op_by_op_gives_the_local_results(string example, string parameter)
    {
        Assert.True(Python3 is not null, "python3 is not on PATH");
        var file = LocalReference.File(_dir, example);
        var localSteps = LocalReference.Steps(file, parameter, Path.Combine(_dir.Path, "local"));

        var module = Path.Combine(_dir.Path, "job", example.Replace('-', '_') + "_job.py");
        var compiled = CliTests.Axl("compile", "--target", "dagster", "--out", module, file);
        Assert.True(compiled.Exit == 0, compiled.Err);
        var stub = Path.Combine(_dir.Path, "stub", "dagster");
        Directory.CreateDirectory(stub);
        File.Copy(Path.Combine(Repo.Root, "tests", "Axl.Cmdlets.Tests", "Stubs", "dagster_stub.py"), Path.Combine(stub, "__init__.py"));

        var report = Path.Combine(_dir.Path, "report.json");
        var psi = new ProcessStartInfo(Python3!) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir.Path };
        psi.ArgumentList.Add(module);
        if (parameter.Length > 0) psi.ArgumentList.Add(parameter);
        psi.Environment["PYTHONPATH"] = Path.Combine(_dir.Path, "stub");
        psi.Environment["AXL_RUNNER"] = "dotnet " + Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll");
        psi.Environment["AXL_ARTIFACT_ROOT"] = Path.Combine(_dir.Path, "dagster");
        psi.Environment["AXL_DAGSTER_STUB_REPORT"] = report;
        using (var p = Process.Start(psi)!)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(600_000), "the job did not finish within 10 minutes");
            Assert.True(p.ExitCode == 0, $"the Dagster job failed ({p.ExitCode}):\n{stdout.Result}\n{stderr.Result}\n{(File.Exists(report) ? File.ReadAllText(report) : "")}");
        }

        using var ops = JsonDocument.Parse(File.ReadAllText(report));
        var results = ops.RootElement.EnumerateObject().ToDictionary(o => o.Value.GetProperty("step").GetString()!, o => o.Value.Clone());
        Assert.Equal(localSteps.Keys.OrderBy(x => x), results.Keys.OrderBy(x => x));
        var ran = 0;
        foreach (var (step, r) in results)
        {
            var l = localSteps[step];
            var status = r.GetProperty("status").GetString();
            var folder = status == "success" && r.GetProperty("outputs").TryGetProperty("result", out var res) ? res.GetString() : null;
            if (l.GetProperty("status").GetString() == "Skipped")
            {
                Assert.True(folder is null, $"step '{step}' was skipped locally ({l.GetProperty("skipReason")}) but produced {folder} on Dagster");
                continue;
            }
            Assert.Equal("Succeeded", l.GetProperty("status").GetString());
            Assert.True(folder is not null, $"step '{step}' succeeded locally but is {status} on Dagster: {r}");
            using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder!, "output.meta.json")));
            Assert.True(l.GetProperty("output").GetProperty("sha256").GetString() == meta.RootElement.GetProperty("sha256").GetString(),
                $"step '{step}': the output on Dagster differs from the local one");
            Assert.StartsWith(Path.Combine(_dir.Path, "dagster"), folder);
            ran++;
        }
        Assert.True(ran >= 3, $"only {ran} steps ran");
        if (example == "gates")
        {
            string Status(string step) => results[step].GetProperty("status").GetString()!;
            bool Produced(string step) => Status(step) == "success" && results[step].GetProperty("outputs").TryGetProperty("result", out var v) && v.ValueKind == JsonValueKind.String;
            Assert.False(Produced("shout"));          // 'Yes' -eq 'yes' is false: strings compare case-sensitively
            Assert.Equal("success", Status("shout")); // ... the op ran and decided to skip
            Assert.True(Produced("after_shout"));     // only ordered after a condition-skipped step: runs
            Assert.Equal("skipped", Status("use_shout")); // reads the skipped step's output: left out
            Assert.Equal(parameter.Length == 0, Produced("publish"));
        }
    }
}
