using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// The workflow hash covers the code, not only the steps, as the built axl shows and uses it: `axl validate`'s hash,
/// the reuse of steps on --resume, and the runner's check of the code it finds in its work dir.
/// </summary>
public sealed class CodeIntegrityTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Flow = """
        function Greeting { 'hello' }
        AxlWorkflow greet {
            Step a { Greeting }
            Step b { param($a) "$a!" }
        }

        """;

    private static string HashOf(string stdout) => Regex.Match(stdout, @"hash\s+(blake3:[0-9a-f]{64})").Groups[1].Value;

    [Fact]
    public void Validate_shows_a_hash_that_changes_with_any_shipped_file_and_not_with_an_ignored_one()
    {
        var file = _dir.Write("code/greet.axl.ps1", Flow);
        _dir.Write("code/count_words.py", "print(1)\n");
        _dir.Write("code/.axlignore", "scratch/\n");
        string Hash()
        {
            var r = CliTests.Axl("validate", file);
            Assert.True(r.Exit == 0, r.Err);
            var hash = HashOf(r.Out);
            Assert.NotEmpty(hash);
            return hash;
        }
        var first = Hash();
        Assert.Equal(first, Hash());

        _dir.Write("code/scratch/notes.txt", "ignored");
        Assert.Equal(first, Hash());

        _dir.Write("code/count_words.py", "print(2)  # changed\n");
        var second = Hash();
        Assert.NotEqual(first, second);

        File.AppendAllText(file, "Write-Host 'one more line'\n");
        var third = Hash();
        Assert.NotEqual(second, third);
    }

    [Fact]
    public void Resume_reruns_steps_when_a_top_level_function_changed()
    {
        var file = _dir.Write("code/greet.axl.ps1", Flow);
        var root = Path.Combine(_dir.Path, "runs");
        var first = CliTests.Axl("run", "local", file, "--run-root", root, "--run-id", "r1");
        Assert.True(first.Exit == 0, first.Err);

        var same = CliTests.Axl("run", "local", file, "--run-root", root, "--resume", "r1", "--json");
        Assert.True(same.Exit == 0, same.Err);
        Assert.All(Steps(same.Out), s => Assert.Equal("resume", s.GetProperty("reusedFrom").GetString()));

        File.WriteAllText(file, Flow.Replace("'hello'", "'bye'"));
        var changed = CliTests.Axl("run", "local", file, "--run-root", root, "--resume", "r1", "--json");
        Assert.True(changed.Exit == 0, changed.Err);
        Assert.All(Steps(changed.Out), s => Assert.False(s.TryGetProperty("reusedFrom", out var r) && r.ValueKind == JsonValueKind.String, $"step {s.GetProperty("name")} was reused"));
        var output = Directory.GetFiles(Path.Combine(root, "greet", "r1", "b"), "output.*").Single(f => !f.EndsWith(".meta.json", StringComparison.Ordinal));
        Assert.Contains("bye!", File.ReadAllText(output));
    }

    [Fact]
    public void Resume_after_a_fix_to_one_step_reruns_that_step_and_what_reads_it_only()
    {
        const string three = """
            function Greeting { 'hello' }
            AxlWorkflow greet3 {
                Step a { Greeting }
                Step b { param($a) throw 'broken' }
                Step c { 'independent' }
            }

            """;
        var file = _dir.Write("code/greet3.axl.ps1", three);
        var root = Path.Combine(_dir.Path, "runs");
        var first = CliTests.Axl("run", "local", file, "--run-root", root, "--run-id", "r1");
        Assert.Equal(1, first.Exit);

        // The fix (Example 3 of Invoke-AxlLocalRun): the failed step's body changes, nothing else of the file does.
        File.WriteAllText(file, three.Replace("throw 'broken'", "\"$a!\""));
        var fixedRun = CliTests.Axl("run", "local", file, "--run-root", root, "--resume", "r1", "--json");
        Assert.True(fixedRun.Exit == 0, fixedRun.Err);
        string? Reused(string step) => Steps(fixedRun.Out).Single(s => s.GetProperty("name").GetString() == step)
            .TryGetProperty("reusedFrom", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        Assert.Equal("resume", Reused("a"));
        Assert.Equal("resume", Reused("c"));
        Assert.Null(Reused("b"));

        // A change outside the Step commands (the function a step calls) still reruns every step.
        File.WriteAllText(file, three.Replace("throw 'broken'", "\"$a!\"").Replace("'hello'", "'bye'"));
        var changed = CliTests.Axl("run", "local", file, "--run-root", root, "--resume", "r1", "--json");
        Assert.True(changed.Exit == 0, changed.Err);
        Assert.All(Steps(changed.Out), s => Assert.False(s.TryGetProperty("reusedFrom", out var r) && r.ValueKind == JsonValueKind.String, $"step {s.GetProperty("name")} was reused"));
    }

    [Fact]
    public void A_run_root_inside_the_code_root_does_not_stop_reuse()
    {
        var file = _dir.Write("greet.axl.ps1", Flow);
        var root = Path.Combine(_dir.Path, "runs"); // inside the workflow's folder, not ignored
        Assert.True(CliTests.Axl("run", "local", file, "--run-root", root, "--run-id", "r1").Exit == 0);
        var again = CliTests.Axl("run", "local", file, "--run-root", root, "--resume", "r1", "--json");
        Assert.True(again.Exit == 0, again.Err);
        Assert.All(Steps(again.Out), s => Assert.Equal("resume", s.GetProperty("reusedFrom").GetString()));
    }

    [Fact]
    public void The_runner_refuses_a_work_dir_whose_code_differs_from_the_compiled_hash()
    {
        var code = Path.Combine(_dir.Path, "code");
        var file = _dir.Write("code/greet.axl.ps1", Flow);
        _dir.Write("code/helper.py", "print(1)\n");
        var hash = HashOf(CliTests.Axl("validate", file).Out);
        string Manifest(string output) => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["schemaVersion"] = 1,
            ["workflow"] = "greet",
            ["workflowHash"] = hash,
            ["workflowFile"] = "greet.axl.ps1",
            ["workDir"] = code,
            ["step"] = "a",
            ["inputs"] = Array.Empty<object>(),
            ["output"] = new Dictionary<string, object?> { ["directory"] = Path.Combine(_dir.Path, "out", output), ["ioHandler"] = "clixml", ["extension"] = ".clixml" },
        });

        var ok = CliTests.Axl("step", "--manifest-json", Manifest("ok"));
        Assert.True(ok.Exit == 0, ok.Out + ok.Err);

        _dir.Write("code/helper.py", "print(2)\n");
        var refused = CliTests.Axl("step", "--manifest-json", Manifest("refused"));
        Assert.True(refused.Exit == 3, refused.Out + refused.Err);
        Assert.Contains($"is not the one this manifest was compiled from ({hash})", refused.Out);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out", "refused", "output.clixml")));
    }

    private static List<JsonElement> Steps(string json) =>
        JsonDocument.Parse(json).RootElement.GetProperty("steps").EnumerateArray().ToList();
}
