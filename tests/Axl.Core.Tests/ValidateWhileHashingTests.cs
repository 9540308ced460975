using Axl.Validation;

namespace Axl.Core.Tests;

/// <summary>Validation with the hashes made meanwhile: the same findings, and the hashes of a workflow that never had them made ahead.</summary>
public class ValidateWhileHashingTests
{
    private static Axl.Dsl.WorkflowBuilder Chain(int n)
    {
        var b = T.Builder("chain");
        b.AddStep("s0", "1", null, T.At(2));
        for (var i = 1; i < n; i++) b.AddStep($"s{i}", $"param($s{i - 1}) $s{i - 1} + 1", null, T.At(i + 2));
        return b;
    }

    [Fact]
    public void A_valid_workflow_gives_the_same_findings_and_hashes_as_one_after_the_other()
    {
        var ahead = Chain(500).Build();
        var plain = Chain(500).Build();
        var found = WorkflowValidator.ValidateWhileHashing(ahead);
        Assert.Equal(WorkflowValidator.Validate(plain).Select(d => d.ToString()), found.Select(d => d.ToString()));
        Assert.Equal(plain.DefinitionHash, ahead.DefinitionHash);
        Assert.Equal(plain.Hash, ahead.Hash);
    }

    [Fact]
    public void An_invalid_workflow_returns_its_errors_and_its_hash_is_still_the_same()
    {
        var b = Chain(50).AddStep("loop", "param($loop) $loop", null, T.At(60));
        var wf = b.Build();
        var found = WorkflowValidator.ValidateWhileHashing(wf);
        T.Single(found, DiagnosticIds.CycleDetected);
        Assert.Equal(b.Build().DefinitionHash, wf.DefinitionHash);
    }

    [Fact]
    public void With_the_order_asked_for_a_valid_workflow_gives_the_same_findings_and_order_and_an_invalid_one_its_errors()
    {
        var ahead = Chain(300).AddStep("side", "param($s7) $s7", null, T.At(400)).Build();
        var plain = Chain(300).AddStep("side", "param($s7) $s7", null, T.At(400)).Build();
        var found = WorkflowValidator.ValidateWhileHashing(ahead, order: true);
        Assert.Equal(WorkflowValidator.Validate(plain).Select(d => d.ToString()), found.Select(d => d.ToString()));
        Assert.Equal(plain.TopologicalOrder().Select(s => s.Name), ahead.TopologicalOrder().Select(s => s.Name));
        Assert.Equal(plain.Hash, ahead.Hash);

        // A cycle: its error comes back (no order is made, which would throw).
        var cyclic = Chain(50).AddStep("loop", "param($loop) $loop", null, T.At(60)).Build();
        T.Single(WorkflowValidator.ValidateWhileHashing(cyclic, order: true), DiagnosticIds.CycleDetected);
    }

    [Fact]
    public void A_code_root_given_is_the_one_hashed_ahead()
    {
        var dir = Directory.CreateTempSubdirectory("axl-vwh-");
        try
        {
            var file = Path.Combine(dir.FullName, "flow.axl.ps1");
            File.WriteAllText(file, "# flow\n");
            var other = Directory.CreateDirectory(Path.Combine(dir.FullName, "other")).FullName;
            File.WriteAllText(Path.Combine(other, "helper.ps1"), "function helper { 1 }\n");
            var b = new Axl.Dsl.WorkflowBuilder("flow", null, new Axl.Model.SourceLocation(file, 1));
            b.AddStep("a", "1", null, new Axl.Model.SourceLocation(file, 2));
            var wf = b.Build();
            T.NoErrors(WorkflowValidator.ValidateWhileHashing(wf, other));
            Assert.Equal(Axl.Hashing.CodeTreeHasher.Combine(wf.DefinitionHash, Axl.Hashing.CodeTreeHasher.Compute(other)), wf.HashFor(other));
            Assert.Equal(Axl.Hashing.CodeTreeHasher.Combine(wf.DefinitionHash, Axl.Hashing.CodeTreeHasher.Compute(dir.FullName)), wf.Hash);
            Assert.NotEqual(wf.Hash, wf.HashFor(other));
        }
        finally { dir.Delete(recursive: true); }
    }
}
