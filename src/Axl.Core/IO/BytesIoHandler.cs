using System.Collections;
using System.Management.Automation;

namespace Axl.IO;

/// <summary>
/// Raw bytes: a byte[] (or ArraySegment/Memory of bytes, or an enumerable of bytes such as the object[] PowerShell makes of a
/// byte[] sent down a pipeline) or a Stream (from its current position) written as is; a FileInfo (or a PSObject wrapping one,
/// as Get-Item returns) is copied through unchanged; null is an empty file. A string is refused: use the text handler.
/// Read gives a byte[].
/// </summary>
public sealed class BytesIoHandler : IAxlIoHandler
{
    public string Name => "bytes";
    public string Extension => ".bin";
    public string Description => "raw bytes or a file passed through as is";

    public void Write(object? value, Stream destination)
    {
        value = PsValues.Unwrap(value);
        switch (value)
        {
            case null: return;
            case byte[] bytes: destination.Write(bytes, 0, bytes.Length); return;
            case ArraySegment<byte> segment: destination.Write(segment.AsSpan()); return;
            case ReadOnlyMemory<byte> rom: destination.Write(rom.Span); return;
            case Memory<byte> mem: destination.Write(mem.Span); return;
            case Stream stream: stream.CopyTo(destination, 1 << 16); return;
            case FileInfo file:
                if (!file.Exists) throw new FileNotFoundException($"The bytes IO handler was given the file '{file.FullName}', which does not exist.", file.FullName);
                using (var input = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
                    input.CopyTo(destination, 1 << 16);
                return;
            case string:
                throw new ArgumentException("The bytes IO handler does not write strings: their encoding would be a guess. Use the text IO handler (-IoHandler text) for text, or pass [System.Text.Encoding]::UTF8.GetBytes(...) or Get-Item <path> for bytes.");
            case IEnumerable items when value is not IDictionary && !PsValues.IsPropertyBag(value, out _):
                WriteEnumerable(items, destination);
                return;
            default:
                throw new ArgumentException($"The bytes IO handler writes a byte[], a Stream or a FileInfo (Get-Item <path>); got {PsValues.TypeName(value)}. Use the clixml or json handler for objects.");
        }
    }

    private static void WriteEnumerable(IEnumerable items, Stream destination)
    {
        var buffer = new byte[1 << 16];
        var n = 0;
        foreach (var item in items)
        {
            if (PsValues.Unwrap(item) is not byte b)
                throw new ArgumentException($"The bytes IO handler writes a sequence of bytes; the sequence holds {PsValues.TypeName(item) ?? "null"}. Cast it with [byte[]] or use another handler.");
            buffer[n++] = b;
            if (n == buffer.Length) { destination.Write(buffer, 0, n); n = 0; }
        }
        destination.Write(buffer, 0, n);
    }

    public object? Read(Stream source)
    {
        if (source.CanSeek)
        {
            var length = source.Length - source.Position;
            if (length > Array.MaxLength) throw new InvalidDataException($"The bytes artifact is {length} bytes, more than a byte[] can hold; read it with input mode 'path' instead.");
            var bytes = new byte[length];
            source.ReadExactly(bytes);
            return bytes;
        }
        using var buffer = new MemoryStream();
        source.CopyTo(buffer);
        return buffer.ToArray();
    }
}
