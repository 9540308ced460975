using System.Text;

namespace Axl.Visual;

/// <summary>
/// A workflow picture as a Mermaid flowchart, to paste into Markdown (GitHub, GitLab, Azure DevOps wikis): a box per
/// step (name, kind and IO handler, condition, retries, status), parameters as parallelograms, data edges labelled
/// with the input they feed, order edges dotted, run statuses as classes.
/// </summary>
public static class MermaidWriter
{
    public static string Write(WorkflowPicture picture)
    {
        var sb = new StringBuilder();
        sb.Append("%% Axl workflow '").Append(Comment(picture.Name)).Append("': ").Append(picture.StepCount).Append(" steps")
          .Append(picture.Summary is { } summary ? $", summarised ({summary})" : "").Append('\n');
        sb.Append("flowchart TD\n");
        foreach (var n in picture.Nodes)
        {
            var label = "<b>" + Text(n.Title) + "</b>" + string.Concat(n.Details.Select(d => "<br/>" + Text(d)));
            sb.Append("  ").Append(n.Id).Append(n.Kind switch
            {
                PictureNodeKind.Parameter => $"[/\"{label}\"/]",
                PictureNodeKind.Group => $"[[\"{label}\"]]",
                _ => $"[\"{label}\"]",
            }).Append('\n');
        }
        foreach (var e in picture.Edges)
        {
            sb.Append("  ").Append(e.From).Append(e.Dashed ? " -.->" : " -->");
            if (e.Label is { Length: > 0 } l) sb.Append("|\"").Append(Text(l)).Append("\"|");
            sb.Append(' ').Append(e.To).Append('\n');
        }
        var styled = picture.Nodes.Where(n => n.Status is not null).GroupBy(n => n.Status!).ToList();
        foreach (var g in styled)
        {
            var (fill, stroke) = StatusColors.Light.TryGetValue(g.Key, out var c) ? c : (StatusColors.StepFill, StatusColors.StepStroke);
            sb.Append("  classDef ").Append(g.Key).Append(" fill:").Append(fill).Append(",stroke:").Append(stroke).Append(",color:#111\n");
            sb.Append("  class ").Append(string.Join(",", g.Select(n => n.Id))).Append(' ').Append(g.Key).Append('\n');
        }
        var parameters = picture.Nodes.Where(n => n.Kind == PictureNodeKind.Parameter).ToList();
        if (parameters.Count > 0)
        {
            sb.Append("  classDef parameter fill:").Append(StatusColors.ParameterFill).Append(",stroke:").Append(StatusColors.ParameterStroke).Append(",color:#111\n");
            sb.Append("  class ").Append(string.Join(",", parameters.Select(n => n.Id))).Append(" parameter\n");
        }
        return sb.ToString();
    }

    /// <summary>Text inside a quoted Mermaid label: quotes, angle brackets, '#', '&amp;' and '|' as entity codes.</summary>
    internal static string Text(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
            sb.Append(c switch
            {
                '"' => "#quot;",
                '<' => "#lt;",
                '>' => "#gt;",
                '#' => "#35;",
                '&' => "#amp;",
                '|' => "#124;",
                '\n' or '\r' => " ",
                _ => c.ToString(),
            });
        return sb.ToString();
    }

    private static string Comment(string text) => text.Replace('\n', ' ').Replace('\r', ' ');
}
