using System.Text;
using System.Text.RegularExpressions;

namespace Axl.HelpGen;

/// <summary>
/// One docs/cmdlets/&lt;Verb-Noun&gt;.md page. The shape is fixed (see docs/cmdlets/README.md):
/// <code>
/// # Verb-Noun
/// ## SYNOPSIS          one paragraph
/// ## DESCRIPTION       paragraphs, "- " lists, ```fenced``` code
/// ## PARAMETERS        "### -Name" per parameter, then its text
/// ## EXAMPLES          "### Example N: title", a ```powershell block, then the explanation
/// ## INPUTS            "### Type.Name" (or "### None"), then its text
/// ## OUTPUTS           same
/// ## NOTES             paragraphs
/// ## RELATED LINKS     "- [text](target)" or "- text" items
/// </code>
/// Everything about parameters that the code knows (type, mandatory, position, pipeline, aliases, sets,
/// wildcards, accepted values, default) comes from reflection, never from the page.
/// </summary>
public sealed partial class HelpPage
{
    public static readonly string[] SectionOrder = { "SYNOPSIS", "DESCRIPTION", "PARAMETERS", "EXAMPLES", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS" };

    public required string File { get; init; }
    public string Title { get; private set; } = "";
    public List<string> Synopsis { get; } = new();
    public List<string> Description { get; } = new();
    /// <summary>Parameter name (without '-') to its paragraphs, in page order.</summary>
    public List<(string Name, List<string> Text)> Parameters { get; } = new();
    public List<HelpExample> Examples { get; } = new();
    public List<(string Type, List<string> Text)> Inputs { get; } = new();
    public List<(string Type, List<string> Text)> Outputs { get; } = new();
    public List<string> Notes { get; } = new();
    public List<(string Text, string Uri)> Links { get; } = new();
    /// <summary>What is wrong with the shape of the page (reported by --check).</summary>
    public List<string> Problems { get; } = new();

    public static HelpPage Load(string path) => Parse(path, System.IO.File.ReadAllText(path));

    public static HelpPage Parse(string file, string markdown)
    {
        var page = new HelpPage { File = file };
        var lines = markdown.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var sections = new List<(string Name, List<string> Lines)>();
        bool fence = false;
        foreach (var line in lines)
        {
            if (IsFence(line)) fence = !fence;
            if (!fence && line.StartsWith("# ", StringComparison.Ordinal) && page.Title.Length == 0 && sections.Count == 0)
            {
                page.Title = line[2..].Trim();
                continue;
            }
            if (!fence && line.StartsWith("## ", StringComparison.Ordinal))
            {
                sections.Add((line[3..].Trim(), new List<string>()));
                continue;
            }
            if (sections.Count == 0)
            {
                if (line.Trim().Length > 0 && !line.StartsWith("# ", StringComparison.Ordinal)) page.Problems.Add($"text before the first section: '{line.Trim()}'");
                continue;
            }
            sections[^1].Lines.Add(line);
        }
        if (fence) page.Problems.Add("a ``` code fence is not closed");
        if (page.Title.Length == 0) page.Problems.Add("no '# Verb-Noun' title line");

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, body) in sections)
        {
            if (!SectionOrder.Contains(name)) { page.Problems.Add($"unknown section '## {name}' (sections: {string.Join(", ", SectionOrder)})"); continue; }
            if (!seen.Add(name)) { page.Problems.Add($"section '## {name}' appears twice"); continue; }
            switch (name)
            {
                case "SYNOPSIS": page.Synopsis.AddRange(Paragraphs(body)); break;
                case "DESCRIPTION": page.Description.AddRange(Paragraphs(body)); break;
                case "NOTES": page.Notes.AddRange(Paragraphs(body)); break;
                case "PARAMETERS":
                    foreach (var (head, text) in Subsections(body, page, name))
                    {
                        if (!head.StartsWith('-') || head.Length < 2 || head.Contains(' '))
                            page.Problems.Add($"parameter heading '### {head}' must be '### -Name'");
                        else page.Parameters.Add((head[1..], Paragraphs(text)));
                    }
                    break;
                case "EXAMPLES":
                    foreach (var (head, text) in Subsections(body, page, name))
                        page.Examples.Add(HelpExample.Parse(head, text, page.Examples.Count + 1, page.Problems));
                    break;
                case "INPUTS":
                    foreach (var (head, text) in Subsections(body, page, name)) page.Inputs.Add((head, Paragraphs(text)));
                    break;
                case "OUTPUTS":
                    foreach (var (head, text) in Subsections(body, page, name)) page.Outputs.Add((head, Paragraphs(text)));
                    break;
                case "RELATED LINKS":
                    foreach (var raw in body.Select(l => l.Trim()).Where(l => l.Length > 0))
                    {
                        if (!raw.StartsWith("- ", StringComparison.Ordinal)) { page.Problems.Add($"related link '{raw}' must be a '- ' list item"); continue; }
                        var item = raw[2..].Trim();
                        var m = LinkRegex().Match(item);
                        if (m.Success && m.Index == 0 && m.Length == item.Length)
                            page.Links.Add((m.Groups[1].Value, IsAbsoluteUri(m.Groups[2].Value) ? m.Groups[2].Value : ""));
                        else page.Links.Add((item, ""));
                    }
                    break;
            }
        }
        foreach (var required in SectionOrder)
            if (!seen.Contains(required)) page.Problems.Add($"section '## {required}' is missing");
        var order = sections.Select(s => s.Name).Where(SectionOrder.Contains).Distinct().ToList();
        if (!order.SequenceEqual(SectionOrder.Where(order.Contains)))
            page.Problems.Add($"sections are out of order; the order is {string.Join(", ", SectionOrder)}");
        return page;
    }

    /// <summary>"### heading" blocks of a section; text before the first heading is a problem.</summary>
    private static List<(string Head, List<string> Lines)> Subsections(List<string> body, HelpPage page, string section)
    {
        var result = new List<(string, List<string>)>();
        bool fence = false;
        foreach (var line in body)
        {
            if (IsFence(line)) fence = !fence;
            if (!fence && line.StartsWith("### ", StringComparison.Ordinal))
            {
                result.Add((line[4..].Trim(), new List<string>()));
                continue;
            }
            if (result.Count == 0)
            {
                if (line.Trim().Length > 0) page.Problems.Add($"text in '## {section}' before its first '###' heading: '{line.Trim()}'");
                continue;
            }
            result[^1].Item2.Add(line);
        }
        return result;
    }

    internal static bool IsFence(string line) => line.TrimStart().StartsWith("```", StringComparison.Ordinal);

    /// <summary>
    /// Markdown text to help paragraphs: a paragraph's lines are joined into one line (Get-Help wraps it),
    /// each list item is a paragraph of its own starting with "- " (or "1. "), a fenced block is one paragraph
    /// with its lines kept.
    /// </summary>
    public static List<string> Paragraphs(IEnumerable<string> lines)
    {
        var result = new List<string>();
        var current = new List<string>();
        void Flush()
        {
            if (current.Count > 0) result.Add(Inline(string.Join(" ", current.Select(l => l.Trim()))));
            current.Clear();
        }
        using var e = lines.GetEnumerator();
        while (e.MoveNext())
        {
            var line = e.Current;
            if (IsFence(line))
            {
                Flush();
                var code = new List<string>();
                while (e.MoveNext() && !IsFence(e.Current)) code.Add(e.Current.TrimEnd());
                if (code.Count > 0) result.Add(string.Join("\n", code));
                continue;
            }
            if (line.Trim().Length == 0) { Flush(); continue; }
            var item = ListItemRegex().Match(line);
            if (item.Success)
            {
                Flush();
                current.Add((item.Groups["marker"].Value == "*" ? "-" : item.Groups["marker"].Value) + " " + item.Groups["text"].Value);
                continue;
            }
            current.Add(line); // a paragraph line, or the continuation of a list item (until a blank line or the next item)
        }
        Flush();
        return result;
    }

    /// <summary>Inline markdown that would read badly in a console: links keep their text (and an absolute URL), bold marks go.</summary>
    internal static string Inline(string text)
    {
        text = LinkRegex().Replace(text, m => IsAbsoluteUri(m.Groups[2].Value) ? $"{m.Groups[1].Value} ({m.Groups[2].Value})" : m.Groups[1].Value);
        text = BoldRegex().Replace(text, "$1");
        return text;
    }

    private static bool IsAbsoluteUri(string s) => s.StartsWith("http://", StringComparison.Ordinal) || s.StartsWith("https://", StringComparison.Ordinal);

    [GeneratedRegex(@"\[([^\]]+)\]\(([^)\s]+)\)")]
    private static partial Regex LinkRegex();
    [GeneratedRegex(@"\*\*([^*]+)\*\*")]
    private static partial Regex BoldRegex();
    [GeneratedRegex(@"^\s*(?<marker>[-*]|[0-9]+\.)\s+(?<text>.*)$")]
    private static partial Regex ListItemRegex();
}

/// <summary>"### Example N: title", one or more ```powershell blocks (the code) and the explanation around them.</summary>
public sealed partial class HelpExample
{
    public required string Title { get; init; }
    public required string Code { get; init; }
    public required List<string> Remarks { get; init; }

    public static HelpExample Parse(string head, List<string> lines, int number, List<string> problems)
    {
        var m = TitleRegex().Match(head);
        if (!m.Success) problems.Add($"example heading '### {head}' must be '### Example {number}: title'");
        else if (m.Groups[1].Value != number.ToString(System.Globalization.CultureInfo.InvariantCulture))
            problems.Add($"example '### {head}' should be number {number}");
        var title = m.Success ? m.Groups[2].Value.Trim() : head;

        var code = new List<string>();
        var text = new List<string>();
        for (int i = 0; i < lines.Count; i++)
        {
            if (HelpPage.IsFence(lines[i]))
            {
                var lang = lines[i].Trim()[3..].Trim();
                if (lang != "powershell") problems.Add($"example '{title}': code blocks are ```powershell, not ```{lang}");
                var block = new StringBuilder();
                for (i++; i < lines.Count && !HelpPage.IsFence(lines[i]); i++) block.Append(lines[i].TrimEnd()).Append('\n');
                if (code.Count > 0) code.Add("");
                code.Add(block.ToString().TrimEnd('\n'));
                continue;
            }
            text.Add(lines[i]);
        }
        if (code.Count == 0 || code.All(c => c.Trim().Length == 0)) problems.Add($"example '{title}' has no ```powershell code block");
        var remarks = HelpPage.Paragraphs(text);
        if (remarks.Count == 0) problems.Add($"example '{title}' has no explanation after its code");
        return new HelpExample { Title = title, Code = string.Join("\n", code), Remarks = remarks };
    }

    [GeneratedRegex(@"^Example ([0-9]+): (.+)$")]
    private static partial Regex TitleRegex();
}
