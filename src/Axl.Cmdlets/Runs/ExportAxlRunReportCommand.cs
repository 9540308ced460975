using Axl.Cmdlets.Completion;
using System.Management.Automation;
using Axl.Runtime;
using Axl.Visual;

namespace Axl.Cmdlets.Runs;

/// <summary>
/// Writes a run's report: one self-contained HTML file (no scripts, no network) with the DAG coloured by step status,
/// a timeline of every attempt, each step's duration, output, handler and hash, previews of small outputs, the tail of
/// each failed step's log and the command that resumes the run. Outputs the file.
/// </summary>
/// <remarks>
/// The run comes as an AxlRun (Get-AxlRun | Export-AxlRunReport, Invoke-AxlLocalRun | Export-AxlRunReport), by its
/// identity (-RunId, -Workflow, -RunRoot; bound by property name from jobs, job results and deserialized runs), or by
/// its directory (-RunDirectory).
/// </remarks>
[Cmdlet(VerbsData.Export, "AxlRunReport", DefaultParameterSetName = RunSet, SupportsShouldProcess = true, HelpUri = AxlHelp.OnlineBase + "Export-AxlRunReport.md")]
[OutputType(typeof(FileInfo))]
public sealed class ExportAxlRunReportCommand : PSCmdlet
{
    private const string RunSet = "Run";
    private const string IdSet = "RunId";
    private const string DirectorySet = "RunDirectory";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = RunSet)]
    public AxlRun Run { get; set; } = null!;

    /// <summary>The id of the run (no wildcards); binds the RunId of a job, job result or run piped in.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ArgumentCompleter(typeof(RunIdCompleter))]
    public string RunId { get; set; } = "";

    /// <summary>The run's workflow (needed only when two workflows have runs of that id).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ArgumentCompleter(typeof(WorkflowNameCompleter))]
    public string? Workflow { get; set; }

    /// <summary>Where the run is kept (default $env:AXL_RUN_ROOT, else .axl/runs here).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    public string? RunRoot { get; set; }

    /// <summary>The run's directory (the one that holds run.json).</summary>
    [Parameter(Mandatory = true, ParameterSetName = DirectorySet)]
    public string RunDirectory { get; set; } = "";

    /// <summary>The HTML file to write; default report.html in the run's directory. Only for one run.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    private int _written;

    protected override void ProcessRecord()
    {
        var run = ParameterSetName switch
        {
            IdSet => Find(RunRoot is null ? RunRoots.Default(this) : SessionState.Path.GetUnresolvedProviderPathFromPSPath(RunRoot), RunId, Workflow),
            DirectorySet => Find(RunRoots.Default(this), SessionState.Path.GetUnresolvedProviderPathFromPSPath(RunDirectory), null),
            _ => Run,
        };
        if (run is null) return;
        if (run.Directory.Length == 0 || !Directory.Exists(run.Directory))
        {
            WriteError(new ErrorRecord(new DirectoryNotFoundException($"Run {run.RunId} of '{run.Workflow}' has no directory on this machine ('{run.Directory}'). Fix: report it where it ran, or copy its run directory here and give -RunDirectory."),
                "Axl.RunNotFound", ErrorCategory.ObjectNotFound, run));
            return;
        }
        if (OutFile is not null && _written++ > 0)
        {
            WriteError(new ErrorRecord(new ArgumentException($"-OutFile '{OutFile}' already holds the report of another run; run {run.RunId} is not written. Fix: omit -OutFile (each report goes to its run's directory)."),
                "Axl.OutFileConflict", ErrorCategory.InvalidArgument, run));
            return;
        }
        var path = OutFile is null ? Path.Combine(run.Directory, RunReportWriter.DefaultFileName) : SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile);
        if (!ShouldProcess(path, $"Write the report of run {run.RunId} of '{run.Workflow}'")) return;
        try
        {
            WriteObject(RunReportWriter.Save(run, path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WriteError(new ErrorRecord(new IOException($"Could not write the report '{path}': {ex.Message}", ex), "Axl.OutFileNotWritten", ErrorCategory.WriteError, path));
        }
    }

    private AxlRun? Find(string root, string idOrDirectory, string? workflow)
    {
        if (string.IsNullOrEmpty(idOrDirectory))
        {
            WriteError(new ErrorRecord(new ItemNotFoundException("The object piped in has no run id: its job has not started a run yet. Fix: wait for the job (Wait-AxlJob), then pipe it again."),
                "Axl.RunNotFound", ErrorCategory.ObjectNotFound, null));
            return null;
        }
        try
        {
            return RunLocator.Find(root, idOrDirectory, workflow, "-RunRoot", "-Workflow");
        }
        catch (AxlRunNotFoundException ex)
        {
            WriteError(new ErrorRecord(ex, ex.Ambiguous ? "Axl.RunAmbiguous" : "Axl.RunNotFound", ex.Ambiguous ? ErrorCategory.InvalidArgument : ErrorCategory.ObjectNotFound, idOrDirectory));
            return null;
        }
    }
}
