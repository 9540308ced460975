using Axl.Delivery;

namespace Axl.Compilers.Kfp;

/// <summary>
/// The package format: V2, the pipeline spec (IR YAML) that KFP 2.x servers accept; or V1, the Argo Workflow with
/// the annotations of a KFP 1.8 SDK package, for KFP 1.x servers (and KFP 2.x servers in v1 mode).
/// </summary>
public enum KfpFormat { V2, V1 }

/// <summary>What the KFP compiler needs beyond the IR. Every option has a default that compiles a valid pipeline.</summary>
public sealed record KfpCompileOptions
{
    public KfpFormat Format { get; init; } = KfpFormat.V2;

    /// <summary>Runner image for steps without their own -Image; overrides the workflow's -Image.</summary>
    public string? Image { get; init; }

    /// <summary>The folder the code is delivered from (baked into the image at /axl/workdir, or the code archive's root); default as for Argo.</summary>
    public string? CodeRoot { get; init; }

    /// <summary>
    /// Where the code archive is, for code delivery Artifact. V2 imports it with an importer task from
    /// s3://bucket/key (the bucket must be one KFP's launcher can read: its pipeline root's store); V1 wires it as
    /// an Argo S3 artifact, as the Argo compiler does.
    /// </summary>
    public CodeArchiveLocation? CodeArchive { get; init; }

    /// <summary>V2: defaultPipelineRoot (where KFP stores the artifacts); default: the workflow's s3:// artifact store, else the server's default.</summary>
    public string? PipelineRoot { get; init; }

    /// <summary>Let KFP reuse a task's earlier outputs for the same inputs (V2 cachingOptions, V1 enable_caching). Off by default: Axl steps may read files or services KFP cannot see.</summary>
    public bool EnableCaching { get; init; }

    /// <summary>V1: the pods' service account; default the workflow's -ServiceAccount, else pipeline-runner (KFP's).</summary>
    public string? ServiceAccount { get; init; }

    /// <summary>V1: the size limit of the Argo Workflow (etcd); see <see cref="Argo.ArgoCompileOptions.MaxBytes"/>.</summary>
    public long MaxBytes { get; init; } = Argo.ArgoCompileOptions.DefaultMaxBytes;

    /// <summary>V2 -WarmEnv: the access mode of the shared volume's claim (kfp-kubernetes CreatePVC access_modes); default ReadWriteOnce, as Argo's.</summary>
    public string PvcAccessMode { get; init; } = "ReadWriteOnce";

    /// <summary>V2 -WarmEnv: the storage class of the shared volume's claim; default none given, and KFP's driver then asks for the class "standard".</summary>
    public string? PvcStorageClass { get; init; }

    public static KfpCompileOptions Default { get; } = new();
}
