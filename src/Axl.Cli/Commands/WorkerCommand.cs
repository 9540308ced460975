using System.Globalization;
using System.Runtime.InteropServices;
using Axl.Runtime;
using Axl.Jobs.Queue;

namespace Axl.Cli.Commands;

/// <summary>axl worker --redis host:port [--stream s] [--group g] [--name n] [--max-jobs N] [--claim-idle S]: a job envelope worker.</summary>
public sealed class WorkerCommand : ICliCommand
{
    public string Name => "worker";
    public string Summary => "run job envelopes from a Redis stream (a queue worker)";
    public IReadOnlyCollection<string> Flags { get; } = new[] { "--quiet" };
    public IReadOnlyCollection<string> Options { get; } = new[] { "--redis", "--stream", "--group", "--name", "--max-jobs", "--claim-idle", "--kill-grace", "--workdir" };
    public string Usage => """
        Usage: axl worker --redis <host:port> [--stream axl:jobs] [--group axl-workers] [--name <name>]
                          [--max-jobs N] [--claim-idle <seconds>] [--kill-grace <seconds>] [--workdir <dir>] [--quiet]

        Reads job envelopes from a Redis stream with a consumer group and runs each job's tasks in order on this
        machine: a task's standard input is the standard output of its input_from_task, the first failing task
        (non-zero exit, timeout, crash) ends the job, a timeout sends SIGTERM then SIGKILL. The job's state and results
        go to the hash axl:job:<id>. Jobs of a worker that stopped answering are reclaimed after --claim-idle seconds
        (default 60, at least 1: a worker renews its claim every third of it). Each envelope is checked with the rules
        of Test-AxlJobEnvelope first; a refused one fails, naming the rule, and nothing of it runs. Runs until Ctrl+C
        or SIGTERM (the running task is stopped with every process it started, and its job stays pending for another
        worker; a second signal exits at once), or until --max-jobs jobs ended here. Each task runs in a process group of
        its own that dies with the worker, even when the worker is killed. Redis may be down at the start or go away at
        any time: the worker waits and retries (0.5 s to 10 s apart, one log line when Redis goes and one when it is
        back), re-creates the stream and group when Redis lost them, and keeps a finished job's result until it can be
        written.

          --redis        the Redis server (host:port, or a StackExchange.Redis configuration string)
          --stream       the stream (default axl:jobs)
          --group        the consumer group (default axl-workers)
          --name         this worker's consumer name (default <host>-<pid>)
          --max-jobs     stop after this many jobs ended here (default: no limit)
          --claim-idle   seconds after which another worker's silent job is reclaimed (default 60, at least 1)
          --kill-grace   seconds between SIGTERM and SIGKILL on a timeout (default 5)
          --workdir      the folder tasks run in (default: the current folder)
          --quiet        no progress lines on stderr

        Environment: AXL_REDIS (default for --redis), AXL_JOB_KEY_PREFIX (prefix of the job hashes, default axl:job:).

        Exit codes: 0 stopped normally, 1 bad arguments (a Redis address that cannot be read, --claim-idle below 1),
        2 internal error.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        var redis = args.Option("--redis") ?? Environment.GetEnvironmentVariable("AXL_REDIS")
            ?? throw new UsageException("worker needs --redis host:port (or $AXL_REDIS).");
        var options = new JobQueueOptions
        {
            Stream = args.Option("--stream") ?? "axl:jobs",
            Group = args.Option("--group") ?? "axl-workers",
            KeyPrefix = Environment.GetEnvironmentVariable("AXL_JOB_KEY_PREFIX") is { Length: > 0 } prefix ? prefix : "axl:job:",
            ClaimIdle = args.Seconds("--claim-idle", 60),
            KillGrace = args.Seconds("--kill-grace", 5),
            WorkingDirectory = args.Option("--workdir") is { } w ? Path.GetFullPath(w) : null,
        };
        var maxJobs = args.Option("--max-jobs") is { } m
            ? int.TryParse(m, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new UsageException($"--max-jobs '{m}' is not a number of jobs.")
            : 0;
        if (options.WorkerProblem() is { } problem) throw new UsageException("--" + problem);
        JobQueue queue;
        try { queue = JobQueue.ConnectForWorkerAsync(redis, options).GetAwaiter().GetResult(); }
        catch (JobQueueException ex) { throw new UsageException(ex.Message); }
        using (queue)
        {
            var worker = new JobWorker(queue, args.Option("--name"));
            var quiet = args.Has("--quiet");
            worker.Log += line => { if (!quiet) lock (stderr) stderr.WriteLine(line); };
            worker.JobFinished += job => { lock (stdout) { stdout.WriteLine($"{job.JobId} {job.State.ToString().ToLowerInvariant()}"); stdout.Flush(); } };
            // SIGTERM or Ctrl+C: stop taking jobs and stop the running task (its whole process group; the job stays
            // pending for another worker). A second one exits at once, killing the task's group first.
            using var cts = new CancellationTokenSource();
            var signals = 0;
            void OnSignal(PosixSignalContext ctx)
            {
                ctx.Cancel = true;
                if (Interlocked.Increment(ref signals) == 1)
                {
                    if (!quiet) lock (stderr) stderr.WriteLine($"worker {worker.Name}: {ctx.Signal}: stopping (the running task is stopped, its job stays pending; a second signal exits at once)");
                    cts.Cancel();
                    return;
                }
                StepProcess.KillEverything();
                lock (stderr) { stderr.WriteLine($"worker {worker.Name}: {ctx.Signal} again: exiting now (task processes killed)"); stderr.Flush(); }
                Environment.Exit(ctx.Signal == PosixSignal.SIGINT ? 130 : 143);
            }
            using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            worker.RunAsync(maxJobs, cts.Token).GetAwaiter().GetResult();
        }
        return ExitCodes.Success;
    }
}
