using System.Management.Automation;
using Axl.Jobs.Envelopes;
using Axl.Validation;

namespace Axl.Cmdlets.Envelopes;

/// <summary>
/// Checks job envelopes against the client-side rules of seed 003 and the schema's limits, and outputs every
/// diagnostic (as Test-AxlWorkflow does); -Quiet outputs one bool per envelope. v0.1 envelopes are read with a warning.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "AxlJobEnvelope", DefaultParameterSetName = "Envelope", HelpUri = AxlHelp.OnlineBase + "Test-AxlJobEnvelope.md")]
[OutputType(typeof(AxlDiagnostic), typeof(bool))]
public sealed class TestAxlJobEnvelopeCommand : PSCmdlet
{
    /// <summary>An envelope object (ConvertTo-AxlJobEnvelope) or envelope JSON text.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "Envelope")]
    public object[] Envelope { get; set; } = Array.Empty<object>();

    /// <summary>Envelope JSON files.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "Path")]
    [Alias("PSPath", "FullName")]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>The task limit (default 100).</summary>
    [Parameter] [ValidateRange(1, int.MaxValue)] public int MaxTasks { get; set; } = 100;

    /// <summary>Outputs $true when an envelope has no errors, $false otherwise, instead of the diagnostics.</summary>
    [Parameter] public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Path")
        {
            foreach (var p in Path)
            {
                foreach (var file in GetResolvedProviderPathFromPSPath(p, out _))
                {
                    byte[] text;
                    try { text = File.ReadAllBytes(file); }
                    catch (IOException ex) { WriteError(new ErrorRecord(ex, "Axl.JobEnvelopeNotReadable", ErrorCategory.ReadError, file)); if (Quiet) WriteObject(false); continue; }
                    Emit(JobEnvelopeValidator.ValidateJson(text, MaxTasks), file);
                }
            }
            return;
        }
        foreach (var item in Envelope)
        {
            var value = item is PSObject pso ? pso.BaseObject : item;
            switch (value)
            {
                case JobEnvelope e: Emit(JobEnvelopeValidator.Validate(e, MaxTasks), e.JobId); break;
                case string json: Emit(JobEnvelopeValidator.ValidateJson(json, MaxTasks), "JSON text"); break;
                default:
                    WriteError(new ErrorRecord(new ArgumentException($"Test-AxlJobEnvelope takes a JobEnvelope object or envelope JSON text, not {value?.GetType().Name ?? "null"}."),
                        "Axl.JobEnvelopeInput", ErrorCategory.InvalidArgument, value));
                    if (Quiet) WriteObject(false);
                    break;
            }
        }
    }

    private void Emit(IReadOnlyList<AxlDiagnostic> diagnostics, string what)
    {
        foreach (var w in diagnostics.Where(d => !d.IsError)) WriteWarning(w.Message);
        var errors = diagnostics.Where(d => d.IsError).ToList();
        WriteVerbose(errors.Count == 0 ? $"Envelope {what} is valid." : $"Envelope {what} has {errors.Count} error(s).");
        if (Quiet) WriteObject(errors.Count == 0);
        else foreach (var d in diagnostics) WriteObject(d);
    }
}
