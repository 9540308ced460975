using System.Management.Automation;
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
/// Loads workflow scripts: runs the file in a fresh child scope of the given session (the DSL keywords record,
/// step bodies are not run) and returns the workflows it defines. This is the runner import contract too:
/// the runner re-loads the file by path and finds the step by name.
/// </summary>
public static class WorkflowLoader
{
    private static readonly ScriptBlock Runner = ScriptBlock.Create("param($__axlPath) & $__axlPath");

    public static IReadOnlyList<AxlWorkflow> Load(SessionState session, string path, string? name = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!System.IO.File.Exists(full))
            throw new AxlLoadException("Axl.WorkflowFileNotFound", $"Workflow file '{path}' does not exist. Fix: check the path (relative paths start from the current directory).", path, 0);

        // Parse first: a syntax error gets file and line without running anything.
        System.Management.Automation.Language.Parser.ParseFile(full, out _, out var errors);
        if (errors.Length > 0)
        {
            var e = errors[0];
            throw new AxlLoadException("Axl.WorkflowParseError",
                $"{full}:{e.Extent.StartLineNumber}: the workflow script does not parse: {e.Message}" + (errors.Length > 1 ? $" (and {errors.Length - 1} more parse errors)" : ""),
                full, e.Extent.StartLineNumber);
        }

        var found = new List<AxlWorkflow>();
        try
        {
            foreach (var item in session.InvokeCommand.InvokeScript(session, Runner, full))
                if (item?.BaseObject is AxlWorkflow wf) found.Add(wf);
        }
        catch (AxlLoadException) { throw; }
        catch (RuntimeException ex)
        {
            var inner = Unwrap(ex);
            var pos = (inner as IContainsErrorRecord)?.ErrorRecord?.InvocationInfo ?? ex.ErrorRecord?.InvocationInfo;
            var file = string.IsNullOrEmpty(pos?.ScriptName) ? full : pos!.ScriptName;
            var line = pos?.ScriptLineNumber ?? 0;
            var id = inner is AxlDslException dsl ? dsl.Id : "Axl.WorkflowScriptFailed";
            throw new AxlLoadException(id, $"{file}:{line}: loading the workflow failed: {inner.Message}", file, line, ex);
        }

        if (found.Count == 0)
            throw new AxlLoadException("Axl.NoWorkflowDefined", $"{full}: the script defines no workflow. Fix: define one with AxlWorkflow <name> {{ Step ... }}.", full, 0);
        if (name is null) return found;
        var match = found.Where(w => w.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (match.Count == 0)
            throw new AxlLoadException("Axl.WorkflowNotFound", $"{full}: no workflow named '{name}'; the file defines: {string.Join(", ", found.Select(w => w.Name))}.", full, 0);
        return match;
    }

    private static Exception Unwrap(Exception ex)
    {
        while (ex is RuntimeException { InnerException: { } inner } && (inner is AxlDslException or AxlLoadException or RuntimeException)) ex = inner;
        if (ex is ActionPreferenceStopException { ErrorRecord.Exception: { } e }) return e;
        if (ex is CmdletInvocationException { InnerException: { } ci }) return ci;
        return ex;
    }
}
