using System.Management.Automation;
using System.Text.Json;
using Axl.Dsl;
using Axl.Jobs;
using Axl.Model;
using Axl.Runtime;
using Xunit;

namespace Axl.Core.Tests.Runtime;

/// <summary>What steps write besides their output: every stream reaches the run's events and log.jsonl with its level.</summary>
public sealed class StepStreamTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "axl-stream-tests-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private (AxlRun Run, List<RunEvent> Events, List<JsonElement> Log) Run(string body, StepPreferences? preferences = null, string step = "noisy")
    {
        var b = new WorkflowBuilder("streams");
        b.AddStep(step, body);
        var events = new List<RunEvent>();
        var run = LocalRunner.Run(b.Build(), new RunOptions { RunRoot = _root, Preferences = preferences ?? StepPreferences.Default }, e => { lock (events) events.Add(e); });
        var log = File.ReadAllLines(Path.Combine(run.Directory, "log.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        return (run, events, log);
    }

    private static List<StepStreamRecord> Records(List<RunEvent> events) =>
        events.Where(e => e.Kind == RunEventKind.StepLog).Select(e => e.Record!).ToList();

    private const string EveryStream = """
        Write-Warning 'careful'
        Write-Verbose 'details'
        Write-Debug 'internals'
        Write-Information 'for the record' -Tags mine
        Write-Host 'to the screen'
        Write-Error 'a problem that does not stop it' -ErrorAction Continue
        Write-Progress -Activity Crunch -Status 'half way' -PercentComplete 50
        42
        """;

    [Fact]
    public void Every_stream_reaches_the_events_in_order_with_its_record_and_the_log_with_its_level()
    {
        var (run, events, log) = Run(EveryStream, new StepPreferences { Verbose = ActionPreference.Continue, Debug = ActionPreference.Continue });

        Assert.Equal(RunStatus.Succeeded, run.Status); // a non-terminating error does not fail the step, as in PowerShell
        Assert.Equal(42, Convert.ToInt32(run.GetOutput("noisy") is PSObject p ? p.BaseObject : run.GetOutput("noisy")));
        var records = Records(events);
        Assert.Equal(new[] { StepStream.Warning, StepStream.Verbose, StepStream.Debug, StepStream.Information, StepStream.Information, StepStream.Error, StepStream.Progress },
            records.Select(r => r.Stream));
        Assert.Equal(new[] { "careful", "details", "internals", "for the record", "to the screen", "a problem that does not stop it", "Crunch: half way (50 %)" },
            records.Select(r => r.Message));
        Assert.IsType<WarningRecord>(records[0].Record);
        Assert.Contains("mine", ((InformationRecord)records[3].Record!).Tags);
        Assert.False(records[3].IsHost);
        Assert.True(records[4].IsHost); // Write-Host: PSHOST
        Assert.IsType<ErrorRecord>(records[5].Record);
        Assert.All(events.Where(e => e.Kind == RunEventKind.StepLog), e => Assert.Equal("noisy", e.Step));

        var lines = log.Where(l => l.GetProperty("event").GetString() == "StepLog").ToList();
        Assert.Equal(new[] { "warning", "verbose", "debug", "info", "info", "error", "info" }, lines.Select(l => l.GetProperty("level").GetString()));
        Assert.Equal(new[] { "warning", "verbose", "debug", "information", "information", "error", "progress" }, lines.Select(l => l.GetProperty("stream").GetString()));
        Assert.Equal("PSHOST", lines[4].GetProperty("tags")[0].GetString());
        Assert.All(lines, l => Assert.Equal("noisy", l.GetProperty("step").GetString()));
    }

    [Fact]
    public void Preferences_decide_what_a_step_writes_as_in_PowerShell()
    {
        var quiet = Records(Run(EveryStream).Events);
        Assert.DoesNotContain(quiet, r => r.Stream is StepStream.Verbose or StepStream.Debug); // SilentlyContinue by default
        Assert.Contains(quiet, r => r.Stream == StepStream.Warning);
        Assert.Contains(quiet, r => r.Stream == StepStream.Information); // information is recorded whatever the preference

        var silent = Records(Run("Write-Warning 'hidden'; 1", new StepPreferences { Warning = ActionPreference.SilentlyContinue }).Events);
        Assert.Empty(silent);
    }

    [Fact]
    public void A_step_sees_the_callers_preferences_and_stops_on_errors()
    {
        var b = new WorkflowBuilder("prefs");
        b.AddStep("p", "$VerbosePreference, $DebugPreference, $WarningPreference, $ErrorActionPreference -join ','");
        var run = LocalRunner.Run(b.Build(), new RunOptions
        {
            RunRoot = _root,
            Preferences = new StepPreferences { Verbose = ActionPreference.Continue, Debug = ActionPreference.Inquire, Warning = ActionPreference.SilentlyContinue },
        });
        Assert.Equal("Continue,Continue,SilentlyContinue,Stop", Convert.ToString(run.GetOutput("p") is PSObject o ? o.BaseObject : run.GetOutput("p")));
    }

    [Fact]
    public void A_terminating_error_fails_the_step_once_and_is_not_also_written_as_a_stream_record()
    {
        var (run, events, _) = Run("Write-Warning 'before'; Get-Item /no/such/path/axl; 'not reached'");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("/no/such/path/axl", run.GetStep("noisy")!.Error!.Message);
        var records = Records(events);
        Assert.Equal(new[] { StepStream.Warning }, records.Select(r => r.Stream));
    }

    [Fact]
    public void Progress_is_throttled_per_activity_but_its_first_record_and_completion_pass()
    {
        var (_, events, log) = Run("""
            foreach ($i in 1..2000) { Write-Progress -Activity Loop -Status "item $i" -PercentComplete ($i / 20) }
            Write-Progress -Activity Loop -Completed
            'done'
            """);
        var progress = Records(events).Where(r => r.Stream == StepStream.Progress).ToList();
        Assert.InRange(progress.Count, 2, 100); // 2,000 records written; at most one a second pass, plus the completion
        Assert.Equal("Loop: item 1 (0 %)", progress[0].Message);
        Assert.Equal("Loop: done", progress[^1].Message);
        Assert.Equal(progress.Count, log.Count(l => l.GetProperty("stream").ValueKind == JsonValueKind.String && l.GetProperty("stream").GetString() == "progress"));
    }

    [Fact]
    public void A_command_steps_stderr_lines_are_records_of_the_stderr_stream()
    {
        var b = new WorkflowBuilder("cmd");
        b.AddStep("c", (string?)null, new StepOptions { CommandSpecified = true, Command = "sh", ArgumentList = new[] { "-c", "echo to-stderr >&2; echo out" } });
        var events = new List<RunEvent>();
        var run = LocalRunner.Run(b.Build(), new RunOptions { RunRoot = _root }, e => { lock (events) events.Add(e); });
        Assert.Equal(RunStatus.Succeeded, run.Status);
        var r = Assert.Single(Records(events));
        Assert.Equal(StepStream.Stderr, r.Stream);
        Assert.Equal("to-stderr", r.Message);
        Assert.Equal("info", r.Level);
    }

    [Theory]
    [InlineData("error", StepStream.Error, "error")]
    [InlineData("warning", StepStream.Warning, "warning")]
    [InlineData("information", StepStream.Information, "info")]
    [InlineData("verbose", StepStream.Verbose, "verbose")]
    [InlineData("debug", StepStream.Debug, "debug")]
    [InlineData("progress", StepStream.Progress, "info")]
    [InlineData("stderr", StepStream.Stderr, "info")]
    public void Stream_names_round_trip_and_have_levels(string name, StepStream stream, string level)
    {
        Assert.Equal(stream, StepStreamRecord.Parse(name));
        var r = new StepStreamRecord(stream, "m");
        Assert.Equal(name, r.Name);
        Assert.Equal(level, r.Level);
    }

    [Fact]
    public void Unknown_stream_names_are_not_streams() => Assert.Null(StepStreamRecord.Parse("stdout"));

    [Fact]
    public void A_log_line_of_another_process_gives_back_stream_and_host_tags()
    {
        var line = JobLogLine.Parse("""{"level":"info","event":"StepLog","stream":"information","tags":["PSHOST"],"step":"s","message":"hi"}""");
        Assert.Equal("information", line.Stream);
        Assert.Equal(new[] { "PSHOST" }, line.Tags);
        var record = StepStreamRecord.FromLog(StepStream.Information, line.Message!, line.Tags);
        Assert.True(record.IsHost);
        Assert.IsType<HostInformationMessage>(((InformationRecord)record.Record!).MessageData);

        var plain = StepStreamRecord.FromLog(StepStream.Warning, "w", null);
        Assert.Null(plain.Record);
        Assert.Equal("WARNING: w", plain.ConsoleText);
    }
}
