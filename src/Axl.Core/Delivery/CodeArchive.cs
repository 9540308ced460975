using System.Formats.Tar;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Axl.Delivery;

public enum CodeArchiveEntryKind { File, Directory, SymbolicLink }

/// <summary>One entry of a code archive: its path relative to the root ('/'-separated), kind, size, normalized mode and link target.</summary>
public sealed record CodeArchiveEntry(string Path, CodeArchiveEntryKind Kind, long Size, int Mode, string? LinkTarget = null);

/// <summary>What goes into a code archive.</summary>
public sealed record CodeArchiveOptions
{
    /// <summary>
    /// Left out unless re-included: version control, Axl's local run roots, .NET build output, npm packages and Python's
    /// bytecode caches (an import writes them, so a step that imports a module of the code root would otherwise change
    /// the code's hash under the steps that follow it). They come first, so a '!' rule in .gitignore, .axlignore or <see cref="Ignore"/> can bring one back.
    /// </summary>
    public static IReadOnlyList<string> DefaultIgnorePatterns { get; } = new[] { ".git/", ".axl/", "bin/", "obj/", "node_modules/", "__pycache__/", "*.pyc" };

    /// <summary>The file at the root whose rules apply after .gitignore's (gitignore syntax).</summary>
    public const string IgnoreFileName = ".axlignore";

    public bool UseDefaultIgnores { get; init; } = true;
    /// <summary>Read the root's .gitignore (nested .gitignore files are not read).</summary>
    public bool UseGitIgnore { get; init; } = true;
    /// <summary>Read the root's .axlignore.</summary>
    public bool UseAxlIgnore { get; init; } = true;
    /// <summary>More patterns, applied last (so they win over the files).</summary>
    public IReadOnlyList<string> Ignore { get; init; } = Array.Empty<string>();
    /// <summary>Store symbolic links that stay inside the root as links (true), or refuse every link (false).</summary>
    public bool AllowSymbolicLinks { get; init; } = true;
    /// <summary>The largest total size of the files (the archive is built in memory); data belongs in artifacts, not in the code.</summary>
    public long MaxBytes { get; init; } = 1L << 30;
}

/// <summary>An archive made by <see cref="CodeArchive.Create"/>.</summary>
public sealed record CodeArchiveResult(string Sha256, long Size, int FileCount, IReadOnlyList<CodeArchiveEntry> Entries)
{
    /// <summary>The hex digits of <see cref="Sha256"/>.</summary>
    public string Hex => Sha256["sha256:".Length..];
    /// <summary>Files not archived because they are not regular files, directories or links (fifos, sockets, devices), with their kind.</summary>
    public IReadOnlyList<string> Skipped { get; init; } = Array.Empty<string>();
    /// <summary>The archive file, when written by <see cref="CodeArchive.CreateFile"/>.</summary>
    public string? File { get; init; }
}

/// <summary>
/// The most a code archive may unpack to: <see cref="MaxBytes"/> of file content in all (the sizes its headers declare)
/// and <see cref="MaxEntries"/> entries. A small gzip can expand a thousand-fold; these stop it before anything is
/// written. Defaults 1 GiB and 100,000; the runner takes --max-extract-bytes/--max-extract-entries (Invoke-AxlStep
/// -MaxExtractBytes/-MaxExtractEntries) or the environment variables <see cref="BytesVariable"/> and
/// <see cref="EntriesVariable"/>.
/// </summary>
public sealed record CodeArchiveLimits
{
    public const long DefaultMaxBytes = 1L << 30;
    public const int DefaultMaxEntries = 100_000;
    public const string BytesVariable = "AXL_MAX_EXTRACT_BYTES";
    public const string EntriesVariable = "AXL_MAX_EXTRACT_ENTRIES";

    public long MaxBytes { get; init; } = DefaultMaxBytes;
    public int MaxEntries { get; init; } = DefaultMaxEntries;

    public static CodeArchiveLimits Default { get; } = new();

    /// <summary>
    /// The values given, else the environment's (<see cref="BytesVariable"/>, <see cref="EntriesVariable"/>), else the
    /// defaults. A value that is not a positive whole number is an <see cref="AxlArchiveException"/> naming its source.
    /// </summary>
    public static CodeArchiveLimits Resolve(long? maxBytes = null, long? maxEntries = null)
    {
        long Pick(long? given, string variable, long fallback, long most)
        {
            string source;
            long value;
            if (given is { } g) { source = "the given limit"; value = g; }
            else if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text)
            {
                source = $"the environment variable {variable}";
                if (!long.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value))
                    throw new AxlArchiveException(null, $"{source} is '{text}', not a whole number. Fix: set it to a positive number (or unset it for the default {fallback}).");
            }
            else return fallback;
            if (value <= 0 || value > most)
                throw new AxlArchiveException(null, $"{source} is {value}; it must be between 1 and {most}.");
            return value;
        }
        return new CodeArchiveLimits
        {
            MaxBytes = Pick(maxBytes, BytesVariable, DefaultMaxBytes, long.MaxValue),
            MaxEntries = (int)Pick(maxEntries, EntriesVariable, DefaultMaxEntries, int.MaxValue),
        };
    }
}

/// <summary>What <see cref="CodeArchive.Extract"/> did.</summary>
public sealed record CodeArchiveExtraction(string Destination, string Sha256, int FileCount, int EntryCount, bool AlreadyPresent);

/// <summary>An archive that cannot be made or used safely: names the entry (when there is one) and why.</summary>
public class AxlArchiveException : Exception
{
    public AxlArchiveException(string? entry, string reason, Exception? inner = null)
        : base(entry is null ? reason : $"entry '{entry}': {reason}", inner)
    {
        Entry = entry;
        Reason = reason;
    }

    public string? Entry { get; }
    public string Reason { get; }
}

/// <summary>A code archive whose bytes do not hash to the SHA-256 pinned for it (when the workflow was compiled): tampered with, corrupted, or another archive.</summary>
public sealed class AxlArchiveHashMismatchException(string archive, string expected, string actual)
    : AxlArchiveException(null, $"the code archive {archive} is not the one pinned for this workflow: its bytes hash to {actual}, but {expected} was pinned when the workflow was compiled. Nothing was extracted. Fix: publish the code again (Publish-AxlWorkflowCode) and compile with its location; never edit an archive by hand.")
{
    public string Archive { get; } = archive;
    public string Expected { get; } = expected;
    public string Actual { get; } = actual;
}

/// <summary>
/// The workflow code as a deterministic tar.gz: the same files give the same bytes, hence the same SHA-256 and the
/// same object key, on any machine and in any run. Extraction refuses anything that could write outside its
/// destination.
/// </summary>
/// <remarks>
/// The tar: GNU format (long names as GNU long-name records), entries sorted ordinally by relative path with '/'
/// separators, directories as "dir/" (only those with archived content: empty directories are left out, as git does),
/// mtime 2000-01-01T00:00:00Z, uid and gid 0, empty user and group names, modes 0644 for files, 0755 for
/// executables (any x bit set; Windows has none, so files archived there are all 0644) and directories, 0777 for
/// links. File contents are stored byte for byte: line endings are whatever the checkout has. Fifos, sockets and
/// devices are skipped and reported. The gzip: <see cref="DeterministicGzip"/>.
/// </remarks>
public static partial class CodeArchive
{
    public static readonly DateTimeOffset EntryTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public const string DefaultPrefix = "axl";
    private const UnixFileMode FileMode = (UnixFileMode)0b110_100_100;       // 0644
    private const UnixFileMode ExecutableMode = (UnixFileMode)0b111_101_101; // 0755
    private const UnixFileMode LinkMode = (UnixFileMode)0b111_111_111;       // 0777
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>The object key of an archive: "&lt;prefix&gt;/code/&lt;hex&gt;.tar.gz" (prefix "axl" when null; none when empty).</summary>
    public static string Key(string sha256, string? prefix = DefaultPrefix)
    {
        var hex = sha256.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? sha256[7..] : sha256;
        if (!HexRegex().IsMatch(hex)) throw new ArgumentException($"'{sha256}' is not a SHA-256 (sha256:<64 hex digits>).", nameof(sha256));
        var p = (prefix ?? DefaultPrefix).Trim('/');
        return (p.Length == 0 ? "" : p + "/") + "code/" + hex.ToLowerInvariant() + ".tar.gz";
    }

    /// <summary>The SHA-256 a key made by <see cref="Key"/> names, or null for another key.</summary>
    public static string? HashFromKey(string key) => KeyRegex().Match(key) is { Success: true } m ? "sha256:" + m.Groups[1].Value : null;

    /// <summary>The rules <see cref="Create"/> applies under <paramref name="root"/>: the defaults, the root's .gitignore, its .axlignore, then the options' patterns.</summary>
    public static IgnoreRules IgnoreRulesFor(string root, CodeArchiveOptions? options = null)
    {
        options ??= new CodeArchiveOptions();
        var rules = new IgnoreRules();
        if (options.UseDefaultIgnores) rules.Add(CodeArchiveOptions.DefaultIgnorePatterns, "defaults");
        var gitignore = Path.Combine(root, ".gitignore");
        if (options.UseGitIgnore && System.IO.File.Exists(gitignore)) rules.Add(System.IO.File.ReadAllLines(gitignore), ".gitignore");
        var axlignore = Path.Combine(root, CodeArchiveOptions.IgnoreFileName);
        if (options.UseAxlIgnore && System.IO.File.Exists(axlignore)) rules.Add(System.IO.File.ReadAllLines(axlignore), CodeArchiveOptions.IgnoreFileName);
        if (options.Ignore.Count > 0) rules.Add(options.Ignore, "options");
        return rules;
    }

    /// <summary>Builds the archive of the code under <paramref name="root"/> and writes it to <paramref name="destination"/>.</summary>
    public static CodeArchiveResult Create(string root, Stream destination, CodeArchiveOptions? options = null) =>
        Create(root, destination, options, exclude: null);

    /// <summary>Builds the archive into a file, atomically (a temporary file beside it, then a rename). A file inside the root is not archived into itself.</summary>
    public static CodeArchiveResult CreateFile(string root, string archivePath, CodeArchiveOptions? options = null)
    {
        archivePath = Path.GetFullPath(archivePath);
        Directory.CreateDirectory(Path.GetDirectoryName(archivePath)!);
        var temp = archivePath + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            CodeArchiveResult result;
            using (var fs = new FileStream(temp, System.IO.FileMode.CreateNew, FileAccess.Write))
                result = Create(root, fs, options, exclude: new HashSet<string>(StringComparer.Ordinal) { archivePath, temp });
            System.IO.File.Move(temp, archivePath, overwrite: true);
            return result with { File = archivePath };
        }
        finally
        {
            if (System.IO.File.Exists(temp)) System.IO.File.Delete(temp);
        }
    }

    private static CodeArchiveResult Create(string root, Stream destination, CodeArchiveOptions? options, HashSet<string>? exclude)
    {
        var (found, skipped) = Collect(root, options, exclude);
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Gnu, leaveOpen: true))
            foreach (var (e, full) in found) WriteEntry(writer, e, full);
        var gz = DeterministicGzip.Compress(tar.GetBuffer().AsSpan(0, (int)tar.Length));
        destination.Write(gz);
        destination.Flush();
        var entries = found.Select(f => f.Entry).ToList();
        return new CodeArchiveResult(Hashing.Sha256Text.Of(gz), gz.LongLength,
            entries.Count(e => e.Kind == CodeArchiveEntryKind.File), entries) { Skipped = skipped };
    }

    /// <summary>
    /// The entries a code archive of <paramref name="root"/> holds, in archive order (ordinal by path), with the files
    /// they come from; and what was skipped. Shared by <see cref="Create(string, Stream, CodeArchiveOptions?)"/> and the
    /// image build context (Axl.Images), so both apply the same ignore rules, link checks and size limit.
    /// </summary>
    internal static (List<(CodeArchiveEntry Entry, string FullPath)> Found, List<string> Skipped) Collect(string root, CodeArchiveOptions? options, HashSet<string>? exclude = null)
    {
        options ??= new CodeArchiveOptions();
        root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"The code root '{root}' is not a directory.");
        var rules = IgnoreRulesFor(root, options);
        var found = new List<(CodeArchiveEntry Entry, string FullPath)>();
        var skipped = new List<string>();
        Walk(new DirectoryInfo(root), "", rules, options, found, skipped, exclude);
        found.Sort((a, b) => string.CompareOrdinal(a.Entry.Path, b.Entry.Path));
        var total = found.Sum(f => f.Entry.Size);
        if (total > options.MaxBytes)
        {
            var biggest = found.OrderByDescending(f => f.Entry.Size).Take(3).Select(f => $"{f.Entry.Path} ({f.Entry.Size} bytes)");
            throw new AxlArchiveException(null, $"the code under {root} is {total} bytes, more than the {options.MaxBytes} a code archive may hold. The biggest files: {string.Join(", ", biggest)}. Ignore data and build output in .axlignore.");
        }
        return (found, skipped);
    }

    /// <summary>
    /// Writes one entry with the fixed metadata of Axl's archives (see the remarks of <see cref="CodeArchive"/>):
    /// the content of a file from <paramref name="fullPath"/>, or from <paramref name="content"/> when given (generated
    /// files); <paramref name="prefix"/> ("dir/" or empty) goes before the entry's path.
    /// </summary>
    internal static void WriteEntry(TarWriter writer, CodeArchiveEntry e, string? fullPath, string prefix = "", byte[]? content = null)
    {
        var name = prefix + e.Path;
        var entry = new GnuTarEntry(e.Kind switch
        {
            CodeArchiveEntryKind.Directory => TarEntryType.Directory,
            CodeArchiveEntryKind.SymbolicLink => TarEntryType.SymbolicLink,
            _ => TarEntryType.RegularFile,
        }, e.Kind == CodeArchiveEntryKind.Directory ? name + "/" : name)
        {
            ModificationTime = EntryTime,
            Mode = (UnixFileMode)e.Mode,
            Uid = 0,
            Gid = 0,
            UserName = "",
            GroupName = "",
        };
        if (e.Kind == CodeArchiveEntryKind.SymbolicLink) entry.LinkName = e.LinkTarget!;
        if (e.Kind != CodeArchiveEntryKind.File)
        {
            writer.WriteEntry(entry);
            return;
        }
        if (content is not null)
        {
            entry.DataStream = new MemoryStream(content, writable: false);
            writer.WriteEntry(entry);
            return;
        }
        using var data = new FileStream(fullPath!, System.IO.FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (data.Length != e.Size) throw new AxlArchiveException(e.Path, "the file changed while the archive was being made; try again.");
        entry.DataStream = data;
        writer.WriteEntry(entry);
    }

    /// <summary>The normalized modes of archive entries: 0644 files, 0755 executables and directories, 0777 links.</summary>
    internal const int FileEntryMode = 0b110_100_100, ExecutableEntryMode = 0b111_101_101, LinkEntryMode = 0b111_111_111;

    /// <summary>Adds the archivable content of a directory; true when anything was added (empty directories are left out).</summary>
    private static bool Walk(DirectoryInfo dir, string relDir, IgnoreRules rules, CodeArchiveOptions options, List<(CodeArchiveEntry, string)> found, List<string> skipped, HashSet<string>? exclude)
    {
        bool any = false;
        foreach (var child in dir.EnumerateFileSystemInfos().OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            if (exclude?.Contains(child.FullName) == true) continue;
            var rel = relDir.Length == 0 ? child.Name : relDir + "/" + child.Name;
            var linkTarget = child.LinkTarget;
            bool isDir = linkTarget is null && child is DirectoryInfo;
            if (rules.IsIgnored(rel, isDir)) continue;
            if (child.Name.Contains('\\'))
                throw new AxlArchiveException(rel, "the name has a backslash, which Windows and Axl's extraction read as a path separator. Rename it or ignore it in .axlignore.");
            if (linkTarget is not null)
            {
                if (!options.AllowSymbolicLinks)
                    throw new AxlArchiveException(rel, $"is a symbolic link (to '{linkTarget}') and links are refused (AllowSymbolicLinks is off). Replace it with the file or ignore it in .axlignore.");
                if (Path.IsPathRooted(linkTarget) || linkTarget.StartsWith('/') || linkTarget.Contains('\\'))
                    throw new AxlArchiveException(rel, $"is a symbolic link to the absolute path '{linkTarget}'; only relative links that stay inside the code root can be archived. Make it relative, replace it with the file, or ignore it in .axlignore.");
                if (ResolveInside(relDir, linkTarget) is null)
                    throw new AxlArchiveException(rel, $"is a symbolic link to '{linkTarget}', outside the code root; the pods would not have its target. Replace it with the file or ignore it in .axlignore.");
                found.Add((new CodeArchiveEntry(rel, CodeArchiveEntryKind.SymbolicLink, 0, (int)LinkMode, linkTarget), child.FullName));
                any = true;
            }
            else if (isDir)
            {
                if (Walk((DirectoryInfo)child, rel, rules, options, found, skipped, exclude))
                {
                    found.Add((new CodeArchiveEntry(rel, CodeArchiveEntryKind.Directory, 0, (int)ExecutableMode), child.FullName));
                    any = true;
                }
            }
            else
            {
                var file = (FileInfo)child;
                if (SpecialKind(file) is { } kind)
                {
                    skipped.Add($"{rel} ({kind})");
                    continue;
                }
                var mode = !OperatingSystem.IsWindows() && (file.UnixFileMode & AnyExecute) != 0 ? ExecutableMode : FileMode;
                found.Add((new CodeArchiveEntry(rel, CodeArchiveEntryKind.File, file.Length, (int)mode), child.FullName));
                any = true;
            }
        }
        return any;
    }

    /// <summary>Null for a regular file; else what it is (fifo, character device, socket ...). Only empty files can be anything else.</summary>
    private static string? SpecialKind(FileInfo file)
    {
        if (OperatingSystem.IsWindows() || file.Length > 0) return null;
        try
        {
            // The framework's tar writer lstat()s the file; its entry type tells a fifo or a device from an empty file.
            using var ms = new MemoryStream();
            using (var w = new TarWriter(ms, TarEntryFormat.Gnu, leaveOpen: true)) w.WriteEntry(file.FullName, "probe");
            ms.Position = 0;
            using var r = new TarReader(ms);
            var type = r.GetNextEntry()?.EntryType;
            return type is TarEntryType.RegularFile or TarEntryType.V7RegularFile ? null : type?.ToString().ToLowerInvariant() ?? "unknown";
        }
        catch (IOException)
        {
            return "socket or other special file";
        }
    }

    /// <summary>The '/'-joined path a relative link target names from <paramref name="relDir"/>, or null when it leaves the root.</summary>
    private static string? ResolveInside(string relDir, string target)
    {
        var parts = new List<string>(relDir.Length == 0 ? Array.Empty<string>() : relDir.Split('/'));
        foreach (var seg in target.Split('/'))
        {
            if (seg.Length == 0 || seg == ".") continue;
            if (seg == "..")
            {
                if (parts.Count == 0) return null;
                parts.RemoveAt(parts.Count - 1);
            }
            else parts.Add(seg);
        }
        return string.Join('/', parts);
    }

    /// <summary>SHA-256 of a file as "sha256:&lt;hex&gt;".</summary>
    public static string HashFile(string path)
    {
        using var fs = System.IO.File.OpenRead(path);
        return Hashing.Sha256Text.Of(fs);
    }

    /// <summary>
    /// Extracts a code archive into <paramref name="destination"/>, safely: the whole archive is checked first, then
    /// extracted into a fresh directory beside the destination and renamed into place, so a refused or failed
    /// extraction leaves nothing behind. A destination that exists must be empty, or hold exactly the archive's
    /// content already (then nothing is written: <see cref="CodeArchiveExtraction.AlreadyPresent"/>).
    /// </summary>
    /// <exception cref="AxlArchiveException">
    /// The archive is missing or not a readable tar.gz, or an entry is refused: an absolute path, a '..' segment, a
    /// path resolving outside the destination, a path inside a link, the same path twice, a symbolic link whose target
    /// is absolute or leaves the destination or goes through another link, any hard link (Axl never writes them),
    /// a character or block device, a fifo, or another entry type (sparse, multi-volume ...); more entries or more
    /// bytes than <paramref name="limits"/> allow (checked from the headers, before anything is written); bytes that
    /// do not hash to <paramref name="expectedSha256"/> (<see cref="AxlArchiveHashMismatchException"/>, checked first).
    /// </exception>
    public static CodeArchiveExtraction Extract(string archivePath, string destination, string? expectedSha256 = null, CodeArchiveLimits? limits = null)
    {
        if (Directory.Exists(archivePath))
            throw new AxlArchiveException(null, $"the code archive {archivePath} is a directory, not a tar.gz file. (On Argo: the input artifact was unpacked by the executor; the code artifact needs 'archive: {{none: {{}}}}'.)");
        if (!System.IO.File.Exists(archivePath))
            throw new AxlArchiveException(null, $"the code archive {archivePath} does not exist.");
        destination = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination));
        limits ??= CodeArchiveLimits.Default;

        // One handle for the hash and both passes: the bytes hashed are the bytes extracted, even if the file is
        // replaced meanwhile.
        using var archive = OpenArchive(archivePath);
        var sha = Hashing.Sha256Text.Of(archive);
        if (expectedSha256 is not null && !string.Equals(expectedSha256.Trim(), sha, StringComparison.OrdinalIgnoreCase))
            throw new AxlArchiveHashMismatchException(archivePath, expectedSha256.Trim(), sha);

        // Pass 1: read every header and refuse the archive before anything is written.
        var plan = Plan(archive, archivePath, limits);
        var files = plan.Count(p => p.Value.Kind == CodeArchiveEntryKind.File);
        if (System.IO.File.Exists(destination))
            throw new AxlArchiveException(null, $"the destination {destination} is a file, not a directory.");

        // Pass 2: extract into a fresh directory on the destination's file system, then rename into place:
        // beside a new destination; inside an existing empty one (it may be a mount point); anywhere for the
        // comparison with a non-empty one.
        var id = Guid.NewGuid().ToString("N")[..8];
        bool exists = Directory.Exists(destination);
        bool empty = exists && !Directory.EnumerateFileSystemEntries(destination).Any();
        string temp;
        if (!exists)
        {
            var parent = Path.GetDirectoryName(destination) ?? throw new AxlArchiveException(null, $"cannot extract to the root directory {destination}.");
            Directory.CreateDirectory(parent);
            temp = Path.Combine(parent, "." + Path.GetFileName(destination) + ".axl-extract-" + id);
        }
        else temp = empty ? Path.Combine(destination, ".axl-extract-" + id) : Path.Combine(Path.GetTempPath(), "axl-extract-" + id);
        Directory.CreateDirectory(temp);
        try
        {
            WriteTree(archive, archivePath, plan, temp);
            if (!exists)
            {
                Directory.Move(temp, destination);
            }
            else if (empty)
            {
                try
                {
                    foreach (var child in new DirectoryInfo(temp).EnumerateFileSystemInfos().ToList())
                    {
                        var to = Path.Combine(destination, child.Name);
                        if (child is DirectoryInfo d && child.LinkTarget is null) d.MoveTo(to);
                        else System.IO.File.Move(child.FullName, to);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    foreach (var moved in new DirectoryInfo(destination).EnumerateFileSystemInfos().Where(c => c.FullName != temp))
                    {
                        try
                        {
                            if (moved is DirectoryInfo d && moved.LinkTarget is null) d.Delete(recursive: true);
                            else moved.Delete();
                        }
                        catch (IOException) { }
                    }
                    throw new AxlArchiveException(null, $"the extracted files cannot be moved into {destination}: {ex.Message}", ex);
                }
            }
            else
            {
                if (!SameTree(temp, destination))
                    throw new AxlArchiveException(null, $"the destination {destination} is not empty and does not hold this archive's content; extract into an empty or new directory.");
                return new CodeArchiveExtraction(destination, sha, files, plan.Count, AlreadyPresent: true);
            }
            return new CodeArchiveExtraction(destination, sha, files, plan.Count, AlreadyPresent: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AxlArchiveException(null, $"the code archive cannot be extracted to {destination}: {ex.Message}", ex);
        }
        finally
        {
            if (Directory.Exists(temp))
            {
                try { Directory.Delete(temp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }

    private sealed record PlannedEntry(CodeArchiveEntryKind Kind, bool Executable, string? LinkTarget, int Index);

    private static Dictionary<string, PlannedEntry> Plan(Stream archive, string archivePath, CodeArchiveLimits limits)
    {
        var plan = new Dictionary<string, PlannedEntry>(StringComparer.Ordinal);
        long bytes = 0;
        ReadEntries(archive, archivePath, (entry, index) =>
        {
            var name = entry.Name;
            // The caps first, from the headers alone: a bomb is refused before its content is read or written.
            if (index >= limits.MaxEntries)
                throw new AxlArchiveException(null, $"the code archive {archivePath} has more than {limits.MaxEntries} entries, the most Axl extracts. Fix: ignore generated or data files in .axlignore, or raise the limit (--max-extract-entries, AXL_MAX_EXTRACT_ENTRIES, Invoke-AxlStep -MaxExtractEntries) if the code really is that big.");
            if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)
            {
                bytes += entry.Length;
                if (entry.Length < 0 || bytes > limits.MaxBytes)
                    throw new AxlArchiveException(null, $"the code archive {archivePath} would extract to more than {limits.MaxBytes} bytes (at least {bytes} with the entry '{name}'), the most Axl extracts. Fix: keep data out of the code (artifacts, .axlignore), or raise the limit (--max-extract-bytes, AXL_MAX_EXTRACT_BYTES, Invoke-AxlStep -MaxExtractBytes) if the code really is that big.");
            }
            var rel = SafeRelativePath(name, entry.EntryType == TarEntryType.Directory);
            if (rel is null) return; // "./": the root itself
            var kind = entry.EntryType switch
            {
                TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile => CodeArchiveEntryKind.File,
                TarEntryType.Directory => CodeArchiveEntryKind.Directory,
                TarEntryType.SymbolicLink => CodeArchiveEntryKind.SymbolicLink,
                TarEntryType.HardLink => throw new AxlArchiveException(name, $"is a hard link (to '{entry.LinkName}'); code archives may not contain hard links."),
                TarEntryType.CharacterDevice => throw new AxlArchiveException(name, "is a character device; code archives may not contain devices."),
                TarEntryType.BlockDevice => throw new AxlArchiveException(name, "is a block device; code archives may not contain devices."),
                TarEntryType.Fifo => throw new AxlArchiveException(name, "is a fifo (named pipe); code archives may not contain fifos."),
                _ => throw new AxlArchiveException(name, $"has the unsupported entry type {entry.EntryType}."),
            };
            if (plan.TryGetValue(rel, out var earlier))
            {
                if (kind == CodeArchiveEntryKind.Directory && earlier.Kind == CodeArchiveEntryKind.Directory) return;
                throw new AxlArchiveException(name, "appears twice in the archive; a second entry could replace the first.");
            }
            string? target = null;
            if (kind == CodeArchiveEntryKind.SymbolicLink)
            {
                target = entry.LinkName;
                if (string.IsNullOrEmpty(target)) throw new AxlArchiveException(name, "is a symbolic link without a target.");
                if (target.StartsWith('/') || target.Contains('\\') || target.Contains('\0') || Path.IsPathRooted(target) || DriveRegex().IsMatch(target))
                    throw new AxlArchiveException(name, $"is a symbolic link to the absolute path '{target}'; links must stay inside the destination.");
                var dir = rel.Contains('/') ? rel[..rel.LastIndexOf('/')] : "";
                if (ResolveInside(dir, target) is null)
                    throw new AxlArchiveException(name, $"is a symbolic link to '{target}', which leaves the destination.");
            }
            plan[rel] = new PlannedEntry(kind, ((int)entry.Mode & (int)AnyExecute) != 0, target, index);
        });

        // Links are made last, so no entry is written through one; still, refuse paths that go through a link and
        // link targets that go through another link (a chain could otherwise resolve outside).
        var links = plan.Where(p => p.Value.Kind == CodeArchiveEntryKind.SymbolicLink).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        if (links.Count > 0)
        {
            foreach (var (path, entry) in plan)
            {
                if (FirstLinkAbove(path, links) is { } via)
                    throw new AxlArchiveException(path, $"is inside the symbolic link '{via}' of the same archive; writing it would follow the link.");
                if (entry.Kind == CodeArchiveEntryKind.SymbolicLink)
                {
                    var dir = path.Contains('/') ? path[..path.LastIndexOf('/')] : "";
                    var resolved = ResolveInside(dir, entry.LinkTarget!)!;
                    var through = FirstLinkAbove(resolved, links) ?? ThroughLinkLexically(dir, entry.LinkTarget!, links);
                    if (through is not null)
                        throw new AxlArchiveException(path, $"is a symbolic link to '{entry.LinkTarget}', which goes through the symbolic link '{through}'; chained links are refused.");
                }
            }
        }
        return plan;
    }

    /// <summary>The first proper ancestor of <paramref name="path"/> that is a link, or null.</summary>
    private static string? FirstLinkAbove(string path, HashSet<string> links)
    {
        for (int i = path.IndexOf('/'); i > 0; i = path.IndexOf('/', i + 1))
            if (links.Contains(path[..i])) return path[..i];
        return null;
    }

    /// <summary>A link the target's path walks through (before its last segment), evaluating segments in order.</summary>
    private static string? ThroughLinkLexically(string dir, string target, HashSet<string> links)
    {
        var parts = new List<string>(dir.Length == 0 ? Array.Empty<string>() : dir.Split('/'));
        var segs = target.Split('/').Where(s => s.Length > 0 && s != ".").ToArray();
        for (int i = 0; i < segs.Length; i++)
        {
            if (segs[i] == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); }
            else parts.Add(segs[i]);
            if (i < segs.Length - 1 && parts.Count > 0 && links.Contains(string.Join('/', parts))) return string.Join('/', parts);
        }
        return null;
    }

    /// <summary>The entry name as a safe relative path ('/'-separated, no '.', no empty segment), null for the root itself.</summary>
    private static string? SafeRelativePath(string name, bool isDirectory)
    {
        if (string.IsNullOrEmpty(name)) throw new AxlArchiveException(name, "has an empty name.");
        if (name.Contains('\0')) throw new AxlArchiveException(name, "has a NUL character in its name.");
        if (name.StartsWith('/') || name.StartsWith('\\') || DriveRegex().IsMatch(name) || Path.IsPathRooted(name))
            throw new AxlArchiveException(name, "has an absolute path; archive entries must be relative.");
        var segs = new List<string>();
        foreach (var seg in name.Split('/', '\\'))
        {
            if (seg.Length == 0 || seg == ".") continue;
            if (seg == "..") throw new AxlArchiveException(name, "has a '..' segment, which could write outside the destination.");
            segs.Add(seg);
        }
        if (segs.Count == 0)
        {
            if (isDirectory) return null;
            throw new AxlArchiveException(name, "names no file.");
        }
        return string.Join('/', segs);
    }

    private static FileStream OpenArchive(string archivePath)
    {
        try
        {
            return new FileStream(archivePath, System.IO.FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AxlArchiveException(null, $"the code archive {archivePath} cannot be read: {ex.Message}", ex);
        }
    }

    private static void ReadEntries(Stream archive, string archivePath, Action<TarEntry, int> onEntry)
    {
        string? current = null;
        try
        {
            archive.Position = 0;
            using var gz = new GZipStream(archive, CompressionMode.Decompress, leaveOpen: true);
            using var reader = new TarReader(gz);
            int index = 0;
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is TarEntryType.GlobalExtendedAttributes) continue;
                current = entry.Name;
                onEntry(entry, index++);
            }
        }
        catch (AxlArchiveException) { throw; }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException or IOException or ArgumentException or OverflowException)
        {
            throw new AxlArchiveException(null, $"the code archive {archivePath} is not a readable tar.gz{(current is null ? "" : $" (after the entry '{current}')")}: {ex.Message}", ex);
        }
    }

    private static void WriteTree(Stream archive, string archivePath, Dictionary<string, PlannedEntry> plan, string root)
    {
        var byIndex = plan.Where(p => p.Value.Kind != CodeArchiveEntryKind.SymbolicLink).ToDictionary(p => p.Value.Index, p => p.Key);
        string Full(string rel)
        {
            var full = Path.GetFullPath(Path.Combine(root, rel.Replace('/', Path.DirectorySeparatorChar)));
            if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new AxlArchiveException(rel, "resolves outside the destination.");
            return full;
        }
        ReadEntries(archive, archivePath, (entry, index) =>
        {
            if (!byIndex.TryGetValue(index, out var rel)) return;
            var p = plan[rel];
            var full = Full(rel);
            try
            {
                if (p.Kind == CodeArchiveEntryKind.Directory)
                {
                    Directory.CreateDirectory(full);
                    return;
                }
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                using (var fs = new FileStream(full, System.IO.FileMode.CreateNew, FileAccess.Write))
                {
                    entry.DataStream?.CopyTo(fs);
                    if (fs.Length != entry.Length)
                        throw new AxlArchiveException(entry.Name, $"is truncated: {fs.Length} of {entry.Length} bytes; the archive is incomplete.");
                }
                if (!OperatingSystem.IsWindows()) System.IO.File.SetUnixFileMode(full, p.Executable ? ExecutableMode : FileMode);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new AxlArchiveException(entry.Name, $"cannot be written: {ex.Message}", ex);
            }
        });
        foreach (var (rel, p) in plan.Where(x => x.Value.Kind == CodeArchiveEntryKind.SymbolicLink).OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            var full = Full(rel);
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                System.IO.File.CreateSymbolicLink(full, p.LinkTarget!);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new AxlArchiveException(rel, $"the symbolic link cannot be created: {ex.Message}", ex);
            }
        }
        foreach (var (rel, p) in plan.Where(x => x.Value.Kind == CodeArchiveEntryKind.Directory))
            if (!OperatingSystem.IsWindows()) System.IO.File.SetUnixFileMode(Full(rel), ExecutableMode);
    }

    /// <summary>True when both trees hold the same paths with the same kinds, file bytes and link targets.</summary>
    private static bool SameTree(string a, string b)
    {
        var x = Signature(a);
        var y = Signature(b);
        return x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && v == kv.Value);
    }

    private static Dictionary<string, string> Signature(string root)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        void Visit(DirectoryInfo dir, string rel)
        {
            foreach (var child in dir.EnumerateFileSystemInfos())
            {
                var path = rel.Length == 0 ? child.Name : rel + "/" + child.Name;
                if (child.LinkTarget is { } t) result[path] = "l:" + t;
                else if (child is DirectoryInfo d)
                {
                    result[path] = "d";
                    Visit(d, path);
                }
                else result[path] = "f:" + HashFile(child.FullName);
            }
        }
        Visit(new DirectoryInfo(root), "");
        return result;
    }

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex HexRegex();
    [GeneratedRegex("(?:^|/)code/([0-9a-f]{64})\\.tar\\.gz$")]
    private static partial Regex KeyRegex();
    [GeneratedRegex("^[A-Za-z]:")]
    private static partial Regex DriveRegex();
}
