using System.Management.Automation;
using Axl.Model;
using Axl.Serialization;
using Axl.Validation;

namespace Axl.Cmdlets.Workflows;

/// <summary>Writes the IR of a workflow as JSON or YAML: what every back end compiles from.</summary>
[Cmdlet(VerbsData.ConvertTo, "AxlIr", HelpUri = AxlHelp.OnlineBase + "ConvertTo-AxlIr.md")]
[OutputType(typeof(string))]
public sealed class ConvertToAxlIrCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public AxlWorkflow[] Workflow { get; set; } = Array.Empty<AxlWorkflow>();

    [Parameter]
    [ValidateSet("Json", "Yaml")]
    public string Format { get; set; } = "Json";

    /// <summary>Adds the validation diagnostics to the document.</summary>
    [Parameter] public SwitchParameter IncludeDiagnostics { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var wf in Workflow)
        {
            var tree = IrDocument.ToTree(wf, includeLocations: true, IncludeDiagnostics ? WorkflowValidator.Validate(wf) : null);
            WriteObject(Format.Equals("Yaml", StringComparison.OrdinalIgnoreCase) ? IrDocument.ToYaml(tree) : IrDocument.ToJson(tree));
        }
    }
}
