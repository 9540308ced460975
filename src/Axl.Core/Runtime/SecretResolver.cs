using System.Management.Automation;
using Axl.Model;

namespace Axl.Runtime;

/// <summary>A secret a step needs that cannot be read now; the message names the step, the variable and the source, never a value.</summary>
public sealed class AxlSecretException(string message) : Exception(message);

/// <summary>
/// Reads the values of a step's secret environment variables when the step runs on this machine (local runs):
/// from a variable of this process's environment, or from a SecretManagement vault (<c>Get-Secret -AsPlainText</c>).
/// Values live only in memory and in the step's environment; nothing here writes or logs them.
/// </summary>
public static class SecretResolver
{
    public const string SecretManagementModule = "Microsoft.PowerShell.SecretManagement";

    /// <summary>Variable name to value for every secret of the step; throws <see cref="AxlSecretException"/> for one it cannot read.</summary>
    public static Dictionary<string, string> Resolve(AxlStep step, Func<string, string?>? environment = null) =>
        Resolve(step, step.Secrets, environment);

    /// <summary>As <see cref="Resolve(AxlStep, Func{string, string?}?)"/>, for some of the step's secrets.</summary>
    public static Dictionary<string, string> Resolve(AxlStep step, IEnumerable<KeyValuePair<string, SecretReference>> secrets, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, secret) in secrets)
        {
            if (secret.EnvironmentVariable is { } variable)
                values[name] = environment(variable)
                    ?? throw new AxlSecretException($"step '{step.Name}' takes environment variable '{name}' from the variable '{variable}' of the runner's environment, which is not set. Fix: set {variable} in the environment that runs the workflow (for example from your secret store), or change the AxlSecret reference.");
            else if (secret.VaultSecret is { } secretName)
                values[name] = FromVault(step, name, secret.Vault, secretName);
            else
                throw new AxlSecretException($"step '{step.Name}' takes environment variable '{name}' from {secret}, which has no local source: only Argo and Kubeflow pods can read a Kubernetes secret. Fix: add -EnvironmentVariable <name> or -Vault <vault> -Name <secret> to the AxlSecret reference for local runs.");
        }
        return values;
    }

    private static string FromVault(AxlStep step, string name, string? vault, string secretName)
    {
        var where = vault is null ? $"secret '{secretName}' of the default vault" : $"secret '{secretName}' of vault '{vault}'";
        using var ps = PowerShell.Create();
        ps.AddScript("""
            param($Module, $Name, $Vault)
            if (-not (Get-Module -ListAvailable -Name $Module)) { return [pscustomobject]@{ Missing = $true } }
            Import-Module $Module -ErrorAction Stop
            $p = @{ Name = $Name; AsPlainText = $true; ErrorAction = 'Stop' }
            if ($Vault) { $p.Vault = $Vault }
            [pscustomobject]@{ Missing = $false; Value = [string](Get-Secret @p) }
            """).AddArgument(SecretManagementModule).AddArgument(secretName).AddArgument(vault);
        PSObject? result;
        try
        {
            result = ps.Invoke().FirstOrDefault();
        }
        catch (RuntimeException ex)
        {
            throw new AxlSecretException($"step '{step.Name}' takes environment variable '{name}' from {where}, which could not be read: {ex.Message} Fix: check the vault and the secret name (Get-SecretInfo{(vault is null ? "" : " -Vault " + vault)}).");
        }
        if (ps.HadErrors || result is null)
        {
            var error = ps.Streams.Error.FirstOrDefault()?.Exception?.Message ?? "Get-Secret returned nothing";
            throw new AxlSecretException($"step '{step.Name}' takes environment variable '{name}' from {where}, which could not be read: {error} Fix: check the vault and the secret name (Get-SecretInfo{(vault is null ? "" : " -Vault " + vault)}).");
        }
        if (result.Properties["Missing"]?.Value is true)
            throw new AxlSecretException($"step '{step.Name}' takes environment variable '{name}' from {where}, but the {SecretManagementModule} module is not installed. Fix: Install-PSResource {SecretManagementModule} (and a vault extension, then Register-SecretVault), or take the value from an environment variable (AxlSecret -EnvironmentVariable <name>).");
        return result.Properties["Value"]?.Value as string ?? "";
    }
}

/// <summary>Replaces known secret and sensitive values in text with <see cref="AxlParameter.Masked"/> (logs and messages).</summary>
internal sealed class SecretMask
{
    private readonly List<string> _values = new();

    /// <summary>Values shorter than 4 characters are not masked (they would blank out ordinary text such as "1" or "yes").</summary>
    public void Add(string? value)
    {
        if (value is null || value.Length < 4) return;
        lock (_values) if (!_values.Contains(value)) _values.Add(value);
    }

    public bool IsEmpty { get { lock (_values) return _values.Count == 0; } }

    public string Apply(string text)
    {
        lock (_values)
            foreach (var v in _values.OrderByDescending(v => v.Length))
                if (text.Contains(v, StringComparison.Ordinal)) text = text.Replace(v, AxlParameter.Masked, StringComparison.Ordinal);
        return text;
    }
}
