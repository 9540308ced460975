namespace Axl.Runtime;

/// <summary>A run that could not be found, or a run id that names runs of several workflows.</summary>
public sealed class AxlRunNotFoundException(string message, bool ambiguous) : Exception(message)
{
    public bool Ambiguous { get; } = ambiguous;
}

/// <summary>Finds one run by its directory or by its id under a run root: what Export-AxlRunReport and `axl report` take.</summary>
public static class RunLocator
{
    /// <summary>
    /// The run in directory <paramref name="idOrDirectory"/> (one that holds run.json), else the run of that id under
    /// <paramref name="runRoot"/> (of <paramref name="workflow"/> when given), with its live status. Throws
    /// <see cref="AxlRunNotFoundException"/> naming the fix; <paramref name="rootOption"/> and <paramref name="workflowOption"/>
    /// are how the caller's host spells those options (-RunRoot, --run-root).
    /// </summary>
    public static AxlRun Find(string runRoot, string idOrDirectory, string? workflow, string rootOption, string workflowOption)
    {
        if (Directory.Exists(idOrDirectory) && File.Exists(Path.Combine(idOrDirectory, RunStore.RunFile)))
            return RunStore.WithLiveStatus(RunStore.Load(Path.GetFullPath(idOrDirectory)));
        return FindById(runRoot, idOrDirectory, workflow, rootOption, workflowOption, orDirectory: true);
    }

    /// <summary>
    /// The run of that id under <paramref name="runRoot"/> (of <paramref name="workflow"/> when given), with its live
    /// status; <see cref="AxlRunNotFoundException"/> when there is none or the id names runs of several workflows.
    /// <paramref name="orDirectory"/>: the caller also takes a run directory (the messages say so).
    /// </summary>
    public static AxlRun FindById(string runRoot, string runId, string? workflow, string rootOption, string workflowOption, bool orDirectory = false)
    {
        var of = workflow is { Length: > 0 } w ? $" of workflow '{w}'" : "";
        var runs = RunStore.List(runRoot, string.IsNullOrEmpty(workflow) ? null : workflow, runId).ToList();
        return runs.Count switch
        {
            1 => RunStore.WithLiveStatus(runs[0]),
            0 => throw new AxlRunNotFoundException(orDirectory
                ? $"There is no run '{runId}'{of} under {runRoot}, and no run directory of that name. Fix: list runs with Get-AxlRun, give {rootOption} if the runs are kept elsewhere, or give the run's directory."
                : $"There is no run '{runId}'{of} under {runRoot}. Fix: list runs with Get-AxlRun; give {rootOption} if the runs are kept elsewhere.", false),
            _ => throw new AxlRunNotFoundException($"Run id '{runId}' names runs of {runs.Count} workflows under {runRoot} ({string.Join(", ", runs.Select(r => r.Workflow))}). Fix: give {workflowOption}{(orDirectory ? ", or the run's directory" : "")}.", true),
        };
    }
}
