using System.Collections;
using System.Management.Automation;
using Axl.Dsl;
using Axl.IO;
using Axl.Model;
using Axl.Runtime;
using Xunit;

namespace Axl.Core.Tests.Runtime;

/// <summary>The local runtime end to end, on workflows built in C# (their steps run from source text in fresh runspaces).</summary>
public sealed class LocalRunnerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "axl-run-tests-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private RunOptions Options(int throttle = 4, string? resume = null, bool cache = false, IDictionary? parameters = null, string? file = null) => new()
    {
        RunRoot = _root, ThrottleLimit = throttle, Resume = resume, Cache = cache, Parameters = parameters, ParametersFile = file,
        RetryBackoff = TimeSpan.FromMilliseconds(10), KillGrace = TimeSpan.FromSeconds(1),
    };

    private static AxlWorkflow Build(string name, Action<WorkflowBuilder> define)
    {
        var b = new WorkflowBuilder(name);
        define(b);
        return b.Build();
    }

    private static object? Value(object? o) => o is PSObject p ? p.BaseObject : o;

    [Fact]
    public void Diamond_runs_in_order_and_every_output_is_an_artifact_with_metadata()
    {
        var wf = Build("diamond", b => b
            .AddParameter("Base", 10L)
            .AddStep("start", "param($Base) $Base")
            .AddStep("left", "param([int] $start) $start + 1")
            .AddStep("right", "param([int] $start) $start * 2")
            .AddStep("join", "param($left, $right) $left + $right"));
        var events = new List<RunEvent>();
        var run = LocalRunner.Run(wf, Options(), e => { lock (events) events.Add(e); });

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(31, Convert.ToInt32(Value(run.GetOutput("join"))));
        Assert.Equal(Path.Combine(_root, "diamond", run.RunId), run.Directory);
        foreach (var s in run.Steps)
        {
            Assert.Equal(StepStatus.Succeeded, s.Status);
            Assert.Equal(1, s.Attempts);
            Assert.True(ArtifactIO.IsComplete(s.Directory, verifyHash: true), s.Name);
            Assert.Equal(Path.Combine(run.Directory, s.Name, "output.clixml"), s.OutputPath);
            Assert.True(File.Exists(Path.Combine(s.Directory, "output.meta.json")));
        }
        // The record on disk says the same, and the structured log has a line per event.
        var loaded = RunStore.Load(run.Directory);
        Assert.Equal(RunStatus.Succeeded, loaded.Status);
        Assert.All(loaded.Steps, s => Assert.Equal(StepStatus.Succeeded, s.Status));
        Assert.Equal(10L, Convert.ToInt64(loaded.Parameters["Base"]));
        var log = File.ReadAllLines(Path.Combine(run.Directory, "log.jsonl"));
        Assert.Contains(log, l => l.Contains("\"step\":\"join\"") && l.Contains("\"status\":\"Succeeded\"") && l.Contains("\"duration_ms\":") && l.Contains("\"workflow\":\"diamond\""));
        Assert.Equal(events.Count, log.Length);
        // start finished before left and right began; join began after both ended.
        var start = run.GetStep("start")!; var left = run.GetStep("left")!; var right = run.GetStep("right")!; var join = run.GetStep("join")!;
        Assert.True(start.EndTime <= left.StartTime && start.EndTime <= right.StartTime);
        Assert.True(join.StartTime >= left.EndTime && join.StartTime >= right.EndTime);
    }

    private static AxlWorkflow TwoSleepers() => Build("parallel", b => b
        .AddStep("a", "$s = [DateTime]::UtcNow.Ticks; [System.Threading.Thread]::Sleep(1500); @($s, [DateTime]::UtcNow.Ticks)")
        .AddStep("b", "$s = [DateTime]::UtcNow.Ticks; [System.Threading.Thread]::Sleep(1500); @($s, [DateTime]::UtcNow.Ticks)"));

    private static (long Start, long End) Interval(AxlRun run, string step)
    {
        var items = ((IEnumerable)Value(run.GetOutput(step))!).Cast<object>().Select(o => Convert.ToInt64(Value(o))).ToArray();
        return (items[0], items[1]);
    }

    [Fact]
    public void Independent_steps_overlap_when_the_throttle_allows_and_do_not_when_it_is_one()
    {
        var parallel = LocalRunner.Run(TwoSleepers(), Options(throttle: 2));
        var (a1, a2) = Interval(parallel, "a");
        var (b1, b2) = Interval(parallel, "b");
        Assert.True(a1 < b2 && b1 < a2, "with -ThrottleLimit 2 the two independent steps must run at the same time");

        var serial = LocalRunner.Run(TwoSleepers(), Options(throttle: 1));
        (a1, a2) = Interval(serial, "a");
        (b1, b2) = Interval(serial, "b");
        Assert.True(a2 <= b1 || b2 <= a1, "with -ThrottleLimit 1 the steps must not overlap");
    }

    [Fact]
    public void A_failing_step_names_the_error_and_line_skips_downstream_and_lets_independent_branches_finish()
    {
        var wf = Build("failing", b => b
            .AddStep("source", "1")
            .AddStep("broken", "param($source)\n$x = 1\nthrow \"bad input: $source\"", location: new SourceLocation("/w/failing.axl.ps1", 7))
            .AddStep("after", "param($broken) $broken")
            .AddStep("later", "param($after) $after")
            .AddStep("independent", "param($source) $source + 1"));
        var run = LocalRunner.Run(wf, Options());

        Assert.Equal(RunStatus.Failed, run.Status);
        var broken = run.GetStep("broken")!;
        Assert.Equal(StepStatus.Failed, broken.Status);
        Assert.Contains("bad input: 1", broken.Error!.Message);
        Assert.Equal(FailureKind.User, broken.Error.Kind);
        Assert.Equal(3, broken.Error.Line); // line 3 of the step body, where the throw is
        Assert.Contains("throw", broken.Error.ScriptLine);
        Assert.Equal(StepStatus.Skipped, run.GetStep("after")!.Status);
        Assert.Equal("upstream step 'broken' failed", run.GetStep("after")!.SkipReason);
        Assert.Equal(StepStatus.Skipped, run.GetStep("later")!.Status);
        Assert.Equal(StepStatus.Succeeded, run.GetStep("independent")!.Status);
        Assert.Equal(2, Convert.ToInt32(Value(run.GetOutput("independent"))));
        Assert.False(ArtifactIO.IsComplete(broken.Directory));
    }

    [Fact]
    public void Script_steps_are_retried_until_they_succeed()
    {
        var counter = Path.Combine(_root, "counter.txt");
        Directory.CreateDirectory(_root);
        var wf = Build("retry", b => b.AddStep("flaky", $$"""
            $n = 1
            if ([System.IO.File]::Exists('{{counter}}')) { $n = [int][System.IO.File]::ReadAllText('{{counter}}') + 1 }
            [System.IO.File]::WriteAllText('{{counter}}', [string]$n)
            if ($n -lt 3) { throw "attempt $n fails" }
            "ok after $n"
            """, new StepOptions { Retries = 3 }));
        var events = new List<RunEvent>();
        var run = LocalRunner.Run(wf, Options(), e => { lock (events) events.Add(e); });
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(3, run.GetStep("flaky")!.Attempts);
        Assert.Equal("ok after 3", Value(run.GetOutput("flaky")));
        Assert.Equal(2, events.Count(e => e.Kind == RunEventKind.StepRetrying));

        var exhausted = Build("retry2", b => b.AddStep("never", "throw 'always'", new StepOptions { Retries = 1 }));
        var failed = LocalRunner.Run(exhausted, Options());
        Assert.Equal(2, failed.GetStep("never")!.Attempts);
        Assert.Equal(StepStatus.Failed, failed.GetStep("never")!.Status);
    }

    [Fact]
    public void Command_steps_pipe_files_substitute_placeholders_and_capture_stdout_as_text()
    {
        var wf = Build("commands", b => b
            .AddParameter("Word", "beta")
            .AddStep("lines", (string?)null, new StepOptions { CommandSpecified = true, Command = "printf", ArgumentList = new[] { "gamma\\nalpha\\n%s\\n", "{Word}" } })
            .AddStep("sorted", (string?)null, new StepOptions { CommandSpecified = true, Command = "sort", Stdin = "lines", Env = new Hashtable { ["LC_ALL"] = "C" } })
            .AddStep("counted", (string?)null, new StepOptions { CommandSpecified = true, Command = "wc", ArgumentList = new[] { "-l", "{sorted}" } })
            .AddStep("written", (string?)null, new StepOptions { CommandSpecified = true, Command = "cp", ArgumentList = new[] { "{sorted}", "{output}" } }));
        var run = LocalRunner.Run(wf, Options());
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal("alpha\nbeta\ngamma\n", Value(run.GetOutput("sorted")));
        Assert.StartsWith("3 ", ((string)Value(run.GetOutput("counted"))!).Trim());
        Assert.Equal("alpha\nbeta\ngamma\n", Value(run.GetOutput("written")));
        Assert.EndsWith(".txt", run.GetStep("sorted")!.OutputPath);
    }

    [Fact]
    public void Command_failures_report_the_exit_code_and_stderr_and_are_retried()
    {
        var wf = Build("cmdfail", b => b.AddStep("fails", (string?)null, new StepOptions
        {
            CommandSpecified = true, Command = "bash", ArgumentList = new[] { "-c", "echo 'disk is full' >&2; exit 3" }, Retries = 1,
        }));
        var run = LocalRunner.Run(wf, Options());
        var s = run.GetStep("fails")!;
        Assert.Equal(StepStatus.Failed, s.Status);
        Assert.Equal(2, s.Attempts);
        Assert.Contains("exited with code 3", s.Error!.Message);
        Assert.Contains("disk is full", s.Error.Message);
        Assert.Contains("disk is full", File.ReadAllText(Path.Combine(s.Directory, "stderr.log")));

        var missing = LocalRunner.Run(Build("nocmd", b => b.AddStep("x", (string?)null, new StepOptions { CommandSpecified = true, Command = "no-such-program-axl" })), Options());
        Assert.Contains("could not be started", missing.GetStep("x")!.Error!.Message);
    }

    [Fact]
    public void A_command_that_ignores_SIGTERM_is_killed_after_the_grace_period()
    {
        var pidFile = Path.Combine(_root, "pid");
        Directory.CreateDirectory(_root);
        var wf = Build("timeout", b => b.AddStep("stubborn", (string?)null, new StepOptions
        {
            CommandSpecified = true, Command = "bash",
            ArgumentList = new[] { "-c", $"trap '' TERM; echo $$ > {pidFile}; while true; do sleep 0.1; done" },
            Timeout = 1,
        }));
        var run = LocalRunner.Run(wf, Options());
        var s = run.GetStep("stubborn")!;
        Assert.Equal(StepStatus.Failed, s.Status);
        Assert.Equal(FailureKind.Timeout, s.Error!.Kind);
        Assert.Contains("timed out after 1 s", s.Error.Message);
        var pid = int.Parse(File.ReadAllText(pidFile).Trim());
        Assert.False(Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(" Z "), "the process must be gone");

        var polite = Build("timeout2", b => b.AddStep("sleeper", (string?)null, new StepOptions { CommandSpecified = true, Command = "sleep", ArgumentList = new[] { "30" }, Timeout = 1 }));
        var run2 = LocalRunner.Run(polite, Options());
        Assert.Equal(FailureKind.Timeout, run2.GetStep("sleeper")!.Error!.Kind);
    }

    [Fact]
    public void Script_steps_time_out_too_even_inside_a_long_dotnet_call()
    {
        var marker = Path.Combine(_root, "call-returned");
        var wf = Build("slow", b => b
            .AddStep("loop", "while ($true) { [System.Threading.Thread]::Sleep(50) }", new StepOptions { Timeout = 1 })
            .AddStep("blocked", $"[System.Threading.Thread]::Sleep(20000); [System.IO.File]::WriteAllText('{marker}', 'x'); 1", new StepOptions { Timeout = 1 }));
        var run = LocalRunner.Run(wf, Options());
        Assert.Equal(FailureKind.Timeout, run.GetStep("loop")!.Error!.Kind);
        Assert.Equal(FailureKind.Timeout, run.GetStep("blocked")!.Error!.Kind);
        // The run did not wait for the blocked .NET call: it ended while the call was still sleeping.
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Conditions_run_or_skip_steps_and_a_skipped_step_skips_what_needs_its_data()
    {
        var wf = Build("cond", b => b
            .AddParameter("Mode", "full")
            .AddStep("evaluate", "0.95")
            .AddStep("publish", "param($evaluate) 'published'", new StepOptions { When = "evaluate -gt 0.9 -and $Mode -eq 'full'" })
            .AddStep("alert", "param($evaluate) 'alert'", new StepOptions { When = "evaluate -lt 0.5" })
            .AddStep("after_alert", "param($alert) $alert")
            .AddStep("order_only", "'ran'", new StepOptions { DependsOn = new[] { "alert" } }));
        var run = LocalRunner.Run(wf, Options());
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(StepStatus.Succeeded, run.GetStep("publish")!.Status);
        Assert.Equal(StepStatus.Skipped, run.GetStep("alert")!.Status);
        Assert.Equal("condition 'evaluate -lt 0.5' is false", run.GetStep("alert")!.SkipReason);
        Assert.Equal(StepStatus.Skipped, run.GetStep("after_alert")!.Status);
        Assert.Equal(StepStatus.Succeeded, run.GetStep("order_only")!.Status);

        var lite = LocalRunner.Run(wf, Options(parameters: new Hashtable { ["Mode"] = "lite" }));
        Assert.Equal(StepStatus.Skipped, lite.GetStep("publish")!.Status);
        // Strings compare case-sensitively, as Argo's when expressions do.
        var upper = LocalRunner.Run(wf, Options(parameters: new Hashtable { ["Mode"] = "FULL" }));
        Assert.Equal(StepStatus.Skipped, upper.GetStep("publish")!.Status);
    }

    [Fact]
    public void Resume_reruns_only_what_failed_or_changed_and_keeps_good_artifacts()
    {
        var flag = Path.Combine(_root, "fail-flag");
        Directory.CreateDirectory(_root);
        File.WriteAllText(flag, "x");
        AxlWorkflow Flow(string tail) => Build("resumable", b => b
            .AddStep("first", "[guid]::NewGuid().ToString()")
            .AddStep("second", $"param($first) if ([System.IO.File]::Exists('{flag}')) {{ throw 'flag is set' }}; $first + '-2'")
            .AddStep("third", "param($second) $second + '" + tail + "'"));

        var failed = LocalRunner.Run(Flow("-3"), Options());
        Assert.Equal(RunStatus.Failed, failed.Status);
        var firstValue = Value(failed.GetOutput("first"));
        var firstMeta = ArtifactIO.ReadMetadata(failed.GetStep("first")!.Directory)!;

        File.Delete(flag);
        var resumed = LocalRunner.Run(Flow("-3"), Options(resume: failed.RunId));
        Assert.Equal(failed.RunId, resumed.RunId);
        Assert.Equal(RunStatus.Succeeded, resumed.Status);
        Assert.Equal("resume", resumed.GetStep("first")!.ReusedFrom);
        Assert.Equal(1, resumed.GetStep("first")!.Attempts);
        Assert.Equal(firstValue, Value(resumed.GetOutput("first")));
        Assert.Equal(firstMeta.Sha256, ArtifactIO.ReadMetadata(resumed.GetStep("first")!.Directory)!.Sha256);
        Assert.Null(resumed.GetStep("second")!.ReusedFrom);
        Assert.Equal(2, resumed.GetStep("second")!.Attempts);
        Assert.Equal($"{firstValue}-2-3", Value(resumed.GetOutput("third")));
        Assert.Equal(1, resumed.Resumes);

        // Change only the last step: resuming re-runs it alone.
        var changed = LocalRunner.Run(Flow("-three"), Options(resume: failed.RunId));
        Assert.Equal("resume", changed.GetStep("first")!.ReusedFrom);
        Assert.Equal("resume", changed.GetStep("second")!.ReusedFrom);
        Assert.Null(changed.GetStep("third")!.ReusedFrom);
        Assert.Equal($"{firstValue}-2-three", Value(changed.GetOutput("third")));

        var unknown = Assert.Throws<AxlRunException>(() => LocalRunner.Run(Flow("-3"), Options(resume: "no-such-run")));
        Assert.Contains("there is no run 'no-such-run' of workflow 'resumable'", unknown.Message);
        Assert.Contains(failed.RunId, unknown.Message);
    }

    [Fact]
    public void A_corrupted_artifact_is_recomputed_on_resume_not_trusted()
    {
        var wf = Build("corrupt", b => b.AddStep("a", "'value-a'").AddStep("b", "param($a) $a + '!'"));
        var run = LocalRunner.Run(wf, Options());
        var a = run.GetStep("a")!;
        File.WriteAllText(a.OutputPath!, "garbage");
        var resumed = LocalRunner.Run(wf, Options(resume: run.RunId));
        Assert.Null(resumed.GetStep("a")!.ReusedFrom);
        Assert.Equal("value-a!", Value(resumed.GetOutput("b")));
    }

    [Fact]
    public void Cache_reuses_unchanged_steps_across_runs_and_recomputes_when_a_parameter_changes()
    {
        var wf = Build("cached", b => b
            .AddParameter("N", 2L)
            .AddStep("gen", "[guid]::NewGuid().ToString()")
            .AddStep("use", "param($gen, $N) \"$gen x $N\""));
        var first = LocalRunner.Run(wf, Options(cache: true));
        var second = LocalRunner.Run(wf, Options(cache: true));
        Assert.NotEqual(first.RunId, second.RunId);
        Assert.Equal("cache", second.GetStep("gen")!.ReusedFrom);
        Assert.Equal("cache", second.GetStep("use")!.ReusedFrom);
        Assert.Equal(Value(first.GetOutput("use")), Value(second.GetOutput("use")));

        var third = LocalRunner.Run(wf, Options(cache: true, parameters: new Hashtable { ["N"] = 3 }));
        Assert.Equal("cache", third.GetStep("gen")!.ReusedFrom);
        Assert.Null(third.GetStep("use")!.ReusedFrom);

        var uncached = LocalRunner.Run(wf, Options(cache: false));
        Assert.Null(uncached.GetStep("gen")!.ReusedFrom);
        Assert.NotEqual(Value(first.GetOutput("gen")), Value(uncached.GetOutput("gen")));
    }

    [Fact]
    public void A_step_is_recorded_done_only_after_its_artifact_is_complete_and_downstream_starts_after_that()
    {
        // Group commit: a step's record (step.json) is written by the committer after its artifact is synced, so at an
        // event it may still say running; what must hold at every event is the order: no record says done for an
        // artifact that is not complete, or before the records of the steps it takes from; a step starts from a complete one.
        var wf = Build("order", b => b.AddStep("a", "'value-a'").AddStep("b", "param($a) $a + '!'").AddStep("c", "param($b) $b + '?'"));
        var seen = new List<string>();
        var violations = new List<string>();
        string? runDir = null;
        var run = LocalRunner.Run(wf, Options(throttle: 1), e =>
        {
            if (e.Kind == RunEventKind.RunStarted) runDir = Directory.GetDirectories(Path.Combine(_root, "order")).Single();
            if (e.Step is null || runDir is null) return;
            var dir = Path.Combine(runDir, e.Step);
            var loaded = RunStore.Load(runDir);
            foreach (var s in loaded.Steps.Where(s => s.Status == StepStatus.Succeeded))
            {
                if (!ArtifactIO.IsComplete(s.Directory, verifyHash: true)) violations.Add($"at {e.Kind} {e.Step}: {s.Name} recorded done, artifact incomplete");
                foreach (var up in wf.GetStep(s.Name)!.Upstream.Where(up => loaded.GetStep(up)!.Status != StepStatus.Succeeded))
                    violations.Add($"at {e.Kind} {e.Step}: {s.Name} recorded done before its upstream {up}");
            }
            var record = File.Exists(Path.Combine(dir, RunStore.StepFile)) ? loaded.GetStep(e.Step)!.Status.ToString() : "none";
            if (e.Kind == RunEventKind.StepStarted)
            {
                // A step that starts has no completion marker and no record saying it is done.
                seen.Add($"{e.Step} started: marker {File.Exists(Path.Combine(dir, "output.meta.json"))}, record {record}");
                foreach (var up in wf.GetStep(e.Step)!.Upstream)
                    seen.Add($"  {up} then: complete {ArtifactIO.IsComplete(Path.Combine(runDir, up), verifyHash: true)}");
            }
            if (e.Kind == RunEventKind.StepSucceeded)
                seen.Add($"{e.Step} succeeded: complete {ArtifactIO.IsComplete(dir, verifyHash: true)}");
        });
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Empty(violations);
        Assert.Equal(new[]
        {
            "a started: marker False, record none",
            "a succeeded: complete True",
            "b started: marker False, record none",
            "  a then: complete True",
            "b succeeded: complete True",
            "c started: marker False, record none",
            "  b then: complete True",
            "c succeeded: complete True",
        }, seen);
        // When the run returns, every record is written.
        Assert.All(RunStore.Load(run.Directory).Steps, s => Assert.Equal(StepStatus.Succeeded, s.Status));
    }

    [Fact]
    public void A_step_whose_output_cannot_be_made_durable_is_not_recorded_nor_is_what_follows_and_resume_reruns_exactly_those()
    {
        // What a crash between the artifact's write and its commit leaves, made deterministic: the disk fails to sync b's
        // files. b is not recorded as done, nor c after it (c took b's unrecorded output); a, committed, is.
        var wf = Build("durable", b => b
            .AddStep("a", "'value-a'")
            .AddStep("b", "param($a) $a + [guid]::NewGuid().ToString()")
            .AddStep("c", "param($b) $b + '?'")
            .AddStep("side", "param($a) $a + '/side'"));
        var warnings = new List<string>();
        var options = Options(throttle: 1);
        var failing = new RunOptions
        {
            RunRoot = options.RunRoot, ThrottleLimit = 1, RetryBackoff = options.RetryBackoff, KillGrace = options.KillGrace,
            SyncFiles = files =>
            {
                if (files.Any(f => Path.GetFileName(Path.GetDirectoryName(f)) == "b")) throw new IOException("EIO (a test disk)");
                Axl.IO.DurableFiles.Sync(files);
            },
        };
        var run = LocalRunner.Run(wf, failing, e => { if (e.Record?.Stream == StepStream.Warning) lock (warnings) warnings.Add(e.Message); });
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains(warnings, w => w.Contains("step 'b'", StringComparison.Ordinal) && w.Contains("EIO (a test disk)", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("step 'c'", StringComparison.Ordinal) && w.Contains("upstream step 'b'", StringComparison.Ordinal));
        var onDisk = RunStore.Load(run.Directory);
        Assert.Equal(StepStatus.Succeeded, onDisk.GetStep("a")!.Status);
        Assert.Equal(StepStatus.Succeeded, onDisk.GetStep("side")!.Status);
        Assert.Equal(StepStatus.Running, onDisk.GetStep("b")!.Status); // the record before its attempt
        Assert.Equal(StepStatus.Running, onDisk.GetStep("c")!.Status);
        var firstB = Value(ArtifactIO.Load(run.GetStep("b")!.Directory));

        var resumed = LocalRunner.Run(wf, Options(throttle: 1, resume: run.RunId));
        Assert.Equal(RunStatus.Succeeded, resumed.Status);
        Assert.Equal("resume", resumed.GetStep("a")!.ReusedFrom);
        Assert.Equal("resume", resumed.GetStep("side")!.ReusedFrom);
        Assert.Null(resumed.GetStep("b")!.ReusedFrom);
        Assert.Null(resumed.GetStep("c")!.ReusedFrom);
        Assert.Equal(2, resumed.GetStep("b")!.Attempts); // the unrecorded attempt counts, as a killed one does
        Assert.NotEqual(firstB, Value(resumed.GetOutput("b")));
        Assert.Equal(Value(resumed.GetOutput("b")) + "?", Value(resumed.GetOutput("c")));
        foreach (var s in RunStore.Load(resumed.Directory).Steps)
        {
            Assert.Equal(StepStatus.Succeeded, s.Status);
            Assert.True(ArtifactIO.IsComplete(s.Directory, verifyHash: true), s.Name);
        }
    }

    [Fact]
    public void A_step_killed_in_its_first_attempt_leaves_nothing_resume_would_reuse()
    {
        // What a process killed while writing b's artifact leaves: the temp file half-written, no marker, the record running.
        var wf = Build("killed", b => b.AddStep("a", "'value-a'").AddStep("b", "param($a) $a + '!'"));
        var run = LocalRunner.Run(wf, Options());
        var b = run.GetStep("b")!;
        b.Status = StepStatus.Running;
        b.OutputPath = null;
        RunStore.SaveStep(b);
        var data = Path.Combine(b.Directory, "output.clixml");
        File.Delete(Path.Combine(b.Directory, "output.meta.json"));
        File.WriteAllText(Path.Combine(b.Directory, ".output.clixml.tmp-0123456789ab"), "<Objs half");
        File.WriteAllText(data, "<Objs half"); // even a data file in place is not trusted without its marker
        var resumed = LocalRunner.Run(wf, Options(resume: run.RunId));
        Assert.Equal(RunStatus.Succeeded, resumed.Status);
        Assert.Equal("resume", resumed.GetStep("a")!.ReusedFrom);
        Assert.Null(resumed.GetStep("b")!.ReusedFrom);
        Assert.Equal(2, resumed.GetStep("b")!.Attempts); // the killed attempt counts
        Assert.Equal("value-a!", Value(resumed.GetOutput("b")));
        Assert.Empty(Directory.GetFiles(b.Directory, ".*.tmp-*"));
    }

    [Fact]
    public void Cache_journal_lines_are_appended_per_step_and_a_torn_line_is_skipped()
    {
        var wf = Build("journal", b => b.AddStep("gen", "[guid]::NewGuid().ToString()").AddStep("use", "param($gen) $gen + '!'"));
        var first = LocalRunner.Run(wf, Options(cache: true));
        var journal = Path.Combine(_root, "journal", ".cache", first.RunId + ".cache.jsonl");
        var lines = File.ReadAllLines(journal);
        Assert.Equal(2, lines.Length);
        Assert.Contains(first.GetStep("gen")!.Key!, lines[0]);
        // A crash in the middle of a line leaves it torn: the lines before it still count.
        File.AppendAllText(journal, "{\"key\":\"sha256:0");
        var second = LocalRunner.Run(wf, Options(cache: true));
        Assert.Equal("cache", second.GetStep("gen")!.ReusedFrom);
        Assert.Equal("cache", second.GetStep("use")!.ReusedFrom);
        Assert.Equal(Value(first.GetOutput("use")), Value(second.GetOutput("use")));
        // An entry whose artifact no longer verifies is not reused.
        File.WriteAllText(first.GetStep("gen")!.OutputPath!, "changed");
        File.WriteAllText(second.GetStep("gen")!.OutputPath!, "changed");
        var third = LocalRunner.Run(wf, Options(cache: true));
        Assert.Null(third.GetStep("gen")!.ReusedFrom);
    }

    [Fact]
    public void Cancelling_stops_running_steps_and_marks_the_rest_cancelled()
    {
        var wf = Build("cancel", b => b
            .AddStep("long", "while ($true) { [System.Threading.Thread]::Sleep(50) }")
            .AddStep("after", "param($long) $long"));
        using var cts = new CancellationTokenSource();
        var run = LocalRunner.Run(wf, Options(), e => { if (e.Kind == RunEventKind.StepStarted) cts.CancelAfter(300); }, cts.Token);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Equal(StepStatus.Cancelled, run.GetStep("long")!.Status);
        Assert.Equal(StepStatus.Cancelled, run.GetStep("after")!.Status);
    }

    [Fact]
    public void Invalid_workflows_are_not_run()
    {
        var wf = Build("bad", b => b.AddStep("a", "param($missing) 1"));
        var ex = Assert.Throws<AxlInvalidWorkflowException>(() => LocalRunner.Run(wf, Options()));
        Assert.Contains("Axl.UnboundInput", ex.Message);
        Assert.False(Directory.Exists(Path.Combine(_root, "bad")));
    }

    [Fact]
    public void The_context_parameter_gives_the_step_its_run_id_and_output_directory()
    {
        var wf = Build("ctx", b => b.AddStep("who", "param($AxlContext) \"$($AxlContext.RunId)|$($AxlContext.Step)|$($AxlContext.OutputDirectory)\""));
        var run = LocalRunner.Run(wf, Options());
        Assert.Equal($"{run.RunId}|who|{run.GetStep("who")!.Directory}", Value(run.GetOutput("who")));
    }

    [Fact]
    public void Step_environment_variables_are_set_for_script_and_command_steps()
    {
        var wf = Build("env", b => b
            .AddStep("script", "$env:AXL_TEST_MODE", new StepOptions { Env = new Hashtable { ["AXL_TEST_MODE"] = "fast" } })
            .AddStep("command", (string?)null, new StepOptions { CommandSpecified = true, Command = "printenv", ArgumentList = new[] { "AXL_TEST_MODE" }, Env = new Hashtable { ["AXL_TEST_MODE"] = "slow" } }));
        var run = LocalRunner.Run(wf, Options());
        Assert.Equal("fast", Value(run.GetOutput("script")));
        Assert.Equal("slow\n", Value(run.GetOutput("command")));
        Assert.Null(Environment.GetEnvironmentVariable("AXL_TEST_MODE"));
    }

    [Fact]
    public void Isolated_steps_share_no_global_state_and_pooled_steps_share_only_explicit_globals()
    {
        var wf = Build("globals", b => b
            .AddStep("writer", "$global:axlLeak = 'leaked'; $local = 'x'; 1")
            .AddStep("reader", "\"[$global:axlLeak][$local]\"", new StepOptions { DependsOn = new[] { "writer" } }));
        var isolated = LocalRunner.Run(wf, new RunOptions { RunRoot = _root, ThrottleLimit = 1, IsolateSteps = true });
        Assert.Equal("[][]", Value(isolated.GetOutput("reader")));
        var pooled = LocalRunner.Run(wf, new RunOptions { RunRoot = _root, ThrottleLimit = 1 });
        Assert.Equal("[leaked][]", Value(pooled.GetOutput("reader"))); // one warm runspace, a fresh scope per step
    }

    [Fact]
    public void Path_input_mode_hands_the_artifact_path()
    {
        var wf = Build("paths", b => b
            .AddStep("data", "'hello'", new StepOptions { IoHandler = "text" })
            .AddStep("reader", "param($data) [System.IO.File]::ReadAllText($data) + ' from ' + [System.IO.Path]::GetFileName($data)", new StepOptions { InputMode = "path" }));
        var run = LocalRunner.Run(wf, Options());
        Assert.Equal("hello from output.txt", Value(run.GetOutput("reader")));
    }
}
