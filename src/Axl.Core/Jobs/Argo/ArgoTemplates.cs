using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Axl.Compilers.Argo;

namespace Axl.Jobs.Argo;

/// <summary>What a submit did with one WorkflowTemplate of a split workflow.</summary>
public enum ArgoTemplateAction
{
    /// <summary>It did not exist: created.</summary>
    Created,
    /// <summary>It existed with the same content (same workflow version, same options): left as it was.</summary>
    Unchanged,
    /// <summary>It existed for the same workflow version compiled with other options (image, service account...), and no running Workflow used it: replaced.</summary>
    Updated,
}

/// <summary>One WorkflowTemplate a submit installed (or found installed).</summary>
public sealed record ArgoTemplateInstall(string Name, ArgoTemplateAction Action);

/// <summary>
/// A WorkflowTemplate of a split workflow on a cluster (labels axl.dev/workflow, axl.dev/workflow-hash and
/// axl.dev/part), with what Axl knows of it: which workflow and version it belongs to, whether a newer version
/// superseded it, and which running Workflows use it.
/// </summary>
public sealed class ArgoTemplateInfo
{
    public string Name { get; init; } = "";
    public string Namespace { get; init; } = "";
    /// <summary>The Axl workflow's name (annotation axl.dev/workflow; else its label).</summary>
    public string Workflow { get; init; } = "";
    /// <summary>The workflow's Kubernetes name (label axl.dev/workflow): how its templates are grouped.</summary>
    public string WorkflowLabel { get; init; } = "";
    /// <summary>The version: the first 12 hex of the workflow hash (label axl.dev/workflow-hash).</summary>
    public string WorkflowHash { get; init; } = "";
    /// <summary>The Axl version that compiled it (annotation axl.dev/version).</summary>
    public string? AxlVersion { get; init; }
    public int? Part { get; init; }
    public DateTimeOffset? Created { get; init; }
    /// <summary>True when a newer version of the same workflow is on the cluster (and no running Workflow uses this one).</summary>
    public bool Superseded { get; init; }
    /// <summary>The running (not ended) Workflows that use this template.</summary>
    public IReadOnlyList<string> UsedBy { get; init; } = Array.Empty<string>();
    public bool InUse => UsedBy.Count > 0;
    /// <summary>The Workflows using it, comma-separated (for views).</summary>
    public string UsedByText => string.Join(", ", UsedBy);
    /// <summary>The API server it was read from.</summary>
    public string Server { get; init; } = "";

    public override string ToString() => $"WorkflowTemplate {Name} (workflow {Workflow}, version {WorkflowHash}{(Superseded ? ", superseded" : "")}{(InUse ? ", used by " + string.Join(", ", UsedBy) : "")})";
}

/// <summary>What removing a template did: removed, already gone, or refused because a running Workflow uses it.</summary>
public sealed record ArgoTemplateRemoval(string Name, bool Removed, string? Refused)
{
    public override string ToString() => Refused ?? (Removed ? $"removed WorkflowTemplate {Name}" : $"WorkflowTemplate {Name} was already gone");
}

/// <summary>
/// The WorkflowTemplates of split workflows on a cluster: installing a split compile's templates (each created unless
/// it exists with the same content; one of the same name from another version is an error), listing them with the
/// versions that superseded them and the running Workflows that use them, and removing them (never one in use).
/// One place for Submit-AxlJob, Get-/Remove-AxlArgoTemplate and `axl argo templates`.
/// </summary>
public sealed class ArgoTemplates
{
    /// <summary>sha256 of the template's spec as Axl sent it: tells an unchanged template from one compiled with other options.</summary>
    public const string ContentHashAnnotation = ArgoCompiler.LabelPrefix + "template-hash";
    /// <summary>The parent Workflow's annotation listing the WorkflowTemplates it uses (comma-separated).</summary>
    public const string TemplatesAnnotation = ArgoCompiler.LabelPrefix + "templates";
    public const string WorkflowKey = ArgoCompiler.LabelPrefix + "workflow";
    public const string HashLabel = ArgoCompiler.LabelPrefix + "workflow-hash";
    public const string PartLabel = ArgoCompiler.LabelPrefix + "part";
    /// <summary>The label selector of the templates Axl's splitter writes.</summary>
    public const string Selector = WorkflowKey + "," + HashLabel + "," + PartLabel;

    private readonly ArgoCluster _cluster;

    public ArgoTemplates(ArgoCluster cluster) => _cluster = cluster;

    /// <summary>
    /// Creates the WorkflowTemplates of a split compile in install order. One that exists with the same content is
    /// left alone (not rewritten); one of this version compiled with other options is replaced when no running
    /// Workflow uses it; one of the same name from another version (another axl.dev/workflow-hash) is an error.
    /// </summary>
    public async Task<IReadOnlyList<ArgoTemplateInstall>> InstallAsync(ArgoDocument parent, CancellationToken ct = default)
    {
        var done = new List<ArgoTemplateInstall>();
        IReadOnlyDictionary<string, IReadOnlyList<string>>? usage = null;
        foreach (var template in parent.Templates)
        {
            var body = Body(template, _cluster.Namespace);
            var existing = await _cluster.GetWorkflowTemplateAsync(template.Name, ct).ConfigureAwait(false);
            if (existing is null)
            {
                try
                {
                    await _cluster.CreateWorkflowTemplateAsync(body, ct).ConfigureAwait(false);
                    done.Add(new ArgoTemplateInstall(template.Name, ArgoTemplateAction.Created));
                    continue;
                }
                catch (ArgoClusterException ex) when (ex.StatusCode == 409)
                {
                    // Created meanwhile (another submit of the same version): judge what is there now.
                    existing = await _cluster.GetWorkflowTemplateAsync(template.Name, ct).ConfigureAwait(false);
                    if (existing is null) throw;
                }
            }
            var hash = Annotation(existing.Value, HashLabel);
            if (hash != template.WorkflowHash)
                throw new ArgoClusterException(
                    $"WorkflowTemplate {template.Name} in namespace {_cluster.Namespace} is not part of this version of workflow '{parent.Workflow}': its {HashLabel} annotation is {hash ?? "(none)"}, this version's is {template.WorkflowHash}. " +
                    $"Template names carry the workflow hash, so it was changed or made by hand. Fix: remove it when no run uses it (Remove-AxlArgoTemplate {template.Name}, or kubectl delete workflowtemplate {template.Name} -n {_cluster.Namespace}), then submit again.")
                { StatusCode = 409 };
            var sent = (string)body["metadata"]!["annotations"]![ContentHashAnnotation]!;
            var there = Annotation(existing.Value, ContentHashAnnotation)
                        ?? (existing.Value.TryGetProperty("spec", out var spec) ? ContentHash(JsonNode.Parse(spec.GetRawText())) : null);
            if (there == sent)
            {
                done.Add(new ArgoTemplateInstall(template.Name, ArgoTemplateAction.Unchanged));
                continue;
            }
            usage ??= await UsageAsync(ct).ConfigureAwait(false);
            if (usage.TryGetValue(template.Name, out var users))
                throw new ArgoClusterException(
                    $"WorkflowTemplate {template.Name} in namespace {_cluster.Namespace} holds this version of workflow '{parent.Workflow}' compiled with other options (image, service account, artifact store...), and running Workflow {string.Join(", ", users)} uses it. " +
                    "Fix: submit with the options that run used, or wait until it ends (or stop it: Stop-Job) and submit again.")
                { StatusCode = 409 };
            body["metadata"]!["resourceVersion"] = existing.Value.TryGetProperty("metadata", out var m) && m.TryGetProperty("resourceVersion", out var rv) ? rv.GetString() : null;
            await _cluster.ReplaceWorkflowTemplateAsync(body, ct).ConfigureAwait(false);
            done.Add(new ArgoTemplateInstall(template.Name, ArgoTemplateAction.Updated));
        }
        return done;
    }

    /// <summary>The object to create for a WorkflowTemplate: the document as JSON in the namespace, with its content hash.</summary>
    internal static JsonObject Body(ArgoDocument template, string ns)
    {
        var body = JsonNode.Parse(template.ToJson(indented: false))!.AsObject();
        var metadata = body["metadata"]!.AsObject();
        metadata["namespace"] = ns;
        if (metadata["annotations"] is not JsonObject annotations) metadata["annotations"] = annotations = new JsonObject();
        annotations[ContentHashAnnotation] = ContentHash(body["spec"]);
        return body;
    }

    /// <summary>"sha256:&lt;hex&gt;" of a JSON value with its object keys sorted (the API server may reorder them).</summary>
    internal static string ContentHash(JsonNode? node)
    {
        var sb = new StringBuilder();
        Canonical(node, sb);
        return "sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString()))).ToLowerInvariant();
    }

    private static void Canonical(JsonNode? node, StringBuilder sb)
    {
        switch (node)
        {
            case JsonObject o:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in o.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    sb.Append(JsonSerializer.Serialize(k)).Append(':');
                    Canonical(v, sb);
                }
                sb.Append('}');
                break;
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Canonical(a[i], sb);
                }
                sb.Append(']');
                break;
            case null:
                sb.Append("null");
                break;
            default:
                sb.Append(node.ToJsonString());
                break;
        }
    }

    /// <summary>
    /// The split workflows' templates in the namespace, optionally of the workflows matching <paramref name="workflows"/>
    /// (names or Kubernetes names, wildcards * ? [..], case-insensitive) and only the superseded ones: for each workflow
    /// every version (set of templates with one axl.dev/workflow-hash) but the newest, where a version is as new as
    /// its last template or the last Workflow that uses it, and never a template a running Workflow uses.
    /// </summary>
    public async Task<IReadOnlyList<ArgoTemplateInfo>> ListAsync(IReadOnlyCollection<string>? workflows = null, bool supersededOnly = false, CancellationToken ct = default)
    {
        var patterns = (workflows ?? Array.Empty<string>()).Select(Glob).ToList();
        var templates = (await _cluster.ListWorkflowTemplatesAsync(Selector, ct).ConfigureAwait(false))
            .Select(t => new Raw(t)).Where(t => patterns.Count == 0 || patterns.Any(p => p.IsMatch(t.Workflow) || p.IsMatch(t.WorkflowLabel))).ToList();
        if (templates.Count == 0) return Array.Empty<ArgoTemplateInfo>();
        var runs = (await _cluster.ListWorkflowsAsync(WorkflowKey, ct).ConfigureAwait(false)).Select(w => new Run(w)).ToList();
        var usage = Usage(templates, runs);

        var newest = new Dictionary<string, string>(StringComparer.Ordinal); // workflow label -> hash of its newest version
        foreach (var byWorkflow in templates.GroupBy(t => t.WorkflowLabel, StringComparer.Ordinal))
        {
            var versions = byWorkflow.GroupBy(t => t.Hash, StringComparer.Ordinal).Select(v =>
            {
                var names = v.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
                var users = runs.Where(r => r.Templates.Count > 0 ? r.Templates.Overlaps(names) : r.WorkflowLabel == byWorkflow.Key && r.Hash == v.Key).ToList();
                return (Hash: v.Key,
                        When: v.Select(t => t.When).Concat(users.Select(r => r.When)).Max(),
                        Order: v.Select(t => t.Order).Concat(users.Select(r => r.Order)).Max());
            });
            newest[byWorkflow.Key] = versions.OrderByDescending(v => v.When).ThenByDescending(v => v.Order).ThenBy(v => v.Hash, StringComparer.Ordinal).First().Hash;
        }

        // Oldest version first (by its first template), its parts in order.
        var versionOrder = templates.GroupBy(t => (t.WorkflowLabel, t.Hash))
            .ToDictionary(g => g.Key, g => g.Min(t => (t.When, t.Order)));
        return templates
            .OrderBy(t => t.Workflow, StringComparer.Ordinal).ThenBy(t => versionOrder[(t.WorkflowLabel, t.Hash)]).ThenBy(t => t.Hash, StringComparer.Ordinal).ThenBy(t => t.Part).ThenBy(t => t.Name, StringComparer.Ordinal)
            .Select(t =>
            {
                var usedBy = usage.TryGetValue(t.Name, out var u) ? u : Array.Empty<string>();
                return new ArgoTemplateInfo
                {
                    Name = t.Name, Namespace = _cluster.Namespace, Workflow = t.Workflow, WorkflowLabel = t.WorkflowLabel, WorkflowHash = t.Hash,
                    AxlVersion = t.AxlVersion, Part = t.Part, Created = t.Created, UsedBy = usedBy, Server = _cluster.Server,
                    Superseded = newest[t.WorkflowLabel] != t.Hash && usedBy.Count == 0,
                };
            })
            .Where(t => !supersededOnly || t.Superseded)
            .ToList();
    }

    /// <summary>Template name to the running Workflows that use it (their axl.dev/templates annotation, or their workflow hash label).</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> UsageAsync(CancellationToken ct = default)
    {
        var templates = (await _cluster.ListWorkflowTemplatesAsync(Selector, ct).ConfigureAwait(false)).Select(t => new Raw(t)).ToList();
        var runs = (await _cluster.ListWorkflowsAsync(WorkflowKey, ct).ConfigureAwait(false)).Select(w => new Run(w)).ToList();
        return Usage(templates, runs);
    }

    private static Dictionary<string, IReadOnlyList<string>> Usage(IReadOnlyList<Raw> templates, IReadOnlyList<Run> runs)
    {
        var usage = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var running = runs.Where(r => !r.HasEnded).ToList();
        foreach (var t in templates)
        {
            var users = running.Where(r => r.Uses(t)).Select(r => r.Name).Order(StringComparer.Ordinal).ToList();
            if (users.Count > 0) usage[t.Name] = users;
        }
        foreach (var r in running)
            foreach (var name in r.Templates.Where(n => !usage.ContainsKey(n)))
                usage[name] = running.Where(x => x.Templates.Contains(name)).Select(x => x.Name).Order(StringComparer.Ordinal).ToList();
        return usage;
    }

    /// <summary>
    /// Removes a WorkflowTemplate unless a running Workflow uses it (<paramref name="usage"/>: from <see cref="UsageAsync"/>,
    /// read once for a batch; read here when not given).
    /// </summary>
    public async Task<ArgoTemplateRemoval> RemoveAsync(string name, IReadOnlyDictionary<string, IReadOnlyList<string>>? usage = null, CancellationToken ct = default)
    {
        usage ??= await UsageAsync(ct).ConfigureAwait(false);
        if (usage.TryGetValue(name, out var users))
            return new ArgoTemplateRemoval(name, false,
                $"WorkflowTemplate {name} in namespace {_cluster.Namespace} is used by running Workflow {string.Join(", ", users)}: not removed. Fix: wait until it ends (or stop it: Stop-Job, argo stop) and remove it then.");
        var removed = await _cluster.DeleteWorkflowTemplateAsync(name, ct).ConfigureAwait(false);
        return new ArgoTemplateRemoval(name, removed, null);
    }

    /// <summary>A wildcard pattern (* ? [abc]) as a case-insensitive regex of the whole name.</summary>
    internal static Regex Glob(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*': sb.Append(".*"); break;
                case '?': sb.Append('.'); break;
                case '[' when pattern.IndexOf(']', i + 1) is var end and > 0:
                    sb.Append('[').Append(Regex.Escape(pattern[(i + 1)..end]).Replace("\\-", "-", StringComparison.Ordinal)).Append(']');
                    i = end;
                    break;
                case '`' when i + 1 < pattern.Length: sb.Append(Regex.Escape(pattern[++i].ToString())); break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    private static string? Annotation(JsonElement obj, string key) =>
        obj.TryGetProperty("metadata", out var m) && m.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object &&
        a.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Label(JsonElement obj, string key) =>
        obj.TryGetProperty("metadata", out var m) && m.TryGetProperty("labels", out var a) && a.ValueKind == JsonValueKind.Object &&
        a.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Meta(JsonElement obj, string key) =>
        obj.TryGetProperty("metadata", out var m) && m.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";

    private static DateTimeOffset? Time(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    /// <summary>resourceVersion as a number, to order objects created in the same second (etcd's revisions grow; only a tie-breaker).</summary>
    private static long OrderOf(JsonElement obj) => long.TryParse(Meta(obj, "resourceVersion"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private sealed class Raw(JsonElement t)
    {
        public string Name { get; } = Meta(t, "name");
        public string WorkflowLabel { get; } = Label(t, WorkflowKey) ?? "";
        public string Workflow { get; } = Annotation(t, WorkflowKey) ?? Label(t, WorkflowKey) ?? "";
        public string Hash { get; } = Label(t, HashLabel) ?? "";
        public string? AxlVersion { get; } = Annotation(t, ArgoCompiler.LabelPrefix + "version");
        public int? Part { get; } = int.TryParse(Label(t, PartLabel), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : null;
        public DateTimeOffset? Created { get; } = Time(Meta(t, "creationTimestamp"));
        public DateTimeOffset When => Created ?? DateTimeOffset.MinValue;
        public long Order { get; } = OrderOf(t);
    }

    private sealed class Run(JsonElement w)
    {
        public string Name { get; } = Meta(w, "name");
        public string WorkflowLabel { get; } = Label(w, WorkflowKey) ?? "";
        public string Hash { get; } = Label(w, HashLabel) ?? "";
        public HashSet<string> Templates { get; } = (Annotation(w, TemplatesAnnotation) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        public DateTimeOffset When { get; } = Time(Meta(w, "creationTimestamp")) ?? DateTimeOffset.MinValue;
        public long Order { get; } = OrderOf(w);
        /// <summary>Its axl.dev/templates annotation names the template; a Workflow without one (older, or unsplit) by its version label.</summary>
        public bool Uses(Raw t) => Templates.Count > 0 ? Templates.Contains(t.Name) : WorkflowLabel == t.WorkflowLabel && Hash == t.Hash;
        public bool HasEnded { get; } = w.TryGetProperty("status", out var s) && s.TryGetProperty("phase", out var p) && p.GetString() is "Succeeded" or "Failed" or "Error";
    }
}
