using System.Text.Json;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>Invoke-AxlLocalRun, Get-AxlRun and Get-AxlArtifact in the real engine.</summary>
[Collection("PowerShell")]
public sealed class RunCmdletTests(PowerShellFixture ps) : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private PsResult Run(string script, params (string Name, object Value)[] vars) =>
        ps.Run(script, vars.Append((Name: "root", Value: (object)Path.Combine(_dir.Path, "runs"))).ToDictionary(v => v.Name, v => v.Value));

    [Fact]
    public void Iris_runs_locally_and_its_accuracy_can_be_loaded_back()
    {
        var iris = Path.Combine(Repo.Examples, "iris-knn", "iris-knn.axl.ps1");
        var r = Run("""
            $run = Get-AxlWorkflow $iris | Invoke-AxlLocalRun -RunRoot $root
            $run.Status.ToString()
            $run | Get-AxlArtifact -Step evaluate
            (Get-AxlRun iris-knn -RunRoot $root -Last 1).RunId -eq $run.RunId
            ($run | Get-AxlArtifact -Step evaluate -AsPath).EndsWith('output.json')
            [AxlRun].FullName
            """, ("iris", iris));
        r.ShouldSucceed();
        Assert.Equal("Succeeded", r.Objects.ElementAt(0));
        Assert.True(Convert.ToDouble(r.Objects.ElementAt(1)) > 0.9);
        Assert.Equal(true, r.Objects.ElementAt(2));
        Assert.Equal(true, r.Objects.ElementAt(3));
        Assert.Equal("Axl.Runtime.AxlRun", r.Objects.ElementAt(4));
        Assert.NotEmpty(r.Progress);
        Assert.Contains(r.Progress, p => p.RecordType == System.Management.Automation.ProgressRecordType.Completed);
    }

    [Fact]
    public void PassThru_outputs_what_the_final_steps_produced_and_parameters_are_converted()
    {
        var diamond = Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");
        var r = Run("Invoke-AxlLocalRun $diamond -RunRoot $root -Parameters @{ Base = '5' } -PassThru", ("diamond", diamond));
        r.ShouldSucceed();
        Assert.Equal(16, Convert.ToInt32(r.Objects.Single()));
    }

    [Fact]
    public void WhatIf_runs_nothing()
    {
        var diamond = Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");
        var r = Run("Invoke-AxlLocalRun $diamond -RunRoot $root -WhatIf; @(Get-AxlRun -RunRoot $root).Count", ("diamond", diamond));
        r.ShouldSucceed();
        Assert.Equal(0, Convert.ToInt32(r.Objects.Last()));
    }

    [Fact]
    public void A_failed_step_is_an_error_record_naming_the_step_line_and_how_to_resume()
    {
        var file = _dir.Write("fails.axl.ps1", "AxlWorkflow fails {\n  Step ok { 1 }\n  Step broken {\n    param($ok)\n    throw \"no data for $ok\"\n  }\n  Step other { param($ok) $ok }\n}\n");
        var r = Run("$run = Invoke-AxlLocalRun $f -RunRoot $root; $run.Status.ToString(); $run.GetStep('other').Status.ToString()", ("f", file));
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.StepFailed", e.FullyQualifiedErrorId);
        Assert.Equal("InvalidResult", e.CategoryInfo.Category.ToString());
        Assert.Contains("step 'broken' of workflow 'fails'", e.Exception.Message);
        Assert.Contains($"no data for 1 at {file}:5", e.Exception.Message);
        Assert.Contains("-Resume", e.Exception.Message);
        Assert.Equal(new object[] { "Failed", "Succeeded" }, r.Objects);
    }

    [Fact]
    public void Invalid_workflows_and_bad_parameters_are_errors_and_nothing_runs()
    {
        var bad = _dir.Write("bad.axl.ps1", "AxlWorkflow bad {\n  Step a { param($nothing) 1 }\n}\n");
        var r = Run("Invoke-AxlLocalRun $f -RunRoot $root", ("f", bad));
        Assert.StartsWith("Axl.UnboundInput", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Empty(r.Output);

        var diamond = Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");
        var p = Run("Invoke-AxlLocalRun $d -RunRoot $root -Parameters @{ Nope = 1 }", ("d", diamond));
        var pe = Assert.Single(p.Errors);
        Assert.StartsWith("Axl.InvalidParameter", pe.FullyQualifiedErrorId);
        Assert.Contains("'Nope' is not a parameter of workflow 'diamond'. Its parameters are: Base.", pe.Exception.Message);

        var typed = Run("Invoke-AxlLocalRun $d -RunRoot $root -Parameters @{ Base = 'ten' }", ("d", diamond));
        Assert.Contains("parameter 'Base' must be a whole number, got 'ten'", Assert.Single(typed.Errors).Exception.Message);
    }

    [Fact]
    public void A_run_another_runner_holds_is_refused_as_busy_and_left_untouched()
    {
        var file = _dir.Write("held.axl.ps1", "AxlWorkflow held {\n  Step a { 1 }\n  Step b { param($a) $a + 1 }\n}\n");
        var first = Run("(Invoke-AxlLocalRun $f -RunRoot $root -RunId h1).Directory", ("f", file));
        first.ShouldSucceed();
        var runDir = (string)first.Objects.Single()!;
        var log = File.ReadAllText(Path.Combine(runDir, "log.jsonl"));
        var record = File.ReadAllText(Path.Combine(runDir, "run.json"));

        // This process holds the run, as a running `axl run local --resume h1` would.
        var r = Run("""
            $lockType = (Get-AxlRun held h1 -RunRoot $root).GetType().Assembly.GetType('Axl.Runtime.RunLock') # the module's own load context
            $lock = $lockType::Acquire($d, 'h1', 'held')
            try { Invoke-AxlLocalRun $f -RunRoot $root -Resume h1 }
            finally { $lock.Dispose() }
            """, ("f", file), ("d", runDir));
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.RunLocked", e.FullyQualifiedErrorId);
        Assert.Equal("ResourceBusy", e.CategoryInfo.Category.ToString());
        Assert.Contains("run 'h1' of workflow 'held' is being run by process " + Environment.ProcessId, e.Exception.Message);
        Assert.Contains(" UTC)", e.Exception.Message);
        Assert.Empty(r.Output);
        Assert.Equal(log, File.ReadAllText(Path.Combine(runDir, "log.jsonl")));
        Assert.Equal(record, File.ReadAllText(Path.Combine(runDir, "run.json")));

        // Released: the resume runs. A run recorded as running that nobody holds shows as Interrupted.
        Run("Invoke-AxlLocalRun $f -RunRoot $root -Resume h1 | Out-Null", ("f", file)).ShouldSucceed();
        var json = Path.Combine(runDir, "run.json");
        File.WriteAllText(json, new System.Text.RegularExpressions.Regex("\"status\": \"Succeeded\"").Replace(File.ReadAllText(json), "\"status\": \"Running\"", 1)); // the run's own status comes first
        var shown = Run("""
            $run = Get-AxlRun held h1 -RunRoot $root
            $run.Status.ToString()
            $lock = $run.GetType().Assembly.GetType('Axl.Runtime.RunLock')::Acquire($d, 'h1', 'held')
            try { (Get-AxlRun held h1 -RunRoot $root).Status.ToString() } finally { $lock.Dispose() }
            """, ("d", runDir));
        shown.ShouldSucceed();
        Assert.Equal(new object[] { "Interrupted", "Running" }, shown.Objects);
    }

    [Fact]
    public void Json_log_lines_come_out_as_information_records()
    {
        var diamond = Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");
        var r = Run("$null = Invoke-AxlLocalRun $d -RunRoot $root -LogFormat Json", ("d", diamond));
        r.ShouldSucceed();
        var lines = r.Information.Where(i => i.Tags.Contains("axl-log")).Select(i => JsonDocument.Parse((string)i.MessageData).RootElement).ToList();
        Assert.Contains(lines, l => l.GetProperty("step").GetString() == "join" && l.GetProperty("status").GetString() == "Succeeded"
            && l.GetProperty("workflow").GetString() == "diamond" && l.GetProperty("duration_ms").ValueKind == JsonValueKind.Number);
    }

    [Fact]
    public void A_handler_written_in_PowerShell_saves_and_loads_artifacts()
    {
        var file = _dir.Write("custom.axl.ps1", """
            Register-AxlIoHandler reversed .rev -WriteScript {
                param($Value, $Path)
                $chars = ([string]$Value).ToCharArray(); [array]::Reverse($chars)
                [System.IO.File]::WriteAllText($Path, [string]::new($chars))
            } -ReadScript {
                param($Path)
                $chars = [System.IO.File]::ReadAllText($Path).ToCharArray(); [array]::Reverse($chars)
                [string]::new($chars)
            }
            AxlWorkflow custom {
                Step word -IoHandler reversed { 'stressed' }
                Step loud { param($word) $word.ToUpper() }
            }
            """);
        var r = Run("""
            $run = Invoke-AxlLocalRun $f -RunRoot $root
            [System.IO.File]::ReadAllText(($run | Get-AxlArtifact -Step word -AsPath))
            $run | Get-AxlArtifact -Step word
            $run | Get-AxlArtifact -Step loud
            (Get-AxlIoHandler rev*).Extension
            """, ("f", file));
        r.ShouldSucceed();
        Assert.Equal(new object[] { "desserts", "stressed", "STRESSED", ".rev" }, r.Objects);
    }

    [Fact]
    public void Invoke_AxlStep_runs_a_step_from_its_manifest_like_axl_step()
    {
        var dir = Path.Combine(Repo.Examples, "diamond");
        string Manifest(string outDir) => System.Text.Json.JsonSerializer.Serialize(new
        {
            schemaVersion = 1, workflow = "diamond", workflowFile = "diamond.axl.ps1", workDir = dir, step = "start",
            inputs = new[] { new { name = "Base", source = "parameter", from = "Base", mode = "object", value = "6" } },
            output = new { directory = outDir, ioHandler = "clixml" },
        });
        var viaModule = Path.Combine(_dir.Path, "module", "start");
        var r = Run("""
            $o = Invoke-AxlStep -ManifestJson $m
            $o.Status; $o.ExitCode
            """, ("m", Manifest(viaModule)));
        r.ShouldSucceed();
        Assert.Equal(new object[] { "Succeeded", 0 }, r.Objects);
        Assert.Contains(r.Information, i => ((string)i.MessageData).Contains("\"status\":\"Succeeded\""));

        var viaCli = Path.Combine(_dir.Path, "cli", "start");
        var cli = CliTests.Axl("step", "--manifest-json", Manifest(viaCli));
        Assert.Equal(0, cli.Exit);
        string Hash(string d) => JsonDocument.Parse(File.ReadAllText(Path.Combine(d, "output.meta.json"))).RootElement.GetProperty("sha256").GetString()!;
        Assert.Equal(Hash(viaCli), Hash(viaModule));

        var bad = Run("Invoke-AxlStep -ManifestJson '{\"schemaVersion\":1}'");
        Assert.StartsWith("Axl.BadManifest", Assert.Single(bad.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Run_views_render()
    {
        var diamond = Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");
        var root = Path.Combine(_dir.Path, "runs");
        var text = ps.Render($"Invoke-AxlLocalRun '{diamond}' -RunRoot '{root}'");
        Assert.Matches(@"Workflow\s+RunId\s+Status\s+Steps\s+Duration", text); // fits 80 columns: the directory is in the list view
        Assert.Contains("4/4 succeeded", text);
        text = ps.Render($"Get-AxlRun diamond -RunRoot '{root}' -Last 1 | Format-List");
        Assert.Matches(@"Directory\s+: " + System.Text.RegularExpressions.Regex.Escape(root), text);
        text = ps.Render($"(Get-AxlRun diamond -RunRoot '{root}' -Last 1).Steps");
        Assert.Matches(@"Name\s+Status\s+Tries\s+Duration\s+Output", text);
        Assert.Matches(@"join\s+Succeeded\s+1", text);
    }
}
