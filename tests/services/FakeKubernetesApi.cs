using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Axl.TestServices;

/// <summary>
/// A stand-in for a Kubernetes API server with Argo Workflows installed, for tests only: no API server can be installed
/// on this machine. It answers only the calls Axl makes, with the shapes the Kubernetes and Argo API references give:
///   POST  /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows          create (generateName -> name), 201
///   GET   /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows/{name}   read with status (phase, nodes, times)
///   PATCH /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows/{name}   JSON merge patch (spec.shutdown)
///   GET   /api/v1/namespaces/{ns}/pods?labelSelector=workflows.argoproj.io/workflow={name}   a PodList
///   GET   /api/v1/namespaces/{ns}/pods/{pod}/log?container=main           text/plain
/// Errors are Status objects (kind: Status, code, reason, message). A bearer token is required (401 otherwise).
/// A create over etcd's object limit (<see cref="MaxObjectBytes"/>) or over the CRD's item limits (200 templates,
/// 200 tasks in a DAG: Argo v4's full CRDs) is refused as a real API server refuses it, so no test passes with an
/// object a cluster would not take.
/// A simulated controller advances a workflow one tick per read: the DAG's ready tasks get pods and run, then end
/// (failing the ones named in <see cref="FailTasks"/>), dependents of a failed task never start, and spec.shutdown
/// stops running pods (node message "workflow shutdown with strategy: Stop", workflow message "Stopped with strategy 'Stop'").
/// The Axl client code is the production code (KubernetesClient through a kubeconfig); only the server is fake.
/// </summary>
public sealed class FakeKubernetesApi : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, Sim> _workflows = new(StringComparer.Ordinal);
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
            if (parts.Length >= 6 && parts[0] == "apis" && parts[1] == "argoproj.io" && parts[2] == "v1alpha1" && parts[3] == "namespaces" && parts[5] == "workflows")
            {
                var ns = parts[4];
                if (parts.Length == 6 && req.HttpMethod == "POST") { Create(ctx, ns, body); return; }
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
        if ((string?)obj["apiVersion"] != "argoproj.io/v1alpha1" || (string?)obj["kind"] != "Workflow")
        {
            Status(ctx, 400, "BadRequest", $"the API version in the data ({obj["apiVersion"]}) does not match the expected API version (argoproj.io/v1alpha1)");
            return;
        }
        var meta = obj["metadata"]!.AsObject();
        if ((string?)meta["namespace"] is { } given && given != ns)
        {
            Status(ctx, 400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
            return;
        }
        if (meta["generateName"] is null && meta["name"] is null)
        {
            Status(ctx, 422, "Invalid", "Workflow.argoproj.io \"\" is invalid: metadata.name: Required value: name or generateName is required");
            return;
        }
        // What a real API server refuses: an object over etcd's size limit, lists over the CRD's maxItems.
        if (Encoding.UTF8.GetByteCount(body) > MaxObjectBytes)
        {
            Status(ctx, 500, "InternalError", "etcdserver: request is too large");
            return;
        }
        var shown = (string?)meta["name"] ?? (string?)meta["generateName"] ?? "";
        if (obj["spec"]?["templates"] is JsonArray templates)
        {
            if (templates.Count > MaxTemplates)
            {
                Status(ctx, 422, "Invalid", $"Workflow.argoproj.io \"{shown}\" is invalid: spec.templates: Too many: {templates.Count}: must have at most {MaxTemplates} items");
                return;
            }
            for (var i = 0; i < templates.Count; i++)
                if (templates[i]?["dag"]?["tasks"] is JsonArray tasks && tasks.Count > MaxDagTasks)
                {
                    Status(ctx, 422, "Invalid", $"Workflow.argoproj.io \"{shown}\" is invalid: spec.templates[{i}].dag.tasks: Too many: {tasks.Count}: must have at most {MaxDagTasks} items");
                    return;
                }
        }
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

    /// <summary>One workflow and the simulated controller's state for it.</summary>
    private sealed class Sim
    {
        private readonly FakeKubernetesApi _api;
        private readonly List<(string Name, string Template, List<string> Deps)> _tasks = new();
        private readonly Dictionary<string, string> _steps = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _state = new(StringComparer.Ordinal); // task -> Running/Succeeded/Failed

        public Sim(FakeKubernetesApi api, string name, string ns, JsonObject obj)
        {
            _api = api;
            Name = name;
            Namespace = ns;
            Object = obj;
            var spec = obj["spec"]!.AsObject();
            var entry = (string)spec["entrypoint"]!;
            foreach (var t in spec["templates"]!.AsArray().OfType<JsonObject>())
            {
                var args = (t["container"]?["args"] as JsonArray)?.Select(a => (string?)a).ToList();
                var at = args?.IndexOf("--manifest-json") ?? -1;
                if (at >= 0) _steps[(string)t["name"]!] = (string)JsonNode.Parse(args![at + 1]!)!["step"]!;
                if ((string?)t["name"] == entry && t["dag"]?["tasks"] is JsonArray tasks)
                    foreach (var task in tasks.OfType<JsonObject>())
                        _tasks.Add(((string)task["name"]!, (string)task["template"]!, (task["dependencies"] as JsonArray)?.Select(d => (string)d!).ToList() ?? new List<string>()));
            }
        }

        public string Name { get; }
        public string Namespace { get; }
        public JsonObject Object { get; }
        public Dictionary<string, Pod> Pods { get; } = new(StringComparer.Ordinal);
        private int _ticks;

        private JsonObject Status => Object["status"] as JsonObject ?? (JsonObject)(Object["status"] = new JsonObject());
        private JsonObject Nodes => Status["nodes"] as JsonObject ?? (JsonObject)(Status["nodes"] = new JsonObject());
        private string NodeId(string task) => $"{Name}-{Fnv(Name + "." + task) % 10_000_000_000L}";

        public void Tick()
        {
            var phase = (string?)Status["phase"];
            if (phase is "Succeeded" or "Failed" or "Error") return;
            if (_ticks++ == 0)
            {
                // The controller's first pass: the workflow is Running with its DAG node.
                Status["phase"] = "Running";
                Status["startedAt"] = Now();
                Status["progress"] = $"0/{_tasks.Count}";
                Nodes[Name] = new JsonObject
                {
                    ["id"] = Name, ["name"] = Name, ["displayName"] = Name, ["type"] = "DAG",
                    ["templateName"] = (string)Object["spec"]!["entrypoint"]!, ["phase"] = "Running", ["startedAt"] = Now(),
                    ["children"] = new JsonArray(),
                };
                return;
            }
            var shutdown = (string?)Object["spec"]?["shutdown"];
            if (shutdown is { Length: > 0 })
            {
                foreach (var (task, _, _) in _tasks.Where(t => _state.GetValueOrDefault(t.Name) == "Running"))
                    End(task, "Failed", $"workflow shutdown with strategy:  {shutdown}", "");
                EndWorkflow("Failed", $"Stopped with strategy '{shutdown}'");
                return;
            }
            // Running tasks end (except held ones); then ready tasks start.
            foreach (var (task, _, _) in _tasks.Where(t => _state.GetValueOrDefault(t.Name) == "Running" && !_api.HoldTasks.Contains(t.Name)).ToList())
            {
                var step = _steps.GetValueOrDefault(TemplateOf(task), task);
                if (_api.FailTasks.Contains(task))
                    End(task, "Failed", "Error (exit code 1)", Line(step, "Failed", $"step '{step}' failed: the script threw 'bad input in {step}'", "error"));
                else
                    End(task, "Succeeded", null, Line(step, "Running", $"step '{step}' starting", "info") + Line(step, "Succeeded", $"step '{step}' succeeded", "info"));
            }
            var anyFailed = _state.Values.Contains("Failed");
            if (!anyFailed)
                foreach (var (task, template, deps) in _tasks.Where(t => !_state.ContainsKey(t.Name) && t.Deps.All(d => _state.GetValueOrDefault(d) == "Succeeded")).ToList())
                    Start(task, template);
            if (_state.Values.Contains("Running")) return;
            if (anyFailed) EndWorkflow("Failed", $"child '{NodeId(_state.First(kv => kv.Value == "Failed").Key)}' failed");
            else if (_state.Count == _tasks.Count) EndWorkflow("Succeeded", null);
        }

        private string TemplateOf(string task) => _tasks.First(t => t.Name == task).Template;

        private void Start(string task, string template)
        {
            var id = NodeId(task);
            _state[task] = "Running";
            var nodeName = $"{Name}.{task}";
            Nodes[id] = new JsonObject
            {
                ["id"] = id, ["name"] = nodeName, ["displayName"] = task, ["type"] = "Pod", ["templateName"] = template,
                ["templateScope"] = "local/" + Name, ["phase"] = "Running", ["boundaryID"] = Name, ["startedAt"] = Now(),
                ["hostNodeName"] = "node-1",
            };
            ((JsonArray)Nodes[Name]!["children"]!).Add(id);
            Pods[id] = new Pod { Name = $"{Name}-{template}-{Fnv(nodeName)}", NodeId = id, NodeName = nodeName };
        }

        private void End(string task, string phase, string? message, string log)
        {
            var id = NodeId(task);
            _state[task] = phase;
            var node = Nodes[id]!.AsObject();
            node["phase"] = phase;
            node["finishedAt"] = Now();
            if (message is not null) node["message"] = message;
            if (phase == "Succeeded")
                node["outputs"] = new JsonObject
                {
                    ["artifacts"] = new JsonArray(new JsonObject { ["name"] = "output", ["path"] = "/axl/outputs/" + task, ["s3"] = new JsonObject { ["key"] = $"{Name}/{Pods[id].Name}/output.tgz" } }),
                    ["exitCode"] = "0",
                };
            Pods[id].Phase = phase;
            Pods[id].Log = log;
            Status["progress"] = $"{_state.Values.Count(v => v == "Succeeded")}/{_tasks.Count}";
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
}
