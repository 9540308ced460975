using Axl.Compilers.Argo;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// A split workflow runs like the unsplit one: random DAGs with conditions on step values and on a parameter, order
/// edges (-DependsOn) after steps that may be skipped, and chains of skips, played by <see cref="ArgoRunSimulator"/>
/// with many sets of step values. Every step must end the same way (Succeeded, Skipped or Omitted) and, when it runs,
/// get the same artifacts (from the same steps) and parameters.
/// </summary>
public sealed class ArgoSplitBehaviourTests
{
    private const string File = "/flows/behaviour.axl.ps1";

    private static readonly ArgoCompileOptions Unsplit = new() { Split = ArgoSplit.None, MaxBytes = long.MaxValue, MaxTemplates = int.MaxValue, MaxDagTasks = int.MaxValue };

    /// <summary>
    /// n steps; each reads up to 3 earlier steps (mostly near ones, some far), about a third have a condition on one of
    /// their inputs' values (sometimes with the Mode parameter), a fifth come after an earlier step by -DependsOn only.
    /// </summary>
    private static AxlWorkflow RandomWorkflow(int seed, int n, string store = "")
    {
        var rng = new Random(seed);
        var b = new WorkflowBuilder("behaviour", new WorkflowDefinitionOptions { ArtifactStore = store.Length == 0 ? null : store }, new SourceLocation(File, 1));
        b.AddParameter("Mode", "fast", null, null, new SourceLocation(File, 2));
        for (var i = 0; i < n; i++)
        {
            var inputs = new SortedSet<int>();
            var want = i == 0 ? 0 : rng.Next(0, Math.Min(i, 3) + 1);
            while (inputs.Count < want) inputs.Add(rng.Next(10) < 8 ? Math.Max(0, i - 1 - rng.Next(Math.Min(i, 12))) : rng.Next(i));
            string[] after = i > 1 && rng.Next(5) == 0 ? [$"s{rng.Next(i)}"] : [];
            after = after.Where(a => !inputs.Contains(int.Parse(a[1..]))).ToArray();
            var upstream = inputs.Select(j => $"s{j}").Concat(after).ToList();
            string? when = null;
            // A condition reads a step it takes as input: one that reads a step it only comes after (-DependsOn), which
            // may be skipped, has no value to read and fails in every host.
            if (inputs.Count > 0 && rng.Next(3) == 0)
            {
                var on = $"s{inputs.ElementAt(rng.Next(inputs.Count))}";
                when = $"{on} -gt {rng.Next(20, 80)}" + (rng.Next(4) == 0 ? " -and $Mode -eq 'fast'" : "");
            }
            var parameters = inputs.Select(j => $"$s{j}").ToList();
            if (rng.Next(6) == 0) parameters.Add("$Mode");
            var body = parameters.Count == 0 ? "1" : $"param({string.Join(", ", parameters)}) 1";
            b.AddStep($"s{i}", body, new StepOptions { When = when, DependsOn = after.Length == 0 ? null : after }, new SourceLocation(File, i + 3));
        }
        return b.Build();
    }

    /// <summary>A step's value (what its value parameter holds) for one set of values: a number 0-99.</summary>
    private static Func<string, string> Values(int seed) => step => ((uint)HashCode.Combine(seed, step.GetHashCode(StringComparison.Ordinal)) % 100).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void AssertSameRun(ArgoRunSimulator expected, ArgoRunSimulator actual, string what)
    {
        Assert.Equal(expected.Steps.Keys.Order(StringComparer.Ordinal), actual.Steps.Keys.Order(StringComparer.Ordinal));
        foreach (var (step, e) in expected.Steps)
        {
            var a = actual.Steps[step];
            Assert.True(e.Phase == a.Phase, $"{what}: step {step} ended {a.Phase}, unsplit {e.Phase}");
            Assert.True(e.Artifacts.OrderBy(kv => kv.Key).SequenceEqual(a.Artifacts.OrderBy(kv => kv.Key)),
                $"{what}: step {step} got artifacts [{string.Join(", ", a.Artifacts)}], unsplit [{string.Join(", ", e.Artifacts)}]");
            Assert.True(e.Parameters.OrderBy(kv => kv.Key).SequenceEqual(a.Parameters.OrderBy(kv => kv.Key)), $"{what}: step {step} parameters differ");
        }
        Assert.Equal(expected.Pods, actual.Pods);
    }

    public static TheoryData<int, int, int, string> Cases() => new()
    {
        // seed, steps, DAG task limit (templates: one more), artifact store
        { 1, 120, 8, "" },
        { 2, 300, 8, "" },
        { 3, 200, 10, "s3://bucket/runs" },
        { 4, 250, 9, "pvc:10Gi" },
        { 5, 400, 12, "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_step_runs_skips_or_is_left_out_exactly_as_unsplit_with_the_same_inputs(int seed, int steps, int maxTasks, string store)
    {
        var wf = RandomWorkflow(seed, steps, store);
        var unsplit = ArgoCompiler.Compile(wf, Unsplit);
        var split = ArgoCompiler.Compile(wf, new ArgoCompileOptions { MaxDagTasks = maxTasks, MaxTemplates = maxTasks + 1 });
        Assert.True(split.IsSplit);
        var nested = split.Templates.Any(t => ArgoStructureTests.Templates(t).Count == 1);
        if (steps / maxTasks > maxTasks) Assert.True(nested, "expected groups of groups");

        var phases = new HashSet<string>();
        var gates = 0;
        foreach (var values in Enumerable.Range(0, 12))
        {
            var value = Values(values);
            var parameters = new Dictionary<string, string> { ["Mode"] = values % 3 == 0 ? "slow" : "fast" };
            var expected = ArgoRunSimulator.Run(unsplit, value, parameters);
            var actual = ArgoRunSimulator.Run(split, value, parameters);
            AssertSameRun(expected, actual, $"seed {seed}, values {values}");
            phases.UnionWith(expected.Steps.Values.Select(s => s.Phase));
            gates += actual.Gates;
        }
        // The cases exercise what splitting must carry across: skipped and left-out steps, through gates.
        Assert.Contains("Skipped", phases);
        Assert.Contains("Omitted", phases);
        Assert.True(gates > 0, "no gate ran");
    }

    [Fact]
    public void A_group_takes_in_no_more_parameters_than_a_template_may_declare_and_still_runs_the_same()
    {
        var wf = RandomWorkflow(6, 300);
        var o = new ArgoCompileOptions { MaxDagTasks = 40, MaxTemplates = 41, MaxInputParameters = 4 };
        var split = ArgoCompiler.Compile(wf, o);
        var counts = split.Templates.Select(t => ArgoStructureTests.L(ArgoStructureTests.Get(ArgoStructureTests.Templates(t)[0], "inputs", "parameters")).Count).ToList();
        Assert.All(counts, c => Assert.True(c <= 4, $"{c} input parameters"));
        Assert.Contains(4, counts);
        // The default limit is Argo v4's 500.
        Assert.Equal(500, new ArgoCompileOptions().MaxInputParameters);
        var unsplit = ArgoCompiler.Compile(wf, Unsplit);
        foreach (var values in Enumerable.Range(0, 4))
            AssertSameRun(ArgoRunSimulator.Run(unsplit, Values(values)), ArgoRunSimulator.Run(split, Values(values)), $"values {values}");
    }

    [Fact]
    public void The_simulation_notices_a_split_that_behaves_differently()
    {
        var wf = RandomWorkflow(2, 300);
        var unsplit = ArgoCompiler.Compile(wf, Unsplit);
        var split = ArgoCompiler.Compile(wf, new ArgoCompileOptions { MaxDagTasks = 8, MaxTemplates = 9 });
        var value = Values(0);
        AssertSameRun(ArgoRunSimulator.Run(unsplit, value), ArgoRunSimulator.Run(split, value), "intact");

        // A gate that always passes: a step after a skipped one would run.
        var differs = 0;
        foreach (var template in split.Templates)
            foreach (var task in ArgoStructureTests.L(ArgoStructureTests.Get(ArgoStructureTests.Templates(template)[0], "dag", "tasks")))
                if (task is IDictionary<string, object?> t && t.TryGetValue("template", out var name) && name as string == ArgoCompiler.GateTemplate && !((string)t["name"]!).EndsWith(ArgoCompiler.ReachedSuffix, StringComparison.Ordinal))
                {
                    t["when"] = "true";
                    differs++;
                }
        Assert.True(differs > 0);
        var broken = Enumerable.Range(0, 12).Count(v =>
        {
            try { AssertSameRun(ArgoRunSimulator.Run(unsplit, Values(v)), ArgoRunSimulator.Run(split, Values(v)), "broken"); return false; }
            catch (Exception e) when (e is Xunit.Sdk.XunitException or InvalidOperationException or FormatException) { return true; }
        });
        Assert.True(broken > 0, "a split whose gates always pass ran like the unsplit workflow for every set of values");
    }
}
