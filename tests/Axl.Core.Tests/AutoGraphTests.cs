using System.Collections;
using Axl.Dsl;
using Axl.Model;
using Axl.Validation;

namespace Axl.Core.Tests;

/// <summary>The auto-graph: inputs and edges inferred from parameter names, workflow parameters, types, modes, placeholders and -DependsOn.</summary>
public class AutoGraphTests
{
    [Fact]
    public void Parameter_named_like_a_step_binds_its_output_case_insensitively()
    {
        var wf = T.Builder()
            .AddStep("Load_Data", "1", null, T.At(2))
            .AddStep("split", "param($LOAD_DATA) $LOAD_DATA", null, T.At(3))
            .Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        var edge = Assert.Single(wf.Edges);
        Assert.Equal(new AxlEdge("Load_Data", "split", EdgeKind.Data, "LOAD_DATA"), edge);
        var input = Assert.Single(wf.GetStep("split")!.Inputs);
        Assert.Equal(BindingSource.Step, input.Source);
        Assert.Equal("Load_Data", input.SourceName);
        Assert.Equal("LOAD_DATA", input.Name);
        Assert.True(input.Required);
        Assert.Equal(new[] { "Load_Data" }, wf.GetStep("split")!.Upstream);
    }

    [Fact]
    public void Workflow_parameter_binds_by_name_without_an_edge()
    {
        var wf = T.Builder()
            .AddParameter("NNeighbors", 3, location: T.At(2))
            .AddStep("train", "param($nneighbors) $nneighbors", new StepOptions { InputMode = "path" }, T.At(3))
            .Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        Assert.Empty(wf.Edges);
        var input = Assert.Single(wf.GetStep("train")!.Inputs);
        Assert.Equal(BindingSource.Parameter, input.Source);
        Assert.Equal("NNeighbors", input.SourceName);
        Assert.Equal(InputMode.Object, input.Mode); // parameters are values, never paths
        Assert.Empty(wf.GetStep("train")!.Upstream);
    }

    [Theory]
    [InlineData("int")]
    [InlineData("[int]")]
    [InlineData("System.Int32")]
    public void Typed_parameter_binds_the_single_step_with_that_output_type_from_options(string outputType)
    {
        var wf = T.Builder()
            .AddStep("count", "42", new StepOptions { OutputType = outputType }, T.At(2))
            .AddStep("label", "'x'", new StepOptions { OutputType = "string" }, T.At(3))
            .AddStep("use", "param([int] $n) $n", null, T.At(4))
            .Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        Assert.Equal(new AxlEdge("count", "use", EdgeKind.Data, "n"), Assert.Single(wf.Edges));
        var input = Assert.Single(wf.GetStep("use")!.Inputs);
        Assert.Equal(BindingSource.Step, input.Source);
        Assert.Equal("count", input.SourceName);
        Assert.Equal("int", input.Type);
    }

    [Fact]
    public void Typed_parameter_binds_the_step_with_OutputType_attribute_in_its_body()
    {
        var wf = T.Builder()
            .AddStep("use", "param([int] $n) $n", null, T.At(2)) // defined first: output types are known up front
            .AddStep("count", "[OutputType([int])]\nparam()\n42", null, T.At(3))
            .Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        Assert.Equal("int", wf.GetStep("count")!.OutputType);
        Assert.Equal(new AxlEdge("count", "use", EdgeKind.Data, "n"), Assert.Single(wf.Edges));
        Assert.Equal(new[] { "count", "use" }, wf.TopologicalOrder().Select(s => s.Name));
    }

    [Fact]
    public void Name_match_wins_over_type_match_and_object_parameters_never_match_by_type()
    {
        var wf = T.Builder()
            .AddStep("a", "1", new StepOptions { OutputType = "int" }, T.At(2))
            .AddStep("b", "2", new StepOptions { OutputType = "int" }, T.At(3))
            .AddStep("c", "param([int] $b) $b", null, T.At(4))
            .AddStep("d", "param([object] $x = 1) $x", null, T.At(5))
            .Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        Assert.Equal(new AxlEdge("b", "c", EdgeKind.Data, "b"), Assert.Single(wf.Edges));
        Assert.Equal(BindingSource.Default, Assert.Single(wf.GetStep("d")!.Inputs).Source);
    }

    [Fact]
    public void Reserved_AxlContext_parameter_binds_the_run_context()
    {
        var wf = T.Builder()
            .AddStep("a", "1", null, T.At(2))
            .AddStep("b", "param($axlcontext, $a) $a", null, T.At(3))
            .Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        var ctx = wf.GetStep("b")!.Inputs.Single(i => i.Name == "axlcontext");
        Assert.Equal(BindingSource.Context, ctx.Source);
        Assert.False(ctx.Required);
        Assert.Equal(new AxlEdge("a", "b", EdgeKind.Data, "a"), Assert.Single(wf.Edges));
    }

    [Fact]
    public void InputMode_path_string_applies_to_every_step_input()
    {
        var wf = T.Builder()
            .AddStep("a", "1", null, T.At(2))
            .AddStep("b", "2", null, T.At(3))
            .AddStep("c", "param($a, $b) $a", new StepOptions { InputMode = "path" }, T.At(4))
            .Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        var c = wf.GetStep("c")!;
        Assert.Equal(InputMode.Path, c.InputMode);
        Assert.All(c.Inputs, i => Assert.Equal(InputMode.Path, i.Mode));
        Assert.Equal(InputMode.Object, wf.GetStep("a")!.InputMode);
    }

    [Fact]
    public void InputMode_hashtable_sets_the_mode_per_argument()
    {
        var wf = T.Builder()
            .AddStep("a", "1", null, T.At(2))
            .AddStep("b", "2", null, T.At(3))
            .AddStep("c", "param($a, $b) $a", new StepOptions { InputMode = new Hashtable { ["A"] = "Path" } }, T.At(4))
            .Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        var c = wf.GetStep("c")!;
        Assert.Equal(InputMode.Object, c.InputMode);
        Assert.Equal(InputMode.Path, c.InputModes["a"]);
        Assert.Equal(InputMode.Path, c.Inputs.Single(i => i.Name == "a").Mode);
        Assert.Equal(InputMode.Object, c.Inputs.Single(i => i.Name == "b").Mode);
    }

    [Fact]
    public void Workflow_default_input_mode_applies_to_script_steps()
    {
        var wf = T.Builder(options: new WorkflowDefinitionOptions { InputMode = "path" })
            .AddStep("a", "1", null, T.At(2))
            .AddStep("b", "param($a) $a", null, T.At(3))
            .Build();
        Assert.Equal(InputMode.Path, wf.Options.DefaultInputMode);
        Assert.Equal(InputMode.Path, Assert.Single(wf.GetStep("b")!.Inputs).Mode);
    }

    [Fact]
    public void Command_step_placeholders_and_stdin_make_inputs_and_edges()
    {
        var wf = T.Builder()
            .AddParameter("Threshold", 0.5, location: T.At(2))
            .AddStep("train", "1", null, T.At(3))
            .AddStep("logs", "'x'", null, T.At(4))
            .AddStep("score", (string?)null, new StepOptions
            {
                Command = "python",
                ArgumentList = new[] { "score.py", "--model", "{train}", "--threshold={threshold}", "--out", "{output}", "{{literal}}", "{Train}" },
                Stdin = "LOGS",
            }, T.At(5))
            .Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        var s = wf.GetStep("score")!;
        Assert.Equal(StepKind.Command, s.Kind);
        Assert.Equal("text", s.IoHandler);
        Assert.Equal(InputMode.Path, s.InputMode);
        Assert.Equal(3, s.Inputs.Count); // {Train} repeats {train}; {output} and {{literal}} are not inputs; -Stdin is one
        var train = s.Inputs[0];
        Assert.Equal(("train", BindingSource.Step, "train", InputMode.Path), (train.Name, train.Source, train.SourceName, train.Mode));
        var threshold = s.Inputs[1];
        Assert.Equal(("threshold", BindingSource.Parameter, "Threshold", InputMode.Object), (threshold.Name, threshold.Source, threshold.SourceName, threshold.Mode));
        var stdin = s.Inputs[2];
        Assert.Equal(("stdin", BindingSource.Step, "logs", InputMode.Path), (stdin.Name, stdin.Source, stdin.SourceName, stdin.Mode));
        Assert.Equal(new[] { "train -> score.train", "logs -> score.stdin" }, T.EdgeStrings(wf));
        Assert.Equal(new[] { "train", "logs" }, s.Upstream);
    }

    [Fact]
    public void Stdin_alone_makes_a_command_step()
    {
        var wf = T.Builder().AddStep("a", "1", null, T.At(2))
            .AddStep("wc", (string?)null, new StepOptions { Command = "wc", ArgumentList = new[] { "-l" }, Stdin = "a" }, T.At(3)).Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        Assert.Equal(new AxlEdge("a", "wc", EdgeKind.Data, "stdin"), Assert.Single(wf.Edges));
    }

    [Fact]
    public void DependsOn_makes_order_edges_and_never_duplicates_a_data_edge()
    {
        var wf = T.Builder()
            .AddStep("setup", "1", null, T.At(2))
            .AddStep("a", "1", null, T.At(3))
            .AddStep("b", "param($a) $a", new StepOptions { DependsOn = new[] { "SETUP", "a" } }, T.At(4))
            .Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        Assert.Equal(new[] { new AxlEdge("a", "b", EdgeKind.Data, "a"), new AxlEdge("setup", "b", EdgeKind.Order, null) }, wf.Edges);
        Assert.Equal(new[] { "a", "setup" }, wf.GetStep("b")!.Upstream);
        Assert.Equal("setup -> b (order)", wf.Edges[1].ToString());
    }

    [Fact]
    public void Diamond_has_four_edges_and_a_stable_topological_order()
    {
        var wf = Diamond();
        T.NoErrors(WorkflowValidator.Validate(wf));
        Assert.Equal(4, wf.EdgeCount);
        Assert.Equal(new[] { "start -> left.start", "start -> right.start", "left -> join.left", "right -> join.right" }, T.EdgeStrings(wf));
        Assert.Equal(new[] { "start", "left", "right", "join" }, wf.TopologicalOrder().Select(s => s.Name));
    }

    internal static AxlWorkflow Diamond(string file = T.File, int lineOffset = 0) =>
        new WorkflowBuilder("diamond", null, new SourceLocation(file, 1 + lineOffset))
            .AddStep("start", "1", null, new SourceLocation(file, 2 + lineOffset))
            .AddStep("left", "param($start) $start + 1", null, new SourceLocation(file, 3 + lineOffset))
            .AddStep("right", "param($start) $start + 2", null, new SourceLocation(file, 4 + lineOffset))
            .AddStep("join", "param($left, $right) $left + $right", null, new SourceLocation(file, 5 + lineOffset))
            .Build();

    [Fact]
    public void Graph_calls_wire_explicitly_and_override_names()
    {
        var b = T.Builder()
            .AddStep("raw", "1", null, T.At(2))
            .AddStep("clean", "param($data) $data", null, T.At(3))
            .AddStep("train", "param($data, $k) $data", null, T.At(4));
        var raw = b.RecordGraphCall("raw", new Dictionary<string, object?>(), T.At(10));
        var clean = b.RecordGraphCall("clean", new Dictionary<string, object?> { ["data"] = raw }, T.At(11));
        b.RecordGraphCall("train", new Dictionary<string, object?> { ["data"] = clean, ["k"] = 5 }, T.At(12));
        var wf = b.Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        Assert.Equal(new[] { "raw -> clean.data", "clean -> train.data" }, T.EdgeStrings(wf));
        var k = wf.GetStep("train")!.Inputs.Single(i => i.Name == "k");
        Assert.Equal(BindingSource.Constant, k.Source);
        Assert.Equal(5L, k.Constant);
        Assert.Throws<AxlDslException>(() => b.RecordGraphCall("RAW", new Dictionary<string, object?>(), T.At(13)));
    }
}
