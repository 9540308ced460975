using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Axl.TestServices;

/// <summary>
/// An in-process fake RESP server standing in for an AGQ server (none is installable here), for tests only: it reads
/// RESP commands from one connection, records them, and answers with what <c>reply</c> returns for each (a raw RESP
/// reply: "+OK job_id=...\r\n", "$9\r\njob-bulk1\r\n", "-ERR ...\r\n").
/// </summary>
public sealed class FakeAgqServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    public List<string[]> Received { get; } = new();
    public FakeAgqServer(Func<string[], string> reply)
    {
        _listener.Start();
        _ = Task.Run(async () =>
        {
            using var client = await _listener.AcceptTcpClientAsync();
            var s = client.GetStream();
            var reader = new StreamReader(s, Encoding.UTF8);
            while (true)
            {
                var header = await reader.ReadLineAsync();
                if (header is null || !header.StartsWith('*')) break;
                var parts = new string[int.Parse(header[1..])];
                for (var i = 0; i < parts.Length; i++)
                {
                    var len = int.Parse((await reader.ReadLineAsync())![1..]);
                    var buf = new char[len];
                    var read = 0;
                    while (read < len) read += await reader.ReadAsync(buf, read, len - read); // ASCII test data: chars = bytes
                    await reader.ReadLineAsync();
                    parts[i] = new string(buf);
                }
                lock (Received) Received.Add(parts);
                var bytes = Encoding.UTF8.GetBytes(reply(parts));
                await s.WriteAsync(bytes);
            }
        });
    }
    public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
    public void Dispose() => _listener.Stop();
}
