using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Dsl;
using Axl.Model;
using static Axl.Core.Tests.Compilers.ArgoStructureTests;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// Issue #14, the proof: a workflow over Argo v4's item limits (200 templates per object, 200 tasks per DAG) or over
/// the object size is compiled into WorkflowTemplates called by templateRef, and every object stays within the limits,
/// the bytes are the same on every compile, and each step, resolved the way Argo's controller resolves templateRef
/// (<see cref="ArgoTemplateResolver"/>), gets the same template, inputs, condition and dependencies as in the unsplit
/// compile. Chains of 300, 3,000 and 10,000 steps, a wide fan-out/fan-in, random DAGs with conditions, order edges,
/// parameters and each artifact store, and limits small enough to force groups of groups.
/// </summary>
public sealed class ArgoSplitTests
{
    private const string File = "/flows/big.axl.ps1";

    internal static ArgoCompileOptions Options(ArgoCompileOptions? o = null) => (o ?? new ArgoCompileOptions()) with { CodeRoot = "/flows" };

    internal static ArgoCompileOptions S3 => new() { S3Endpoint = "minio.argo.svc:9000", S3Insecure = true, S3CredentialsSecret = "minio-credentials" };

    /// <summary>The unsplit compile: one object, every limit raised out of the way.</summary>
    internal static ArgoCompileOptions Unsplit(ArgoCompileOptions o) =>
        o with { Split = ArgoSplit.None, MaxTemplates = int.MaxValue, MaxDagTasks = int.MaxValue, MaxBytes = long.MaxValue };

    // ---- shapes -------------------------------------------------------------------------------------------------------------

    internal static AxlWorkflow Chain(int n, string name = "chain", WorkflowDefinitionOptions? options = null)
    {
        var b = new WorkflowBuilder(name, options, new SourceLocation(File, 1));
        b.AddStep("s0", "1", null, new SourceLocation(File, 2));
        for (var i = 1; i < n; i++) b.AddStep($"s{i}", $"param($s{i - 1}) 1", null, new SourceLocation(File, i + 2));
        return b.Build();
    }

    internal static AxlWorkflow Wide(int width)
    {
        var b = new WorkflowBuilder("wide", null, new SourceLocation(File, 1));
        b.AddStep("src", "1", null, new SourceLocation(File, 2));
        for (var i = 0; i < width; i++) b.AddStep($"f{i}", "param($src) 1", null, new SourceLocation(File, i + 3));
        b.AddStep("join", $"param({string.Join(", ", Enumerable.Range(0, width).Select(i => "$f" + i))}) 1", null, new SourceLocation(File, width + 3));
        return b.Build();
    }

    /// <summary>
    /// A random DAG (fixed seed): each step takes up to three earlier steps, mostly near it, sometimes anywhere; some
    /// steps have a condition on a step they take (and on a parameter), some an order edge (-DependsOn) to an earlier
    /// step, some take a workflow parameter, some retry.
    /// </summary>
    internal static AxlWorkflow RandomDag(int n, int seed, string? store = null, string name = "random", bool uniform = false, double conditionRate = 0.12, int images = 0)
    {
        var rng = new Random(seed);
        var b = new WorkflowBuilder(name, new WorkflowDefinitionOptions { ArtifactStore = store }, new SourceLocation(File, 1));
        b.AddParameter("Mode", "full", "string", "full or dry-run", new SourceLocation(File, 2));
        b.AddParameter("Threshold", 0L, "int", null, new SourceLocation(File, 3));
        for (var i = 0; i < n; i++)
        {
            var inputs = new SortedSet<int>();
            var want = Math.Min(i, rng.Next(0, 4));
            while (inputs.Count < want) inputs.Add(!uniform && rng.NextDouble() < 0.75 ? Math.Max(0, i - 1 - rng.Next(Math.Min(i, 40))) : rng.Next(i));
            var names = inputs.Select(j => $"s{j}").ToList();
            var parameters = new List<string>();
            if (rng.NextDouble() < 0.08) parameters.Add("Mode");
            string? when = null;
            if (names.Count > 0 && rng.NextDouble() < conditionRate)
            {
                var on = names[rng.Next(names.Count)];
                when = rng.Next(3) switch
                {
                    0 => $"{on} -gt 0",
                    1 => $"{on} -ge $Threshold -and $Mode -eq 'full'",
                    _ => $"-not ({on} -lt 0) -or $Mode -eq 'dry-run'",
                };
            }
            string[]? dependsOn = null;
            if (i > 1 && rng.NextDouble() < 0.08)
            {
                var j = rng.Next(i);
                if (!inputs.Contains(j)) dependsOn = [$"s{j}"];
            }
            var options = new StepOptions
            {
                When = when, DependsOn = dependsOn, Retries = rng.NextDouble() < 0.05 ? 2 : null,
                Image = images > 0 && i % 7 == 3 ? $"registry.example/axl-{i % images}:1" : null, // without a draw: the same graph as without images
            };
            var all = names.Concat(parameters).Select(x => "$" + x).ToList();
            b.AddStep($"s{i}", all.Count == 0 ? "1" : $"param({string.Join(", ", all)}) 1", options, new SourceLocation(File, i + 4));
        }
        return b.Build();
    }

    // ---- checks -------------------------------------------------------------------------------------------------------------

    /// <summary>Argo v4's CRD (and the schema package): a template's inputs.parameters hold at most 500 items.</summary>
    internal const int MaxInputParameters = 500;

    /// <summary>Every object within the limits: templates, each DAG's tasks, each template's input parameters, and the YAML's bytes.</summary>
    internal static void AssertWithinLimits(ArgoDocument d, ArgoCompileOptions o)
    {
        foreach (var doc in d.Documents)
        {
            var templates = L(Get(doc.Tree, "spec", "templates")).Select(M).ToList();
            Assert.True(templates.Count <= o.MaxTemplates, $"{doc.Kind} {doc.Name} has {templates.Count} templates, over {o.MaxTemplates}");
            foreach (var t in templates)
            {
                var parameters = L(Get(t, "inputs", "parameters")).Count;
                Assert.True(parameters <= MaxInputParameters, $"{doc.Kind} {doc.Name} template {t["name"]} has {parameters} input parameters, over Argo v4's {MaxInputParameters}");
            }
            foreach (var t in templates.Where(t => t.ContainsKey("dag")))
            {
                var tasks = L(Get(t, "dag", "tasks")).Count;
                Assert.True(tasks <= o.MaxDagTasks, $"{doc.Kind} {doc.Name} template {t["name"]} has {tasks} DAG tasks, over {o.MaxDagTasks}");
                Assert.True(tasks > 0, $"{doc.Kind} {doc.Name} template {t["name"]} has no tasks");
            }
            Assert.True(doc.Size <= o.MaxBytes, $"{doc.Kind} {doc.Name} is {doc.Size} bytes, over {o.MaxBytes}");
            Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(doc.ToYaml()), doc.Size);
        }
    }

    internal static ArgoTemplateResolver Resolve(ArgoDocument d) => ArgoTemplateResolver.Resolve(d.Documents.Select(x => (object?)x.Tree).ToList());

    /// <summary>The split compile, resolved, equals the unsplit compile step by step; returns the resolution.</summary>
    internal static ArgoTemplateResolver AssertEquivalent(AxlWorkflow wf, ArgoCompileOptions o, ArgoDocument split)
    {
        var unsplit = ArgoCompiler.Compile(wf, Unsplit(o));
        Assert.False(unsplit.IsSplit);
        var resolvedSplit = Resolve(split);
        var resolvedUnsplit = Resolve(unsplit);
        Assert.Equal(wf.StepCount, resolvedUnsplit.Steps.Count);
        Assert.Equal(wf.StepCount, resolvedSplit.Steps.Count);
        var differences = ArgoTemplateResolver.Differences(resolvedSplit, resolvedUnsplit);
        Assert.True(differences.Count == 0, "the split compile is not equivalent to the unsplit one:\n" + string.Join("\n", differences));
        // Every WorkflowTemplate is called, and the parent names them all.
        Assert.Equal(split.Templates.Select(t => t.Name).OrderBy(x => x, StringComparer.Ordinal), resolvedSplit.UsedTemplates.OrderBy(x => x, StringComparer.Ordinal));
        if (split.IsSplit)
        {
            Assert.Equal(split.Templates.Select(t => t.Name).OrderBy(x => x, StringComparer.Ordinal),
                ((string)Get(split.Tree, "metadata", "annotations", "axl.dev/templates")!).Split(',').OrderBy(x => x, StringComparer.Ordinal));
            // Each WorkflowTemplate: the workflow's parameters (so {{workflow.parameters.X}} lints), its labels, a DNS name of at most 63 characters.
            var arguments = ArgoTemplateResolver.Canonical(Get(split.Tree, "spec", "arguments"));
            var hash = (string)Get(split.Tree, "metadata", "labels", "axl.dev/workflow-hash")!;
            foreach (var t in split.Templates)
            {
                Assert.Equal(arguments, ArgoTemplateResolver.Canonical(Get(t.Tree, "spec", "arguments")));
                Assert.Equal(hash, Get(t.Tree, "metadata", "labels", "axl.dev/workflow-hash"));
                Assert.Equal(t.Name, Get(t.Tree, "metadata", "name"));
                Assert.True(t.Name.Length <= 63 && Axl.Validation.Dns1123.IsValid(t.Name), t.Name);
                Assert.Equal(split.Namespace, t.Namespace);
            }
        }
        return resolvedSplit;
    }

    /// <summary>Compiles twice (from two builds of the workflow): the same bytes, within the limits, equivalent; returns the compile.</summary>
    private static (ArgoDocument Doc, ArgoTemplateResolver Resolved) Check(Func<AxlWorkflow> build, ArgoCompileOptions o)
    {
        var wf = build();
        var d = ArgoCompiler.Compile(wf, o);
        Assert.Equal(d.ToYamlAll(), ArgoCompiler.Compile(build(), o).ToYamlAll());
        AssertWithinLimits(d, o);
        Assert.Equal(wf.StepCount, d.TaskCount);
        var resolved = AssertEquivalent(wf, o, d);
        return (d, resolved);
    }

    /// <summary>Install order: every WorkflowTemplate comes after the ones it calls, and the parent last.</summary>
    private static void AssertInstallOrder(ArgoDocument d)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var doc in d.Documents)
        {
            foreach (var t in L(Get(doc.Tree, "spec", "templates")).Select(M))
                foreach (var task in L(Get(t, "dag", "tasks")).Select(M))
                    if (Get(task, "templateRef", "name") is string called)
                        Assert.True(seen.Contains(called), $"{doc.Name} calls {called}, which is installed after it");
            if (doc.Kind == "WorkflowTemplate") seen.Add(doc.Name);
        }
        Assert.Same(d, d.Documents.Last());
    }

    // ---- tests ----------------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(300)]
    [InlineData(3_000)]
    [InlineData(10_000)]
    public void A_long_chain_splits_within_the_limits_deterministically_and_equivalent_to_the_unsplit_compile(int n)
    {
        var o = Options();
        var (d, resolved) = Check(() => Chain(n), o);
        Assert.True(d.IsSplit);
        Assert.Equal("Workflow", d.Kind);
        Assert.All(d.Templates, t => Assert.Equal("WorkflowTemplate", t.Kind));
        AssertInstallOrder(d);
        // At least ceil(n / 199) groups: a WorkflowTemplate holds its main-dag and at most 199 step templates.
        Assert.True(d.Templates.Count >= (n + 198) / 199, $"{d.Templates.Count} WorkflowTemplates for {n} steps");
        Assert.Equal(ArgoCompileOptions.DefaultSplitParallelism.ToString(System.Globalization.CultureInfo.InvariantCulture), Get(d.Tree, "spec", "parallelism")?.ToString());
        Assert.Equal("OnPodSuccess", Get(d.Tree, "spec", "podGC", "strategy"));
        Assert.True(resolved.Depth >= 1);
        // A chain never skips: no gates.
        Assert.Empty(resolved.Gates);
    }

    [Fact]
    public void A_wide_fan_out_and_fan_in_splits_equivalent_to_the_unsplit_compile()
    {
        // 1,000 steps that take the source, and one step that takes all of them: its 1,000 artifacts cross groups.
        var o = Options();
        var (d, _) = Check(() => Wide(1_000), o);
        Assert.True(d.IsSplit);
        AssertInstallOrder(d);
    }

    [Theory]
    [InlineData(600, 1, null)]
    [InlineData(1_500, 2, null)]
    [InlineData(800, 3, "pvc:5Gi")]
    [InlineData(800, 4, "s3://axl-artifacts/runs/team-a")]
    [InlineData(800, 5, "ref:artifact-repositories/team-a")]
    public void A_random_DAG_with_conditions_order_edges_and_parameters_splits_equivalent_to_the_unsplit_compile(int n, int seed, string? store)
    {
        var o = Options(store?.StartsWith("s3://", StringComparison.Ordinal) == true ? S3 : null);
        var wf = RandomDag(n, seed, store);
        Assert.Contains(wf.Steps, s => s.Condition is not null);
        var (d, resolved) = Check(() => RandomDag(n, seed, store), o);
        Assert.True(d.IsSplit);
        AssertInstallOrder(d);
        // The conditions cross groups: some step outside a condition's group reads its outcome through a gate.
        Assert.NotEmpty(resolved.Gates);
        // Some of them tell Omitted from Skipped with a pre-gate (a conditional step below another conditional step).
        Assert.Contains(resolved.Gates, g => g.HasReached);
        if (store?.StartsWith("pvc:", StringComparison.Ordinal) == true)
            Assert.DoesNotContain("artifacts", string.Concat(d.Documents.Select(x => x.ToYaml())));
    }

    /// <summary>
    /// Inputs drawn uniformly from every earlier step (the scale tests' random shape): nearly every edge crosses groups,
    /// so each group takes hundreds of artifacts, values and outcomes from the others.
    /// </summary>
    [Theory]
    [InlineData(3_000, 21, 0.12)]
    [InlineData(10_000, 22, 0.0)]
    public void A_uniform_random_DAG_whose_edges_mostly_cross_groups_splits_equivalent_to_the_unsplit_compile(int n, int seed, double conditions)
    {
        var (d, resolved) = Check(() => RandomDag(n, seed, uniform: true, conditionRate: conditions), Options());
        Assert.True(d.IsSplit);
        AssertInstallOrder(d);
        if (conditions > 0) Assert.NotEmpty(resolved.Gates);
    }

    /// <summary>
    /// The same with conditions at 5,000 and 10,000 steps: nearly every step may then be skipped (a condition above
    /// it), so nearly every edge carries an outcome (u_status) across groups, and a group of groups threads each one
    /// through its inputs, which Argo v4 limits to 500 input parameters per template (the splitter gave one 1,026
    /// before it kept to that limit).
    /// </summary>
    [Theory]
    [InlineData(5_000, 22, 0.12)]
    [InlineData(10_000, 22, 0.12)]
    [InlineData(10_000, 22, 0.02)]
    public void A_uniform_random_DAG_with_conditions_splits_within_every_v4_limit(int n, int seed, double conditions)
    {
        var (d, resolved) = Check(() => RandomDag(n, seed, uniform: true, conditionRate: conditions), Options());
        Assert.True(d.IsSplit);
        Assert.NotEmpty(resolved.Gates);
    }

    /// <summary>
    /// A split compile makes its step templates and their YAML on several threads: the same bytes, images and objects
    /// as on one thread (more threads than cores, so the blocks of steps interleave).
    /// </summary>
    [Theory]
    [InlineData(3_000, 31, null, 0)]
    [InlineData(2_000, 32, "s3://axl-artifacts/runs/team-a", 5)]
    [InlineData(1_000, 33, "pvc:5Gi", 3)]
    public void Step_templates_made_on_several_threads_give_the_bytes_of_one_thread(int n, int seed, string? store, int images)
    {
        var o = Options(store?.StartsWith("s3://", StringComparison.Ordinal) == true ? S3 : null);
        var one = ArgoCompiler.Compile(RandomDag(n, seed, store, images: images), o with { Threads = 1 });
        var many = ArgoCompiler.Compile(RandomDag(n, seed, store, images: images), o with { Threads = 7 });
        Assert.True(one.IsSplit);
        Assert.Equal(one.Templates.Count, many.Templates.Count);
        Assert.Equal(one.ToYamlAll(), many.ToYamlAll());
        Assert.Equal(one.Images, many.Images);
        Assert.Equal(images + 1, one.Images.Count); // the steps' own images and the default one
    }

    /// <summary>
    /// A split document keeps its step templates and most DAG tasks as the YAML written to plan the split
    /// (<see cref="RenderedMap"/>): its tree still holds every map (built again when read), and those maps written out
    /// again, as plain maps, give the document's bytes.
    /// </summary>
    [Theory]
    [InlineData(600, 41, null)]
    [InlineData(400, 42, "pvc:5Gi")]
    public void The_tree_of_a_split_document_written_again_gives_its_YAML(int n, int seed, string? store)
    {
        var d = ArgoCompiler.Compile(RandomDag(n, seed, store), Options());
        Assert.True(d.IsSplit);
        var copied = 0;
        foreach (var t in d.Templates)
        {
            var templates = L(Get(t.Tree, "spec", "templates"));
            copied += templates.Count(x => x is RenderedMap);
            copied += L(Get(templates[0], "dag", "tasks")).Count(x => x is RenderedMap);
            Assert.Equal(t.ToYaml(), CompilerYaml.Serialize(Copy(t.Tree)));
        }
        Assert.True(copied > n, $"only {copied} maps of {n} steps were copied in");
        Assert.Equal(d.ToYaml(), CompilerYaml.Serialize(Copy(d.Tree)));
    }

    /// <summary>
    /// The step templates and DAG tasks a split compile writes straight from the steps (no tree) are the bytes of their
    /// trees written out: every golden case (parameters, conditions, env, secrets, resources, retries, each store, a code
    /// archive) forced to split, its tree copied as plain maps and written again, gives the document's YAML.
    /// </summary>
    [Theory]
    [MemberData(nameof(ArgoCases.All), MemberType = typeof(ArgoCases))]
    public void Every_golden_case_split_gives_the_YAML_of_its_tree_written_again(string name)
    {
        var c = ArgoCases.Get(name);
        var d = ArgoCompiler.Compile(c.Workflow, c.Options with { MaxDagTasks = 4, MaxTemplates = 3 });
        foreach (var t in d.Documents) Assert.Equal(CompilerYaml.Serialize(Copy(t.Tree)), t.ToYaml());
    }

    /// <summary>On several threads a step that cannot be compiled is still the first such step in the order, as on one.</summary>
    [Fact]
    public void The_first_failing_step_is_reported_on_any_number_of_threads()
    {
        var b = new WorkflowBuilder("broken", null, new SourceLocation(File, 1));
        b.AddStep("s0", "1", null, new SourceLocation(File, 2));
        for (var i = 1; i < 1_000; i++)
        {
            // Steps 700 and 900 take a secret with no Kubernetes source, which Argo pods cannot read.
            var env = i is 700 or 900 ? new System.Collections.Hashtable { ["TOKEN"] = new SecretReference { EnvironmentVariable = "T" + i } } : null;
            b.AddStep($"s{i}", $"param($s{i - 1}) 1", new StepOptions { Env = env }, new SourceLocation(File, i + 2));
        }
        var wf = b.Build();
        foreach (var threads in new[] { 1, 7 })
        {
            var ex = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(wf, Options() with { Threads = threads }));
            Assert.Contains("step 's700'", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Small_limits_force_groups_of_groups_and_the_result_is_still_equivalent()
    {
        var o = Options(new ArgoCompileOptions { MaxDagTasks = 4, MaxTemplates = 5 });
        var (chain, chainResolved) = Check(() => Chain(100), o);
        Assert.True(chainResolved.Depth >= 2, $"nesting depth {chainResolved.Depth}");
        AssertInstallOrder(chain);
        // Random steps cross groups with their conditions: gate tasks need room beside the step (four steps per group at most here).
        var roomy = Options(new ArgoCompileOptions { MaxDagTasks = 10, MaxTemplates = 6 });
        var (random, randomResolved) = Check(() => RandomDag(100, 7), roomy);
        Assert.True(randomResolved.Depth >= 2, $"nesting depth {randomResolved.Depth}");
        AssertInstallOrder(random);
        // Pvc store and groups of groups: only dependencies (and condition values) cross, through the parents' depends.
        Check(() => RandomDag(100, 8, "pvc:1Gi"), roomy);

        // A step with more gates than a DAG may hold is refused, naming the step, the limits and the remedy.
        var ex = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(RandomDag(100, 7), o));
        Assert.Equal(CompileErrorIds.ArgoTooLarge, ex.Id);
        Assert.Matches(@"^step 's[0-9]+' of workflow 'random' does not fit in a WorkflowTemplate on its own \([0-9]+ DAG tasks with its gates", ex.Message);
        Assert.Contains("within the limits of 4 tasks, 5 templates", ex.Message);
        Assert.Contains("-MaxDagTasks", ex.Fix);
    }

    /// <summary>Every golden case (secrets, code archive, command steps, path mode, each store, a WorkflowTemplate) forced to split by tiny limits.</summary>
    [Theory]
    [MemberData(nameof(ArgoCases.All), MemberType = typeof(ArgoCases))]
    public void Every_golden_case_forced_to_split_is_equivalent_to_its_unsplit_compile(string name)
    {
        var c = ArgoCases.Get(name);
        var o = c.Options with { MaxDagTasks = 4, MaxTemplates = 3 };
        var (d, _) = Check(() => ArgoCases.Get(name).Workflow, o);
        Assert.Equal(c.Workflow.StepCount > 2, d.IsSplit);
        Assert.Equal(c.Options.Kind.ToString(), d.Kind);
        if (d.IsSplit) AssertInstallOrder(d);
    }

    /// <summary>
    /// A join after 300 conditional steps: whichever group holds it, each of them is in that group or gated in it, so
    /// its DAG needs 301 tasks. The gate design cannot express it under 200 tasks per DAG: refused at compile time,
    /// naming the step, the count and the remedy (not written and refused by the cluster).
    /// </summary>
    [Fact]
    public void A_step_after_more_skippable_steps_than_a_DAG_can_gate_is_refused_naming_it()
    {
        static AxlWorkflow WideIf(int width)
        {
            var b = new WorkflowBuilder("wideif", null, new SourceLocation(File, 1));
            b.AddStep("src", "1", null, new SourceLocation(File, 2));
            for (var i = 0; i < width; i++) b.AddStep($"f{i}", "param($src) 1", new StepOptions { When = "src -gt 0" }, new SourceLocation(File, i + 3));
            b.AddStep("join", $"param({string.Join(", ", Enumerable.Range(0, width).Select(i => "$f" + i))}) 1", null, new SourceLocation(File, width + 3));
            return b.Build();
        }
        var ex = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(WideIf(300), Options()));
        Assert.Equal(CompileErrorIds.ArgoTooLarge, ex.Id);
        Assert.StartsWith("step 'join' of workflow 'wideif' does not fit in a WorkflowTemplate on its own (301 DAG tasks with its gates", ex.Message);
        Assert.Contains("-MaxDagTasks", ex.Fix);
        // Half as wide fits in one object, and a cluster with larger limits takes the wide one split.
        Assert.False(ArgoCompiler.Compile(WideIf(150), Options()).IsSplit);
        var (d, resolved) = Check(() => WideIf(300), Options(new ArgoCompileOptions { MaxDagTasks = 400 }));
        Assert.True(d.IsSplit);
        // Each conditional step is beside the join or gated where it runs.
        var joinDag = resolved.Steps["join"].Dag;
        Assert.Equal(300, resolved.Gates.Count(g => g.Dag == joinDag) + resolved.Steps.Values.Count(v => v.Name.StartsWith('f') && v.Dag == joinDag));
    }

    [Fact]
    public void A_small_byte_limit_alone_forces_a_split_within_it()
    {
        // 150 steps fit the item limits, but not 100 KiB: the bytes alone make the split.
        var o = Options(new ArgoCompileOptions { MaxBytes = 100 * 1024 });
        var (d, _) = Check(() => RandomDag(150, 11), o);
        Assert.True(d.IsSplit);
    }

    [Fact]
    public void A_workflow_that_fits_stays_one_object_byte_identical_to_split_none()
    {
        foreach (var name in ArgoCases.Names)
        {
            var c = ArgoCases.Get(name);
            var auto = ArgoCompiler.Compile(c.Workflow, c.Options);
            var none = ArgoCompiler.Compile(c.Workflow, c.Options with { Split = ArgoSplit.None });
            Assert.False(auto.IsSplit, name);
            Assert.Empty(auto.Templates);
            Assert.Equal(none.ToYaml(), auto.ToYaml());
            Assert.Equal(auto.ToYaml(), auto.ToYamlAll());
        }
        // 199 steps: 200 templates with main-dag, the most one object holds; the 200th step splits.
        var o = Options();
        var fits = ArgoCompiler.Compile(Chain(199), o);
        Assert.False(fits.IsSplit);
        Assert.Equal(ArgoCompiler.Compile(Chain(199), o with { Split = ArgoSplit.None }).ToYaml(), fits.ToYamlAll());
        Assert.Null(Get(fits.Tree, "spec", "parallelism"));
        var over = ArgoCompiler.Compile(Chain(200), o);
        Assert.True(over.IsSplit);
        AssertWithinLimits(over, o);
    }

    [Fact]
    public void The_resolver_finds_a_broken_split()
    {
        var o = Options();
        var wf = RandomDag(600, 1);
        var d = ArgoCompiler.Compile(wf, o);
        Assert.True(d.IsSplit);
        var unsplit = Resolve(ArgoCompiler.Compile(wf, Unsplit(o)));
        var documents = d.Documents.Select(x => Copy(x.Tree)).ToList();
        Assert.Empty(ArgoTemplateResolver.Differences(ArgoTemplateResolver.Resolve(documents), unsplit));

        // 1. A group output exported from the wrong step: a consumer in another group gets another step's artifact.
        var (template, output) = documents.Take(documents.Count - 1)
            .SelectMany(doc => L(Get(doc, "spec", "templates")).Select(M).Where(t => (string)t["name"]! == "main-dag")
                .SelectMany(t => L(Get(t, "outputs", "artifacts")).Select(M).Select(a => (t, a))))
            .First(x => ((string)x.a["from"]!).StartsWith("{{tasks.s", StringComparison.Ordinal));
        var other = L(Get(template, "dag", "tasks")).Select(M).First(t => t.ContainsKey("template") && (string)t["template"]! != "Gate"
            && "{{tasks." + t["name"] + ".outputs.artifacts.output}}" != (string)output["from"]!);
        var original = (string)output["from"]!;
        output["from"] = "{{tasks." + other["name"] + ".outputs.artifacts.output}}";
        var wrongFrom = ArgoTemplateResolver.Differences(ArgoTemplateResolver.Resolve(documents), unsplit);
        Assert.NotEmpty(wrongFrom);
        Assert.Contains(wrongFrom, p => p.Contains("its task (resolved) differs from the unsplit one", StringComparison.Ordinal));
        output["from"] = original;

        // 2. The parent loses one group's dependency on another: the references across it (or the dropped terms) fail.
        var parentTasks = L(Get(L(Get(documents[^1], "spec", "templates")).Select(M).Single(), "dag", "tasks")).Select(M).ToList();
        var dependent = parentTasks.First(t => t.ContainsKey("depends") || t.ContainsKey("dependencies"));
        var saved = (dependent.TryGetValue("depends", out var dp) ? dp : null, dependent.TryGetValue("dependencies", out var dl) ? dl : null);
        dependent.Remove("depends");
        dependent.Remove("dependencies");
        var broken = Record.Exception(() =>
        {
            var problems = ArgoTemplateResolver.Differences(ArgoTemplateResolver.Resolve(documents), unsplit);
            if (problems.Count > 0) throw new InvalidOperationException(string.Join("\n", problems));
        });
        Assert.NotNull(broken);
        if (saved.Item1 is not null) dependent["depends"] = saved.Item1;
        if (saved.Item2 is not null) dependent["dependencies"] = saved.Item2;
        Assert.Empty(ArgoTemplateResolver.Differences(ArgoTemplateResolver.Resolve(documents), unsplit));

        // 3. A step's condition in a group reading the wrong value: the when differs once resolved.
        var conditional = documents.Take(documents.Count - 1)
            .SelectMany(doc => L(Get(doc, "spec", "templates")).Select(M).Where(t => (string)t["name"]! == "main-dag")
                .SelectMany(t => L(Get(t, "dag", "tasks")).Select(M)))
            .First(t => t.TryGetValue("when", out var w) && ((string)w!).Contains("{{workflow.parameters.Mode}}", StringComparison.Ordinal));
        conditional["when"] = ((string)conditional["when"]!).Replace("'full'", "'dry'", StringComparison.Ordinal).Replace("'dry-run'", "'full'", StringComparison.Ordinal);
        Assert.Contains(ArgoTemplateResolver.Differences(ArgoTemplateResolver.Resolve(documents), unsplit), p => p.Contains("its task (resolved) differs", StringComparison.Ordinal));
    }

    /// <summary>
    /// The conditional golden case split by hand as the contract says (train, evaluate, publish in part-1; report and
    /// archive in part-2, reading evaluate's artifact and value and publish's outcome through a gate): the resolver
    /// finds it equivalent, and finds each way of getting it wrong. This checks the resolver without the splitter.
    /// </summary>
    [Fact]
    public void The_resolver_accepts_a_split_made_by_hand_per_the_contract_and_finds_each_break()
    {
        var c = ArgoCases.Conditional();
        var unsplitDoc = ArgoCompiler.Compile(c.Workflow, Unsplit(c.Options));
        var unsplit = Resolve(unsplitDoc);

        List<object?> HandSplit(Action<Dictionary<string, Dictionary<string, object?>>>? breakIt = null)
        {
            var root = Copy(unsplitDoc.Tree);
            var templates = L(Get(root, "spec", "templates")).Select(x => (Dictionary<string, object?>)x!).ToList();
            var tasks = L(Get(templates[0], "dag", "tasks")).Select(x => (Dictionary<string, object?>)x!).ToDictionary(t => (string)t["name"]!);
            var byName = templates.ToDictionary(t => (string)t["name"]!);
            Dictionary<string, object?> Named(params (string K, object? V)[] kv) => kv.ToDictionary(x => x.K, x => x.V);
            Dictionary<string, object?> Wt(string name, Dictionary<string, object?> mainDag, params string[] steps) => Named(
                ("apiVersion", "argoproj.io/v1alpha1"), ("kind", "WorkflowTemplate"), ("metadata", Named(("name", name))),
                ("spec", Named(("templates", new List<object?> { mainDag }.Concat(steps.Select(st => (object?)byName[st])).ToList()))));

            // part-2's tasks: the outside references through inputs; evaluate's term dropped (it never skips), publish's kept on a gate.
            tasks["report"]["depends"] = "(publish.Succeeded || publish.Skipped)";
            tasks["report"]["when"] = ((string)tasks["report"]["when"]!).Replace("{{tasks.evaluate.outputs.parameters.value}}", "{{inputs.parameters.evaluate_value}}");
            ((Dictionary<string, object?>)L(Get(tasks["report"], "arguments", "artifacts"))[0]!)["from"] = "{{inputs.artifacts.evaluate}}";
            ((Dictionary<string, object?>)L(Get(tasks["archive"], "arguments", "artifacts"))[0]!)["from"] = "{{inputs.artifacts.publish}}";
            var parts = new Dictionary<string, Dictionary<string, object?>>
            {
                ["part-1"] = Named(("name", "main-dag"),
                    ("outputs", Named(
                        ("parameters", new List<object?>
                        {
                            Named(("name", "evaluate_value"), ("valueFrom", Named(("parameter", "{{tasks.evaluate.outputs.parameters.value}}"), ("default", "")))),
                            Named(("name", "publish_status"), ("valueFrom", Named(("parameter", "{{tasks.publish.status}}")))),
                        }),
                        ("artifacts", new List<object?>
                        {
                            Named(("name", "evaluate"), ("from", "{{tasks.evaluate.outputs.artifacts.output}}")),
                            Named(("name", "publish"), ("from", "{{tasks.publish.outputs.artifacts.output}}"), ("optional", true)),
                        }))),
                    ("dag", Named(("tasks", new List<object?> { tasks["train"], tasks["evaluate"], tasks["publish"] })))),
                ["part-2"] = Named(("name", "main-dag"),
                    ("inputs", Named(
                        ("parameters", new List<object?> { Named(("name", "evaluate_value")), Named(("name", "publish_status")) }),
                        ("artifacts", new List<object?> { Named(("name", "evaluate")), Named(("name", "publish"), ("optional", true)) }))),
                    ("dag", Named(("tasks", new List<object?>
                    {
                        Named(("name", "publish"), ("template", "Gate"), ("when", "'{{inputs.parameters.publish_status}}' == 'Succeeded'")),
                        tasks["report"], tasks["archive"],
                    })))),
                ["parent-2"] = Named(("name", "part-2"), ("templateRef", Named(("name", "wt-2"), ("template", "main-dag"))), ("depends", "part-1"),
                    ("arguments", Named(
                        ("parameters", new List<object?>
                        {
                            Named(("name", "evaluate_value"), ("value", "{{tasks.part-1.outputs.parameters.evaluate_value}}")),
                            Named(("name", "publish_status"), ("value", "{{tasks.part-1.outputs.parameters.publish_status}}")),
                        }),
                        ("artifacts", new List<object?>
                        {
                            Named(("name", "evaluate"), ("from", "{{tasks.part-1.outputs.artifacts.evaluate}}")),
                            Named(("name", "publish"), ("from", "{{tasks.part-1.outputs.artifacts.publish}}")),
                        })))),
            };
            breakIt?.Invoke(parts);
            var wt1 = Wt("wt-1", parts["part-1"], "train", "evaluate", "publish");
            var wt2 = Wt("wt-2", parts["part-2"], "report", "archive");
            ((List<object?>)Get(wt2, "spec", "templates")!).Insert(1, Named(("name", "Gate"), ("suspend", Named(("duration", "0")))));
            ((Dictionary<string, object?>)root["spec"]!)["templates"] = new List<object?>
            {
                Named(("name", "main-dag"), ("dag", Named(("tasks", new List<object?>
                {
                    Named(("name", "part-1"), ("templateRef", Named(("name", "wt-1"), ("template", "main-dag")))),
                    parts["parent-2"],
                })))),
            };
            return new List<object?> { wt1, wt2, root };
        }

        List<string> Problems(Action<Dictionary<string, Dictionary<string, object?>>>? breakIt = null)
        {
            try { return ArgoTemplateResolver.Differences(ArgoTemplateResolver.Resolve(HandSplit(breakIt)), unsplit); }
            catch (InvalidOperationException e) { return [e.Message]; }
        }

        var good = ArgoTemplateResolver.Resolve(HandSplit());
        Assert.Empty(ArgoTemplateResolver.Differences(good, unsplit));
        Assert.Equal(1, good.Depth);
        Assert.Equal(new[] { "publish" }, good.Gates.Select(g => g.Step));

        static Dictionary<string, object?> Item(object? list, int i) => (Dictionary<string, object?>)L(list)[i]!;
        // Each break, and what the resolver says.
        Assert.Contains(Problems(p => Item(Get(p["part-1"], "outputs", "artifacts"), 0)["from"] = "{{tasks.train.outputs.artifacts.output}}"),
            x => x.Contains("step report: its task (resolved) differs", StringComparison.Ordinal));
        Assert.Contains(Problems(p => Item(Get(p["part-1"], "outputs", "artifacts"), 1).Remove("optional")),
            x => x.Contains("step archive: artifact publish comes from publish, which may be skipped", StringComparison.Ordinal));
        Assert.Contains(Problems(p => Item(Get(p["part-1"], "outputs", "parameters"), 0)["valueFrom"] =
                new Dictionary<string, object?> { ["parameter"] = "{{tasks.train.outputs.parameters.value}}", ["default"] = "" }),
            x => x.Contains("train's template declares no output parameter value", StringComparison.Ordinal));
        Assert.Contains(Problems(p => p["parent-2"].Remove("depends")),
            x => x.Contains("which is not an ancestor of part-2", StringComparison.Ordinal));
        Assert.Contains(Problems(p => Item(Get(p["part-2"], "dag", "tasks"), 0)["when"] = "'{{inputs.parameters.publish_status}}' != 'Failed'"),
            x => x.Contains("gate part-2.publish does not mirror step publish", StringComparison.Ordinal));
        Assert.Contains(Problems(p => Item(Get(p["part-2"], "dag", "tasks"), 1)["depends"] = "publish.Succeeded"),
            x => x.Contains("dependency term 'publish.Succeeded' is not in the unsplit compile", StringComparison.Ordinal));
        Assert.Contains(Problems(p => Item(Get(p["part-2"], "dag", "tasks"), 2).Remove("depends")),
            x => x.Contains("step archive: term 'publish.Succeeded' was dropped, but publish may be skipped", StringComparison.Ordinal));
        Assert.Contains(Problems(p => Item(Get(p["parent-2"], "arguments", "parameters"), 1)["value"] = "{{tasks.part-1.outputs.parameters.evaluate_value}}"),
            x => x.Contains("gate part-2.publish does not mirror step publish", StringComparison.Ordinal));
        Assert.Contains(Problems(p => ((List<object?>)Get(p["part-2"], "inputs", "artifacts")!).RemoveAt(0)),
            x => x.Contains("argument artifact evaluate is not an input of the called template", StringComparison.Ordinal));
    }

    /// <summary>A deep copy as plain dictionaries and lists, to break on purpose.</summary>
    private static Dictionary<string, object?> Copy(IReadOnlyDictionary<string, object?> tree) => (Dictionary<string, object?>)CopyNode(tree)!;

    private static object? CopyNode(object? node) => node switch
    {
        IReadOnlyDictionary<string, object?> m => m.ToDictionary(kv => kv.Key, kv => CopyNode(kv.Value), StringComparer.Ordinal),
        string s => s,
        System.Collections.IEnumerable e => e.Cast<object?>().Select(CopyNode).ToList(),
        _ => node,
    };
}
