using System.Management.Automation;
using Axl.Model;

namespace Axl.Cmdlets.Workflows;

/// <summary>Loads workflow scripts (file.axl.ps1[:Name]) and outputs one AxlWorkflow (the IR) per workflow defined.</summary>
[Cmdlet(VerbsCommon.Get, "AxlWorkflow", DefaultParameterSetName = PathSet)]
[OutputType(typeof(AxlWorkflow))]
public sealed class GetAxlWorkflowCommand : PSCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralSet = "LiteralPath";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Paths taken as they are (no wildcards); what Get-ChildItem's FileInfo objects bind to.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralSet)]
    [Alias("PSPath", "LP", "FullName")]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Keeps only workflows whose name matches (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    private bool VerboseShown() =>
        MyInvocation.BoundParameters.TryGetValue("Verbose", out var v) ? ((SwitchParameter)v).IsPresent
            : GetVariableValue("VerbosePreference") is ActionPreference p && p != ActionPreference.SilentlyContinue && p != ActionPreference.Ignore;

    protected override void ProcessRecord()
    {
        var literal = ParameterSetName == LiteralSet;
        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var input in literal ? LiteralPath : Path)
            foreach (var wf in WorkflowPathResolver.Load(this, input, literal))
            {
                if (patterns is not null && !patterns.Any(p => p.IsMatch(wf.Name))) continue;
                // The hash reads every file of the code root: only when the message is shown (step hosts load quietly).
                if (VerboseShown()) WriteVerbose($"Loaded workflow '{wf.Name}' ({wf.StepCount} steps, {wf.ShortHash}) from {wf.SourceFile}.");
                WriteObject(wf);
            }
    }
}
