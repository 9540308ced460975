using System.Buffers;
using System.Text.Encodings.Web;

namespace Axl.Serialization;

/// <summary>
/// A <see cref="JavaScriptEncoder"/> that escapes exactly as the one it wraps and only looks for the first character
/// to escape differently: a plain loop over a table of the 128 ASCII characters (made from the wrapped encoder's
/// <see cref="TextEncoder.WillEncode"/>), handing the rest of a text to the wrapped encoder at its first non-ASCII
/// character. Everything that writes escaped text goes to the wrapped encoder.
/// </summary>
/// <remarks>
/// Why: a JSON writer asks the encoder for every property name and string value it writes, and the inbox encoders
/// answer with vectorised searches that ReadyToRun cannot precompile, so in a fresh <c>axl</c> process they run as the
/// JIT's unoptimised first tier for the whole (short) life of the process: the step manifests of a 10,000-step
/// compile (a quarter of a million short strings) spent about 150 ms of CPU there. This loop is precompiled with
/// Axl.Core. The tests compare it with the wrapped encoder over every character and over texts mixing all kinds.
/// </remarks>
internal sealed class AsciiFirstEncoder : JavaScriptEncoder
{
    private readonly JavaScriptEncoder _inner;
    /// <summary>For each ASCII character, whether <see cref="_inner"/> escapes it.</summary>
    private readonly bool[] _escapesAscii = new bool[128];

    public AsciiFirstEncoder(JavaScriptEncoder inner)
    {
        _inner = inner;
        for (var c = 0; c < 128; c++) _escapesAscii[c] = inner.WillEncode(c);
    }

    /// <summary><see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>, found faster: what Axl's JSON documents are written with.</summary>
    public static AsciiFirstEncoder UnsafeRelaxed { get; } = new(UnsafeRelaxedJsonEscaping);

    public override int MaxOutputCharactersPerInputCharacter => _inner.MaxOutputCharactersPerInputCharacter;

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        var escapes = _escapesAscii;
        for (var i = 0; i < textLength; i++)
        {
            var c = text[i];
            if (c >= 128)
            {
                var rest = _inner.FindFirstCharacterToEncode(text + i, textLength - i);
                return rest < 0 ? -1 : i + rest;
            }
            if (escapes[c]) return i;
        }
        return -1;
    }

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text)
    {
        var escapes = _escapesAscii;
        for (var i = 0; i < utf8Text.Length; i++)
        {
            var b = utf8Text[i];
            if (b >= 128)
            {
                var rest = _inner.FindFirstCharacterToEncodeUtf8(utf8Text[i..]);
                return rest < 0 ? -1 : i + rest;
            }
            if (escapes[b]) return i;
        }
        return -1;
    }

    public override bool WillEncode(int unicodeScalar) => _inner.WillEncode(unicodeScalar);

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten) =>
        _inner.TryEncodeUnicodeScalar(unicodeScalar, buffer, bufferLength, out numberOfCharactersWritten);

    public override OperationStatus Encode(ReadOnlySpan<char> source, Span<char> destination, out int charsConsumed, out int charsWritten, bool isFinalBlock = true) =>
        _inner.Encode(source, destination, out charsConsumed, out charsWritten, isFinalBlock);

    public override OperationStatus EncodeUtf8(ReadOnlySpan<byte> utf8Source, Span<byte> utf8Destination, out int bytesConsumed, out int bytesWritten, bool isFinalBlock = true) =>
        _inner.EncodeUtf8(utf8Source, utf8Destination, out bytesConsumed, out bytesWritten, isFinalBlock);

    public override string Encode(string value) => _inner.Encode(value);

    public override void Encode(TextWriter output, string value, int startIndex, int characterCount) => _inner.Encode(output, value, startIndex, characterCount);

    public override void Encode(TextWriter output, char[] value, int startIndex, int characterCount) => _inner.Encode(output, value, startIndex, characterCount);
}
