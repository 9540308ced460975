using System.Diagnostics;
using Axl.Core.Tests.Runtime;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// What `axl run local` shows while it runs (plain lines when redirected, a live block on a terminal) and the
/// Prometheus metrics file it writes with --metrics-file.
/// </summary>
public sealed class CliProgressTests : IDisposable
{
    private const char Esc = '\u001b';
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();
    private string Root => Path.Combine(_dir.Path, "runs");

    private string SlowFlow() => _dir.Write("slow/slow.axl.ps1", """
        AxlWorkflow slow {
            Step first { 'x' * 100 }
            Step sleepy { param($first) Start-Sleep -Milliseconds 1500; $first.Length }
            Step last { param($sleepy) $sleepy + 1 }
        }
        """);

    [Fact]
    public void Redirected_output_has_plain_lines_and_no_control_codes()
    {
        var auto = CliTests.Axl("run", "local", SlowFlow(), "--run-root", Root);
        Assert.True(auto.Exit == 0, auto.Err);
        Assert.DoesNotContain(Esc, auto.Out);
        Assert.DoesNotContain(Esc, auto.Err);
        Assert.Matches(@"\[\d\d:\d\d:\d\d\] step 'sleepy' started", auto.Err);
        Assert.DoesNotContain("steps done", auto.Err);

        var plain = CliTests.Axl("run", "local", SlowFlow(), "--run-root", Root, "--progress", "plain");
        Assert.True(plain.Exit == 0, plain.Err);
        Assert.DoesNotContain(Esc, plain.Out + plain.Err);
    }

    [Fact]
    public void Progress_options_are_checked()
    {
        var bad = CliTests.Axl("run", "local", SlowFlow(), "--run-root", Root, "--progress", "fancy");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("--progress takes auto, live or plain, got 'fancy'", bad.Err);
        var both = CliTests.Axl("run", "local", SlowFlow(), "--run-root", Root, "--progress", "live", "--log-json");
        Assert.Equal(1, both.Exit);
        Assert.Contains("--progress live cannot be combined with --log-json", both.Err);
        Assert.False(Directory.Exists(Path.Combine(Root, "slow"))); // nothing ran

        var help = CliTests.Axl("run", "--help");
        Assert.Contains("--progress MODE", help.Out);
        Assert.Contains("--metrics-file FILE", help.Out);
    }

    [Fact]
    public void On_a_terminal_the_status_block_shows_the_running_step_and_is_redrawn_in_place()
    {
        // A pseudo-terminal (util-linux script): stdout and stderr are a terminal, so auto is live.
        var dll = Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll");
        var command = $"dotnet '{dll}' run local '{SlowFlow()}' --run-root '{Root}'";
        var psi = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = Repo.Root };
        foreach (var a in new[] { "-qefc", command, "/dev/null" }) psi.ArgumentList.Add(a);
        psi.Environment["TERM"] = "xterm";
        psi.Environment.Remove("NO_COLOR");
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail("axl did not finish within 120 s"); }
        var text = output.Result;
        Assert.True(p.ExitCode == 0, text + error.Result);
        Assert.Contains($"{Esc}[1maxl{Esc}[0m slow:", text);                   // the block's first line
        Assert.Matches(@"running\u001b\[0m  sleepy\s+\d+\.\ds", text);           // the running step with its elapsed time
        Assert.Matches(@"\r\u001b\[\d+A\u001b\[J", text);                       // redrawn in place
        Assert.Contains("status      succeeded", text);                          // the summary after it
        var summary = text[text.IndexOf("run         ", StringComparison.Ordinal)..];
        Assert.DoesNotContain("steps done", summary);                             // the block was erased before it
    }

    [Fact]
    public void Metrics_file_of_a_succeeded_and_a_failed_run()
    {
        var metrics = Path.Combine(_dir.Path, "textfile", "axl.prom");
        var ok = CliTests.Axl("run", "local", SlowFlow(), "--run-root", Root, "--metrics-file", metrics);
        Assert.True(ok.Exit == 0, ok.Err);
        var doc = PrometheusText.Parse(File.ReadAllText(metrics));
        Assert.Equal(1, doc.Single("axl_run_status", ("status", "succeeded")).Value);
        Assert.Equal(3, doc.Single("axl_run_steps_total", ("status", "succeeded")).Value);
        Assert.True(doc.Single("axl_step_duration_seconds", ("step", "sleepy")).Value > 1);
        var runDir = Directory.GetDirectories(Path.Combine(Root, "slow")).Single(d => !Path.GetFileName(d).StartsWith('.'));
        foreach (var step in new[] { "first", "sleepy", "last" })
        {
            var artifact = Directory.GetFiles(Path.Combine(runDir, step), "output.*").Single(f => !f.EndsWith(".meta.json", StringComparison.Ordinal));
            Assert.Equal(new FileInfo(artifact).Length, (long)doc.Single("axl_step_output_bytes", ("step", step)).Value);
        }
        Assert.Equal(Path.GetFileName(runDir), doc.Samples[0].Label("run_id"));

        var broken = _dir.Write("broken/broken.axl.ps1", """
            AxlWorkflow broken {
                Step fine { 1 }
                Step bad -Retries 1 { param($fine) throw 'no' }
            }
            """);
        var failed = CliTests.Axl("run", "local", broken, "--run-root", Root, "--metrics-file", metrics, "--retry-backoff", "0");
        Assert.Equal(1, failed.Exit);
        var after = PrometheusText.Parse(File.ReadAllText(metrics));
        Assert.Equal(1, after.Single("axl_run_status", ("status", "failed")).Value);
        Assert.Equal(1, after.Single("axl_step_status", ("step", "bad"), ("status", "failed")).Value);
        Assert.Equal(1, after.Single("axl_step_retries_total", ("step", "bad")).Value);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(metrics)!)); // no temp file left

        var unwritable = CliTests.Axl("run", "local", SlowFlow(), "--run-root", Root, "--metrics-file", Path.Combine(metrics, "x.prom"));
        Assert.Equal(1, unwritable.Exit);
        Assert.Contains($"error Axl.MetricsNotWritten: the metrics file '{Path.Combine(metrics, "x.prom")}' could not be written", unwritable.Err);
    }
}
