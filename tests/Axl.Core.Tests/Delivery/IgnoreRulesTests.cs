using Axl.Delivery;

namespace Axl.Core.Tests.Delivery;

/// <summary>The gitignore subset of .axlignore and .gitignore, pattern by pattern.</summary>
public sealed class IgnoreRulesTests
{
    private static bool Ignored(string rules, string path, bool dir = false) =>
        new IgnoreRules().Add(rules.Split('\n'), "test").IsIgnored(path, dir);

    [Theory]
    // A name without a slash matches at any depth.
    [InlineData("*.log", "a.log", false, true)]
    [InlineData("*.log", "deep/er/a.log", false, true)]
    [InlineData("*.log", "a.log.txt", false, false)]
    [InlineData("secret", "x/secret", false, true)]
    // A slash at the start or in the middle anchors to the root.
    [InlineData("/build", "build", true, true)]
    [InlineData("/build", "src/build", true, false)]
    [InlineData("docs/*.md", "docs/a.md", false, true)]
    [InlineData("docs/*.md", "x/docs/a.md", false, false)]
    [InlineData("docs/*.md", "docs/sub/a.md", false, false)]
    // A trailing slash matches directories only.
    [InlineData("cache/", "cache", true, true)]
    [InlineData("cache/", "cache", false, false)]
    [InlineData("cache/", "a/cache", true, true)]
    // ** forms.
    [InlineData("**/fixtures", "fixtures", true, true)]
    [InlineData("**/fixtures", "a/b/fixtures", true, true)]
    [InlineData("data/**", "data/a/b.csv", false, true)]
    [InlineData("data/**", "data", true, false)]
    [InlineData("a/**/z", "a/z", false, true)]
    [InlineData("a/**/z", "a/b/c/z", false, true)]
    [InlineData("a/**/z", "b/a/z", false, false)]
    [InlineData("x**y", "xaby", false, true)]
    [InlineData("x**y", "xa/by", false, false)]
    // ? and classes never match '/'.
    [InlineData("file?.txt", "file1.txt", false, true)]
    [InlineData("file?.txt", "file10.txt", false, false)]
    [InlineData("[abc].txt", "b.txt", false, true)]
    [InlineData("[!abc].txt", "b.txt", false, false)]
    [InlineData("[!abc].txt", "d.txt", false, true)]
    [InlineData("[0-9]*.csv", "7days.csv", false, true)]
    [InlineData("[]x].txt", "].txt", false, true)]
    [InlineData("[!]x].txt", "].txt", false, false)]
    [InlineData("[!]x].txt", "y.txt", false, true)]
    [InlineData("[unclosed", "[unclosed", false, true)]
    // Comments, blank lines, escapes, trailing spaces.
    [InlineData("# comment", "# comment", false, false)]
    [InlineData("\\#hash", "#hash", false, true)]
    [InlineData("\\!bang", "!bang", false, true)]
    [InlineData("trail   ", "trail", false, true)]
    [InlineData("a\\*b", "a*b", false, true)]
    [InlineData("a\\*b", "axb", false, false)]
    // Negation: the last matching rule wins.
    [InlineData("*.csv\n!keep.csv", "keep.csv", false, false)]
    [InlineData("*.csv\n!keep.csv", "drop.csv", false, true)]
    [InlineData("!keep.csv\n*.csv", "keep.csv", false, true)]
    public void Patterns_follow_gitignore(string rules, string path, bool isDirectory, bool ignored) =>
        Assert.Equal(ignored, Ignored(rules, path, isDirectory));

    [Fact]
    public void Explain_names_the_deciding_rule()
    {
        var rules = new IgnoreRules().Add(new[] { "*.csv", "", "# keep this one", "!keep.csv" }, ".axlignore");
        Assert.Equal(".axlignore:4: !keep.csv", rules.Explain("keep.csv", false));
        Assert.Equal(".axlignore:1: *.csv", rules.Explain("drop.csv", false));
        Assert.Null(rules.Explain("flow.axl.ps1", false));
        Assert.Equal(2, rules.Count);
    }
}
