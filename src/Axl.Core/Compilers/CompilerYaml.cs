using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;

namespace Axl.Compilers;

/// <summary>
/// YAML for Kubernetes documents, written at the edge from a tree of ordered maps, lists and scalars: keys in tree
/// order, no line folding, and every string that a YAML 1.1 reader (kubectl, the argo CLI) could take for another
/// type ("2", "true", "yes", "on", "1.0", "~") quoted, so integer-or-string fields stay strings.
/// </summary>
public static partial class CompilerYaml
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithIndentedSequences()
        .WithEventEmitter(next => new StringStyler(next))
        .WithTypeConverter(new PlainScalarConverter())
        .Build();

    public static string Serialize(object tree) => Serializer.Serialize(tree);

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

    private static readonly HashSet<string> Yaml11Words = new(StringComparer.OrdinalIgnoreCase)
    {
        "y", "n", "yes", "no", "on", "off", "true", "false", "null",
    };

    internal static ScalarStyle StyleOf(string s)
    {
        if (SafePlain().IsMatch(s) && !s.EndsWith(':') && !s.EndsWith(' ') && !s.Contains(": ", StringComparison.Ordinal) && !s.Contains(" #", StringComparison.Ordinal)
            && !s.Contains("  ", StringComparison.Ordinal) && !Yaml11Words.Contains(s)) return ScalarStyle.Plain;
        var oneLine = s.Length > 0 && s[0] != ' ' && s[^1] != ' ' && !s.Any(char.IsControl);
        if (!oneLine) return ScalarStyle.DoubleQuoted;
        return s.Contains('\'') && !s.Contains('"') && !s.Contains('\\') ? ScalarStyle.DoubleQuoted : ScalarStyle.SingleQuoted;
    }

    /// <summary>
    /// Starts with a letter, '/', '_' or "-"/"--" and a letter; then letters, digits, single spaces and _ . / : @ + = , ( ) -
    /// (block context only: the writer never uses flow style); ": " and " #" are excluded by the caller.
    /// </summary>
    [GeneratedRegex(@"^(--?[A-Za-z]|[A-Za-z_/])[A-Za-z0-9 _./:@+=,()-]*$")]
    private static partial Regex SafePlain();
}
