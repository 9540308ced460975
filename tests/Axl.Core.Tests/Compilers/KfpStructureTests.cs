using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Axl.Compilers;
using Axl.Compilers.Kfp;
using NJsonSchema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// The KFP v2 output is a valid pipeline spec: every golden file and every compiled case passes
/// tests/schema/kfp-pipeline-spec.schema.json (written from pipeline_spec.proto; it also accepts the SDK-compiled
/// examples in tests/schema/kfp-examples), and the references inside hold: tasks name components that exist,
/// components name executors that exist, every task input is declared by its component and comes from a declared
/// output of a task it depends on, every placeholder in an executor's arguments names a declared input or output.
/// The V1 packages pass Argo's schema.
/// </summary>
public sealed partial class KfpStructureTests
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromJsonAsync(File.ReadAllText(Path.Combine(Golden.RepoRoot, "tests", "schema", "kfp-pipeline-spec.schema.json"))).GetAwaiter().GetResult());

    /// <summary>YAML as JSON with YAML's types: plain scalars that read as integers, floats, booleans or null become those; quoted ones stay strings.</summary>
    public static JsonNode? ToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Convert(kv.Value)))),
        YamlSequenceNode s => new JsonArray(s.Children.Select(Convert).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } s when s.Value is "true" or "false" => JsonValue.Create(s.Value == "true"),
        YamlScalarNode { Style: ScalarStyle.Plain } s when s.Value is "null" or "~" => null,
        YamlScalarNode { Style: ScalarStyle.Plain } s when IntegerRegex().IsMatch(s.Value!) => JsonValue.Create(long.Parse(s.Value!, CultureInfo.InvariantCulture)),
        YamlScalarNode { Style: ScalarStyle.Plain } s when FloatRegex().IsMatch(s.Value!) => JsonValue.Create(double.Parse(s.Value!, CultureInfo.InvariantCulture)),
        YamlScalarNode s => JsonValue.Create(s.Value ?? ""),
        _ => null,
    };

    [GeneratedRegex(@"^-?[0-9]+$")] private static partial Regex IntegerRegex();
    [GeneratedRegex(@"^-?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$|^-?[0-9]+[eE][-+]?[0-9]+$")] private static partial Regex FloatRegex();

    /// <summary>Schema errors, then reference errors, of one pipeline spec (empty when valid).</summary>
    public static List<string> Problems(string yaml)
    {
        var json = ToJson(yaml)!;
        var problems = Schema.Value.Validate(json.ToJsonString()).SelectMany(Flatten).ToList();
        if (problems.Count == 0) problems.AddRange(References(json));
        return problems;
    }

    /// <summary>A schema error and the errors under it (a oneOf or a nested object reports its causes as children).</summary>
    private static IEnumerable<string> Flatten(NJsonSchema.Validation.ValidationError e)
    {
        yield return $"schema: {e.Path}: {e.Kind} {e.Property}";
        if (e is NJsonSchema.Validation.ChildSchemaValidationError c)
            foreach (var child in c.Errors.SelectMany(kv => kv.Value).SelectMany(Flatten)) yield return child;
    }

    private static readonly Regex Placeholder = new(@"\{\{\$\.(inputs|outputs)\.(artifacts|parameters)\['([^']+)'\](\.[a-z_]+)?\}\}");

    /// <summary>The references a server resolves at upload or run time.</summary>
    private static IEnumerable<string> References(JsonNode spec)
    {
        var components = spec["components"]!.AsObject();
        var executors = spec["deploymentSpec"]!["executors"]!.AsObject();
        var rootParameters = spec["root"]!["inputDefinitions"]?["parameters"]?.AsObject();
        var tasks = spec["root"]!["dag"]!["tasks"]!.AsObject();
        foreach (var (name, c) in components)
            if (!executors.ContainsKey(c!["executorLabel"]!.GetValue<string>())) yield return $"component {name}: executor {c["executorLabel"]} does not exist";
        foreach (var (name, e) in executors)
            if (!components.Any(c => c.Value!["executorLabel"]!.GetValue<string>() == name)) yield return $"executor {name} is used by no component";
        foreach (var (name, task) in tasks)
        {
            var componentName = task!["componentRef"]!["name"]!.GetValue<string>();
            if (!components.TryGetPropertyValue(componentName, out var component)) { yield return $"task {name}: component {componentName} does not exist"; continue; }
            if (task["taskInfo"]!["name"]!.GetValue<string>() != name) yield return $"task {name}: taskInfo.name differs";
            var depends = task["dependentTasks"]?.AsArray().Select(d => d!.GetValue<string>()).ToList() ?? new();
            foreach (var d in depends) if (!tasks.ContainsKey(d)) yield return $"task {name}: dependent task {d} does not exist";
            foreach (var kind in new[] { "artifacts", "parameters" })
            {
                var given = task["inputs"]?[kind]?.AsObject().Select(kv => kv.Key).ToHashSet() ?? new();
                var declared = component!["inputDefinitions"]?[kind]?.AsObject().Select(kv => kv.Key).ToHashSet() ?? new();
                // An optional input (isOptional, as kfp-kubernetes' CreatePVC declares most of its inputs) needs no value.
                var required = component["inputDefinitions"]?[kind]?.AsObject().Where(kv => kv.Value?["isOptional"]?.GetValue<bool>() != true).Select(kv => kv.Key).ToHashSet() ?? new();
                foreach (var g in given.Except(declared)) yield return $"task {name}: input {kind} {g} is not declared by {componentName}";
                foreach (var d in required.Except(given)) yield return $"task {name}: input {kind} {d} of {componentName} gets no value";
            }
            foreach (var (key, input) in task["inputs"]?["artifacts"]?.AsObject() ?? new JsonObject())
            {
                var producer = input!["taskOutputArtifact"]!["producerTask"]!.GetValue<string>();
                var output = input["taskOutputArtifact"]!["outputArtifactKey"]!.GetValue<string>();
                if (!depends.Contains(producer)) yield return $"task {name}: artifact {key} comes from {producer}, which is not a dependent task";
                else if (components[tasks[producer]!["componentRef"]!["name"]!.GetValue<string>()]!["outputDefinitions"]?["artifacts"]?[output] is null)
                    yield return $"task {name}: {producer} has no output artifact {output}";
            }
            foreach (var (key, input) in task["inputs"]?["parameters"]?.AsObject() ?? new JsonObject())
            {
                if (input!["componentInputParameter"] is { } p && rootParameters?[p.GetValue<string>()] is null) yield return $"task {name}: parameter {key} reads pipeline input {p}, which does not exist";
                if (input["taskOutputParameter"] is { } o)
                {
                    var producer = o["producerTask"]!.GetValue<string>();
                    if (!depends.Contains(producer)) yield return $"task {name}: parameter {key} comes from {producer}, which is not a dependent task";
                    else if (components[tasks[producer]!["componentRef"]!["name"]!.GetValue<string>()]!["outputDefinitions"]?["parameters"]?[o["outputParameterKey"]!.GetValue<string>()] is null)
                        yield return $"task {name}: {producer} has no output parameter {o["outputParameterKey"]}";
                }
            }
            if (task["triggerPolicy"]?["condition"]?.GetValue<string>() is { } condition)
                foreach (Match m in Regex.Matches(condition, @"inputs\.parameter_values\['([^']+)'\]"))
                    if (component!["inputDefinitions"]?["parameters"]?[m.Groups[1].Value] is null) yield return $"task {name}: the condition reads {m.Groups[1].Value}, which is not an input";
            if (executors[component!["executorLabel"]!.GetValue<string>()] is not { } executor) continue;
            foreach (var arg in executor["container"]?["args"]?.AsArray().Select(a => a!.GetValue<string>()) ?? Enumerable.Empty<string>())
                foreach (Match m in Placeholder.Matches(arg))
                {
                    var side = m.Groups[1].Value == "inputs" ? "inputDefinitions" : "outputDefinitions";
                    if (component[side]?[m.Groups[2].Value]?[m.Groups[3].Value] is null) yield return $"executor of task {name}: placeholder {m.Value} names nothing {componentName} declares";
                }
        }
        // No cycles: every task's dependencies come first in some order.
        var done = new HashSet<string>();
        while (done.Count < tasks.Count)
        {
            var next = tasks.FirstOrDefault(t => !done.Contains(t.Key) && (t.Value!["dependentTasks"]?.AsArray().All(d => done.Contains(d!.GetValue<string>())) ?? true));
            if (next.Key is null) { yield return "the DAG has a cycle"; break; }
            done.Add(next.Key);
        }
    }

    [Fact]
    public void Every_golden_V2_file_and_every_compiled_case_is_a_valid_pipeline_spec()
    {
        foreach (var name in KfpCases.V2Names)
        {
            var golden = File.ReadAllText(Path.Combine(Golden.RepoRoot, "tests", "golden", KfpCases.GoldenFile(name, KfpFormat.V2)));
            Assert.True(Problems(golden) is { Count: 0 } p1, $"golden {name}:\n" + string.Join("\n", Problems(golden)));
            var compiled = KfpCases.Compile(name).ToYaml();
            Assert.True(Problems(compiled).Count == 0, $"compiled {name}:\n" + string.Join("\n", Problems(compiled)));
        }
    }

    [Fact]
    public void The_schema_accepts_the_SDK_compiled_examples()
    {
        var files = Directory.GetFiles(Path.Combine(Golden.RepoRoot, "tests", "schema", "kfp-examples"), "*.yaml");
        Assert.NotEmpty(files);
        foreach (var f in files) Assert.True(Problems(File.ReadAllText(f)).Count == 0, $"{f}:\n" + string.Join("\n", Problems(File.ReadAllText(f))));
    }

    [Fact]
    public void The_checks_reject_what_a_server_would_reject()
    {
        var golden = KfpCases.Compile("linear").ToYaml();
        Assert.Contains(Problems(golden.Replace("maxRetryCount: 2", "maxRetryCount: '2'")), p => p.Contains("maxRetryCount"));
        Assert.Contains(Problems(golden.Replace("parameterType: NUMBER_INTEGER", "parameterType: INT")), p => p.Contains("parameterType"));
        Assert.Contains(Problems(golden.Replace("        cachingOptions:", "        cachingOption:")), p => p.Contains("AdditionalPropertiesNotValid") && p.Contains("tasks.train"));
        Assert.Contains(Problems(golden.Replace("executorLabel: exec-train", "executorLabel: exec-training")), p => p.Contains("exec-training"));
        Assert.Contains(Problems(golden.Replace("producerTask: load-data", "producerTask: evaluate")), p => p.Contains("not a dependent task"));
        Assert.Contains(Problems(golden.Replace("{{$.inputs.artifacts[''train''].path}}", "{{$.inputs.artifacts[''training''].path}}")), p => p.Contains("training"));
        Assert.Contains(Problems(golden.Replace("        NNeighbors:\n          parameterType: NUMBER_INTEGER\n", "        NNeighbors:\n          parameterType: NUMBER_INTEGER\n        Extra:\n          parameterType: STRING\n")), p => p.Contains("Extra of comp-train gets no value"));
    }

    [Fact]
    public void Each_step_is_one_task_one_component_and_one_executor_running_the_runner()
    {
        foreach (var name in KfpCases.V2Names)
        {
            var (wf, _) = KfpCases.Get(name);
            var spec = ToJson(KfpCases.Compile(name).ToYaml())!;
            var tasks = spec["root"]!["dag"]!["tasks"]!.AsObject();
            foreach (var s in wf.Steps)
            {
                Assert.True(tasks.ContainsKey(s.KubernetesName), $"{name}: no task {s.KubernetesName}");
                var container = spec["deploymentSpec"]!["executors"]!["exec-" + s.KubernetesName]!["container"]!;
                Assert.Equal("axl", container["command"]![0]!.GetValue<string>());
                var args = container["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
                Assert.Equal("step", args[0]);
                var manifest = Axl.Runner.StepManifest.Parse(args[args.IndexOf("--manifest-json") + 1]);
                Assert.Equal(s.Name, manifest.Step);
                Assert.Equal(wf.Hash, manifest.WorkflowHash);
                // Every parameter input is carried by an --env argument naming the same variable.
                foreach (var i in manifest.Inputs.Where(i => i.Source == "parameter"))
                    Assert.Contains(i.Env + "={{$.inputs.parameters['" + i.From + "']}}", args);
            }
            Assert.Equal(wf.StepCount + (name == "artifact-code-delivery" ? 1 : 0), tasks.Count);
        }
    }

    [Fact]
    public void A_volume_store_is_refused_for_V2_and_compiles_for_V1()
    {
        var (wf, o) = KfpCases.Get("pvc");
        var ex = Assert.Throws<AxlCompileException>(() => KfpCompiler.Compile(wf, o));
        Assert.Equal(CompileErrorIds.NotExpressible, ex.Id);
        Assert.Contains("pvc:5Gi", ex.Message);
        Assert.Contains("-Format V1", ex.Message);
        Assert.Equal(KfpFormat.V1, KfpCompiler.Compile(wf, o with { Format = KfpFormat.V1 }).Format);
    }

    [Fact]
    public void Code_delivery_Artifact_needs_a_location()
    {
        var (wf, o) = KfpCases.Get("artifact-code-delivery");
        var ex = Assert.Throws<AxlCompileException>(() => KfpCompiler.Compile(wf, o with { CodeArchive = null }));
        Assert.Equal(CompileErrorIds.CodeArchiveMissing, ex.Id);
        var spec = ToJson(KfpCompiler.Compile(wf, o).ToYaml())!;
        Assert.Equal("s3://axl-code/" + ArgoCases.CodeArchive.Key, spec["deploymentSpec"]!["executors"]!["exec-code-archive"]!["importer"]!["artifactUri"]!["constant"]!.GetValue<string>());
    }

    [Fact]
    public void Packages_hold_the_YAML_as_pipeline_yaml()
    {
        var d = KfpCases.Compile("diamond");
        using (var zip = new System.IO.Compression.ZipArchive(new MemoryStream(d.ToPackage(KfpPackageKind.Zip))))
        {
            var entry = Assert.Single(zip.Entries);
            Assert.Equal("pipeline.yaml", entry.FullName);
            using var r = new StreamReader(entry.Open());
            Assert.Equal(d.ToYaml(), r.ReadToEnd());
        }
        using var gz = new System.IO.Compression.GZipStream(new MemoryStream(d.ToPackage(KfpPackageKind.TarGz)), System.IO.Compression.CompressionMode.Decompress);
        using var tar = new System.Formats.Tar.TarReader(gz);
        var e = tar.GetNextEntry()!;
        Assert.Equal("pipeline.yaml", e.Name);
        Assert.Equal(d.ToYaml(), new StreamReader(e.DataStream!).ReadToEnd());
        Assert.Null(tar.GetNextEntry());
        Assert.Equal(KfpPackageKind.TarGz, KfpDocument.PackageKindOf("out/p.TAR.GZ"));
        Assert.Equal(KfpPackageKind.Zip, KfpDocument.PackageKindOf("p.zip"));
        Assert.Equal(KfpPackageKind.Yaml, KfpDocument.PackageKindOf("p.yml"));
    }

    [NodeFact]
    public void Every_V1_golden_file_is_a_valid_Argo_document_with_the_KFP_annotations()
    {
        var files = KfpCases.V1Names.Select(n => Path.Combine(Golden.RepoRoot, "tests", "golden", KfpCases.GoldenFile(n, KfpFormat.V1))).ToList();
        var (exit, output) = ArgoSchema.Validate(files);
        Assert.True(exit == 0, "Argo schema validation failed:\n" + output);
        Assert.Contains($"{files.Count} valid, 0 invalid", output);
        foreach (var f in files)
        {
            var doc = ToJson(File.ReadAllText(f))!;
            var spec = System.Text.Json.JsonDocument.Parse(doc["metadata"]!["annotations"]!["pipelines.kubeflow.org/pipeline_spec"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(spec.RootElement.GetProperty("name").GetString()));
            Assert.Equal(KfpCompiler.V1SdkVersion, doc["metadata"]!["labels"]!["pipelines.kubeflow.org/kfp_sdk_version"]!.GetValue<string>());
            foreach (var t in doc["spec"]!["templates"]!.AsArray().Where(t => t!["container"] is not null))
                Assert.NotNull(t!["metadata"]!["annotations"]!["pipelines.kubeflow.org/component_spec"]);
        }
    }
}
