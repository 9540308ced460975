using System.Management.Automation;
using Axl.Dsl;
using Axl.Hashing;
using Axl.Model;
using Axl.Serialization;

namespace Axl.Core.Tests;

/// <summary>
/// What a workflow read without running its file (<see cref="StaticWorkflowFile"/>) holds for its step bodies, and the
/// definition hash of a document larger than the writer's flush size.
/// </summary>
public class StaticReadTests
{
    private static DslKeyword Keyword(string name) => name switch
    {
        "AxlWorkflow" => DslKeyword.Workflow,
        "Step" => DslKeyword.Step,
        "Parameter" => DslKeyword.Parameter,
        _ => DslKeyword.Other,
    };

    [Fact]
    public void Step_bodies_read_without_running_are_made_on_demand_with_the_text_and_signature_of_a_script_block()
    {
        using var dir = new Axl.Core.Tests.IO.TempDir();
        var file = dir.File("bodies.axl.ps1");
        File.WriteAllText(file, "AxlWorkflow bodies {\n    Step a { 1 }\n    Step b {\r\n param([int]$a)\r\n $a + 1 }\n    Step c -Command echo -ArgumentList '{b}'\n}\n");

        var wf = Assert.Single(StaticWorkflowFile.TryRead(file, null, Keyword, out var why) ?? throw new Xunit.Sdk.XunitException(why));
        var b = wf.GetStep("b")!;
        // The text is what the script block of the same tree gives (line endings normalised), the signature its param block's.
        var body = b.Body!;
        Assert.Same(body, b.Body);
        Assert.Equal(WorkflowBuilder.NormalizeSource(body.ToString()), b.Source);
        Assert.Equal("\n param([int]$a)\n $a + 1 ", b.Source);
        var input = Assert.Single(b.Inputs);
        Assert.Equal(("a", BindingSource.Step, "int"), (input.Name, input.Source, input.Type));
        Assert.Equal(" 1 ", wf.GetStep("a")!.Source);
        Assert.Null(wf.GetStep("c")!.Body);
    }

    [Fact]
    public void Threads_that_ask_for_a_step_body_read_without_running_at_once_all_get_the_same_script_block()
    {
        using var dir = new Axl.Core.Tests.IO.TempDir();
        var file = dir.File("race.axl.ps1");
        File.WriteAllText(file, "AxlWorkflow race {\n" + string.Concat(Enumerable.Range(0, 50).Select(i => $"    Step s{i} {{ {i} }}\n")) + "}\n");
        var wf = Assert.Single(StaticWorkflowFile.TryRead(file, null, Keyword, out var why) ?? throw new Xunit.Sdk.XunitException(why));

        const int threads = 8;
        var seen = new ScriptBlock?[threads, wf.Steps.Count];
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < wf.Steps.Count; i++) seen[t, i] = wf.Steps[i].Body;
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        for (var i = 0; i < wf.Steps.Count; i++)
        {
            Assert.NotNull(seen[0, i]);
            for (var t = 1; t < threads; t++) Assert.Same(seen[0, i], seen[t, i]);
            Assert.Same(seen[0, i], wf.Steps[i].Body);
        }
    }

    [Fact]
    public void The_definition_hash_of_a_document_larger_than_the_flush_size_is_of_its_whole_compact_json()
    {
        var builder = new WorkflowBuilder("big", null, T.At(1));
        builder.AddStep("s0", "0", null, T.At(2));
        for (var i = 1; i < 400; i++) builder.AddStep($"s{i}", $"param($s{i - 1}) $s{i - 1} + 1", null, T.At(i + 2));
        var wf = builder.Build();

        var json = IrDocument.ToJson(IrDocument.ToTree(wf, includeLocations: false), indented: false);
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        Assert.True(bytes.Length > 4 << 15, $"the document ({bytes.Length} bytes) spans several flushes");
        Assert.Equal(ContentHash.Of(bytes), WorkflowHasher.Compute(wf));
        Assert.Equal(ContentHash.Of(bytes), wf.DefinitionHash);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(100_000, 7)]
    [InlineData(100_000, 65_536)]
    [InlineData(3_000_000, 40_000)]
    [InlineData(2 << 20, 1 << 20)]
    public void A_hash_of_written_pieces_is_the_hash_of_their_bytes(int length, int piece)
    {
        var data = new byte[length];
        for (var i = 0; i < length; i++) data[i] = (byte)(i % 251);
        var id = ContentHash.OfWritten(data, (stream, d) =>
        {
            for (var at = 0; at < d.Length; at += piece)
            {
                if ((at / piece) % 2 == 0) stream.Write(d, at, Math.Min(piece, d.Length - at));
                else stream.Write(d.AsSpan(at, Math.Min(piece, d.Length - at)));
            }
        });
        Assert.Equal(ContentHash.Of(data), id);
    }
}
