using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Axl.Jobs.Envelopes;
using Axl.Jobs.Queue;
using Axl.TestServices;
using StackExchange.Redis;

namespace Axl.Core.Tests.Jobs;

/// <summary>
/// Workers against Redis failures (issue 13, point 2 and 5): each test starts its OWN redis-server on a free port
/// (<see cref="PrivateRedis"/>) and kills and restarts only that one, never the shared Redis of the services. A worker
/// runs in-process; marker files written by the tasks prove what ran, and how many times.
/// </summary>
public sealed class JobWorkerFaultTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "axl-worker-faults-" + Guid.NewGuid().ToString("N")[..8]);

    public JobWorkerFaultTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    private static JobQueueOptions Options(double claimIdle = 3) => new()
    {
        Stream = "axl:faults", Group = "g", KeyPrefix = "axl:faults:job:",
        ClaimIdle = TimeSpan.FromSeconds(claimIdle), PollInterval = TimeSpan.FromMilliseconds(50),
        KillGrace = TimeSpan.FromMilliseconds(500), ResultTtlSeconds = 600,
    };

    /// <summary>A job that appends a line to its own marker file (one line per run), then sleeps.</summary>
    private JobEnvelope MarkedJob(int i, double sleep = 0.1)
    {
        var id = $"job-{i:000}-" + Guid.NewGuid().ToString("N")[..6];
        return new JobEnvelope
        {
            JobId = id, PlanId = "plan-faults",
            Tasks = { new JobTask { TaskNumber = 1, Command = "sh", Args = { "-c", $"echo run >> '{Marker(id)}'; sleep {sleep.ToString(System.Globalization.CultureInfo.InvariantCulture)}; echo {i}" }, TimeoutSecs = 60 } },
        };
    }

    private string Marker(string jobId) => Path.Combine(_dir, jobId + ".runs");
    private int Runs(string jobId) => File.Exists(Marker(jobId)) ? File.ReadAllLines(Marker(jobId)).Length : 0;

    private sealed class Running(JobWorker worker, Task<int> run, CancellationTokenSource stop, ConcurrentQueue<string> log) : IAsyncDisposable
    {
        public JobWorker Worker => worker;
        public Task<int> Run => run;
        public ConcurrentQueue<string> Log => log;
        public int Count(string text) => log.Count(l => l.Contains(text, StringComparison.Ordinal));
        public async ValueTask DisposeAsync()
        {
            stop.Cancel();
            try { await run.WaitAsync(TimeSpan.FromSeconds(30)); } catch (Exception) { }
            stop.Dispose();
        }
    }

    private static Running StartWorker(JobQueue q, string name)
    {
        var log = new ConcurrentQueue<string>();
        var worker = new JobWorker(q, name);
        worker.Log += log.Enqueue;
        var stop = new CancellationTokenSource();
        return new Running(worker, Task.Run(() => worker.RunAsync(0, stop.Token)), stop, log);
    }

    private static async Task<QueuedJob> Terminal(JobQueue q, string jobId, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                if (await q.GetAsync(jobId) is { IsTerminal: true } job) return job;
            }
            catch (Exception ex) when (JobQueue.IsTransient(ex)) { }
            if (DateTime.UtcNow > until) Assert.Fail($"job {jobId} did not end within {within.TotalSeconds} s");
            await Task.Delay(50);
        }
    }

    private static async Task WaitFor(Func<bool> condition, string what, int seconds = 60)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(25);
        }
    }

    [RedisFact]
    public async Task Redis_killed_mid_batch_and_restarted_with_persistence_every_job_runs_and_ends_exactly_once()
    {
        using var redis = new PrivateRedis(persistence: true);
        var o = Options();
        await using var q = await JobQueue.ConnectForWorkerAsync(redis.Endpoint, o);
        await q.EnsureGroupAsync();
        // Job 5 runs 3 s: Redis dies while it runs (heartbeat and cancel watch fail) and its result waits for Redis.
        var jobs = Enumerable.Range(0, 24).Select(i => MarkedJob(i, i == 5 ? 3 : 0.1)).ToList();
        foreach (var j in jobs) await q.SubmitAsync(j);
        await using var w = StartWorker(q, "w-persist");

        await WaitFor(() => Runs(jobs[5].JobId) == 1, "job 5 to start");
        redis.Kill();
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.False(w.Run.IsCompleted, "the worker stopped while Redis was down: " + string.Join(" | ", w.Log));
        redis.Restart();

        foreach (var j in jobs)
        {
            var job = await Terminal(q, j.JobId, TimeSpan.FromSeconds(90));
            Assert.Equal(QueuedJobState.Succeeded, job.State);
            Assert.Equal(1, job.TerminalTransitions);
            Assert.Equal(1, Runs(j.JobId));
        }
        Assert.Equal("5\n", (await q.GetAsync(jobs[5].JobId))!.Output); // written after Redis came back
        Assert.Equal(0, (await q.Db.StreamPendingAsync(o.Stream, o.Group)).PendingMessageCount);
        Assert.False(w.Run.IsCompleted);
        Assert.Equal(1, w.Count("redis unreachable at " + redis.Endpoint));
        Assert.Equal(1, w.Count("redis back after"));
        Assert.Equal(1, w.Worker.Outages);
    }

    [RedisFact]
    public async Task Redis_restarted_without_persistence_the_worker_recreates_its_group_and_serves_new_jobs()
    {
        using var redis = new PrivateRedis(persistence: false);
        var o = Options();
        await using var q = await JobQueue.ConnectForWorkerAsync(redis.Endpoint, o);
        await q.EnsureGroupAsync();
        await using var w = StartWorker(q, "w-empty");
        var before = MarkedJob(1);
        await q.SubmitAsync(before);
        Assert.Equal(QueuedJobState.Succeeded, (await Terminal(q, before.JobId, TimeSpan.FromSeconds(30))).State);

        redis.Kill();
        await Task.Delay(TimeSpan.FromSeconds(3));
        redis.Restart(persistence: false); // comes back empty: no stream, no group, no job hashes
        await WaitFor(() => w.Worker.GroupsRecreated >= 1, "the worker to re-create its group");
        Assert.False(w.Run.IsCompleted, "the worker stopped: " + string.Join(" | ", w.Log));

        var after = Enumerable.Range(2, 3).Select(i => MarkedJob(i)).ToList();
        foreach (var j in after) await q.SubmitAsync(j);
        foreach (var j in after)
        {
            var job = await Terminal(q, j.JobId, TimeSpan.FromSeconds(30));
            Assert.Equal(QueuedJobState.Succeeded, job.State);
            Assert.Equal(1, Runs(j.JobId));
        }
        Assert.Equal(1, w.Count("redis unreachable at"));
        Assert.Equal(1, w.Count("redis back after"));
        Assert.Contains(w.Log, l => l.Contains("is gone (Redis restarted without its data?); re-creating it", StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task A_group_deleted_under_a_worker_NOGROUP_is_recreated()
    {
        using var redis = new PrivateRedis(persistence: false);
        var o = Options();
        await using var q = await JobQueue.ConnectForWorkerAsync(redis.Endpoint, o);
        await q.EnsureGroupAsync();
        await using var w = StartWorker(q, "w-nogroup");
        await WaitFor(() => w.Count("reading axl:faults") == 1, "the worker to start reading");
        Assert.True(await q.Db.StreamDeleteConsumerGroupAsync(o.Stream, o.Group));
        await WaitFor(() => w.Worker.GroupsRecreated >= 1, "the worker to re-create the group");
        var j = MarkedJob(1);
        await q.SubmitAsync(j);
        Assert.Equal(QueuedJobState.Succeeded, (await Terminal(q, j.JobId, TimeSpan.FromSeconds(30))).State);
        Assert.Equal(0, w.Count("redis unreachable")); // NOGROUP is not an outage
    }

    [RedisFact]
    public async Task A_worker_started_while_Redis_is_down_waits_for_it()
    {
        using var redis = new PrivateRedis(persistence: false, start: false);
        var o = Options();
        await using var q = await JobQueue.ConnectForWorkerAsync(redis.Endpoint, o);
        await using var w = StartWorker(q, "w-early");
        await WaitFor(() => w.Count("redis unreachable at " + redis.Endpoint) == 1, "the worker's outage line");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(w.Run.IsCompleted, "the worker gave up: " + string.Join(" | ", w.Log));
        Assert.Equal(1, w.Count("redis unreachable")); // one line per outage, not one per retry
        redis.Start();
        var j = MarkedJob(1);
        await WaitFor(() => w.Count("reading axl:faults") == 1, "the worker to start reading once Redis is up", 30);
        await q.SubmitAsync(j);
        Assert.Equal(QueuedJobState.Succeeded, (await Terminal(q, j.JobId, TimeSpan.FromSeconds(30))).State);
        Assert.Equal(1, w.Count("redis back after"));
    }

    [Fact]
    public async Task A_claim_idle_below_one_second_is_refused()
    {
        var o = new JobQueueOptions { ClaimIdle = TimeSpan.Zero };
        Assert.Contains("at least 1 s", o.WorkerProblem());
        Assert.Null(new JobQueueOptions { ClaimIdle = TimeSpan.FromSeconds(1) }.WorkerProblem());
        Assert.Equal(TimeSpan.FromSeconds(20), new JobQueueOptions().Heartbeat);
        await using var q = await JobQueue.ConnectForWorkerAsync("127.0.0.1:1", o); // nothing listens there: not needed
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => new JobWorker(q, "w").RunAsync(1));
        Assert.Contains("claim-idle is 0 s", ex.Message);
    }

    [Fact]
    public void Axl_worker_with_claim_idle_0_exits_1_with_the_rule()
    {
        var dll = Path.Combine(S3rver.RepoRoot, "artifacts", "cli", "axl.dll");
        Assert.True(File.Exists(dll), $"The axl command is not built at {dll}; run `dotnet build` first.");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "worker", "--redis", "127.0.0.1:1", "--claim-idle", "0" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "axl worker --claim-idle 0 did not exit");
        Assert.Equal(1, p.ExitCode);
        Assert.Contains("--claim-idle is 0 s: it must be at least 1 s", stderr.Result);
        Assert.DoesNotContain("   at ", stderr.Result);
    }

    /// <summary>Envelopes that Submit would refuse, put on the stream by hand: each fails naming its rule and nothing runs.</summary>
    [RedisFact]
    public async Task Envelopes_the_validator_refuses_fail_naming_the_rule_and_nothing_runs()
    {
        using var redis = new PrivateRedis(persistence: false);
        var o = Options();
        await using var q = await JobQueue.ConnectForWorkerAsync(redis.Endpoint, o);
        await q.EnsureGroupAsync();
        var ran = Path.Combine(_dir, "ran");
        string Task(int n, string extra = "") => $$"""{"task_number":{{n}},"command":"sh","args":["-c","echo x >> {{ran}}"]{{extra}}}""";
        string Env(string id, string tasks) => $$"""{"job_id":"{{id}}","plan_id":"p","tasks":[{{tasks}}]}""";
        var cases = new (string Id, byte[] Envelope, string Rule, string Says)[]
        {
            ("circular", Encoding.UTF8.GetBytes(Env("circular", Task(1, ",\"input_from_task\":1"))), JobEnvelopeValidator.InvalidInputReference, "reads its own output"),
            ("gap", Encoding.UTF8.GetBytes(Env("gap", Task(1) + "," + Task(3))), JobEnvelopeValidator.TaskNumbering, "gap between task 1 and 3"),
            ("empty", Encoding.UTF8.GetBytes(Env("empty", "")), JobEnvelopeValidator.EmptyTasks, "at least one task"),
            ("mismatch", Encoding.UTF8.GetBytes(Env("someone-else", Task(1))), JobWorker.JobIdMismatch, "is for job 'mismatch' but its envelope's job_id is 'someone-else'"),
            ("timeout0", Encoding.UTF8.GetBytes(Env("timeout0", Task(1, ",\"timeout_secs\":0"))), JobEnvelopeValidator.SchemaLimit, "timeout_secs 0"),
            ("dupkey", Encoding.UTF8.GetBytes(Env("dupkey", Task(1)).Replace("\"plan_id\":\"p\"", "\"plan_id\":\"p\",\"job_id\":\"dupkey\"")), JobEnvelopeValidator.InvalidStructure, "duplicate property 'job_id'"),
            ("utf8", Encoding.UTF8.GetBytes(Env("utf8", Task(1))).Select(b => b == (byte)'x' ? (byte)0xFF : b).ToArray(), JobEnvelopeValidator.InvalidStructure, "not valid UTF-8: byte 0xFF at offset"),
        };
        foreach (var c in cases)
            await q.Db.StreamAddAsync(o.Stream, new NameValueEntry[] { new("job_id", c.Id), new("envelope", c.Envelope) });
        var good = MarkedJob(1);
        await q.SubmitAsync(good); // after the refused ones: proves the worker went past them
        await using var w = StartWorker(q, "w-refuse");
        Assert.Equal(QueuedJobState.Succeeded, (await Terminal(q, good.JobId, TimeSpan.FromSeconds(30))).State);
        foreach (var c in cases)
        {
            var job = await Terminal(q, c.Id, TimeSpan.FromSeconds(10));
            Assert.Equal(QueuedJobState.Failed, job.State);
            Assert.StartsWith($"refused ({c.Rule}): ", job.Error);
            Assert.Contains(c.Says, job.Error);
            Assert.Equal(0, job.Attempts);
            Assert.Empty(job.Tasks);
        }
        Assert.False(File.Exists(ran), "a refused envelope ran: " + (File.Exists(ran) ? File.ReadAllText(ran) : ""));
        Assert.Equal(0, (await q.Db.StreamPendingAsync(o.Stream, o.Group)).PendingMessageCount);
        Assert.False(w.Run.IsCompleted);
    }

    [Fact]
    public void The_executor_itself_refuses_an_invalid_envelope_before_running_anything()
    {
        var ran = Path.Combine(_dir, "ran-executor");
        var e = new JobEnvelope { JobId = "j", PlanId = "p", Tasks = { new JobTask { TaskNumber = 2, Command = "touch", Args = { ran } } } };
        var r = EnvelopeExecutor.Run(e, new JobQueueOptions());
        Assert.True(r.Refused);
        Assert.False(r.Succeeded);
        Assert.StartsWith($"refused ({JobEnvelopeValidator.TaskNumbering}): Invalid task numbering: must start at 1", r.Error);
        Assert.Empty(r.Tasks);
        Assert.False(File.Exists(ran));
    }

    [Fact]
    public void Envelope_JSON_with_duplicate_keys_or_bytes_that_are_not_UTF8_is_refused()
    {
        const string ok = """{"job_id":"j","plan_id":"p","tasks":[{"task_number":1,"command":"echo","args":["é"]}]}""";
        Assert.True(JobEnvelopeJson.Read(ok).Success);
        Assert.True(JobEnvelopeJson.Read(Encoding.UTF8.GetBytes(ok)).Success);
        Assert.Equal("é", JobEnvelopeJson.Parse(Encoding.UTF8.GetBytes(ok)).Tasks[0].Args[0]);

        var dupTop = JobEnvelopeJson.Read(ok.Replace("\"plan_id\":\"p\"", "\"plan_id\":\"p\",\"plan_id\":\"q\""));
        Assert.False(dupTop.Success);
        Assert.Contains("duplicate property 'plan_id' (each property may appear once)", dupTop.Errors);
        var dupTask = JobEnvelopeJson.Read(ok.Replace("\"command\":\"echo\"", "\"command\":\"echo\",\"command\":\"rm\""));
        Assert.Contains("task at position 1: duplicate property 'command' (each property may appear once)", dupTask.Errors);
        Assert.Equal("Invalid job envelope: task at position 1: duplicate property 'command' (each property may appear once)",
            Assert.Throws<JobEnvelopeException>(() => JobEnvelopeJson.Parse(ok.Replace("\"command\":\"echo\"", "\"command\":\"echo\",\"command\":\"rm\""))).Message);

        var latin1 = Encoding.Latin1.GetBytes(ok); // é as the single byte 0xE9
        var bad = JobEnvelopeJson.Read(latin1);
        Assert.False(bad.Success);
        Assert.Equal($"not valid UTF-8: byte 0xE9 at offset {ok.IndexOf('é')} does not begin a UTF-8 sequence (save the envelope as UTF-8)", Assert.Single(bad.Errors));
        var d = Assert.Single(JobEnvelopeValidator.ValidateJson(latin1));
        Assert.Equal(JobEnvelopeValidator.InvalidStructure, d.Id);
        Assert.Contains("not valid UTF-8", d.Message);
        Assert.True(JobEnvelopeJson.Read([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(ok)]).Success); // a BOM is fine
    }
}
