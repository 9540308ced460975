using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Axl.Compilers;

/// <summary>
/// A map of a compiled tree whose YAML (<see cref="CompilerYaml.Render"/>'s text) was written before: the direct YAML
/// writer copies <see cref="Yaml"/> in where the map sits as a list item (as it is at <see cref="ItemIndent"/>, shifted
/// elsewhere), the same bytes as writing it again. Anything
/// else that reads the tree (JSON for the Kubernetes API, tests, the YamlDotNet path) sees the map itself, built again
/// by <c>build</c> on first use: a split compile keeps 10,000 step templates as one string each instead of as trees
/// of maps and lists that every garbage collection of the compile would copy.
/// </summary>
public sealed class RenderedMap : IDictionary<string, object?>, IReadOnlyDictionary<string, object?>
{
    private readonly Func<IDictionary<string, object?>> _build;
    private IDictionary<string, object?>? _map;

    /// <param name="yaml">
    /// The map's text as a list item at <paramref name="itemIndent"/> (<see cref="CompilerYaml.Render"/>'s, or a direct
    /// writer's), which may sit in a larger buffer (<see cref="CompilerYaml.Keep"/>: a split compile keeps 10,000
    /// step templates in a few large arrays that garbage collections do not copy, not in 10,000 strings that each
    /// collection of the compile copies once more).
    /// </param>
    /// <param name="itemIndent">The list item indent the text was written for.</param>
    /// <param name="build">Makes the same map again (a pure function of the compile's input).</param>
    public RenderedMap(ReadOnlyMemory<char> yaml, int itemIndent, Func<IDictionary<string, object?>> build)
    {
        Yaml = yaml;
        ItemIndent = itemIndent;
        _build = build;
    }

    /// <summary>The map's YAML as a list item at <see cref="ItemIndent"/>, without its "- ".</summary>
    public ReadOnlyMemory<char> Yaml { get; }

    /// <summary>The indent of the "- " the text was written for.</summary>
    public int ItemIndent { get; }

    // Built at most once per reader that needs it; building twice on two threads gives equal maps.
    private IDictionary<string, object?> Map => _map ??= _build();

    public object? this[string key]
    {
        get => Map[key];
        set => throw new NotSupportedException("a rendered map is read-only: its YAML was written already");
    }

    public int Count => Map.Count;
    public bool IsReadOnly => true;
    public ICollection<string> Keys => Map.Keys;
    public ICollection<object?> Values => Map.Values;
    IEnumerable<string> IReadOnlyDictionary<string, object?>.Keys => Map.Keys;
    IEnumerable<object?> IReadOnlyDictionary<string, object?>.Values => Map.Values;

    public bool ContainsKey(string key) => Map.ContainsKey(key);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value) => Map.TryGetValue(key, out value);
    public bool Contains(KeyValuePair<string, object?> item) => Map.Contains(item);
    public void CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex) => Map.CopyTo(array, arrayIndex);
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => Map.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Add(string key, object? value) => throw ReadOnly();
    public void Add(KeyValuePair<string, object?> item) => throw ReadOnly();
    public bool Remove(string key) => throw ReadOnly();
    public bool Remove(KeyValuePair<string, object?> item) => throw ReadOnly();
    public void Clear() => throw ReadOnly();

    private static NotSupportedException ReadOnly() => new("a rendered map is read-only: its YAML was written already");
}
