using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Axl.Dsl;

namespace Axl.Runtime;

/// <summary>
/// Runs a command step: the program with its argument array (never a shell string), placeholders replaced by
/// artifact paths and parameter values, standard input from a file or closed, standard output to a file that
/// becomes the output (unless {output} names where the program writes it), standard error to stderr.log.
/// The program runs in a process group of its own (<see cref="StepProcess"/>): a timeout or a cancellation sends SIGTERM
/// to the whole group, then SIGKILL after the grace period; what it leaves running when it exits is ended too.
/// </summary>
public static class CommandStepExecutor
{
    public static StepAttemptResult Run(StepInvocation inv, CancellationToken ct)
    {
        var step = inv.Step;
        Directory.CreateDirectory(inv.OutputDirectory);
        var stdoutFile = Path.Combine(inv.OutputDirectory, $".stdout.tmp-{Guid.NewGuid():N}");
        var outputFile = Path.Combine(inv.OutputDirectory, $".output.tmp-{Guid.NewGuid():N}{step.Output.Extension}");
        var usesOutput = step.Arguments.Any(a => a.Contains("{" + WorkflowBuilder.OutputPlaceholder + "}", StringComparison.OrdinalIgnoreCase));

        var psi = new ProcessStartInfo(step.Command!)
        {
            WorkingDirectory = inv.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in step.Arguments) psi.ArgumentList.Add(Expand(arg, inv, outputFile));
        foreach (var kv in inv.PackageEnvironment) psi.Environment[kv.Key] = kv.Value;
        foreach (var kv in step.Env) psi.Environment[kv.Key] = kv.Value;
        foreach (var kv in inv.SecretEnvironment) psi.Environment[kv.Key] = kv.Value;
        psi.Environment["AXL_WORKFLOW"] = inv.Workflow.Name;
        psi.Environment["AXL_RUN_ID"] = inv.RunId;
        psi.Environment["AXL_STEP"] = step.Name;
        psi.Environment["AXL_ATTEMPT"] = inv.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["AXL_OUTPUT_DIR"] = inv.OutputDirectory;

        StepProcess sp;
        try
        {
            sp = StepProcess.Start(psi, inv.StdinPath, inv.KillGrace);
        }
        catch (Win32Exception ex)
        {
            return StepAttemptResult.Fail(new StepError(
                $"command '{step.Command}' could not be started: {ex.Message}. Fix: install it or put it on PATH, or give its full path in -Command.",
                FailureKind.User, step.Location.File, step.Location.Line));
        }
        using var _ = sp;
        var process = sp.Process;

        var stderrTail = new StringBuilder();
        var stderrPath = Path.Combine(inv.OutputDirectory, "stderr.log");
        Task stdoutTask = Task.Run(async () =>
        {
            await using var dst = new FileStream(stdoutFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            await process.StandardOutput.BaseStream.CopyToAsync(dst);
            await dst.FlushAsync();
            dst.Flush(flushToDisk: true);
        });
        Task stderrTask = Task.Run(async () =>
        {
            await using var log = new StreamWriter(stderrPath, append: true, new UTF8Encoding(false));
            string? line;
            while ((line = await process.StandardError.ReadLineAsync()) is not null)
            {
                if (inv.Mask is { } mask) line = mask(line); // stderr.log is kept with the run: no secret values in it
                await log.WriteLineAsync(line);
                inv.Streams?.Invoke(new StepStreamRecord(StepStream.Stderr, line));
                lock (stderrTail)
                {
                    stderrTail.AppendLine(line);
                    if (stderrTail.Length > 4000) stderrTail.Remove(0, stderrTail.Length - 4000);
                }
            }
        });

        var timeout = step.TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : Timeout.InfiniteTimeSpan;
        bool exited, cancelled = false;
        try
        {
            exited = sp.WaitForExit(timeout, ct);
        }
        catch (OperationCanceledException)
        {
            (exited, cancelled) = (false, true);
        }
        if (!exited)
        {
            sp.Stop(inv.KillGrace);
            Task.WaitAll(new[] { stdoutTask, stderrTask }, TimeSpan.FromSeconds(5));
            TryDelete(stdoutFile);
            TryDelete(outputFile);
            var how = sp.Grouped ? "its process group (the command and every process it started)" : "its process tree";
            return StepAttemptResult.Fail(!cancelled
                ? new StepError($"command '{step.Command}' timed out after {step.TimeoutSeconds} s: sent SIGTERM to {how}, then SIGKILL after {inv.KillGrace.TotalSeconds:0.#} s if still running", FailureKind.Timeout, step.Location.File, step.Location.Line)
                : new StepError($"step '{step.Name}' was cancelled; {how} was stopped", FailureKind.Cancelled));
        }
        process.WaitForExit();
        // What the command left running in its group (a background job) ends with it; it would hold the pipes open.
        sp.EndLeftovers(inv.KillGrace);
        Task.WaitAll(stdoutTask, stderrTask);

        if (process.ExitCode != 0)
        {
            TryDelete(stdoutFile);
            TryDelete(outputFile);
            string tail;
            lock (stderrTail) tail = stderrTail.ToString().Trim();
            return StepAttemptResult.Fail(new StepError(
                $"command '{step.Command}' exited with code {process.ExitCode}" + (tail.Length > 0 ? $": {LastLines(tail, 5)}" : ""),
                FailureKind.User, step.Location.File, step.Location.Line));
        }
        if (usesOutput)
        {
            File.Move(stdoutFile, Path.Combine(inv.OutputDirectory, "stdout.log"), overwrite: true);
            if (!File.Exists(outputFile))
                return StepAttemptResult.Fail(new StepError($"command '{step.Command}' succeeded but wrote nothing to its {{output}} path", FailureKind.User, step.Location.File, step.Location.Line));
            return StepAttemptResult.OkFile(outputFile);
        }
        return StepAttemptResult.OkFile(stdoutFile);
    }

    internal static string Expand(string arg, StepInvocation inv, string outputFile) =>
        WorkflowBuilder.PlaceholderRegex().Replace(arg, m =>
        {
            if (m.Value == "{{") return "{";
            if (m.Value == "}}") return "}";
            var name = m.Groups[1].Value;
            if (name.Equals(WorkflowBuilder.OutputPlaceholder, StringComparison.OrdinalIgnoreCase)) return outputFile;
            return inv.Placeholders.TryGetValue(name, out var v) ? v : m.Value;
        });

    private static string LastLines(string text, int n)
    {
        var lines = text.Split('\n');
        return string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - n)).Select(l => l.TrimEnd('\r')));
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
