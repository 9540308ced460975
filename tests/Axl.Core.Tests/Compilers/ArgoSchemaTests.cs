using Axl.Compilers.Argo;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Core.Tests.Compilers;

/// <summary>Every golden file, and what the compiler makes now, passes Argo's published schema (models and JSON schema).</summary>
public sealed class ArgoSchemaTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "axl-argo-schema-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [NodeFact]
    public void Every_golden_file_is_a_valid_Argo_document()
    {
        var files = Directory.GetFiles(Golden.Directory("argo"), "*.yaml").OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        var (exit, output) = ArgoSchema.Validate(files);
        Assert.True(exit == 0, "Argo schema validation failed:\n" + output);
        Assert.Contains($"{files.Count} valid, 0 invalid", output);
    }

    /// <summary>
    /// Every shape of document the tests compile for a cluster with Argo v4's limits, in one run of the validator (whose
    /// models enforce the CRD's maxItems: 200 templates, 200 DAG tasks, 500 input parameters): each golden case as a
    /// Workflow and as a WorkflowTemplate, each forced to split into groups of groups by small limits, the compiler
    /// tests' options (overrides, parameters of every type, resources, retries, timeouts, code archive, each store,
    /// parallelism), and the split workflows of <see cref="ArgoSplitTests"/> and of the scale tests (chains of 3,000 and
    /// 10,000 steps, a wide fan-in, random DAGs with conditions on each store). Documents compiled with the limits raised
    /// (for clusters with the minimal CRDs) are not for such a cluster; one of them shows the validator refuses it.
    /// </summary>
    [NodeFact]
    public void The_compiler_output_of_every_case_split_or_not_is_a_valid_Argo_document()
    {
        Directory.CreateDirectory(_dir);
        var compiled = new List<(string Name, ArgoDocument Doc)>();
        void Add(string name, AxlWorkflow wf, ArgoCompileOptions o)
        {
            var d = ArgoCompiler.Compile(wf, o);
            // Over a limit means split (every case here has more steps than the forced limits' DAG holds).
            if (wf.StepCount + 1 > o.MaxTemplates || wf.StepCount > o.MaxDagTasks) Assert.True(d.IsSplit, name + " was not split");
            compiled.Add((name, d));
        }
        var forced = new ArgoCompileOptions { MaxDagTasks = 4, MaxTemplates = 3 };

        foreach (var name in ArgoCases.Names)
        {
            var c = ArgoCases.Get(name);
            Add(name, c.Workflow, c.Options);
            var other = c.Options with { Kind = c.Options.Kind == ArgoKind.Workflow ? ArgoKind.WorkflowTemplate : ArgoKind.Workflow };
            Add(name + "-" + other.Kind, c.Workflow, other);
            Add(name + "-split", c.Workflow, c.Options with { MaxDagTasks = forced.MaxDagTasks, MaxTemplates = forced.MaxTemplates });
            Add(name + "-split-" + other.Kind, c.Workflow, other with { MaxDagTasks = forced.MaxDagTasks, MaxTemplates = forced.MaxTemplates });
        }

        // The compiler tests' options, on one workflow that has a bit of everything.
        var sink = KitchenSink(null);
        foreach (var (name, o) in new (string, ArgoCompileOptions)[]
        {
            ("options", new ArgoCompileOptions { Image = "cli/image:3", ServiceAccount = "from-option", Namespace = "ml", Parallelism = 5, DeadlineGraceSeconds = 0 }),
            ("options-template", new ArgoCompileOptions { Kind = ArgoKind.WorkflowTemplate, Namespace = "ml" }),
            ("code-archive", new ArgoCompileOptions { CodeArchive = ArgoCases.CodeArchive }),
            ("code-archive-key-only", new ArgoCompileOptions { CodeArchive = ArgoCases.CodeArchive with { Endpoint = null, CredentialsSecret = null, Insecure = false } }),
            ("options-split", forced with { Image = "cli/image:3", Namespace = "ml", Parallelism = 0 }),
            ("code-archive-split", forced with { CodeArchive = ArgoCases.CodeArchive }),
        })
            Add("sink-" + name, sink, ArgoCases.Options(o));
        foreach (var store in new[] { "ref:artifact-repositories", "s3://bucket", "pvc" })
        {
            Add("sink-" + store.Split(':')[0], KitchenSink(store), ArgoCases.Options());
            Add("sink-split-" + store.Split(':')[0], KitchenSink(store), ArgoCases.Options(forced));
        }

        // Split by the default limits: the proof's shapes and the scale tests' sizes.
        Add("chain-300", ArgoSplitTests.Chain(300), ArgoSplitTests.Options());
        Add("chain-3000", ArgoSplitTests.Chain(3_000), ArgoSplitTests.Options());
        Add("chain-10000", ArgoSplitTests.Chain(10_000), ArgoSplitTests.Options());
        Add("wide-1000", ArgoSplitTests.Wide(1_000), ArgoSplitTests.Options());
        Add("random-1500", ArgoSplitTests.RandomDag(1_500, 2), ArgoSplitTests.Options());
        Add("uniform-5000", ArgoSplitTests.RandomDag(5_000, 22, uniform: true), ArgoSplitTests.Options());
        Add("random-s3", ArgoSplitTests.RandomDag(800, 4, "s3://axl-artifacts/runs/team-a"), ArgoSplitTests.Options(ArgoSplitTests.S3));
        Add("random-pvc", ArgoSplitTests.RandomDag(800, 3, "pvc:5Gi"), ArgoSplitTests.Options());
        Add("random-ref", ArgoSplitTests.RandomDag(800, 5, "ref:artifact-repositories/team-a"), ArgoSplitTests.Options());
        Add("nested-chain", ArgoSplitTests.Chain(100), ArgoSplitTests.Options(new ArgoCompileOptions { MaxDagTasks = 4, MaxTemplates = 5 }));
        Add("nested-random", ArgoSplitTests.RandomDag(100, 7), ArgoSplitTests.Options(new ArgoCompileOptions { MaxDagTasks = 10, MaxTemplates = 6 }));
        Add("nested-pvc", ArgoSplitTests.RandomDag(100, 8, "pvc:1Gi"), ArgoSplitTests.Options(new ArgoCompileOptions { MaxDagTasks = 10, MaxTemplates = 6 }));
        Add("bytes-split", ArgoSplitTests.RandomDag(150, 11), ArgoSplitTests.Options(new ArgoCompileOptions { MaxBytes = 100 * 1024 }));
        Assert.Contains(compiled, x => x.Doc.IsSplit && x.Doc.Templates.Any(t => t.Kind == "WorkflowTemplate"));
        Assert.True(compiled.Count(x => x.Doc.IsSplit) >= 25, $"{compiled.Count(x => x.Doc.IsSplit)} split compiles");

        var files = new List<string>();
        var documents = 0;
        foreach (var (name, doc) in compiled)
        {
            var file = Path.Combine(_dir, name + ".yaml");
            File.WriteAllText(file, doc.ToYamlAll());
            files.Add(file);
            documents += doc.Documents.Count();
        }
        // The same 3,000 steps in one object, as a cluster with the minimal CRDs would take it: Argo v4's schema refuses it.
        var unsplit = Path.Combine(_dir, "unsplit-3000.yaml");
        File.WriteAllText(unsplit, ArgoCompiler.Compile(ArgoSplitTests.Chain(3_000), ArgoSplitTests.Unsplit(ArgoSplitTests.Options())).ToYaml());
        files.Add(unsplit);

        var (exit, output) = ArgoSchema.Validate(files);
        Assert.True(output.Contains($"{documents} valid, 1 invalid", StringComparison.Ordinal), "Argo schema validation failed:\n" + output);
        Assert.Equal(1, exit);
        Assert.Contains("FAIL " + unsplit, output);
        Assert.Contains("must NOT have more than 200 items", output);
    }

    /// <summary>The compiler tests' features in one workflow: parameters of every type (one required), images, resources, retries, timeouts, env, labels, conditions, order edges.</summary>
    private static AxlWorkflow KitchenSink(string? store)
    {
        var at = (int line) => new SourceLocation("/flows/sink.axl.ps1", line);
        return new WorkflowBuilder("sink", new WorkflowDefinitionOptions
            {
                Image = "wf/image:1", ServiceAccount = "from-workflow", ArtifactStore = store, Description = "every feature",
                Labels = new System.Collections.Hashtable { ["team"] = "ml" },
            }, at(1))
            .AddParameter("K", 3L, null, null, at(2)).AddParameter("Rate", 0.25, null, null, at(3)).AddParameter("Flag", true, null, null, at(4))
            .AddParameter("Name", "x y", null, null, at(5)).AddParameter("Day", null, null, null, at(6))
            .AddStep("first", "param($K, $Rate, $Flag, $Name, $Day) 0.95", new StepOptions { Image = "step/image:2", IoHandler = "json" }, at(7))
            .AddStep("second", "param($first) $first + 1", new StepOptions
            {
                Retries = 3, Timeout = 90, Cpu = "250m", Memory = "512Mi", Gpu = 2, GpuResource = "amd.com/gpu",
                Env = new System.Collections.Hashtable { ["Z"] = "1", ["A"] = "2" }, When = "first -gt 0.9 -and $Flag",
            }, at(8))
            .AddStep("third", "param($first) 'ok'", new StepOptions { When = "-not (first -eq 3) -or $Name -eq 'x y'", DependsOn = new[] { "second" } }, at(9))
            .AddStep("fourth", "param($second, $third) 1", new StepOptions { CpuLimit = "1", MemoryLimit = "1Gi" }, at(10))
            .AddStep("fifth", (string?)null, new StepOptions { CommandSpecified = true, Command = "sort", Stdin = "fourth", Timeout = 30 }, at(11))
            .Build();
    }

    [NodeFact]
    public void The_validator_rejects_what_Argo_would_reject()
    {
        Directory.CreateDirectory(_dir);
        var golden = File.ReadAllText(Path.Combine(Golden.Directory("argo"), "linear.yaml"));
        // Integer-or-string fields as integers (the reference schema types them as strings), and a container without its name.
        var numbers = Path.Combine(_dir, "numbers.yaml");
        File.WriteAllText(numbers, golden.Replace("limit: '2'", "limit: 2").Replace("activeDeadlineSeconds: '360'", "activeDeadlineSeconds: 360"));
        var noName = Path.Combine(_dir, "no-name.yaml");
        File.WriteAllText(noName, golden.Replace("        name: main\n", ""));
        var (exit, output) = ArgoSchema.Validate(new[] { numbers, noName });
        Assert.Equal(1, exit);
        Assert.Contains("retryStrategy/limit must be string", output);
        Assert.Contains("activeDeadlineSeconds must be string", output);
        Assert.Contains("must have required property name", output);
        Assert.Contains("0 valid, 2 invalid", output);
    }
}
