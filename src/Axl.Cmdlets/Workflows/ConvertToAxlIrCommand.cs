using System.Management.Automation;
using Axl.Model;
using Axl.Serialization;
using Axl.Validation;

namespace Axl.Cmdlets.Workflows;

/// <summary>Writes the IR of a workflow (an AxlWorkflow, or workflow files as the other workflow cmdlets take them) as JSON or YAML: what every back end compiles from.</summary>
[Cmdlet(VerbsData.ConvertTo, "AxlIr", DefaultParameterSetName = WorkflowSet, HelpUri = AxlHelp.OnlineBase + "ConvertTo-AxlIr.md")]
[OutputType(typeof(string))]
public sealed class ConvertToAxlIrCommand : WorkflowInputCmdlet
{
    [Parameter]
    [ValidateSet("Json", "Yaml")]
    public string Format { get; set; } = "Json";

    /// <summary>Adds the validation diagnostics to the document.</summary>
    [Parameter] public SwitchParameter IncludeDiagnostics { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var wf in InputWorkflows())
        {
            var tree = IrDocument.ToTree(wf, includeLocations: true, IncludeDiagnostics ? WorkflowValidator.Validate(wf) : null);
            WriteObject(Format.Equals("Yaml", StringComparison.OrdinalIgnoreCase) ? IrDocument.ToYaml(tree) : IrDocument.ToJson(tree));
        }
    }
}
