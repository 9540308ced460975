using System.Globalization;
using Axl.Jobs.Argo;
using Axl.Serialization;

namespace Axl.Cli.Commands;

/// <summary>axl argo templates [--workflow X]... [--superseded] [--remove [--dry-run]]: Get-/Remove-AxlArgoTemplate for the command line (ArgoTemplates).</summary>
public sealed class ArgoCommand : ICliCommand
{
    public string Name => "argo";
    public string Summary => "the WorkflowTemplates of split workflows on a cluster: 'axl argo templates --superseded --remove'";
    public IReadOnlyCollection<string> Flags { get; } = new[] { "--superseded", "--remove", "--dry-run", "--json" };
    public IReadOnlyCollection<string> Options { get; } = new[] { "--workflow", "--kubeconfig", "--context", "--namespace" };
    public string Usage => """
        Usage: axl argo templates [--workflow NAME]... [--superseded] [--remove [--dry-run]] [connection]

        Lists the WorkflowTemplates that submitting a workflow over Argo's limits installed (a split workflow:
        labels axl.dev/workflow, axl.dev/workflow-hash, axl.dev/part), one line each: name, workflow, version
        (the workflow hash), part, created, and "superseded" or "in use by <running Workflows>". Like
        Get-AxlArgoTemplate and Remove-AxlArgoTemplate.

          --workflow NAME      only this workflow's (its name or Kubernetes name; wildcards * ? [..]; repeatable)
          --superseded         only templates of superseded versions: every version of a workflow but the newest
                               (by its templates' or its last Workflow's creation), never one a running Workflow uses
          --remove             remove the templates listed; one a running Workflow uses is refused (an error line)
          --dry-run            with --remove: print what would be removed, remove nothing
          --json               print the templates as a JSON array (with --remove: each with "removed" or "refused")
          --kubeconfig FILE    the kubeconfig (default $KUBECONFIG, ~/.kube/config, else the pod's service account)
          --context NAME       the kubeconfig context (default: its current context)
          --namespace NS       the namespace (default: the context's, else "default")

        Exit codes: 0 done; 1 a bad option, an unreachable or refusing cluster, a template in use not removed,
        --workflow NAME (without wildcards, without --superseded) matching nothing; 2 internal error.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Positional.Count != 1 || args.Positional[0] != "templates")
            throw new UsageException(args.Positional.Count == 0 ? "argo needs a subcommand: axl argo templates [...]." : $"unknown argo subcommand '{string.Join(" ", args.Positional)}'. Known: templates.");
        if (args.Has("--dry-run") && !args.Has("--remove")) throw new UsageException("--dry-run goes with --remove (listing changes nothing).");
        var workflows = args.Options.TryGetValue("--workflow", out var w) ? w : new List<string>();
        var superseded = args.Has("--superseded");
        try
        {
            using var cluster = ArgoCluster.Connect(new ArgoSubmitOptions
            {
                KubeConfig = args.Option("--kubeconfig") is { } kc ? Path.GetFullPath(kc) : null,
                Context = args.Option("--context"),
                Namespace = args.Option("--namespace"),
            });
            var store = new ArgoTemplates(cluster);
            var found = store.ListAsync(workflows, superseded).GetAwaiter().GetResult();
            var code = ExitCodes.Success;
            if (!superseded)
                foreach (var name in workflows.Where(n => n.IndexOfAny(['*', '?', '[']) < 0))
                    if (!found.Any(t => string.Equals(t.Workflow, name, StringComparison.OrdinalIgnoreCase) || string.Equals(t.WorkflowLabel, name, StringComparison.OrdinalIgnoreCase)))
                    {
                        stderr.WriteLine($"error Axl.ArgoTemplateNotFound: no WorkflowTemplates of workflow '{name}' in namespace {cluster.Namespace} ({cluster.Server}).");
                        code = ExitCodes.UserError;
                    }
            var outcome = new Dictionary<string, string>(StringComparer.Ordinal);
            if (args.Has("--remove") && found.Count > 0)
            {
                var usage = store.UsageAsync().GetAwaiter().GetResult();
                foreach (var t in found)
                {
                    if (usage.TryGetValue(t.Name, out var users))
                    {
                        stderr.WriteLine($"error Axl.ArgoTemplateInUse: WorkflowTemplate {t.Name} is used by running Workflow {string.Join(", ", users)}: not removed. Fix: wait until it ends (or stop it) and remove it then.");
                        outcome[t.Name] = "refused";
                        code = ExitCodes.UserError;
                        continue;
                    }
                    if (args.Has("--dry-run"))
                    {
                        outcome[t.Name] = "would remove";
                        continue;
                    }
                    var removal = store.RemoveAsync(t.Name, usage).GetAwaiter().GetResult();
                    outcome[t.Name] = removal.Removed ? "removed" : "already gone";
                }
            }
            if (args.Has("--json"))
                stdout.WriteLine(IrDocument.ToJson(found.Select(t => (object?)ToTree(t, outcome.GetValueOrDefault(t.Name))).ToList()));
            else
            {
                foreach (var t in found) stdout.WriteLine(Line(t, outcome.GetValueOrDefault(t.Name)));
                if (args.Has("--remove"))
                    stderr.WriteLine($"axl: {outcome.Values.Count(v => v == "removed")} removed{(args.Has("--dry-run") ? $", {outcome.Values.Count(v => v == "would remove")} would be removed (dry run)" : "")}, {outcome.Values.Count(v => v == "refused")} in use, of {found.Count} listed in namespace {cluster.Namespace}");
                else if (found.Count == 0)
                    stderr.WriteLine($"axl: no {(superseded ? "superseded " : "")}WorkflowTemplates of split workflows in namespace {cluster.Namespace}");
            }
            return code;
        }
        catch (ArgoClusterException ex)
        {
            stderr.WriteLine($"error {(ex.StatusCode is null ? "Axl.ClusterUnavailable" : "Axl.ClusterRefused")}: {ex.Message}");
            return ExitCodes.UserError;
        }
    }

    private static string Line(ArgoTemplateInfo t, string? outcome) =>
        $"{t.Name}  workflow={t.Workflow} version={t.WorkflowHash} part={t.Part?.ToString(CultureInfo.InvariantCulture) ?? "-"} created={t.Created?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-"}" +
        (t.Superseded ? " superseded" : "") + (t.InUse ? $" in-use-by={string.Join(",", t.UsedBy)}" : "") + (outcome is null ? "" : $"  [{outcome}]");

    private static Dictionary<string, object?> ToTree(ArgoTemplateInfo t, string? outcome)
    {
        var tree = new Dictionary<string, object?>
        {
            ["name"] = t.Name, ["namespace"] = t.Namespace, ["workflow"] = t.Workflow, ["workflowLabel"] = t.WorkflowLabel,
            ["workflowHash"] = t.WorkflowHash, ["part"] = t.Part, ["created"] = t.Created?.ToString("o", CultureInfo.InvariantCulture),
            ["superseded"] = t.Superseded, ["usedBy"] = t.UsedBy.Cast<object?>().ToList(), ["axlVersion"] = t.AxlVersion,
        };
        if (outcome is not null) tree["outcome"] = outcome;
        return tree;
    }
}
