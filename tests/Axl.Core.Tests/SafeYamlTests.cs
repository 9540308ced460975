using System.Diagnostics;
using System.Text;
using Axl.Runtime;
using Axl.Serialization;
using Xunit;

namespace Axl.Core.Tests;

/// <summary>The one YAML reader for what users write: plain values, or a file:line:col message with the fix.</summary>
public sealed class SafeYamlTests
{
    [Fact]
    public void Plain_values_nested_lists_and_mappings_are_read_in_order()
    {
        var doc = Assert.IsType<YamlMap>(SafeYaml.Load("b: 1\na: 'x'\nc: [1, 2.5, true, ~]\nd: {e: f}\ng: !!str 7\n", "p.yaml"));
        Assert.Equal(new[] { "b", "a", "c", "d", "g" }, doc.Select(kv => kv.Key));
        Assert.Equal(1L, doc[0].Value);
        Assert.Equal("x", doc[1].Value);
        Assert.Equal(new object?[] { 1L, 2.5, true, null }, Assert.IsType<object?[]>(doc[2].Value));
        Assert.Equal("f", Assert.IsType<YamlMap>(doc[3].Value).Single().Value);
        Assert.Equal("7", doc[4].Value);
        Assert.Null(SafeYaml.Load("", "empty.yaml"));
        Assert.Null(SafeYaml.Load("# only a comment\n", "c.yaml"));
    }

    public static TheoryData<string, string, string> BadDocuments => new()
    {
        // text, where, what (and the fix)
        { "Base: [1, 2\n", "p.yaml:2:1:", "close the [ ... ] list" },
        { "Base: [1, 2", "p.yaml:", "close the [ ... ] list" },
        { "Base: {a: 1\n", "p.yaml:2:1:", "close the { ... } mapping" },
        { "? [a, b]\n: 1\n", "p.yaml:1:3:", "a key must be a name, not a list" },
        { "[a]: 1\n", "p.yaml:1:1:", "a key must be a name, not a list" },
        { "{a: 1}: 2\n", "p.yaml:1:1:", "a key must be a name, not a mapping" },
        { "a: 1\n\tb: 2\n", "p.yaml:", "YAML does not allow tabs" },
        { "a:\n\t- 1\n", "p.yaml:", "YAML does not allow tabs" },
        { "a: &x 1\nb: *x\n", "p.yaml:2:4:", "an alias (*x) is not allowed" },
        { "base: &b {x: 1}\nother:\n  <<: *b\n", "p.yaml:3:7:", "an alias (*b) is not allowed" },
        { "a: 1\na: 2\n", "p.yaml:2:1:", "the key 'a' appears twice" },
        { "a: 1\n---\na: 2\n", "p.yaml:2:1:", "more than one YAML document" },
        { "a: !custom 1\n", "p.yaml:1:4:", "the tag '!custom' is not allowed" },
        { "a: !!python/object:os.system 1\n", "p.yaml:1:4:", "is not allowed" },
        { "a: \"open\n", "p.yaml:1:4:", "not valid YAML" },
        { ": 1\n", "p.yaml:1:1:", "a key is empty" },
    };

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public void Bad_documents_name_the_place_and_the_fix(string text, string where, string what)
    {
        var ex = Assert.Throws<AxlYamlException>(() => SafeYaml.Load(text, "p.yaml"));
        Assert.StartsWith(where, ex.Message);
        Assert.Contains(what, ex.Message);
        Assert.Contains("Fix: ", ex.Message);
    }

    [Fact]
    public void A_billion_laughs_is_refused_at_its_first_alias_before_anything_grows()
    {
        var sb = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var c = 'b'; c <= 'z'; c++) sb.Append($"{c}: &{c} [{string.Join(",", Enumerable.Repeat($"*{(char)(c - 1)}", 9))}]\n");
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<AxlYamlException>(() => SafeYaml.Load(sb.ToString(), "bomb.yaml"));
        Assert.StartsWith("bomb.yaml:2:8: an alias (*a) is not allowed", ex.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 * 1024 * 1024, "refusing the bomb allocated more than 16 MB");
    }

    [Fact]
    public void Size_depth_and_node_limits_hold()
    {
        var deep = SafeYaml.Load("a: " + new string('[', 63) + new string(']', 63), "d.yaml"); // the mapping and 63 lists: 64 levels, read
        Assert.IsType<YamlMap>(deep);
        Assert.Contains("nests deeper than 64 levels", Assert.Throws<AxlYamlException>(() => SafeYaml.Load("a: " + new string('[', 64) + new string(']', 64), "d.yaml")).Message);
        var many = "a: [" + string.Join(",", Enumerable.Range(0, 200)) + "]";
        Assert.Contains("more than 100 values", Assert.Throws<AxlYamlException>(() => SafeYaml.Load(many, "n.yaml", new YamlLimits { MaxNodes = 100 })).Message);
        Assert.Contains("over 50 bytes", Assert.Throws<AxlYamlException>(() => SafeYaml.Load(many, "n.yaml", new YamlLimits { MaxBytes = 50 })).Message);
        var file = Path.Combine(Path.GetTempPath(), $"axl-safeyaml-{Guid.NewGuid():N}.yaml");
        try
        {
            File.WriteAllText(file, "a: " + new string('x', 100));
            Assert.Contains("the file is 103 bytes; Axl reads YAML files of at most 64 bytes", Assert.Throws<AxlYamlException>(() => SafeYaml.LoadFile(file, new YamlLimits { MaxBytes = 64 })).Message);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Parameter_files_go_through_it()
    {
        var file = Path.Combine(Path.GetTempPath(), $"axl-params-{Guid.NewGuid():N}.yaml");
        try
        {
            File.WriteAllText(file, "Base: [1, 2\n");
            var ex = Assert.Throws<AxlParameterException>(() => ParameterResolver.ReadFile(file));
            Assert.StartsWith($"{file}:2:1: not valid YAML", ex.Message);
            File.WriteAllText(file, "Base: 3\nList: [a, {b: 2}]\n");
            var values = ParameterResolver.ReadFile(file);
            Assert.Equal(3L, values[0].Value);
            Assert.Equal(2L, ((System.Collections.Hashtable)((object?[])values[1].Value!)[1]!)["B"]);
        }
        finally { File.Delete(file); }
    }
}
