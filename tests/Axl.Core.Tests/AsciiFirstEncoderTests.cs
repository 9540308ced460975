using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Axl.Serialization;
using Xunit;

namespace Axl.Core.Tests;

/// <summary>
/// The encoder Axl's JSON is written with gives the bytes of the one it wraps (relaxed escaping): for every UTF-16
/// code unit alone and inside ASCII text, for lone and paired surrogates, and for random texts mixing plain ASCII,
/// characters to escape and non-ASCII; as values, as property names, from strings and from UTF-8.
/// </summary>
public class AsciiFirstEncoderTests
{
    private static string Json(JavaScriptEncoder encoder, Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = encoder })) write(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void AssertSame(string text)
    {
        void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteString("v", text);
            w.WriteString(text, "v");
            w.WriteString("u", Encoding.UTF8.GetBytes(text));
            w.WriteEndObject();
        }
        Assert.Equal(Json(JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Write), Json(AsciiFirstEncoder.UnsafeRelaxed, Write));
    }

    [Fact]
    public void Every_code_unit_alone_and_inside_ascii_text_is_written_as_the_wrapped_encoder_writes_it()
    {
        for (var c = 0; c <= char.MaxValue; c++)
        {
            var ch = (char)c;
            AssertSame(ch.ToString());
            AssertSame("name_" + ch + "/path{{x}}");
        }
    }

    [Fact]
    public void The_first_character_to_escape_is_found_where_the_wrapped_encoder_finds_it()
    {
        var random = new Random(16);
        var pieces = new[] { "a", "Z", "0", " ", "/", "{", "}", "\"", "\\", "<", ">", "&", "'", "+", "`", "\n", "\t", "\u0001", "\u007f",
            "é", "ü", "\u00a0", "\u2028", "\u2029", "中", "😀", "\ud800", "\udc00", "\ufffd", "\ufeff" };
        var encoder = AsciiFirstEncoder.UnsafeRelaxed;
        for (var n = 0; n < 20000; n++)
        {
            var sb = new StringBuilder();
            var length = random.Next(0, 40);
            for (var i = 0; i < length; i++) sb.Append(pieces[random.Next(pieces.Length)]);
            var text = sb.ToString();
            AssertSame(text);
            Assert.Equal(FirstToEncode(JavaScriptEncoder.UnsafeRelaxedJsonEscaping, text), FirstToEncode(encoder, text));
            var utf8 = Encoding.UTF8.GetBytes(text);
            Assert.Equal(JavaScriptEncoder.UnsafeRelaxedJsonEscaping.FindFirstCharacterToEncodeUtf8(utf8), encoder.FindFirstCharacterToEncodeUtf8(utf8));
            Assert.Equal(JavaScriptEncoder.UnsafeRelaxedJsonEscaping.Encode(text), encoder.Encode(text));
        }
    }

    private static unsafe int FirstToEncode(JavaScriptEncoder encoder, string text)
    {
        fixed (char* p = text) return encoder.FindFirstCharacterToEncode(p, text.Length);
    }
}
