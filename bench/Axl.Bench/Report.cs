using System.Text;

namespace Axl.Bench;

/// <summary>The results of one run of the benchmark: sections of notes and tables, printed as they come and written as markdown.</summary>
public sealed class Report
{
    private readonly List<Section> _sections = new();
    private readonly List<(string Point, string Text, double Ratio, double Limit, bool Strict)> _targets = new();

    /// <summary>
    /// A target of the issue, checked in this run: <paramref name="ratio"/> (figure ÷ its floor, or ÷ another figure, both
    /// measured in this run) against <paramref name="limit"/>: met when at most the limit (below it when
    /// <paramref name="strict"/>). A target whose figure is a share of a floor (at least the limit) passes the inverse ratios.
    /// </summary>
    public void Target(string point, string text, double ratio, double limit, bool strict = false) => _targets.Add((point, text, ratio, limit, strict));

    /// <summary>The section that lists every target checked in this run, met or not (none: nothing is added).</summary>
    public void TargetsSection(string title, string intro, IEnumerable<string> notMeasured)
    {
        if (_targets.Count == 0) return;
        var s = Add(title, intro);
        var t = s.Table("point", "target", "ratio in this run", "met");
        foreach (var (point, text, ratio, limit, strict) in _targets.OrderBy(x => x.Point, StringComparer.Ordinal))
        {
            var met = !double.IsNaN(ratio) && (strict ? ratio < limit : ratio <= limit);
            t.Row(point, text, Fmt.Ratio(ratio), met ? "met" : "**not met**");
        }
        foreach (var m in notMeasured) s.Note(m);
        s.Print();
    }

    public bool HasTarget(string point) => _targets.Any(t => t.Point == point);

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
