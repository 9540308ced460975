namespace Axl.IO;

/// <summary>
/// Buffer sizes of the text IO handlers' readers and writers. A 64K buffer of chars (128 KB) and its UTF-8 bytes land
/// on the large object heap, allocated and zeroed for every artifact a step writes or reads (most are small); these stay
/// below it. The file streams under them keep their own 64 KB buffers, so large artifacts still go in large reads and writes.
/// </summary>
internal static class TextBuffer
{
    /// <summary>A StreamWriter's buffer, in chars: 32 KB of chars and 48 KB of UTF-8 bytes.</summary>
    public const int WriterChars = 1 << 14;

    private const int MaxReaderBytes = 1 << 14;

    /// <summary>A StreamReader's buffer, in bytes: what is left of a seekable stream (a small file: a small buffer), at most 16 KB.</summary>
    public static int ReaderBytes(Stream source) =>
        source.CanSeek ? (int)Math.Clamp(source.Length - source.Position, 128, MaxReaderBytes) : MaxReaderBytes;
}
