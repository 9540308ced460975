using System.IO.Compression;
using System.Security.Cryptography;
using Axl.Delivery;

namespace Axl.Core.Tests.Delivery;

/// <summary>The managed gzip writer: any inflater reads it back, and its bytes depend on the input only.</summary>
public sealed class DeterministicGzipTests
{
    private static byte[] Inflate(byte[] gz)
    {
        using var d = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var o = new MemoryStream();
        d.CopyTo(o);
        return o.ToArray();
    }

    public static TheoryData<string> Inputs => new() { "empty", "one byte", "zeros", "random", "text", "mixed", "repeats at the window edge", "long runs" };

    private static byte[] Input(string name)
    {
        var rnd = new Lcg(7);
        switch (name)
        {
            case "empty": return Array.Empty<byte>();
            case "one byte": return new byte[] { 42 };
            case "zeros": return new byte[3 << 20];
            case "random": { var b = new byte[200_000]; rnd.NextBytes(b); return b; }
            case "text":
                return System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 5000).Select(i => $"Step s{i % 37} {{ param($x) $x + {i} }} # line {i}\n")));
            case "mixed":
            {
                var b = new byte[400_000];
                for (int i = 0; i < b.Length; i++) b[i] = (byte)(rnd.Next(5) == 0 ? rnd.Next(256) : 'a' + i % 23);
                return b;
            }
            case "repeats at the window edge":
            {
                var block = new byte[1000];
                rnd.NextBytes(block);
                var b = new byte[100_000];
                for (int i = 0; i < b.Length; i++) b[i] = i % 32_768 < 1000 ? block[i % 32_768] : (byte)rnd.Next(256);
                return b;
            }
            default:
            {
                var b = new byte[70_000];
                for (int i = 0; i < b.Length; i++) b[i] = (byte)(i / 300 % 2 == 0 ? 'x' : i % 256);
                return b;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void GZipStream_reads_back_exactly_the_input(string name)
    {
        var input = Input(name);
        var gz = DeterministicGzip.Compress(input);
        Assert.Equal(input, Inflate(gz));
        Assert.Equal(gz, DeterministicGzip.Compress(input));
        // The stored fallback bounds the growth of incompressible data.
        Assert.True(gz.Length <= input.Length + input.Length / 1000 + 64, $"{gz.Length} bytes for {input.Length}");
    }

    [Fact]
    public void The_header_has_no_name_no_time_and_a_fixed_OS_byte()
    {
        var gz = DeterministicGzip.Compress(Input("text"));
        Assert.Equal(new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff }, gz[..10]);
    }

    [Fact]
    public void It_compresses_source_code_about_as_well_as_zlib()
    {
        var text = Input("text");
        var ours = DeterministicGzip.Compress(text).Length;
        using var z = new MemoryStream();
        using (var g = new GZipStream(z, CompressionLevel.Optimal, leaveOpen: true)) g.Write(text);
        Assert.True(ours < z.Length * 1.25, $"ours {ours} bytes, zlib {z.Length}");
    }

    [Fact]
    public void The_bytes_are_pinned()
    {
        // Same input, same bytes, on every machine and .NET version: changing the compressor changes every archive key.
        var hash = Convert.ToHexString(SHA256.HashData(DeterministicGzip.Compress(Input("mixed")))).ToLowerInvariant();
        Assert.True(PinnedMixedHash == hash, $"the compressed bytes changed: {hash}");
    }

    internal const string PinnedMixedHash = "015d4216fa9033314484eb9683b39b64c5cbadcfa93956b92ae5a3eb391b6719";

    /// <summary>A fixed pseudo-random sequence (System.Random's seeded sequence is not promised across .NET versions).</summary>
    private sealed class Lcg(uint seed)
    {
        private uint _state = seed;

        public int Next(int max)
        {
            _state = unchecked(_state * 1664525u + 1013904223u);
            return (int)((_state >> 8) % (uint)max);
        }

        public void NextBytes(byte[] buffer)
        {
            for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)Next(256);
        }
    }
}
