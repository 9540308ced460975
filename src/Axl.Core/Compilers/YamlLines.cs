using System.Text;

namespace Axl.Compilers;

public static partial class CompilerYaml
{
    /// <summary>
    /// Chars of each buffer <see cref="Keep"/> fills: 64 KiB, under the large object heap's threshold (85,000 bytes), as
    /// 20 MB of large arrays in a compile counted against the large object budget and made the full collections of
    /// the engine's heap come sooner (the part documents, written next, took longer); a young collection moves a
    /// buffer as one copy.
    /// </summary>
    private const int KeptChunkChars = 32 * 1024;

    [ThreadStatic] private static char[]? _keptChunk;
    [ThreadStatic] private static int _keptUsed;

    /// <summary>
    /// <paramref name="text"/>'s chars copied into a buffer of the thread, filled text after text and never reused:
    /// for texts kept to the end of a compile (a split compile's 10,000 step templates and tasks, 11 MB). As 20,000
    /// strings each collection during the compile moved every new one on its own; a few hundred buffers move as blocks.
    /// </summary>
    internal static ReadOnlyMemory<char> Keep(StringBuilder text)
    {
        var length = text.Length;
        if (length > KeptChunkChars / 4) return text.ToString().AsMemory(); // a rare long text: a buffer of its own
        if (_keptChunk is null || KeptChunkChars - _keptUsed < length)
        {
            _keptChunk = new char[KeptChunkChars];
            _keptUsed = 0;
        }
        var kept = _keptChunk.AsMemory(_keptUsed, length);
        text.CopyTo(0, kept.Span, length);
        _keptUsed += length;
        return kept;
    }

    /// <summary>
    /// Block YAML written line by line by a compiler that knows the shape of the map it writes, with no tree of maps and
    /// lists made first: a split Argo compile writes 10,000 step templates, and building each as a tree only to walk it
    /// once was most of its time and garbage. The text is what <see cref="Render"/> gives for the same tree (a map as a
    /// list item, its first entry right after the "- " that is not part of the text): the same structure and the same
    /// scalar styling (<see cref="StyleOf"/>); the compiler's tests compare the two on every step of every golden workflow.
    /// A value that is not printable ASCII leaves the text unusable (<see cref="Kept"/> is null): the caller then builds
    /// the tree, whose YamlDotNet path handles it.
    /// </summary>
    internal sealed class Lines
    {
        private readonly StringBuilder _sb = new(4 * 1024);
        private bool _ok;
        private bool _inline;

        /// <summary>The thread's writer (one at a time: callers take it, write one map and read <see cref="Kept"/>).</summary>
        [ThreadStatic] private static Lines? _current;

        /// <summary>The thread's writer, cleared for a map written as a list item (its first entry without indent).</summary>
        public static Lines Start()
        {
            var w = _current ??= new Lines();
            w._sb.Clear();
            w._ok = true;
            w._inline = true;
            return w;
        }

        /// <summary>The map's text copied into the thread's kept buffers (<see cref="Keep"/>), or null when a value was left to YamlDotNet.</summary>
        public ReadOnlyMemory<char>? Kept => _ok ? Keep(_sb) : null;

        /// <summary>"key:" (a nested map or a non-empty list follows on the next lines). <paramref name="key"/> is a plain literal.</summary>
        public Lines Key(int indent, string key)
        {
            Indent(indent);
            _sb.Append(key).Append(':').Append(NewLine);
            return this;
        }

        /// <summary>"key: value", the value styled as a scalar. <paramref name="key"/> is a plain literal.</summary>
        public Lines Pair(int indent, string key, string value)
        {
            Indent(indent);
            _sb.Append(key).Append(": ");
            return Value(value);
        }

        /// <summary>"- value": a scalar as a list item (a string, or a text in a buffer such as a manifest's JSON).</summary>
        public Lines Item(int indent, ReadOnlySpan<char> value)
        {
            AppendSpaces(_sb, indent).Append("- ");
            return Value(value);
        }

        /// <summary>"- key: value": the first entry of a map that is a list item (its other entries at indent + 2).</summary>
        public Lines ItemPair(int indent, string key, string value)
        {
            AppendSpaces(_sb, indent).Append("- ").Append(key).Append(": ");
            return Value(value);
        }

        private void Indent(int indent)
        {
            if (_inline) _inline = false;
            else AppendSpaces(_sb, indent);
        }

        private Lines Value(ReadOnlySpan<char> value)
        {
            if (Printable(value)) AppendScalar(_sb, value);
            else _ok = false;
            _sb.Append(NewLine);
            return this;
        }
    }
}
