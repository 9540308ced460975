using System.Management.Automation;

namespace Axl;

/// <summary>
/// Names as Get-Job and Get-ChildItem take them: each name may hold wildcards (matched case-insensitively with
/// <see cref="WildcardPattern"/>); a name without wildcards that matched nothing is reported as not found (the
/// cmdlet writes an ObjectNotFound error for it), one with wildcards that matched nothing is simply empty.
/// No names (null or empty) match everything. Matching is recorded, so ask <see cref="Unmatched"/> after the filter
/// has seen every candidate.
/// </summary>
public sealed class NameFilter
{
    private readonly (string Text, WildcardPattern Pattern, bool Literal)[] _names;
    private readonly bool[] _matched;

    public NameFilter(IEnumerable<string>? names)
    {
        _names = (names ?? Array.Empty<string>())
            .Where(n => n is not null)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(n => (n, WildcardPattern.Get(n, WildcardOptions.IgnoreCase), !WildcardPattern.ContainsWildcardCharacters(n)))
            .ToArray();
        _matched = new bool[_names.Length];
    }

    /// <summary>A filter of one name, or of everything when <paramref name="name"/> is null.</summary>
    public static NameFilter Of(string? name) => new(name is null ? null : new[] { name });

    /// <summary>True when no names were given (everything matches).</summary>
    public bool MatchesAll => _names.Length == 0;

    /// <summary>Whether <paramref name="candidate"/> matches any of the names; records which names matched it.</summary>
    public bool IsMatch(string candidate)
    {
        if (_names.Length == 0) return true;
        var any = false;
        for (var i = 0; i < _names.Length; i++)
        {
            if (!_names[i].Pattern.IsMatch(candidate)) continue;
            _matched[i] = true;
            any = true;
        }
        return any;
    }

    /// <summary>Whether <paramref name="candidate"/> matches any of the names, without recording it.</summary>
    public bool Test(string candidate) => _names.Length == 0 || _names.Any(n => n.Pattern.IsMatch(candidate));

    /// <summary>The names without wildcards that matched nothing so far, in the order given.</summary>
    public IReadOnlyList<string> Unmatched =>
        _names.Where((n, i) => n.Literal && !_matched[i]).Select(n => n.Text).ToList();

    /// <summary>Filters <paramref name="items"/> by <paramref name="nameOf"/>, recording matches (lazily, as they are read).</summary>
    public IEnumerable<T> Filter<T>(IEnumerable<T> items, Func<T, string> nameOf) => items.Where(item => IsMatch(nameOf(item)));
}
