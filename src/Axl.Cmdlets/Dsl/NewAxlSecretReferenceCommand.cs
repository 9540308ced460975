using System.Management.Automation;
using Axl.Model;

namespace Axl.Cmdlets.Dsl;

/// <summary>
/// A reference to a secret for a step's -Env: <c>Step train -Env @{ API_KEY = (AxlSecret -Kubernetes api -Key token) }</c>.
/// The value is read only when the step runs (never written to the IR, compiled output, run records or envelopes).
/// Sources: a Kubernetes secret (-Kubernetes/-Key, for Argo and KFP), a variable of the runner's environment
/// (-EnvironmentVariable: local runs, Dagster, queue workers) or a SecretManagement vault secret (-Vault/-Name,
/// local runs). A Kubernetes source and one local source may be given together.
/// </summary>
[Cmdlet(VerbsCommon.New, "AxlSecretReference", HelpUri = AxlHelp.OnlineBase + "New-AxlSecretReference.md")]
[Alias("AxlSecret")]
[OutputType(typeof(SecretReference))]
public sealed class NewAxlSecretReferenceCommand : PSCmdlet
{
    /// <summary>Kubernetes secret name.</summary>
    [Parameter] public string? Kubernetes { get; set; }
    /// <summary>Key within the Kubernetes secret.</summary>
    [Parameter] public string? Key { get; set; }
    /// <summary>Variable of the runner's own environment.</summary>
    [Parameter] public string? EnvironmentVariable { get; set; }
    /// <summary>SecretManagement vault name (Get-Secret -Vault).</summary>
    [Parameter] public string? Vault { get; set; }
    /// <summary>Secret name in the vault (Get-Secret -Name).</summary>
    [Parameter] public string? Name { get; set; }

    protected override void EndProcessing() =>
        // Checked where it is used (Axl.InvalidSecret names the step and variable); here it is only recorded.
        WriteObject(new SecretReference
        {
            KubernetesSecret = Kubernetes, KubernetesKey = Key, EnvironmentVariable = EnvironmentVariable, Vault = Vault, VaultSecret = Name,
        });
}
