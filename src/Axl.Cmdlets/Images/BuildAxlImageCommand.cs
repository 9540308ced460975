using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Management.Automation;
using Axl.Cmdlets.Workflows;
using Axl.Delivery;
using Axl.Images;
using Axl.Jobs;
using Axl.Model;

namespace Axl.Cmdlets.Images;

/// <summary>
/// Bakes a workflow into a container image: its code, its locked dependencies and (optionally) the axl command, built
/// through the Docker Engine API (Docker or Podman) and pushed when asked. All decisions are in Axl.Images.
/// </summary>
[Cmdlet("Build", "AxlImage", SupportsShouldProcess = true, DefaultParameterSetName = WorkflowSet, HelpUri = AxlHelp.OnlineBase + "Build-AxlImage.md")]
[OutputType(typeof(ImageBuildResult), typeof(ImageContext))]
public sealed class BuildAxlImageCommand : WorkflowInputCmdlet
{
    private const int ActivityId = 7320;
    private readonly CancellationTokenSource _cancel = new();

    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Tag { get; set; } = "";

    [Parameter] public string? BaseImage { get; set; }

    [Parameter] public string? CodeRoot { get; set; }

    /// <summary>Copy an axl build into the image (for base images without axl): the folder, or the one this module uses when the switch -IncludeRunner is given.</summary>
    [Parameter] public string? RunnerPath { get; set; }

    [Parameter] public SwitchParameter IncludeRunner { get; set; }

    [Parameter] public SwitchParameter Push { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter] public string? DockerHost { get; set; }

    [Parameter] public string? Platform { get; set; }

    [Parameter] public SwitchParameter NoCache { get; set; }

    [Parameter] public Hashtable? Label { get; set; }

    /// <summary>Write the build context (a tar with the Dockerfile) to this file instead of building.</summary>
    [Parameter] public string? ContextPath { get; set; }

    protected override void StopProcessing() => _cancel.Cancel();

    protected override void ProcessRecord()
    {
        foreach (var wf in InputWorkflows())
        {
            try
            {
                BuildOne(wf);
            }
            catch (PipelineStoppedException)
            {
                throw;
            }
            catch (AxlImageException ex)
            {
                WriteError(new ErrorRecord(ex, ex.Id, Category(ex.Id), wf));
            }
            catch (AxlArchiveException ex)
            {
                WriteError(new ErrorRecord(ex, "Axl.CodeArchiveRefused", ErrorCategory.InvalidData, wf));
            }
            catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
            {
                return;
            }
            finally
            {
                WriteProgress(new ProgressRecord(ActivityId, "Axl: building image", "Done") { RecordType = ProgressRecordType.Completed });
            }
        }
    }

    private void BuildOne(AxlWorkflow wf)
    {
        var options = new ImageBuildOptions
        {
            Tag = Tag,
            BaseImage = BaseImage,
            CodeRoot = CodeRoot is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CodeRoot),
            RunnerDirectory = RunnerPath is not null ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(RunnerPath)
                : IncludeRunner ? System.IO.Path.GetDirectoryName(RunnerCli()) : null,
            Labels = Labels(),
            NoCache = NoCache,
            Platform = Platform,
            DockerHost = DockerHost,
            Push = Push,
            Credential = Credential is null ? null : new RegistryCredential(Credential.UserName, Credential.GetNetworkCredential().Password),
        };
        ImageReference.Validate(Tag);

        WriteProgress(new ProgressRecord(ActivityId, "Axl: building image", $"Making the build context of '{wf.Name}'"));
        var context = ImageContext.Create(wf, options);
        var summary = $"workflow '{wf.Name}' ({wf.ShortHash}), {context.FileCount} files, {context.Tar.Length} bytes, {context.Dependencies}, on {context.BaseImage}";
        WriteVerbose($"Build context {context.Sha256}: {summary}.");
        foreach (var w in context.Warnings) WriteWarning(w);
        foreach (var s in context.Skipped) WriteWarning($"Not in the image (not a regular file): {s}");

        if (ContextPath is not null)
        {
            var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(ContextPath);
            if (ShouldProcess(file, $"Write the build context of {summary}"))
            {
                context.Save(file);
                WriteObject(context);
            }
            return;
        }

        var action = Push ? $"Build and push the image of {summary}" : $"Build the image of {summary}";
        if (!ShouldProcess(Tag, action)) return;

        // The build runs on a worker thread; its events come back here, where Write-Progress may be called.
        var events = new BlockingCollection<ImageBuildEvent>();
        var task = Task.Run(async () =>
        {
            try
            {
                using var engine = await DockerEngine.ConnectAsync(DockerHost, _cancel.Token).ConfigureAwait(false);
                events.Add(new ImageBuildEvent(ImageBuildEvent.Build, $"Engine: {engine}"));
                return await ImageBuilder.BuildAsync(engine, wf, context, options, new Reporter(events), _cancel.Token).ConfigureAwait(false);
            }
            finally
            {
                events.CompleteAdding();
            }
        });
        foreach (var e in events.GetConsumingEnumerable())
        {
            WriteVerbose(e.Message);
            var record = new ProgressRecord(ActivityId, $"Axl: {(e.Phase == ImageBuildEvent.Push ? "pushing" : "building")} {Tag}", Shorten(e.Message));
            if (e.PercentComplete is { } p) record.PercentComplete = p;
            WriteProgress(record);
        }
        var result = task.GetAwaiter().GetResult();
        WriteVerbose(result.Pushed ? $"Pushed {result.Reference}." : $"Built {result.Tag} ({result.ImageId}).");
        WriteObject(result);
    }

    /// <summary>The axl build this module belongs to (artifacts/cli in a built repository, or $AXL_CLI).</summary>
    private string RunnerCli()
    {
        try
        {
            return LocalJobTarget.FindCli();
        }
        catch (FileNotFoundException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "Axl.RunnerNotFound", ErrorCategory.ObjectNotFound, null));
            throw;
        }
    }

    private Dictionary<string, string> Labels()
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Label is null) return labels;
        foreach (DictionaryEntry e in Label)
            labels[Convert.ToString(e.Key, CultureInfo.InvariantCulture)!] = Convert.ToString(e.Value is PSObject p ? p.BaseObject : e.Value, CultureInfo.InvariantCulture) ?? "";
        return labels;
    }

    private static string Shorten(string s) => s.Length <= 200 ? (s.Length == 0 ? " " : s) : s[..197] + "...";

    private static ErrorCategory Category(string id) => id switch
    {
        ImageErrorIds.EngineUnavailable => ErrorCategory.ConnectionError,
        ImageErrorIds.InvalidTag => ErrorCategory.InvalidArgument,
        ImageErrorIds.InvalidContext => ErrorCategory.InvalidData,
        ImageErrorIds.PushFailed => ErrorCategory.ConnectionError,
        _ => ErrorCategory.InvalidOperation,
    };

    private sealed class Reporter(BlockingCollection<ImageBuildEvent> events) : IProgress<ImageBuildEvent>
    {
        public void Report(ImageBuildEvent value) => events.Add(value);
    }
}
