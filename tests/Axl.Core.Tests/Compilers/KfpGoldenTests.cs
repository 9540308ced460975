using Axl.Compilers.Kfp;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// The KFP compiler's output, byte for byte (tests/golden/kfp/*.yaml: V2 pipeline specs, and v1-*.yaml KFP 1.8
/// packages), and its determinism. Re-record with AXL_UPDATE_GOLDEN=1 after an intended change.
/// </summary>
public sealed class KfpGoldenTests
{
    [Theory]
    [MemberData(nameof(KfpCases.V2), MemberType = typeof(KfpCases))]
    public void V2_output_matches_the_golden_file(string name) =>
        Golden.Match(KfpCases.GoldenFile(name, KfpFormat.V2), KfpCases.Compile(name).ToYaml());

    [Theory]
    [MemberData(nameof(KfpCases.V1), MemberType = typeof(KfpCases))]
    public void V1_output_matches_the_golden_file(string name) =>
        Golden.Match(KfpCases.GoldenFile(name, KfpFormat.V1), KfpCases.Compile(name, KfpFormat.V1).ToYaml());

    [Theory]
    [MemberData(nameof(KfpCases.V2), MemberType = typeof(KfpCases))]
    public void The_same_IR_gives_the_same_bytes(string name)
    {
        foreach (var format in new[] { KfpFormat.V2, KfpFormat.V1 })
        {
            if (format == KfpFormat.V1 && !KfpCases.V1Names.Contains(name)) continue;
            var a = KfpCases.Compile(name, format);
            var b = KfpCases.Compile(name, format); // a new IR from the same definition
            Assert.Equal(a.ToYaml(), b.ToYaml());
            Assert.Equal(a.ToPackage(KfpPackageKind.Zip), b.ToPackage(KfpPackageKind.Zip));
            Assert.Equal(a.ToPackage(KfpPackageKind.TarGz), b.ToPackage(KfpPackageKind.TarGz));
            Assert.DoesNotContain(DateTime.UtcNow.ToString("yyyy-MM-dd"), a.ToYaml());
        }
    }

    [Fact]
    public void Every_case_has_a_golden_file_and_no_golden_file_is_orphaned()
    {
        var files = Directory.GetFiles(Golden.Directory("kfp"), "*.yaml").Select(f => Path.GetFileName(f)).OrderBy(x => x, StringComparer.Ordinal).ToList();
        var expected = KfpCases.V2Names.Select(n => n + ".yaml").Concat(KfpCases.V1Names.Select(n => "v1-" + n + ".yaml")).OrderBy(x => x, StringComparer.Ordinal);
        Assert.Equal(expected, files);
    }
}
