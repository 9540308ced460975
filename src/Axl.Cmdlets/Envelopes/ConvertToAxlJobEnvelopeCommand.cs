using Axl.Cmdlets.Completion;
using System.Collections;
using System.Management.Automation;
using Axl.Cmdlets.Workflows;
using Axl.Jobs.Envelopes;

namespace Axl.Cmdlets.Envelopes;

/// <summary>
/// Turns workflows of command steps into job envelopes (seed 003): one task per step in dependency order, -Stdin as
/// input_from_task, -Timeout as timeout_secs. A new job_id per envelope; plan_id is the workflow hash.
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "AxlJobEnvelope", DefaultParameterSetName = "Workflow", HelpUri = AxlHelp.OnlineBase + "ConvertTo-AxlJobEnvelope.md")]
[OutputType(typeof(JobEnvelope), typeof(string))]
public sealed class ConvertToAxlJobEnvelopeCommand : WorkflowInputCmdlet
{
    /// <summary>Values of workflow parameters placed in the arguments (defaults apply to the rest).</summary>
    [Parameter] [ArgumentCompleter(typeof(WorkflowParameterCompleter))] public Hashtable? Parameters { get; set; }

    /// <summary>The job id to use instead of a new uuid (one workflow at a time).</summary>
    [Parameter] public string? JobId { get; set; }

    /// <summary>Outputs the envelope as JSON text instead of the object.</summary>
    [Parameter] public SwitchParameter AsJson { get; set; }

    /// <summary>The task limit the envelope is checked against (default 100, as the spec's deployments).</summary>
    [Parameter] [ValidateRange(1, int.MaxValue)] public int MaxTasks { get; set; } = 100;

    protected override void ProcessRecord()
    {
        foreach (var wf in InputWorkflows())
        {
            JobEnvelopeBuildResult r;
            try
            {
                r = JobEnvelopeBuilder.FromWorkflow(wf, Parameters, JobId);
            }
            catch (JobEnvelopeException ex)
            {
                WriteError(new ErrorRecord(ex, "Axl.JobEnvelopeUnsupported", ErrorCategory.InvalidData, wf));
                continue;
            }
            foreach (var w in r.Warnings) WriteWarning(w);
            var errors = JobEnvelopeValidator.Validate(r.Envelope, MaxTasks).Where(d => d.IsError).ToList();
            if (errors.Count > 0)
            {
                foreach (var d in errors) WriteError(AxlErrors.FromDiagnostic(d, wf));
                continue;
            }
            WriteVerbose($"Workflow '{wf.Name}': job {r.Envelope.JobId}, {r.Envelope.Tasks.Count} task(s) ({string.Join(", ", r.StepNames)}).");
            WriteObject(AsJson ? r.Envelope.ToJson() : r.Envelope);
        }
    }
}
