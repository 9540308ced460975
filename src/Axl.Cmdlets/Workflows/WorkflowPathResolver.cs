using System.Management.Automation;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Cmdlets.Workflows;

/// <summary>Shared by every cmdlet that accepts workflow files: resolves paths (wildcards or literal, with an optional :Name) and loads them.</summary>
internal static class WorkflowPathResolver
{
    public static IEnumerable<AxlWorkflow> Load(PSCmdlet cmdlet, string input, bool literal, Action<string>? onFailure = null)
    {
        var reference = WorkflowReference.Parse(input, p => LooksLikeFile(cmdlet, p, literal));
        List<string> files;
        try
        {
            files = Resolve(cmdlet, reference.Path, literal);
        }
        catch (ItemNotFoundException)
        {
            files = new();
        }
        if (files.Count == 0)
        {
            cmdlet.WriteError(AxlErrors.FromLoad(new AxlLoadException("Axl.WorkflowFileNotFound",
                $"Workflow file '{reference.Path}' does not exist. Fix: check the path; relative paths start from the current location.", reference.Path, 0), input));
            onFailure?.Invoke(reference.Path);
            yield break;
        }
        foreach (var file in files)
        {
            IReadOnlyList<AxlWorkflow> loaded;
            try
            {
                loaded = WorkflowLoader.Load(cmdlet.SessionState, file, reference.Name);
            }
            catch (AxlLoadException ex)
            {
                cmdlet.WriteError(AxlErrors.FromLoad(ex, file));
                onFailure?.Invoke(file);
                continue;
            }
            foreach (var wf in loaded) yield return wf;
        }
    }

    private static List<string> Resolve(PSCmdlet cmdlet, string path, bool literal)
    {
        if (literal)
        {
            var full = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            return File.Exists(full) ? new List<string> { full } : new List<string>();
        }
        var resolved = cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out var provider);
        if (provider.Name != "FileSystem") return new List<string>();
        return resolved.Where(File.Exists).OrderBy(p => p, StringComparer.Ordinal).ToList();
    }

    private static bool LooksLikeFile(PSCmdlet cmdlet, string path, bool literal)
    {
        try
        {
            return Resolve(cmdlet, path, literal).Count > 0;
        }
        catch (Exception ex) when (ex is ItemNotFoundException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or PSArgumentException or NotSupportedException or ArgumentException)
        {
            return false;
        }
    }
}
