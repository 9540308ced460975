using System.Text;
using Axl.Hashing;
using Xunit;

namespace Axl.Core.Tests;

/// <summary>
/// Axl's own BLAKE3 against the specification's published digests and, over every length around the block (64 B),
/// chunk (1 KiB) and tree boundaries, against the managed Blake3 package, in one call and fed in pieces.
/// </summary>
public class Blake3HasherTests
{
    [Theory]
    [InlineData("", "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262")]
    [InlineData("abc", "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85")]
    public void Known_digests(string text, string hex) =>
        Assert.Equal(hex, Convert.ToHexStringLower(Blake3Hasher.Hash(Encoding.ASCII.GetBytes(text))));

    /// <summary>The specification's test input: byte i is i mod 251.</summary>
    private static byte[] Input(int length)
    {
        var data = new byte[length];
        for (var i = 0; i < length; i++) data[i] = (byte)(i % 251);
        return data;
    }

    public static TheoryData<int> Lengths()
    {
        var lengths = new SortedSet<int> { 0, 1, 2, 3, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 4097,
            5120, 5121, 6144, 6145, 7168, 7169, 8192, 8193, 16384, 31744, 102400, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 777 };
        for (var chunks = 1; chunks <= 40; chunks++)
            foreach (var d in new[] { -1, 0, 1 }) lengths.Add(chunks * 1024 + d);
        var data = new TheoryData<int>();
        foreach (var l in lengths) data.Add(l);
        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Matches_the_Blake3_package_in_one_call(int length)
    {
        var input = Input(length);
        Assert.Equal(Blake3.Hasher.Hash(input).AsSpan().ToArray(), Blake3Hasher.Hash(input));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(1024)]
    [InlineData(4097)]
    [InlineData(65536)]
    public void Matches_the_Blake3_package_fed_in_pieces(int piece)
    {
        var rng = new Random(piece);
        foreach (var length in new[] { 0, 5, 1024, 1025, 9000, 70_000, 300_001 })
        {
            var input = new byte[length];
            rng.NextBytes(input);
            var hasher = new Blake3Hasher();
            for (var at = 0; at < length; at += piece) hasher.Update(input.AsSpan(at, Math.Min(piece, length - at)));
            var digest = new byte[32];
            hasher.Finalize(digest);
            Assert.Equal(Blake3.Hasher.Hash(input).AsSpan().ToArray(), digest);
        }
    }

    [Fact]
    public void Random_pieces_of_random_lengths_match()
    {
        var rng = new Random(20261206);
        for (var round = 0; round < 60; round++)
        {
            var input = new byte[rng.Next(0, 200_000)];
            rng.NextBytes(input);
            var hasher = new Blake3Hasher();
            for (var at = 0; at < input.Length;)
            {
                var n = Math.Min(rng.Next(0, 5000), input.Length - at);
                hasher.Update(input.AsSpan(at, n));
                at += n;
            }
            var digest = new byte[32];
            hasher.Finalize(digest);
            Assert.Equal(Blake3.Hasher.Hash(input).AsSpan().ToArray(), digest);
        }
    }

    [Fact]
    public void Content_ids_of_a_stream_and_of_its_bytes_agree()
    {
        var input = Input(200_000);
        Assert.Equal(ContentHash.Of(input), ContentHash.Of(new MemoryStream(input)));
        Assert.Equal("blake3:" + Blake3.Hasher.Hash(input).ToString(), ContentHash.Of(input));
    }
}
