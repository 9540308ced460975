using System.Runtime.InteropServices;
using Axl.Hashing;

namespace Axl.Runtime;

/// <summary>
/// The hash-addressed store of step outputs (-UseHash / --use-hash): <c>&lt;run root&gt;/store/&lt;sha256 hex&gt;</c>, one
/// file per distinct output, shared by every run under the root. A step's output file is a hard link to its entry, so
/// an output that many runs produce (an unchanged step) is on disk once, and each run folder still holds every file
/// its readers expect (Get-AxlArtifact, resume, the next step read it as before).
/// </summary>
/// <remarks>
/// An entry is kept while an output.meta.json of any run under the root (kept, running or resumable) names its hash;
/// <see cref="Sweep"/> removes the others. Adopting an output and sweeping take the store's lock, so a sweep never
/// removes an entry that a run is linking to. Where hard links cannot be made (another file system, one without
/// links), the output stays a file of its own and the store is skipped for it: correct, without the saving.
/// Entries are made read-only where the platform allows, since every run's link shares their bytes.
/// </remarks>
public static class ContentStore
{
    public const string DirectoryName = "store";
    private const string LockName = ".lock";

    public static string StoreDirectory(string runRoot) => Path.Combine(runRoot, DirectoryName);

    /// <summary>The entry of an output with the given SHA-256 id ("sha256:&lt;hex&gt;").</summary>
    public static string EntryPath(string runRoot, string sha256) => Path.Combine(StoreDirectory(runRoot), ContentHash.Hex(sha256));

    /// <summary>
    /// Puts a finished output into the store: links it in as the entry of its hash, or, when the entry exists (the same
    /// bytes from an earlier run), replaces the file with a link to the entry (renamed over it: readers see the old
    /// file or the link, never neither). Returns true when the file is now a link to the store.
    /// </summary>
    public static bool Adopt(string runRoot, string file, string sha256)
    {
        if (!sha256.StartsWith(Sha256Text.Prefix, StringComparison.Ordinal) || !File.Exists(file)) return false;
        var dir = StoreDirectory(runRoot);
        Directory.CreateDirectory(dir);
        var entry = EntryPath(runRoot, sha256);
        using var gate = Lock(dir);
        try
        {
            if (File.Exists(entry))
            {
                if (new FileInfo(entry).Length != new FileInfo(file).Length) return false; // not the same bytes: leave both
                var temp = file + ".axl-link-" + Guid.NewGuid().ToString("N")[..8];
                if (!TryLink(entry, temp)) return false;
                File.Move(temp, file, overwrite: true);
                return true;
            }
            if (!TryLink(file, entry)) return false;
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(entry, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // the store is a saving: the run's own file is complete either way
        }
    }

    /// <summary>The entries of the store that no run under the root refers to, and what they hold.</summary>
    public sealed record SweepResult(int Removed, long Bytes, int Kept);

    /// <summary>
    /// Removes the entries no output.meta.json under the root names (what removed runs left), under the store's lock.
    /// With <paramref name="dryRun"/>, only counts them.
    /// </summary>
    public static SweepResult Sweep(string runRoot, bool dryRun = false)
    {
        var dir = StoreDirectory(runRoot);
        if (!Directory.Exists(dir)) return new SweepResult(0, 0, 0);
        using var gate = Lock(dir);
        var used = ReferencedHashes(runRoot);
        int removed = 0, kept = 0;
        long bytes = 0;
        foreach (var entry in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(entry);
            if (name.Length != 64 || !name.All(Uri.IsHexDigit)) continue; // not an entry (the lock, a stray file)
            if (used.Contains(name)) { kept++; continue; }
            var size = new FileInfo(entry).Length;
            if (!dryRun)
            {
                try
                {
                    if (OperatingSystem.IsWindows()) File.SetAttributes(entry, FileAttributes.Normal);
                    File.Delete(entry);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { kept++; continue; }
            }
            removed++;
            bytes += size;
        }
        return new SweepResult(removed, bytes, kept);
    }

    /// <summary>The hashes every output.meta.json under the root names (&lt;workflow&gt;/&lt;run&gt;/&lt;step&gt;/).</summary>
    private static HashSet<string> ReferencedHashes(string runRoot)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var workflow in Directory.EnumerateDirectories(runRoot))
        {
            foreach (var run in Directory.EnumerateDirectories(workflow))
            {
                if (Path.GetFileName(run).StartsWith(RunRetention.RemovingPrefix, StringComparison.Ordinal)) continue; // being removed
                IEnumerable<string> metas;
                try { metas = Directory.EnumerateFiles(run, "*.meta.json", SearchOption.AllDirectories).ToList(); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { continue; }
                foreach (var meta in metas)
                {
                    try
                    {
                        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(meta));
                        if (doc.RootElement.TryGetProperty("sha256", out var sha) && sha.GetString() is { } s) used.Add(ContentHash.Hex(s));
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException) { }
                }
            }
        }
        return used;
    }

    /// <summary>The store's lock: adopting and sweeping exclude each other (and two sweeps), across processes.</summary>
    private static FileStream Lock(string dir)
    {
        var path = Path.Combine(dir, LockName);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(20); }
        }
    }

    private static bool TryLink(string existing, string link)
    {
        try
        {
            return OperatingSystem.IsWindows() ? CreateHardLink(link, existing, IntPtr.Zero) : Link(existing, link) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

    [DllImport("kernel32.dll", EntryPoint = "CreateHardLinkW", CharSet = CharSet.Unicode, SetLastError = true)]
    private static extern bool CreateHardLink(string fileName, string existingFileName, IntPtr securityAttributes);
}
