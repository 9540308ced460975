using System.Diagnostics;
using System.Text.Json;
using Axl.TestServices;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Cancellation and timeouts of `axl run local` stop everything: signals cancel the run (recorded, resumable), a
/// second signal aborts at once, a killed axl takes its steps' processes with it, and a script step's timeout does not
/// let two attempts overlap.
/// </summary>
public sealed class CliSignalTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<int> _pids = new();
    private string Root => Path.Combine(_dir.Path, "runs");

    public void Dispose()
    {
        foreach (var pid in _pids) try { Process.GetProcessById(pid).Kill(); } catch (Exception) { }
        _dir.Dispose();
    }

    private static Process StartAxl(params string[] args)
    {
        var dll = Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll");
        Assert.True(File.Exists(dll), $"The axl command is not built at {dll}; run `dotnet build` first.");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString() } })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private int WaitForPid(string file, Process axl)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline && !axl.HasExited)
        {
            if (File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), out var pid)) { _pids.Add(pid); return pid; }
            Thread.Sleep(50);
        }
        throw new Xunit.Sdk.XunitException($"{file} was never written (axl exited: {axl.HasExited})");
    }

    private static bool Running(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..];
            return !state.StartsWith('Z') && !state.StartsWith('X');
        }
        catch (IOException) { return false; }
    }

    private static bool GoneWithin(int pid, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline) { if (!Running(pid)) return true; Thread.Sleep(50); }
        return !Running(pid);
    }

    private static JsonElement RunJson(string runDir) => JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "run.json"))).RootElement;

    private static string StepStatus(JsonElement run, string step) =>
        run.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == step).GetProperty("status").GetString()!;

    /// <summary>A command step that leaves a grandchild (sleep) running and waits for it; instant once <c>done</c> exists.</summary>
    private string LongCommandWorkflow(string name, out string bgFile, out string doneFile)
    {
        bgFile = Path.Combine(_dir.Path, name + ".bg");
        doneFile = Path.Combine(_dir.Path, name + ".done");
        // The workflow in a folder of its own: the marker files beside it would be code (its hash, and the steps' resume
        // keys, cover every file of the workflow's folder), so `first` would not be reused on resume.
        return _dir.Write(Path.Combine("code-" + name, name + ".axl.ps1"), $$"""
            AxlWorkflow {{name}} {
                Step first { 'one' }
                Step slow -Command sh -ArgumentList '-c', 'if [ -f {{doneFile}} ]; then echo fast; exit 0; fi; sleep 61 & echo $! > {{bgFile}}; wait' -DependsOn first
            }
            """);
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public void A_signal_cancels_the_run_kills_the_step_group_records_cancelled_and_the_run_resumes(string signal, int code)
    {
        if (OperatingSystem.IsWindows()) return;
        var name = "sig" + signal.ToLowerInvariant();
        var file = LongCommandWorkflow(name, out var bg, out var done);
        var metrics = Path.Combine(_dir.Path, "textfile", name + ".prom");
        using var axl = StartAxl("run", "local", file, "--run-root", Root, "--run-id", "r1", "--kill-grace", "2", "--metrics-file", metrics);
        var stderr = axl.StandardError.ReadToEndAsync();
        _ = axl.StandardOutput.ReadToEndAsync();
        var sleeper = WaitForPid(bg, axl);
        Assert.True(Running(sleeper));

        Signal(axl.Id, signal);
        Assert.True(axl.WaitForExit(60_000), "axl did not end after " + signal);
        axl.WaitForExit();
        Assert.True(code == axl.ExitCode, $"exit {axl.ExitCode}, expected {code}: {stderr.Result}");
        Assert.Contains("cancelling the run", stderr.Result);
        Assert.True(GoneWithin(sleeper, TimeSpan.FromSeconds(5)), $"the step's grandchild (sleep, pid {sleeper}) outlived the cancelled run");

        var runDir = Path.Combine(Root, name, "r1");
        var run = RunJson(runDir);
        Assert.Equal("Cancelled", run.GetProperty("status").GetString());
        Assert.Equal("Succeeded", StepStatus(run, "first"));
        Assert.Equal("Cancelled", StepStatus(run, "slow"));
        // A cancelled run's metrics are written too.
        var doc = Axl.Core.Tests.Runtime.PrometheusText.Parse(File.ReadAllText(metrics));
        Assert.Equal(1, doc.Single("axl_run_status", ("status", "cancelled")).Value);
        Assert.Equal(1, doc.Single("axl_step_status", ("step", "slow"), ("status", "cancelled")).Value);

        File.WriteAllText(done, "");
        var resumed = CliTests.Axl("run", "local", file, "--run-root", Root, "--resume", "r1");
        Assert.True(resumed.Exit == 0, resumed.Err);
        Assert.Contains("slow = fast", resumed.Out);
        Assert.Matches(@"first\s+succeeded\s+1\s+\S+\s+output\.clixml \(\d+ B, reused from resume\)", resumed.Out);
    }

    [Fact]
    public void A_second_interrupt_aborts_at_once_even_when_a_step_is_stuck_in_a_dotnet_call()
    {
        if (OperatingSystem.IsWindows()) return;
        var started = Path.Combine(_dir.Path, "stuck.started");
        var bg = Path.Combine(_dir.Path, "stuck.bg");
        var file = _dir.Write("stuck.axl.ps1", $$"""
            AxlWorkflow stuck {
                Step wedged {
                    $p = [System.Diagnostics.Process]::Start('sleep', '95')
                    [System.IO.File]::WriteAllText('{{bg}}', "$($p.Id)")
                    [System.IO.File]::WriteAllText('{{started}}', "$PID")
                    [System.Threading.Thread]::Sleep(90000)
                    'woke up'
                }
            }
            """);
        using var axl = StartAxl("run", "local", file, "--run-root", Root, "--run-id", "r1", "--kill-grace", "30");
        var stderr = axl.StandardError.ReadToEndAsync();
        _ = axl.StandardOutput.ReadToEndAsync();
        WaitForPid(started, axl);
        _pids.Clear(); // that pid is axl's own

        Signal(axl.Id, "INT");
        Thread.Sleep(500);
        Assert.False(axl.HasExited, "one interrupt should cancel, not end axl at once");
        Signal(axl.Id, "INT");
        // The step sleeps 90 s in a call nothing can interrupt: only the abort can end axl this soon.
        Assert.True(axl.WaitForExit(30_000), "a second interrupt did not end axl");
        axl.WaitForExit();
        Assert.True(axl.ExitCode == 130, $"exit {axl.ExitCode}: {stderr.Result}");
        Assert.Contains("aborting the run now", stderr.Result);
        var run = RunJson(Path.Combine(Root, "stuck", "r1"));
        Assert.Equal("Cancelled", run.GetProperty("status").GetString());
        Assert.Equal("Cancelled", StepStatus(run, "wedged"));
        // A program the script started is a plain child of axl, not a step group: the abort ends it too.
        var sleeper = int.Parse(File.ReadAllText(bg).Trim());
        _pids.Add(sleeper);
        Assert.True(GoneWithin(sleeper, TimeSpan.FromSeconds(5)), $"sleep 95 (pid {sleeper}), started by the stuck script step, outlived the abort");
    }

    [Fact]
    public void One_interrupt_ends_a_run_whose_step_is_stuck_in_a_dotnet_call_once_it_is_abandoned()
    {
        if (OperatingSystem.IsWindows()) return;
        var started = Path.Combine(_dir.Path, "stuck1.started");
        var file = _dir.Write("stuck1.axl.ps1", $$"""
            AxlWorkflow stuck1 {
                Step wedged {
                    [System.IO.File]::WriteAllText('{{started}}', "$PID")
                    [System.Threading.Thread]::Sleep(90000)
                }
            }
            """);
        using var axl = StartAxl("run", "local", file, "--run-root", Root, "--run-id", "r1");
        var stderr = axl.StandardError.ReadToEndAsync();
        _ = axl.StandardOutput.ReadToEndAsync();
        WaitForPid(started, axl);
        _pids.Clear();
        Signal(axl.Id, "INT");
        Assert.True(axl.WaitForExit(45_000), "axl waited for the stuck step after the interrupt");
        axl.WaitForExit();
        Assert.True(axl.ExitCode == 130, $"exit {axl.ExitCode}: {stderr.Result}");
        Assert.Contains("did not stop within 3 s", stderr.Result);
        Assert.Equal("Cancelled", RunJson(Path.Combine(Root, "stuck1", "r1")).GetProperty("status").GetString());
    }

    [Fact]
    public void A_SIGKILLed_axl_takes_its_steps_processes_with_it()
    {
        if (OperatingSystem.IsWindows()) return;
        var file = LongCommandWorkflow("killed", out var bg, out _);
        using var axl = StartAxl("run", "local", file, "--run-root", Root, "--run-id", "r1");
        _ = axl.StandardError.ReadToEndAsync();
        _ = axl.StandardOutput.ReadToEndAsync();
        var sleeper = WaitForPid(bg, axl);
        Signal(axl.Id, "KILL");
        axl.WaitForExit();
        Assert.True(GoneWithin(sleeper, TimeSpan.FromSeconds(15)), $"the step's grandchild (sleep, pid {sleeper}) outlived the killed axl");
    }

    [Theory]
    [InlineData("KILL")]
    [InlineData("exit")]
    public void The_programs_a_script_step_started_end_with_axl_even_when_it_is_SIGKILLed(string how)
    {
        if (!OperatingSystem.IsLinux()) return;
        var bg = Path.Combine(_dir.Path, "owned-" + how + ".bg");
        // A program the script runs (a plain child of axl, in no step group) leaves a sleep behind: under a SIGKILLed
        // axl (the step still waits), or in the background of a step that ends (the sleep is an orphan at once).
        var body = how == "exit"
            ? $"& sh -c 'sleep 98 >/dev/null 2>&1 & echo $! > {bg}'; Start-Sleep -Seconds 3; 'left running'"
            : $"& sh -c 'sleep 98 & echo $! > {bg}; wait'";
        var file = _dir.Write(Path.Combine("code-owned-" + how, "owned.axl.ps1"), $$"""
            AxlWorkflow owned {
                Step spawn { {{body}} }
            }
            """);
        using var axl = StartAxl("run", "local", file, "--run-root", Root, "--run-id", "r1");
        var stderr = axl.StandardError.ReadToEndAsync();
        _ = axl.StandardOutput.ReadToEndAsync();
        var sleeper = WaitForPid(bg, axl);
        Assert.True(Running(sleeper));
        if (how == "KILL") Signal(axl.Id, "KILL");
        Assert.True(axl.WaitForExit(90_000), "axl did not end");
        axl.WaitForExit();
        if (how == "exit") Assert.True(axl.ExitCode == 0, stderr.Result);
        Assert.True(GoneWithin(sleeper, TimeSpan.FromSeconds(15)), $"sleep 98 (pid {sleeper}), started by a script step's program, outlived axl ({how})");
    }

    [Fact]
    public void A_script_step_timeout_stops_attempt_1_before_attempt_2_starts_and_Attempt_counts()
    {
        var log = Path.Combine(_dir.Path, "attempts.log");
        var file = _dir.Write("retry.axl.ps1", $$"""
            AxlWorkflow retry {
                Step flaky -Timeout 2 -Retries 1 {
                    param($AxlContext)
                    $n = $AxlContext.Attempt
                    [System.IO.File]::AppendAllText('{{log}}', "start $n`n")
                    if ($n -eq 1) { while ($true) { [System.IO.File]::AppendAllText('{{log}}', "tick $n`n"); Start-Sleep -Milliseconds 100 } }
                    "attempt $n"
                }
            }
            """);
        var result = CliTests.Axl("run", "local", file, "--run-root", Root, "--retry-backoff", "0");
        Assert.True(result.Exit == 0, result.Err);
        Assert.Contains("flaky = attempt 2", result.Out);
        Thread.Sleep(1000); // attempt 1 would go on ticking if it had not been stopped
        var lines = File.ReadAllLines(log);
        var second = Array.IndexOf(lines, "start 2");
        Assert.True(second > 0, string.Join(" | ", lines));
        Assert.Equal("start 1", lines[0]);
        Assert.DoesNotContain("tick 1", lines.Skip(second));
    }

    [Fact]
    public void A_script_step_that_cannot_be_stopped_is_abandoned_without_a_second_attempt_on_top()
    {
        var log = Path.Combine(_dir.Path, "stuck.log");
        var file = _dir.Write("wedged.axl.ps1", $$"""
            AxlWorkflow wedged {
                Step stuck -Timeout 1 -Retries 2 {
                    param($AxlContext)
                    [System.IO.File]::AppendAllText('{{log}}', "start $($AxlContext.Attempt)`n")
                    [System.Threading.Thread]::Sleep(20000)
                }
            }
            """);
        var result = CliTests.Axl("run", "local", file, "--run-root", Root, "--retry-backoff", "0", "--kill-grace", "1", "--run-id", "r1");
        Assert.Equal(1, result.Exit);
        Assert.Contains("abandoned and no further attempt was started", result.Err);
        Assert.Equal(new[] { "start 1" }, File.ReadAllLines(log));
        var run = RunJson(Path.Combine(Root, "wedged", "r1"));
        Assert.Equal("Failed", StepStatus(run, "stuck"));
        Assert.Equal(1, run.GetProperty("steps")[0].GetProperty("attempts").GetInt32());
    }

    [Fact]
    public void A_script_step_timeout_ends_the_programs_the_script_started()
    {
        if (!OperatingSystem.IsLinux()) return;
        var bg = Path.Combine(_dir.Path, "script.bg");
        var file = _dir.Write("spawner.axl.ps1", $$"""
            AxlWorkflow spawner {
                Step spawn -Timeout 2 {
                    $p = [System.Diagnostics.Process]::Start('sleep', '64')
                    [System.IO.File]::WriteAllText('{{bg}}', "$($p.Id)")
                    Start-Sleep -Seconds 60
                }
            }
            """);
        var result = CliTests.Axl("run", "local", file, "--run-root", Root, "--kill-grace", "1");
        Assert.Equal(1, result.Exit);
        Assert.Contains("timed out after 2 s and was stopped", result.Err);
        var sleeper = int.Parse(File.ReadAllText(bg).Trim());
        _pids.Add(sleeper);
        Assert.True(GoneWithin(sleeper, TimeSpan.FromSeconds(5)), $"sleep 64 (pid {sleeper}), started by the script, outlived the timed-out step");
    }

    [Fact]
    public void A_command_step_timeout_leaves_no_grandchild()
    {
        if (OperatingSystem.IsWindows()) return;
        var bg = Path.Combine(_dir.Path, "timeout.bg");
        var file = _dir.Write("timeout.axl.ps1", $$"""
            AxlWorkflow timeout {
                Step slow -Command sh -ArgumentList '-c', 'sleep 31 & echo $! > {{bg}}; sleep 32; echo x' -Timeout 2
            }
            """);
        var result = CliTests.Axl("run", "local", file, "--run-root", Root, "--kill-grace", "1");
        Assert.Equal(1, result.Exit);
        Assert.Contains("timed out after 2 s: sent SIGTERM to its process group", result.Err);
        var sleeper = int.Parse(File.ReadAllText(bg).Trim());
        _pids.Add(sleeper);
        Assert.True(GoneWithin(sleeper, TimeSpan.FromSeconds(5)), $"sleep 31 (pid {sleeper}) outlived the timed-out step");
    }
}

/// <summary>`axl worker`: a task's processes end when the worker is stopped, and die with it when it is killed.</summary>
public sealed class WorkerSignalTests : IDisposable
{
    private readonly Axl.TestServices.RedisServer _redis = new();
    private readonly TempDir _dir = new();
    private readonly List<int> _pids = new();

    public void Dispose()
    {
        foreach (var pid in _pids) try { Process.GetProcessById(pid).Kill(); } catch (Exception) { }
        _dir.Dispose();
        _redis.Dispose();
    }

    private (Process Worker, int Sleeper) StartWorkerOnALongTask()
    {
        var stream = "axl:sigtest:" + Guid.NewGuid().ToString("N")[..8];
        var bg = Path.Combine(_dir.Path, "task.bg");
        var jobId = "sig-" + Guid.NewGuid().ToString("N")[..8];
        var envelope = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["job_id"] = jobId,
            ["plan_id"] = "sig",
            ["tasks"] = new[] { new Dictionary<string, object> { ["task_number"] = 1, ["command"] = "sh", ["args"] = new[] { "-c", $"sleep 62 & echo $! > {bg}; wait" }, ["timeout_secs"] = 120 } },
        });
        Resp(_redis.Endpoint, "XADD", stream, "*", "job_id", jobId, "envelope", envelope);
        var dll = Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, "worker", "--redis", _redis.Endpoint, "--stream", stream, "--claim-idle", "600", "--kill-grace", "2" }) psi.ArgumentList.Add(a);
        psi.Environment["AXL_JOB_KEY_PREFIX"] = stream + ":job:";
        var worker = Process.Start(psi)!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !worker.HasExited)
        {
            if (File.Exists(bg) && int.TryParse(File.ReadAllText(bg).Trim(), out var pid)) { _pids.Add(pid); return (worker, pid); }
            Thread.Sleep(50);
        }
        worker.Kill(true);
        throw new Xunit.Sdk.XunitException($"the worker never started the task: {worker.StandardError.ReadToEnd()}");
    }

    private static bool GoneWithin(int pid, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z')) return true;
            }
            catch (IOException) { return true; }
            Thread.Sleep(50);
        }
        return false;
    }

    [RedisFact]
    public void A_SIGKILLed_worker_takes_its_task_processes_with_it()
    {
        if (OperatingSystem.IsWindows()) return;
        var (worker, sleeper) = StartWorkerOnALongTask();
        using (worker)
        {
            _ = worker.StandardError.ReadToEndAsync();
            _ = worker.StandardOutput.ReadToEndAsync();
            worker.Kill(); // SIGKILL, the worker alone (not its tree)
            worker.WaitForExit();
            Assert.True(GoneWithin(sleeper, TimeSpan.FromSeconds(15)), $"the task's grandchild (sleep, pid {sleeper}) outlived the killed worker");
        }
    }

    [RedisFact]
    public void SIGTERM_stops_the_worker_and_its_task_group()
    {
        if (OperatingSystem.IsWindows()) return;
        var (worker, sleeper) = StartWorkerOnALongTask();
        using (worker)
        {
            var stderr = worker.StandardError.ReadToEndAsync();
            _ = worker.StandardOutput.ReadToEndAsync();
            using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", worker.Id.ToString() } })!) kill.WaitForExit();
            Assert.True(worker.WaitForExit(30_000), "the worker did not stop on SIGTERM");
            worker.WaitForExit();
            Assert.True(worker.ExitCode == 0, $"exit {worker.ExitCode}: {stderr.Result}");
            Assert.True(GoneWithin(sleeper, TimeSpan.FromSeconds(5)), $"the task's grandchild (sleep, pid {sleeper}) outlived the stopped worker");
            Assert.Contains("stays pending for another worker", stderr.Result);
        }
    }

    private static void Resp(string endpoint, params string[] parts)
    {
        var i = endpoint.LastIndexOf(':');
        using var client = new System.Net.Sockets.TcpClient(endpoint[..i], int.Parse(endpoint[(i + 1)..]));
        var s = client.GetStream();
        var sb = new System.Text.StringBuilder($"*{parts.Length}\r\n");
        foreach (var p in parts) sb.Append('$').Append(System.Text.Encoding.UTF8.GetByteCount(p)).Append("\r\n").Append(p).Append("\r\n");
        s.Write(System.Text.Encoding.UTF8.GetBytes(sb.ToString()));
        var buffer = new byte[256];
        var n = s.Read(buffer);
        Assert.False(System.Text.Encoding.UTF8.GetString(buffer, 0, n).StartsWith('-'), System.Text.Encoding.UTF8.GetString(buffer, 0, n));
    }
}
