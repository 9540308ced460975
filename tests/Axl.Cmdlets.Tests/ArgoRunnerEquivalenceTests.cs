using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;
using static Axl.Cmdlets.Tests.ArgoYaml;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Seed M3: "local execution and containerized execution produce identical results". Each workflow is compiled to
/// Argo YAML, and the YAML's DAG is then executed on this machine the way Argo would run it: tasks in dependency
/// order ("dependencies"/"depends"), "when" evaluated after substituting the {{...}} references, each task's
/// input artifacts copied from the upstream task's output artifact into the template's input path, and the
/// template's own command, axl step --manifest-json &lt;manifest&gt;, run as a process with the container paths
/// mapped to a folder per pod. Every step must end as it does in axl run local, with the same output sha256.
/// </summary>
public sealed class ArgoRunnerEquivalenceTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { "iris-knn", "" },
        new object[] { "iris-knn", "NNeighbors=5" },
        new object[] { "log-errors", "" },
        new object[] { "diamond", "Base=7" },
        new object[] { "gates", "" },
        new object[] { "gates", "Mode=dry-run" },
        new object[] { "word-stats", "Top=2" },
        new object[] { "external-repo", "Threshold=2" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_compiled_DAG_run_step_by_step_gives_the_local_results(string example, string parameter)
    {
        var file = LocalReference.File(_dir, example);
        var parameters = parameter.Length == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { [parameter.Split('=')[0]] = parameter.Split('=')[1] };
        var localSteps = LocalReference.Steps(file, parameter, Path.Combine(_dir.Path, "local"));

        // The compiled workflow, run as Argo would.
        var compiled = CliTests.Axl("compile", "--target", "argo", file);
        Assert.True(compiled.Exit == 0, compiled.Err);
        var results = ArgoSimulator.Run(compiled.Out, parameters, Path.GetDirectoryName(file)!, Path.Combine(_dir.Path, "argo"));

        Assert.Equal(localSteps.Keys.OrderBy(x => x), results.Values.Select(r => r.Step).OrderBy(x => x));
        var ran = 0;
        foreach (var r in results.Values)
        {
            var l = localSteps[r.Step];
            var localStatus = l.GetProperty("status").GetString();
            if (localStatus == "Skipped")
            {
                Assert.True(r.Phase is "Skipped" or "Omitted", $"step '{r.Step}' was skipped locally ({l.GetProperty("skipReason")}) but is {r.Phase} on Argo");
                continue;
            }
            Assert.Equal("Succeeded", localStatus);
            Assert.True(r.Phase == "Succeeded", $"step '{r.Step}' succeeded locally but is {r.Phase} on Argo");
            using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(r.OutputDirectory!, "output.meta.json")));
            Assert.Equal(l.GetProperty("output").GetProperty("ioHandler").GetString(), meta.RootElement.GetProperty("ioHandler").GetString());
            Assert.True(l.GetProperty("output").GetProperty("sha256").GetString() == meta.RootElement.GetProperty("sha256").GetString(),
                $"step '{r.Step}': the output on Argo differs from the local one.\nlocal: {File.ReadAllText(l.GetProperty("output").GetProperty("path").GetString()!)}\nargo:  {File.ReadAllText(Path.Combine(r.OutputDirectory!, meta.RootElement.GetProperty("file").GetString()!))}");
            ran++;
        }
        Assert.True(ran >= Math.Min(3, localSteps.Count), $"only {ran} steps ran");
        if (example == "gates")
        {
            var phases = results.Values.ToDictionary(r => r.Step, r => r.Phase);
            Assert.Equal("Skipped", phases["shout"]);          // 'Yes' -eq 'yes' is false: strings compare case-sensitively
            Assert.Equal("Succeeded", phases["after_shout"]);  // only ordered after a condition-skipped step: runs
            Assert.Equal("Omitted", phases["use_shout"]);      // reads the skipped step's output: left out
            Assert.Equal(parameter.Length == 0 ? "Succeeded" : "Skipped", phases["publish"]);
        }
    }

    [Fact]
    public void The_simulator_evaluates_the_expressions_the_compiler_emits()
    {
        Assert.True(Govaluate.Evaluate("0.95 > 0.9 && 'full' == 'full'"));
        Assert.False(Govaluate.Evaluate("'Yes' == 'yes'"));
        Assert.True(Govaluate.Evaluate("!('full' == 'dry-run') || 1 >= 2"));
        Assert.True(Govaluate.Evaluate("false == false && !false && -2 < 1"));
        Assert.True(Govaluate.Evaluate("(true || false) && 3 != 4"));
        Assert.Throws<InvalidOperationException>(() => Govaluate.Evaluate("yes == 'yes'")); // an unquoted string is a name: Argo fails too
    }
}

/// <summary>Runs a compiled Argo Workflow's DAG on this machine, as Argo's controller and executor would (see ArgoRunnerEquivalenceTests).</summary>
internal static class ArgoSimulator
{
    public sealed record TaskResult(string Task, string Step, string Phase, string? OutputDirectory, string? Value);

    /// <summary>One pod's container: its image, command (axl step ...), environment, and the pod folders bound to /axl/inputs and /axl/outputs.</summary>
    public sealed record ContainerCall(string Task, string Image, IReadOnlyList<string> Command, IReadOnlyDictionary<string, string> Env, IReadOnlyList<string> Binds);

    /// <summary>
    /// An input artifact of a template that comes from an artifact repository (the code archive of code delivery
    /// Artifact: <c>s3:</c> with endpoint, bucket and key), for the caller to fetch as Argo's executor would, into
    /// <paramref name="LocalFile"/> (the pod folder's copy of <paramref name="Path"/>), before the task's container runs.
    /// </summary>
    public sealed record RepositoryArtifact(string Task, string Image, string Name, string Path, IReadOnlyDictionary<string, object?> S3, string LocalFile);

    /// <summary>
    /// Runs the DAG. Without <paramref name="container"/>, each pod's command runs as a local process with the container
    /// paths mapped into a folder per pod; with it, the command runs in a real container of the template's image (the
    /// code comes from the image's /axl/workdir), and the delegate returns its exit code and output. A template input
    /// from an artifact repository (the code archive) is given to <paramref name="fetch"/> first (containers only), and
    /// its file is bound into the container at its path.
    /// </summary>
    public static Dictionary<string, TaskResult> Run(string yaml, IReadOnlyDictionary<string, string> overrides, string workDir, string root,
        Func<ContainerCall, (long Exit, string Output)>? container = null, Action<RepositoryArtifact>? fetch = null)
    {
        var doc = Parse(yaml);
        var workflowName = (string)Get(doc, "metadata", "generateName")! + "sim0";
        var parameters = L(Get(doc, "spec", "arguments", "parameters")).Select(M).ToDictionary(p => (string)p["name"]!, p => (string?)(p.TryGetValue("value", out var v) ? v : null));
        foreach (var (k, v) in overrides)
        {
            Assert.True(parameters.ContainsKey(k), $"no workflow parameter {k}");
            parameters[k] = v;
        }
        var templates = L(Get(doc, "spec", "templates")).Select(M).ToDictionary(t => (string)t["name"]!);
        var entry = templates[(string)Get(doc, "spec", "entrypoint")!];
        var pending = L(Get(entry, "dag", "tasks")).Select(M).ToList();
        var results = new Dictionary<string, TaskResult>();

        while (pending.Count > 0)
        {
            var task = pending.FirstOrDefault(t => Upstream(t).All(results.ContainsKey))
                ?? throw new InvalidOperationException("no task is ready: the DAG's dependencies are broken");
            pending.Remove(task);
            var name = (string)task["name"]!;
            var template = templates[(string)task["template"]!];
            var step = StepOf(template);
            if (!DependenciesMet(task, results))
            {
                results[name] = new(name, step, "Omitted", null, null);
                continue;
            }
            if (task.TryGetValue("when", out var when) && !Govaluate.Evaluate(Substitute((string)when!, results, parameters, null, workflowName)))
            {
                results[name] = new(name, step, "Skipped", null, null);
                continue;
            }
            results[name] = Execute(task, template, step, results, parameters, workDir, Path.Combine(root, "pods", name), Path.Combine(root, "artifacts", name), workflowName, container, fetch);
        }
        return results;
    }

    private static IEnumerable<string> Upstream(Dictionary<string, object?> task) =>
        task.TryGetValue("depends", out var d)
            ? Regex.Matches((string)d!, @"([a-z0-9][-a-z0-9]*)\.[A-Z][a-zA-Z]+").Select(m => m.Groups[1].Value).Distinct()
            : L(task.TryGetValue("dependencies", out var deps) ? deps : null).Cast<string>();

    /// <summary>"dependencies: [a]" means a.Succeeded || a.Skipped || a.Daemoned; "depends" is evaluated as written.</summary>
    private static bool DependenciesMet(Dictionary<string, object?> task, Dictionary<string, TaskResult> results)
    {
        if (task.TryGetValue("depends", out var d))
        {
            var expression = Regex.Replace((string)d!, @"([a-z0-9][-a-z0-9]*)\.([A-Z][a-zA-Z]+)", m => results[m.Groups[1].Value].Phase == m.Groups[2].Value ? "true" : "false");
            return Govaluate.Evaluate(expression);
        }
        return Upstream(task).All(u => results[u].Phase is "Succeeded" or "Skipped");
    }

    private static string StepOf(Dictionary<string, object?> template)
    {
        var args = L(Get(template, "container", "args")).Cast<string>().ToList();
        using var manifest = JsonDocument.Parse(args[args.IndexOf("--manifest-json") + 1]);
        return manifest.RootElement.GetProperty("step").GetString()!;
    }

    /// <summary>Argo's text substitution of {{tasks...}}, {{workflow...}} and {{inputs.parameters...}} references.</summary>
    private static string Substitute(string text, Dictionary<string, TaskResult> results, Dictionary<string, string?> parameters, Dictionary<string, string>? inputs, string workflowName) =>
        Regex.Replace(text, @"\{\{([^{}]+)\}\}", m =>
        {
            var reference = m.Groups[1].Value.Trim();
            if (reference == "workflow.name") return workflowName;
            if (reference.StartsWith("workflow.parameters.", StringComparison.Ordinal))
                return parameters[reference["workflow.parameters.".Length..]] ?? throw new InvalidOperationException($"workflow parameter in {{{{{reference}}}}} has no value");
            if (reference.StartsWith("inputs.parameters.", StringComparison.Ordinal) && inputs is not null)
                return inputs[reference["inputs.parameters.".Length..]];
            var value = Regex.Match(reference, @"^tasks\.([a-z0-9-]+)\.outputs\.parameters\.value$");
            if (value.Success) return results[value.Groups[1].Value].Value ?? throw new InvalidOperationException($"{{{{{reference}}}}}: the task has no value");
            throw new InvalidOperationException($"cannot resolve {{{{{reference}}}}}");
        });

    private static TaskResult Execute(Dictionary<string, object?> task, Dictionary<string, object?> template, string step, Dictionary<string, TaskResult> results,
        Dictionary<string, string?> parameters, string workDir, string pod, string artifactStore, string workflowName,
        Func<ContainerCall, (long Exit, string Output)>? runContainer, Action<RepositoryArtifact>? fetch)
    {
        string InPod(string containerPath) => Path.Combine(pod, containerPath.TrimStart('/'));
        var container = M(template["container"]);

        // Task arguments: parameter values, and the artifacts to put at the template's input paths.
        var inputs = L(Get(task, "arguments", "parameters")).Select(M)
            .ToDictionary(p => (string)p["name"]!, p => Substitute((string)p["value"]!, results, parameters, null, workflowName));
        var from = L(Get(task, "arguments", "artifacts")).Select(M).ToDictionary(a => (string)a["name"]!, a => (string)a["from"]!);
        var fromRepository = new List<Dictionary<string, object?>>();
        foreach (var artifact in L(Get(template, "inputs", "artifacts")).Select(M))
        {
            if (artifact.ContainsKey("s3"))
            {
                fromRepository.Add(artifact);
                continue;
            }
            Assert.False(artifact.ContainsKey("from"), "template inputs must not use from");
            var source = Regex.Match(from[(string)artifact["name"]!], @"^\{\{tasks\.([a-z0-9-]+)\.outputs\.artifacts\.output\}\}$");
            Assert.True(source.Success, from[(string)artifact["name"]!]);
            CopyDirectory(results[source.Groups[1].Value].OutputDirectory!, InPod((string)artifact["path"]!));
        }
        foreach (var declared in L(Get(template, "inputs", "parameters")).Select(M)) Assert.True(inputs.ContainsKey((string)declared["name"]!), $"task {task["name"]} does not pass {declared["name"]}");

        // The container's command, with the manifest's container paths mapped into the pod folder.
        Assert.Equal("axl", Assert.Single(L(container["command"])));
        var args = L(container["args"]).Cast<string>().ToList();
        var i = args.IndexOf("--manifest-json");
        var manifest = JsonNode.Parse(Substitute(args[i + 1], results, parameters, inputs, workflowName))!.AsObject();
        var podEnv = L(container.TryGetValue("env", out var env) ? env : null).Select(M)
            .ToDictionary(e => (string)e["name"]!, e => Substitute((string)e["value"]!, results, parameters, inputs, workflowName));
        if (runContainer is not null)
        {
            // The pod as a container: the manifest as compiled, the artifacts through bind mounts, the code from the image.
            args[i + 1] = manifest.ToJsonString();
            var binds = new List<string>();
            foreach (var dir in new[] { "/axl/inputs", "/axl/outputs" })
            {
                Directory.CreateDirectory(InPod(dir));
                binds.Add($"{InPod(dir)}:{dir}");
            }
            // Argo's executor puts the repository artifacts (the code archive) at their paths before the main container starts.
            foreach (var artifact in fromRepository)
            {
                Assert.True(fetch is not null, $"task {task["name"]} needs the artifact '{artifact["name"]}' from an artifact repository: give the simulator a fetch delegate");
                var path = (string)artifact["path"]!;
                Directory.CreateDirectory(Path.GetDirectoryName(InPod(path))!);
                fetch!(new RepositoryArtifact((string)task["name"]!, (string)container["image"]!, (string)artifact["name"]!, path, M(artifact["s3"]), InPod(path)));
                Assert.True(File.Exists(InPod(path)), $"the fetch of '{artifact["name"]}' for task {task["name"]} left no file at {InPod(path)}");
                binds.Add($"{InPod(path)}:{path}:ro");
            }
            var archive = args.IndexOf("--workflow-archive");
            if (fromRepository.Count == 0) Assert.Equal(-1, archive);
            else Assert.Contains(args[archive + 1], fromRepository.Select(a => (string)a["path"]!));
            var (exit, log) = runContainer(new ContainerCall((string)task["name"]!, (string)container["image"]!, new[] { "axl" }.Concat(args).ToList(), podEnv, binds));
            Assert.True(exit == 0, $"task {task["name"]} in image {container["image"]} exited {exit}:\n{log}");
            return Collected(task, template, step, InPod, artifactStore);
        }
        Assert.True(fromRepository.Count == 0, $"task {task["name"]} needs artifacts from an artifact repository (the code archive): the simulator fetches them only for containers");
        foreach (var input in manifest["inputs"]!.AsArray())
            if (input!["path"]?.GetValue<string>() is { } path) input["path"] = InPod(path);
        var output = manifest["output"]!.AsObject();
        output["directory"] = InPod(output["directory"]!.GetValue<string>());
        if (output["valueFile"]?.GetValue<string>() is { } valueFile) output["valueFile"] = InPod(valueFile);
        args[i + 1] = manifest.ToJsonString();
        args.AddRange(new[] { "--workdir", workDir });
        Assert.DoesNotContain("--workflow-archive", args);

        var dll = Path.Combine(Repo.Root, "artifacts", "cli", "axl.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = pod };
        Directory.CreateDirectory(pod);
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in podEnv) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail($"task {task["name"]} did not finish within 120 s"); }
        Assert.True(p.ExitCode == 0, $"task {task["name"]} (axl {string.Join(' ', args.Take(1))} ...) exited {p.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return Collected(task, template, step, InPod, artifactStore);
    }

    private static TaskResult Collected(Dictionary<string, object?> task, Dictionary<string, object?> template, string step, Func<string, string> InPod, string artifactStore)
    {
        // Argo saves the output artifact (the whole directory) and reads the value parameter from its file.
        var outputArtifact = L(Get(template, "outputs", "artifacts")).Select(M).Single(a => (string)a["name"]! == "output");
        CopyDirectory(InPod((string)outputArtifact["path"]!), artifactStore);
        string? value = null;
        foreach (var parameter in L(Get(template, "outputs", "parameters")).Select(M).Where(x => (string)x["name"]! == "value"))
            value = File.ReadAllText(InPod((string)Get(parameter, "valueFrom", "path")!)).Trim();
        return new TaskResult((string)task["name"]!, step, "Succeeded", artifactStore, value);
    }

    private static void CopyDirectory(string from, string to)
    {
        Assert.True(Directory.Exists(from), $"artifact folder {from} does not exist");
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}

/// <summary>
/// The part of govaluate (Argo's "when" language) the compiler emits: 'strings', numbers, true/false, == != &gt; &gt;= &lt; &lt;=,
/// &amp;&amp; || !, unary minus and parentheses. A bare word is a variable, which Argo's expressions do not have: an error.
/// </summary>
internal static class Govaluate
{
    public static bool Evaluate(string expression)
    {
        var tokens = Tokenize(expression);
        var pos = 0;
        var result = Or(tokens, ref pos);
        if (pos != tokens.Count) throw new InvalidOperationException($"unexpected '{tokens[pos]}' in {expression}");
        return result is bool b ? b : throw new InvalidOperationException($"{expression} is not a boolean");
    }

    private static List<object> Tokenize(string s)
    {
        var tokens = new List<object>();
        for (int i = 0; i < s.Length;)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c is '\'' or '"')
            {
                var end = s.IndexOf(c, i + 1);
                if (end < 0) throw new InvalidOperationException($"unterminated string in {s}");
                tokens.Add(new Str(s[(i + 1)..end]));
                i = end + 1;
                continue;
            }
            if (char.IsDigit(c) || (c == '.' && i + 1 < s.Length && char.IsDigit(s[i + 1])))
            {
                var start = i;
                while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '.')) i++;
                tokens.Add(double.Parse(s[start..i], CultureInfo.InvariantCulture));
                continue;
            }
            if (char.IsLetter(c))
            {
                var start = i;
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] is '_' or '-' or '.')) i++;
                var word = s[start..i];
                tokens.Add(word switch { "true" => true, "false" => false, _ => throw new InvalidOperationException($"'{word}' is a variable name, not a value: No parameter '{word}' found") });
                continue;
            }
            var two = i + 1 < s.Length ? s.Substring(i, 2) : "";
            if (two is "&&" or "||" or "==" or "!=" or ">=" or "<=") { tokens.Add(new Op(two)); i += 2; continue; }
            if (c is '!' or '>' or '<' or '(' or ')' or '-') { tokens.Add(new Op(c.ToString())); i++; continue; }
            throw new InvalidOperationException($"unexpected '{c}' in {s}");
        }
        return tokens;
    }

    private sealed record Str(string Value);
    private sealed record Op(string Text);

    private static bool Is(List<object> t, int pos, string op) => pos < t.Count && t[pos] is Op o && o.Text == op;

    private static object Or(List<object> t, ref int pos)
    {
        var left = And(t, ref pos);
        while (Is(t, pos, "||")) { pos++; var right = And(t, ref pos); left = (bool)left || (bool)right; }
        return left;
    }

    private static object And(List<object> t, ref int pos)
    {
        var left = Comparison(t, ref pos);
        while (Is(t, pos, "&&")) { pos++; var right = Comparison(t, ref pos); left = (bool)left && (bool)right; }
        return left;
    }

    private static object Comparison(List<object> t, ref int pos)
    {
        var left = Unary(t, ref pos);
        foreach (var op in new[] { "==", "!=", ">=", "<=", ">", "<" })
            if (Is(t, pos, op))
            {
                pos++;
                var right = Unary(t, ref pos);
                return op switch
                {
                    "==" => Equals(left, right),
                    "!=" => !Equals(left, right),
                    _ => Order(op, left, right),
                };
            }
        return left;
    }

    private static bool Order(string op, object left, object right)
    {
        int cmp = left is double a && right is double b ? a.CompareTo(b)
            : left is Str x && right is Str y ? string.CompareOrdinal(x.Value, y.Value)
            : throw new InvalidOperationException($"cannot compare {left} {op} {right}");
        return op switch { ">" => cmp > 0, ">=" => cmp >= 0, "<" => cmp < 0, _ => cmp <= 0 };
    }

    private static object Unary(List<object> t, ref int pos)
    {
        if (Is(t, pos, "!")) { pos++; return !(bool)Unary(t, ref pos); }
        if (Is(t, pos, "-")) { pos++; return -(double)Unary(t, ref pos); }
        if (Is(t, pos, "("))
        {
            pos++;
            var inner = Or(t, ref pos);
            if (!Is(t, pos, ")")) throw new InvalidOperationException("missing )");
            pos++;
            return inner;
        }
        if (pos >= t.Count || t[pos] is Op) throw new InvalidOperationException("a value was expected");
        return t[pos++];
    }
}

/// <summary>
/// What the equivalence tests compare a back end's run with: the workflow file of an example (or of the gates
/// workflow below, written to a temp folder), and the steps of its `axl run local` run, by name.
/// </summary>
internal static class LocalReference
{
    public const string Gates = """
        # Conditions and skips: numbers and strings (case-sensitive), parameters, -not, order and data edges below a skipped step.
        AxlWorkflow gates {
            Parameter Mode -Default 'full'
            Parameter Threshold -Default 0.9
            Step score { 0.95 }
            Step label -IoHandler text { 'Yes' }
            Step publish -When 'score -gt $Threshold -and $Mode -eq "full"' { param($score) "published $score" }
            Step shout -DependsOn label -When "label -eq 'yes'" { 'never: the comparison is case-sensitive' }
            Step after_shout -DependsOn shout { 'ran after a skipped step' }
            Step use_shout { param($shout) "got $shout" }
            Step final -When '-not ($Mode -eq "dry-run")' { param($publish) "final: $publish" }
        }
        """;

    /// <summary>The workflow file of an example: examples/&lt;name&gt;/&lt;name&gt;.axl.ps1, else the folder's only .axl.ps1 (examples/external-repo/station-report.axl.ps1).</summary>
    public static string File(TempDir dir, string example)
    {
        if (example == "gates") return dir.Write("gates/gates.axl.ps1", Gates);
        var named = Path.Combine(Repo.Examples, example, example + ".axl.ps1");
        return System.IO.File.Exists(named) ? named : Assert.Single(Directory.GetFiles(Path.Combine(Repo.Examples, example), "*.axl.ps1"));
    }

    /// <summary>Runs the workflow with `axl run local` (one Name=value parameter, or "") and returns its steps' JSON by name.</summary>
    public static Dictionary<string, JsonElement> Steps(string file, string parameter, string runRoot)
    {
        var args = new List<string> { "run", "local", file, "--run-root", runRoot, "--run-id", "local", "--json", "--quiet" };
        if (parameter.Length > 0) args.AddRange(new[] { "--param", parameter });
        var local = CliTests.Axl(args.ToArray());
        Assert.True(local.Exit == 0, local.Err);
        using var run = JsonDocument.Parse(local.Out);
        return run.RootElement.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.Clone());
    }
}
