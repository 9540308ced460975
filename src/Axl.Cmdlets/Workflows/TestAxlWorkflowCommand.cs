using System.Management.Automation;
using Axl.Model;
using Axl.Validation;

namespace Axl.Cmdlets.Workflows;

/// <summary>Validates workflows and outputs every diagnostic (file, line, step, fix); -Quiet outputs one bool per workflow.</summary>
[Cmdlet(VerbsDiagnostic.Test, "AxlWorkflow", DefaultParameterSetName = "Workflow", HelpUri = AxlHelp.OnlineBase + "Test-AxlWorkflow.md")]
[OutputType(typeof(AxlDiagnostic), typeof(bool))]
public sealed class TestAxlWorkflowCommand : WorkflowInputCmdlet
{
    /// <summary>Outputs $true when a workflow has no errors, $false otherwise, instead of the diagnostics.</summary>
    [Parameter] public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var wf in InputWorkflows(Failed))
        {
            var diagnostics = WorkflowValidator.Validate(wf);
            var errors = diagnostics.Count(d => d.IsError);
            WriteVerbose(errors == 0
                ? $"Workflow '{wf.Name}' is valid ({wf.StepCount} steps, {wf.EdgeCount} edges, {wf.ShortHash})."
                : $"Workflow '{wf.Name}' has {errors} error(s).");
            if (Quiet) WriteObject(errors == 0);
            else foreach (var d in diagnostics) WriteObject(d);
        }
    }

    /// <summary>A file that does not load is not valid: -Quiet says $false for it (its error is written too).</summary>
    private void Failed(string file)
    {
        if (Quiet) WriteObject(false);
    }
}
