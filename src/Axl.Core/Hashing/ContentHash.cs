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
