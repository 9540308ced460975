using System.Collections.Concurrent;
using Axl.Delivery;
using Axl.Serialization;

namespace Axl.Hashing;

/// <summary>
/// The content hash of a code root: every entry a code archive of it would hold (the same collection, hence the same
/// ignore rules: the defaults, the root's .gitignore and .axlignore), each with its path, kind, mode and the SHA-256
/// of its bytes (or its link target). Changing, adding, removing or making executable any shipped file changes it;
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

    public static string Compute(string root, IEnumerable<string>? exclude = null)
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
                    CodeArchiveEntryKind.File => FileHash(f.FullPath),
                    CodeArchiveEntryKind.SymbolicLink => f.Entry.LinkTarget,
                    _ => null,
                },
            }).ToList();
        }
        catch (Exception ex) when (ex is AxlArchiveException or IOException or UnauthorizedAccessException)
        {
            tree = new Dictionary<string, object?> { ["error"] = ex.Message.Replace(root, "<code root>", StringComparison.Ordinal) };
        }
        return IrDocument.Hash(tree);
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
