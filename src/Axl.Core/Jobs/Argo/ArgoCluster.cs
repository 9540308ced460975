using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;

namespace Axl.Jobs.Argo;

/// <summary>How Submit-AxlJob -Target Argo reaches the cluster and follows the workflow.</summary>
public sealed record ArgoSubmitOptions
{
    /// <summary>The kubeconfig file; none: $KUBECONFIG, then ~/.kube/config, then the pod's service account (in-cluster).</summary>
    public string? KubeConfig { get; init; }
    /// <summary>The kubeconfig context; none: its current-context.</summary>
    public string? Context { get; init; }
    /// <summary>The namespace; none: the context's namespace (in a pod: its own), else "default".</summary>
    public string? Namespace { get; init; }
    /// <summary>How the workflow is compiled (image, service account, artifact store, code archive...).</summary>
    public Compilers.Argo.ArgoCompileOptions Compile { get; init; } = Compilers.Argo.ArgoCompileOptions.Default;
    /// <summary>How often the workflow's status is read.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>What Stop-Job asks Argo for: "Stop" (exit handlers still run) or "Terminate" (nothing more runs).</summary>
    public string Shutdown { get; init; } = "Stop";
    /// <summary>Consecutive failed status reads (the API unreachable or erroring) before the job is marked failed.</summary>
    public int MaxPollFailures { get; init; } = 30;
}

/// <summary>The Kubernetes API refused or could not be reached; the message says which call, why, and how to fix it.</summary>
public sealed class ArgoClusterException : Exception
{
    public ArgoClusterException(string message, Exception? inner = null) : base(message, inner) { }
    /// <summary>The HTTP status of the API's answer, when there was one.</summary>
    public int? StatusCode { get; init; }
}

/// <summary>
/// The calls Axl makes to a cluster running Argo Workflows, through the official Kubernetes client: create a Workflow
/// (POST .../argoproj.io/v1alpha1/namespaces/{ns}/workflows), read it, merge-patch spec.shutdown, list its pods by the
/// label Argo puts on them (workflows.argoproj.io/workflow) and read a pod's log; list Workflows by label; create, read,
/// update, list and delete WorkflowTemplates (.../workflowtemplates: the parts of a split workflow). Every failure becomes an
/// <see cref="ArgoClusterException"/> whose message names the call, the namespace and the fix.
/// </summary>
public sealed class ArgoCluster : IDisposable
{
    public const string Group = "argoproj.io";
    public const string Version = "v1alpha1";
    public const string Plural = "workflows";
    public const string TemplatePlural = "workflowtemplates";
    public const string WorkflowLabel = "workflows.argoproj.io/workflow";
    public const string NodeIdAnnotation = "workflows.argoproj.io/node-id";
    public const string NodeNameAnnotation = "workflows.argoproj.io/node-name";

    private readonly Kubernetes _client;

    private ArgoCluster(Kubernetes client, string server, string ns, string source)
    {
        _client = client;
        Server = server;
        Namespace = ns;
        Source = source;
    }

    /// <summary>The API server's address.</summary>
    public string Server { get; }
    public string Namespace { get; }
    /// <summary>Where the configuration came from: "kubeconfig &lt;path&gt; (context x)" or "in-cluster service account".</summary>
    public string Source { get; }

    /// <summary>Connects as kubectl would: the given kubeconfig (and context), else $KUBECONFIG or ~/.kube/config, else in-cluster.</summary>
    public static ArgoCluster Connect(ArgoSubmitOptions options)
    {
        KubernetesClientConfiguration config;
        string source;
        try
        {
            var path = options.KubeConfig ?? DefaultKubeConfig();
            if (path is not null)
            {
                if (!File.Exists(path))
                    throw new ArgoClusterException($"The kubeconfig {path} does not exist. Fix: give -KubeConfig the file kubectl uses (kubectl config view --minify shows it), or set $env:KUBECONFIG.");
                config = KubernetesClientConfiguration.BuildConfigFromConfigFile(path, options.Context);
                source = $"kubeconfig {path}" + (config.CurrentContext is { } c ? $" (context {c})" : "");
            }
            else if (KubernetesClientConfiguration.IsInCluster())
            {
                config = KubernetesClientConfiguration.InClusterConfig();
                source = "in-cluster service account";
            }
            else
                throw new ArgoClusterException("No Kubernetes configuration found: no -KubeConfig, no $KUBECONFIG, no ~/.kube/config, and not running in a pod. Fix: give -KubeConfig path/to/kubeconfig (and -KubeContext), or run where kubectl works.");
        }
        catch (KubeConfigException ex)
        {
            throw new ArgoClusterException($"The Kubernetes configuration cannot be used: {ex.Message}. Fix: check the kubeconfig (kubectl config view) and the context name (-KubeContext).", ex);
        }
        var ns = options.Namespace ?? config.Namespace ?? "default";
        return new ArgoCluster(new Kubernetes(config), config.Host ?? "(unknown server)", ns, source);
    }

    /// <summary>$KUBECONFIG (its first file) or ~/.kube/config when it exists; null when neither does.</summary>
    public static string? DefaultKubeConfig()
    {
        if (Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } env)
            return env.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        var home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        return File.Exists(home) ? home : null;
    }

    /// <summary>Creates the Workflow (its metadata.generateName gives it a new name) and returns the created object.</summary>
    public async Task<JsonElement> CreateWorkflowAsync(JsonObject workflow, CancellationToken ct = default)
    {
        var created = await Call("create the Workflow", () => _client.CustomObjects.CreateNamespacedCustomObjectAsync(
            workflow, Group, Version, Namespace, Plural, cancellationToken: ct)).ConfigureAwait(false);
        return AsElement(created);
    }

    /// <summary>The Workflow with its status; null when it does not exist (deleted).</summary>
    public Task<JsonElement?> GetWorkflowAsync(string name, CancellationToken ct = default) => GetAsync("Workflow", Plural, name, ct);

    /// <summary>One object of <paramref name="plural"/> by name; null when it does not exist (404).</summary>
    private async Task<JsonElement?> GetAsync(string kind, string plural, string name, CancellationToken ct)
    {
        try
        {
            var o = await Call($"read {kind} {name}", () => _client.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, Namespace, plural, name, ct)).ConfigureAwait(false);
            return AsElement(o);
        }
        catch (ArgoClusterException ex) when (ex.StatusCode == 404) { return null; }
    }

    /// <summary>Workflows with the given labels (a label selector: "axl.dev/workflow=x,axl.dev/workflow-hash"), with their status.</summary>
    public async Task<IReadOnlyList<JsonElement>> ListWorkflowsAsync(string? labelSelector, CancellationToken ct = default) =>
        Items(await Call($"list the Workflows{Selected(labelSelector)}", () => _client.CustomObjects.ListNamespacedCustomObjectAsync(
            Group, Version, Namespace, Plural, labelSelector: labelSelector, cancellationToken: ct)).ConfigureAwait(false));

    /// <summary>Creates a WorkflowTemplate (metadata.name given) and returns the created object; a 409 means it exists already.</summary>
    public async Task<JsonElement> CreateWorkflowTemplateAsync(JsonObject template, CancellationToken ct = default)
    {
        var name = (string?)template["metadata"]?["name"] ?? "(no name)";
        var created = await Call($"create WorkflowTemplate {name}", () => _client.CustomObjects.CreateNamespacedCustomObjectAsync(
            template, Group, Version, Namespace, TemplatePlural, cancellationToken: ct)).ConfigureAwait(false);
        return AsElement(created);
    }

    /// <summary>Replaces a WorkflowTemplate (the body carries the metadata.resourceVersion read, so a concurrent change is refused with 409).</summary>
    public async Task<JsonElement> ReplaceWorkflowTemplateAsync(JsonObject template, CancellationToken ct = default)
    {
        var name = (string?)template["metadata"]?["name"] ?? "(no name)";
        var replaced = await Call($"update WorkflowTemplate {name}", () => _client.CustomObjects.ReplaceNamespacedCustomObjectAsync(
            template, Group, Version, Namespace, TemplatePlural, name, cancellationToken: ct)).ConfigureAwait(false);
        return AsElement(replaced);
    }

    /// <summary>The WorkflowTemplate; null when it does not exist.</summary>
    public Task<JsonElement?> GetWorkflowTemplateAsync(string name, CancellationToken ct = default) => GetAsync("WorkflowTemplate", TemplatePlural, name, ct);

    /// <summary>WorkflowTemplates with the given labels (a label selector), or all of the namespace.</summary>
    public async Task<IReadOnlyList<JsonElement>> ListWorkflowTemplatesAsync(string? labelSelector, CancellationToken ct = default) =>
        Items(await Call($"list the WorkflowTemplates{Selected(labelSelector)}", () => _client.CustomObjects.ListNamespacedCustomObjectAsync(
            Group, Version, Namespace, TemplatePlural, labelSelector: labelSelector, cancellationToken: ct)).ConfigureAwait(false));

    /// <summary>Deletes a WorkflowTemplate; false when it was already gone.</summary>
    public async Task<bool> DeleteWorkflowTemplateAsync(string name, CancellationToken ct = default)
    {
        try
        {
            await Call($"delete WorkflowTemplate {name}", () => _client.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, Namespace, TemplatePlural, name, cancellationToken: ct)).ConfigureAwait(false);
            return true;
        }
        catch (ArgoClusterException ex) when (ex.StatusCode == 404) { return false; }
    }

    private static string Selected(string? labelSelector) => labelSelector is { Length: > 0 } ? $" labelled {labelSelector}" : "";

    private static IReadOnlyList<JsonElement> Items(object? list)
    {
        var e = AsElement(list);
        return e.ValueKind == JsonValueKind.Object && e.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array
            ? items.EnumerateArray().Select(i => i.Clone()).ToList()
            : Array.Empty<JsonElement>();
    }

    /// <summary>Sets spec.shutdown ("Stop" or "Terminate"), as `argo stop` and `argo terminate` do.</summary>
    public Task ShutdownAsync(string name, string strategy, CancellationToken ct = default)
    {
        var patch = new V1Patch($"{{\"spec\":{{\"shutdown\":\"{strategy}\"}}}}", V1Patch.PatchType.MergePatch);
        return Call($"set spec.shutdown={strategy} on Workflow {name}", () => _client.CustomObjects.PatchNamespacedCustomObjectAsync(
            patch, Group, Version, Namespace, Plural, name, cancellationToken: ct));
    }

    /// <summary>The pods of a workflow, by node id (the node-id annotation; before Argo 3.4 the pod name is the node id).</summary>
    public async Task<IReadOnlyDictionary<string, string>> WorkflowPodsAsync(string workflow, CancellationToken ct = default)
    {
        var pods = await Call($"list the pods of Workflow {workflow}", () => _client.CoreV1.ListNamespacedPodAsync(
            Namespace, labelSelector: $"{WorkflowLabel}={workflow}", cancellationToken: ct)).ConfigureAwait(false);
        var byNode = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pod in pods.Items)
        {
            var name = pod.Metadata.Name;
            var id = pod.Metadata.Annotations is { } a && a.TryGetValue(NodeIdAnnotation, out var nodeId) ? nodeId : name;
            byNode[id] = name;
        }
        return byNode;
    }

    /// <summary>The log of a pod's container (Axl's steps run in container "main").</summary>
    public async Task<string> PodLogAsync(string pod, string container, CancellationToken ct = default)
    {
        var stream = await Call($"read the log of pod {pod}", () => _client.CoreV1.ReadNamespacedPodLogAsync(pod, Namespace, container: container, cancellationToken: ct)).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
            return await reader.ReadToEndAsync(ct).ConfigureAwait(false);
    }

    private async Task<T> Call<T>(string what, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            var code = (int)ex.Response.StatusCode;
            var message = ApiMessage(ex.Response.Content) ?? ex.Response.ReasonPhrase ?? ex.Message;
            throw new ArgoClusterException($"The Kubernetes API at {Server} refused to {what} in namespace {Namespace}: {code} {ex.Response.StatusCode}: {message}. {Fix(code, what)}".TrimEnd(), ex) { StatusCode = code };
        }
        catch (HttpRequestException ex)
        {
            throw new ArgoClusterException($"Cannot reach the Kubernetes API at {Server} ({Source}) to {what}: {ex.Message}. Fix: check the cluster is up and the kubeconfig's server address (kubectl cluster-info).", ex);
        }
        catch (TaskCanceledException ex) when (!ex.CancellationToken.IsCancellationRequested)
        {
            throw new ArgoClusterException($"The Kubernetes API at {Server} did not answer in time to {what}.", ex);
        }
    }

    private async Task Call(string what, Func<Task> call) => await Call<object?>(what, async () => { await call().ConfigureAwait(false); return null; }).ConfigureAwait(false);

    private static string Fix(int code, string what) => code switch
    {
        401 => "Fix: the credentials of the kubeconfig were refused; log in again (refresh the token) or pick another -KubeContext.",
        403 => "Fix: the account may not do this; grant it the Argo role (create/get/list/patch workflows, create/get/list/update/delete workflowtemplates, list pods, get pods/log) in this namespace, or use -Namespace.",
        404 when what.StartsWith("create", StringComparison.Ordinal) || what.StartsWith("list", StringComparison.Ordinal) =>
            $"Fix: the cluster does not know the {(what.Contains("WorkflowTemplate", StringComparison.Ordinal) ? "WorkflowTemplate" : "Workflow")} kind or the namespace: install Argo Workflows (its CRDs) or pick the right -Namespace.",
        409 when what.StartsWith("create WorkflowTemplate", StringComparison.Ordinal) => "Fix: a WorkflowTemplate of that name exists already; list Axl's with Get-AxlArgoTemplate (axl argo templates) and remove the stale one.",
        422 or 400 => "Fix: the API rejected the object; validate the manifest with ConvertTo-ArgoWorkflow and argo lint.",
        _ => "",
    };

    /// <summary>The message of a Kubernetes Status object (kind: Status, message: ...), or the body's start.</summary>
    internal static string? ApiMessage(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                return m.GetString();
        }
        catch (JsonException) { }
        return body.Length > 300 ? body[..300] + "..." : body;
    }

    private static JsonElement AsElement(object? o) => o switch
    {
        JsonElement e => e.Clone(),
        null => throw new ArgoClusterException("The Kubernetes API answered with an empty body."),
        _ => JsonSerializer.SerializeToElement(o),
    };

    public void Dispose() => _client.Dispose();
}
