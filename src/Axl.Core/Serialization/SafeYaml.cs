using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Axl.Serialization;

/// <summary>A YAML document Axl will not read: the message starts with file:line:col and ends with what to fix.</summary>
public sealed class AxlYamlException(string message, string origin, int line, int column) : Exception(message)
{
    public string Origin { get; } = origin;
    public int Line { get; } = line;
    public int Column { get; } = column;
}

/// <summary>Bounds on a YAML document a user gives Axl: bytes, nesting depth and nodes. Aliases are always refused.</summary>
public sealed record YamlLimits
{
    public static readonly YamlLimits Default = new();

    /// <summary>Largest document, in bytes (default 4 MiB).</summary>
    public long MaxBytes { get; init; } = 4L * 1024 * 1024;
    /// <summary>Deepest nesting of sequences and mappings (default 64).</summary>
    public int MaxDepth { get; init; } = 64;
    /// <summary>Most scalars, sequences and mappings in the document (default 100,000).</summary>
    public int MaxNodes { get; init; } = 100_000;
}

/// <summary>A YAML mapping as read: keys (strings) in document order.</summary>
public sealed class YamlMap : List<KeyValuePair<string, object?>>;

/// <summary>
/// The one way Axl reads YAML that a user wrote (parameter files): YamlDotNet's parser, event by event, into plain
/// values (null, bool, long, double, string, object?[] for sequences, <see cref="YamlMap"/> for mappings).
/// Refused, each with file:line:col and the fix: syntax errors (an unclosed [ or {, tabs as indentation), keys that
/// are not scalars, duplicate keys, more than one document, tags other than YAML's own, aliases (*name: a
/// billion-laughs document expands them exponentially), and documents over the <see cref="YamlLimits"/>.
/// Nothing from the parser escapes as anything but <see cref="AxlYamlException"/>.
/// </summary>
public static class SafeYaml
{
    private const string Hint = "write one 'name: value' per line, indent with spaces, close every [ and {, and quote values that hold ': ' or ' #'";

    /// <summary>Reads a YAML file, refusing one larger than the limit before reading it.</summary>
    public static object? LoadFile(string path, YamlLimits? limits = null)
    {
        limits ??= YamlLimits.Default;
        var size = new FileInfo(path).Length;
        if (size > limits.MaxBytes)
            throw new AxlYamlException($"{path}: the file is {size:N0} bytes; Axl reads YAML files of at most {limits.MaxBytes:N0} bytes. Fix: make it smaller (it should hold values, not data).", path, 0, 0);
        return Load(File.ReadAllText(path), path, limits);
    }

    /// <summary>Reads one YAML document; an empty one is null.</summary>
    public static object? Load(string text, string origin, YamlLimits? limits = null)
    {
        limits ??= YamlLimits.Default;
        if (Encoding.UTF8.GetByteCount(text) > limits.MaxBytes)
            throw new AxlYamlException($"{origin}: the document is over {limits.MaxBytes:N0} bytes, the most Axl reads. Fix: make it smaller (it should hold values, not data).", origin, 0, 0);
        var parser = new Parser(new StringReader(text));
        var lines = text.Split('\n');
        try
        {
            var reader = new Reader(parser, origin, limits);
            return reader.Stream();
        }
        catch (AxlYamlException) { throw; }
        catch (YamlException ex)
        {
            var line = (int)ex.Start.Line;
            var col = (int)ex.Start.Column;
            var message = ex.Message.TrimEnd('.');
            var hint = (ex.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) || LineHasTab(lines, line) || LineHasTab(lines, line - 1))
                ? "indent with spaces: YAML does not allow tabs for indentation"
                : ex.Message.Contains("flow sequence", StringComparison.OrdinalIgnoreCase) ? "close the [ ... ] list (and separate its items with commas), or quote the value"
                : ex.Message.Contains("flow mapping", StringComparison.OrdinalIgnoreCase) ? "close the { ... } mapping (and separate its entries with commas), or quote the value"
                : Hint;
            throw new AxlYamlException($"{origin}:{line}:{col}: not valid YAML: {message}. Fix: {hint}.", origin, line, col);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not StackOverflowException)
        {
            // YamlDotNet should only throw YamlException; whatever else it throws is still bad input, not a crash.
            var last = parser.Current?.Start ?? Mark.Empty;
            throw new AxlYamlException($"{origin}:{last.Line}:{last.Column}: not valid YAML ({ex.GetType().Name}: {ex.Message}). Fix: {Hint}.", origin, (int)last.Line, (int)last.Column);
        }
    }

    private static bool LineHasTab(string[] lines, int line) => line >= 1 && line <= lines.Length && lines[line - 1].TrimEnd('\r').Contains('\t');

    /// <summary>The tags of YAML's core schema; any other tag (!!python/object, !custom) is refused.</summary>
    private static readonly HashSet<string> CoreTags = new(StringComparer.Ordinal)
    {
        "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map",
    };

    private sealed class Reader(IParser parser, string origin, YamlLimits limits)
    {
        private int _nodes;

        private AxlYamlException Error(Mark at, string what, string fix) =>
            new($"{origin}:{at.Line}:{at.Column}: {what}. Fix: {fix}.", origin, (int)at.Line, (int)at.Column);

        public object? Stream()
        {
            parser.Consume<StreamStart>();
            object? result = null;
            var documents = 0;
            while (!parser.TryConsume<StreamEnd>(out _))
            {
                var start = parser.Consume<DocumentStart>();
                if (++documents > 1)
                    throw Error(start.Start, "the file holds more than one YAML document (a second '---')", "keep one document: remove the '---' line and what follows, or merge the two");
                result = parser.Accept<DocumentEnd>(out _) ? null : Node(0);
                parser.Consume<DocumentEnd>();
            }
            return result;
        }

        private object? Node(int depth)
        {
            var current = parser.Current ?? throw new YamlException("unexpected end of the document");
            if (current is AnchorAlias alias)
                throw Error(alias.Start, $"an alias (*{alias.Value}) is not allowed",
                    "write the value out in full where it is used: Axl refuses YAML aliases (and so merge keys '<<'), which can expand a small file into gigabytes");
            if (++_nodes > limits.MaxNodes)
                throw Error(current.Start, $"the document has more than {limits.MaxNodes:N0} values, the most Axl reads", "make it smaller: it should hold values, not data");
            if (current is NodeEvent { Tag: var tag } node && !tag.IsEmpty && !tag.IsNonSpecific && !CoreTags.Contains(tag.Value))
                throw Error(node.Start, $"the tag '{tag.Value}' is not allowed", "remove the tag: Axl reads plain YAML values only");
            switch (current)
            {
                case Scalar s:
                    parser.MoveNext();
                    return ScalarValue(s);
                case SequenceStart seq:
                {
                    if (depth + 1 > limits.MaxDepth)
                        throw Error(seq.Start, $"the document nests deeper than {limits.MaxDepth} levels, the most Axl reads", "flatten it");
                    parser.MoveNext();
                    var items = new List<object?>();
                    while (!parser.TryConsume<SequenceEnd>(out _)) items.Add(Node(depth + 1));
                    return items.ToArray();
                }
                case MappingStart map:
                {
                    if (depth + 1 > limits.MaxDepth)
                        throw Error(map.Start, $"the document nests deeper than {limits.MaxDepth} levels, the most Axl reads", "flatten it");
                    parser.MoveNext();
                    var result = new YamlMap();
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    while (!parser.TryConsume<MappingEnd>(out _))
                    {
                        var keyEvent = parser.Current!;
                        if (keyEvent is AnchorAlias) Node(depth + 1); // refused with its own message
                        if (keyEvent is not Scalar keyScalar)
                            throw Error(keyEvent.Start, $"a key must be a name, not a {(keyEvent is SequenceStart ? "list" : "mapping")}",
                                "write 'name: value' with a plain name before the colon; quote the name if it starts with [ or {");
                        _nodes++;
                        parser.MoveNext();
                        var key = keyScalar.Value;
                        if (key.Length == 0)
                            throw Error(keyScalar.Start, "a key is empty", "give every value a name: 'name: value'");
                        if (!seen.Add(key))
                            throw Error(keyScalar.Start, $"the key '{key}' appears twice in this mapping", $"keep one '{key}:' line");
                        result.Add(new KeyValuePair<string, object?>(key, Node(depth + 1)));
                    }
                    return result;
                }
                default:
                    throw Error(current.Start, $"unexpected {current.GetType().Name}", Hint);
            }
        }

        private static object? ScalarValue(Scalar s)
        {
            if (!s.Tag.IsEmpty && !s.Tag.IsNonSpecific)
            {
                if (s.Tag.Value == "tag:yaml.org,2002:str") return s.Value;
                if (s.Tag.Value == "tag:yaml.org,2002:null") return null;
            }
            if (s.Style != ScalarStyle.Plain) return s.Value;
            return Plain(s.Value);
        }
    }

    /// <summary>A plain (unquoted) scalar as YAML's core schema reads it: null, true/false, a whole number, a number, else text.</summary>
    public static object? Plain(string? v)
    {
        if (v is null || v is "~" or "null" or "Null" or "NULL" or "") return null;
        if (v is "true" or "True" or "TRUE") return true;
        if (v is "false" or "False" or "FALSE") return false;
        if (long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return l;
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        return v;
    }
}
