using System.Text.Json;
using System.Text.Json.Nodes;
using Axl.Compilers.Argo;
using Axl.Core.Tests.Compilers;
using Axl.Jobs;
using Axl.Jobs.Argo;
using Axl.Runtime;
using Axl.TestServices;

namespace Axl.Core.Tests.Jobs;

/// <summary>
/// The Argo job target against <see cref="FakeKubernetesApi"/>: an in-process HTTP server that implements only the
/// Kubernetes and Argo endpoints Axl calls, with the documented shapes (no Kubernetes API server can be installed
/// here). The client side is the production code: KubernetesClient configured from a kubeconfig file.
/// </summary>
public sealed class ArgoJobTargetTests : IDisposable
{
    private readonly FakeKubernetesApi _api = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("axl-argo-job-").FullName;
    private readonly string _kubeconfig;

    public ArgoJobTargetTests() => _kubeconfig = _api.WriteKubeConfig(Path.Combine(_dir, "config"));

    public void Dispose()
    {
        _api.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private JobSubmitOptions Options(ArgoSubmitOptions? argo = null, ArgoCompileOptions? compile = null) => new()
    {
        RunRoot = _dir,
        WorkingDirectory = "/flows",
        WorkflowLoader = (_, _) => ArgoCases.Diamond().Workflow,
        Argo = (argo ?? new ArgoSubmitOptions()) with
        {
            KubeConfig = argo?.KubeConfig ?? _kubeconfig,
            PollInterval = TimeSpan.FromMilliseconds(20),
            Compile = ArgoCases.Options(compile),
        },
    };

    private static AxlJobSpec Spec(string name = "nightly-diamond") => new()
    {
        Name = name, WorkflowPath = "/flows/diamond.axl.ps1", Target = JobTargetKind.Argo,
        Parameters = new SortedDictionary<string, object?> { ["Base"] = 7L },
    };

    private static (IJobHandle Handle, List<JobStatus> Statuses, List<JobLogLine> Logs) Follow(IJobHandle h)
    {
        var statuses = new List<JobStatus>();
        var logs = new List<JobLogLine>();
        h.StatusChanged += s => { lock (statuses) statuses.Add(s); };
        h.Log += l => { lock (logs) logs.Add(l); };
        return (h, statuses, logs);
    }

    [Fact]
    public void Submits_through_the_kubeconfig_and_follows_the_workflow_to_success()
    {
        var (handle, statuses, logs) = Follow(JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options()));
        using var _ = handle;
        Assert.StartsWith("diamond-", handle.RunId);
        Assert.True(handle.Wait(TimeSpan.FromSeconds(30)), "the workflow did not end");
        Assert.Equal(JobStatus.Succeeded, handle.Status);

        // What was created: generateName, the kubeconfig context's namespace, the job label, the parameter value.
        var created = JsonNode.Parse(_api.Requests.First(r => r.Method == "POST").Body)!;
        Assert.Equal("diamond-", (string?)created["metadata"]!["generateName"]);
        Assert.Equal("argo-jobs", (string?)created["metadata"]!["namespace"]);
        Assert.Equal("nightly-diamond", (string?)created["metadata"]!["labels"]!["axl.dev/job"]);
        Assert.Equal("7", (string?)created["spec"]!["arguments"]!["parameters"]![0]!["value"]);
        Assert.Contains(_api.Requests, r => r.Method == "POST" && r.Path == "/apis/argoproj.io/v1alpha1/namespaces/argo-jobs/workflows");

        var result = handle.Result!;
        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(handle.RunId, result.RunId);
        Assert.Equal("diamond", result.Workflow);
        Assert.Equal(new[] { "join", "left", "right", "start" }, result.Steps.Select(s => s.Name));
        Assert.All(result.Steps, s => { Assert.Equal(StepStatus.Succeeded, s.Status); Assert.Equal(1, s.Attempts); });
        Assert.Equal(4, result.Artifacts.Count);
        Assert.StartsWith($"s3:{handle.RunId}/{handle.RunId}-join-", result.Artifacts["join"]);
        Assert.Null(result.Error);

        // Pod logs, found through the workflow label and the node-id annotation, read from container main.
        Assert.Equal($"/api/v1/namespaces/argo-jobs/pods?labelSelector=workflows.argoproj.io/workflow={handle.RunId}&watch=false",
            Uri.UnescapeDataString(_api.Requests.First(r => r.Path.StartsWith("/api/v1/namespaces/argo-jobs/pods?", StringComparison.Ordinal)).Path));
        Assert.Equal(4, _api.Requests.Count(r => r.Path.Contains("/log?container=main", StringComparison.Ordinal)));
        lock (logs)
        {
            Assert.Equal(new[] { "join", "left", "right", "start" }, logs.Where(l => l.Event == "Succeeded").Select(l => l.Step!).Order());
            Assert.Equal("start", logs.First().Step); // in the order the pods ended
        }
        lock (statuses)
        {
            Assert.Equal(JobStatus.Succeeded, statuses[^1]);
            Assert.Single(statuses, s => s is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled);
            Assert.Contains(JobStatus.Running, statuses);
        }
    }

    [Fact]
    public void A_failing_step_fails_the_job_with_its_error_and_log_and_later_steps_are_not_reached()
    {
        _api.FailTasks.Add("left");
        var (handle, statuses, logs) = Follow(JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options()));
        using var _ = handle;
        Assert.True(handle.Wait(TimeSpan.FromSeconds(30)));
        var result = handle.Result!;
        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(1, result.ExitCode);
        var left = result.Steps.Single(s => s.Name == "left");
        Assert.Equal(StepStatus.Failed, left.Status);
        Assert.Equal("Error (exit code 1)", left.Error!.Message);
        Assert.Equal(StepStatus.Skipped, result.Steps.Single(s => s.Name == "join").Status);
        Assert.Equal(StepStatus.Succeeded, result.Steps.Single(s => s.Name == "start").Status);
        Assert.Contains("child '", result.Error);
        Assert.Contains("step left: Error (exit code 1)", result.Error);
        Assert.DoesNotContain("left", result.Artifacts.Keys);
        lock (logs) Assert.Contains(logs, l => l.Step == "left" && l.Level == "error" && l.Message!.Contains("bad input in left"));
        lock (statuses) Assert.Single(statuses, s => s is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled);
    }

    [Fact]
    public void Cancel_sets_spec_shutdown_and_the_job_ends_cancelled_once()
    {
        _api.HoldTasks.Add("start");
        var (handle, statuses, logs) = Follow(JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options(new ArgoSubmitOptions { Shutdown = "Terminate" })));
        using var _ = handle;
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!(_api.Workflow(handle.RunId)!["status"]?["nodes"] is JsonObject n && n.Count > 1) && DateTime.UtcNow < until) Thread.Sleep(20);
        handle.Cancel();
        var patch = _api.Requests.Single(r => r.Method == "PATCH");
        Assert.Equal($"/apis/argoproj.io/v1alpha1/namespaces/argo-jobs/workflows/{handle.RunId}", patch.Path);
        Assert.StartsWith("application/merge-patch+json", patch.ContentType);
        Assert.Equal("Terminate", (string?)JsonNode.Parse(patch.Body)!["spec"]!["shutdown"]);
        Assert.True(handle.Wait(TimeSpan.FromSeconds(30)));
        Assert.Equal(JobStatus.Cancelled, handle.Status);
        var start = handle.Result!.Steps.Single(s => s.Name == "start");
        Assert.Equal(StepStatus.Cancelled, start.Status);
        Assert.Equal(FailureKind.Cancelled, start.Error!.Kind);
        Assert.Equal("Stopped with strategy 'Terminate'", handle.Result.Error?.Split(" (")[0]);
        handle.Cancel(); // after the end: nothing more is sent
        Assert.Single(_api.Requests, r => r.Method == "PATCH");
        lock (statuses) Assert.Single(statuses, s => s is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled);
        lock (logs) Assert.Contains(logs, l => l.Event == "ShutdownRequested");
    }

    [Fact]
    public void Brief_API_failures_are_retried_and_a_deleted_workflow_fails_the_job()
    {
        _api.FailNextReads = 3;
        var (handle, _, logs) = Follow(JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options()));
        using (handle)
        {
            Assert.True(handle.Wait(TimeSpan.FromSeconds(30)));
            Assert.Equal(JobStatus.Succeeded, handle.Status);
            lock (logs) Assert.Equal(3, logs.Count(l => l.Event == "PollFailed"));
        }

        _api.HoldTasks.Add("start");
        using var held = JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options());
        _api.Delete(held.RunId);
        Assert.True(held.Wait(TimeSpan.FromSeconds(30)));
        Assert.Equal(JobStatus.Failed, held.Status);
        Assert.Equal($"Workflow {held.RunId} was deleted from namespace argo-jobs before it ended.", held.Result!.Error);
    }

    [Fact]
    public void The_fake_API_refuses_what_a_cluster_refuses_over_the_CRD_item_limits_and_etcds_object_limit()
    {
        // Unsplit (-Split None with the compiler's own limits raised, as for a cluster with minimal CRDs), a 201-step
        // chain is one Workflow of 202 templates and a DAG of 201 tasks, which Argo v4's full CRDs refuse; the fake API
        // says so as a real API server does, so no test passes with it.
        var chain = Chain(201);
        var spec = new AxlJobSpec { Name = "long-chain", WorkflowPath = "/flows/chain.axl.ps1", Target = JobTargetKind.Argo };
        var unsplit = new ArgoCompileOptions { Split = ArgoSplit.None, MaxTemplates = 1000, MaxDagTasks = 1000 };
        var tooMany = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(spec, Options(compile: unsplit) with { WorkflowLoader = (_, _) => chain }));
        Assert.Equal(422, tooMany.StatusCode);
        Assert.Contains("spec.templates: Too many: 202: must have at most 200 items", tooMany.Message);

        _api.MaxTemplates = 1000;
        var tasks = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(spec, Options(compile: unsplit) with { WorkflowLoader = (_, _) => chain }));
        Assert.Matches(@"spec\.templates\[\d+\]\.dag\.tasks: Too many: 201: must have at most 200 items", tasks.Message);
        _api.MaxTemplates = 200;

        // Split by default, the same chain goes through: every object within the limits.
        using (var split = JobTargets.Get(JobTargetKind.Argo).Submit(spec, Options() with { WorkflowLoader = (_, _) => chain }))
        {
            var installed = Assert.IsType<ArgoJobHandle>(split).Templates;
            Assert.True(installed.Count >= 2);
            Assert.Equal(installed.Select(t => t.Name).Order(StringComparer.Ordinal), _api.WorkflowTemplateNames());
        }

        _api.MaxObjectBytes = 2000; // the diamond's Workflow is larger than that
        var big = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options()));
        Assert.Contains("etcdserver: request is too large", big.Message);
        _api.MaxObjectBytes = 1024 * 1024;
        using var fits = JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options());
        Assert.Contains(_api.Requests, r => r.Method == "POST");
    }

    private static Axl.Model.AxlWorkflow Chain(int n, string name = "chain", string last = "+ 1")
    {
        var b = new Axl.Dsl.WorkflowBuilder(name, null, new Axl.Model.SourceLocation($"/flows/{name}.axl.ps1", 1));
        b.AddStep("s0", "0", null, new Axl.Model.SourceLocation($"/flows/{name}.axl.ps1", 2));
        for (var i = 1; i < n; i++)
            b.AddStep($"s{i}", $"param($s{i - 1}) $s{i - 1} {(i == n - 1 ? last : "+ 1")}", null, new Axl.Model.SourceLocation($"/flows/{name}.axl.ps1", i + 2));
        return b.Build();
    }

    /// <summary>Small limits, so a 12-step chain splits into 3 WorkflowTemplates of 5, 5 and 2 steps.</summary>
    private static readonly ArgoCompileOptions Small = new() { MaxDagTasks = 5, MaxTemplates = 6 };

    private JobSubmitOptions SplitOptions(Axl.Model.AxlWorkflow wf, ArgoSubmitOptions? argo = null, ArgoCompileOptions? compile = null) =>
        Options(argo, compile ?? Small) with { WorkflowLoader = (_, _) => wf };

    private static AxlJobSpec ChainSpec(string name = "split-chain") => new() { Name = name, WorkflowPath = "/flows/chain.axl.ps1", Target = JobTargetKind.Argo };

    private List<(string Method, string Path, string? ContentType, string Body)> Calls(string method, string plural) =>
        _api.Requests.Where(r => r.Method == method && r.Path.Split('?')[0].Split('/') is var p && p.Length > 6 && p[6] == plural).ToList();

    [Fact]
    public void A_split_workflow_installs_its_templates_in_order_then_the_parent_and_runs_as_one_job_with_per_step_results()
    {
        var wf = Chain(12);
        var doc = ArgoCompiler.Compile(wf, ArgoCases.Options(Small));
        Assert.True(doc.IsSplit);
        var (handle, statuses, logs) = Follow(JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(wf)));
        using var _ = handle;
        Assert.True(handle.Wait(TimeSpan.FromSeconds(60)), "the workflow did not end");
        Assert.Equal(JobStatus.Succeeded, handle.Status);

        // The templates first, in install order, each named as compiled and in the namespace; then the parent.
        var posts = _api.Requests.Where(r => r.Method == "POST").ToList();
        Assert.Equal(4, posts.Count);
        Assert.Equal(doc.Templates.Select(t => t.Name), posts.Take(3).Select(p => (string?)JsonNode.Parse(p.Body)!["metadata"]!["name"]));
        Assert.All(posts.Take(3), p => Assert.EndsWith("/namespaces/argo-jobs/workflowtemplates", p.Path));
        Assert.All(posts.Take(3), p => Assert.Equal("argo-jobs", (string?)JsonNode.Parse(p.Body)!["metadata"]!["namespace"]));
        Assert.EndsWith("/namespaces/argo-jobs/workflows", posts[3].Path);
        var parent = JsonNode.Parse(posts[3].Body)!;
        Assert.Equal(string.Join(",", doc.Templates.Select(t => t.Name)), (string?)parent["metadata"]!["annotations"]!["axl.dev/templates"]);
        Assert.Equal(new[] { ArgoTemplateAction.Created, ArgoTemplateAction.Created, ArgoTemplateAction.Created }, ((ArgoJobHandle)handle).Templates.Select(t => t.Action));

        // Receive-Job: one result per step (inside the referenced templates), each with its pod's output artifact.
        var result = handle.Result!;
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"s{i}").Order(StringComparer.Ordinal), result.Steps.Select(s => s.Name));
        Assert.All(result.Steps, s => { Assert.Equal(StepStatus.Succeeded, s.Status); Assert.Equal(1, s.Attempts); });
        Assert.Equal(12, result.Artifacts.Count);
        Assert.StartsWith($"s3:{handle.RunId}/{handle.RunId}-s7-", result.Artifacts["s7"]);
        Assert.Equal(12, _api.Requests.Count(r => r.Path.Contains("/log?container=main", StringComparison.Ordinal)));
        lock (logs) Assert.Equal(result.Steps.Select(s => s.Name), logs.Where(l => l.Event == "Succeeded").Select(l => l.Step!).Order(StringComparer.Ordinal));
        lock (statuses) Assert.Single(statuses, s => s is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled);

        // The status as Argo writes it: step nodes under the group nodes, scoped to their WorkflowTemplate; the
        // step templates are in status.storedTemplates, so the status alone maps nodes to steps.
        var stored = _api.Workflow(handle.RunId)!;
        var s7 = stored["status"]!["nodes"]!.AsObject().Select(kv => kv.Value!).Single(n => (string?)n["displayName"] == "s7");
        Assert.Equal($"{handle.RunId}.part-2.s7", (string?)s7["name"]);
        Assert.Equal("namespaced/" + doc.Templates[1].Name, (string?)s7["templateScope"]);
        Assert.Contains($"namespaced/{doc.Templates[1].Name}/s7", stored["status"]!["storedTemplates"]!.AsObject().Select(kv => kv.Key));
        var alone = ArgoWorkflowState.Parse(JsonDocument.Parse(stored.ToJsonString()).RootElement).StepResults();
        Assert.Equal(12, alone.Count(r => r.Status == StepStatus.Succeeded));
    }

    [NodeFact]
    public void What_a_split_submit_sends_is_valid_against_Argos_schema_with_its_item_limits()
    {
        // 450 steps under the default limits: the bodies actually sent (templates with namespace and content hash,
        // the parent with the job label and parameter values), each validated as the API server would.
        var wf = Chain(450);
        using (var h = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), Options() with { WorkflowLoader = (_, _) => wf }))
            Assert.True(((ArgoJobHandle)h).Templates.Count >= 3);
        var posts = _api.Requests.Where(r => r.Method == "POST").ToList();
        Assert.Equal("Workflow", (string?)JsonNode.Parse(posts[^1].Body)!["kind"]);
        var files = posts.Select((p, i) => { var f = Path.Combine(_dir, $"sent-{i}.json"); File.WriteAllText(f, p.Body); return f; }).ToList();
        var (exit, output) = ArgoSchema.Validate(files);
        Assert.True(exit == 0, output);
    }

    [Fact]
    public void A_WorkflowTemplate_over_the_clusters_item_limits_is_refused_and_no_parent_is_created()
    {
        // Compiled for a cluster with larger limits (300), sent to one with Argo v4's (200): the fake API refuses the
        // first WorkflowTemplate as a real API server would, and the submit stops there.
        var wf = Chain(450);
        var ex = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(),
            Options(compile: new ArgoCompileOptions { MaxTemplates = 300, MaxDagTasks = 300 }) with { WorkflowLoader = (_, _) => wf }));
        Assert.Equal(422, ex.StatusCode);
        Assert.Matches(@"refused to create WorkflowTemplate chain-[0-9a-f]{10}-1 in namespace argo-jobs: 422 .*WorkflowTemplate\.argoproj\.io ""chain-[0-9a-f]{10}-1"" is invalid: spec\.templates: Too many: \d+: must have at most 200 items", ex.Message);
        Assert.Empty(_api.WorkflowTemplateNames());
        Assert.Empty(Calls("POST", "workflows"));

        _api.MaxObjectBytes = 5000; // a template of 5 steps is larger: etcd's refusal
        var big = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(Chain(12))));
        Assert.Equal(500, big.StatusCode);
        Assert.Matches(@"refused to create WorkflowTemplate chain-[0-9a-f]{10}-1 .*etcdserver: request is too large", big.Message);
        Assert.Empty(Calls("POST", "workflows"));
    }

    [Fact]
    public void A_step_skipped_in_one_group_is_skipped_for_its_readers_in_another_through_the_gates()
    {
        // a -> b (when a > 0: the fake makes it false) -> c reads b -> e reads c; d after b only (-DependsOn), when a > 5.
        // Unsplit, b is skipped, c and e with it (they read b's output), and d runs. Split in groups of two, b's outcome
        // crosses as b_status and a gate named b in c's group turns it back into Skipped.
        var at = new Axl.Model.SourceLocation("/flows/gates.axl.ps1", 1);
        var b = new Axl.Dsl.WorkflowBuilder("gates", null, at);
        b.AddStep("a", "1", null, at);
        b.AddStep("b", "param($a) $a", new Axl.Dsl.StepOptions { When = "a -gt 0" }, at);
        b.AddStep("c", "param($b) $b", null, at);
        b.AddStep("d", "2", new Axl.Dsl.StepOptions { DependsOn = new[] { "b" }, When = "a -gt 5" }, at);
        b.AddStep("e", "param($c) $c", null, at);
        var wf = b.Build();
        var small = new ArgoCompileOptions { MaxDagTasks = 2, MaxTemplates = 4 };
        var doc = ArgoCompiler.Compile(wf, ArgoCases.Options(small));
        Assert.True(doc.IsSplit);
        _api.SkipTasks.Add("b");
        using var handle = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec("gates"), SplitOptions(wf, compile: small));
        Assert.True(handle.Wait(TimeSpan.FromSeconds(60)));
        Assert.Equal(JobStatus.Succeeded, handle.Status);
        var steps = handle.Result!.Steps.ToDictionary(s => s.Name);
        Assert.Equal(new[] { "a", "b", "c", "d", "e" }, steps.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(StepStatus.Succeeded, steps["a"].Status);
        Assert.Equal(StepStatus.Skipped, steps["b"].Status);
        Assert.StartsWith("when '", steps["b"].SkipReason);
        Assert.Equal(StepStatus.Skipped, steps["c"].Status);
        Assert.Equal(StepStatus.Skipped, steps["e"].Status);
        Assert.Equal(StepStatus.Succeeded, steps["d"].Status);
        Assert.Equal(new[] { "a", "d" }, handle.Result.Artifacts.Keys.Order(StringComparer.Ordinal));
        // The gate named b (template Gate, no pod) is not taken for the step b.
        var nodes = _api.Workflow(handle.RunId)!["status"]!["nodes"]!.AsObject().Select(kv => kv.Value!).ToList();
        var gates = nodes.Where(n => (string?)n["templateName"] == ArgoCompiler.GateTemplate).ToList();
        Assert.NotEmpty(gates);
        Assert.All(gates, g => Assert.NotEqual("Pod", (string?)g["type"]));
        Assert.Equal(2, _api.Requests.Count(r => r.Path.Contains("/log?container=main", StringComparison.Ordinal)));
    }

    [Fact]
    public void Groups_of_groups_run_nested_and_every_step_still_has_its_result()
    {
        // 30 steps in DAGs of at most 3 tasks: the parent cannot call 10 groups, so groups of groups are made, and
        // their step nodes are <wf>.part-n.part-m(...).<step>, as Argo names them.
        var wf = Chain(30);
        var tiny = new ArgoCompileOptions { MaxDagTasks = 3, MaxTemplates = 4 };
        var doc = ArgoCompiler.Compile(wf, ArgoCases.Options(tiny));
        Assert.True(doc.Templates.Count > 10);
        using var handle = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(wf, compile: tiny));
        Assert.True(handle.Wait(TimeSpan.FromSeconds(120)));
        Assert.Equal(JobStatus.Succeeded, handle.Status);
        Assert.Equal(30, handle.Result!.Steps.Count(s => s.Status == StepStatus.Succeeded));
        Assert.Equal(30, handle.Result.Artifacts.Count);
        Assert.Equal(doc.Templates.Select(t => t.Name), Calls("POST", "workflowtemplates").Select(p => (string?)JsonNode.Parse(p.Body)!["metadata"]!["name"]));
        var names = _api.Workflow(handle.RunId)!["status"]!["nodes"]!.AsObject().Select(kv => (string)kv.Value!["name"]!).ToList();
        Assert.Contains(names, n => System.Text.RegularExpressions.Regex.IsMatch(n, $@"^{handle.RunId}(\.part-\d+){{2,}}\.s\d+$"));
    }

    [Fact]
    public void A_second_submit_of_the_same_version_rewrites_no_template_and_a_new_version_adds_its_own()
    {
        var wf = Chain(12);
        using (var first = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(wf))) Assert.True(first.Wait(TimeSpan.FromSeconds(60)));
        var names = _api.WorkflowTemplateNames();
        Assert.Equal(3, names.Count);
        var versions = names.Select(n => (string?)_api.WorkflowTemplate(n)!["metadata"]!["resourceVersion"]).ToList();

        using (var second = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(wf)))
        {
            Assert.All(((ArgoJobHandle)second).Templates, t => Assert.Equal(ArgoTemplateAction.Unchanged, t.Action));
            Assert.True(second.Wait(TimeSpan.FromSeconds(60)));
            Assert.Equal(JobStatus.Succeeded, second.Status);
        }
        Assert.Equal(3, Calls("POST", "workflowtemplates").Count);
        Assert.Empty(Calls("PUT", "workflowtemplates"));
        Assert.Equal(2, Calls("POST", "workflows").Count);
        Assert.Equal(versions, names.Select(n => (string?)_api.WorkflowTemplate(n)!["metadata"]!["resourceVersion"]));

        // Another version (the last step's code changed): new names (its hash), installed beside the old ones.
        var v2 = Chain(12, last: "+ 2");
        using (var third = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(v2)))
        {
            Assert.All(((ArgoJobHandle)third).Templates, t => Assert.Equal(ArgoTemplateAction.Created, t.Action));
            Assert.True(third.Wait(TimeSpan.FromSeconds(60)));
        }
        Assert.Equal(6, _api.WorkflowTemplateNames().Count);
        Assert.Equal(6, Calls("POST", "workflowtemplates").Count);
        var hex = v2.Hash.Substring("sha256:".Length, 10);
        Assert.Equal(3, _api.WorkflowTemplateNames().Count(n => n.StartsWith($"chain-{hex}-", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_same_version_compiled_with_other_options_updates_its_templates_unless_a_running_workflow_uses_them()
    {
        var wf = Chain(12);
        _api.HoldTasks.Add("s1");
        using var held = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(wf));
        var other = Small with { Image = "registry.local/other-runner:2" };
        var busy = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(wf, compile: other)));
        Assert.Equal(409, busy.StatusCode);
        var first = ArgoCompiler.Compile(wf, ArgoCases.Options(Small)).Templates[0].Name;
        Assert.Contains($"WorkflowTemplate {first} in namespace argo-jobs holds this version of workflow 'chain' compiled with other options", busy.Message);
        Assert.Contains($"running Workflow {held.RunId} uses it", busy.Message);
        Assert.Empty(Calls("PUT", "workflowtemplates"));

        _api.EndWorkflow(held.RunId);
        using var updated = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(wf, compile: other));
        Assert.All(((ArgoJobHandle)updated).Templates, t => Assert.Equal(ArgoTemplateAction.Updated, t.Action));
        Assert.Equal(3, Calls("PUT", "workflowtemplates").Count);
        Assert.Contains("registry.local/other-runner:2", _api.WorkflowTemplate(first)!.ToJsonString());
    }

    [Fact]
    public void A_template_of_the_same_name_from_another_version_is_an_error_naming_it_and_the_remedy()
    {
        var wf = Chain(12);
        var doc = ArgoCompiler.Compile(wf, ArgoCases.Options(Small));
        var forged = ArgoTemplates.Body(doc.Templates[1], "argo-jobs");
        forged["metadata"]!["annotations"]!["axl.dev/workflow-hash"] = "sha256:" + new string('0', 64);
        using (var cluster = ArgoCluster.Connect(new ArgoSubmitOptions { KubeConfig = _kubeconfig }))
            cluster.CreateWorkflowTemplateAsync(forged).GetAwaiter().GetResult();
        var ex = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(wf)));
        Assert.Equal(409, ex.StatusCode);
        Assert.StartsWith($"WorkflowTemplate {doc.Templates[1].Name} in namespace argo-jobs is not part of this version of workflow 'chain': its axl.dev/workflow-hash annotation is sha256:000", ex.Message);
        Assert.Contains($"Fix: remove it when no run uses it (Remove-AxlArgoTemplate {doc.Templates[1].Name}", ex.Message);
        Assert.Empty(Calls("POST", "workflows")); // no parent without its templates
    }

    [Fact]
    public void Superseded_versions_are_listed_and_removed_and_a_template_in_use_never_is()
    {
        var v1 = Chain(12);
        var v2 = Chain(12, last: "+ 2");
        var v3 = Chain(12, last: "+ 3");
        using (var a = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(v1))) Assert.True(a.Wait(TimeSpan.FromSeconds(60)));
        _api.HoldTasks.Add("s1");
        using var b = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(v2)); // still running
        using var c = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(v3)); // the newest, running too
        string Hash(Axl.Model.AxlWorkflow w) => w.Hash.Substring("sha256:".Length, 12);

        using var cluster = ArgoCluster.Connect(new ArgoSubmitOptions { KubeConfig = _kubeconfig });
        var store = new ArgoTemplates(cluster);
        var all = store.ListAsync().GetAwaiter().GetResult();
        Assert.Equal(9, all.Count);
        Assert.All(all, t => Assert.Equal("chain", t.Workflow));
        Assert.Equal(new[] { Hash(v1), Hash(v2), Hash(v3) }, all.Select(t => t.WorkflowHash).Distinct()); // oldest first
        Assert.All(all.Where(t => t.WorkflowHash == Hash(v1)), t => { Assert.True(t.Superseded); Assert.False(t.InUse); });
        Assert.All(all.Where(t => t.WorkflowHash == Hash(v2)), t => { Assert.False(t.Superseded); Assert.Equal(new[] { b.RunId }, t.UsedBy); });
        Assert.All(all.Where(t => t.WorkflowHash == Hash(v3)), t => Assert.False(t.Superseded));
        Assert.Equal(new int?[] { 1, 2, 3 }, all.Where(t => t.WorkflowHash == Hash(v1)).Select(t => t.Part));

        var superseded = store.ListAsync(new[] { "ch*" }, supersededOnly: true).GetAwaiter().GetResult();
        Assert.Equal(all.Where(t => t.WorkflowHash == Hash(v1)).Select(t => t.Name), superseded.Select(t => t.Name));
        Assert.Empty(store.ListAsync(new[] { "other" }).GetAwaiter().GetResult());

        foreach (var t in superseded) Assert.True(store.RemoveAsync(t.Name).GetAwaiter().GetResult().Removed);
        Assert.Equal(6, _api.WorkflowTemplateNames().Count);
        var inUse = all.First(t => t.WorkflowHash == Hash(v2));
        var refused = store.RemoveAsync(inUse.Name).GetAwaiter().GetResult();
        Assert.False(refused.Removed);
        Assert.Equal($"WorkflowTemplate {inUse.Name} in namespace argo-jobs is used by running Workflow {b.RunId}: not removed. Fix: wait until it ends (or stop it: Stop-Job, argo stop) and remove it then.", refused.Refused);
        Assert.NotNull(_api.WorkflowTemplate(inUse.Name));
        Assert.Single(_api.Requests, r => r.Method == "DELETE" && r.Path.EndsWith("/" + superseded[0].Name, StringComparison.Ordinal));
        Assert.Equal(3, _api.Requests.Count(r => r.Method == "DELETE"));

        // Once v2's run ended, its templates are superseded by v3's; v3's (the newest) never are.
        _api.EndWorkflow(b.RunId);
        Assert.Equal(all.Where(t => t.WorkflowHash == Hash(v2)).Select(t => t.Name), store.ListAsync(supersededOnly: true).GetAwaiter().GetResult().Select(t => t.Name));
        _api.EndWorkflow(c.RunId);
        Assert.Equal(all.Where(t => t.WorkflowHash == Hash(v2)).Select(t => t.Name), store.ListAsync(supersededOnly: true).GetAwaiter().GetResult().Select(t => t.Name));

        // Submitting v2 again makes it the newest: v3's are superseded now.
        _api.HoldTasks.Clear();
        using (var again = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(v2))) Assert.True(again.Wait(TimeSpan.FromSeconds(60)));
        Assert.Equal(all.Where(t => t.WorkflowHash == Hash(v3)).Select(t => t.Name), store.ListAsync(supersededOnly: true).GetAwaiter().GetResult().Select(t => t.Name));
    }

    [Fact]
    public void Stop_shuts_down_the_whole_split_tree_and_a_failing_step_in_a_group_fails_the_job()
    {
        var wf = Chain(12);
        _api.HoldTasks.Add("s6");
        var (handle, _, logs) = Follow(JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(wf)));
        using (handle)
        {
            var until = DateTime.UtcNow.AddSeconds(30);
            while (!(_api.Workflow(handle.RunId)!["status"]?["nodes"] is JsonObject n && n.Select(kv => kv.Value).Any(x => (string?)x!["displayName"] == "s6")) && DateTime.UtcNow < until) Thread.Sleep(20);
            handle.Cancel();
            Assert.Equal($"/apis/argoproj.io/v1alpha1/namespaces/argo-jobs/workflows/{handle.RunId}", _api.Requests.Single(r => r.Method == "PATCH").Path);
            Assert.True(handle.Wait(TimeSpan.FromSeconds(30)));
            Assert.Equal(JobStatus.Cancelled, handle.Status);
            var steps = handle.Result!.Steps.ToDictionary(s => s.Name);
            Assert.Equal(StepStatus.Cancelled, steps["s6"].Status);
            Assert.All(Enumerable.Range(0, 6), i => Assert.Equal(StepStatus.Succeeded, steps[$"s{i}"].Status));
            Assert.All(Enumerable.Range(7, 5), i => Assert.Equal(StepStatus.Skipped, steps[$"s{i}"].Status));
            var group = _api.Workflow(handle.RunId)!["status"]!["nodes"]!.AsObject().Select(kv => kv.Value!).Single(x => (string?)x["displayName"] == "part-2");
            Assert.Equal("Failed", (string?)group["phase"]);
        }

        _api.HoldTasks.Clear();
        _api.FailTasks.Add("s7");
        using var failing = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec("failing"), SplitOptions(wf));
        Assert.True(failing.Wait(TimeSpan.FromSeconds(60)));
        Assert.Equal(JobStatus.Failed, failing.Status);
        var s7 = failing.Result!.Steps.Single(s => s.Name == "s7");
        Assert.Equal(StepStatus.Failed, s7.Status);
        Assert.Contains("step s7: Error (exit code 1)", failing.Result.Error);
        Assert.Equal(StepStatus.Skipped, failing.Result.Steps.Single(s => s.Name == "s8").Status);
        Assert.Equal(StepStatus.Succeeded, failing.Result.Steps.Single(s => s.Name == "s6").Status);
    }

    [Fact]
    public void A_template_deleted_before_its_group_runs_fails_the_job_naming_it()
    {
        var wf = Chain(12);
        var doc = ArgoCompiler.Compile(wf, ArgoCases.Options(Small));
        _api.HoldTasks.Add("s0");
        using var handle = JobTargets.Get(JobTargetKind.Argo).Submit(ChainSpec(), SplitOptions(wf));
        _api.DeleteTemplate(doc.Templates[2].Name);
        _api.HoldTasks.Clear();
        Assert.True(handle.Wait(TimeSpan.FromSeconds(60)));
        Assert.Equal(JobStatus.Failed, handle.Status);
        var part3 = _api.Workflow(handle.RunId)!["status"]!["nodes"]!.AsObject().Select(kv => kv.Value!).Single(x => (string?)x["displayName"] == "part-3");
        Assert.Equal($"workflowtemplates.argoproj.io \"{doc.Templates[2].Name}\" not found", (string?)part3["message"]);
        Assert.Equal(StepStatus.Succeeded, handle.Result!.Steps.Single(s => s.Name == "s9").Status);
        Assert.Equal(StepStatus.Skipped, handle.Result.Steps.Single(s => s.Name == "s10").Status);
    }

    [Fact]
    public void Context_and_namespace_options_pick_where_the_workflow_goes()
    {
        using (var h = JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options(new ArgoSubmitOptions { Context = "other" })))
            Assert.Contains(_api.Requests, r => r.Method == "POST" && r.Path.Contains("/namespaces/other-ns/"));
        using (var h = JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options(new ArgoSubmitOptions { Namespace = "team-a" })))
            Assert.Contains(_api.Requests, r => r.Method == "POST" && r.Path.Contains("/namespaces/team-a/"));
    }

    [Fact]
    public void Clear_errors_for_bad_credentials_config_parameters_and_templates()
    {
        var badToken = _api.WriteKubeConfig(Path.Combine(_dir, "bad"), token: "wrong");
        var auth = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options(new ArgoSubmitOptions { KubeConfig = badToken })));
        Assert.Equal(401, auth.StatusCode);
        Assert.Contains($"The Kubernetes API at {_api.Server}", auth.Message);
        Assert.Contains("refused to create the Workflow in namespace argo-jobs: 401", auth.Message);
        Assert.Contains("Fix: the credentials of the kubeconfig were refused", auth.Message);

        var missing = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options(new ArgoSubmitOptions { KubeConfig = Path.Combine(_dir, "nope") })));
        Assert.Contains("nope does not exist. Fix: give -KubeConfig", missing.Message);

        var context = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options(new ArgoSubmitOptions { Context = "no-such-context" })));
        Assert.Contains("-KubeContext", context.Message);

        var spec = Spec();
        spec.Parameters["Bsae"] = 1;
        var param = Assert.Throws<AxlJobSpecException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(spec, Options()));
        Assert.Equal("Workflow 'diamond' has no parameter 'Bsae'. Its parameters: Base. Fix: correct the name in -Parameters.", param.Message);
        Assert.Equal("parameters.Bsae", param.Field);

        var template = ArgoCompiler.Compile(ArgoCases.Diamond().Workflow, ArgoCases.Options() with { Kind = ArgoKind.WorkflowTemplate });
        var kind = Assert.Throws<AxlJobSpecException>(() => new ArgoJobTarget().SubmitDocument(template, Spec(), Options()));
        Assert.StartsWith("'diamond' is a WorkflowTemplate: a template is installed", kind.Message);

        var down = new FakeKubernetesApi();
        var downConfig = down.WriteKubeConfig(Path.Combine(_dir, "down"));
        down.Dispose();
        var unreachable = Assert.Throws<ArgoClusterException>(() => JobTargets.Get(JobTargetKind.Argo).Submit(Spec(), Options(new ArgoSubmitOptions { KubeConfig = downConfig })));
        Assert.Contains($"Cannot reach the Kubernetes API at {down.Server}", unreachable.Message);
    }

    [Fact]
    public void A_compiled_document_is_submitted_as_it_is_with_the_spec_parameters()
    {
        var doc = ArgoCompiler.Compile(ArgoCases.Diamond().Workflow, ArgoCases.Options());
        using var h = new ArgoJobTarget().SubmitDocument(doc, new AxlJobSpec { Name = "from-pipeline", Target = JobTargetKind.Argo }, Options());
        Assert.True(h.Wait(TimeSpan.FromSeconds(30)));
        Assert.Equal(JobStatus.Succeeded, h.Status);
        var sent = JsonNode.Parse(_api.Requests.First(r => r.Method == "POST").Body)!.AsObject();
        sent["metadata"]!.AsObject().Remove("namespace");
        sent["metadata"]!["labels"]!.AsObject().Remove("axl.dev/job");
        Assert.Equal(JsonNode.Parse(doc.ToJson())!.ToJsonString(), sent.ToJsonString());
    }

    [Fact]
    public void An_experiment_sweeps_on_Argo_with_the_workflows_loaded_by_its_session()
    {
        var jobs = new[] { 1L, 2L }.Select(b => new ExperimentJob
        {
            Name = $"base-{b}",
            Spec = new AxlJobSpec { Name = $"base-{b}", WorkflowPath = "/flows/diamond.axl.ps1", WorkflowName = "diamond", Target = JobTargetKind.Argo, Overrides = new SortedDictionary<string, object?> { ["Base"] = b } },
        }).ToList();
        var state = ExperimentLauncher.Start("argo-sweep", jobs, Path.Combine(_dir, "runs"), "/flows", throttleLimit: 2, Options());
        var until = DateTime.UtcNow.AddSeconds(60);
        AxlExperiment now;
        while (!(now = AxlExperiment.Load(state.Directory)).IsFinished && DateTime.UtcNow < until) Thread.Sleep(50);
        Assert.True(now.IsFinished, string.Join(", ", now.Jobs.Select(j => $"{j.Name}: {j.Status} {j.Error}")));
        Assert.All(now.Jobs, j => { Assert.Equal(JobStatus.Succeeded, j.Status); Assert.StartsWith("diamond-", j.RunId); });
        var values = _api.Requests.Where(r => r.Method == "POST").Select(r => (string?)JsonNode.Parse(r.Body)!["spec"]!["arguments"]!["parameters"]![0]!["value"]).Order();
        Assert.Equal(new[] { "1", "2" }, values);
    }

    [Fact]
    public void Status_with_retries_and_skips_maps_to_step_results()
    {
        // The shape of status.nodes for a DAG task with retryStrategy (a Retry node with one Pod child per attempt)
        // and a task skipped by its `when`, as Argo records them.
        var wf = JsonDocument.Parse("""
            {"metadata":{"name":"flow-abcde"},
             "spec":{"shutdown":null,"templates":[
               {"name":"main-dag","dag":{"tasks":[]}},
               {"name":"train","container":{"args":["step","--manifest-json","{\"step\":\"train\"}"]}},
               {"name":"report","container":{"args":["step","--manifest-json","{\"step\":\"report\"}"]}}]},
             "status":{"phase":"Succeeded","startedAt":"2026-11-23T10:00:00Z","finishedAt":"2026-11-23T10:05:00Z","nodes":{
               "flow-abcde":{"id":"flow-abcde","name":"flow-abcde","displayName":"flow-abcde","type":"DAG","templateName":"main-dag","phase":"Succeeded"},
               "flow-abcde-1":{"id":"flow-abcde-1","name":"flow-abcde.train","displayName":"train","type":"Retry","templateName":"train","phase":"Succeeded","startedAt":"2026-11-23T10:00:01Z","finishedAt":"2026-11-23T10:04:00Z","children":["flow-abcde-2","flow-abcde-3"]},
               "flow-abcde-2":{"id":"flow-abcde-2","name":"flow-abcde.train(0)","displayName":"train(0)","type":"Pod","templateName":"train","phase":"Failed","message":"Error (exit code 3)","startedAt":"2026-11-23T10:00:01Z","finishedAt":"2026-11-23T10:01:00Z"},
               "flow-abcde-3":{"id":"flow-abcde-3","name":"flow-abcde.train(1)","displayName":"train(1)","type":"Pod","templateName":"train","phase":"Succeeded","startedAt":"2026-11-23T10:01:10Z","finishedAt":"2026-11-23T10:04:00Z",
                  "outputs":{"artifacts":[{"name":"output","path":"/axl/outputs/train","s3":{"bucket":"ml","key":"runs/flow-abcde/train.tgz"}}]}},
               "flow-abcde-4":{"id":"flow-abcde-4","name":"flow-abcde.report","displayName":"report","type":"Skipped","templateName":"report","phase":"Skipped","message":"when 'false == true' evaluated false"}}}}
            """).RootElement;
        var state = ArgoWorkflowState.Parse(wf);
        Assert.Equal(JobStatus.Succeeded, state.JobStatus(cancelRequested: false));
        var steps = state.StepResults();
        var train = steps.Single(s => s.Name == "train");
        Assert.Equal(StepStatus.Succeeded, train.Status);
        Assert.Equal(2, train.Attempts);
        Assert.Equal("s3://ml/runs/flow-abcde/train.tgz", train.OutputPath);
        Assert.Equal(TimeSpan.FromSeconds(239), train.Duration);
        var report = steps.Single(s => s.Name == "report");
        Assert.Equal(StepStatus.Skipped, report.Status);
        Assert.Equal("when 'false == true' evaluated false", report.SkipReason);

        Assert.Equal(JobStatus.Failed, ArgoWorkflowState.Parse(JsonDocument.Parse("""{"metadata":{"name":"x"},"status":{"phase":"Error"}}""").RootElement).JobStatus(false));
        Assert.Equal(JobStatus.Cancelled, ArgoWorkflowState.Parse(JsonDocument.Parse("""{"metadata":{"name":"x"},"spec":{"shutdown":"Stop"},"status":{"phase":"Failed"}}""").RootElement).JobStatus(false));
        Assert.Equal(JobStatus.Pending, ArgoWorkflowState.Parse(JsonDocument.Parse("""{"metadata":{"name":"x"}}""").RootElement).JobStatus(false));
    }
}
