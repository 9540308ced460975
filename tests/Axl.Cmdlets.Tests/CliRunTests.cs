using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>axl run local as a user runs it, including killing a run and resuming it.</summary>
public sealed class CliRunTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();
    private string Root => Path.Combine(_dir.Path, "runs");

    [Fact]
    public void The_main_job_runs_iris_knn_and_shows_its_accuracy_and_artifacts()
    {
        var (exit, stdout, stderr) = CliTests.Axl("run", "local", "examples/iris-knn/iris-knn.axl.ps1", "--run-root", Root);
        Assert.True(exit == 0, stderr);
        Assert.Contains("status      succeeded", stdout);
        Assert.Contains("accuracy=1.0000", stdout);
        Assert.Matches(@"evaluate\s+succeeded\s+1\s+\S+\s+output\.json", stdout);
        var dir = Directory.GetDirectories(Path.Combine(Root, "iris-knn")).Single(d => !Path.GetFileName(d).StartsWith('.'));
        Assert.True(File.Exists(Path.Combine(dir, "evaluate", "output.json")));
        Assert.True(File.Exists(Path.Combine(dir, "evaluate", "output.meta.json")));
        Assert.True(File.Exists(Path.Combine(dir, "run.json")));
    }

    [Fact]
    public void Log_errors_runs_its_command_steps()
    {
        var (exit, stdout, stderr) = CliTests.Axl("run", "local", "examples/log-errors/log-errors.axl.ps1", "--run-root", Root, "--log-json");
        Assert.True(exit == 0, stderr);
        Assert.Contains("5 ERROR [auth] invalid token signature", stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(lines, l => l.GetProperty("step").GetString() == "counted" && l.GetProperty("status").GetString() == "Succeeded");
    }

    [Fact]
    public void Parameter_files_and_their_errors()
    {
        var yaml = _dir.Write("p.yaml", "Base: 7\n");
        var ok = CliTests.Axl("run", "local", "examples/diamond/diamond.axl.ps1", "--run-root", Root, "--params", yaml);
        Assert.True(ok.Exit == 0, ok.Err);
        Assert.Contains("join = 22", ok.Out);

        var json = _dir.Write("p.json", "{ \"Base\": 1 }");
        var both = CliTests.Axl("run", "local", "examples/diamond/diamond.axl.ps1", "--run-root", Root, "--params", json, "--param", "Base=2");
        Assert.Contains("join = 7", both.Out);

        int Runs() => Directory.GetDirectories(Path.Combine(Root, "diamond")).Count(d => !Path.GetFileName(d).StartsWith('.'));
        var runsBefore = Runs();
        var missing = CliTests.Axl("run", "local", "examples/diamond/diamond.axl.ps1", "--run-root", Root, "--params", "nope.yaml");
        Assert.Equal(1, missing.Exit);
        Assert.Contains("parameters file 'nope.yaml' does not exist", missing.Err);

        var broken = _dir.Write("broken.yaml", "Base: [1, 2\n");
        var bad = CliTests.Axl("run", "local", "examples/diamond/diamond.axl.ps1", "--run-root", Root, "--params", broken);
        Assert.Equal(1, bad.Exit);
        Assert.Contains($"{broken}:", bad.Err);
        Assert.Contains("not valid YAML", bad.Err);

        var list = _dir.Write("list.yaml", "- 1\n- 2\n");
        var notMap = CliTests.Axl("run", "local", "examples/diamond/diamond.axl.ps1", "--run-root", Root, "--params", list);
        Assert.Equal(1, notMap.Exit);
        Assert.Contains("must be a mapping of name to value", notMap.Err);

        var unknown = _dir.Write("unknown.yaml", "Bsae: 3\n");
        var typo = CliTests.Axl("run", "local", "examples/diamond/diamond.axl.ps1", "--run-root", Root, "--params", unknown);
        Assert.Equal(1, typo.Exit);
        Assert.Contains("'Bsae' is not a parameter of workflow 'diamond'. Its parameters are: Base.", typo.Err);
        Assert.Equal(runsBefore, Runs()); // a bad parameter starts no run
    }

    [Fact]
    public void A_failed_run_exits_1_names_the_step_and_line_and_resumes()
    {
        var flag = Path.Combine(_dir.Path, "broken.flag");
        File.WriteAllText(flag, "x");
        // The flag is outside the workflow's folder: a file of the code root is code, and changing it reruns the steps.
        var file = _dir.Write("code/flaky.axl.ps1", $$"""
            AxlWorkflow flaky {
                Step fetch { 'data' }
                Step parse {
                    param($fetch)
                    if ([System.IO.File]::Exists('{{flag}}')) { throw 'the parser is broken' }
                    $fetch.ToUpper()
                }
            }
            """);
        var failed = CliTests.Axl("run", "local", file, "--run-root", Root, "--run-id", "r1");
        Assert.Equal(1, failed.Exit);
        Assert.Contains($"error Axl.StepFailed: step 'parse' failed after 1 attempt(s): the parser is broken at {file}:5", failed.Err);
        Assert.Contains("--resume r1", failed.Err);

        File.Delete(flag);
        var resumed = CliTests.Axl("run", "local", file, "--run-root", Root, "--resume", "r1");
        Assert.True(resumed.Exit == 0, resumed.Err);
        Assert.Matches(@"fetch\s+succeeded\s+1\s+\S+\s+output\.clixml \(\d+ B, reused from resume\)", resumed.Out);
        Assert.Contains("parse = DATA", resumed.Out);
    }

    [Fact]
    public void Killing_a_run_midway_and_resuming_it_loses_and_corrupts_nothing()
    {
        var gate = Path.Combine(_dir.Path, "gate");
        var file = _dir.Write("code/long.axl.ps1", $$"""
            AxlWorkflow long {
                Step produce { 1..50000 | ForEach-Object { "row $_" } }
                Step wait {
                    param($produce)
                    while (-not [System.IO.File]::Exists('{{gate}}')) { [System.Threading.Thread]::Sleep(50) }
                    @($produce).Count
                }
                Step finish { param($wait) "counted $wait" }
            }
            """);
        var dll = Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        foreach (var a in new[] { dll, "run", "local", file, "--run-root", Root, "--run-id", "killed" }) psi.ArgumentList.Add(a);
        var runDir = Path.Combine(Root, "long", "killed");
        using (var p = Process.Start(psi)!)
        {
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!StepRunning(Path.Combine(runDir, "wait")) && DateTime.UtcNow < deadline && !p.HasExited) Thread.Sleep(50);
            Assert.False(p.HasExited, "the run ended before it could be killed");
            p.Kill(entireProcessTree: true); // like a crash or kill -9: no clean-up runs
            p.WaitForExit();
        }
        var produce = Path.Combine(runDir, "produce");
        var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(produce, "output.meta.json"))).RootElement;
        var before = meta.GetProperty("sha256").GetString();

        File.WriteAllText(gate, "open");
        var resumed = CliTests.Axl("run", "local", file, "--run-root", Root, "--resume", "killed", "--json");
        Assert.True(resumed.Exit == 0, resumed.Err);
        var record = JsonDocument.Parse(resumed.Out).RootElement;
        var steps = record.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal("resume", steps["produce"].GetProperty("reusedFrom").GetString());
        Assert.Equal(1, steps["produce"].GetProperty("attempts").GetInt32());
        Assert.Equal("Succeeded", steps["finish"].GetProperty("status").GetString());
        Assert.Equal(before, steps["produce"].GetProperty("output").GetProperty("sha256").GetString());
        Assert.Equal(2, steps["wait"].GetProperty("attempts").GetInt32());

        var finish = CliTests.Axl("run", "local", file, "--run-root", Root, "--resume", "killed");
        Assert.Contains("finish = counted 50000", finish.Out);
        Assert.Empty(Directory.GetFiles(runDir, ".*tmp-*", SearchOption.AllDirectories));
    }

    private static bool StepRunning(string stepDir)
    {
        var f = Path.Combine(stepDir, "step.json");
        if (!File.Exists(f)) return false;
        try { return JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("status").GetString() == "Running"; }
        catch (Exception ex) when (ex is JsonException or IOException) { return false; }
    }
}
