using System.Collections;

namespace Axl.Compilers.Argo;

/// <summary>
/// An Argo (Kubernetes) object as an ordered map: keys keep the order they were set in, and empty values
/// (null, empty lists and maps) are left out, so the builders read top to bottom like the YAML they make.
/// </summary>
public sealed class ArgoMap : Dictionary<string, object?>
{
    public ArgoMap() : base(StringComparer.Ordinal) { }

    /// <summary>Sets <paramref name="key"/> unless the value is null or an empty list or map; returns this map.</summary>
    public ArgoMap With(string key, object? value)
    {
        if (!IsEmpty(value)) this[key] = value;
        return this;
    }

    private static bool IsEmpty(object? value) => value switch
    {
        null => true,
        string => false,
        ICollection c => c.Count == 0,
        _ => false,
    };
}

/// <summary>Small builders of the Argo objects the compiler emits (Metaflow and Hera style: objects, not text templates).</summary>
internal static class ArgoObjects
{
    public static ArgoMap Map() => new();

    public static List<object?> List(IEnumerable<object?> items) => items.ToList();

    /// <summary>{name, value} of a parameter (a template input when the value is null).</summary>
    public static ArgoMap Parameter(string name, string? value = null, string? description = null) =>
        Map().With("name", name).With("value", value).With("description", description);

    /// <summary>An artifact at a path in the pod (template inputs and outputs; never with "from": wiring lives in the DAG task).</summary>
    public static ArgoMap Artifact(string name, string path) => Map().With("name", name).With("path", path);

    /// <summary>A task argument: the artifact of the template input <paramref name="name"/> comes from another task's output.</summary>
    public static ArgoMap ArtifactFrom(string name, string fromTask, string outputName) =>
        Map().With("name", name).With("from", "{{tasks." + fromTask + ".outputs.artifacts." + outputName + "}}");

    /// <summary>A reference to one key of a Kubernetes secret (S3 credentials: never inline).</summary>
    public static ArgoMap SecretKey(string secret, string key) => Map().With("name", secret).With("key", key);

    /// <summary>An S3 location; credentials as secret references when a secret is named.</summary>
    public static ArgoMap S3(string? endpoint, string? bucket, string key, string? region, bool insecure, string? secret, string accessKeyKey, string secretKeyKey)
    {
        var s3 = Map()
            .With("endpoint", endpoint)
            .With("bucket", bucket)
            .With("region", region)
            .With("insecure", insecure ? true : null)
            .With("key", key);
        if (secret is not null)
            s3.With("accessKeySecret", SecretKey(secret, accessKeyKey)).With("secretKeySecret", SecretKey(secret, secretKeyKey));
        return s3;
    }

    /// <summary>{name, value} pairs of environment variables, sorted by name (ordinal) so the output never depends on the input order.</summary>
    public static List<object?> Env(IEnumerable<KeyValuePair<string, string>> env) =>
        env.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (object?)Map().With("name", kv.Key).With("value", kv.Value)).ToList();

    /// <summary>
    /// As <see cref="Env(IEnumerable{KeyValuePair{string, string}})"/>, with secret variables as
    /// <c>valueFrom.secretKeyRef</c> (the pod reads the value from the Kubernetes secret; the document never holds it).
    /// </summary>
    public static List<object?> Env(IEnumerable<KeyValuePair<string, string>> env, IEnumerable<KeyValuePair<string, Model.SecretReference>> secrets) =>
        env.Select(kv => (Name: kv.Key, Item: Map().With("name", kv.Key).With("value", kv.Value)))
            .Concat(secrets.Select(kv => (Name: kv.Key, Item: Map().With("name", kv.Key)
                .With("valueFrom", Map().With("secretKeyRef", SecretKey(kv.Value.KubernetesSecret!, kv.Value.KubernetesKey!))))))
            .OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => (object?)e.Item).ToList();
}
