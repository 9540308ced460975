using Axl.Cmdlets.Completion;
using System.Management.Automation;
using Axl.IO;
using Axl.Runtime;

namespace Axl.Cmdlets.Runs;

/// <summary>
/// Loads a step's output of a run back as an object through its IO handler (or gives its path). With -Step, the values
/// themselves; without it, one AxlStepArtifact per step, which says which step each value came from.
/// </summary>
/// <remarks>
/// The run comes as an AxlRun (-Run, Get-AxlRun | Get-AxlArtifact), or by its identity (-RunId, -Workflow, -RunRoot),
/// which binds by property name from anything that carries it: a job result (Wait-AxlJob, Receive-Job), an AxlJob,
/// an experiment's job or report row, or a deserialized run (Start-Job, remoting).
/// </remarks>
[Cmdlet(VerbsCommon.Get, "AxlArtifact", DefaultParameterSetName = RunSet, HelpUri = AxlHelp.OnlineBase + "Get-AxlArtifact.md")]
[OutputType(typeof(AxlStepArtifact), typeof(object))]
public sealed class GetAxlArtifactCommand : PSCmdlet
{
    private const string RunSet = "Run";
    private const string IdSet = "RunId";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = RunSet)]
    public AxlRun Run { get; set; } = null!;

    /// <summary>The id of the run (no wildcards); binds the RunId of a job, job result or run piped in.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ArgumentCompleter(typeof(RunIdCompleter))]
    public string RunId { get; set; } = "";

    /// <summary>The run's workflow (narrows the look-up; needed only when two workflows have runs of that id).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ArgumentCompleter(typeof(WorkflowNameCompleter))]
    public string? Workflow { get; set; }

    /// <summary>Where the run is kept (default $env:AXL_RUN_ROOT, else .axl/runs here).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    public string? RunRoot { get; set; }

    /// <summary>The step(s) whose output to load; all succeeded steps when omitted. Wildcards select among the succeeded steps.</summary>
    [Parameter(Position = 1, ParameterSetName = RunSet)]
    [Parameter(Position = 0, ParameterSetName = IdSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(StepNameCompleter))]
    public string[]? Step { get; set; }

    /// <summary>Output the artifact file path instead of loading it.</summary>
    [Parameter] public SwitchParameter AsPath { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == IdSet)
        {
            if (FindRun() is not { } found) return;
            Run = found;
        }
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
                else if (Step is null) WriteObject(Run.GetArtifact(name));
                else WriteObject(Run.GetOutput(name), enumerateCollection: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or InvalidDataException)
            {
                WriteError(new ErrorRecord(ex, "Axl.ArtifactUnavailable", ErrorCategory.ReadError, step));
            }
        }
    }

    /// <summary>The run named by -RunId (and -Workflow) under the run root, or null after writing why there is none.</summary>
    private AxlRun? FindRun()
    {
        var root = RunRoot is null ? RunRoots.Default(this) : SessionState.Path.GetUnresolvedProviderPathFromPSPath(RunRoot);
        var of = Workflow is { Length: > 0 } w ? $" of workflow '{w}'" : "";
        if (string.IsNullOrEmpty(RunId))
        {
            WriteError(new ErrorRecord(new ItemNotFoundException($"The object piped in has no run id{of}: its job has not started a run yet. Fix: wait for the job (Wait-AxlJob), then pipe it again."),
                "Axl.RunNotFound", ErrorCategory.ObjectNotFound, null));
            return null;
        }
        try
        {
            return RunLocator.FindById(root, RunId, Workflow, "-RunRoot", "-Workflow");
        }
        catch (AxlRunNotFoundException ex)
        {
            WriteError(new ErrorRecord(ex, ex.Ambiguous ? "Axl.RunAmbiguous" : "Axl.RunNotFound", ex.Ambiguous ? ErrorCategory.InvalidArgument : ErrorCategory.ObjectNotFound, RunId));
            return null;
        }
    }
}
