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

    private void Save(string runId, DateTimeOffset start)
    {
        var run = new AxlRun { RunId = runId, Workflow = "w", Directory = RunStore.RunDirectory(_root, "w", runId), StartTime = start, Status = RunStatus.Succeeded };
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
}
