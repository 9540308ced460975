using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Serialization;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// The direct YAML writer of the compilers against YamlDotNet (the reference it replaces for speed): the same bytes for
/// every tree it takes, and the trees it does not take are left to YamlDotNet.
/// </summary>
public sealed class CompilerYamlTests
{
    /// <summary>Strings that exercise every scalar style: YAML 1.1 words, numbers, indicators, quotes, spaces, colons, hashes.</summary>
    private static readonly string[] Tricky =
    {
        "", " ", "a", "main-dag", "--manifest-json", "-", "-1", "- a", "-a", "--", "---", "...", "a b", "a  b", " a", "a ", "a:b", "a: b", "a:", ":a",
        "a #b", "a#b", "#a", "true", "True", "yes", "No", "on", "OFF", "y", "n", "null", "Null", "~", "1", "1.0", "0x1F", "1e3", ".5", "2026-01-01",
        "'", "''", "it's", "\"", "say \"hi\"", "back\\slash", "it's \"x\"", "it's \\ x", "{{workflow.name}}", "{a}", "[a]", "a,b", "a, b", "*a", "&a",
        "!a", "|a", ">a", "%a", "@a", "`a", "?a", "? a", "a?", "/axl/inputs/x", "_x", "a=b", "a+b", "(a)", "sha256:abc", "axl.dev/workflow",
        "{\"schemaVersion\":1,\"name\":\"x y\",\"list\":[1,2],\"q\":\"it's\"}", "a\tb", "line\nbreak", "é", "naïve", "tab\t", "\r", "a\u0085b",
    };

    [Fact]
    public void The_direct_writer_writes_what_YamlDotNet_writes_for_every_scalar_style()
    {
        foreach (var s in Tricky)
        {
            var tree = new ArgoMap { ["key"] = s, ["list"] = new List<object?> { s, new ArgoMap { ["k"] = s, ["n"] = new ArgoMap { ["x"] = s } } } };
            var direct = CompilerYaml.SerializeDirect(tree);
            var reference = CompilerYaml.SerializeWithYamlDotNet(tree);
            if (s.Any(c => c is < ' ' or > '~')) Assert.Null(direct); // control and non-ASCII characters: YamlDotNet's job
            else Assert.Equal(reference, direct);
            Assert.Equal(reference, CompilerYaml.Serialize(tree));
        }
    }

    /// <summary>SafePlain without a regex decides as the pattern it replaces, on the tricky strings and random ones.</summary>
    [Fact]
    public void The_plain_scalar_check_matches_its_pattern()
    {
        var pattern = new System.Text.RegularExpressions.Regex(@"^(--?[A-Za-z]|[A-Za-z_/])[A-Za-z0-9 _./:@+=,()-]*$");
        var rng = new Random(11);
        const string alphabet = "aZ09 -_/.:@+=,()#'\"\n\t{}~é";
        var strings = Tricky.Concat(new[] { "a\n", "a\n\n", "\n", "-\n", "--a\n", "-a-", "--", "--1", "-_", "_", "/" })
            .Concat(Enumerable.Range(0, 20_000).Select(_ => new string(Enumerable.Range(0, rng.Next(0, 7)).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray())));
        foreach (var s in strings) Assert.True(pattern.IsMatch(s) == CompilerYaml.SafePlain(s), $"'{s}'");
    }

    /// <summary>
    /// StyleOf's one pass decides as the string searches it replaced (the pattern, then no trailing ':' or ' ', no ": ",
    /// " #" or "  ", not a YAML 1.1 word), on the tricky strings and random ones rich in colons, spaces and hashes.
    /// </summary>
    [Fact]
    public void The_scalar_style_matches_the_searches_it_replaced()
    {
        var pattern = new System.Text.RegularExpressions.Regex(@"^(--?[A-Za-z]|[A-Za-z_/])[A-Za-z0-9 _./:@+=,()-]*$");
        var words = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "y", "n", "yes", "no", "on", "off", "true", "false", "null" };
        bool Plain(string s) => pattern.IsMatch(s) && !s.EndsWith(':') && !s.EndsWith(' ') && !s.Contains(": ", StringComparison.Ordinal)
            && !s.Contains(" #", StringComparison.Ordinal) && !s.Contains("  ", StringComparison.Ordinal) && !words.Contains(s);
        var rng = new Random(12);
        const string alphabet = "aZ0 :: #-_/\n'\"";
        var strings = Tricky.Concat(new[] { "a:\n", "a \n", "a: \n", "-a: b", "--a  b", "a :b", "a  ", "a: ", "yes\n", "On" })
            .Concat(Enumerable.Range(0, 30_000).Select(_ => new string(Enumerable.Range(0, rng.Next(1, 8)).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray())));
        foreach (var s in strings)
            Assert.True(Plain(s) == (CompilerYaml.StyleOf(s) == YamlDotNet.Core.ScalarStyle.Plain), $"'{s}'");
    }

    [Fact]
    public void The_direct_writer_writes_what_YamlDotNet_writes_for_random_trees()
    {
        var rng = new Random(7);
        const string alphabet = "abcXYZ019 -_:#'\"\\/.,{}[]*&!|>%@`?=+()~";
        string Text() => rng.Next(6) switch
        {
            0 => Tricky[rng.Next(Tricky.Length)],
            _ => new string(Enumerable.Range(0, rng.Next(0, 12)).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray()),
        };
        object? Node(int depth) => rng.Next(depth > 3 ? 3 : 6) switch
        {
            0 or 1 => Text(),
            2 => rng.Next(2) == 0,
            3 => Map(depth + 1, rng.Next(0, 4)),
            4 => new List<object?>(Enumerable.Range(0, rng.Next(0, 4)).Select(_ => rng.Next(3) == 0 ? Map(depth + 1, rng.Next(0, 3)) : Node(depth + 3))),
            // Whole numbers (a split parent's parallelism), int and long, negative too.
            _ => rng.Next(3) > 0 ? Text() : rng.Next(2) == 0 ? rng.Next(-1000, 100_000) : (long)rng.Next(int.MinValue, int.MaxValue) * 1_000_003,
        };
        ArgoMap Map(int depth, int count)
        {
            var m = new ArgoMap();
            for (var i = 0; i < count; i++)
            {
                var key = rng.Next(3) == 0 ? Text() : "k" + i;
                if (!m.ContainsKey(key)) m[key] = Node(depth);
            }
            return m;
        }

        var direct = 0;
        for (var i = 0; i < 500; i++)
        {
            var tree = Map(0, rng.Next(1, 6));
            var reference = CompilerYaml.SerializeWithYamlDotNet(tree);
            var fast = CompilerYaml.SerializeDirect(tree);
            if (fast is not null)
            {
                direct++;
                Assert.True(reference == fast, $"tree {i}:\n--- YamlDotNet\n{reference}\n--- direct\n{fast}");
            }
            Assert.Equal(reference, CompilerYaml.Serialize(tree));
        }
        Assert.True(direct > 400, $"only {direct} of 500 random trees took the direct path");
    }

    [Fact]
    public void Maps_written_before_are_copied_in_at_any_depth_with_the_same_bytes_and_Measure_counts_them()
    {
        var rng = new Random(11);
        string Text() => Tricky[rng.Next(Tricky.Length)];
        object? Node(int depth) => rng.Next(depth > 3 ? 2 : 5) switch
        {
            0 => Text(),
            1 => rng.Next(2) == 0,
            2 => Map(depth + 1, rng.Next(0, 4)),
            _ => new List<object?>(Enumerable.Range(0, rng.Next(0, 4)).Select(_ => rng.Next(2) == 0 ? (object?)Map(depth + 1, rng.Next(0, 4)) : Text())),
        };
        ArgoMap Map(int depth, int count)
        {
            var m = new ArgoMap();
            for (var i = 0; i < count; i++) m["k" + i] = Node(depth);
            return m;
        }
        void ListItemMaps(object? node, List<(List<object?> List, int Index)> found)
        {
            if (node is ArgoMap m) foreach (var v in m.Values) ListItemMaps(v, found);
            else if (node is List<object?> l)
                for (var i = 0; i < l.Count; i++)
                {
                    if (l[i] is ArgoMap) found.Add((l, i));
                    ListItemMaps(l[i], found);
                }
        }

        var copied = 0;
        for (var i = 0; i < 300; i++)
        {
            var tree = Map(0, rng.Next(1, 6));
            var whole = CompilerYaml.Serialize(tree);
            var json = IrDocument.ToJson(tree);
            var places = new List<(List<object?> List, int Index)>();
            ListItemMaps(tree, places);
            // Innermost first, so an outer map's copy holds the inner RenderedMaps as the compiler's trees do.
            places.Reverse();
            var rendered = 0;
            foreach (var (list, index) in places.Where(_ => rng.Next(3) > 0))
            {
                var m = (ArgoMap)list[index]!;
                // Written for some list indent: copied in as it is where it matches, shifted elsewhere.
                var itemIndent = rng.Next(4) * 2;
                if (CompilerYaml.Render(m, itemIndent) is not { } text) continue;
                var alone = CompilerYaml.Serialize(m);
                Assert.Equal(alone.TrimEnd('\n').Replace("\n", "\n" + new string(' ', itemIndent + 2)) + "\n", text);
                list[index] = new RenderedMap(text.AsMemory(), itemIndent, () => m);
                rendered++;
            }
            copied += rendered;
            Assert.True(whole == CompilerYaml.Serialize(tree), $"tree {i}:\n{whole}");
            Assert.Equal(((long)whole.Length, (long)whole.Count(c => c == '\n')), CompilerYaml.Measure(tree));
            // Every other reader sees the maps themselves.
            Assert.Equal(json, IrDocument.ToJson(tree));
        }
        Assert.True(copied > 100, $"only {copied} maps were copied in");
    }

    [Fact]
    public void Trees_the_direct_writer_does_not_take_go_to_YamlDotNet()
    {
        var cases = new object[]
        {
            new ArgoMap { ["n"] = 3.5 }, // other scalar types than whole numbers
            new Dictionary<string, object?> { ["n"] = null },
            new ArgoMap { ["l"] = new List<object?> { new List<object?> { "a" } } },
            new ArgoMap { ["text"] = "ünïcode" },
            new ArgoMap { [new string('k', 200)] = "long key" },
        };
        foreach (var tree in cases)
        {
            Assert.Null(CompilerYaml.SerializeDirect(tree));
            Assert.Equal(CompilerYaml.SerializeWithYamlDotNet(tree), CompilerYaml.Serialize(tree));
        }
    }
}
