using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>The axl command as a user runs it: a separate process, its stdout, stderr and exit code.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    public static (int Exit, string Out, string Err) Axl(params string[] args) => AxlWith(null, args);

    public static (int Exit, string Out, string Err) AxlWith(IDictionary<string, string?>? env, params string[] args)
    {
        var dll = Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll");
        Assert.True(File.Exists(dll), $"The axl command is not built at {dll}; run `dotnet build` first.");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        foreach (var (k, v) in env ?? new Dictionary<string, string?>()) psi.Environment[k] = v;
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail("axl did not finish within 120 s"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void A_static_workflow_file_is_read_without_a_runspace_and_a_file_that_imports_runs_with_the_same_output()
    {
        var trace = new Dictionary<string, string?> { ["AXL_STARTUP_TRACE"] = "1" };
        // diamond's top level is one static AxlWorkflow block: validate and compile open no runspace.
        var read = AxlWith(trace, "validate", "examples/diamond/diamond.axl.ps1");
        Assert.Equal(0, read.Exit);
        Assert.Contains("without running it", read.Err);
        Assert.DoesNotContain("runspace opened", read.Err);
        // The same file run in a runspace (AXL_LOADER=execute) prints the same summary and hash.
        var ran = AxlWith(new Dictionary<string, string?>(trace) { ["AXL_LOADER"] = "execute" }, "validate", "examples/diamond/diamond.axl.ps1");
        Assert.Equal(0, ran.Exit);
        Assert.Contains("runspace opened", ran.Err);
        Assert.Equal(ran.Out, read.Out);
        var compiled = AxlWith(trace, "compile", "examples/diamond/diamond.axl.ps1", "--target", "argo");
        Assert.Equal(0, compiled.Exit);
        Assert.DoesNotContain("runspace opened", compiled.Err);
        Assert.Equal(AxlWith(new Dictionary<string, string?> { ["AXL_LOADER"] = "execute" }, "compile", "examples/diamond/diamond.axl.ps1", "--target", "argo").Out, compiled.Out);
        // sales imports a module and dot-sources a helper at its top level: it runs, as before.
        var sales = AxlWith(trace, "validate", "examples/sales/sales.axl.ps1");
        Assert.Equal(0, sales.Exit);
        Assert.Contains("runs: the file has using statements", sales.Err);
        Assert.Contains("runspace opened", sales.Err);
    }

    [Fact]
    public void A_large_file_read_in_pieces_gives_the_output_of_the_file_parsed_whole()
    {
        // 250 Step lines (read in pieces from 200), with comments, blank lines, options, a parameter and a function.
        var sb = new System.Text.StringBuilder("function Get-Add { param($x) $x + 1 }\nAxlWorkflow big {\n    Parameter Start 1 -Type int\n    Step s0 { param($Start) $Start }\n");
        for (var i = 1; i < 250; i++)
        {
            if (i % 17 == 0) sb.Append("    # every 17th\n\n");
            sb.Append(i % 11 == 0 ? $"    Step s{i} -Retries 1 {{\n        param($s{i - 1})\n        Get-Add $s{i - 1}\n    }}\n" : $"    Step s{i} {{ param($s{i - 1}) $s{i - 1} + 1 }}\n");
        }
        var file = Path.Combine(_dir.Path, "big.axl.ps1");
        File.WriteAllText(file, sb.Append("}\n").ToString());
        var trace = new Dictionary<string, string?> { ["AXL_STARTUP_TRACE"] = "1" };
        var whole = new Dictionary<string, string?> { ["AXL_FILE_READ"] = "whole", ["AXL_STARTUP_TRACE"] = "1" };
        foreach (var args in new[] { new[] { "validate", file, "--json" }, new[] { "compile", file, "--target", "argo" }, new[] { "graph", file } })
        {
            var pieces = AxlWith(trace, args);
            Assert.True(pieces.Exit == 0, pieces.Out + pieces.Err);
            Assert.Contains("(249 steps from pieces parsed on their own) without running it", pieces.Err);
            var one = AxlWith(whole, args);
            Assert.True(one.Exit == 0, one.Out + one.Err);
            Assert.DoesNotContain("from pieces", one.Err);
            Assert.Equal(one.Out, pieces.Out);
        }
    }

    [Fact]
    public void Step_runs_a_script_step_of_a_static_file_in_the_prewarmed_host()
    {
        var output = Path.Combine(_dir.Path, "out");
        var manifest = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["schemaVersion"] = 1, ["workflow"] = "diamond", ["workflowFile"] = "diamond.axl.ps1",
            ["workDir"] = Path.Combine(Repo.Root, "examples", "diamond"), ["step"] = "start",
            ["inputs"] = new[] { new Dictionary<string, object?> { ["name"] = "Base", ["source"] = "parameter", ["from"] = "Base", ["mode"] = "object", ["value"] = "10" } },
            ["output"] = new Dictionary<string, object?> { ["directory"] = output, ["ioHandler"] = "json", ["extension"] = ".json" },
        });
        var (exit, stdout, stderr) = AxlWith(new Dictionary<string, string?> { ["AXL_STARTUP_TRACE"] = "1" }, "step", "--manifest-json", manifest);
        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains("without running it", stderr);
        Assert.DoesNotContain("runspace opened", stderr); // the command's own runspace: only the step host's opened
        // The step host starts opening before the command parses its arguments, and makes the file's module (from the read) before the step runs.
        var opening = stderr.IndexOf("] step host: opening", StringComparison.Ordinal);
        Assert.InRange(opening, 0, stderr.IndexOf("] engine host: start", StringComparison.Ordinal));
        Assert.InRange(stderr.IndexOf("] step host: file module made", StringComparison.Ordinal), 0, stderr.IndexOf("] step run", StringComparison.Ordinal));
        Assert.InRange(stderr.IndexOf("] step run", StringComparison.Ordinal), 0, stderr.IndexOf("] step output saved", StringComparison.Ordinal));
        Assert.Contains("\"status\":\"Succeeded\"", stdout);
        Assert.True(File.Exists(Path.Combine(output, "output.json")), stdout);
    }

    [Fact]
    public void Version_matches_the_module_manifest()
    {
        var (exit, stdout, _) = Axl("--version");
        Assert.Equal(0, exit);
        var manifest = File.ReadAllText(Path.Combine(Repo.Root, "module", "Axl.psd1"));
        var version = System.Text.RegularExpressions.Regex.Match(manifest, @"ModuleVersion\s*=\s*'([^']+)'").Groups[1].Value;
        Assert.Equal($"axl {version}", stdout.Trim());
    }

    [Fact]
    public void Validate_prints_the_IR_summary_and_hash()
    {
        var (exit, stdout, stderr) = Axl("validate", "examples/diamond/diamond.axl.ps1");
        Assert.True(exit == 0, stderr);
        Assert.Contains("workflow    diamond", stdout);
        Assert.Matches(@"hash        blake3:[0-9a-f]{64}", stdout);
        Assert.Contains("order       start, left, right, join", stdout);
        Assert.Contains("valid: no problems found", stdout);
    }

    [Fact]
    public void Validate_json_is_one_document_with_the_IR_and_diagnostics()
    {
        var (exit, stdout, _) = Axl("validate", "examples/diamond/diamond.axl.ps1:diamond", "--json");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(stdout);
        Assert.True(doc.RootElement.GetProperty("valid").GetBoolean());
        var wf = doc.RootElement.GetProperty("workflows")[0];
        Assert.Equal("diamond", wf.GetProperty("name").GetString());
        Assert.Equal(4, wf.GetProperty("steps").GetArrayLength());
        Assert.Equal(4, wf.GetProperty("edges").GetArrayLength());
        Assert.StartsWith("blake3:", wf.GetProperty("hash").GetString());
        Assert.Equal(0, wf.GetProperty("diagnostics").GetArrayLength());
    }

    [Fact]
    public void The_hash_is_the_same_in_the_CLI_and_stable_across_runs()
    {
        var a = JsonDocument.Parse(Axl("validate", "examples/diamond/diamond.axl.ps1", "--json").Out);
        var b = JsonDocument.Parse(Axl("validate", Path.Combine(Repo.Root, "examples/diamond/diamond.axl.ps1"), "--json").Out);
        Assert.Equal(a.RootElement.GetProperty("workflows")[0].GetProperty("hash").GetString(), b.RootElement.GetProperty("workflows")[0].GetProperty("hash").GetString());
    }

    [Theory]
    [InlineData("AxlWorkflow cyc {\n  Step a { param($c) $c }\n  Step b { param($a) $a }\n  Step c { param($b) $b }\n}", "error Axl.CycleDetected: step 'a': the steps form a cycle: a -> b -> c -> a.")]
    [InlineData("AxlWorkflow names {\n  Step 'load/data' { 1 }\n}", "error Axl.InvalidName: step 'load/data': step name 'load/data' has characters that cannot be part of a DNS-1123 name: '/'.")]
    [InlineData("AxlWorkflow amb {\n  Parameter data -Default 1\n  Step data { 1 }\n  Step train { param($data) $data }\n}", "error Axl.AmbiguousInput: step 'train': parameter 'data' is ambiguous: it matches both step 'data'")]
    public void Invalid_workflows_exit_1_with_the_diagnostics_on_stderr(string script, string expected)
    {
        var file = _dir.Write("bad.axl.ps1", script);
        var (exit, stdout, stderr) = Axl("validate", file);
        Assert.Equal(1, exit);
        Assert.Contains(expected, stderr);
        Assert.Contains($"{file}:", stderr);
        Assert.Contains("Fix: ", stderr);
        Assert.Contains("invalid: 1 error", stdout);

        var (jexit, json, _) = Axl("validate", file, "--json");
        Assert.Equal(1, jexit);
        using var doc = JsonDocument.Parse(json);
        Assert.False(doc.RootElement.GetProperty("valid").GetBoolean());
        Assert.True(doc.RootElement.GetProperty("workflows")[0].GetProperty("diagnostics").GetArrayLength() >= 1);
    }

    [Fact]
    public void Load_failures_and_bad_usage_exit_1_with_a_message()
    {
        var missing = Axl("validate", "no/such/file.axl.ps1");
        Assert.Equal(1, missing.Exit);
        Assert.Contains("error Axl.WorkflowFileNotFound", missing.Err);

        var broken = _dir.Write("broken.axl.ps1", "AxlWorkflow b {\n  Step a { param($x }\n}");
        var parse = Axl("validate", broken, "--json");
        Assert.Equal(1, parse.Exit);
        using var doc = JsonDocument.Parse(parse.Out);
        Assert.Equal("Axl.WorkflowParseError", doc.RootElement.GetProperty("errors")[0].GetProperty("id").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("errors")[0].GetProperty("line").GetInt32());

        var noArgs = Axl("validate");
        Assert.Equal(1, noArgs.Exit);
        Assert.Contains("validate needs a workflow file", noArgs.Err);

        var unknown = Axl("frobnicate");
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("unknown command 'frobnicate'", unknown.Err);

        var badOption = Axl("validate", "x.axl.ps1", "--yaml");
        Assert.Equal(1, badOption.Exit);
        Assert.Contains("unknown option '--yaml'", badOption.Err);
    }

    [Fact]
    public void Help_lists_the_commands()
    {
        var (exit, stdout, _) = Axl("--help");
        Assert.Equal(0, exit);
        Assert.Contains("validate", stdout);
        Assert.Contains("Exit codes: 0 success, 1 user error", stdout);
        var (vexit, vout, _) = Axl("validate", "--help");
        Assert.Equal(0, vexit);
        Assert.Contains("Usage: axl validate", vout);
    }
}
