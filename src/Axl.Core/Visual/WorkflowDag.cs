using System.Text.Json;
using Axl.Model;
using Axl.Runtime;
using Axl.Serialization;

namespace Axl.Visual;

/// <summary>A step as pictures show it: name, kind, IO handler, condition, retries, and the workflow parameters it reads.</summary>
public sealed record DagStep(string Name, string Kind, string IoHandler, string? When, int Retries, IReadOnlyList<DagParameterInput> ParameterInputs);

/// <summary>A step input fed by a workflow parameter (input name and parameter name).</summary>
public sealed record DagParameterInput(string Input, string Parameter);

/// <summary>An edge: a data edge names the input it feeds; an order edge (-DependsOn) has none.</summary>
public sealed record DagEdge(string From, string To, string? Input, bool Order);

/// <summary>A workflow parameter: its name and its default as text (masked when sensitive), null when it has none.</summary>
public sealed record DagParameter(string Name, string? Default);

/// <summary>
/// The shape of a workflow that its pictures need, and no more: steps, edges, parameters. Built from the IR, and kept
/// with every local run (&lt;run&gt;/dag.json) so a run's report draws the DAG the run ran, even after the workflow file
/// changed or moved.
/// </summary>
public sealed class WorkflowDag
{
    public const string FileName = "dag.json";

    public string Name { get; init; } = "";
    public IReadOnlyList<DagStep> Steps { get; init; } = Array.Empty<DagStep>();
    public IReadOnlyList<DagEdge> Edges { get; init; } = Array.Empty<DagEdge>();
    public IReadOnlyList<DagParameter> Parameters { get; init; } = Array.Empty<DagParameter>();

    public static WorkflowDag FromWorkflow(AxlWorkflow wf) => new()
    {
        Name = wf.Name,
        Steps = wf.Steps.Select(s => new DagStep(s.Name, s.Kind.ToString().ToLowerInvariant(), s.IoHandler, s.Condition?.ToString() ?? s.When, s.Retries,
            s.Inputs.Where(i => i.Source == BindingSource.Parameter && i.SourceName is not null).Select(i => new DagParameterInput(i.Name, i.SourceName!)).ToList())).ToList(),
        Edges = wf.Edges.Select(e => new DagEdge(e.From, e.To, e.Kind == EdgeKind.Data ? e.Input : null, e.Kind == EdgeKind.Order)).ToList(),
        Parameters = wf.Parameters.Select(p => new DagParameter(p.Name, !p.HasDefault ? null : p.Sensitive ? AxlParameter.Masked : Convert.ToString(p.Default, System.Globalization.CultureInfo.InvariantCulture))).ToList(),
    };

    /// <summary>Only the steps, without edges: what a run recorded before runs kept their DAG can still show.</summary>
    public static WorkflowDag FromRun(AxlRun run) => new()
    {
        Name = run.Workflow,
        Steps = run.Steps.Select(s => new DagStep(s.Name, "step", s.OutputHandler ?? "", null, 0, Array.Empty<DagParameterInput>())).ToList(),
        Parameters = run.Parameters.Select(kv => new DagParameter(kv.Key, Convert.ToString(kv.Value, System.Globalization.CultureInfo.InvariantCulture))).ToList(),
    };

    /// <summary>Writes the DAG into a run directory (atomically).</summary>
    public void Save(string runDirectory) => RunStore.WriteAtomic(Path.Combine(runDirectory, FileName), IrDocument.ToJson(ToTree()), durable: false);

    /// <summary>The DAG kept with a run, or null when the run has none (recorded by an older Axl) or it does not read.</summary>
    public static WorkflowDag? Load(string runDirectory)
    {
        var file = Path.Combine(runDirectory, FileName);
        if (!File.Exists(file)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var r = doc.RootElement;
            return new WorkflowDag
            {
                Name = Str(r, "workflow") ?? "",
                Steps = r.GetProperty("steps").EnumerateArray().Select(s => new DagStep(
                    Str(s, "name") ?? "", Str(s, "kind") ?? "", Str(s, "ioHandler") ?? "", Str(s, "when"),
                    s.TryGetProperty("retries", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt32() : 0,
                    s.TryGetProperty("parameters", out var ps) && ps.ValueKind == JsonValueKind.Array
                        ? ps.EnumerateArray().Select(p => new DagParameterInput(Str(p, "input") ?? "", Str(p, "parameter") ?? "")).ToList()
                        : new List<DagParameterInput>())).ToList(),
                Edges = r.GetProperty("edges").EnumerateArray().Select(e => new DagEdge(Str(e, "from") ?? "", Str(e, "to") ?? "", Str(e, "input"),
                    e.TryGetProperty("order", out var o) && o.ValueKind == JsonValueKind.True)).ToList(),
                Parameters = r.TryGetProperty("parameters", out var pe) && pe.ValueKind == JsonValueKind.Array
                    ? pe.EnumerateArray().Select(p => new DagParameter(Str(p, "name") ?? "", Str(p, "default"))).ToList()
                    : new List<DagParameter>(),
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    public Dictionary<string, object?> ToTree() => new()
    {
        ["workflow"] = Name,
        ["steps"] = Steps.Select(s => (object?)new Dictionary<string, object?>
        {
            ["name"] = s.Name,
            ["kind"] = s.Kind,
            ["ioHandler"] = s.IoHandler,
            ["when"] = s.When,
            ["retries"] = s.Retries,
            ["parameters"] = s.ParameterInputs.Select(p => (object?)new Dictionary<string, object?> { ["input"] = p.Input, ["parameter"] = p.Parameter }).ToList(),
        }).ToList(),
        ["edges"] = Edges.Select(e => (object?)new Dictionary<string, object?> { ["from"] = e.From, ["to"] = e.To, ["input"] = e.Input, ["order"] = e.Order }).ToList(),
        ["parameters"] = Parameters.Select(p => (object?)new Dictionary<string, object?> { ["name"] = p.Name, ["default"] = p.Default }).ToList(),
    };

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
