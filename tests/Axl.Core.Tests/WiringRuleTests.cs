using Axl.Dsl;
using Axl.Validation;

namespace Axl.Core.Tests;

/// <summary>Rules about the graph and its wiring: cycles, ambiguous and unbound inputs, unknown names, conditions.</summary>
public class WiringRuleTests
{
    [Fact]
    public void CycleDetected_prints_the_cycle_path_of_parameter_edges()
    {
        var b = T.Builder()
            .AddStep("a", "param($c) $c", null, T.At(2))
            .AddStep("b", "param($a) $a", null, T.At(3))
            .AddStep("c", "param($b) $b", null, T.At(4));
        var d = T.Single(T.Validate(b), DiagnosticIds.CycleDetected);
        Assert.Contains("a -> b -> c -> a", d.Message);
        Assert.Equal("a", d.Step);
        Assert.Equal(2, d.Line);
        Assert.Equal(T.File, d.File);
    }

    [Fact]
    public void CycleDetected_two_cycle_through_DependsOn()
    {
        var b = T.Builder()
            .AddStep("first", "1", new StepOptions { DependsOn = new[] { "second" } }, T.At(2))
            .AddStep("second", "2", new StepOptions { DependsOn = new[] { "first" } }, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.CycleDetected);
        Assert.Contains("first -> second -> first", d.Message);
        Assert.Contains("-DependsOn", d.Fix);
    }

    [Fact]
    public void CycleDetected_a_step_that_takes_its_own_output()
    {
        var d = T.Single(T.Validate(T.Builder().AddStep("loop", "param($loop) $loop", null, T.At(2))), DiagnosticIds.CycleDetected);
        Assert.Contains("loop -> loop", d.Message);
    }

    [Fact]
    public void CycleDetected_only_the_cycle_is_printed_not_the_path_into_it()
    {
        var b = T.Builder()
            .AddStep("entry", "1", null, T.At(2))
            .AddStep("x", "param($entry, $z) $z", null, T.At(3))
            .AddStep("y", "param($x) $x", null, T.At(4))
            .AddStep("z", "param($y) $y", null, T.At(5));
        var d = T.Single(T.Validate(b), DiagnosticIds.CycleDetected);
        Assert.Contains("x -> y -> z -> x", d.Message);
        Assert.DoesNotContain("entry", d.Message);
    }

    [Fact]
    public void AmbiguousInput_parameter_named_like_a_step_and_a_workflow_parameter()
    {
        var b = T.Builder()
            .AddParameter("data", "x.csv", location: T.At(2))
            .AddStep("data", "1", null, T.At(3))
            .AddStep("train", "param($data) $data", null, T.At(4));
        var wf = b.Build();
        var d = T.Single(WorkflowValidator.Validate(wf), DiagnosticIds.AmbiguousInput);
        Assert.Equal("train", d.Step);
        Assert.Contains("'data'", d.Message);
        Assert.Contains($"step 'data' ({T.File}:3)", d.Message);
        Assert.Contains($"workflow parameter 'data' ({T.File}:2)", d.Message);
        Assert.Equal(4, d.Line);
        Assert.Empty(wf.Edges);
    }

    [Fact]
    public void AmbiguousInput_typed_parameter_matching_two_steps_names_both_candidates()
    {
        var b = T.Builder()
            .AddStep("accuracy", "0.9", new StepOptions { OutputType = "double" }, T.At(2))
            .AddStep("recall", "[OutputType([double])] param() 0.8", null, T.At(3))
            .AddStep("report", "param([double] $x) $x", null, T.At(4));
        var d = T.Single(T.Validate(b), DiagnosticIds.AmbiguousInput);
        Assert.Equal("report", d.Step);
        Assert.Contains("'x'", d.Message);
        Assert.Contains("[double]", d.Message);
        Assert.Contains($"'accuracy' ({T.File}:2)", d.Message);
        Assert.Contains($"'recall' ({T.File}:3)", d.Message);
        Assert.Equal(4, d.Line);
    }

    [Fact]
    public void AmbiguousInput_command_placeholder_matching_a_step_and_a_parameter()
    {
        var b = T.Builder()
            .AddParameter("data", "x", location: T.At(2))
            .AddStep("data", "1", null, T.At(3))
            .AddStep("run", (string?)null, new StepOptions { Command = "cat", ArgumentList = new[] { "{data}" } }, T.At(4));
        var d = T.Single(T.Validate(b), DiagnosticIds.AmbiguousInput);
        Assert.Contains("'{data}'", d.Message);
        Assert.Equal("run", d.Step);
    }

    [Fact]
    public void UnboundInput_names_the_step_the_parameter_and_the_candidates()
    {
        var b = T.Builder()
            .AddParameter("Rate", 1, location: T.At(2))
            .AddStep("load", "1", null, T.At(3))
            .AddStep("train", "param($load, $features) $load", null, T.At(4));
        var d = T.Single(T.Validate(b), DiagnosticIds.UnboundInput);
        Assert.Equal("train", d.Step);
        Assert.Contains("'features'", d.Message);
        Assert.Contains("step 'train'", d.ToString());
        Assert.Contains("load", d.Fix);
        Assert.Contains("Rate", d.Fix);
        Assert.Equal(4, d.Line);
    }

    [Fact]
    public void UnboundInput_typed_parameter_mentions_the_type()
    {
        var d = T.Single(T.Validate(T.Builder().AddStep("a", "param([int] $n) $n", null, T.At(2))), DiagnosticIds.UnboundInput);
        Assert.Contains("'n'", d.Message);
        Assert.Contains("[int]", d.Message);
    }

    [Fact]
    public void A_parameter_with_a_default_value_is_not_unbound()
    {
        var wf = T.Builder().AddStep("a", "param($threshold = 0.5, [int] $n = 3) $threshold", null, T.At(2)).Build();
        Assert.Empty(WorkflowValidator.Validate(wf));
        var inputs = wf.GetStep("a")!.Inputs;
        Assert.All(inputs, i => Assert.Equal(Model.BindingSource.Default, i.Source));
        Assert.All(inputs, i => Assert.False(i.Required));
    }

    [Fact]
    public void UnknownDependency_in_DependsOn()
    {
        var b = T.Builder().AddStep("a", "1", null, T.At(2)).AddStep("b", "2", new StepOptions { DependsOn = new[] { "nope" } }, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.UnknownDependency);
        Assert.Equal("b", d.Step);
        Assert.Contains("-DependsOn names 'nope'", d.Message);
        Assert.Contains("a", d.Fix);
        Assert.Equal(3, d.Line);
    }

    [Fact]
    public void UnknownDependency_in_Stdin()
    {
        var b = T.Builder().AddStep("a", "1", null, T.At(2))
            .AddStep("wc", (string?)null, new StepOptions { Command = "wc", Stdin = "missing" }, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.UnknownDependency);
        Assert.Contains("-Stdin names 'missing'", d.Message);
        Assert.Equal("wc", d.Step);
    }

    [Fact]
    public void UnknownPlaceholder_in_a_command_argument()
    {
        var b = T.Builder().AddParameter("Mode", "fast", location: T.At(2)).AddStep("train", "1", null, T.At(3))
            .AddStep("score", (string?)null, new StepOptions { Command = "python", ArgumentList = new[] { "score.py", "--in={nope}" } }, T.At(4));
        var d = T.Single(T.Validate(b), DiagnosticIds.UnknownPlaceholder);
        Assert.Equal("score", d.Step);
        Assert.Contains("'--in={nope}'", d.Message);
        Assert.Contains("'{nope}'", d.Message);
        Assert.Contains("train", d.Fix);
        Assert.Contains("Mode", d.Fix);
        Assert.Equal(4, d.Line);
    }

    [Theory]
    [InlineData("a -gt", "ends where a value was expected")]
    [InlineData("a -between 1", "unknown operator '-between'")]
    [InlineData("(a -gt 1", "missing ')'")]
    public void InvalidCondition_syntax_error(string when, string expected)
    {
        var b = T.Builder().AddStep("a", "1", null, T.At(2)).AddStep("b", "param($a) $a", new StepOptions { When = when }, T.At(3));
        var wf = b.Build();
        var d = T.Single(WorkflowValidator.Validate(wf), DiagnosticIds.InvalidCondition);
        Assert.Equal("b", d.Step);
        Assert.Contains($"condition '{when}'", d.Message);
        Assert.Contains(expected, d.Message);
        Assert.Equal(3, d.Line);
        Assert.Null(wf.GetStep("b")!.Condition);
    }

    [Fact]
    public void InvalidCondition_unknown_name()
    {
        var b = T.Builder().AddStep("a", "1", null, T.At(2)).AddStep("b", "param($a) $a", new StepOptions { When = "nosuch -gt 1" }, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidCondition);
        Assert.Contains("'nosuch'", d.Message);
        Assert.Contains("neither a step nor a workflow parameter", d.Message);
    }

    [Fact]
    public void InvalidCondition_unknown_dollar_parameter_lists_the_parameters()
    {
        var b = T.Builder().AddParameter("Mode", "x", location: T.At(2)).AddStep("a", "1", new StepOptions { When = "$Nope -eq 1" }, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidCondition);
        Assert.Contains("'$Nope'", d.Message);
        Assert.Contains("Mode", d.Message);
    }

    [Fact]
    public void ConditionNotUpstream_step_that_is_not_an_ancestor()
    {
        var b = T.Builder()
            .AddStep("evaluate", "0.9", null, T.At(2))
            .AddStep("other", "1", null, T.At(3))
            .AddStep("publish", "param($other) $other", new StepOptions { When = "evaluate -gt 0.9" }, T.At(4));
        var d = T.Single(T.Validate(b), DiagnosticIds.ConditionNotUpstream);
        Assert.Equal("publish", d.Step);
        Assert.Contains("step 'evaluate'", d.Message);
        Assert.Contains("'publish'", d.Message);
        Assert.Contains("evaluate", d.Fix);
        Assert.Equal(4, d.Line);
    }

    [Fact]
    public void ConditionNotUpstream_own_output()
    {
        var b = T.Builder().AddStep("evaluate", "0.9", new StepOptions { When = "evaluate -gt 0.9" }, T.At(2));
        var d = T.Single(T.Validate(b), DiagnosticIds.ConditionNotUpstream);
        Assert.Contains("own output", d.Message);
        Assert.Equal("evaluate", d.Step);
    }

    [Fact]
    public void Condition_on_a_transitive_ancestor_or_a_parameter_is_fine()
    {
        var b = T.Builder()
            .AddParameter("Channel", "yes", location: T.At(2))
            .AddStep("train", "1", null, T.At(3))
            .AddStep("evaluate", "param($train) 0.9", null, T.At(4))
            .AddStep("gate", "1", new StepOptions { DependsOn = new[] { "evaluate" } }, T.At(5))
            .AddStep("publish", "param($gate) 1", new StepOptions { When = "TRAIN -ne 0 -and evaluate -gt 0.9 -and channel -eq 'yes'" }, T.At(6));
        var wf = b.Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        // Names are resolved to their canonical spelling and kind.
        Assert.Equal("((train -ne 0) -and (evaluate -gt 0.9)) -and ($Channel -eq 'yes')", wf.GetStep("publish")!.Condition!.ToString());
    }

    [Fact]
    public void Diagnostics_are_sorted_by_line_then_definition_order()
    {
        var b = T.Builder()
            .AddStep("z", "param($missing) 1", null, T.At(9))
            .AddStep("a", "1", new StepOptions { Retries = -1 }, T.At(4));
        var lines = T.Validate(b).Select(d => d.Line).ToList();
        Assert.Equal(lines.OrderBy(l => l).ToList(), lines);
        Assert.Equal(2, lines.Count);
    }
}
