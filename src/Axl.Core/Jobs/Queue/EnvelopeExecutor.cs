using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Axl.Jobs.Envelopes;
using Axl.Runtime;

namespace Axl.Jobs.Queue;

/// <summary>The outcome of running an envelope: the tasks that ran, and the first failure.</summary>
public sealed class EnvelopeRunResult
{
    public List<QueuedTaskResult> Tasks { get; } = new();
    public int? FailedTask { get; set; }
    public string? Error { get; set; }
    /// <summary>The run was stopped from outside (the worker is shutting down): the job is not finished.</summary>
    public bool Cancelled { get; set; }
    /// <summary>The job was cancelled on request (JobQueue.Cancel): it ends as cancelled, with the tasks that ran.</summary>
    public bool Aborted { get; set; }
    /// <summary>The envelope broke a rule of <see cref="JobEnvelopeValidator"/>: nothing ran (Error names the rule).</summary>
    public bool Refused { get; set; }
    public bool Succeeded => FailedTask is null && !Cancelled && !Aborted && !Refused;
}

/// <summary>
/// Runs an envelope's tasks in order, on this machine: each program with its argument array (never a shell), standard
/// input from the standard output of input_from_task (else closed), fail-fast at the first task that exits non-zero,
/// times out or cannot start; each task runs in a process group of its own (<see cref="StepProcess"/>): a timeout sends
/// SIGTERM to the group, then SIGKILL after the grace period, and the group dies with the worker. The stdout of every task is kept whole in a scratch folder for
/// piping; the results carry at most <see cref="JobQueueOptions.MaxCapturedBytes"/> of stdout and stderr per task.
/// </summary>
public static class EnvelopeExecutor
{
    /// <param name="cancellation">The worker stops: the running task is stopped and the job is left unfinished (Cancelled).</param>
    /// <param name="abort">The job is cancelled on request: the running task is stopped (recorded as cancelled) and the run ends (Aborted).</param>
    public static EnvelopeRunResult Run(JobEnvelope envelope, JobQueueOptions options, CancellationToken cancellation = default, Action<string>? log = null, CancellationToken abort = default)
    {
        var result = new EnvelopeRunResult();
        // The worker validates before it starts a job; this guard keeps any other caller from running a refused envelope.
        if (JobEnvelopeValidator.Validate(envelope).Where(d => d.IsError).ToList() is { Count: > 0 } refused)
        {
            result.Refused = true;
            result.Error = $"refused ({refused[0].Id}): " + string.Join("; ", refused.Select(d => d.Message));
            return result;
        }
        var scratch = Path.Combine(Path.GetTempPath(), "axl-job-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(scratch);
        try
        {
            var stdoutFiles = new Dictionary<int, string>();
            foreach (var task in envelope.Tasks)
            {
                if (cancellation.IsCancellationRequested) { result.Cancelled = true; break; }
                if (abort.IsCancellationRequested) { result.Aborted = true; result.Error = $"cancelled by request before task {task.TaskNumber}"; break; }
                var stdoutPath = Path.Combine(scratch, $"task-{task.TaskNumber}.stdout");
                var stderrPath = Path.Combine(scratch, $"task-{task.TaskNumber}.stderr");
                string? stdinPath = task.InputFromTask is { } from && stdoutFiles.TryGetValue(from, out var f) ? f : null;
                TaskLaunch launch;
                try { launch = TaskEnvironment.For(task); }
                catch (TaskEnvironmentException ex)
                {
                    result.Tasks.Add(new QueuedTaskResult { TaskNumber = task.TaskNumber, Command = task.Command, Status = "crashed", Error = "could not be started: " + ex.Message });
                    result.FailedTask = task.TaskNumber;
                    result.Error = $"task {task.TaskNumber} ({task.Command}) could not be started: {ex.Message}";
                    break;
                }
                // The program and the names of its variables, never their values.
                log?.Invoke($"job {envelope.JobId}: task {task.TaskNumber}: {launch.Describe()}");
                var r = RunTask(task, launch, stdinPath, stdoutPath, stderrPath, options, cancellation, abort, out var cancelled);
                if (cancelled) { result.Cancelled = true; break; }
                result.Tasks.Add(r);
                if (r.Status == "cancelled")
                {
                    result.Aborted = true;
                    result.Error = $"cancelled by request while task {task.TaskNumber} ({task.Command}) ran";
                    break;
                }
                stdoutFiles[task.TaskNumber] = stdoutPath;
                if (r.Status != "succeeded")
                {
                    result.FailedTask = task.TaskNumber;
                    result.Error = $"task {task.TaskNumber} ({task.Command}) {r.Error}";
                    break;
                }
            }
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return result;
    }

    private static QueuedTaskResult RunTask(JobTask task, TaskLaunch launch, string? stdinPath, string stdoutPath, string stderrPath, JobQueueOptions options, CancellationToken cancellation, CancellationToken abort, out bool cancelled)
    {
        cancelled = false;
        var r = new QueuedTaskResult { TaskNumber = task.TaskNumber, Command = task.Command };
        var watch = Stopwatch.StartNew();
        var psi = new ProcessStartInfo(launch.Program)
        {
            WorkingDirectory = options.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in launch.Arguments) psi.ArgumentList.Add(a);
        foreach (var (name, value) in launch.Environment) psi.Environment[name] = value;
        StepProcess sp;
        try
        {
            // In a process group of its own, with a lifeline: the task's processes end with it, and with this worker.
            sp = StepProcess.Start(psi, stdinPath, options.KillGrace);
        }
        catch (Win32Exception ex)
        {
            r.Status = "crashed";
            r.Error = $"could not be started: {ex.Message}";
            r.DurationMs = watch.ElapsedMilliseconds;
            return r;
        }
        using var _ = sp;
        var process = sp.Process;
        var stdout = Task.Run(async () =>
        {
            await using var dst = new FileStream(stdoutPath, FileMode.CreateNew, FileAccess.Write);
            await process.StandardOutput.BaseStream.CopyToAsync(dst);
        });
        var stderr = Task.Run(async () =>
        {
            await using var dst = new FileStream(stderrPath, FileMode.CreateNew, FileAccess.Write);
            await process.StandardError.BaseStream.CopyToAsync(dst);
        });

        var timeout = TimeSpan.FromSeconds(task.EffectiveTimeoutSecs);
        bool exited, aborted = false;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellation, abort);
        try { exited = sp.WaitForExit(timeout, either.Token); }
        catch (OperationCanceledException)
        {
            sp.Stop(options.KillGrace);
            Task.WaitAll(new[] { stdout, stderr }, TimeSpan.FromSeconds(5));
            if (cancellation.IsCancellationRequested)
            {
                cancelled = true;
                return r;
            }
            (exited, aborted) = (false, true);
        }
        if (aborted)
        {
            r.Status = "cancelled";
            r.Error = $"cancelled by request: sent SIGTERM, then SIGKILL after {options.KillGrace.TotalSeconds:0.#} s if still running";
        }
        else if (!exited)
        {
            sp.Stop(options.KillGrace);
            Task.WaitAll(new[] { stdout, stderr }, TimeSpan.FromSeconds(5));
            r.Status = "timeout";
            r.Error = $"timed out after {task.EffectiveTimeoutSecs} s: sent SIGTERM, then SIGKILL after {options.KillGrace.TotalSeconds:0.#} s if still running";
        }
        else
        {
            process.WaitForExit();
            sp.EndLeftovers(options.KillGrace);
            Task.WaitAll(stdout, stderr);
            r.ExitCode = process.ExitCode;
            if (process.ExitCode == 0) r.Status = "succeeded";
            else if (!OperatingSystem.IsWindows() && process.ExitCode is 128 + 4 or 128 + 6 or 128 + 7 or 128 + 8 or 128 + 9 or 128 + 11)
            {
                r.Status = "crashed";
                r.Error = $"crashed (exit code {process.ExitCode}: killed by signal {process.ExitCode - 128})";
            }
            else
            {
                r.Status = "failed";
                r.Error = $"exited with code {process.ExitCode}";
            }
        }
        r.DurationMs = watch.ElapsedMilliseconds;
        (r.Stdout, r.StdoutTruncated) = Capture(stdoutPath, options.MaxCapturedBytes);
        (r.Stderr, r.StderrTruncated) = Capture(stderrPath, options.MaxCapturedBytes);
        if (r.Status != "succeeded" && r.Stderr.Trim() is { Length: > 0 } tail)
        {
            var lines = tail.Split('\n');
            r.Error += ": " + string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - 3)).Select(l => l.TrimEnd('\r')));
        }
        return r;
    }

    private static (string Text, bool Truncated) Capture(string path, int max)
    {
        if (!File.Exists(path)) return ("", false);
        using var fs = File.OpenRead(path);
        var n = (int)Math.Min(fs.Length, max);
        var buffer = new byte[n];
        fs.ReadExactly(buffer, 0, n);
        return (Encoding.UTF8.GetString(buffer), fs.Length > max);
    }
}
