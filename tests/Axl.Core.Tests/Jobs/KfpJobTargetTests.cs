using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Axl.Compilers.Kfp;
using Axl.Core.Tests.Compilers;
using Axl.Jobs;
using Axl.Jobs.Kfp;
using Axl.TestServices;

namespace Axl.Core.Tests.Jobs;

/// <summary>
/// Submit to KFP (KfpJobTarget) against an in-process HTTP server, <see cref="FakeKfpServer"/>, that implements only
/// the documented KFP REST API v2beta1 endpoints the target calls, with the documented request and response shapes
/// (backend/api/v2beta1/swagger: pipeline.upload.swagger.json, pipeline.swagger.json, run.swagger.json): upload
/// (multipart "uploadfile"; 409 with a google.rpc.Status when the name exists), get pipeline by name, list versions,
/// create run, get run (state PENDING, RUNNING, then SUCCEEDED or FAILED), terminate run (state CANCELED). It is not
/// KFP: it does not compile or run anything; what it checks is what the client sends.
/// </summary>
public sealed class KfpJobTargetTests : IDisposable
{
    private readonly FakeKfpServer _server = new();
    public void Dispose() => _server.Dispose();

    private static JobSubmitOptions Options(string? endpoint, string workflow = "linear") => new()
    {
        RunRoot = Path.GetTempPath(),
        KfpEndpoint = endpoint,
        WorkflowLoader = (_, _) => ArgoCases.Get(workflow).Workflow,
    };

    private static AxlJobSpec Spec(params (string Key, object? Value)[] parameters)
    {
        var spec = new AxlJobSpec { Name = "nightly", WorkflowPath = "/flows/linear.axl.ps1", Target = JobTargetKind.Kfp };
        foreach (var (k, v) in parameters) spec.Parameters[k] = v;
        return spec;
    }

    private static readonly KfpJobTarget Target = new(TimeSpan.FromMilliseconds(20));

    [Fact]
    public void Kfp_is_a_registered_target()
    {
        Assert.IsType<KfpJobTarget>(JobTargets.Get(JobTargetKind.Kfp));
    }

    [Fact]
    public void A_job_uploads_the_compiled_pipeline_creates_a_run_and_follows_it_to_its_end()
    {
        using var job = Target.Submit(Spec(("NNeighbors", "5"), ("TestFraction", 0.25)), Options(_server.Url));
        Assert.True(job.Wait(TimeSpan.FromSeconds(30)), "the job did not end");
        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Equal(JobStatus.Succeeded, job.Result!.Status);
        Assert.Null(job.Result.Error);

        var upload = Assert.Single(_server.Uploads);
        var wf = ArgoCases.Get("linear").Workflow;
        Assert.Equal("linear-" + wf.Hash.Substring(7, 12), upload.Name);
        Assert.Equal(KfpCompiler.Compile(wf).ToYaml(), upload.Yaml);
        var run = Assert.Single(_server.Runs.Values);
        Assert.Equal(run.Id, job.RunId);
        Assert.Equal("nightly", run.Request["display_name"]!.GetValue<string>());
        Assert.Equal(upload.PipelineId, run.Request["pipeline_version_reference"]!["pipeline_id"]!.GetValue<string>());
        Assert.Equal(upload.VersionId, run.Request["pipeline_version_reference"]!["pipeline_version_id"]!.GetValue<string>());
        // Parameters are typed as the pipeline declares them: "5" becomes the integer 5.
        Assert.Equal("{\"NNeighbors\":5,\"TestFraction\":0.25}", run.Request["runtime_config"]!["parameters"]!.ToJsonString());
    }

    [Fact]
    public void The_token_and_poll_interval_of_the_options_are_used()
    {
        var options = new AxlJobOption(new System.Collections.Hashtable { ["Kfp"] = new System.Collections.Hashtable { ["Endpoint"] = _server.Url, ["Token"] = "tok-1", ["PollInterval"] = 0.01 } })
            .ApplyTo(Options(null));
        using var job = new KfpJobTarget(TimeSpan.FromMinutes(10)).Submit(Spec(), options); // the target's own interval would never poll in time
        Assert.True(job.Wait(TimeSpan.FromSeconds(30)), "the job did not end: the options' poll interval was not used");
        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.All(_server.Authorizations, a => Assert.Equal("Bearer tok-1", a));
        Assert.NotEmpty(_server.Authorizations);
    }

    [Fact]
    public void The_same_workflow_is_uploaded_once_and_run_twice()
    {
        using var a = Target.Submit(Spec(), Options(_server.Url));
        using var b = Target.Submit(Spec(), Options(_server.Url));
        Assert.True(a.Wait(TimeSpan.FromSeconds(30)) && b.Wait(TimeSpan.FromSeconds(30)));
        Assert.Single(_server.Uploads);
        Assert.Equal(1, _server.Conflicts);
        Assert.Equal(2, _server.Runs.Count);
        Assert.NotEqual(a.RunId, b.RunId);
    }

    [Fact]
    public void A_failed_run_fails_the_job_with_the_servers_message()
    {
        _server.Outcome = "FAILED";
        using var job = Target.Submit(Spec(), Options(_server.Url));
        Assert.True(job.Wait(TimeSpan.FromSeconds(30)));
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Contains("task train failed", job.Result!.Error);
    }

    [Fact]
    public void Cancel_terminates_the_run()
    {
        _server.Outcome = "RUNNING"; // never ends by itself
        using var job = Target.Submit(Spec(), Options(_server.Url));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (job.Status != JobStatus.Running && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Equal(JobStatus.Running, job.Status);
        job.Cancel();
        Assert.True(job.Wait(TimeSpan.FromSeconds(30)));
        Assert.Equal(JobStatus.Cancelled, job.Status);
        Assert.Equal(new[] { job.RunId }, _server.Terminated);
    }

    [Fact]
    public void Missing_or_wrong_endpoints_and_parameters_are_clear_errors()
    {
        if (Environment.GetEnvironmentVariable(KfpJobTarget.EndpointVariable) is null)
            Assert.Contains("-Endpoint", Assert.Throws<AxlJobSpecException>(() => Target.Submit(Spec(), Options(null))).Message);
        Assert.Contains("not an http(s) URL", Assert.Throws<AxlJobSpecException>(() => Target.Submit(Spec(), Options("ml-pipeline:8888"))).Message);
        var unreachable = "http://127.0.0.1:" + Loopback.FreePort();
        Assert.Contains("cannot reach KFP", Assert.Throws<KfpApiException>(() => Target.Submit(Spec(), Options(unreachable))).Message);
        Assert.Contains("no parameter Neighbours", Assert.Throws<AxlJobSpecException>(() => Target.Submit(Spec(("Neighbours", 3)), Options(_server.Url))).Message);
        Assert.Contains("NUMBER_INTEGER", Assert.Throws<AxlJobSpecException>(() => Target.Submit(Spec(("NNeighbors", "many")), Options(_server.Url))).Message);
        Assert.Contains("pvc", Assert.Throws<AxlJobSpecException>(() => Target.Submit(Spec(), Options(_server.Url, "pvc"))).Message);
        Assert.Empty(_server.Runs);
        _server.RejectUploads = true;
        var ex = Assert.Throws<KfpApiException>(() => Target.Submit(Spec(), Options(_server.Url)));
        Assert.Contains("400", ex.Message);
        Assert.Contains("invalid pipeline spec", ex.Message);
    }
}

/// <summary>The documented KFP REST API v2beta1 endpoints the Kfp target calls, in process (see <see cref="KfpJobTargetTests"/>).</summary>
public sealed class FakeKfpServer : IDisposable
{
    public sealed record Upload(string Name, string PipelineId, string VersionId, string Yaml);
    public sealed record Run(string Id, JsonObject Request)
    {
        public int Polls { get; set; }
        public string? State { get; set; }
    }

    private readonly HttpListener _listener = new();
    private readonly object _gate = new();
    public string Url { get; }
    public List<Upload> Uploads { get; } = new();
    public Dictionary<string, Run> Runs { get; } = new();
    public List<string> Terminated { get; } = new();
    public int Conflicts { get; private set; }
    /// <summary>The Authorization header of every request (null when there was none).</summary>
    public List<string?> Authorizations { get; } = new();
    /// <summary>Where runs end: SUCCEEDED, FAILED, or RUNNING (never).</summary>
    public string Outcome { get; set; } = "SUCCEEDED";
    public bool RejectUploads { get; set; }

    public FakeKfpServer()
    {
        var port = Loopback.FreePort();
        Url = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _ = Task.Run(Serve);
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try
            {
                var (status, body) = Handle(ctx.Request);
                var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
                ctx.Response.StatusCode = status;
                ctx.Response.ContentType = "application/json";
                await ctx.Response.OutputStream.WriteAsync(bytes);
            }
            catch (Exception ex)
            {
                ctx.Response.StatusCode = 500;
                await ctx.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(new JsonObject { ["code"] = 13, ["message"] = ex.Message }.ToJsonString()));
            }
            finally { ctx.Response.Close(); }
        }
    }

    private static JsonObject Status(int code, string message) => new() { ["code"] = code, ["message"] = message, ["details"] = new JsonArray() };

    private (int, JsonNode) Handle(HttpListenerRequest r)
    {
        var path = r.Url!.AbsolutePath;
        var query = System.Web.HttpUtility.ParseQueryString(r.Url.Query);
        using var reader = new StreamReader(r.InputStream, Encoding.UTF8);
        var body = reader.ReadToEnd();
        lock (_gate)
        {
            Authorizations.Add(r.Headers["Authorization"]);
            if (r.HttpMethod == "POST" && path == "/apis/v2beta1/pipelines/upload")
            {
                if (!(r.ContentType ?? "").StartsWith("multipart/form-data", StringComparison.Ordinal) || !body.Contains("name=uploadfile", StringComparison.Ordinal) && !body.Contains("name=\"uploadfile\"", StringComparison.Ordinal))
                    return (400, Status(3, "the request has no multipart file 'uploadfile'"));
                if (RejectUploads) return (400, Status(3, "Failed to create a pipeline due to invalid pipeline spec"));
                var name = query["name"] ?? "";
                if (Uploads.Any(u => u.Name == name)) { Conflicts++; return (409, Status(6, $"Failed to create a pipeline: pipeline {name} already exists")); }
                // The file part: after the blank line of its headers, up to the closing boundary.
                var start = body.IndexOf("\r\n\r\n", body.IndexOf("uploadfile", StringComparison.Ordinal), StringComparison.Ordinal) + 4;
                var end = body.LastIndexOf("\r\n--", StringComparison.Ordinal);
                var upload = new Upload(name, "p-" + (Uploads.Count + 1), "v-" + (Uploads.Count + 1), body[start..end]);
                Uploads.Add(upload);
                return (200, new JsonObject { ["pipeline_id"] = upload.PipelineId, ["name"] = name, ["display_name"] = query["display_name"], ["created_at"] = "2024-01-01T00:00:00Z" });
            }
            if (r.HttpMethod == "GET" && path.StartsWith("/apis/v2beta1/pipelines/names/", StringComparison.Ordinal))
            {
                var name = Uri.UnescapeDataString(path["/apis/v2beta1/pipelines/names/".Length..]);
                var u = Uploads.FirstOrDefault(x => x.Name == name);
                return u is null ? (404, Status(5, $"pipeline {name} not found")) : (200, new JsonObject { ["pipeline_id"] = u.PipelineId, ["name"] = u.Name });
            }
            if (r.HttpMethod == "GET" && path.StartsWith("/apis/v2beta1/pipelines/", StringComparison.Ordinal) && path.EndsWith("/versions", StringComparison.Ordinal))
            {
                var id = path["/apis/v2beta1/pipelines/".Length..^"/versions".Length];
                var u = Uploads.FirstOrDefault(x => x.PipelineId == id);
                if (u is null) return (404, Status(5, $"pipeline {id} not found"));
                return (200, new JsonObject { ["pipeline_versions"] = new JsonArray(new JsonObject { ["pipeline_id"] = id, ["pipeline_version_id"] = u.VersionId, ["name"] = u.Name }), ["total_size"] = 1 });
            }
            if (r.HttpMethod == "POST" && path == "/apis/v2beta1/runs")
            {
                var request = JsonNode.Parse(body)!.AsObject();
                var version = request["pipeline_version_reference"]?["pipeline_version_id"]?.GetValue<string>();
                if (!Uploads.Any(u => u.VersionId == version)) return (400, Status(3, $"pipeline version {version} not found"));
                var run = new Run("r-" + (Runs.Count + 1), request) { State = "PENDING" };
                Runs[run.Id] = run;
                return (200, new JsonObject { ["run_id"] = run.Id, ["display_name"] = request["display_name"]?.GetValue<string>(), ["state"] = run.State });
            }
            if (r.HttpMethod == "POST" && path.StartsWith("/apis/v2beta1/runs/", StringComparison.Ordinal) && path.EndsWith(":terminate", StringComparison.Ordinal))
            {
                var id = path["/apis/v2beta1/runs/".Length..^":terminate".Length];
                if (!Runs.TryGetValue(id, out var run)) return (404, Status(5, $"run {id} not found"));
                Terminated.Add(id);
                run.State = "CANCELED";
                return (200, new JsonObject());
            }
            if (r.HttpMethod == "GET" && path.StartsWith("/apis/v2beta1/runs/", StringComparison.Ordinal))
            {
                var id = path["/apis/v2beta1/runs/".Length..];
                if (!Runs.TryGetValue(id, out var run)) return (404, Status(5, $"run {id} not found"));
                run.Polls++;
                if (run.State != "CANCELED") run.State = run.Polls < 2 ? "PENDING" : run.Polls < 3 || Outcome == "RUNNING" ? "RUNNING" : Outcome;
                var result = new JsonObject { ["run_id"] = id, ["state"] = run.State, ["created_at"] = "2024-01-01T00:00:00Z" };
                if (run.State == "FAILED") result["error"] = Status(2, "task train failed: exit code 1");
                if (run.State is "SUCCEEDED" or "FAILED")
                    result["run_details"] = new JsonObject { ["task_details"] = new JsonArray(new JsonObject { ["display_name"] = "train", ["state"] = run.State }) };
                return (200, result);
            }
            return (404, Status(5, $"{r.HttpMethod} {path} is not an endpoint of this fake"));
        }
    }

    public void Dispose()
    {
        try { _listener.Stop(); _listener.Close(); } catch (ObjectDisposedException) { }
    }
}
