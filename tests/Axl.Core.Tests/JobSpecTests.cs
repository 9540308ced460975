using Axl.Jobs;
using Xunit;

namespace Axl.Core.Tests;

public sealed class JobSpecTests
{
    private static AxlJobSpec Sample() => new()
    {
        Name = "lr-0.01",
        WorkflowPath = "/flows/train.axl.ps1",
        WorkflowName = "train",
        Parameters = new SortedDictionary<string, object?>(StringComparer.Ordinal) { ["Epochs"] = 3L, ["Tags"] = new object?[] { "a", 1L, null }, ["Opt"] = new Dictionary<string, object?> { ["beta"] = 0.9, ["on"] = true } },
        Overrides = new SortedDictionary<string, object?>(StringComparer.Ordinal) { ["LearningRate"] = 0.01 },
        Target = JobTargetKind.Argo,
        Resources = new JobResources { Cpu = "500m", Memory = "2Gi", Gpu = 1 },
    };

    [Fact]
    public void Round_trip_is_equal_and_the_json_is_stable()
    {
        var spec = Sample();
        var json = spec.ToJson();
        var back = AxlJobSpec.FromJson(json);
        Assert.Equal(spec, back);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(0.01, back.EffectiveParameters()["learningrate"]);
        Assert.StartsWith("{\n  \"version\": 1,\n  \"name\": \"lr-0.01\",\n  \"workflowPath\": \"/flows/train.axl.ps1\",", json);
    }

    [Theory]
    [InlineData("""{ "name": "x", "workflowPath": "a", "args": {} }""", "unknown field 'args'")]
    [InlineData("""{ "name": "x", "workflowPath": "a", "resources": { "gpus": 1 } }""", "unknown field 'resources.gpus'")]
    [InlineData("""{ "name": "x", "target": "Mars" }""", "target 'Mars' is not one of Local, Argo, Queue")]
    [InlineData("""{ "name": "x", "version": 2 }""", "this Axl reads version 1")]
    [InlineData("""[1]""", "must be a JSON object")]
    [InlineData("""{ "name": """, "not valid JSON")]
    public void Bad_json_is_an_error_naming_the_field(string json, string message) =>
        Assert.Contains(message, Assert.Throws<AxlJobSpecException>(() => AxlJobSpec.FromJson(json)).Message);

    [Fact]
    public void A_spec_that_names_no_workflow_is_invalid()
    {
        var spec = AxlJobSpec.FromJson("""{ "name": "x" }""");
        Assert.Contains("names no workflow", Assert.Single(spec.Validate()));
        Assert.Equal("workflowPath", Assert.Throws<AxlJobSpecException>(spec.ThrowIfInvalid).Field);
        foreach (var kind in Enum.GetValues<JobTargetKind>()) Assert.Equal(kind, JobTargets.Get(kind).Kind); // every target is registered
    }
}
