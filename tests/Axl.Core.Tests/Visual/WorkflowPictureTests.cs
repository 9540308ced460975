using System.Diagnostics;
using System.Xml.Linq;
using Axl.Dsl;
using Axl.Model;
using Axl.Visual;

namespace Axl.Core.Tests.Visual;

/// <summary>The DAG as pictures: Mermaid and DOT text, SVG laid out by MSAGL, and the summary of large graphs.</summary>
public class WorkflowPictureTests
{
    private static AxlWorkflow Diamond() => new WorkflowBuilder("diamond")
        .AddParameter("Base", 10L)
        .AddStep("start", "param($Base) $Base")
        .AddStep("left", "param([int] $start) $start + 1", new StepOptions { Retries = 2 })
        .AddStep("right", "param([int] $start) $start * 2", new StepOptions { IoHandler = "json" })
        .AddStep("join", "param($left, $right) $left + $right", new StepOptions { When = "$Base -gt 5" })
        .Build();

    [Fact]
    public void Mermaid_has_a_box_per_step_with_kind_handler_condition_and_labelled_edges()
    {
        var text = MermaidWriter.Write(WorkflowPicture.Build(Diamond()));
        var lines = text.Split('\n');
        Assert.Equal("flowchart TD", lines[1]);
        Assert.Contains(lines, l => l.Contains("[\"<b>start</b><br/>script · clixml\"]"));
        Assert.Contains(lines, l => l.Contains("<b>right</b><br/>script · json"));
        Assert.Contains(lines, l => l.Contains("<b>left</b><br/>script · clixml<br/>retries 2"));
        Assert.Contains(lines, l => l.Contains("<b>join</b>") && l.Contains("when $Base -gt 5"));
        // Data edges carry the input they feed; the parameter feeds start's $Base.
        var ids = lines.Where(l => l.Contains("[\"<b>")).ToDictionary(l => l.Split("<b>")[1].Split("</b>")[0], l => l.Trim().Split('[')[0]);
        Assert.Contains($"  {ids["start"]} -->|\"start\"| {ids["left"]}", lines);
        Assert.Contains($"  {ids["left"]} -->|\"left\"| {ids["join"]}", lines);
        Assert.Contains(lines, l => l.Contains("[/\"<b>#35;Base</b>") || l.Contains("[/\"<b>$Base</b>"));
        Assert.Contains(lines, l => l.Contains(" -.->|\"Base\"| " + ids["start"]));
        Assert.DoesNotContain(lines, l => l.Contains("classDef succeeded")); // no run, no status colours
    }

    [Fact]
    public void Mermaid_and_dot_escape_names_that_would_break_their_syntax()
    {
        Assert.Equal("a #quot;b#quot; #lt;c#gt; #35;1 #124; x", MermaidWriter.Text("a \"b\" <c> #1 | x"));
        Assert.Equal("\"say \\\"hi\\\"\\\\n\\nnext\"", DotWriter.Quote("say \"hi\"\\n\nnext"));
    }

    [Fact]
    public void Dot_is_valid_graphviz_with_labelled_edges()
    {
        var dot = DotWriter.Write(WorkflowPicture.Build(Diamond()));
        Assert.Contains("digraph \"diamond\" {", dot);
        Assert.Contains("label=\"start\"", dot);
        Assert.Contains("label=\"join\\nscript · clixml\\nwhen $Base -gt 5\"", dot);
        Assert.Contains("shape=parallelogram", dot);
        Assert.Equal(dot.Count(c => c == '{'), dot.Count(c => c == '}'));
        // Graphviz itself must accept it (Debian's graphviz; .ci/services.sh tools installs it).
        var svg = RunDot(dot);
        Assert.Contains("<svg", svg);
        foreach (var step in new[] { "start", "left", "right", "join" }) Assert.Contains($">{step}</text>", svg);
    }

    private static string RunDot(string dot)
    {
        var exe = new[] { "/usr/bin/dot", "/usr/local/bin/dot" }.FirstOrDefault(File.Exists);
        Assert.True(exe is not null, "Graphviz 'dot' is not installed: run .ci/services.sh tools (apt-get install graphviz) to test the DOT output.");
        var psi = new ProcessStartInfo(exe!, "-Tsvg") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(dot);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, "dot refused the DOT: " + stderr);
        return stdout.Result;
    }

    [Fact]
    public void Svg_is_well_formed_laid_out_without_overlaps_and_names_every_step()
    {
        var svg = SvgWriter.Write(WorkflowPicture.Build(Diamond()));
        var doc = XDocument.Parse(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", doc.Root!.Name);
        var nodes = doc.Descendants(ns + "g").Where(g => ((string?)g.Attribute("class"))?.StartsWith("node ") == true).ToList();
        Assert.Equal(new[] { "join", "left", "right", "start" }, nodes.Where(g => g.Attribute("data-step") is not null).Select(g => (string)g.Attribute("data-step")!).Order());
        Assert.Single(nodes, g => ((string)g.Attribute("class")!).Contains("parameter"));
        Assert.Equal(5, doc.Descendants(ns + "g").Count(g => (string?)g.Attribute("class") is "edge" or "edge dashed"));
        var boxes = nodes.Select(g => g.Element(ns + "rect")!).Select(r => (X: D(r, "x"), Y: D(r, "y"), W: D(r, "width"), H: D(r, "height"))).ToList();
        var (width, height) = (D(doc.Root, "width"), D(doc.Root, "height"));
        foreach (var b in boxes)
        {
            Assert.True(b.X >= 0 && b.Y >= 0 && b.X + b.W <= width + 0.5 && b.Y + b.H <= height + 0.5, $"box {b} outside {width}x{height}");
            Assert.True(b.W > 40 && b.H > 20);
        }
        for (int i = 0; i < boxes.Count; i++)
            for (int j = i + 1; j < boxes.Count; j++)
            {
                var (a, b) = (boxes[i], boxes[j]);
                Assert.False(a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H, $"boxes {a} and {b} overlap");
            }
        // Layered top to bottom: start above left and right, which are above join.
        double Top(string step) => D(nodes.Single(g => (string?)g.Attribute("data-step") == step).Element(ns + "rect")!, "y");
        Assert.True(Top("start") < Top("left") && Top("left") < Top("join") && Top("right") < Top("join"));
        Assert.DoesNotContain("<script", svg);
    }

    private static double D(XElement e, string attribute) => double.Parse((string)e.Attribute(attribute)!, System.Globalization.CultureInfo.InvariantCulture);

    public static IEnumerable<object[]> LargeShapes() => new[] { new object[] { "chains" }, new object[] { "fanout" }, new object[] { "layered" } };

    /// <summary>1,000 steps: 10 parallel chains of 100, a fan-out of 998 between a source and a sink, or a random layered DAG.</summary>
    internal static AxlWorkflow Large(string shape)
    {
        var b = new WorkflowBuilder("big-" + shape);
        var random = new Random(17);
        for (int i = 0; i < 1000; i++)
        {
            var inputs = shape switch
            {
                "chains" => i < 10 ? Array.Empty<int>() : new[] { i - 10 },
                "fanout" => i == 0 ? Array.Empty<int>() : i == 999 ? Enumerable.Range(1, 998).ToArray() : new[] { 0 },
                _ => i < 20 ? Array.Empty<int>() : Enumerable.Range(0, 1 + random.Next(3)).Select(_ => random.Next(Math.Max(0, i - 60), i)).Distinct().ToArray(),
            };
            b.AddStep($"s{i}", inputs.Length == 0 ? "1" : $"param({string.Join(", ", inputs.Select(x => "$s" + x))}) 1");
        }
        return b.Build();
    }

    [Theory]
    [MemberData(nameof(LargeShapes))]
    public void A_1000_step_workflow_is_summarised_to_a_bounded_picture(string shape)
    {
        var wf = Large(shape);
        Assert.Equal(1000, wf.StepCount);
        var picture = WorkflowPicture.Build(wf);
        Assert.True(picture.Summarised);
        Assert.InRange(picture.Nodes.Count, 1, WorkflowPicture.DefaultSummaryThreshold);
        // Every step is in exactly one node.
        Assert.Equal(1000, picture.Nodes.SelectMany(n => n.Steps).Distinct().Count());
        Assert.Equal(1000, picture.Nodes.Sum(n => n.Steps.Count));
        var mermaid = MermaidWriter.Write(picture);
        var dot = DotWriter.Write(picture);
        var svg = SvgWriter.Write(picture);
        Assert.True(mermaid.Length < 120_000, $"mermaid {mermaid.Length} chars");
        Assert.True(dot.Length < 150_000, $"dot {dot.Length} chars");
        Assert.True(svg.Length < 1_000_000, $"svg {svg.Length} chars");
        Assert.Contains("summarised", mermaid);
        XDocument.Parse(svg);
        if (shape == "layered") Assert.Contains("level", picture.Summary); // random wiring: chains and fan-outs are not enough
        if (picture.Summary!.Contains("level"))
        {
            // Grouped by level: a chain of at most 40 groups, each linked to the next only.
            Assert.InRange(picture.Nodes.Count, 2, 40);
            Assert.Equal(picture.Nodes.Count - 1, picture.Edges.Count);
            Assert.Contains("edges that skip a level are not drawn", svg);
        }
        if (shape == "chains") Assert.Equal(10, picture.Nodes.Count); // each chain one node
        if (shape == "fanout") Assert.Equal(3, picture.Nodes.Count); // source, 998 siblings, sink
    }

    [Fact]
    public void A_small_workflow_is_drawn_step_by_step_and_the_threshold_is_a_parameter()
    {
        var wf = Diamond();
        Assert.False(WorkflowPicture.Build(wf).Summarised);
        Assert.Equal(4, WorkflowPicture.Build(wf).Nodes.Count(n => n.Kind == PictureNodeKind.Step));
        var small = WorkflowPicture.Build(wf, summariseAbove: 2);
        Assert.True(small.Summarised);
        Assert.Equal(4, small.Nodes.SelectMany(n => n.Steps).Count());
        Assert.True(small.Nodes.Count(n => n.Kind != PictureNodeKind.Parameter) < 4); // left and right (same upstream and downstream) grouped
    }
}
