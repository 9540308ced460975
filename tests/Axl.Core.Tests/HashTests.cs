using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;
using System.Text.RegularExpressions;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Core.Tests;

/// <summary>The content hash: same definition gives the same hash anywhere; any change gives a new one.</summary>
public class HashTests
{
    /// <summary>A representative workflow; each knob changes one thing.</summary>
    private static AxlWorkflow Build(
        string file = T.File, int line = 1,
        string trainBody = "param($load, $K) $load | Select-Object -First $K",
        int? retries = 2, object? kDefault = null, bool noDefault = false, string[]? dependsOn = null, string? ioHandler = null,
        string newline = "\n", IDictionary? env = null, IDictionary? labels = null, object? timeout = null, string? when = null)
    {
        var b = new WorkflowBuilder("hash-me", new WorkflowDefinitionOptions { Image = "runner:1", Labels = labels }, new SourceLocation(file, line))
            .AddParameter("K", noDefault ? null : kDefault ?? 3, "int", "neighbours", new SourceLocation(file, line + 1))
            .AddStep("load", $"$x = 1{newline}$x + 1{newline}", new StepOptions { IoHandler = ioHandler }, new SourceLocation(file, line + 2))
            .AddStep("other", "2", null, new SourceLocation(file, line + 3))
            .AddStep("train", trainBody, new StepOptions { Retries = retries, DependsOn = dependsOn, Env = env, Timeout = timeout, When = when, Cpu = "500m" }, new SourceLocation(file, line + 4));
        return b.Build();
    }

    [Theory]
    // The BLAKE3 reference test vectors (github.com/BLAKE3-team/BLAKE3, test_vectors.json: input bytes i % 251).
    [InlineData(0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262")]
    [InlineData(1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213")]
    [InlineData(1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7")]
    public void ContentHash_is_blake3(int length, string hex)
    {
        var data = Enumerable.Range(0, length).Select(i => (byte)(i % 251)).ToArray();
        Assert.Equal("blake3:" + hex, Axl.Hashing.ContentHash.Of(data));
        Assert.Equal("blake3:" + hex, Axl.Hashing.ContentHash.Of(new MemoryStream(data)));
        Assert.Equal(hex, Axl.Hashing.ContentHash.Hex("blake3:" + hex));
        Assert.False(Axl.Hashing.ContentHash.IsLegacy("blake3:" + hex));
        Assert.True(Axl.Hashing.ContentHash.IsLegacy(Axl.Hashing.ContentHash.OfLegacy(data)));
    }

    [Fact]
    public void Hash_has_the_blake3_form()
    {
        Assert.Matches(new Regex("^blake3:[0-9a-f]{64}$"), Build().Hash);
        Assert.Equal(Build().Hash.Substring(7, 12), Build().ShortHash);
    }

    [Fact]
    public void Same_definition_built_twice_has_the_same_hash()
    {
        Assert.Equal(Build().Hash, Build().Hash);
        Assert.Equal(AutoGraphTests.Diamond().Hash, AutoGraphTests.Diamond().Hash);
    }

    [Fact]
    public void Source_locations_do_not_change_the_hash()
    {
        Assert.Equal(Build().Hash, Build(file: "C:\\elsewhere\\flow.axl.ps1", line: 40).Hash);
        Assert.Equal(AutoGraphTests.Diamond().Hash, AutoGraphTests.Diamond("/other/path.axl.ps1", 100).Hash);
    }

    [Fact]
    public void Crlf_and_lf_bodies_have_the_same_hash()
    {
        Assert.Equal(Build(newline: "\n").Hash, Build(newline: "\r\n").Hash);
        Assert.Equal(Build(newline: "\n").Hash, Build(newline: "\r").Hash);
        Assert.Equal("$x = 1\n$x + 1\n", Build(newline: "\r\n").GetStep("load")!.Source);
    }

    [Fact]
    public void Equivalent_spellings_of_values_have_the_same_hash()
    {
        var baseline = Build().Hash;
        Assert.Equal(baseline, Build(kDefault: 3L).Hash);
        Assert.Equal(baseline, Build(kDefault: (short)3).Hash);
        Assert.Equal(baseline, Build(kDefault: PSObject.AsPSObject(3)).Hash);
        Assert.Equal(Build(timeout: "5m").Hash, Build(timeout: 300).Hash);
        Assert.Equal(Build(timeout: "5m").Hash, Build(timeout: TimeSpan.FromMinutes(5)).Hash);
    }

    [Fact]
    public void Env_and_label_order_do_not_change_the_hash()
    {
        var env1 = new OrderedDictionary { ["A"] = "1", ["B"] = "2" };
        var env2 = new OrderedDictionary { ["B"] = "2", ["A"] = "1" };
        Assert.Equal(Build(env: env1).Hash, Build(env: env2).Hash);
        Assert.Equal(Build(labels: env1).Hash, Build(labels: env2).Hash);
    }

    public static IEnumerable<object[]> Changes() => new[]
    {
        new object[] { "step body", (Func<AxlWorkflow>)(() => Build(trainBody: "param($load, $K) $load | Select-Object -First ($K + 1)")) },
        new object[] { "body whitespace", (Func<AxlWorkflow>)(() => Build(trainBody: "param($load, $K)  $load | Select-Object -First $K")) },
        new object[] { "retries", (Func<AxlWorkflow>)(() => Build(retries: 3)) },
        new object[] { "retries unset", (Func<AxlWorkflow>)(() => Build(retries: null)) },
        new object[] { "parameter default", (Func<AxlWorkflow>)(() => Build(kDefault: 4)) },
        new object[] { "parameter default type", (Func<AxlWorkflow>)(() => Build(kDefault: "3")) },
        new object[] { "parameter default removed", (Func<AxlWorkflow>)(() => Build(noDefault: true)) },
        new object[] { "added DependsOn edge", (Func<AxlWorkflow>)(() => Build(dependsOn: new[] { "other" })) },
        new object[] { "io handler", (Func<AxlWorkflow>)(() => Build(ioHandler: "json")) },
        new object[] { "env", (Func<AxlWorkflow>)(() => Build(env: new Hashtable { ["A"] = "1" })) },
        new object[] { "label", (Func<AxlWorkflow>)(() => Build(labels: new Hashtable { ["team"] = "ml" })) },
        new object[] { "timeout", (Func<AxlWorkflow>)(() => Build(timeout: 60)) },
        new object[] { "condition", (Func<AxlWorkflow>)(() => Build(when: "load -gt 1")) },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Any_change_gives_a_different_hash(string what, Func<AxlWorkflow> changed)
    {
        _ = what; // names the case in the test output
        Assert.NotEqual(Build().Hash, changed().Hash);
    }

    [Fact]
    public void An_added_data_edge_changes_the_hash()
    {
        var before = Build(trainBody: "param($load, $K) 1").Hash;
        var after = Build(trainBody: "param($load, $K, $other) 1").Hash;
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void All_changes_give_distinct_hashes()
    {
        var hashes = Changes().Select(c => ((Func<AxlWorkflow>)c[1])().Hash).Append(Build().Hash).ToList();
        Assert.Equal(hashes.Count, hashes.Distinct().Count());
    }
}
