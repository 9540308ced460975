using Axl.Dsl;
using Axl.Model;
using Axl.Validation;

namespace Axl.Core.Tests;

/// <summary>Small helpers shared by the test classes: build workflows with the C# builder and find diagnostics.</summary>
internal static class T
{
    public const string File = "/flows/test.axl.ps1";

    public static SourceLocation At(int line) => new(File, line);

    public static WorkflowBuilder Builder(string name = "wf", WorkflowDefinitionOptions? options = null) =>
        new(name, options, At(1));

    public static IReadOnlyList<AxlDiagnostic> Validate(WorkflowBuilder b) => WorkflowValidator.Validate(b.Build());

    /// <summary>The one diagnostic with <paramref name="id"/>; fails the test when there are none or several.</summary>
    public static AxlDiagnostic Single(IReadOnlyList<AxlDiagnostic> diagnostics, string id)
    {
        var matches = diagnostics.Where(d => d.Id == id).ToList();
        Assert.True(matches.Count == 1,
            $"expected exactly one {id}, got {matches.Count}. All diagnostics:\n" + string.Join("\n", diagnostics.Select(d => d.ToString())));
        var d = matches[0];
        Assert.True(d.IsError);
        Assert.False(string.IsNullOrWhiteSpace(d.Fix), $"{id} has no fix: {d}");
        return d;
    }

    public static void NoErrors(IReadOnlyList<AxlDiagnostic> diagnostics) =>
        Assert.True(diagnostics.All(d => !d.IsError), "expected no errors, got:\n" + string.Join("\n", diagnostics.Select(d => d.ToString())));

    public static void None(IReadOnlyList<AxlDiagnostic> diagnostics, string id) =>
        Assert.True(diagnostics.All(d => d.Id != id), $"expected no {id}, got:\n" + string.Join("\n", diagnostics.Select(d => d.ToString())));

    public static string[] EdgeStrings(AxlWorkflow wf) => wf.Edges.Select(e => e.ToString()).ToArray();
}
