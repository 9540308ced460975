using System.Collections;
using System.Management.Automation;
using System.Linq.Expressions;
using System.Reflection;
using System.Text;
using System.Xml;

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

    /// <summary>
    /// Streams the XML to the destination as PowerShell's serializer produces it (the same characters as
    /// <c>PSSerializer.Serialize(value, Depth)</c>, which builds the whole document in a string first): PSSerializer's own
    /// serializer and XmlWriter settings over a UTF-8 writer. Where the engine lacks that serializer, PSSerializer.
    /// </summary>
    public void Write(object? value, Stream destination)
    {
        using var w = new StreamWriter(destination, Utf8NoBom, bufferSize: TextBuffer.WriterChars, leaveOpen: true);
        if (StreamingSerializer is { } serialize)
        {
            using var xw = XmlWriter.Create(w, new XmlWriterSettings
            {
                CloseOutput = false, Encoding = Encoding.Unicode, Indent = true, OmitXmlDeclaration = true,
            });
            serialize(xw, value, Depth);
            xw.Flush();
            StreamedWrites++;
            return;
        }
        w.Write(PSSerializer.Serialize(value, Depth));
    }

    /// <summary>The streaming serializer is compiled (and checked against PSSerializer) once per process: here, ahead of the first write.</summary>
    public void Prepare() => _ = StreamingSerializer;

    /// <summary>Writes streamed through the engine's serializer in this process (for tests).</summary>
    internal static long StreamedWrites;

    /// <summary>(writer, value, depth) => { var s = new Serializer(writer, depth, true); s.Serialize(value); s.Done(); }, or null.</summary>
    internal static readonly Action<XmlWriter, object?, int>? StreamingSerializer = CompileSerializer();

    private static Action<XmlWriter, object?, int>? CompileSerializer()
    {
        try
        {
            const BindingFlags any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
            var type = typeof(PSSerializer).Assembly.GetType("System.Management.Automation.Serializer");
            var ctor = type?.GetConstructor(any, new[] { typeof(XmlWriter), typeof(int), typeof(bool) });
            var serialize = type?.GetMethod("Serialize", any, new[] { typeof(object) });
            var done = type?.GetMethod("Done", any, Type.EmptyTypes);
            if (ctor is null || serialize is null || done is null) return null;
            var xw = Expression.Parameter(typeof(XmlWriter), "xw");
            var value = Expression.Parameter(typeof(object), "value");
            var depth = Expression.Parameter(typeof(int), "depth");
            var s = Expression.Variable(type!, "s");
            var body = Expression.Block(new[] { s },
                Expression.Assign(s, Expression.New(ctor, xw, depth, Expression.Constant(true))),
                Expression.Call(s, serialize, value),
                Expression.Call(s, done));
            var compiled = Expression.Lambda<Action<XmlWriter, object?, int>>(body, xw, value, depth).Compile();
            // Trust it only if it writes what PSSerializer writes.
            var probe = new PSObject();
            probe.Properties.Add(new PSNoteProperty("a", new object[] { 1, "x", DateTime.UnixEpoch }));
            var sb = new StringBuilder();
            using (var w = XmlWriter.Create(sb, new XmlWriterSettings { Encoding = Encoding.Unicode, Indent = true, OmitXmlDeclaration = true }))
                compiled(w, probe, 8);
            return sb.ToString() == PSSerializer.Serialize(probe, 8) ? compiled : null;
        }
        catch (Exception) { return null; }
    }

    public object? Read(Stream source)
    {
        string xml;
        using (var reader = new StreamReader(source, Utf8NoBom, detectEncodingFromByteOrderMarks: true, bufferSize: TextBuffer.ReaderBytes(source), leaveOpen: true))
            xml = reader.ReadToEnd();
        if (xml.Length == 0) throw new InvalidDataException("The CLIXML artifact is empty; a CLIXML file always holds at least <Objs>.");
        var value = PSSerializer.Deserialize(xml);
        if (value is PSObject { BaseObject: ArrayList list } pso && pso.TypeNames.Count > 0
            && pso.TypeNames[0].StartsWith("Deserialized.", StringComparison.Ordinal) && pso.TypeNames[0].EndsWith("[]", StringComparison.Ordinal))
            return list.ToArray();
        return value;
    }
}
