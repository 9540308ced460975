using System.Security.Cryptography;

namespace Axl.Hashing;

/// <summary>
/// Axl's own content ids: BLAKE3 (256-bit, <see cref="Blake3Hasher"/>), written "blake3:" and 64 lowercase hex digits. The workflow hash (IR and
/// code), the steps' cache and resume keys and every id Axl alone computes and checks use it. What a third party
/// verifies keeps that party's algorithm: S3's and the code archive's SHA-256, OCI digests, artifact files' SHA-256
/// (<see cref="Sha256Text"/>).
/// </summary>
/// <remarks>
/// Before BLAKE3, these ids were SHA-256 ("sha256:" ids). <see cref="IsLegacy"/> tells them apart, and
/// <see cref="OfLegacy(ReadOnlySpan{byte})"/> recomputes one, so that a run recorded with SHA-256 step keys still
/// resumes (its finished steps are reused) after the change.
/// </remarks>
public static class ContentHash
{
    public const string Prefix = "blake3:";

    /// <summary>The BLAKE3 id of some bytes.</summary>
    public static string Of(ReadOnlySpan<byte> data) => FromDigest(Blake3Hasher.Hash(data));

    /// <summary>The BLAKE3 id of a stream's bytes from its position to its end.</summary>
    public static string Of(Stream data)
    {
        var hasher = new Blake3Hasher();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = data.Read(buffer, 0, buffer.Length)) > 0) hasher.Update(buffer.AsSpan(0, n));
        Span<byte> digest = stackalloc byte[Blake3Hasher.OutputLength];
        hasher.Finalize(digest);
        return FromDigest(digest);
    }

    /// <summary>
    /// The BLAKE3 id of the bytes <paramref name="write"/> writes to the stream it is given, hashed as they arrive: a
    /// document of many megabytes (the IR of a 10,000-step workflow) is never held whole, nor copied as it grows.
    /// </summary>
    public static string OfWritten<T>(T state, Action<Stream, T> write)
    {
        using var stream = new HashingStream();
        write(stream, state);
        Span<byte> digest = stackalloc byte[Blake3Hasher.OutputLength];
        stream.Finalize(digest);
        return FromDigest(digest);
    }

    /// <summary>
    /// A write-only stream that feeds what is written to it to a BLAKE3 hasher in pieces of a fixed megabyte (whole
    /// chunks): the hasher takes those through its eight-chunk vector code, where of the few kilobytes a JSON writer
    /// flushes at a time (not whole chunks) a large share would go one chunk at a time.
    /// </summary>
    private sealed class HashingStream : Stream
    {
        private const int PieceBytes = 1 << 20;
        private readonly Blake3Hasher _hasher = new();
        private byte[]? _piece = System.Buffers.ArrayPool<byte>.Shared.Rent(PieceBytes);
        private int _filled;
        private long _length;

        public void Finalize(Span<byte> digest)
        {
            _hasher.Update(_piece!.AsSpan(0, _filled));
            _filled = 0;
            _hasher.Finalize(digest);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _length += buffer.Length;
            while (buffer.Length > 0)
            {
                var n = Math.Min(buffer.Length, PieceBytes - _filled);
                buffer[..n].CopyTo(_piece!.AsSpan(_filled));
                _filled += n;
                buffer = buffer[n..];
                if (_filled == PieceBytes)
                {
                    _hasher.Update(_piece.AsSpan(0, PieceBytes));
                    _filled = 0;
                }
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void WriteByte(byte value) => Write(new ReadOnlySpan<byte>(in value));
        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing && _piece is { } piece)
            {
                _piece = null;
                System.Buffers.ArrayPool<byte>.Shared.Return(piece);
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>A BLAKE3 digest computed elsewhere (incrementally), in the same form.</summary>
    public static string FromDigest(ReadOnlySpan<byte> digest) => Prefix + Convert.ToHexString(digest).ToLowerInvariant();

    /// <summary>The id Axl wrote for the same bytes before BLAKE3 (SHA-256), to recognise keys of older runs.</summary>
    public static string OfLegacy(ReadOnlySpan<byte> data) => Sha256Text.FromDigest(SHA256.HashData(data));

    /// <summary>True for an id written before BLAKE3 ("sha256:").</summary>
    public static bool IsLegacy(string? id) => id is not null && id.StartsWith(Sha256Text.Prefix, StringComparison.Ordinal);

    /// <summary>The hex digits of an id ("blake3:" or "sha256:" cut off); the text itself when it has no such prefix.</summary>
    public static string Hex(string id)
    {
        var colon = id.IndexOf(':');
        return colon >= 0 && colon < 8 ? id[(colon + 1)..] : id;
    }

    /// <summary>The first <paramref name="length"/> hex digits of an id: short forms in labels and names.</summary>
    public static string ShortHex(string id, int length = 12)
    {
        var hex = Hex(id);
        return hex.Length > length ? hex[..length] : hex;
    }
}
