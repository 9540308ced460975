using System.IO.Compression;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>ConvertTo-KfpPipeline, ConvertTo-DagsterJob and axl compile --target kfp|dagster, as users run them.</summary>
[Collection("PowerShell")]
public sealed class KfpDagsterCmdletTests(PowerShellFixture ps) : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>What axl exits with for a usage error (UsageException).</summary>
    private const int ExitCodesUsage = 1;

    private static string Iris => Path.Combine(Repo.Examples, "iris-knn", "iris-knn.axl.ps1");

    [Fact]
    public void Axl_compile_kfp_writes_yaml_zip_and_tar_gz_and_the_cmdlet_gives_the_same_bytes()
    {
        var yamlFile = Path.Combine(_dir.Path, "iris.yaml");
        var r = CliTests.Axl("compile", "--target", "kfp", "--out", yamlFile, Iris);
        Assert.True(r.Exit == 0, r.Err);
        Assert.Matches(@"^KFP V2 pipeline iris-knn \(5 tasks, [0-9.]+ KiB\) -> ", r.Out);
        var yaml = File.ReadAllText(yamlFile);
        Assert.StartsWith("# PIPELINE DEFINITION\n# Name: iris-knn\n", yaml);
        Assert.Contains("schemaVersion: '2.1.0'", yaml);
        Assert.Equal(yaml, CliTests.Axl("compile", "--target", "kfp", Iris).Out);

        var zip = Path.Combine(_dir.Path, "iris.zip");
        Assert.Equal(0, CliTests.Axl("compile", "--target", "kfp", "--out", zip, Iris).Exit);
        using (var archive = ZipFile.OpenRead(zip))
        using (var reader = new StreamReader(Assert.Single(archive.Entries).Open()))
            Assert.Equal(yaml, reader.ReadToEnd());
        var tgz = Path.Combine(_dir.Path, "iris.tar.gz");
        Assert.Equal(0, CliTests.Axl("compile", "--target", "kfp", "--out", tgz, Iris).Exit);
        Assert.Equal(new byte[] { 0x1f, 0x8b }, File.ReadAllBytes(tgz)[..2]);

        var cmdlet = ps.Run("ConvertTo-KfpPipeline -Path $file -AsYaml", new Dictionary<string, object> { ["file"] = Iris });
        cmdlet.ShouldSucceed();
        Assert.Equal(yaml, Assert.IsType<string>(Assert.Single(cmdlet.Objects)));

        var v1 = CliTests.Axl("compile", "--target", "kfp", "--format", "v1", Iris);
        Assert.True(v1.Exit == 0, v1.Err);
        Assert.Contains("kind: Workflow", v1.Out);
        Assert.Contains("pipelines.kubeflow.org/pipeline_spec", v1.Out);
        Assert.Contains("serviceAccountName: pipeline-runner", v1.Out);
    }

    [Fact]
    public void The_WarmEnv_volume_options_reach_the_createpvc_task_from_axl_compile_and_the_cmdlet()
    {
        var file = _dir.Write("flow/w.axl.ps1", "AxlWorkflow w -WarmEnv { Step a { 1 } }");
        var r = CliTests.Axl("compile", "--target", "kfp", "--pvc-access-mode", "ReadWriteMany", "--pvc-storage-class", "fast-ssd", file);
        Assert.True(r.Exit == 0, r.Err);
        Assert.Contains("createpvc:", r.Out);
        Assert.Contains("- ReadWriteMany", r.Out);
        Assert.Contains("constant: fast-ssd", r.Out);
        Assert.Contains("pvcMount:", r.Out);
        var cmdlet = ps.Run("ConvertTo-KfpPipeline -Path $file -PvcAccessMode ReadWriteMany -PvcStorageClass fast-ssd -AsYaml", new Dictionary<string, object> { ["file"] = file });
        cmdlet.ShouldSucceed();
        Assert.Equal(r.Out, Assert.IsType<string>(Assert.Single(cmdlet.Objects)));
        var bad = CliTests.Axl("compile", "--target", "kfp", "--pvc-access-mode", "Sometimes", file);
        Assert.NotEqual(0, bad.Exit);
        Assert.Contains("access mode 'Sometimes'", bad.Err);
    }

    [Fact]
    public void Axl_compile_refuses_options_of_other_targets_and_bad_formats()
    {
        var format = CliTests.Axl("compile", "--target", "kfp", "--format", "v3", Iris);
        Assert.Equal(ExitCodesUsage, format.Exit);
        Assert.Contains("--format takes v2 or v1, got 'v3'", format.Err);
        Assert.Contains("--kind does not apply to --target kfp", CliTests.Axl("compile", "--target", "kfp", "--kind", "workflow", Iris).Err);
        Assert.Contains("--format applies to --target kfp", CliTests.Axl("compile", "--target", "argo", "--format", "v1", Iris).Err);
        Assert.Contains("--image does not apply to --target dagster", CliTests.Axl("compile", "--target", "dagster", "--image", "x", Iris).Err);
        var unknown = CliTests.Axl("compile", "--target", "airflow", Iris);
        Assert.Equal(ExitCodesUsage, unknown.Exit);
        Assert.Contains("Known: argo, kfp, dagster", unknown.Err);
    }

    [Fact]
    public void ConvertTo_KfpPipeline_writes_packages_honours_WhatIf_and_one_workflow_per_file()
    {
        var zip = Path.Combine(_dir.Path, "p.zip");
        var r = ps.Run("$d = ConvertTo-KfpPipeline -Path $file -Format V1 -OutFile $out; $d.Format.ToString(); $d.TaskCount", new Dictionary<string, object> { ["file"] = Iris, ["out"] = zip });
        r.ShouldSucceed();
        Assert.Equal(new[] { "V1", "5" }, r.Objects.Select(o => o.ToString()));
        using (var archive = ZipFile.OpenRead(zip)) Assert.Equal("pipeline.yaml", Assert.Single(archive.Entries).FullName);

        var whatIf = Path.Combine(_dir.Path, "whatif.yaml");
        ps.Run("ConvertTo-KfpPipeline -Path $file -OutFile $out -WhatIf", new Dictionary<string, object> { ["file"] = Iris, ["out"] = whatIf }).ShouldSucceed();
        Assert.False(File.Exists(whatIf));

        var two = _dir.Write("two.axl.ps1", "AxlWorkflow one { Step a { 1 } }\nAxlWorkflow two { Step b { 2 } }");
        var both = ps.Run("ConvertTo-KfpPipeline -Path $file -OutFile $out", new Dictionary<string, object> { ["file"] = two, ["out"] = Path.Combine(_dir.Path, "two.yaml") });
        Assert.Contains(both.Errors, e => e.FullyQualifiedErrorId.StartsWith("Axl.OneWorkflowPerFile", StringComparison.Ordinal));
        Assert.Contains("name: one", File.ReadAllText(Path.Combine(_dir.Path, "two.yaml")));

        var pvc = _dir.Write("pvc.axl.ps1", "AxlWorkflow pvcflow -ArtifactStore pvc { Step a { 1 } }");
        var refused = ps.Run("ConvertTo-KfpPipeline -Path $file", new Dictionary<string, object> { ["file"] = pvc });
        Assert.Contains(refused.Errors, e => e.FullyQualifiedErrorId.StartsWith("Axl.NotExpressible", StringComparison.Ordinal) && e.Exception.Message.Contains("-Format V1"));
    }

    [Fact]
    public void ConvertTo_DagsterJob_and_axl_compile_dagster_give_the_same_module()
    {
        var file = Path.Combine(_dir.Path, "dagster_job.py");
        var r = ps.Run("$d = Get-AxlWorkflow $file | ConvertTo-DagsterJob -OutFile $out; $d.JobName; $d.OpCount", new Dictionary<string, object> { ["file"] = Iris, ["out"] = file });
        r.ShouldSucceed();
        Assert.Equal(new[] { "iris_knn_job", "5" }, r.Objects.Select(o => o.ToString()));
        var cli = CliTests.Axl("compile", "--target", "dagster", Iris);
        Assert.True(cli.Exit == 0, cli.Err);
        Assert.Equal(File.ReadAllText(file), cli.Out);
        Assert.Contains("@dagster.graph(name=\"iris_knn\")", cli.Out);
        var text = ps.Run("ConvertTo-DagsterJob -Path $file -AsText", new Dictionary<string, object> { ["file"] = Iris });
        text.ShouldSucceed();
        Assert.Equal(cli.Out, Assert.IsType<string>(Assert.Single(text.Objects)));
    }
}
