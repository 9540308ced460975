using System.Text;
using System.Text.RegularExpressions;

namespace Axl.Delivery;

/// <summary>
/// Ignore patterns in gitignore syntax, matched against paths relative to the archive root with '/' separators.
/// </summary>
/// <remarks>
/// Supported: blank lines and '#' comments; '\' to escape a leading '#' or '!' or a trailing space; '!' to re-include;
/// a trailing '/' to match directories only; a '/' at the start or in the middle to anchor the pattern to the root
/// (otherwise it matches a name at any depth); '*', '?', '[a-z]' and '[!a-z]' classes; '**/' (any leading
/// directories), '/**' (everything inside) and '/**/' (zero or more directories). The last matching rule wins, and,
/// as in git, nothing inside an excluded directory can be re-included (the walk does not enter it).
/// Not supported: ignore files below the root (only the root's .gitignore and .axlignore are read),
/// .git/info/exclude, the global core.excludesFile, and core.ignoreCase (matching is case-sensitive).
/// </remarks>
public sealed class IgnoreRules
{
    private readonly List<Rule> _rules = new();

    private sealed record Rule(string Pattern, string Source, int Line, Regex Regex, bool Negated, bool DirectoryOnly);

    public int Count => _rules.Count;

    /// <summary>Adds the lines of an ignore file (or any list of patterns); <paramref name="source"/> names them in <see cref="Explain"/>.</summary>
    public IgnoreRules Add(IEnumerable<string> lines, string source)
    {
        int lineNo = 0;
        foreach (var raw in lines)
        {
            lineNo++;
            var rule = Parse(raw, source, lineNo);
            if (rule is not null) _rules.Add(rule);
        }
        return this;
    }

    public IgnoreRules Add(string pattern, string source = "options") => Add(new[] { pattern }, source);

    /// <summary>True when the path (relative, '/'-separated) is ignored. Parent directories are not consulted: the walk prunes them.</summary>
    public bool IsIgnored(string relativePath, bool isDirectory) => Match(relativePath, isDirectory) is { Negated: false };

    /// <summary>The rule that decides the path, as "source:line: pattern", or null when no rule matches.</summary>
    public string? Explain(string relativePath, bool isDirectory) =>
        Match(relativePath, isDirectory) is { } r ? $"{r.Source}:{r.Line}: {r.Pattern}" : null;

    private Rule? Match(string path, bool isDirectory)
    {
        for (int i = _rules.Count - 1; i >= 0; i--)
        {
            var r = _rules[i];
            if (r.DirectoryOnly && !isDirectory) continue;
            if (r.Regex.IsMatch(path)) return r;
        }
        return null;
    }

    private static Rule? Parse(string raw, string source, int line)
    {
        var p = raw.TrimEnd('\r', '\n');
        if (p.Length == 0 || p[0] == '#') return null;
        // Trailing spaces are dropped unless escaped with a backslash.
        int end = p.Length;
        while (end > 0 && p[end - 1] == ' ' && !(end > 1 && p[end - 2] == '\\')) end--;
        p = p[..end];
        if (p.Length == 0) return null;
        bool negated = false;
        if (p[0] == '!') { negated = true; p = p[1..]; }
        else if (p.StartsWith("\\!", StringComparison.Ordinal) || p.StartsWith("\\#", StringComparison.Ordinal)) p = p[1..];
        bool dirOnly = false;
        if (p.EndsWith('/') && !p.EndsWith("\\/", StringComparison.Ordinal)) { dirOnly = true; p = p.TrimEnd('/'); }
        if (p.Length == 0) return null;
        bool anchored = p.Contains('/');
        if (p.StartsWith('/')) p = p[1..];
        if (p.Length == 0) return null;
        var body = GlobToRegex(p);
        var regex = new Regex((anchored ? "^" : "^(?:.*/)?") + body + "$", RegexOptions.CultureInvariant | RegexOptions.Singleline);
        return new Rule(raw.Trim(), source, line, regex, negated, dirOnly);
    }

    private static string GlobToRegex(string glob)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < glob.Length)
        {
            char c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                bool atStart = i == 0, slashBefore = i > 0 && glob[i - 1] == '/';
                bool atEnd = i + 2 == glob.Length, slashAfter = i + 2 < glob.Length && glob[i + 2] == '/';
                if ((atStart || slashBefore) && slashAfter)
                {
                    sb.Append("(?:.*/)?"); // "**/": zero or more directories
                    i += 3;
                    continue;
                }
                if (slashBefore && atEnd)
                {
                    sb.Append(".*"); // "/**": everything inside
                    i += 2;
                    continue;
                }
                if (atStart && atEnd)
                {
                    sb.Append(".*");
                    i += 2;
                    continue;
                }
                // Other consecutive asterisks are regular asterisks.
                while (i < glob.Length && glob[i] == '*') i++;
                sb.Append("[^/]*");
                continue;
            }
            switch (c)
            {
                case '*': sb.Append("[^/]*"); break;
                case '?': sb.Append("[^/]"); break;
                case '[':
                    // A ']' right after '[' (or after "[!") is a member of the class, as in fnmatch.
                    int first = i + 1 < glob.Length && (glob[i + 1] == '!' || glob[i + 1] == '^') ? i + 2 : i + 1;
                    int close = first + 1 <= glob.Length ? glob.IndexOf(']', Math.Min(first + 1, glob.Length)) : -1;
                    if (close < 0) { sb.Append("\\["); break; }
                    var cls = glob.Substring(i + 1, close - i - 1);
                    var negate = cls.StartsWith('!') || cls.StartsWith('^');
                    if (negate) cls = cls[1..];
                    sb.Append('[').Append(negate ? "^/" : "").Append(cls.Replace("\\", "\\\\").Replace("[", "\\[").Replace("]", "\\]")).Append(']');
                    i = close;
                    break;
                case '\\':
                    if (i + 1 < glob.Length) { sb.Append(Regex.Escape(glob[i + 1].ToString())); i++; }
                    break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
            i++;
        }
        return sb.ToString();
    }
}
