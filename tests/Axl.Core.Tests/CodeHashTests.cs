using Axl.Dsl;
using Axl.Model;

namespace Axl.Core.Tests;

/// <summary>
/// The workflow hash covers the code around the definition: every file of the code root a code archive would hold
/// (same ignore rules), not only the steps. Real files in a scratch folder.
/// </summary>
public sealed class CodeHashTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "axl-codehash-" + Guid.NewGuid().ToString("N")[..10]);

    public CodeHashTests()
    {
        Directory.CreateDirectory(_root);
        Write("word-stats.axl.ps1", "function Top { 5 }\nAxlWorkflow word-stats {\n    Step counts -Command python3 -ArgumentList count_words.py { }\n}\n");
        Write("count_words.py", "import sys\nprint(len(sys.stdin.read().split()))\n");
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private string Write(string rel, string content)
    {
        var file = Path.Combine(_root, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, content);
        return file;
    }

    /// <summary>The same definition each time, from the file in the scratch folder.</summary>
    private AxlWorkflow Load() =>
        new WorkflowBuilder("word-stats", null, new SourceLocation(Path.Combine(_root, "word-stats.axl.ps1"), 2))
            .AddStep("counts", "", new StepOptions { Command = "python3", ArgumentList = new[] { "count_words.py" }, CommandSpecified = true }, new SourceLocation(Path.Combine(_root, "word-stats.axl.ps1"), 3))
            .Build();

    [Fact]
    public void A_changed_helper_file_changes_the_hash_but_not_the_definition_hash()
    {
        var before = Load();
        var (code, hash) = (before.CodeHash, before.Hash); // computed when first asked for: now, before the change
        Write("count_words.py", "import sys, os\nprint(len(sys.stdin.read().split()))\n");
        var after = Load();
        Assert.Equal(before.DefinitionHash, after.DefinitionHash);
        Assert.NotEqual(code, after.CodeHash);
        Assert.NotEqual(hash, after.Hash);
        Assert.Matches("^blake3:[0-9a-f]{64}$", after.Hash);
    }

    [Fact]
    public void A_line_added_to_the_workflow_file_outside_the_steps_changes_the_hash()
    {
        var before = Load();
        var hash = before.Hash;
        File.AppendAllText(Path.Combine(_root, "word-stats.axl.ps1"), "Write-Host 'one more line'\n");
        var after = Load();
        Assert.Equal(before.DefinitionHash, after.DefinitionHash);
        Assert.NotEqual(hash, after.Hash);
    }

    [Fact]
    public void A_new_file_and_an_executable_bit_change_the_hash()
    {
        var first = Load().Hash;
        var added = Write("lib/helpers.ps1", "function H { 1 }\n");
        var second = Load().Hash;
        Assert.NotEqual(first, second);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(added, File.GetUnixFileMode(added) | UnixFileMode.UserExecute);
            Assert.NotEqual(second, Load().Hash);
        }
    }

    [Fact]
    public void Ignored_files_do_not_change_the_hash()
    {
        Write(".axlignore", "data/\n*.log\n");
        var before = Load().Hash;
        Write("data/big.csv", "a,b\n1,2\n");
        Write("run.log", "noise");
        Write(".git/HEAD", "ref: refs/heads/main\n");      // ignored by default
        Write(".axl/runs/x/run.json", "{}");                // a local run root: ignored by default
        Write("bin/Debug/out.dll", "MZ");
        Write("__pycache__/helpers.cpython-313.pyc", "bytecode"); // what a step's `import helpers` writes
        Write("lib/old.pyc", "bytecode");
        Assert.Equal(before, Load().Hash);

        Write("data/big.csv", "a,b\n1,2\n3,4\n");
        Assert.Equal(before, Load().Hash);
        Write(".axlignore", "data/\n"); // the ignore file itself is shipped, so changing it changes the hash
        Assert.NotEqual(before, Load().Hash);
    }

    [Fact]
    public void The_hash_is_the_same_in_another_folder_with_the_same_files()
    {
        var here = Load();
        var copy = Path.Combine(Path.GetTempPath(), "axl-codehash-copy-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            Directory.CreateDirectory(copy);
            foreach (var f in Directory.GetFiles(_root)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
            var there = new WorkflowBuilder("word-stats", null, new SourceLocation(Path.Combine(copy, "word-stats.axl.ps1"), 2))
                .AddStep("counts", "", new StepOptions { Command = "python3", ArgumentList = new[] { "count_words.py" }, CommandSpecified = true }, new SourceLocation(Path.Combine(copy, "word-stats.axl.ps1"), 3))
                .Build();
            Assert.Equal(here.Hash, there.Hash);
            Assert.Equal(here.Hash, there.HashFor(copy));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void Another_code_root_and_excluded_folders_are_hashed_as_given()
    {
        var wf = Load();
        Assert.Equal(wf.Hash, wf.HashFor(_root));
        var runs = Path.Combine(_root, "runs");
        var before = wf.HashFor(null, new[] { runs });
        Write("runs/r1/out.txt", "an output");
        Assert.Equal(before, Load().HashFor(null, new[] { runs }));
        Assert.NotEqual(before, Load().Hash);
    }

    [Fact]
    public void A_workflow_without_a_file_on_disk_hashes_its_definition_only()
    {
        var wf = new WorkflowBuilder("mem", null, new SourceLocation("/no/such/dir/mem.axl.ps1", 1)).AddStep("a", "1").Build();
        Assert.Null(wf.CodeRoot);
        Assert.Null(wf.CodeHash);
        Assert.Equal(wf.DefinitionHash, wf.Hash);
        Assert.Equal(wf.DefinitionHash, wf.HashFor("/elsewhere"));
    }

    [Fact]
    public void The_steps_key_code_leaves_out_Step_commands_comments_and_spacing_but_not_other_code()
    {
        const string flow = "#requires -Version 7\nfunction Top { 5 }\nAxlWorkflow w {\n    Step a { Top }\n    Step b -Timeout 5 { param($a) $a + 1 }\n}\n";
        var basis = Hashing.CodeTreeHasher.WithoutStepCommands(flow);
        Assert.DoesNotContain("Step", basis);
        Assert.Contains("function Top { 5 }", basis);
        Assert.Contains("#requires -Version 7", basis);
        // A step's body or options, a comment, a trailing newline, indentation: the same.
        foreach (var same in new[]
                 {
                     flow.Replace("$a + 1", "$a + 2"), flow.Replace("-Timeout 5", "-Timeout 9 -Retries 2"), flow + "\n\n",
                     flow.Replace("function Top", "# the top\nfunction Top"), flow.Replace("    Step a", "\tStep a"),
                 })
            Assert.Equal(basis, Hashing.CodeTreeHasher.WithoutStepCommands(same));
        // Code outside the steps: different.
        foreach (var other in new[]
                 {
                     flow.Replace("{ 5 }", "{ 6 }"), flow.Replace("#requires -Version 7", "#requires -Version 7.4"),
                     flow.Replace("AxlWorkflow w {", "$x = 1\nAxlWorkflow w {"), flow.Replace("function Top { 5 }", "function Top { 5 ; 6 }"),
                 })
            Assert.NotEqual(basis, Hashing.CodeTreeHasher.WithoutStepCommands(other));

        var file = Write("word-stats.axl.ps1", flow);
        var key = Hashing.CodeTreeHasher.ComputeForStepKeys(_root, file);
        Write("word-stats.axl.ps1", flow.Replace("$a + 1", "$a + 2"));
        Assert.Equal(key, Hashing.CodeTreeHasher.ComputeForStepKeys(_root, file));
        Write("count_words.py", "print(0)\n"); // another file of the code root: always code
        Assert.NotEqual(key, Hashing.CodeTreeHasher.ComputeForStepKeys(_root, file));
    }
}
