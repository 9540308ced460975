using System.ComponentModel;
using System.Diagnostics;
using Axl.Runtime;

namespace Axl.Core.Tests.Runtime;

/// <summary>A step's program runs in a process group of its own, and everything it starts ends with it.</summary>
public sealed class StepProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("axl-stepprocess-").FullName;
    private readonly List<int> _started = new();

    public void Dispose()
    {
        foreach (var pid in _started) try { Process.GetProcessById(pid).Kill(); } catch (Exception) { }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A live (not zombie) process with this pid runs the given command line text.</summary>
    private static bool Running(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException) { return false; }
    }

    private static bool GoneWithin(int pid, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < within) { if (!Running(pid)) return true; Thread.Sleep(50); }
        return !Running(pid);
    }

    private int WaitForPid(string file)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), out var pid)) { _started.Add(pid); return pid; }
            Thread.Sleep(20);
        }
        throw new TimeoutException($"{file} was never written");
    }

    private static ProcessStartInfo Sh(string script)
    {
        var psi = new ProcessStartInfo("sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        return psi;
    }

    [Fact]
    public void Stop_ends_the_grandchildren_too()
    {
        if (OperatingSystem.IsWindows()) return;
        var bg = Path.Combine(_dir, "bg.pid");
        using var sp = StepProcess.Start(Sh($"sleep 301 & echo $! > '{bg}'; sleep 302; echo x"), null, TimeSpan.FromSeconds(2));
        var grandchild = WaitForPid(bg);
        Assert.True(sp.Grouped);
        Assert.True(Running(grandchild));
        Assert.False(sp.WaitForExit(TimeSpan.FromMilliseconds(200), CancellationToken.None));
        sp.Stop(TimeSpan.FromSeconds(2));
        Assert.True(sp.Process.HasExited);
        Assert.True(GoneWithin(grandchild, TimeSpan.FromSeconds(5)), $"the grandchild {grandchild} (sleep 301) outlived the stopped step");
        Assert.False(sp.GroupAlive);
    }

    [Fact]
    public void A_program_that_ignores_SIGTERM_is_killed_after_the_grace()
    {
        if (OperatingSystem.IsWindows()) return;
        var bg = Path.Combine(_dir, "stubborn.pid");
        using var sp = StepProcess.Start(Sh($"trap '' TERM; sh -c \"trap '' TERM; echo \\$\\$ > '{bg}'; while :; do sleep 1; done\" & while :; do sleep 1; done"), null, TimeSpan.FromSeconds(1));
        var stubborn = WaitForPid(bg);
        var watch = Stopwatch.StartNew();
        sp.Stop(TimeSpan.FromSeconds(1));
        Assert.True(sp.Process.HasExited);
        Assert.True(GoneWithin(stubborn, TimeSpan.FromSeconds(5)));
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), "SIGKILL came before the grace period was over");
    }

    [Fact]
    public void When_the_lifeline_closes_the_group_dies_without_a_Stop()
    {
        // What the kernel does when axl (or a worker) is killed with SIGKILL: it closes the lifeline's write end.
        if (OperatingSystem.IsWindows()) return;
        var bg = Path.Combine(_dir, "orphan.pid");
        var sp = StepProcess.Start(Sh($"sleep 303 & echo $! > '{bg}'; sleep 304"), null, TimeSpan.FromSeconds(1));
        var grandchild = WaitForPid(bg);
        _started.Add(sp.Id);
        sp.Process.StandardInput.Close();
        Assert.True(GoneWithin(grandchild, TimeSpan.FromSeconds(10)), "the step's group outlived its lifeline");
        Assert.True(sp.Process.WaitForExit(10_000));
        sp.Dispose();
    }

    [Fact]
    public void What_a_program_leaves_behind_ends_with_it()
    {
        if (OperatingSystem.IsWindows()) return;
        var bg = Path.Combine(_dir, "left.pid");
        using var sp = StepProcess.Start(Sh($"sleep 305 >/dev/null 2>&1 & echo $! > '{bg}'; echo done"), null, TimeSpan.FromSeconds(1));
        var left = WaitForPid(bg);
        Assert.True(sp.WaitForExit(TimeSpan.FromSeconds(20), CancellationToken.None));
        Assert.Equal(0, sp.Process.ExitCode);
        sp.EndLeftovers(TimeSpan.FromSeconds(1));
        Assert.True(GoneWithin(left, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Stdin_environment_exit_code_and_output_pass_through()
    {
        var input = Path.Combine(_dir, "in.txt");
        File.WriteAllText(input, "hello from a file\n");
        var psi = Sh("cat; echo \"secret=$AXL_TEST_SECRET\" >&2; exit 7");
        psi.Environment["AXL_TEST_SECRET"] = "s3cr3t";
        using var sp = StepProcess.Start(psi, input, TimeSpan.FromSeconds(1));
        var stdout = sp.Process.StandardOutput.ReadToEndAsync();
        var stderr = sp.Process.StandardError.ReadToEndAsync();
        Assert.True(sp.WaitForExit(TimeSpan.FromSeconds(20), CancellationToken.None));
        sp.Process.WaitForExit();
        Assert.Equal(7, sp.Process.ExitCode);
        Assert.Equal("hello from a file\n", stdout.Result);
        Assert.Equal("secret=s3cr3t\n", stderr.Result);
    }

    [Fact]
    public void No_stdin_file_means_an_empty_stdin()
    {
        using var sp = StepProcess.Start(Sh("wc -c"), null, TimeSpan.FromSeconds(1));
        var stdout = sp.Process.StandardOutput.ReadToEndAsync();
        Assert.True(sp.WaitForExit(TimeSpan.FromSeconds(20), CancellationToken.None));
        Assert.Equal("0", stdout.Result.Trim());
    }

    [Fact]
    public void A_missing_program_is_refused_before_anything_starts()
    {
        var ex = Assert.Throws<Win32Exception>(() => StepProcess.Start(new ProcessStartInfo("axl-no-such-program-here"), null, TimeSpan.FromSeconds(1)));
        Assert.Contains("axl-no-such-program-here", ex.Message);
    }

    [Fact]
    public void Cancellation_throws_from_the_wait()
    {
        using var sp = StepProcess.Start(Sh("sleep 306"), null, TimeSpan.FromSeconds(1));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Assert.ThrowsAny<OperationCanceledException>(() => sp.WaitForExit(Timeout.InfiniteTimeSpan, cts.Token));
        sp.Stop(TimeSpan.FromSeconds(1));
        Assert.True(sp.Process.HasExited);
    }
}
