using Axl.Validation;

namespace Axl.Compilers.Argo;

/// <summary>How step outputs travel between pods: Argo artifacts (in the cluster's default repository, a referenced one, or an inline S3 bucket) or a shared volume.</summary>
public enum ArgoStorageKind { DefaultRepository, RepositoryRef, S3, Volume }

/// <summary>The workflow's artifact store (-ArtifactStore) as the Argo compiler reads it.</summary>
public sealed record ArgoStorage(ArgoStorageKind Kind, string? Bucket = null, string? Prefix = null, string? ConfigMap = null, string? Key = null, string? Size = null)
{
    public const string DefaultVolumeSize = "1Gi";

    /// <summary>Reads "s3://bucket[/prefix]", "pvc[:size]", "ref:configmap[/key]" or null (the validator has checked the form).</summary>
    public static ArgoStorage Parse(string? store)
    {
        if (string.IsNullOrEmpty(store)) return new(ArgoStorageKind.DefaultRepository);
        if (store.StartsWith("s3://", StringComparison.Ordinal))
        {
            var rest = store["s3://".Length..];
            var slash = rest.IndexOf('/');
            var bucket = slash < 0 ? rest : rest[..slash];
            var prefix = slash < 0 ? null : rest[(slash + 1)..].Trim('/');
            return new(ArgoStorageKind.S3, Bucket: bucket, Prefix: string.IsNullOrEmpty(prefix) ? null : prefix);
        }
        if (store == "pvc") return new(ArgoStorageKind.Volume, Size: DefaultVolumeSize);
        if (store.StartsWith("pvc:", StringComparison.Ordinal)) return new(ArgoStorageKind.Volume, Size: store[4..]);
        if (store.StartsWith("ref:", StringComparison.Ordinal))
        {
            var rest = store[4..];
            var slash = rest.IndexOf('/');
            return slash < 0 ? new(ArgoStorageKind.RepositoryRef, ConfigMap: rest) : new(ArgoStorageKind.RepositoryRef, ConfigMap: rest[..slash], Key: rest[(slash + 1)..]);
        }
        throw new AxlCompileException(DiagnosticIds.InvalidArtifactStore, $"artifact store '{store}' is not understood.",
            "use 's3://bucket[/prefix]', 'pvc[:size]' or 'ref:<configmap>[/<key>]'.");
    }

    public override string ToString() => Kind switch
    {
        ArgoStorageKind.S3 => Prefix is null ? $"s3://{Bucket}" : $"s3://{Bucket}/{Prefix}",
        ArgoStorageKind.Volume => $"pvc:{Size}",
        ArgoStorageKind.RepositoryRef => Key is null ? $"ref:{ConfigMap}" : $"ref:{ConfigMap}/{Key}",
        _ => "default",
    };
}
