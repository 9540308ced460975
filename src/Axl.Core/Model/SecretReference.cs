using System.Text;

namespace Axl.Model;

/// <summary>
/// Where a step's environment variable takes its value at run time: a Kubernetes secret (name and key; Argo and KFP
/// use <c>valueFrom.secretKeyRef</c>), a variable of the runner's own environment, or a secret of a SecretManagement
/// vault (<c>Get-Secret -Vault</c>). The IR holds the reference only, never the value; values are read when the step
/// runs. A reference may name a Kubernetes source and one local source (for local runs, Dagster and queue workers).
/// </summary>
public sealed record SecretReference
{
    /// <summary>Kubernetes secret name (with <see cref="KubernetesKey"/>).</summary>
    public string? KubernetesSecret { get; init; }
    public string? KubernetesKey { get; init; }
    /// <summary>A variable of the environment of the process that runs the step (local runner, worker, Dagster).</summary>
    public string? EnvironmentVariable { get; init; }
    /// <summary>SecretManagement vault name (with <see cref="VaultSecret"/>).</summary>
    public string? Vault { get; init; }
    public string? VaultSecret { get; init; }

    public bool HasKubernetes => KubernetesSecret is not null;
    public bool HasLocal => EnvironmentVariable is not null || VaultSecret is not null;

    /// <summary>The reference as written, never a value: "kubernetes:name/key", "env:VAR", "vault:Vault/Name".</summary>
    public override string ToString()
    {
        var parts = new List<string>(2);
        if (KubernetesSecret is not null) parts.Add($"kubernetes:{KubernetesSecret}/{KubernetesKey}");
        if (EnvironmentVariable is not null) parts.Add($"env:{EnvironmentVariable}");
        if (VaultSecret is not null) parts.Add(Vault is null ? $"vault:{VaultSecret}" : $"vault:{Vault}/{VaultSecret}");
        return parts.Count == 0 ? "secret:(no source)" : string.Join(" ", parts);
    }

    /// <summary>The IR form (a map of source to name, nulls left out).</summary>
    public Dictionary<string, object?> ToTree()
    {
        var d = new Dictionary<string, object?>(5);
        if (KubernetesSecret is not null) { d["kubernetesSecret"] = KubernetesSecret; d["kubernetesKey"] = KubernetesKey; }
        if (EnvironmentVariable is not null) d["environmentVariable"] = EnvironmentVariable;
        if (VaultSecret is not null) { d["vault"] = Vault; d["vaultSecret"] = VaultSecret; }
        return d;
    }
}
