using System.Management.Automation;
using Axl.IO;
using Axl.Runtime;

namespace Axl.Cmdlets.Runs;

/// <summary>Loads a step's output of a run back as an object through its IO handler (or gives its path).</summary>
[Cmdlet(VerbsCommon.Get, "AxlArtifact")]
[OutputType(typeof(object))]
public sealed class GetAxlArtifactCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public AxlRun Run { get; set; } = null!;

    /// <summary>The step(s) whose output to load; all succeeded steps when omitted.</summary>
    [Parameter(Position = 1)]
    public string[]? Step { get; set; }

    /// <summary>Output the artifact file path instead of loading it.</summary>
    [Parameter] public SwitchParameter AsPath { get; set; }

    protected override void ProcessRecord()
    {
        var names = Step ?? Run.Steps.Where(s => s.Status == StepStatus.Succeeded).Select(s => s.Name).ToArray();
        foreach (var name in names)
        {
            var step = Run.GetStep(name);
            if (step is null)
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"Run {Run.RunId} of '{Run.Workflow}' has no step '{name}'. Steps: {string.Join(", ", Run.Steps.Select(s => s.Name))}."),
                    "Axl.StepNotFound", ErrorCategory.ObjectNotFound, name));
                continue;
            }
            if (step.Status != StepStatus.Succeeded)
            {
                WriteError(new ErrorRecord(new InvalidOperationException($"Step '{step.Name}' of run {Run.RunId} has no output: it is {step.Status.ToString().ToLowerInvariant()}{(step.Error is null ? "" : ": " + step.Error.Message)}{(step.SkipReason is null ? "" : " (" + step.SkipReason + ")")}."),
                    "Axl.ArtifactUnavailable", ErrorCategory.ResourceUnavailable, step));
                continue;
            }
            try
            {
                if (AsPath) WriteObject(ArtifactIO.DataPath(step.Directory));
                else WriteObject(Run.GetOutput(name), enumerateCollection: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or InvalidDataException)
            {
                WriteError(new ErrorRecord(ex, "Axl.ArtifactUnavailable", ErrorCategory.ReadError, step));
            }
        }
    }
}
