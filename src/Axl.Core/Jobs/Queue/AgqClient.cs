using System.Net.Sockets;
using System.Text;
using Axl.Jobs.Envelopes;

namespace Axl.Jobs.Queue;

/// <summary>
/// Submits envelopes to an AGQ-compatible server over RESP (seed 003): optionally <c>AUTH &lt;session key&gt;</c>, then
/// <c>PLAN.SUBMIT &lt;json&gt;</c> (or <c>JOB.SUBMIT</c>). Accepts <c>+OK job_id=...</c>, a bare <c>+...</c> simple
/// string, or the id as a bulk string (what AGQ itself answers); <c>-ERR ...</c> becomes a
/// <see cref="JobQueueException"/> with the server's text.
/// </summary>
public static class AgqClient
{
    public const string PlanSubmit = "PLAN.SUBMIT";
    public const string JobSubmit = "JOB.SUBMIT";

    /// <summary>Validates the envelope, sends it and returns the job id the server gave (or the envelope's when it gave none).</summary>
    public static async Task<string> SubmitAsync(string hostPort, JobEnvelope envelope, string? sessionKey = null, string verb = PlanSubmit, TimeSpan? timeout = null, CancellationToken cancellation = default)
    {
        JobEnvelopeValidator.EnsureValid(envelope);
        var (host, port) = ParseEndpoint(hostPort);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        using var client = new TcpClient();
        try { await client.ConnectAsync(host, port, cts.Token).ConfigureAwait(false); }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            throw new JobQueueException($"Cannot connect to the AGQ server at {hostPort}: {ex.Message}.", ex);
        }
        var stream = client.GetStream();
        var reader = new RespReader(stream);
        try
        {
            if (!string.IsNullOrEmpty(sessionKey))
            {
                await WriteCommandAsync(stream, cts.Token, "AUTH", sessionKey).ConfigureAwait(false);
                var auth = await reader.ReadAsync(cts.Token).ConfigureAwait(false);
                if (auth.IsError) throw new JobQueueException($"The AGQ server at {hostPort} refused AUTH: {auth.Text}");
            }
            await WriteCommandAsync(stream, cts.Token, verb, envelope.ToJson(indented: false)).ConfigureAwait(false);
            var reply = await reader.ReadAsync(cts.Token).ConfigureAwait(false);
            if (reply.IsError) throw new JobQueueException($"The AGQ server at {hostPort} rejected the job: {reply.Text}");
            return JobIdFrom(reply.Text) ?? envelope.JobId;
        }
        catch (OperationCanceledException ex) when (!cancellation.IsCancellationRequested)
        {
            throw new JobQueueException($"The AGQ server at {hostPort} did not answer within {(timeout ?? TimeSpan.FromSeconds(30)).TotalSeconds:0.#} s.", ex);
        }
        catch (IOException ex)
        {
            throw new JobQueueException($"The connection to the AGQ server at {hostPort} failed: {ex.Message}", ex);
        }
    }

    /// <summary>"OK job_id=abc" -> abc; "OK" -> null; any other text (a bulk string id) -> the text.</summary>
    internal static string? JobIdFrom(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var t = text.Trim();
        var at = t.IndexOf("job_id=", StringComparison.Ordinal);
        if (at >= 0)
        {
            var id = t[(at + "job_id=".Length)..];
            var end = id.IndexOfAny(new[] { ' ', '\t' });
            return end < 0 ? id : id[..end];
        }
        return t.Equals("OK", StringComparison.OrdinalIgnoreCase) ? null : t;
    }

    private static (string Host, int Port) ParseEndpoint(string hostPort)
    {
        var i = hostPort.LastIndexOf(':');
        if (i <= 0 || !int.TryParse(hostPort[(i + 1)..], out var port))
            throw new ArgumentException($"'{hostPort}' is not host:port (e.g. 127.0.0.1:6379).");
        return (hostPort[..i], port);
    }

    private static async Task WriteCommandAsync(NetworkStream stream, CancellationToken ct, params string[] parts)
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(parts.Length).Append("\r\n");
        foreach (var p in parts) sb.Append('$').Append(Encoding.UTF8.GetByteCount(p)).Append("\r\n").Append(p).Append("\r\n");
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        await stream.WriteAsync(bytes, ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>One RESP reply: simple string, error, integer or bulk string (arrays are not used by these verbs).</summary>
    internal readonly record struct RespReply(bool IsError, string? Text);

    internal sealed class RespReader(Stream stream)
    {
        private readonly byte[] _one = new byte[1];

        public async Task<RespReply> ReadAsync(CancellationToken ct)
        {
            var line = await ReadLineAsync(ct).ConfigureAwait(false);
            if (line.Length == 0) throw new IOException("empty reply");
            var body = line[1..];
            switch (line[0])
            {
                case '+': return new RespReply(false, body);
                case '-': return new RespReply(true, body);
                case ':': return new RespReply(false, body);
                case '$':
                    var n = int.Parse(body, System.Globalization.CultureInfo.InvariantCulture);
                    if (n < 0) return new RespReply(false, null);
                    var buffer = new byte[n + 2];
                    var read = 0;
                    while (read < buffer.Length)
                    {
                        var r = await stream.ReadAsync(buffer.AsMemory(read), ct).ConfigureAwait(false);
                        if (r == 0) throw new IOException("the server closed the connection in the middle of a reply");
                        read += r;
                    }
                    return new RespReply(false, Encoding.UTF8.GetString(buffer, 0, n));
                default:
                    throw new IOException($"unexpected RESP reply '{line}'");
            }
        }

        private async Task<string> ReadLineAsync(CancellationToken ct)
        {
            var bytes = new List<byte>();
            while (true)
            {
                var r = await stream.ReadAsync(_one, ct).ConfigureAwait(false);
                if (r == 0) throw new IOException("the server closed the connection without a reply");
                if (_one[0] == '\n' && bytes.Count > 0 && bytes[^1] == '\r') { bytes.RemoveAt(bytes.Count - 1); break; }
                bytes.Add(_one[0]);
            }
            return Encoding.UTF8.GetString(bytes.ToArray());
        }
    }
}
