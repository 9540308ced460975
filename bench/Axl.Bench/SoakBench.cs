using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Axl.Jobs.Envelopes;
using Axl.Jobs.Queue;
using Axl.TestServices;

namespace Axl.Bench;

/// <summary>
/// The bounded soak (bench/run soak, issue 13 point 7): N `axl worker` processes on a private redis-server (append-only
/// file, fsync on every write), a producer that keeps a backlog of small jobs, two phases of the same length: without
/// faults (the floor), then with Redis SIGKILLed and restarted a few times and one worker SIGKILLed (a new one started in
/// its place). Reports jobs/s in each phase and their ratio, the faults survived, jobs run more than once and jobs
/// lost (submitted, never terminal after the drain: must be 0, else exit 1). Each task appends its job id to one file, so
/// runs are counted by what ran, not by what Redis says.
/// </summary>
public static class SoakBench
{
    private const string Usage = """
        Axl.Bench soak --axl-cli <dir of axl.dll> [--workers 3] [--phase-seconds 40] [--out FILE]
        """;

    public static int Run(string[] args)
    {
        string? cli = null, outFile = null;
        int workers = 3;
        double phase = 40;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--axl-cli": cli = Path.GetFullPath(Next()); break;
                case "--workers": workers = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--phase-seconds": phase = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--out": outFile = Path.GetFullPath(Next()); break;
                default: Console.Error.WriteLine($"unknown argument '{args[i]}'\n{Usage}"); return 2;
            }
        }
        var dll = cli is null ? null : Path.Combine(cli, "axl.dll");
        if (dll is null || !File.Exists(dll)) { Console.Error.WriteLine($"soak: no axl.dll in {cli ?? "(give --axl-cli)"}\n{Usage}"); return 2; }
        if (workers < 2 || phase < 10) { Console.Error.WriteLine("soak: at least 2 workers and 10 s per phase"); return 2; }
        return new Soak(dll, workers, TimeSpan.FromSeconds(phase)).RunAsync(outFile).GetAwaiter().GetResult();
    }

    private sealed record PhaseResult(string Name, int Submitted, int Completed, double Seconds, int Lost, int RunTwice, int BadTransitions,
        int RedisKills, int WorkerKills, int OutageLines, int BackLines, int Recreated, int WorkersDied, double DrainSeconds)
    {
        public double JobsPerSecond => Completed / Seconds;
    }

    private sealed class Soak(string dll, int workerCount, TimeSpan phase)
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "axl-soak-" + Guid.NewGuid().ToString("N")[..8]);
        private readonly ConcurrentQueue<(DateTime At, string Line)> _finished = new();
        private readonly ConcurrentQueue<string> _log = new();
        private readonly List<Process> _workers = new();
        private int _workerSerial;

        public async Task<int> RunAsync(string? outFile)
        {
            Directory.CreateDirectory(_dir);
            try
            {
                Console.WriteLine($"soak: {workerCount} workers, {phase.TotalSeconds:0} s per phase, work folder {_dir}");
                var clean = await PhaseAsync("no faults", faults: false);
                var faulty = await PhaseAsync("faults", faults: true);
                var report = Markdown(clean, faulty);
                Console.WriteLine(report);
                if (outFile is not null) { Directory.CreateDirectory(Path.GetDirectoryName(outFile)!); await File.WriteAllTextAsync(outFile, report); Console.WriteLine($"results: {outFile}"); }
                return clean.Lost + faulty.Lost > 0 || clean.WorkersDied + faulty.WorkersDied > 0 || faulty.BadTransitions + clean.BadTransitions > 0 ? 1 : 0;
            }
            finally
            {
                foreach (var w in _workers) Stop(w, kill: true);
                try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
            }
        }

        private async Task<PhaseResult> PhaseAsync(string name, bool faults)
        {
            var work = Path.Combine(_dir, faults ? "faults" : "clean");
            Directory.CreateDirectory(work);
            var runs = Path.Combine(work, "runs.log");
            using var redis = new PrivateRedis(persistence: true);
            var o = new JobQueueOptions { Stream = "axl:soak", Group = "soak", KeyPrefix = "axl:soak:job:", ClaimIdle = TimeSpan.FromSeconds(3), ResultTtlSeconds = 3600 };
            await using var q = await JobQueue.ConnectForWorkerAsync(redis.Endpoint, o);
            await q.EnsureGroupAsync();
            _workers.Clear();
            _all.Clear();
            while (_finished.TryDequeue(out _)) { }
            while (_log.TryDequeue(out _)) { }
            for (var i = 0; i < workerCount; i++) _workers.Add(StartWorker(redis.Endpoint, work));

            var submitted = new List<string>();
            var paused = 0; // the producer holds off while Redis is down (Submit is not retried: a half-made submission is the submitter's business)
            using var stop = new CancellationTokenSource();
            var producer = Task.Run(async () =>
            {
                var backlog = 4 * workerCount;
                while (!stop.IsCancellationRequested)
                {
                    if (Volatile.Read(ref paused) == 0 && submitted.Count - _finished.Count < backlog)
                    {
                        var id = $"soak-{submitted.Count:00000}-{Guid.NewGuid().ToString("N")[..6]}";
                        var e = new JobEnvelope
                        {
                            JobId = id, PlanId = "soak",
                            Tasks = { new JobTask { TaskNumber = 1, Command = "sh", Args = { "-c", "echo \"$0\" >> runs.log; echo ok", id }, TimeoutSecs = 60 },
                                      new JobTask { TaskNumber = 2, Command = "tr", Args = { "a-z", "A-Z" }, InputFromTask = 1, TimeoutSecs = 60 } },
                        };
                        try { await q.SubmitAsync(e); lock (submitted) submitted.Add(id); }
                        catch (Exception ex) when (JobQueue.IsTransient(ex)) { _log.Enqueue($"producer: submit of {id} failed ({ex.GetType().Name}); not counted"); await Task.Delay(200); }
                    }
                    else await Task.Delay(5);
                }
            });

            int redisKills = 0, workerKills = 0;
            // The workers' .NET start-up, off the clock: the window starts when every worker reads the stream.
            var ready = Stopwatch.StartNew();
            while (_log.Count(l => l.Contains("reading axl:soak", StringComparison.Ordinal)) < workerCount && ready.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);
            var clock = Stopwatch.StartNew();
            var windowStart = DateTime.UtcNow;
            if (faults)
            {
                // Fractions of the phase: Redis down 3 s, a worker SIGKILLed, Redis down 6 s, Redis down 2 s.
                var plan = new (double At, Func<Task> Act)[]
                {
                    (0.15, () => RedisDown(redis, 3)),
                    (0.40, async () => { KillWorker(redis.Endpoint, work); workerKills++; await Task.CompletedTask; }),
                    (0.55, () => RedisDown(redis, 6)),
                    (0.85, () => RedisDown(redis, 2)),
                };
                async Task RedisDown(PrivateRedis r, double seconds)
                {
                    Interlocked.Exchange(ref paused, 1);
                    await Task.Delay(300); // a submission in flight ends first
                    r.Kill();
                    redisKills++;
                    Console.WriteLine($"  t={clock.Elapsed.TotalSeconds:0.0}s: redis-server SIGKILLed, down {seconds:0} s");
                    await Task.Delay(TimeSpan.FromSeconds(seconds));
                    r.Start();
                    Console.WriteLine($"  t={clock.Elapsed.TotalSeconds:0.0}s: redis-server restarted (append-only file kept)");
                    Interlocked.Exchange(ref paused, 0);
                }
                foreach (var (at, act) in plan)
                {
                    var due = phase * at - clock.Elapsed;
                    if (due > TimeSpan.Zero) await Task.Delay(due);
                    await act();
                }
            }
            var left = phase - clock.Elapsed;
            if (left > TimeSpan.Zero) await Task.Delay(left);
            var windowEnd = DateTime.UtcNow;
            stop.Cancel();
            await producer;
            var completed = _finished.Count(f => f.At >= windowStart && f.At < windowEnd);

            // Drain: every submitted job must reach a terminal state (60 s at most).
            var drain = Stopwatch.StartNew();
            var terminal = new Dictionary<string, QueuedJob>();
            while (drain.Elapsed < TimeSpan.FromSeconds(60))
            {
                foreach (var id in submitted.Where(id => !terminal.ContainsKey(id)).ToList())
                    if (await q.GetAsync(id) is { IsTerminal: true } job) terminal[id] = job;
                if (terminal.Count == submitted.Count) break;
                await Task.Delay(250);
            }
            var drainSeconds = drain.Elapsed.TotalSeconds;
            var died = _all.Count(w => w.HasExited && !_killed.Contains(w));
            foreach (var w in _workers) Stop(w, kill: false);
            var counts = File.Exists(runs) ? File.ReadAllLines(runs).GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count()) : new();
            var lost = submitted.Count(id => !terminal.ContainsKey(id));
            var notSucceeded = terminal.Values.Count(j => j.State != QueuedJobState.Succeeded);
            if (notSucceeded > 0) _log.Enqueue($"{notSucceeded} job(s) ended other than succeeded: " + string.Join("; ", terminal.Values.Where(j => j.State != QueuedJobState.Succeeded).Take(3)));
            var lines = _log.ToList();
            foreach (var l in lines.Where(l => !l.Contains(": running ", StringComparison.Ordinal) && !l.StartsWith("job soak-", StringComparison.Ordinal) && !l.Contains(" succeeded", StringComparison.Ordinal)).Take(40))
                Console.WriteLine("  | " + l);
            var r = new PhaseResult(name, submitted.Count, completed, (windowEnd - windowStart).TotalSeconds, lost,
                submitted.Count(id => counts.GetValueOrDefault(id) > 1), terminal.Values.Count(j => j.TerminalTransitions != 1) + notSucceeded,
                redisKills, workerKills, lines.Count(l => l.Contains("redis unreachable at", StringComparison.Ordinal)),
                lines.Count(l => l.Contains("redis back after", StringComparison.Ordinal)), lines.Count(l => l.Contains("re-creating it", StringComparison.Ordinal)), died, drainSeconds);
            Console.WriteLine($"soak {name}: {r.Submitted} submitted, {r.Completed} ended in {r.Seconds:0.0} s ({r.JobsPerSecond:0.0} jobs/s), lost {r.Lost}, run twice {r.RunTwice}, workers died {r.WorkersDied}");
            return r;
        }

        private readonly HashSet<Process> _killed = new();
        private readonly List<Process> _all = new();

        private void KillWorker(string endpoint, string work)
        {
            var victim = _workers[0];
            victim.Kill(entireProcessTree: false); // SIGKILL, as kill -9
            victim.WaitForExit(10_000);
            _killed.Add(victim);
            _workers.Remove(victim);
            Console.WriteLine($"  worker pid {victim.Id} SIGKILLed; a new worker takes its place");
            _workers.Add(StartWorker(endpoint, work));
        }

        private Process StartWorker(string endpoint, string work)
        {
            var name = $"soak-w{++_workerSerial}";
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = work };
            foreach (var a in new[] { dll, "worker", "--redis", endpoint, "--stream", "axl:soak", "--group", "soak", "--name", name, "--claim-idle", "3", "--kill-grace", "1", "--workdir", work })
                psi.ArgumentList.Add(a);
            psi.Environment["AXL_JOB_KEY_PREFIX"] = "axl:soak:job:";
            var p = Process.Start(psi)!;
            _all.Add(p);
            p.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } l) _finished.Enqueue((DateTime.UtcNow, l)); };
            p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } l) _log.Enqueue(l); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            return p;
        }

        private static void Stop(Process p, bool kill)
        {
            try
            {
                if (p.HasExited) return;
                if (kill) p.Kill(entireProcessTree: true);
                else
                {
                    // SIGTERM: the worker stops after its running job.
                    Process.Start("kill", new[] { "-TERM", p.Id.ToString(CultureInfo.InvariantCulture) })?.WaitForExit();
                    if (!p.WaitForExit(15_000)) p.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException) { }
        }

        private string Markdown(PhaseResult clean, PhaseResult faulty)
        {
            var sb = new StringBuilder();
            string F(double x) => x.ToString("0.0", CultureInfo.InvariantCulture);
            sb.AppendLine("## Soak: workers through Redis outages and a killed worker");
            sb.AppendLine();
            sb.AppendLine($"{workerCount} `axl worker` processes (claim-idle 3 s) on a private redis-server (append-only file, `appendfsync always`); a producer keeps " +
                          $"{4 * workerCount} small jobs queued (two tasks: `sh -c 'echo <id> >> runs.log'` piped into `tr`); two phases of {phase.TotalSeconds:0} s. " +
                          "In the faults phase Redis is SIGKILLed and restarted three times (down 3 s, 6 s, 2 s; the producer holds off while it is down) and one worker " +
                          "is SIGKILLed (a new one starts in its place). After each phase every submitted job must reach a terminal state within 60 s. " +
                          "Runs are counted from `runs.log` (what ran), not from Redis.");
            sb.AppendLine();
            sb.AppendLine("| phase | submitted | ended in the window | jobs/s | Redis kills | worker kills | outage lines / back lines | groups re-created | workers that died by themselves | run more than once | lost | bad end states | drain |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var r in new[] { clean, faulty })
                sb.AppendLine($"| {r.Name} | {r.Submitted} | {r.Completed} | {F(r.JobsPerSecond)} | {r.RedisKills} | {r.WorkerKills} | {r.OutageLines} / {r.BackLines} | {r.Recreated} | {r.WorkersDied} | {r.RunTwice} | **{r.Lost}** | {r.BadTransitions} | {F(r.DrainSeconds)} s |");
            sb.AppendLine();
            var ratio = clean.JobsPerSecond > 0 ? faulty.JobsPerSecond / clean.JobsPerSecond : 0;
            sb.AppendLine($"**Jobs/s held under faults: {ratio.ToString("0.00", CultureInfo.InvariantCulture)}** of the no-fault rate ({F(faulty.JobsPerSecond)} / {F(clean.JobsPerSecond)}); " +
                          $"faults survived: {faulty.RedisKills} Redis kills and {faulty.WorkerKills} worker kill, no worker died by itself ({faulty.WorkersDied}); " +
                          $"jobs lost: {clean.Lost + faulty.Lost} (must be 0).");
            sb.AppendLine();
            sb.AppendLine("The window's Redis downtime (11 s of the faults phase) caps the ratio: with Redis down nothing can be taken or recorded. A job runs more than once when its " +
                          "worker was killed while it ran (it is reclaimed after claim-idle), or when another worker reclaimed it (idle past claim-idle across an outage) before its " +
                          "worker could write the result; either way it ends once (one terminal transition, the first result kept).");
            return sb.ToString();
        }
    }
}
