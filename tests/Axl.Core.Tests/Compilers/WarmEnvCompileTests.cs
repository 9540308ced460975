using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Compilers.Kfp;
using Axl.Dsl;
using Axl.Model;
using Axl.Runtime;
using Axl.Serialization;
using Axl.Validation;
using static Axl.Core.Tests.Compilers.ArgoStructureTests;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// AxlWorkflow -WarmEnv (issue 18 point 3) in the IR and the Argo compiler: the option round-trips through the IR and
/// the hash only when given; Argo gets an axl-warm-env task that every root step depends on, running `axl warm-env`
/// into a shared volume (volumeClaimTemplates) that every step mounts (AXL_PACKAGE_CACHE); the golden file
/// (tests/golden/argo-warmenv/, apart from the cases every Argo test walks) passes Argo's schema. KFP V2 gets the
/// same through kfp-kubernetes: createpvc, axl-warm-env before the roots, pvcMount on every executor, deletepvc last
/// (tests/golden/kfp-warmenv/, checked like the KFP goldens); V1 is the Argo workflow.
/// </summary>
public sealed class WarmEnvCompileTests
{
    private const string Root = ArgoCases.CodeRoot;

    private static AxlWorkflow Flow(bool warm, string? store = null, string? delivery = null, int extraSteps = 0)
    {
        var file = $"{Root}/warm-env.axl.ps1";
        var b = new WorkflowBuilder("warm-env", new WorkflowDefinitionOptions
        {
            WarmEnv = warm, RequirementsFile = "requirements.txt", Modules = new object[] { "TinyMod@1.0.0" }, ArtifactStore = store, CodeDelivery = delivery,
        }, new SourceLocation(file, 1));
        b.AddStep("features", (string?)null, new StepOptions { CommandSpecified = true, Command = "python3", ArgumentList = new[] { "features.py", "{output}" } }, new SourceLocation(file, 2));
        b.AddStep("train", (string?)null, new StepOptions { CommandSpecified = true, Command = "python3", ArgumentList = new[] { "train.py", "{features}", "{output}" } }, new SourceLocation(file, 3));
        b.AddStep("report", "param($train) \"trained: $train\"", null, new SourceLocation(file, 4));
        b.AddStep("lint", (string?)null, new StepOptions { CommandSpecified = true, Command = "python3", ArgumentList = new[] { "-m", "pyflakes", "." } }, new SourceLocation(file, 5));
        for (var i = 0; i < extraSteps; i++) b.AddStep($"extra{i}", "1", null, new SourceLocation(file, 6 + i));
        return b.Build();
    }

    [Fact]
    public void WarmEnv_is_in_the_IR_and_the_hash_only_when_given()
    {
        var warm = Flow(true);
        var cold = Flow(false);
        Assert.True(warm.Options.WarmEnv);
        var options = (Dictionary<string, object?>)IrDocument.ToTree(warm, includeLocations: false)["options"]!;
        Assert.Equal(true, options["warmEnv"]);
        var coldOptions = (Dictionary<string, object?>)IrDocument.ToTree(cold, includeLocations: false)["options"]!;
        Assert.False(coldOptions.ContainsKey("warmEnv"));
        Assert.NotEqual(warm.DefinitionHash, cold.DefinitionHash);
        Assert.Equal(warm.DefinitionHash, Flow(true).DefinitionHash);
        // The synthetic step is not a step of the IR.
        Assert.Null(warm.GetStep(WarmEnvironment.StepName));
        Assert.Empty(WorkflowValidator.Validate(warm).Where(d => d.IsError));
    }

    [Fact]
    public void A_step_named_like_the_synthetic_step_is_refused_only_with_WarmEnv()
    {
        AxlWorkflow Named(string name, bool warm)
        {
            var b = new WorkflowBuilder("w", new WorkflowDefinitionOptions { WarmEnv = warm }, new SourceLocation("/f/w.axl.ps1", 1));
            b.AddStep(name, "1", null, new SourceLocation("/f/w.axl.ps1", 2));
            return b.Build();
        }
        var d = Assert.Single(WorkflowValidator.Validate(Named("axl_warm_env", true)), x => x.IsError);
        Assert.Equal(DiagnosticIds.ReservedName, d.Id);
        Assert.Contains("-WarmEnv", d.Message);
        Assert.DoesNotContain(WorkflowValidator.Validate(Named("axl-warm-env", false)), x => x.IsError);
    }

    [Fact]
    public void Argo_output_matches_the_golden_file()
    {
        var doc = ArgoCompiler.Compile(Flow(true), ArgoCases.Options());
        Golden.Match("argo-warmenv/warm-env.yaml", doc.ToYaml());
    }

    [Fact]
    public void Argo_runs_axl_warm_env_first_into_a_shared_volume_every_step_mounts()
    {
        var wf = Flow(true, store: "pvc:5Gi");
        var d = ArgoCompiler.Compile(wf, ArgoCases.Options());
        var tasks = Tasks(d);
        Assert.Equal(WarmEnvironment.StepName, tasks[0]["name"]);
        Assert.Equal(wf.StepCount + 1, tasks.Count);
        // Roots wait for it; the others come after a root.
        foreach (var t in tasks.Skip(1))
        {
            var step = wf.Steps.Single(s => s.KubernetesName == (string)t["name"]!);
            var deps = L(t.TryGetValue("dependencies", out var x) ? x : null).Cast<string>().ToList();
            if (step.Upstream.Count == 0) Assert.Equal(new[] { WarmEnvironment.StepName }, deps);
            else Assert.DoesNotContain(WarmEnvironment.StepName, deps);
        }
        var templates = Templates(d).ToDictionary(t => (string)t["name"]!);
        var warm = M(templates[WarmEnvironment.StepName]["container"]);
        Assert.Equal(new object?[] { "axl" }, L(warm["command"]));
        Assert.Equal(new object?[] { "warm-env", "/axl/workdir/warm-env.axl.ps1", "--cache", ArgoCompiler.WarmEnvRoot }, L(warm["args"]));
        // Both claims: the artifact volume and the environment's.
        var claims = L(Get(d.Tree, "spec", "volumeClaimTemplates")).Select(M).Select(c => (string)Get(c, "metadata", "name")!).ToList();
        Assert.Equal(new[] { ArgoCompiler.VolumeName, ArgoCompiler.WarmEnvVolume }, claims);
        foreach (var s in wf.Steps)
        {
            var c = M(templates[s.KubernetesName]["container"]);
            var mounts = L(c["volumeMounts"]).Select(M).ToList();
            Assert.Contains(mounts, m => (string)m["name"]! == ArgoCompiler.WarmEnvVolume && (string)m["mountPath"]! == ArgoCompiler.WarmEnvRoot);
            Assert.Contains(mounts, m => (string)m["name"]! == ArgoCompiler.VolumeName);
            Assert.Contains(L(c["env"]).Select(M), e => (string)e["name"]! == StepPackageOptions.CacheVariable && (string)e["value"]! == ArgoCompiler.WarmEnvRoot);
        }
    }

    [Fact]
    public void Without_WarmEnv_nothing_of_it_is_in_the_output()
    {
        var yaml = ArgoCompiler.Compile(Flow(false), ArgoCases.Options()).ToYaml();
        Assert.DoesNotContain(WarmEnvironment.StepName, yaml);
        Assert.DoesNotContain(ArgoCompiler.WarmEnvVolume, yaml);
        Assert.DoesNotContain(StepPackageOptions.CacheVariable, yaml);
    }

    [Fact]
    public void What_is_not_supported_yet_is_refused_with_the_fix()
    {
        var archive = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(Flow(true, delivery: "Artifact"), ArgoCases.Options(new ArgoCompileOptions { CodeArchive = ArgoCases.CodeArchive })));
        Assert.Equal(CompileErrorIds.NotExpressible, archive.Id);
        Assert.Contains("-CodeDelivery Artifact", archive.Message);
        var split = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(Flow(true), ArgoCases.Options(new ArgoCompileOptions { MaxDagTasks = 4, MaxTemplates = 3 })));
        Assert.Equal(CompileErrorIds.NotExpressible, split.Id);
        Assert.Contains("split", split.Message);
        // The synthetic task counts against the limits: 4 steps + warm task = 5 tasks.
        Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(Flow(true), ArgoCases.Options(new ArgoCompileOptions { MaxDagTasks = 4, Split = ArgoSplit.None })));
        Assert.False(ArgoCompiler.Compile(Flow(true), ArgoCases.Options(new ArgoCompileOptions { MaxDagTasks = 5, Split = ArgoSplit.None })).IsSplit);
    }

    [NodeFact]
    public void The_golden_file_is_a_valid_Argo_document()
    {
        var file = Path.Combine(Golden.Directory("argo-warmenv"), "warm-env.yaml");
        var (exit, output) = ArgoSchema.Validate(new[] { file });
        Assert.True(exit == 0, "Argo schema validation failed:\n" + output);
        Assert.Contains("1 valid, 0 invalid", output);
    }

    private static KfpDocument Kfp(AxlWorkflow wf, KfpCompileOptions? o = null) =>
        KfpCompiler.Compile(wf, (o ?? KfpCompileOptions.Default) with { CodeRoot = Root });

    [Fact]
    public void Kfp_output_matches_the_golden_file_and_is_a_valid_pipeline_spec()
    {
        var yaml = Kfp(Flow(true)).ToYaml();
        Golden.Match("kfp-warmenv/warm-env.yaml", yaml);
        Assert.Empty(KfpStructureTests.Problems(yaml));
    }

    [Fact]
    public void Kfp_creates_the_volume_warms_it_then_every_step_mounts_it_and_deletepvc_runs_last()
    {
        var wf = Flow(true);
        var d = Kfp(wf);
        var tasks = M(Get(d.Tree, "root", "dag", "tasks"));
        List<string> Deps(string task) => M(tasks[task]).TryGetValue("dependentTasks", out var x) ? L(x).Cast<string>().ToList() : new List<string>();
        Assert.Equal(wf.StepCount + 3, tasks.Count);
        Assert.Empty(Deps(KfpCompiler.CreatePvcTask));
        Assert.Equal(new[] { KfpCompiler.CreatePvcTask }, Deps(WarmEnvironment.StepName));
        foreach (var s in wf.Steps)
        {
            var deps = Deps(s.KubernetesName);
            Assert.Contains(KfpCompiler.CreatePvcTask, deps);
            if (s.Upstream.Count == 0) Assert.Contains(WarmEnvironment.StepName, deps);
            else Assert.DoesNotContain(WarmEnvironment.StepName, deps);
        }
        // deletepvc after the last steps (report and lint: nothing comes after them), reading the claim's name.
        Assert.Equal(new[] { "report", "lint", KfpCompiler.CreatePvcTask }, Deps(KfpCompiler.DeletePvcTask));
        Assert.Equal(KfpCompiler.CreatePvcTask, Get(M(tasks[KfpCompiler.DeletePvcTask]), "inputs", "parameters", "pvc_name", "taskOutputParameter", "producerTask"));
        var create = M(Get(M(tasks[KfpCompiler.CreatePvcTask]), "inputs", "parameters"));
        Assert.Equal(new object?[] { "ReadWriteOnce" }, L(Get(M(create["access_modes"]), "runtimeValue", "constant")));
        Assert.Equal(ArgoCompiler.WarmEnvSize, Get(M(create["size"]), "runtimeValue", "constant"));
        Assert.False(create.ContainsKey("storage_class_name"));

        var executors = M(Get(d.Tree, "deploymentSpec", "executors"));
        var warm = M(Get(M(executors["exec-" + WarmEnvironment.StepName]), "container"));
        Assert.Equal(new object?[] { "axl" }, L(warm["command"]));
        Assert.Equal(new object?[] { "warm-env", "/axl/workdir/warm-env.axl.ps1", "--cache", ArgoCompiler.WarmEnvRoot }, L(warm["args"]));
        Assert.Equal("argostub/createpvc", Get(M(executors["exec-createpvc"]), "container", "image"));
        Assert.Equal("argostub/deletepvc", Get(M(executors["exec-deletepvc"]), "container", "image"));

        var platform = M(Get(M(d.PlatformSpec!), "platforms", "kubernetes", "deploymentSpec", "executors"));
        foreach (var exec in wf.Steps.Select(s => "exec-" + s.KubernetesName).Append("exec-" + WarmEnvironment.StepName))
        {
            var mount = M(Assert.Single(L(M(platform[exec])["pvcMount"])));
            Assert.Equal(ArgoCompiler.WarmEnvRoot, mount["mountPath"]);
            Assert.Equal(KfpCompiler.CreatePvcTask, Get(mount, "pvcNameParameter", "taskOutputParameter", "producerTask"));
            Assert.Equal(KfpCompiler.PvcNameOutput, Get(mount, "pvcNameParameter", "taskOutputParameter", "outputParameterKey"));
        }
        Assert.Equal(wf.StepCount + 1, platform.Count); // not createpvc / deletepvc
        foreach (var s in wf.Steps)
        {
            var env = L(Get(M(executors["exec-" + s.KubernetesName]), "container", "env")).Select(M);
            Assert.Contains(env, e => (string)e["name"]! == StepPackageOptions.CacheVariable && (string)e["value"]! == ArgoCompiler.WarmEnvRoot);
        }
    }

    [Fact]
    public void Kfp_passes_the_storage_class_and_access_mode_to_createpvc()
    {
        var d = Kfp(Flow(true), KfpCompileOptions.Default with { PvcStorageClass = "fast", PvcAccessMode = "ReadWriteMany" });
        var create = M(Get(d.Tree, "root", "dag", "tasks", KfpCompiler.CreatePvcTask, "inputs", "parameters"));
        Assert.Equal("fast", Get(M(create["storage_class_name"]), "runtimeValue", "constant"));
        Assert.Equal(new object?[] { "ReadWriteMany" }, L(Get(M(create["access_modes"]), "runtimeValue", "constant")));
    }

    [Fact]
    public void Kfp_without_WarmEnv_has_nothing_of_it()
    {
        var cold = Kfp(Flow(false));
        var yaml = cold.ToYaml();
        Assert.DoesNotContain(WarmEnvironment.StepName, yaml);
        Assert.DoesNotContain("pvc", yaml);
        Assert.DoesNotContain(StepPackageOptions.CacheVariable, yaml);
        Assert.Null(cold.PlatformSpec);
    }

    [Fact]
    public void Kfp_refuses_what_it_cannot_express_with_the_fix()
    {
        var archive = Assert.Throws<AxlCompileException>(() => Kfp(Flow(true, delivery: "Artifact"), KfpCompileOptions.Default with { CodeArchive = ArgoCases.CodeArchive }));
        Assert.Equal(CompileErrorIds.NotExpressible, archive.Id);
        Assert.Contains("-CodeDelivery Artifact", archive.Message);
        var b = new WorkflowBuilder("w", new WorkflowDefinitionOptions { WarmEnv = true }, new SourceLocation($"{Root}/w.axl.ps1", 1));
        b.AddStep("createpvc", "1", null, new SourceLocation($"{Root}/w.axl.ps1", 2));
        var clash = Assert.Throws<AxlCompileException>(() => Kfp(b.Build()));
        Assert.Contains("createpvc", clash.Message);
        Assert.Contains("-WarmEnv", clash.Message);
        var mode = Assert.Throws<AxlCompileException>(() => Kfp(Flow(true), KfpCompileOptions.Default with { PvcAccessMode = "Sometimes" }));
        Assert.Equal(CompileErrorIds.InvalidCompileOption, mode.Id);
        Assert.Contains("access mode 'Sometimes'", mode.Message);
    }

    [Fact]
    public void Kfp_V1_is_the_Argo_workflow_with_the_warm_task_and_volume()
    {
        var d = Kfp(Flow(true), KfpCompileOptions.Default with { Format = KfpFormat.V1 });
        var yaml = d.ToYaml();
        Assert.Contains("name: " + WarmEnvironment.StepName, yaml);
        Assert.Contains("name: " + ArgoCompiler.WarmEnvVolume, yaml);
        Assert.Contains(StepPackageOptions.CacheVariable, yaml);
    }

    [Fact]
    public void A_uv_lock_gives_the_pins_of_every_package_but_the_project()
    {
        var dir = Path.Combine(Path.GetTempPath(), "axl-uvlock-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var lockFile = Path.Combine(dir, "uv.lock");
            File.WriteAllText(lockFile, """
                version = 1
                requires-python = ">=3.11"

                [[package]]
                name = "myflow"
                version = "0.1.0"
                source = { virtual = "." }
                dependencies = [
                    { name = "tinypkg" },
                ]

                [package.metadata]
                requires-dist = [{ name = "tinypkg", specifier = "==1.0.0" }]

                [[package]]
                name = "tinypkg"
                version = "1.0.0"
                source = { registry = "https://pypi.org/simple" }
                wheels = [
                    { url = "https://example/tinypkg-1.0.0-py3-none-any.whl", hash = "sha256:00" },
                ]

                [[package]]
                name = "other"
                version = "2.3"
                source = { registry = "https://pypi.org/simple" }
                """);
            Assert.Equal(new[] { "tinypkg==1.0.0", "other==2.3" }, WarmEnvironment.UvLockPins(lockFile));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
