using System.Globalization;
using System.Text.Json;
using Axl.Runtime;

namespace Axl.Jobs.Argo;

/// <summary>One node of a workflow's status (status.nodes): a DAG task's pod, its retry group, a skipped task...</summary>
public sealed record ArgoNode(
    string Id, string Name, string DisplayName, string Type, string? TemplateName, string Phase, string? Message,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, IReadOnlyList<string> Children, IReadOnlyList<string> ArtifactLocations)
{
    public bool IsPod => Type == "Pod";
    /// <summary>Succeeded, Failed, Error, Skipped and Omitted are ended phases.</summary>
    public bool HasEnded => Phase is "Succeeded" or "Failed" or "Error" or "Skipped" or "Omitted";
}

/// <summary>
/// What Axl reads from an Argo Workflow object: its name, phase (Pending, Running, Succeeded, Failed, Error),
/// message, times, nodes, spec.shutdown, and which template runs which Axl step (from the IO manifest in each
/// template's `axl step --manifest-json` arguments). Shapes as the Argo API documents them (io.argoproj.workflow.v1alpha1.Workflow).
/// </summary>
public sealed class ArgoWorkflowState
{
    public string Name { get; init; } = "";
    public string Phase { get; init; } = "";
    public string? Message { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Shutdown { get; init; }
    public IReadOnlyList<ArgoNode> Nodes { get; init; } = Array.Empty<ArgoNode>();
    /// <summary>Template name to the Axl step it runs.</summary>
    public IReadOnlyDictionary<string, string> StepTemplates { get; init; } = new Dictionary<string, string>();

    public bool HasEnded => Phase is "Succeeded" or "Failed" or "Error";

    /// <summary>The job status for this phase; a workflow that failed after a shutdown was asked for is Cancelled.</summary>
    public JobStatus JobStatus(bool cancelRequested) => Phase switch
    {
        "Succeeded" => Jobs.JobStatus.Succeeded,
        "Failed" or "Error" => cancelRequested || Shutdown is { Length: > 0 } ? Jobs.JobStatus.Cancelled : Jobs.JobStatus.Failed,
        "Running" => Jobs.JobStatus.Running,
        _ => Jobs.JobStatus.Pending,
    };

    /// <summary>
    /// Reads a Workflow object. The steps' templates are read from its spec.templates, its status.storedTemplates
    /// (where Argo keeps the templates a split workflow's groups resolved by templateRef, keyed
    /// "namespaced/&lt;workflowtemplate&gt;/&lt;template&gt;") and <paramref name="stepTemplates"/> (those of the
    /// WorkflowTemplates the submit installed).
    /// </summary>
    public static ArgoWorkflowState Parse(JsonElement wf, IReadOnlyDictionary<string, string>? stepTemplates = null)
    {
        var metadata = Obj(wf, "metadata");
        var status = Obj(wf, "status");
        var spec = Obj(wf, "spec");
        var nodes = new List<ArgoNode>();
        if (status is { } st && Obj(st, "nodes") is { } ns)
            foreach (var p in ns.EnumerateObject())
            {
                var n = p.Value;
                var artifacts = new List<string>();
                if (Obj(n, "outputs") is { } outs && outs.TryGetProperty("artifacts", out var arts) && arts.ValueKind == JsonValueKind.Array)
                    foreach (var a in arts.EnumerateArray())
                        if (ArtifactLocation(a) is { } loc) artifacts.Add(loc);
                var children = n.TryGetProperty("children", out var c) && c.ValueKind == JsonValueKind.Array
                    ? c.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList() : new List<string>();
                nodes.Add(new ArgoNode(Str(n, "id") ?? p.Name, Str(n, "name") ?? p.Name, Str(n, "displayName") ?? Str(n, "name") ?? p.Name,
                    Str(n, "type") ?? "", Str(n, "templateName") ?? (Obj(n, "templateRef") is { } tr ? Str(tr, "template") : null), Str(n, "phase") ?? "Pending", Str(n, "message"),
                    Time(n, "startedAt"), Time(n, "finishedAt"), children, artifacts));
            }
        return new ArgoWorkflowState
        {
            Name = metadata is { } m ? Str(m, "name") ?? "" : "",
            Phase = status is { } s1 ? Str(s1, "phase") ?? "" : "",
            Message = status is { } s2 ? Str(s2, "message") : null,
            StartedAt = status is { } s3 ? Time(s3, "startedAt") : null,
            FinishedAt = status is { } s4 ? Time(s4, "finishedAt") : null,
            Shutdown = spec is { } sp ? Str(sp, "shutdown") : null,
            Nodes = nodes,
            StepTemplates = StepTemplatesOf(spec, status, stepTemplates),
        };
    }

    private static Dictionary<string, string> StepTemplatesOf(JsonElement? spec, JsonElement? status, IReadOnlyDictionary<string, string>? known)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (known is not null)
            foreach (var (t, step) in known) map[t] = step;
        if (status is { } st && Obj(st, "storedTemplates") is { } stored)
            foreach (var p in stored.EnumerateObject())
                if (StepOf(p.Value) is { } s && Str(p.Value, "name") is { } name) map[name] = s;
        if (spec is { } sp)
            foreach (var (t, step) in ReadStepTemplates(sp)) map[t] = step;
        return map;
    }

    /// <summary>
    /// One result per Axl step, from the nodes of its template: the retry group's phase when the task has retries,
    /// else its pod's; attempts = pods started; skipped when `when` was false.
    /// </summary>
    public IReadOnlyList<AxlStepResult> StepResults(IEnumerable<string>? allSteps = null)
    {
        var results = new List<AxlStepResult>();
        var byTemplate = Nodes.Where(n => n.TemplateName is not null && StepTemplates.ContainsKey(n.TemplateName))
                              .GroupBy(n => n.TemplateName!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var (template, step) in StepTemplates.OrderBy(kv => kv.Value, StringComparer.Ordinal))
        {
            if (!byTemplate.TryGetValue(template, out var nodes))
            {
                results.Add(new AxlStepResult { Name = step, Status = HasEnded ? StepStatus.Skipped : StepStatus.Pending, SkipReason = HasEnded ? "not reached (the workflow ended before it)" : null });
                continue;
            }
            var pods = nodes.Where(n => n.IsPod).OrderBy(n => n.StartedAt ?? DateTimeOffset.MaxValue).ToList();
            var main = nodes.FirstOrDefault(n => n.Type == "Retry") ?? pods.LastOrDefault() ?? nodes[0];
            var r = new AxlStepResult
            {
                Name = step,
                Status = main.Phase switch
                {
                    "Succeeded" => StepStatus.Succeeded,
                    "Failed" or "Error" => StoppedByShutdown(main) ? StepStatus.Cancelled : StepStatus.Failed,
                    "Skipped" or "Omitted" => StepStatus.Skipped,
                    "Running" => StepStatus.Running,
                    _ => StepStatus.Pending,
                },
                Attempts = pods.Count,
                StartTime = nodes.Min(n => n.StartedAt),
                EndTime = main.FinishedAt,
                SkipReason = main.Phase is "Skipped" or "Omitted" ? main.Message ?? "its condition was false" : null,
                OutputPath = pods.LastOrDefault(p => p.Phase == "Succeeded")?.ArtifactLocations.FirstOrDefault(),
            };
            if (main.Phase is "Failed" or "Error")
                r.Error = new StepError(main.Message ?? $"the step's pod ended {main.Phase}",
                    StoppedByShutdown(main) ? FailureKind.Cancelled : main.Phase == "Error" ? FailureKind.Infrastructure : FailureKind.User);
            results.Add(r);
        }
        return results;
    }

    /// <summary>A node Argo ended because of spec.shutdown ("workflow shutdown with strategy: Stop", "Stopped with strategy 'Terminate'").</summary>
    private bool StoppedByShutdown(ArgoNode node) =>
        Shutdown is { Length: > 0 } && node.Message is { } m &&
        (m.Contains("shutdown", StringComparison.OrdinalIgnoreCase) || m.Contains("Stopped with strategy", StringComparison.OrdinalIgnoreCase) || m.Contains("terminated", StringComparison.OrdinalIgnoreCase));

    /// <summary>Template name to step name, from each container's IO manifest (`axl step --manifest-json {...}`).</summary>
    public static IReadOnlyDictionary<string, string> ReadStepTemplates(JsonElement spec)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!spec.TryGetProperty("templates", out var templates) || templates.ValueKind != JsonValueKind.Array) return map;
        foreach (var t in templates.EnumerateArray())
            if (Str(t, "name") is { } name && StepOf(t) is { } step) map[name] = step;
        return map;
    }

    /// <summary>The Axl step a container template runs: the "step" of its IO manifest (`axl step --manifest-json {...}`).</summary>
    private static string? StepOf(JsonElement template)
    {
        if (Obj(template, "container") is not { } container) return null;
        if (!container.TryGetProperty("args", out var args) || args.ValueKind != JsonValueKind.Array) return null;
        var list = args.EnumerateArray().Select(a => a.ValueKind == JsonValueKind.String ? a.GetString() : null).ToList();
        var at = list.IndexOf("--manifest-json");
        if (at < 0 || at + 1 >= list.Count || list[at + 1] is not { } json) return null;
        try
        {
            using var manifest = JsonDocument.Parse(json);
            return Str(manifest.RootElement, "step");
        }
        catch (JsonException) { return null; }
    }

    /// <summary>"s3://bucket/key" (or "s3:key" with the default repository's bucket), likewise gcs/azure/oss/hdfs, "http..." for http.</summary>
    private static string? ArtifactLocation(JsonElement artifact)
    {
        foreach (var kind in new[] { "s3", "gcs", "oss", "azure", "hdfs", "artifactory", "http" })
        {
            if (Obj(artifact, kind) is not { } a) continue;
            var key = Str(a, "key") ?? Str(a, "blob") ?? Str(a, "path") ?? Str(a, "url");
            var bucket = Str(a, "bucket") ?? Str(a, "container");
            if (key is null) return null;
            return kind is "http" or "artifactory" ? key : bucket is null ? $"{kind}:{key}" : $"{kind}://{bucket}/{key.TrimStart('/')}";
        }
        return null;
    }

    private static JsonElement? Obj(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        Str(e, name) is { Length: > 0 } t && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) ? d : null;
}
