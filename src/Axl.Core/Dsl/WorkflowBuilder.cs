using System.Collections;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text.RegularExpressions;
using Axl.IO;
using Axl.Model;
using Axl.Validation;

namespace Axl.Dsl;

/// <summary>A step as recorded by the Step keyword, before wiring.</summary>
public sealed record StepDefinition(string Name, ScriptBlock? Body, string? BodyText, StepOptions Options, SourceLocation Location)
{
    /// <summary>
    /// A step whose body is kept as its syntax tree until someone asks for the script block (a file read without
    /// running it: the IR, hashes and compiled code need the text and the param block, not a script block per step,
    /// whose making draws a random id each).
    /// </summary>
    internal StepDefinition(string name, ScriptBlockAst bodyAst, string bodyText, StepOptions options, SourceLocation location)
        : this(name, (ScriptBlock?)null, bodyText, options, location) => _bodyAst = bodyAst;

    /// <summary>
    /// A step read from a piece of its file parsed on its own (<see cref="StaticWorkflowFile"/> reads a large file in
    /// pieces): the text and signature come from the piece's tree, which is not kept; the body's tree, when someone asks
    /// for it, is the one at <paramref name="bodyOffset"/> in the whole file's tree (<paramref name="file"/> parses it then).
    /// </summary>
    internal StepDefinition(string name, WholeFileTree file, int bodyOffset, StepSignature signature, string bodyText, StepOptions options, SourceLocation location)
        : this(name, (ScriptBlock?)null, bodyText, options, location)
    {
        _file = file;
        _bodyOffset = bodyOffset;
        ReadSignature = signature;
    }

    private readonly ScriptBlockAst? _bodyAst;
    private readonly WholeFileTree? _file;
    private readonly int _bodyOffset;
    private ScriptBlock? _body = Body;

    /// <summary>
    /// The step body as a script block (made from <see cref="BodyAst"/> on first use when the step was read from its tree).
    /// Threads that ask at once all get the one block that was stored first (a step host binds it on its own thread).
    /// </summary>
    public ScriptBlock? Body { get => _body ?? MakeBody(); init => _body = value; }

    private ScriptBlock? MakeBody() =>
        TreeBody()?.GetScriptBlock() is { } made ? Interlocked.CompareExchange(ref _body, made, null) ?? made : null;

    private ScriptBlockAst? TreeBody() => _bodyAst ?? _file?.BodyAt(_bodyOffset);

    /// <summary>The step body's syntax tree, without making a script block when there is none yet.</summary>
    public ScriptBlockAst? BodyAst => TreeBody() ?? _body?.Ast as ScriptBlockAst;

    /// <summary>The signature of a step read from a piece of its file (its tree is gone), or null.</summary>
    internal StepSignature? ReadSignature { get; }

    /// <summary>True when the body is a script or a syntax tree (<see cref="Body"/> is not null).</summary>
    internal bool HasBody => _bodyAst is not null || _file is not null || _body is not null;

    /// <summary>True when the step was read from its file's syntax tree (a file read without running it), not recorded with a script block.</summary>
    internal bool ReadFromTree => _bodyAst is not null || _file is not null;
}

/// <summary>A workflow parameter as recorded by the Parameter keyword.</summary>
public sealed record ParameterDefinition(string Name, object? Default, string? Type, string? Description, SourceLocation Location, bool Sensitive = false);

/// <summary>
/// Records a workflow definition (from the DSL keywords or from C#) and builds the IR:
/// wires inputs (Graph calls, then parameter names, then types), makes edges, parses conditions,
/// and records every wiring problem as a diagnostic instead of stopping at the first.
/// </summary>
public sealed partial class WorkflowBuilder
{
    public const string ContextParameterName = "AxlContext";
    public const string OutputPlaceholder = "output";
    public const string StdinInput = "stdin";

    private readonly List<StepDefinition> _steps = new();
    private readonly List<ParameterDefinition> _parameters = new();
    private readonly List<GraphCall> _graphCalls = new();
    private readonly Dictionary<string, GraphCall> _graphCallByStep = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<AxlDiagnostic> _diagnostics = new();

    public WorkflowBuilder(string name, WorkflowDefinitionOptions? options = null, SourceLocation location = default)
    {
        Name = name;
        Options = options ?? new WorkflowDefinitionOptions();
        Location = location;
    }

    public string Name { get; }
    public WorkflowDefinitionOptions Options { get; }
    public SourceLocation Location { get; }
    public IReadOnlyList<StepDefinition> StepDefinitions => _steps;
    public IReadOnlyList<ParameterDefinition> ParameterDefinitions => _parameters;
    /// <summary>The Graph { } block, when the workflow has one.</summary>
    public ScriptBlock? GraphBlock { get; private set; }
    public SourceLocation GraphLocation { get; private set; }
    public bool HasGraph => GraphBlock is not null || _graphCalls.Count > 0;

    public WorkflowBuilder AddStep(string name, ScriptBlock? body, StepOptions? options = null, SourceLocation location = default)
    {
        _steps.Add(new StepDefinition(name, body, body is null ? null : NormalizeSource(body.ToString()), options ?? new StepOptions(), location));
        return this;
    }

    /// <summary>Adds a step from its body's syntax tree (the tree of a <c>{ }</c> literal), with the text a script block of it gives.</summary>
    internal WorkflowBuilder AddStep(string name, ScriptBlockAst body, StepOptions? options, SourceLocation location)
    {
        _steps.Add(new StepDefinition(name, body, NormalizeSource(ScriptBlockText(body)), options ?? new StepOptions(), location));
        return this;
    }

    /// <summary>Adds a step made elsewhere (a step read from a piece of its file, on another thread).</summary>
    internal WorkflowBuilder AddStep(StepDefinition step)
    {
        _steps.Add(step);
        return this;
    }

    /// <summary>
    /// A step read from a piece of a file parsed on its own: the text and signature of <paramref name="body"/> (a tree of
    /// the piece), and the body's place in the whole file (<paramref name="bodyOffset"/>) to find its tree there.
    /// </summary>
    internal static StepDefinition StepFromPiece(string name, ScriptBlockAst? body, int bodyOffset, WholeFileTree file, StepOptions options, SourceLocation location) =>
        body is null
            ? new StepDefinition(name, (ScriptBlock?)null, null, options, location)
            : new StepDefinition(name, file, bodyOffset, StepSignature.FromAst(body), NormalizeSource(ScriptBlockText(body)), options, location);

    // What ScriptBlock.ToString() gives for a script block made from the tree (the text between the braces), without
    // making one; where the engine has no such member, through a script block.
    private static readonly Func<ScriptBlockAst, string>? SerializedText = typeof(ScriptBlockAst)
        .GetMethod("ToStringForSerialization", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance, Type.EmptyTypes) is { } m
        && m.ReturnType == typeof(string) ? m.CreateDelegate<Func<ScriptBlockAst, string>>() : null;

    internal static string ScriptBlockText(ScriptBlockAst body) => SerializedText is { } text ? text(body) : body.GetScriptBlock().ToString();

    /// <summary>Adds a step from source text (C# callers and tests); the text is the body without braces.</summary>
    public WorkflowBuilder AddStep(string name, string? bodyText, StepOptions? options = null, SourceLocation location = default)
    {
        _steps.Add(new StepDefinition(name, (ScriptBlock?)null, bodyText is null ? null : NormalizeSource(bodyText), options ?? new StepOptions(), location));
        return this;
    }

    public WorkflowBuilder AddParameter(string name, object? defaultValue = null, string? type = null, string? description = null, SourceLocation location = default, bool sensitive = false)
    {
        _parameters.Add(new ParameterDefinition(name, NormalizeValue(defaultValue), type, description, location, sensitive));
        return this;
    }

    public WorkflowBuilder SetGraph(ScriptBlock graph, SourceLocation location)
    {
        if (GraphBlock is not null)
            throw new AxlDslException(DiagnosticIds.GraphCall, $"Workflow '{Name}' has two Graph blocks ({GraphLocation} and {location}); merge them into one.");
        GraphBlock = graph;
        GraphLocation = location;
        return this;
    }

    /// <summary>Records a step call made in a Graph block and returns the symbolic reference to its output.</summary>
    public AxlOutputRef RecordGraphCall(string step, IDictionary<string, object?> arguments, SourceLocation location)
    {
        if (_graphCallByStep.TryGetValue(step, out var previous))
            throw new AxlDslException(DiagnosticIds.GraphCall, $"step '{step}' is called twice in the Graph block ({previous.Location} and {location}); each step runs once: reuse the reference the first call returned.");
        var call = new GraphCall(step, new Dictionary<string, object?>(arguments, StringComparer.OrdinalIgnoreCase), location);
        _graphCalls.Add(call);
        _graphCallByStep[step] = call;
        return new AxlOutputRef(step);
    }

    public AxlWorkflow Build()
    {
        _diagnostics.Clear();
        var wfOptions = BuildOptions();
        var parameters = BuildParameters();
        var paramByName = new Dictionary<string, AxlParameter>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in parameters) paramByName.TryAdd(p.Name, p);

        var defByName = new Dictionary<string, StepDefinition>(_steps.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var d in _steps) defByName.TryAdd(d.Name, d);

        var graphByStep = new Dictionary<string, GraphCall>(StringComparer.OrdinalIgnoreCase);
        foreach (var c in _graphCalls) graphByStep[c.Step] = c;

        // Output types first: type-based wiring needs every step's output type.
        // By position: a record key would hash each definition's body text and options on every lookup.
        var signatures = new StepSignature[_steps.Count];
        var outputTypes = new List<(StepDefinition Def, string? Name, Type? Type)>(_steps.Count);
        for (var i = 0; i < _steps.Count; i++)
        {
            var d = _steps[i];
            var sig = signatures[i] = Signature(d);
            var outName = d.Options.OutputType ?? sig.OutputTypeName;
            var outType = d.Options.OutputType is not null ? Signatures.Resolve(d.Options.OutputType) : sig.OutputType;
            outputTypes.Add((d, outName, outType));
        }

        var steps = new List<AxlStep>(_steps.Count);
        var edges = new List<AxlEdge>();
        for (var i = 0; i < _steps.Count; i++)
            steps.Add(BuildStep(_steps[i], wfOptions, signatures[i], outputTypes, defByName, paramByName, graphByStep, edges));
        foreach (var c in _graphCalls)
            if (!defByName.ContainsKey(c.Step))
                Report(DiagnosticIds.GraphCall, $"the Graph block calls '{c.Step}', which is not a step of this workflow.", "define the step with Step, or fix the name.", c.Location, null);

        return new AxlWorkflow(Name, wfOptions, parameters, steps, edges, _diagnostics.ToList(), Location);
    }

    private WorkflowOptions BuildOptions()
    {
        var o = Options;
        var defaultMode = InputMode.Object;
        if (o.InputMode is not null && !TryParseMode(o.InputMode, out defaultMode))
            Report(DiagnosticIds.InvalidInputMode, $"default input mode '{o.InputMode}' is not 'object' or 'path'.", "use -InputMode object or -InputMode path.", Location, null);
        var delivery = CodeDelivery.Image;
        if (o.CodeDelivery is not null && !TryParseName(o.CodeDelivery, out delivery))
            Report(DiagnosticIds.InvalidOption, $"code delivery '{o.CodeDelivery}' is not 'Image' or 'Artifact'.", "use -CodeDelivery Image or -CodeDelivery Artifact.", Location, null);
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (o.Labels is not null)
            foreach (DictionaryEntry e in o.Labels) labels[Convert.ToString(e.Key, CultureInfo.InvariantCulture)!] = Convert.ToString(Unwrap(e.Value), CultureInfo.InvariantCulture) ?? "";
        if (o.Lockfile is not null && (o.RequirementsFile is not null || o.Requirements is { Length: > 0 }))
            Report(DiagnosticIds.InvalidOption, "both a lockfile and requirements are given; the dependency policy is one or the other.", "keep -Lockfile (preferred) or -Requirements/-RequirementsFile, not both.", Location, null);
        return new WorkflowOptions
        {
            Image = o.Image,
            DefaultIoHandler = o.IoHandler ?? "clixml",
            DefaultInputMode = defaultMode,
            ServiceAccount = o.ServiceAccount,
            ArtifactStore = o.ArtifactStore,
            CodeDelivery = delivery,
            Dependencies = new DependencyPolicy { Lockfile = o.Lockfile, RequirementsFile = o.RequirementsFile, Requirements = o.Requirements ?? Array.Empty<string>() },
            Description = o.Description,
            Labels = new ReadOnlyDictionary<string, string>(labels),
            Modules = Modules(o.Modules, Location, null),
            WarmEnv = o.WarmEnv,
        };
    }

    private List<AxlParameter> BuildParameters()
    {
        var result = new List<AxlParameter>(_parameters.Count);
        var seen = new Dictionary<string, ParameterDefinition>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in _parameters)
        {
            if (seen.TryGetValue(p.Name, out var first))
            {
                Report(DiagnosticIds.DuplicateParameter, $"parameter '{p.Name}' is defined twice (first at {first.Location}).", "remove or rename one of them.", p.Location, null);
                continue;
            }
            seen[p.Name] = p;
            result.Add(new AxlParameter(p.Name, p.Default, p.Type, p.Description, p.Location, p.Sensitive));
        }
        return result;
    }

    private StepSignature Signature(StepDefinition d)
    {
        if (d.ReadSignature is { } read) return read;
        try
        {
            if (d.HasBody) return StepSignature.FromAst(d.BodyAst);
            if (d.BodyText is not null) return StepSignature.FromText(d.BodyText);
        }
        catch (ParseException ex)
        {
            Report(DiagnosticIds.InvalidOption, $"the step body does not parse: {ex.Message}", "fix the script syntax.", d.Location, d.Name);
        }
        return StepSignature.Empty;
    }

    private AxlStep BuildStep(
        StepDefinition d, WorkflowOptions wf, StepSignature sig,
        List<(StepDefinition Def, string? Name, Type? Type)> outputTypes,
        Dictionary<string, StepDefinition> defByName, Dictionary<string, AxlParameter> paramByName,
        Dictionary<string, GraphCall> graphByStep, List<AxlEdge> edges)
    {
        var o = d.Options;
        var isCommand = o.CommandSpecified || o.ArgumentList is { Length: > 0 } || o.Stdin is not null;
        var step = new AxlStep
        {
            Name = d.Name,
            KubernetesName = Dns1123.Normalize(d.Name),
            Kind = isCommand ? StepKind.Command : StepKind.Script,
            Description = o.Description,
            Source = d.BodyText,
            Location = d.Location,
            BodySource = d,
            Command = o.Command,
            Arguments = o.ArgumentList?.ToArray() ?? Array.Empty<string>(),
            Stdin = o.Stdin,
            OutputType = o.OutputType ?? sig.OutputTypeName,
            Retries = o.Retries ?? 0,
            Image = o.Image,
            Packages = o.Packages?.ToArray() ?? Array.Empty<string>(),
            Modules = Modules(o.Modules, d.Location, d.Name),
            DependsOn = o.DependsOn?.ToArray() ?? Array.Empty<string>(),
            When = o.When,
            Resources = new ResourceSpec
            {
                CpuRequest = o.Cpu, CpuLimit = o.CpuLimit, MemoryRequest = o.Memory, MemoryLimit = o.MemoryLimit,
                Gpu = o.Gpu, GpuResource = o.GpuResource ?? "nvidia.com/gpu",
            },
        };

        // IO handler: command steps capture stdout as text unless told otherwise.
        var handler = o.IoHandler ?? (isCommand ? "text" : wf.DefaultIoHandler);
        var ext = IoHandlerRegistry.TryGet(handler, out var desc) ? desc.Extension : "." + handler.ToLowerInvariant();
        step.Output = new OutputSpec("output", desc?.Name ?? handler, ext, step.OutputType);

        // Input modes.
        step.InputMode = isCommand ? InputMode.Path : wf.DefaultInputMode;
        var modes = o.InputMode is null ? NoModes : new Dictionary<string, InputMode>(StringComparer.OrdinalIgnoreCase);
        switch (Unwrap(o.InputMode))
        {
            case null: break;
            case string s:
                if (TryParseMode(s, out var m)) step.InputMode = m;
                else Report(DiagnosticIds.InvalidInputMode, $"input mode '{s}' is not 'object' or 'path'.", "use -InputMode object, -InputMode path, or a hashtable such as @{ data = 'path' }.", d.Location, d.Name);
                break;
            case IDictionary dict:
                foreach (DictionaryEntry e in dict)
                {
                    var key = Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "";
                    var val = Convert.ToString(Unwrap(e.Value), CultureInfo.InvariantCulture) ?? "";
                    if (TryParseMode(val, out var pm)) modes[key] = pm;
                    else Report(DiagnosticIds.InvalidInputMode, $"input mode '{val}' for parameter '{key}' is not 'object' or 'path'.", "use 'object' or 'path' as each hashtable value.", d.Location, d.Name);
                    if (!isCommand && sig.Parameters.All(p => !p.Name.Equals(key, StringComparison.OrdinalIgnoreCase)))
                        Report(DiagnosticIds.InvalidInputMode, $"-InputMode names parameter '{key}', which the step's param block does not declare.", $"use one of: {Names(sig.Parameters.Select(p => p.Name))}.", d.Location, d.Name);
                }
                break;
            default:
                Report(DiagnosticIds.InvalidInputMode, $"input mode of type {o.InputMode!.GetType().Name} is not understood.", "use 'object', 'path' or a hashtable of parameter name to mode.", d.Location, d.Name);
                break;
        }
        if (modes.Count > 0) step.InputModes = new ReadOnlyDictionary<string, InputMode>(modes);

        if (isCommand && o.InputMode is not null && (step.InputMode != InputMode.Path || modes.Values.Any(m => m != InputMode.Path)))
            Report(DiagnosticIds.InvalidInputMode, "command steps always receive their inputs as file paths; -InputMode object has no effect on them.", "remove -InputMode from the command step.", d.Location, d.Name);
        if (isCommand) step.InputMode = InputMode.Path;

        // Timeout and retries.
        if (o.Timeout is not null)
        {
            if (TryParseTimeout(Unwrap(o.Timeout), out var seconds) && seconds > 0) step.TimeoutSeconds = seconds;
            else Report(DiagnosticIds.InvalidOption, $"timeout '{o.Timeout}' is not a positive duration.", "give seconds (300), a TimeSpan, or a duration such as '90s', '5m', '1h30m'.", d.Location, d.Name);
        }
        if (step.Retries < 0)
            Report(DiagnosticIds.InvalidOption, $"retries must be 0 or more, got {step.Retries}.", "use -Retries 0 (no retry) or a positive count.", d.Location, d.Name);

        // Environment.
        if (o.Env is not null)
        {
            var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
            var secrets = new SortedDictionary<string, SecretReference>(StringComparer.Ordinal);
            foreach (DictionaryEntry e in o.Env)
            {
                var key = Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "";
                if (!EnvNameRegex().IsMatch(key))
                    Report(DiagnosticIds.InvalidOption, $"environment variable name '{key}' is not valid.", "use letters, digits and '_', not starting with a digit.", d.Location, d.Name);
                if (Unwrap(e.Value) is SecretReference secret)
                {
                    foreach (var problem in SecretProblems(secret))
                        Report(DiagnosticIds.InvalidSecret, $"the secret for environment variable '{key}' ({secret}) {problem.What}.", problem.Fix, d.Location, d.Name);
                    secrets[key] = secret;
                }
                else env[key] = Convert.ToString(Unwrap(e.Value), CultureInfo.InvariantCulture) ?? "";
            }
            if (env.Count > 0) step.Env = new ReadOnlyDictionary<string, string>(env);
            if (secrets.Count > 0) step.Secrets = new ReadOnlyDictionary<string, SecretReference>(secrets);
        }

        // Inputs and data edges.
        var inputs = new List<InputBinding>();
        if (isCommand)
        {
            BindCommandInputs(d, step, defByName, paramByName, inputs);
            if (o.Stdin is not null && defByName.TryGetValue(o.Stdin, out var stdinSource))
                inputs.Add(new InputBinding(StdinInput, BindingSource.Step, stdinSource.Name, InputMode.Path, null, true));
        }
        else BindScriptInputs(d, step, sig, outputTypes, defByName, paramByName, graphByStep, inputs, modes);
        step.Inputs = inputs;
        // Upstream names in first-seen order; the set keeps this linear for a step with thousands of inputs.
        // (The set is made at the second name: most steps have one upstream step or none.)
        var upstream = new List<string>();
        HashSet<string>? upstreamSet = null;
        bool AddUpstream(string name)
        {
            if (upstream.Count > 0)
            {
                upstreamSet ??= new HashSet<string>(upstream, StringComparer.OrdinalIgnoreCase);
                if (!upstreamSet.Add(name)) return false;
            }
            upstream.Add(name);
            return true;
        }
        foreach (var b in inputs)
            if (b.Source == BindingSource.Step && b.SourceName is not null)
            {
                var source = CanonicalName(b.SourceName, defByName);
                edges.Add(new AxlEdge(source, d.Name, EdgeKind.Data, b.Name));
                AddUpstream(source);
            }
        if (step.Stdin is not null)
        {
            if (!defByName.ContainsKey(step.Stdin)) Report(DiagnosticIds.UnknownDependency, $"-Stdin names '{step.Stdin}', which is not a step of this workflow.", $"use one of: {Names(_steps.Select(s => s.Name))}.", d.Location, d.Name);
        }
        foreach (var dep in step.DependsOn)
        {
            if (defByName.TryGetValue(dep, out var target))
            {
                if (AddUpstream(target.Name)) edges.Add(new AxlEdge(target.Name, d.Name, EdgeKind.Order, null));
            }
            else Report(DiagnosticIds.UnknownDependency, $"-DependsOn names '{dep}', which is not a step of this workflow.", $"use one of: {Names(_steps.Select(s => s.Name))}.", d.Location, d.Name);
        }
        step.Upstream = upstream;

        // Condition.
        if (o.When is not null)
        {
            try
            {
                step.Condition = ResolveCondition(ConditionParser.Parse(o.When), d, defByName, paramByName);
            }
            catch (ConditionSyntaxException ex)
            {
                Report(DiagnosticIds.InvalidCondition, $"condition '{o.When}' does not parse: {ex.Message}.", "write conditions like 'evaluate -gt 0.9' or '$Mode -eq \"full\" -and train -ne 0'.", d.Location, d.Name);
            }
        }
        return step;
    }

    private void BindScriptInputs(
        StepDefinition d, AxlStep step, StepSignature sig,
        List<(StepDefinition Def, string? Name, Type? Type)> outputTypes,
        Dictionary<string, StepDefinition> defByName, Dictionary<string, AxlParameter> paramByName,
        Dictionary<string, GraphCall> graphByStep, List<InputBinding> inputs, Dictionary<string, InputMode> modes)
    {
        graphByStep.TryGetValue(d.Name, out var call);
        if (call is not null)
            foreach (var arg in call.Arguments.Keys)
                if (sig.Parameters.All(p => !p.Name.Equals(arg, StringComparison.OrdinalIgnoreCase)))
                    Report(DiagnosticIds.GraphCall, $"the Graph call at {call.Location} passes '{arg}', which the step does not declare.", $"the step takes: {Names(sig.Parameters.Select(p => p.Name))}.", d.Location, d.Name);

        foreach (var p in sig.Parameters)
        {
            var mode = modes.TryGetValue(p.Name, out var pm) ? pm : step.InputMode;
            bool required = !p.HasDefault;
            if (call is not null)
            {
                if (call.Arguments.TryGetValue(p.Name, out var value))
                {
                    switch (value)
                    {
                        case AxlOutputRef r: inputs.Add(new InputBinding(p.Name, BindingSource.Step, r.Step, mode, p.TypeName, required)); break;
                        case AxlParameterRef pr: inputs.Add(new InputBinding(p.Name, BindingSource.Parameter, pr.Name, InputMode.Object, p.TypeName, required)); break;
                        default:
                            var constant = NormalizeValue(value);
                            if (constant is not null && !IsScalar(constant))
                                Report(DiagnosticIds.GraphCall, $"the Graph call passes a {value!.GetType().Name} to '{p.Name}'; only step outputs, parameters and literal strings, numbers and booleans can be wired.", "compute the value in a step and pass that step's output.", call.Location, d.Name);
                            inputs.Add(new InputBinding(p.Name, BindingSource.Constant, null, InputMode.Object, p.TypeName, required, constant));
                            break;
                    }
                }
                else if (p.HasDefault) inputs.Add(new InputBinding(p.Name, BindingSource.Default, null, mode, p.TypeName, false));
                else
                {
                    inputs.Add(new InputBinding(p.Name, BindingSource.Unbound, null, mode, p.TypeName, true));
                    Report(DiagnosticIds.UnboundInput, $"required parameter '{p.Name}' is not given in the Graph call at {call.Location}.", $"pass it: {d.Name} -{p.Name} $value, or give the parameter a default value.", d.Location, d.Name);
                }
                continue;
            }

            if (p.Name.Equals(ContextParameterName, StringComparison.OrdinalIgnoreCase))
            {
                inputs.Add(new InputBinding(p.Name, BindingSource.Context, null, InputMode.Object, p.TypeName, false));
                continue;
            }
            defByName.TryGetValue(p.Name, out var stepMatch);
            paramByName.TryGetValue(p.Name, out var paramMatch);
            if (stepMatch is not null && paramMatch is not null)
            {
                inputs.Add(new InputBinding(p.Name, BindingSource.Unbound, null, mode, p.TypeName, required));
                Report(DiagnosticIds.AmbiguousInput,
                    $"parameter '{p.Name}' is ambiguous: it matches both step '{stepMatch.Name}' ({stepMatch.Location}) and workflow parameter '{paramMatch.Name}' ({paramMatch.Location}).",
                    "rename the step or the workflow parameter, or wire it explicitly in a Graph block.", d.Location, d.Name);
                continue;
            }
            if (stepMatch is not null)
            {
                inputs.Add(new InputBinding(p.Name, BindingSource.Step, stepMatch.Name, mode, p.TypeName, required));
                continue;
            }
            if (paramMatch is not null)
            {
                inputs.Add(new InputBinding(p.Name, BindingSource.Parameter, paramMatch.Name, InputMode.Object, p.TypeName, required));
                continue;
            }
            if (p.IsTyped)
            {
                var candidates = outputTypes
                    .Where(t => !ReferenceEquals(t.Def, d) && t.Name is not null && Signatures.Compatible(p.TypeName, p.Type, t.Name, t.Type))
                    .Select(t => t.Def).ToList();
                if (candidates.Count == 1)
                {
                    inputs.Add(new InputBinding(p.Name, BindingSource.Step, candidates[0].Name, mode, p.TypeName, required));
                    continue;
                }
                if (candidates.Count > 1)
                {
                    inputs.Add(new InputBinding(p.Name, BindingSource.Unbound, null, mode, p.TypeName, required));
                    Report(DiagnosticIds.AmbiguousInput,
                        $"parameter '{p.Name}' of type [{p.TypeName}] is ambiguous: steps {string.Join(" and ", candidates.Select(c => $"'{c.Name}' ({c.Location})"))} all output a compatible type.",
                        $"name the parameter after the step it needs (for example ${candidates[0].Name}), or wire it in a Graph block.", d.Location, d.Name);
                    continue;
                }
            }
            if (p.HasDefault)
            {
                inputs.Add(new InputBinding(p.Name, BindingSource.Default, null, mode, p.TypeName, false));
                continue;
            }
            inputs.Add(new InputBinding(p.Name, BindingSource.Unbound, null, mode, p.TypeName, true));
            var stepNames = _steps.Where(s => !ReferenceEquals(s, d)).Select(s => s.Name).ToList();
            Report(DiagnosticIds.UnboundInput,
                $"required parameter '{p.Name}' matches no step and no workflow parameter{(p.IsTyped ? $", and no step declares an output of type [{p.TypeName}]" : "")}.",
                $"name it after a step ({Names(stepNames)}) or a workflow parameter ({Names(_parameters.Select(x => x.Name))}), give it a default value, or wire it in a Graph block.",
                d.Location, d.Name);
        }
    }

    private void BindCommandInputs(StepDefinition d, AxlStep step, Dictionary<string, StepDefinition> defByName, Dictionary<string, AxlParameter> paramByName, List<InputBinding> inputs)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var arg in step.Arguments)
        {
            foreach (Match m in PlaceholderRegex().Matches(arg))
            {
                if (!m.Groups[1].Success) continue; // {{ or }}
                var name = m.Groups[1].Value;
                if (name.Equals(OutputPlaceholder, StringComparison.OrdinalIgnoreCase) || !seen.Add(name)) continue;
                if (defByName.TryGetValue(name, out var src) && paramByName.ContainsKey(name))
                {
                    Report(DiagnosticIds.AmbiguousInput, $"placeholder '{{{name}}}' matches both a step and a workflow parameter.", "rename the step or the parameter.", d.Location, d.Name);
                    inputs.Add(new InputBinding(name, BindingSource.Unbound, null, InputMode.Path, null, true));
                }
                else if (src is not null) inputs.Add(new InputBinding(name, BindingSource.Step, src.Name, InputMode.Path, null, true));
                else if (paramByName.TryGetValue(name, out var p)) inputs.Add(new InputBinding(name, BindingSource.Parameter, p.Name, InputMode.Object, null, true));
                else
                {
                    inputs.Add(new InputBinding(name, BindingSource.Unbound, null, InputMode.Path, null, true));
                    Report(DiagnosticIds.UnknownPlaceholder, $"argument '{arg}' has placeholder '{{{name}}}', which is not a step, a workflow parameter or {{output}}.",
                        $"use one of: {Names(_steps.Select(s => s.Name).Concat(_parameters.Select(p => p.Name)))}; write '{{{{' and '}}}}' for literal braces.", d.Location, d.Name);
                }
            }
        }
    }

    private Condition ResolveCondition(Condition c, StepDefinition d, Dictionary<string, StepDefinition> defByName, Dictionary<string, AxlParameter> paramByName)
    {
        switch (c)
        {
            case ConditionRef r when r.IsParameter:
                if (!paramByName.TryGetValue(r.Name, out var p))
                    throw new ConditionSyntaxException($"'${r.Name}' is not a workflow parameter (parameters: {Names(paramByName.Keys)})");
                return new ConditionRef(p.Name, true);
            case ConditionRef r:
                if (defByName.TryGetValue(r.Name, out var s))
                {
                    if (paramByName.ContainsKey(r.Name))
                        throw new ConditionSyntaxException($"'{r.Name}' is both a step and a workflow parameter; write ${r.Name} for the parameter, or rename one of them");
                    return new ConditionRef(s.Name, false);
                }
                if (paramByName.TryGetValue(r.Name, out var p2)) return new ConditionRef(p2.Name, true);
                throw new ConditionSyntaxException($"'{r.Name}' is neither a step nor a workflow parameter; quote it if it is a string");
            case ConditionNot n: return new ConditionNot(ResolveCondition(n.Operand, d, defByName, paramByName));
            case ConditionBinary b: return new ConditionBinary(b.Operator, ResolveCondition(b.Left, d, defByName, paramByName), ResolveCondition(b.Right, d, defByName, paramByName));
            default: return c;
        }
    }

    /// <summary>-Modules values as the IR keeps them ('Name' or 'Name@1.2.3'); each bad one is reported.</summary>
    private IReadOnlyList<string> Modules(object[]? values, SourceLocation location, string? step)
    {
        if (values is null || values.Length == 0) return Array.Empty<string>();
        var result = new List<string>(values.Length);
        foreach (var v in values)
        {
            if (ModuleRequirement.TryParse(v, out var r, out var error)) result.Add(r!.ToString());
            else Report(DiagnosticIds.InvalidOption, $"-Modules: {error}.", "write 'Name', 'Name@1.2.3' or @{ ModuleName = 'Name'; RequiredVersion = '1.2.3' }.", location, step);
        }
        return result;
    }

    // The input modes of a step without -InputMode: never written to (only a hashtable -InputMode fills the map).
    private static readonly Dictionary<string, InputMode> NoModes = new(StringComparer.OrdinalIgnoreCase);

    private void Report(string id, string message, string? fix, SourceLocation location, string? step) =>
        _diagnostics.Add(new AxlDiagnostic(id, DiagnosticSeverity.Error, message, fix, location, Name, step));

    private static string CanonicalName(string name, Dictionary<string, StepDefinition> defByName) =>
        defByName.TryGetValue(name, out var d) ? d.Name : name;

    internal static string Names(IEnumerable<string> names)
    {
        var list = names.ToList();
        if (list.Count == 0) return "none defined";
        return list.Count <= 12 ? string.Join(", ", list) : string.Join(", ", list.Take(12)) + $", ... ({list.Count} in all)";
    }

    private static bool TryParseMode(string text, out InputMode mode) => TryParseName(text, out mode);

    /// <summary>An enum value by its name only: Enum.TryParse would also take "1" or "object,path".</summary>
    private static bool TryParseName<TEnum>(string text, out TEnum value) where TEnum : struct, Enum
    {
        var name = Enum.GetNames<TEnum>().FirstOrDefault(n => n.Equals(text.Trim(), StringComparison.OrdinalIgnoreCase));
        value = name is null ? default : Enum.Parse<TEnum>(name);
        return name is not null;
    }

    internal static string NormalizeSource(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n');

    /// <summary>What is wrong with a secret reference (empty when nothing is).</summary>
    public static IEnumerable<(string What, string Fix)> SecretProblems(SecretReference r)
    {
        if (r.KubernetesSecret is null && r.KubernetesKey is null && r.EnvironmentVariable is null && r.VaultSecret is null && r.Vault is null)
            yield return ("names no source", "give -Kubernetes <secret> -Key <key>, -EnvironmentVariable <name>, or -Vault <vault> -Name <secret>.");
        if (r.KubernetesSecret is not null || r.KubernetesKey is not null)
        {
            if (string.IsNullOrEmpty(r.KubernetesSecret) || !Dns1123.IsSubdomain(r.KubernetesSecret))
                yield return ($"names Kubernetes secret '{r.KubernetesSecret}', which is not a valid secret name", "use a DNS-1123 name (lower case letters, digits, '-' and '.', at most 253 characters) with -Kubernetes.");
            if (string.IsNullOrEmpty(r.KubernetesKey) || !SecretKeyRegex().IsMatch(r.KubernetesKey) || r.KubernetesKey.Length > 253)
                yield return ($"has Kubernetes key '{r.KubernetesKey}', which is not a valid secret key", "give -Key with letters, digits, '-', '_' and '.'.");
        }
        if (r.EnvironmentVariable is not null && !EnvNameRegex().IsMatch(r.EnvironmentVariable))
            yield return ($"reads environment variable '{r.EnvironmentVariable}', which is not a valid variable name", "use letters, digits and '_', not starting with a digit.");
        if (r.Vault is not null && r.VaultSecret is null)
            yield return ($"names vault '{r.Vault}' but no secret", "give the secret's name with -Name.");
        if (r.VaultSecret is not null && string.IsNullOrWhiteSpace(r.VaultSecret))
            yield return ("names an empty vault secret", "give the secret's name with -Name.");
        if (r.EnvironmentVariable is not null && r.VaultSecret is not null)
            yield return ("names two local sources (an environment variable and a vault secret)", "keep one of -EnvironmentVariable and -Vault/-Name.");
    }

    internal static object? Unwrap(object? value) => value is PSObject pso ? pso.BaseObject : value;

    /// <summary>Turns PowerShell values into plain ones (strings, longs, doubles, bools) so the IR and its hash are stable.</summary>
    internal static object? NormalizeValue(object? value)
    {
        value = Unwrap(value);
        return value switch
        {
            null => null,
            string or bool => value,
            byte or sbyte or short or ushort or int or uint or long => Convert.ToInt64(value, CultureInfo.InvariantCulture),
            ulong u => u <= long.MaxValue ? (long)u : (double)u,
            float or double => Convert.ToDouble(value, CultureInfo.InvariantCulture),
            decimal m => (double)m,
            _ => value,
        };
    }

    private static bool IsScalar(object value) => value is string or bool or long or double;

    /// <summary>Seconds from a number, a TimeSpan, "hh:mm:ss", or a Go-style duration ("90s", "5m", "1h30m", "2h").</summary>
    public static bool TryParseTimeout(object? value, out int seconds)
    {
        seconds = 0;
        switch (value)
        {
            case int i: seconds = i; return true;
            case byte or sbyte or short or ushort: seconds = Convert.ToInt32(value, CultureInfo.InvariantCulture); return true; // PowerShell reads 30s as [short]30
            case uint u when u <= int.MaxValue: seconds = (int)u; return true;
            case decimal dec when dec is > int.MinValue and < int.MaxValue: seconds = (int)Math.Ceiling(dec); return true;
            case long l when l is >= int.MinValue and <= int.MaxValue: seconds = (int)l; return true;
            case double d when d <= int.MaxValue: seconds = (int)Math.Ceiling(d); return true;
            case TimeSpan ts: seconds = (int)Math.Ceiling(ts.TotalSeconds); return true;
            case string s:
                s = s.Trim();
                if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) { seconds = n; return true; }
                var m = DurationRegex().Match(s);
                if (m.Success && m.Length > 0)
                {
                    double total = 0;
                    foreach (Capture cap in m.Groups["part"].Captures)
                    {
                        var pm = PartRegex().Match(cap.Value);
                        var num = double.Parse(pm.Groups[1].Value, CultureInfo.InvariantCulture);
                        total += pm.Groups[2].Value switch { "h" => num * 3600, "m" => num * 60, "ms" => num / 1000, _ => num };
                    }
                    seconds = (int)Math.Ceiling(total);
                    return true;
                }
                if (s.Contains(':') && TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var span)) { seconds = (int)Math.Ceiling(span.TotalSeconds); return true; }
                return false;
            default: return false;
        }
    }

    [GeneratedRegex(@"^(?<part>[0-9]+(\.[0-9]+)?(ms|h|m|s))+$")]
    private static partial Regex DurationRegex();
    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)$")]
    private static partial Regex PartRegex();
    [GeneratedRegex(@"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_-]*)\}")]
    internal static partial Regex PlaceholderRegex();
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    internal static partial Regex EnvNameRegex();
    [GeneratedRegex(@"^[-._a-zA-Z0-9]+$")]
    private static partial Regex SecretKeyRegex();
}
