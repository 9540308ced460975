using Axl.Dsl;
using Axl.Validation;

namespace Axl.Core.Tests;

/// <summary>Rules about names: duplicates, DNS-1123 names, collisions, reserved names, parameters, empty workflows.</summary>
public class NameRuleTests
{
    [Fact]
    public void DuplicateStep_is_reported_at_the_second_definition_with_the_first_location()
    {
        var b = T.Builder().AddStep("load", "1", null, T.At(2)).AddStep("load", "2", null, T.At(7));
        var d = T.Single(T.Validate(b), DiagnosticIds.DuplicateStep);
        Assert.Equal("load", d.Step);
        Assert.Equal(7, d.Line);
        Assert.Equal(T.File, d.File);
        Assert.Contains("'load'", d.Message);
        Assert.Contains($"{T.File}:2", d.Message);
    }

    [Fact]
    public void DuplicateStep_is_case_insensitive()
    {
        var b = T.Builder().AddStep("Train", "1", null, T.At(3)).AddStep("train", "2", null, T.At(9));
        var d = T.Single(T.Validate(b), DiagnosticIds.DuplicateStep);
        Assert.Equal("train", d.Step);
        Assert.Contains("'train'", d.Message);
        Assert.Contains($"{T.File}:3", d.Message);
        Assert.Equal(9, d.Line);
        // The case-only duplicate is a duplicate, not a DNS-1123 collision.
        T.None(T.Validate(b), DiagnosticIds.NameCollision);
    }

    [Fact]
    public void InvalidName_step_without_letters_or_digits()
    {
        var b = T.Builder().AddStep("___", "1", null, T.At(4));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidName);
        Assert.Equal("___", d.Step);
        Assert.Contains("'___'", d.Message);
        Assert.Contains("no letters or digits", d.Message);
        Assert.Equal(4, d.Line);
    }

    [Fact]
    public void InvalidName_step_longer_than_63_characters_after_normalisation()
    {
        var name = new string('a', 40) + "_" + new string('b', 23); // 64 characters as "aaa...-bbb..."
        Assert.Equal(64, Dns1123.Normalize(name).Length);
        var b = T.Builder().AddStep(name, "1", null, T.At(5));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidName);
        Assert.Equal(name, d.Step);
        Assert.Contains("64 characters", d.Message);
        Assert.Contains(Dns1123.Normalize(name), d.Message);
        Assert.Contains("63", d.Message);
    }

    [Fact]
    public void A_63_character_name_is_valid_and_a_long_name_that_normalises_short_is_valid()
    {
        var b = T.Builder()
            .AddStep(new string('a', 63), "1", null, T.At(2))
            .AddStep("x" + new string('_', 80) + "y", "1", null, T.At(3)); // normalises to "x-y"
        T.None(T.Validate(b), DiagnosticIds.InvalidName);
    }

    [Theory]
    [InlineData("büro", "'ü'")]
    [InlineData("load/data", "'/'")]
    [InlineData("a b", "' '")]
    [InlineData("x:y", "':'")]
    public void InvalidName_step_with_illegal_characters(string name, string quotedChar)
    {
        var b = T.Builder().AddStep(name, "1", null, T.At(6));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidName);
        Assert.Equal(name, d.Step);
        Assert.Contains($"'{name}'", d.Message);
        Assert.Contains(quotedChar, d.Message);
        Assert.Equal(6, d.Line);
    }

    [Theory]
    [InlineData("!!!", "no letters or digits")]
    [InlineData("flow/one", "'/'")]
    [InlineData("flüss", "'ü'")]
    public void InvalidName_workflow_name(string name, string expected)
    {
        var b = new WorkflowBuilder(name, null, T.At(1)).AddStep("a", "1", null, T.At(2));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidName);
        Assert.Null(d.Step);
        Assert.Equal(name, d.Workflow);
        Assert.Contains($"workflow name '{name}'", d.Message);
        Assert.Contains(expected, d.Message);
        Assert.Equal(1, d.Line);
    }

    [Fact]
    public void InvalidName_workflow_name_too_long()
    {
        var name = new string('w', 70);
        var b = new WorkflowBuilder(name, null, T.At(1)).AddStep("a", "1", null, T.At(2));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidName);
        Assert.Contains("70 characters", d.Message);
        Assert.Null(d.Step);
    }

    [Fact]
    public void InvalidName_workflow_parameter_name()
    {
        var b = T.Builder().AddParameter("bad name", 1, location: T.At(2)).AddStep("a", "1", null, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidName);
        Assert.Contains("parameter name 'bad name'", d.Message);
        Assert.Equal(2, d.Line);
    }

    [Theory]
    [InlineData("load_data", "load-data")]
    [InlineData("Load_Data", "load-data")]
    [InlineData("a.b", "a_b")]
    public void NameCollision_names_both_steps_and_the_shared_dns_name(string first, string second)
    {
        var b = T.Builder().AddStep(first, "1", null, T.At(2)).AddStep(second, "2", null, T.At(8));
        var d = T.Single(T.Validate(b), DiagnosticIds.NameCollision);
        Assert.Equal(second, d.Step);
        Assert.Contains($"'{first}' ({T.File}:2)", d.Message);
        Assert.Contains($"'{second}'", d.Message);
        Assert.Contains($"'{Dns1123.Normalize(first)}'", d.Message);
        Assert.Equal(8, d.Line);
    }

    [Theory]
    [InlineData("output")]
    [InlineData("Output")]
    [InlineData("AxlContext")]
    [InlineData("main-dag")]
    [InlineData("main_dag")]
    public void ReservedName(string name)
    {
        var b = T.Builder().AddStep(name, "1", null, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.ReservedName);
        Assert.Equal(name, d.Step);
        Assert.Contains($"'{name}'", d.Message);
        Assert.Contains("reserved", d.Message);
        Assert.Equal(3, d.Line);
    }

    [Fact]
    public void EmptyWorkflow_is_reported_at_the_workflow()
    {
        var b = new WorkflowBuilder("empty", null, T.At(12));
        var d = T.Single(T.Validate(b), DiagnosticIds.EmptyWorkflow);
        Assert.Null(d.Step);
        Assert.Equal("empty", d.Workflow);
        Assert.Equal(12, d.Line);
        Assert.Equal(T.File, d.File);
        Assert.Contains("no steps", d.Message);
        Assert.StartsWith($"{T.File}:12: error Axl.EmptyWorkflow: workflow 'empty': ", d.ToString());
    }

    [Fact]
    public void DuplicateParameter_is_case_insensitive_and_names_the_first_location()
    {
        var b = T.Builder()
            .AddParameter("Rate", 1, location: T.At(2))
            .AddParameter("rate", 2, location: T.At(3))
            .AddStep("a", "param($Rate) $Rate", null, T.At(4));
        var wf = b.Build();
        var d = T.Single(WorkflowValidator.Validate(wf), DiagnosticIds.DuplicateParameter);
        Assert.Contains("'rate'", d.Message);
        Assert.Contains($"{T.File}:2", d.Message);
        Assert.Equal(3, d.Line);
        // The first definition wins; the duplicate is not in the IR.
        var p = Assert.Single(wf.Parameters);
        Assert.Equal("Rate", p.Name);
        Assert.Equal(1L, p.Default);
    }

    [Fact]
    public void A_clean_workflow_has_no_diagnostics()
    {
        var b = T.Builder("iris-knn")
            .AddParameter("NNeighbors", 3, location: T.At(2))
            .AddStep("load_data", "1", null, T.At(3))
            .AddStep("train", "param($load_data, $NNeighbors) $load_data", null, T.At(4));
        Assert.Empty(T.Validate(b));
    }
}
