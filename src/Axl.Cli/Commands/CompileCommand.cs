using System.Globalization;
using System.Text;
using System.Text.Json;
using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Delivery;
using Axl.Runtime;

namespace Axl.Cli.Commands;

/// <summary>axl compile --target argo [options] file.axl.ps1[:Name]: the workflow as an Argo Workflow or WorkflowTemplate (ArgoCompiler).</summary>
public sealed class CompileCommand : ICliCommand
{
    public string Name => "compile";
    public string Summary => "compile a workflow for a back end: 'axl compile --target argo flow.axl.ps1'";
    public IReadOnlyCollection<string> Flags { get; } = new[] { "--s3-insecure" };
    public IReadOnlyCollection<string> Options { get; } = new[]
    {
        "--target", "--kind", "--image", "--service-account", "--namespace", "--code-root", "--code-archive",
        "--s3-endpoint", "--s3-region", "--s3-credentials-secret", "--pvc-access-mode", "--pvc-storage-class", "--max-bytes", "--out",
    };
    public string Usage => """
        Usage: axl compile --target argo <file.axl.ps1[:Name]>... [options]

        Compiles workflows to Argo Workflows YAML, like ConvertTo-ArgoWorkflow: one container template per
        step running the runner (axl step) with the step's IO manifest, one DAG task per step. Prints the
        YAML on stdout (several workflows as one multi-document stream), or writes it to --out.

          --target argo              the back end (argo)
          --kind KIND                workflow (default) or workflowtemplate
          --image IMAGE              runner image for steps without their own -Image (overrides the workflow's)
          --service-account NAME     service account of the pods (overrides the workflow's)
          --namespace NS             metadata.namespace
          --code-root DIR            folder the code is delivered from (default: the workflow file's folder)
          --code-archive FILE        location of the uploaded code archive (JSON: bucket, key, sha256, endpoint,
                                     region, insecure, credentialsSecret), for code delivery Artifact
          --s3-endpoint HOST:PORT    S3 endpoint of an s3:// artifact store (default s3.amazonaws.com)
          --s3-region REGION         its region
          --s3-insecure              plain HTTP to it (MinIO in the cluster)
          --s3-credentials-secret S  Kubernetes secret with its keys accessKey and secretKey
          --pvc-access-mode MODE     ReadWriteOnce (default) or ReadWriteMany, for a pvc artifact store
          --pvc-storage-class NAME   storage class of that volume
          --max-bytes N              refuse a document larger than N bytes (default 1048576: etcd's limit)
          --out FILE                 write the YAML to FILE instead of stdout

        Exit codes: 0 compiled; 1 an invalid workflow (diagnostics on stderr), a file that does not load,
        a bad option or a document over --max-bytes; 2 internal error.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        var target = args.Option("--target") ?? throw new UsageException("compile needs --target argo (the only back end so far).");
        if (!target.Equals("argo", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"unknown target '{target}'. Known: argo.");
        if (args.Positional.Count == 0) throw new UsageException("compile needs a workflow file, e.g. axl compile --target argo flow.axl.ps1[:Name].");
        var options = CompileOptions(args);

        using var host = new AxlEngineHost();
        var documents = new List<ArgoDocument>();
        var failed = false;
        foreach (var reference in args.Positional)
        {
            var (workflows, errors) = host.LoadWorkflows(reference);
            foreach (var e in errors) stderr.WriteLine($"error {e.FullyQualifiedErrorId.Split(',')[0]}: {e.Exception.Message}");
            failed |= errors.Count > 0;
            foreach (var wf in workflows)
            {
                try
                {
                    var document = ArgoCompiler.Compile(wf, options);
                    foreach (var w in document.Warnings) stderr.WriteLine(w.ToString());
                    documents.Add(document);
                }
                catch (AxlInvalidWorkflowException ex)
                {
                    foreach (var d in ex.Diagnostics.Where(d => d.IsError)) stderr.WriteLine(d.ToString());
                    stderr.WriteLine($"axl: workflow '{wf.Name}' is not valid; nothing was compiled.");
                    failed = true;
                }
                catch (AxlCompileException ex)
                {
                    stderr.WriteLine($"error {ex.Id}: {ex.Message}");
                    failed = true;
                }
            }
        }
        if (failed) return ExitCodes.UserError;
        if (documents.Count == 0) throw new UsageException("no workflow to compile.");

        var yaml = documents.Count == 1 ? documents[0].ToYaml() : string.Concat(documents.Select(d => "---\n" + d.ToYaml()));
        if (args.Option("--out") is { } outFile)
        {
            var path = Path.GetFullPath(outFile);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, yaml, new UTF8Encoding(false));
            foreach (var d in documents) stdout.WriteLine($"{d} -> {outFile}");
        }
        else stdout.Write(yaml);
        return ExitCodes.Success;
    }

    private static ArgoCompileOptions CompileOptions(CliArguments args)
    {
        var kind = args.Option("--kind") ?? "workflow";
        return new ArgoCompileOptions
        {
            Kind = kind.ToLowerInvariant() switch
            {
                "workflow" => ArgoKind.Workflow,
                "workflowtemplate" => ArgoKind.WorkflowTemplate,
                _ => throw new UsageException($"--kind takes workflow or workflowtemplate, got '{kind}'."),
            },
            Image = args.Option("--image"),
            ServiceAccount = args.Option("--service-account"),
            Namespace = args.Option("--namespace"),
            CodeRoot = args.Option("--code-root") is { } root ? Path.GetFullPath(root) : null,
            CodeArchive = args.Option("--code-archive") is { } archive ? ReadLocation(archive) : null,
            S3Endpoint = args.Option("--s3-endpoint"),
            S3Region = args.Option("--s3-region"),
            S3Insecure = args.Has("--s3-insecure") ? true : null,
            S3CredentialsSecret = args.Option("--s3-credentials-secret"),
            PvcAccessMode = args.Option("--pvc-access-mode") ?? "ReadWriteOnce",
            PvcStorageClass = args.Option("--pvc-storage-class"),
            MaxBytes = args.Option("--max-bytes") is { } max
                ? long.TryParse(max, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new UsageException($"--max-bytes takes a positive number of bytes, got '{max}'.")
                : ArgoCompileOptions.DefaultMaxBytes,
        };
    }

    private static readonly JsonSerializerOptions LocationJson = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The code archive location from a JSON file (or inline JSON): what the code upload reports.</summary>
    private static CodeArchiveLocation ReadLocation(string fileOrJson)
    {
        var json = fileOrJson.TrimStart().StartsWith('{') ? fileOrJson
            : File.Exists(fileOrJson) ? File.ReadAllText(fileOrJson)
            : throw new UsageException($"--code-archive: file '{fileOrJson}' does not exist (give the JSON location of the uploaded code archive).");
        try
        {
            return JsonSerializer.Deserialize<CodeArchiveLocation>(json, LocationJson) ?? throw new UsageException("--code-archive: the location is empty.");
        }
        catch (JsonException ex)
        {
            throw new UsageException($"--code-archive: not a code archive location ({ex.Message}). It is a JSON object with bucket, key and sha256, and optionally endpoint, region, insecure, credentialsSecret.");
        }
    }
}
