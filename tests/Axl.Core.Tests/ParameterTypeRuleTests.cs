using Axl.Dsl;
using Axl.Validation;

namespace Axl.Core.Tests;

public sealed class ParameterTypeRuleTests
{
    [Fact]
    public void A_default_that_is_not_of_the_declared_type_is_an_error()
    {
        var b = T.Builder().AddParameter("K", "abc", "int", location: T.At(2)).AddStep("a", "param($K) $K", null, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidOption);
        Assert.Contains("the default value 'abc' of parameter 'K' is not a int", d.Message);
        Assert.Equal(2, d.Line);
    }

    [Fact]
    public void An_unknown_type_is_an_error_and_convertible_defaults_are_fine()
    {
        var unknown = T.Builder().AddParameter("K", 1L, "integerish", location: T.At(2)).AddStep("a", "param($K) $K", null, T.At(3));
        Assert.Contains("declares type 'integerish', which is not a known type", T.Single(T.Validate(unknown), DiagnosticIds.InvalidOption).Message);
        var fine = T.Builder().AddParameter("K", "3", "int", location: T.At(2)).AddParameter("F", 1L, "double").AddStep("a", "param($K, $F) $K", null, T.At(3));
        T.NoErrors(T.Validate(fine));
    }

    [Fact]
    public void Command_steps_refuse_object_input_mode()
    {
        var b = T.Builder().AddStep("a", "1", null, T.At(2))
            .AddStep("c", (string?)null, new StepOptions { Command = "cat", ArgumentList = new[] { "{a}" }, InputMode = "object" }, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidInputMode);
        Assert.Contains("command steps always receive their inputs as file paths", d.Message);
        var path = T.Builder().AddStep("a", "1", null, T.At(2))
            .AddStep("c", (string?)null, new StepOptions { Command = "cat", ArgumentList = new[] { "{a}" }, InputMode = "path" }, T.At(3));
        T.NoErrors(T.Validate(path));
    }
}
