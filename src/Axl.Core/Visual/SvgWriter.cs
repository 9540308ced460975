using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Msagl.Core.Geometry;
using Microsoft.Msagl.Core.Geometry.Curves;
using Microsoft.Msagl.Core.Layout;
using Microsoft.Msagl.Core.Routing;
using Microsoft.Msagl.Layout.Layered;
using Microsoft.Msagl.Miscellaneous;

namespace Axl.Visual;

/// <summary>
/// A workflow picture as SVG, laid out by MSAGL's layered (Sugiyama) layout: nodes as rounded boxes (a group of steps
/// with a double border, parameters in yellow), edges as splines with arrowheads and their input labels. Every node is
/// a &lt;g class="node step status-…" data-step="…"&gt; with a &lt;title&gt;, so a browser shows it on hover and a test
/// can find it. No scripts, no external references.
/// </summary>
public static class SvgWriter
{
    private const double FontSize = 12, LineHeight = 15, CharWidth = 7.0, PadX = 10, PadY = 7, Margin = 12;

    /// <summary>
    /// The SVG document. <paramref name="standalone"/> adds the XML namespace and the status colours (a file of its own);
    /// without it the SVG is meant to be inlined in HTML whose stylesheet colours it (the run report).
    /// </summary>
    public static string Write(WorkflowPicture picture, bool standalone = true)
    {
        var graph = new GeometryGraph();
        var geometry = new Dictionary<string, Node>();
        foreach (var n in picture.Nodes)
        {
            var lines = n.Details.Prepend(n.Title).ToList();
            var width = Math.Max(60, lines.Max(l => l.Length) * CharWidth + 2 * PadX);
            var height = lines.Count * LineHeight + 2 * PadY;
            var node = new Node(CurveFactory.CreateRectangleWithRoundedCorners(width, height, 6, 6, new Point(0, 0)), n);
            graph.Nodes.Add(node);
            geometry[n.Id] = node;
        }
        var edges = new List<(PictureEdge Edge, Edge Geometry)>();
        foreach (var e in picture.Edges)
        {
            var edge = new Edge(geometry[e.From], geometry[e.To]) { Weight = 1 };
            edge.EdgeGeometry.TargetArrowhead = new Arrowhead { Length = 8 };
            if (e.Label is { Length: > 0 } l) edge.Label = new Label(l.Length * 6.0 + 6, 13, edge);
            graph.Edges.Add(edge);
            edges.Add((e, edge));
        }
        if (picture.Nodes.Count > 0)
        {
            var settings = new SugiyamaLayoutSettings
            {
                LayerSeparation = 36,
                NodeSeparation = 18,
                EdgeRoutingSettings = { EdgeRoutingMode = EdgeRoutingMode.SugiyamaSplines },
            };
            LayoutHelpers.CalculateLayout(graph, settings, null);
            graph.UpdateBoundingBox();
        }
        var box = picture.Nodes.Count > 0 ? graph.BoundingBox : new Rectangle(0, 0, 200, 40);
        var titleHeight = 22.0;
        double X(double x) => x - box.Left + Margin;
        double Y(double y) => box.Top - y + Margin + titleHeight;
        var caption = picture.Name + (picture.Summary is { } summary ? $" ({picture.StepCount} steps, summarised: {summary})" : "");
        var w = Math.Max(box.Width + 2 * Margin, caption.Length * CharWidth + 2 * Margin);
        var h = box.Height + 2 * Margin + titleHeight;

        var sb = new StringBuilder();
        sb.Append("<svg");
        if (standalone) sb.Append(" xmlns=\"http://www.w3.org/2000/svg\"");
        sb.Append(" class=\"axl-dag\" width=\"").Append(N(w)).Append("\" height=\"").Append(N(h)).Append("\" viewBox=\"0 0 ").Append(N(w)).Append(' ').Append(N(h))
          .Append("\" role=\"img\" aria-label=\"").Append(Attr($"DAG of workflow {picture.Name}: {picture.StepCount} steps")).Append("\" data-steps=\"").Append(picture.StepCount).Append("\">\n");
        sb.Append("<title>").Append(Esc($"{picture.Name}: {picture.StepCount} steps{(picture.Summarised ? " (summarised)" : "")}")).Append("</title>\n");
        if (standalone) sb.Append("<style>").Append(Stylesheet()).Append("</style>\n");
        sb.Append("<defs><marker id=\"axl-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" class=\"arrow\"/></marker></defs>\n");
        sb.Append("<text class=\"caption\" x=\"").Append(N(Margin)).Append("\" y=\"16\">").Append(Esc(caption)).Append("</text>\n");

        foreach (var (e, g) in edges)
        {
            sb.Append("<g class=\"edge").Append(e.Dashed ? " dashed" : "").Append("\" data-from=\"").Append(Attr(e.From)).Append("\" data-to=\"").Append(Attr(e.To)).Append("\">");
            sb.Append("<path d=\"").Append(PathData(g.Curve, X, Y, g.EdgeGeometry.TargetArrowhead?.TipPosition)).Append("\" marker-end=\"url(#axl-arrow)\"/>");
            if (g.Label is { } label && e.Label is { } text)
                sb.Append("<text class=\"edge-label\" x=\"").Append(N(X(label.Center.X))).Append("\" y=\"").Append(N(Y(label.Center.Y) + 4)).Append("\" text-anchor=\"middle\">").Append(Esc(text)).Append("</text>");
            sb.Append("</g>\n");
        }
        foreach (var n in picture.Nodes)
        {
            var node = geometry[n.Id];
            var b = node.BoundingBox;
            var classes = "node " + n.Kind.ToString().ToLowerInvariant() + (n.Status is null ? "" : " status-" + n.Status) + (n.Reused is null ? "" : " reused");
            sb.Append("<g class=\"").Append(classes).Append("\" id=\"node-").Append(n.Id).Append('"');
            if (n.Kind == PictureNodeKind.Step) sb.Append(" data-step=\"").Append(Attr(n.Title)).Append('"');
            if (n.Kind == PictureNodeKind.Group) sb.Append(" data-step-count=\"").Append(n.Steps.Count).Append('"');
            if (n.Status is not null) sb.Append(" data-status=\"").Append(n.Status).Append('"');
            sb.Append('>');
            var tip = n.Kind == PictureNodeKind.Group ? $"{n.Steps.Count} steps: {string.Join(", ", n.Steps.Take(40))}{(n.Steps.Count > 40 ? ", …" : "")}" : string.Join(" · ", n.Details.Prepend(n.Title));
            sb.Append("<title>").Append(Esc(tip)).Append("</title>");
            sb.Append("<rect x=\"").Append(N(X(b.Left))).Append("\" y=\"").Append(N(Y(b.Top))).Append("\" width=\"").Append(N(b.Width)).Append("\" height=\"").Append(N(b.Height)).Append("\" rx=\"6\"/>");
            if (n.Kind == PictureNodeKind.Group)
                sb.Append("<rect class=\"inner\" x=\"").Append(N(X(b.Left) + 3)).Append("\" y=\"").Append(N(Y(b.Top) + 3)).Append("\" width=\"").Append(N(b.Width - 6)).Append("\" height=\"").Append(N(b.Height - 6)).Append("\" rx=\"4\"/>");
            var y = Y(b.Top) + PadY + FontSize;
            var cx = X(b.Center.X);
            sb.Append("<text x=\"").Append(N(cx)).Append("\" text-anchor=\"middle\">");
            sb.Append("<tspan class=\"title\" x=\"").Append(N(cx)).Append("\" y=\"").Append(N(y)).Append("\">").Append(Esc(n.Title)).Append("</tspan>");
            foreach (var d in n.Details)
            {
                y += LineHeight;
                sb.Append("<tspan class=\"detail\" x=\"").Append(N(cx)).Append("\" y=\"").Append(N(y)).Append("\">").Append(Esc(d)).Append("</tspan>");
            }
            sb.Append("</text></g>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>The CSS that colours a picture by status, light and dark; the run report uses the same rules.</summary>
    public static string Stylesheet()
    {
        var sb = new StringBuilder();
        sb.Append(".axl-dag{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:12px}");
        sb.Append(".axl-dag .caption{font-weight:600;fill:#212529}");
        sb.Append(".axl-dag .node rect{fill:").Append(StatusColors.StepFill).Append(";stroke:").Append(StatusColors.StepStroke).Append(";stroke-width:1.5}");
        sb.Append(".axl-dag .node rect.inner{fill:none}");
        sb.Append(".axl-dag .node.parameter rect{fill:").Append(StatusColors.ParameterFill).Append(";stroke:").Append(StatusColors.ParameterStroke).Append(";stroke-dasharray:4 2}");
        sb.Append(".axl-dag .node.reused rect{stroke-dasharray:6 3}");
        sb.Append(".axl-dag text{fill:#212529}.axl-dag .title{font-weight:600}.axl-dag .detail{font-size:11px;fill:#495057}");
        sb.Append(".axl-dag .edge path{fill:none;stroke:#495057;stroke-width:1.2}.axl-dag .edge.dashed path{stroke-dasharray:5 4}");
        sb.Append(".axl-dag .arrow{fill:#495057}.axl-dag .edge-label{font-size:10px;fill:#495057}");
        foreach (var (status, (fill, stroke)) in StatusColors.Light)
            sb.Append(".axl-dag .status-").Append(status).Append(" rect{fill:").Append(fill).Append(";stroke:").Append(stroke).Append('}');
        sb.Append("@media screen and (prefers-color-scheme: dark){");
        sb.Append(".axl-dag .caption,.axl-dag text{fill:#e9ecef}.axl-dag .detail,.axl-dag .edge-label{fill:#ced4da}");
        sb.Append(".axl-dag .node rect{fill:#25262b;stroke:#adb5bd}.axl-dag .node rect.inner{fill:none}.axl-dag .node.parameter rect{fill:#3b3205;stroke:#fab005}");
        sb.Append(".axl-dag .edge path{stroke:#adb5bd}.axl-dag .arrow{fill:#adb5bd}");
        foreach (var (status, (fill, stroke)) in StatusColors.Dark)
            sb.Append(".axl-dag .status-").Append(status).Append(" rect{fill:").Append(fill).Append(";stroke:").Append(stroke).Append('}');
        sb.Append('}');
        return sb.ToString();
    }

    private static string PathData(ICurve? curve, Func<double, double> x, Func<double, double> y, Point? tip)
    {
        if (curve is null) return "";
        var sb = new StringBuilder();
        sb.Append('M').Append(N(x(curve.Start.X))).Append(',').Append(N(y(curve.Start.Y)));
        IEnumerable<ICurve> segments = curve is Curve c ? c.Segments : new[] { curve };
        foreach (var s in segments)
        {
            switch (s)
            {
                case LineSegment l:
                    sb.Append(" L").Append(N(x(l.End.X))).Append(',').Append(N(y(l.End.Y)));
                    break;
                case CubicBezierSegment bz:
                    sb.Append(" C").Append(N(x(bz.B(1).X))).Append(',').Append(N(y(bz.B(1).Y))).Append(' ')
                      .Append(N(x(bz.B(2).X))).Append(',').Append(N(y(bz.B(2).Y))).Append(' ')
                      .Append(N(x(bz.B(3).X))).Append(',').Append(N(y(bz.B(3).Y)));
                    break;
                default:
                    for (int i = 1; i <= 8; i++)
                    {
                        var p = s[s.ParStart + (s.ParEnd - s.ParStart) * i / 8];
                        sb.Append(" L").Append(N(x(p.X))).Append(',').Append(N(y(p.Y)));
                    }
                    break;
            }
        }
        // MSAGL leaves room for the arrowhead between the curve's end and the node: the line runs on to the tip.
        if (tip is { } t) sb.Append(" L").Append(N(x(t.X))).Append(',').Append(N(y(t.Y)));
        return sb.ToString();
    }

    private static string N(double v) => Math.Round(v, 1).ToString("0.#", CultureInfo.InvariantCulture);
    internal static string Esc(string text) => WebUtility.HtmlEncode(text);
    private static string Attr(string text) => WebUtility.HtmlEncode(text);
}
