using System.Globalization;
using System.Text;
using Axl.Model;
using Axl.Runner;
using Axl.Runtime;
using Axl.Validation;

namespace Axl.Compilers.Dagster;

/// <summary>What the Dagster compiler needs beyond the IR.</summary>
public sealed record DagsterCompileOptions
{
    /// <summary>The folder holding the workflow code, where the runner runs steps (AXL_WORKDIR overrides it at run time); default: the workflow file's folder.</summary>
    public string? CodeRoot { get; init; }

    public static DagsterCompileOptions Default { get; } = new();
}

/// <summary>
/// IR -> a Dagster job as a Python module, a pure function that never runs user code. The module is written for a
/// person to read: one @op per step with a docstring, invoking the Axl runner (axl step --manifest-json &lt;the
/// step's IO manifest&gt;) in a subprocess, as a pod does on Argo or KFP; a @graph whose body calls the ops in
/// the IR's order, each op receiving its upstream steps' artifact folders (the data edges) or a Nothing input
/// (the order edges), so Dagster runs them in the IR's order; and a job made from the graph. Conditions are
/// evaluated in the op with the local runtime's rules; a skipped step yields no result, so the steps reading it
/// are left out, while steps only ordered after it still run.
/// </summary>
public static class DagsterCompiler
{
    /// <summary>
    /// Names an op function must not take: what the module defines or imports, and Python's keywords and builtins
    /// (the module's own code calls sorted, set, str...). A step with such a name gets the function &lt;name&gt;_step;
    /// its Dagster op keeps the step's name.
    /// </summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "dagster", "json", "os", "shlex", "subprocess", "sys", "run_config", "main", "context",
        "WORKFLOW", "WORKFLOW_HASH", "RUNNER", "WORKDIR", "ARTIFACT_ROOT", "VALUE_FILE", "PARAMETERS", "PARAMETER_USE",
        "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "BaseExceptionGroup",
        "BlockingIOError", "BrokenPipeError", "BufferError", "BytesWarning", "ChildProcessError",
        "ConnectionAbortedError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError",
        "DeprecationWarning", "EOFError", "Ellipsis", "EncodingWarning", "EnvironmentError", "Exception",
        "ExceptionGroup", "False", "FileExistsError", "FileNotFoundError", "FloatingPointError", "FutureWarning",
        "GeneratorExit", "IOError", "ImportError", "ImportWarning", "IndentationError", "IndexError",
        "InterruptedError", "IsADirectoryError", "KeyError", "KeyboardInterrupt", "LookupError", "MemoryError",
        "ModuleNotFoundError", "NameError", "None", "NotADirectoryError", "NotImplemented", "NotImplementedError",
        "OSError", "OverflowError", "PendingDeprecationWarning", "PermissionError", "ProcessLookupError",
        "RecursionError", "ReferenceError", "ResourceWarning", "RuntimeError", "RuntimeWarning", "StopAsyncIteration",
        "StopIteration", "SyntaxError", "SyntaxWarning", "SystemError", "SystemExit", "TabError", "TimeoutError",
        "True", "TypeError", "UnboundLocalError", "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError",
        "UnicodeTranslateError", "UnicodeWarning", "UserWarning", "ValueError", "Warning", "ZeroDivisionError", "abs",
        "aiter", "all", "and", "anext", "any", "as", "ascii", "assert", "async", "await", "bin", "bool", "break",
        "breakpoint", "bytearray", "bytes", "callable", "case", "chr", "class", "classmethod", "compile", "complex",
        "continue", "copyright", "credits", "def", "del", "delattr", "dict", "dir", "divmod", "elif", "else",
        "enumerate", "eval", "except", "exec", "exit", "filter", "finally", "float", "for", "format", "from",
        "frozenset", "getattr", "global", "globals", "hasattr", "hash", "help", "hex", "id", "if", "import", "in",
        "input", "int", "is", "isinstance", "issubclass", "iter", "lambda", "len", "license", "list", "locals", "map",
        "match", "max", "memoryview", "min", "next", "nonlocal", "not", "object", "oct", "open", "or", "ord", "pass",
        "pow", "print", "property", "quit", "raise", "range", "repr", "return", "reversed", "round", "set", "setattr",
        "slice", "sorted", "staticmethod", "str", "sum", "super", "try", "tuple", "type", "vars", "while", "with",
        "yield", "zip",
    };

    public static DagsterDocument Compile(AxlWorkflow wf, DagsterCompileOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(wf);
        options ??= DagsterCompileOptions.Default;
        var diagnostics = WorkflowValidator.Validate(wf);
        if (diagnostics.Any(d => d.IsError)) throw new AxlInvalidWorkflowException(wf, diagnostics);
        var source = new Writer(wf, options).Module();
        return new DagsterDocument(wf, source, wf.StepCount, diagnostics.Where(d => !d.IsError).ToList(), CompilerSteps.WorkflowHash(wf, options.CodeRoot));
    }

    /// <summary>The Dagster op name of a step: its name with '-' as '_'.</summary>
    public static string OpName(AxlStep s) => s.Name.Replace('-', '_');

    /// <summary>The Python function of a step's op: the op name, or &lt;op name&gt;_step when Python or the module already uses that name.</summary>
    public static string PythonName(AxlStep s) => Reserved.Contains(OpName(s)) ? OpName(s) + "_step" : OpName(s);

    /// <summary>The Python name of the workflow's graph and job: &lt;name&gt; and &lt;name&gt;_job.</summary>
    public static string GraphName(AxlWorkflow wf)
    {
        var n = new string(wf.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray());
        return char.IsAsciiDigit(n[0]) ? "_" + n : n;
    }

    private sealed class Writer
    {
        private readonly AxlWorkflow _wf;
        private readonly string _workflowFile;
        private readonly string _codeRoot;
        private readonly string _hash;
        private readonly ManifestLayout _layout;
        private readonly StringBuilder _sb = new();
        private readonly Dictionary<string, string> _py = new(StringComparer.OrdinalIgnoreCase);

        public Writer(AxlWorkflow wf, DagsterCompileOptions o)
        {
            _wf = wf;
            _workflowFile = CompilerSteps.RelativeWorkflowFile(wf, o.CodeRoot);
            _codeRoot = CompilerSteps.CodeRootOf(wf, o.CodeRoot).Replace('\\', '/');
            _hash = CompilerSteps.WorkflowHash(wf, o.CodeRoot);
            _layout = new ManifestLayout
            {
                InputDirectory = up => "{inputs." + up.Name + "}",
                OutputDirectory = _ => "{output}",
                ParameterValue = p => null,
                ParameterEnv = p => ManifestBuilder.ParameterEnvironmentVariable(wf, p),
                WorkflowFile = _workflowFile,
                WorkDir = "{workdir}",
                RunId = "{run_id}",
            };
            var graph = GraphName(wf);
            var taken = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var s in wf.Steps)
            {
                var py = PythonName(s);
                if (py == graph || py == graph + "_job" || py.StartsWith('_'))
                    throw new AxlCompileException(CompileErrorIds.NotExpressible,
                        $"step '{s.Name}' would be the Python function '{py}', a name the generated Dagster module needs for itself (the graph, the job, or a private helper).",
                        $"rename the step (for example to {s.Name.TrimStart('_').ToLowerInvariant()}_step).", wf.Name);
                if (taken.TryGetValue(py, out var other))
                    throw new AxlCompileException(CompileErrorIds.NotExpressible,
                        $"steps '{other}' and '{s.Name}' would both be the Python function '{py}'.", "rename one of them.", wf.Name);
                taken[py] = s.Name;
                _py[s.Name] = py;
            }
            // The graph's locals (<op>_out) and the manifest constants (<OP>_MANIFEST) must not be another op's name.
            foreach (var (py, step) in taken)
                if (taken.TryGetValue(py + "_out", out var other) || taken.TryGetValue(py.ToUpperInvariant() + "_MANIFEST", out other))
                    throw new AxlCompileException(CompileErrorIds.NotExpressible,
                        $"step '{other}' has the name of a variable the generated Dagster module makes for step '{step}'.", $"rename step '{other}'.", wf.Name);
        }

        private string Py(string step) => _py[_wf.GetStep(step)!.Name];

        private StringBuilder Line(string text = "") => _sb.Append(text).Append('\n');

        public string Module()
        {
            var order = _wf.TopologicalOrder();
            var graph = GraphName(_wf);
            Line("\"\"\"Dagster job for the Axl workflow " + Text(_wf.Name) + ".");
            Line();
            Line("Generated by Axl " + AxlInfo.Version + " from " + _workflowFile + " (" + _hash + ").");
            Line("Do not edit: change the workflow and compile it again (axl compile --target dagster).");
            if (_wf.Options.Description is { } d) { Line(); Line(Doc(d)); }
            Line();
            Line("Each op runs one step through the Axl runner, `axl step --manifest-json <IO manifest>`, as a");
            Line("pod does on Argo or Kubeflow: the runner loads the step from the workflow file, reads its");
            Line("inputs from the upstream steps' artifact folders and writes the step's own artifact folder.");
            Line("An op returns that folder; the ops reading a step's output receive it as an input, which is");
            Line("how Dagster orders them.");
            Line();
            Line("Environment:");
            Line("    AXL_RUNNER         the runner command (default: axl), e.g. \"dotnet /opt/axl/axl.dll\"");
            Line("    AXL_WORKDIR        the folder holding the workflow file (default: the one it was compiled from)");
            Line("    AXL_ARTIFACT_ROOT  where the artifact folders go (default: $AXL_WORKDIR/.axl/dagster),");
            Line("                       one folder per run and step: <root>/<run id>/<step>");
            Line();
            Line("Run it with Dagster (dagster dev -f <this file>), or in process:");
            Line("    python3 <this file> [Parameter=value ...]");
            Line("\"\"\"");
            Line();
            Line("import json");
            Line("import os");
            Line("import shlex");
            Line("import subprocess");
            Line("import sys");
            Line();
            Line("import dagster");
            Line();
            Line("WORKFLOW = " + Str(_wf.Name));
            Line("WORKFLOW_HASH = " + Str(_hash));
            Line("RUNNER = shlex.split(os.environ.get(\"AXL_RUNNER\", \"axl\"))");
            Line("WORKDIR = os.environ.get(\"AXL_WORKDIR\", " + Str(_codeRoot) + ")");
            Line("ARTIFACT_ROOT = os.environ.get(\"AXL_ARTIFACT_ROOT\", os.path.join(WORKDIR, \".axl\", \"dagster\"))");
            Line("VALUE_FILE = " + Str(ManifestBuilder.ValueFileName));
            Line();
            Parameters();
            Helpers();
            if (_wf.Steps.Any(s => s.Secrets.Count > 0)) SecretHelper();
            foreach (var s in order) Op(s);
            Graph(order, graph);
            Line();
            Line();
            Line(graph + "_job = " + graph + ".to_job(");
            Line("    name=" + Str(graph) + ",");
            Line("    description=" + Str(_wf.Options.Description ?? "Axl workflow " + _wf.Name) + ",");
            Line("    tags={\"axl/workflow\": WORKFLOW, \"axl/workflow-hash\": WORKFLOW_HASH},");
            Line(")");
            Line();
            Line();
            Line("def run_config(**parameters):");
            Line("    \"\"\"The run config that gives workflow parameters to every op reading them, e.g. run_config(" + (_wf.Parameters.Count > 0 ? _wf.Parameters[0].Name + "=..." : "") + ").\"\"\"");
            Line("    unknown = sorted(set(parameters) - set(PARAMETERS))");
            Line("    if unknown:");
            Line("        raise ValueError(\"unknown parameter(s) %s; the workflow has: %s\" % (\", \".join(unknown), \", \".join(PARAMETERS) or \"none\"))");
            Line("    ops = {}");
            Line("    for op_name, names in PARAMETER_USE.items():");
            Line("        config = {name: parameters[name] for name in names if name in parameters}");
            Line("        if config:");
            Line("            ops[op_name] = {\"config\": config}");
            Line("    return {\"ops\": ops}");
            Line();
            Line();
            Line("def main(argv):");
            Line("    \"\"\"Runs the job in this process: python3 <this file> [Parameter=value ...].\"\"\"");
            Line("    parameters = {}");
            Line("    for arg in argv:");
            Line("        name, sep, text = arg.partition(\"=\")");
            Line("        if not sep or name not in PARAMETERS:");
            Line("            raise SystemExit(\"usage: %s [Parameter=value ...]; parameters: %s\" % (sys.argv[0], \", \".join(PARAMETERS) or \"none\"))");
            Line("        kind = PARAMETERS[name][\"type\"]");
            Line("        parameters[name] = text.lower() == \"true\" if kind is bool else kind(text)");
            Line("    result = " + graph + "_job.execute_in_process(run_config=run_config(**parameters))");
            Line("    return 0 if result.success else 1");
            Line();
            Line();
            Line("if __name__ == \"__main__\":");
            Line("    sys.exit(main(sys.argv[1:]))");
            return _sb.ToString();
        }

        private static string PyType(AxlParameter p) => CompilerSteps.KindOf(p) switch
        {
            ParameterKind.Integer => "int",
            ParameterKind.Number => "float",
            ParameterKind.Boolean => "bool",
            _ => "str",
        };

        private static string PyValue(AxlParameter p)
        {
            var text = CompilerSteps.ParameterText(p.Default);
            return CompilerSteps.KindOf(p) switch
            {
                ParameterKind.Integer when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l.ToString(CultureInfo.InvariantCulture),
                ParameterKind.Number when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => PlainScalar.Number(d).Text,
                ParameterKind.Boolean when bool.TryParse(text, out var b) => b ? "True" : "False",
                _ => Str(text),
            };
        }

        private void Parameters()
        {
            Line("# The workflow parameters: their types and defaults. An op reading one declares it in its config;");
            Line("# run_config(Name=value) sets it for all of them.");
            if (_wf.Parameters.Count == 0) Line("PARAMETERS = {}");
            else
            {
                Line("PARAMETERS = {");
                foreach (var p in _wf.Parameters)
                {
                    var parts = new List<string> { "\"type\": " + PyType(p) };
                    if (CompilerSteps.HasInlineDefault(p)) parts.Add("\"default\": " + PyValue(p));
                    if (p.Description is { } desc) parts.Add("\"description\": " + Str(desc));
                    Line("    " + Str(p.Name) + ": {" + string.Join(", ", parts) + "},");
                }
                Line("}");
            }
            Line();
            Line("# The parameters each op reads (its inputs and its condition), by op name.");
            var use = _wf.TopologicalOrder().Select(s => (s, ps: ParametersOf(s))).Where(x => x.ps.Count > 0).ToList();
            if (use.Count == 0) Line("PARAMETER_USE = {}");
            else
            {
                Line("PARAMETER_USE = {");
                foreach (var (s, ps) in use) Line("    " + Str(OpName(s)) + ": [" + string.Join(", ", ps.Select(p => Str(p.Name))) + "],");
                Line("}");
            }
            Line();
            Line();
        }

        /// <summary>The parameters an op reads: its inputs', then its condition's, each once.</summary>
        private List<AxlParameter> ParametersOf(AxlStep s)
        {
            var result = CompilerSteps.ParametersUsed(_wf, s);
            if (s.Condition is { } c)
                foreach (var r in c.References().Where(r => r.IsParameter))
                    if (_wf.Parameters.FirstOrDefault(p => p.Name.Equals(r.Name, StringComparison.OrdinalIgnoreCase)) is { } p && !result.Contains(p)) result.Add(p);
            return result;
        }

        private void SecretHelper()
        {
            Line("""
                def _secret(name, source):
                    "A secret environment value, read from this process's environment when the op runs (never written here)."
                    value = os.environ.get(source)
                    if value is None:
                        raise dagster.Failure(description="the secret for %s is read from environment variable %s, which is not set: set it in the environment of the Dagster process (from your secret store)." % (name, source))
                    return value


                """);
        }

        private void Helpers()
        {
            Line("""
                def _run_step(context, manifest, inputs, env):
                    "Runs one step through the Axl runner and returns its artifact folder; a failed step fails the op."
                    manifest = json.loads(json.dumps(manifest))
                    output = os.path.join(ARTIFACT_ROOT, context.run_id, manifest["step"])
                    manifest["workDir"] = WORKDIR
                    manifest["runId"] = context.run_id
                    env = dict(os.environ, **env)
                    for item in manifest["inputs"]:
                        if item["source"] == "step":
                            item["path"] = inputs[item["from"]]
                        elif item["source"] == "parameter":
                            env[item["env"]] = _text(context.op_config[item["from"]])
                    manifest["output"]["directory"] = output
                    if manifest["output"]["valueFile"]:
                        manifest["output"]["valueFile"] = os.path.join(output, VALUE_FILE)
                    command = RUNNER + ["step", "--manifest-json", json.dumps(manifest)]
                    process = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                    for line in process.stdout.splitlines():
                        context.log.info(line)
                    if process.returncode != 0:
                        whose = {1: "the step failed", 3: "infrastructure (input artifacts, workflow code or manifest)"}.get(process.returncode, "runner error")
                        raise dagster.Failure(
                            description="step %s exited with code %d: %s" % (manifest["step"], process.returncode, whose),
                            metadata={"exit_code": process.returncode, "output": process.stdout[-4000:]},
                        )
                    return output


                def _text(value):
                    "A parameter value as the runner reads it: booleans as true/false."
                    if isinstance(value, bool):
                        return "true" if value else "false"
                    return str(value)


                def _value(folder):
                    "The scalar output of a step (its value file), for conditions."
                    with open(os.path.join(folder, VALUE_FILE), encoding="utf-8") as f:
                        return f.read().strip()


                def _number(value):
                    if isinstance(value, bool):
                        return None
                    if isinstance(value, (int, float)):
                        return float(value)
                    try:
                        return float(str(value).strip())
                    except ValueError:
                        return None


                def _boolean(value):
                    if isinstance(value, bool):
                        return value
                    text = str(value).strip().lower()
                    return {"true": True, "false": False}.get(text)


                def _compare(operator, left, right):
                    "Compares as the local runtime does: numbers as numbers, booleans as booleans, else text (case-sensitive)."
                    a, b = _number(left), _number(right)
                    if a is None or b is None:
                        if isinstance(left, bool) and _boolean(right) is not None:
                            a, b = left, _boolean(right)
                        elif isinstance(right, bool) and _boolean(left) is not None:
                            a, b = _boolean(left), right
                        elif left is None or right is None:
                            a, b = (0, 0) if left is None and right is None else (None, None)
                        else:
                            a, b = _text(left), _text(right)
                    if a is None:
                        return operator == "ne"
                    return {"eq": a == b, "ne": a != b, "gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[operator]


                def _truthy(value):
                    if value is None:
                        return False
                    if isinstance(value, bool):
                        return value
                    if isinstance(value, str):
                        return value != "" and value.lower() != "false"
                    number = _number(value)
                    return number != 0 if number is not None else True


                """);
        }

        private void Op(AxlStep s)
        {
            var py = _py[s.Name];
            var data = CompilerSteps.DataUpstream(_wf, s);
            // A step the condition reads is an input too (its folder holds the value file), even when the step does not read its output.
            var conditionSteps = s.Condition?.References().Where(r => !r.IsParameter).Select(r => _wf.GetStep(r.Name)!).Distinct().Where(u => !data.Contains(u)).ToList() ?? new();
            var folders = data.Concat(conditionSteps).ToList();
            var order = s.Upstream.Select(u => _wf.GetStep(u)!).Where(u => !folders.Contains(u)).ToList();
            var parameters = ParametersOf(s);
            var manifest = CompilerSteps.Manifest(_wf, s, _layout, null, _codeRoot);
            var image = CompilerSteps.ImageOf(_wf, s, null);

            Line();
            Line();
            Line("# The IO manifest of step " + s.Name + "; the op fills in the folders, the run id and the work dir.");
            Line(py.ToUpperInvariant() + "_MANIFEST = " + PyLiteral(manifest.ToTree(), 0));
            Line();
            Line();
            Line("@dagster.op(");
            Line("    name=" + Str(OpName(s)) + ",");
            if (folders.Count + order.Count > 0)
            {
                Line("    ins={");
                foreach (var u in folders) Line("        " + Str(_py[u.Name]) + ": dagster.In(str, description=" + Str("artifact folder of step " + u.Name) + "),");
                foreach (var u in order) Line("        " + Str("after_" + _py[u.Name]) + ": dagster.In(dagster.Nothing),");
                Line("    },");
            }
            if (s.Condition is not null)
            {
                Line("    out={");
                Line("        \"result\": dagster.Out(str, is_required=False, description=\"the artifact folder; not produced when the condition is false\"),");
                Line("        \"finished\": dagster.Out(dagster.Nothing, description=\"the op ran, whether or not its condition was true\"),");
                Line("    },");
            }
            else Line("    out=dagster.Out(str, description=\"the artifact folder\"),");
            if (parameters.Count > 0)
            {
                Line("    config_schema={");
                foreach (var p in parameters)
                {
                    var field = "dagster.Field(" + PyType(p) + (CompilerSteps.HasInlineDefault(p) ? ", default_value=" + PyValue(p) : ", is_required=True") + (p.Description is { } pd ? ", description=" + Str(pd) : "") + ")";
                    Line("        " + Str(p.Name) + ": " + field + ",");
                }
                Line("    },");
            }
            if (s.Retries > 0)
                Line("    retry_policy=dagster.RetryPolicy(max_retries=" + s.Retries.ToString(CultureInfo.InvariantCulture) + ", delay=1, backoff=dagster.Backoff.EXPONENTIAL),");
            Line("    tags={\"axl/step\": " + Str(s.Name) + ", \"axl/image\": " + Str(image) + "},");
            Line(")");
            var args = new List<string> { "context" };
            args.AddRange(folders.Select(u => _py[u.Name]));
            Line("def " + py + "(" + string.Join(", ", args) + "):");
            Line("    \"\"\"" + Doc(Summary(s, data, order, parameters)));
            Line();
            Line("    Defined in " + _workflowFile + ", line " + s.Location.Line.ToString(CultureInfo.InvariantCulture) + "; runs in " + image + " on Argo and Kubeflow.");
            Line("    \"\"\"");
            var call = "_run_step(context, " + py.ToUpperInvariant() + "_MANIFEST, inputs={" + string.Join(", ", data.Select(u => Str(u.Name) + ": " + _py[u.Name])) + "}, env=" + EnvLiteral(s) + ")";
            if (s.Condition is { } c)
            {
                Line("    if not (" + PyCondition(c) + "):");
                Line("        context.log.info(" + Str("skipped: the condition " + c + " is false") + ")");
                Line("        yield dagster.Output(None, \"finished\")");
                Line("        return");
                Line("    yield dagster.Output(" + call + ", \"result\")");
                Line("    yield dagster.Output(None, \"finished\")");
            }
            else Line("    return " + call);
        }

        private string Summary(AxlStep s, List<AxlStep> data, List<AxlStep> order, List<AxlParameter> parameters)
        {
            var sb = new StringBuilder("Step " + s.Name);
            sb.Append(s.Kind == StepKind.Command ? " (command " + s.Command + ")" : "");
            sb.Append(s.Description is { } d ? ": " + d.TrimEnd('.') + "." : ".");
            var parts = new List<string>();
            if (data.Count > 0) parts.Add("reads the output of " + string.Join(", ", data.Select(u => u.Name)));
            if (order.Count > 0) parts.Add("runs after " + string.Join(", ", order.Select(u => u.Name)));
            if (parameters.Count > 0) parts.Add("uses the parameter" + (parameters.Count == 1 ? " " : "s ") + string.Join(", ", parameters.Select(p => p.Name)));
            if (s.Condition is { } c) parts.Add("runs only when " + c);
            if (s.Retries > 0) parts.Add("retried up to " + s.Retries.ToString(CultureInfo.InvariantCulture) + (s.Retries == 1 ? " time" : " times"));
            if (s.TimeoutSeconds is { } t) parts.Add("stopped by the runner after " + t.ToString(CultureInfo.InvariantCulture) + " s");
            if (parts.Count > 0) sb.Append(' ').Append(char.ToUpperInvariant(parts[0][0])).Append(parts[0][1..]).Append(parts.Count > 1 ? "; " + string.Join("; ", parts.Skip(1)) : "").Append('.');
            return sb.ToString();
        }

        private string PyCondition(Condition c) => c switch
        {
            ConditionNot n => "not " + Wrap(n.Operand),
            ConditionBinary { Operator: "and" or "or" } b => Wrap(b.Left) + " " + b.Operator + " " + Wrap(b.Right),
            ConditionBinary b => "_compare(" + Str(b.Operator) + ", " + Operand(b.Left) + ", " + Operand(b.Right) + ")",
            _ => "_truthy(" + Operand(c) + ")",
        };

        private string Wrap(Condition c) => c is ConditionBinary { Operator: "and" or "or" } || c is ConditionNot ? "(" + PyCondition(c) + ")" : PyCondition(c);

        private string Operand(Condition c) => c switch
        {
            ConditionRef { IsParameter: true } r => "context.op_config[" + Str(_wf.Parameters.First(p => p.Name.Equals(r.Name, StringComparison.OrdinalIgnoreCase)).Name) + "]",
            ConditionRef r => "_value(" + Py(r.Name) + ")",
            ConditionLiteral { Value: string s } => Str(s),
            ConditionLiteral { Value: bool b } => b ? "True" : "False",
            ConditionLiteral { Value: double d } => PlainScalar.Number(d).Text,
            ConditionLiteral { Value: float f } => PlainScalar.Number(f).Text,
            ConditionLiteral { Value: IFormattable n } => n.ToString(null, CultureInfo.InvariantCulture),
            _ => throw new AxlCompileException(CompileErrorIds.NotExpressible, $"the condition compares {c}, which is not a value; compare a step output or a parameter with a value."),
        };

        private void Graph(IReadOnlyList<AxlStep> order, string graph)
        {
            Line();
            Line();
            Line("@dagster.graph(name=" + Str(graph) + ")");
            Line("def " + graph + "():");
            Line("    \"\"\"The workflow's DAG: each op gets the artifact folders of the steps it reads, or runs after the ones it follows.\"\"\"");
            var outputs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var s in order)
            {
                var py = _py[s.Name];
                var data = CompilerSteps.DataUpstream(_wf, s);
                var conditionSteps = s.Condition?.References().Where(r => !r.IsParameter).Select(r => _wf.GetStep(r.Name)!).Distinct().Where(u => !data.Contains(u)).ToList() ?? new();
                var folders = data.Concat(conditionSteps).ToList();
                var after = s.Upstream.Select(u => _wf.GetStep(u)!).Where(u => !folders.Contains(u)).ToList();
                var args = folders.Select(u => _py[u.Name] + "=" + Result(u)).Concat(after.Select(u => "after_" + _py[u.Name] + "=" + Finished(u)));
                Line("    " + py + "_out = " + py + "(" + string.Join(", ", args) + ")");
            }
        }

        private string Result(AxlStep u) => _py[u.Name] + "_out" + (u.Condition is null ? "" : ".result");
        private string Finished(AxlStep u) => _py[u.Name] + "_out" + (u.Condition is null ? "" : ".finished");

        /// <summary>
        /// The step's environment as a Python dict: plain values inline, secrets as <c>_secret(...)</c>, which reads a
        /// variable of the Dagster process's environment when the op runs (its -EnvironmentVariable, else the variable's own name).
        /// </summary>
        private static string EnvLiteral(AxlStep s) =>
            s.Env.Count + s.Secrets.Count == 0 ? "{}" : "{" + string.Join(", ",
                s.Env.Select(kv => (kv.Key, Value: Str(kv.Value)))
                    .Concat(s.Secrets.Select(kv => (kv.Key, Value: "_secret(" + Str(kv.Key) + ", " + Str(kv.Value.EnvironmentVariable ?? kv.Key) + ")")))
                    .OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => Str(e.Key) + ": " + e.Value)) + "}";

        /// <summary>A Python string literal in double quotes: backslash, quote and control characters escaped, other text as is (the file is UTF-8).</summary>
        internal static string Str(string s)
        {
            var sb = new StringBuilder("\"");
            foreach (var c in s)
                sb.Append(c switch
                {
                    '\\' => "\\\\",
                    '"' => "\\\"",
                    '\n' => "\\n",
                    '\r' => "\\r",
                    '\t' => "\\t",
                    _ when char.IsControl(c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                    _ => c.ToString(),
                });
            return sb.Append('"').ToString();
        }

        /// <summary>A text inside a triple-quoted docstring: backslashes and quotes that could end it escaped.</summary>
        private static string Doc(string s) => s.Replace("\\", "\\\\").Replace("\"\"\"", "\\\"\\\"\\\"");

        private static string Text(string s) => "'" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "'";

        /// <summary>A Python literal of a JSON-like tree (maps on several lines, lists of scalars on one).</summary>
        private static string PyLiteral(object? o, int indent)
        {
            var pad = new string(' ', indent + 4);
            switch (o)
            {
                case null: return "None";
                case bool b: return b ? "True" : "False";
                case string s: return Str(s);
                case int or long: return Convert.ToString(o, CultureInfo.InvariantCulture)!;
                case double d: return PlainScalar.Number(d).Text;
                case IDictionary<string, object?> m:
                    if (m.Count == 0) return "{}";
                    return "{\n" + string.Concat(m.Select(kv => pad + Str(kv.Key) + ": " + PyLiteral(kv.Value, indent + 4) + ",\n")) + new string(' ', indent) + "}";
                case System.Collections.IEnumerable e:
                    var items = e.Cast<object?>().ToList();
                    if (items.Count == 0) return "[]";
                    return "[\n" + string.Concat(items.Select(i => pad + PyLiteral(i, indent + 4) + ",\n")) + new string(' ', indent) + "]";
                default: return Str(Convert.ToString(o, CultureInfo.InvariantCulture) ?? "");
            }
        }
    }
}

/// <summary>A compiled Dagster module: the Python source (the same bytes for the same IR and options).</summary>
public sealed class DagsterDocument
{
    internal DagsterDocument(AxlWorkflow wf, string source, int opCount, IReadOnlyList<AxlDiagnostic> warnings, string? workflowHash = null)
    {
        Source = source;
        Workflow = wf.Name;
        WorkflowHash = workflowHash ?? wf.Hash;
        JobName = DagsterCompiler.GraphName(wf) + "_job";
        OpCount = opCount;
        Warnings = warnings;
        Size = Encoding.UTF8.GetByteCount(source);
    }

    public string Workflow { get; }
    public string WorkflowHash { get; }
    /// <summary>The module-level name of the job (&lt;workflow&gt;_job).</summary>
    public string JobName { get; }
    /// <summary>Ops, one per step.</summary>
    public int OpCount { get; }
    public long Size { get; }
    /// <summary>The size as "12.3 KiB" (for views).</summary>
    public string SizeText => Argo.ArgoDocument.FormatSize(Size);
    public IReadOnlyList<AxlDiagnostic> Warnings { get; }
    public string Source { get; }

    public override string ToString() => Source;

    /// <summary>Writes the module to <paramref name="path"/> (UTF-8, no BOM).</summary>
    public void WriteTo(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, Source, new UTF8Encoding(false));
    }
}
