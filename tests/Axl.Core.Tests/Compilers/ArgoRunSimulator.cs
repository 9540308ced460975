using System.Globalization;
using System.Text.RegularExpressions;
using Axl.Compilers.Argo;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// Plays a compiled Argo workflow the way Argo's controller decides what runs, without a cluster: DAG tasks in
/// dependency order; <c>depends</c> and <c>dependencies</c> with Argo's meaning (a bare name is Succeeded, Skipped or
/// Daemoned; a task whose depends is not met is Omitted); <c>when</c> after substituting <c>{{...}}</c> references as
/// text, evaluated like govaluate (numbers compare as numbers, quoted text as text); <c>templateRef</c> into the
/// WorkflowTemplates with their inputs and outputs (a DAG output parameter falls back to its default, an optional
/// artifact that no task produced is left out, a required one is an error); a suspend template (a gate) succeeds
/// without a pod. Every container step succeeds with the value <c>value(step)</c>. The result, per step: its phase
/// and, when it ran, which step's output each of its input artifacts is.
/// </summary>
public sealed class ArgoRunSimulator
{
    private static readonly Regex Reference = new(@"\{\{\s*([^}]+?)\s*\}\}", RegexOptions.Compiled);
    private readonly Dictionary<string, IReadOnlyDictionary<string, object?>> _templates = new(StringComparer.Ordinal);
    private readonly Func<string, string> _value;
    private readonly IReadOnlyDictionary<string, string> _workflowParameters;

    public sealed record StepRun(string Phase, IReadOnlyDictionary<string, string> Artifacts, IReadOnlyDictionary<string, string> Parameters);

    /// <summary>Each step task's phase and inputs; a step left out of the run entirely is not in it.</summary>
    public Dictionary<string, StepRun> Steps { get; } = new(StringComparer.Ordinal);

    /// <summary>How many pods ran (container templates), and how many gates.</summary>
    public int Pods { get; private set; }
    public int Gates { get; private set; }

    private ArgoRunSimulator(ArgoDocument document, Func<string, string> value, IReadOnlyDictionary<string, string>? parameters)
    {
        foreach (var t in document.Templates) _templates[t.Name] = t.Tree;
        _value = value;
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in List(Get(document.Tree, "spec", "arguments", "parameters")))
            if (Str(p, "value") is { } v) args[Str(p, "name")!] = v;
        if (parameters is not null) foreach (var (k, v) in parameters) args[k] = v;
        _workflowParameters = args;
    }

    /// <summary>Runs <paramref name="document"/> (with its WorkflowTemplates when split) to the end.</summary>
    public static ArgoRunSimulator Run(ArgoDocument document, Func<string, string> value, IReadOnlyDictionary<string, string>? parameters = null)
    {
        var sim = new ArgoRunSimulator(document, value, parameters);
        var templates = Templates(document.Tree);
        var entry = (string)Get(document.Tree, "spec", "entrypoint")!;
        sim.RunDag(templates, templates[entry], new Dictionary<string, string>(), new Dictionary<string, string?>());
        return sim;
    }

    private sealed class Node
    {
        public string Phase = "";
        public Dictionary<string, string> OutputParameters = new(StringComparer.Ordinal);
        public Dictionary<string, string?> OutputArtifacts = new(StringComparer.Ordinal);
    }

    private static Dictionary<string, IReadOnlyDictionary<string, object?>> Templates(IReadOnlyDictionary<string, object?> obj) =>
        List(Get(obj, "spec", "templates")).ToDictionary(t => Str(t, "name")!, t => t, StringComparer.Ordinal);

    /// <summary>Runs a DAG template with its inputs; returns its outputs (parameters and artifacts: the producing step's name).</summary>
    private (Dictionary<string, string> Parameters, Dictionary<string, string?> Artifacts) RunDag(
        Dictionary<string, IReadOnlyDictionary<string, object?>> scopeTemplates, IReadOnlyDictionary<string, object?> dag,
        Dictionary<string, string> inputParameters, Dictionary<string, string?> inputArtifacts)
    {
        var tasks = List(Get(dag, "dag", "tasks")).ToList();
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        var pending = tasks.ToList();
        while (pending.Count > 0)
        {
            var ready = pending.FirstOrDefault(t => Dependencies(t).All(nodes.ContainsKey))
                        ?? throw new InvalidOperationException($"DAG {Str(dag, "name")}: no task can start (a cycle or a dependency on a task that does not exist): {string.Join(", ", pending.Select(t => Str(t, "name")))}");
            pending.Remove(ready);
            nodes[Str(ready, "name")!] = RunTask(scopeTemplates, ready, nodes, inputParameters, inputArtifacts);
        }

        var outParameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var outArtifacts = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var p in List(Get(dag, "outputs", "parameters")))
        {
            var name = Str(p, "name")!;
            var from = (IReadOnlyDictionary<string, object?>)p["valueFrom"]!;
            string? value;
            if (Str(from, "expression") is { } expression)
            {
                var m = Regex.Match(expression, @"^tasks\['([^']+)'\]\.status$");
                if (!m.Success) throw new InvalidOperationException($"output {name}: expression '{expression}' is not one the simulator knows");
                value = nodes[m.Groups[1].Value].Phase;
            }
            else value = TrySubstitute(Str(from, "parameter")!, nodes, inputParameters) ?? Str(from, "default");
            outParameters[name] = value ?? throw new InvalidOperationException($"DAG {Str(dag, "name")} output parameter {name}: '{Str(from, "parameter")}' has no value and no default (Argo fails the node)");
        }
        foreach (var a in List(Get(dag, "outputs", "artifacts")))
        {
            var name = Str(a, "name")!;
            var producer = ResolveArtifact(Str(a, "from")!, nodes, inputArtifacts, out var exists);
            if (!exists && !Optional(a)) throw new InvalidOperationException($"DAG {Str(dag, "name")} output artifact {name}: {Str(a, "from")} has nothing (a required artifact: Argo fails the node)");
            if (exists) outArtifacts[name] = producer;
        }
        return (outParameters, outArtifacts);
    }

    private Node RunTask(Dictionary<string, IReadOnlyDictionary<string, object?>> scopeTemplates, IReadOnlyDictionary<string, object?> task,
        Dictionary<string, Node> nodes, Dictionary<string, string> inputParameters, Dictionary<string, string?> inputArtifacts)
    {
        var name = Str(task, "name")!;
        var node = new Node();
        IReadOnlyDictionary<string, object?> template;
        Dictionary<string, IReadOnlyDictionary<string, object?>> templateScope;
        if (task.TryGetValue("templateRef", out var refObject) && refObject is IReadOnlyDictionary<string, object?> templateRef)
        {
            var wt = _templates.TryGetValue(Str(templateRef, "name")!, out var w) ? w
                : throw new InvalidOperationException($"task {name}: WorkflowTemplate {Str(templateRef, "name")} is not installed");
            templateScope = Templates(wt);
            template = templateScope[Str(templateRef, "template")!];
        }
        else
        {
            templateScope = scopeTemplates;
            template = scopeTemplates[Str(task, "template")!];
        }
        var isStep = template.ContainsKey("container");

        if (!DependsMet(task, nodes))
        {
            node.Phase = "Omitted";
            if (isStep) Steps[name] = new StepRun("Omitted", new Dictionary<string, string>(), new Dictionary<string, string>());
            return node;
        }
        if (Str(task, "when") is { } when && !WhenExpression.Evaluate(Substitute(when, nodes, inputParameters)))
        {
            node.Phase = "Skipped";
            if (isStep) Steps[name] = new StepRun("Skipped", new Dictionary<string, string>(), new Dictionary<string, string>());
            return node;
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in List(Get(task, "arguments", "parameters")))
            parameters[Str(p, "name")!] = Substitute(Str(p, "value")!, nodes, inputParameters);
        var artifacts = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var a in List(Get(task, "arguments", "artifacts")))
        {
            var producer = ResolveArtifact(Str(a, "from")!, nodes, inputArtifacts, out var exists);
            if (!exists && !Optional(a)) throw new InvalidOperationException($"task {name}: artifact {Str(a, "name")} from {Str(a, "from")} has nothing (Argo fails the task)");
            if (exists) artifacts[Str(a, "name")!] = producer;
        }

        if (isStep)
        {
            Pods++;
            foreach (var declared in List(Get(template, "inputs", "artifacts")))
                if (!artifacts.ContainsKey(Str(declared, "name")!))
                    throw new InvalidOperationException($"step {name} runs without its input artifact {Str(declared, "name")}");
            Steps[name] = new StepRun("Succeeded", artifacts.ToDictionary(kv => kv.Key, kv => kv.Value!, StringComparer.Ordinal), parameters);
            node.Phase = "Succeeded";
            if (List(Get(template, "outputs", "parameters")).Any(p => Str(p, "name") == ArgoCompiler.ValueParameter))
                node.OutputParameters[ArgoCompiler.ValueParameter] = _value(name);
            if (List(Get(template, "outputs", "artifacts")).Any(a => Str(a, "name") == ArgoCompiler.OutputArtifact))
                node.OutputArtifacts[ArgoCompiler.OutputArtifact] = name;
            return node;
        }
        if (template.ContainsKey("suspend"))
        {
            Gates++;
            node.Phase = "Succeeded";
            return node;
        }
        if (template.ContainsKey("dag"))
        {
            foreach (var declared in List(Get(template, "inputs", "parameters")))
                if (!parameters.ContainsKey(Str(declared, "name")!)) throw new InvalidOperationException($"task {name}: input parameter {Str(declared, "name")} not given");
            var (outParameters, outArtifacts) = RunDag(templateScope, template, parameters, artifacts);
            node.Phase = "Succeeded";
            node.OutputParameters = outParameters;
            node.OutputArtifacts = outArtifacts;
            return node;
        }
        throw new InvalidOperationException($"task {name}: template {Str(template, "name")} is of a kind the simulator does not run");
    }

    private static bool Optional(IReadOnlyDictionary<string, object?> artifact) => artifact.TryGetValue("optional", out var o) && o is true;

    /// <summary>The step whose output an artifact reference is; <paramref name="exists"/> false when nothing was produced there.</summary>
    private static string? ResolveArtifact(string from, Dictionary<string, Node> nodes, Dictionary<string, string?> inputArtifacts, out bool exists)
    {
        var m = Regex.Match(from, @"^\{\{(tasks\.([^.]+)\.outputs\.artifacts\.([^}]+)|inputs\.artifacts\.([^}]+))\}\}$");
        if (!m.Success) throw new InvalidOperationException($"artifact reference '{from}' is not one Argo resolves");
        if (m.Groups[4].Success)
        {
            exists = inputArtifacts.TryGetValue(m.Groups[4].Value, out var p);
            return p;
        }
        var node = nodes.TryGetValue(m.Groups[2].Value, out var n) ? n : throw new InvalidOperationException($"artifact reference '{from}': no task {m.Groups[2].Value} in this DAG");
        exists = node.OutputArtifacts.TryGetValue(m.Groups[3].Value, out var producer);
        return producer;
    }

    private string Substitute(string text, Dictionary<string, Node> nodes, Dictionary<string, string> inputs) =>
        TrySubstitute(text, nodes, inputs) ?? throw new InvalidOperationException($"'{text}' refers to a value that does not exist (Argo fails the task)");

    private string? TrySubstitute(string text, Dictionary<string, Node> nodes, Dictionary<string, string> inputs)
    {
        var missing = false;
        var result = Reference.Replace(text, m =>
        {
            var r = m.Groups[1].Value;
            string? v = null;
            if (r.StartsWith("workflow.parameters.", StringComparison.Ordinal)) v = _workflowParameters.GetValueOrDefault(r["workflow.parameters.".Length..]);
            else if (r.StartsWith("inputs.parameters.", StringComparison.Ordinal)) v = inputs.GetValueOrDefault(r["inputs.parameters.".Length..]);
            else if (Regex.Match(r, @"^tasks\.([^.]+)\.outputs\.parameters\.(.+)$") is { Success: true } t)
                v = nodes.TryGetValue(t.Groups[1].Value, out var n) ? n.OutputParameters.GetValueOrDefault(t.Groups[2].Value) : null;
            else if (Regex.Match(r, @"^tasks\.([^.]+)\.status$") is { Success: true } s)
                v = nodes.TryGetValue(s.Groups[1].Value, out var n) ? n.Phase : null;
            else if (r == "workflow.name") v = "run-1";
            if (v is null) missing = true;
            return v ?? "";
        });
        return missing ? null : result;
    }

    /// <summary>The task names a task waits for.</summary>
    private static IEnumerable<string> Dependencies(IReadOnlyDictionary<string, object?> task)
    {
        foreach (var d in Names(task.TryGetValue("dependencies", out var deps) ? deps : null)) yield return d;
        if (Str(task, "depends") is { } depends)
            foreach (Match m in Regex.Matches(Regex.Replace(depends, @"\.(Succeeded|Skipped|Failed|Errored|Omitted|Daemoned)\b", ""), @"[A-Za-z0-9][-A-Za-z0-9]*"))
                yield return m.Value;
    }

    private static bool DependsMet(IReadOnlyDictionary<string, object?> task, Dictionary<string, Node> nodes)
    {
        static bool Done(string phase) => phase is "Succeeded" or "Skipped" or "Daemoned";
        foreach (var d in Names(task.TryGetValue("dependencies", out var deps) ? deps : null))
            if (!Done(nodes[d].Phase)) return false;
        if (Str(task, "depends") is not { } depends) return true;
        // Rewrite to a boolean expression: X.Result -> whether X ended so; a bare X -> Succeeded, Skipped or Daemoned.
        var expression = Regex.Replace(depends, @"([A-Za-z0-9][-A-Za-z0-9]*)(\.(Succeeded|Skipped|Failed|Errored|Omitted|Daemoned))?",
            m => (m.Groups[3].Success ? nodes[m.Groups[1].Value].Phase == m.Groups[3].Value : Done(nodes[m.Groups[1].Value].Phase)) ? "true" : "false");
        return WhenExpression.Evaluate(expression);
    }

    internal static object? Get(object? o, params string[] path)
    {
        foreach (var key in path)
            o = o is IReadOnlyDictionary<string, object?> m && m.TryGetValue(key, out var v) ? v : null;
        return o;
    }

    private static IEnumerable<IReadOnlyDictionary<string, object?>> List(object? o) =>
        o is IEnumerable<object?> list ? list.Cast<IReadOnlyDictionary<string, object?>>() : Array.Empty<IReadOnlyDictionary<string, object?>>();

    private static IEnumerable<string> Names(object? o) => o is IEnumerable<object?> list ? list.Cast<string>() : Array.Empty<string>();

    private static string? Str(IReadOnlyDictionary<string, object?> m, string key) => m.TryGetValue(key, out var v) ? v as string : null;
}

/// <summary>govaluate as Argo's "when" uses it, for the expressions Axl writes: || &amp;&amp; ! ( ) == != &gt; &gt;= &lt; &lt;=, 'text', numbers, true/false.</summary>
public static class WhenExpression
{
    public static bool Evaluate(string text)
    {
        var tokens = Tokenize(text);
        var pos = 0;
        var value = Or(tokens, ref pos);
        if (pos != tokens.Count) throw new FormatException($"'{text}': unexpected '{tokens[pos]}'");
        return value is bool b ? b : throw new FormatException($"'{text}' is not a condition");
    }

    private static List<string> Tokenize(string s)
    {
        var tokens = new List<string>();
        for (var i = 0; i < s.Length;)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '\'')
            {
                var end = s.IndexOf('\'', i + 1);
                if (end < 0) throw new FormatException($"'{s}': unterminated string");
                tokens.Add(s[i..(end + 1)]);
                i = end + 1;
                continue;
            }
            var two = i + 1 < s.Length ? s.Substring(i, 2) : "";
            if (two is "&&" or "||" or "==" or "!=" or ">=" or "<=") { tokens.Add(two); i += 2; continue; }
            if (c is '(' or ')' or '!' or '>' or '<') { tokens.Add(c.ToString()); i++; continue; }
            var start = i;
            if (char.IsDigit(c) || (c == '-' && i + 1 < s.Length && char.IsDigit(s[i + 1])))
            {
                i++;
                while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '.')) i++;
            }
            else while (i < s.Length && char.IsLetter(s[i])) i++;
            if (i == start) throw new FormatException($"'{s}': unexpected '{c}'");
            tokens.Add(s[start..i]);
        }
        return tokens;
    }

    private static object Or(List<string> t, ref int p)
    {
        var left = And(t, ref p);
        while (p < t.Count && t[p] == "||") { p++; var right = And(t, ref p); left = (bool)left || (bool)right; }
        return left;
    }

    private static object And(List<string> t, ref int p)
    {
        var left = Comparison(t, ref p);
        while (p < t.Count && t[p] == "&&") { p++; var right = Comparison(t, ref p); left = (bool)left && (bool)right; }
        return left;
    }

    private static object Comparison(List<string> t, ref int p)
    {
        var left = Unary(t, ref p);
        if (p < t.Count && t[p] is "==" or "!=" or ">" or ">=" or "<" or "<=")
        {
            var op = t[p++];
            var right = Unary(t, ref p);
            if (left is double a && right is double b)
                return op switch { "==" => a == b, "!=" => a != b, ">" => a > b, ">=" => a >= b, "<" => a < b, _ => a <= b };
            if (op is "==" or "!=") return (Equals(left, right)) == (op == "==");
            throw new FormatException($"cannot compare {left} {op} {right}");
        }
        return left;
    }

    private static object Unary(List<string> t, ref int p)
    {
        if (t[p] == "!") { p++; return !(bool)Unary(t, ref p); }
        if (t[p] == "(")
        {
            p++;
            var v = Or(t, ref p);
            if (t[p++] != ")") throw new FormatException("missing )");
            return v;
        }
        var token = t[p++];
        if (token.StartsWith('\'')) return token[1..^1];
        if (token is "true") return true;
        if (token is "false") return false;
        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        throw new FormatException($"unknown name '{token}' (an unsubstituted reference?)");
    }
}
