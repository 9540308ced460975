using System.Globalization;
using System.Text;
using System.Text.Json;
using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Compilers.Dagster;
using Axl.Compilers.Kfp;
using Axl.Delivery;
using Axl.Model;
using Axl.Runtime;
using Axl.Validation;

namespace Axl.Cli.Commands;

/// <summary>
/// axl compile --target argo|kfp|dagster [options] file.axl.ps1[:Name]: the workflow as an Argo Workflow or
/// WorkflowTemplate (ArgoCompiler), a Kubeflow pipeline (KfpCompiler) or a Dagster job module (DagsterCompiler).
/// </summary>
public sealed class CompileCommand : ICliCommand
{
    public string Name => "compile";
    public string Summary => "compile a workflow for a back end: 'axl compile --target argo|kfp|dagster flow.axl.ps1'";
    public IReadOnlyCollection<string> Flags { get; } = new[] { "--s3-insecure", "--enable-caching" };
    public IReadOnlyCollection<string> Options { get; } = new[]
    {
        "--target", "--kind", "--image", "--service-account", "--namespace", "--code-root", "--code-archive",
        "--s3-endpoint", "--s3-region", "--s3-credentials-secret", "--pvc-access-mode", "--pvc-storage-class", "--max-bytes", "--out",
        "--format", "--pipeline-root", "--split", "--max-templates", "--max-dag-tasks", "--parallelism",
    };
    public string Usage => """
        Usage: axl compile --target argo|kfp|dagster <file.axl.ps1[:Name]>... [options]

        Compiles workflows for a back end; every step runs the runner (axl step) with its IO manifest.
          argo     Argo Workflows YAML, like ConvertTo-ArgoWorkflow: one container template and one DAG task per
                   step. Several workflows print as one multi-document stream. A workflow over the cluster's
                   limits (--max-templates, --max-dag-tasks, --max-bytes) is split: WorkflowTemplates holding
                   groups of steps, then the Workflow that calls them by templateRef (create them in that order).
          kfp      a Kubeflow pipeline, like ConvertTo-KfpPipeline: the KFP v2 pipeline spec (--format v2), or
                   the KFP 1.8 Argo package (--format v1). --out FILE.zip or FILE.tar.gz packages it.
          dagster  a Dagster job, like ConvertTo-DagsterJob: a Python module with one op per step.
        Prints the result on stdout, or writes it to --out (kfp and dagster: one workflow per file).

          --target TARGET            the back end: argo, kfp or dagster
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
          --max-bytes N              largest object in bytes (default 1048576: etcd's limit)
          --max-templates N          most templates in one object (default 200: Argo v4's CRD limit)
          --max-dag-tasks N          most tasks in one DAG (default 200: Argo v4's CRD limit)
          --split auto|none          auto (default): split a workflow over a limit into WorkflowTemplates;
                                     none: one object, refused when it is over a limit
          --parallelism N            pods at once (spec.parallelism); default 100 for a split workflow, 0: no limit
          --out FILE                 write the output to FILE instead of stdout
        kfp (also --image, --service-account (v1), --code-root, --code-archive, --max-bytes (v1), --pvc-access-mode and
             --pvc-storage-class (the -WarmEnv volume; v1 also a pvc artifact store)):
          --format v2|v1             the KFP package format (default v2)
          --pipeline-root URI        v2 defaultPipelineRoot (default: the workflow's s3:// artifact store)
          --enable-caching           let KFP reuse a task's outputs for the same inputs (off by default)
        dagster (also --code-root: the folder the ops run the steps in, default the workflow file's folder)

        Exit codes: 0 compiled; 1 an invalid workflow (diagnostics on stderr), a file that does not load,
        a bad option, or a workflow over a limit that cannot be split (or with --split none); 2 internal error.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        var target = (args.Option("--target") ?? throw new UsageException("compile needs --target argo, kfp or dagster.")).ToLowerInvariant();
        if (target is not ("argo" or "kfp" or "dagster"))
            throw new UsageException($"unknown target '{target}'. Known: argo, kfp, dagster.");
        if (args.Positional.Count == 0) throw new UsageException($"compile needs a workflow file, e.g. axl compile --target {target} flow.axl.ps1[:Name].");
        if (target != "argo") return ExecuteOther(target, args, stdout, stderr);
        foreach (var o in new[] { "--format", "--pipeline-root", "--enable-caching" })
            if (args.Options.ContainsKey(o) || args.Has(o)) throw new UsageException($"{o} applies to --target kfp, not argo.");
        var options = CompileOptions(args);

        using var host = new AxlEngineHost();
        var documents = new List<ArgoDocument>();
        var failed = false;
        foreach (var reference in args.Positional)
        {
            var (workflows, errors) = host.LoadWorkflows(reference, runsBodies: false);
            foreach (var e in errors) stderr.WriteLine($"error {e.FullyQualifiedErrorId.Split(',')[0]}: {e.Exception.Message}");
            failed |= errors.Count > 0;
            foreach (var wf in workflows)
            {
                if (TryCompile(wf, w => ArgoCompiler.Compile(w, options), d => d.Warnings, stderr) is { } document) documents.Add(document);
                else failed = true;
            }
        }
        if (failed) return ExitCodes.UserError;
        if (documents.Count == 0) throw new UsageException("no workflow to compile.");

        if (args.Option("--out") is { } outFile)
        {
            Axl.Runtime.RunStore.WriteAtomic(Path.GetFullPath(outFile), w => WriteYaml(w, documents), durable: false);
            CompileTrace.Mark("cli: written");
            foreach (var d in documents) stdout.WriteLine($"{d} -> {outFile}");
        }
        else WriteYaml(stdout, documents);
        return ExitCodes.Success;
    }

    /// <summary>One compile's YAML (see ArgoDocument.ToYamlAll); several workflows' as one stream of all their objects, each after "---".</summary>
    private static void WriteYaml(TextWriter w, List<ArgoDocument> documents)
    {
        if (documents.Count == 1) documents[0].WriteYamlAll(w);
        else foreach (var d in documents.SelectMany(d => d.Documents)) ArgoDocument.WriteWithSeparator(w, d);
    }

    /// <summary>Compiles one workflow; its diagnostics or compile error go to stderr (null then), its warnings too.</summary>
    private static T? TryCompile<T>(AxlWorkflow wf, Func<AxlWorkflow, T> compile, Func<T, IEnumerable<AxlDiagnostic>> warnings, TextWriter stderr) where T : class
    {
        try
        {
            var document = compile(wf);
            foreach (var w in warnings(document)) stderr.WriteLine(w.ToString());
            return document;
        }
        catch (AxlInvalidWorkflowException ex)
        {
            foreach (var d in ex.Diagnostics.Where(d => d.IsError)) stderr.WriteLine(d.ToString());
            stderr.WriteLine($"axl: workflow '{wf.Name}' is not valid; nothing was compiled.");
        }
        catch (AxlCompileException ex)
        {
            stderr.WriteLine($"error {ex.Id}: {ex.Message}");
        }
        return null;
    }

    /// <summary>--target kfp or dagster: one file per workflow, so --out takes one workflow.</summary>
    private static int ExecuteOther(string target, CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        var argoOnly = target == "kfp"
            ? new[] { "--kind", "--namespace", "--s3-endpoint", "--s3-region", "--s3-credentials-secret", "--s3-insecure" }
            : new[] { "--kind", "--namespace", "--s3-endpoint", "--s3-region", "--s3-credentials-secret", "--pvc-access-mode", "--pvc-storage-class", "--s3-insecure",
                      "--image", "--service-account", "--code-archive", "--max-bytes", "--format", "--pipeline-root", "--enable-caching" };
        foreach (var o in argoOnly)
            if (args.Options.ContainsKey(o) || args.Has(o)) throw new UsageException($"{o} does not apply to --target {target}.");
        var codeRoot = args.Option("--code-root") is { } root ? Path.GetFullPath(root) : null;
        KfpCompileOptions? kfp = null;
        if (target == "kfp")
        {
            var format = args.Option("--format") ?? "v2";
            kfp = new KfpCompileOptions
            {
                Format = format.ToLowerInvariant() switch
                {
                    "v2" => KfpFormat.V2,
                    "v1" => KfpFormat.V1,
                    _ => throw new UsageException($"--format takes v2 or v1, got '{format}'."),
                },
                Image = args.Option("--image"),
                ServiceAccount = args.Option("--service-account"),
                CodeRoot = codeRoot,
                CodeArchive = args.Option("--code-archive") is { } archive ? ReadLocation(archive) : null,
                PipelineRoot = args.Option("--pipeline-root"),
                EnableCaching = args.Has("--enable-caching"),
                PvcAccessMode = args.Option("--pvc-access-mode") ?? "ReadWriteOnce",
                PvcStorageClass = args.Option("--pvc-storage-class"),
                MaxBytes = MaxBytes(args),
            };
            if (kfp.ServiceAccount is not null && kfp.Format == KfpFormat.V2)
                throw new UsageException("--service-account applies to --format v1 (KFP v2 runs pods as the server's pipeline-runner).");
        }

        using var host = new AxlEngineHost();
        var outputs = new List<(string Text, byte[]? Package, string Summary)>();
        var failed = false;
        foreach (var reference in args.Positional)
        {
            var (workflows, errors) = host.LoadWorkflows(reference, runsBodies: false);
            foreach (var e in errors) stderr.WriteLine($"error {e.FullyQualifiedErrorId.Split(',')[0]}: {e.Exception.Message}");
            failed |= errors.Count > 0;
            foreach (var wf in workflows)
            {
                if (kfp is not null)
                {
                    if (TryCompile(wf, w => KfpCompiler.Compile(w, kfp), d => d.Warnings, stderr) is not { } document) { failed = true; continue; }
                    var kind = args.Option("--out") is { } o ? KfpDocument.PackageKindOf(o) : KfpPackageKind.Yaml;
                    outputs.Add((document.ToYaml(), document.ToPackage(kind), document.ToString()));
                }
                else
                {
                    if (TryCompile(wf, w => DagsterCompiler.Compile(w, new DagsterCompileOptions { CodeRoot = codeRoot }), d => d.Warnings, stderr) is not { } document) { failed = true; continue; }
                    outputs.Add((document.Source, null, $"Dagster job {document.JobName} ({document.OpCount} op{(document.OpCount == 1 ? "" : "s")})"));
                }
            }
        }
        if (failed) return ExitCodes.UserError;
        if (outputs.Count == 0) throw new UsageException("no workflow to compile.");
        if (args.Option("--out") is { } outFile)
        {
            if (outputs.Count > 1)
                throw new UsageException($"--target {target} writes one workflow per file, and {outputs.Count} were given: compile them one at a time (file.axl.ps1:Name).");
            var path = Path.GetFullPath(outFile);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, outputs[0].Package ?? new UTF8Encoding(false).GetBytes(outputs[0].Text));
            stdout.WriteLine($"{outputs[0].Summary} -> {outFile}");
        }
        else if (outputs.Count == 1) stdout.Write(outputs[0].Text);
        else if (target == "kfp") stdout.Write(string.Concat(outputs.Select(o => "---\n" + o.Text)));
        else throw new UsageException("--target dagster prints one workflow; give one (file.axl.ps1:Name) or write each with --out.");
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
            MaxBytes = MaxBytes(args),
            MaxTemplates = Count(args, "--max-templates", ArgoCompileOptions.DefaultMaxItems, 3),
            MaxDagTasks = Count(args, "--max-dag-tasks", ArgoCompileOptions.DefaultMaxItems, 2),
            Parallelism = args.Option("--parallelism") is null ? null : Count(args, "--parallelism", 0, 0),
            Split = (args.Option("--split") ?? "auto").ToLowerInvariant() switch
            {
                "auto" => ArgoSplit.Auto,
                "none" => ArgoSplit.None,
                var s => throw new UsageException($"--split takes auto or none, got '{s}'."),
            },
        };
    }

    /// <summary>A whole-number option of at least <paramref name="minimum"/>.</summary>
    private static int Count(CliArguments args, string option, int fallback, int minimum) => args.Option(option) is { } text
        ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= minimum ? n
            : throw new UsageException($"{option} takes a whole number of at least {minimum}, got '{text}'.")
        : fallback;

    private static readonly JsonSerializerOptions LocationJson = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The code archive location from a JSON file (or inline JSON): what the code upload reports.</summary>
    /// <summary>--max-bytes: a positive number of bytes, default etcd's practical limit (1 MiB).</summary>
    private static long MaxBytes(CliArguments args) => args.Option("--max-bytes") is { } max
        ? long.TryParse(max, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new UsageException($"--max-bytes takes a positive number of bytes, got '{max}'.")
        : ArgoCompileOptions.DefaultMaxBytes;

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
