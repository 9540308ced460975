using System.Collections.Concurrent;
using Axl.Delivery;
using Axl.Serialization;

namespace Axl.Hashing;

/// <summary>
/// The content hash of a code root: every entry a code archive of it would hold (the same collection, hence the same
/// ignore rules: the defaults, the root's .gitignore and .axlignore), each with its path, kind, mode and the SHA-256
/// of its bytes (or its link target; the code archive records the same file hashes), hashed with BLAKE3. Changing, adding, removing or making executable any shipped file changes it;
/// touching an ignored file does not. A root that cannot be archived (an absolute link, too big, unreadable) hashes
/// its reason instead, so the hash stays defined.
/// </summary>
/// <remarks>
/// File hashes are remembered for the life of the process by full path, size and last-write time, so that hashing
/// the same root again (each step host of a local run loads the workflow) costs a walk of the tree, not a read of
/// every file. A fresh process (the runner in a pod) reads every file.
/// </remarks>
public static class CodeTreeHasher
{
    private static readonly ConcurrentDictionary<string, (long Length, long Ticks, string Sha)> Files = new(StringComparer.Ordinal);

    public static string Compute(string root, IEnumerable<string>? exclude = null) => Compute(root, exclude, null);

    /// <summary>
    /// The code part of the steps' cache and resume keys: <see cref="Compute"/>, except that the workflow file counts
    /// without its <c>Step</c> commands. Each step's key holds its own definition already, so editing one step (the fix
    /// of a failed step, say) reruns that step and what reads its output, not every step; a top-level function, a
    /// variable, a dot-sourced helper or any other file of the code root still reruns them all.
    /// </summary>
    public static string ComputeForStepKeys(string root, string workflowFile, IEnumerable<string>? exclude = null, bool legacy = false)
    {
        var file = Path.GetFullPath(workflowFile);
        string? withoutSteps;
        try { withoutSteps = Sha256Text.Of(System.Text.Encoding.UTF8.GetBytes(WithoutStepCommands(File.ReadAllText(file)))); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { withoutSteps = null; }
        return Compute(root, exclude, withoutSteps is null ? null : new Dictionary<string, string>(StringComparer.Ordinal) { [file] = withoutSteps }, legacy);
    }

    /// <summary>
    /// The script's code outside its <c>Step</c> commands, as tokens: comments, blank lines and spacing are left out
    /// (a trailing newline or a reworded comment reruns nothing), line breaks between statements count once.
    /// </summary>
    internal static string WithoutStepCommands(string script)
    {
        var ast = System.Management.Automation.Language.Parser.ParseInput(script, out var tokens, out _);
        var steps = ast.FindAll(a => a is System.Management.Automation.Language.CommandAst c &&
                string.Equals(c.GetCommandName(), "Step", StringComparison.OrdinalIgnoreCase), searchNestedScriptBlocks: true)
            .Select(a => (Start: a.Extent.StartOffset, End: a.Extent.EndOffset)).OrderBy(e => e.Start).ToList();
        var sb = new System.Text.StringBuilder(script.Length);
        var newline = true; // no line break before the first token
        var step = 0; // tokens come in order: the first Step command that does not end before the token
        foreach (var t in tokens)
        {
            if (t.Kind == System.Management.Automation.Language.TokenKind.EndOfInput) continue;
            // Comments are not code, except #requires, which is.
            if (t.Kind == System.Management.Automation.Language.TokenKind.Comment && !t.Text.StartsWith("#requires", StringComparison.OrdinalIgnoreCase)) continue;
            var at = t.Extent.StartOffset;
            while (step < steps.Count && steps[step].End <= at) step++;
            if (steps.Skip(step).TakeWhile(e => e.Start <= at).Any(e => at < e.End)) continue;
            if (t.Kind is System.Management.Automation.Language.TokenKind.NewLine or System.Management.Automation.Language.TokenKind.LineContinuation)
            {
                if (!newline) sb.Append('\n');
                newline = true;
                continue;
            }
            if (!newline) sb.Append(' ');
            sb.Append(t.Text);
            newline = false;
        }
        return sb.ToString().TrimEnd('\n');
    }

    private static string Compute(string root, IEnumerable<string>? exclude, IReadOnlyDictionary<string, string>? contentOf, bool legacy = false)
    {
        root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        object tree;
        try
        {
            var excluded = exclude?.Select(e => Path.TrimEndingDirectorySeparator(Path.GetFullPath(e))).ToHashSet(StringComparer.Ordinal);
            var (found, _) = CodeArchive.Collect(root, options: null, excluded);
            tree = found.Select(f => (object?)new Dictionary<string, object?>
            {
                ["path"] = f.Entry.Path,
                ["kind"] = f.Entry.Kind.ToString().ToLowerInvariant(),
                ["mode"] = f.Entry.Mode,
                ["content"] = f.Entry.Kind switch
                {
                    CodeArchiveEntryKind.File => contentOf is not null && contentOf.TryGetValue(f.FullPath, out var given) ? given : FileHash(f.FullPath),
                    CodeArchiveEntryKind.SymbolicLink => f.Entry.LinkTarget,
                    _ => null,
                },
            }).ToList();
        }
        catch (Exception ex) when (ex is AxlArchiveException or IOException or UnauthorizedAccessException)
        {
            tree = new Dictionary<string, object?> { ["error"] = ex.Message.Replace(root, "<code root>", StringComparison.Ordinal) };
        }
        return IrDocument.Hash(tree, legacy);
    }

    private static string FileHash(string path)
    {
        var info = new FileInfo(path);
        var (length, ticks) = (info.Length, info.LastWriteTimeUtc.Ticks);
        if (Files.TryGetValue(path, out var known) && known.Length == length && known.Ticks == ticks) return known.Sha;
        var sha = CodeArchive.HashFile(path);
        Files[path] = (length, ticks, sha);
        return sha;
    }

    /// <summary>The workflow hash: the definition's alone when there is no code on disk, else both together.</summary>
    public static string Combine(string definitionHash, string? codeHash) =>
        codeHash is null ? definitionHash : IrDocument.Hash(new Dictionary<string, object?> { ["definition"] = definitionHash, ["code"] = codeHash });
}
