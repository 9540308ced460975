using System.Collections;
using System.Text;

namespace Axl.IO;

/// <summary>
/// UTF-8 text without BOM. A string is written as is; an enumerable (an array of lines, a list) is one line per item,
/// each ended by "\n"; any other value is its culture-invariant text; null is an empty file.
/// Read gives the whole text as one string (a BOM, if a file has one, is dropped).
/// </summary>
public sealed class TextIoHandler : IAxlIoHandler
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public string Name => "text";
    public string Extension => ".txt";
    public string Description => "UTF-8 text";

    public void Write(object? value, Stream destination)
    {
        using var w = new StreamWriter(destination, Utf8NoBom, bufferSize: TextBuffer.WriterChars, leaveOpen: true);
        value = PsValues.Unwrap(value);
        switch (value)
        {
            case null: return;
            case string s: w.Write(s); return;
            case IEnumerable items when value is not IDictionary && !PsValues.IsPropertyBag(value, out _):
                foreach (var item in items)
                {
                    w.Write(PsValues.ToInvariantString(item));
                    w.Write('\n');
                }
                return;
            default: w.Write(PsValues.ToInvariantString(value)); return;
        }
    }

    public object? Read(Stream source)
    {
        using var reader = new StreamReader(source, Utf8NoBom, detectEncodingFromByteOrderMarks: true, bufferSize: TextBuffer.ReaderBytes(source), leaveOpen: true);
        return reader.ReadToEnd();
    }
}
