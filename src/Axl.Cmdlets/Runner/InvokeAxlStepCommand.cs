using System.Management.Automation;
using Axl.Delivery;
using Axl.Dsl;
using Axl.Model;
using Axl.Runner;

namespace Axl.Cmdlets.Runner;

/// <summary>The runner through the module: runs one step from its IO manifest, exactly as `axl step` does in a container.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "AxlStep", DefaultParameterSetName = FileSet, SupportsShouldProcess = true, HelpUri = AxlHelp.OnlineBase + "Invoke-AxlStep.md")]
[OutputType(typeof(StepRunOutcome))]
public sealed class InvokeAxlStepCommand : PSCmdlet
{
    private const string FileSet = "Manifest";
    private const string JsonSet = "ManifestJson";
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>Path of the manifest file.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = FileSet)]
    [Alias("FullName", "PSPath")]
    public string Manifest { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = JsonSet)]
    public string ManifestJson { get; set; } = "";

    /// <summary>Where the workflow code is; overrides the manifest's workDir.</summary>
    [Parameter] public string? WorkDir { get; set; }

    /// <summary>A code archive to extract into the work dir first (code delivery Artifact).</summary>
    [Parameter] public string? WorkflowArchive { get; set; }

    [Parameter] public TimeSpan? KillGrace { get; set; }

    /// <summary>The SHA-256 the archive must have, when the manifest pins none (running an archive by hand).</summary>
    [Parameter] public string? WorkflowArchiveSha256 { get; set; }

    /// <summary>The most file content the archive may extract to (default 1 GiB, or AXL_MAX_EXTRACT_BYTES).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long? MaxExtractBytes { get; set; }

    /// <summary>The most entries the archive may hold (default 100,000, or AXL_MAX_EXTRACT_ENTRIES).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? MaxExtractEntries { get; set; }

    protected override void ProcessRecord()
    {
        StepManifest manifest;
        string origin;
        try
        {
            if (ParameterSetName == JsonSet)
            {
                origin = "-ManifestJson";
                manifest = StepManifest.Parse(ManifestJson, origin);
            }
            else
            {
                origin = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Manifest);
                if (!File.Exists(origin)) throw new AxlManifestException($"manifest file '{origin}' does not exist.");
                manifest = StepManifest.Parse(File.ReadAllText(origin), origin);
            }
        }
        catch (AxlManifestException ex)
        {
            WriteError(new ErrorRecord(ex, "Axl.BadManifest", ErrorCategory.InvalidData, ParameterSetName == JsonSet ? ManifestJson : Manifest));
            return;
        }
        if (WorkDir is not null) manifest = manifest with { WorkDir = SessionState.Path.GetUnresolvedProviderPathFromPSPath(WorkDir) };
        if (!ShouldProcess($"step '{manifest.Step}' of workflow '{manifest.Workflow}'", "Run from its manifest")) return;

        var archive = WorkflowArchive is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(WorkflowArchive);
        CodeArchiveLimits limits;
        try
        {
            limits = CodeArchiveLimits.Resolve(MaxExtractBytes, MaxExtractEntries);
        }
        catch (AxlArchiveException ex)
        {
            WriteError(new ErrorRecord(ex, "Axl.InvalidExtractLimit", ErrorCategory.InvalidArgument, null));
            return;
        }
        var lines = new List<RunnerLogLine>();
        var outcome = ManifestStepRun.Run(manifest, archive, file =>
        {
            try
            {
                return (WorkflowLoader.Load(SessionState, file), Array.Empty<string>());
            }
            catch (AxlLoadException ex)
            {
                return (Array.Empty<AxlWorkflow>(), new[] { ex.Message });
            }
        }, line => { lock (lines) lines.Add(line); }, _cancel.Token, KillGrace, Runs.StepPreferencesOf.Get(this), new CodeArchiveCheck(WorkflowArchiveSha256, limits));
        // Log lines may come from step threads: write them here, on the pipeline thread; what the step wrote on a
        // stream goes to that stream.
        var streams = new Runs.StepStreamWriter(this);
        foreach (var line in lines)
            if (line.Record is { } record) streams.Write(line.Step ?? manifest.Step, record);
            else WriteInformation(new InformationRecord(line.ToJson(), "axl") { Tags = { "axl-log" } });
        if (outcome.ExitCode != RunnerExitCodes.Success)
            WriteError(new ErrorRecord(new InvalidOperationException($"step '{outcome.Step}' of '{outcome.Workflow}' {outcome.Status.ToLowerInvariant()} ({ManifestStepRun.Kind(outcome.Error!.Kind)} error, runner exit code {outcome.ExitCode}): {outcome.Error}"),
                outcome.ExitCode == RunnerExitCodes.Infrastructure ? "Axl.StepInfrastructureFailure" : "Axl.StepFailed",
                outcome.ExitCode == RunnerExitCodes.Infrastructure ? ErrorCategory.ResourceUnavailable : ErrorCategory.InvalidResult, manifest.Step));
        WriteObject(outcome);
    }

    protected override void StopProcessing() => _cancel.Cancel();
}
