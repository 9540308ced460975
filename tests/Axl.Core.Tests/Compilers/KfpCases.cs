using Axl.Compilers.Kfp;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// The KFP golden cases: the workflows of the Argo goldens (<see cref="ArgoCases"/>), compiled with the matching
/// KFP options. V2 has no volume or artifact repository reference (KFP keeps artifacts under its pipeline root),
/// so the pvc and workflow-template cases are V1 only.
/// </summary>
public static class KfpCases
{
    public static IReadOnlyList<string> V2Names { get; } = new[]
    {
        "linear", "diamond", "fan-out", "conditional", "path-mode", "command-step", "s3-artifact-store", "artifact-code-delivery", "secrets",
    };

    public static IReadOnlyList<string> V1Names { get; } = new[] { "linear", "conditional", "s3-artifact-store", "pvc", "artifact-code-delivery" };

    public static IEnumerable<object[]> V2() => V2Names.Select(n => new object[] { n });
    public static IEnumerable<object[]> V1() => V1Names.Select(n => new object[] { n });

    public static (Model.AxlWorkflow Workflow, KfpCompileOptions Options) Get(string name, KfpFormat format = KfpFormat.V2)
    {
        var c = ArgoCases.Get(name);
        return (c.Workflow, new KfpCompileOptions { Format = format, CodeRoot = ArgoCases.CodeRoot, CodeArchive = c.Options.CodeArchive });
    }

    public static KfpDocument Compile(string name, KfpFormat format = KfpFormat.V2)
    {
        var (wf, o) = Get(name, format);
        return KfpCompiler.Compile(wf, o);
    }

    /// <summary>The golden file of a case: kfp/&lt;name&gt;.yaml (V2) or kfp/v1-&lt;name&gt;.yaml.</summary>
    public static string GoldenFile(string name, KfpFormat format) => format == KfpFormat.V2 ? $"kfp/{name}.yaml" : $"kfp/v1-{name}.yaml";
}
