using System.Text.Json;
using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Dsl;
using Axl.Model;
using Axl.Runtime;
using Axl.Validation;
using static Axl.Core.Tests.Compilers.ArgoStructureTests;

namespace Axl.Core.Tests.Compilers;

/// <summary>What the Argo compiler decides: options and their errors, images, storage, code delivery, conditions, sizes.</summary>
public sealed class ArgoCompilerTests
{
    private static WorkflowBuilder Builder(string name = "wf", WorkflowDefinitionOptions? options = null) =>
        new(name, options, new SourceLocation("/flows/wf.axl.ps1", 1));

    private static AxlWorkflow Two(WorkflowDefinitionOptions? options = null, StepOptions? second = null) =>
        Builder("wf", options)
            .AddParameter("Mode", "fast", null, null, new SourceLocation("/flows/wf.axl.ps1", 2))
            .AddStep("first", "param($Mode) 1", null, new SourceLocation("/flows/wf.axl.ps1", 3))
            .AddStep("second", "param($first) $first + 1", second, new SourceLocation("/flows/wf.axl.ps1", 4))
            .Build();

    private static ArgoDocument Compile(AxlWorkflow wf, ArgoCompileOptions? o = null) => ArgoCompiler.Compile(wf, ArgoCases.Options(o));

    private static IDictionary<string, object?> Template(ArgoDocument d, string name) => Templates(d).Single(t => (string)t["name"]! == name);
    private static IDictionary<string, object?> Task(ArgoDocument d, string name) => Tasks(d).Single(t => (string)t["name"]! == name);
    private static JsonElement Manifest(ArgoDocument d, string template)
    {
        var args = L(Get(Template(d, template), "container", "args")).Cast<string>().ToList();
        return JsonDocument.Parse(args[args.IndexOf("--manifest-json") + 1]).RootElement;
    }

    [Fact]
    public void An_invalid_workflow_is_refused_with_every_diagnostic_of_the_validator()
    {
        var wf = Builder()
            .AddStep("a", "param($c) $c", null, new SourceLocation("/flows/wf.axl.ps1", 2))
            .AddStep("b", "param($a) $a", new StepOptions { Cpu = "lots" }, new SourceLocation("/flows/wf.axl.ps1", 3))
            .AddStep("c", "param($b) $b", null, new SourceLocation("/flows/wf.axl.ps1", 4))
            .Build();
        var ex = Assert.Throws<AxlInvalidWorkflowException>(() => Compile(wf));
        Assert.Equal(WorkflowValidator.Validate(wf).Select(d => d.ToString()), ex.Diagnostics.Select(d => d.ToString()));
        Assert.Contains(ex.Diagnostics, d => d.Id == DiagnosticIds.CycleDetected);
        Assert.Contains(ex.Diagnostics, d => d.Id == DiagnosticIds.InvalidQuantity);
    }

    [Fact]
    public void Metadata_carries_the_name_version_and_hash_as_valid_labels_and_full_annotations()
    {
        var wf = Two(new WorkflowDefinitionOptions { Labels = new System.Collections.Hashtable { ["team"] = "ml" } });
        var d = Compile(wf);
        Assert.Equal("argoproj.io/v1alpha1", d.Tree["apiVersion"]);
        Assert.Equal("Workflow", d.Tree["kind"]);
        Assert.Equal("wf-", Get(d.Tree, "metadata", "generateName"));
        var labels = M(Get(d.Tree, "metadata", "labels"));
        Assert.Equal(wf.Hash[7..19], labels["axl.dev/workflow-hash"]);
        Assert.Equal(AxlInfo.Version, labels["axl.dev/version"]);
        Assert.Equal("ml", labels["team"]);
        Assert.All(labels.Values.Cast<string>(), v => Assert.Matches("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", v));
        Assert.All(labels.Values.Cast<string>(), v => Assert.True(v.Length <= 63));
        var annotations = M(Get(d.Tree, "metadata", "annotations"));
        Assert.Equal(wf.Hash, annotations["axl.dev/workflow-hash"]);
        Assert.Equal("wf.axl.ps1", annotations["axl.dev/source"]);
        Assert.Equal("Workflow wf- (2 tasks, " + ArgoDocument.FormatSize(d.Size) + ")", d.ToString());
        Assert.Equal(d.Size, System.Text.Encoding.UTF8.GetByteCount(d.ToYaml()));
        using var json = JsonDocument.Parse(d.ToJson());
        Assert.Equal("main-dag", json.RootElement.GetProperty("spec").GetProperty("entrypoint").GetString());
    }

    [Fact]
    public void WorkflowTemplate_has_a_name_instead_of_generateName()
    {
        var d = Compile(Two(), new ArgoCompileOptions { Kind = ArgoKind.WorkflowTemplate, Namespace = "ml" });
        Assert.Equal("WorkflowTemplate", d.Kind);
        Assert.Equal("wf", Get(d.Tree, "metadata", "name"));
        Assert.Null(Get(d.Tree, "metadata", "generateName"));
        Assert.Equal("ml", Get(d.Tree, "metadata", "namespace"));
    }

    [Fact]
    public void Images_come_from_the_step_then_the_option_then_the_workflow_then_the_default_runner()
    {
        var wf = Two(new WorkflowDefinitionOptions { Image = "wf/image:1" }, new StepOptions { Image = "step/image:2" });
        var d = Compile(wf);
        Assert.Equal("wf/image:1", Get(Template(d, "first"), "container", "image"));
        Assert.Equal("step/image:2", Get(Template(d, "second"), "container", "image"));
        Assert.Equal(new[] { "step/image:2", "wf/image:1" }, d.Images);

        var overridden = Compile(wf, new ArgoCompileOptions { Image = "cli/image:3" });
        Assert.Equal("cli/image:3", Get(Template(overridden, "first"), "container", "image"));
        Assert.Equal("step/image:2", Get(Template(overridden, "second"), "container", "image"));

        var plain = Compile(Two());
        Assert.Equal(AxlInfo.DefaultRunnerImage, Get(Template(plain, "first"), "container", "image"));
    }

    [Fact]
    public void The_service_account_option_overrides_the_workflow()
    {
        var wf = Two(new WorkflowDefinitionOptions { ServiceAccount = "from-workflow" });
        Assert.Equal("from-workflow", Get(Compile(wf).Tree, "spec", "serviceAccountName"));
        Assert.Equal("from-option", Get(Compile(wf, new ArgoCompileOptions { ServiceAccount = "from-option" }).Tree, "spec", "serviceAccountName"));
        Assert.Null(Get(Compile(Two()).Tree, "spec", "serviceAccountName"));
    }

    [Fact]
    public void Parameters_are_strings_and_required_ones_have_no_value()
    {
        var wf = Builder()
            .AddParameter("K", 3L).AddParameter("Rate", 0.25).AddParameter("Flag", true).AddParameter("Name", "x y").AddParameter("Day")
            .AddStep("s", "param($K, $Rate, $Flag, $Name, $Day) 1", null, new SourceLocation("/flows/wf.axl.ps1", 2))
            .Build();
        var parameters = L(Get(Compile(wf).Tree, "spec", "arguments", "parameters")).Select(M).ToList();
        Assert.Equal(new object?[] { "3", "0.25", "true", "x y", null }, parameters.Select(p => p.TryGetValue("value", out var v) ? v : null));
        Assert.Equal(new[] { "K", "Rate", "Flag", "Name", "Day" }, L(Get(Template(Compile(wf), "s"), "inputs", "parameters")).Select(p => (string)M(p)["name"]!));
    }

    [Fact]
    public void The_manifest_points_into_the_artifact_folders_and_takes_parameters_from_the_template_inputs()
    {
        var d = Compile(Two());
        var first = Manifest(d, "first");
        Assert.Equal("/axl/outputs/first", first.GetProperty("output").GetProperty("directory").GetString());
        var mode = first.GetProperty("inputs")[0];
        Assert.Equal("parameter", mode.GetProperty("source").GetString());
        Assert.Equal(JsonValueKind.Null, mode.GetProperty("value").ValueKind);
        Assert.Equal("AXL_PARAM_0_MODE", mode.GetProperty("env").GetString());
        var env = L(Get(Template(d, "first"), "container", "env")).Select(M).Single(e => (string)e["name"]! == "AXL_PARAM_0_MODE");
        Assert.Equal("{{inputs.parameters.Mode}}", env["value"]);
        var second = Manifest(d, "second");
        Assert.Equal("/axl/inputs/first", second.GetProperty("inputs")[0].GetProperty("path").GetString());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("output").GetProperty("valueFile").ValueKind);
        Assert.Equal(new object?[] { "first" }, L(Task(d, "second")["dependencies"]));
    }

    [Fact]
    public void The_workflow_file_is_relative_to_the_code_root()
    {
        var wf = new WorkflowBuilder("wf", null, new SourceLocation("/repo/flows/ml/wf.axl.ps1", 1))
            .AddStep("a", "1", null, new SourceLocation("/repo/flows/ml/wf.axl.ps1", 2)).Build();
        Assert.Equal("wf.axl.ps1", Manifest(ArgoCompiler.Compile(wf), "a").GetProperty("workflowFile").GetString());
        Assert.Equal("flows/ml/wf.axl.ps1", Manifest(ArgoCompiler.Compile(wf, new ArgoCompileOptions { CodeRoot = "/repo" }), "a").GetProperty("workflowFile").GetString());
        var outside = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(wf, new ArgoCompileOptions { CodeRoot = "/elsewhere" }));
        Assert.Equal(CompileErrorIds.WorkflowFileUnknown, outside.Id);
        Assert.Contains("is not under the code root /elsewhere", outside.Message);

        var inMemory = new WorkflowBuilder("mem").AddStep("a", "1").Build();
        var none = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(inMemory));
        Assert.Equal(CompileErrorIds.WorkflowFileUnknown, none.Id);
        Assert.Contains("has no source file", none.Message);
    }

    [Fact]
    public void The_code_archive_names_its_own_code_root_and_the_option_overrides_it()
    {
        var wf = new WorkflowBuilder("wf", null, new SourceLocation("/repo/flows/ml/wf.axl.ps1", 1))
            .AddStep("a", "1", null, new SourceLocation("/repo/flows/ml/wf.axl.ps1", 2)).Build();
        var archive = ArgoCases.CodeArchive with { CodeRoot = "/repo" };
        Assert.Equal("flows/ml/wf.axl.ps1", Manifest(ArgoCompiler.Compile(wf, new ArgoCompileOptions { CodeArchive = archive }), "a").GetProperty("workflowFile").GetString());
        Assert.Equal("ml/wf.axl.ps1", Manifest(ArgoCompiler.Compile(wf, new ArgoCompileOptions { CodeArchive = archive, CodeRoot = "/repo/flows" }), "a").GetProperty("workflowFile").GetString());
        var elsewhere = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(wf, new ArgoCompileOptions { CodeArchive = archive with { CodeRoot = "/other" } }));
        Assert.Contains("is not under the code root /other", elsewhere.Message);
    }

    [Fact]
    public void Artifact_code_delivery_without_a_location_fails_naming_the_option()
    {
        var wf = Two(new WorkflowDefinitionOptions { CodeDelivery = "Artifact" });
        var ex = Assert.Throws<AxlCompileException>(() => Compile(wf));
        Assert.Equal(CompileErrorIds.CodeArchiveMissing, ex.Id);
        Assert.Contains("-CodeArchive", ex.Message);
        Assert.Contains("--code-archive", ex.Message);
        Assert.Equal("wf", ex.Workflow);
    }

    [Fact]
    public void The_code_archive_is_an_unpacked_tar_gz_input_of_every_step_and_the_runner_gets_workflow_archive()
    {
        var d = Compile(Two(), new ArgoCompileOptions { CodeArchive = ArgoCases.CodeArchive });
        Assert.Equal(CodeDelivery.Artifact, d.CodeDelivery);
        foreach (var t in Templates(d).Skip(1))
        {
            var code = L(Get(t, "inputs", "artifacts")).Select(M).Single(a => (string)a["name"]! == "code");
            Assert.Equal("/axl/code.tar.gz", code["path"]);
            Assert.Empty(M(Get(code, "archive", "none")));
            Assert.Equal("minio.argo.svc:9000", Get(code, "s3", "endpoint"));
            Assert.Equal("axl-code", Get(code, "s3", "bucket"));
            Assert.Equal(ArgoCases.CodeArchive.Key, Get(code, "s3", "key"));
            Assert.Equal(true, Get(code, "s3", "insecure"));
            Assert.Equal("minio-credentials", Get(code, "s3", "accessKeySecret", "name"));
            Assert.Equal("secretKey", Get(code, "s3", "secretKeySecret", "key"));
            var args = L(Get(t, "container", "args")).Cast<string>().ToList();
            Assert.Equal(new[] { "step", "--workflow-archive", "/axl/code.tar.gz", "--manifest-json" }, args.Take(4));
        }
        // Without an endpoint, only the key: the cluster's artifact repository gives bucket, endpoint and credentials.
        var keyOnly = Compile(Two(), new ArgoCompileOptions { CodeArchive = ArgoCases.CodeArchive with { Endpoint = null, CredentialsSecret = null, Insecure = false } });
        var s3 = M(Get(L(Get(Template(keyOnly, "first"), "inputs", "artifacts")).Select(M).Single(a => (string)a["name"]! == "code"), "s3"));
        Assert.Equal(new[] { "key" }, s3.Keys);
        Assert.DoesNotContain("secretKey:", keyOnly.ToYaml());
    }

    [Fact]
    public void A_step_named_code_clashes_with_the_code_artifact_and_is_reported()
    {
        var wf = Builder().AddStep("code", "1", null, new SourceLocation("/flows/wf.axl.ps1", 2)).AddStep("use", "param($code) $code", null, new SourceLocation("/flows/wf.axl.ps1", 3)).Build();
        Assert.NotNull(Compile(wf)); // fine with the code in the image
        var ex = Assert.Throws<AxlCompileException>(() => Compile(wf, new ArgoCompileOptions { CodeArchive = ArgoCases.CodeArchive }));
        Assert.Equal(CompileErrorIds.NotExpressible, ex.Id);
        Assert.Contains("rename the step 'code'", ex.Message);
    }

    [Fact]
    public void Artifact_stores_map_to_nothing_a_repository_ref_inline_s3_or_a_volume()
    {
        var byDefault = Compile(Two());
        Assert.Equal("default", byDefault.ArtifactStorage);
        Assert.Null(Get(byDefault.Tree, "spec", "artifactRepositoryRef"));
        Assert.Null(Get(L(Get(Template(byDefault, "first"), "outputs", "artifacts"))[0], "s3"));

        var refOnly = Compile(Two(new WorkflowDefinitionOptions { ArtifactStore = "ref:artifact-repositories" }));
        Assert.Equal(new[] { "configMap" }, M(Get(refOnly.Tree, "spec", "artifactRepositoryRef")).Keys);

        var s3 = Compile(Two(new WorkflowDefinitionOptions { ArtifactStore = "s3://bucket" }));
        var out3 = M(Get(L(Get(Template(s3, "second"), "outputs", "artifacts"))[0], "s3"));
        Assert.Equal("s3.amazonaws.com", out3["endpoint"]);
        Assert.Equal("bucket", out3["bucket"]);
        Assert.Equal("{{workflow.name}}/second/output.tgz", out3["key"]);
        Assert.False(out3.ContainsKey("accessKeySecret"));

        var pvc = Compile(Two(new WorkflowDefinitionOptions { ArtifactStore = "pvc" }));
        var claim = M(L(Get(pvc.Tree, "spec", "volumeClaimTemplates"))[0]);
        Assert.Equal("axl-work", Get(claim, "metadata", "name"));
        Assert.Equal("1Gi", Get(claim, "spec", "resources", "requests", "storage"));
        Assert.Equal(new object?[] { "ReadWriteOnce" }, L(Get(claim, "spec", "accessModes")));
        Assert.Equal("/axl/data/first", Manifest(pvc, "second").GetProperty("inputs")[0].GetProperty("path").GetString());
        Assert.Null(Get(Task(pvc, "second"), "arguments", "artifacts"));
        Assert.Equal("/axl/data", Get(L(Get(Template(pvc, "second"), "container", "volumeMounts")).Select(M).Single(), "mountPath"));
    }

    [Theory]
    [InlineData("S3Endpoint", "apply to an s3:// artifact store")]
    [InlineData("S3CredentialsSecret", "apply to an s3:// artifact store")]
    public void S3_options_for_a_workflow_without_an_s3_store_are_an_error(string option, string expected)
    {
        var o = option == "S3Endpoint" ? new ArgoCompileOptions { S3Endpoint = "minio:9000" } : new ArgoCompileOptions { S3CredentialsSecret = "creds" };
        var ex = Assert.Throws<AxlCompileException>(() => Compile(Two(), o));
        Assert.Equal(CompileErrorIds.InvalidCompileOption, ex.Id);
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("http://minio:9000")]
    [InlineData("minio:9000/path")]
    public void An_S3_endpoint_with_a_scheme_or_path_is_an_error(string endpoint)
    {
        var ex = Assert.Throws<AxlCompileException>(() => Compile(Two(new WorkflowDefinitionOptions { ArtifactStore = "s3://bucket/p" }), new ArgoCompileOptions { S3Endpoint = endpoint }));
        Assert.Contains("not a host[:port]", ex.Message);
    }

    [Fact]
    public void Bad_option_values_are_errors()
    {
        Assert.Contains("namespace 'Bad_NS'", Assert.Throws<AxlCompileException>(() => Compile(Two(), new ArgoCompileOptions { Namespace = "Bad_NS" })).Message);
        Assert.Contains("access mode 'Sometimes'", Assert.Throws<AxlCompileException>(() => Compile(Two(), new ArgoCompileOptions { PvcAccessMode = "Sometimes" })).Message);
        Assert.Contains("must be positive", Assert.Throws<AxlCompileException>(() => Compile(Two(), new ArgoCompileOptions { MaxBytes = 0 })).Message);
    }

    [Fact]
    public void A_document_over_the_size_limit_is_reported_at_compile_time_with_the_remedies()
    {
        var b = Builder("big");
        for (int i = 0; i < 400; i++) b.AddStep($"step_{i}", i == 0 ? "1" : $"param($step_{i - 1}) $step_{i - 1} + 1", null, new SourceLocation("/flows/wf.axl.ps1", i + 2));
        var wf = b.Build();
        var d = Compile(wf, new ArgoCompileOptions { MaxTemplates = 1000, MaxDagTasks = 1000 });
        Assert.True(d.Size > 200_000, d.ToString());
        var ex = Assert.Throws<AxlCompileException>(() => Compile(wf, new ArgoCompileOptions { MaxBytes = 200_000, Split = ArgoSplit.None, MaxTemplates = 1000, MaxDagTasks = 1000 }));
        Assert.Equal(CompileErrorIds.ArgoTooLarge, ex.Id);
        Assert.Contains(d.Size.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " bytes", ex.Message);
        Assert.Contains("WorkflowTemplate", ex.Message);
        Assert.Contains("fewer, longer steps", ex.Message);
        Assert.Contains("offloading", ex.Message);
        Assert.Contains("-MaxBytes", ex.Message);
        Assert.Equal(ArgoCompileOptions.DefaultMaxBytes, new ArgoCompileOptions().MaxBytes);
    }

    [Fact]
    public void Retries_resources_timeouts_and_env_map_to_the_template()
    {
        var d = Compile(Two(second: new StepOptions
        {
            Retries = 3, Timeout = 90, Cpu = "250m", Memory = "512Mi", Gpu = 2, GpuResource = "amd.com/gpu",
            Env = new System.Collections.Hashtable { ["Z"] = "1", ["A"] = "2" },
        }));
        var t = Template(d, "second");
        Assert.Equal("3", Get(t, "retryStrategy", "limit"));
        Assert.Equal("Always", Get(t, "retryStrategy", "retryPolicy"));
        Assert.Equal("150", t["activeDeadlineSeconds"]);
        Assert.Equal("250m", Get(t, "container", "resources", "requests", "cpu"));
        Assert.Equal("2", Get(t, "container", "resources", "limits", "amd.com/gpu"));
        Assert.Null(Get(t, "container", "resources", "limits", "cpu"));
        Assert.Equal(new[] { "A", "Z" }, L(Get(t, "container", "env")).Select(e => (string)M(e)["name"]!));
        var exact = Compile(Two(second: new StepOptions { Timeout = 90 }), new ArgoCompileOptions { DeadlineGraceSeconds = 0 });
        Assert.Equal("90", Template(exact, "second")["activeDeadlineSeconds"]);
        var plain = Template(Compile(Two()), "first");
        Assert.False(plain.ContainsKey("retryStrategy"));
        Assert.False(plain.ContainsKey("activeDeadlineSeconds"));
        Assert.False(M(plain["container"]).ContainsKey("resources"));
    }

    [Theory]
    [InlineData("evaluate -gt 0.9", "{{tasks.evaluate.outputs.parameters.value}} > 0.9")]
    [InlineData("evaluate -eq 'yes'", "'{{tasks.evaluate.outputs.parameters.value}}' == 'yes'")]
    [InlineData("$Mode -eq 'Full'", "'{{workflow.parameters.Mode}}' == 'Full'")]
    [InlineData("'Full' -ne $mode", "'Full' != '{{workflow.parameters.Mode}}'")]
    [InlineData("evaluate -ge $Limit -and $Mode -ne 'dry'", "{{tasks.evaluate.outputs.parameters.value}} >= {{workflow.parameters.Limit}} && '{{workflow.parameters.Mode}}' != 'dry'")]
    [InlineData("evaluate -lt 1 -or evaluate -le 2 -and $Flag", "{{tasks.evaluate.outputs.parameters.value}} < 1 || ({{tasks.evaluate.outputs.parameters.value}} <= 2 && {{workflow.parameters.Flag}})")]
    [InlineData("(evaluate -lt 1 -or $Flag) -and $Limit -gt 0", "({{tasks.evaluate.outputs.parameters.value}} < 1 || {{workflow.parameters.Flag}}) && {{workflow.parameters.Limit}} > 0")]
    [InlineData("-not $Flag", "!{{workflow.parameters.Flag}}")]
    [InlineData("-not (evaluate -eq 3)", "!({{tasks.evaluate.outputs.parameters.value}} == 3)")]
    [InlineData("$Flag -eq $true", "{{workflow.parameters.Flag}} == true")]
    [InlineData("evaluate -eq $Mode", "'{{tasks.evaluate.outputs.parameters.value}}' == '{{workflow.parameters.Mode}}'")]
    [InlineData("evaluate -gt 0.00001", "{{tasks.evaluate.outputs.parameters.value}} > 0.00001")]
    [InlineData("evaluate -gt -2", "{{tasks.evaluate.outputs.parameters.value}} > -2")]
    public void Conditions_translate_to_govaluate(string when, string expected)
    {
        var wf = Builder()
            .AddParameter("Mode", "Full").AddParameter("Limit", 5L).AddParameter("Flag", false)
            .AddStep("evaluate", "0.95", null, new SourceLocation("/flows/wf.axl.ps1", 2))
            .AddStep("publish", "'ok'", new StepOptions { When = when, DependsOn = new[] { "evaluate" } }, new SourceLocation("/flows/wf.axl.ps1", 3))
            .Build();
        var d = Compile(wf);
        Assert.Equal(expected, Task(d, "publish")["when"]);
        // Only a step read by a condition exposes its value, from the value file the runner writes.
        var valueParameters = L(Get(Template(d, "evaluate"), "outputs", "parameters")).Select(M).ToList();
        if (wf.GetStep("publish")!.Condition!.References().Any(r => !r.IsParameter))
            Assert.Equal("/axl/outputs/evaluate/value.txt", Get(Assert.Single(valueParameters), "valueFrom", "path"));
        else Assert.Empty(valueParameters);
    }

    [Fact]
    public void A_string_with_a_single_quote_cannot_be_expressed_in_a_condition()
    {
        var wf = Builder().AddParameter("Mode", "x")
            .AddStep("s", "1", new StepOptions { When = "$Mode -eq \"it's\"" }, new SourceLocation("/flows/wf.axl.ps1", 2)).Build();
        var ex = Assert.Throws<AxlCompileException>(() => Compile(wf));
        Assert.Equal(CompileErrorIds.NotExpressible, ex.Id);
    }

    [Fact]
    public void Tasks_below_a_conditional_step_depend_on_its_result_like_the_local_runtime()
    {
        var d = ArgoCompiler.Compile(ArgoCases.Conditional().Workflow, ArgoCases.Options());
        Assert.Equal(new object?[] { "train" }, L(Task(d, "evaluate")["dependencies"]));
        Assert.Equal("evaluate.Succeeded && (publish.Succeeded || publish.Skipped)", Task(d, "report")["depends"]);
        Assert.Equal("publish.Succeeded", Task(d, "archive")["depends"]);
        Assert.False(Task(d, "archive").ContainsKey("dependencies"));
    }

    [Fact]
    public void Yaml_quotes_every_string_a_YAML_1_1_reader_could_take_for_another_type()
    {
        foreach (var s in new[] { "2", "1.5", "true", "yes", "No", "on", "OFF", "y", "null", "~", "0x1F", "1e3", "0.1.0", "", " lead", "a: b", "x #y" })
            Assert.NotEqual(YamlDotNet.Core.ScalarStyle.Plain, CompilerYaml.StyleOf(s));
        foreach (var s in new[] { "main-dag", "/axl/inputs/a", "ghcr.io/x/runner:0.1.0", "--manifest-json", "nvidia.com/gpu", "load, train and evaluate" })
            Assert.Equal(YamlDotNet.Core.ScalarStyle.Plain, CompilerYaml.StyleOf(s));
        Assert.Equal(YamlDotNet.Core.ScalarStyle.DoubleQuoted, CompilerYaml.StyleOf("line\nbreak"));
    }
}
