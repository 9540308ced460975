using Axl.Model;
using Axl.Runtime;

namespace Axl.Visual;

public enum PictureNodeKind { Step, Group, Parameter }

/// <summary>A box of a picture: one step, a group of steps (large graphs), or a workflow parameter.</summary>
public sealed class PictureNode
{
    /// <summary>An id safe in every output format (s0, g3, p1).</summary>
    public string Id { get; init; } = "";
    public PictureNodeKind Kind { get; init; }
    /// <summary>The first line: the step name, "first … last", or "$Parameter".</summary>
    public string Title { get; init; } = "";
    /// <summary>The lines under the title: kind and IO handler, condition, retries, the status of a run.</summary>
    public IReadOnlyList<string> Details { get; init; } = Array.Empty<string>();
    /// <summary>The steps the node stands for (one for a step node).</summary>
    public IReadOnlyList<string> Steps { get; init; } = Array.Empty<string>();
    /// <summary>The status of a run ("succeeded", "failed", "skipped", "cancelled", "running", "pending"), null without a run.</summary>
    public string? Status { get; init; }
    /// <summary>Set when the output was reused ("cache" or "resume").</summary>
    public string? Reused { get; init; }
}

/// <summary>An arrow between two nodes; a data edge is labelled with the input it feeds, an order edge is dashed.</summary>
public sealed record PictureEdge(string From, string To, string? Label, bool Dashed);

/// <summary>
/// A workflow's DAG ready to draw (Mermaid, DOT, SVG), optionally coloured by a run's step statuses. Above
/// <see cref="DefaultSummaryThreshold"/> steps it is summarised: chains become one node, steps with the same
/// upstream and downstream (fan-outs) become one "N steps" node, and when that is not enough, whole levels are grouped;
/// so a 1,000-step workflow still draws in bounded size and time.
/// </summary>
public sealed class WorkflowPicture
{
    public const int DefaultSummaryThreshold = 150;

    public string Name { get; init; } = "";
    public int StepCount { get; init; }
    /// <summary>True when steps were grouped (more steps than the threshold).</summary>
    public bool Summarised => Summary is not null;
    /// <summary>How the steps were grouped ("chains and fan-outs grouped", or by level), null when they were not.</summary>
    public string? Summary { get; init; }
    public IReadOnlyList<PictureNode> Nodes { get; init; } = Array.Empty<PictureNode>();
    public IReadOnlyList<PictureEdge> Edges { get; init; } = Array.Empty<PictureEdge>();
    public IReadOnlyList<DagParameter> Parameters { get; init; } = Array.Empty<DagParameter>();

    public static WorkflowPicture Build(AxlWorkflow wf, int summariseAbove = DefaultSummaryThreshold) =>
        Build(WorkflowDag.FromWorkflow(wf), null, summariseAbove);

    /// <summary>The picture of <paramref name="dag"/>, coloured by the statuses of <paramref name="run"/> when given.</summary>
    public static WorkflowPicture Build(WorkflowDag dag, AxlRun? run, int summariseAbove = DefaultSummaryThreshold)
    {
        var steps = dag.Steps;
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < steps.Count; i++) index.TryAdd(steps[i].Name, i);
        var results = run?.Steps.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);

        // Edges between distinct pairs, with their input labels merged.
        var pairs = new Dictionary<(int, int), (List<string> Labels, bool Order)>();
        foreach (var e in dag.Edges)
        {
            if (!index.TryGetValue(e.From, out var f) || !index.TryGetValue(e.To, out var t)) continue;
            if (!pairs.TryGetValue((f, t), out var p)) pairs[(f, t)] = p = (new List<string>(), true);
            if (e.Input is { } input && !p.Labels.Contains(input)) p.Labels.Add(input);
            if (!e.Order) pairs[(f, t)] = (p.Labels, false);
        }

        var summarised = steps.Count > Math.Max(1, summariseAbove);
        var (group, bucket) = summarised ? Grouping.Summarise(steps.Count, pairs.Keys.ToList(), Math.Max(1, summariseAbove)) : (Enumerable.Range(0, steps.Count).ToArray(), null);

        var members = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < steps.Count; i++) (members.TryGetValue(group[i], out var l) ? l : members[group[i]] = new()).Add(i);

        var nodes = new List<PictureNode>();
        var nodeOf = new Dictionary<int, string>();
        foreach (var (g, list) in members)
        {
            var id = (list.Count == 1 ? "s" : "g") + nodes.Count;
            nodeOf[g] = id;
            nodes.Add(list.Count == 1 ? StepNode(id, steps[list[0]], results) : GroupNode(id, list.Select(i => steps[i]).ToList(), results));
        }

        var edges = new List<PictureEdge>();
        var groupEdges = new Dictionary<(string, string), (int Count, List<string> Labels, bool Order)>();
        foreach (var ((f, t), (labels, order)) in pairs)
        {
            var (a, b) = (nodeOf[group[f]], nodeOf[group[t]]);
            if (a == b) continue;
            if (bucket is not null && bucket[t] - bucket[f] > 1) continue; // grouped by level: only the edges to the next level
            if (!groupEdges.TryGetValue((a, b), out var ge)) ge = (0, new List<string>(), true);
            foreach (var l in labels) if (ge.Labels.Count < 3 && !ge.Labels.Contains(l)) ge.Labels.Add(l);
            groupEdges[(a, b)] = (ge.Count + 1, ge.Labels, ge.Order && order);
        }
        foreach (var ((a, b), (count, labels, order)) in groupEdges)
        {
            var label = count > 1 && (a[0] == 'g' || b[0] == 'g') ? $"{count} edges" : labels.Count == 0 ? null : string.Join(", ", labels);
            edges.Add(new PictureEdge(a, b, label, order));
        }

        // Parameters: a node each, with an arrow to every node that reads it (labelled with the inputs).
        var pIndex = 0;
        foreach (var p in dag.Parameters)
        {
            var readers = new Dictionary<string, List<string>>();
            for (int i = 0; i < steps.Count; i++)
                foreach (var pi in steps[i].ParameterInputs)
                    if (pi.Parameter.Equals(p.Name, StringComparison.OrdinalIgnoreCase))
                    {
                        var target = nodeOf[group[i]];
                        var l = readers.TryGetValue(target, out var x) ? x : readers[target] = new();
                        if (!l.Contains(pi.Input)) l.Add(pi.Input);
                    }
            var id = "p" + pIndex++;
            nodes.Add(new PictureNode
            {
                Id = id,
                Kind = PictureNodeKind.Parameter,
                Title = "$" + p.Name,
                Details = new[] { ParameterValue(p, run) },
            });
            foreach (var (target, inputs) in readers)
                edges.Add(new PictureEdge(id, target, inputs.Count > 3 ? $"{inputs.Count} inputs" : string.Join(", ", inputs), true));
        }

        var summary = !summarised ? null : bucket is null ? "chains and fan-outs grouped" : "grouped by level; edges that skip a level are not drawn";
        return new WorkflowPicture { Name = dag.Name, StepCount = steps.Count, Summary = summary, Nodes = nodes, Edges = edges, Parameters = dag.Parameters };
    }

    private static string ParameterValue(DagParameter p, AxlRun? run)
    {
        if (run is not null && run.Parameters.TryGetValue(p.Name, out var v)) return "= " + Shorten(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "", 40);
        return p.Default is null ? "parameter" : "default " + Shorten(p.Default, 40);
    }

    private static PictureNode StepNode(string id, DagStep s, Dictionary<string, AxlStepResult>? results)
    {
        var details = new List<string> { s.IoHandler.Length == 0 ? s.Kind : $"{s.Kind} · {s.IoHandler}" };
        if (s.When is { Length: > 0 } when) details.Add("when " + Shorten(when, 48));
        if (s.Retries > 0) details.Add($"retries {s.Retries}");
        AxlStepResult? r = null;
        if (results is not null && results.TryGetValue(s.Name, out r))
        {
            var status = r.Status.ToString().ToLowerInvariant();
            if (r.ReusedFrom is { } from) status += $" ({from})";
            else if (r.Duration is { } d && r.Status != StepStatus.Skipped) status += " · " + Format.Duration(d);
            if (r.Attempts > 1) status += $" · {r.Attempts} attempts";
            details.Add(status);
        }
        return new PictureNode
        {
            Id = id,
            Kind = PictureNodeKind.Step,
            Title = s.Name,
            Details = details,
            Steps = new[] { s.Name },
            Status = r?.Status.ToString().ToLowerInvariant() ?? (results is null ? null : "pending"),
            Reused = r?.ReusedFrom,
        };
    }

    private static readonly StepStatus[] Worst = { StepStatus.Failed, StepStatus.Cancelled, StepStatus.Running, StepStatus.Pending, StepStatus.Skipped, StepStatus.Succeeded };

    private static PictureNode GroupNode(string id, List<DagStep> list, Dictionary<string, AxlStepResult>? results)
    {
        var details = new List<string> { $"{list.Count} steps" };
        string? status = null;
        if (results is not null)
        {
            var counts = list.GroupBy(s => results.TryGetValue(s.Name, out var r) ? r.Status : StepStatus.Pending).ToDictionary(g => g.Key, g => g.Count());
            details.Add(string.Join(", ", Worst.Where(counts.ContainsKey).Select(k => $"{counts[k]} {k.ToString().ToLowerInvariant()}")));
            status = Worst.First(counts.ContainsKey).ToString().ToLowerInvariant();
        }
        return new PictureNode
        {
            Id = id,
            Kind = PictureNodeKind.Group,
            Title = $"{Shorten(list[0].Name, 24)} … {Shorten(list[^1].Name, 24)}",
            Details = details,
            Steps = list.Select(s => s.Name).ToList(),
            Status = status,
        };
    }

    internal static string Shorten(string text, int max)
    {
        text = text.Replace('\n', ' ').Replace('\r', ' ');
        return text.Length <= max ? text : text[..(max - 1)] + "…";
    }
}

/// <summary>Groups the steps of a large graph so at most about <c>limit</c> nodes remain.</summary>
internal static class Grouping
{
    /// <summary>
    /// The group of every step (a group id is the index of one of its steps) and, when chains and fan-outs were not
    /// enough and whole levels were grouped, the level bucket of every step (null otherwise).
    /// </summary>
    public static (int[] Groups, int[]? Bucket) Summarise(int count, List<(int From, int To)> edges, int limit)
    {
        var parent = Enumerable.Range(0, count).ToArray();
        int Find(int x) { while (parent[x] != x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; }
        void Union(int a, int b) { a = Find(a); b = Find(b); if (a != b) parent[Math.Max(a, b)] = Math.Min(a, b); }

        for (int round = 0; round < 4; round++)
        {
            var (preds, succs) = Neighbours(count, edges, Find);
            var groups = Enumerable.Range(0, count).Where(i => Find(i) == i).ToList();
            if (groups.Count <= limit) break;
            var changed = false;
            // Chains: a group whose only successor has it as its only predecessor joins it.
            foreach (var g in groups)
                if (succs[g] is { Count: 1 } s && s.First() is var next && preds[next] is { Count: 1 } && Find(g) != Find(next)) { Union(g, next); changed = true; }
            (preds, succs) = Neighbours(count, edges, Find);
            if (preds.Count <= limit) break; // chains were enough: parallel chains stay apart
            // Fan-outs: groups with the same predecessors and successors join.
            var bySignature = new Dictionary<string, int>();
            foreach (var g in Enumerable.Range(0, count).Where(i => Find(i) == i))
            {
                var key = string.Join(",", preds[g].OrderBy(x => x)) + "|" + string.Join(",", succs[g].OrderBy(x => x));
                if (bySignature.TryGetValue(key, out var other)) { Union(other, g); changed = true; }
                else bySignature[key] = g;
            }
            if (!changed) break;
        }
        var roots = Enumerable.Range(0, count).Select(Find).ToArray();
        if (roots.Distinct().Count() <= limit) return (roots, null);

        // Still too many: group by level (longest path from a source), levels bucketed so there are at most limit groups.
        var level = new int[count];
        var indegree = new int[count];
        var next2 = new List<int>?[count];
        foreach (var (f, t) in edges) { indegree[t]++; (next2[f] ??= new()).Add(t); }
        var queue = new Queue<int>(Enumerable.Range(0, count).Where(i => indegree[i] == 0));
        while (queue.Count > 0)
        {
            var n = queue.Dequeue();
            if (next2[n] is { } list)
                foreach (var m in list)
                {
                    level[m] = Math.Max(level[m], level[n] + 1);
                    if (--indegree[m] == 0) queue.Enqueue(m);
                }
        }
        var levels = level.Max() + 1;
        // Fewer buckets than the limit: a long chain of level groups is all a summary this coarse can usefully show.
        var buckets = Math.Max(1, Math.Min(levels, Math.Min(limit, 40)));
        var firstOfBucket = new Dictionary<int, int>();
        var result = new int[count];
        var bucketOf = new int[count];
        for (int i = 0; i < count; i++)
        {
            var b = (int)((long)level[i] * buckets / levels);
            if (!firstOfBucket.TryGetValue(b, out var first)) firstOfBucket[b] = first = i;
            result[i] = first;
            bucketOf[i] = b;
        }
        return (result, bucketOf);
    }

    private static (Dictionary<int, HashSet<int>> Preds, Dictionary<int, HashSet<int>> Succs) Neighbours(int count, List<(int From, int To)> edges, Func<int, int> find)
    {
        var preds = new Dictionary<int, HashSet<int>>();
        var succs = new Dictionary<int, HashSet<int>>();
        for (int i = 0; i < count; i++) { var r = find(i); preds.TryAdd(r, new()); succs.TryAdd(r, new()); }
        foreach (var (f, t) in edges)
        {
            var (a, b) = (find(f), find(t));
            if (a == b) continue;
            succs[a].Add(b);
            preds[b].Add(a);
        }
        return (preds, succs);
    }
}

/// <summary>Short human texts shared by the pictures and the report.</summary>
public static class Format
{
    public static string Duration(TimeSpan d) =>
        d.TotalSeconds < 1 ? $"{d.TotalMilliseconds:0} ms" : d.TotalMinutes < 1 ? $"{d.TotalSeconds:0.0} s" : d.TotalHours < 1 ? $"{(int)d.TotalMinutes} min {d.Seconds} s" : $"{(int)d.TotalHours} h {d.Minutes} min";

    public static string Bytes(long? n) => n switch
    {
        null => "",
        < 1024 => $"{n} B",
        < 1024 * 1024 => $"{n / 1024.0:0.#} KB",
        < 1024L * 1024 * 1024 => $"{n / (1024.0 * 1024):0.#} MB",
        _ => $"{n / (1024.0 * 1024 * 1024):0.##} GB",
    };
}
