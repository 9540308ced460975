using Axl.Dsl;

namespace Axl.Runtime;

/// <summary>
/// How fix hints name what to do next: as PowerShell (the module's cmdlets, and the local jobs it starts, whose
/// messages the user reads in pwsh) or as `axl` command lines (the command run by hand). A host says which in
/// <see cref="RunOptions.Remedies"/>; every hint about resuming a run comes from <see cref="Remedies"/>.
/// </summary>
public enum RemedyStyle { PowerShell, Cli }

/// <summary>The fix hints that name a command, in the caller's <see cref="RemedyStyle"/>.</summary>
public static class Remedies
{
    /// <summary>The style's name as `axl run local --remedy-style` takes it ("powershell", "cli").</summary>
    public static string Name(RemedyStyle style) => style == RemedyStyle.Cli ? "cli" : "powershell";

    /// <summary>The style named by <paramref name="name"/> ("powershell" or "cli", any case), or null.</summary>
    public static RemedyStyle? Parse(string? name) => name?.ToLowerInvariant() switch
    {
        "powershell" or "pwsh" => RemedyStyle.PowerShell,
        "cli" or "axl" => RemedyStyle.Cli,
        _ => null,
    };

    /// <summary>The option that continues a run: "-Resume ID" or "--resume ID" (the option alone when the id is not known yet).</summary>
    public static string ResumeOption(RemedyStyle style, string? runId) =>
        (style == RemedyStyle.Cli ? "--resume" : "-Resume") + (runId is null ? "" : " " + runId);

    /// <summary>The option that names a new run: "-RunId" or "--run-id".</summary>
    public static string RunIdOption(RemedyStyle style) => style == RemedyStyle.Cli ? "--run-id" : "-RunId";

    /// <summary>
    /// The whole command that continues run <paramref name="runId"/> of the workflow at <paramref name="reference"/>
    /// ("file.axl.ps1" or "file.axl.ps1:Name"): `Invoke-AxlLocalRun 'file' -Resume ID -RunRoot 'root'` (through
    /// Get-AxlWorkflow -Name when the reference names a workflow) or `axl run local file:Name --resume ID --run-root root`.
    /// </summary>
    public static string ResumeCommand(RemedyStyle style, string reference, string runId, string? runRoot)
    {
        if (style == RemedyStyle.Cli)
            return $"axl run local {reference} --resume {runId}" + (runRoot is null ? "" : $" --run-root {runRoot}");
        var r = WorkflowReference.Parse(reference);
        var root = runRoot is null ? "" : $" -RunRoot {Quote(runRoot)}";
        return r.Name is null
            ? $"Invoke-AxlLocalRun {Quote(r.Path)} -Resume {runId}{root}"
            : $"Get-AxlWorkflow {Quote(r.Path)} -Name {Quote(r.Name)} | Invoke-AxlLocalRun -Resume {runId}{root}";
    }

    /// <summary>How to resume a run while giving a parameter again (a sensitive one, which the run record does not keep).</summary>
    public static string ResumeWithParameter(RemedyStyle style, string runId, string parameter) => style == RemedyStyle.Cli
        ? $"axl run local <workflow> --resume {runId} --param {parameter}=..."
        : $"Invoke-AxlLocalRun <workflow> -Resume {runId} -Parameters @{{ {parameter} = ... }}";

    /// <summary>A PowerShell string literal: bare when it needs no quotes, else single-quoted.</summary>
    private static string Quote(string text) =>
        text.Length > 0 && text.All(c => char.IsLetterOrDigit(c) || c is '/' or '\\' or '.' or '_' or '-' or ':') && !text.StartsWith('-') ? text
        : "'" + text.Replace("'", "''") + "'";
}
