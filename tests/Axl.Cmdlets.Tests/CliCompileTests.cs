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
        var (valid, output) = ArgoYaml.Validate(file);
        Assert.True(valid == 0, output);
    }
}
