using System.Net.Sockets;
using System.Text;
using Axl.TestServices;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Start-AxlWorker in the real engine and `axl worker` as a process, against a real redis-server. The job is put on
/// the stream with raw RESP commands (XADD), as any producer would; the full queue behaviour is tested in Core
/// (JobQueueTests).
/// </summary>
[Collection("PowerShell")]
public sealed class WorkerCmdletTests(PowerShellFixture ps) : IDisposable
{
    private readonly RedisServer _redis = new();
    public void Dispose() => _redis.Dispose();

    [RedisFact]
    public void Start_AxlWorker_runs_a_converted_workflow_from_the_stream()
    {
        var stream = "axl:test:" + Guid.NewGuid().ToString("N")[..8];
        var flow = Path.Combine(Path.GetTempPath(), $"wk-{Guid.NewGuid():N}.axl.ps1");
        File.WriteAllText(flow, "AxlWorkflow wk { Step a -Command printf -ArgumentList 'x\\ny\\n'; Step b -Command sort -ArgumentList '-r' -Stdin a }");
        try
        {
            var json = ps.Run("ConvertTo-AxlJobEnvelope -Path $f -AsJson -JobId $id", new Dictionary<string, object> { ["f"] = flow, ["id"] = stream.Replace(':', '-') });
            json.ShouldSucceed();
            Resp(_redis.Endpoint, "XADD", stream, "*", "job_id", stream.Replace(':', '-'), "envelope", (string)json.Objects.Single());
            var r = ps.Run("Start-AxlWorker $redis -Stream $s -MaxJobs 1 -Timeout '00:01:00' | ForEach-Object { $_.State.ToString(); $_.Output; $_.Attempts }",
                new Dictionary<string, object> { ["redis"] = _redis.Endpoint, ["s"] = stream });
            r.ShouldSucceed();
            Assert.Equal(new object[] { "Succeeded", "y\nx\n", 1 }, r.Objects);
        }
        finally { File.Delete(flow); }
    }

    [RedisFact]
    public void Submit_AxlJob_to_the_queue_is_a_PowerShell_job_that_a_worker_finishes()
    {
        var flow = Path.Combine(Path.GetTempPath(), $"q-{Guid.NewGuid():N}.axl.ps1");
        File.WriteAllText(flow, "AxlWorkflow qjob { Parameter Word -Default 'b'; Step a -Command printf -ArgumentList 'c\\n{Word}\\na\\n'; Step b -Command sort -Stdin a }");
        var dll = Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, "worker", "--redis", _redis.Endpoint, "--max-jobs", "1", "--quiet" }) psi.ArgumentList.Add(a);
        using var worker = System.Diagnostics.Process.Start(psi)!;
        _ = worker.StandardOutput.ReadToEndAsync();
        _ = worker.StandardError.ReadToEndAsync();
        try
        {
            var r = ps.Run("""
                $job = Get-AxlWorkflow $f | Submit-AxlJob -Target Queue -QueueEndpoint $redis -Parameters @{ Word = 'm' }
                $null = $job | Wait-Job -Timeout 90
                $job.State.ToString()
                $result = $job | Wait-AxlJob -Timeout 10
                $result.Status.ToString(); $result.Output
                @(Receive-Job $job 6>&1 | Where-Object { "$_" -like 'task*' }).Count
                $job | Remove-Job
                """, new Dictionary<string, object> { ["f"] = flow, ["redis"] = _redis.Endpoint });
            r.ShouldSucceed();
            var o = r.Objects.Select(x => x?.ToString()).ToList();
            Assert.Equal("Completed", o[0]);
            Assert.Equal("Succeeded", o[1]);
            Assert.Equal("a\nc\nm\n", o[2]);
            Assert.True(int.Parse(o[3]!) >= 2, "a log line per task");
            Assert.True(worker.WaitForExit(30_000), "the worker took its one job and ended");
        }
        finally
        {
            if (!worker.HasExited) worker.Kill(true);
            File.Delete(flow);
        }
    }

    [RedisFact]
    public void Stop_Job_cancels_a_queued_job_before_any_worker_takes_it()
    {
        var flow = Path.Combine(Path.GetTempPath(), $"qc-{Guid.NewGuid():N}.axl.ps1");
        File.WriteAllText(flow, "AxlWorkflow qcancel { Step a -Command printf -ArgumentList 'x' }");
        try
        {
            var r = ps.Run("""
                $job = Get-AxlWorkflow $f | Submit-AxlJob -Target Queue -QueueEndpoint $redis
                $job | Stop-Job
                $job.State.ToString()
                $result = $job | Wait-AxlJob -Timeout 10
                $result.Status.ToString(); $result.Error
                $job | Remove-Job
                """, new Dictionary<string, object> { ["f"] = flow, ["redis"] = _redis.Endpoint });
            r.ShouldSucceed();
            Assert.Equal(new object[] { "Stopped", "Cancelled", "cancelled by Stop-Job" }, r.Objects);
        }
        finally { File.Delete(flow); }
    }

    [RedisFact]
    public void An_envelope_from_the_pipeline_goes_onto_the_queue_as_it_is()
    {
        var flow = Path.Combine(Path.GetTempPath(), $"qe-{Guid.NewGuid():N}.axl.ps1");
        File.WriteAllText(flow, "AxlWorkflow qenv { Step a -Command printf -ArgumentList 'q\\nz\\n'; Step b -Command sort -ArgumentList '-r' -Stdin a }");
        var stream = "axl:test:" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var r = ps.Run("""
                $envelope = ConvertTo-AxlJobEnvelope -Path $f -JobId $id
                $job = $envelope | Submit-AxlJob -QueueEndpoint $redis -Name from-envelope
                $job.Name; $job.RunId; $job.Target.ToString()
                $null = Start-AxlWorker $redis -MaxJobs 1 -Timeout '00:01:00'
                $result = $job | Wait-AxlJob -Timeout 30
                $result.Status.ToString(); $result.Output
                """, new Dictionary<string, object> { ["f"] = flow, ["redis"] = _redis.Endpoint, ["id"] = stream.Replace(':', '-') });
            r.ShouldSucceed();
            Assert.Equal(new object[] { "from-envelope", stream.Replace(':', '-'), "Queue", "Succeeded", "z\nq\n" }, r.Objects);
        }
        finally { File.Delete(flow); }
    }

    [Fact]
    public void Unreachable_redis_is_waited_for_with_one_line_and_a_bad_claim_idle_is_refused()
    {
        // Redis down: the worker waits (with backoff) instead of failing, and says so once.
        var r = ps.Run("Start-AxlWorker 127.0.0.1:1 -MaxJobs 1 -Timeout '00:00:03' -Verbose 4>&1 | ForEach-Object { \"$_\" }");
        r.ShouldSucceed();
        var lines = r.Objects.Select(o => o?.ToString() ?? "").ToList();
        Assert.Single(lines, l => l.Contains("redis unreachable at 127.0.0.1:1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("stopped after 0 job(s)", StringComparison.Ordinal));

        var bad = ps.Run("Start-AxlWorker 127.0.0.1:1 -ClaimIdle '00:00:00'");
        Assert.Contains("Axl.InvalidClaimIdle", bad.ErrorText);
        Assert.Contains("-ClaimIdle is 0 s: it must be at least 1 s", bad.ErrorText);
        var (exit, _, err) = CliTests.Axl("worker");
        Assert.Equal(1, exit);
        Assert.Contains("worker needs --redis host:port", err);
    }

    private static string Resp(string endpoint, params string[] parts)
    {
        var i = endpoint.LastIndexOf(':');
        using var client = new TcpClient(endpoint[..i], int.Parse(endpoint[(i + 1)..]));
        var s = client.GetStream();
        var sb = new StringBuilder($"*{parts.Length}\r\n");
        foreach (var p in parts) sb.Append('$').Append(Encoding.UTF8.GetByteCount(p)).Append("\r\n").Append(p).Append("\r\n");
        s.Write(Encoding.UTF8.GetBytes(sb.ToString()));
        var buffer = new byte[256];
        var n = s.Read(buffer);
        var reply = Encoding.UTF8.GetString(buffer, 0, n);
        Assert.False(reply.StartsWith('-'), reply);
        return reply;
    }
}
