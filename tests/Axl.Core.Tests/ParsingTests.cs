using Axl.Dsl;

namespace Axl.Core.Tests;

/// <summary>Small parsers of user input: timeouts and workflow references (file[:Name]).</summary>
public class ParsingTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("2h", 7200)]
    [InlineData("1m30s", 90)]
    [InlineData("1.5s", 2)]
    [InlineData("500ms", 1)]
    [InlineData("1h0m1s", 3601)]
    [InlineData("00:05:00", 300)]
    [InlineData("01:00:30", 3630)]
    [InlineData(" 300 ", 300)]
    [InlineData("300", 300)]
    public void TryParseTimeout_strings(string text, int seconds)
    {
        Assert.True(WorkflowBuilder.TryParseTimeout(text, out var s));
        Assert.Equal(seconds, s);
    }

    [Fact]
    public void TryParseTimeout_numbers_and_timespans()
    {
        Assert.True(WorkflowBuilder.TryParseTimeout(300, out var a));
        Assert.Equal(300, a);
        Assert.True(WorkflowBuilder.TryParseTimeout(300L, out var b));
        Assert.Equal(300, b);
        Assert.True(WorkflowBuilder.TryParseTimeout(1.2, out var c));
        Assert.Equal(2, c);
        Assert.True(WorkflowBuilder.TryParseTimeout(TimeSpan.FromMinutes(2), out var d));
        Assert.Equal(120, d);
        Assert.True(WorkflowBuilder.TryParseTimeout(TimeSpan.FromMilliseconds(1500), out var e));
        Assert.Equal(2, e);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("5 m")]
    [InlineData("5M")]
    [InlineData("m")]
    [InlineData("1h30")]
    [InlineData("ten minutes")]
    public void TryParseTimeout_rejects(string text) => Assert.False(WorkflowBuilder.TryParseTimeout(text, out _));

    [Fact]
    public void TryParseTimeout_rejects_null_and_other_types()
    {
        Assert.False(WorkflowBuilder.TryParseTimeout(null, out _));
        Assert.False(WorkflowBuilder.TryParseTimeout(new object(), out _));
        Assert.False(WorkflowBuilder.TryParseTimeout(long.MaxValue, out _));
    }

    [Fact]
    public void TryParseTimeout_a_huge_negative_number_never_wraps_to_a_positive_timeout()
    {
        // (int)-4294967000L would be +296.
        Assert.False(WorkflowBuilder.TryParseTimeout(-4_294_967_000L, out var s) && s > 0, $"got {s}");
        var d = T.Single(T.Validate(T.Builder().AddStep("a", "1", new StepOptions { Timeout = -4_294_967_000L }, T.At(2))), Validation.DiagnosticIds.InvalidOption);
        Assert.Contains("timeout", d.Message);
    }

    private static bool Never(string _) => false;

    [Theory]
    [InlineData("a.axl.ps1:Name", "a.axl.ps1", "Name")]
    [InlineData("flows/a.axl.ps1:iris-knn", "flows/a.axl.ps1", "iris-knn")]
    [InlineData("a.axl.ps1", "a.axl.ps1", null)]
    [InlineData("C:\\x\\a.axl.ps1", "C:\\x\\a.axl.ps1", null)]
    [InlineData("C:\\x\\a.axl.ps1:Flow", "C:\\x\\a.axl.ps1", "Flow")]
    [InlineData("C:a.axl.ps1", "C:a.axl.ps1", null)]
    [InlineData("a.axl.ps1:", "a.axl.ps1:", null)]
    [InlineData("http://host/x.axl.ps1", "http://host/x.axl.ps1", null)]
    public void WorkflowReference_Parse(string text, string path, string? name)
    {
        var r = WorkflowReference.Parse(text, Never);
        Assert.Equal(path, r.Path);
        Assert.Equal(name, r.Name);
        Assert.Equal(text, r.ToString());
    }

    [Fact]
    public void WorkflowReference_an_existing_file_is_never_split()
    {
        var r = WorkflowReference.Parse("dir/flow:v2.axl.ps1", p => p == "dir/flow:v2.axl.ps1");
        Assert.Equal("dir/flow:v2.axl.ps1", r.Path);
        Assert.Null(r.Name);
    }

    [Fact]
    public void WorkflowReference_an_existing_file_on_disk_is_never_split()
    {
        if (OperatingSystem.IsWindows()) return; // ':' cannot be part of a Windows file name
        var dir = Directory.CreateTempSubdirectory("axl-ref-");
        try
        {
            var file = Path.Combine(dir.FullName, "flow:Name");
            File.WriteAllText(file, "# flow");
            var r = WorkflowReference.Parse(file);
            Assert.Equal(file, r.Path);
            Assert.Null(r.Name);
            var split = WorkflowReference.Parse(file + "x");
            Assert.Equal(Path.Combine(dir.FullName, "flow"), split.Path);
            Assert.Equal("Namex", split.Name);
        }
        finally { dir.Delete(true); }
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void WorkflowReference_empty_is_an_error(string text) =>
        Assert.Throws<ArgumentException>(() => WorkflowReference.Parse(text, Never));
}
