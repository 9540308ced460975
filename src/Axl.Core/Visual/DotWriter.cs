using System.Text;

namespace Axl.Visual;

/// <summary>A workflow picture as Graphviz DOT (render it with `dot -Tsvg` or `dot -Tpng`).</summary>
public static class DotWriter
{
    public static string Write(WorkflowPicture picture)
    {
        var sb = new StringBuilder();
        sb.Append("// Axl workflow '").Append(picture.Name.Replace('\n', ' ')).Append("': ").Append(picture.StepCount).Append(" steps")
          .Append(picture.Summary is { } summary ? $", summarised ({summary})" : "").Append('\n');
        sb.Append("digraph ").Append(Quote(picture.Name)).Append(" {\n");
        sb.Append("  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, label=").Append(Quote(picture.Name)).Append(", labelloc=t];\n");
        sb.Append("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11, fillcolor=\"").Append(StatusColors.StepFill)
          .Append("\", color=\"").Append(StatusColors.StepStroke).Append("\"];\n");
        sb.Append("  edge [fontname=\"Helvetica\", fontsize=9, color=\"#495057\"];\n");
        foreach (var n in picture.Nodes)
        {
            sb.Append("  ").Append(n.Id).Append(" [label=").Append(Quote(string.Join("\n", n.Details.Prepend(n.Title))));
            sb.Append(", tooltip=").Append(Quote(n.Kind == PictureNodeKind.Group ? string.Join(", ", n.Steps.Take(50)) : n.Title));
            if (n.Kind == PictureNodeKind.Parameter)
                sb.Append(", shape=parallelogram, style=filled, fillcolor=\"").Append(StatusColors.ParameterFill).Append("\", color=\"").Append(StatusColors.ParameterStroke).Append('"');
            else if (n.Kind == PictureNodeKind.Group) sb.Append(", peripheries=2");
            if (n.Status is { } s && StatusColors.Light.TryGetValue(s, out var c))
                sb.Append(", class=").Append(Quote("status-" + s)).Append(", fillcolor=\"").Append(c.Fill).Append("\", color=\"").Append(c.Stroke).Append('"');
            sb.Append("];\n");
        }
        foreach (var e in picture.Edges)
        {
            sb.Append("  ").Append(e.From).Append(" -> ").Append(e.To);
            var attrs = new List<string>();
            if (e.Label is { Length: > 0 } l) attrs.Add("label=" + Quote(l));
            if (e.Dashed) attrs.Add("style=dashed");
            if (attrs.Count > 0) sb.Append(" [").Append(string.Join(", ", attrs)).Append(']');
            sb.Append(";\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>A DOT double-quoted string: backslashes and quotes escaped, line breaks as \n.</summary>
    internal static string Quote(string text) =>
        "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\r", "").Replace("\n", "\\n") + "\"";
}
