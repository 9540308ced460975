using System.Management.Automation;
using Axl.Model;

namespace Axl.Cmdlets.Workflows;

/// <summary>
/// The input side shared by cmdlets that act on workflows: AxlWorkflow objects from the pipeline, or workflow
/// files by -Path (wildcards, file:Name) or -LiteralPath (what Get-ChildItem's files bind to, and the
/// WorkflowReference, "file:Name", of a run, job, job result or job spec piped in: the workflow that run ran).
/// </summary>
public abstract class WorkflowInputCmdlet : PSCmdlet
{
    protected const string WorkflowSet = "Workflow";
    protected const string PathSet = "Path";
    protected const string LiteralSet = "LiteralPath";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = WorkflowSet)]
    public AxlWorkflow[] Workflow { get; set; } = Array.Empty<AxlWorkflow>();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    public string[] Path { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralSet)]
    [Alias("PSPath", "LP", "FullName", "WorkflowReference")]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>The workflows of this pipeline record; files that do not load are written as errors and reported to <paramref name="onFailure"/>.</summary>
    protected IEnumerable<AxlWorkflow> InputWorkflows(Action<string>? onFailure = null) => ParameterSetName switch
    {
        PathSet => Path.SelectMany(p => WorkflowPathResolver.Load(this, p, literal: false, onFailure)),
        LiteralSet => LiteralPath.SelectMany(p => WorkflowPathResolver.Load(this, p, literal: true, onFailure)),
        _ => Workflow,
    };
}
