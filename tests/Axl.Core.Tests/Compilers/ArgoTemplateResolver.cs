using System.Collections;
using System.Text;
using System.Text.RegularExpressions;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// Resolves a compiled Argo workflow the way Argo's controller runs it, into one flat view per step, so that a split
/// compile (a parent calling WorkflowTemplates by templateRef, groups of groups) can be compared with the unsplit one.
/// <para>
/// From the root document's entrypoint it walks every DAG: a task with a templateRef enters the referenced
/// WorkflowTemplate's template (a template named by a task inside it resolves in that WorkflowTemplate, as in Argo),
/// with its arguments bound to the template's declared inputs; after the group, its declared outputs are resolved in
/// its own scope and become <c>{{tasks.part-k.outputs...}}</c> of the caller. Every <c>{{inputs...}}</c> and
/// <c>{{tasks...}}</c> reference is resolved down to the producing step's task, in the unsplit form
/// (<c>{{tasks.u.outputs.artifacts.output}}</c>, <c>{{tasks.u.outputs.parameters.value}}</c>, <c>{{tasks.u.status}}</c>).
/// What Argo would refuse is an error here too: a task reference to a task that is not an ancestor in its DAG, an input
/// not declared by the template or not supplied by the caller, a template or WorkflowTemplate that does not exist.
/// </para>
/// Works on plain trees (maps, lists, strings): an <c>ArgoDocument.Tree</c> or parsed YAML alike; no Axl types.
/// </summary>
public sealed class ArgoTemplateResolver
{
    /// <summary>A resolved value (or artifact source) and whether a skipped producer leaves it resolvable (every link optional or defaulted).</summary>
    public sealed record Resolved(string Text, bool SkipSafe);

    /// <summary>A gate task (a suspend of 0 s named after step <paramref name="Step"/>) mirroring that step's outcome in another group.</summary>
    public sealed record Gate(string Step, bool HasReached, string Dag);

    /// <summary>
    /// One step as Argo runs it: its container template, its task with every reference resolved to the unsplit form
    /// (the task map without depends/dependencies), and its dependency terms as written in its DAG.
    /// </summary>
    public sealed class StepView
    {
        public required string Name { get; init; }
        /// <summary>Where the step runs: the DAG instance ("" for the root, "part-3", "part-9.part-2").</summary>
        public required string Dag { get; init; }
        /// <summary>The WorkflowTemplate holding the step's template, or null for the root document.</summary>
        public required string? Document { get; init; }
        public required IReadOnlyDictionary<string, object?> Template { get; init; }
        /// <summary>The task with when, artifact "from" and parameter values resolved; depends/dependencies removed.</summary>
        public required IReadOnlyDictionary<string, object?> Task { get; init; }
        /// <summary>"dependencies", "depends" or "" (none).</summary>
        public required string DependsForm { get; init; }
        /// <summary>The terms: dependency names for "dependencies", the top-level "&amp;&amp;" operands of "depends".</summary>
        public required IReadOnlyList<string> Terms { get; init; }
        /// <summary>Artifact arguments: name, producing step and whether a skipped producer is tolerated on the way.</summary>
        public required IReadOnlyList<(string Name, string Step, bool SkipSafe)> Artifacts { get; init; }
        /// <summary>Skip-safety of each value/status reference in the when, by resolved text.</summary>
        public required IReadOnlyList<Resolved> WhenReferences { get; init; }
    }

    private sealed class Dag
    {
        public required string Id { get; init; }
        public Dictionary<string, IReadOnlyDictionary<string, object?>> Tasks { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, List<string>> Deps { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Kind { get; } = new(StringComparer.Ordinal); // step | gate | group
    }

    private sealed class Scope
    {
        public required Dag Dag { get; init; }
        public required string? Document { get; init; }
        public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> Templates { get; init; }
        public required Dictionary<string, Resolved> InputParameters { get; init; }
        public required Dictionary<string, Resolved> InputArtifacts { get; init; }
        /// <summary>The task whose fields are being resolved; null while resolving the template's outputs.</summary>
        public string? Task { get; set; }
        /// <summary>Outputs of the group tasks run so far in this DAG: "part-k" -> ("artifacts.u" | "parameters.u_value") -> value.</summary>
        public Dictionary<string, Dictionary<string, Resolved>> GroupOutputs { get; } = new(StringComparer.Ordinal);
    }

    private readonly Dictionary<string, IReadOnlyDictionary<string, object?>> _workflowTemplates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dag> _dags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StepView> _steps = new(StringComparer.Ordinal);
    private readonly List<Gate> _gates = new();
    private readonly HashSet<string> _usedTemplates = new(StringComparer.Ordinal);

    /// <summary>Every step, in the order Argo meets them.</summary>
    public IReadOnlyDictionary<string, StepView> Steps => _steps;
    public IReadOnlyList<Gate> Gates => _gates;
    /// <summary>The root document (the Workflow, or the WorkflowTemplate compiled with -Kind WorkflowTemplate).</summary>
    public IReadOnlyDictionary<string, object?> Root { get; }
    /// <summary>The WorkflowTemplates reached by templateRef.</summary>
    public IReadOnlyCollection<string> UsedTemplates => _usedTemplates;
    /// <summary>How many DAG instances were walked (1 when not split).</summary>
    public int DagCount => _dags.Count;
    /// <summary>How deep groups nest (0 when not split, 1 for groups of steps, 2 for groups of groups, ...).</summary>
    public int Depth { get; private set; }

    /// <summary>Resolves documents: WorkflowTemplates then the root (the last document), as ArgoDocument.Documents orders them.</summary>
    public static ArgoTemplateResolver Resolve(IReadOnlyList<object?> documents) => new(documents);

    private ArgoTemplateResolver(IReadOnlyList<object?> documents)
    {
        if (documents.Count == 0) throw Fail("no documents");
        Root = Map(documents[^1], "the root document");
        foreach (var d in documents.Take(documents.Count - 1))
        {
            var m = Map(d, "a document");
            if ((string?)Get(m, "kind") != "WorkflowTemplate") throw Fail($"document {Get(m, "metadata", "name") ?? Get(m, "metadata", "generateName")} before the root is a {Get(m, "kind")}, not a WorkflowTemplate");
            var name = (string?)Get(m, "metadata", "name") ?? throw Fail("a WorkflowTemplate without metadata.name");
            if (!_workflowTemplates.TryAdd(name, m)) throw Fail($"two WorkflowTemplates named {name}");
        }
        var entrypoint = (string?)Get(Root, "spec", "entrypoint") ?? throw Fail("the root has no spec.entrypoint");
        var rootTemplates = TemplatesOf(Root, "the root");
        if (!rootTemplates.TryGetValue(entrypoint, out var main)) throw Fail($"the entrypoint {entrypoint} is not a template of the root");
        Walk(main, "", null, rootTemplates, new(StringComparer.Ordinal), new(StringComparer.Ordinal), 0);
    }

    private static InvalidOperationException Fail(string message) => new("Argo resolution: " + message);

    // ---- the walk ---------------------------------------------------------------------------------------------------------

    private Dictionary<string, Resolved> Walk(IReadOnlyDictionary<string, object?> template, string dagId, string? document,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> templates, Dictionary<string, Resolved> inputParameters,
        Dictionary<string, Resolved> inputArtifacts, int depth)
    {
        Depth = Math.Max(Depth, depth);
        var where = $"{document ?? "root"}/{Get(template, "name")}";
        if (Get(template, "dag") is null) throw Fail($"{where} is not a DAG template");
        var dag = new Dag { Id = dagId };
        if (!_dags.TryAdd(dagId, dag)) throw Fail($"DAG instance {dagId} walked twice");
        foreach (var t in List(Get(template, "dag", "tasks")).Select(x => Map(x, where + " task")))
        {
            var name = Str(t, "name", where + " task");
            if (!dag.Tasks.TryAdd(name, t)) throw Fail($"{where}: two tasks named {name}");
            dag.Deps[name] = DependencyNames(t, where);
        }
        foreach (var (name, deps) in dag.Deps)
            foreach (var d in deps)
                if (!dag.Tasks.ContainsKey(d)) throw Fail($"{where}: task {name} depends on {d}, which is not a task of this DAG");
        var scope = new Scope { Dag = dag, Document = document, Templates = templates, InputParameters = inputParameters, InputArtifacts = inputArtifacts };

        foreach (var name in Topological(dag, where))
        {
            var t = dag.Tasks[name];
            var path = dagId.Length == 0 ? name : dagId + "." + name;
            scope.Task = name;
            if (Get(t, "templateRef") is { } tr)
            {
                dag.Kind[name] = "group";
                var refName = Str(Map(tr, path), "name", path + " templateRef");
                var refTemplate = Str(Map(tr, path), "template", path + " templateRef");
                if (!_workflowTemplates.TryGetValue(refName, out var wt)) throw Fail($"{where}: task {name} calls WorkflowTemplate {refName}, which is not among the documents");
                _usedTemplates.Add(refName);
                var wtTemplates = TemplatesOf(wt, refName);
                if (!wtTemplates.TryGetValue(refTemplate, out var called)) throw Fail($"{where}: task {name} calls template {refTemplate} of {refName}, which has no such template");
                var (parameters, artifacts) = BindArguments(t, called, scope, path);
                var inner = Walk(called, path, refName, wtTemplates, parameters, artifacts, depth + 1);
                scope.GroupOutputs[name] = inner;
            }
            else
            {
                var templateName = Str(t, "template", path);
                if (!templates.TryGetValue(templateName, out var called)) throw Fail($"{where}: task {name} runs template {templateName}, which is not in {document ?? "the root"}");
                if (Get(called, "suspend") is not null) { dag.Kind[name] = "gate"; CheckGate(t, scope, path); continue; }
                if (Get(called, "container") is null) throw Fail($"{where}: task {name} runs template {templateName}, which is neither a container, a gate nor a templateRef");
                dag.Kind[name] = "step";
                AddStep(t, called, scope, path);
            }
        }

        // The outputs the template declares, resolved in its own scope (they reference its tasks).
        scope.Task = null;
        var outputs = new Dictionary<string, Resolved>(StringComparer.Ordinal);
        foreach (var a in List(Get(template, "outputs", "artifacts")).Select(x => Map(x, where + " output artifact")))
        {
            var n = Str(a, "name", where + " output artifact");
            var from = Str(a, "from", $"{where} output artifact {n}");
            var r = ResolveArtifact(from, scope, $"{where} output artifact {n}");
            outputs["artifacts." + n] = r with { SkipSafe = r.SkipSafe && Get(a, "optional") is "true" or true };
        }
        foreach (var p in List(Get(template, "outputs", "parameters")).Select(x => Map(x, where + " output parameter")))
        {
            var n = Str(p, "name", where + " output parameter");
            // valueFrom.parameter "{{...}}", or an expression the controller evaluates: tasks['u'].status.
            var expr = (string?)Get(p, "valueFrom", "parameter")
                ?? (Get(p, "valueFrom", "expression") is string e ? StatusExpression(e, $"{where} output parameter {n}") : null)
                ?? throw Fail($"{where} output parameter {n} has neither valueFrom.parameter nor valueFrom.expression");
            var r = ResolveText(expr, scope, $"{where} output parameter {n}");
            // A skipped step has no outputs: its value needs a default where it is read from the step; its status always
            // resolves; a group's output always exists once the group has run (its own links were checked).
            var fromStep = Reference.Match(expr) is { Success: true } m && m.Groups[1].Value.Split('.') is [ "tasks", var t, ..] && scope.Dag.Kind.GetValueOrDefault(t) == "step";
            outputs["parameters." + n] = r with { SkipSafe = r.SkipSafe && (!fromStep || Get(p, "valueFrom", "default") is not null || r.Text.EndsWith(".status}}", StringComparison.Ordinal)) };
        }
        return outputs;
    }

    private (Dictionary<string, Resolved> Parameters, Dictionary<string, Resolved> Artifacts) BindArguments(IReadOnlyDictionary<string, object?> task,
        IReadOnlyDictionary<string, object?> called, Scope scope, string path)
    {
        var given = List(Get(task, "arguments", "parameters")).Select(x => Map(x, path)).ToDictionary(p => Str(p, "name", path), StringComparer.Ordinal);
        var givenArtifacts = List(Get(task, "arguments", "artifacts")).Select(x => Map(x, path)).ToDictionary(a => Str(a, "name", path), StringComparer.Ordinal);
        var parameters = new Dictionary<string, Resolved>(StringComparer.Ordinal);
        var declared = List(Get(called, "inputs", "parameters")).Select(x => Map(x, path)).ToList();
        foreach (var p in declared)
        {
            var n = Str(p, "name", path);
            if (given.TryGetValue(n, out var g))
                parameters[n] = ResolveText(Str(g, "value", $"{path} argument {n}"), scope, $"{path} argument {n}");
            else if (Get(p, "value") is string v) parameters[n] = new Resolved(v, true);
            else throw Fail($"{path}: input parameter {n} of the called template is not given");
        }
        foreach (var n in given.Keys)
            if (!declared.Any(p => (string?)Get(p, "name") == n)) throw Fail($"{path}: argument parameter {n} is not an input of the called template");
        var artifacts = new Dictionary<string, Resolved>(StringComparer.Ordinal);
        var declaredArtifacts = List(Get(called, "inputs", "artifacts")).Select(x => Map(x, path)).ToList();
        foreach (var a in declaredArtifacts)
        {
            var n = Str(a, "name", path);
            var optional = Get(a, "optional") is "true" or true;
            if (givenArtifacts.TryGetValue(n, out var g))
            {
                var r = ResolveArtifact(Str(g, "from", $"{path} argument artifact {n}"), scope, $"{path} argument artifact {n}");
                artifacts[n] = r with { SkipSafe = r.SkipSafe && optional };
            }
            else if (!optional) throw Fail($"{path}: input artifact {n} of the called template is not given");
        }
        foreach (var n in givenArtifacts.Keys)
            if (!declaredArtifacts.Any(a => (string?)Get(a, "name") == n)) throw Fail($"{path}: argument artifact {n} is not an input of the called template");
        return (parameters, artifacts);
    }

    private void AddStep(IReadOnlyDictionary<string, object?> task, IReadOnlyDictionary<string, object?> template, Scope scope, string path)
    {
        var name = Str(task, "name", path);
        if (Str(template, "name", path) != Str(task, "template", path)) throw Fail($"{path}: template name mismatch");
        var flat = new Dictionary<string, object?>(StringComparer.Ordinal);
        var artifacts = new List<(string, string, bool)>();
        var whenRefs = new List<Resolved>();
        foreach (var (k, v) in task)
        {
            switch (k)
            {
                case "depends" or "dependencies":
                    break;
                case "when":
                    var text = (string)v!;
                    flat[k] = Substitute(text, scope, $"{path} when", whenRefs);
                    break;
                case "arguments":
                    var args = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (ak, av) in Map(v, path))
                    {
                        if (ak == "artifacts")
                            args[ak] = List(av).Select(x =>
                            {
                                var a = Map(x, path);
                                var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
                                foreach (var (ck, cv) in a) copy[ck] = cv;
                                if (a.TryGetValue("from", out var from))
                                {
                                    var r = ResolveArtifact((string)from!, scope, $"{path} artifact {a["name"]}");
                                    copy["from"] = r.Text;
                                    artifacts.Add(((string)a["name"]!, StepOfArtifact(r.Text), r.SkipSafe));
                                }
                                return (object?)copy;
                            }).ToList();
                        else if (ak == "parameters")
                            args[ak] = List(av).Select(x =>
                            {
                                var p = Map(x, path);
                                var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
                                foreach (var (ck, cv) in p) copy[ck] = ck == "value" && cv is string s ? Substitute(s, scope, $"{path} parameter {p["name"]}", null) : cv;
                                return (object?)copy;
                            }).ToList();
                        else args[ak] = av;
                    }
                    flat[k] = args;
                    break;
                default:
                    flat[k] = v;
                    break;
            }
        }
        var (form, terms) = Terms(task);
        var view = new StepView
        {
            Name = name, Dag = scope.Dag.Id, Document = scope.Document, Template = template, Task = flat,
            DependsForm = form, Terms = terms, Artifacts = artifacts, WhenReferences = whenRefs,
        };
        if (!_steps.TryAdd(name, view)) throw Fail($"step {name} runs twice: in {_steps[name].Dag} and in {scope.Dag.Id}");
    }

    /// <summary>
    /// A gate named u: when "'{{tasks.u.status}}' == 'Succeeded'" (resolved), optionally after a pre-gate u-Reached
    /// (when "... != 'Omitted'") it depends on with "u-Reached.Succeeded". A pre-gate is only checked here.
    /// </summary>
    private void CheckGate(IReadOnlyDictionary<string, object?> task, Scope scope, string path)
    {
        var name = Str(task, "name", path);
        var when = Substitute((string?)Get(task, "when") ?? throw Fail($"gate {path} has no when"), scope, $"{path} when", null);
        if (name.EndsWith("-Reached", StringComparison.Ordinal))
        {
            var step = name[..^"-Reached".Length];
            if (when != "'{{tasks." + step + ".status}}' != 'Omitted'") throw Fail($"pre-gate {path} does not test whether {step} was reached: when {when}");
            if (Get(task, "depends") is not null || Get(task, "dependencies") is not null) throw Fail($"pre-gate {path} has dependencies");
            return;
        }
        if (when != "'{{tasks." + name + ".status}}' == 'Succeeded'") throw Fail($"gate {path} does not mirror step {name}: when {when}");
        var (form, terms) = Terms(task);
        var reached = false;
        if (form.Length > 0)
        {
            if (form != "depends" || terms.Count != 1 || terms[0] != name + "-Reached.Succeeded" || scope.Dag.Kind.GetValueOrDefault(name + "-Reached") != "gate")
                throw Fail($"gate {path} depends on something other than its pre-gate: {form} {string.Join(" && ", terms)}");
            reached = true;
        }
        _gates.Add(new Gate(name, reached, scope.Dag.Id));
    }

    private static readonly Regex StatusOfTask = new(@"^tasks\['([a-z0-9-]+)'\]\.status$", RegexOptions.CultureInvariant);

    /// <summary>The one expression form used: tasks['u'].status, as the reference {{tasks.u.status}}.</summary>
    private static string StatusExpression(string expression, string where)
    {
        var m = StatusOfTask.Match(expression.Trim());
        return m.Success ? "{{tasks." + m.Groups[1].Value + ".status}}" : throw Fail($"{where}: expression '{expression}' is not tasks['<task>'].status");
    }

    // ---- references --------------------------------------------------------------------------------------------------------

    private static readonly Regex Reference = new(@"\{\{([^{}]+)\}\}", RegexOptions.CultureInvariant);

    /// <summary>Every {{...}} in <paramref name="text"/> replaced by its resolved form; <paramref name="seen"/> collects what was resolved.</summary>
    private string Substitute(string text, Scope scope, string where, List<Resolved>? seen) =>
        Reference.Replace(text, m =>
        {
            var r = ResolveExpression(m.Groups[1].Value.Trim(), scope, where);
            if (r.Text != m.Value) seen?.Add(r);
            return r.Text;
        });

    /// <summary>A value that is exactly one reference (an output's valueFrom, an argument): resolved.</summary>
    private Resolved ResolveText(string text, Scope scope, string where)
    {
        var m = Reference.Match(text);
        if (m.Success && m.Index == 0 && m.Length == text.Length) return ResolveExpression(m.Groups[1].Value.Trim(), scope, where);
        return new Resolved(Substitute(text, scope, where, null), true);
    }

    private Resolved ResolveArtifact(string from, Scope scope, string where)
    {
        var r = ResolveText(from, scope, where);
        if (!ArtifactOfStep.IsMatch(r.Text)) throw Fail($"{where}: artifact from {from} resolves to {r.Text}, not a step's output");
        return r;
    }

    private static readonly Regex ArtifactOfStep = new(@"^\{\{tasks\.([a-z0-9-]+)\.outputs\.artifacts\.output\}\}$", RegexOptions.CultureInvariant);
    private static string StepOfArtifact(string text) => ArtifactOfStep.Match(text).Groups[1].Value;

    private Resolved ResolveExpression(string expr, Scope scope, string where)
    {
        var parts = expr.Split('.');
        switch (parts[0])
        {
            case "workflow":
                return new Resolved("{{" + expr + "}}", true);
            case "inputs" when parts.Length == 3 && parts[1] == "parameters":
                return scope.InputParameters.TryGetValue(parts[2], out var p) ? p
                    : throw Fail($"{where}: {{{{{expr}}}}} is not an input parameter of its template");
            case "inputs" when parts.Length == 3 && parts[1] == "artifacts":
                return scope.InputArtifacts.TryGetValue(parts[2], out var a) ? a
                    : throw Fail($"{where}: {{{{{expr}}}}} is not an input artifact of its template (or was not given)");
            case "tasks" when parts.Length >= 3:
                var task = parts[1];
                var dag = scope.Dag;
                if (!dag.Kind.TryGetValue(task, out var kind)) throw Fail($"{where}: {{{{{expr}}}}} names task {task}, which has not run before it in DAG '{dag.Id}' (or does not exist)");
                var consumerTask = scope.Task;
                // Argo resolves {{tasks.X...}} only for X among the task's ancestors (outputs of a template reference its own tasks: any of them).
                if (consumerTask is not null && !IsAncestor(dag, task, consumerTask))
                    throw Fail($"{where}: {{{{{expr}}}}} names task {task}, which is not an ancestor of {consumerTask} in DAG '{dag.Id}': Argo refuses it");
                switch (kind)
                {
                    case "group" when parts.Length == 5 && parts[2] == "outputs":
                        return scope.GroupOutputs[task].TryGetValue(parts[3] + "." + parts[4], out var o) ? o
                            : throw Fail($"{where}: {{{{{expr}}}}}: group {task} declares no output {parts[3]} {parts[4]}");
                    case "step" when parts.Length == 5 && parts[2] == "outputs" && parts[3] is "artifacts" or "parameters":
                        var stepTemplate = scope.Templates[(string)dag.Tasks[task]["template"]!];
                        if (!List(Get(stepTemplate, "outputs", parts[3])).Any(x => (string?)Get(x, "name") == parts[4]))
                            throw Fail($"{where}: {{{{{expr}}}}}: {task}'s template declares no output {parts[3][..^1]} {parts[4]}");
                        return new Resolved("{{" + expr + "}}", true);
                    case "step" when parts.Length == 3 && parts[2] == "status":
                        return new Resolved("{{" + expr + "}}", true);
                    default:
                        throw Fail($"{where}: {{{{{expr}}}}} is not an output of {kind} task {task}");
                }
            default:
                throw Fail($"{where}: unknown reference {{{{{expr}}}}}");
        }
    }

    // ---- dependencies ---------------------------------------------------------------------------------------------------------

    private static readonly Regex DependsName = new(@"([A-Za-z0-9][A-Za-z0-9-]*)(?:\.(Succeeded|Skipped|Failed|Errored|Daemoned|AnySucceeded|AllFailed))?", RegexOptions.CultureInvariant);

    private static List<string> DependencyNames(IReadOnlyDictionary<string, object?> task, string where)
    {
        if (Get(task, "dependencies") is { } list)
        {
            if (Get(task, "depends") is not null) throw Fail($"{where}: task {Get(task, "name")} has both dependencies and depends");
            return List(list).Cast<string>().ToList();
        }
        if (Get(task, "depends") is string depends)
            return DependsName.Matches(depends).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).ToList();
        return new List<string>();
    }

    private static (string Form, List<string> Terms) Terms(IReadOnlyDictionary<string, object?> task)
    {
        if (Get(task, "dependencies") is { } list) return ("dependencies", List(list).Cast<string>().ToList());
        if (Get(task, "depends") is string depends) return ("depends", SplitAnd(depends));
        return ("", new List<string>());
    }

    /// <summary>The top-level operands of "a &amp;&amp; (b || c) &amp;&amp; d".</summary>
    public static List<string> SplitAnd(string expression)
    {
        var terms = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < expression.Length; i++)
        {
            var c = expression[i];
            if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (depth == 0 && c == '&' && i + 1 < expression.Length && expression[i + 1] == '&')
            {
                terms.Add(expression[start..i].Trim());
                start = i + 2;
                i++;
            }
        }
        terms.Add(expression[start..].Trim());
        return terms;
    }

    private static List<string> Topological(Dag dag, string where)
    {
        var order = new List<string>(dag.Tasks.Count);
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        // Iterative DFS: chains of 10,000 tasks.
        foreach (var root in dag.Tasks.Keys)
        {
            if (state.ContainsKey(root)) continue;
            var stack = new Stack<(string Name, int Next)>();
            stack.Push((root, 0));
            state[root] = 1;
            while (stack.Count > 0)
            {
                var (n, i) = stack.Pop();
                var deps = dag.Deps[n];
                if (i < deps.Count)
                {
                    stack.Push((n, i + 1));
                    var d = deps[i];
                    if (!state.TryGetValue(d, out var s)) { state[d] = 1; stack.Push((d, 0)); }
                    else if (s == 1) throw Fail($"{where}: the tasks form a cycle through {d}");
                }
                else { state[n] = 2; order.Add(n); }
            }
        }
        return order;
    }

    private readonly Dictionary<(string, string, string), bool> _ancestorCache = new();

    private bool IsAncestor(Dag dag, string ancestor, string task)
    {
        if (dag.Deps[task].Contains(ancestor)) return true;
        if (_ancestorCache.TryGetValue((dag.Id, ancestor, task), out var known)) return known;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>(dag.Deps[task]);
        var found = false;
        while (queue.Count > 0 && !found)
        {
            var n = queue.Dequeue();
            if (!seen.Add(n)) continue;
            if (n == ancestor) found = true;
            else foreach (var d in dag.Deps[n]) queue.Enqueue(d);
        }
        _ancestorCache[(dag.Id, ancestor, task)] = found;
        return found;
    }

    /// <summary>
    /// Whether the structure alone orders <paramref name="producer"/> before <paramref name="consumer"/> with success:
    /// they run in different groups, and where their group paths part, the consumer's group (transitively) depends on
    /// the producer's with terms that need it to succeed (a bare name or .Succeeded).
    /// </summary>
    public bool IsOrderedBefore(string producer, string consumer)
    {
        var p = _steps[producer].Dag.Length == 0 ? new List<string> { producer } : _steps[producer].Dag.Split('.').Append(producer).ToList();
        var c = _steps[consumer].Dag.Length == 0 ? new List<string> { consumer } : _steps[consumer].Dag.Split('.').Append(consumer).ToList();
        var i = 0;
        while (i < p.Count && i < c.Count && p[i] == c[i]) i++;
        if (i >= p.Count - 1 && i >= c.Count - 1) return false; // same DAG: the term has to be there
        if (i == p.Count - 1 || i == c.Count - 1) return false; // one is a step of a DAG holding the other's group: cannot be
        var dag = _dags[string.Join('.', c.Take(i))];
        return IsSuccessAncestor(dag, p[i], c[i]);
    }

    private bool IsSuccessAncestor(Dag dag, string ancestor, string task)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>();
        queue.Enqueue(task);
        while (queue.Count > 0)
        {
            var n = queue.Dequeue();
            if (!seen.Add(n)) continue;
            foreach (var (dep, ok) in SuccessDeps(dag.Tasks[n]))
            {
                if (!ok) continue;
                if (dep == ancestor) return true;
                queue.Enqueue(dep);
            }
        }
        return false;
    }

    /// <summary>A task's dependencies, each with whether the task runs only after that dependency succeeded (a bare name, .Succeeded, or "dependencies").</summary>
    private static IEnumerable<(string Name, bool Success)> SuccessDeps(IReadOnlyDictionary<string, object?> task)
    {
        var (form, terms) = Terms(task);
        if (form == "dependencies") return terms.Select(t => (t, true));
        if (form == "depends")
            return terms.Select(t =>
            {
                var m = Regex.Match(t, @"^([A-Za-z0-9][A-Za-z0-9-]*)(\.Succeeded)?$");
                return m.Success ? (m.Groups[1].Value, true) : (DependsName.Match(t).Groups[1].Value, false);
            });
        return Enumerable.Empty<(string, bool)>();
    }

    // ---- equivalence ---------------------------------------------------------------------------------------------------------

    /// <summary>
    /// What differs between a split compile and the unsplit one, step by step (empty when they are equivalent): each
    /// step's container template and its task (when, artifacts, parameters, resolved) must be equal; each dependency
    /// term must be there as unsplit, or point at a gate in the step's DAG mirroring that step (with a pre-gate when the
    /// term accepts Skipped and the step may be Omitted), or be dropped only when its step can never be skipped and the
    /// groups order it before; what a skippable step produces must reach the consumers optional or defaulted.
    /// The root documents must agree except for the split parent's templates, parallelism, podGC and template list.
    /// </summary>
    public static List<string> Differences(ArgoTemplateResolver split, ArgoTemplateResolver unsplit, int max = 20)
    {
        var problems = new List<string>();
        void Problem(string p) { if (problems.Count < max) problems.Add(p); }

        foreach (var name in unsplit.Steps.Keys.Where(n => !split.Steps.ContainsKey(n))) Problem($"step {name} is missing from the split compile");
        foreach (var name in split.Steps.Keys.Where(n => !unsplit.Steps.ContainsKey(n))) Problem($"step {name} is only in the split compile");

        // A step may be skipped when it has a condition or depends on one that may be (the unsplit compile then writes "depends").
        bool MaySkip(string step) => unsplit.Steps[step].Task.ContainsKey("when") || unsplit.Steps[step].DependsForm == "depends";
        bool MayOmit(string step) => unsplit.Steps[step].DependsForm == "depends";
        var gates = split.Gates.ToDictionary(g => (g.Dag, g.Step));

        foreach (var (name, u) in unsplit.Steps)
        {
            if (!split.Steps.TryGetValue(name, out var s)) continue;
            if (Canonical(s.Template) != Canonical(u.Template)) Problem($"step {name}: its template differs from the unsplit one\n  split:   {Canonical(s.Template)}\n  unsplit: {Canonical(u.Template)}");
            if (Canonical(s.Task) != Canonical(u.Task)) Problem($"step {name}: its task (resolved) differs from the unsplit one\n  split:   {Canonical(s.Task)}\n  unsplit: {Canonical(u.Task)}");
            if (s.DependsForm.Length > 0 && s.DependsForm != u.DependsForm) Problem($"step {name}: split uses {s.DependsForm}, unsplit {u.DependsForm}");
            foreach (var term in s.Terms)
            {
                if (!u.Terms.Contains(term)) { Problem($"step {name}: dependency term '{term}' is not in the unsplit compile ({u.DependsForm}: {string.Join(" && ", u.Terms)})"); continue; }
                var target = DependsName.Match(term).Groups[1].Value;
                if (split.Steps.TryGetValue(target, out var t) && t.Dag == s.Dag) continue;
                if (!gates.TryGetValue((s.Dag, target), out var gate)) { Problem($"step {name}: term '{term}' names {target}, neither a step nor a gate in its DAG '{s.Dag}'"); continue; }
                if (term.Contains(".Skipped", StringComparison.Ordinal) && MayOmit(target) && !gate.HasReached)
                    Problem($"step {name}: term '{term}' reads gate {target}, which has no pre-gate although {target} may be Omitted (the gate would end Skipped and let {name} run)");
            }
            foreach (var term in u.Terms.Where(t => !s.Terms.Contains(t)))
            {
                var target = u.DependsForm == "dependencies" ? term : Regex.Match(term, @"^([a-z0-9-]+)\.Succeeded$").Groups[1].Value;
                if (target.Length == 0) { Problem($"step {name}: term '{term}' was dropped, but it accepts more than success"); continue; }
                if (MaySkip(target)) { Problem($"step {name}: term '{term}' was dropped, but {target} may be skipped (its group succeeding does not say it succeeded)"); continue; }
                if (!split.IsOrderedBefore(target, name)) Problem($"step {name}: term '{term}' was dropped, but the groups do not order {target} (in '{split.Steps[target].Dag}') before it (in '{s.Dag}')");
            }
            foreach (var (artifact, producer, safe) in s.Artifacts)
                if (!safe && MaySkip(producer) && split.Steps[producer].Dag != s.Dag)
                    Problem($"step {name}: artifact {artifact} comes from {producer}, which may be skipped, through a link that is neither optional nor defaulted");
            foreach (var r in s.WhenReferences.Where(r => !r.SkipSafe))
            {
                var producer = Regex.Match(r.Text, @"^\{\{tasks\.([a-z0-9-]+)\.").Groups[1].Value;
                if (producer.Length > 0 && split.Steps.ContainsKey(producer) && MaySkip(producer) && split.Steps[producer].Dag != s.Dag)
                    Problem($"step {name}: its condition reads {r.Text} of a step that may be skipped, through an output without a default");
            }
        }

        string Outside(IReadOnlyDictionary<string, object?> root, bool isSplit)
        {
            var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (k, v) in root)
            {
                if (k == "spec")
                {
                    var spec = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (sk, sv) in Map(v, "spec"))
                        if (sk != "templates" && !(isSplit && sk is "parallelism" or "podGC")) spec[sk] = sv;
                    copy[k] = spec;
                }
                else if (k == "metadata" && isSplit)
                {
                    var md = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (mk, mv) in Map(v, "metadata"))
                    {
                        if (mk != "annotations") { md[mk] = mv; continue; }
                        md[mk] = Map(mv, "annotations").Where(a => a.Key != "axl.dev/templates").ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
                    }
                    copy[k] = md;
                }
                else copy[k] = v;
            }
            return Canonical(copy);
        }
        var isSplit = split.UsedTemplates.Count > 0;
        if (Outside(split.Root, isSplit) != Outside(unsplit.Root, false))
            Problem($"the root documents differ outside their templates\n  split:   {Outside(split.Root, isSplit)}\n  unsplit: {Outside(unsplit.Root, false)}");
        return problems;
    }

    // ---- trees ------------------------------------------------------------------------------------------------------------------

    private static IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> TemplatesOf(IReadOnlyDictionary<string, object?> doc, string what)
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, object?>>(StringComparer.Ordinal);
        foreach (var t in List(Get(doc, "spec", "templates")).Select(x => Map(x, what + " template")))
            if (!result.TryAdd(Str(t, "name", what + " template"), t)) throw Fail($"{what} has two templates named {t["name"]}");
        return result;
    }

    public static IReadOnlyDictionary<string, object?> Map(object? o, string what) => o switch
    {
        IReadOnlyDictionary<string, object?> r => r,
        IDictionary<string, object?> d => new Dictionary<string, object?>(d, StringComparer.Ordinal),
        _ => throw Fail($"{what} is not a map"),
    };

    public static IReadOnlyList<object?> List(object? o) => o switch
    {
        null => Array.Empty<object?>(),
        string => throw Fail("a string where a list was expected"),
        IEnumerable e => e.Cast<object?>().ToList(),
        _ => throw Fail("not a list"),
    };

    public static object? Get(object? o, params string[] path)
    {
        foreach (var key in path)
        {
            if (o is IReadOnlyDictionary<string, object?> r) { if (!r.TryGetValue(key, out o)) return null; }
            else if (o is IDictionary<string, object?> d) { if (!d.TryGetValue(key, out o)) return null; }
            else return null;
        }
        return o;
    }

    private static string Str(IReadOnlyDictionary<string, object?> m, string key, string what) =>
        m.TryGetValue(key, out var v) && v is string s ? s : throw Fail($"{what} has no {key}");

    /// <summary>A canonical text of a tree (maps in their order, lists, scalars) to compare two trees exactly.</summary>
    public static string Canonical(object? o)
    {
        var sb = new StringBuilder();
        Write(sb, o);
        return sb.ToString();

        static void Write(StringBuilder sb, object? o)
        {
            switch (o)
            {
                case null: sb.Append("null"); break;
                case string s: sb.Append('"').Append(s.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"'); break;
                case bool b: sb.Append(b ? "true" : "false"); break;
                case IReadOnlyDictionary<string, object?> r:
                    sb.Append('{');
                    foreach (var (k, v) in r) { sb.Append(k).Append(':'); Write(sb, v); sb.Append(','); }
                    sb.Append('}');
                    break;
                case IDictionary<string, object?> d:
                    sb.Append('{');
                    foreach (var (k, v) in d) { sb.Append(k).Append(':'); Write(sb, v); sb.Append(','); }
                    sb.Append('}');
                    break;
                case IEnumerable e:
                    sb.Append('[');
                    foreach (var x in e) { Write(sb, x); sb.Append(','); }
                    sb.Append(']');
                    break;
                default: sb.Append(Convert.ToString(o, System.Globalization.CultureInfo.InvariantCulture)); break;
            }
        }
    }
}
