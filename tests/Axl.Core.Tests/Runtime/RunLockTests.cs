using Axl.Runtime;
using Xunit;

namespace Axl.Core.Tests.Runtime;

/// <summary>One run, one writer: the OS lock on a run directory.</summary>
public sealed class RunLockTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "axl-runlock-tests-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void A_held_lock_refuses_a_second_holder_names_the_first_and_frees_on_dispose()
    {
        Assert.False(RunLock.IsHeld(_dir)); // no lock file yet: not held
        using (var held = RunLock.Acquire(_dir, "r1", "wf"))
        {
            Assert.True(RunLock.IsHeld(_dir));
            Assert.Null(RunLock.TryAcquire(_dir));
            var ex = Assert.Throws<AxlRunLockedException>(() => RunLock.Acquire(_dir, "r1", "wf"));
            Assert.StartsWith($"run 'r1' of workflow 'wf' is being run by process {Environment.ProcessId} on {Environment.MachineName} (since ", ex.Message);
            Assert.Contains("nothing was done to it", ex.Message);
            Assert.Equal(Environment.ProcessId, ex.Holder?.ProcessId);
            Assert.True(File.Exists(Path.Combine(_dir, RunLock.HolderFile)));
        }
        Assert.False(RunLock.IsHeld(_dir));
        Assert.False(File.Exists(Path.Combine(_dir, RunLock.HolderFile))); // no stale holder record
        Assert.True(File.Exists(Path.Combine(_dir, RunLock.LockFile)));     // the lock file stays (never two files to lock)
        using var again = RunLock.TryAcquire(_dir);
        Assert.NotNull(again);
    }

    [Fact]
    public void A_running_record_that_nobody_holds_shows_as_interrupted()
    {
        var run = new AxlRun { RunId = "r2", Workflow = "wf", Directory = _dir, StartTime = DateTimeOffset.UtcNow, Status = RunStatus.Running };
        Directory.CreateDirectory(_dir);
        RunStore.SaveRun(run);
        using (RunLock.Acquire(_dir, "r2", "wf"))
            Assert.Equal(RunStatus.Running, RunStore.WithLiveStatus(RunStore.Load(_dir)).Status);
        Assert.Equal(RunStatus.Interrupted, RunStore.WithLiveStatus(RunStore.Load(_dir)).Status);
        Assert.Equal(RunStatus.Running, RunStore.Load(_dir).Status); // the record itself is not changed
    }
}
