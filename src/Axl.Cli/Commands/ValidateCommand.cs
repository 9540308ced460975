using System.Management.Automation;
using System.Text;
using Axl.Dsl;
using Axl.Model;
using Axl.Serialization;
using Axl.Validation;

namespace Axl.Cli.Commands;

/// <summary>axl validate file.axl.ps1[:Name]... [--json]: builds the IR, validates it, prints the summary and hash or the diagnostics.</summary>
public sealed class ValidateCommand : ICliCommand
{
    public string Name => "validate";
    public string Summary => "load workflows, build the IR and check it (exit 1 on any error)";
    public IReadOnlyCollection<string> Flags { get; } = new[] { "--json", "--quiet" };
    public IReadOnlyCollection<string> Options { get; } = Array.Empty<string>();
    public string Usage => """
        Usage: axl validate <file.axl.ps1[:Name]>... [--json] [--quiet]

        Loads each workflow script, builds the IR and checks every rule. Prints, per workflow,
        the IR summary (steps, edges, parameters, order) and its content hash; or the diagnostics,
        each with file, line, step and a fix.

          --json    one JSON document on stdout: {"valid", "workflows": [IR + diagnostics], "errors"}
          --quiet   print nothing; the exit code says it all

        Exit codes: 0 all valid, 1 any error in a workflow or a file that does not load, 2 internal error.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Positional.Count == 0) throw new UsageException("validate needs a workflow file, e.g. axl validate flow.axl.ps1 or flow.axl.ps1:Name.");
        var json = args.Has("--json");
        var quiet = args.Has("--quiet");
        using var host = new AxlEngineHost();

        var results = new List<(AxlWorkflow Workflow, IReadOnlyList<AxlDiagnostic> Diagnostics)>();
        var loadErrors = new List<ErrorRecord>();
        foreach (var reference in args.Positional)
        {
            var (workflows, errors) = host.LoadWorkflows(reference, runsBodies: false);
            loadErrors.AddRange(errors);
            foreach (var wf in workflows) results.Add((wf, WorkflowValidator.ValidateWhileHashing(wf)));
        }
        var valid = loadErrors.Count == 0 && results.All(r => r.Diagnostics.All(d => !d.IsError));

        if (json)
        {
            var doc = new Dictionary<string, object?>
            {
                ["axlVersion"] = AxlInfo.Version,
                ["valid"] = valid,
                ["workflows"] = results.Select(r =>
                {
                    var tree = IrDocument.ToTree(r.Workflow, includeLocations: true, r.Diagnostics);
                    tree["valid"] = r.Diagnostics.All(d => !d.IsError);
                    return (object?)tree;
                }).ToList(),
                ["errors"] = loadErrors.Select(e => (object?)LoadError(e)).ToList(),
            };
            stdout.WriteLine(IrDocument.ToJson(doc));
        }
        else if (!quiet)
        {
            foreach (var e in loadErrors) stderr.WriteLine($"error {e.FullyQualifiedErrorId.Split(',')[0]}: {e.Exception.Message}");
            foreach (var (wf, diagnostics) in results)
            {
                stdout.Write(Describe(wf));
                foreach (var d in diagnostics) (d.IsError ? stderr : stdout).WriteLine(d.ToString());
                var n = diagnostics.Count(d => d.IsError);
                stdout.WriteLine(n == 0 ? "valid: no problems found" : $"invalid: {n} error{(n == 1 ? "" : "s")} in workflow '{wf.Name}'");
                stdout.WriteLine();
            }
        }
        return valid ? ExitCodes.Success : ExitCodes.UserError;
    }

    private static Dictionary<string, object?> LoadError(ErrorRecord e)
    {
        var ex = e.Exception as AxlLoadException;
        return new Dictionary<string, object?>
        {
            ["id"] = e.FullyQualifiedErrorId.Split(',')[0],
            ["message"] = e.Exception.Message,
            ["file"] = ex?.File ?? e.TargetObject?.ToString(),
            ["line"] = ex?.Line ?? 0,
        };
    }

    /// <summary>The human summary of one workflow's IR.</summary>
    public static string Describe(AxlWorkflow wf)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"workflow    {wf.Name}");
        sb.AppendLine($"hash        {wf.Hash}");
        if (wf.SourceFile is not null) sb.AppendLine($"file        {wf.SourceFile}");
        sb.AppendLine($"image       {wf.Image}");
        sb.AppendLine($"steps       {wf.StepCount}, edges {wf.EdgeCount}");
        if (wf.Parameters.Count > 0) sb.AppendLine($"parameters  {string.Join(", ", wf.Parameters.Select(p => p.ToString()))}");
        IReadOnlyList<AxlStep>? order = null;
        try { order = wf.TopologicalOrder(); } catch (InvalidOperationException) { }
        if (order is not null)
        {
            var names = order.Select(s => s.Name).ToList();
            sb.AppendLine($"order       {(names.Count <= 12 ? string.Join(", ", names) : string.Join(", ", names.Take(12)) + $", ... ({names.Count} steps)")}");
        }
        var shown = (order ?? wf.Steps).Take(50).ToList();
        if (shown.Count > 0)
        {
            var w = Math.Max(4, shown.Max(s => s.Name.Length));
            sb.AppendLine();
            sb.AppendLine($"  {"STEP".PadRight(w)}  {"KIND",-7}  {"OUTPUT",-22}  INPUTS");
            foreach (var s in shown)
            {
                var inputs = s.Inputs.Count == 0 ? "-" : string.Join("; ", s.Inputs.Select(i => i.ToString()));
                var extra = s.When is null ? "" : $"  when: {s.Condition?.ToString() ?? s.When}";
                sb.AppendLine($"  {s.Name.PadRight(w)}  {s.Kind.ToString().ToLowerInvariant(),-7}  {s.Output,-22}  {inputs}{extra}");
            }
            if (wf.StepCount > shown.Count) sb.AppendLine($"  ... {wf.StepCount - shown.Count} more steps (axl validate --json shows all)");
        }
        sb.AppendLine();
        return sb.ToString();
    }
}
