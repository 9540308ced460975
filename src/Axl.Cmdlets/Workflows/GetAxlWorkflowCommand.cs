using System.Management.Automation;
using Axl.Model;

namespace Axl.Cmdlets.Workflows;

/// <summary>Loads workflow scripts (file.axl.ps1[:Name]) and outputs one AxlWorkflow (the IR) per workflow defined.</summary>
[Cmdlet(VerbsCommon.Get, "AxlWorkflow", DefaultParameterSetName = PathSet, HelpUri = AxlHelp.OnlineBase + "Get-AxlWorkflow.md")]
[OutputType(typeof(AxlWorkflow))]
public sealed class GetAxlWorkflowCommand : PSCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralSet = "LiteralPath";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Paths taken as they are (no wildcards); what Get-ChildItem's FileInfo objects bind to, and the WorkflowReference ("file:Name") of a run, job or job spec piped in.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralSet)]
    [Alias("PSPath", "LP", "FullName", "WorkflowReference")]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Keeps only workflows whose name matches (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    private bool VerboseShown() =>
        MyInvocation.BoundParameters.TryGetValue("Verbose", out var v) ? ((SwitchParameter)v).IsPresent
            : GetVariableValue("VerbosePreference") is ActionPreference p && p != ActionPreference.SilentlyContinue && p != ActionPreference.Ignore;

    // One filter for the whole pipeline: a -Name that no file piped in defines is reported once, at the end.
    private NameFilter? _names;

    protected override void BeginProcessing() => _names = new NameFilter(Name);

    protected override void EndProcessing()
    {
        // Only when some file loaded: a file that failed has written its own error already.
        if (_inputs.Count == 0) return;
        var files = _inputs.Count <= 3 ? string.Join(", ", _inputs) : $"{_inputs.Count} files ({string.Join(", ", _inputs.Take(3))}, ...)";
        foreach (var name in _names!.Unmatched)
            WriteError(new ErrorRecord(new ItemNotFoundException($"No workflow named '{name}' is defined in {files}. Fix: list the workflows of the file(s) with Get-AxlWorkflow (without -Name)."),
                "Axl.WorkflowNotFound", ErrorCategory.ObjectNotFound, name));
    }

    private readonly List<string> _inputs = new();

    protected override void ProcessRecord()
    {
        var literal = ParameterSetName == LiteralSet;
        foreach (var input in literal ? LiteralPath : Path)
            foreach (var wf in WorkflowPathResolver.Load(this, input, literal))
            {
                if (!_inputs.Contains(wf.SourceFile ?? input)) _inputs.Add(wf.SourceFile ?? input);
                if (!_names!.IsMatch(wf.Name)) continue;
                // The hash reads every file of the code root: only when the message is shown (step hosts load quietly).
                if (VerboseShown()) WriteVerbose($"Loaded workflow '{wf.Name}' ({wf.StepCount} steps, {wf.ShortHash}) from {wf.SourceFile}.");
                WriteObject(wf);
            }
    }
}
