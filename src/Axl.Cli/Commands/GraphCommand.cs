using Axl.Model;
using Axl.Runtime;
using Axl.Visual;

namespace Axl.Cli.Commands;

/// <summary>axl graph file.axl.ps1[:Name] [--format mermaid|dot|svg] [-o FILE] [--name WF]: the workflow's DAG as a picture (Show-AxlWorkflow).</summary>
public sealed class GraphCommand : ICliCommand
{
    public string Name => "graph";
    public string Summary => "draw a workflow's DAG: 'axl graph flow.axl.ps1 --format mermaid|dot|svg'";
    public IReadOnlyCollection<string> Flags { get; } = Array.Empty<string>();
    public IReadOnlyCollection<string> Options { get; } = new[] { "--format", "-o", "--out", "--name", "--summarise-above" };
    public string Usage => $"""
        Usage: axl graph <file.axl.ps1[:Name]> [--format mermaid|dot|svg] [-o FILE] [--name WORKFLOW]

        Draws the workflow's DAG, like Show-AxlWorkflow: a box per step with its kind and IO handler, its
        condition and retries; the parameters; edges labelled with the input they feed (order edges dashed).
          mermaid  (default) a Mermaid flowchart: paste it into Markdown (GitHub, GitLab, Azure DevOps wikis)
                   inside a ```mermaid block
          dot      Graphviz DOT: render it with dot -Tsvg or dot -Tpng
          svg      SVG laid out by MSAGL (no Graphviz needed): open it in a browser
        Workflows of more than {WorkflowPicture.DefaultSummaryThreshold} steps are summarised: chains and fan-outs become one "N steps" node.

          --format FORMAT        mermaid, dot or svg
          -o, --out FILE         write the picture to FILE (atomically) instead of stdout
          --name WORKFLOW        the workflow to draw when the file defines several (same as file:Name)
          --summarise-above N    steps above which the picture is summarised (default {WorkflowPicture.DefaultSummaryThreshold})

        Exit codes: 0 drawn, 1 the file does not load or names no such workflow, bad arguments; 2 internal error.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Positional.Count != 1) throw new UsageException("graph takes one workflow file, e.g. axl graph flow.axl.ps1 --format mermaid.");
        var format = (args.Option("--format") ?? "mermaid").ToLowerInvariant();
        if (!PictureFormat.IsKnown(format)) throw new UsageException($"--format takes {string.Join(", ", PictureFormat.Names)}, got '{args.Option("--format")}'.");
        var summariseAbove = WorkflowPicture.DefaultSummaryThreshold;
        if (args.Option("--summarise-above") is { } n && (!int.TryParse(n, out summariseAbove) || summariseAbove < 1))
            throw new UsageException($"--summarise-above takes a number of steps (1 or more), got '{n}'.");
        var outFile = args.Option("-o") ?? args.Option("--out");

        using var host = new AxlEngineHost();
        var (workflows, errors) = host.LoadWorkflows(args.Positional[0], runsBodies: false);
        foreach (var e in errors) stderr.WriteLine($"error {e.FullyQualifiedErrorId.Split(',')[0]}: {e.Exception.Message}");
        if (errors.Count > 0) return ExitCodes.UserError;
        if (args.Option("--name") is { } name)
        {
            var all = workflows;
            workflows = all.Where(w => w.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (workflows.Count == 0)
                throw new UsageException($"{args.Positional[0]} defines no workflow '{name}'. Its workflows: {string.Join(", ", all.Select(w => w.Name))}.");
        }
        if (workflows.Count == 0) throw new UsageException($"{args.Positional[0]} defines no workflow.");
        if (workflows.Count > 1 && outFile is not null)
            throw new UsageException($"{args.Positional[0]} defines {workflows.Count} workflows ({string.Join(", ", workflows.Select(w => w.Name))}); -o writes one. Fix: give --name WORKFLOW.");

        foreach (var wf in workflows)
        {
            var text = PictureFormat.Render(wf, format, summariseAbove);
            if (outFile is null) stdout.Write(text);
            else
            {
                var path = Path.GetFullPath(outFile);
                try { RunStore.WriteAtomic(path, text, durable: false); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new UsageException($"could not write {path}: {ex.Message}");
                }
                stderr.WriteLine($"axl: wrote the {format} picture of workflow '{wf.Name}' ({wf.StepCount} steps) to {path}");
            }
        }
        return ExitCodes.Success;
    }
}
