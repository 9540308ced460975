using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Axl.Delivery;

namespace Axl.Core.Tests.Delivery;

/// <summary>Making code archives: the same files give the same bytes; ignore rules; links; what the tar holds.</summary>
public sealed class CodeArchiveTests : IDisposable
{
    private readonly List<TempTree> _trees = new();

    public void Dispose()
    {
        foreach (var t in _trees) t.Dispose();
    }

    private TempTree Tree()
    {
        var t = new TempTree();
        _trees.Add(t);
        return t;
    }

    private static (byte[] Bytes, CodeArchiveResult Result) Archive(string root, CodeArchiveOptions? options = null)
    {
        using var ms = new MemoryStream();
        var result = CodeArchive.Create(root, ms, options);
        return (ms.ToArray(), result);
    }

    private static readonly (string Path, string Content, bool Executable)[] Files =
    {
        ("flow.axl.ps1", "AxlWorkflow w { Step a { 1 } }\n", false),
        ("lib/helpers.ps1", "function Get-Thing { 42 }\n", false),
        ("lib/deep/data.csv", "a,b\n1,2\n", false),
        ("scripts/run.sh", "#!/bin/sh\necho hi\n", true),
        ("README.md", "# code\n", false),
        ("a-b.txt", "sorts before a/ in ordinal order\n", false),
    };

    /// <summary>The same content, written in another order, with other times and other (non-executable) permission bits.</summary>
    private TempTree Populate(bool reversed)
    {
        var t = Tree();
        var files = reversed ? Files.Reverse().ToArray() : Files;
        foreach (var (path, content, exec) in files)
        {
            var mode = reversed
                ? exec ? (UnixFileMode)0b111_000_000 : (UnixFileMode)0b110_000_000   // 0700 / 0600
                : exec ? TempTree.Rwx : (UnixFileMode)0b110_110_100;                  // 0755 / 0664
            t.Write(path, content, mode, reversed ? new DateTime(1999, 5, 5, 0, 0, 0, DateTimeKind.Utc) : DateTime.UtcNow);
        }
        return t;
    }

    [Fact]
    public void The_same_files_give_the_same_bytes_across_runs_times_permissions_and_creation_order()
    {
        var a = Populate(reversed: false);
        var first = Archive(a.Root);
        Thread.Sleep(1100); // a different wall clock second for anything that would record "now"
        var second = Archive(a.Root);
        Assert.Equal(first.Bytes, second.Bytes);

        var b = Populate(reversed: true);
        var other = Archive(b.Root);
        Assert.Equal(first.Bytes, other.Bytes);
        Assert.Equal(first.Result.Sha256, other.Result.Sha256);
        Assert.Equal("sha256:" + Convert.ToHexString(SHA256.HashData(first.Bytes)).ToLowerInvariant(), first.Result.Sha256);
        Assert.Equal(first.Bytes.LongLength, first.Result.Size);
        Assert.Equal(Files.Length, first.Result.FileCount);
    }

    [Fact]
    public void A_changed_file_an_added_file_or_an_executable_bit_changes_the_hash()
    {
        var t = Populate(reversed: false);
        var before = Archive(t.Root).Result.Sha256;
        t.Write("lib/helpers.ps1", "function Get-Thing { 43 }\n");
        var changed = Archive(t.Root).Result.Sha256;
        Assert.NotEqual(before, changed);
        t.Write("new.txt", "");
        var added = Archive(t.Root).Result.Sha256;
        Assert.NotEqual(changed, added);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(t.Path("README.md"), TempTree.Rwx);
            Assert.NotEqual(added, Archive(t.Root).Result.Sha256);
        }
    }

    [Fact]
    public void Entries_are_sorted_ordinally_with_fixed_owner_time_and_normalized_modes()
    {
        var t = Populate(reversed: true);
        var (bytes, result) = Archive(t.Root);
        var expectedOrder = new[] { "README.md", "a-b.txt", "flow.axl.ps1", "lib", "lib/deep", "lib/deep/data.csv", "lib/helpers.ps1", "scripts", "scripts/run.sh" };
        Assert.Equal(expectedOrder, result.Entries.Select(e => e.Path));

        using var reader = new TarReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress));
        var seen = new List<string>();
        while (reader.GetNextEntry() is { } e)
        {
            seen.Add(e.Name);
            Assert.Equal(TarEntryFormat.Gnu, e.Format);
            Assert.Equal(CodeArchive.EntryTime, e.ModificationTime);
            Assert.Equal(0, e.Uid);
            Assert.Equal(0, e.Gid);
            var posix = Assert.IsAssignableFrom<PosixTarEntry>(e);
            Assert.Equal("", posix.UserName);
            Assert.Equal("", posix.GroupName);
            var expected = e.EntryType == TarEntryType.Directory || e.Name == "scripts/run.sh" ? TempTree.Rwx : TempTree.Rw;
            if (OperatingSystem.IsWindows() && e.EntryType != TarEntryType.Directory) expected = TempTree.Rw;
            Assert.True(expected == e.Mode, $"{e.Name}: mode {Convert.ToString((int)e.Mode, 8)}");
        }
        Assert.Equal(expectedOrder.Select(p => p is "lib" or "lib/deep" or "scripts" ? p + "/" : p), seen);
    }

    [Fact]
    public void The_gzip_header_is_fixed_and_gzip_reads_the_archive()
    {
        var (bytes, _) = Archive(Populate(false).Root);
        // magic, deflate, no flags (no name, no comment), mtime 0, XFL 0, OS 255 (unknown)
        Assert.Equal(new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff }, bytes[..10]);
        using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var tar = new MemoryStream();
        gz.CopyTo(tar);
        Assert.Equal(0, tar.Length % 512);
    }

    [Fact]
    public void The_archive_of_a_fixed_tree_has_a_pinned_hash()
    {
        // The cross-machine promise: this hash is the same on every OS, CPU and .NET version. If it changes, every
        // published archive gets a new key; change the archive format only on purpose, and update this hash then.
        var t = Tree();
        foreach (var (path, content, exec) in Files) t.Write(path, content, exec ? TempTree.Rwx : TempTree.Rw);
        if (OperatingSystem.IsWindows()) return; // no executable bit there: scripts/run.sh would be 0644
        var actual = Archive(t.Root).Result.Sha256;
        Assert.True(PinnedTreeHash == actual, $"the archive format changed: {actual}");
    }

    internal const string PinnedTreeHash = "sha256:d7be64b717d997e01a42dceea928769f9fe6e4f788fe3229d9562812f94b49c1";

    [Fact]
    public void Default_ignores_leave_out_version_control_build_output_run_roots_and_packages()
    {
        var t = Tree();
        t.Write("flow.axl.ps1", "x");
        foreach (var d in new[] { ".git/config", ".axl/runs/r1/run.json", "bin/Debug/a.dll", "obj/x.json", "node_modules/p/index.js", "src/bin/b.dll", "src/obj/o", "web/node_modules/q.js" })
            t.Write(d, "ignored");
        t.Write("binary.dat", "kept: 'bin' only matches a directory named bin");
        var paths = Archive(t.Root).Result.Entries.Select(e => e.Path).ToList();
        Assert.Equal(new[] { "binary.dat", "flow.axl.ps1" }, paths);

        var all = Archive(t.Root, new CodeArchiveOptions { UseDefaultIgnores = false }).Result.Entries.Select(e => e.Path).ToList();
        Assert.Contains(".git/config", all);
        Assert.Contains("src/bin/b.dll", all);
    }

    [Fact]
    public void Axlignore_and_gitignore_rules_apply_after_the_defaults_and_can_re_include()
    {
        var t = Tree();
        t.Write(".gitignore", "# build output\n*.log\n/dist/\n");
        t.Write(".axlignore", "data/**\n!data/keep.csv\nnotes/*.md\n**/secret.txt\n!bin/\ntmp/\n");
        t.Write("flow.axl.ps1", "x");
        t.Write("run.log", "ignored by .gitignore");
        t.Write("lib/run.log", "ignored at any depth");
        t.Write("dist/app.js", "ignored: anchored directory");
        t.Write("src/dist/app.js", "kept: /dist/ is anchored to the root");
        t.Write("data/big.csv", "ignored");
        t.Write("data/keep.csv", "re-included");
        t.Write("notes/a.md", "ignored");
        t.Write("notes/sub/b.md", "kept: * does not cross /");
        t.Write("a/b/secret.txt", "ignored");
        t.Write("bin/tool.ps1", "re-included over the default bin/");
        t.Write("tmp", "kept: tmp/ matches directories only");
        var paths = Archive(t.Root).Result.Entries.Where(e => e.Kind == CodeArchiveEntryKind.File).Select(e => e.Path).ToList();
        Assert.Equal(new[] { ".axlignore", ".gitignore", "bin/tool.ps1", "data/keep.csv", "flow.axl.ps1", "notes/sub/b.md", "src/dist/app.js", "tmp" }, paths);

        var noGit = Archive(t.Root, new CodeArchiveOptions { UseGitIgnore = false }).Result.Entries.Select(e => e.Path).ToList();
        Assert.Contains("run.log", noGit);
        var extra = Archive(t.Root, new CodeArchiveOptions { Ignore = new[] { "*.md", ".*ignore" } }).Result.Entries.Select(e => e.Path).ToList();
        Assert.DoesNotContain("notes/sub/b.md", extra);
        Assert.DoesNotContain(".axlignore", extra);
    }

    [Fact]
    public void Empty_directories_and_directories_emptied_by_rules_are_left_out()
    {
        var t = Tree();
        t.Write("flow.axl.ps1", "x");
        Directory.CreateDirectory(t.Path("empty/nested"));
        t.Write("logs/a.log", "x");
        t.Write(".axlignore", "*.log\n");
        var paths = Archive(t.Root).Result.Entries.Select(e => e.Path).ToList();
        Assert.Equal(new[] { ".axlignore", "flow.axl.ps1" }, paths);
    }

    [Fact]
    public void A_link_inside_the_root_is_stored_as_a_link_and_one_that_leaves_is_refused()
    {
        var t = Tree();
        t.Write("lib/real.ps1", "1");
        t.Link("lib/alias.ps1", "real.ps1");
        t.Link("shared", "lib");
        var entries = Archive(t.Root).Result.Entries;
        Assert.Contains(entries, e => e is { Path: "lib/alias.ps1", Kind: CodeArchiveEntryKind.SymbolicLink, LinkTarget: "real.ps1" });
        Assert.Contains(entries, e => e is { Path: "shared", Kind: CodeArchiveEntryKind.SymbolicLink, LinkTarget: "lib" });
        Assert.DoesNotContain(entries, e => e.Path.StartsWith("shared/", StringComparison.Ordinal)); // not followed

        var refused = Assert.Throws<AxlArchiveException>(() => Archive(t.Root, new CodeArchiveOptions { AllowSymbolicLinks = false }));
        Assert.Equal("lib/alias.ps1", refused.Entry);

        t.Link("lib/up", "../../elsewhere");
        var outside = Assert.Throws<AxlArchiveException>(() => Archive(t.Root));
        Assert.Equal("lib/up", outside.Entry);
        Assert.Contains("outside the code root", outside.Message);
        File.Delete(t.Path("lib/up"));

        t.Link("abs", "/etc/hostname");
        var absolute = Assert.Throws<AxlArchiveException>(() => Archive(t.Root));
        Assert.Equal("abs", absolute.Entry);
        Assert.Contains("absolute path", absolute.Message);

        // An ignored link is never looked at.
        t.Write(".axlignore", "abs\n");
        Assert.Contains(Archive(t.Root).Result.Entries, e => e.Path == "shared");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(string path, uint mode);

    [Fact]
    public void Fifos_are_skipped_and_reported_not_archived()
    {
        if (OperatingSystem.IsWindows()) return;
        var t = Tree();
        t.Write("flow.axl.ps1", "x");
        t.Write("empty.txt", "");
        Assert.Equal(0, mkfifo(t.Path("pipe"), 0b110_100_100));
        var (_, result) = Archive(t.Root);
        Assert.Equal(new[] { "empty.txt", "flow.axl.ps1" }, result.Entries.Select(e => e.Path));
        Assert.Equal(new[] { "pipe (fifo)" }, result.Skipped);
    }

    [Fact]
    public void CreateFile_writes_atomically_and_does_not_archive_itself()
    {
        var t = Populate(false);
        var inside = t.Path("out/code.tar.gz");
        var first = CodeArchive.CreateFile(t.Root, inside);
        Assert.Equal(inside, first.File);
        var again = CodeArchive.CreateFile(t.Root, inside); // the previous archive is in the tree now, but excluded
        Assert.Equal(first.Sha256, again.Sha256);
        Assert.Equal(first.Sha256, CodeArchive.HashFile(inside));
        Assert.Single(Directory.GetFiles(t.Path("out")));
    }

    [Fact]
    public void Too_much_code_is_refused_naming_the_biggest_files()
    {
        var t = Tree();
        t.Write("flow.axl.ps1", "x");
        t.Write("data/big.csv", new string('1', 5000));
        var ex = Assert.Throws<AxlArchiveException>(() => Archive(t.Root, new CodeArchiveOptions { MaxBytes = 4096 }));
        Assert.Contains("data/big.csv (5000 bytes)", ex.Message);
        Assert.Contains(".axlignore", ex.Message);
    }

    [Fact]
    public void Keys_are_made_of_the_prefix_and_the_hash()
    {
        var sha = "sha256:" + new string('a', 64);
        Assert.Equal($"axl/code/{new string('a', 64)}.tar.gz", CodeArchive.Key(sha));
        Assert.Equal($"axl/code/{new string('a', 64)}.tar.gz", CodeArchive.Key(sha, null));
        Assert.Equal($"team/x/code/{new string('a', 64)}.tar.gz", CodeArchive.Key(new string('A', 64), "/team/x/"));
        Assert.Equal($"code/{new string('a', 64)}.tar.gz", CodeArchive.Key(sha, ""));
        Assert.Equal(sha, CodeArchive.HashFromKey(CodeArchive.Key(sha, "p")));
        Assert.Null(CodeArchive.HashFromKey("other/key.tar.gz"));
        Assert.Throws<ArgumentException>(() => CodeArchive.Key("sha256:1234"));
    }

    [Fact]
    public void Round_trip_gives_an_identical_tree()
    {
        var t = Populate(false);
        t.Link("lib/alias.ps1", "helpers.ps1");
        t.Write("unicode/naïve ✓.txt", "utf-8 names");
        t.Write(new string('d', 60) + "/" + new string('e', 70) + "/" + new string('f', 90) + ".txt", "a path longer than 100 characters");
        var archive = CodeArchive.CreateFile(t.Root, Path.Combine(Path.GetTempPath(), "axl-rt-" + Guid.NewGuid().ToString("N")[..8] + ".tar.gz"));
        var dest = Tree();
        var target = dest.Path("workdir");
        try
        {
            var x = CodeArchive.Extract(archive.File!, target);
            Assert.False(x.AlreadyPresent);
            Assert.Equal(archive.Sha256, x.Sha256);
            Assert.Equal(archive.FileCount, x.FileCount);
            Assert.Equal(TempTree.Snapshot(t.Root), TempTree.Snapshot(target));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(TempTree.Rwx, File.GetUnixFileMode(Path.Combine(target, "scripts", "run.sh")));
                Assert.Equal(TempTree.Rw, File.GetUnixFileMode(Path.Combine(target, "README.md")));
            }
            // The extracted tree archives to the same bytes.
            Assert.Equal(archive.Sha256, Archive(target).Result.Sha256);
        }
        finally
        {
            File.Delete(archive.File!);
        }
    }
}
