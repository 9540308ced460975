using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Reflection;
using Axl.Model;

namespace Axl.Dsl;

/// <summary>How a workflow file's AxlWorkflow blocks are turned into definitions (AXL_LOADER=auto|execute|static).</summary>
public enum WorkflowLoaderMode
{
    /// <summary>Read static blocks from the parsed script, run the others.</summary>
    Auto,
    /// <summary>Run every block (one Step or Parameter command at a time).</summary>
    Execute,
    /// <summary>Like Auto, but a block that must run is an error naming why (to find what keeps a file off the fast path).</summary>
    Static,
}

/// <summary>What one load did with each AxlWorkflow block: read statically or run, and why it had to run.</summary>
public sealed class WorkflowLoadReport
{
    private readonly List<string> _fallbacks = new();
    public WorkflowLoadReport(WorkflowLoaderMode mode) => Mode = mode;
    public WorkflowLoaderMode Mode { get; }
    public int StaticBlocks { get; private set; }
    public int ExecutedBlocks { get; private set; }
    /// <summary>"workflow 'name' (file:line): reason" for each block that ran because it is not static.</summary>
    public IReadOnlyList<string> Fallbacks => _fallbacks;

    public void Static() => StaticBlocks++;
    public void Executed(string? why)
    {
        ExecutedBlocks++;
        if (why is not null) _fallbacks.Add(why);
    }
}

/// <summary>Which DSL keyword a command name resolves to in the scope an AxlWorkflow block would run in.</summary>
public enum DslKeyword { Other, Step, Parameter, Workflow }

/// <summary>
/// The fast path of the workflow loader: an AxlWorkflow block whose statements are all static (<c>Step</c> and
/// <c>Parameter</c> commands with literal names and options and script-block bodies) is read from its AST instead of
/// being run one command at a time. The result is what running the block records: the same names, option values
/// (converted as the parameter binder converts them), locations (the command's file and first line), and step bodies
/// (the same script-block AST, bound to the module the block would have created them in). Anything else (variables,
/// expressions, splatting, loops, Graph blocks, helper calls, unknown or abbreviated parameters, a keyword that
/// resolves to something other than Axl's cmdlet) makes the whole block run as before.
/// </summary>
public static class StaticWorkflowReader
{
    /// <summary>
    /// Records the block's steps and parameters into <paramref name="builder"/> and returns null, or returns why the
    /// block is not static and leaves the builder untouched.
    /// </summary>
    public static string? TryRead(ScriptBlock definition, PSModuleInfo module, WorkflowBuilder builder, Func<string, DslKeyword> resolve) =>
        definition.Ast is not ScriptBlockAst block ? "the block has no syntax tree"
            // The same AST the engine would make the block from, bound to the module the block would have run in.
            : TryRead(block, body => module.NewBoundScriptBlock(body.GetScriptBlock()), builder, resolve);

    /// <summary>
    /// Reads a block's syntax tree; <paramref name="bodyOf"/> makes each step body's script block from its AST (bound to the
    /// file's module when the file runs); null keeps each body as its AST, made into an unbound script block only when
    /// asked for (a file read without running it: <see cref="StaticWorkflowFile"/>).
    /// </summary>
    public static string? TryRead(ScriptBlockAst block, Func<ScriptBlockAst, ScriptBlock>? bodyOf, WorkflowBuilder builder, Func<string, DslKeyword> resolve) =>
        TryRead(block, bodyOf, builder, resolve, pieces: null);

    /// <summary>
    /// <see cref="TryRead(ScriptBlockAst, Func{ScriptBlockAst, ScriptBlock}?, WorkflowBuilder, Func{string, DslKeyword})"/>
    /// of a block of a file read in pieces (<paramref name="pieces"/>, with <paramref name="bodyOf"/> null): the block's
    /// tree is the file's skeleton, whose blank runs of <c>Step</c> lines were read on their own; each run is taken, in
    /// its place, before the statement it ends at.
    /// </summary>
    internal static string? TryRead(ScriptBlockAst block, Func<ScriptBlockAst, ScriptBlock>? bodyOf, WorkflowBuilder builder, Func<string, DslKeyword> resolve, StaticWorkflowFile.FilePieces? pieces)
    {
        if (block.ParamBlock is not null || block.BeginBlock is not null || block.ProcessBlock is not null || block.DynamicParamBlock is not null)
            return Where(block, "the block has a param, begin, process or dynamicparam block");
        if (block.UsingStatements is { Count: > 0 }) return Where(block, "the block has using statements");
        if (block.Find(a => a is NamedBlockAst && a.Parent == block && a != block.EndBlock, searchNestedScriptBlocks: false) is { } other)
            return Where(other, "the block has a named block other than end");
        var end = block.EndBlock;
        var records = new List<Action>();
        if (end is not null)
        {
            if (end.Traps is { Count: > 0 }) return Where(end.Traps[0], "trap statement");
            var keywords = new Dictionary<string, DslKeyword>(StringComparer.OrdinalIgnoreCase);
            var previousEnd = block.Extent.StartOffset;
            foreach (var statement in end.Statements)
            {
                if (pieces?.RunBefore(statement.Extent.StartOffset, previousEnd) is { } run)
                    foreach (var step in run) records.Add(() => builder.AddStep(step));
                var why = ReadStatement(statement, bodyOf, builder, keywords, resolve, records, pieces);
                if (why is not null) return Where(statement, why);
                previousEnd = statement.Extent.EndOffset;
            }
        }
        foreach (var record in records) record();
        return null;
    }

    private static string Where(Ast ast, string why) => $"line {ast.Extent.StartLineNumber}: {why}";

    private static string? ReadStatement(StatementAst statement, Func<ScriptBlockAst, ScriptBlock>? bodyOf, WorkflowBuilder builder,
        Dictionary<string, DslKeyword> keywords, Func<string, DslKeyword> resolve, List<Action> records, StaticWorkflowFile.FilePieces? pieces)
    {
        var why = ReadCommand(statement, bodyOf, keywords, resolve, out var command, out var keyword, out var bound);
        if (why is not null) return why;
        var location = LocationOf(command!, lineBase: 0);
        var name = (string)bound["Name"]!;
        if (keyword == DslKeyword.Parameter)
        {
            bound.TryGetValue("Default", out var def);
            var type = Get<string>(bound, "Type");
            var description = Get<string>(bound, "Description");
            var sensitive = bound.TryGetValue("Sensitive", out var s) && s is true;
            records.Add(() => builder.AddParameter(name, def, type, description, location, sensitive));
            return null;
        }
        why = ReadStepOptions(bound, out var options);
        if (why is not null) return why;
        if (bound.TryGetValue("ScriptBlock", out var tree) && tree is ScriptBlockAst bodyAst)
        {
            if (pieces is not null)
            {
                var step = WorkflowBuilder.StepFromPiece(name, bodyAst, bodyAst.Extent.StartOffset, pieces.Tree, options, location);
                records.Add(() => builder.AddStep(step));
            }
            else records.Add(() => builder.AddStep(name, bodyAst, options, location));
        }
        else
        {
            var body = Get<ScriptBlock>(bound, "ScriptBlock");
            records.Add(() => builder.AddStep(name, body, options, location));
        }
        return null;
    }

    /// <summary>
    /// The step of a <c>Step</c> command parsed on its own, from a piece of its file that starts
    /// <paramref name="offsetBase"/> characters and <paramref name="lineBase"/> lines into the file; or why it is not a
    /// static step. <paramref name="resolve"/> may be called on several threads at once.
    /// </summary>
    internal static string? ReadPieceStep(StatementAst statement, Func<string, DslKeyword> resolve, Dictionary<string, DslKeyword> keywords,
        int offsetBase, int lineBase, WholeFileTree file, out StepDefinition? step)
    {
        step = null;
        var why = ReadCommand(statement, null, keywords, resolve, out var command, out var keyword, out var bound);
        if (why is not null) return why;
        if (keyword != DslKeyword.Step) return "not a Step command";
        why = ReadStepOptions(bound, out var options);
        if (why is not null) return why;
        var body = bound.TryGetValue("ScriptBlock", out var tree) ? tree as ScriptBlockAst : null;
        step = WorkflowBuilder.StepFromPiece((string)bound["Name"]!, body, offsetBase + (body?.Extent.StartOffset ?? 0), file, options, LocationOf(command!, lineBase));
        return null;
    }

    private static SourceLocation LocationOf(CommandAst command, int lineBase) =>
        new(string.IsNullOrEmpty(command.Extent.File) ? null : command.Extent.File, command.Extent.StartLineNumber + lineBase);

    /// <summary>A single Step or Parameter command with its parameters bound, or why the statement is not one.</summary>
    private static string? ReadCommand(StatementAst statement, Func<ScriptBlockAst, ScriptBlock>? bodyOf, Dictionary<string, DslKeyword> keywords,
        Func<string, DslKeyword> resolve, out CommandAst? command, out DslKeyword keyword, out Dictionary<string, object?> bound)
    {
        command = null;
        keyword = DslKeyword.Other;
        bound = null!;
        if (statement is not PipelineAst { PipelineElements.Count: 1 } pipeline || pipeline.PipelineElements[0] is not CommandAst c)
            return "not a single Step or Parameter command";
        command = c;
        if (IsBackground(pipeline)) return "a background job (&)";
        if (c.InvocationOperator != TokenKind.Unknown) return "a command invoked with & or .";
        if (c.Redirections.Count > 0) return "a redirection";
        if (c.CommandElements[0] is not StringConstantExpressionAst { StringConstantType: StringConstantType.BareWord } nameAst)
            return "a command name that is not a plain word";
        if (!keywords.TryGetValue(nameAst.Value, out keyword))
            keywords[nameAst.Value] = keyword = resolve(nameAst.Value);
        var spec = keyword switch { DslKeyword.Step => StepSpec, DslKeyword.Parameter => ParameterSpec, _ => null };
        if (spec is null) return $"'{nameAst.Value}' is not Step or Parameter";
        return Bind(c, spec, bodyOf, out bound);
    }

    /// <summary>The options of a bound Step command, or why binding it would fail.</summary>
    private static string? ReadStepOptions(Dictionary<string, object?> bound, out StepOptions options)
    {
        options = null!;
        // A value the Step command's binding refuses: running the block gives that error, with its file and line.
        if (bound.TryGetValue("InputMode", out var inputMode) && InputModeCheck.Check(inputMode) is not null)
            return "an -InputMode value that fails parameter binding";
        options = new StepOptions
        {
            IoHandler = Get<string>(bound, "IoHandler"), InputMode = Get<object>(bound, "InputMode"),
            Cpu = Get<string>(bound, "Cpu"), CpuLimit = Get<string>(bound, "CpuLimit"), Memory = Get<string>(bound, "Memory"), MemoryLimit = Get<string>(bound, "MemoryLimit"),
            Gpu = bound.TryGetValue("Gpu", out var gpu) ? (int)gpu! : null, GpuResource = Get<string>(bound, "GpuResource"),
            Retries = bound.TryGetValue("Retries", out var retries) ? (int)retries! : null, Timeout = Get<object>(bound, "Timeout"),
            Env = Get<IDictionary>(bound, "Env"), When = Get<string>(bound, "When"),
            Packages = Get<string[]>(bound, "Packages"), Modules = Get<object[]>(bound, "Modules"), Image = Get<string>(bound, "Image"),
            DependsOn = Get<string[]>(bound, "DependsOn"),
            CommandSpecified = bound.ContainsKey("Command"), Command = Get<string>(bound, "Command"),
            ArgumentList = Get<string[]>(bound, "ArgumentList"), Stdin = Get<string>(bound, "Stdin"),
            OutputType = Get<string>(bound, "OutputType"), Description = Get<string>(bound, "Description"),
        };
        return null;
    }

    internal static T? Get<T>(Dictionary<string, object?> bound, string name) where T : class =>
        bound.TryGetValue(name, out var v) ? (T?)v : null;

    private static readonly PropertyInfo? BackgroundProperty = typeof(PipelineAst).GetProperty("Background");
    internal static bool IsBackground(PipelineAst p) => BackgroundProperty?.GetValue(p) is true;

    // ---- Parameter binding, restricted to what is certain to bind as the engine binds it ----

    internal enum Kind { String, Strings, Object, Objects, Int, Dictionary, ScriptBlock, Switch }

    /// <summary>One parameter of a keyword as the binder sees it; <paramref name="Set"/> is a ValidateSet (matched ignoring case, the value kept as written).</summary>
    internal sealed record ParamSpec(string Name, Kind Kind, int Position = -1, bool NotEmpty = false, bool AllowEmpty = false, string[]? Set = null);

    private static readonly ParamSpec[] StepSpec =
    {
        new("Name", Kind.String, 0, NotEmpty: true), new("ScriptBlock", Kind.ScriptBlock, 1),
        new("IoHandler", Kind.String), new("InputMode", Kind.Object), new("Cpu", Kind.String), new("CpuLimit", Kind.String),
        new("Memory", Kind.String), new("MemoryLimit", Kind.String), new("Gpu", Kind.Int), new("GpuResource", Kind.String),
        new("Retries", Kind.Int), new("Timeout", Kind.Object), new("Env", Kind.Dictionary), new("When", Kind.String),
        new("Packages", Kind.Strings), new("Modules", Kind.Objects), new("Image", Kind.String), new("DependsOn", Kind.Strings),
        new("Command", Kind.String, AllowEmpty: true), new("ArgumentList", Kind.Strings, AllowEmpty: true), new("Stdin", Kind.String),
        new("OutputType", Kind.String), new("Description", Kind.String),
    };

    private static readonly ParamSpec[] ParameterSpec =
    {
        new("Name", Kind.String, 0, NotEmpty: true), new("Default", Kind.Object, 1),
        new("Type", Kind.String), new("Description", Kind.String), new("Sensitive", Kind.Switch),
    };

    internal static string? Bind(CommandAst command, ParamSpec[] spec, Func<ScriptBlockAst, ScriptBlock>? bodyOf, out Dictionary<string, object?> bound)
    {
        var named = bound = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        var positional = new List<ExpressionAst>();
        var elements = command.CommandElements;
        for (var i = 1; i < elements.Count; i++)
        {
            if (elements[i] is CommandParameterAst p)
            {
                // Exact names only: an abbreviation binds by prefix, which is left to the engine.
                var ps = spec.FirstOrDefault(s => s.Name.Equals(p.ParameterName, StringComparison.OrdinalIgnoreCase));
                if (ps is null) return $"parameter -{p.ParameterName} is not read statically";
                if (bound.ContainsKey(ps.Name)) return $"parameter -{ps.Name} is given twice";
                ExpressionAst? argument = p.Argument;
                if (ps.Kind == Kind.Switch)
                {
                    if (argument is null) { bound[ps.Name] = true; continue; }
                }
                else if (argument is null)
                {
                    if (i + 1 >= elements.Count || elements[i + 1] is not ExpressionAst next) return $"parameter -{ps.Name} has no value";
                    argument = next;
                    i++;
                }
                var why = Convert(ps, argument, bodyOf, out var value);
                if (why is not null) return why;
                bound[ps.Name] = value;
            }
            else if (elements[i] is ExpressionAst e)
            {
                if (e is VariableExpressionAst { Splatted: true }) return "splatting";
                positional.Add(e);
            }
            else return "an argument that is not an expression";
        }
        // Positional arguments go to the positional parameters not bound by name, in position order.
        var position = 0;
        foreach (var argument in positional)
        {
            var ps = NextPositional(spec, named, ref position);
            if (ps is null) return "more positional arguments than positional parameters";
            var why = Convert(ps, argument, bodyOf, out var value);
            if (why is not null) return why;
            bound[ps.Name] = value;
        }
        if (!bound.ContainsKey("Name")) return "no name";
        return null;
    }

    /// <summary>The positional parameter at or after position <paramref name="next"/> not bound by name (then past it), or null.</summary>
    private static ParamSpec? NextPositional(ParamSpec[] spec, Dictionary<string, object?> named, ref int next)
    {
        while (true)
        {
            ParamSpec? at = null;
            foreach (var s in spec)
                if (s.Position >= next && (at is null || s.Position < at.Position)) at = s;
            if (at is null) return null;
            next = at.Position + 1;
            if (!named.ContainsKey(at.Name)) return at;
        }
    }

    private static string? Convert(ParamSpec ps, ExpressionAst ast, Func<ScriptBlockAst, ScriptBlock>? bodyOf, out object? value)
    {
        value = null;
        if (ps.Kind == Kind.ScriptBlock)
        {
            if (ast is not ScriptBlockExpressionAst sbe) return $"-{ps.Name} is not a script block literal";
            value = bodyOf is null ? sbe.ScriptBlock : bodyOf(sbe.ScriptBlock);
            return null;
        }
        if (!TryLiteral(ast, out var literal)) return $"-{ps.Name} is not a literal";
        switch (ps.Kind)
        {
            case Kind.Switch:
                if (literal is not bool b) return $"-{ps.Name}: is not $true or $false";
                value = b;
                return null;
            case Kind.String:
                if (!TryString(literal, out var s)) return $"-{ps.Name} is not a single string or number";
                if (s.Length == 0 && ps.NotEmpty) return $"-{ps.Name} is empty";
                if (ps.Set is not null && !ps.Set.Contains(s, StringComparer.OrdinalIgnoreCase)) return $"-{ps.Name} is not one of {string.Join(", ", ps.Set)}";
                value = s;
                return null;
            case Kind.Int:
                if (literal is not (int or long or string or double or decimal or short or byte)) return $"-{ps.Name} is not a number";
                try { value = LanguagePrimitives.ConvertTo<int>(literal); }
                catch (PSInvalidCastException) { return $"-{ps.Name} is not an int"; }
                return null;
            case Kind.Strings:
                var items = literal is object[] arr ? arr : new[] { literal };
                if (items.Length == 0 && !ps.AllowEmpty) return $"-{ps.Name} is empty";
                var strings = new string[items.Length];
                for (var i = 0; i < items.Length; i++)
                {
                    if (!TryString(items[i], out var item)) return $"-{ps.Name} has an element that is not a string or number";
                    if (item.Length == 0 && !ps.AllowEmpty) return $"-{ps.Name} has an empty string";
                    strings[i] = item;
                }
                value = strings;
                return null;
            case Kind.Objects:
                if (literal is null) return $"-{ps.Name} is $null";
                var objects = literal is object[] o ? o : new[] { literal };
                if (objects.Length == 0 || objects.Any(x => x is null or object[])) return $"-{ps.Name} is empty or nested";
                value = objects;
                return null;
            case Kind.Dictionary:
                if (literal is not Hashtable h) return $"-{ps.Name} is not a hashtable literal";
                value = h;
                return null;
            default: // Object
                value = literal;
                return null;
        }
    }

    private static bool TryString(object? literal, out string text)
    {
        text = "";
        if (literal is string s) { text = s; return true; }
        if (literal is int or long or double or decimal or short or byte)
        {
            text = (string)LanguagePrimitives.ConvertTo(literal, typeof(string), CultureInfo.InvariantCulture);
            return true;
        }
        return false;
    }

    /// <summary>The value of a literal expression as the engine evaluates it: constants, $true/$false/$null, arrays and hashtables of them.</summary>
    internal static bool TryLiteral(ExpressionAst ast, out object? value)
    {
        value = null;
        switch (ast)
        {
            case StringConstantExpressionAst s: value = s.Value; return true;
            case ConstantExpressionAst c:
                // A number the engine passes with its own text ('1GB', '0x10', '1.50'), which a string parameter or a
                // message shows instead of the value: only numbers written as their value reads are taken here.
                if (c.Value is not (int or long or double or decimal or short or byte) ||
                    c.Extent.Text == (string)LanguagePrimitives.ConvertTo(c.Value, typeof(string), CultureInfo.InvariantCulture))
                {
                    value = c.Value;
                    return true;
                }
                return false;
            case VariableExpressionAst v when !v.Splatted && v.VariablePath.IsUnqualified:
                switch (v.VariablePath.UserPath.ToLowerInvariant())
                {
                    case "true": value = true; return true;
                    case "false": value = false; return true;
                    case "null": value = null; return true;
                    default: return false;
                }
            case ArrayLiteralAst a:
            {
                var items = new object?[a.Elements.Count];
                for (var i = 0; i < items.Length; i++)
                {
                    if (!TryLiteral(a.Elements[i], out var item) || item is object[]) return false;
                    items[i] = item;
                }
                value = items;
                return true;
            }
            case ArrayExpressionAst ae:
            {
                var statements = ae.SubExpression.Statements;
                if (ae.SubExpression.Traps is { Count: > 0 } || statements.Count > 1) return false;
                if (statements.Count == 0) { value = Array.Empty<object>(); return true; }
                if (!TryStatementLiteral(statements[0], out var inner)) return false;
                value = inner is object[] arr ? arr : new[] { inner }; // @($null) holds one $null
                return true;
            }
            case HashtableAst h:
            {
                var table = new Hashtable(h.KeyValuePairs.Count, StringComparer.OrdinalIgnoreCase); // as the engine makes a hashtable literal
                foreach (var kv in h.KeyValuePairs)
                {
                    if (kv.Item1 is not StringConstantExpressionAst key || table.ContainsKey(key.Value)) return false;
                    if (!TryStatementLiteral(kv.Item2, out var v2)) return false;
                    table.Add(key.Value, v2);
                }
                value = table;
                return true;
            }
            default: return false;
        }
    }

    private static bool TryStatementLiteral(StatementAst statement, out object? value)
    {
        value = null;
        return statement is PipelineAst { PipelineElements.Count: 1 } p && !IsBackground(p)
            && p.PipelineElements[0] is CommandExpressionAst { Redirections.Count: 0 } ce
            && TryLiteral(ce.Expression, out value);
    }
}
