using Axl.Model;

namespace Axl.Graph;

/// <summary>Graph walks over the IR. All iterative: a 10,000-step chain must not overflow the stack.</summary>
public static class GraphAlgorithms
{
    /// <summary>
    /// Kahn's algorithm; among ready steps the one defined first goes first, so the order is stable.
    /// Returns null and the cycle when there is one.
    /// </summary>
    public static IReadOnlyList<string>? TopologicalSort(AxlWorkflow wf, out IReadOnlyList<string>? cycle)
    {
        var steps = wf.Steps;
        var index = new Dictionary<string, int>(steps.Count, StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < steps.Count; i++) index.TryAdd(steps[i].Name, i);
        var indegree = new int[steps.Count];
        var successors = new List<int>?[steps.Count];
        foreach (var (from, to) in DistinctPairs(wf, index))
        {
            indegree[to]++;
            (successors[from] ??= new()).Add(to);
        }
        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < steps.Count; i++)
            if (indegree[i] == 0 && index[steps[i].Name] == i) ready.Enqueue(i, i);
        var order = new List<string>(steps.Count);
        while (ready.TryDequeue(out var n, out _))
        {
            order.Add(steps[n].Name);
            if (successors[n] is { } succ)
                foreach (var m in succ)
                    if (--indegree[m] == 0) ready.Enqueue(m, m);
        }
        if (order.Count == index.Count) { cycle = null; return order; }
        cycle = FindCycle(wf);
        return null;
    }

    /// <summary>One cycle as a closed path ("a", "b", "a"), or null when the graph is acyclic.</summary>
    public static IReadOnlyList<string>? FindCycle(AxlWorkflow wf)
    {
        var steps = wf.Steps;
        var index = new Dictionary<string, int>(steps.Count, StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < steps.Count; i++) index.TryAdd(steps[i].Name, i);
        // Repeated edges need no de-duplication here: a successor seen twice is already done (or already on the stack).
        var successors = new List<int>?[steps.Count];
        foreach (var e in wf.Edges)
            if (index.TryGetValue(e.From, out var from) && index.TryGetValue(e.To, out var to)) (successors[from] ??= new()).Add(to);

        var color = new byte[steps.Count]; // 0 white, 1 on stack, 2 done
        var stack = new Stack<(int Node, int Next)>();
        for (int root = 0; root < steps.Count; root++)
        {
            if (color[root] != 0 || index[steps[root].Name] != root) continue;
            stack.Push((root, 0));
            color[root] = 1;
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                if (successors[node] is { } succ && next < succ.Count)
                {
                    stack.Push((node, next + 1));
                    int m = succ[next];
                    if (color[m] == 1)
                    {
                        var path = new List<string> { steps[m].Name };
                        foreach (var (n, _) in stack.Reverse().SkipWhile(f => f.Node != m).Skip(1)) path.Add(steps[n].Name);
                        path.Add(steps[m].Name);
                        return path;
                    }
                    if (color[m] == 0) { color[m] = 1; stack.Push((m, 0)); }
                }
                else color[node] = 2;
            }
        }
        return null;
    }

    /// <summary>Every step that <paramref name="step"/> depends on, directly or transitively.</summary>
    public static IReadOnlySet<string> Ancestors(AxlWorkflow wf, string step)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var work = new Stack<string>();
        work.Push(step);
        while (work.Count > 0)
        {
            foreach (var e in wf.IncomingEdges(work.Pop()))
                if (seen.Add(e.From)) work.Push(e.From);
        }
        seen.Remove(step);
        return seen;
    }

    /// <summary>
    /// Which of <paramref name="candidates"/> are upstream of <paramref name="step"/> (directly or transitively). Walks
    /// up from the step and stops as soon as every candidate is found, so a condition on a parent costs the parent's
    /// edges, not the whole graph; only a candidate that is not upstream makes it walk every ancestor.
    /// </summary>
    public static IReadOnlySet<string> AncestorsAmong(AxlWorkflow wf, string step, IReadOnlySet<string> candidates)
    {
        var found = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (candidates.Count == 0) return found;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { step };
        var work = new Queue<string>();
        work.Enqueue(step);
        while (work.Count > 0)
        {
            foreach (var e in wf.IncomingEdges(work.Dequeue()))
            {
                if (!seen.Add(e.From)) continue;
                if (candidates.Contains(e.From) && found.Add(e.From) && found.Count == candidates.Count) return found;
                work.Enqueue(e.From);
            }
        }
        return found;
    }

    /// <summary>Every step that depends on <paramref name="step"/>, directly or transitively.</summary>
    public static IReadOnlySet<string> Descendants(AxlWorkflow wf, string step)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var work = new Stack<string>();
        work.Push(step);
        while (work.Count > 0)
        {
            foreach (var e in wf.OutgoingEdges(work.Pop()))
                if (seen.Add(e.To)) work.Push(e.To);
        }
        seen.Remove(step);
        return seen;
    }

    private static IEnumerable<(int From, int To)> DistinctPairs(AxlWorkflow wf, Dictionary<string, int> index)
    {
        var seen = new HashSet<(int, int)>();
        foreach (var e in wf.Edges)
        {
            if (!index.TryGetValue(e.From, out var f) || !index.TryGetValue(e.To, out var t)) continue;
            if (seen.Add((f, t))) yield return (f, t);
        }
    }
}
