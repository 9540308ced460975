using System.Collections;
using System.Management.Automation;
using System.Text;

namespace Axl.IO;

/// <summary>
/// PowerShell CLIXML through PSSerializer (the serializer of remoting and Export-Clixml), UTF-8 without BOM: any object,
/// type-faithful as PowerShell understands it (primitive types, dates, hashtables, PSCustomObjects and property bags
/// of other objects, "Deserialized." type names). Objects nested deeper than <see cref="Depth"/> are written as their text.
/// Read: an array written at the top level comes back as object[] (PSSerializer would give a PSObject over an ArrayList).
/// </summary>
public sealed class ClixmlIoHandler : IAxlIoHandler
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public ClixmlIoHandler(int depth = 64)
    {
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), depth, "The CLIXML depth must be at least 1.");
        Depth = depth;
    }

    /// <summary>Serialization depth given to PSSerializer.</summary>
    public int Depth { get; }

    public string Name => "clixml";
    public string Extension => ".clixml";
    public string Description => "PowerShell CLIXML (PSSerializer): any object, type-faithful";

    public void Write(object? value, Stream destination)
    {
        var xml = PSSerializer.Serialize(value, Depth);
        using var w = new StreamWriter(destination, Utf8NoBom, bufferSize: 1 << 16, leaveOpen: true);
        w.Write(xml);
    }

    public object? Read(Stream source)
    {
        string xml;
        using (var reader = new StreamReader(source, Utf8NoBom, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true))
            xml = reader.ReadToEnd();
        if (xml.Length == 0) throw new InvalidDataException("The CLIXML artifact is empty; a CLIXML file always holds at least <Objs>.");
        var value = PSSerializer.Deserialize(xml);
        if (value is PSObject { BaseObject: ArrayList list } pso && pso.TypeNames.Count > 0
            && pso.TypeNames[0].StartsWith("Deserialized.", StringComparison.Ordinal) && pso.TypeNames[0].EndsWith("[]", StringComparison.Ordinal))
            return list.ToArray();
        return value;
    }
}
