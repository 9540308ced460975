using Xunit;
using System.Text.RegularExpressions;

namespace Axl.Cmdlets.Tests;

/// <summary>`axl graph` and `axl report` as a user runs them: output, files written, exit codes and messages.</summary>
public sealed class CliVisualTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Graph_prints_mermaid_by_default_and_writes_dot_and_svg_files()
    {
        var (exit, stdout, stderr) = CliTests.Axl("graph", "examples/diamond/diamond.axl.ps1");
        Assert.True(exit == 0, stderr);
        Assert.StartsWith("%% Axl workflow 'diamond': 4 steps\nflowchart TD\n", stdout);
        Assert.Contains("  s1 -->|\"left\"| s3\n", stdout);

        var svg = Path.Combine(_dir.Path, "d.svg");
        (exit, stdout, stderr) = CliTests.Axl("graph", "examples/diamond/diamond.axl.ps1", "--format", "svg", "-o", svg);
        Assert.True(exit == 0, stderr);
        Assert.Equal("", stdout);
        Assert.Contains($"wrote the svg picture of workflow 'diamond' (4 steps) to {svg}", stderr);
        Assert.Equal(4, Regex.Matches(File.ReadAllText(svg), "data-step=\"").Count);

        var dot = Path.Combine(_dir.Path, "d.dot");
        (exit, _, stderr) = CliTests.Axl("graph", "examples/diamond/diamond.axl.ps1", "--format=DOT", "--out", dot);
        Assert.True(exit == 0, stderr);
        Assert.Contains("digraph \"diamond\" {", File.ReadAllText(dot));
    }

    [Fact]
    public void Graph_refuses_an_unknown_format_a_missing_workflow_name_and_a_missing_file_with_exit_1()
    {
        var (exit, _, stderr) = CliTests.Axl("graph", "examples/diamond/diamond.axl.ps1", "--format", "png");
        Assert.Equal(1, exit);
        Assert.Contains("--format takes mermaid, dot, svg, got 'png'", stderr);

        (exit, _, stderr) = CliTests.Axl("graph", "examples/diamond/diamond.axl.ps1", "--name", "nope");
        Assert.Equal(1, exit);
        Assert.Contains("defines no workflow 'nope'. Its workflows: diamond", stderr);

        (exit, _, stderr) = CliTests.Axl("graph", Path.Combine(_dir.Path, "missing.axl.ps1"));
        Assert.Equal(1, exit);
        Assert.Contains("missing.axl.ps1", stderr);

        (exit, var stdout, _) = CliTests.Axl("--help");
        Assert.Equal(0, exit);
        Assert.Matches(@"(?m)^  graph +draw a workflow's DAG", stdout);
        Assert.Matches(@"(?m)^  report +write a run's HTML report", stdout);
    }

    [Fact]
    public void Report_writes_the_html_of_a_run_by_id_or_directory_and_refuses_an_unknown_run()
    {
        var root = Path.Combine(_dir.Path, "runs");
        var (exit, _, stderr) = CliTests.Axl("run", "local", "examples/diamond/diamond.axl.ps1", "--run-root", root);
        Assert.True(exit == 0, stderr);
        var runDir = Directory.GetDirectories(Path.Combine(root, "diamond")).Single(d => File.Exists(Path.Combine(d, "run.json")));
        var id = Path.GetFileName(runDir);

        (exit, var stdout, stderr) = CliTests.Axl("report", id, "--run-root", root);
        Assert.True(exit == 0, stderr);
        Assert.Equal(Path.Combine(runDir, "report.html"), stdout.Trim());
        var html = File.ReadAllText(stdout.Trim());
        foreach (var s in new[] { "start", "left", "right", "join" })
            Assert.Contains($"<tr class=\"step status-succeeded\" data-step=\"{s}\" data-status=\"succeeded\">", html);
        Assert.Contains($"axl run local {Path.Combine(Repo.Root, "examples/diamond/diamond.axl.ps1")}:diamond --resume {id}", html);

        var other = Path.Combine(_dir.Path, "by-dir.html");
        (exit, stdout, stderr) = CliTests.Axl("report", runDir, "-o", other);
        Assert.True(exit == 0, stderr);
        Assert.Equal(other, stdout.Trim());

        (exit, _, stderr) = CliTests.Axl("report", "20990101-000000-000000", "--run-root", root);
        Assert.Equal(1, exit);
        Assert.Contains("There is no run '20990101-000000-000000' under " + root, stderr);
        Assert.Contains("--run-root", stderr);
    }
}
