using System.Diagnostics;
using System.Management.Automation;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Axl.Cmdlets.Tests;

/// <summary>Helpers for compiled Argo documents: YAML to plain maps and lists, and Argo's published schema via node.</summary>
public static class ArgoYaml
{
    /// <summary>The YAML as Dictionary&lt;string, object?&gt;, List&lt;object?&gt; and strings (one document).</summary>
    public static Dictionary<string, object?> Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (Dictionary<string, object?>)Convert(stream.Documents[0].RootNode)!;
    }

    /// <summary>Every document of a YAML stream (a split workflow's WorkflowTemplates and parent), each as <see cref="Parse"/> gives it.</summary>
    public static List<Dictionary<string, object?>> ParseAll(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Select(d => (Dictionary<string, object?>)Convert(d.RootNode)!).ToList();
    }

    private static object? Convert(YamlNode node) => node switch
    {
        YamlMappingNode m => m.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => Convert(kv.Value)),
        YamlSequenceNode s => s.Children.Select(Convert).ToList(),
        YamlScalarNode s => s.Value,
        _ => null,
    };

    public static Dictionary<string, object?> M(object? o) => Assert.IsType<Dictionary<string, object?>>(o);
    public static List<object?> L(object? o) => o is null ? new List<object?>() : Assert.IsType<List<object?>>(o);
    public static object? Get(object? o, params string[] path)
    {
        foreach (var key in path)
            if (o is not Dictionary<string, object?> m || !m.TryGetValue(key, out o)) return null;
        return o;
    }

    /// <summary>node on PATH, or null.</summary>
    public static string? Node { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "node")).FirstOrDefault(File.Exists);

    /// <summary>Validates YAML files with tests/schema/validate-argo.mjs; (exit code, output).</summary>
    public static (int Exit, string Output) Validate(params string[] files)
    {
        var folder = Path.Combine(Repo.Root, "tests", "schema");
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "@kubernetes-models", "argo-workflows")),
            "The schema validator's packages are not installed: run `npm ci --prefix tests/schema` (tests/run does it when node_modules is missing or the lock file changed).");
        var psi = new ProcessStartInfo(Node!) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        psi.ArgumentList.Add("validate-argo.mjs");
        psi.ArgumentList.Add("--schema");
        psi.ArgumentList.Add("argo-schema.json");
        foreach (var f in files) psi.ArgumentList.Add(f);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail("the schema validator did not finish within 120 s"); }
        return (p.ExitCode, output.Result + error.Result);
    }
}

/// <summary>A fact that needs node (the Argo schema validator): skipped with a clear message where node is not installed.</summary>
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (ArgoYaml.Node is null) Skip = "node is not on PATH: validating compiled YAML against Argo's schema needs Node.js 20 or newer and `npm ci --prefix tests/schema`.";
    }
}

/// <summary>ConvertTo-ArgoWorkflow in the real engine, with the module imported as built.</summary>
[Collection("PowerShell")]
public sealed class ArgoCmdletTests(PowerShellFixture ps) : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private static string Example(string name) => Path.Combine(Repo.Examples, name, name + ".axl.ps1");

    [Fact]
    public void The_iris_example_compiles_to_Argo_YAML_from_the_pipeline()
    {
        var r = ps.Run("Get-AxlWorkflow $file | ConvertTo-ArgoWorkflow -AsYaml", new Dictionary<string, object> { ["file"] = Example("iris-knn") });
        r.ShouldSucceed();
        var yaml = Assert.IsType<string>(Assert.Single(r.Objects));
        var doc = ArgoYaml.Parse(yaml);
        Assert.Equal("argoproj.io/v1alpha1", doc["apiVersion"]);
        Assert.Equal("Workflow", doc["kind"]);
        Assert.Equal("iris-knn-", ArgoYaml.Get(doc, "metadata", "generateName"));
        Assert.Equal("main-dag", ArgoYaml.Get(doc, "spec", "entrypoint"));
        var templates = ArgoYaml.L(ArgoYaml.Get(doc, "spec", "templates")).Select(ArgoYaml.M).ToList();
        Assert.Equal(new[] { "main-dag", "load-data", "split", "train", "evaluate", "report" }, templates.Select(t => t["name"]));
        var train = templates.Single(t => (string?)t["name"] == "train");
        Assert.Equal("2", ArgoYaml.Get(train, "retryStrategy", "limit"));
        Assert.Equal("500m", ArgoYaml.Get(train, "container", "resources", "requests", "cpu"));
        var args = ArgoYaml.L(ArgoYaml.Get(train, "container", "args")).Cast<string>().ToList();
        Assert.Equal("step", args[0]);
        Assert.Contains("\"workflowFile\":\"iris-knn.axl.ps1\"", args[^1]);
    }

    [Fact]
    public void The_cmdlet_and_axl_compile_give_the_same_bytes()
    {
        var r = ps.Run("ConvertTo-ArgoWorkflow -Path $file -Kind WorkflowTemplate -Image my/runner:1 -AsYaml", new Dictionary<string, object> { ["file"] = Example("log-errors") });
        r.ShouldSucceed();
        var cli = CliTests.Axl("compile", "--target", "argo", "--kind", "workflowtemplate", "--image", "my/runner:1", "examples/log-errors/log-errors.axl.ps1");
        Assert.True(cli.Exit == 0, cli.Err);
        Assert.Equal(cli.Out, Assert.IsType<string>(Assert.Single(r.Objects)));
    }

    [Fact]
    public void The_document_object_has_a_summary_a_view_and_ToYaml()
    {
        var r = ps.Run("""
            $d = Get-AxlWorkflow $file | ConvertTo-ArgoWorkflow -Namespace ml
            $d.Kind; $d.Name; $d.TaskCount; $d.ArtifactStorage; $d.CodeDelivery.ToString(); $d.Namespace
            $d.ToString()
            $d.ToYaml().StartsWith('apiVersion: argoproj.io/v1alpha1')
            $d.Size -eq [System.Text.Encoding]::UTF8.GetByteCount($d.ToYaml())
            """, new Dictionary<string, object> { ["file"] = Example("diamond") });
        r.ShouldSucceed();
        var o = r.Objects.Select(x => x.ToString()).ToList();
        Assert.Equal(new[] { "Workflow", "diamond-", "4", "default", "Image", "ml" }, o.Take(6));
        Assert.Matches(@"^Workflow diamond- \(4 tasks, [0-9.]+ KiB\)$", o[6]);
        Assert.Equal("True", o[7]);
        Assert.Equal("True", o[8]);

        var table = ps.Render($"Get-AxlWorkflow '{Example("diamond")}' | ConvertTo-ArgoWorkflow");
        Assert.Contains("Kind", table);
        Assert.Contains("Artifacts", table);
        Assert.Matches(@"Workflow\s+diamond-\s+4\s+[0-9.]+ KiB\s+default\s+Image", table);
    }

    [Fact]
    public void An_invalid_workflow_writes_its_diagnostics_as_errors_and_the_next_workflow_still_compiles()
    {
        var bad = _dir.Write("cyc.axl.ps1", "AxlWorkflow cyc {\n  Step a { param($c) $c }\n  Step b { param($a) $a }\n  Step c { param($b) $b }\n}");
        var good = _dir.Write("fine.axl.ps1", "AxlWorkflow fine { Step only { 1 } }");
        var r = ps.Run("ConvertTo-ArgoWorkflow -Path $bad, $good", new Dictionary<string, object> { ["bad"] = bad, ["good"] = good });
        var error = Assert.Single(r.Errors);
        Assert.Equal("Axl.CycleDetected,Axl.Cmdlets.Compilers.ConvertToArgoWorkflowCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Contains("a -> b -> c -> a", error.Exception.Message);
        Assert.StartsWith("Workflow fine- (1 task, ", Assert.Single(r.Objects).ToString());
    }

    [Fact]
    public void A_workflow_defined_in_memory_has_no_file_for_the_runner_and_is_refused()
    {
        var r = ps.Run("AxlWorkflow mem { Step a { 1 } } | ConvertTo-ArgoWorkflow");
        var e = Assert.Single(r.Errors);
        Assert.Equal("Axl.WorkflowFileUnknown,Axl.Cmdlets.Compilers.ConvertToArgoWorkflowCommand", e.FullyQualifiedErrorId);
        Assert.Contains("has no source file", e.Exception.Message);
    }

    [Fact]
    public void Compile_errors_carry_their_id_and_category()
    {
        var file = _dir.Write("art.axl.ps1", "AxlWorkflow art -CodeDelivery Artifact {\n  Step a { 1 }\n}");
        var missing = ps.Run("ConvertTo-ArgoWorkflow -Path $file", new Dictionary<string, object> { ["file"] = file });
        var e = Assert.Single(missing.Errors);
        Assert.Equal("Axl.CodeArchiveMissing,Axl.Cmdlets.Compilers.ConvertToArgoWorkflowCommand", e.FullyQualifiedErrorId);
        Assert.Contains("-CodeArchive", e.Exception.Message);
        Assert.Empty(missing.Output);

        var tooLarge = ps.Run("Get-AxlWorkflow $file | ConvertTo-ArgoWorkflow -MaxBytes 1000", new Dictionary<string, object> { ["file"] = Example("iris-knn") });
        var t = Assert.Single(tooLarge.Errors);
        Assert.Equal("Axl.ArgoTooLarge,Axl.Cmdlets.Compilers.ConvertToArgoWorkflowCommand", t.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.LimitsExceeded, t.CategoryInfo.Category);
        Assert.Contains("WorkflowTemplate", t.Exception.Message);

        var s3 = ps.Run("Get-AxlWorkflow $file | ConvertTo-ArgoWorkflow -S3Endpoint minio:9000", new Dictionary<string, object> { ["file"] = Example("diamond") });
        Assert.Equal("Axl.InvalidCompileOption,Axl.Cmdlets.Compilers.ConvertToArgoWorkflowCommand", Assert.Single(s3.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void The_code_archive_and_S3_options_reach_the_YAML()
    {
        var file = _dir.Write("flows/etl.axl.ps1", "AxlWorkflow etl -CodeDelivery Artifact -ArtifactStore s3://artifacts/etl {\n  Step extract { 1 }\n  Step load { param($extract) $extract }\n}");
        var r = ps.Run("""
            $code = @{ Bucket = 'axl'; Key = 'axl/code/abc.tar.gz'; Sha256 = 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'; Endpoint = 'minio.argo:9000'; Insecure = $true; CredentialsSecret = 'minio-creds' }
            ConvertTo-ArgoWorkflow -Path $file -CodeArchive $code -CodeRoot $root -S3Endpoint minio.argo:9000 -S3Insecure -S3CredentialsSecret minio-creds -S3Region eu-west-1 -AsYaml
            """, new Dictionary<string, object> { ["file"] = file, ["root"] = _dir.Path });
        r.ShouldSucceed();
        var doc = ArgoYaml.Parse(Assert.IsType<string>(Assert.Single(r.Objects)));
        var load = ArgoYaml.L(ArgoYaml.Get(doc, "spec", "templates")).Select(ArgoYaml.M).Single(t => (string?)t["name"] == "load");
        var code = ArgoYaml.L(ArgoYaml.Get(load, "inputs", "artifacts")).Select(ArgoYaml.M).Single(a => (string?)a["name"] == "code");
        Assert.Equal("axl/code/abc.tar.gz", ArgoYaml.Get(code, "s3", "key"));
        Assert.Equal("minio-creds", ArgoYaml.Get(code, "s3", "accessKeySecret", "name"));
        var args = ArgoYaml.L(ArgoYaml.Get(load, "container", "args")).Cast<string>().ToList();
        Assert.Equal(new[] { "step", "--workflow-archive", "/axl/code.tar.gz", "--manifest-json" }, args.Take(4));
        Assert.Contains("\"workflowFile\":\"flows/etl.axl.ps1\"", args[^1]);
        Assert.Contains("\"codeArchiveSha256\":\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", args[^1]);
        var output = ArgoYaml.M(ArgoYaml.L(ArgoYaml.Get(load, "outputs", "artifacts"))[0]);
        Assert.Equal("etl/{{workflow.name}}/load/output.tgz", ArgoYaml.Get(output, "s3", "key"));
        Assert.Equal("eu-west-1", ArgoYaml.Get(output, "s3", "region"));
        Assert.Equal("true", ArgoYaml.Get(output, "s3", "insecure"));
    }

    [NodeFact]
    public void The_compiled_examples_pass_Argos_schema()
    {
        var files = new List<string>();
        foreach (var name in new[] { "iris-knn", "log-errors", "diamond", "external-repo" })
        {
            var r = ps.Run("Get-AxlWorkflow $file | ConvertTo-ArgoWorkflow -AsYaml", new Dictionary<string, object> { ["file"] = name == "external-repo" ? Path.Combine(Repo.Examples, name, "station-report.axl.ps1") : Example(name) });
            r.ShouldSucceed();
            files.Add(_dir.Write(name + ".yaml", (string)r.Objects.Single()));
        }
        var (exit, output) = ArgoYaml.Validate(files.ToArray());
        Assert.True(exit == 0, output);
    }
}
