using System.Collections;
using System.Management.Automation;
using System.Text;
using Axl.IO;
using static Axl.Core.Tests.IO.IoTestData;

namespace Axl.Core.Tests.IO;

public class TextIoHandlerTests
{
    private readonly TextIoHandler _h = new();

    [Fact]
    public void Null_and_empty_are_an_empty_file()
    {
        Assert.Empty(Bytes(_h, null));
        Assert.Equal("", RoundTrip(_h, null));
        Assert.Equal("", RoundTrip(_h, ""));
        Assert.Equal("", RoundTrip(_h, System.Array.Empty<string>()));
    }

    [Fact]
    public void A_string_is_written_as_is()
    {
        const string s = "no newline at end\r\nwindows line\nunix line\ttab";
        Assert.Equal(Encoding.UTF8.GetBytes(s), Bytes(_h, s));
        Assert.Equal(s, RoundTrip(_h, PSObject.AsPSObject(s)));
    }

    [Fact]
    public void An_array_is_one_line_per_item()
    {
        Assert.Equal("a\n\nc\n1.5\nTrue\n", RoundTrip(_h, new object?[] { "a", null, PSObject.AsPSObject("c"), 1.5, true }));
        Assert.Equal("1\n2\n3\n", RoundTrip(_h, new List<int> { 1, 2, 3 }));
        Assert.Equal("42", RoundTrip(_h, 42));
    }

    [Fact]
    public void Unicode_round_trips_without_bom()
    {
        var bytes = Bytes(_h, Unicode);
        Assert.False(bytes.AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }), "no BOM");
        Assert.Equal(Unicode, RoundTrip(_h, Unicode));
        // A BOM written by another tool is dropped on read.
        Assert.Equal("x", _h.Read(new MemoryStream(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'x' })));
    }

    [Fact]
    public void Large_string_round_trips() => Assert.Equal(LargeString, RoundTrip(_h, LargeString));
}

public class BytesIoHandlerTests
{
    private readonly BytesIoHandler _h = new();

    [Fact]
    public void Null_and_empty_are_an_empty_file()
    {
        Assert.Empty(Assert.IsType<byte[]>(RoundTrip(_h, null)));
        Assert.Empty(Assert.IsType<byte[]>(RoundTrip(_h, System.Array.Empty<byte>())));
        Assert.Empty(Assert.IsType<byte[]>(RoundTrip(_h, System.Array.Empty<object>())));
    }

    [Fact]
    public void Large_bytes_round_trip_exactly()
    {
        var data = new byte[20 * 1024 * 1024];
        new Random(42).NextBytes(data);
        var back = Assert.IsType<byte[]>(RoundTrip(_h, data));
        Assert.True(data.AsSpan().SequenceEqual(back), "20 MB of bytes differ after the round trip");
    }

    [Fact]
    public void Streams_memory_and_pipeline_arrays_of_bytes_are_written_raw()
    {
        var data = Encoding.UTF8.GetBytes(Unicode);
        Assert.Equal(data, RoundTrip(_h, new MemoryStream(data)));
        Assert.Equal(data, RoundTrip(_h, new ReadOnlyMemory<byte>(data)));
        Assert.Equal(data, RoundTrip(_h, new ArraySegment<byte>(data)));
        Assert.Equal(data, RoundTrip(_h, data.Select(b => (object)PSObject.AsPSObject(b)).ToArray()));
    }

    [Fact]
    public void A_file_is_copied_through()
    {
        using var dir = new TempDir();
        var path = dir.File("in.dat");
        var data = new byte[300_000];
        new Random(1).NextBytes(data);
        File.WriteAllBytes(path, data);
        Assert.Equal(data, RoundTrip(_h, new FileInfo(path)));
        Assert.Equal(data, RoundTrip(_h, PSObject.AsPSObject(new FileInfo(path))));
        Assert.Throws<FileNotFoundException>(() => Bytes(_h, new FileInfo(dir.File("missing"))));
    }

    [Fact]
    public void A_string_is_refused_with_a_pointer_to_the_text_handler()
    {
        var ex = Assert.Throws<ArgumentException>(() => Bytes(_h, "text"));
        Assert.Contains("text IO handler", ex.Message);
        Assert.Throws<ArgumentException>(() => Bytes(_h, new Hashtable()));
        Assert.Throws<ArgumentException>(() => Bytes(_h, new object[] { 1, 2 }));
    }

    [Fact]
    public void Reads_from_a_stream_that_cannot_seek()
    {
        var data = Encoding.UTF8.GetBytes(Unicode);
        Assert.Equal(data, _h.Read(new NonSeekable(data)));
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
