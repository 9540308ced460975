using Axl.Cmdlets.Completion;
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

    /// <summary>The step(s) whose output to load; all succeeded steps when omitted. Wildcards select among the succeeded steps.</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(StepNameCompleter))]
    public string[]? Step { get; set; }

    /// <summary>Output the artifact file path instead of loading it.</summary>
    [Parameter] public SwitchParameter AsPath { get; set; }

    protected override void ProcessRecord()
    {
        // A name without wildcards is taken as it is (a step that is missing or has no output is an error); names with
        // wildcards, like no name at all, select among the steps that have an output.
        var names = (Step ?? new[] { "*" }).SelectMany(n => WildcardPattern.ContainsWildcardCharacters(n)
                ? Run.Steps.Where(s => s.Status == StepStatus.Succeeded && WildcardPattern.Get(n, WildcardOptions.IgnoreCase).IsMatch(s.Name)).Select(s => s.Name)
                : new[] { n })
            .Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
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
