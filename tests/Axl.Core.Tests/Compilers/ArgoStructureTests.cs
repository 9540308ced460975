using System.Text.Json;
using Axl.Compilers.Argo;
using Axl.Validation;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// The rules every compiled document keeps (seed M2 acceptance): DNS-1123 names for templates, tasks and artifacts;
/// no "from" in template inputs (wiring lives in the DAG task arguments); every reference points at something that
/// exists; one task and one container template per step.
/// </summary>
public sealed class ArgoStructureTests
{
    internal static IDictionary<string, object?> M(object? o) => Assert.IsAssignableFrom<IDictionary<string, object?>>(o);
    internal static IReadOnlyList<object?> L(object? o) => o is null ? Array.Empty<object?>() : Assert.IsAssignableFrom<IEnumerable<object?>>(o).ToList();
    internal static object? Get(object? o, params string[] path)
    {
        foreach (var key in path)
        {
            if (o is not IDictionary<string, object?> m || !m.TryGetValue(key, out o)) return null;
        }
        return o;
    }

    internal static IReadOnlyList<IDictionary<string, object?>> Templates(ArgoDocument d) => L(Get(d.Tree, "spec", "templates")).Select(M).ToList();
    internal static IReadOnlyList<IDictionary<string, object?>> Tasks(ArgoDocument d) => L(Get(Templates(d)[0], "dag", "tasks")).Select(M).ToList();

    [Theory]
    [MemberData(nameof(ArgoCases.All), MemberType = typeof(ArgoCases))]
    public void Names_are_DNS_1123_and_template_inputs_never_use_from(string name)
    {
        var c = ArgoCases.Get(name);
        var d = ArgoCompiler.Compile(c.Workflow, c.Options);
        var names = new List<(string What, string Name)>();
        foreach (var t in Templates(d))
        {
            names.Add(("template", (string)t["name"]!));
            foreach (var a in L(Get(t, "inputs", "artifacts")).Select(M))
            {
                names.Add(("input artifact", (string)a["name"]!));
                Assert.False(a.ContainsKey("from"), $"template {t["name"]} input artifact {a["name"]} has 'from'");
                Assert.False(a.ContainsKey("fromExpression"), $"template {t["name"]} input artifact {a["name"]} has 'fromExpression'");
            }
            foreach (var a in L(Get(t, "outputs", "artifacts")).Select(M)) names.Add(("output artifact", (string)a["name"]!));
        }
        foreach (var task in Tasks(d))
        {
            names.Add(("task", (string)task["name"]!));
            foreach (var a in L(Get(task, "arguments", "artifacts")).Select(M)) names.Add(("task artifact", (string)a["name"]!));
        }
        Assert.NotEmpty(names);
        foreach (var (what, n) in names) Assert.True(Dns1123.IsValid(n), $"{what} name '{n}' is not DNS-1123");
        var generated = (string?)Get(d.Tree, "metadata", "generateName") ?? (string)Get(d.Tree, "metadata", "name")!;
        Assert.True(Dns1123.IsValid(generated.TrimEnd('-')), generated);
    }

    [Theory]
    [MemberData(nameof(ArgoCases.All), MemberType = typeof(ArgoCases))]
    public void Every_reference_points_at_something_that_exists(string name)
    {
        var c = ArgoCases.Get(name);
        var d = ArgoCompiler.Compile(c.Workflow, c.Options);
        Assert.Equal("main-dag", Get(d.Tree, "spec", "entrypoint"));
        var templates = Templates(d).ToDictionary(t => (string)t["name"]!);
        Assert.Equal("main-dag", Templates(d)[0]["name"]);
        var tasks = Tasks(d);
        Assert.Equal(c.Workflow.StepCount, tasks.Count);
        Assert.Equal(c.Workflow.StepCount + 1, templates.Count);
        var workflowParameters = L(Get(d.Tree, "spec", "arguments", "parameters")).Select(p => (string)M(p)["name"]!).ToHashSet();
        var seen = new HashSet<string>();
        foreach (var task in tasks)
        {
            var t = templates[(string)task["template"]!];
            Assert.Equal(task["name"], t["name"]);
            var upstream = L(task.TryGetValue("dependencies", out var deps) ? deps : null).Cast<string>().ToList();
            if (task.TryGetValue("depends", out var depends))
                upstream.AddRange(System.Text.RegularExpressions.Regex.Matches((string)depends!, @"([a-z0-9-]+)\.(Succeeded|Skipped)").Select(m => m.Groups[1].Value).Distinct());
            Assert.All(upstream, u => Assert.Contains(u, seen)); // tasks come in dependency order
            // Task artifacts come from an upstream task's output and feed a declared template input of the same name.
            var inputArtifacts = L(Get(t, "inputs", "artifacts")).Select(M).ToDictionary(a => (string)a["name"]!);
            foreach (var a in L(Get(task, "arguments", "artifacts")).Select(M))
            {
                var m = System.Text.RegularExpressions.Regex.Match((string)a["from"]!, @"^\{\{tasks\.([a-z0-9-]+)\.outputs\.artifacts\.output\}\}$");
                Assert.True(m.Success, (string)a["from"]!);
                Assert.Contains(m.Groups[1].Value, upstream);
                Assert.True(inputArtifacts.ContainsKey((string)a["name"]!), $"task {task["name"]} passes artifact {a["name"]} that template {t["name"]} does not declare");
            }
            foreach (var input in inputArtifacts.Values.Where(a => (string)a["name"]! != ArgoCompiler.CodeArtifact))
                Assert.Contains(L(Get(task, "arguments", "artifacts")).Select(M), a => (string)a["name"]! == (string)input["name"]!);
            // Parameters: the task passes exactly the template's inputs, each from a workflow parameter.
            var templateParameters = L(Get(t, "inputs", "parameters")).Select(p => (string)M(p)["name"]!).ToList();
            var taskParameters = L(Get(task, "arguments", "parameters")).Select(M).ToList();
            Assert.Equal(templateParameters, taskParameters.Select(p => (string)p["name"]!));
            foreach (var p in taskParameters)
            {
                Assert.Equal("{{workflow.parameters." + p["name"] + "}}", p["value"]);
                Assert.Contains((string)p["name"]!, workflowParameters);
            }
            // A condition only reads steps above it, through their value parameter.
            if (task.TryGetValue("when", out var when))
                foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches((string)when!, @"\{\{tasks\.([a-z0-9-]+)\.outputs\.parameters\.value\}\}"))
                {
                    Assert.Contains(m.Groups[1].Value, seen);
                    Assert.Contains(L(Get(templates[m.Groups[1].Value], "outputs", "parameters")).Select(M), p => (string)p["name"]! == "value");
                }
            seen.Add((string)task["name"]!);
        }
    }

    [Theory]
    [MemberData(nameof(ArgoCases.All), MemberType = typeof(ArgoCases))]
    public void Each_step_template_runs_the_runner_with_its_manifest(string name)
    {
        var c = ArgoCases.Get(name);
        var d = ArgoCompiler.Compile(c.Workflow, c.Options);
        foreach (var t in Templates(d).Skip(1))
        {
            var container = M(t["container"]);
            Assert.Equal("main", container["name"]);
            Assert.Equal(new object?[] { "axl" }, L(container["command"]));
            var args = L(container["args"]).Cast<string>().ToList();
            Assert.Equal("step", args[0]);
            var json = args[args.IndexOf("--manifest-json") + 1];
            using var manifest = JsonDocument.Parse(json);
            var step = c.Workflow.GetStep(manifest.RootElement.GetProperty("step").GetString()!)!;
            Assert.Equal(step.KubernetesName, t["name"]);
            Assert.Equal(c.Workflow.Hash, manifest.RootElement.GetProperty("workflowHash").GetString());
            Assert.Equal($"{name}.axl.ps1", manifest.RootElement.GetProperty("workflowFile").GetString());
            Assert.Equal("/axl/workdir", manifest.RootElement.GetProperty("workDir").GetString());
            Assert.Equal("{{workflow.name}}", manifest.RootElement.GetProperty("runId").GetString());
            // Manifest paths are where the template puts its artifacts (or the shared volume).
            var outputDir = manifest.RootElement.GetProperty("output").GetProperty("directory").GetString()!;
            var outputArtifacts = L(Get(t, "outputs", "artifacts")).Select(M).ToList();
            if (d.ArtifactStorage.StartsWith("pvc:", StringComparison.Ordinal))
            {
                Assert.Empty(outputArtifacts);
                Assert.Equal("/axl/data/" + step.KubernetesName, outputDir);
            }
            else
            {
                Assert.Equal(outputDir, Assert.Single(outputArtifacts)["path"]);
                Assert.Equal("/axl/outputs/" + step.KubernetesName, outputDir);
                var declared = L(Get(t, "inputs", "artifacts")).Select(M).ToDictionary(a => (string)a["name"]!, a => (string)a["path"]!);
                foreach (var input in manifest.RootElement.GetProperty("inputs").EnumerateArray().Where(i => i.GetProperty("source").GetString() == "step"))
                    Assert.Contains(input.GetProperty("path").GetString(), declared.Values);
            }
            // Parameter values travel in environment variables (never pasted into the manifest's JSON).
            // (Secret variables have valueFrom instead of a value.)
            var env = L(Get(t, "container", "env")).Select(M).Where(e => e.ContainsKey("value")).ToDictionary(e => (string)e["name"]!, e => (string)e["value"]!);
            foreach (var input in manifest.RootElement.GetProperty("inputs").EnumerateArray().Where(i => i.GetProperty("source").GetString() == "parameter"))
            {
                Assert.Equal(JsonValueKind.Null, input.GetProperty("value").ValueKind);
                var variable = input.GetProperty("env").GetString()!;
                Assert.StartsWith("AXL_PARAM_", variable);
                Assert.Equal("{{inputs.parameters." + input.GetProperty("from").GetString() + "}}", env[variable]);
            }
        }
    }
}
