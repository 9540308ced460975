using Xunit;

namespace Axl.Core.Tests;

/// <summary>Names as Get-Job takes them: wildcards select, a literal name that matched nothing is reported.</summary>
public sealed class NameFilterTests
{
    [Fact]
    public void No_names_match_everything_and_report_nothing()
    {
        foreach (var filter in new[] { new NameFilter(null), new NameFilter(Array.Empty<string>()), NameFilter.Of(null) })
        {
            Assert.True(filter.MatchesAll);
            Assert.True(filter.IsMatch("anything"));
            Assert.Empty(filter.Unmatched);
        }
    }

    [Fact]
    public void Wildcards_match_case_insensitively()
    {
        var filter = new NameFilter(new[] { "train*", "ETL-?aily", "[ab]x" });
        Assert.True(filter.IsMatch("train-a"));
        Assert.True(filter.IsMatch("Train"));
        Assert.True(filter.IsMatch("etl-daily"));
        Assert.True(filter.IsMatch("bx"));
        Assert.False(filter.IsMatch("cx"));
        Assert.False(filter.IsMatch("etl-hourly"));
    }

    [Fact]
    public void Only_literal_names_that_matched_nothing_are_unmatched_in_the_order_given()
    {
        var filter = new NameFilter(new[] { "zeta", "train*", "alpha", "nosuch*", "Beta", "beta" });
        Assert.Equal(new[] { "train-a", "BETA" }, filter.Filter(new[] { "train-a", "gamma", "BETA" }, n => n));
        Assert.Equal(new[] { "zeta", "alpha" }, filter.Unmatched);
    }

    [Fact]
    public void Test_does_not_record_a_match()
    {
        var filter = NameFilter.Of("alpha");
        Assert.True(filter.Test("ALPHA"));
        Assert.Equal(new[] { "alpha" }, filter.Unmatched);
        Assert.True(filter.IsMatch("ALPHA"));
        Assert.Empty(filter.Unmatched);
    }

    [Fact]
    public void An_escaped_wildcard_character_is_a_literal_name()
    {
        var filter = NameFilter.Of("a`*b");
        Assert.True(filter.IsMatch("a*b"));
        Assert.False(filter.IsMatch("axb"));
    }
}
