using System.Management.Automation;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>The DSL keywords as users type them: real script text in the real engine against the imported module.</summary>
[Collection("PowerShell")]
public sealed class DslTests(PowerShellFixture ps)
{
    private static dynamic Single(PsResult r)
    {
        r.ShouldSucceed();
        Assert.Single(r.Output);
        return r.Output[0];
    }

    [Fact]
    public void AxlWorkflow_keyword_outputs_the_IR_with_edges_inferred_from_parameter_names()
    {
        var wf = Single(ps.Run("""
            AxlWorkflow iris-knn -Image ghcr.io/example/runner:1 {
                Parameter NNeighbors -Default 3
                Step load_data { @(1, 2, 3) }
                Step split { param($load_data) $load_data }
                Step train -Retries 2 -Cpu 500m -Memory 1Gi { param($split, $NNeighbors) $split }
                Step evaluate -IoHandler json { param($train) 0.95 }
                Step publish -When 'evaluate -gt 0.9' { param($evaluate) $evaluate }
            }
            """));
        Assert.Equal("iris-knn", (string)wf.Name);
        Assert.Equal(5, (int)wf.StepCount);
        var edges = ((IEnumerable<object>)wf.Edges).Select(e => e.ToString()).ToList();
        Assert.Equal(new[] { "load_data -> split.load_data", "split -> train.split", "train -> evaluate.train", "evaluate -> publish.evaluate" }, edges);
        var train = wf.GetStep("train");
        Assert.Equal(2, (int)train.Retries);
        Assert.Equal("500m", (string)train.Resources.CpuRequest);
        Assert.Equal("1Gi", (string)train.Resources.MemoryRequest);
        var bindings = ((IEnumerable<object>)train.Inputs).Select(i => i.ToString()).ToList();
        Assert.Equal(new[] { "split <- split (object)", "NNeighbors <- $NNeighbors" }, bindings);
        Assert.Equal("json", (string)wf.GetStep("evaluate").IoHandler);
        Assert.Equal(".json", (string)wf.GetStep("evaluate").Output.Extension);
        Assert.Equal("evaluate -gt 0.9", (string)wf.GetStep("publish").Condition.ToString());
        Assert.Equal("ghcr.io/example/runner:1", (string)wf.Image);
        Assert.Matches("^blake3:[0-9a-f]{64}$", (string)wf.Hash);
    }

    [Fact]
    public void Every_step_option_is_recorded()
    {
        var wf = Single(ps.Run("""
            AxlWorkflow opts {
                Step a { 1 }
                Step b -IoHandler json -InputMode @{ a = 'path' } -Cpu 250m -CpuLimit 1 -Memory 256Mi -MemoryLimit 1Gi -Gpu 1 `
                       -Retries 3 -Timeout 5m -Env @{ MODE = 'fast'; LEVEL = 2 } -Packages 'scikit-learn==1.2.1' -Modules 'Pester' `
                       -Image 'registry.local/b:2' -DependsOn a -Description 'the b step' { param($a) $a }
            }
            """));
        var b = wf.GetStep("b");
        Assert.Equal("Path", b.InputModes["a"].ToString());
        Assert.Equal("a <- a (path)", ((IEnumerable<object>)b.Inputs).Single().ToString());
        Assert.Equal("1", (string)b.Resources.CpuLimit);
        Assert.Equal("1Gi", (string)b.Resources.MemoryLimit);
        Assert.Equal(1, (int)b.Resources.Gpu);
        Assert.Equal(300, (int)b.TimeoutSeconds);
        Assert.Equal("fast", (string)b.Env["MODE"]);
        Assert.Equal("2", (string)b.Env["LEVEL"]);
        Assert.Equal("scikit-learn==1.2.1", (string)((IEnumerable<object>)b.Packages).Single());
        Assert.Equal("Pester", (string)((IEnumerable<object>)b.Modules).Single());
        Assert.Equal("registry.local/b:2", (string)b.Image);
        Assert.Equal("the b step", (string)b.Description);
    }

    [Fact]
    public void Workflow_options_are_recorded()
    {
        var wf = Single(ps.Run("""
            AxlWorkflow opts -IoHandler json -InputMode path -ServiceAccount axl-runner -ArtifactStore s3://bucket/runs `
                -CodeDelivery Artifact -Lockfile uv.lock -Description 'demo' -Labels @{ team = 'ml' } {
                Step a { 1 }
                Step b { param($a) $a }
            }
            """));
        Assert.Equal("json", (string)wf.Options.DefaultIoHandler);
        Assert.Equal("Path", wf.Options.DefaultInputMode.ToString());
        Assert.Equal("axl-runner", (string)wf.Options.ServiceAccount);
        Assert.Equal("s3://bucket/runs", (string)wf.Options.ArtifactStore);
        Assert.Equal("Artifact", wf.Options.CodeDelivery.ToString());
        Assert.Equal("lockfile", (string)wf.Options.Dependencies.Mode);
        Assert.Equal("ml", (string)wf.Options.Labels["team"]);
        Assert.Equal("json", (string)wf.GetStep("b").IoHandler);
        Assert.Equal("Path", wf.GetStep("b").InputMode.ToString());
    }

    [Fact]
    public void Graph_block_wires_steps_explicitly_with_symbolic_references()
    {
        var wf = Single(ps.Run("""
            AxlWorkflow explicit {
                Parameter K -Default 5
                Step load { 1..10 }
                Step train { param($data, $k, $label) $data }
                Step score { param($model, $data) 1 }
                Graph {
                    $d = load
                    $m = train -data $d -k $K -label 'fast'
                    score $m $d
                }
            }
            """));
        var edges = ((IEnumerable<object>)wf.Edges).Select(e => e.ToString()).ToList();
        Assert.Equal(new[] { "load -> train.data", "train -> score.model", "load -> score.data" }, edges);
        var train = ((IEnumerable<object>)wf.GetStep("train").Inputs).Select(i => i.ToString()).ToList();
        Assert.Equal(new[] { "data <- load (object)", "k <- $K", "label = fast" }, train);
        Assert.Empty(Test(wf));
    }

    private IEnumerable<object> Test(object wf)
    {
        var r = ps.Run("$wf | Test-AxlWorkflow", new Dictionary<string, object> { ["wf"] = wf });
        r.ShouldSucceed();
        return r.Objects;
    }

    [Fact]
    public void Calling_a_step_twice_in_Graph_is_an_error_that_names_both_calls()
    {
        var r = ps.Run("""
            AxlWorkflow twice {
                Step a { 1 }
                Graph { a; a }
            }
            """);
        Assert.Empty(r.Output);
        Assert.Contains("step 'a' is called twice in the Graph block", r.ErrorText);
    }

    [Fact]
    public void Command_steps_take_argument_arrays_and_placeholders()
    {
        var wf = Single(ps.Run("""
            AxlWorkflow logs {
                Parameter LogFile -Default 'app.log'
                Step errors -Command grep -ArgumentList '-i', 'error', '{LogFile}'
                Step sorted -Command sort -ArgumentList '{errors}'
                Step counted -Command uniq -ArgumentList '-c' -Stdin sorted
                Step braces -Command awk -ArgumentList '{print $1}', '{{literal}}', '{counted}', '{output}'
            }
            """));
        Assert.Equal("Command", wf.GetStep("errors").Kind.ToString());
        Assert.Equal("text", (string)wf.GetStep("errors").IoHandler);
        var edges = ((IEnumerable<object>)wf.Edges).Select(e => e.ToString()).ToList();
        Assert.Equal(new[] { "errors -> sorted.errors", "sorted -> counted.stdin", "counted -> braces.counted" }, edges);
        Assert.Equal("LogFile <- $LogFile", ((IEnumerable<object>)wf.GetStep("errors").Inputs).Single().ToString());
        Assert.Empty(Test(wf));
    }

    [Fact]
    public void Step_outside_a_workflow_is_a_clear_error()
    {
        var r = ps.Run("Step lonely { 1 }");
        var record = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.KeywordOutsideWorkflow", record.FullyQualifiedErrorId);
        Assert.Contains("Step 'lonely' is used outside an AxlWorkflow block", record.Exception.Message);
    }

    [Fact]
    public void Nested_workflows_are_refused()
    {
        var r = ps.Run("AxlWorkflow outer { AxlWorkflow inner { Step a { 1 } } }");
        Assert.Empty(r.Output);
        Assert.Contains("Axl.NestedWorkflow", r.ErrorText);
        Assert.Contains("workflows cannot nest", r.ErrorText);
    }

    [Fact]
    public void Loading_records_file_and_line_and_never_runs_step_bodies()
    {
        using var dir = new TempDir();
        var marker = Path.Combine(dir.Path, "ran.txt");
        var file = dir.Write("flow.axl.ps1", $$"""
            $notLeaked = 'inside'
            AxlWorkflow flow {
                Step first { [System.IO.File]::WriteAllText('{{marker}}', 'x') }

                Step second { param($first) throw 'never' }
            }
            """);
        var r = ps.Run("Get-AxlWorkflow $file; \"leaked=[$notLeaked]\"", new Dictionary<string, object> { ["file"] = file });
        r.ShouldSucceed();
        Assert.Equal("leaked=[]", r.Output[1].BaseObject); // the script ran in its own scope
        dynamic wf = r.Output[0];
        Assert.Equal(file, (string)wf.SourceFile);
        Assert.Equal(3, (int)wf.GetStep("first").Location.Line);
        Assert.Equal(5, (int)wf.GetStep("second").Location.Line);
        Assert.Equal(file, (string)wf.GetStep("second").Location.File);
        Assert.Contains("throw 'never'", (string)wf.GetStep("second").Source);
        Assert.False(File.Exists(marker), "a step body ran while the workflow was loaded");
    }
}
