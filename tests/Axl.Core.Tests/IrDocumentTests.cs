using System.Text.Json;
using Axl.Dsl;
using Axl.Hashing;
using Axl.Model;
using Axl.Serialization;
using Axl.Validation;

namespace Axl.Core.Tests;

/// <summary>The IR as JSON and YAML documents: deterministic bytes, and the steps and edges are there.</summary>
public class IrDocumentTests
{
    private static AxlWorkflow Sample() =>
        new WorkflowBuilder("iris-knn", new WorkflowDefinitionOptions { Image = "ghcr.io/axl/runner:1", ArtifactStore = "s3://bucket/runs" }, T.At(1))
            .AddParameter("NNeighbors", 3, location: T.At(2))
            .AddStep("load_data", "Import-Csv iris.csv", null, T.At(3))
            .AddStep("train", "param($load_data, $NNeighbors) 'model'", new StepOptions { Retries = 2, Cpu = "500m", Memory = "1Gi", Timeout = "5m" }, T.At(4))
            .AddStep("evaluate", "param($train) 0.95", new StepOptions { IoHandler = "json" }, T.At(5))
            .AddStep("publish", "param($evaluate) 'ok'", new StepOptions { When = "evaluate -gt 0.9", Env = new System.Collections.Hashtable { ["STAGE"] = "prod" } }, T.At(6))
            .Build();

    [Fact]
    public void Json_is_deterministic_across_calls_and_builds()
    {
        var wf = Sample();
        var a = IrDocument.ToJson(IrDocument.ToTree(wf));
        var b = IrDocument.ToJson(IrDocument.ToTree(wf));
        var c = IrDocument.ToJson(IrDocument.ToTree(Sample()));
        Assert.Equal(a, b);
        Assert.Equal(a, c);
        Assert.Equal(IrDocument.ToJson(IrDocument.ToTree(wf), indented: false), IrDocument.ToJson(IrDocument.ToTree(Sample()), indented: false));
    }

    [Fact]
    public void Json_contains_steps_edges_parameters_and_options()
    {
        var wf = Sample();
        using var doc = JsonDocument.Parse(IrDocument.ToJson(IrDocument.ToTree(wf)));
        var root = doc.RootElement;
        Assert.Equal(IrDocument.SchemaVersion, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("iris-knn", root.GetProperty("name").GetString());
        Assert.Equal(wf.Hash, root.GetProperty("hash").GetString());
        Assert.Equal(T.File, root.GetProperty("source").GetString());
        Assert.Equal("s3://bucket/runs", root.GetProperty("options").GetProperty("artifactStore").GetString());

        var steps = root.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(new[] { "load_data", "train", "evaluate", "publish" }, steps.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("load-data", steps[0].GetProperty("kubernetesName").GetString());
        Assert.Equal(4, steps[1].GetProperty("line").GetInt32());
        Assert.Equal(2, steps[1].GetProperty("retries").GetInt32());
        Assert.Equal(300, steps[1].GetProperty("timeoutSeconds").GetInt32());
        Assert.Equal("500m", steps[1].GetProperty("resources").GetProperty("cpuRequest").GetString());
        Assert.Equal(".json", steps[2].GetProperty("output").GetProperty("extension").GetString());
        Assert.Equal("evaluate -gt 0.9", steps[3].GetProperty("when").GetString());
        Assert.Equal("prod", steps[3].GetProperty("env").GetProperty("STAGE").GetString());
        var trainInputs = steps[1].GetProperty("inputs").EnumerateArray().ToList();
        Assert.Equal(new[] { "step", "parameter" }, trainInputs.Select(i => i.GetProperty("source").GetString()));

        var edges = root.GetProperty("edges").EnumerateArray()
            .Select(e => $"{e.GetProperty("from").GetString()}>{e.GetProperty("to").GetString()}:{e.GetProperty("kind").GetString()}:{e.GetProperty("input").GetString()}")
            .ToList();
        Assert.Equal(new[] { "load_data>train:data:load_data", "train>evaluate:data:train", "evaluate>publish:data:evaluate" }, edges);

        var p = Assert.Single(root.GetProperty("parameters").EnumerateArray());
        Assert.Equal("NNeighbors", p.GetProperty("name").GetString());
        Assert.Equal(3, p.GetProperty("default").GetInt64());
    }

    [Fact]
    public void The_hash_tree_has_no_locations_and_the_hash_is_of_its_compact_json()
    {
        var tree = IrDocument.ToTree(Sample(), includeLocations: false);
        var json = IrDocument.ToJson(tree, indented: false);
        Assert.DoesNotContain(T.File, json);
        Assert.DoesNotContain("\"line\"", json);
        Assert.DoesNotContain("\"hash\"", json);
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        Assert.Equal("blake3:" + Blake3.Hasher.Hash(bytes).ToString(), WorkflowHasher.Compute(Sample()));
        // The id of the same tree before BLAKE3 (what runs recorded then hold), on request.
        Assert.Equal("sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant(), IrDocument.Hash(tree, legacy: true));
    }

    [Fact]
    public void Diagnostics_are_included_when_given()
    {
        var wf = T.Builder().AddStep("a", "param($missing) 1", null, T.At(2)).Build();
        var diagnostics = WorkflowValidator.Validate(wf);
        using var doc = JsonDocument.Parse(IrDocument.ToJson(IrDocument.ToTree(wf, diagnostics: diagnostics)));
        var d = Assert.Single(doc.RootElement.GetProperty("diagnostics").EnumerateArray());
        Assert.Equal(DiagnosticIds.UnboundInput, d.GetProperty("id").GetString());
        Assert.Equal("error", d.GetProperty("severity").GetString());
        Assert.Equal(2, d.GetProperty("line").GetInt32());
        Assert.Equal("a", d.GetProperty("step").GetString());
    }

    [Fact]
    public void Yaml_is_deterministic_and_contains_steps_and_edges()
    {
        var a = IrDocument.ToYaml(IrDocument.ToTree(Sample()));
        var b = IrDocument.ToYaml(IrDocument.ToTree(Sample()));
        Assert.Equal(a, b);
        Assert.Contains("name: iris-knn", a);
        Assert.Contains("steps:", a);
        Assert.Contains("edges:", a);
        foreach (var step in new[] { "load_data", "train", "evaluate", "publish" })
            Assert.Contains($"name: {step}", a);
        Assert.Contains("from: load_data", a);
        Assert.Contains("to: publish", a);
        Assert.Contains("kind: data", a);
        // Keys keep the tree order: name before steps before edges.
        Assert.True(a.IndexOf("\nsteps:", StringComparison.Ordinal) < a.IndexOf("\nedges:", StringComparison.Ordinal));
        Assert.True(a.IndexOf("name: iris-knn", StringComparison.Ordinal) < a.IndexOf("\nsteps:", StringComparison.Ordinal));
    }

    [Fact]
    public void Yaml_round_trips_through_a_yaml_parser()
    {
        var yaml = IrDocument.ToYaml(IrDocument.ToTree(Sample()));
        var parsed = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(yaml);
        var steps = Assert.IsType<List<object>>(parsed["steps"]);
        Assert.Equal(4, steps.Count);
        var edges = Assert.IsType<List<object>>(parsed["edges"]);
        Assert.Equal(3, edges.Count);
        var publish = Assert.IsType<Dictionary<object, object>>(steps[3]);
        Assert.Equal("evaluate -gt 0.9", publish["when"]);
    }
}
