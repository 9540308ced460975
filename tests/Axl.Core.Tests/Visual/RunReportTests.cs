using System.Text.RegularExpressions;
using Axl.Dsl;
using Axl.Model;
using Axl.Runtime;
using Axl.Visual;

namespace Axl.Core.Tests.Visual;

/// <summary>The run report: one self-contained HTML file with the DAG by status, attempts, failures, outputs, resume command.</summary>
public sealed class RunReportTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "axl-report-tests-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private RunOptions Options(string? resume = null) => new()
    {
        RunRoot = _root, ThrottleLimit = 2, Resume = resume, RetryBackoff = TimeSpan.FromMilliseconds(10), KillGrace = TimeSpan.FromSeconds(1),
    };

    private static AxlWorkflow Flaky(bool fail) => new WorkflowBuilder("flaky", null, new SourceLocation("/flows/flaky.axl.ps1", 1))
        .AddParameter("Rows", 3L)
        .AddStep("load", "param($Rows) 1..$Rows | ForEach-Object { [pscustomobject]@{ id = $_; name = \"row$_\" } }", new StepOptions { IoHandler = "csv" })
        .AddStep("count", "param($load) @($load).Count")
        .AddStep("train", fail
            ? "param($count) Write-Warning 'about to fail'; throw 'model diverged at epoch 3'"
            : "param($count) 'trained on ' + $count", new StepOptions { Retries = 1 })
        .AddStep("publish", "param($train) $train")
        .Build();

    [Fact]
    public void A_failed_run_shows_every_step_by_status_the_failure_its_log_tail_and_both_resume_commands()
    {
        var run = LocalRunner.Run(Flaky(fail: true), Options());
        Assert.Equal(RunStatus.Failed, run.Status);
        var file = RunReportWriter.Save(run);
        Assert.Equal(Path.Combine(run.Directory, "report.html"), file.FullName);
        var html = File.ReadAllText(file.FullName);

        // Self-contained: no scripts, no external references.
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(new Regex(@"(src|href)\s*=", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"https?://"), html);
        Assert.Contains("prefers-color-scheme: dark", html);
        Assert.Contains("@media print", html);

        // Every step with its status in the DAG, the timeline and the table.
        var expected = new Dictionary<string, string> { ["load"] = "succeeded", ["count"] = "succeeded", ["train"] = "failed", ["publish"] = "skipped" };
        foreach (var (step, status) in expected)
        {
            Assert.Matches(new Regex($"<g class=\"node step status-{status}\"[^>]*data-step=\"{step}\""), html);
            Assert.Contains($"<tr class=\"step status-{status}\" data-step=\"{step}\" data-status=\"{status}\">", html);
            Assert.Matches(new Regex($"<g class=\"lane status-{status}\" data-step=\"{step}\""), html);
        }
        // Two attempts of train, both failed, on the timeline.
        var lane = Regex.Match(html, "<g class=\"lane status-failed\" data-step=\"train\".*?</g>").Value;
        Assert.Contains("data-attempts=\"2\"", lane);
        Assert.Equal(2, Regex.Matches(lane, "class=\"bar attempt failed\"").Count);
        Assert.Contains("train attempt 2: user", lane);
        // The failure with its message and log tail (the warning of both attempts).
        var failure = Regex.Match(html, "<article class=\"failure status-failed\" data-step=\"train\">.*?</article>", RegexOptions.Singleline).Value;
        Assert.Contains("model diverged at epoch 3", failure);
        Assert.Contains("#1 warning: about to fail", failure);
        Assert.Contains("#2 warning: about to fail", failure);
        Assert.Contains($"Get-AxlWorkflow /flows/flaky.axl.ps1 -Name flaky | Invoke-AxlLocalRun -Resume {run.RunId} -RunRoot {_root}", html);
        Assert.Contains($"axl run local /flows/flaky.axl.ps1:flaky --resume {run.RunId} --run-root {_root}", html);
        // The csv output as a table, the parameter with its value.
        var load = Regex.Match(html, "<article class=\"output\" data-step=\"load\">.*?</article>", RegexOptions.Singleline).Value;
        Assert.Contains("<th>id</th><th>name</th>", load);
        Assert.Contains("<td>3</td><td>row3</td>", load);
        Assert.Contains("3 rows.", load);
        Assert.Contains("<tr><td>Rows</td><td><code>3</code></td></tr>", html);
    }

    [Fact]
    public void Attempts_are_recorded_per_step_and_a_resumed_run_shows_reused_outputs()
    {
        var first = LocalRunner.Run(Flaky(fail: true), Options());
        var train = first.GetStep("train")!;
        Assert.Equal(2, train.AttemptLog.Count);
        Assert.All(train.AttemptLog, a => Assert.Equal("User", a.Outcome));
        Assert.Contains("model diverged", train.AttemptLog[0].Error);
        Assert.True(train.AttemptLog[0].EndTime <= train.AttemptLog[1].StartTime);
        var loaded = RunStore.Load(first.Directory).GetStep("train")!;
        Assert.Equal(train.AttemptLog, loaded.AttemptLog);

        var resumed = LocalRunner.Run(Flaky(fail: false), Options(resume: first.RunId));
        Assert.Equal(RunStatus.Succeeded, resumed.Status);
        var html = RunReportWriter.Write(RunStore.Load(resumed.Directory));
        Assert.Matches(new Regex("<g class=\"lane status-succeeded\" data-step=\"load\"[^>]*><text[^>]*>load</text><rect class=\"bar reused\""), html);
        // train: two failed attempts from the first session, then the one that succeeded.
        var lane = Regex.Match(html, "<g class=\"lane status-succeeded\" data-step=\"train\".*?</g>").Value;
        Assert.Equal(2, Regex.Matches(lane, "class=\"bar attempt failed\"").Count);
        Assert.Single(Regex.Matches(lane, "class=\"bar attempt succeeded\""));
        Assert.Contains("<h2>Run it again</h2>", html);
        Assert.DoesNotContain("id=\"failures\"", html);
    }

    [Fact]
    public void A_run_without_a_kept_dag_still_reports_its_steps()
    {
        var run = LocalRunner.Run(Flaky(fail: false), Options());
        File.Delete(Path.Combine(run.Directory, WorkflowDag.FileName));
        var html = RunReportWriter.Write(RunStore.Load(run.Directory));
        Assert.Contains("did not keep its DAG", html);
        foreach (var s in run.Steps) Assert.Matches(new Regex($"<g class=\"node step status-succeeded\"[^>]*data-step=\"{s.Name}\""), html);
    }

    [Fact]
    public void The_dag_kept_with_a_run_round_trips()
    {
        var wf = Flaky(fail: false);
        var dag = WorkflowDag.FromWorkflow(wf);
        dag.Save(_root);
        var back = WorkflowDag.Load(_root)!;
        Assert.Equal(dag.Steps.Select(s => (s.Name, s.Kind, s.IoHandler, s.When, s.Retries)), back.Steps.Select(s => (s.Name, s.Kind, s.IoHandler, s.When, s.Retries)));
        Assert.Equal(dag.Edges, back.Edges);
        Assert.Equal(dag.Parameters, back.Parameters);
        Assert.Equal(new DagParameterInput("Rows", "Rows"), back.Steps[0].ParameterInputs.Single());
        Assert.Equal(MermaidWriter.Write(WorkflowPicture.Build(wf)), MermaidWriter.Write(WorkflowPicture.Build(back, null)));
    }
    [Fact]
    public void The_report_of_a_1000_step_run_stays_bounded_with_a_summarised_dag()
    {
        var wf = WorkflowPictureTests.Large("layered");
        var dir = Path.Combine(_root, "big", "run1");
        Directory.CreateDirectory(dir);
        WorkflowDag.FromWorkflow(wf).Save(dir);
        var start = DateTimeOffset.UtcNow;
        var steps = wf.Steps.Select((s, i) =>
        {
            var r = new AxlStepResult { Name = s.Name, Directory = Path.Combine(dir, s.Name) };
            r.Status = i % 97 == 5 ? StepStatus.Failed : StepStatus.Succeeded;
            r.Attempts = 1;
            r.StartTime = start.AddMilliseconds(i * 10);
            r.EndTime = start.AddMilliseconds(i * 10 + 25);
            r.AttemptList.Add(new StepAttempt(1, r.StartTime.Value, r.EndTime, r.Status == StepStatus.Failed ? "User" : "Succeeded"));
            if (r.Status == StepStatus.Failed) r.Error = new StepError("step " + s.Name + " failed", FailureKind.User);
            return r;
        }).ToList();
        var run = new AxlRun { RunId = "run1", Workflow = "big", Directory = dir, Steps = steps, StartTime = start };
        run.Status = RunStatus.Failed;
        run.EndTime = start.AddSeconds(11);

        var html = RunReportWriter.Write(run);
        Assert.True(html.Length < 2_500_000, $"report of 1,000 steps: {html.Length} chars");
        Assert.Contains("1000 steps, summarised", html);
        var dagNodes = Regex.Matches(html, "<g class=\"node (step|group) ").Count;
        Assert.InRange(dagNodes, 1, WorkflowPicture.DefaultSummaryThreshold);
        // A group holding a failed step is shown failed.
        Assert.Matches(new Regex("<g class=\"node group status-failed\""), html);
        // Every step keeps its row and its lane.
        Assert.Equal(1000, Regex.Matches(html, "<tr class=\"step status-").Count);
        Assert.Equal(1000, Regex.Matches(html, "<g class=\"lane status-").Count);
        Assert.Equal(steps.Count(s => s.Status == StepStatus.Failed), Regex.Matches(html, "<article class=\"failure status-failed\"").Count);
    }
    [Fact]
    public void Outputs_are_previewed_through_their_io_handlers_tables_for_parquet_arrow_json_and_text_as_text()
    {
        const string rows = "1..30 | ForEach-Object { [pscustomobject]@{ id = $_; label = \"item $_\"; ok = ($_ % 2 -eq 0) } }";
        var wf = new WorkflowBuilder("previews")
            .AddStep("pq", rows, new StepOptions { IoHandler = "parquet" })
            .AddStep("ar", rows, new StepOptions { IoHandler = "arrow" })
            .AddStep("js", "@{ accuracy = 0.97; k = 3 }", new StepOptions { IoHandler = "json" })
            .AddStep("tx", "\"line one`nline <two>\"", new StepOptions { IoHandler = "text" })
            .Build();
        var run = LocalRunner.Run(wf, Options());
        Assert.Equal(RunStatus.Succeeded, run.Status);
        var html = RunReportWriter.Write(run);
        string Output(string step) => Regex.Match(html, $"<article class=\"output\" data-step=\"{step}\">.*?</article>", RegexOptions.Singleline).Value;
        foreach (var step in new[] { "pq", "ar" })
        {
            var o = Output(step);
            Assert.Contains("<th>id</th><th>label</th><th>ok</th>", o);
            Assert.Contains("<td>20</td><td>item 20</td><td>True</td>", o);
            Assert.DoesNotContain("item 21", o); // 20 rows shown
            Assert.Contains("30 rows, the first 20 shown.", o);
        }
        Assert.Matches(new Regex("<td>accuracy</td><td>0.97</td>|<th>accuracy</th>"), Output("js"));
        Assert.Contains("<pre class=\"preview text\">line one\nline &lt;two&gt;", Output("tx"));
    }
}
