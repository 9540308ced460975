using System.Collections;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;

namespace Axl.Compilers;

/// <summary>
/// YAML for Kubernetes documents, written at the edge from a tree of ordered maps, lists and scalars: keys in tree
/// order, no line folding, and every string that a YAML 1.1 reader (kubectl, the argo CLI) could take for another
/// type ("2", "true", "yes", "on", "1.0", "~") quoted, so integer-or-string fields stay strings.
/// <para>
/// Two writers give the same bytes: a direct block writer for the trees the compilers build (maps with string keys,
/// lists, booleans, whole numbers (int, long) and strings of printable ASCII: a 10,000-step Argo workflow is 10+ MB of YAML, and YamlDotNet's
/// reflective object walk takes seconds for it), and YamlDotNet's serializer for anything else (other scalar types,
/// nulls, non-ASCII or control characters, nested lists). Tests check the two agree on random trees.
/// </para>
/// </summary>
public static partial class CompilerYaml
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithIndentedSequences()
        .WithEventEmitter(next => new StringStyler(next))
        .WithTypeConverter(new PlainScalarConverter())
        .Build();

    /// <remarks>
    /// A <see cref="RenderedMap"/> that is a list item is copied in from its text instead of written again: the same
    /// bytes, as block YAML is the same text shifted right wherever it sits.
    /// </remarks>
    public static string Serialize(object tree) => BlockWriter.TryWrite(tree) ?? Serializer.Serialize(tree);

    /// <summary>Most characters a thread's document writer keeps between documents (a split compile's parts are about 200 KB each).</summary>
    private const int KeptDocumentChars = 1 << 20;

    /// <summary>
    /// The thread's writer for whole documents: its buffer grows to the largest document once and is then reused (a
    /// split compile writes its parts on each thread in turn), instead of a new builder grown block by block for each.
    /// </summary>
    [ThreadStatic] private static BlockWriter? _documentWriter;

    /// <summary>
    /// The direct writer's text of a map as a list item at <paramref name="itemIndent"/> (its "- " that many spaces in),
    /// for a <see cref="RenderedMap"/>: the first line without the "- ", every other line itemIndent + 2 spaces in, so a
    /// list at that indent copies it in as it is. Null when the map has something the direct writer leaves to YamlDotNet
    /// (then it cannot be copied in).
    /// </summary>
    public static string? Render(object tree, int itemIndent = 0)
    {
        var w = _measurer ??= new BlockWriter(4 * 1024);
        return w.RewriteItem(tree, itemIndent) ? w.Text : null;
    }

    /// <summary>
    /// The length (UTF-16 chars) and line breaks ('\n') of <see cref="Serialize"/>'s text, without keeping the text: the
    /// direct writer reuses one buffer per thread (a split compile measures tens of thousands of small trees).
    /// </summary>
    public static (long Chars, long Lines) Measure(object tree)
    {
        var w = _measurer ??= new BlockWriter(4 * 1024);
        if (w.Rewrite(tree)) return (w.Length, w.CountNewLines());
        var yaml = Serializer.Serialize(tree);
        long lines = 0;
        foreach (var c in yaml) if (c == '\n') lines++;
        return (yaml.Length, lines);
    }

    [ThreadStatic] private static BlockWriter? _measurer;

    /// <summary>The YamlDotNet path alone (the reference the direct writer is tested against).</summary>
    internal static string SerializeWithYamlDotNet(object tree) => Serializer.Serialize(tree);

    /// <summary>The direct writer alone: null when the tree has something it leaves to YamlDotNet.</summary>
    internal static string? SerializeDirect(object tree) => BlockWriter.TryWrite(tree);

    /// <summary>
    /// Block-style YAML as YamlDotNet writes it with indented sequences and no line width: "key: value", nested maps and
    /// lists two spaces in, list items as "- ", empty maps and lists as {} and [], scalars styled by <see cref="StyleOf"/>.
    /// </summary>
    private sealed class BlockWriter
    {
        /// <summary>Longer keys would be written by YamlDotNet as complex keys ("? key"); the compilers never make them.</summary>
        private const int MaxKeyLength = 128;
        private readonly StringBuilder _sb;

        public BlockWriter(int capacity) => _sb = new StringBuilder(capacity);

        public static string? TryWrite(object tree)
        {
            if (tree is not IDictionary<string, object?> root || root.Count == 0) return null;
            // Taken out while in use: a nested write (a RenderedMap built again by a writer elsewhere) makes its own.
            var w = _documentWriter ?? new BlockWriter(16 * 1024);
            _documentWriter = null;
            var text = w.Rewrite(root) ? w._sb.ToString() : null;
            if (w._sb.Capacity <= KeptDocumentChars) _documentWriter = w;
            return text;
        }

        public string Text => _sb.ToString();

        /// <summary>
        /// A map's text whose lines after the first are <paramref name="from"/> spaces in (<see cref="Render"/> at item
        /// indent from - 2), with those lines <paramref name="to"/> spaces in instead.
        /// </summary>
        private void AppendShifted(ReadOnlySpan<char> text, int from, int to)
        {
            var start = 0;
            var skip = 0;
            while (true)
            {
                var next = text[start..].IndexOf('\n');
                var end = next < 0 ? -1 : start + next;
                if (end < 0 || end == text.Length - 1)
                {
                    _sb.Append(text[(start + skip)..]);
                    return;
                }
                AppendSpaces(_sb.Append(text[(start + skip)..(end + 1)]), to);
                start = end + 1;
                skip = from;
            }
        }

        /// <summary>Writes <paramref name="tree"/> into this writer's cleared buffer; false when it is left to YamlDotNet.</summary>
        public bool Rewrite(object tree)
        {
            _sb.Clear();
            return tree is IDictionary<string, object?> { Count: > 0 } root && MapBody(root, 0, inline: false);
        }

        /// <summary>Writes map <paramref name="tree"/> as a list item at <paramref name="itemIndent"/>, without its "- ", into the cleared buffer.</summary>
        public bool RewriteItem(object tree, int itemIndent)
        {
            _sb.Clear();
            return tree is IDictionary<string, object?> { Count: > 0 } root && MapBody(root, itemIndent + 2, inline: true);
        }

        public int Length => _sb.Length;

        public long CountNewLines()
        {
            long lines = 0;
            foreach (var chunk in _sb.GetChunks()) lines += chunk.Span.Count('\n');
            return lines;
        }

        /// <summary>The entries of a non-empty map at <paramref name="indent"/>; the first one right after "- " when <paramref name="inline"/>.</summary>
        private bool MapBody(IDictionary<string, object?> map, int indent, bool inline)
        {
            var first = true;
            foreach (var (key, value) in map)
            {
                if (key.Length > MaxKeyLength || !Printable(key)) return false;
                if (!(first && inline)) AppendSpaces(_sb, indent);
                first = false;
                AppendScalar(key);
                _sb.Append(':');
                switch (value)
                {
                    case IDictionary<string, object?> { Count: 0 }: _sb.Append(" {}").Append(NewLine); break;
                    case IDictionary<string, object?> m:
                        _sb.Append(NewLine);
                        if (!MapBody(m, indent + 2, inline: false)) return false;
                        break;
                    case string or bool or int or long:
                        _sb.Append(' ');
                        if (!Scalar(value)) return false;
                        _sb.Append(NewLine);
                        break;
                    case IList { Count: 0 }: _sb.Append(" []").Append(NewLine); break;
                    case IList l:
                        _sb.Append(NewLine);
                        if (!Sequence(l, indent + 2)) return false;
                        break;
                    default: return false;
                }
            }
            return true;
        }

        private bool Sequence(IList list, int indent)
        {
            foreach (var item in list)
            {
                AppendSpaces(_sb, indent).Append("- ");
                switch (item)
                {
                    case RenderedMap r when r.ItemIndent == indent:
                        _sb.Append(r.Yaml);
                        break;
                    case RenderedMap r:
                        AppendShifted(r.Yaml.Span, r.ItemIndent + 2, indent + 2);
                        break;
                    case IDictionary<string, object?> { Count: 0 }: _sb.Append("{}").Append(NewLine); break;
                    case IDictionary<string, object?> m:
                        if (!MapBody(m, indent + 2, inline: true)) return false;
                        break;
                    case string or bool or int or long:
                        if (!Scalar(item)) return false;
                        _sb.Append(NewLine);
                        break;
                    case IList { Count: 0 }: _sb.Append("[]").Append(NewLine); break;
                    default: return false; // nested lists, nulls, other scalar types
                }
            }
            return true;
        }

        private bool Scalar(object? value)
        {
            if (value is bool b) { _sb.Append(b ? "true" : "false"); return true; }
            // Whole numbers as YamlDotNet writes them, plain (a split parent's parallelism: without them that document,
            // the last of a compile, went to YamlDotNet, whose first use in a fresh process costs tens of milliseconds).
            if (value is int i) { _sb.Append(i.ToString(System.Globalization.CultureInfo.InvariantCulture)); return true; }
            if (value is long l) { _sb.Append(l.ToString(System.Globalization.CultureInfo.InvariantCulture)); return true; }
            var s = (string)value!;
            if (!Printable(s)) return false;
            AppendScalar(s);
            return true;
        }

        private void AppendScalar(string s) => CompilerYaml.AppendScalar(_sb, s);
    }

    /// <summary>Spaces enough for any indent of the compilers' documents, copied from (<see cref="AppendSpaces"/>).</summary>
    private static readonly string Spaces = new(' ', 256);

    /// <summary>
    /// <paramref name="count"/> spaces, copied from <see cref="Spaces"/>: StringBuilder.Append(' ', count) fills them with
    /// vector code that runs unoptimised (the JIT's first tier) in a fresh process, and every line of a compile's YAML
    /// starts with an indent (about 600,000 lines for a split 10,000-step workflow).
    /// </summary>
    private static StringBuilder AppendSpaces(StringBuilder sb, int count) =>
        count <= Spaces.Length ? sb.Append(Spaces, 0, count) : sb.Append(' ', count);

    /// <summary>YamlDotNet's default line break (EmitterSettings.NewLine).</summary>
    private static readonly string NewLine = Environment.NewLine;

    /// <summary>A printable string as the direct writers write a key or value: plain, single-quoted or double-quoted by <see cref="StyleOf"/>.</summary>
    private static void AppendScalar(StringBuilder sb, ReadOnlySpan<char> s)
    {
        switch (StyleOf(s))
        {
            case ScalarStyle.Plain:
                sb.Append(s);
                break;
            case ScalarStyle.SingleQuoted:
                sb.Append('\'');
                AppendEscaped(sb, s, '\'', "''", null, null);
                sb.Append('\'');
                break;
            default:
                sb.Append('"');
                AppendEscaped(sb, s, '"', "\\\"", '\\', "\\\\");
                sb.Append('"');
                break;
        }
    }

    private static void AppendEscaped(StringBuilder sb, ReadOnlySpan<char> s, char c1, string r1, char? c2, string? r2)
    {
        // Most strings (names, paths, a manifest's JSON in single quotes) have nothing to escape: one vectorized look.
        if (c2 is null ? s.IndexOf(c1) < 0 : s.IndexOfAny(c1, c2.Value) < 0)
        {
            sb.Append(s);
            return;
        }
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c != c1 && c != c2) continue;
            sb.Append(s[start..i]).Append(c == c1 ? r1 : r2);
            start = i + 1;
        }
        sb.Append(s[start..]);
    }

    /// <summary>Printable ASCII only (space to '~'): anything else (control characters, non-ASCII) goes through YamlDotNet.</summary>
    private static bool Printable(ReadOnlySpan<char> s) => s.IndexOfAnyExceptInRange(' ', '~') < 0;

    /// <summary>Plain when unambiguous in YAML 1.1 and 1.2; single quotes for one-line text; double quotes (with escapes) otherwise.</summary>
    private sealed class StringStyler(IEventEmitter next) : ChainedEventEmitter(next)
    {
        public override void Emit(ScalarEventInfo e, IEmitter emitter)
        {
            if (e.Source.Value is string s) e.Style = StyleOf(s);
            base.Emit(e, emitter);
        }
    }

    /// <summary>Writes a <see cref="PlainScalar"/> as its text, unquoted.</summary>
    private sealed class PlainScalarConverter : IYamlTypeConverter
    {
        public bool Accepts(Type type) => type == typeof(PlainScalar);
        public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer) => throw new NotSupportedException();
        public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
            emitter.Emit(new YamlDotNet.Core.Events.Scalar(null, null, ((PlainScalar)value!).Text, ScalarStyle.Plain, true, false));
    }

    /// <summary>The words a YAML 1.1 reader takes for booleans or null, in any case.</summary>
    private static readonly string[] Yaml11Words = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

    /// <summary>The longest of <see cref="Yaml11Words"/>: a longer string is none of them, known without comparing (every key and value is styled).</summary>
    private static readonly int LongestYaml11Word = Yaml11Words.Max(w => w.Length);

    /// <summary>
    /// One of <see cref="Yaml11Words"/> (any case): compared only for a text short enough that starts as one of them
    /// does (y, n, o, t or f), so the many short names and values of a compile (s1 ... s9999, main-dag) are not.
    /// </summary>
    private static bool IsYaml11Word(ReadOnlySpan<char> s)
    {
        if (s.Length > LongestYaml11Word || s.IsEmpty || (char)(s[0] | 0x20) is not ('y' or 'n' or 'o' or 't' or 'f')) return false;
        foreach (var word in Yaml11Words)
            if (s.Equals(word, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <remarks>
    /// Plain when <see cref="SafePlain"/> and the text neither ends with ':' or ' ' nor has ": " or "  " (its one pass
    /// finds those too) nor is a YAML 1.1 word; " #" needs no look, as '#' is never in a safe plain text.
    /// </remarks>
    internal static ScalarStyle StyleOf(string s) => StyleOf(s.AsSpan());

    /// <summary><see cref="StyleOf(string)"/> of a text in a buffer (a step manifest's JSON, written without a string of its own).</summary>
    internal static ScalarStyle StyleOf(ReadOnlySpan<char> s)
    {
        if (ScanPlain(s, out var spaceAfterColonOrSpace) && !spaceAfterColonOrSpace && s[^1] is not (':' or ' ')
            && !IsYaml11Word(s)) return ScalarStyle.Plain;
        var oneLine = s.Length > 0 && s[0] != ' ' && s[^1] != ' ' && !HasControl(s);
        if (!oneLine) return ScalarStyle.DoubleQuoted;
        return s.Contains('\'') && !s.Contains('"') && !s.Contains('\\') ? ScalarStyle.DoubleQuoted : ScalarStyle.SingleQuoted;
    }

    /// <summary>Any control character (char.IsControl: U+0000–U+001F, U+007F–U+009F).</summary>
    private static bool HasControl(ReadOnlySpan<char> s) =>
        s.IndexOfAnyInRange('\u0000', '\u001F') >= 0 || s.IndexOfAnyInRange('\u007F', '\u009F') >= 0;

    /// <summary>
    /// Starts with a letter, '/', '_' or "-"/"--" and a letter; then letters, digits, spaces and _ . / : @ + = , ( ) -
    /// (block context only: the writer never uses flow style); ": ", " #" and double spaces are excluded by the caller.
    /// What the pattern <c>^(--?[A-Za-z]|[A-Za-z_/])[A-Za-z0-9 _./:@+=,()-]*$</c> matches (its <c>$</c> also before one
    /// final '\n'), without a regex: every key and value of a compile's YAML is styled (a test compares the two).
    /// </summary>
    internal static bool SafePlain(string s) => ScanPlain(s.AsSpan(), out _);

    /// <summary>
    /// <see cref="SafePlain"/> in one pass over the text, which also tells whether a ' ' follows a ':' or a ' ' in it
    /// (<paramref name="spaceAfterColonOrSpace"/>, meaningful when the text is safe). A loop over a table, not a
    /// vectorised search: every key and value of a compile's YAML is styled, most of them short, and the inbox searches
    /// run unoptimised (the JIT's first tier) for the whole life of a fresh process.
    /// </summary>
    private static bool ScanPlain(ReadOnlySpan<char> s, out bool spaceAfterColonOrSpace)
    {
        spaceAfterColonOrSpace = false;
        var text = s;
        if (text.Length > 0 && text[^1] == '\n') text = text[..^1];
        if (text.IsEmpty) return false;
        int rest;
        if (text[0] == '-')
        {
            var letter = text.Length > 1 && text[1] == '-' ? 2 : 1;
            if (letter >= text.Length || !char.IsAsciiLetter(text[letter])) return false;
            rest = letter + 1;
        }
        else if (char.IsAsciiLetter(text[0]) || text[0] is '_' or '/') rest = 1;
        else return false;
        // The first 'rest' chars are '-', letters, '_' or '/': no pair of interest starts there.
        var table = PlainChars;
        var previous = text[rest - 1];
        for (var i = rest; i < text.Length; i++)
        {
            var c = text[i];
            if (c >= 128 || !table[c]) return false;
            if (c == ' ' && previous is (':' or ' ')) spaceAfterColonOrSpace = true;
            previous = c;
        }
        return true;
    }

    /// <summary>For each ASCII character, whether a plain scalar may hold it after its first: letters, digits and " _./:@+=,()-".</summary>
    private static readonly bool[] PlainChars = MakePlainChars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 _./:@+=,()-");

    private static bool[] MakePlainChars(string chars)
    {
        var table = new bool[128];
        foreach (var c in chars) table[c] = true;
        return table;
    }
}
