using Axl.IO;
using Axl.Runtime;
using Axl.Core.Tests.IO;

namespace Axl.Core.Tests.Runtime;

public class StepCommitterTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string text)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Records_are_written_in_the_order_handed_in_each_after_a_sync_of_its_files()
    {
        var log = new List<string>();
        var synced = new HashSet<string>();
        using var committer = new StepCommitter((s, ex) => { lock (log) log.Add($"failed {s}"); }, files =>
        {
            lock (log) { log.Add("sync " + string.Join(",", files.Select(Path.GetFileName))); foreach (var f in files) synced.Add(f); }
        });
        var names = Enumerable.Range(0, 20).Select(i => $"s{i}").ToList();
        foreach (var n in names)
        {
            var file = Write(n + ".bin", n);
            var noFiles = n == "s7"; // a record without files (a skipped step) keeps its place too
            committer.Commit(n, noFiles ? Array.Empty<string>() : new[] { file }, () =>
            {
                lock (log)
                {
                    Assert.True(noFiles || synced.Contains(file), $"{n} recorded before its file was synced");
                    log.Add("record " + n);
                }
            });
        }
        committer.Flush();
        Assert.Equal(names, log.Where(l => l.StartsWith("record ", StringComparison.Ordinal)).Select(l => l[7..]));
        Assert.DoesNotContain(log, l => l.StartsWith("failed", StringComparison.Ordinal));
    }

    [Fact]
    public void What_is_handed_in_while_a_sync_goes_on_is_synced_together_in_one_call()
    {
        using var firstSyncStarted = new ManualResetEventSlim();
        using var releaseFirst = new ManualResetEventSlim();
        var calls = new List<int>();
        using var committer = new StepCommitter((_, _) => { }, files =>
        {
            lock (calls) calls.Add(files.Count);
            firstSyncStarted.Set();
            releaseFirst.Wait();
        });
        committer.Commit("first", new[] { Write("first", "x") }, () => { });
        Assert.True(firstSyncStarted.Wait(TimeSpan.FromSeconds(30)));
        for (var i = 0; i < 10; i++) committer.Commit($"s{i}", new[] { Write($"s{i}", "x") }, () => { });
        releaseFirst.Set();
        committer.Flush();
        Assert.Equal(new[] { 1, 10 }, calls);
    }

    [Fact]
    public void A_record_whose_files_cannot_be_synced_is_not_written_and_the_others_are()
    {
        var written = new List<string>();
        var failed = new List<string>();
        var bad = Write("bad", "x");
        using var committer = new StepCommitter((s, ex) => failed.Add($"{s}: {ex.Message}"), files =>
        {
            if (files.Contains(bad)) throw new IOException("EIO");
        });
        committer.Commit("good1", new[] { Write("good1", "x") }, () => written.Add("good1"));
        committer.Commit("bad", new[] { bad }, () => written.Add("bad"));
        committer.Commit("good2", new[] { Write("good2", "x") }, () => written.Add("good2"));
        committer.Flush();
        Assert.Equal(new[] { "good1", "good2" }, written);
        Assert.Equal(new[] { "bad: EIO" }, failed);
    }

    [Fact]
    public void A_provisional_record_is_dropped_when_its_steps_final_record_is_in_the_same_batch_and_written_in_order_otherwise()
    {
        using var firstSyncStarted = new ManualResetEventSlim();
        using var releaseFirst = new ManualResetEventSlim();
        var written = new List<string>();
        using var committer = new StepCommitter((_, _) => { }, _ =>
        {
            firstSyncStarted.Set();
            releaseFirst.Wait();
        });
        // a's running record goes alone (the committer is idle): written, as b's is, whose step has not finished in its batch.
        committer.CommitProvisional("a", () => written.Add("a running"));
        committer.Commit("first", new[] { Write("first", "x") }, () => written.Add("first"));
        Assert.True(firstSyncStarted.Wait(TimeSpan.FromSeconds(30)));
        // While the sync goes on: c starts and ends (one batch: its running record is dropped), b only starts, a ends.
        committer.CommitProvisional("c", () => written.Add("c running"));
        committer.CommitProvisional("b", () => written.Add("b running"));
        committer.Commit("c", new[] { Write("c", "x") }, () => written.Add("c done"));
        committer.Commit("a", new[] { Write("a", "x") }, () => written.Add("a done"));
        releaseFirst.Set();
        committer.Flush();
        Assert.Equal(new[] { "a running", "first", "b running", "c done", "a done" }, written);
    }

    [Fact]
    public void A_provisional_record_held_back_is_written_when_the_later_record_of_its_step_is_not()
    {
        using var firstSyncStarted = new ManualResetEventSlim();
        using var releaseFirst = new ManualResetEventSlim();
        var written = new List<string>();
        var failed = new List<string>();
        var bad = Write("bad", "x");
        using var committer = new StepCommitter((s, _) => failed.Add(s), files =>
        {
            firstSyncStarted.Set();
            releaseFirst.Wait();
            if (files.Contains(bad)) throw new IOException("EIO");
        });
        committer.Commit("first", new[] { Write("first", "x") }, () => written.Add("first"));
        Assert.True(firstSyncStarted.Wait(TimeSpan.FromSeconds(30)));
        committer.CommitProvisional("unsynced", () => written.Add("unsynced running"));
        committer.CommitProvisional("declined", () => written.Add("declined running"));
        committer.CommitProvisional("ok", () => written.Add("ok running"));
        committer.Commit("unsynced", new[] { bad }, () => written.Add("unsynced done"));
        committer.Commit("declined", Array.Empty<string>(), () => false); // chose not to write (e.g. its upstream step is not recorded)
        committer.Commit("ok", new[] { Write("ok", "x") }, () => written.Add("ok done"));
        releaseFirst.Set();
        committer.Flush();
        Assert.Equal(new[] { "first", "unsynced running", "declined running", "ok done" }, written);
        Assert.Equal(new[] { "unsynced" }, failed);
    }

    [Fact]
    public void Dispose_writes_what_is_queued_and_a_later_commit_is_refused()
    {
        var written = 0;
        var committer = new StepCommitter((_, _) => { }, _ => Thread.Sleep(20));
        for (var i = 0; i < 5; i++) committer.Commit($"s{i}", new[] { Write($"s{i}", "x") }, () => Interlocked.Increment(ref written));
        committer.Dispose();
        Assert.Equal(5, written);
        Assert.Throws<InvalidOperationException>(() => committer.Commit("late", Array.Empty<string>(), () => { }));
    }

    [Fact]
    public void DurableFiles_syncs_one_file_or_many_and_names_a_file_it_cannot_sync()
    {
        var one = Write("one", "1");
        var two = Write("two", "2");
        var singles = DurableFiles.FileSyncs;
        DurableFiles.Sync(new[] { one });
        Assert.True(DurableFiles.FileSyncs > singles);
        var whole = DurableFiles.FileSystemSyncs;
        singles = DurableFiles.FileSyncs;
        DurableFiles.Sync(new[] { one, two });
        if (OperatingSystem.IsLinux()) Assert.True(DurableFiles.FileSystemSyncs > whole, "two files on Linux: one syncfs");
        else Assert.True(DurableFiles.FileSyncs >= singles + 2);
        var missing = Path.Combine(_dir.Path, "missing");
        var ex = Assert.Throws<IOException>(() => DurableFiles.Sync(new[] { missing }));
        Assert.Contains(missing, ex.Message);
    }
}
