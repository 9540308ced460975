using Axl.Model;

namespace Axl.Core.Tests;

/// <summary>The -When condition language: precedence, -not, parentheses, literals, references, canonical text, errors.</summary>
public class ConditionParserTests
{
    private static ConditionRef Step(string n) => new(n, false);
    private static ConditionRef Param(string n) => new(n, true);
    private static ConditionLiteral Lit(object v) => new(v);

    [Fact]
    public void And_binds_tighter_than_or()
    {
        var c = ConditionParser.Parse("a -or b -and c");
        Assert.Equal(new ConditionBinary("or", Step("a"), new ConditionBinary("and", Step("b"), Step("c"))), c);
        var d = ConditionParser.Parse("a -and b -or c");
        Assert.Equal(new ConditionBinary("or", new ConditionBinary("and", Step("a"), Step("b")), Step("c")), d);
    }

    [Fact]
    public void Comparisons_bind_tighter_than_and_and_or_is_left_associative()
    {
        var c = ConditionParser.Parse("a -gt 1 -and b -le 2 -or c -eq 3 -or d");
        var expected = new ConditionBinary("or",
            new ConditionBinary("or",
                new ConditionBinary("and", new ConditionBinary("gt", Step("a"), Lit(1L)), new ConditionBinary("le", Step("b"), Lit(2L))),
                new ConditionBinary("eq", Step("c"), Lit(3L))),
            Step("d"));
        Assert.Equal(expected, c);
    }

    [Fact]
    public void Not_applies_to_a_comparison_and_binds_tighter_than_and()
    {
        Assert.Equal(new ConditionNot(new ConditionBinary("eq", Step("a"), Lit(1L))), ConditionParser.Parse("-not a -eq 1"));
        Assert.Equal(new ConditionBinary("and", new ConditionNot(Step("a")), Step("b")), ConditionParser.Parse("-not a -and b"));
        Assert.Equal(new ConditionNot(new ConditionNot(Step("a"))), ConditionParser.Parse("-NOT -not a"));
    }

    [Fact]
    public void Parentheses_override_precedence()
    {
        var c = ConditionParser.Parse("(a -or b) -and c");
        Assert.Equal(new ConditionBinary("and", new ConditionBinary("or", Step("a"), Step("b")), Step("c")), c);
        Assert.Equal(new ConditionNot(new ConditionBinary("or", Step("a"), Step("b"))), ConditionParser.Parse("-not (a -or b)"));
        Assert.Equal(Step("a"), ConditionParser.Parse("((a))"));
    }

    [Theory]
    [InlineData("x -eq 'it''s'", "it's")]
    [InlineData("x -eq \"say \"\"hi\"\"\"", "say \"hi\"")]
    [InlineData("x -eq ''", "")]
    [InlineData("x -eq 'a -and b'", "a -and b")]
    [InlineData("x -eq \"it's\"", "it's")]
    public void Strings_with_doubled_quotes(string text, string value)
    {
        var c = Assert.IsType<ConditionBinary>(ConditionParser.Parse(text));
        Assert.Equal(Lit(value), c.Right);
    }

    [Theory]
    [InlineData("1", 1L)]
    [InlineData("-3", -3L)]
    [InlineData("0.9", 0.9)]
    [InlineData("-2.5", -2.5)]
    [InlineData(".5", 0.5)]
    [InlineData("1e3", 1000.0)]
    [InlineData("2.5E-2", 0.025)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Numbers(string literal, object value)
    {
        var c = Assert.IsType<ConditionBinary>(ConditionParser.Parse("x -ge " + literal));
        var lit = Assert.IsType<ConditionLiteral>(c.Right);
        Assert.Equal(value.GetType(), lit.Value.GetType());
        Assert.Equal(value, lit.Value);
    }

    [Fact]
    public void Dollar_names_are_parameters_and_bare_names_are_steps_until_resolved()
    {
        var c = ConditionParser.Parse("$Mode -eq 'full' -and load-data -ne $null_value");
        Assert.Equal(new[] { Param("Mode"), Step("load-data"), Param("null_value") }, c.References());
        Assert.Equal(Lit(true), ConditionParser.Parse("$true"));
        Assert.Equal(Lit(false), ConditionParser.Parse("FALSE"));
    }

    [Theory]
    [InlineData("evaluate -gt 0.9", "evaluate -gt 0.9")]
    [InlineData("  evaluate   -GT   0.9  ", "evaluate -gt 0.9")]
    [InlineData("a -or b -and c", "a -or (b -and c)")]
    [InlineData("(a -or b) -and c", "(a -or b) -and c")]
    [InlineData("-not a -eq 1", "-not (a -eq 1)")]
    [InlineData("-not a", "-not a")]
    [InlineData("$Mode -eq \"it's\"", "$Mode -eq 'it''s'")]
    [InlineData("$flag -eq $TRUE", "$flag -eq $true")]
    [InlineData("x -lt -2.5", "x -lt -2.5")]
    [InlineData("x -ne 1e3", "x -ne 1000")]
    public void Canonical_text_and_round_trip(string text, string canonical)
    {
        var c = ConditionParser.Parse(text);
        Assert.Equal(canonical, c.ToString());
        var again = ConditionParser.Parse(c.ToString());
        Assert.Equal(canonical, again.ToString());
    }

    [Theory]
    [InlineData("a -or b -and -not (c -eq 'x''y') -or $p -ge -1")]
    [InlineData("((a -gt 1) -and (b -lt 2.5)) -or -not c")]
    public void Round_trip_keeps_the_tree(string text)
    {
        var c = ConditionParser.Parse(text);
        Assert.Equal(c, ConditionParser.Parse(c.ToString()));
    }

    [Theory]
    [InlineData("a -foo 1", "unknown operator '-foo' at column 3")]
    [InlineData("a -eq 'open", "unterminated string starting at column 7")]
    [InlineData("(a -eq 1", "missing ')' for '(' at column 1")]
    [InlineData("a -eq 1 )", "unexpected ')' at column 9")]
    [InlineData("a b", "unexpected 'b' at column 3")]
    [InlineData("a # b", "unexpected character '#' at column 3")]
    [InlineData("$ -eq 1", "'$' at column 1 must be followed by a parameter name")]
    [InlineData("a -eq 1.2.3", "'1.2.3' at column 7 is not a number")]
    [InlineData("-and a", "unexpected '-and' at column 1")]
    [InlineData("a -eq -or", "unexpected '-or' at column 7")]
    public void Errors_name_the_column(string text, string message)
    {
        var ex = Assert.Throws<ConditionSyntaxException>(() => ConditionParser.Parse(text));
        Assert.Contains(message, ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Empty_condition_is_an_error(string text)
    {
        var ex = Assert.Throws<ConditionSyntaxException>(() => ConditionParser.Parse(text));
        Assert.Contains("empty", ex.Message);
    }

    [Fact]
    public void Missing_operand_is_an_error()
    {
        var ex = Assert.Throws<ConditionSyntaxException>(() => ConditionParser.Parse("a -eq"));
        Assert.Contains("value was expected", ex.Message);
    }

    [Fact]
    public void Deep_nesting_is_an_error_not_a_stack_overflow()
    {
        var text = new string('(', 5000) + "a" + new string(')', 5000);
        var ex = Assert.Throws<ConditionSyntaxException>(() => ConditionParser.Parse(text));
        Assert.Contains("nests too deeply", ex.Message);
        var nots = string.Concat(Enumerable.Repeat("-not ", 5000)) + "a";
        Assert.Throws<ConditionSyntaxException>(() => ConditionParser.Parse(nots));
    }
}
