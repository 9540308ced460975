using Axl.Delivery;

namespace Axl.Compilers.Argo;

/// <summary>The kind of Argo object to write: a Workflow to submit, or a WorkflowTemplate to install and reference.</summary>
public enum ArgoKind { Workflow, WorkflowTemplate }

/// <summary>
/// Whether a workflow over the cluster's limits is split: Auto (the default) keeps one object when it fits and
/// otherwise writes WorkflowTemplates called by templateRef from a small parent; None always writes one object and
/// refuses one over a limit.
/// </summary>
public enum ArgoSplit { Auto, None }

/// <summary>
/// What the Argo compiler needs beyond the IR: the object kind, overrides of workflow options, how pods reach the
/// artifact store and the code archive, and the size limit. Every option has a default that compiles a valid
/// workflow for a cluster with a default artifact repository and the code baked into the image.
/// </summary>
public sealed record ArgoCompileOptions
{
    /// <summary>etcd's limit for one object is about 1.5 MiB per request and Argo warns from 1 MiB: stay under 1 MiB.</summary>
    public const long DefaultMaxBytes = 1024 * 1024;

    public ArgoKind Kind { get; init; } = ArgoKind.Workflow;

    /// <summary>Runner image for steps without their own -Image; overrides the workflow's -Image. Default: the workflow's, else <see cref="AxlInfo.DefaultRunnerImage"/>.</summary>
    public string? Image { get; init; }
    /// <summary>Service account of the pods; overrides the workflow's -ServiceAccount.</summary>
    public string? ServiceAccount { get; init; }
    /// <summary>metadata.namespace; none by default (the namespace of the submit).</summary>
    public string? Namespace { get; init; }

    /// <summary>
    /// The folder the code is delivered from (baked into the image at /axl/workdir, or archived and extracted
    /// there). The manifest names the workflow file relative to it. Default: the code archive's
    /// <see cref="CodeArchiveLocation.CodeRoot"/> when there is one, else the workflow file's folder, so steps run in
    /// the same folder (relative paths resolve the same) in a pod as in a local run.
    /// </summary>
    public string? CodeRoot { get; init; }

    /// <summary>S3 endpoint host[:port] (no scheme) for an s3:// artifact store; default s3.amazonaws.com.</summary>
    public string? S3Endpoint { get; init; }
    public string? S3Region { get; init; }
    /// <summary>Plain HTTP to the S3 endpoint (MinIO inside the cluster).</summary>
    public bool? S3Insecure { get; init; }
    /// <summary>Kubernetes secret holding the S3 keys (<see cref="S3AccessKeyKey"/>, <see cref="S3SecretKeyKey"/>); none: the pod's own identity (IAM role).</summary>
    public string? S3CredentialsSecret { get; init; }
    public string S3AccessKeyKey { get; init; } = "accessKey";
    public string S3SecretKeyKey { get; init; } = "secretKey";

    /// <summary>Where the code archive is, for code delivery Artifact. Giving one delivers the code as an artifact whatever the workflow's -CodeDelivery.</summary>
    public CodeArchiveLocation? CodeArchive { get; init; }

    /// <summary>The largest YAML accepted; a larger document is an <see cref="CompileErrorIds.ArgoTooLarge"/> error.</summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    /// <summary>
    /// How many templates one object may hold: Argo v4's full CRDs allow 200 (spec.templates maxItems). Clusters with
    /// the minimal CRDs have no such limit and may raise it.
    /// </summary>
    public int MaxTemplates { get; init; } = DefaultMaxItems;

    /// <summary>How many tasks one DAG template may hold: Argo v4's full CRDs allow 200 (dag.tasks maxItems).</summary>
    public int MaxDagTasks { get; init; } = DefaultMaxItems;

    /// <summary>
    /// How many input parameters one template may declare: Argo v4's full CRDs allow 500 (inputs.parameters maxItems).
    /// A group of a split workflow takes the values and outcomes of the steps outside it that its steps read as input
    /// parameters, so this bounds a group too.
    /// </summary>
    public int MaxInputParameters { get; init; } = DefaultMaxInputParameters;

    /// <summary>Argo v4's maxItems on a template's inputs.parameters.</summary>
    public const int DefaultMaxInputParameters = 500;

    /// <summary>Argo v4's maxItems on spec.templates and dag.tasks.</summary>
    public const int DefaultMaxItems = 200;

    /// <summary>Split a workflow over a limit into WorkflowTemplates (Auto), or refuse it (None).</summary>
    public ArgoSplit Split { get; init; } = ArgoSplit.Auto;

    /// <summary>
    /// spec.parallelism of a split workflow's parent (how many pods run at once); 0 for no limit. Default
    /// <see cref="DefaultSplitParallelism"/>. A workflow that fits in one object gets it only when it is given.
    /// </summary>
    public int? Parallelism { get; init; }

    /// <summary>The parallelism of a split (large) workflow when none is given.</summary>
    public const int DefaultSplitParallelism = 100;

    /// <summary>Access mode of the volume of a pvc artifact store: ReadWriteOnce (one node) or ReadWriteMany (parallel steps on several nodes).</summary>
    public string PvcAccessMode { get; init; } = "ReadWriteOnce";
    /// <summary>Storage class of that volume; none: the cluster's default class.</summary>
    public string? PvcStorageClass { get; init; }

    /// <summary>
    /// Seconds added to a step's -Timeout for the pod's activeDeadlineSeconds. The runner stops the step at its
    /// timeout itself (and logs why); the pod deadline, which also counts image pulls and start-up, is the backstop.
    /// </summary>
    public int DeadlineGraceSeconds { get; init; } = 60;

    /// <summary>
    /// The threads a split compile makes its step templates and their YAML on: 0 (the default) for one per core, 1
    /// for the calling thread alone. The output is the same bytes on any number (tests compare 1 with several).
    /// </summary>
    internal int Threads { get; init; }

    public static ArgoCompileOptions Default { get; } = new();
}
