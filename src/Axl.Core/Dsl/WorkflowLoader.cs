using System.Management.Automation;
using System.Management.Automation.Language;
using Axl.Model;

namespace Axl.Dsl;

/// <summary>A workflow file that could not be loaded: missing, does not parse, throws, or defines no such workflow.</summary>
public sealed class AxlLoadException : Exception
{
    public AxlLoadException(string id, string message, string? file, int line, Exception? inner = null) : base(message, inner)
    {
        Id = id;
        File = file;
        Line = line;
    }

    public string Id { get; }
    public string? File { get; }
    public int Line { get; }
}

/// <summary>
/// Loads workflow scripts: runs the file (the DSL keywords record, step bodies are not run) and returns the workflows
/// it defines. This is the runner import contract too: the runner re-loads the file by path and finds the step by name.
/// <para>
/// The file runs dot-sourced in a module of its own (a dynamic module, like a .psm1 without exports), so what its top
/// level defines (functions, <c>$script:</c> and plain variables, dot-sourced helpers, <c>Import-Module</c> and
/// <c>using module</c>) stays in that module's scope; the step bodies, literal script blocks of the file, are bound to
/// the module and see all of it when they run, in every host. The caller's variables, functions and modules are not
/// changed (even <c>$global:</c> writes stay in the module's own global scope), and its location is restored.
/// </para>
/// <para>
/// The file's top level always runs; an <c>AxlWorkflow</c> block of static <c>Step</c> and <c>Parameter</c> commands is
/// read from its AST by the keyword (<see cref="StaticWorkflowReader"/>) instead of run one command at a time, with the
/// same result. <see cref="ModeVariable"/> (AXL_LOADER) chooses: auto (the default), execute (run every block) or
/// static (a block that must run is an error saying why).
/// </para>
/// </summary>
public static class WorkflowLoader
{
    private static readonly ScriptBlock Runner = ScriptBlock.Create("param($__axlPath) . $__axlPath");

    /// <summary>The environment variable that chooses the loader mode: auto (the default), execute or static.</summary>
    public const string ModeVariable = "AXL_LOADER";

    [ThreadStatic] private static WorkflowLoadReport? _current;

    /// <summary>The mode AXL_LOADER asks for; Auto when it is unset or not a mode's name.</summary>
    public static WorkflowLoaderMode ModeFromEnvironment() =>
        Enum.TryParse<WorkflowLoaderMode>(Environment.GetEnvironmentVariable(ModeVariable), ignoreCase: true, out var m) && Enum.IsDefined(m) ? m : WorkflowLoaderMode.Auto;

    /// <summary>
    /// The load running on this thread, for the AxlWorkflow keyword: null outside a load (a block typed at a prompt or
    /// dot-sourced by hand always runs), otherwise the mode and the record of what each block did.
    /// </summary>
    public static WorkflowLoadReport? CurrentLoad => _current;

    public static IReadOnlyList<AxlWorkflow> Load(SessionState session, string path, string? name = null) =>
        Load(session, path, name, ModeFromEnvironment(), out _);

    /// <summary>Loads with an explicit <paramref name="mode"/> and reports which blocks were read statically and which ran (and why).</summary>
    public static IReadOnlyList<AxlWorkflow> Load(SessionState session, string path, string? name, WorkflowLoaderMode mode, out WorkflowLoadReport report)
    {
        report = new WorkflowLoadReport(mode);
        var full = System.IO.Path.GetFullPath(path);
        if (!System.IO.File.Exists(full))
            throw new AxlLoadException("Axl.WorkflowFileNotFound", $"Workflow file '{path}' does not exist. Fix: check the path (relative paths start from the current directory).", path, 0);


        var found = new List<AxlWorkflow>();
        var location = session.Path.CurrentLocation;
        var outer = _current;
        _current = report;
        try
        {
            // The file's own scope: a new module whose global scope is its own (writes stay in it, reads see the caller's).
            var fileScope = new PSModuleInfo(linkToGlobal: false).NewBoundScriptBlock(Runner);
            foreach (var item in session.InvokeCommand.InvokeScript(useLocalScope: false, fileScope, input: null, full))
                if (item?.BaseObject is AxlWorkflow wf) found.Add(wf);
        }
        catch (AxlLoadException) { throw; }
        catch (RuntimeException ex) when (ParseErrors(ex, full) is { Length: > 0 } errors)
        {
            // PowerShell parses the whole file before it runs any of it: a syntax error gets file and line, nothing ran.
            // (Parsing it here first as well would parse a 10,000-step file twice.)
            var e = errors[0];
            throw new AxlLoadException("Axl.WorkflowParseError",
                $"{full}:{e.Extent.StartLineNumber}: the workflow script does not parse: {e.Message}" + (errors.Length > 1 ? $" (and {errors.Length - 1} more parse errors)" : ""),
                full, e.Extent.StartLineNumber, ex);
        }
        catch (RuntimeException ex)
        {
            var inner = Unwrap(ex);
            var pos = Innermost(ex);
            var file = string.IsNullOrEmpty(pos?.ScriptName) ? full : pos!.ScriptName;
            var line = pos?.ScriptLineNumber ?? 0;
            var id = inner is AxlDslException dsl ? dsl.Id : "Axl.WorkflowScriptFailed";
            throw new AxlLoadException(id, $"{file}:{line}: loading the workflow failed: {inner.Message}", file, line, ex);
        }
        finally
        {
            _current = outer;
            // A Set-Location (or Push-Location) at the top of the file is the file's business, not the caller's.
            if (!string.Equals(session.Path.CurrentLocation.Path, location.Path, StringComparison.Ordinal))
                session.Path.SetLocation(location.Path);
        }

        if (found.Count == 0)
            throw new AxlLoadException("Axl.NoWorkflowDefined", $"{full}: the script defines no workflow. Fix: define one with AxlWorkflow <name> {{ Step ... }}.", full, 0);
        if (name is null) return found;
        var match = found.Where(w => w.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (match.Count == 0)
            throw new AxlLoadException("Axl.WorkflowNotFound", $"{full}: no workflow named '{name}'; the file defines: {string.Join(", ", found.Select(w => w.Name))}.", full, 0);
        return match;
    }

    /// <summary>
    /// The file module <see cref="Load"/> of its file would leave, for a workflow <see cref="StaticWorkflowFile"/> read
    /// (null for any other: its steps hold no syntax tree of the file): a step body bound to it
    /// (<c>module.NewBoundScriptBlock(step.Body)</c>, as the AxlWorkflow keyword binds a static block's bodies) sees what it
    /// sees after a load, without the file being run again. Such a file's top level holds only function definitions,
    /// literal assignments and static AxlWorkflow blocks, and reading a static block defines nothing in the module; so
    /// the definitions and assignments alone (the file's own syntax nodes, with its file and lines) run, dot-sourced by
    /// the same <see cref="Runner"/> in a new module the same way, which leaves the same variables in its scope
    /// ($__axlPath, the file's path, with the runner's automatic ones). Call it with the runspace as the thread's default.
    /// </summary>
    public static PSModuleInfo? ModuleOfRead(CommandInvocationIntrinsics invoke, AxlWorkflow read)
    {
        if (StaticWorkflowFile.FileAst(read) is not { EndBlock: { } end } file || string.IsNullOrEmpty(file.Extent.File)) return null;
        var kept = end.Statements.Where(s => s is FunctionDefinitionAst or AssignmentStatementAst).Select(s => (StatementAst)s.Copy()).ToList();
        var top = new ScriptBlockAst(file.Extent, paramBlock: null, new StatementBlockAst(end.Extent, kept, traps: null), isFilter: false).GetScriptBlock();
        var module = new PSModuleInfo(linkToGlobal: false);
        invoke.InvokeScript(useLocalScope: false, module.NewBoundScriptBlock(Runner), input: null, top);
        module.SessionState.PSVariable.Set("__axlPath", System.IO.Path.GetFullPath(file.Extent.File));
        return module;
    }

    /// <summary>
    /// Where the innermost command that failed was called: the Step command whose parameter did not bind (line of the
    /// Step), not the AxlWorkflow command around it.
    /// </summary>
    /// <summary>
    /// The parse errors of the workflow file <paramref name="full"/> when running it stopped at its syntax; null otherwise
    /// (also for a syntax error in another script it runs or in text it turns into a script block: those ran it).
    /// </summary>
    private static System.Management.Automation.Language.ParseError[]? ParseErrors(Exception ex, string full)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
            if (e is ParseException { Errors: { Length: > 0 } errors }
                && errors[0].Extent.File is { Length: > 0 } file && string.Equals(Path.GetFullPath(file), full, StringComparison.Ordinal))
                return errors;
        return null;
    }

        private static InvocationInfo? Innermost(Exception ex)
    {
        InvocationInfo? pos = null;
        for (Exception? e = ex; e is not null; e = e.InnerException)
            if ((e as IContainsErrorRecord)?.ErrorRecord?.InvocationInfo is { ScriptLineNumber: > 0 } info) pos = info;
        return pos;
    }

    private static Exception Unwrap(Exception ex)
    {
        while (ex is RuntimeException { InnerException: { } inner } && (inner is AxlDslException or AxlLoadException or RuntimeException)) ex = inner;
        if (ex is ActionPreferenceStopException { ErrorRecord.Exception: { } e }) return e;
        if (ex is CmdletInvocationException { InnerException: { } ci }) return ci;
        return ex;
    }
}
