using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Axl.TestServices;

/// <summary>
/// A stand-in for a Kubernetes API server with Argo Workflows installed, for tests only: no API server can be installed
/// on this machine. It answers only the calls Axl makes, with the shapes the Kubernetes and Argo API references give:
///   POST  /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows          create (generateName -> name), 201
///   GET   /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows/{name}   read with status (phase, nodes, times)
///   PATCH /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows/{name}   JSON merge patch (spec.shutdown)
///   GET   /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows?labelSelector=...   a WorkflowList
///   POST  /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflowtemplates  create (metadata.name; 409 AlreadyExists)
///   GET   .../workflowtemplates[/{name}], ?labelSelector=...            read one, or a WorkflowTemplateList
///   PUT   .../workflowtemplates/{name}                                   replace (409 Conflict on a stale resourceVersion)
///   DELETE .../workflowtemplates/{name}                                  delete
///   GET   /api/v1/namespaces/{ns}/pods?labelSelector=workflows.argoproj.io/workflow={name}   a PodList
///   GET   /api/v1/namespaces/{ns}/pods/{pod}/log?container=main           text/plain
/// Errors are Status objects (kind: Status, code, reason, message). A bearer token is required (401 otherwise).
/// A create over etcd's object limit (<see cref="MaxObjectBytes"/>) or over the CRD's item limits (200 templates,
/// 200 tasks in a DAG: Argo v4's full CRDs) is refused as a real API server refuses it, so no test passes with an
/// object a cluster would not take; WorkflowTemplates are held to the same limits.
/// A simulated controller advances a workflow one tick per read: the DAG's ready tasks get pods and run, then end
/// (failing the ones named in <see cref="FailTasks"/>), dependents of a failed task never start, and spec.shutdown
/// stops running pods (node message "workflow shutdown with strategy: Stop", workflow message "Stopped with strategy 'Stop'").
/// A task with a templateRef runs the referenced WorkflowTemplate's DAG as a DAG node (`&lt;wf&gt;.part-1`) whose step
/// pods are `&lt;wf&gt;.part-1.&lt;step&gt;` with templateScope "namespaced/&lt;template&gt;", and the resolved templates
/// go to status.storedTemplates ("namespaced/&lt;template&gt;/&lt;name&gt;"), as Argo's controller writes them; a
/// missing WorkflowTemplate errors the group node and fails the workflow. `depends` expressions are evaluated
/// (task, task.Succeeded/Failed/Skipped/Omitted/Errored, &amp;&amp;, ||, !, parentheses); a false one omits the task.
/// Parameters flow as Argo passes them: a group task's arguments become its DAG's inputs, the DAG's outputs
/// (valueFrom parameter or expression tasks['x'].status) its outputs, and `when` is evaluated when it comes down to
/// quoted comparisons ('Skipped' == 'Succeeded', as Axl's gates are); other conditions are true (the fake has no step
/// values) unless the task is in <see cref="SkipTasks"/>. A suspend template (Axl's Gate) ends at once without a pod.
/// The Axl client code is the production code (KubernetesClient through a kubeconfig); only the server is fake.
/// </summary>
public sealed class FakeKubernetesApi : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, Sim> _workflows = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JsonObject> _templates = new(StringComparer.Ordinal); // "ns/name" -> WorkflowTemplate
    private readonly CancellationTokenSource _stop = new();
    private int _counter;

    public FakeKubernetesApi(string token = "axl-test-token")
    {
        Token = token;
        Port = Loopback.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public string Server => $"http://127.0.0.1:{Port}";
    public string Token { get; }
    /// <summary>DAG tasks whose pod fails (exit 1) with a runner-shaped error line in its log.</summary>
    public HashSet<string> FailTasks { get; } = new(StringComparer.Ordinal);
    /// <summary>Step tasks with a `when` that the controller skips (their condition false), as Argo does: a Skipped node, no pod.</summary>
    public HashSet<string> SkipTasks { get; } = new(StringComparer.Ordinal);
    /// <summary>Tasks that keep running until the workflow is shut down.</summary>
    public HashSet<string> HoldTasks { get; } = new(StringComparer.Ordinal);
    /// <summary>
    /// The largest object etcd stores (its request limit; about 1 MiB is what Argo's docs plan for, and what Axl's
    /// compiler keeps under by default): a larger create is refused as a real API server refuses it.
    /// </summary>
    public int MaxObjectBytes { get; set; } = 1024 * 1024;
    /// <summary>The CRD's item limits of Argo v4's full CRDs: spec.templates and each DAG's tasks, at most 200 items.</summary>
    public int MaxTemplates { get; set; } = 200;
    public int MaxDagTasks { get; set; } = 200;
    /// <summary>Answer the next N workflow reads with 503 (the API briefly unavailable).</summary>
    public int FailNextReads;
    /// <summary>Every request: method, path and query, content type, body.</summary>
    public ConcurrentQueue<(string Method, string Path, string? ContentType, string Body)> Requests { get; } = new();

    /// <summary>A kubeconfig that points at this server with its token, default namespace <paramref name="ns"/>.</summary>
    public string WriteKubeConfig(string path, string ns = "argo-jobs", string? token = null)
    {
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {Server}
            contexts:
            - name: fake
              context:
                cluster: fake
                user: fake
                namespace: {ns}
            - name: other
              context:
                cluster: fake
                user: fake
                namespace: other-ns
            current-context: fake
            users:
            - name: fake
              user:
                token: {token ?? Token}
            """);
        return path;
    }

    /// <summary>The stored object of a workflow (as the API would return it).</summary>
    public JsonObject? Workflow(string name)
    {
        if (!_workflows.TryGetValue(name, out var sim)) return null;
        lock (sim) return (JsonObject)sim.Object.DeepClone(); // the simulated controller changes it under the same lock
    }
    public IReadOnlyCollection<string> WorkflowNames => _workflows.Keys.ToList();
    /// <summary>Removes a workflow, as `kubectl delete workflow` would.</summary>
    public void Delete(string name) => _workflows.TryRemove(name, out _);

    /// <summary>The stored WorkflowTemplate, or null.</summary>
    public JsonObject? WorkflowTemplate(string name, string ns = "argo-jobs")
    {
        if (!_templates.TryGetValue(ns + "/" + name, out var t)) return null;
        lock (t) return (JsonObject)t.DeepClone();
    }
    /// <summary>The WorkflowTemplates of a namespace, sorted by name.</summary>
    public IReadOnlyList<string> WorkflowTemplateNames(string ns = "argo-jobs") =>
        _templates.Keys.Where(k => k.StartsWith(ns + "/", StringComparison.Ordinal)).Select(k => k[(ns.Length + 1)..]).Order(StringComparer.Ordinal).ToList();
    /// <summary>Removes a WorkflowTemplate, as `kubectl delete workflowtemplate` would.</summary>
    public void DeleteTemplate(string name, string ns = "argo-jobs") => _templates.TryRemove(ns + "/" + name, out _);
    /// <summary>Ends a workflow now with the given phase (as if it ran to its end), for tests of what uses templates.</summary>
    public void EndWorkflow(string name, string phase = "Succeeded")
    {
        if (!_workflows.TryGetValue(name, out var sim)) return;
        lock (sim)
        {
            var status = sim.Object["status"] as JsonObject ?? (JsonObject)(sim.Object["status"] = new JsonObject());
            status["phase"] = phase;
            status["finishedAt"] = Now();
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (HttpListenerException) { return; }
            catch (ObjectDisposedException) { return; }
            _ = Task.Run(() => Handle(ctx));
        }
    }

    private void Handle(HttpListenerContext ctx)
    {
        var req = ctx.Request;
        string body;
        using (var reader = new StreamReader(req.InputStream, Encoding.UTF8)) body = reader.ReadToEnd();
        var path = req.Url!.AbsolutePath;
        Requests.Enqueue((req.HttpMethod, req.Url.PathAndQuery, req.ContentType, body));
        try
        {
            if (req.Headers["Authorization"] != "Bearer " + Token)
            {
                Status(ctx, 401, "Unauthorized", "Unauthorized");
                return;
            }
            var parts = path.Trim('/').Split('/');
            // /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows[/{name}]
            if (parts.Length >= 6 && parts[0] == "apis" && parts[1] == "argoproj.io" && parts[2] == "v1alpha1" && parts[3] == "namespaces" && parts[5] == "workflowtemplates")
            {
                var ns = parts[4];
                if (parts.Length == 6 && req.HttpMethod == "POST") { CreateTemplate(ctx, ns, body); return; }
                if (parts.Length == 6 && req.HttpMethod == "GET") { List(ctx, "WorkflowTemplateList", req.QueryString["labelSelector"], _templates.Where(kv => kv.Key.StartsWith(ns + "/", StringComparison.Ordinal)).Select(kv => kv.Value)); return; }
                if (parts.Length == 7 && _templates.TryGetValue(ns + "/" + parts[6], out var wt))
                {
                    if (req.HttpMethod == "GET") { lock (wt) Json(ctx, 200, wt); return; }
                    if (req.HttpMethod == "PUT") { ReplaceTemplate(ctx, ns, parts[6], wt, body); return; }
                    if (req.HttpMethod == "DELETE")
                    {
                        _templates.TryRemove(ns + "/" + parts[6], out _);
                        Json(ctx, 200, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success", ["details"] = new JsonObject { ["name"] = parts[6], ["group"] = "argoproj.io", ["kind"] = "workflowtemplates" } });
                        return;
                    }
                }
                if (parts.Length == 7) { Status(ctx, 404, "NotFound", $"workflowtemplates.argoproj.io \"{parts[6]}\" not found"); return; }
            }
            if (parts.Length >= 6 && parts[0] == "apis" && parts[1] == "argoproj.io" && parts[2] == "v1alpha1" && parts[3] == "namespaces" && parts[5] == "workflows")
            {
                var ns = parts[4];
                if (parts.Length == 6 && req.HttpMethod == "POST") { Create(ctx, ns, body); return; }
                if (parts.Length == 6 && req.HttpMethod == "GET")
                {
                    var objects = _workflows.Values.Where(w => w.Namespace == ns).Select(w => { lock (w) return (JsonObject)w.Object.DeepClone(); }).ToList();
                    List(ctx, "WorkflowList", req.QueryString["labelSelector"], objects);
                    return;
                }
                if (parts.Length == 7 && _workflows.TryGetValue(parts[6], out var sim) && sim.Namespace == ns)
                {
                    if (req.HttpMethod == "GET") { Read(ctx, sim); return; }
                    if (req.HttpMethod == "PATCH") { Patch(ctx, sim, req.ContentType, body); return; }
                }
                if (parts.Length == 7) { Status(ctx, 404, "NotFound", $"workflows.argoproj.io \"{parts[6]}\" not found"); return; }
            }
            // /api/v1/namespaces/{ns}/pods[/{pod}/log]
            if (parts.Length >= 5 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces" && parts[4] == "pods" && req.HttpMethod == "GET")
            {
                var ns = parts[3];
                if (parts.Length == 5) { Pods(ctx, ns, req.QueryString["labelSelector"]); return; }
                if (parts.Length == 7 && parts[6] == "log") { PodLog(ctx, ns, parts[5], req.QueryString["container"]); return; }
            }
            Status(ctx, 404, "NotFound", $"the server could not find the requested resource ({req.HttpMethod} {path})");
        }
        catch (Exception ex)
        {
            Status(ctx, 500, "InternalError", ex.Message);
        }
    }

    private void Create(HttpListenerContext ctx, string ns, string body)
    {
        var obj = JsonNode.Parse(body)!.AsObject();
        if (Refused(ctx, ns, body, obj, "Workflow")) return;
        var meta = obj["metadata"]!.AsObject();
        var n = Interlocked.Increment(ref _counter);
        var name = (string?)meta["name"] ?? (string)meta["generateName"]! + Suffix(n);
        meta["name"] = name;
        meta["namespace"] = ns;
        meta["uid"] = Guid.NewGuid().ToString();
        meta["resourceVersion"] = (1000 + n).ToString(CultureInfo.InvariantCulture);
        meta["creationTimestamp"] = Now();
        var sim = new Sim(this, name, ns, obj);
        lock (sim)
        {
            _workflows[name] = sim;
            Json(ctx, 201, obj);
        }
    }

    private void CreateTemplate(HttpListenerContext ctx, string ns, string body)
    {
        var obj = JsonNode.Parse(body)!.AsObject();
        if (Refused(ctx, ns, body, obj, "WorkflowTemplate")) return;
        var meta = obj["metadata"]!.AsObject();
        if (meta["name"] is null)
        {
            // generateName is allowed by the API, but Axl always names its templates.
            Status(ctx, 422, "Invalid", "WorkflowTemplate.argoproj.io \"\" is invalid: metadata.name: Required value: name is required");
            return;
        }
        var name = (string)meta["name"]!;
        var n = Interlocked.Increment(ref _counter);
        meta["namespace"] = ns;
        meta["uid"] = Guid.NewGuid().ToString();
        meta["resourceVersion"] = (1000 + n).ToString(CultureInfo.InvariantCulture);
        meta["creationTimestamp"] = Now();
        meta["generation"] = 1;
        if (!_templates.TryAdd(ns + "/" + name, obj))
        {
            Status(ctx, 409, "AlreadyExists", $"workflowtemplates.argoproj.io \"{name}\" already exists");
            return;
        }
        lock (obj) Json(ctx, 201, obj);
    }

    private void ReplaceTemplate(HttpListenerContext ctx, string ns, string name, JsonObject current, string body)
    {
        var obj = JsonNode.Parse(body)!.AsObject();
        if (Refused(ctx, ns, body, obj, "WorkflowTemplate")) return;
        var meta = obj["metadata"]!.AsObject();
        if ((string?)meta["name"] != name)
        {
            Status(ctx, 400, "BadRequest", $"the name of the object ({meta["name"]}) does not match the name on the URL ({name})");
            return;
        }
        lock (current)
        {
            var currentMeta = current["metadata"]!.AsObject();
            if ((string?)meta["resourceVersion"] is not { } version)
            {
                Status(ctx, 422, "Invalid", $"WorkflowTemplate.argoproj.io \"{name}\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update");
                return;
            }
            if (version != (string?)currentMeta["resourceVersion"])
            {
                Status(ctx, 409, "Conflict", $"Operation cannot be fulfilled on workflowtemplates.argoproj.io \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
                return;
            }
            var n = Interlocked.Increment(ref _counter);
            meta["namespace"] = ns;
            meta["uid"] = currentMeta["uid"]?.DeepClone();
            meta["creationTimestamp"] = currentMeta["creationTimestamp"]?.DeepClone();
            meta["generation"] = ((int?)currentMeta["generation"] ?? 1) + 1;
            meta["resourceVersion"] = (1000 + n).ToString(CultureInfo.InvariantCulture);
            _templates[ns + "/" + name] = obj;
        }
        lock (obj) Json(ctx, 200, obj);
    }

    /// <summary>What a real API server refuses on a create or update: a wrong kind or namespace, no name, an object over etcd's size limit, lists over the CRD's maxItems.</summary>
    private bool Refused(HttpListenerContext ctx, string ns, string body, JsonObject obj, string kind)
    {
        if ((string?)obj["apiVersion"] != "argoproj.io/v1alpha1" || (string?)obj["kind"] != kind)
        {
            Status(ctx, 400, "BadRequest", $"the API version in the data ({obj["apiVersion"]}) and kind ({obj["kind"]}) do not match the expected argoproj.io/v1alpha1 {kind}");
            return true;
        }
        var meta = obj["metadata"]!.AsObject();
        if ((string?)meta["namespace"] is { } given && given != ns)
        {
            Status(ctx, 400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
            return true;
        }
        if (meta["generateName"] is null && meta["name"] is null)
        {
            Status(ctx, 422, "Invalid", $"{kind}.argoproj.io \"\" is invalid: metadata.name: Required value: name or generateName is required");
            return true;
        }
        if (Encoding.UTF8.GetByteCount(body) > MaxObjectBytes)
        {
            Status(ctx, 500, "InternalError", "etcdserver: request is too large");
            return true;
        }
        var shown = (string?)meta["name"] ?? (string?)meta["generateName"] ?? "";
        if (obj["spec"]?["templates"] is JsonArray templates)
        {
            if (templates.Count > MaxTemplates)
            {
                Status(ctx, 422, "Invalid", $"{kind}.argoproj.io \"{shown}\" is invalid: spec.templates: Too many: {templates.Count}: must have at most {MaxTemplates} items");
                return true;
            }
            for (var i = 0; i < templates.Count; i++)
                if (templates[i]?["dag"]?["tasks"] is JsonArray tasks && tasks.Count > MaxDagTasks)
                {
                    Status(ctx, 422, "Invalid", $"{kind}.argoproj.io \"{shown}\" is invalid: spec.templates[{i}].dag.tasks: Too many: {tasks.Count}: must have at most {MaxDagTasks} items");
                    return true;
                }
        }
        return false;
    }

    private static void List(HttpListenerContext ctx, string kind, string? selector, IEnumerable<JsonObject> objects)
    {
        List<Func<JsonObject?, bool>> terms;
        try { terms = Selector(selector); }
        catch (FormatException ex)
        {
            Status(ctx, 400, "BadRequest", $"unable to parse requirement: {ex.Message}");
            return;
        }
        var items = new JsonArray();
        foreach (var o in objects)
            lock (o)
                if (terms.All(t => t(o["metadata"]?["labels"] as JsonObject))) items.Add(o.DeepClone());
        Json(ctx, 200, new JsonObject { ["apiVersion"] = "argoproj.io/v1alpha1", ["kind"] = kind, ["metadata"] = new JsonObject { ["resourceVersion"] = "1" }, ["items"] = items });
    }

    /// <summary>A label selector's terms: key, !key, key=value, key==value, key!=value (comma-separated).</summary>
    private static List<Func<JsonObject?, bool>> Selector(string? selector)
    {
        var terms = new List<Func<JsonObject?, bool>>();
        foreach (var raw in (selector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw.Contains(' ') || raw.Contains('(')) throw new FormatException($"'{raw}' (set-based terms are not served by this fake)");
            if (raw.IndexOf("!=", StringComparison.Ordinal) is var ne and > 0)
            {
                var (k, v) = (raw[..ne], raw[(ne + 2)..]);
                terms.Add(l => (string?)l?[k] != v);
            }
            else if (raw.IndexOf('=') is var eq and > 0)
            {
                var k = raw[..eq];
                var v = raw[(eq + 1)..].TrimStart('=');
                terms.Add(l => (string?)l?[k] == v);
            }
            else if (raw.StartsWith('!')) terms.Add(l => l?[raw[1..]] is null);
            else terms.Add(l => l?[raw] is not null);
        }
        return terms;
    }

    private void Read(HttpListenerContext ctx, Sim sim)
    {
        if (FailNextReads > 0)
        {
            Interlocked.Decrement(ref FailNextReads);
            Status(ctx, 503, "ServiceUnavailable", "the server is currently unable to handle the request");
            return;
        }
        lock (sim) { sim.Tick(); Json(ctx, 200, sim.Object); }
    }

    private static void Patch(HttpListenerContext ctx, Sim sim, string? contentType, string body)
    {
        if (contentType?.StartsWith("application/merge-patch+json", StringComparison.Ordinal) != true)
        {
            Status(ctx, 415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {contentType})");
            return;
        }
        lock (sim)
        {
            Merge(sim.Object, JsonNode.Parse(body)!.AsObject());
            Json(ctx, 200, sim.Object);
        }
    }

    private void Pods(HttpListenerContext ctx, string ns, string? selector)
    {
        var items = new JsonArray();
        const string prefix = "workflows.argoproj.io/workflow=";
        if (selector?.StartsWith(prefix, StringComparison.Ordinal) == true && _workflows.TryGetValue(selector[prefix.Length..], out var sim) && sim.Namespace == ns)
            lock (sim)
                foreach (var pod in sim.Pods.Values)
                    items.Add(new JsonObject
                    {
                        ["metadata"] = new JsonObject
                        {
                            ["name"] = pod.Name, ["namespace"] = ns,
                            ["labels"] = new JsonObject { ["workflows.argoproj.io/workflow"] = sim.Name, ["workflows.argoproj.io/completed"] = pod.Ended ? "true" : "false" },
                            ["annotations"] = new JsonObject { ["workflows.argoproj.io/node-id"] = pod.NodeId, ["workflows.argoproj.io/node-name"] = pod.NodeName },
                        },
                        ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "wait" }, new JsonObject { ["name"] = "main" }) },
                        ["status"] = new JsonObject { ["phase"] = pod.Phase },
                    });
        Json(ctx, 200, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "PodList", ["metadata"] = new JsonObject { ["resourceVersion"] = "1" }, ["items"] = items });
    }

    private void PodLog(HttpListenerContext ctx, string ns, string podName, string? container)
    {
        foreach (var sim in _workflows.Values.Where(s => s.Namespace == ns))
            lock (sim)
                if (sim.Pods.Values.FirstOrDefault(p => p.Name == podName) is { } pod)
                {
                    if (container is not ("main" or "wait"))
                    {
                        Status(ctx, 400, "BadRequest", $"container {container} is not valid for pod {podName}");
                        return;
                    }
                    var bytes = Encoding.UTF8.GetBytes(container == "main" ? pod.Log : "time=\"...\" level=info msg=\"Starting Workflow Executor\"\n");
                    ctx.Response.StatusCode = 200;
                    ctx.Response.ContentType = "text/plain";
                    ctx.Response.OutputStream.Write(bytes);
                    ctx.Response.Close();
                    return;
                }
        Status(ctx, 404, "NotFound", $"pods \"{podName}\" not found");
    }

    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null) target.Remove(key);
            else if (value is JsonObject po && target[key] is JsonObject to) Merge(to, po);
            else target[key] = value.DeepClone();
        }
    }

    private static void Json(HttpListenerContext ctx, int code, JsonNode body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        ctx.Response.OutputStream.Write(bytes);
        ctx.Response.Close();
    }

    private static void Status(HttpListenerContext ctx, int code, string reason, string message) =>
        Json(ctx, code, new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure",
            ["message"] = message, ["reason"] = reason, ["code"] = code,
        });

    private static string Suffix(int n)
    {
        const string chars = "bcdfghjklmnpqrstvwxz2456789";
        var x = (uint)(n * 2654435761);
        var sb = new StringBuilder();
        for (var i = 0; i < 5; i++) { sb.Append(chars[(int)(x % (uint)chars.Length)]); x /= (uint)chars.Length; }
        return sb.ToString();
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static uint Fnv(string s)
    {
        var h = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(s)) { h ^= b; h *= 16777619u; }
        return h;
    }

    public void Dispose()
    {
        _stop.Cancel();
        try { _listener.Stop(); _listener.Close(); } catch (ObjectDisposedException) { }
    }

    private sealed class Pod
    {
        public string Name = "", NodeId = "", NodeName = "", Phase = "Running", Log = "";
        public bool Ended => Phase is "Succeeded" or "Failed";
    }

    /// <summary>A DAG being run: the workflow's entrypoint, or the DAG of a WorkflowTemplate a group task references.</summary>
    private sealed class Scope
    {
        public string NodeId = "", NodeName = "";
        /// <summary>The WorkflowTemplate it comes from; null for the workflow's own templates.</summary>
        public string? TemplateSource;
        /// <summary>The templates its tasks' `template:` names resolve in.</summary>
        public JsonArray Templates = new();
        public List<SimTask> Tasks = new();
        /// <summary>inputs.parameters of a group's DAG: its task's arguments, resolved in the calling scope.</summary>
        public Dictionary<string, string> Inputs = new(StringComparer.Ordinal);
        public JsonObject Dag = new();
        public bool Ended => Tasks.All(t => t.State is not "Running");
    }

    private sealed class SimTask
    {
        public string Name = "", NodeId = "", NodeName = "";
        public JsonObject Task = new();
        /// <summary>null: not started; Running, Succeeded, Failed, Error, Skipped, Omitted.</summary>
        public string? State;
        public Scope? Group;
        public Dictionary<string, string> Outputs = new(StringComparer.Ordinal);
        public bool HasEnded => State is not (null or "Running");
    }

    /// <summary>One workflow and the simulated controller's state for it.</summary>
    private sealed class Sim
    {
        private readonly FakeKubernetesApi _api;
        private Scope? _root;
        private int _ticks;
        private bool _failed;
        private string? _failedNode;

        public Sim(FakeKubernetesApi api, string name, string ns, JsonObject obj)
        {
            _api = api;
            Name = name;
            Namespace = ns;
            Object = obj;
        }

        public string Name { get; }
        public string Namespace { get; }
        public JsonObject Object { get; }
        public Dictionary<string, Pod> Pods { get; } = new(StringComparer.Ordinal);

        private JsonObject Status => Object["status"] as JsonObject ?? (JsonObject)(Object["status"] = new JsonObject());
        private JsonObject Nodes => Status["nodes"] as JsonObject ?? (JsonObject)(Status["nodes"] = new JsonObject());
        private string IdOf(string nodeName) => $"{Name}-{Fnv(nodeName) % 10_000_000_000L}";

        public void Tick()
        {
            var phase = (string?)Status["phase"];
            if (phase is "Succeeded" or "Failed" or "Error") return;
            if (_ticks++ == 0)
            {
                // The controller's first pass: the workflow is Running with its DAG node.
                var entry = (string)Object["spec"]!["entrypoint"]!;
                var templates = Object["spec"]!["templates"]!.AsArray();
                Status["phase"] = "Running";
                Status["startedAt"] = Now();
                Nodes[Name] = new JsonObject
                {
                    ["id"] = Name, ["name"] = Name, ["displayName"] = Name, ["type"] = "DAG",
                    ["templateName"] = entry, ["templateScope"] = "local/" + Name, ["phase"] = "Running", ["startedAt"] = Now(),
                    ["children"] = new JsonArray(),
                };
                _root = NewScope(Name, Name, null, templates, Find(templates, entry)!);
                Progress();
                return;
            }
            var shutdown = (string?)Object["spec"]?["shutdown"];
            if (shutdown is { Length: > 0 })
            {
                Shutdown(_root!, shutdown);
                EndWorkflow("Failed", $"Stopped with strategy '{shutdown}'");
                return;
            }
            Advance(_root!);
            Progress();
            if (!_root!.Ended || _root.Tasks.Any(t => t.State is null && !_failed && Ready(_root, t))) return;
            if (_failed) EndWorkflow("Failed", $"child '{_failedNode}' failed");
            else EndWorkflow("Succeeded", null);
        }

        private static JsonObject? Find(JsonArray templates, string name) => templates.OfType<JsonObject>().FirstOrDefault(t => (string?)t["name"] == name);

        private Scope NewScope(string nodeId, string nodeName, string? source, JsonArray templates, JsonObject dag)
        {
            var scope = new Scope { NodeId = nodeId, NodeName = nodeName, TemplateSource = source, Templates = templates, Dag = dag };
            foreach (var task in (dag["dag"]?["tasks"] as JsonArray ?? new JsonArray()).OfType<JsonObject>())
            {
                var name = (string)task["name"]!;
                var nodeNameOf = $"{nodeName}.{name}";
                scope.Tasks.Add(new SimTask { Name = name, Task = task, NodeName = nodeNameOf, NodeId = IdOf(nodeNameOf) });
            }
            return scope;
        }

        /// <summary>Ends running pods (except held ones) and finished groups, then starts the tasks whose dependencies are met.</summary>
        private void Advance(Scope scope)
        {
            foreach (var t in scope.Tasks.Where(t => t.State == "Running").ToList())
            {
                if (t.Group is { } group)
                {
                    Advance(group);
                    if (group.Ended && !group.Tasks.Any(x => x.State is null && !_failed && Ready(group, x)))
                    {
                        EndNode(t, group.Tasks.Any(x => x.State is "Failed" or "Error") ? "Failed" : "Succeeded", null);
                        var outputs = new JsonArray();
                        foreach (var o in (group.Dag["outputs"]?["parameters"] as JsonArray ?? new JsonArray()).OfType<JsonObject>())
                        {
                            var valueFrom = o["valueFrom"] as JsonObject;
                            string? value = null;
                            if ((string?)valueFrom?["parameter"] is { } expr && Substitute(group, expr) is var v && !v.Contains("{{", StringComparison.Ordinal)) value = v;
                            else if ((string?)valueFrom?["expression"] is { } e && Regex.Match(e, @"^tasks\['([^']+)'\]\.status$") is { Success: true } m) value = group.Tasks.FirstOrDefault(x => x.Name == m.Groups[1].Value)?.State;
                            value ??= (string?)valueFrom?["default"] ?? "";
                            t.Outputs[(string)o["name"]!] = value;
                            outputs.Add(new JsonObject { ["name"] = (string)o["name"]!, ["value"] = value });
                        }
                        if (outputs.Count > 0) Nodes[t.NodeId]!["outputs"] = new JsonObject { ["parameters"] = outputs };
                    }
                    continue;
                }
                if (_api.HoldTasks.Contains(t.Name)) continue;
                var step = StepOf(scope, t) ?? t.Name;
                if (_api.FailTasks.Contains(t.Name))
                    EndPod(t, "Failed", "Error (exit code 1)", Line(step, "Failed", $"step '{step}' failed: the script threw 'bad input in {step}'", "error"));
                else
                    EndPod(t, "Succeeded", null, Line(step, "Running", $"step '{step}' starting", "info") + Line(step, "Succeeded", $"step '{step}' succeeded", "info"));
            }
            if (_failed) return; // failFast: nothing new starts once a task failed
            foreach (var t in scope.Tasks.Where(t => t.State is null && Ready(scope, t)).ToList())
            {
                if (!Runs(scope, t))
                {
                    var extra = new JsonObject { ["message"] = "omitted: depends condition not met" };
                    if ((string?)t.Task["template"] is { } template) extra["templateName"] = template;
                    AddNode(scope, t, "Skipped", "Omitted", extra);
                    t.State = "Omitted";
                    continue;
                }
                Start(scope, t);
            }
        }

        private static IEnumerable<string> DepsOf(SimTask t) =>
            t.Task["depends"] is JsonValue d ? Regex.Matches((string)d!, @"[A-Za-z0-9][A-Za-z0-9_-]*(?=\.|\s|\)|$)").Select(m => m.Value).Where(x => x is not ("Succeeded" or "Failed" or "Errored" or "Skipped" or "Omitted" or "Daemoned" or "AnySucceeded" or "AllFailed")).Distinct()
            : (t.Task["dependencies"] as JsonArray)?.Select(x => (string)x!) ?? Enumerable.Empty<string>();

        private static bool Ready(Scope scope, SimTask t) => DepsOf(t).All(d => scope.Tasks.FirstOrDefault(x => x.Name == d)?.HasEnded ?? true);

        /// <summary>Whether a ready task runs: `dependencies` need every one succeeded (or skipped); `depends` is evaluated.</summary>
        private static bool Runs(Scope scope, SimTask t)
        {
            string? StateOf(string name) => scope.Tasks.FirstOrDefault(x => x.Name == name)?.State;
            if (t.Task["depends"] is JsonValue d) return new Depends((string)d!, StateOf).Evaluate();
            return DepsOf(t).All(x => StateOf(x) is "Succeeded" or "Skipped" or "Omitted");
        }

        private string? StepOf(Scope scope, SimTask t)
        {
            if ((string?)t.Task["template"] is not { } name || Find(scope.Templates, name) is not { } template) return null;
            var args = (template["container"]?["args"] as JsonArray)?.Select(a => (string?)a).ToList();
            var at = args?.IndexOf("--manifest-json") ?? -1;
            return at >= 0 ? (string?)JsonNode.Parse(args![at + 1]!)!["step"] : null;
        }

        /// <summary>{{inputs.parameters.x}}, {{tasks.x.status}}, {{tasks.x.outputs.parameters.y}}, {{workflow.parameters.x}} as far as they are known.</summary>
        private string Substitute(Scope scope, string text) => Regex.Replace(text, @"\{\{\s*([^{}]+?)\s*\}\}", m =>
        {
            var e = m.Groups[1].Value.Split('.');
            string? value = e switch
            {
                ["inputs", "parameters", var n] => scope.Inputs.GetValueOrDefault(n),
                ["tasks", var x, "status"] => scope.Tasks.FirstOrDefault(t => t.Name == x)?.State,
                ["tasks", var x, "outputs", "parameters", var n] => scope.Tasks.FirstOrDefault(t => t.Name == x)?.Outputs.GetValueOrDefault(n),
                ["workflow", "parameters", var n] => (Object["spec"]?["arguments"]?["parameters"] as JsonArray)?.OfType<JsonObject>().Where(p => (string?)p["name"] == n).Select(p => (string?)p["value"]).FirstOrDefault(),
                _ => null,
            };
            return value ?? m.Value;
        });

        /// <summary>A `when` that came down to quoted comparisons joined by &amp;&amp;; null when it is anything else.</summary>
        private static bool? When(string text)
        {
            var result = true;
            foreach (var part in text.Split("&&"))
            {
                var m = Regex.Match(part, @"^\s*\(?\s*'([^']*)'\s*(==|!=)\s*'([^']*)'\s*\)?\s*$");
                if (!m.Success) return null;
                result &= (m.Groups[1].Value == m.Groups[3].Value) == (m.Groups[2].Value == "==");
            }
            return result;
        }

        private void Start(Scope scope, SimTask t)
        {
            if ((string?)t.Task["when"] is { } when)
            {
                var text = Substitute(scope, when);
                var isGate = (string?)t.Task["template"] is { } tn && Find(scope.Templates, tn)?["suspend"] is not null;
                var runs = !isGate && _api.SkipTasks.Contains(t.Name) ? false : When(text) ?? true;
                if (!runs)
                {
                    var extra = new JsonObject { ["message"] = $"when '{text}' evaluated false" };
                    if ((string?)t.Task["template"] is { } skippedTemplate) extra["templateName"] = skippedTemplate;
                    AddNode(scope, t, "Skipped", "Skipped", extra);
                    t.State = "Skipped";
                    return;
                }
            }
            if (t.Task["templateRef"] is JsonObject reference)
            {
                var wtName = (string)reference["name"]!;
                var inner = (string)reference["template"]!;
                var node = AddNode(scope, t, "DAG", "Running", new JsonObject { ["templateRef"] = reference.DeepClone(), ["children"] = new JsonArray() });
                if (!_api._templates.TryGetValue(Namespace + "/" + wtName, out var wt) || Find(wt["spec"]!["templates"]!.AsArray(), inner) is not { } dag)
                {
                    node["phase"] = "Error";
                    node["message"] = $"workflowtemplates.argoproj.io \"{wtName}\" not found";
                    node["finishedAt"] = Now();
                    t.State = "Error";
                    _failed = true;
                    _failedNode ??= t.NodeId;
                    return;
                }
                JsonArray templates;
                lock (wt) templates = (JsonArray)wt["spec"]!["templates"]!.DeepClone();
                Stored(wtName, dag);
                t.Group = NewScope(t.NodeId, t.NodeName, wtName, templates, dag);
                foreach (var a in (t.Task["arguments"]?["parameters"] as JsonArray ?? new JsonArray()).OfType<JsonObject>())
                    t.Group.Inputs[(string)a["name"]!] = Substitute(scope, (string?)a["value"] ?? "");
                t.State = "Running";
                return;
            }
            var templateName = (string)t.Task["template"]!;
            var template = Find(scope.Templates, templateName);
            if (scope.TemplateSource is { } source && template is not null) Stored(source, template);
            if (template?["suspend"] is not null)
            {
                // Axl's Gate: a suspend of 0 s ends at once and runs no pod.
                AddNode(scope, t, "Suspend", "Succeeded", new JsonObject { ["templateName"] = templateName });
                t.State = "Succeeded";
                return;
            }
            AddNode(scope, t, "Pod", "Running", new JsonObject { ["templateName"] = templateName, ["hostNodeName"] = "node-1" });
            Pods[t.NodeId] = new Pod { Name = $"{Name}-{templateName}-{Fnv(t.NodeName)}", NodeId = t.NodeId, NodeName = t.NodeName };
            t.State = "Running";
        }

        private JsonObject AddNode(Scope scope, SimTask t, string type, string phase, JsonObject extra)
        {
            var node = new JsonObject
            {
                ["id"] = t.NodeId, ["name"] = t.NodeName, ["displayName"] = t.Name, ["type"] = type,
                ["templateScope"] = scope.TemplateSource is { } s ? "namespaced/" + s : "local/" + Name,
                ["phase"] = phase, ["boundaryID"] = scope.NodeId, ["startedAt"] = Now(),
            };
            foreach (var (k, v) in extra.ToList()) { extra.Remove(k); node[k] = v; }
            if (phase is not "Running") node["finishedAt"] = Now();
            Nodes[t.NodeId] = node;
            ((JsonArray)Nodes[scope.NodeId]!["children"]!).Add(t.NodeId);
            return node;
        }

        /// <summary>status.storedTemplates, as Argo keeps the templates it resolved from WorkflowTemplates.</summary>
        private void Stored(string source, JsonObject template)
        {
            var stored = Status["storedTemplates"] as JsonObject ?? (JsonObject)(Status["storedTemplates"] = new JsonObject());
            var key = $"namespaced/{source}/{(string)template["name"]!}";
            if (stored[key] is null) stored[key] = template.DeepClone();
        }

        private void EndPod(SimTask t, string phase, string? message, string log)
        {
            EndNode(t, phase, message);
            var node = Nodes[t.NodeId]!.AsObject();
            if (phase == "Succeeded")
                node["outputs"] = new JsonObject
                {
                    ["artifacts"] = new JsonArray(new JsonObject { ["name"] = "output", ["path"] = "/axl/outputs/" + t.Name, ["s3"] = new JsonObject { ["key"] = $"{Name}/{Pods[t.NodeId].Name}/output.tgz" } }),
                    ["exitCode"] = "0",
                };
            Pods[t.NodeId].Phase = phase;
            Pods[t.NodeId].Log = log;
            if (phase == "Failed")
            {
                _failed = true;
                _failedNode ??= t.NodeId;
            }
        }

        private void EndNode(SimTask t, string phase, string? message)
        {
            t.State = phase;
            var node = Nodes[t.NodeId]!.AsObject();
            node["phase"] = phase;
            node["finishedAt"] = Now();
            if (message is not null) node["message"] = message;
        }

        private void Shutdown(Scope scope, string strategy)
        {
            foreach (var t in scope.Tasks.Where(t => t.State == "Running"))
            {
                if (t.Group is { } group) Shutdown(group, strategy);
                if (Pods.TryGetValue(t.NodeId, out var pod)) { pod.Phase = "Failed"; pod.Log = ""; }
                EndNode(t, "Failed", $"workflow shutdown with strategy:  {strategy}");
            }
        }

        private void Progress()
        {
            var pods = Nodes.Select(kv => kv.Value).OfType<JsonObject>().Where(n => (string?)n["type"] == "Pod").ToList();
            Status["progress"] = $"{pods.Count(n => (string?)n["phase"] == "Succeeded")}/{pods.Count}";
        }

        private void EndWorkflow(string phase, string? message)
        {
            Status["phase"] = phase;
            Status["finishedAt"] = Now();
            if (message is not null) Status["message"] = message;
            var dag = Nodes[Name]!.AsObject();
            dag["phase"] = phase;
            dag["finishedAt"] = Now();
        }

        private string Line(string step, string status, string message, string level) =>
            JsonSerializer.Serialize(new Dictionary<string, object?> { ["ts"] = Now(), ["level"] = level, ["workflow"] = (string?)Object["metadata"]?["labels"]?["axl.dev/workflow"], ["step"] = step, ["status"] = status, ["message"] = message }) + "\n";
    }

    /// <summary>
    /// An Argo `depends` expression: task (Succeeded, Skipped or Daemoned), task.Succeeded|Failed|Errored|Skipped|Omitted|
    /// Daemoned|AnySucceeded|AllFailed, &amp;&amp;, ||, ! and parentheses.
    /// </summary>
    private sealed class Depends(string text, Func<string, string?> stateOf)
    {
        private readonly List<string> _tokens = Regex.Matches(text, @"&&|\|\||!|\(|\)|[A-Za-z0-9][A-Za-z0-9_.-]*").Select(m => m.Value).ToList();
        private int _at;

        public bool Evaluate()
        {
            var v = Or();
            if (_at != _tokens.Count) throw new FormatException($"depends '{text}': unexpected '{_tokens[_at]}'");
            return v;
        }

        private bool Or()
        {
            var v = And();
            while (_at < _tokens.Count && _tokens[_at] == "||") { _at++; v = And() | v; }
            return v;
        }

        private bool And()
        {
            var v = Unary();
            while (_at < _tokens.Count && _tokens[_at] == "&&") { _at++; v = Unary() & v; }
            return v;
        }

        private bool Unary()
        {
            var token = _at < _tokens.Count ? _tokens[_at++] : throw new FormatException($"depends '{text}' ends early");
            if (token == "!") return !Unary();
            if (token == "(")
            {
                var v = Or();
                if (_at >= _tokens.Count || _tokens[_at++] != ")") throw new FormatException($"depends '{text}': a ')' is missing");
                return v;
            }
            var dot = token.LastIndexOf('.');
            var (task, result) = dot > 0 ? (token[..dot], token[(dot + 1)..]) : (token, "");
            var state = stateOf(task);
            return result switch
            {
                "" => state is "Succeeded" or "Skipped",
                "Succeeded" => state == "Succeeded",
                "Failed" => state == "Failed",
                "Errored" => state == "Error",
                "Skipped" => state == "Skipped",
                "Omitted" => state == "Omitted",
                "Daemoned" => false,
                "AnySucceeded" => state == "Succeeded",
                "AllFailed" => state == "Failed",
                _ => throw new FormatException($"depends '{text}': unknown result '{result}'"),
            };
        }
    }
}
