using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Axl.Compilers;
using Axl.Compilers.Kfp;
using Axl.Runtime;

namespace Axl.Jobs.Kfp;

/// <summary>A KFP API call that failed: the server's answer (status and message), or no answer at all.</summary>
public sealed class KfpApiException(string message, HttpStatusCode? status = null, Exception? inner = null) : IOException(message, inner)
{
    public HttpStatusCode? Status { get; } = status;
}

/// <summary>
/// The Kfp target of Submit-AxlJob: the workflow is compiled to the KFP v2 pipeline spec here, uploaded to the
/// server, and run there, through the KFP REST API v2beta1 (the endpoints the KFP SDK's client uses):
/// <list type="bullet">
/// <item>POST /apis/v2beta1/pipelines/upload (multipart, file "uploadfile"; query name, display_name,
/// description) creates the pipeline; its name is the workflow's with the first 12 digits of its hash, so the same
/// definition is uploaded once: on 409 AlreadyExists, GET /apis/v2beta1/pipelines/names/{name} finds it;</item>
/// <item>GET /apis/v2beta1/pipelines/{id}/versions (newest first) gives the version to run;</item>
/// <item>POST /apis/v2beta1/runs creates the run (display_name, pipeline_version_reference, runtime_config.parameters);</item>
/// <item>GET /apis/v2beta1/runs/{id} is polled for its state; POST /apis/v2beta1/runs/{id}:terminate cancels it.</item>
/// </list>
/// A bearer token for a multi-user installation comes from the options (Kfp.Token), else $AXL_KFP_TOKEN.
/// </summary>
public sealed class KfpJobTarget : IJobTarget
{
    public const string EndpointVariable = "AXL_KFP_ENDPOINT";
    public const string TokenVariable = "AXL_KFP_TOKEN";

    private readonly TimeSpan _pollInterval;

    public KfpJobTarget() : this(TimeSpan.FromSeconds(5)) { }

    public KfpJobTarget(TimeSpan pollInterval) => _pollInterval = pollInterval;

    public JobTargetKind Kind => JobTargetKind.Kfp;

    public IJobHandle Submit(AxlJobSpec spec, JobSubmitOptions options)
    {
        var endpoint = options.KfpEndpoint ?? Environment.GetEnvironmentVariable(EndpointVariable)
            ?? throw new AxlJobSpecException($"The Kfp target needs the KFP API's address. Fix: give -Endpoint http://host:port to Submit-AxlJob or -Option @{{ Kfp = @{{ Endpoint = '...' }} }} (the ml-pipeline service, port 8888, or the KFP UI's address), or set $env:{EndpointVariable}.", "target");
        if (!Uri.TryCreate(endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
            throw new AxlJobSpecException($"The KFP endpoint '{endpoint}' is not an http(s) URL. Fix: give it like http://ml-pipeline.kubeflow:8888.", "target");
        var wf = options.LoadWorkflow(spec);
        KfpDocument document;
        try
        {
            document = KfpCompiler.Compile(wf, new KfpCompileOptions());
        }
        catch (AxlInvalidWorkflowException ex)
        {
            throw new AxlJobSpecException($"Workflow '{wf.Name}' is not valid: {string.Join(" ", ex.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()))}", "workflowPath");
        }
        catch (AxlCompileException ex)
        {
            throw new AxlJobSpecException($"Workflow '{wf.Name}' cannot be compiled for KFP ({ex.Id}): {ex.Message}", "target");
        }
        var unknown = spec.EffectiveParameters().Keys.Where(k => wf.GetParameter(k) is null).ToList();
        if (unknown.Count > 0)
            throw new AxlJobSpecException($"Workflow '{wf.Name}' has no parameter {string.Join(", ", unknown)}; it has {(wf.Parameters.Count == 0 ? "none" : string.Join(", ", wf.Parameters.Select(x => x.Name)))}.", "parameters");

        var client = new KfpClient(baseUri, options.KfpToken ?? Environment.GetEnvironmentVariable(TokenVariable));
        try
        {
            var name = document.Name + "-" + Hashing.ContentHash.ShortHex(wf.Hash, 12);
            var pipelineId = client.UploadPipeline(name, wf.Name, wf.Options.Description, document.ToPackage(KfpPackageKind.Yaml));
            var versionId = client.LatestVersion(pipelineId);
            var parameters = new JsonObject();
            foreach (var (key, value) in spec.EffectiveParameters())
            {
                var param = wf.GetParameter(key)!;
                parameters[param.Name] = ParameterValue(param, value);
            }
            var runName = string.IsNullOrEmpty(spec.Name) ? wf.Name : spec.Name;
            var runId = client.CreateRun(runName, pipelineId, versionId, parameters);
            return new KfpJobHandle(spec, client, runId, wf.Name, options.KfpPollInterval ?? _pollInterval);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>A parameter value typed as the pipeline declares it (KFP refuses a string for a NUMBER_INTEGER input).</summary>
    internal static JsonNode? ParameterValue(Model.AxlParameter p, object? value)
    {
        if (value is System.Management.Automation.PSObject pso) value = pso.BaseObject;
        var text = CompilerSteps.ParameterText(value);
        try
        {
            return CompilerSteps.KindOf(p) switch
            {
                ParameterKind.Integer => JsonValue.Create(long.Parse(text, System.Globalization.CultureInfo.InvariantCulture)),
                ParameterKind.Number => JsonValue.Create(double.Parse(text, System.Globalization.CultureInfo.InvariantCulture)),
                ParameterKind.Boolean => JsonValue.Create(bool.Parse(text)),
                _ => JsonValue.Create(text),
            };
        }
        catch (FormatException)
        {
            throw new AxlJobSpecException($"Parameter {p.Name} is a {KfpCompiler.ParameterType(p)} in the pipeline, and '{text}' is not one.", "parameters");
        }
        catch (OverflowException)
        {
            throw new AxlJobSpecException($"Parameter {p.Name}: '{text}' is out of range.", "parameters");
        }
    }
}

/// <summary>The few KFP REST API v2beta1 calls the target makes, with errors that name the call and the server's message.</summary>
internal sealed class KfpClient : IDisposable
{
    private readonly HttpClient _http;

    public KfpClient(Uri baseUri, string? token)
    {
        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>Uploads the pipeline, or finds it when one of that name exists (the same content hash); returns its id.</summary>
    public string UploadPipeline(string name, string displayName, string? description, byte[] yaml)
    {
        var query = "apis/v2beta1/pipelines/upload?name=" + Uri.EscapeDataString(name) + "&display_name=" + Uri.EscapeDataString(displayName)
                    + (description is null ? "" : "&description=" + Uri.EscapeDataString(description));
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(yaml);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/x-yaml");
        form.Add(file, "uploadfile", "pipeline.yaml");
        var (status, body) = Send(HttpMethod.Post, query, form, "uploading the pipeline", allowConflict: true);
        if (status == HttpStatusCode.Conflict || (status != HttpStatusCode.OK && Message(body).Contains("already exist", StringComparison.OrdinalIgnoreCase)))
        {
            var (_, found) = Send(HttpMethod.Get, "apis/v2beta1/pipelines/names/" + Uri.EscapeDataString(name), null, $"finding the existing pipeline {name}");
            return Field(found, "pipeline_id", $"the pipeline {name}");
        }
        return Field(body, "pipeline_id", "the uploaded pipeline");
    }

    /// <summary>The newest version of a pipeline (an upload makes one).</summary>
    public string LatestVersion(string pipelineId)
    {
        var (_, body) = Send(HttpMethod.Get, "apis/v2beta1/pipelines/" + Uri.EscapeDataString(pipelineId) + "/versions?page_size=1&sort_by=" + Uri.EscapeDataString("created_at desc"), null, "listing the pipeline's versions");
        var versions = JsonNode.Parse(body)?["pipeline_versions"] as JsonArray;
        if (versions is null || versions.Count == 0 || versions[0]?["pipeline_version_id"]?.GetValue<string>() is not { Length: > 0 } id)
            throw new KfpApiException($"KFP at {BaseAddress} lists no version of pipeline {pipelineId}, though uploading it makes one.");
        return id;
    }

    public string CreateRun(string displayName, string pipelineId, string versionId, JsonObject parameters)
    {
        var request = new JsonObject
        {
            ["display_name"] = displayName,
            ["pipeline_version_reference"] = new JsonObject { ["pipeline_id"] = pipelineId, ["pipeline_version_id"] = versionId },
            ["runtime_config"] = new JsonObject { ["parameters"] = parameters },
        };
        var (_, body) = Send(HttpMethod.Post, "apis/v2beta1/runs", new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"), "creating the run");
        return Field(body, "run_id", "the created run");
    }

    public JsonNode GetRun(string runId)
    {
        var (_, body) = Send(HttpMethod.Get, "apis/v2beta1/runs/" + Uri.EscapeDataString(runId), null, $"reading run {runId}");
        return JsonNode.Parse(body) ?? throw new KfpApiException($"KFP at {BaseAddress} answered run {runId} with an empty body.");
    }

    public void TerminateRun(string runId) =>
        Send(HttpMethod.Post, "apis/v2beta1/runs/" + Uri.EscapeDataString(runId) + ":terminate", new StringContent("{}", Encoding.UTF8, "application/json"), $"terminating run {runId}");

    private (HttpStatusCode Status, string Body) Send(HttpMethod method, string relative, HttpContent? content, string what, bool allowConflict = false)
    {
        using var request = new HttpRequestMessage(method, relative) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = _http.Send(request);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            throw new KfpApiException($"{what}: cannot reach KFP at {BaseAddress}: {ex.Message} Fix: check -Endpoint (or $env:{KfpJobTarget.EndpointVariable}); from outside the cluster, port-forward the ml-pipeline service (kubectl port-forward -n kubeflow svc/ml-pipeline 8888:8888).", null, ex);
        }
        using (response)
        {
            var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if (response.IsSuccessStatusCode || (allowConflict && response.StatusCode == HttpStatusCode.Conflict)) return (response.StatusCode, body);
            var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? $" Fix: a multi-user KFP needs a token: set $env:{KfpJobTarget.TokenVariable}." : "";
            throw new KfpApiException($"{what}: KFP at {BaseAddress} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Message(body)}{hint}", response.StatusCode);
        }
    }

    /// <summary>The message of a google.rpc.Status body (error, message), else the body itself (shortened).</summary>
    internal static string Message(string body)
    {
        try
        {
            var node = JsonNode.Parse(body);
            if (node?["message"]?.GetValue<string>() is { Length: > 0 } m) return m;
            if (node?["error"]?.GetValue<string>() is { Length: > 0 } e) return e;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) { }
        return body.Length > 300 ? body[..300] + "..." : body;
    }

    private string Field(string body, string name, string what)
    {
        try
        {
            if (JsonNode.Parse(body)?[name]?.GetValue<string>() is { Length: > 0 } v) return v;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) { }
        throw new KfpApiException($"KFP at {BaseAddress} returned {what} without '{name}': {(body.Length > 300 ? body[..300] + "..." : body)}");
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>A KFP run, followed by polling GET /apis/v2beta1/runs/{id}: status changes as log lines, then the result.</summary>
internal sealed class KfpJobHandle : PolledJobHandle
{
    private readonly KfpClient _client;
    private readonly string _workflow;
    private readonly TimeSpan _poll;
    private volatile bool _cancelRequested;

    public KfpJobHandle(AxlJobSpec spec, KfpClient client, string runId, string workflow, TimeSpan poll) : base(spec, runId)
    {
        _client = client;
        _workflow = workflow;
        _poll = poll;
        Follow(FollowAsync);
    }

    /// <summary>KFP's run states (V2beta1RuntimeState) as job states; PAUSED and unknown states count as running.</summary>
    internal static JobStatus StatusOf(string? state) => state switch
    {
        "SUCCEEDED" or "SKIPPED" => JobStatus.Succeeded,
        "FAILED" => JobStatus.Failed,
        "CANCELED" => JobStatus.Cancelled,
        "PENDING" or "RUNTIME_STATE_UNSPECIFIED" or null or "" => JobStatus.Pending,
        _ => JobStatus.Running,
    };

    private async Task FollowAsync()
    {
        string? lastState = null;
        try
        {
            while (!Stopping.IsCancellationRequested)
            {
                var run = _client.GetRun(RunId);
                var state = run["state"]?.GetValue<string>();
                if (state != lastState)
                {
                    Emit(new JobLogLine($"run {RunId}: {state}", "info", null, $"KFP run {RunId} is {state}", "RunState"));
                    lastState = state;
                }
                var status = StatusOf(state);
                if (status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled)
                {
                    var tasks = run["run_details"]?["task_details"] as JsonArray;
                    foreach (var t in tasks ?? new JsonArray())
                        Emit(new JobLogLine($"task {t?["display_name"]}: {t?["state"]}", "info", t?["display_name"]?.GetValue<string>(), $"{t?["state"]}", "TaskState"));
                    var error = run["error"]?["message"]?.GetValue<string>();
                    End(new JobResult
                    {
                        JobName = Spec.Name, Status = status, RunId = RunId, Workflow = _workflow,
                        StartTime = Time(run["created_at"]) ?? SubmittedAt, EndTime = Time(run["finished_at"]) ?? DateTimeOffset.UtcNow,
                        Error = status == JobStatus.Succeeded ? null : error ?? (status == JobStatus.Cancelled ? "the run was terminated" : $"the KFP run ended {state}"),
                    });
                    return;
                }
                Set(status);
                await Task.Delay(_poll, Stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception ex) when (ex is KfpApiException or JsonException or InvalidOperationException)
        {
            End(new JobResult { JobName = Spec.Name, Status = JobStatus.Failed, RunId = RunId, Workflow = _workflow, StartTime = SubmittedAt, EndTime = DateTimeOffset.UtcNow, Error = $"lost KFP while following run {RunId}: {ex.Message}" });
        }
    }

    private static DateTimeOffset? Time(JsonNode? node) =>
        node?.GetValue<string>() is { } s && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) && t.Year > 1970 ? t : null;

    /// <summary>Terminates the run on the server; the status becomes Cancelled when KFP reports it CANCELED.</summary>
    public override void Cancel()
    {
        if (HasEnded || _cancelRequested) return;
        _cancelRequested = true;
        _client.TerminateRun(RunId);
    }

    public override void Dispose()
    {
        base.Dispose();
        _client.Dispose();
    }
}
