using System.Management.Automation;
using Axl.Jobs.Argo;

namespace Axl.Cmdlets.Jobs;

/// <summary>The cluster connection of the Argo template cmdlets: the same -KubeConfig, -KubeContext and -Namespace as Submit-AxlJob -Target Argo, by default from $AxlJobOption's Argo section.</summary>
public abstract class ArgoClusterCmdlet : PSCmdlet, IDisposable
{
    private readonly Dictionary<string, (ArgoCluster Cluster, ArgoTemplates Templates)> _connections = new(StringComparer.Ordinal);
    private Axl.Jobs.AxlJobOption? _preference;

    /// <summary>The kubeconfig (default $env:KUBECONFIG, ~/.kube/config, else the pod's service account).</summary>
    [Parameter] public string? KubeConfig { get; set; }
    /// <summary>The kubeconfig context (default: its current context).</summary>
    [Parameter] public string? KubeContext { get; set; }

    /// <summary>The cluster and its templates in a namespace (null: the context's), connected once per namespace; null after an error was written.</summary>
    protected (ArgoCluster Cluster, ArgoTemplates Templates)? Connect(string? ns, object? target)
    {
        // What the parameters leave open comes from $AxlJobOption's Argo section, as for Submit-AxlJob.
        var argo = (_preference ??= JobOptions.Resolve(this, null, null)).Argo;
        ns ??= argo.Namespace;
        var key = ns ?? "";
        if (_connections.TryGetValue(key, out var c)) return c;
        try
        {
            var kubeConfig = KubeConfig ?? argo.KubeConfig;
            var cluster = ArgoCluster.Connect(new ArgoSubmitOptions
            {
                KubeConfig = kubeConfig is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(kubeConfig),
                Context = KubeContext ?? argo.KubeContext,
                Namespace = ns,
            });
            return _connections[key] = (cluster, new ArgoTemplates(cluster));
        }
        catch (ArgoClusterException ex)
        {
            WriteError(ClusterError(ex, target));
            return null;
        }
    }

    protected static ErrorRecord ClusterError(ArgoClusterException ex, object? target) =>
        new(ex, ex.StatusCode is null ? "Axl.ClusterUnavailable" : "Axl.ClusterRefused", ex.StatusCode is null ? ErrorCategory.ResourceUnavailable : ErrorCategory.PermissionDenied, target);

    public void Dispose()
    {
        foreach (var (cluster, _) in _connections.Values) cluster.Dispose();
        _connections.Clear();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// The WorkflowTemplates of split workflows on an Argo cluster (what Submit-AxlJob -Target Argo installs for a
/// workflow over Argo's limits): by workflow, with their version, whether a newer version superseded them, and the
/// running Workflows that use them. Pipe to Remove-AxlArgoTemplate to clean up old versions.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AxlArgoTemplate", HelpUri = AxlHelp.OnlineBase + "Get-AxlArgoTemplate.md")]
[OutputType(typeof(ArgoTemplateInfo))]
public sealed class GetAxlArgoTemplateCommand : ArgoClusterCmdlet
{
    /// <summary>Only the templates of these workflows (the Axl name or the Kubernetes name; wildcards).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[]? Workflow { get; set; }

    /// <summary>Only the templates of superseded versions: every version of a workflow but the newest, never one a running Workflow uses.</summary>
    [Parameter] public SwitchParameter Superseded { get; set; }

    /// <summary>The namespace (default: the context's, else "default").</summary>
    [Parameter] public string? Namespace { get; set; }

    protected override void ProcessRecord()
    {
        if (Connect(Namespace, Workflow) is not { } c) return;
        IReadOnlyList<ArgoTemplateInfo> found;
        try { found = c.Templates.ListAsync(Workflow, Superseded).GetAwaiter().GetResult(); }
        catch (ArgoClusterException ex)
        {
            WriteError(ClusterError(ex, Workflow));
            return;
        }
        foreach (var t in found) WriteObject(t);
        if (Superseded) return; // none superseded is the normal answer
        foreach (var name in (Workflow ?? Array.Empty<string>()).Where(n => !WildcardPattern.ContainsWildcardCharacters(n)))
            if (!found.Any(t => string.Equals(t.Workflow, name, StringComparison.OrdinalIgnoreCase) || string.Equals(t.WorkflowLabel, name, StringComparison.OrdinalIgnoreCase)))
                WriteError(new ErrorRecord(new ItemNotFoundException($"No WorkflowTemplates of workflow '{name}' in namespace {c.Cluster.Namespace} ({c.Cluster.Server}): it was never split there, or its templates were removed. Get-AxlArgoTemplate without -Workflow lists every split workflow's."),
                    "Axl.ArgoTemplateNotFound", ErrorCategory.ObjectNotFound, name));
    }
}

/// <summary>
/// Removes WorkflowTemplates of split workflows (from Get-AxlArgoTemplate, or by name), never one a running Workflow
/// uses (an Axl.ArgoTemplateInUse error instead). -WhatIf shows what would go.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "AxlArgoTemplate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = TemplateSet, HelpUri = AxlHelp.OnlineBase + "Remove-AxlArgoTemplate.md")]
public sealed class RemoveAxlArgoTemplateCommand : ArgoClusterCmdlet
{
    private const string TemplateSet = "Template";
    private const string NameSet = "Name";
    private readonly Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>> _usage = new(StringComparer.Ordinal);

    /// <summary>Templates from Get-AxlArgoTemplate (removed from the namespace and server they were listed from).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = TemplateSet)]
    public ArgoTemplateInfo[] Template { get; set; } = Array.Empty<ArgoTemplateInfo>();

    /// <summary>WorkflowTemplate names (exact).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet)]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>The namespace (default: the template's own; by name: the context's, else "default").</summary>
    [Parameter] public string? Namespace { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == NameSet)
            foreach (var name in Name) Remove(name, Namespace, null, name);
        else
            foreach (var t in Template) Remove(t.Name, Namespace ?? t.Namespace, t.Server, t);
    }

    private void Remove(string name, string? ns, string? server, object target)
    {
        if (Connect(ns, target) is not { } c) return;
        if (server is { Length: > 0 } && server != c.Cluster.Server)
        {
            WriteError(new ErrorRecord(new InvalidOperationException($"WorkflowTemplate {name} was listed from {server}, but this connects to {c.Cluster.Server}. Fix: give Remove-AxlArgoTemplate the -KubeConfig and -KubeContext Get-AxlArgoTemplate had."),
                "Axl.ArgoTemplateOtherCluster", ErrorCategory.InvalidArgument, target));
            return;
        }
        try
        {
            if (!_usage.TryGetValue(c.Cluster.Namespace, out var usage))
                _usage[c.Cluster.Namespace] = usage = c.Templates.UsageAsync().GetAwaiter().GetResult();
            if (usage.TryGetValue(name, out var users))
            {
                WriteError(new ErrorRecord(new InvalidOperationException($"WorkflowTemplate {name} in namespace {c.Cluster.Namespace} is used by running Workflow {string.Join(", ", users)}: not removed. Fix: wait until it ends (or stop it: Stop-Job, argo stop) and remove it then."),
                    "Axl.ArgoTemplateInUse", ErrorCategory.ResourceBusy, target));
                return;
            }
            if (!ShouldProcess($"WorkflowTemplate {name} in namespace {c.Cluster.Namespace} ({c.Cluster.Server})", "Remove")) return;
            var removal = c.Templates.RemoveAsync(name, usage).GetAwaiter().GetResult();
            WriteVerbose(removal.ToString());
        }
        catch (ArgoClusterException ex)
        {
            WriteError(ClusterError(ex, target));
        }
    }
}
