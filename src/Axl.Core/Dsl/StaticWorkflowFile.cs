using System.Management.Automation;
using System.Management.Automation.Language;
using Axl.Model;

namespace Axl.Dsl;

/// <summary>
/// A workflow file read without running it, for the commands that never run a step body in the process that loads
/// the file (<c>axl validate</c>, <c>compile</c>, <c>graph</c>, <c>step</c>, whose step host loads the file again): no
/// runspace is opened, which is most of such a command's start. Only a file whose top level has nothing to run that
/// could change what it defines or fail qualifies:
/// <list type="bullet">
/// <item>function definitions (none named like a DSL keyword, which would change what a block's commands are),</item>
/// <item>assignments of literal values to plain or <c>$script:</c> variables (not automatic or preference variables),</item>
/// <item><c>AxlWorkflow</c> commands with literal options whose blocks are static (<see cref="StaticWorkflowReader"/>).</item>
/// </list>
/// Anything else (a param block, <c>using</c>, <c>#requires</c>, any other command or expression, a parse error, a
/// definition the builder refuses) returns why, and the caller loads the file the usual way (<see cref="WorkflowLoader"/>),
/// which gives the same workflows (the equivalence tests load every example, golden and generated workflow both ways)
/// and the errors with their file and line. The step bodies of a workflow read here are not bound to the file's module:
/// they are for reading (IR, hashes, compiled code), not for running.
/// </summary>
public static partial class StaticWorkflowFile
{
    /// <summary>
    /// The workflows of <paramref name="path"/> (those named <paramref name="name"/>, when given), or null and
    /// <paramref name="why"/> when the file has to run. <paramref name="resolve"/> names the DSL keyword a command name
    /// is in a fresh Axl session (the aliases and names of the Axl cmdlets).
    /// </summary>
    /// <remarks>
    /// <paramref name="read"/>: how the file is parsed. <see cref="FileRead.Auto"/> parses a file with many <c>Step</c>
    /// lines in pieces on every core (<see cref="TryReadInPieces"/>), which gives the same workflows or nothing (then
    /// the file is parsed whole, as any other); <see cref="FileRead.Whole"/> parses it whole (a caller that needs the
    /// file's tree at once, as <c>axl step</c> does); <see cref="FileRead.Pieces"/> tries pieces whatever the size (tests).
    /// </remarks>
    public static IReadOnlyList<AxlWorkflow>? TryRead(string path, string? name, Func<string, DslKeyword> resolve, out string why, FileRead read = FileRead.Auto)
    {
        why = "";
        if (WorkflowLoader.ModeFromEnvironment() == WorkflowLoaderMode.Execute) { why = $"{WorkflowLoader.ModeVariable}=execute"; return null; }
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) { why = "no such file"; return null; }
        LastReadInPieces = 0;
        read = FromEnvironment(read);
        // The text is read once, for the pieces and for the whole parse after them when they give nothing.
        var t = Tokenless.Value;
        var text = t is null ? null : ReadScript(t, full);
        if (read != FileRead.Whole && t is not null && text is not null
            && TryReadInPieces(t, full, text, name, resolve, read == FileRead.Pieces ? 2 : PiecesFrom) is { } fast)
            return fast;
        ScriptBlockAst ast;
        ParseError[] errors;
        try { ast = Parse(t, full, text, out errors); }
        catch (ParseException) { why = "the file does not parse"; return null; }
        if (errors.Length > 0) { why = "the file does not parse"; return null; }
        var reason = Check(ast, resolve);
        if (reason is not null) { why = reason; return null; }
        return ReadWorkflows(ast, name, resolve, pieces: null, out why);
    }

    /// <summary>The workflows of a checked file tree (those named <paramref name="name"/>), or null and why.</summary>
    private static IReadOnlyList<AxlWorkflow>? ReadWorkflows(ScriptBlockAst ast, string? name, Func<string, DslKeyword> resolve, FilePieces? pieces, out string why)
    {
        why = "";
        var found = new List<AxlWorkflow>();
        try
        {
            foreach (var statement in ast.EndBlock!.Statements) // Check refused a file without one
            {
                if (statement is not PipelineAst { PipelineElements: [CommandAst command] }) continue; // functions, assignments
                var builder = ReadWorkflow(command, resolve, pieces, out var reason);
                if (builder is null) { why = reason!; return null; }
                found.Add(builder.Build());
            }
        }
        catch (AxlDslException ex)
        {
            // Running the file gives this error with the command's file and line: leave it to the loader.
            why = $"the definition is refused ({ex.Id})";
            return null;
        }
        if (found.Count == 0) { why = "the file defines no workflow"; return null; }
        if (name is null) return found;
        var match = found.Where(w => w.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (match.Count == 0) { why = $"no workflow named '{name}'"; return null; }
        return match;
    }

    /// <summary>
    /// The syntax tree of the whole file <paramref name="read"/> was read from by <see cref="TryRead"/> (the root its step
    /// bodies hang from); null for a workflow made any other way (its bodies are script blocks, or there are none).
    /// </summary>
    public static ScriptBlockAst? FileAst(AxlWorkflow read)
    {
        var bodies = read.Steps.Select(s => s.BodySource).Where(d => d is { HasBody: true }).ToList();
        if (bodies.Count == 0 || bodies.Any(d => !d!.ReadFromTree)) return null;
        Ast? node = bodies[0]!.BodyAst;
        while (node?.Parent is { } parent) node = parent;
        return node as ScriptBlockAst;
    }

    /// <summary>
    /// <see cref="Parser.ParseFile"/> without the list of every token it also returns: a 10,000-step file has a few
    /// hundred thousand tokens, which live (and are copied from generation to generation by the collector) until the
    /// parse ends, about a third of the parse. The same steps through the engine's own internal entry points (the
    /// script read as the engine reads a script file, DSC keywords scoped as ParseFile scopes them); where those are not
    /// there (another engine version), or where <paramref name="text"/> could not be read (<see cref="ReadScript"/>),
    /// ParseFile itself, which gives its own message for a file it cannot read.
    /// </summary>
    private static ScriptBlockAst Parse(TokenlessParse? t, string full, string? text, out ParseError[] errors) =>
        t is null || text is null ? Parser.ParseFile(full, out _, out errors) : ParseScoped(t, full, text, null, out errors);

    /// <summary>The file's text as the engine reads a script file, or null when it cannot be read so.</summary>
    private static string? ReadScript(TokenlessParse t, string full)
    {
        try { return ((ExternalScriptInfo)t.Script.Invoke(new object[] { full, full })).ScriptContents; }
        catch (Exception) { return null; }
    }

    /// <summary><see cref="ParseText"/> with the DSC keywords scoped as ParseFile scopes them, on this thread.</summary>
    private static ScriptBlockAst ParseScoped(TokenlessParse t, string full, string text, List<Token>? tokens, out ParseError[] errors)
    {
        DynamicKeyword.Push();
        try { return ParseText(t, full, text, tokens, out errors); }
        finally { DynamicKeyword.Pop(); }
    }

    /// <summary>
    /// <paramref name="text"/> parsed as the script <paramref name="full"/> (extents name that file), its tokens into
    /// <paramref name="tokens"/> when given. The caller has pushed the DSC keyword scope (<see cref="DynamicKeyword.Push"/>)
    /// on this thread.
    /// </summary>
    private static ScriptBlockAst ParseText(TokenlessParse t, string full, string text, List<Token>? tokens, out ParseError[] errors)
    {
        try { return t.Parse(full, text, tokens, out errors); }
        catch (ParseException) { throw; }
        catch (Exception ex) { throw new ParseException(ex.Message); } // as ParseInput reports what the parser throws
    }

    /// <summary><c>new Parser().Parse(fileName, input, tokens, out errors, ParseMode.Default)</c>, the engine's internal entry point.</summary>
    private delegate ScriptBlockAst ParseCall(string fileName, string input, List<Token>? tokens, out ParseError[] errors);

    private sealed record TokenlessParse(ParseCall Parse, System.Reflection.ConstructorInfo Script);

    private static readonly Lazy<TokenlessParse?> Tokenless = new(() =>
    {
        const System.Reflection.BindingFlags Internal = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        var mode = typeof(Parser).Assembly.GetType("System.Management.Automation.Language.ParseMode");
        var ctor = typeof(Parser).GetConstructor(Internal, Type.EmptyTypes);
        var script = typeof(ExternalScriptInfo).GetConstructor(Internal, new[] { typeof(string), typeof(string) });
        var parse = mode is null ? null : typeof(Parser).GetMethod("Parse", Internal, new[] { typeof(string), typeof(string), typeof(List<Token>), typeof(ParseError[]).MakeByRefType(), mode });
        if (ctor is null || parse is null || script is null || parse.ReturnType != typeof(ScriptBlockAst) || !Enum.IsDefined(mode!, "Default")
            || Enum.GetUnderlyingType(mode!) != typeof(int))
            return null;
        // A call made once, not through reflection: a 10,000-step file read in pieces parses 10,000 times, and each
        // reflective call checks and boxes its arguments again.
        try
        {
            var call = new System.Reflection.Emit.DynamicMethod("AxlParse", typeof(ScriptBlockAst),
                new[] { typeof(string), typeof(string), typeof(List<Token>), typeof(ParseError[]).MakeByRefType() }, typeof(StaticWorkflowFile).Module, skipVisibility: true);
            var il = call.GetILGenerator();
            il.Emit(System.Reflection.Emit.OpCodes.Newobj, ctor);
            il.Emit(System.Reflection.Emit.OpCodes.Ldarg_0);
            il.Emit(System.Reflection.Emit.OpCodes.Ldarg_1);
            il.Emit(System.Reflection.Emit.OpCodes.Ldarg_2);
            il.Emit(System.Reflection.Emit.OpCodes.Ldarg_3);
            il.Emit(System.Reflection.Emit.OpCodes.Ldc_I4, Convert.ToInt32(Enum.Parse(mode!, "Default"), System.Globalization.CultureInfo.InvariantCulture));
            il.Emit(System.Reflection.Emit.OpCodes.Callvirt, parse);
            il.Emit(System.Reflection.Emit.OpCodes.Ret);
            return new TokenlessParse(call.CreateDelegate<ParseCall>(), script);
        }
        catch (Exception) { return null; } // no code generation here: ParseFile itself
    });

    /// <summary>Why the file's top level must run, or null when it holds only what <see cref="StaticWorkflowFile"/> reads.</summary>
    private static string? Check(ScriptBlockAst ast, Func<string, DslKeyword> resolve)
    {
        if (ast.ParamBlock is not null || ast.BeginBlock is not null || ast.ProcessBlock is not null || ast.DynamicParamBlock is not null)
            return "the file has a param, begin, process or dynamicparam block";
        if (ast.UsingStatements is { Count: > 0 }) return "the file has using statements";
        if (ast.ScriptRequirements is not null) return "the file has #requires";
        if (ast.EndBlock is not { } end) return "the file is empty";
        if (end.Traps is { Count: > 0 }) return "the file has a trap statement";
        // A function named like a keyword changes what a block's Step or Parameter command runs.
        foreach (FunctionDefinitionAst f in ast.FindAll(a => a is FunctionDefinitionAst, searchNestedScriptBlocks: true))
            if (resolve(f.Name) != DslKeyword.Other) return $"line {f.Extent.StartLineNumber}: a function named like the {f.Name} keyword";
        foreach (var statement in end.Statements)
        {
            var ok = statement switch
            {
                FunctionDefinitionAst => true,
                AssignmentStatementAst a => IsLiteralAssignment(a),
                PipelineAst { PipelineElements: [CommandAst c] } p => !StaticWorkflowReader.IsBackground(p) && c.InvocationOperator == TokenKind.Unknown
                    && c.Redirections.Count == 0 && c.CommandElements[0] is StringConstantExpressionAst { StringConstantType: StringConstantType.BareWord } n
                    && resolve(n.Value) == DslKeyword.Workflow,
                _ => false,
            };
            if (!ok) return $"line {statement.Extent.StartLineNumber}: a top-level statement that runs";
        }
        return null;
    }

    private static bool IsLiteralAssignment(AssignmentStatementAst a) =>
        a.Operator == TokenKind.Equals
        && a.Left is VariableExpressionAst { Splatted: false } v
        && (v.VariablePath.IsUnqualified || v.VariablePath.IsScript)
        && !IsSpecial(v.VariablePath.IsScript ? v.VariablePath.UserPath[(v.VariablePath.UserPath.IndexOf(':') + 1)..] : v.VariablePath.UserPath)
        && a.Right is CommandExpressionAst { Redirections.Count: 0 } right
        && StaticWorkflowReader.TryLiteral(right.Expression, out _);

    // Variables an assignment to which can fail (read-only, constant, typed or validated) or changes how the engine runs.
    private static readonly HashSet<string> Automatic = new(StringComparer.OrdinalIgnoreCase)
    {
        "_", "?", "^", "$", "args", "ConsoleFileName", "EnabledExperimentalFeatures", "Error", "Event", "EventArgs", "EventSubscriber",
        "ExecutionContext", "false", "foreach", "HOME", "Host", "input", "IsCoreCLR", "IsLinux", "IsMacOS", "IsWindows", "LASTEXITCODE",
        "Matches", "MyInvocation", "NestedPromptLevel", "null", "OFS", "PID", "PROFILE", "PSBoundParameters", "PSCmdlet", "PSCommandPath",
        "PSCulture", "PSDebugContext", "PSEdition", "PSHOME", "PSItem", "PSScriptRoot", "PSSenderInfo", "PSUICulture", "PSVersionTable",
        "PWD", "Sender", "ShellId", "StackTrace", "switch", "this", "true", "MaximumHistoryCount", "PSDefaultParameterValues",
        "PSEmailServer", "PSModuleAutoLoadingPreference", "PSNativeCommandArgumentPassing", "PSSessionApplicationName",
        "PSSessionConfigurationName", "PSSessionOption", "PSStyle", "Transcript", "FormatEnumerationLimit", "OutputEncoding",
    };

    private static bool IsSpecial(string name) =>
        Automatic.Contains(name) || name.EndsWith("Preference", StringComparison.OrdinalIgnoreCase) || name.Contains(':') || name.Length == 0;

    private static readonly StaticWorkflowReader.ParamSpec[] WorkflowSpec =
    {
        new("Name", StaticWorkflowReader.Kind.String, 0, NotEmpty: true), new("Definition", StaticWorkflowReader.Kind.ScriptBlock, 1),
        new("Image", StaticWorkflowReader.Kind.String), new("IoHandler", StaticWorkflowReader.Kind.String),
        new("InputMode", StaticWorkflowReader.Kind.String, Set: new[] { nameof(InputMode.Object), nameof(InputMode.Path) }),
        new("ServiceAccount", StaticWorkflowReader.Kind.String), new("ArtifactStore", StaticWorkflowReader.Kind.String),
        new("CodeDelivery", StaticWorkflowReader.Kind.String, Set: new[] { nameof(CodeDelivery.Image), nameof(CodeDelivery.Artifact) }),
        new("Lockfile", StaticWorkflowReader.Kind.String), new("RequirementsFile", StaticWorkflowReader.Kind.String),
        new("Requirements", StaticWorkflowReader.Kind.Strings), new("Modules", StaticWorkflowReader.Kind.Objects),
        new("WarmEnv", StaticWorkflowReader.Kind.Switch), new("Description", StaticWorkflowReader.Kind.String),
        new("Labels", StaticWorkflowReader.Kind.Dictionary),
    };

    /// <summary>The AxlWorkflow command's definition, as the keyword builds it from a static block; null and why otherwise.</summary>
    private static WorkflowBuilder? ReadWorkflow(CommandAst command, Func<string, DslKeyword> resolve, FilePieces? pieces, out string? why)
    {
        // The definition stays an AST until its statements are read: binding it as a script block would create it twice.
        ScriptBlockAst? definition = null;
        why = StaticWorkflowReader.Bind(command, WorkflowSpec, ast => { definition = ast; return null!; }, out var bound);
        if (why is not null) return null;
        if (definition is null) { why = "no definition block"; return null; }
        string? S(string key) => StaticWorkflowReader.Get<string>(bound, key);
        var location = new SourceLocation(string.IsNullOrEmpty(command.Extent.File) ? null : command.Extent.File, command.Extent.StartLineNumber);
        var builder = new WorkflowBuilder((string)bound["Name"]!, new WorkflowDefinitionOptions
        {
            Image = S("Image"), IoHandler = S("IoHandler"), InputMode = S("InputMode"), ServiceAccount = S("ServiceAccount"),
            ArtifactStore = S("ArtifactStore"), CodeDelivery = S("CodeDelivery"), Lockfile = S("Lockfile"),
            RequirementsFile = S("RequirementsFile"), Requirements = StaticWorkflowReader.Get<string[]>(bound, "Requirements"),
            Modules = StaticWorkflowReader.Get<object[]>(bound, "Modules"), WarmEnv = bound.TryGetValue("WarmEnv", out var w) && w is true,
            Description = S("Description"), Labels = StaticWorkflowReader.Get<System.Collections.Hashtable>(bound, "Labels"),
        }, location);
        why = StaticWorkflowReader.TryRead(definition, bodyOf: null, builder, resolve, pieces);
        if (why is not null) { why = $"workflow '{builder.Name}' (line {command.Extent.StartLineNumber}): {why}"; return null; }
        return builder;
    }
}
