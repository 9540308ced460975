using System.Diagnostics;
using Axl.Dsl;
using Axl.Graph;
using Axl.Model;
using Axl.Validation;

namespace Axl.Core.Tests;

/// <summary>The IR as a graph: lookups, adjacency, topological order, ancestors and descendants, cycles, and scale.</summary>
public class IrGraphTests
{
    [Fact]
    public void GetStep_is_case_insensitive_and_returns_null_for_unknown_names()
    {
        var wf = AutoGraphTests.Diamond();
        Assert.Same(wf.GetStep("join"), wf.GetStep("JOIN"));
        Assert.Equal("join", wf.GetStep("Join")!.Name);
        Assert.Null(wf.GetStep("nope"));
        Assert.True(wf.ContainsStep("LEFT"));
        Assert.False(wf.ContainsStep("le"));
        Assert.Equal(4, wf.StepCount);
    }

    [Fact]
    public void Incoming_and_outgoing_edges()
    {
        var wf = AutoGraphTests.Diamond();
        Assert.Equal(new[] { "left", "right" }, wf.IncomingEdges("JOIN").Select(e => e.From));
        Assert.Equal(new[] { "left", "right" }, wf.OutgoingEdges("start").Select(e => e.To));
        Assert.Empty(wf.IncomingEdges("start"));
        Assert.Empty(wf.OutgoingEdges("join"));
        Assert.Empty(wf.IncomingEdges("unknown"));
    }

    [Fact]
    public void TopologicalOrder_keeps_definition_order_among_ready_steps()
    {
        var wf = T.Builder()
            .AddStep("report", "param($train, $evaluate) 1", null, T.At(2))
            .AddStep("zeta", "1", null, T.At(3))
            .AddStep("evaluate", "param($train) 1", null, T.At(4))
            .AddStep("alpha", "1", null, T.At(5))
            .AddStep("train", "1", null, T.At(6))
            .Build();
        Assert.Equal(new[] { "zeta", "alpha", "train", "evaluate", "report" }, wf.TopologicalOrder().Select(s => s.Name));
        Assert.Same(wf.TopologicalOrder(), wf.TopologicalOrder());
        Assert.Equal(new[] { "zeta", "alpha", "train", "evaluate", "report" }, GraphAlgorithms.TopologicalSort(wf, out var cycle));
        Assert.Null(cycle);
    }

    [Fact]
    public void TopologicalOrder_throws_on_a_cycle_with_the_path()
    {
        var wf = T.Builder()
            .AddStep("a", "param($b) 1", null, T.At(2))
            .AddStep("b", "param($a) 1", null, T.At(3))
            .AddStep("free", "1", null, T.At(4))
            .Build();
        var ex = Assert.Throws<InvalidOperationException>(() => wf.TopologicalOrder());
        Assert.Contains("a -> b -> a", ex.Message);
        Assert.Null(GraphAlgorithms.TopologicalSort(wf, out var cycle));
        Assert.Equal(new[] { "a", "b", "a" }, cycle);
    }

    [Fact]
    public void Ancestors_and_descendants_follow_data_and_order_edges()
    {
        var wf = T.Builder()
            .AddStep("a", "1", null, T.At(2))
            .AddStep("b", "param($a) 1", null, T.At(3))
            .AddStep("c", "1", new StepOptions { DependsOn = new[] { "b" } }, T.At(4))
            .AddStep("d", "param($c) 1", null, T.At(5))
            .AddStep("lonely", "1", null, T.At(6))
            .Build();
        Assert.Equal(new[] { "a", "b", "c" }, GraphAlgorithms.Ancestors(wf, "d").OrderBy(x => x));
        Assert.Equal(new[] { "a", "b", "c" }, wf.Ancestors("D").OrderBy(x => x));
        Assert.Equal(new[] { "b", "c", "d" }, GraphAlgorithms.Descendants(wf, "a").OrderBy(x => x));
        Assert.Empty(GraphAlgorithms.Ancestors(wf, "a"));
        Assert.Empty(GraphAlgorithms.Descendants(wf, "d"));
        Assert.Empty(GraphAlgorithms.Ancestors(wf, "lonely"));
        Assert.Null(GraphAlgorithms.FindCycle(wf));
    }

    [Fact]
    public void Ancestors_of_a_step_on_a_cycle_do_not_include_itself_or_loop_forever()
    {
        var wf = T.Builder().AddStep("a", "param($b) 1", null, T.At(2)).AddStep("b", "param($a) 1", null, T.At(3)).Build();
        Assert.Equal(new[] { "b" }, GraphAlgorithms.Ancestors(wf, "a"));
        Assert.Equal(new[] { "b" }, GraphAlgorithms.Descendants(wf, "a"));
    }

    private const int Big = 10_000;

    private static AxlWorkflow Chain(int n, bool closed)
    {
        var b = new WorkflowBuilder("chain", null, T.At(1));
        b.AddStep("s0", closed ? $"param($s{n - 1}) 0" : "0", null, T.At(2));
        for (int i = 1; i < n; i++) b.AddStep($"s{i}", $"param($s{i - 1}) $s{i - 1} + 1", null, T.At(i + 2));
        return b.Build();
    }

    [Fact]
    public void A_10000_step_chain_builds_validates_sorts_and_walks_without_recursion()
    {
        var sw = Stopwatch.StartNew();
        var wf = Chain(Big, closed: false);
        Assert.Equal(Big, wf.StepCount);
        Assert.Equal(Big - 1, wf.EdgeCount);
        var diagnostics = WorkflowValidator.Validate(wf);
        T.NoErrors(diagnostics);

        var order = wf.TopologicalOrder();
        Assert.Equal(Big, order.Count);
        Assert.Equal("s0", order[0].Name);
        Assert.Equal($"s{Big - 1}", order[^1].Name);
        Assert.True(order.Select(s => s.Name).SequenceEqual(Enumerable.Range(0, Big).Select(i => $"s{i}")));

        var ancestors = wf.Ancestors($"s{Big - 1}");
        Assert.Equal(Big - 1, ancestors.Count);
        Assert.Contains("s0", ancestors);
        Assert.Equal(Big - 1, GraphAlgorithms.Descendants(wf, "s0").Count);
        Assert.Same(wf.GetStep("s5000"), wf.GetStep("S5000"));
        Assert.StartsWith("blake3:", wf.Hash);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"took {sw.Elapsed}");
    }

    [Fact]
    public void FindCycle_on_a_10000_step_cycle_returns_the_full_path()
    {
        var wf = Chain(Big, closed: true);
        var cycle = GraphAlgorithms.FindCycle(wf);
        Assert.NotNull(cycle);
        Assert.Equal(Big + 1, cycle!.Count);
        Assert.Equal("s0", cycle[0]);
        Assert.Equal("s0", cycle[^1]);
        for (int i = 0; i < Big; i++) Assert.Equal($"s{i}", cycle[i]);

        var d = T.Single(WorkflowValidator.Validate(wf), DiagnosticIds.CycleDetected);
        Assert.StartsWith("the steps form a cycle: s0 -> s1 -> s2 -> ", d.Message);
        Assert.EndsWith($"s{Big - 1} -> s0.", d.Message);
        Assert.Throws<InvalidOperationException>(() => wf.TopologicalOrder());
    }

    [Fact]
    public void A_condition_far_down_a_long_chain_sees_its_ancestors()
    {
        var b = new WorkflowBuilder("chain", null, T.At(1));
        b.AddStep("s0", "0", null, T.At(2));
        for (int i = 1; i < 2000; i++) b.AddStep($"s{i}", $"param($s{i - 1}) 1", null, T.At(i + 2));
        b.AddStep("last", "param($s1999) 1", new StepOptions { When = "s0 -eq 0" }, T.At(5000));
        T.NoErrors(WorkflowValidator.Validate(b.Build()));
    }
}
