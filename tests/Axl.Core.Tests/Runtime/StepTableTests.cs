using Axl.Runtime;
using Xunit;

namespace Axl.Core.Tests.Runtime;

/// <summary>The step table of `axl run local`, and the plain properties the module's views read.</summary>
public sealed class StepTableTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static AxlStepResult Ok(string name) => new()
    {
        Name = name, Status = StepStatus.Succeeded, Attempts = 1, StartTime = T0, EndTime = T0.AddSeconds(1.5),
        OutputPath = $"/runs/wf/r1/{name}/output.clixml", OutputSize = 120, OutputHandler = "clixml", Directory = $"/runs/wf/r1/{name}",
    };

    private static AxlStepResult Failed(string name, string message) => new()
    {
        Name = name, Status = StepStatus.Failed, Attempts = 2, StartTime = T0, EndTime = T0.AddSeconds(0.25),
        Error = new StepError(message, FailureKind.User, "/w/wf.axl.ps1", 12), Directory = $"/runs/wf/r1/{name}",
    };

    [Fact]
    public void A_multi_line_error_keeps_the_table_aligned_first_line_in_the_row_the_rest_indented_below()
    {
        var steps = new[] { Ok("load"), Failed("train_model", "bad input\r\nline 2 of the error\n  line 3, indented\n\n"), Ok("report") };
        var lines = StepTable.Format(steps).Split(Environment.NewLine).Where(l => l.Length > 0).ToArray();

        Assert.Equal(6, lines.Length); // header, load, train_model, its 2 more lines, report
        var outputColumn = lines[0].IndexOf("OUTPUT", StringComparison.Ordinal);
        Assert.Equal("  STEP         STATUS      TRIES      TIME  OUTPUT", lines[0]);
        Assert.Equal("  load         succeeded       1     1.50s  output.clixml (120 B)", lines[1]);
        Assert.Equal("  train_model  failed          2     0.25s  bad input", lines[2]);
        Assert.Equal(new string(' ', outputColumn) + "line 2 of the error", lines[3]);
        Assert.Equal(new string(' ', outputColumn) + "  line 3, indented", lines[4]);
        Assert.StartsWith("  report       succeeded", lines[5]);
        // every row's columns start where the header's do
        foreach (var row in new[] { lines[1], lines[2], lines[5] })
        {
            Assert.Equal(' ', row[outputColumn - 1]);
            Assert.NotEqual(' ', row[outputColumn]);
            Assert.Equal(lines[0].IndexOf("STATUS", StringComparison.Ordinal), row.IndexOf(row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], StringComparison.Ordinal));
        }
        Assert.DoesNotContain('\r', string.Join("", lines));
    }

    [Fact]
    public void More_steps_than_the_limit_are_summed_up_with_where_to_look()
    {
        var steps = Enumerable.Range(1, 5).Select(i => Ok("s" + i)).ToArray();
        var text = StepTable.Format(steps, max: 3, runFile: "/runs/wf/r1/run.json");
        Assert.Contains("  ... 2 more steps (see /runs/wf/r1/run.json)", text);
        Assert.DoesNotContain("s4", text);
    }

    [Fact]
    public void A_run_and_its_steps_expose_their_summaries_as_properties()
    {
        var run = new AxlRun
        {
            RunId = "r1", Workflow = "wf", Directory = "/runs/wf/r1", StartTime = T0, Status = RunStatus.Failed,
            Parameters = new Dictionary<string, object?> { ["Base"] = 10, ["Name"] = "x" },
            Steps = new[] { Ok("load"), Failed("train", "boom"), new AxlStepResult { Name = "report", Status = StepStatus.Skipped, SkipReason = "upstream 'train' failed" } },
        };
        Assert.Equal(3, run.StepCount);
        Assert.Equal(1, run.SucceededCount);
        Assert.Equal("1/3 succeeded", run.StepSummary);
        Assert.Equal("load: Succeeded, train: Failed, report: Skipped", run.StepStates);
        Assert.Equal("Base=10, Name=x", run.ParameterText);
        Assert.Equal("output.clixml (120 B)", run.Steps[0].OutputText);
        Assert.Equal("", run.Steps[0].Note);
        Assert.Equal("boom at /w/wf.axl.ps1:12", run.Steps[1].Note);
        Assert.Equal("upstream 'train' failed", run.Steps[2].Note);
        Assert.Equal("", run.Steps[2].OutputText);
    }
}
