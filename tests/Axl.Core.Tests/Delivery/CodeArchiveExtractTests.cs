using System.Formats.Tar;
using Axl.Delivery;

namespace Axl.Core.Tests.Delivery;

/// <summary>
/// Extraction of hostile or broken archives (crafted with the framework's TarWriter): each is refused with the
/// entry and the reason, and leaves nothing behind, neither in the destination nor beside it.
/// </summary>
public sealed class CodeArchiveExtractTests : IDisposable
{
    private readonly TempTree _t = new("extract-");

    public void Dispose() => _t.Dispose();

    private string Destination => _t.Path("work/dest");

    /// <summary>Extracts and expects a refusal; checks nothing was written.</summary>
    private AxlArchiveException Refused(string archive, string? entry, string reason)
    {
        Directory.CreateDirectory(_t.Path("work"));
        var ex = Assert.Throws<AxlArchiveException>(() => CodeArchive.Extract(archive, Destination));
        Assert.Equal(entry, ex.Entry);
        Assert.Contains(reason, ex.Message);
        Assert.False(Directory.Exists(Destination), "the destination was created");
        Assert.Empty(Directory.GetFileSystemEntries(_t.Path("work"))); // no temporary directory left beside it
        Assert.False(File.Exists(_t.Path("evil")), "a file was written outside the destination");
        Assert.False(File.Exists(_t.Path("work/evil")), "a file was written outside the destination");
        return ex;
    }

    [Fact]
    public void Absolute_paths_are_refused()
    {
        Refused(_t.Craft("a.tar.gz", TempTree.FileEntry("ok.txt"), TempTree.FileEntry(_t.Path("evil"))), _t.Path("evil"), "absolute path");
        Refused(_t.Craft("b.tar.gz", TempTree.FileEntry("C:/evil")), "C:/evil", "absolute path");
        Refused(_t.Craft("c.tar.gz", TempTree.FileEntry("\\evil")), "\\evil", "absolute path");
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("sub/../../evil")]
    [InlineData("sub/..")]
    [InlineData("..\\evil")]
    public void Dot_dot_segments_are_refused(string name) =>
        Refused(_t.Craft("a.tar.gz", TempTree.FileEntry("sub/ok.txt"), TempTree.FileEntry(name)), name, "'..' segment");

    [Fact]
    public void Symbolic_links_that_leave_the_destination_are_refused()
    {
        Refused(_t.Craft("a.tar.gz", TempTree.Entry(TarEntryType.SymbolicLink, "passwd", "/etc/passwd")), "passwd", "absolute path");
        Refused(_t.Craft("b.tar.gz", TempTree.Entry(TarEntryType.SymbolicLink, "sub/up", "../../evil")), "sub/up", "leaves the destination");
        Refused(_t.Craft("c.tar.gz", TempTree.Entry(TarEntryType.SymbolicLink, "up", "..")), "up", "leaves the destination");
    }

    [Fact]
    public void Entries_through_a_link_and_chained_links_are_refused()
    {
        // "d" -> "sub" is harmless alone, but "d/x" would be written through it.
        Refused(_t.Craft("a.tar.gz", TempTree.Entry(TarEntryType.Directory, "sub/"), TempTree.Entry(TarEntryType.SymbolicLink, "d", "sub"), TempTree.FileEntry("d/x.txt")),
            "d/x.txt", "inside the symbolic link 'd'");
        // "a/b" -> ".." is the root (inside); "c" -> "a/b/.." would then be the root's parent.
        Refused(_t.Craft("b.tar.gz", TempTree.Entry(TarEntryType.Directory, "a/"), TempTree.Entry(TarEntryType.SymbolicLink, "a/b", ".."), TempTree.Entry(TarEntryType.SymbolicLink, "c", "a/b/..")),
            "c", "goes through the symbolic link 'a/b'");
    }

    [Fact]
    public void Hard_links_are_refused()
    {
        Refused(_t.Craft("a.tar.gz", TempTree.FileEntry("file.txt"), TempTree.Entry(TarEntryType.HardLink, "hard", "file.txt")), "hard", "hard link");
        Refused(_t.Craft("b.tar.gz", TempTree.Entry(TarEntryType.HardLink, "shadow", "/etc/shadow")), "shadow", "hard link");
    }

    [Theory]
    [InlineData(TarEntryType.CharacterDevice, "character device")]
    [InlineData(TarEntryType.BlockDevice, "block device")]
    [InlineData(TarEntryType.Fifo, "fifo")]
    public void Devices_and_fifos_are_refused(TarEntryType type, string reason)
    {
        var e = TempTree.Entry(type, "dev/thing");
        if (type is TarEntryType.CharacterDevice or TarEntryType.BlockDevice) { e.DeviceMajor = 1; e.DeviceMinor = 3; }
        Refused(_t.Craft("a.tar.gz", TempTree.FileEntry("ok.txt"), e), "dev/thing", reason);
    }

    [Fact]
    public void The_same_path_twice_is_refused()
    {
        Refused(_t.Craft("a.tar.gz", TempTree.FileEntry("a.txt", "one"), TempTree.FileEntry("./a.txt", "two")), "./a.txt", "appears twice");
        Refused(_t.Craft("b.tar.gz", TempTree.FileEntry("a"), TempTree.Entry(TarEntryType.SymbolicLink, "a", "b")), "a", "appears twice");
    }

    [Fact]
    public void Unreadable_archives_are_refused()
    {
        var notGzip = _t.Write("plain.txt", "this is not a tar.gz");
        Refused(notGzip, null, "not a readable tar.gz");

        var src = _t.Path("src");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "big.txt"), new string('x', 200_000) + Guid.NewGuid());
        var good = CodeArchive.CreateFile(src, _t.Path("good.tar.gz"));
        var bytes = File.ReadAllBytes(good.File!);
        var truncated = _t.Path("truncated.tar.gz");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        Refused(truncated, null, "not a readable tar.gz");

        Refused(_t.Path("missing.tar.gz"), null, "does not exist");
        Directory.CreateDirectory(_t.Path("unpacked.tar.gz"));
        Refused(_t.Path("unpacked.tar.gz"), null, "archive: {none: {}}");
    }

    [Fact]
    public void A_refusal_late_in_the_archive_writes_nothing()
    {
        var entries = Enumerable.Range(0, 50).Select(i => (TarEntry)TempTree.FileEntry($"f{i:00}.txt", "content")).Append(TempTree.FileEntry("../evil")).ToArray();
        Refused(_t.Craft("a.tar.gz", entries), "../evil", "'..' segment");
    }

    [Fact]
    public void Dot_slash_names_and_the_root_entry_are_accepted()
    {
        var archive = _t.Craft("a.tar.gz", TempTree.Entry(TarEntryType.Directory, "./"), TempTree.FileEntry("./flow.axl.ps1", "flow"), TempTree.FileEntry("lib//x.ps1", "x"),
            TempTree.Entry(TarEntryType.SymbolicLink, "lib/alias.ps1", "./x.ps1"), TempTree.Entry(TarEntryType.SymbolicLink, "top", "lib/../flow.axl.ps1"));
        var x = CodeArchive.Extract(archive, Destination);
        Assert.Equal(2, x.FileCount);
        Assert.Equal("flow", File.ReadAllText(Path.Combine(Destination, "flow.axl.ps1")));
        Assert.Equal("x", File.ReadAllText(Path.Combine(Destination, "lib", "alias.ps1")));
        Assert.Equal("flow", File.ReadAllText(Path.Combine(Destination, "top")));
    }

    [Fact]
    public void An_existing_destination_must_be_empty_or_hold_the_same_content()
    {
        var src = _t.Path("src");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "flow.axl.ps1"), "flow");
        var archive = CodeArchive.CreateFile(src, _t.Path("code.tar.gz")).File!;

        // Empty (for example a mount point): extracted into it.
        Directory.CreateDirectory(Destination);
        Assert.False(CodeArchive.Extract(archive, Destination).AlreadyPresent);
        Assert.Equal(new[] { "flow.axl.ps1" }, Directory.GetFileSystemEntries(Destination).Select(Path.GetFileName));

        // The same content: nothing to do (a retried step in the same pod).
        Assert.True(CodeArchive.Extract(archive, Destination).AlreadyPresent);

        // Other content: refused, untouched.
        File.WriteAllText(Path.Combine(Destination, "flow.axl.ps1"), "changed");
        var ex = Assert.Throws<AxlArchiveException>(() => CodeArchive.Extract(archive, Destination));
        Assert.Contains("not empty", ex.Message);
        Assert.Equal("changed", File.ReadAllText(Path.Combine(Destination, "flow.axl.ps1")));
        Assert.Single(Directory.GetFileSystemEntries(Destination));

        // A file in the way.
        var file = _t.Write("work/afile", "x");
        Assert.Contains("is a file", Assert.Throws<AxlArchiveException>(() => CodeArchive.Extract(archive, file)).Message);
    }

    /// <summary>A gzip bomb: one file of <paramref name="size"/> zero bytes, a few kilobytes compressed.</summary>
    private string Bomb(string name, long size)
    {
        var e = new GnuTarEntry(TarEntryType.RegularFile, "zeros.bin") { DataStream = new ZeroStream(size) };
        return _t.Craft(name, TempTree.FileEntry("flow.axl.ps1", "flow"), e);
    }

    [Fact]
    public void A_gzip_bomb_is_refused_under_the_byte_cap_and_nothing_is_extracted()
    {
        var bomb = Bomb("bomb.tar.gz", 64L << 20); // 64 MiB of zeros
        Assert.True(new FileInfo(bomb).Length < 1 << 20, "the bomb should be small compressed");
        Directory.CreateDirectory(_t.Path("work"));
        var ex = Assert.Throws<AxlArchiveException>(() => CodeArchive.Extract(bomb, Destination, limits: new CodeArchiveLimits { MaxBytes = 1 << 20 }));
        Assert.Contains("would extract to more than 1048576 bytes", ex.Message);
        Assert.Contains("'zeros.bin'", ex.Message);
        Assert.Contains("--max-extract-bytes", ex.Message);
        Assert.False(Directory.Exists(Destination));
        Assert.Empty(Directory.GetFileSystemEntries(_t.Path("work")));

        // Under a cap large enough it is extracted: the cap, not the archive, refused it.
        var x = CodeArchive.Extract(bomb, Destination, limits: new CodeArchiveLimits { MaxBytes = 65L << 20 });
        Assert.Equal(64L << 20, new FileInfo(Path.Combine(x.Destination, "zeros.bin")).Length);
    }

    [Fact]
    public void Too_many_entries_are_refused_and_nothing_is_extracted()
    {
        var many = _t.Craft("many.tar.gz", Enumerable.Range(0, 50).Select(i => (TarEntry)TempTree.FileEntry($"f{i:D3}.txt")).ToArray());
        Directory.CreateDirectory(_t.Path("work"));
        var ex = Assert.Throws<AxlArchiveException>(() => CodeArchive.Extract(many, Destination, limits: new CodeArchiveLimits { MaxEntries = 10 }));
        Assert.Contains("has more than 10 entries", ex.Message);
        Assert.False(Directory.Exists(Destination));
        Assert.Empty(Directory.GetFileSystemEntries(_t.Path("work")));
        Assert.Equal(50, CodeArchive.Extract(many, Destination, limits: new CodeArchiveLimits { MaxEntries = 50 }).FileCount);
    }

    [Fact]
    public void The_default_caps_are_1_GiB_and_100000_entries_and_bad_values_are_refused()
    {
        Assert.Equal(1L << 30, CodeArchiveLimits.Default.MaxBytes);
        Assert.Equal(100_000, CodeArchiveLimits.Default.MaxEntries);
        Assert.Equal(5, CodeArchiveLimits.Resolve(5, 7).MaxBytes);
        Assert.Equal(7, CodeArchiveLimits.Resolve(5, 7).MaxEntries);
        Assert.Contains("between 1 and", Assert.Throws<AxlArchiveException>(() => CodeArchiveLimits.Resolve(0, null)).Message);
        Assert.Contains("between 1 and", Assert.Throws<AxlArchiveException>(() => CodeArchiveLimits.Resolve(null, (long)int.MaxValue + 1)).Message);
    }

    [Fact]
    public void An_archive_that_does_not_hash_to_the_pinned_value_is_refused_before_anything_is_extracted()
    {
        var src = _t.Path("src");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "flow.axl.ps1"), "flow");
        var pinned = CodeArchive.CreateFile(src, _t.Path("pinned.tar.gz")).Sha256;
        File.WriteAllText(Path.Combine(src, "helper.py"), "print('changed')");
        var tampered = CodeArchive.CreateFile(src, _t.Path("tampered.tar.gz"));
        Directory.CreateDirectory(_t.Path("work"));

        var ex = Assert.Throws<AxlArchiveHashMismatchException>(() => CodeArchive.Extract(tampered.File!, Destination, pinned));
        Assert.Equal(pinned, ex.Expected);
        Assert.Equal(tampered.Sha256, ex.Actual);
        Assert.Contains(pinned, ex.Message);
        Assert.Contains(tampered.Sha256, ex.Message);
        Assert.Contains(tampered.File!, ex.Message);
        Assert.False(Directory.Exists(Destination));
        Assert.Empty(Directory.GetFileSystemEntries(_t.Path("work")));

        Assert.Equal(2, CodeArchive.Extract(tampered.File!, Destination, tampered.Sha256.ToUpperInvariant().Replace("SHA256:", "sha256:")).FileCount);
    }

    /// <summary>A read-only stream of zeros of a given length (the content of a bomb, never held in memory).</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => _position = value; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => _position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => length + offset };
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
