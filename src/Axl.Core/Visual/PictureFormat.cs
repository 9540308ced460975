using Axl.Model;

namespace Axl.Visual;

/// <summary>The formats a workflow's DAG is drawn in, by name: what Show-AxlWorkflow -Format and `axl graph --format` take.</summary>
public static class PictureFormat
{
    public static readonly IReadOnlyList<string> Names = new[] { "mermaid", "dot", "svg" };

    /// <summary>True when <paramref name="format"/> is one of <see cref="Names"/> (any case).</summary>
    public static bool IsKnown(string format) => Names.Contains(format.ToLowerInvariant());

    /// <summary>The picture of <paramref name="wf"/> in <paramref name="format"/> (mermaid, dot or svg; any case).</summary>
    public static string Render(AxlWorkflow wf, string format, int summariseAbove = WorkflowPicture.DefaultSummaryThreshold)
    {
        var picture = WorkflowPicture.Build(wf, summariseAbove);
        return format.ToLowerInvariant() switch
        {
            "mermaid" => MermaidWriter.Write(picture),
            "dot" => DotWriter.Write(picture),
            "svg" => SvgWriter.Write(picture),
            _ => throw new ArgumentException($"Unknown picture format '{format}'. Use one of: {string.Join(", ", Names)}.", nameof(format)),
        };
    }
}
