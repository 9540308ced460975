using System.Collections.Concurrent;
using System.Management.Automation;
using Axl.Delivery;

namespace Axl.Cmdlets.Delivery;

/// <summary>
/// Packs the workflow code into a deterministic tar.gz, uploads it to S3 (or MinIO, Ceph, s3rver) under a key made of
/// its SHA-256, unless the same archive is already there, and outputs its location for code delivery Artifact.
/// </summary>
[Cmdlet(VerbsData.Publish, "AxlWorkflowCode", SupportsShouldProcess = true, HelpUri = AxlHelp.OnlineBase + "Publish-AxlWorkflowCode.md")]
[OutputType(typeof(CodeArchiveLocation))]
public sealed class PublishAxlWorkflowCodeCommand : PSCmdlet
{
    private const int ActivityId = 7310;
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>
    /// The code root: the repository root or the workflow's directory. The current location when omitted. Binds the
    /// CodeRoot of a workflow piped in (Get-AxlWorkflow ... | Publish-AxlWorkflowCode: the folder of its file).
    /// </summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("CodeRoot", "WorkflowPath")]
    public string? Path { get; set; }

    [Parameter(Mandatory = true)]
    public string Bucket { get; set; } = "";

    [Parameter] public string Prefix { get; set; } = CodeArchive.DefaultPrefix;

    [Parameter] public string? Endpoint { get; set; }

    [Parameter] public string? ClusterEndpoint { get; set; }

    [Parameter] public string? Region { get; set; }

    [Parameter] public SwitchParameter ForcePathStyle { get; set; }

    [Parameter] public SwitchParameter UseChunkEncoding { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter] public string? CredentialsSecret { get; set; }

    [Parameter] public string? OutFile { get; set; }

    protected override void StopProcessing() => _cancel.Cancel();

    // Per pipeline record (once when nothing is piped): each workflow piped in publishes its code root.
    protected override void ProcessRecord()
    {
        var root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path ?? SessionState.Path.CurrentFileSystemLocation.ProviderPath);
        // A workflow file (the WorkflowPath of a job or spec piped in) stands for its folder.
        if (File.Exists(root) && root.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase)) root = System.IO.Path.GetDirectoryName(root)!;
        if (!Directory.Exists(root))
        {
            ThrowTerminatingError(new ErrorRecord(new DirectoryNotFoundException($"The code root '{root}' is not a directory. Fix: give -Path the repository root or the workflow's directory."),
                "Axl.PathNotFound", ErrorCategory.ObjectNotFound, root));
            return;
        }
        S3Options options;
        try
        {
            options = new S3Options
            {
                Endpoint = Endpoint,
                ClusterEndpoint = ClusterEndpoint,
                Region = Region,
                Bucket = Bucket,
                Prefix = Prefix,
                ForcePathStyle = ForcePathStyle,
                UseChunkEncoding = UseChunkEncoding,
                AccessKey = Credential?.UserName,
                SecretKey = Credential?.GetNetworkCredential().Password,
                CredentialsSecret = CredentialsSecret,
            };
            if (Endpoint is not null) S3CodeStore.ParseEndpoint(Endpoint);
            if (ClusterEndpoint is not null) S3CodeStore.ParseEndpoint(ClusterEndpoint);
        }
        catch (AxlCodeStoreException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "Axl.InvalidEndpoint", ErrorCategory.InvalidArgument, Endpoint));
            return;
        }

        WriteProgress(new ProgressRecord(ActivityId, "Axl: publishing workflow code", $"Packing {root}"));
        var temp = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "axl-code-" + Guid.NewGuid().ToString("N")[..12] + ".tar.gz");
        try
        {
            CodeArchiveResult archive;
            try
            {
                archive = CodeArchive.CreateFile(root, temp);
            }
            catch (AxlArchiveException ex)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "Axl.CodeArchiveRefused", ErrorCategory.InvalidData, root));
                return;
            }
            var key = CodeArchive.Key(archive.Sha256, Prefix);
            var what = $"{archive.FileCount} file{(archive.FileCount == 1 ? "" : "s")}, {archive.Size} bytes, {archive.Sha256}";
            WriteVerbose($"Archive of {root}: {what}.");
            foreach (var s in archive.Skipped) WriteWarning($"Not archived (not a regular file): {s}");

            if (OutFile is not null)
            {
                var outFile = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile);
                if (ShouldProcess(outFile, $"Save the code archive ({what})"))
                {
                    Directory.CreateDirectory(System.IO.Path.GetDirectoryName(outFile)!);
                    File.Copy(temp, outFile, overwrite: true);
                    WriteVerbose($"Archive saved to {outFile}.");
                }
            }

            var target = $"s3://{Bucket}/{key}{(Endpoint is null ? "" : " at " + Endpoint)}";
            if (!ShouldProcess(target, $"Upload the code archive of {root} ({what})"))
                return;

            var events = new BlockingCollection<S3TransferProgress>();
            var task = Task.Run(async () =>
            {
                try { return await S3CodeStore.UploadAsync(temp, key, options, new Progress(events), _cancel.Token).ConfigureAwait(false); }
                finally { events.CompleteAdding(); }
            });
            foreach (var p in events.GetConsumingEnumerable())
            {
                WriteProgress(new ProgressRecord(ActivityId, "Axl: publishing workflow code", $"Uploading to {target}: {p.Transferred} of {p.Total} bytes")
                {
                    PercentComplete = p.Total <= 0 ? 100 : (int)Math.Min(100, p.Transferred * 100 / p.Total),
                });
            }
            S3UploadResult upload;
            try
            {
                upload = task.GetAwaiter().GetResult();
            }
            catch (AxlCodeStoreException ex)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "Axl.CodeUploadFailed", ErrorCategory.ConnectionError, target));
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            WriteVerbose(upload.Uploaded ? $"Uploaded {target}." : $"{target} already holds this archive ({archive.Sha256}); not uploaded again.");
            WriteObject(S3CodeStore.LocationOf(options, key, archive.Sha256, root));
        }
        finally
        {
            WriteProgress(new ProgressRecord(ActivityId, "Axl: publishing workflow code", "Done") { RecordType = ProgressRecordType.Completed });
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Hands progress from the SDK's threads to the pipeline thread.</summary>
    private sealed class Progress(BlockingCollection<S3TransferProgress> events) : IProgress<S3TransferProgress>
    {
        public void Report(S3TransferProgress value)
        {
            try { events.TryAdd(value); }
            catch (InvalidOperationException) { } // the upload has finished
        }
    }
}
