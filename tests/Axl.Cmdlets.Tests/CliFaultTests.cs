using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Faults as an operator makes them, against the built axl: SIGKILL of `axl run local` at seeded random points and
/// --resume, two resumes of one run at once, and a table of bad parameter files and step manifests. The seed is
/// fixed (1307; AXL_FAULT_SEED overrides it, and every failure message names it) so a failure can be replayed.
/// </summary>
public sealed class CliFaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();
    private string Root => Path.Combine(_dir.Path, "runs");

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("AXL_FAULT_SEED"), out var s) ? s : 1307;

    private static ProcessStartInfo Axl(string workingDirectory, params string[] args)
    {
        var dll = Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll");
        Assert.True(File.Exists(dll), $"The axl command is not built at {dll}; run `dotnet build` first.");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>A started axl with its output collected as it comes.</summary>
    private sealed class Running : IDisposable
    {
        public readonly Process Process;
        private readonly Task<string> _out, _err;
        public Running(ProcessStartInfo psi)
        {
            Process = Process.Start(psi)!;
            _out = Process.StandardOutput.ReadToEndAsync();
            _err = Process.StandardError.ReadToEndAsync();
        }
        public (int Exit, string Out, string Err) Wait(int seconds = 60)
        {
            if (!Process.WaitForExit(seconds * 1000)) { Process.Kill(entireProcessTree: true); Assert.Fail($"axl did not finish within {seconds} s"); }
            Process.WaitForExit();
            return (Process.ExitCode, _out.Result, _err.Result);
        }
        public void Dispose()
        {
            try { if (!Process.HasExited) Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            Process.Dispose();
        }
    }

    // ---- kill and resume at seeded random points ------------------------------------------------------------

    private const string Workflow = """
        AxlWorkflow faulty {
            Step source { [System.Threading.Thread]::Sleep(100); 1..8000 | ForEach-Object { "row $_" } }
            Step count { param($source) [System.Threading.Thread]::Sleep(100); @($source).Count }
            Step tail { param($source) [System.Threading.Thread]::Sleep(100); (@($source) | Select-Object -Last 3) -join ';' }
            Step text -IoHandler text { param($source) $source -join "`n" }
            Step join { param($count, $tail, $text) [System.Threading.Thread]::Sleep(100); "$count|$tail|$($text.Length)" }
        }
        """;

    [Fact]
    public void Killed_at_seeded_random_points_and_resumed_the_run_ends_as_an_unkilled_one()
    {
        var seed = Seed;
        var rng = new Random(seed);
        var file = _dir.Write("faulty.axl.ps1", Workflow);

        // The unkilled run first: its length (from its first record to its end) is the range the kill points are drawn
        // from, so they spread over the whole run however fast or loaded the machine is.
        var refDir = Path.Combine(Root, "faulty", "reference");
        using var reference = new Running(Axl(Repo.Root, "run", "local", file, "--run-root", Root, "--run-id", "reference", "--throttle", "2", "--quiet"));
        var refDeadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(Path.Combine(refDir, "run.json")) && !reference.Process.HasExited && DateTime.UtcNow < refDeadline) Thread.Sleep(20);
        var clock = Stopwatch.StartNew();
        var refRun = reference.Wait();
        Assert.True(refRun.Exit == 0, refRun.Err);
        var span = Math.Max(300, (int)clock.ElapsedMilliseconds);

        var runDir = Path.Combine(Root, "faulty", "killed");
        var log = new List<string>();
        var kills = 0;
        for (var round = 0; round < 3; round++)
        {
            var args = new List<string> { "run", "local", file, "--run-root", Root, "--throttle", "2", "--quiet" };
            args.AddRange(round == 0 ? new[] { "--run-id", "killed" } : new[] { "--resume", "killed" });
            using var run = new Running(Axl(Repo.Root, args.ToArray()));
            // Kill points are counted from the run's first record, so every kill lands inside the run.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!File.Exists(Path.Combine(runDir, "run.json")) && !run.Process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(20);
            var delay = rng.Next(0, span);
            if (run.Process.WaitForExit(delay))
            {
                var (exit, _, err) = run.Wait();
                log.Add($"round {round}: ended by itself (exit {exit}) before {delay} ms");
                Assert.True(exit == 0, $"seed {seed}, round {round}: {err}");
                continue;
            }
            run.Process.Kill(entireProcessTree: true); // SIGKILL: no clean-up runs
            var (_, _, killedErr) = run.Wait();
            kills++;
            log.Add($"round {round}: killed after {delay} ms; steps then: {StepStates(runDir)}");
            Assert.DoesNotContain("Axl.RunLocked", killedErr); // a killed run's lock died with it
        }
        foreach (var line in log) output.WriteLine(line);

        var final = new Running(Axl(Repo.Root, "run", "local", file, "--run-root", Root, "--resume", "killed", "--json")).Wait();
        Assert.True(final.Exit == 0, $"seed {seed}: {string.Join("; ", log)}\n{final.Err}");
        using var record = JsonDocument.Parse(final.Out);
        foreach (var step in record.RootElement.GetProperty("steps").EnumerateArray())
        {
            var name = step.GetProperty("name").GetString()!;
            Assert.True(step.GetProperty("status").GetString() == "Succeeded", $"seed {seed}: step {name} is {step.GetProperty("status")}");
            // The same bytes as the unkilled run, and the bytes the metadata promises: nothing half-written was kept.
            var (data, sha) = Output(Path.Combine(runDir, name));
            var (refData, refSha) = Output(Path.Combine(refDir, name));
            Assert.True(refSha == sha, $"seed {seed}: step {name}'s output differs from the unkilled run's ({string.Join("; ", log)})");
            Assert.Equal("sha256:" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(data))).ToLowerInvariant(), sha);
            Assert.Equal(File.ReadAllBytes(refData), File.ReadAllBytes(data));
        }
        Assert.Empty(Directory.GetFiles(runDir, ".*tmp-*", SearchOption.AllDirectories));
        output.WriteLine($"seed {seed}: {kills} kill(s) over a run of {span} ms");
    }

    [Fact]
    public void Killed_while_records_are_being_committed_resume_reuses_exactly_the_recorded_steps_and_reruns_the_rest()
    {
        // Records are group-committed after the artifacts are synced, in the order steps finished. Whatever instant the
        // kill lands on, a step recorded as done has a complete artifact and recorded upstream steps, and resume reuses
        // exactly those and runs the others again.
        var seed = Seed;
        var steps = new List<string> { "Step s0 { 0 }" };
        for (var i = 1; i < 40; i++) steps.Add($"Step s{i} {{ param($s{i - 1}) [System.Threading.Thread]::Sleep({10 + (seed + i) % 7}); $s{i - 1} + 1 }}");
        steps.Add("Step side { param($s5) $s5 * 100 }");
        var file = _dir.Write("commits.axl.ps1", "AxlWorkflow commits {\n    " + string.Join("\n    ", steps) + "\n}\n");
        var runDir = Path.Combine(Root, "commits", "killed");
        using (var run = new Running(Axl(Repo.Root, "run", "local", file, "--run-root", Root, "--run-id", "killed", "--quiet")))
        {
            // Killed once a seeded number of steps have written their output: mid-run, with records in flight. (Not by
            // counting step folders: they are made ahead of their steps.)
            var target = 5 + new Random(seed).Next(0, 25);
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!run.Process.HasExited && DateTime.UtcNow < deadline
                   && (!Directory.Exists(runDir) || Directory.GetDirectories(runDir).Count(d => File.Exists(Path.Combine(d, "output.clixml"))) < target)) Thread.Sleep(5);
            Assert.False(run.Process.HasExited, $"seed {seed}: the run ended before the kill point ({target} steps)");
            run.Process.Kill(entireProcessTree: true); // SIGKILL
            run.Wait();
        }
        var recorded = new HashSet<string>();
        foreach (var dir in Directory.GetDirectories(runDir))
        {
            var stepFile = Path.Combine(dir, "step.json");
            if (!File.Exists(stepFile)) continue;
            using var doc = JsonDocument.Parse(File.ReadAllText(stepFile));
            if (doc.RootElement.GetProperty("status").GetString() != "Succeeded") continue;
            var name = Path.GetFileName(dir);
            recorded.Add(name);
            var (data, sha) = Output(dir);
            Assert.Equal("sha256:" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(data))).ToLowerInvariant(), sha);
        }
        Assert.NotEmpty(recorded);
        foreach (var name in recorded)
        {
            var up = name == "side" ? "s5" : name == "s0" ? null : "s" + (int.Parse(name[1..], System.Globalization.CultureInfo.InvariantCulture) - 1);
            Assert.True(up is null || recorded.Contains(up), $"seed {seed}: {name} is recorded as done but its upstream {up} is not");
        }

        var resumed = new Running(Axl(Repo.Root, "run", "local", file, "--run-root", Root, "--resume", "killed", "--json")).Wait(120);
        Assert.True(resumed.Exit == 0, resumed.Err);
        using var record = JsonDocument.Parse(resumed.Out);
        var reused = new HashSet<string>();
        foreach (var step in record.RootElement.GetProperty("steps").EnumerateArray())
        {
            var name = step.GetProperty("name").GetString()!;
            Assert.Equal("Succeeded", step.GetProperty("status").GetString());
            if (step.TryGetProperty("reusedFrom", out var from) && from.ValueKind == JsonValueKind.String) reused.Add(name);
            var (data, sha) = Output(Path.Combine(runDir, name));
            Assert.Equal("sha256:" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(data))).ToLowerInvariant(), sha);
        }
        Assert.True(recorded.SetEquals(reused), $"seed {seed}: recorded before the kill {string.Join(",", recorded.Order())}; reused {string.Join(",", reused.Order())}");
        output.WriteLine($"seed {seed}: {recorded.Count} steps recorded at the kill, reused on resume; {41 - recorded.Count} ran again");
    }

    private static (string DataFile, string Sha256) Output(string stepDir)
    {
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(stepDir, "output.meta.json")));
        return (Path.Combine(stepDir, meta.RootElement.GetProperty("file").GetString()!), meta.RootElement.GetProperty("sha256").GetString()!);
    }

    private static string StepStates(string runDir) => string.Join(", ", Directory.Exists(runDir)
        ? Directory.GetDirectories(runDir).Select(d =>
        {
            try { return $"{Path.GetFileName(d)}={JsonDocument.Parse(File.ReadAllText(Path.Combine(d, "step.json"))).RootElement.GetProperty("status").GetString()}"; }
            catch (Exception ex) when (ex is IOException or JsonException) { return $"{Path.GetFileName(d)}=?"; }
        })
        : Array.Empty<string>());

    // ---- one run, one writer ----------------------------------------------------------------------------------

    [Fact]
    public void Of_two_resumes_of_one_run_at_once_exactly_one_runs_and_the_other_is_refused_untouched()
    {
        var ready = Path.Combine(_dir.Path, "ready");
        var gate = Path.Combine(_dir.Path, "gate");
        var file = _dir.Write("busy.axl.ps1", $$"""
            AxlWorkflow busy {
                Step wait {
                    if (-not [System.IO.File]::Exists('{{ready}}')) { throw 'not ready yet' }
                    while (-not [System.IO.File]::Exists('{{gate}}')) { [System.Threading.Thread]::Sleep(50) }
                    'waited'
                }
                Step after { param($wait) "$wait, then after" }
            }
            """);
        var first = new Running(Axl(Repo.Root, "run", "local", file, "--run-root", Root, "--run-id", "b1", "--quiet")).Wait();
        Assert.Equal(1, first.Exit); // failed: a run to resume
        File.WriteAllText(ready, "");

        using var a = new Running(Axl(Repo.Root, "run", "local", file, "--run-root", Root, "--resume", "b1", "--json"));
        using var b = new Running(Axl(Repo.Root, "run", "local", file, "--run-root", Root, "--resume", "b1", "--json"));
        // The gate is shut: the one that runs waits in 'wait'; the other is refused at once.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!a.Process.HasExited && !b.Process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(20);
        var (loser, winner) = a.Process.HasExited ? (a, b) : (b, a);
        Assert.True(loser.Process.HasExited, "neither resume was refused");
        var refused = loser.Wait();
        var runDir = Path.Combine(Root, "busy", "b1");
        var logBefore = File.ReadAllText(Path.Combine(runDir, "log.jsonl"));
        Assert.Equal(1, refused.Exit);
        Assert.Equal("", refused.Out);
        Assert.Contains("error Axl.RunLocked: run 'b1' of workflow 'busy' is being run by process " + winner.Process.Id, refused.Err);
        Assert.Matches(@"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", refused.Err);
        Assert.DoesNotContain("internal error", refused.Err);

        File.WriteAllText(gate, "");
        var ran = winner.Wait();
        Assert.True(ran.Exit == 0, ran.Err);
        using var record = JsonDocument.Parse(ran.Out);
        Assert.Equal("Succeeded", record.RootElement.GetProperty("status").GetString());
        Assert.Equal(1, record.RootElement.GetProperty("resumes").GetInt32()); // one resume ran, not two
        var wait = record.RootElement.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "wait");
        Assert.Equal(2, wait.GetProperty("attempts").GetInt32()); // the failed first run's attempt, and the winner's
        // The refused one wrote nothing: every log line after the first run's is the winner's own.
        var started = File.ReadAllLines(Path.Combine(runDir, "log.jsonl")).Count(l => l.Contains("\"event\":\"RunStarted\"", StringComparison.Ordinal));
        Assert.Equal(2, started);
        Assert.StartsWith(logBefore, File.ReadAllText(Path.Combine(runDir, "log.jsonl")));
    }

    // ---- bad input never crashes ------------------------------------------------------------------------------

    public static TheoryData<string, string, string> BadParameterFiles => new()
    {
        // file name, content, what the message says (after "<file>:")
        { "unclosed.yaml", "Base: [1, 2\n", ":2:1: not valid YAML" },
        { "unclosed-map.yaml", "Base: {a: 1\n", "close the { ... } mapping" },
        { "list-key.yaml", "? [a, b]\n: 1\n", ":1:3: a key must be a name, not a list" },
        { "map-key.yaml", "{a: 1}: 2\n", ":1:1: a key must be a name, not a mapping" },
        { "tabs.yaml", "Base: 1\n\tOther: 2\n", "YAML does not allow tabs" },
        { "alias.yaml", "a: &a [1, 2]\nBase: *a\n", ":2:7: an alias (*a) is not allowed" },
        { "twice.yaml", "Base: 1\nBase: 2\n", ":2:1: the key 'Base' appears twice" },
        { "broken.json", "{ \"Base\": [1, }", ":1:" },
        { "bomb.yaml", AliasBomb(), ":2:8: an alias (*a) is not allowed" }, // 9^25 "lol"s if expanded
    };

    private static string AliasBomb()
    {
        var lines = new List<string> { "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]" };
        for (var c = 'b'; c <= 'z'; c++) lines.Add($"{c}: &{c} [{string.Join(",", Enumerable.Repeat($"*{(char)(c - 1)}", 9))}]");
        lines.Add("Base: *z");
        return string.Join("\n", lines) + "\n";
    }

    [Fact]
    public void Bad_parameter_files_and_an_alias_bomb_exit_1_with_the_place_and_the_fix()
    {
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(BadParameterFiles, new ParallelOptions { MaxDegreeOfParallelism = 2 }, row =>
        {
            var (name, content, expected) = ((string)row[0], (string)row[1], (string)row[2]);
            var path = _dir.Write(name, content);
            var (exit, _, err) = new Running(Axl(Repo.Root, "run", "local", "examples/diamond/diamond.axl.ps1", "--run-root", Root, "--params", path)).Wait();
            if (exit != 1 || !err.Contains($"axl: {path}", StringComparison.Ordinal) || !err.Contains(expected, StringComparison.Ordinal) || err.Contains("internal error", StringComparison.Ordinal))
                failures.Add($"{name}: exit {exit}, expected 1 and '{expected}': {err}");
        });
        Assert.Empty(failures);
        Assert.False(Directory.Exists(Path.Combine(Root, "diamond")) && Directory.GetDirectories(Path.Combine(Root, "diamond")).Any(d => !Path.GetFileName(d).StartsWith('.')),
            "a bad parameters file started a run");
    }

    private string Manifest(Action<Dictionary<string, object?>> change, string step = "a")
    {
        var m = new Dictionary<string, object?>
        {
            ["schemaVersion"] = 1, ["workflow"] = "mf", ["workflowFile"] = "flow.axl.ps1", ["workDir"] = _dir.Path, ["step"] = step,
            ["inputs"] = new object?[] { new Dictionary<string, object?> { ["name"] = "N", ["source"] = "parameter", ["from"] = "N", ["value"] = "3" } },
            ["output"] = new Dictionary<string, object?> { ["directory"] = Path.Combine(_dir.Path, "out", step), ["ioHandler"] = "clixml" },
        };
        change(m);
        return JsonSerializer.Serialize(m);
    }

    private static Dictionary<string, object?> Out(Dictionary<string, object?> m) => (Dictionary<string, object?>)m["output"]!;
    private static Dictionary<string, object?> Input(Dictionary<string, object?> m) => (Dictionary<string, object?>)((object?[])m["inputs"]!)[0]!;

    [Fact]
    public void Bad_step_manifests_exit_3_naming_the_field()
    {
        _dir.Write("flow.axl.ps1", "AxlWorkflow mf {\n  Parameter N -Default 2\n  Step a { param($N) $N * 2 }\n}\n");
        var blocker = _dir.Write("a-file", "not a folder");
        var cases = new (string Name, string Manifest, string Expected)[]
        {
            ("null input", Manifest(m => m["inputs"] = new object?[] { null }), "'inputs[0]' is null; each input must be an object"),
            ("number input", Manifest(m => m["inputs"] = new object?[] { 5 }), "'inputs[0]' is a number"),
            ("inputs not a list", Manifest(m => m["inputs"] = new Dictionary<string, object?> { ["N"] = 1 }), "'inputs' must be a list of inputs, not an object"),
            ("name of the wrong type", Manifest(m => Input(m)["name"] = 5), "'inputs[0].name' must be a string, not a number"),
            ("unknown source", Manifest(m => Input(m)["source"] = "weird"), "'inputs[0].source' is 'weird'; it must be one of step, parameter, constant, context"),
            ("step input without path", Manifest(m => Input(m)["source"] = "step"), "'inputs[0].path' is missing"),
            ("constant not JSON", Manifest(m => { Input(m)["source"] = "constant"; Input(m)["value"] = "{nope"; }), "'inputs[0].value' is not valid JSON"),
            ("fractional schema", Manifest(m => m["schemaVersion"] = 1.5), "'schemaVersion' must be a whole number, not 1.5"),
            ("missing step", Manifest(m => m.Remove("step")), "'step' is missing"),
            ("null workflow", Manifest(m => m["workflow"] = null), "'workflow' is null; it must be a string"),
            ("output a string", Manifest(m => m["output"] = "out"), "'output' must be an object with 'directory' and 'ioHandler', not a string"),
            ("handler a number", Manifest(m => Out(m)["ioHandler"] = 3), "'output.ioHandler' must be a string, not a number"),
            ("unknown handler", Manifest(m => Out(m)["ioHandler"] = "nope"), "output.ioHandler 'nope' in the manifest is not a known IO handler (known: "),
            ("unwritable output folder", Manifest(m => Out(m)["directory"] = Path.Combine(blocker, "out")), $"the output folder {Path.Combine(blocker, "out")} (output.directory in the manifest) cannot be written"),
            ("unwritable value file folder", Manifest(m => Out(m)["valueFile"] = Path.Combine(blocker, "v.txt")), "(output.valueFile in the manifest) cannot be written"),
            ("not JSON", "{ nope", "is not valid JSON"),
        };
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = 2 }, c =>
        {
            var (exit, stdout, err) = new Running(Axl(_dir.Path, "step", "--manifest-json", c.Manifest)).Wait();
            var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
            string message;
            try { message = JsonDocument.Parse(last).RootElement.GetProperty("message").GetString() ?? ""; }
            catch (JsonException) { message = last; }
            if (exit != 3 || !message.Contains(c.Expected, StringComparison.Ordinal))
                failures.Add($"{c.Name}: exit {exit} (expected 3), message '{message}' (expected '{c.Expected}'); stderr: {err}");
        });
        Assert.Empty(failures);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out", "a")) && Directory.GetFiles(Path.Combine(_dir.Path, "out", "a")).Length > 0, "a refused manifest ran its step");
    }
}
