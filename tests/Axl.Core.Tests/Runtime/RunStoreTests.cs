using Axl.Runtime;
using Xunit;

namespace Axl.Core.Tests.Runtime;

/// <summary>The run records on disk, as Get-AxlRun lists them.</summary>
public sealed class RunStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "axl-runstore-tests-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private void Save(string runId, DateTimeOffset start, string workflow = "w")
    {
        var run = new AxlRun { RunId = runId, Workflow = workflow, Directory = RunStore.RunDirectory(_root, workflow, runId), StartTime = start, Status = RunStatus.Succeeded };
        Directory.CreateDirectory(run.Directory);
        RunStore.SaveRun(run);
    }

    [Fact]
    public void Runs_are_listed_newest_first_even_within_one_second_of_run_ids()
    {
        var t = new DateTimeOffset(2026, 12, 4, 17, 2, 37, TimeSpan.Zero);
        // Within 17:02:37 the random suffixes sort against the start order (a8 > 42 > 06, started 06 last).
        Save("20261204-170237-a8eeac", t.AddMilliseconds(485));
        Save("20261204-170237-42bd81", t.AddMilliseconds(808));
        Save("20261204-170237-06ad62", t.AddMilliseconds(917));
        Save("20261204-170236-ffffff", t.AddMilliseconds(-100));
        Save("20261204-170238-000000", t.AddMilliseconds(1200));

        Assert.Equal(new[] { "20261204-170238-000000", "20261204-170237-06ad62", "20261204-170237-42bd81", "20261204-170237-a8eeac", "20261204-170236-ffffff" },
            RunStore.List(_root, "w").Select(r => r.RunId));
        Assert.Equal("20261204-170238-000000", RunStore.List(_root, "w").First().RunId);
    }

    [Fact]
    public void Workflows_are_the_folders_that_hold_a_run_by_name()
    {
        var t = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Save("20260101-000001-aaaaaa", t, "train");
        Save("20260101-000002-bbbbbb", t, "Etl");
        Directory.CreateDirectory(Path.Combine(_root, "empty"));            // no run
        Directory.CreateDirectory(Path.Combine(_root, ".experiments", "x")); // not a workflow
        Assert.Equal(new[] { "Etl", "train" }, RunStore.Workflows(_root));
        Assert.Empty(RunStore.Workflows(Path.Combine(_root, "nosuch")));
    }

    [Fact]
    public void Filters_take_wildcards_and_report_the_literal_names_that_matched_no_run()
    {
        var t = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Save("20260101-000001-aaaaaa", t.AddSeconds(1), "etl-daily");
        Save("20260101-000002-bbbbbb", t.AddSeconds(2), "etl-hourly");
        Save("20260101-000003-cccccc", t.AddSeconds(3), "train");
        Directory.CreateDirectory(Path.Combine(_root, "empty")); // a workflow folder without runs

        var workflows = new NameFilter(new[] { "ETL-*", "train", "nosuch", "empty", "none*" });
        var ids = new NameFilter(null);
        Assert.Equal(new[] { "20260101-000003-cccccc", "20260101-000002-bbbbbb", "20260101-000001-aaaaaa" },
            RunStore.List(_root, workflows, ids).Select(r => r.RunId));
        Assert.Equal(new[] { "nosuch", "empty" }, workflows.Unmatched);
        Assert.Empty(ids.Unmatched);
    }

    [Fact]
    public void A_run_id_counts_as_found_only_under_the_workflows_asked_for_and_before_Take_stops_reading()
    {
        var t = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Save("20260101-000001-aaaaaa", t.AddSeconds(1), "etl");
        Save("20260101-000002-bbbbbb", t.AddSeconds(2), "train");

        var workflows = new NameFilter(new[] { "train" });
        var ids = new NameFilter(new[] { "20260101-000001-aaaaaa", "2026*" });
        Assert.Equal(new[] { "20260101-000002-bbbbbb" }, RunStore.List(_root, workflows, ids).Select(r => r.RunId));
        Assert.Equal(new[] { "20260101-000001-aaaaaa" }, ids.Unmatched);

        var all = new NameFilter(new[] { "train", "etl" });
        Assert.Single(RunStore.List(_root, all, new NameFilter(null)).Take(1));
        Assert.Empty(all.Unmatched); // 'etl' was seen although only the newest run was read
    }

    [Fact]
    public void A_missing_run_root_leaves_every_literal_name_unmatched()
    {
        var workflows = new NameFilter(new[] { "w", "x*" });
        Assert.Empty(RunStore.List(Path.Combine(_root, "nowhere"), workflows, new NameFilter(null)));
        Assert.Equal(new[] { "w" }, workflows.Unmatched);
    }
}
