using System.Globalization;
using System.Management.Automation;
using System.Text;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// The loader's static fast path (issue #16): a workflow file loaded with AXL_LOADER's modes execute (every Step and
/// Parameter command runs) and auto (static blocks are read from the AST) gives the same IR, hash, diagnostics (with
/// file:line), step locations, step bodies and compiled Argo YAML. Static blocks must take the fast path, dynamic ones
/// must fall back to running, and the load report says which. A third way, the file read without running it
/// (<see cref="Axl.Dsl.StaticWorkflowFile"/>, what `axl validate`, `compile`, `graph` and `step` do before they open a
/// runspace), must give the same again whenever it reads a file, and must refuse every file whose top level has to run.
/// </summary>
[Collection("PowerShell")]
public sealed class StaticLoaderTests(PowerShellFixture ps)
{
    /// <summary>Loads a file in one mode and returns, per workflow, everything that must not depend on the mode.</summary>
    private const string LoadScript = """
        # $path and $mode are set by the fixture; $preread too in the mode File (the workflows StaticWorkflowFile read).
        $report = $null
        $out = [System.Collections.Generic.List[object]]::new()
        try {
            $wfs = if ($mode -in 'File', 'Pieces') { $preread } else { [Axl.Dsl.WorkflowLoader]::Load($ExecutionContext.SessionState, $path, [NullString]::Value, $mode, [ref]$report) }
        } catch {
            $e = $_.Exception; while ($e.InnerException -and $e -is [System.Management.Automation.MethodInvocationException]) { $e = $e.InnerException }
            return [pscustomobject]@{ Name = '<error>'; Text = "$($e.GetType().Name) $($e.Id) $($e.File):$($e.Line) $($e.Message)"; Static = 0; Executed = 0; Fallbacks = @() }
        }
        foreach ($wf in $wfs) {
            $diagnostics = [Axl.Validation.WorkflowValidator]::Validate($wf)
            $sb = [System.Text.StringBuilder]::new()
            $null = $sb.AppendLine([Axl.Serialization.IrDocument]::ToJson([Axl.Serialization.IrDocument]::ToTree($wf, $true, $diagnostics)))
            $null = $sb.AppendLine("hash $($wf.Hash) definition $($wf.DefinitionHash) location $($wf.Location)")
            # The definition hash is written straight from the IR: it must be the hash of the IR's tree, byte for byte.
            $tree = [Axl.Serialization.IrDocument]::Hash([Axl.Serialization.IrDocument]::ToTree($wf, $false, $null))
            if ($tree -ne $wf.DefinitionHash) { $null = $sb.AppendLine("definition hash $($wf.DefinitionHash) differs from the tree's $tree") }
            foreach ($d in $diagnostics) { $null = $sb.AppendLine("diagnostic $d") }
            foreach ($p in $wf.Parameters) { $null = $sb.AppendLine("parameter $($p.Name) at $($p.Location) default [$($p.Default)] $(if ($null -ne $p.Default) { $p.Default.GetType().FullName })") }
            foreach ($s in $wf.Steps) {
                $b = $s.Body
                $null = $sb.AppendLine("step $($s.Name) at $($s.Location)")
                if ($b) { $null = $sb.AppendLine("  body $($b.File):$($b.Ast.Extent.StartLineNumber):$($b.Ast.Extent.StartColumnNumber)-$($b.Ast.Extent.EndLineNumber):$($b.Ast.Extent.EndColumnNumber) $($b.StartPosition.StartLine):$($b.StartPosition.StartColumn) module=$(if ($mode -in 'File', 'Pieces') { 'unbound' } else { "$($null -ne $b.Module) sameModuleAsFirst=$([object]::ReferenceEquals($b.Module, $wf.Steps[0].Body.Module))" }) isFilter=$($b.IsFilter) [$b]") }
            }
            try {
                $doc = [Axl.Compilers.Argo.ArgoCompiler]::Compile($wf, $null)
                $null = $sb.AppendLine("argo:").AppendLine($doc.ToYamlAll())
            } catch { $null = $sb.AppendLine("argo failed: $($_.Exception.InnerException.Message)") }
            $out.Add([pscustomobject]@{ Name = $wf.Name; Text = $sb.ToString(); Static = [int]$report.StaticBlocks; Executed = [int]$report.ExecutedBlocks; Fallbacks = @(if ($report) { $report.Fallbacks }) })
        }
        $out
        """;

    private sealed record Loaded(string Name, string Text, int Static, int Executed, string[] Fallbacks);

    /// <summary>The Name of the one result of the mode File when the file has to run (its Text says why).</summary>
    private const string Runs = "<runs>";

    /// <summary>How many steps the last read in pieces took from pieces (0: the pieces were declined, or the file runs).</summary>
    private int ReadInPieces { get; set; }

    private List<Loaded> Load(string path, string mode)
    {
        var vars = new System.Collections.Hashtable { ["path"] = path, ["mode"] = mode };
        if (mode is "File" or "Pieces")
        {
            // Pieces: the file parsed in pieces (each run of Step lines on its own), as a large file is.
            vars["read"] = mode == "Pieces" ? "Pieces" : "Whole"; // an Axl.Dsl.FileRead
            // What the axl command does: the Axl cmdlets' names and aliases resolve the file's commands.
            var read = ps.Run("""
                $keyword = (Get-Command Add-AxlStep).ImplementingType.Assembly.GetType('Axl.Cmdlets.AxlSessionState').GetMethod('Keyword')
                $why = ''
                $wfs = [Axl.Dsl.StaticWorkflowFile]::TryRead($path, [NullString]::Value, [Delegate]::CreateDelegate([Func[string, Axl.Dsl.DslKeyword]], $keyword), [ref]$why, [Axl.Dsl.FileRead]$read)
                [pscustomobject]@{ Workflows = $wfs; Why = $why; InPieces = [Axl.Dsl.StaticWorkflowFile]::LastReadInPieces }
                """, vars);
            read.ShouldSucceed();
            var o = Assert.Single(read.Output);
            if (mode == "Pieces") ReadInPieces = Convert.ToInt32(o.Properties["InPieces"].Value, CultureInfo.InvariantCulture);
            if (o.Properties["Workflows"].Value is null) return new List<Loaded> { new(Runs, (string)o.Properties["Why"].Value, 0, 0, Array.Empty<string>()) };
            vars["preread"] = o.Properties["Workflows"].Value;
        }
        var r = ps.Run(LoadScript, vars);
        r.ShouldSucceed();
        return r.Output.Select(o => new Loaded(
            (string)o.Properties["Name"].Value, (string)o.Properties["Text"].Value,
            Convert.ToInt32(o.Properties["Static"].Value, CultureInfo.InvariantCulture), Convert.ToInt32(o.Properties["Executed"].Value, CultureInfo.InvariantCulture),
            (o.Properties["Fallbacks"].Value is PSObject { BaseObject: var f } ? f : o.Properties["Fallbacks"].Value) is System.Collections.IEnumerable e ? e.Cast<object>().Select(x => x.ToString()!).ToArray() : Array.Empty<string>())).ToList();
    }

    /// <summary>
    /// Loads both ways, asserts the results are identical, and returns the auto load (for its report). The file is also
    /// read without running it: when that reads it, the result must be the same again (the bodies apart, which are not
    /// bound to a module); a file that fails to load must never be read. <paramref name="readWithoutRunning"/>: whether
    /// it was, or null not to care.
    /// </summary>
    private List<Loaded> AssertSameBothWays(string path, bool? readWithoutRunning = null) => AssertSameBothWays(path, readWithoutRunning, out _);

    private List<Loaded> AssertSameBothWays(string path, bool? readWithoutRunning, out string whyItRuns)
    {
        var executed = Load(path, "Execute");
        var auto = Load(path, "Auto");
        Assert.NotEmpty(executed);
        Assert.True(executed.Count == auto.Count,
            $"{path}: {executed.Count} workflow(s) executed, {auto.Count} in auto mode:\n  execute: {string.Join("\n           ", executed.Select(w => $"{w.Name}: {Cut(w.Text)}"))}\n  auto:    {string.Join("\n           ", auto.Select(w => $"{w.Name}: {Cut(w.Text)}"))}");
        for (var i = 0; i < executed.Count; i++)
        {
            Assert.DoesNotContain("differs from the tree's", executed[i].Text);
            Assert.Equal(executed[i].Name, auto[i].Name);
            if (executed[i].Text != auto[i].Text)
                Assert.Fail($"{path}: workflow '{executed[i].Name}' differs between execute and auto:\n{FirstDifference(executed[i].Text, auto[i].Text)}\nfallbacks: {string.Join("; ", auto[i].Fallbacks)}");
            Assert.Equal(0, executed[i].Static);
        }
        var file = Load(path, "File");
        whyItRuns = file[0].Name == Runs ? file[0].Text : "";
        // Read in pieces, the file gives the same again (or runs, for the same reason).
        var pieces = Load(path, "Pieces");
        Assert.Equal(file.Count, pieces.Count);
        for (var i = 0; i < file.Count; i++)
            if (file[i].Text != pieces[i].Text)
                Assert.Fail($"{path}: workflow '{file[i].Name}' differs between the file read whole and in pieces:\n{FirstDifference(file[i].Text, pieces[i].Text)}");
        if (readWithoutRunning is { } expected)
            Assert.True(expected == (file[0].Name != Runs), $"{path}: expected the file {(expected ? "to be read without running it, but it runs: " + whyItRuns : "to run, but it was read without running it")}");
        if (file[0].Name == Runs) return auto;
        Assert.True(executed[0].Name != "<error>", $"{path}: the load fails ({Cut(executed[0].Text)}), but the file was read without running it");
        Assert.Equal(executed.Count, file.Count);
        for (var i = 0; i < executed.Count; i++)
        {
            var x = Unbound(executed[i].Text);
            if (x != file[i].Text)
                Assert.Fail($"{path}: workflow '{executed[i].Name}' differs between execute and the file read without running it:\n{FirstDifference(x, file[i].Text)}");
        }
        return auto;
    }

    private static string Unbound(string text) => System.Text.RegularExpressions.Regex.Replace(text, @" module=\S+ sameModuleAsFirst=\S+", " module=unbound");

    private static string FirstDifference(string a, string b)
    {
        var la = a.Split('\n');
        var lb = b.Split('\n');
        for (var i = 0; i < Math.Max(la.Length, lb.Length); i++)
        {
            var x = i < la.Length ? la[i] : "<end>";
            var y = i < lb.Length ? lb[i] : "<end>";
            if (x != y) return $"line {i + 1}:\n  execute: {Cut(x)}\n  auto:    {Cut(y)}";
        }
        return "(no line differs)";
    }

    private static string Cut(string s) => s.Length > 600 ? s[..600] + "..." : s;

    public static IEnumerable<object[]> Examples() =>
        Directory.EnumerateFiles(Repo.Examples, "*.axl.ps1", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => new object[] { Path.GetRelativePath(Repo.Root, f) });

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_loads_the_same_both_ways_and_takes_the_fast_path(string relative)
    {
        var path = Path.Combine(Repo.Root, relative);
        // Every example but one whose top level imports a module and dot-sources a helper is read without running it.
        var auto = AssertSameBothWays(path, readWithoutRunning: !File.ReadAllText(path).Contains("using module", StringComparison.Ordinal));
        // Read in pieces when it has two Step lines or more (the pieces must not be declined where they are sound).
        if (!File.ReadAllText(path).Contains("using module", StringComparison.Ordinal) && StepLines(File.ReadAllText(path)) >= 2)
            Assert.True(ReadInPieces > 0, $"{relative}: the pieces were declined");
        Assert.All(auto, w => Assert.True(w.Static == 1 && w.Executed == 0, $"{relative}: expected the fast path, got {w.Static} static and {w.Executed} executed: {string.Join("; ", w.Fallbacks)}"));
    }

    /// <summary>How many lines start with the word Step (where pieces start when the file is read in pieces).</summary>
    private static int StepLines(string text) => System.Text.RegularExpressions.Regex.Matches(text, @"(?mi)^[ \t]*Step[ \t]").Count;

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 40).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_static_workflows_load_the_same_both_ways_and_take_the_fast_path(int seed)
    {
        using var dir = new TempDir();
        var (text, blocks) = RandomWorkflowFile.Generate(seed);
        var file = Path.Combine(dir.Path, $"random-{seed}.axl.ps1");
        File.WriteAllText(file, seed % 4 == 0 ? text.Replace("\n", "\r\n") : text);
        var auto = AssertSameBothWays(file, null, out var whyItRuns);
        // A file that loads is read without running it (its top level is a variable, a function and the blocks).
        if (auto[0].Name != "<error>") Assert.True(whyItRuns == "", $"seed {seed}: the file runs: {whyItRuns}\n{text}");
        if (whyItRuns == "" && StepLines(text) >= 2)
            Assert.True(ReadInPieces > 0, $"seed {seed}: the pieces were declined\n{text}");
        Assert.All(auto, w => Assert.True(w.Static == blocks && w.Executed == 0,
            $"seed {seed}: expected {blocks} static blocks, got {w.Static} static and {w.Executed} executed: {string.Join("; ", w.Fallbacks)}\n{text}"));
    }

    /// <summary>Each of these has something only running the block can evaluate: the whole block must run.</summary>
    public static IEnumerable<object[]> Dynamic() => new[]
    {
        new object[] { "loop", "foreach ($i in 1..3) { Step \"s$i\" { $i } }", "not a single Step or Parameter" },
        new object[] { "variable option", "$cpu = '1'\n    Step a -Cpu $cpu { 1 }", "not a single Step or Parameter" },
        new object[] { "variable option only", "Step a -Cpu $script:cpu { 1 }", "-Cpu is not a literal" },
        new object[] { "expression option", "Step a -Retries (1 + 1) { 1 }", "-Retries is not a literal" },
        new object[] { "expandable name", "Step \"a$x\" { 1 }", "-Name is not a literal" },
        new object[] { "graph block", "Step a { 1 }\n    Step b { param($x) $x }\n    Graph { $r = a; b -x $r }", "is not Step or Parameter" },
        new object[] { "helper call", "Add-Steps", "is not Step or Parameter" },
        new object[] { "splatting", "$o = @{ Cpu = '1' }\n    Step a @o { 1 }", "not a single Step or Parameter" },
        new object[] { "splatting only", "Step a @script:o { 1 }", "splatting" },
        new object[] { "abbreviated parameter", "Step a { 1 }\n    Step b -Dep a { 1 }", "-Dep is not read statically" },
        new object[] { "secret", "Step a -Env @{ K = (AxlSecret -EnvironmentVariable HOME) } { 1 }", "-Env is not a literal" },
        new object[] { "unknown parameter", "Step a -Bogus 1 { 1 }", "-Bogus is not read statically" },
        new object[] { "empty name", "Step '' { 1 }", "-Name is empty" },
        new object[] { "bad int", "Step a -Retries many { 1 }", "-Retries is not an int" },
        new object[] { "bool as string", "Step a -Cpu $true { 1 }", "-Cpu is not a single string" },
        new object[] { "number with its own text", "Step a -Memory 1GB { 1 }", "-Memory is not a literal" },
        new object[] { "hex default", "Parameter Hex -Default 0x10", "-Default is not a literal" },
        new object[] { "decimal timeout", "Step a -Timeout 1.50 { 1 }", "-Timeout is not a literal" },
        new object[] { "piped", "Step a { 1 } | Out-Null", "not a single Step or Parameter" },
        new object[] { "bad input mode", "Step a -InputMode sideways { 1 }", "fails parameter binding" },
        new object[] { "bad input mode in a table", "Step a -InputMode @{ x = 'sideways' } { param($x) 1 }", "fails parameter binding" },
        new object[] { "shadowed keyword", "Set-Alias Step Add-AxlParameter -Scope Script\n    Step a 1", "'Set-Alias' is not Step or Parameter" },
    };

    [Theory]
    [MemberData(nameof(Dynamic))]
    public void Dynamic_blocks_fall_back_to_running_with_the_same_result(string what, string block, string reason)
    {
        using var dir = new TempDir();
        var file = dir.Write($"dynamic-{what.Replace(' ', '-')}.axl.ps1", $$"""
            $script:cpu = '2'
            $script:o = @{ Memory = '1Gi' }
            function Add-Steps { Step h1 { 1 }; Step h2 { param($h1) $h1 } }
            AxlWorkflow dyn {
                Parameter Base -Default 1
                {{block}}
            }
            """);
        var auto = AssertSameBothWays(file, readWithoutRunning: false);
        if (auto[0].Name == "<error>") return; // the load fails the same way both ways
        Assert.All(auto, w => Assert.True(w.Static == 0 && w.Executed == 1, $"{what}: expected the block to run, got {w.Static} static and {w.Executed} executed"));
        Assert.Contains(reason, Assert.Single(auto[0].Fallbacks));
        Assert.Contains($"{file}:4", auto[0].Fallbacks[0]);
    }

    [Theory]
    [InlineData("sideways", "'sideways' is not an input mode")]
    [InlineData("@{ x = 'sideways' }", "The input mode 'sideways' given for parameter 'x' is not one")]
    public void A_bad_input_mode_fails_the_load_both_ways_at_its_line(string mode, string message)
    {
        // -InputMode is checked when it is bound (issue 15): the static reader must not turn that error into a diagnostic.
        using var dir = new TempDir();
        var file = dir.Write("bad-mode.axl.ps1", $$"""
            AxlWorkflow modes {
                Step a { 1 }
                Step b -InputMode {{mode}} { param($x) 1 }
            }
            """);
        var auto = AssertSameBothWays(file);
        var error = Assert.Single(auto);
        Assert.Equal("<error>", error.Name);
        Assert.True(error.Text.Contains($"{file}:3", StringComparison.Ordinal), error.Text);
        Assert.Contains(message, error.Text);
    }

    [Fact]
    public void A_keyword_that_resolves_to_another_command_falls_back()
    {
        // The alias is set before the block: Step no longer means Add-AxlStep, so the block must run (and fail as it would).
        using var dir = new TempDir();
        var file = dir.Write("shadow.axl.ps1", """
            function Add-MyStep { param($Name, $ScriptBlock) Add-AxlStep -Name "my-$Name" -ScriptBlock $ScriptBlock }
            Set-Alias Step Add-MyStep
            AxlWorkflow shadow {
                Step a { 1 }
            }
            """);
        var auto = AssertSameBothWays(file, readWithoutRunning: false);
        Assert.Equal(0, auto[0].Static);
        Assert.Contains("'Step' is not Step or Parameter", Assert.Single(auto[0].Fallbacks));
        Assert.Contains("step my-a", auto[0].Text);
    }

    [Fact]
    public void A_workflow_with_WarmEnv_loads_the_same_both_ways_on_the_fast_path()
    {
        using var dir = new TempDir();
        var file = dir.Write("warm.axl.ps1", """
            AxlWorkflow warm -WarmEnv -Requirements 'tinypkg==1.0.0' -Modules 'TinyMod@1.0.0' {
                Step a -Command python3 -ArgumentList '-c', 'import tinypkg'
                Step b { 1 }
            }
            """);
        var auto = AssertSameBothWays(file, readWithoutRunning: true);
        Assert.Equal(1, auto[0].Static);
        Assert.Contains("warmEnv", auto[0].Text);
    }

    /// <summary>Top levels that have something to run: the file is never read without running it, and loads the same both ways.</summary>
    public static IEnumerable<object[]> TopLevelsThatRun() => new[]
    {
        new object[] { "command", "Write-Verbose 'loading'", "top-level statement that runs" },
        new object[] { "dot-source", ". (Join-Path $PSScriptRoot 'helper.ps1')", "top-level statement that runs" },
        new object[] { "import", "Import-Module Microsoft.PowerShell.Utility", "top-level statement that runs" },
        new object[] { "using", "using namespace System.Text", "using statements" },
        new object[] { "requires", "#requires -Version 7.0", "#requires" },
        new object[] { "param block", "param([string] $Where = 'here')", "param, begin, process" },
        new object[] { "environment variable", "$env:AXL_TEST_TOP = 'x'", "top-level statement that runs" },
        new object[] { "preference", "$ErrorActionPreference = 'Stop'", "top-level statement that runs" },
        new object[] { "automatic variable", "$PSDefaultParameterValues = @{}", "top-level statement that runs" },
        new object[] { "typed variable", "[int] $script:n = 3", "top-level statement that runs" },
        new object[] { "computed value", "$script:when = Get-Date", "top-level statement that runs" },
        new object[] { "compound assignment", "$script:n = 1; $script:n += 1", "top-level statement that runs" },
        new object[] { "keyword function", "function Step { param($Name, $ScriptBlock) Add-AxlStep -Name \"f-$Name\" -ScriptBlock $ScriptBlock }", "a function named like the Step keyword" },
        new object[] { "keyword alias", "Set-Alias Parameter Write-Output", "top-level statement that runs" },
        new object[] { "workflow options from a variable", "$script:img = 'x:1'\nAxlWorkflow second -Image $script:img { Step s { 1 } }", "-Image is not a literal" },
        new object[] { "bad code delivery", "AxlWorkflow second -CodeDelivery Tarball { Step s { 1 } }", "-CodeDelivery is not one of Image, Artifact" },
        new object[] { "dynamic second block", "AxlWorkflow second { foreach ($i in 1, 2) { Step \"s$i\" { 1 } } }", "not a single Step or Parameter" },
    };

    [Theory]
    [MemberData(nameof(TopLevelsThatRun))]
    public void A_top_level_that_runs_is_never_read_without_running_it(string what, string topLevel, string reason)
    {
        using var dir = new TempDir();
        dir.Write("helper.ps1", "function Get-Helped { 'helped' }\n");
        var text = topLevel.StartsWith("using", StringComparison.Ordinal) || topLevel.StartsWith("param", StringComparison.Ordinal) || topLevel.StartsWith("#requires", StringComparison.Ordinal)
            ? $"{topLevel}\nAxlWorkflow top {{\n    Step a {{ 1 }}\n}}\n"
            : $"AxlWorkflow top {{\n    Step a {{ 1 }}\n}}\n{topLevel}\n";
        var file = dir.Write($"top-{what.Replace(' ', '-')}.axl.ps1", text);
        try
        {
            AssertSameBothWays(file, readWithoutRunning: false, out var whyItRuns);
            Assert.Contains(reason, whyItRuns);
        }
        finally { Environment.SetEnvironmentVariable("AXL_TEST_TOP", null); }
    }

    [Fact]
    public void Every_workflow_option_is_read_without_running_the_file_with_the_same_result()
    {
        using var dir = new TempDir();
        dir.Write("requirements.txt", "tinypkg==1.0.0\n");
        var file = dir.Write("options.axl.ps1", """
            # Literal variables and functions at the top level do not stop the read.
            $script:Scale = 2, 3
            $Label = @{ team = 'data' }
            function Get-Scaled { param($x) $x * $script:Scale[0] }
            AxlWorkflow options -Image 'registry.local/img:1' -IoHandler json -InputMode path -ServiceAccount runner `
                -ArtifactStore 's3://bucket/prefix' -CodeDelivery artifact -Lockfile 'uv.lock' -RequirementsFile 'requirements.txt' `
                -Modules 'Pester@5.5.0', @{ ModuleName = 'X'; RequiredVersion = '1.0' } -Description 'all of them' -Labels @{ team = 'data'; tier = 2 } {
                Parameter Rate -Default 0.5 -Type double
                Step a { param($Rate) Get-Scaled $Rate }
                Step b -Cpu 1 -Memory 1Gi { param($a) $a }
            }
            New-AxlWorkflow -Name second -Requirements 'a==1', 'b' -WarmEnv:$false -Definition {
                Add-AxlStep -Name one -ScriptBlock { 1 }
            }
            """);
        var auto = AssertSameBothWays(file, readWithoutRunning: true);
        Assert.Equal(2, auto.Count);
        Assert.Contains("registry.local/img:1", auto[0].Text);
    }

    [Fact]
    public void Load_errors_are_the_same_both_ways()
    {
        using var dir = new TempDir();
        var file = dir.Write("error.axl.ps1", """
            AxlWorkflow err {
                Step a { 1 }
                Step b -Gpu 'x' { 1 }
            }
            """);
        var executed = Load(file, "Execute");
        var auto = Load(file, "Auto");
        Assert.Equal("<error>", Assert.Single(executed).Name);
        Assert.Equal(executed[0].Text, Assert.Single(auto).Text);
        Assert.Contains($"{file}:3", executed[0].Text);
    }

    [Fact]
    public void Static_mode_names_the_block_and_the_reason_when_a_block_must_run()
    {
        using var dir = new TempDir();
        var file = dir.Write("strict.axl.ps1", """
            AxlWorkflow strict {
                Step a { 1 }
                foreach ($i in 1..2) { Step "b$i" { 2 } }
            }
            """);
        var strict = Assert.Single(Load(file, "Static"));
        Assert.Equal("<error>", strict.Name);
        Assert.Contains("Axl.WorkflowNotStatic", strict.Text);
        Assert.Contains($"workflow 'strict' ({file}:1): line 3: not a single Step or Parameter command", strict.Text);
        var ok = dir.Write("ok.axl.ps1", "AxlWorkflow ok {\n    Step a { 1 }\n}\n");
        Assert.Equal(1, Assert.Single(Load(ok, "Static")).Static);
    }

    [Fact]
    public void Steps_read_statically_run_in_the_file_module_and_see_its_functions()
    {
        using var dir = new TempDir();
        var file = dir.Write("run.axl.ps1", """
            $script:Factor = 7
            function Get-Times { param($x) $x * $script:Factor }
            AxlWorkflow run {
                Step a { 6 }
                Step b { param([int] $a) Get-Times $a }
            }
            """);
        var r = ps.Run("""
            $report = $null
            $wf = [Axl.Dsl.WorkflowLoader]::Load($ExecutionContext.SessionState, $file, [NullString]::Value, 'Auto', [ref]$report)[0]
            [pscustomobject]@{ Static = $report.StaticBlocks; Value = & $wf.GetStep('b').Body 6 }
            """, new System.Collections.Hashtable { ["file"] = file });
        r.ShouldSucceed();
        var o = Assert.Single(r.Output);
        Assert.Equal(1, Convert.ToInt32(o.Properties["Static"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(42, Convert.ToInt32(o.Properties["Value"].Value, CultureInfo.InvariantCulture));
    }
}

/// <summary>Seeded random workflow files that the static reader accepts: random DAGs with random (valid and invalid) literal options.</summary>
internal static class RandomWorkflowFile
{
    public static (string Text, int Blocks) Generate(int seed)
    {
        var rnd = new Random(seed);
        var sb = new StringBuilder();
        sb.Append("# random workflow, seed ").Append(seed).Append('\n');
        sb.Append("$script:Shared = 'x'\nfunction Get-Helper { param($v) \"$v!\" }\n\n");
        var blocks = 1 + rnd.Next(2);
        for (var w = 0; w < blocks; w++)
        {
            sb.Append("AxlWorkflow ").Append(Pick(rnd, $"wf{seed}-{w}", $"'wf {seed} {w}'", $"\"Wf{seed}_{w}\""));
            if (rnd.Next(3) == 0) sb.Append(" -IoHandler ").Append(Pick(rnd, "json", "clixml", "text"));
            if (rnd.Next(3) == 0) sb.Append(" -Image 'registry.local/r:").Append(rnd.Next(9)).Append('\'');
            if (rnd.Next(6) == 0) sb.Append(" -InputMode ").Append(Pick(rnd, "path", "Object", "'PATH'"));
            if (rnd.Next(6) == 0) sb.Append(" -Description ").Append(Pick(rnd, "'a workflow'", $"\"seed {seed}\""));
            if (rnd.Next(6) == 0) sb.Append(" -Labels ").Append(Pick(rnd, "@{ team = 'data' }", "@{ a = 1; b = $true }", "@{}"));
            if (rnd.Next(8) == 0) sb.Append(" -Requirements ").Append(Pick(rnd, "'numpy==2.0'", "'a==1', 'b==2'"));
            if (rnd.Next(10) == 0) sb.Append(Pick(rnd, " -WarmEnv", " -WarmEnv:$false"));
            sb.Append(" {\n");
            var parameters = new List<string>();
            var paramCount = rnd.Next(4);
            for (var p = 0; p < paramCount; p++)
            {
                var name = Pick(rnd, "Base", "Mode", "Count", "Rate", "Flag") + p;
                parameters.Add(name);
                sb.Append("    ").Append(Pick(rnd, "Parameter", "Add-AxlParameter")).Append(' ').Append(name);
                sb.Append(rnd.Next(4) switch
                {
                    0 => " -Default " + Pick(rnd, "3", "'text'", "1.5", "$true", "$null", "@('a', 'b')", "2048", "-16", "\"dq\"", "0.25"),
                    1 => " " + Pick(rnd, "7", "'pos'", "-1"),
                    _ => "",
                });
                if (rnd.Next(2) == 0) sb.Append(" -Type ").Append(Pick(rnd, "int", "string", "double", "'bool'"));
                if (rnd.Next(3) == 0) sb.Append(" -Description '").Append("about ").Append(name).Append('\'');
                if (rnd.Next(6) == 0) sb.Append(Pick(rnd, " -Sensitive", " -Sensitive:$false", " -Sensitive:$true"));
                sb.Append('\n');
            }
            if (paramCount > 0 && rnd.Next(8) == 0) sb.Append("    Parameter ").Append(parameters[0]).Append(" 1\n"); // duplicate: a diagnostic

            var steps = new List<string>();
            var stepCount = 1 + rnd.Next(25);
            for (var i = 0; i < stepCount; i++)
            {
                var name = rnd.Next(5) == 0 ? $"step-{i}" : $"s{i}";
                var written = Pick(rnd, name, $"'{name}'", $"\"{name}\"");
                if (rnd.Next(30) == 0 && steps.Count > 0) { name = steps[rnd.Next(steps.Count)]; written = name; } // duplicate name
                var options = new List<string>();
                var isCommand = rnd.Next(6) == 0;
                var ups = steps.Distinct(StringComparer.OrdinalIgnoreCase).Where(_ => rnd.Next(3) == 0).Take(4).ToList();
                if (isCommand)
                {
                    options.Add("-Command " + Pick(rnd, "python3", "'sort'", "grep"));
                    var args = new List<string> { "'-x'" };
                    foreach (var u in ups) args.Add($"'{{{u}}}'");
                    if (rnd.Next(3) == 0) args.Add("'{output}'");
                    if (rnd.Next(6) == 0) args.Add("'{missing}'");
                    if (parameters.Count > 0 && rnd.Next(3) == 0) args.Add($"'{{{parameters[0]}}}'");
                    options.Add("-ArgumentList " + (rnd.Next(2) == 0 ? string.Join(", ", args) : "@(" + string.Join(", ", args) + ")"));
                    if (steps.Count > 0 && rnd.Next(3) == 0) options.Add("-Stdin " + steps[rnd.Next(steps.Count)]);
                }
                if (rnd.Next(4) == 0) options.Add("-IoHandler " + Pick(rnd, "json", "text", "clixml", "csv", "'bogus'"));
                if (!isCommand && rnd.Next(5) == 0) options.Add("-InputMode " + Pick(rnd, "path", "object", "'Path'", ModeTable(rnd, ups), ModeTable(rnd, ups)));
                if (rnd.Next(4) == 0) options.Add("-Cpu " + Pick(rnd, "1", "'500m'", "0.5", "2"));
                if (rnd.Next(6) == 0) options.Add("-CpuLimit " + Pick(rnd, "2", "'1500m'"));
                if (rnd.Next(4) == 0) options.Add("-Memory " + Pick(rnd, "1Gi", "'256Mi'", "'lots'"));
                if (rnd.Next(8) == 0) options.Add("-MemoryLimit 2Gi");
                if (rnd.Next(8) == 0) options.Add("-Gpu " + Pick(rnd, "1", "'2'", "0"));
                if (rnd.Next(10) == 0) options.Add("-GpuResource amd.com/gpu");
                if (rnd.Next(4) == 0) options.Add("-Retries " + Pick(rnd, "0", "2", "'3'", "-1"));
                if (rnd.Next(4) == 0) options.Add("-Timeout " + Pick(rnd, "30", "'5m'", "90", "'1h30m'", "'00:05:00'", "'soon'", "1.5", "-3"));
                if (rnd.Next(5) == 0) options.Add("-Env " + Pick(rnd, "@{ MODE = 'fast'; LEVEL = 2 }", "@{ 'bad-name' = 1 }", "@{}", "@{ A = $true; B = $null; C = 1.25 }"));
                if (steps.Count > 0 && rnd.Next(6) == 0) options.Add("-When " + Pick(rnd, $"'{steps[^1]} -gt 0'", "'nosuch -eq 1'", "'((('", parameters.Count > 0 ? $"'${parameters[0]} -eq 3'" : "'1 -eq 1'"));
                if (rnd.Next(8) == 0) options.Add("-Packages " + Pick(rnd, "'numpy'", "'a==1', 'b'", "@('c')"));
                if (rnd.Next(8) == 0) options.Add("-Modules " + Pick(rnd, "'Pester'", "'Pester@5.5.0', 'PSScriptAnalyzer'", "@{ ModuleName = 'X'; RequiredVersion = '1.0' }", "'bad@@'"));
                if (rnd.Next(8) == 0) options.Add("-Image 'img:" + rnd.Next(3) + "'");
                if (ups.Count > 0 && rnd.Next(3) == 0) options.Add("-DependsOn " + string.Join(", ", ups.Select(u => Pick(rnd, u, $"'{u}'"))));
                if (rnd.Next(20) == 0 && !options.Any(o => o.StartsWith("-DependsOn", StringComparison.Ordinal))) options.Add("-DependsOn ghost");
                if (rnd.Next(8) == 0) options.Add("-OutputType " + Pick(rnd, "int", "'string'", "System.Double"));
                if (rnd.Next(5) == 0) options.Add("-Description " + Pick(rnd, "'does things'", "\"with `\"quotes`\"\"", "'multi\nline'"));
                Shuffle(rnd, options);

                string? body = null;
                if (!isCommand)
                {
                    var ps = new List<string>();
                    foreach (var u in ups) ps.Add(rnd.Next(3) == 0 ? $"[int] ${Var(u)}" : $"${Var(u)}");
                    if (parameters.Count > 0 && rnd.Next(3) == 0) ps.Add("$" + parameters[rnd.Next(parameters.Count)]);
                    if (rnd.Next(6) == 0) ps.Add("[double] $typed" + i);
                    if (rnd.Next(5) == 0) ps.Add("$opt" + i + " = 4");
                    if (rnd.Next(10) == 0) ps.Add("$AxlContext");
                    var attr = rnd.Next(6) == 0 ? Pick(rnd, "[OutputType([int])]", "[OutputType('double')]") + " " : "";
                    var text = ps.Count > 0 || attr.Length > 0 ? $"{attr}param({string.Join(", ", ps)}) " : "";
                    body = rnd.Next(3) switch
                    {
                        0 => "{ " + text + "Get-Helper " + i + " }",
                        1 => "{\n        " + text + "\n        # a comment { with braces }\n        $x = @{ k = 'v' }\n        \"$Shared $($x.k)\"\n    }",
                        _ => "{" + text + "$input | ForEach-Object { $_ }}",
                    };
                }
                sb.Append("    ").Append(rnd.Next(10) == 0 ? "Add-AxlStep" : "Step");
                if (rnd.Next(8) == 0) sb.Append(" -Name ").Append(written); else sb.Append(' ').Append(written);
                var before = rnd.Next(2) == 0;
                if (before) foreach (var o in options) sb.Append(rnd.Next(8) == 0 ? " `\n        " : " ").Append(o);
                if (body is not null) sb.Append(rnd.Next(8) == 0 ? " -ScriptBlock " : " ").Append(body);
                if (!before) foreach (var o in options) sb.Append(' ').Append(o);
                sb.Append(rnd.Next(10) == 0 ? ";\n" : "\n");
                if (rnd.Next(8) == 0) sb.Append("    # a comment between steps\n\n");
                steps.Add(name);
            }
            sb.Append("}\n\n");
        }
        return (sb.ToString(), blocks);
    }

    /// <summary>A hashtable of input modes: several keys (so their order shows), some not parameters, some modes wrong.</summary>
    private static string ModeTable(Random rnd, List<string> ups)
    {
        var keys = ups.Concat(new[] { "nope", "Other", "zz" }.Where(_ => rnd.Next(2) == 0)).ToList();
        if (keys.Count == 0) keys.Add("nope");
        Shuffle(rnd, keys);
        return "@{ " + string.Join("; ", keys.Select(k => $"'{k}' = " + Pick(rnd, "'path'", "'object'", "'Path'", "'OBJECT'"))) + " }";
    }

    private static string Var(string step) => step.Contains('-') ? "{" + step + "}" : step;

    private static string Pick(Random rnd, params string[] options) => options[rnd.Next(options.Length)];

    private static void Shuffle<T>(Random rnd, List<T> list)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = rnd.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
