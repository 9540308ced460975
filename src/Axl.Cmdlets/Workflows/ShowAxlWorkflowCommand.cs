using System.Management.Automation;
using Axl.Model;
using Axl.Runtime;
using Axl.Visual;

namespace Axl.Cmdlets.Workflows;

/// <summary>
/// Draws a workflow's DAG as Mermaid (for Markdown), Graphviz DOT, or SVG laid out by MSAGL: steps with their kind and IO
/// handler, conditions and retries, parameters, edges labelled with the input they feed. Large workflows are summarised.
/// </summary>
[Cmdlet(VerbsCommon.Show, "AxlWorkflow", DefaultParameterSetName = WorkflowSet, SupportsShouldProcess = true, HelpUri = AxlHelp.OnlineBase + "Show-AxlWorkflow.md")]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ShowAxlWorkflowCommand : WorkflowInputCmdlet
{
    [Parameter]
    [ValidateSet("Mermaid", "Dot", "Svg")]
    public string Format { get; set; } = "Mermaid";

    /// <summary>Writes the picture to this file (atomically) and outputs the file; without it the text is output.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    /// <summary>Steps above which chains and fan-outs are grouped (default 150).</summary>
    [Parameter]
    [ValidateRange(1, 100_000)]
    public int SummariseAbove { get; set; } = WorkflowPicture.DefaultSummaryThreshold;

    private int _written;

    protected override void ProcessRecord()
    {
        foreach (var wf in InputWorkflows())
        {
            if (OutFile is not null && _written++ > 0)
            {
                WriteError(new ErrorRecord(new ArgumentException($"-OutFile '{OutFile}' already holds the picture of another workflow; '{wf.Name}' is not written. Fix: pick one workflow (Get-AxlWorkflow -Name), or omit -OutFile and save each picture yourself."),
                    "Axl.OutFileConflict", ErrorCategory.InvalidArgument, wf));
                continue;
            }
            var text = PictureFormat.Render(wf, Format, SummariseAbove);
            if (OutFile is null)
            {
                WriteObject(text);
                continue;
            }
            var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile);
            if (!ShouldProcess(path, $"Write the {Format} picture of workflow '{wf.Name}'")) continue;
            try
            {
                RunStore.WriteAtomic(path, text, durable: false);
                WriteObject(new FileInfo(path));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(new IOException($"Could not write '{path}': {ex.Message}", ex), "Axl.OutFileNotWritten", ErrorCategory.WriteError, path));
            }
        }
    }
}
