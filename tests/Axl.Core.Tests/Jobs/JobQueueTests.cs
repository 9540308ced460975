using System.Diagnostics;
using Axl.Jobs.Envelopes;
using Axl.Jobs.Queue;
using Axl.TestServices;
using StackExchange.Redis;

namespace Axl.Core.Tests.Jobs;

public sealed class RedisFixture : IDisposable
{
    public RedisServer Server { get; } = new();
    public void Dispose() => Server.Dispose();
}

/// <summary>
/// The Redis queue against a real redis-server (see <see cref="RedisServer"/>): submit and run with stdout piping,
/// fail-fast with partial results, a timeout that kills a task ignoring SIGTERM, a worker killed with SIGKILL in the
/// middle of a job and the job reclaimed by another worker process (`axl worker`), and exactly one terminal state per
/// job. Every test uses its own stream, group and key prefix.
/// </summary>
public sealed class JobQueueTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static JobQueueOptions Fresh(double claimIdleSeconds = 60) => new()
    {
        Stream = "axl:test:" + Guid.NewGuid().ToString("N")[..8],
        Group = "g",
        KeyPrefix = "axl:test:job:" + Guid.NewGuid().ToString("N")[..6] + ":",
        ClaimIdle = TimeSpan.FromSeconds(claimIdleSeconds),
        PollInterval = TimeSpan.FromMilliseconds(50),
        KillGrace = TimeSpan.FromMilliseconds(500),
        ResultTtlSeconds = 600,
    };

    private static JobEnvelope Env(params JobTask[] tasks) => new() { JobId = Guid.NewGuid().ToString(), PlanId = "plan-test", Tasks = tasks.ToList() };
    private static JobTask T(int n, string command, string[] args, int? from = null, int timeout = 30) =>
        new() { TaskNumber = n, Command = command, Args = args.ToList(), InputFromTask = from, TimeoutSecs = timeout };

    private async Task<QueuedJob> RunOne(JobQueueOptions o, JobEnvelope e, bool submit = true)
    {
        await using var q = await JobQueue.ConnectAsync(redis.Server.Endpoint, o);
        if (submit) await q.SubmitAsync(e);
        var worker = new JobWorker(q, "w-test");
        Assert.Equal(1, await worker.RunAsync(maxJobs: 1).WaitAsync(TimeSpan.FromSeconds(60)));
        return (await q.GetAsync(e.JobId))!;
    }

    [RedisFact]
    public async Task Submit_then_a_worker_runs_the_tasks_piping_stdout_to_stdin()
    {
        var o = Fresh();
        var e = Env(T(1, "printf", new[] { "b\\na\\nc\\n" }), T(2, "sort", Array.Empty<string>(), from: 1), T(3, "head", new[] { "-n", "1" }, from: 2), T(4, "wc", new[] { "-l" }, from: 1));
        await using (var q = await JobQueue.ConnectAsync(redis.Server.Endpoint, o))
        {
            await q.SubmitAsync(e);
            var queued = await q.GetAsync(e.JobId);
            Assert.Equal(QueuedJobState.Queued, queued!.State);
            Assert.Equal(1, await q.Db.StreamLengthAsync(o.Stream));
        }
        var job = await RunOne(o, e, submit: false);
        Assert.Equal(QueuedJobState.Succeeded, job.State);
        Assert.Equal("w-test", job.Worker);
        Assert.Equal(1, job.Attempts);
        Assert.Equal(1, job.TerminalTransitions);
        Assert.Equal("a\nb\nc\n", job.Tasks[1].Stdout);
        Assert.Equal("a\n", job.Tasks[2].Stdout);
        Assert.Equal("3", job.Tasks[3].Stdout.Trim());
        Assert.NotNull(job.FinishedAt);
        await using var q2 = await JobQueue.ConnectAsync(redis.Server.Endpoint, o);
        var pending = await q2.Db.StreamPendingAsync(o.Stream, o.Group);
        Assert.Equal(0, pending.PendingMessageCount);
    }

    [RedisFact]
    public async Task A_failing_task_stops_the_job_and_keeps_partial_results()
    {
        var e = Env(T(1, "echo", new[] { "hello" }), T(2, "sh", new[] { "-c", "echo oops >&2; exit 3" }), T(3, "echo", new[] { "never" }));
        var job = await RunOne(Fresh(), e);
        Assert.Equal(QueuedJobState.Failed, job.State);
        Assert.Equal(2, job.FailedTask);
        Assert.Equal(2, job.Tasks.Count);
        Assert.Equal("hello\n", job.Tasks[0].Stdout);
        Assert.Equal("failed", job.Tasks[1].Status);
        Assert.Equal(3, job.Tasks[1].ExitCode);
        Assert.Contains("oops", job.Tasks[1].Stderr);
        Assert.Equal("task 2 (sh) exited with code 3: oops", job.Error);

        var missing = await RunOne(Fresh(), Env(T(1, "axl-no-such-program", Array.Empty<string>())));
        Assert.Equal(QueuedJobState.Failed, missing.State);
        Assert.Equal("crashed", missing.Tasks[0].Status);
    }

    [RedisFact]
    public async Task A_timeout_kills_a_task_that_ignores_SIGTERM()
    {
        var watch = Stopwatch.StartNew();
        var e = Env(T(1, "echo", new[] { "before" }), T(2, "sh", new[] { "-c", "trap '' TERM; echo started; sleep 30; echo late" }, timeout: 1));
        var job = await RunOne(Fresh(), e);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
        Assert.Equal(QueuedJobState.Failed, job.State);
        Assert.Equal("timeout", job.Tasks[1].Status);
        Assert.Null(job.Tasks[1].ExitCode);
        Assert.Equal("started\n", job.Tasks[1].Stdout);
        Assert.StartsWith("task 2 (sh) timed out after 1 s: sent SIGTERM, then SIGKILL", job.Error);
    }

    [RedisFact]
    public async Task A_job_whose_worker_is_killed_is_reclaimed_by_another_and_succeeds_once()
    {
        var o = Fresh(claimIdleSeconds: 1);
        var marker = Path.Combine(Path.GetTempPath(), "axl-reclaim-" + Guid.NewGuid().ToString("N")[..8]);
        await using var q = await JobQueue.ConnectAsync(redis.Server.Endpoint, o);
        // Each run appends a line to the marker file, then takes a while: the first worker dies in the middle.
        var e = Env(T(1, "sh", new[] { "-c", $"echo run >> {marker}; sleep 2; echo done" }), T(2, "tr", new[] { "a-z", "A-Z" }, from: 1));
        await q.SubmitAsync(e);
        using var first = StartWorker(o, "w1");
        try
        {
            await WaitFor(() => Task.FromResult(File.Exists(marker)), "the first worker to start the job's first task");
            Assert.Equal("w1", (await q.GetAsync(e.JobId))!.Worker);
            first.Kill(entireProcessTree: false); // SIGKILL, as kill -9
            first.WaitForExit(10_000);
            Assert.Equal(QueuedJobState.Running, (await q.GetAsync(e.JobId))!.State);

            using var second = StartWorker(o, "w2", "--max-jobs", "1");
            try
            {
                var job = await q.WaitAsync(e.JobId, TimeSpan.FromSeconds(60));
                Assert.True(second.WaitForExit(30_000), "the second worker did not stop after --max-jobs 1");
                Assert.Equal(0, second.ExitCode);
                Assert.Equal(QueuedJobState.Succeeded, job.State);
                Assert.Equal("w2", job.Worker);
                Assert.Equal(2, job.Attempts);
                Assert.Equal(1, job.TerminalTransitions);
                Assert.Equal("DONE\n", job.Output);
                Assert.Equal(2, File.ReadAllLines(marker).Length); // started twice, ended once
                Assert.Equal(0, (await q.Db.StreamPendingAsync(o.Stream, o.Group)).PendingMessageCount);
            }
            finally { if (!second.HasExited) second.Kill(true); }
        }
        finally
        {
            if (!first.HasExited) first.Kill(true);
            File.Delete(marker);
        }
    }

    [RedisFact]
    public async Task Every_job_of_a_batch_ends_in_exactly_one_terminal_state()
    {
        var o = Fresh(claimIdleSeconds: 1); // the least a worker accepts (JobQueueOptions.MinClaimIdle)
        await using var q = await JobQueue.ConnectAsync(redis.Server.Endpoint, o);
        var jobs = Enumerable.Range(0, 12).Select(i => i % 4 == 3
            ? Env(T(1, "sh", new[] { "-c", "exit 1" }))
            : Env(T(1, "echo", new[] { $"job {i}" }), T(2, "cat", Array.Empty<string>(), from: 1))).ToList();
        foreach (var j in jobs) await q.SubmitAsync(j);
        using var cts = new CancellationTokenSource();
        var workers = Enumerable.Range(1, 3).Select(i => new JobWorker(q, $"w{i}").RunAsync(0, cts.Token)).ToList();
        foreach (var j in jobs) await q.WaitAsync(j.JobId, TimeSpan.FromSeconds(60));
        cts.Cancel();
        var ended = (await Task.WhenAll(workers)).Sum();
        Assert.Equal(12, ended);
        foreach (var (j, i) in jobs.Select((j, i) => (j, i)))
        {
            var r = (await q.GetAsync(j.JobId))!;
            Assert.Equal(i % 4 == 3 ? QueuedJobState.Failed : QueuedJobState.Succeeded, r.State);
            Assert.Equal(1, r.TerminalTransitions);
        }

        // A late second finish (a reclaimed job finished twice) does not change the recorded end.
        var key = o.JobKey(jobs[0].JobId);
        // Under load a job may already have been reclaimed and finished twice (the short claim-idle here): count from now.
        var callsBefore = (int)await q.Db.HashGetAsync(key, "finish_calls");
        var again = (long)await q.Db.ScriptEvaluateAsync(JobQueue.FinishScript, new RedisKey[] { key, o.Stream },
            new RedisValue[] { "failed", "late", "0", "[]", "late", "1", 600, o.Group, "" });
        Assert.Equal(0, again);
        var after = (await q.GetAsync(jobs[0].JobId))!;
        Assert.Equal(QueuedJobState.Succeeded, after.State);
        Assert.Equal(1, after.TerminalTransitions);
        Assert.Equal(callsBefore + 1, (int)await q.Db.HashGetAsync(key, "finish_calls"));
    }

    [RedisFact]
    public async Task Cancelling_a_queued_job_ends_it_at_once_and_no_worker_runs_it()
    {
        var o = Fresh();
        var marker = Path.Combine(Path.GetTempPath(), "axl-cancel-" + Guid.NewGuid().ToString("N")[..8]);
        await using var q = await JobQueue.ConnectAsync(redis.Server.Endpoint, o);
        var e = Env(T(1, "sh", new[] { "-c", $"echo ran > {marker}" }));
        await q.SubmitAsync(e);
        Assert.Equal(CancelOutcome.Cancelled, await q.CancelAsync(e.JobId, "not needed"));
        var job = (await q.GetAsync(e.JobId))!;
        Assert.Equal(QueuedJobState.Cancelled, job.State);
        Assert.True(job.IsTerminal);
        Assert.Equal("not needed", job.Error);
        Assert.Equal(1, job.TerminalTransitions);

        // A worker reading the entry later only acknowledges it.
        var worker = new JobWorker(q, "w-late");
        using var cts = new CancellationTokenSource();
        var run = worker.RunAsync(0, cts.Token);
        await WaitFor(async () => (await q.Db.StreamPendingAsync(o.Stream, o.Group)).PendingMessageCount == 0
                                  && (await q.Db.StreamGroupInfoAsync(o.Stream)).Single().LastDeliveredId != "0-0", "the worker to read and acknowledge the entry");
        cts.Cancel();
        Assert.Equal(0, await run);
        Assert.False(File.Exists(marker), "the cancelled job ran");
        var after = (await q.GetAsync(e.JobId))!;
        Assert.Equal(QueuedJobState.Cancelled, after.State);
        Assert.Equal(0, after.Attempts);
        Assert.Equal(1, after.TerminalTransitions);

        // Cancelling again, or cancelling an ended job, changes nothing; an unknown id is an error that names it.
        Assert.Equal(CancelOutcome.AlreadyEnded, await q.CancelAsync(e.JobId));
        var done = await RunOne(o, Env(T(1, "true", Array.Empty<string>())));
        Assert.Equal(CancelOutcome.AlreadyEnded, await q.CancelAsync(done.JobId));
        Assert.Equal(QueuedJobState.Succeeded, (await q.GetAsync(done.JobId))!.State);
        Assert.Contains("no-such-job", (await Assert.ThrowsAsync<JobQueueException>(() => q.CancelAsync("no-such-job"))).Message);
    }

    [RedisFact]
    public async Task Cancelling_a_running_job_stops_its_task_and_keeps_the_tasks_that_ended()
    {
        var o = Fresh();
        var started = Path.Combine(Path.GetTempPath(), "axl-cancel-run-" + Guid.NewGuid().ToString("N")[..8]);
        await using var q = await JobQueue.ConnectAsync(redis.Server.Endpoint, o);
        var e = Env(T(1, "echo", new[] { "first" }),
                    T(2, "sh", new[] { "-c", $"trap '' TERM; touch {started}; echo working; sleep 60; echo late" }, timeout: 300),
                    T(3, "echo", new[] { "never" }));
        await q.SubmitAsync(e);
        var worker = new JobWorker(q, "w-cancel");
        var run = worker.RunAsync(maxJobs: 1);
        try
        {
            await WaitFor(() => Task.FromResult(File.Exists(started)), "task 2 to start");
            Assert.Equal(CancelOutcome.Requested, await q.CancelAsync(e.JobId));
            var job = await q.WaitAsync(e.JobId, TimeSpan.FromSeconds(30));
            Assert.Equal(1, await run.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(QueuedJobState.Cancelled, job.State);
            Assert.Equal(1, job.TerminalTransitions);
            Assert.Equal(2, job.Tasks.Count);
            Assert.Equal("succeeded", job.Tasks[0].Status);
            Assert.Equal("first\n", job.Tasks[0].Stdout);
            Assert.Equal("cancelled", job.Tasks[1].Status); // it ignored SIGTERM: SIGKILL after the grace period
            Assert.Equal("working\n", job.Tasks[1].Stdout);
            Assert.Equal("cancelled by request while task 2 (sh) ran", job.Error);
            Assert.Equal(0, (await q.Db.StreamPendingAsync(o.Stream, o.Group)).PendingMessageCount);
        }
        finally { File.Delete(started); }
    }

    [RedisFact]
    public async Task Submit_validates_and_refuses_a_duplicate_job_id()
    {
        await using var q = await JobQueue.ConnectAsync(redis.Server.Endpoint, Fresh());
        var gap = Env(T(1, "a", Array.Empty<string>()), T(3, "b", Array.Empty<string>()));
        Assert.Equal("Invalid task numbering: gap between task 1 and 3", (await Assert.ThrowsAsync<JobEnvelopeException>(() => q.SubmitAsync(gap))).Message);
        var e = Env(T(1, "true", Array.Empty<string>()));
        await q.SubmitAsync(e);
        Assert.Contains("exists already", (await Assert.ThrowsAsync<JobQueueException>(() => q.SubmitAsync(e))).Message);
        await Assert.ThrowsAsync<TimeoutException>(() => q.WaitAsync(e.JobId, TimeSpan.FromMilliseconds(300)));
    }

    private Process StartWorker(JobQueueOptions o, string name, params string[] extra)
    {
        var dll = Path.Combine(S3rver.RepoRoot, "artifacts", "cli", "axl.dll");
        Assert.True(File.Exists(dll), $"The axl command is not built at {dll}; run `dotnet build` first.");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "worker", "--redis", redis.Server.Endpoint, "--stream", o.Stream, "--group", o.Group, "--name", name, "--claim-idle", "1", "--kill-grace", "1" }.Concat(extra))
            psi.ArgumentList.Add(a);
        // The key prefix is not a CLI option: these tests use the default prefix through AXL_JOB_KEY_PREFIX.
        psi.Environment["AXL_JOB_KEY_PREFIX"] = o.KeyPrefix;
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task WaitFor(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }
}
