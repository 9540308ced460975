using System.Security.Cryptography;

namespace Axl.Hashing;

/// <summary>SHA-256 as Axl writes it everywhere a content id is shown or stored: "sha256:" and 64 lowercase hex digits.</summary>
public static class Sha256Text
{
    public const string Prefix = "sha256:";

    public static string Of(byte[] data) => FromDigest(SHA256.HashData(data));

    public static string Of(Stream data) => FromDigest(SHA256.HashData(data));

    /// <summary>A digest computed elsewhere (an incremental hash), in the same form.</summary>
    public static string FromDigest(byte[] digest) => Prefix + Convert.ToHexString(digest).ToLowerInvariant();
}
