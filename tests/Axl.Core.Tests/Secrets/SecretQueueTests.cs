using System.Collections;
using Axl.Core.Tests.Jobs;
using Axl.Dsl;
using Axl.Jobs.Envelopes;
using Axl.Jobs.Queue;
using Axl.Model;
using Axl.TestServices;
using StackExchange.Redis;

namespace Axl.Core.Tests.Secrets;

/// <summary>
/// A job with a secret through a real Redis (its own stream and keys): the stream entry, the job record and the
/// worker's log never hold the value, and the task sees it in its environment (read from the worker's environment).
/// </summary>
public sealed class SecretQueueTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [RedisFact]
    public async Task The_Redis_stream_entry_and_the_worker_log_never_hold_the_value_and_the_task_sees_it()
    {
        var secret = "q-s3cr3t-" + Guid.NewGuid().ToString("N");
        var variable = "AXL_TEST_QSECRET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, secret);
        try
        {
            var wf = new WorkflowBuilder("queued-secret", null, T.At(1))
                .AddStep("check", (string?)null, new StepOptions
                {
                    CommandSpecified = true, Command = "sh",
                    ArgumentList = new[] { "-c", "if [ \"$API_KEY\" = \"$" + variable + "\" ]; then echo saw-it; else echo missed; fi; ps -o args= -p $$" },
                    Env = new Hashtable { ["API_KEY"] = new SecretReference { KubernetesSecret = "api", KubernetesKey = "key", EnvironmentVariable = variable } },
                }, T.At(2))
                .Build();
            var envelope = JobEnvelopeBuilder.FromWorkflow(wf).Envelope;
            var o = new JobQueueOptions
            {
                Stream = "axl:test:secrets:" + Guid.NewGuid().ToString("N")[..8],
                Group = "g",
                KeyPrefix = "axl:test:secrets:job:" + Guid.NewGuid().ToString("N")[..6] + ":",
                PollInterval = TimeSpan.FromMilliseconds(50),
                ResultTtlSeconds = 600,
            };
            await using var q = await JobQueue.ConnectAsync(redis.Server.Endpoint, o);
            await q.SubmitAsync(envelope);
            var entries = await q.Db.StreamRangeAsync(o.Stream);
            var entry = Assert.Single(entries);
            var stored = string.Join("\n", entry.Values.Select(v => v.Name + "=" + v.Value));
            Assert.Contains("--axl-secret=API_KEY=" + variable, stored);
            Assert.DoesNotContain(secret, stored);

            var worker = new JobWorker(q, "w-secrets");
            var log = new List<string>();
            worker.Log += line => { lock (log) log.Add(line); };
            Assert.Equal(1, await worker.RunAsync(maxJobs: 1).WaitAsync(TimeSpan.FromSeconds(60)));
            var job = (await q.GetAsync(envelope.JobId))!;
            Assert.Equal(QueuedJobState.Succeeded, job.State);
            var stdout = job.Tasks[0].Stdout;
            Assert.StartsWith("saw-it\n", stdout);
            Assert.DoesNotContain(secret, stdout); // ps shows the program's command line: the value is not on it
            Assert.DoesNotContain(secret, string.Join("\n", log));
            Assert.Contains(log, l => l.Contains("(env: API_KEY)", StringComparison.Ordinal));
            // Nothing under the job's keys holds it either.
            var server = q.Db.Multiplexer.GetServer(q.Db.Multiplexer.GetEndPoints()[0]);
            foreach (var key in server.Keys(pattern: o.KeyPrefix + "*"))
            {
                var type = await q.Db.KeyTypeAsync(key);
                var text = type switch
                {
                    RedisType.Hash => string.Join("\n", (await q.Db.HashGetAllAsync(key)).Select(h => h.Name + "=" + h.Value)),
                    RedisType.String => (string?)await q.Db.StringGetAsync(key) ?? "",
                    _ => "",
                };
                Assert.DoesNotContain(secret, text);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
