using System.Text.Json;
using System.Text.Json.Nodes;
using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Model;
using Axl.Runtime;

namespace Axl.Jobs.Argo;

/// <summary>
/// The Argo target of Submit-AxlJob: compiles the workflow (ArgoCompiler, the same YAML `axl compile --target argo`
/// writes), sets the job's parameter values as the Workflow's arguments, and creates it through the Kubernetes API
/// with metadata.generateName. A split workflow's WorkflowTemplates are installed first (<see cref="ArgoTemplates"/>).
/// The handle follows it there (<see cref="ArgoJobHandle"/>).
/// </summary>
public sealed class ArgoJobTarget : IJobTarget
{
    public JobTargetKind Kind => JobTargetKind.Argo;

    public IJobHandle Submit(AxlJobSpec spec, JobSubmitOptions options) => SubmitDocument(Compile(spec, options), spec, options);

    /// <summary>The Workflow a spec submits (a split workflow's parent with its WorkflowTemplates), compiled as Submit compiles it.</summary>
    public static ArgoDocument Compile(AxlJobSpec spec, JobSubmitOptions options)
    {
        var argo = options.Argo ?? new ArgoSubmitOptions();
        var wf = options.LoadWorkflow(spec);
        try
        {
            return ArgoCompiler.Compile(wf, argo.Compile with { Kind = ArgoKind.Workflow });
        }
        catch (AxlInvalidWorkflowException ex)
        {
            throw new AxlJobSpecException($"Workflow '{wf.Name}' cannot be compiled for Argo: {string.Join(" ", ex.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()))}", "workflowPath");
        }
        catch (AxlCompileException ex)
        {
            throw new AxlJobSpecException($"Workflow '{wf.Name}' cannot be compiled for Argo ({ex.Id}): {ex.Message}", "target");
        }
    }

    /// <summary>
    /// Every object a submit of the document creates, in order, for -WhatIf: "WorkflowTemplates a-1, a-2 (each unless
    /// it exists unchanged), then Workflow a-&lt;generated&gt;", or "Workflow a-&lt;generated&gt;".
    /// </summary>
    public static string DescribeObjects(ArgoDocument document) => document.IsSplit
        ? $"WorkflowTemplate{(document.Templates.Count == 1 ? "" : "s")} {string.Join(", ", document.Templates.Select(t => t.Name))} (each unless it exists unchanged), then Workflow {document.Name}<generated>"
        : $"Workflow {document.Name}<generated>";

    /// <summary>
    /// Creates a compiled Workflow (from ConvertTo-ArgoWorkflow) with the spec's parameter values. A split workflow's
    /// WorkflowTemplates are installed first, in order (<see cref="ArgoTemplates.InstallAsync"/>: an unchanged one is
    /// not rewritten), then the parent is created.
    /// </summary>
    public IJobHandle SubmitDocument(ArgoDocument document, AxlJobSpec spec, JobSubmitOptions options)
    {
        if (document.Kind != nameof(ArgoKind.Workflow))
            throw new AxlJobSpecException($"'{document.Name}' is a {document.Kind}: a template is installed (kubectl apply -f), not run. Fix: compile with -Kind Workflow to submit a run, or submit a Workflow that references the template (workflowTemplateRef).", "kind");
        var argo = options.Argo ?? new ArgoSubmitOptions();
        var body = ToBody(document, spec);
        var cluster = ArgoCluster.Connect(argo with { Namespace = argo.Namespace ?? document.Namespace });
        try
        {
            body["metadata"]!.AsObject()["namespace"] = cluster.Namespace;
            var installed = document.IsSplit
                ? new ArgoTemplates(cluster).InstallAsync(document).GetAwaiter().GetResult()
                : Array.Empty<ArgoTemplateInstall>();
            var created = cluster.CreateWorkflowAsync(body).GetAwaiter().GetResult();
            return new ArgoJobHandle(spec, cluster, created, document.Workflow, argo, StepTemplatesOf(document), installed);
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>Template name to Axl step over the parent and every WorkflowTemplate (step template names are unique in a workflow).</summary>
    internal static IReadOnlyDictionary<string, string> StepTemplatesOf(ArgoDocument document)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in document.Documents)
        {
            using var json = JsonDocument.Parse(d.ToJson(indented: false));
            if (json.RootElement.TryGetProperty("spec", out var spec))
                foreach (var (template, step) in ArgoWorkflowState.ReadStepTemplates(spec)) map[template] = step;
        }
        return map;
    }

    /// <summary>The Workflow object to create: the document as JSON, the job's name as a label, its parameter values as arguments.</summary>
    internal static JsonObject ToBody(ArgoDocument document, AxlJobSpec spec)
    {
        var body = JsonNode.Parse(document.ToJson(indented: false))!.AsObject();
        var metadata = body["metadata"]!.AsObject();
        if (metadata["labels"] is not JsonObject labels) metadata["labels"] = labels = new JsonObject();
        labels[ArgoCompiler.LabelPrefix + "job"] = ArgoCompiler.LabelValue(spec.Name);
        var values = spec.EffectiveParameters();
        if (values.Count == 0) return body;
        var parameters = body["spec"]?["arguments"]?["parameters"] as JsonArray;
        var byName = parameters?.OfType<JsonObject>().Where(o => o["name"] is not null).ToDictionary(o => o["name"]!.GetValue<string>(), StringComparer.OrdinalIgnoreCase)
                     ?? new Dictionary<string, JsonObject>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!byName.TryGetValue(name, out var parameter))
                throw new AxlJobSpecException($"Workflow '{document.Workflow}' has no parameter '{name}'. Its parameters: {(byName.Count == 0 ? "(none)" : string.Join(", ", byName.Keys.Order(StringComparer.Ordinal)))}. Fix: correct the name in -Parameters.", "parameters." + name);
            parameter["value"] = ArgoCompiler.ParameterText(value);
        }
        return body;
    }
}

/// <summary>
/// A Workflow on a cluster, followed by reading it every <see cref="ArgoSubmitOptions.PollInterval"/>: its phase
/// becomes the job's status, each step's pod log (container "main") becomes log lines when the pod ends, and the
/// final status gives per-step results with their output artifacts' locations. Cancel sets spec.shutdown
/// (Stop or Terminate); the workflow then ends Failed in Argo and Cancelled here. A split workflow is one Workflow
/// too: its steps' pods run under it (inside the templateRef'd groups), so the same reads and the same shutdown
/// cover the whole tree; the steps' templates come from its WorkflowTemplates (and status.storedTemplates).
/// </summary>
public sealed class ArgoJobHandle : PolledJobHandle
{
    private readonly ArgoCluster _cluster;
    private readonly ArgoSubmitOptions _options;
    private readonly string _workflow;
    private readonly HashSet<string> _logged = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, string>? _stepTemplates;
    private IReadOnlyDictionary<string, string> _pods = new Dictionary<string, string>();
    private volatile bool _cancelRequested;

    internal ArgoJobHandle(AxlJobSpec spec, ArgoCluster cluster, JsonElement created, string workflow, ArgoSubmitOptions options,
        IReadOnlyDictionary<string, string>? stepTemplates = null, IReadOnlyList<ArgoTemplateInstall>? templates = null)
        : base(spec, NameOf(created))
    {
        _cluster = cluster;
        _options = options;
        _workflow = workflow;
        _stepTemplates = stepTemplates;
        Templates = templates ?? Array.Empty<ArgoTemplateInstall>();
        Follow(FollowAsync);
    }

    /// <summary>The WorkflowTemplates of a split workflow, and whether the submit created them or found them installed.</summary>
    public IReadOnlyList<ArgoTemplateInstall> Templates { get; }

    private static string NameOf(JsonElement created) => ArgoWorkflowState.Parse(created).Name is { Length: > 0 } name
        ? name : throw new ArgoClusterException("The Kubernetes API created the Workflow but gave it no name (metadata.name missing in its answer).");

    public string Namespace => _cluster.Namespace;
    public string Server => _cluster.Server;
    /// <summary>The last status read from the cluster.</summary>
    public ArgoWorkflowState? State { get; private set; }

    private async Task FollowAsync()
    {
        var failures = 0;
        while (!Stopping.IsCancellationRequested)
        {
            try
            {
                var wf = await _cluster.GetWorkflowAsync(RunId, Stopping.Token).ConfigureAwait(false);
                if (wf is null)
                {
                    Finish(JobStatus.Failed, State, $"Workflow {RunId} was deleted from namespace {_cluster.Namespace} before it ended.");
                    return;
                }
                failures = 0;
                var state = ArgoWorkflowState.Parse(wf.Value, _stepTemplates);
                State = state;
                await ReadEndedPodLogsAsync(state).ConfigureAwait(false);
                var status = state.JobStatus(_cancelRequested);
                if (state.HasEnded)
                {
                    Finish(status, state, status == JobStatus.Succeeded ? null : state.Message ?? $"Workflow {RunId} ended {state.Phase}.");
                    return;
                }
                Set(status);
            }
            catch (OperationCanceledException) when (Stopping.IsCancellationRequested) { return; }
            catch (ArgoClusterException ex)
            {
                if (++failures >= _options.MaxPollFailures)
                {
                    Finish(JobStatus.Failed, State, $"lost the cluster while following Workflow {RunId}: {ex.Message}");
                    return;
                }
                Emit(new JobLogLine(ex.Message, "warning", null, $"reading Workflow {RunId} failed ({failures} in a row): {ex.Message}", "PollFailed"));
            }
            try { await Task.Delay(_options.PollInterval, Stopping.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Reads the log of every step pod that ended since the last read, once per pod.</summary>
    private async Task ReadEndedPodLogsAsync(ArgoWorkflowState state)
    {
        var ended = state.Nodes.Where(n => n.IsPod && (n.HasEnded || state.HasEnded) && !_logged.Contains(n.Id)).OrderBy(n => n.FinishedAt ?? DateTimeOffset.MaxValue).ToList();
        if (ended.Count == 0) return;
        if (ended.Any(n => !_pods.ContainsKey(n.Id))) _pods = await _cluster.WorkflowPodsAsync(RunId, Stopping.Token).ConfigureAwait(false);
        foreach (var node in ended)
        {
            _logged.Add(node.Id);
            var step = node.TemplateName is { } t && state.StepTemplates.TryGetValue(t, out var s) ? s : node.DisplayName;
            if (!_pods.TryGetValue(node.Id, out var pod))
            {
                Emit(new JobLogLine($"{step}: {node.Phase}", node.Phase == "Succeeded" ? "info" : "warning", step,
                    $"no pod found for node {node.Name} ({node.Phase}{(node.Message is null ? "" : ": " + node.Message)}); its log is not available", "PodLogMissing"));
                continue;
            }
            string text;
            try { text = await _cluster.PodLogAsync(pod, ArgoCompiler.ContainerName, Stopping.Token).ConfigureAwait(false); }
            catch (ArgoClusterException ex)
            {
                Emit(new JobLogLine(ex.Message, "warning", step, $"the log of pod {pod} is not available: {ex.Message}", "PodLogMissing"));
                continue;
            }
            foreach (var line in text.Split('\n'))
                if (line.TrimEnd('\r') is { Length: > 0 } l) Emit(JobLogLine.Parse(l, step));
        }
    }

    private void Finish(JobStatus status, ArgoWorkflowState? state, string? error)
    {
        var steps = state?.StepResults() ?? Array.Empty<Runtime.AxlStepResult>();
        End(new JobResult
        {
            JobName = Spec.Name,
            Status = status,
            ExitCode = status == JobStatus.Succeeded ? 0 : 1,
            RunId = RunId,
            Workflow = _workflow,
            StartTime = state?.StartedAt ?? SubmittedAt,
            EndTime = state?.FinishedAt ?? DateTimeOffset.UtcNow,
            Steps = steps,
            Artifacts = steps.Where(s => s.OutputPath is not null).ToDictionary(s => s.Name, s => s.OutputPath!, StringComparer.Ordinal),
            Error = error is null ? null : FirstStepError(steps) is { } stepError ? $"{error} ({stepError})" : error,
        });
    }

    private static string? FirstStepError(IEnumerable<Runtime.AxlStepResult> steps) =>
        steps.Where(s => s.Error is not null && s.Status == Runtime.StepStatus.Failed).OrderBy(s => s.EndTime).Select(s => $"step {s.Name}: {s.Error!.Message}").FirstOrDefault();

    /// <summary>Asks Argo to stop the workflow (spec.shutdown); the job ends Cancelled when Argo has stopped it.</summary>
    public override void Cancel()
    {
        if (HasEnded) return;
        _cancelRequested = true;
        _cluster.ShutdownAsync(RunId, _options.Shutdown).GetAwaiter().GetResult();
        Emit(new JobLogLine($"asked Argo to {_options.Shutdown.ToLowerInvariant()} Workflow {RunId}", "info", null, $"spec.shutdown={_options.Shutdown} set on Workflow {RunId}", "ShutdownRequested"));
    }

    public override void Dispose()
    {
        base.Dispose();
        _cluster.Dispose();
    }
}
