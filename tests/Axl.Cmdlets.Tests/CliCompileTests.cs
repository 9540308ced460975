using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>axl compile --target argo as a user runs it: a process, its output file, stdout, stderr and exit code.</summary>
public sealed class CliCompileTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Compile_writes_the_YAML_to_the_out_file_and_a_summary_to_stdout()
    {
        var file = Path.Combine(_dir.Path, "out", "iris.yaml");
        var (exit, stdout, stderr) = CliTests.Axl("compile", "--target", "argo", "--out", file, "examples/iris-knn/iris-knn.axl.ps1");
        Assert.True(exit == 0, stderr);
        Assert.Matches(@"^Workflow iris-knn- \(5 tasks, [0-9.]+ KiB\) -> ", stdout);
        var yaml = File.ReadAllText(file);
        var doc = ArgoYaml.Parse(yaml);
        Assert.Equal("Workflow", doc["kind"]);
        Assert.Equal(5, ArgoYaml.L(ArgoYaml.Get(ArgoYaml.L(ArgoYaml.Get(doc, "spec", "templates"))[0], "dag", "tasks")).Count);

        // Deterministic: the same bytes again, and the same on stdout.
        var again = CliTests.Axl("compile", "--target", "argo", "examples/iris-knn/iris-knn.axl.ps1");
        Assert.Equal(0, again.Exit);
        Assert.Equal(yaml, again.Out);
    }

    [Fact]
    public void Kind_image_and_several_workflows()
    {
        var two = _dir.Write("two.axl.ps1", "AxlWorkflow one { Step a { 1 } }\nAxlWorkflow two { Step b { 2 } }");
        var (exit, stdout, stderr) = CliTests.Axl("compile", "--target", "argo", "--kind", "workflowtemplate", "--image", "me/runner:2", two);
        Assert.True(exit == 0, stderr);
        Assert.StartsWith("---\napiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata:\n  name: one\n", stdout);
        Assert.Contains("---\napiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata:\n  name: two\n", stdout);
        Assert.Contains("image: me/runner:2", stdout);
        var single = CliTests.Axl("compile", "--target", "argo", two + ":two");
        Assert.Contains("generateName: two-", single.Out);
        Assert.DoesNotContain("name: one", single.Out);
    }

    [Fact]
    public void An_invalid_workflow_exits_1_with_the_diagnostics_on_stderr_and_writes_nothing()
    {
        var bad = _dir.Write("bad.axl.ps1", "AxlWorkflow cyc {\n  Step a { param($c) $c }\n  Step b { param($a) $a }\n  Step c { param($b) $b }\n}");
        var outFile = Path.Combine(_dir.Path, "bad.yaml");
        var (exit, stdout, stderr) = CliTests.Axl("compile", "--target", "argo", "--out", outFile, bad);
        Assert.Equal(1, exit);
        Assert.Contains($"{bad}:2: error Axl.CycleDetected: step 'a': the steps form a cycle: a -> b -> c -> a.", stderr);
        Assert.Contains("axl: workflow 'cyc' is not valid; nothing was compiled.", stderr);
        Assert.Equal("", stdout);
        Assert.False(File.Exists(outFile));
    }

    [Fact]
    public void Compile_errors_and_usage_errors_exit_1_with_a_message()
    {
        var art = _dir.Write("art.axl.ps1", "AxlWorkflow art -CodeDelivery Artifact { Step a { 1 } }");
        var missing = CliTests.Axl("compile", "--target", "argo", art);
        Assert.Equal(1, missing.Exit);
        Assert.Contains("error Axl.CodeArchiveMissing:", missing.Err);
        Assert.Contains("--code-archive", missing.Err);

        var location = _dir.Write("code.json", """{ "bucket": "axl", "key": "axl/code/abc.tar.gz", "sha256": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }""");
        var withArchive = CliTests.Axl("compile", "--target", "argo", "--code-archive", location, art);
        Assert.True(withArchive.Exit == 0, withArchive.Err);
        Assert.Contains("--workflow-archive", withArchive.Out);
        Assert.Contains("key: axl/code/abc.tar.gz", withArchive.Out);

        var tooLarge = CliTests.Axl("compile", "--target", "argo", "--max-bytes", "500", "examples/diamond/diamond.axl.ps1");
        Assert.Equal(1, tooLarge.Exit);
        Assert.Contains("error Axl.ArgoTooLarge:", tooLarge.Err);

        Assert.Contains("compile needs --target argo", CliTests.Axl("compile", "examples/diamond/diamond.axl.ps1").Err);
        Assert.Contains("unknown target 'airflow'", CliTests.Axl("compile", "--target", "airflow", "examples/diamond/diamond.axl.ps1").Err);
        Assert.Contains("--kind takes workflow or workflowtemplate", CliTests.Axl("compile", "--target", "argo", "--kind", "cron", "examples/diamond/diamond.axl.ps1").Err);
        Assert.Contains("error Axl.WorkflowFileNotFound", CliTests.Axl("compile", "--target", "argo", "no/such.axl.ps1").Err);
        var help = CliTests.Axl("help", "compile");
        Assert.Contains("Usage: axl compile --target argo", help.Out);
        Assert.Contains("compile", CliTests.Axl("--help").Out);
    }

    [NodeFact]
    public void The_compiled_file_passes_Argos_schema()
    {
        var file = Path.Combine(_dir.Path, "log-errors.yaml");
        var (exit, _, stderr) = CliTests.Axl("compile", "--target", "argo", "--out", file, "examples/log-errors/log-errors.axl.ps1");
        Assert.True(exit == 0, stderr);

        // Every example, as it is and forced by small limits to split into WorkflowTemplates, in the same validator run.
        var examples = Directory.GetDirectories(Path.Combine(Repo.Root, "examples")).Order(StringComparer.Ordinal)
            .Select(d => Path.Combine(d, Path.GetFileName(d) + ".axl.ps1")).Where(File.Exists).ToArray();
        Assert.True(examples.Length >= 5, string.Join(", ", examples));
        var all = Path.Combine(_dir.Path, "examples.yaml");
        var plain = CliTests.Axl(["compile", "--target", "argo", "--out", all, .. examples]);
        Assert.True(plain.Exit == 0, plain.Err);
        var split = Path.Combine(_dir.Path, "examples-split.yaml");
        var forced = CliTests.Axl(["compile", "--target", "argo", "--max-templates", "3", "--max-dag-tasks", "4", "--out", split, .. examples]);
        Assert.True(forced.Exit == 0, forced.Err);
        var documents = ArgoYaml.ParseAll(File.ReadAllText(split));
        Assert.True(documents.Count(d => (string?)d["kind"] == "WorkflowTemplate") >= 4, $"{documents.Count} documents");
        Assert.Equal(examples.Length, documents.Count(d => (string?)d["kind"] == "Workflow"));

        var (valid, output) = ArgoYaml.Validate(file, all, split);
        Assert.True(valid == 0, output);
        Assert.Contains($"{1 + examples.Length + documents.Count} valid, 0 invalid", output);
    }

    /// <summary>
    /// Issue #14's "done": axl compile --target argo of a 3,000-step workflow file exits 0 and writes every object
    /// within Argo v4's limits (200 templates, 200 DAG tasks) and under 1 MiB, valid against Argo's schema, the same
    /// bytes every time, and equivalent to the unsplit compile (--split none with the limits raised) step by step,
    /// resolved the way Argo's controller resolves templateRef. --split none alone refuses it, naming the limit.
    /// </summary>
    [NodeFact]
    public void A_3000_step_workflow_compiles_through_the_command_into_valid_objects_within_the_limits_equivalent_to_one()
    {
        const int n = 3_000;
        var text = new System.Text.StringBuilder("AxlWorkflow big {\n    Parameter Mode -Default 'full'\n    Step s0 { 1 }\n");
        for (var i = 1; i < n; i++)
        {
            var options = (i % 97 == 0 ? $" -When 's{i - 1} -gt 0'" : "") + (i % 89 == 0 && i > 10 ? $" -DependsOn s{i - 10}" : "");
            var inputs = i % 53 == 0 ? $"$s{i - 1}, $Mode" : $"$s{i - 1}";
            text.Append($"    Step s{i}{options} {{ param({inputs}) 1 }}\n");
        }
        // The workflow's folder is its code (hashed into the object names): the output goes elsewhere.
        var file = _dir.Write(Path.Combine("flow", "big.axl.ps1"), text.Append("}\n").ToString());
        var split = Path.Combine(_dir.Path, "out", "split.yaml");

        var (exit, stdout, stderr) = CliTests.Axl("compile", "--target", "argo", "--out", split, file);
        Assert.True(exit == 0, stderr);
        Assert.Matches(@"^Workflow big- \(3000 tasks in [0-9]+ WorkflowTemplates, [0-9.]+ MiB in all\) -> ", stdout);
        var yaml = File.ReadAllText(split);
        var again = CliTests.Axl("compile", "--target", "argo", file);
        Assert.Equal(0, again.Exit);
        Assert.Equal(yaml, again.Out);

        // Every object: under 1 MiB, at most 200 templates, at most 200 tasks per DAG; WorkflowTemplates first, the Workflow last.
        Assert.StartsWith("---\n", yaml);
        var texts = yaml.Split("---\n", StringSplitOptions.RemoveEmptyEntries);
        var documents = ArgoYaml.ParseAll(yaml);
        Assert.Equal(texts.Length, documents.Count);
        Assert.True(documents.Count > 15, $"{documents.Count} documents");
        Assert.All(texts, t => Assert.True(System.Text.Encoding.UTF8.GetByteCount(t) < 1024 * 1024, $"{System.Text.Encoding.UTF8.GetByteCount(t)} bytes"));
        Assert.All(documents.Take(documents.Count - 1), d => Assert.Equal("WorkflowTemplate", d["kind"]));
        Assert.Equal("Workflow", documents[^1]["kind"]);
        foreach (var d in documents)
        {
            var templates = ArgoYaml.L(ArgoYaml.Get(d, "spec", "templates"));
            Assert.InRange(templates.Count, 1, 200);
            foreach (var t in templates) Assert.InRange(ArgoYaml.L(ArgoYaml.Get(t, "dag", "tasks")).Count, 0, 200);
        }
        var (valid, output) = ArgoYaml.Validate(split);
        Assert.True(valid == 0, output);
        Assert.Contains($"{documents.Count} valid, 0 invalid", output);

        // One object is refused by default, with the limit and the remedy; with the limits raised it is the unsplit compile.
        var refused = CliTests.Axl("compile", "--target", "argo", "--split", "none", file);
        Assert.Equal(1, refused.Exit);
        Assert.Contains("error Axl.ArgoTooManyItems", refused.Err);
        Assert.Equal("", refused.Out);
        var unsplit = CliTests.Axl("compile", "--target", "argo", "--split", "none", "--max-templates", "100000", "--max-dag-tasks", "100000", "--max-bytes", "1000000000", file);
        Assert.True(unsplit.Exit == 0, unsplit.Err);
        var one = ArgoYaml.ParseAll(unsplit.Out);
        Assert.Single(one);
        var resolvedSplit = Axl.Core.Tests.Compilers.ArgoTemplateResolver.Resolve(documents.Cast<object?>().ToList());
        var resolvedUnsplit = Axl.Core.Tests.Compilers.ArgoTemplateResolver.Resolve(one.Cast<object?>().ToList());
        Assert.Equal(n, resolvedUnsplit.Steps.Count);
        Assert.Equal(n, resolvedSplit.Steps.Count);
        Assert.Equal(documents.Count - 1, resolvedSplit.UsedTemplates.Count);
        Assert.NotEmpty(resolvedSplit.Gates); // the conditions' outcomes cross groups
        var differences = Axl.Core.Tests.Compilers.ArgoTemplateResolver.Differences(resolvedSplit, resolvedUnsplit);
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }
}
