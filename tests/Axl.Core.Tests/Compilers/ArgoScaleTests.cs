using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Dsl;
using Axl.Model;
using Axl.Validation;
using static Axl.Core.Tests.Compilers.ArgoStructureTests;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// Workflows of 10,000 steps (the scale of bench/: chains, wide fan-outs, random DAGs) validate and compile, to the
/// same bytes every time, and one over the cluster's object size is refused at compile time with the remedies.
/// Behaviour only: the timings are in bench/results.
/// </summary>
public sealed class ArgoScaleTests
{
    private const int N = 10_000;
    private const string File = "/flows/big.axl.ps1";
    private static readonly ArgoCompileOptions Unlimited = new() { MaxBytes = long.MaxValue, MaxTemplates = int.MaxValue, MaxDagTasks = int.MaxValue, Split = ArgoSplit.None };

    /// <summary>Each step: its name and the steps it takes (as parameters named after them).</summary>
    private static List<(string Name, string[] Inputs)> Shape(string kind, int n)
    {
        var steps = new List<(string, string[])>(n);
        switch (kind)
        {
            case "chain":
                steps.Add(("s0", []));
                for (var i = 1; i < n; i++) steps.Add(($"s{i}", [$"s{i - 1}"]));
                break;
            case "wide":
                steps.Add(("src", []));
                for (var i = 0; i < n - 2; i++) steps.Add(($"f{i}", ["src"]));
                steps.Add(("join", Enumerable.Range(0, n - 2).Select(i => $"f{i}").ToArray()));
                break;
            case "random":
                var rng = new Random(42);
                for (var i = 0; i < n; i++)
                {
                    var picked = new SortedSet<int>();
                    while (picked.Count < Math.Min(i, 3)) picked.Add(rng.Next(i));
                    steps.Add(($"s{i}", picked.Select(j => $"s{j}").ToArray()));
                }
                break;
        }
        return steps;
    }

    private static AxlWorkflow Build(string kind, int n = N, Func<int, StepOptions?>? options = null)
    {
        var b = new WorkflowBuilder(kind, null, new SourceLocation(File, 1));
        var steps = Shape(kind, n);
        for (var i = 0; i < steps.Count; i++)
        {
            var (name, inputs) = steps[i];
            var body = inputs.Length == 0 ? "1" : $"param({string.Join(", ", inputs.Select(x => "$" + x))}) 1";
            b.AddStep(name, body, options?.Invoke(i), new SourceLocation(File, i + 2));
        }
        return b.Build();
    }

    [Theory]
    [InlineData("chain")]
    [InlineData("wide")]
    [InlineData("random")]
    public void A_ten_thousand_step_workflow_validates_and_compiles_with_every_dependency(string kind)
    {
        var wf = Build(kind);
        Assert.Equal(N, wf.StepCount);
        T.NoErrors(WorkflowValidator.Validate(wf));
        Assert.Empty(WorkflowValidator.Validate(wf));

        var d = ArgoCompiler.Compile(wf, Unlimited);
        Assert.Equal(N, d.TaskCount);
        Assert.Equal(N + 1, Templates(d).Count);
        var tasks = Tasks(d);
        Assert.Equal(N, tasks.Count);

        // Every task's dependencies are exactly the steps it takes, and come before it in the DAG.
        var position = tasks.Select((t, i) => ((string)t["name"]!, i)).ToDictionary(x => x.Item1, x => x.i);
        var expected = Shape(kind, N).ToDictionary(s => s.Name, s => s.Inputs);
        foreach (var t in tasks)
        {
            var name = (string)t["name"]!;
            var deps = L(t.TryGetValue("dependencies", out var x) ? x : null).Cast<string>().ToArray();
            Assert.Equal(expected[name], deps);
            Assert.All(deps, dep => Assert.True(position[dep] < position[name], $"{dep} comes after {name}"));
            Assert.Equal(deps, L(Get(t, "arguments", "artifacts")).Select(a => (string)Get(a, "name")!).ToArray());
        }
        if (kind == "wide") Assert.Equal(N - 2, L(Get(tasks.Single(t => (string)t["name"]! == "join"), "dependencies")).Count);
        Assert.True(d.Size > ArgoCompileOptions.DefaultMaxBytes, $"{d.Size} bytes");
    }

    [Fact]
    public void The_same_large_workflow_built_twice_compiles_to_the_same_bytes()
    {
        var first = Build("random");
        var second = Build("random");
        Assert.Equal(first.Hash, second.Hash);
        var a = ArgoCompiler.Compile(first, Unlimited).ToYaml();
        var b = ArgoCompiler.Compile(second, Unlimited).ToYaml();
        Assert.Equal(a, b);
        // The large document goes through the same writer as the goldens: it is what YamlDotNet writes for the same tree.
        var smaller = ArgoCompiler.Compile(Build("random", 300), Unlimited);
        Assert.Equal(CompilerYaml.SerializeWithYamlDotNet(smaller.Tree), smaller.ToYaml());
    }

    [Fact]
    public void A_ten_thousand_step_workflow_over_the_default_limits_is_split_or_with_splitting_off_refused_at_compile_time_with_the_remedies()
    {
        var wf = Build("chain");
        var split = ArgoCompiler.Compile(wf);
        Assert.True(split.IsSplit, split.ToString());
        Assert.All(split.Documents, d => Assert.True(d.Size <= ArgoCompileOptions.DefaultMaxBytes, d.ToString()));

        var items = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(wf, new ArgoCompileOptions { Split = ArgoSplit.None }));
        Assert.Equal(CompileErrorIds.ArgoTooManyItems, items.Id);
        Assert.Contains("10000 steps, so its one Workflow would hold 10001 items in spec.templates, over the limit of 200", items.Message);
        Assert.Contains("-Split Auto", items.Fix);
        Assert.Contains("-MaxTemplates", items.Fix);

        var ex = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(wf, new ArgoCompileOptions { Split = ArgoSplit.None, MaxTemplates = int.MaxValue, MaxDagTasks = int.MaxValue }));
        Assert.Equal(CompileErrorIds.ArgoTooLarge, ex.Id);
        Assert.Equal("chain", ex.Workflow);
        Assert.Contains("10,000 steps", ex.Message);
        Assert.Matches(@"about [0-9,]+ bytes per step", ex.Message);
        Assert.Matches(@"about [0-9,]+ steps fit in one object", ex.Message);
        Assert.Contains("over the limit of 1 MiB (1,048,576 bytes)", ex.Message);
        Assert.NotNull(ex.Fix);
        Assert.Contains("split it into WorkflowTemplates called from a small parent (-Split Auto", ex.Fix);
        Assert.Contains("pass data as artifacts, not parameters", ex.Fix);
        Assert.Contains("nodeStatusOffLoad", ex.Fix);
        Assert.Contains("-MaxBytes", ex.Fix);

        // The same workflow as a WorkflowTemplate is just as large: the limit holds for it too.
        var template = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(wf, new ArgoCompileOptions { Kind = ArgoKind.WorkflowTemplate, Split = ArgoSplit.None, MaxTemplates = int.MaxValue, MaxDagTasks = int.MaxValue }));
        Assert.Equal(CompileErrorIds.ArgoTooLarge, template.Id);
        Assert.Contains("the compiled WorkflowTemplate", template.Message);
    }

    [Fact]
    public void Conditions_along_a_long_chain_are_checked_against_the_steps_upstream()
    {
        // Every step but the first reads its parent in its condition; the last reads s0, 4,999 steps up.
        const int n = 5_000;
        var wf = Build("chain", n, i => i == 0 ? null : new StepOptions { When = i == n - 1 ? "s0 -gt 0" : $"s{i - 1} -gt 0" });
        T.NoErrors(WorkflowValidator.Validate(wf));
        var d = ArgoCompiler.Compile(wf, Unlimited);
        var t0 = Templates(d).Single(t => (string)t["name"]! == "s0");
        Assert.Equal(ArgoCompiler.ValueParameter, Get(L(Get(t0, "outputs", "parameters"))[0], "name"));
        var last = Tasks(d).Single(t => (string)t["name"]! == $"s{n - 1}");
        Assert.Equal("{{tasks.s0.outputs.parameters.value}} > 0", last["when"]);
        Assert.Equal($"s{n - 2}.Succeeded", last["depends"]);

        // A condition on a step that is not upstream is still found, once.
        var side = new WorkflowBuilder("side", null, new SourceLocation(File, 1));
        var chain = Shape("chain", n);
        for (var i = 0; i < n; i++)
            side.AddStep(chain[i].Name, i == 0 ? "1" : $"param($s{i - 1}) 1", i == 10 ? new StepOptions { When = $"s{n - 1} -gt 0" } : null, new SourceLocation(File, i + 2));
        var diagnostic = T.Single(WorkflowValidator.Validate(side.Build()), DiagnosticIds.ConditionNotUpstream);
        Assert.Equal("s10", diagnostic.Step);
        Assert.Contains($"reads step 's{n - 1}', which is not upstream of 's10'", diagnostic.Message);
    }
}
