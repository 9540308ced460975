using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Axl.IO;

/// <summary>
/// JSON (UTF-8, System.Text.Json) of PowerShell values.
/// <para>Write: null, strings, bools, every numeric type (NaN and infinities as the strings "NaN", "Infinity", "-Infinity"),
/// DateTime/DateTimeOffset in ISO 8601, Guid, enums by name, TimeSpan ("c"), Uri, Version; dictionaries (hashtable,
/// ordered) as objects; PSCustomObjects as objects of their properties; a PSObject wrapping a .NET object as that object;
/// enumerables (not strings) as arrays; any other object as an object of its public readable properties.
/// Nesting deeper than <see cref="MaxDepth"/> and reference cycles are refused with an error naming the path.</para>
/// <para>Read: objects as PSCustomObjects (property order kept; a repeated key keeps its last value), arrays as object[],
/// integers that fit as long, other numbers as double, strings (dates stay strings), bools, null.</para>
/// </summary>
public sealed class JsonIoHandler : IAxlIoHandler
{
    public JsonIoHandler(int maxDepth = 64, bool indented = false)
    {
        if (maxDepth < 1) throw new ArgumentOutOfRangeException(nameof(maxDepth), maxDepth, "The JSON depth limit must be at least 1.");
        MaxDepth = maxDepth;
        Indented = indented;
    }

    /// <summary>Deepest nesting of objects and arrays written or read (the value itself, if an object or array, is level 1).</summary>
    public int MaxDepth { get; }
    public bool Indented { get; }

    public string Name => "json";
    public string Extension => ".json";
    public string Description => "JSON: objects, arrays, scalars";

    public void Write(object? value, Stream destination)
    {
        using var writer = new Utf8JsonWriter(destination, new JsonWriterOptions
        {
            Indented = Indented,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            MaxDepth = MaxDepth + 1,
        });
        new ValueWriter(writer, MaxDepth).Write(value);
        writer.Flush();
    }

    private sealed class ValueWriter(Utf8JsonWriter w, int maxDepth)
    {
        private readonly HashSet<object> _open = new(ReferenceEqualityComparer.Instance);
        // Path segments, formatted only for an error message: a property name, or an array index when Name is null.
        private readonly List<(string? Name, int Index)> _path = new();

        private string Path()
        {
            var sb = new StringBuilder("$");
            foreach (var (name, index) in _path)
                if (name is null) sb.Append('[').Append(index).Append(']');
                else if (IsIdentifier(name)) sb.Append('.').Append(name);
                else sb.Append("['").Append(name.Replace("'", "\\'")).Append("']");
            return sb.ToString();
        }

        public void Write(object? value)
        {
            if (PsValues.IsPropertyBag(value, out var bag))
            {
                Enter(bag);
                w.WriteStartObject();
                foreach (var p in bag.Properties)
                {
                    object? v;
                    try { v = p.IsGettable ? p.Value : null; }
                    catch (Exception) { v = null; }
                    Property(p.Name, v);
                }
                w.WriteEndObject();
                Leave(bag);
                return;
            }
            value = PsValues.Unwrap(value);
            if (value is null) { w.WriteNullValue(); return; }
            if (WriteScalar(value)) return;
            switch (value)
            {
                case IDictionary dict:
                    Enter(dict);
                    w.WriteStartObject();
                    foreach (DictionaryEntry e in dict) Property(PsValues.ToInvariantString(e.Key) ?? "", e.Value);
                    w.WriteEndObject();
                    Leave(dict);
                    return;
                case IEnumerable items:
                    Enter(items);
                    w.WriteStartArray();
                    var i = 0;
                    foreach (var item in items)
                    {
                        _path.Add((null, i++));
                        Write(item);
                        _path.RemoveAt(_path.Count - 1);
                    }
                    w.WriteEndArray();
                    Leave(items);
                    return;
                default:
                    Enter(value);
                    w.WriteStartObject();
                    foreach (var p in PsValues.Properties(value)) Property(p.Key, p.Value);
                    w.WriteEndObject();
                    Leave(value);
                    return;
            }
        }

        private void Property(string name, object? value)
        {
            w.WritePropertyName(name);
            _path.Add((name, 0));
            Write(value);
            _path.RemoveAt(_path.Count - 1);
        }

        private static bool IsIdentifier(string s) => s.Length > 0 && !char.IsDigit(s[0]) && s.All(c => char.IsLetterOrDigit(c) || c == '_');

        private void Enter(object container)
        {
            if (_open.Count >= maxDepth)
                throw new InvalidOperationException($"The json IO handler cannot write this value: it nests objects/arrays deeper than its depth limit of {maxDepth} (at {Path()}). Flatten the value, use the clixml handler, or register a JsonIoHandler with a larger maxDepth.");
            if (!_open.Add(container))
                throw new InvalidOperationException($"The json IO handler cannot write this value: it contains a reference cycle at {Path()} (an object that contains itself), which JSON cannot represent. Break the cycle or use the clixml handler.");
        }

        private void Leave(object container) => _open.Remove(container);

        private bool WriteScalar(object value)
        {
            switch (value)
            {
                case string s: w.WriteStringValue(s); return true;
                case bool b: w.WriteBooleanValue(b); return true;
                case char c: w.WriteStringValue(c.ToString()); return true;
                case Enum e: w.WriteStringValue(e.ToString()); return true;
                case sbyte or short or int or long: w.WriteNumberValue(System.Convert.ToInt64(value, CultureInfo.InvariantCulture)); return true;
                case byte or ushort or uint or ulong: w.WriteNumberValue(System.Convert.ToUInt64(value, CultureInfo.InvariantCulture)); return true;
                case nint n: w.WriteNumberValue((long)n); return true;
                case nuint n: w.WriteNumberValue((ulong)n); return true;
                case decimal m: w.WriteNumberValue(m); return true;
                case float f:
                    if (float.IsFinite(f)) w.WriteNumberValue(f); else w.WriteStringValue(NonFinite(f));
                    return true;
                case double d:
                    if (double.IsFinite(d)) w.WriteNumberValue(d); else w.WriteStringValue(NonFinite(d));
                    return true;
                case BigInteger bi: w.WriteRawValue(bi.ToString(CultureInfo.InvariantCulture), skipInputValidation: true); return true;
                case DateTime dt: w.WriteStringValue(dt); return true;
                case DateTimeOffset dto: w.WriteStringValue(dto); return true;
                case Guid g: w.WriteStringValue(g); return true;
                case DateOnly or TimeOnly or TimeSpan or Uri or Version or Type:
                    w.WriteStringValue(PsValues.ToInvariantString(value)); return true;
                default: return false;
            }
        }

        private static string NonFinite(double d) => double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
    }

    public object? Read(Stream source)
    {
        try
        {
            using var doc = JsonDocument.Parse(source, new JsonDocumentOptions { MaxDepth = MaxDepth + 1 });
            return Convert(doc.RootElement);
        }
        catch (JsonException ex) when (ex.Message.Contains("depth", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"The JSON nests deeper than the json IO handler's depth limit of {MaxDepth}: {ex.Message} Register a JsonIoHandler with a larger maxDepth to read it.", ex);
        }
    }

    private static object? Convert(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var o = new PSObject();
                foreach (var p in e.EnumerateObject())
                {
                    if (p.Name.Length == 0)
                        throw new InvalidDataException("The JSON has a property with an empty name, which a PowerShell object cannot hold.");
                    var v = Convert(p.Value);
                    if (o.Properties[p.Name] is { } existing) existing.Value = v;
                    else o.Properties.Add(new PSNoteProperty(p.Name, v));
                }
                return o;
            case JsonValueKind.Array:
                var items = new object?[e.GetArrayLength()];
                var i = 0;
                foreach (var item in e.EnumerateArray()) items[i++] = Convert(item);
                return items;
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.Number:
                if (e.TryGetInt64(out var l)) return l;
                return e.TryGetDouble(out var d) ? d : double.Parse(e.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            default: return null;
        }
    }
}
