using System.Text;
using Axl.Dsl;
using Axl.Model;
using Axl.Serialization;
using Axl.Validation;

namespace Axl.Core.Tests;

/// <summary>
/// A workflow file read in pieces (<see cref="FileRead.Pieces"/>: each run of <c>Step</c> lines parsed on its own, the
/// rest as a skeleton) must give what the file read whole gives: the same IR with locations, hashes, diagnostics and
/// step texts, and step bodies with the same extents, found in the whole file's tree. A file it cannot read soundly in
/// pieces (a Step line inside a string, a comment, a continued line, a nested block) must still read the same, because
/// the pieces are then declined.
/// </summary>
public class PieceReadTests
{
    private static DslKeyword Keyword(string name) => name.ToLowerInvariant() switch
    {
        "axlworkflow" => DslKeyword.Workflow,
        "step" => DslKeyword.Step,
        "parameter" => DslKeyword.Parameter,
        _ => DslKeyword.Other,
    };

    /// <summary>Everything of a read that must not depend on how the file was parsed, as text (bodies included).</summary>
    private static string Describe(IReadOnlyList<AxlWorkflow>? read, string why)
    {
        if (read is null) return $"<runs: {why}>";
        var sb = new StringBuilder();
        foreach (var wf in read)
        {
            var diagnostics = WorkflowValidator.Validate(wf);
            sb.AppendLine(IrDocument.ToJson(IrDocument.ToTree(wf, includeLocations: true, diagnostics)));
            sb.AppendLine($"hash {wf.Hash} definition {wf.DefinitionHash} location {wf.Location}");
            foreach (var s in wf.Steps)
            {
                sb.AppendLine($"step {s.Name} at {s.Location} source [{s.Source}]");
                if (s.Body is { } b)
                {
                    var e = b.Ast.Extent;
                    sb.AppendLine($"  body {e.File}:{e.StartLineNumber}:{e.StartColumnNumber}-{e.EndLineNumber}:{e.EndColumnNumber} offset {e.StartOffset} [{b}]");
                }
            }
        }
        return sb.ToString();
    }

    private static (string Whole, string Pieces, int ReadInPieces) ReadBothWays(string text)
    {
        using var dir = new IO.TempDir();
        var file = dir.File("flow.axl.ps1");
        File.WriteAllText(file, text);
        var whole = Describe(StaticWorkflowFile.TryRead(file, null, Keyword, out var why1, FileRead.Whole), why1);
        Assert.Equal(0, StaticWorkflowFile.LastReadInPieces);
        var pieces = Describe(StaticWorkflowFile.TryRead(file, null, Keyword, out var why2, FileRead.Pieces), why2);
        return (whole, pieces, StaticWorkflowFile.LastReadInPieces);
    }

    private static void AssertSame(string text, bool inPieces)
    {
        var (whole, pieces, read) = ReadBothWays(text);
        Assert.Equal(whole, pieces);
        if (inPieces) Assert.True(read > 0, "expected steps read from pieces");
        else Assert.Equal(0, read);
    }

    public static IEnumerable<object[]> Sound() => new[]
    {
        new object[] { "a chain", "AxlWorkflow chain {\n    Step s0 { 0 }\n    Step s1 { param($s0) $s0 + 1 }\n    Step s2 { param($s1) $s1 + 1 }\n}\n" },
        new object[] { "comments and blank lines between steps", "# top\nAxlWorkflow c {\n    # first\n    Step a { 1 } # after a\n\n    # before b\n    Step b {\n        param($a)\n        # inside\n        $a * 2\n    }\n\n    Step c { param($b) \"$b\" }\n}\n" },
        new object[] { "CRLF line ends and tabs", "AxlWorkflow crlf {\r\n\tStep a { 1 }\r\n\tStep b {\r\n\t\tparam($a)\r\n\t\t$a + 1 }\r\n\tStep c { param($b) $b }\r\n}\r\n" },
        new object[] { "options, parameters and a command step", "AxlWorkflow opts -Image 'x:1' {\n    Parameter n 3 -Type int\n    Step a -Cpu 1 -Memory 1Gi -Retries 2 { param($n) 1..$n }\n    step b -Env @{ A = 'x'; B = 2 } -DependsOn a { 'b' }\n    STEP c -Command echo -ArgumentList 'x', '{b}'\n    Step d { param([int[]]$a) $a.Count }\n    Parameter m 'z'\n    Step e { param($m, $d) \"$m$d\" }\n}\n" },
        new object[] { "two workflows, functions and assignments", "$script:Factor = 3\nfunction Get-Two { 2 }\nAxlWorkflow one {\n    Step a { 1 }\n    Step b { param($a) $a }\n}\nAxlWorkflow two {\n    Step x { Get-Two }\n    Step y { param($x) $x * $script:Factor }\n    Step z { param($y) $y }\n}\n" },
        new object[] { "strings, here-strings and braces in bodies", "AxlWorkflow s {\n    Step a { '}' + \"{\" + @'\n}\n'@ }\n    Step b { param($a) @\"\n$a }{\n\"@ }\n    Step c { param($b) <# } #> $b }\n}\n" },
        new object[] { "a typed output and a step named like a keyword", "AxlWorkflow t {\n    Step step { [OutputType([int])] param() 1 }\n    Step parameter { param([int]$step) $step }\n}\n" },
        new object[] { "a Step line inside a here-string among static steps (the group is declined, its other pieces are not)", "AxlWorkflow h {\n    Step a { 1 }\n    Step b { 2 }\n    Step c { @'\n    Step x { 1 }\n'@ }\n    Step d { 3 }\n    Step e { 4 }\n}\n" },
        new object[] { "a workflow-level diagnostic (an unknown input)", "AxlWorkflow d {\n    Step a { 1 }\n    Step b { param($nope) $nope }\n    Step b { 2 }\n}\n" },
    };

    [Theory]
    [MemberData(nameof(Sound))]
    public void A_file_read_in_pieces_gives_what_the_whole_read_gives(string what, string text)
    {
        _ = what;
        AssertSame(text, inPieces: true);
    }

    public static IEnumerable<object[]> Unsound() => new[]
    {
        new object[] { "Step lines inside a here-string", "AxlWorkflow h {\n    Step a { @'\n    Step x { 1 }\n    Step y { 2 }\n'@ }\n    Step b { 1 }\n}\n" },
        new object[] { "Step lines inside a block comment", "AxlWorkflow k {\n    <#\n    Step x { 1 }\n    Step y { 2 }\n    #>\n    Step b { 1 }\n}\n" },
        new object[] { "Step lines inside a comment closed on a later Step line", "AxlWorkflow k {\n    <#\n    Step x { 1 }\n    Step y { 2 } #> Step z { 3 }\n    Step b { 1 }\n}\n" },
        new object[] { "a continued line", "AxlWorkflow c {\n    Step a -Cpu 1 `\n    Step b { 1 }\n    Step c { 2 }\n}\n" },
        new object[] { "Step lines inside a step body", "AxlWorkflow n {\n    Step outer {\n    Step inner1 { 1 }\n    Step inner2 { 2 }\n    }\n    Step b { 1 }\n}\n" },
        new object[] { "Step lines inside a string", "AxlWorkflow q {\n    Step a { \"\n    Step x { 1 }\n    Step y { 2 }\n\" }\n    Step b { 1 }\n}\n" },
    };

    [Theory]
    [MemberData(nameof(Unsound))]
    public void A_file_whose_step_lines_are_not_all_statements_reads_the_same(string what, string text)
    {
        _ = what;
        var (whole, pieces, _) = ReadBothWays(text);
        Assert.Equal(whole, pieces);
    }

    public static IEnumerable<object[]> Runs() => new[]
    {
        new object[] { "Step lines in a loop", "AxlWorkflow l {\n    foreach ($i in 1..2) {\n    Step a { 1 }\n    Step b { 2 }\n    }\n}\n" },
        new object[] { "Step lines at the top level", "Step a { 1 }\nStep b { 2 }\nAxlWorkflow w {\n    Step c { 3 }\n}\n" },
        new object[] { "a step option that is not a literal", "AxlWorkflow v {\n    Step a { 1 }\n    Step b -Cpu $cpu { 2 }\n    Step c { 3 }\n}\n" },
        new object[] { "a function named like a keyword inside a step body", "AxlWorkflow f {\n    Step a { function Step { } }\n    Step b { 2 }\n}\n" },
        new object[] { "a filter named like a keyword inside a step body", "AxlWorkflow f {\n    Step a { 1 }\n    Step b { FILTER parameter { $_ } }\n    Step c { 2 }\n}\n" },
    };

    /// <summary>A file that must run is refused read in pieces too, with the reason the whole read gives (its lines).</summary>
    [Theory]
    [MemberData(nameof(Runs))]
    public void A_file_that_must_run_is_refused_with_the_same_reason(string what, string text)
    {
        _ = what;
        var (whole, pieces, read) = ReadBothWays(text);
        Assert.StartsWith("<runs:", whole);
        Assert.Equal(whole, pieces);
        Assert.Equal(0, read);
    }

    [Fact]
    public void Random_workflows_read_in_pieces_give_what_the_whole_read_gives()
    {
        var random = new Random(16);
        for (var n = 0; n < 30; n++)
        {
            var sb = new StringBuilder();
            if (random.Next(3) == 0) sb.Append("$script:Base = ").Append(random.Next(10)).Append('\n');
            sb.Append("AxlWorkflow r").Append(n).Append(" {\n");
            var steps = random.Next(2, 40);
            for (var i = 0; i < steps; i++)
            {
                var indent = random.Next(4) == 0 ? "\t" : new string(' ', random.Next(0, 9));
                if (random.Next(6) == 0) sb.Append(indent).Append("# step ").Append(i).Append('\n');
                if (random.Next(8) == 0) sb.Append(indent).Append("Parameter p").Append(i).Append(' ').Append(i).Append('\n');
                sb.Append(indent).Append(random.Next(5) == 0 ? "step" : "Step").Append(" s").Append(i);
                if (random.Next(4) == 0) sb.Append(" -Cpu ").Append(random.Next(1, 4));
                if (random.Next(5) == 0) sb.Append(" -Retries ").Append(random.Next(0, 3));
                var input = i > 0 && random.Next(3) != 0 ? $"s{random.Next(i)}" : null;
                var body = input is null ? $" {i} " : random.Next(2) == 0
                    ? $" param(${input}) ${input} + {i} "
                    : $"\n{indent}    param(\n{indent}        [int]${input}\n{indent}    )\n{indent}    ${input} * {i} # times\n{indent}";
                sb.Append(" {").Append(body).Append('}').Append(random.Next(6) == 0 ? " # done" : "").Append(random.Next(2) == 0 ? "\r\n" : "\n");
                if (random.Next(7) == 0) sb.Append('\n');
            }
            sb.Append("}\n");
            var text = sb.ToString();
            var (whole, pieces, read) = ReadBothWays(text);
            Assert.True(whole == pieces, $"workflow {n} differs:\n{text}");
            Assert.True(read > 0, $"workflow {n} was not read in pieces:\n{text}");
        }
    }

    [Fact]
    public void A_step_read_from_a_piece_gives_its_body_from_the_whole_file_tree()
    {
        using var dir = new IO.TempDir();
        var file = dir.File("tree.axl.ps1");
        File.WriteAllText(file, "AxlWorkflow tree {\n    Step a { 1 }\n    Step b { param($a) $a + 1 }\n    Step c { param($b) $b }\n}\n");
        var wf = Assert.Single(StaticWorkflowFile.TryRead(file, null, Keyword, out var why, FileRead.Pieces) ?? throw new Xunit.Sdk.XunitException(why));
        Assert.Equal(2, StaticWorkflowFile.LastReadInPieces);
        var root = StaticWorkflowFile.FileAst(wf);
        Assert.NotNull(root);
        Assert.Equal(File.ReadAllText(file), root!.Extent.Text);
        foreach (var s in wf.Steps)
        {
            var body = s.Body!;
            Assert.Same(body, s.Body);
            Assert.Same(root, RootOf(body.Ast));
        }
        Assert.Equal(3, wf.GetStep("b")!.Body!.Ast.Extent.StartLineNumber);
    }

    private static System.Management.Automation.Language.Ast RootOf(System.Management.Automation.Language.Ast ast)
    {
        while (ast.Parent is { } parent) ast = parent;
        return ast;
    }

    [Fact]
    public void Auto_reads_in_pieces_only_a_file_with_many_step_lines()
    {
        using var dir = new IO.TempDir();
        string Chain(int n) => "AxlWorkflow chain {\n    Step s0 { 0 }\n" + string.Concat(Enumerable.Range(1, n - 1).Select(i => $"    Step s{i} {{ param($s{i - 1}) $s{i - 1} + 1 }}\n")) + "}\n";
        var small = dir.File("small.axl.ps1");
        File.WriteAllText(small, Chain(StaticWorkflowFile.PiecesFrom - 1));
        Assert.NotNull(StaticWorkflowFile.TryRead(small, null, Keyword, out _));
        Assert.Equal(0, StaticWorkflowFile.LastReadInPieces);
        var large = dir.File("large.axl.ps1");
        File.WriteAllText(large, Chain(StaticWorkflowFile.PiecesFrom + 50));
        var wf = Assert.Single(StaticWorkflowFile.TryRead(large, null, Keyword, out var why) ?? throw new Xunit.Sdk.XunitException(why));
        Assert.Equal(StaticWorkflowFile.PiecesFrom + 49, StaticWorkflowFile.LastReadInPieces);
        Assert.Equal(Describe(new[] { wf }, ""), Describe(StaticWorkflowFile.TryRead(large, null, Keyword, out var why2, FileRead.Whole), why2));
    }
}
