using System.Management.Automation.Language;
using Axl.Dsl;
using Xunit;

namespace Axl.Core.Tests;

/// <summary>A workflow file's names read without running it (what tab completion offers).</summary>
public sealed class WorkflowOutlineTests
{
    private static IReadOnlyList<WorkflowOutline> Of(string script) => WorkflowOutline.Of(Parser.ParseInput(script, out _, out _));

    [Fact]
    public void Reads_workflows_steps_and_parameters_with_their_default_text_by_position_or_by_name()
    {
        var o = Of("""
            function helper { 1 }
            AxlWorkflow etl -IoHandler json {
                Parameter Count -Default 3
                Parameter -Name Label 'x'
                Parameter Secret -Sensitive
                Step extract { 1 }
                Step -ScriptBlock { param($extract) $extract } -Name load
                Add-AxlStep report -IoHandler text { 'r' }
            }
            New-AxlWorkflow -Name second -Definition { Step only { 1 } }
            """);
        Assert.Equal(new[] { "etl", "second" }, o.Select(w => w.Name));
        Assert.Equal(new[] { "extract", "load", "report" }, o[0].Steps);
        Assert.Equal(new (string, string?)[] { ("Count", "3"), ("Label", "'x'"), ("Secret", null) }, o[0].Parameters);
        Assert.Equal(new[] { "only" }, o[1].Steps);
    }

    [Fact]
    public void Names_computed_at_run_time_are_not_seen_and_a_missing_or_garbled_file_gives_none()
    {
        Assert.Equal(new[] { "fixed" }, Of("AxlWorkflow $name { Step $s { 1 } }\nAxlWorkflow fixed { Step (Get-Name) { 1 }; Step ok { 1 } }").Select(w => w.Name));
        Assert.Equal(new[] { "ok" }, Of("AxlWorkflow fixed { Step (Get-Name) { 1 }; Step ok { 1 } }")[0].Steps);
        Assert.Empty(WorkflowOutline.Read(Path.Combine(Path.GetTempPath(), "axl-no-such-" + Guid.NewGuid().ToString("N") + ".axl.ps1")));
        Assert.Empty(Of("AxlWorkflow {{{ ( Step"));
    }
}
