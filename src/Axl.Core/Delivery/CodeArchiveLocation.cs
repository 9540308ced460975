namespace Axl.Delivery;

/// <summary>
/// Where a workflow's code archive (a deterministic tar.gz, keyed by its content hash) is stored, and how pods
/// reach it: what the Argo (and other) compilers wire in as the "code" input artifact under code delivery Artifact.
/// Credentials are never inline: <see cref="CredentialsSecret"/> names a Kubernetes secret with the keys
/// <see cref="AccessKeyKey"/> and <see cref="SecretKeyKey"/>; null means the cluster's default artifact repository.
/// </summary>
public sealed record CodeArchiveLocation
{
    public required string Bucket { get; init; }
    /// <summary>Object key, e.g. "axl/code/&lt;sha256 hex&gt;.tar.gz".</summary>
    public required string Key { get; init; }
    /// <summary>"sha256:&lt;hex&gt;" of the archive bytes.</summary>
    public required string Sha256 { get; init; }
    /// <summary>S3 endpoint host[:port] as Argo wants it (no scheme), e.g. "minio.argo:9000"; null for AWS S3 or the default repository.</summary>
    public string? Endpoint { get; init; }
    public string? Region { get; init; }
    /// <summary>Plain HTTP to the endpoint (MinIO in a cluster).</summary>
    public bool Insecure { get; init; }
    public string? CredentialsSecret { get; init; }
    public string AccessKeyKey { get; init; } = "accessKey";
    public string SecretKeyKey { get; init; } = "secretKey";
    /// <summary>
    /// The local folder the archive was made from (its root is extracted to /axl/workdir). Compilers name the
    /// workflow file relative to it, so it must contain the workflow file; null when unknown (the compiler's
    /// code root option, else the workflow file's folder, is used).
    /// </summary>
    public string? CodeRoot { get; init; }
}
