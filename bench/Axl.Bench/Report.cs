using System.Text;

namespace Axl.Bench;

/// <summary>The results of one run of the benchmark: sections of notes and tables, printed as they come and written as markdown.</summary>
public sealed class Report
{
    private readonly List<Section> _sections = new();

    public Section Add(string title, string? intro = null)
    {
        var s = new Section(title, intro);
        _sections.Add(s);
        Console.WriteLine();
        Console.WriteLine("## " + title);
        if (intro is not null) Console.WriteLine(intro);
        return s;
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        foreach (var s in _sections) s.Write(sb);
        return sb.ToString();
    }
}

public sealed class Section(string title, string? intro)
{
    private readonly List<object> _parts = new(); // Table or string (a note)

    public Table Table(params string[] headers)
    {
        var t = new Table(headers);
        _parts.Add(t);
        return t;
    }

    public void Note(string text)
    {
        _parts.Add(text);
        Console.WriteLine(text);
    }

    /// <summary>Prints the tables of the section (call when it is complete).</summary>
    public void Print()
    {
        foreach (var p in _parts)
            if (p is Table t) { Console.WriteLine(); Console.Write(t.ToMarkdown()); }
    }

    internal void Write(StringBuilder sb)
    {
        sb.Append("## ").Append(title).Append("\n\n");
        if (intro is not null) sb.Append(intro).Append("\n\n");
        foreach (var p in _parts)
        {
            if (p is Table t) sb.Append(t.ToMarkdown()).Append('\n');
            else sb.Append(p).Append("\n\n");
        }
    }
}

public sealed class Table(string[] headers)
{
    private readonly List<string[]> _rows = new();

    public void Row(params string[] cells) => _rows.Add(cells);

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("| ").Append(string.Join(" | ", headers)).Append(" |\n");
        sb.Append('|').Append(string.Join("|", headers.Select((_, i) => i == 0 ? "---" : "---:"))).Append("|\n");
        foreach (var r in _rows) sb.Append("| ").Append(string.Join(" | ", r.Select(c => c.Replace("|", "\\|")))).Append(" |\n");
        return sb.ToString();
    }
}
