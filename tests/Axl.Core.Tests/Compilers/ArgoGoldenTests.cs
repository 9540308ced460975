using Axl.Compilers.Argo;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// The Argo compiler's output, byte for byte, for each shape of workflow (tests/golden/argo/*.yaml), and its
/// determinism. Re-record with AXL_UPDATE_GOLDEN=1 after an intended change; the schema test then checks the files.
/// </summary>
public sealed class ArgoGoldenTests
{
    [Theory]
    [MemberData(nameof(ArgoCases.All), MemberType = typeof(ArgoCases))]
    public void Output_matches_the_golden_file(string name)
    {
        var c = ArgoCases.Get(name);
        var document = ArgoCompiler.Compile(c.Workflow, c.Options);
        Golden.Match($"argo/{name}.yaml", document.ToYaml());
    }

    [Theory]
    [MemberData(nameof(ArgoCases.All), MemberType = typeof(ArgoCases))]
    public void The_same_IR_gives_the_same_bytes(string name)
    {
        var first = ArgoCases.Get(name);
        var a = ArgoCompiler.Compile(first.Workflow, first.Options).ToYaml();
        var b = ArgoCompiler.Compile(first.Workflow, first.Options).ToYaml();
        var rebuilt = ArgoCases.Get(name); // a new IR from the same definition
        var c = ArgoCompiler.Compile(rebuilt.Workflow, rebuilt.Options).ToYaml();
        Assert.Equal(a, b);
        Assert.Equal(a, c);
        Assert.DoesNotContain(DateTime.UtcNow.ToString("yyyy-MM-dd"), a);
    }

    [Fact]
    public void Every_case_has_a_golden_file_and_no_golden_file_is_orphaned()
    {
        var files = Directory.GetFiles(Golden.Directory("argo"), "*.yaml").Select(f => Path.GetFileNameWithoutExtension(f)).OrderBy(x => x).ToList();
        Assert.Equal(ArgoCases.Names.OrderBy(x => x), files);
    }
}
