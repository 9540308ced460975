using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;

namespace Axl.Cmdlets.Completion;

/// <summary>
/// What every Axl completer shares: matching the typed word, quoting as PowerShell does, and reading this session
/// (its location, its paths). Completion never throws: a completer that fails offers nothing.
/// </summary>
internal static class Completions
{
    private static readonly CompletionResult[] None = Array.Empty<CompletionResult>();

    /// <summary>Runs <paramref name="complete"/>; whatever goes wrong, completion offers nothing.</summary>
    public static IEnumerable<CompletionResult> Safely(Func<IEnumerable<CompletionResult>> complete)
    {
        try { return complete().ToList(); }
        catch { return None; }
    }

    /// <summary>The typed word without its quotes, and the quote it opened with (none: 0).</summary>
    public static (string Text, char Quote) Unquote(string? word)
    {
        if (string.IsNullOrEmpty(word)) return ("", '\0');
        var q = word[0] is '\'' or '"' ? word[0] : '\0';
        var text = q == '\0' ? word : word[1..];
        if (q != '\0' && text.Length > 0 && text[^1] == q) text = text[..^1];
        return (text, q);
    }

    /// <summary>Whether <paramref name="candidate"/> completes the typed word (a prefix, or a pattern with wildcards).</summary>
    public static bool Matches(string candidate, string typed) =>
        typed.Length == 0 || WildcardPattern.Get(typed.EndsWith('*') ? typed : typed + "*", WildcardOptions.IgnoreCase).IsMatch(candidate);

    /// <summary>A result for a name: quoted when PowerShell would need it (spaces, $, quotes, ...), or in the quote the user opened.</summary>
    public static CompletionResult Result(string name, char quote, string? toolTip = null, string? listItem = null) =>
        new(Quote(name, quote), listItem ?? name, CompletionResultType.ParameterValue, string.IsNullOrEmpty(toolTip) ? name : toolTip);

    public static string Quote(string name, char quote)
    {
        if (quote == '"') return "\"" + name.Replace("`", "``").Replace("\"", "`\"").Replace("$", "`$") + "\"";
        if (quote == '\'' || NeedsQuotes(name)) return "'" + name.Replace("'", "''") + "'";
        return name;
    }

    private static bool NeedsQuotes(string name)
    {
        if (name.Length == 0) return true;
        if (name[0] is '-' or '@' or '#' or '<' or '>' or '[') return true;
        foreach (var c in name)
            if (char.IsWhiteSpace(c) || c is '\'' or '"' or '`' or '$' or ';' or ',' or '(' or ')' or '{' or '}' or '|' or '&' or '<' or '>' or '@' or '#'
                || c is '\u2018' or '\u2019' or '\u201A' or '\u201B' or '\u201C' or '\u201D' or '\u201E')
                return true;
        return false;
    }

    /// <summary>A value of the bound parameters (fakeBoundParameters) as its base object, or null.</summary>
    public static object? Bound(IDictionary? bound, string name) =>
        bound is not null && bound.Contains(name) ? Base(bound[name]) : null;

    public static object? Base(object? value) => value is PSObject p ? p.BaseObject : value;

    /// <summary>A bound value as objects: one, or each item of an array.</summary>
    public static IEnumerable<object> Items(object? value)
    {
        value = Base(value);
        if (value is null) yield break;
        if (value is IEnumerable e and not string and not IDictionary)
        {
            foreach (var item in e)
                if (Base(item) is { } b) yield return b;
        }
        else yield return value;
    }

    public static IEnumerable<string> Strings(object? value) => Items(value).OfType<string>().Where(s => s.Length > 0);

    // ---- the session -------------------------------------------------------------------------------------

    /// <summary>The current file-system location of the session the completion runs in.</summary>
    public static string CurrentDirectory() =>
        Session("$ExecutionContext.SessionState.Path.CurrentFileSystemLocation.ProviderPath").FirstOrDefault() as string ?? Environment.CurrentDirectory;

    /// <summary>A path as the session resolves it (relative to its location; ~ and PS drives understood).</summary>
    public static string ResolvePath(string path) =>
        Session("$ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($args[0])", path).FirstOrDefault() as string ?? Path.GetFullPath(path);

    /// <summary>Runs a small script in the session being completed (a nested pipeline on its thread).</summary>
    public static IReadOnlyList<object?> Session(string script, params object[] args)
    {
        using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
        ps.AddScript(script);
        foreach (var a in args) ps.AddArgument(a);
        return ps.Invoke().Select(o => Base(o)).ToList();
    }
}
