using Axl.Runner;
using Axl.Serialization;

namespace Axl.Core.Tests.Runtime;

/// <summary>StepManifest.ToJson writes the record straight: the same bytes as the JSON of its tree, compact and indented.</summary>
public sealed class StepManifestJsonTests
{
    public static TheoryData<string> Cases() => new() { "plain", "every input kind", "code archive and odd text" };

    private static StepManifest Make(string name) => name switch
    {
        "plain" => new StepManifest
        {
            Workflow = "wf", WorkflowFile = "flows/wf.axl.ps1", Step = "a",
            Output = new ManifestOutput("/axl/outputs/a", "clixml", ".clixml", null),
        },
        "every input kind" => new StepManifest
        {
            Workflow = "wf", WorkflowHash = "blake3:0123", WorkflowFile = "wf.axl.ps1", WorkDir = "/axl/workdir", Step = "train", RunId = "{{workflow.name}}",
            Inputs = new[]
            {
                new ManifestInput("data", "step", "load", "path", "/axl/inputs/load", null),
                new ManifestInput("mode", "parameter", "Mode", "object", null, null, "AXL_PARAM_0_MODE"),
                new ManifestInput("n", "parameter", "N", "object", null, "{{inputs.parameters.N}}"),
                new ManifestInput("k", "constant", null, "object", null, "[1,2]"),
                new ManifestInput("AxlContext", "context", null, "object", null, null),
            },
            Output = new ManifestOutput("/axl/outputs/train", "json", ".json", "/axl/outputs/train/value.txt"),
        },
        _ => new StepManifest
        {
            Workflow = "w\u00e9 \"quoted\" <tag> & 'x'", WorkflowFile = "C:\\flows\\wf.axl.ps1", Step = "s\n1", CodeArchiveSha256 = "sha256:" + new string('a', 64),
            Inputs = new[] { new ManifestInput("x", "constant", null, "object", null, "{\"a\":\"\\u0001\"}") },
            Output = new ManifestOutput("out\tdir", "clixml", ".clixml", null),
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_json_written_from_the_record_is_the_json_of_its_tree(string name)
    {
        var m = Make(name);
        foreach (var indented in new[] { false, true })
            Assert.Equal(IrDocument.ToJson(m.ToTree(), indented), m.ToJson(indented));
        Assert.Equal(m, StepManifest.Parse(m.ToJson(indented: false)) with { Inputs = m.Inputs });
    }
}
