using Axl.Jobs.Envelopes;
using Axl.Jobs.Queue;
using Axl.TestServices;

namespace Axl.Core.Tests.Jobs;

/// <summary>
/// The AGQ client against <see cref="FakeAgqServer"/> (not a real AGQ: none is installable here), answering each
/// reply shape a server may give: +OK job_id=..., the id as a bulk string (what AGQ itself answers to PLAN.SUBMIT),
/// and -ERR with the server's text.
/// </summary>
public sealed class AgqClientTests
{
    private static JobEnvelope Envelope() => new()
    {
        JobId = "job-abc123", PlanId = "plan-log-analysis",
        Tasks = { new JobTask { TaskNumber = 1, Command = "grep", Args = { "-i", "error" }, TimeoutSecs = 60 }, new JobTask { TaskNumber = 2, Command = "sort", InputFromTask = 1 } },
    };

    [Fact]
    public async Task Ok_with_job_id_after_auth()
    {
        using var server = new FakeAgqServer(cmd => cmd[0] == "AUTH" ? "+OK\r\n" : "+OK job_id=srv-77\r\n");
        var id = await AgqClient.SubmitAsync(server.Endpoint, Envelope(), sessionKey: "secret");
        Assert.Equal("srv-77", id);
        Assert.Equal(new[] { "AUTH", "secret" }, server.Received[0]);
        Assert.Equal("PLAN.SUBMIT", server.Received[1][0]);
        var sent = JobEnvelopeJson.Parse(server.Received[1][1]);
        Assert.Equal("job-abc123", sent.JobId);
        JobEnvelopeTests.SchemaValid(server.Received[1][1]);
    }

    [Fact]
    public async Task Bulk_string_id_and_job_submit_verb()
    {
        using var server = new FakeAgqServer(_ => "$9\r\njob-bulk1\r\n");
        Assert.Equal("job-bulk1", await AgqClient.SubmitAsync(server.Endpoint, Envelope(), verb: AgqClient.JobSubmit));
        Assert.Equal("JOB.SUBMIT", Assert.Single(server.Received)[0]);
    }

    [Fact]
    public async Task Err_reply_is_an_exception_with_the_server_text()
    {
        using var server = new FakeAgqServer(_ => "-ERR Invalid task numbering: gap between task 2 and 4\r\n");
        var ex = await Assert.ThrowsAsync<JobQueueException>(() => AgqClient.SubmitAsync(server.Endpoint, Envelope()));
        Assert.EndsWith("rejected the job: ERR Invalid task numbering: gap between task 2 and 4", ex.Message);

        using var auth = new FakeAgqServer(_ => "-ERR invalid session key\r\n");
        var ax = await Assert.ThrowsAsync<JobQueueException>(() => AgqClient.SubmitAsync(auth.Endpoint, Envelope(), sessionKey: "bad"));
        Assert.Contains("refused AUTH: ERR invalid session key", ax.Message);
    }

    [Fact]
    public async Task Invalid_envelopes_are_not_sent()
    {
        using var server = new FakeAgqServer(_ => "+OK\r\n");
        var e = Envelope();
        e.Tasks[1].TaskNumber = 4;
        var ex = await Assert.ThrowsAsync<JobEnvelopeException>(() => AgqClient.SubmitAsync(server.Endpoint, e));
        Assert.Equal("Invalid task numbering: gap between task 1 and 4", ex.Message);
        Assert.Empty(server.Received);
    }
}
