using Axl.Dsl;
using Axl.Model;
using Axl.Runtime;
using Xunit;

namespace Axl.Core.Tests.Runtime;

/// <summary>The Prometheus textfile of a run: the format (checked line by line by a strict parser) and the values.</summary>
public sealed class MetricsWriterTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "axl-metrics-tests-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private RunOptions Options() => new() { RunRoot = _root, ThrottleLimit = 2, RetryBackoff = TimeSpan.FromMilliseconds(10), KillGrace = TimeSpan.FromSeconds(1) };

    [Theory]
    [InlineData("axl_x 1\n")]
    [InlineData("# HELP axl_x Some \\\\ text\n# TYPE axl_x gauge\naxl_x{a=\"1\",b=\"x\\\"y\\\\z\\nw\"} -1.5e3\naxl_x{a=\"2\"} +Inf 1700000000000\n")]
    [InlineData("# a comment\n\naxl:x{a=\"\"} NaN\n")]
    public void The_parser_accepts_valid_text(string text) => PrometheusText.Parse(text);

    [Theory]
    [InlineData("axl_x 1", "line feed")]
    [InlineData("1axl 1\n", "not a metric name")]
    [InlineData("axl-x 1\n", "not a metric name")]
    [InlineData("axl_x{a-b=\"1\"} 1\n", "not a label name")]
    [InlineData("axl_x{a=1} 1\n", "not quoted")]
    [InlineData("axl_x{a=\"x\\t\"} 1\n", "not an escape")]
    [InlineData("axl_x{a=\"x} 1\n", "no closing quote")]
    [InlineData("axl_x{a=\"1\" b=\"2\"} 1\n", "expected ','")]
    [InlineData("axl_x one\n", "not a float")]
    [InlineData("axl_x 1,5\n", "not a float")]
    [InlineData("axl_x 1 2 3\n", "at most a timestamp")]
    [InlineData("axl_x{a=\"1\"} 1\naxl_x{a=\"1\"} 2\n", "appears twice")]
    [InlineData("axl_x 1\n# TYPE axl_x gauge\n", "after its samples")]
    [InlineData("# TYPE axl_x gauge\n# TYPE axl_x gauge\naxl_x 1\n", "second # TYPE")]
    [InlineData("# TYPE axl_x meter\naxl_x 1\n", "the type must be")]
    [InlineData("axl_x{a=\"1\"} 1\naxl_y 1\naxl_x{a=\"2\"} 1\n", "not together")]
    [InlineData("axl_x 1\r\n", "carriage return")]
    public void The_parser_rejects_what_the_format_does_not_allow(string text, string why)
    {
        var ex = Assert.Throws<FormatException>(() => PrometheusText.Parse(text));
        Assert.Contains(why, ex.Message);
    }

    [Fact]
    public void Label_values_are_escaped_as_the_format_says_and_parse_back()
    {
        var value = "a\\b \"quoted\"\nnext";
        Assert.Equal("a\\\\b \\\"quoted\\\"\\nnext", MetricsWriter.EscapeLabelValue(value));
        var doc = PrometheusText.Parse($"axl_x{{v=\"{MetricsWriter.EscapeLabelValue(value)}\"}} 1\n");
        Assert.Equal(value, doc.Samples.Single().Label("v"));
    }

    [Fact]
    public void A_failed_run_with_a_retried_step_writes_every_family_with_the_runs_values()
    {
        var counter = Path.Combine(_root, "counter.txt");
        Directory.CreateDirectory(_root);
        var b = new WorkflowBuilder("metrics");
        b.AddStep("source", "'x' * 1000")
         .AddStep("flaky", $$"""
            param($source)
            $n = 1
            if ([System.IO.File]::Exists('{{counter}}')) { $n = [int][System.IO.File]::ReadAllText('{{counter}}') + 1 }
            [System.IO.File]::WriteAllText('{{counter}}', [string]$n)
            if ($n -lt 3) { throw "attempt $n fails" }
            "ok after $n"
            """, new StepOptions { Retries = 3 })
         .AddStep("broken", "param($source) throw 'bad input'")
         .AddStep("after", "param($broken) $broken");
        var run = LocalRunner.Run(b.Build(), Options());
        Assert.Equal(RunStatus.Failed, run.Status);

        var file = Path.Combine(_root, "textfile", "axl.prom");
        MetricsWriter.Write(run, file);
        var doc = PrometheusText.Parse(File.ReadAllText(file));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!).Where(f => f != file)); // no temp file left behind

        string[] families = ["axl_run_duration_seconds", "axl_run_status", "axl_run_steps_total", "axl_run_last_completion_timestamp_seconds",
            "axl_step_duration_seconds", "axl_step_status", "axl_step_retries_total", "axl_step_output_bytes"];
        foreach (var f in families)
        {
            Assert.True(doc.Types.ContainsKey(f), $"no # TYPE of {f}");
            Assert.True(doc.Help.ContainsKey(f), $"no # HELP of {f}");
            Assert.NotEmpty(doc.Of(f));
        }
        Assert.Equal("counter", doc.Types["axl_step_retries_total"]);
        Assert.All(doc.Samples.Where(s => s.Name != "axl_run_last_completion_timestamp_seconds"), s => Assert.Equal(run.RunId, s.Label("run_id")));
        Assert.All(doc.Samples, s => Assert.Equal("metrics", s.Label("workflow")));

        var runDuration = doc.Single("axl_run_duration_seconds").Value;
        Assert.True(runDuration > 0);
        Assert.Equal(run.Duration!.Value.TotalSeconds, runDuration, 6);
        Assert.Equal(1, doc.Single("axl_run_status", ("status", "failed")).Value);
        Assert.Equal(0, doc.Single("axl_run_status", ("status", "succeeded")).Value);
        Assert.Equal(2, doc.Single("axl_run_steps_total", ("status", "succeeded")).Value);
        Assert.Equal(1, doc.Single("axl_run_steps_total", ("status", "failed")).Value);
        Assert.Equal(1, doc.Single("axl_run_steps_total", ("status", "skipped")).Value);
        Assert.Equal(run.EndTime!.Value.ToUnixTimeMilliseconds() / 1000.0, doc.Single("axl_run_last_completion_timestamp_seconds").Value, 3);

        foreach (var s in run.Steps)
        {
            var duration = doc.Single("axl_step_duration_seconds", ("step", s.Name)).Value;
            if (s.Status == StepStatus.Skipped) Assert.Equal(0, duration);
            else Assert.True(duration > 0, s.Name);
            var statuses = doc.Of("axl_step_status").Where(x => x.Label("step") == s.Name).ToList();
            Assert.Equal(Enum.GetValues<StepStatus>().Length, statuses.Count);
            Assert.Equal(s.Status.ToString().ToLowerInvariant(), Assert.Single(statuses, x => x.Value == 1).Label("status"));
            var bytes = doc.Single("axl_step_output_bytes", ("step", s.Name)).Value;
            Assert.Equal(s.OutputPath is null ? 0 : new FileInfo(s.OutputPath).Length, (long)bytes);
        }
        Assert.Equal(2, doc.Single("axl_step_retries_total", ("step", "flaky")).Value);
        Assert.Equal(0, doc.Single("axl_step_retries_total", ("step", "source")).Value);
        Assert.Equal(1, doc.Single("axl_step_status", ("step", "broken"), ("status", "failed")).Value);
        Assert.True(doc.Single("axl_step_output_bytes", ("step", "source")).Value > 1000);

        // A second run's metrics replace the first's in place.
        File.Delete(counter);
        var again = LocalRunner.Run(b.Build(), Options());
        MetricsWriter.Write(again, file);
        var second = PrometheusText.Parse(File.ReadAllText(file));
        Assert.All(second.Of("axl_step_status"), s => Assert.Equal(again.RunId, s.Label("run_id")));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(file)!));
    }

    [Fact]
    public void The_runs_of_several_workflows_share_one_file_with_each_family_once()
    {
        var one = new WorkflowBuilder("one").AddStep("a", "1").Build();
        var two = new WorkflowBuilder("two").AddStep("b", "'bb'").AddStep("c", "param($b) $b + 'c'").Build();
        var runs = new[] { LocalRunner.Run(one, Options()), LocalRunner.Run(two, Options()), LocalRunner.Run(one, Options()) };
        var doc = PrometheusText.Parse(MetricsWriter.Format(runs)); // no duplicate series, every family's samples together
        Assert.Equal(3, doc.Of("axl_run_duration_seconds").Count());
        Assert.Equal(1 + 2 + 1, doc.Of("axl_step_duration_seconds").Count());
        Assert.Equal(new[] { "one", "two" }, doc.Of("axl_run_last_completion_timestamp_seconds").Select(s => s.Label("workflow")).ToArray());
        Assert.Equal(runs[2].EndTime!.Value.ToUnixTimeMilliseconds() / 1000.0, doc.Single("axl_run_last_completion_timestamp_seconds", ("workflow", "one")).Value, 3);
        Assert.Equal(1, doc.Single("axl_step_status", ("run_id", runs[1].RunId), ("step", "c"), ("status", "succeeded")).Value);
    }

    [Fact]
    public void A_metrics_file_that_cannot_be_written_is_an_error_naming_it()
    {
        var run = LocalRunner.Run(new WorkflowBuilder("one").AddStep("a", "1").Build(), Options());
        var blocker = Path.Combine(_root, "not-a-folder");
        File.WriteAllText(blocker, "x");
        var path = Path.Combine(blocker, "axl.prom");
        var ex = Assert.Throws<AxlMetricsException>(() => MetricsWriter.Write(run, path));
        Assert.Contains($"'{path}'", ex.Message);
        Assert.Contains("Fix:", ex.Message);
    }
}
