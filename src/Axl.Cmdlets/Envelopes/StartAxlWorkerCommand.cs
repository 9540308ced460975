using System.Collections.Concurrent;
using System.Management.Automation;
using Axl.Jobs.Queue;

namespace Axl.Cmdlets.Envelopes;

/// <summary>
/// Runs a job envelope worker on a Redis stream in this session until Ctrl+C, -MaxJobs jobs or -Timeout; outputs each
/// job it finished (state, worker, attempts, task results). Rides out Redis outages (waits with backoff, also at the
/// start; progress and outage lines go to the verbose stream).
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "AxlWorker", HelpUri = AxlHelp.OnlineBase + "Start-AxlWorker.md")]
[OutputType(typeof(QueuedJob))]
public sealed class StartAxlWorkerCommand : PSCmdlet
{
    private readonly CancellationTokenSource _stop = new();

    /// <summary>The Redis server, host:port.</summary>
    [Parameter(Mandatory = true, Position = 0)] public string Redis { get; set; } = "";
    [Parameter] public string Stream { get; set; } = "axl:jobs";
    [Parameter] public string Group { get; set; } = "axl-workers";
    /// <summary>The consumer name (default host-pid).</summary>
    [Parameter] public string? Name { get; set; }
    /// <summary>Stop after this many jobs ended here (0: no limit).</summary>
    [Parameter] [ValidateRange(0, int.MaxValue)] public int MaxJobs { get; set; }
    /// <summary>Stop after this long (a running job is left pending for another worker).</summary>
    [Parameter] public TimeSpan? Timeout { get; set; }
    /// <summary>Reclaim jobs whose worker has been silent this long (at least 1 second: a worker renews its claim every third of it).</summary>
    [Parameter] public TimeSpan ClaimIdle { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>Time between SIGTERM and SIGKILL on a task timeout.</summary>
    [Parameter] public TimeSpan KillGrace { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>The folder tasks run in (default: the current location).</summary>
    [Parameter] public string? WorkingDirectory { get; set; }

    protected override void EndProcessing()
    {
        var cwd = WorkingDirectory is null ? SessionState.Path.CurrentFileSystemLocation.ProviderPath : GetUnresolvedProviderPathFromPSPath(WorkingDirectory);
        var options = new JobQueueOptions { Stream = Stream, Group = Group, ClaimIdle = ClaimIdle, KillGrace = KillGrace, WorkingDirectory = cwd };
        if (options.WorkerProblem() is { } problem)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-ClaimIdle" + problem[10..], nameof(ClaimIdle)), "Axl.InvalidClaimIdle", ErrorCategory.InvalidArgument, ClaimIdle));
            return;
        }
        JobQueue queue;
        // Redis may be down: the connection comes up when it does, and the worker waits for it with backoff.
        try { queue = JobQueue.ConnectForWorkerAsync(Redis, options).GetAwaiter().GetResult(); }
        catch (JobQueueException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "Axl.RedisUnreachable", ErrorCategory.ConnectionError, Redis));
            return;
        }
        using (queue)
        {
            var worker = new JobWorker(queue, Name);
            var events = new BlockingCollection<object>();
            worker.Log += line => events.Add(line);
            worker.JobFinished += job => events.Add(job);
            if (Timeout is { } t) _stop.CancelAfter(t);
            var run = Task.Run(() => worker.RunAsync(MaxJobs, _stop.Token));
            _ = run.ContinueWith(_ => events.CompleteAdding(), TaskScheduler.Default);
            foreach (var e in events.GetConsumingEnumerable())
            {
                if (e is string line) WriteVerbose(line);
                else WriteObject(e);
            }
            run.GetAwaiter().GetResult();
        }
    }

    protected override void StopProcessing() => _stop.Cancel();
}
