using System.Text.Json;
using Axl.Compilers.Argo;
using Axl.Compilers.Kfp;
using Axl.Runner;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// One workflow, three back ends: the Argo Workflow, the KFP pipeline spec and the Dagster module, each parsed
/// back (YAML; the Python with python3's ast module), carry the same steps, the same edges, the same image per
/// step and the same IO manifest per step (all but the paths and run id, which each back end fills its own way).
/// </summary>
public sealed class BackendParityTests
{
    public sealed record Shape(SortedDictionary<string, string> Images, SortedSet<string> Edges, SortedDictionary<string, string> Manifests);

    /// <summary>A manifest without what differs by back end: folders, run id, work dir (kept: whether there is a value file).</summary>
    public static string Normalize(StepManifest m) => JsonSerializer.Serialize(new
    {
        m.Workflow, m.WorkflowHash, m.WorkflowFile, m.Step,
        Inputs = m.Inputs.Select(i => new { i.Name, i.Source, i.From, i.Mode, i.Value, i.Env, HasPath = i.Path is not null }).ToList(),
        Output = new { m.Output.IoHandler, m.Output.Extension, HasValueFile = m.Output.ValueFile is not null },
    });

    public static Shape Argo(string yaml)
    {
        var doc = KfpStructureTests.ToJson(yaml)!;
        var images = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var manifests = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var stepOfTask = new Dictionary<string, string>();
        var templates = doc["spec"]!["templates"]!.AsArray();
        foreach (var t in templates.Where(t => t!["container"] is not null))
        {
            var args = t!["container"]!["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
            var m = StepManifest.Parse(args[args.IndexOf("--manifest-json") + 1]);
            stepOfTask[t["name"]!.GetValue<string>()] = m.Step;
            images[m.Step] = t["container"]!["image"]!.GetValue<string>();
            manifests[m.Step] = Normalize(m);
        }
        var edges = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var task in templates[0]!["dag"]!["tasks"]!.AsArray())
        {
            var to = stepOfTask[task!["template"]!.GetValue<string>()];
            var from = task["dependencies"]?.AsArray().Select(d => d!.GetValue<string>())
                       ?? System.Text.RegularExpressions.Regex.Matches(task["depends"]?.GetValue<string>() ?? "", @"([a-z0-9][-a-z0-9]*)\.[A-Z]").Select(x => x.Groups[1].Value).Distinct();
            foreach (var f in from) edges.Add(stepOfTask[f] + " -> " + to);
        }
        return new(images, edges, manifests);
    }

    public static Shape Kfp(string yaml)
    {
        var doc = KfpStructureTests.ToJson(yaml)!;
        var images = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var manifests = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var stepOfTask = new Dictionary<string, string>();
        var tasks = doc["root"]!["dag"]!["tasks"]!.AsObject();
        foreach (var (name, task) in tasks)
        {
            var component = doc["components"]![task!["componentRef"]!["name"]!.GetValue<string>()]!;
            var container = doc["deploymentSpec"]!["executors"]![component["executorLabel"]!.GetValue<string>()]!["container"];
            if (container is null) continue; // the code archive importer
            var args = container["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
            var m = StepManifest.Parse(args[args.IndexOf("--manifest-json") + 1]);
            stepOfTask[name] = m.Step;
            images[m.Step] = container["image"]!.GetValue<string>();
            manifests[m.Step] = Normalize(m);
        }
        var edges = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (name, task) in tasks.Where(t => stepOfTask.ContainsKey(t.Key)))
            foreach (var d in task!["dependentTasks"]?.AsArray().Select(x => x!.GetValue<string>()) ?? Enumerable.Empty<string>())
                if (stepOfTask.TryGetValue(d, out var from)) edges.Add(from + " -> " + stepOfTask[name]);
        return new(images, edges, manifests);
    }

    /// <summary>Reads the module with python3's ast: each op's manifest constant and image tag, and the graph body's calls (edges).</summary>
    public static Shape Dagster(string source)
    {
        var dir = Path.Combine(Path.GetTempPath(), "axl-parity-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        try
        {
            var file = Path.Combine(dir, "job.py");
            File.WriteAllText(file, source);
            const string Script = """
                import ast, json, sys
                tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
                consts, ops, calls = {}, {}, []
                for node in tree.body:
                    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id.endswith("_MANIFEST"):
                        consts[node.targets[0].id] = ast.literal_eval(node.value)
                    if isinstance(node, ast.FunctionDef):
                        for d in node.decorator_list:
                            if isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "op":
                                kw = {k.arg: k.value for k in d.keywords}
                                tags = ast.literal_eval(kw["tags"])
                                ops[node.name] = {"step": tags["axl/step"], "image": tags["axl/image"]}
                            if isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "graph":
                                for stmt in node.body:
                                    if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                                        to = stmt.value.func.id
                                        for k in stmt.value.keywords:
                                            v = k.value
                                            src = v.id if isinstance(v, ast.Name) else v.value.id
                                            calls.append([src[:-len("_out")], to])
                for name, op in ops.items():
                    op["manifest"] = consts[name.upper() + "_MANIFEST"]
                print(json.dumps({"ops": ops, "calls": calls}))
                """;
            var (exit, output) = Python.Run(dir, "-c", Script, file);
            Assert.True(exit == 0, output);
            using var doc = JsonDocument.Parse(output);
            var ops = doc.RootElement.GetProperty("ops");
            var stepOf = ops.EnumerateObject().ToDictionary(o => o.Name, o => o.Value.GetProperty("step").GetString()!);
            var images = new SortedDictionary<string, string>(StringComparer.Ordinal);
            var manifests = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var o in ops.EnumerateObject())
            {
                images[stepOf[o.Name]] = o.Value.GetProperty("image").GetString()!;
                manifests[stepOf[o.Name]] = Normalize(StepManifest.Parse(o.Value.GetProperty("manifest").GetRawText()));
            }
            var edges = new SortedSet<string>(doc.RootElement.GetProperty("calls").EnumerateArray().Select(c => stepOf[c[0].GetString()!] + " -> " + stepOf[c[1].GetString()!]), StringComparer.Ordinal);
            return new(images, edges, manifests);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [PythonFact]
    public void Argo_KFP_and_Dagster_carry_the_same_steps_edges_images_and_manifests()
    {
        foreach (var name in DagsterGoldenTests.Names)
        {
            var c = ArgoCases.Get(name);
            var argo = Argo(ArgoCompiler.Compile(c.Workflow, c.Options).ToYaml());
            var kfp = Kfp(KfpCases.Compile(name).ToYaml());
            var dagster = Dagster(DagsterGoldenTests.Compile(name).Source);

            Assert.Equal(c.Workflow.Steps.Select(s => s.Name).OrderBy(x => x, StringComparer.Ordinal), argo.Images.Keys);
            Assert.True(argo.Edges.Count >= c.Workflow.StepCount - 1, $"{name}: too few edges: {string.Join(", ", argo.Edges)}");
            foreach (var (backend, shape) in new[] { ("kfp", kfp), ("dagster", dagster) })
            {
                Assert.True(argo.Images.Keys.SequenceEqual(shape.Images.Keys), $"{name}: {backend} steps {string.Join(",", shape.Images.Keys)}");
                Assert.True(argo.Edges.SetEquals(shape.Edges), $"{name}: {backend} edges {string.Join(", ", shape.Edges)}; argo {string.Join(", ", argo.Edges)}");
                foreach (var step in argo.Images.Keys)
                {
                    Assert.True(argo.Images[step] == shape.Images[step], $"{name}/{step}: image on {backend} {shape.Images[step]}, on argo {argo.Images[step]}");
                    Assert.True(argo.Manifests[step] == shape.Manifests[step], $"{name}/{step}: manifest on {backend}\n{shape.Manifests[step]}\non argo\n{argo.Manifests[step]}");
                }
            }
        }
    }

    [PythonFact]
    public void The_parity_check_notices_a_difference()
    {
        var c = ArgoCases.Get("diamond");
        var argo = Argo(ArgoCompiler.Compile(c.Workflow, c.Options).ToYaml());
        var dagster = Dagster(DagsterGoldenTests.Compile("diamond").Source.Replace("join_out = join(left=left_out, right=right_out)", "join_out = join(left=left_out, right=left_out)"));
        Assert.False(argo.Edges.SetEquals(dagster.Edges));
        Assert.NotEqual(argo.Manifests["join"], Kfp(KfpCases.Compile("diamond").ToYaml().Replace("\"mode\":\"object\"", "\"mode\":\"path\"")).Manifests["join"]);
    }
}
