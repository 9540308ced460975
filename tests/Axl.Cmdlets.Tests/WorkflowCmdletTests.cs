using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>Get-AxlWorkflow and Test-AxlWorkflow: paths, wildcards, pipeline binding, errors with ids, diagnostics.</summary>
[Collection("PowerShell")]
public sealed class WorkflowCmdletTests(PowerShellFixture ps) : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private const string TwoWorkflows = """
        AxlWorkflow first { Step a { 1 } }
        AxlWorkflow second { Step b { 2 } }
        """;

    private PsResult Run(string script, params (string Name, object Value)[] vars) =>
        ps.Run(script, vars.ToDictionary(v => v.Name, v => v.Value));

    [Fact]
    public void Path_with_a_name_suffix_selects_one_workflow()
    {
        var file = _dir.Write("two.axl.ps1", TwoWorkflows);
        var all = Run("Get-AxlWorkflow $f | ForEach-Object Name", ("f", file));
        all.ShouldSucceed();
        Assert.Equal(new object[] { "first", "second" }, all.Objects);
        var one = Run("Get-AxlWorkflow \"${f}:second\" | ForEach-Object Name", ("f", file));
        one.ShouldSucceed();
        Assert.Equal(new object[] { "second" }, one.Objects);
    }

    [Fact]
    public void Unknown_workflow_name_lists_what_the_file_defines()
    {
        var file = _dir.Write("two.axl.ps1", TwoWorkflows);
        var r = Run("Get-AxlWorkflow \"${f}:third\"", ("f", file));
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.WorkflowNotFound", e.FullyQualifiedErrorId);
        Assert.Contains("no workflow named 'third'; the file defines: first, second", e.Exception.Message);
        Assert.Equal("ObjectNotFound", e.CategoryInfo.Category.ToString());
    }

    [Fact]
    public void Wildcards_and_pipeline_input_by_value_and_by_property_name()
    {
        _dir.Write("a.axl.ps1", "AxlWorkflow wa { Step s { 1 } }");
        _dir.Write("b.axl.ps1", "AxlWorkflow wb { Step s { 1 } }");
        _dir.Write("notes.txt", "not a workflow");
        var wild = Run("Get-AxlWorkflow \"$d/*.axl.ps1\" | ForEach-Object Name", ("d", _dir.Path));
        wild.ShouldSucceed();
        Assert.Equal(new object[] { "wa", "wb" }, wild.Objects);

        var byValue = Run("\"$d/a.axl.ps1\", \"$d/b.axl.ps1\" | Get-AxlWorkflow | ForEach-Object Name", ("d", _dir.Path));
        byValue.ShouldSucceed();
        Assert.Equal(new object[] { "wa", "wb" }, byValue.Objects);

        // What Get-ChildItem emits: FileInfo objects (FullName) - bound by property name.
        var byProperty = Run("[System.IO.DirectoryInfo]::new($d).GetFiles('*.axl.ps1') | Sort-Object Name -ErrorAction Ignore; [System.IO.DirectoryInfo]::new($d).GetFiles('*.axl.ps1') | Get-AxlWorkflow | ForEach-Object Name", ("d", _dir.Path));
        Assert.Equal(new object[] { "wa", "wb" }, byProperty.Objects.Where(o => o is string).OrderBy(o => o));

        var literal = Run("[pscustomobject]@{ PSPath = \"$d/a.axl.ps1\" } | Get-AxlWorkflow | ForEach-Object Name", ("d", _dir.Path));
        literal.ShouldSucceed();
        Assert.Equal(new object[] { "wa" }, literal.Objects);

        var filtered = Run("Get-AxlWorkflow \"$d/*.axl.ps1\" -Name '*b' | ForEach-Object Name", ("d", _dir.Path));
        Assert.Equal(new object[] { "wb" }, filtered.Objects);
    }

    [Fact]
    public void Files_with_brackets_in_their_names_bind_literally_from_the_pipeline()
    {
        var file = _dir.Write("exp[2024]/flow.axl.ps1", "AxlWorkflow bracketed { Step s { 1 } }");
        var piped = Run("[System.IO.FileInfo]::new($f) | Get-AxlWorkflow | ForEach-Object Name", ("f", file));
        piped.ShouldSucceed();
        Assert.Equal(new object[] { "bracketed" }, piped.Objects);
        var tested = Run("[System.IO.FileInfo]::new($f) | Test-AxlWorkflow -Quiet", ("f", file));
        Assert.Equal(new object[] { true }, tested.Objects);
        var literal = Run("Get-AxlWorkflow -LiteralPath $f | ForEach-Object Name", ("f", file));
        Assert.Equal(new object[] { "bracketed" }, literal.Objects);
    }

    [Fact]
    public void The_definition_block_runs_in_its_own_scope_and_Quiet_says_false_for_files_that_do_not_load()
    {
        var r = Run("$x = 'outer'; $null = AxlWorkflow scoped { $x = 'inner'; Step s { 1 } }; $x");
        r.ShouldSucceed();
        Assert.Equal(new object[] { "outer" }, r.Objects);
        var quiet = Run("Test-AxlWorkflow -Path \"$d/missing.axl.ps1\" -Quiet -ErrorAction SilentlyContinue", ("d", _dir.Path));
        Assert.Equal(new object[] { false }, quiet.Objects);
    }

    [Fact]
    public void Unquoted_durations_that_PowerShell_reads_as_numbers_are_accepted()
    {
        var r = Run("(AxlWorkflow t { Step s -Timeout 30s { 1 } }).GetStep('s').TimeoutSeconds");
        r.ShouldSucceed();
        Assert.Equal(30, Convert.ToInt32(r.Objects.Single()));
    }

    [Fact]
    public void Missing_file_is_an_error_with_an_id_and_the_rest_of_the_pipeline_goes_on()
    {
        var good = _dir.Write("good.axl.ps1", "AxlWorkflow good { Step s { 1 } }");
        var r = Run("\"$d/missing.axl.ps1\", $g | Get-AxlWorkflow | ForEach-Object Name", ("d", _dir.Path), ("g", good));
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.WorkflowFileNotFound", e.FullyQualifiedErrorId);
        Assert.Contains("missing.axl.ps1", e.Exception.Message);
        Assert.Equal(new object[] { "good" }, r.Objects);
    }

    [Fact]
    public void Syntax_errors_and_failing_scripts_name_the_file_and_line()
    {
        var broken = _dir.Write("broken.axl.ps1", "AxlWorkflow broken {\n    Step a { param($x }\n}\n");
        var r = Run("Get-AxlWorkflow $f", ("f", broken));
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.WorkflowParseError", e.FullyQualifiedErrorId);
        Assert.Contains($"{broken}:2:", e.Exception.Message);
        Assert.Equal("ParserError", e.CategoryInfo.Category.ToString());

        var throws = _dir.Write("throws.axl.ps1", "AxlWorkflow t {\n    Step a { 1 }\n    throw 'cannot reach the database'\n}\n");
        var r2 = Run("Get-AxlWorkflow $f", ("f", throws));
        var e2 = Assert.Single(r2.Errors);
        Assert.StartsWith("Axl.WorkflowScriptFailed", e2.FullyQualifiedErrorId);
        Assert.Contains($"{throws}:3: loading the workflow failed: cannot reach the database", e2.Exception.Message);

        var none = _dir.Write("none.axl.ps1", "$x = 1");
        var r3 = Run("Get-AxlWorkflow $f", ("f", none));
        Assert.StartsWith("Axl.NoWorkflowDefined", Assert.Single(r3.Errors).FullyQualifiedErrorId);
    }

    [Theory]
    [InlineData("cycle", "AxlWorkflow cyc {\n  Step a { param($c) $c }\n  Step b { param($a) $a }\n  Step c { param($b) $b }\n}", "Axl.CycleDetected", "a -> b -> c -> a")]
    [InlineData("badname", "AxlWorkflow names {\n  Step 'load/data' { 1 }\n}", "Axl.InvalidName", "'load/data' has characters that cannot be part of a DNS-1123 name: '/'")]
    [InlineData("collision", "AxlWorkflow names {\n  Step load_data { 1 }\n  Step load-data { 1 }\n}", "Axl.NameCollision", "both become 'load-data'")]
    [InlineData("ambiguous", "AxlWorkflow amb {\n  Parameter data -Default 1\n  Step data { 1 }\n  Step train { param($data) $data }\n}", "Axl.AmbiguousInput", "matches both step 'data'")]
    [InlineData("unbound", "AxlWorkflow unb {\n  Step train { param($features) $features }\n}", "Axl.UnboundInput", "required parameter 'features' matches no step and no workflow parameter")]
    [InlineData("condition", "AxlWorkflow cond {\n  Step a { 1 }\n  Step b -When 'a -gt 1' { 2 }\n}", "Axl.ConditionNotUpstream", "reads step 'a', which is not upstream of 'b'")]
    [InlineData("command", "AxlWorkflow cmd {\n  Step a -Command '' -ArgumentList x\n}", "Axl.CommandMissing", "-Command is empty")]
    [InlineData("handler", "AxlWorkflow io {\n  Step a -IoHandler pickle { 1 }\n}", "Axl.UnknownIoHandler", "IO handler 'pickle' is not known")]
    [InlineData("quantity", "AxlWorkflow q {\n  Step a -Memory 1GB { 1 }\n}", "Axl.InvalidQuantity", "-Memory '1GB' is not a Kubernetes quantity")]
    public void Test_AxlWorkflow_reports_each_rule_with_file_line_step_and_fix(string name, string script, string id, string message)
    {
        var file = _dir.Write(name + ".axl.ps1", script);
        var r = Run("Get-AxlWorkflow $f | Test-AxlWorkflow", ("f", file));
        r.ShouldSucceed();
        var d = (dynamic)Assert.Single(r.Output, o => ((dynamic)o).Id == id);
        Assert.Contains(message, (string)d.Message);
        Assert.Equal(file, (string)d.File);
        Assert.True((int)d.Line > 1);
        Assert.False(string.IsNullOrEmpty((string)d.Fix));
        Assert.Equal("Error", d.Severity.ToString());

        var quiet = Run("Test-AxlWorkflow -Path $f -Quiet", ("f", file));
        Assert.Equal(new object[] { false }, quiet.Objects);
    }

    [Fact]
    public void A_valid_workflow_has_no_diagnostics_and_Quiet_says_true()
    {
        var file = Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");
        var r = Run("Get-AxlWorkflow $f | Test-AxlWorkflow -Verbose", ("f", file));
        r.ShouldSucceed();
        Assert.Empty(r.Output);
        Assert.Contains(r.Verbose, v => v.Contains("Workflow 'diamond' is valid"));
        Assert.Equal(new object[] { true }, Run("Test-AxlWorkflow $f -Quiet", ("f", file)).Objects);
    }

    [Fact]
    public void Views_render_workflows_steps_and_diagnostics_as_tables()
    {
        var file = Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");
        var hash = (string)Run("(Get-AxlWorkflow $f).ShortHash", ("f", file)).Objects.Single();
        var table = ps.Render($"Get-AxlWorkflow '{file}'");
        AssertMatches(@"Name\s+Steps\s+Edges\s+Parameters\s+Hash\s+Source", table);
        Assert.Contains("diamond", table);
        Assert.Contains(hash, table);

        var steps = ps.Render($"(Get-AxlWorkflow '{file}').Steps");
        AssertMatches(@"Name\s+Kind\s+Upstream\s+Inputs\s+Output", steps);
        AssertMatches(@"join\s+Script\s+left, right", steps);

        var bad = _dir.Write("bad.axl.ps1", "AxlWorkflow bad {\n  Step a -Cpu lots { 1 }\n}");
        var diags = ps.Render($"Get-AxlWorkflow '{bad}' | Test-AxlWorkflow");
        AssertMatches(@"Severity\s+Id\s+Step\s+Line\s+Message", diags);
        Assert.Contains("Axl.InvalidQuantity", diags);
    }

    private static void AssertMatches(string pattern, string text) =>
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(text, pattern), $"/{pattern}/ not found in what the host printed:\n{text}");
}
