using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Dsl;
using Axl.Model;
using static Axl.Core.Tests.Compilers.ArgoStructureTests;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// The shape of a split compile on small workflows with small limits, read as a person reads the YAML: which
/// templates and tasks go where, what crosses a group boundary, and how gates keep the unsplit outcome of a step
/// that may be skipped. (Large workflows and the equivalence with the unsplit compile: ArgoSplitTests.)
/// </summary>
public sealed class ArgoSplitShapeTests
{
    private const string File = "/flows/split.axl.ps1";
    private static SourceLocation At(int line) => new(File, line);

    private static AxlWorkflow Chain(int n, Func<int, StepOptions?>? options = null, string name = "chain")
    {
        var b = new WorkflowBuilder(name, null, At(1));
        for (var i = 0; i < n; i++)
            b.AddStep($"s{i}", i == 0 ? "1" : $"param($s{i - 1}) $s{i - 1} + 1", options?.Invoke(i), At(i + 2));
        return b.Build();
    }

    private static List<IDictionary<string, object?>> DagTasks(ArgoDocument d) =>
        L(Get(Templates(d)[0], "dag", "tasks")).Cast<IDictionary<string, object?>>().ToList();

    private static IDictionary<string, object?> Named(IEnumerable<IDictionary<string, object?>> items, string name) =>
        items.Single(t => (string)t["name"]! == name);

    private static ArgoDocument Holding(ArgoDocument parent, string step) =>
        parent.Templates.Single(t => Templates(t).Any(x => (string)x["name"]! == step && x.ContainsKey("container")));

    [Fact]
    public void A_workflow_that_fits_stays_one_object_byte_for_byte()
    {
        var wf = Chain(20);
        var auto = ArgoCompiler.Compile(wf);
        Assert.False(auto.IsSplit);
        Assert.Empty(auto.Templates);
        Assert.Equal(ArgoCompiler.Compile(wf, new ArgoCompileOptions { Split = ArgoSplit.None }).ToYaml(), auto.ToYaml());
        Assert.Equal(auto.ToYaml(), auto.ToYamlAll());
        Assert.DoesNotContain("podGC", auto.ToYaml());
        Assert.DoesNotContain("parallelism", auto.ToYaml());
        Assert.Contains("parallelism: 7", ArgoCompiler.Compile(wf, new ArgoCompileOptions { Parallelism = 7 }).ToYaml());
    }

    [Fact]
    public void A_chain_over_the_item_limits_becomes_groups_within_them_called_in_order_by_the_parent()
    {
        var wf = Chain(12);
        var o = new ArgoCompileOptions { MaxDagTasks = 5, MaxTemplates = 6 };
        var d = ArgoCompiler.Compile(wf, o);
        Assert.True(d.IsSplit);
        Assert.Equal("Workflow", d.Kind);
        Assert.Equal(12, d.TaskCount);
        Assert.Equal(3, d.Templates.Count);
        var hex = wf.Hash.Substring("sha256:".Length, 10);
        Assert.Equal(new[] { $"chain-{hex}-1", $"chain-{hex}-2", $"chain-{hex}-3" }, d.Templates.Select(t => t.Name));
        Assert.All(d.Templates, t => Assert.Equal("WorkflowTemplate", t.Kind));
        foreach (var t in d.Templates)
        {
            Assert.True(Templates(t).Count <= 6, t.ToString());
            Assert.True(DagTasks(t).Count <= 5, t.ToString());
            Assert.Equal(ArgoCompiler.Entrypoint, Templates(t)[0]["name"]);
        }
        // s0..s4 in the first group (5 tasks), then s5..s9, then s10, s11.
        Assert.Equal(new[] { "s0", "s1", "s2", "s3", "s4" }, DagTasks(d.Templates[0]).Select(t => (string)t["name"]!));

        var parent = DagTasks(d);
        Assert.Equal(new[] { "part-1", "part-2", "part-3" }, parent.Select(t => (string)t["name"]!));
        Assert.False(parent[0].ContainsKey("depends"));
        Assert.Equal("part-1", parent[1]["depends"]);
        Assert.Equal("part-2", parent[2]["depends"]);
        Assert.Equal(d.Templates[1].Name, Get(parent[1], "templateRef", "name"));
        Assert.Equal(ArgoCompiler.Entrypoint, Get(parent[1], "templateRef", "template"));
        // s5 reads s4 across the boundary: group 1 hands out s4's artifact, the parent passes it, group 2 takes it in.
        var arg = Assert.Single(L(Get(parent[1], "arguments", "artifacts")).Cast<IDictionary<string, object?>>());
        Assert.Equal("s4", arg["name"]);
        Assert.Equal("{{tasks.part-1.outputs.artifacts.s4}}", arg["from"]);
        var out1 = Assert.Single(L(Get(Templates(d.Templates[0])[0], "outputs", "artifacts")).Cast<IDictionary<string, object?>>());
        Assert.Equal("{{tasks.s4.outputs.artifacts.output}}", out1["from"]);
        var s5 = Named(DagTasks(d.Templates[1]), "s5");
        Assert.False(s5.ContainsKey("dependencies"));
        Assert.Equal("{{inputs.artifacts.s4}}", Get(L(Get(s5, "arguments", "artifacts"))[0], "from"));
        Assert.Equal("s5", Named(DagTasks(d.Templates[1]), "s6")["dependencies"] is List<object?> deps ? deps.Single() : null);

        // The step templates are the unsplit ones.
        var unsplit = ArgoCompiler.Compile(wf, new ArgoCompileOptions { Split = ArgoSplit.None, MaxDagTasks = 1000, MaxTemplates = 1000 });
        foreach (var s in wf.Steps)
            Assert.Equal(CompilerYaml.Serialize(Templates(unsplit).Single(t => (string)t["name"]! == s.KubernetesName)),
                CompilerYaml.Serialize(Templates(Holding(d, s.KubernetesName)).Single(t => (string)t["name"]! == s.KubernetesName)));

        // The parent sets what a large run needs and names its templates.
        var spec = (IDictionary<string, object?>)d.Tree["spec"]!;
        Assert.Equal(ArgoCompileOptions.DefaultSplitParallelism, spec["parallelism"]);
        Assert.Equal("OnPodSuccess", Get(spec, "podGC", "strategy"));
        Assert.Equal(string.Join(",", d.Templates.Select(t => t.Name)), Get(d.Tree, "metadata", "annotations", "axl.dev/templates"));
        Assert.Single(Templates(d));

        var yaml = d.ToYamlAll();
        Assert.Equal(4, yaml.Split("---\n").Length - 1);
        Assert.EndsWith(d.ToYaml(), yaml);
        Assert.Equal(yaml, ArgoCompiler.Compile(Chain(12), o).ToYamlAll());
    }

    [Fact]
    public void A_step_that_may_be_skipped_reaches_another_group_as_a_gate_with_its_outcome()
    {
        // a -> b (runs when a > 0) -> c reads b; d comes after b only (-DependsOn); e reads a's value in its condition.
        var b = new WorkflowBuilder("gates", null, At(1));
        b.AddStep("a", "1", null, At(2));
        b.AddStep("b", "param($a) $a", new StepOptions { When = "a -gt 0" }, At(3));
        b.AddStep("c", "param($b) $b", null, At(4));
        b.AddStep("d", "2", new StepOptions { DependsOn = new[] { "b" }, When = "a -gt 5" }, At(5));
        b.AddStep("e", "param($c) $c", null, At(6));
        var wf = b.Build();
        var d = ArgoCompiler.Compile(wf, new ArgoCompileOptions { MaxDagTasks = 2, MaxTemplates = 4 });
        Assert.True(d.IsSplit);

        var group1 = Holding(d, "a");
        var group2 = Holding(d, "b");
        var gOfC = Holding(d, "c");
        var gOfD = Holding(d, "d");
        // c reads b's output: b's outcome crosses as b_status and a gate named b gives it back to c's depends.
        if (gOfC != group2)
        {
            var tasks = DagTasks(gOfC);
            var gate = Named(tasks, "b");
            Assert.Equal(ArgoCompiler.GateTemplate, gate["template"]);
            Assert.Equal("'{{inputs.parameters.b_status}}' == 'Succeeded'", gate["when"]);
            Assert.Equal("b.Succeeded", Named(tasks, "c")["depends"]);
            Assert.Contains(Templates(gOfC), t => (string)t["name"]! == ArgoCompiler.GateTemplate && Get(t, "suspend", "duration") as string == "0");
            var input = L(Get(Templates(gOfC)[0], "inputs", "artifacts")).Cast<IDictionary<string, object?>>().Single(x => (string)x["name"]! == "b");
            Assert.Equal(true, input["optional"]);
        }
        var exported = L(Get(Templates(group2)[0], "outputs", "parameters")).Cast<IDictionary<string, object?>>();
        Assert.Equal("tasks['b'].status", Get(Named(exported, "b_status"), "valueFrom", "expression"));
        // d's condition reads a's value from outside its group.
        var dTask = Named(DagTasks(gOfD), "d");
        if (gOfD != group1) Assert.Equal("{{inputs.parameters.a_value}} > 5", dTask["when"]);
        Assert.Equal("(b.Succeeded || b.Skipped)", dTask["depends"]);
        var a1 = L(Get(Templates(group1)[0], "outputs", "parameters")).Cast<IDictionary<string, object?>>();
        Assert.Equal("", Get(Named(a1, "a_value"), "valueFrom", "default"));
        Assert.All(d.Documents, x => Assert.True(x is { } && (x.Kind == "Workflow" || Templates(x).Count <= 4)));
    }

    [Fact]
    public void A_step_that_can_be_skipped_or_left_out_gets_a_pre_gate_that_tells_them_apart()
    {
        // b may be skipped (its condition) or left out (a above it may be skipped); d only comes after b.
        var b = new WorkflowBuilder("twogates", null, At(1));
        b.AddStep("a", "1", new StepOptions { When = "$true" }, At(2));
        b.AddStep("b", "param($a) $a", new StepOptions { When = "a -gt 0" }, At(3));
        b.AddStep("d", "2", new StepOptions { DependsOn = new[] { "b" } }, At(4));
        var wf = b.Build();
        var d = ArgoCompiler.Compile(wf, new ArgoCompileOptions { MaxDagTasks = 3, MaxTemplates = 3 });
        var tasks = DagTasks(Holding(d, "d"));
        var reached = Named(tasks, "b" + ArgoCompiler.ReachedSuffix);
        Assert.Equal("'{{inputs.parameters.b_status}}' != 'Omitted'", reached["when"]);
        var gate = Named(tasks, "b");
        Assert.Equal("b-Reached.Succeeded", gate["depends"]);
        Assert.Equal("(b.Succeeded || b.Skipped)", Named(tasks, "d")["depends"]);
    }

    [Fact]
    public void Too_many_groups_for_one_DAG_make_groups_of_groups()
    {
        var wf = Chain(40);
        var o = new ArgoCompileOptions { MaxDagTasks = 3, MaxTemplates = 5 };
        var d = ArgoCompiler.Compile(wf, o);
        Assert.True(DagTasks(d).Count <= 3);
        Assert.All(d.Templates, t => Assert.True(DagTasks(t).Count <= 3 && Templates(t).Count <= 5, t.ToString()));
        var leaves = d.Templates.Where(t => Templates(t).Count > 1).ToList();
        Assert.Equal(14, leaves.Count);
        var groupsOfGroups = d.Templates.Where(t => Templates(t).Count == 1).ToList();
        Assert.NotEmpty(groupsOfGroups);
        // Install order: a template comes after every template it calls.
        var position = d.Templates.Select((t, i) => (t.Name, i)).ToDictionary(x => x.Name, x => x.i);
        foreach (var t in groupsOfGroups)
            foreach (var task in DagTasks(t))
                Assert.True(position[(string)Get(task, "templateRef", "name")!] < position[t.Name]);
        // The last step's input comes through every level: from the parent's task down to the group that holds it.
        Assert.All(d.Documents, x => Assert.True(x.Size <= o.MaxBytes));
    }

    [Fact]
    public void Limits_that_leave_no_room_are_refused_with_the_option_to_change()
    {
        var ex = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(Chain(3), new ArgoCompileOptions { MaxDagTasks = 1 }));
        Assert.Equal(CompileErrorIds.InvalidCompileOption, ex.Id);
        var small = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(Chain(300), new ArgoCompileOptions { MaxBytes = 3000 }));
        Assert.Equal(CompileErrorIds.ArgoTooLarge, small.Id);
        Assert.Contains("-MaxBytes", small.Fix);
    }

    [NodeFact]
    public void Split_documents_are_valid_for_Argo_v4s_schema_with_its_item_limits()
    {
        var dir = Directory.CreateTempSubdirectory("axl-split-schema-");
        try
        {
            var b = new WorkflowBuilder("gates", null, At(1));
            b.AddParameter("Mode", "fast", null, null, At(2));
            b.AddStep("a", "param($Mode) 1", null, At(3));
            b.AddStep("b", "param($a) $a", new StepOptions { When = "a -gt 0" }, At(4));
            b.AddStep("c", "param($b) $b", null, At(5));
            b.AddStep("d", "2", new StepOptions { DependsOn = new[] { "b" }, When = "a -gt 5 -and $Mode -eq 'fast'" }, At(6));
            b.AddStep("e", "param($c) $c", null, At(7));
            var files = new List<string>();
            void Write(string name, ArgoDocument d)
            {
                var f = Path.Combine(dir.FullName, name + ".yaml");
                System.IO.File.WriteAllText(f, d.ToYamlAll());
                files.Add(f);
            }
            Write("gates", ArgoCompiler.Compile(b.Build(), new ArgoCompileOptions { MaxDagTasks = 2, MaxTemplates = 4 }));
            Write("nested", ArgoCompiler.Compile(Chain(40), new ArgoCompileOptions { MaxDagTasks = 3, MaxTemplates = 5 }));
            Write("chain300", ArgoCompiler.Compile(Chain(300)));
            var (exit, output) = ArgoSchema.Validate(files);
            Assert.True(exit == 0, output);
            Assert.Contains("WorkflowTemplate chain-", output);

            // The check can fail: the unsplit 300-step chain breaks the item limit.
            System.IO.File.WriteAllText(files[0], ArgoCompiler.Compile(Chain(300), new ArgoCompileOptions { Split = ArgoSplit.None, MaxDagTasks = 1000, MaxTemplates = 1000 }).ToYaml());
            var (bad, badOutput) = ArgoSchema.Validate(files.Take(1));
            Assert.True(bad != 0, badOutput);
            Assert.Contains("200", badOutput);
        }
        finally { dir.Delete(true); }
    }
}
