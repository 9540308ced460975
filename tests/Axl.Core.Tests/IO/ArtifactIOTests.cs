using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Axl.IO;
using static Axl.Core.Tests.IO.IoTestData;

namespace Axl.Core.Tests.IO;

public class ArtifactIOTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Sha(string path) => "sha256:" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    private string[] FilesInDir() => Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void Save_writes_data_then_metadata_and_Load_reads_it_back()
    {
        var before = DateTime.UtcNow.AddSeconds(-1);
        var meta = ArtifactIO.Save(new JsonIoHandler(), new object[] { Obj(("a", 1)) }, _dir.Path);

        Assert.Equal(new[] { "output.json", "output.meta.json" }, FilesInDir());
        var data = _dir.File("output.json");
        Assert.Equal("output", meta.Name);
        Assert.Equal("json", meta.IoHandler);
        Assert.Equal(".json", meta.Extension);
        Assert.Equal("output.json", meta.File);
        Assert.Equal(new FileInfo(data).Length, meta.Size);
        Assert.Equal(Sha(data), meta.Sha256);
        Assert.Equal("System.Object[]", meta.Type);
        Assert.InRange(meta.CreatedUtc, before, DateTime.UtcNow.AddSeconds(1));
        Assert.Equal(AxlInfo.Version, meta.AxlVersion);

        using (var doc = JsonDocument.Parse(File.ReadAllBytes(_dir.File("output.meta.json"))))
        {
            Assert.Equal(new[] { "name", "ioHandler", "extension", "file", "size", "sha256", "type", "createdUtc", "axlVersion" },
                doc.RootElement.EnumerateObject().Select(p => p.Name));
        }
        var read = ArtifactIO.ReadMetadata(_dir.Path);
        Assert.Equal(meta with { CreatedUtc = read!.CreatedUtc }, read);
        Assert.Equal(meta.CreatedUtc, read.CreatedUtc, TimeSpan.FromMilliseconds(1));

        Assert.True(ArtifactIO.IsComplete(_dir.Path));
        Assert.True(ArtifactIO.IsComplete(_dir.Path, verifyHash: true));
        Assert.Equal(data, ArtifactIO.DataPath(_dir.Path));
        var back = Array(ArtifactIO.Load(_dir.Path));
        Assert.Equal(1L, Prop(back[0], "a"));
    }

    [Fact]
    public void A_large_durable_save_starts_the_writeback_as_it_goes_and_hashes_every_byte()
    {
        var data = new byte[20 << 20];
        new Random(5).NextBytes(data);
        var before = DurableFiles.WritebackStarts;
        var pipelines = HashingWriteStream.PipelinesStarted;
        var meta = ArtifactIO.Save(IoHandlerRegistry.Get("bytes"), data, _dir.Path);
        var file = Path.Combine(_dir.Path, meta.File);
        Assert.Equal(data, File.ReadAllBytes(file));
        Assert.Equal(Sha(file), meta.Sha256);
        Assert.Equal(data.Length, meta.Size);
        if (OperatingSystem.IsLinux()) Assert.True(DurableFiles.WritebackStarts > before, "sync_file_range asked while writing");
        Assert.True(HashingWriteStream.PipelinesStarted > pipelines, "the chunks went to the writer thread");
    }

    [Theory]
    [InlineData("parquet")]
    [InlineData("arrow")]
    public void A_large_table_is_hashed_and_written_by_the_writer_thread_in_one_sequential_pass(string handler)
    {
        var pipelines = HashingWriteStream.PipelinesStarted;
        var meta = ArtifactIO.Save(IoHandlerRegistry.Get(handler), Table(60_000), _dir.Path);
        var file = Path.Combine(_dir.Path, meta.File);
        Assert.True(meta.Size > 2 * HashingWriteStream.ChunkBytes, $"{meta.Size} bytes");
        Assert.Equal(Sha(file), meta.Sha256);
        Assert.Equal(new FileInfo(file).Length, meta.Size);
        Assert.True(HashingWriteStream.PipelinesStarted > pipelines, "the chunks went to the writer thread");
        var rows = Array(ArtifactIO.Load(_dir.Path));
        Assert.Equal(60_000, rows.Length);
        Assert.Equal("row 59999", Prop(rows[59_999], "name"));
    }

    [Fact]
    public void A_handler_that_seeks_back_after_chunks_went_to_the_writer_thread_gets_the_bytes_and_hash_of_the_file()
    {
        var meta = ArtifactIO.Save(new SeekingHandler(), new string('x', 5 * HashingWriteStream.ChunkBytes + 17), _dir.Path, "big");
        var data = File.ReadAllBytes(Path.Combine(_dir.Path, meta.File));
        Assert.Equal(8 + 5 * HashingWriteStream.ChunkBytes + 17, data.Length);
        Assert.Equal(5L * HashingWriteStream.ChunkBytes + 17, BitConverter.ToInt64(data, 0));
        Assert.All(data.Skip(8), b => Assert.Equal((byte)'x', b));
        Assert.Equal(Sha(Path.Combine(_dir.Path, meta.File)), meta.Sha256);
    }

    [Fact]
    public void A_handler_failing_after_chunks_went_to_the_writer_thread_leaves_nothing_behind()
    {
        ArtifactIO.Save(new TextIoHandler(), "old", _dir.Path, "bin");
        var ex = Assert.Throws<AxlArtifactException>(() => ArtifactIO.Save(new FailingLargeHandler(), null, _dir.Path, "bin"));
        Assert.Equal("failed after 6 MB", ex.InnerException!.Message);
        Assert.Equal(new[] { "bin.meta.json", "bin.txt" }, FilesInDir());
        Assert.Equal("old", ArtifactIO.Load(_dir.Path, "bin"));
    }

    [Fact]
    public void Metadata_records_the_powershell_type_name()
    {
        Assert.Equal("System.Management.Automation.PSCustomObject", ArtifactIO.Save(new ClixmlIoHandler(), Obj(("a", 1)), _dir.Path, "o1").Type);
        Assert.Null(ArtifactIO.Save(new ClixmlIoHandler(), null, _dir.Path, "o2").Type);
        Assert.Null(ArtifactIO.Load(_dir.Path, "o2"));
        Assert.Equal("System.String", ArtifactIO.Save(new TextIoHandler(), "x", _dir.Path, "o3").Type);
    }

    [Fact]
    public void A_crash_before_the_metadata_leaves_an_incomplete_artifact()
    {
        // What a crash mid-save leaves: a temp file, even a finished data file, but no metadata.
        File.WriteAllText(_dir.File("output.json"), "[1,2,3]");
        File.WriteAllText(_dir.File(".output.json.tmp-0badc0ffee00"), "[1,2");
        File.WriteAllText(_dir.File(".output.meta.json.tmp-0badc0ffee01"), "{");

        Assert.False(ArtifactIO.IsComplete(_dir.Path));
        Assert.Null(ArtifactIO.ReadMetadata(_dir.Path));
        var ex = Assert.Throws<AxlArtifactException>(() => ArtifactIO.Load(_dir.Path));
        Assert.Contains("incomplete", ex.Message);
        Assert.Contains("output.meta.json", ex.Message);
        Assert.Throws<AxlArtifactException>(() => ArtifactIO.DataPath(_dir.Path));

        Assert.Equal(2, ArtifactIO.CleanTemporaryFiles(_dir.Path));
        Assert.Equal(new[] { "output.json" }, FilesInDir());
        Assert.Equal(0, ArtifactIO.CleanTemporaryFiles(_dir.Path));
        Assert.Equal(0, ArtifactIO.CleanTemporaryFiles(_dir.File("no-such-dir")));
    }

    [Fact]
    public void CleanTemporaryFiles_can_spare_recent_files()
    {
        File.WriteAllText(_dir.File(".a.csv.tmp-1"), "");
        File.SetLastWriteTimeUtc(_dir.File(".a.csv.tmp-1"), DateTime.UtcNow.AddHours(-2));
        File.WriteAllText(_dir.File(".b.csv.tmp-2"), "");
        File.WriteAllText(_dir.File("c.tmp-3"), ""); // not ours: no leading dot
        Assert.Equal(1, ArtifactIO.CleanTemporaryFiles(_dir.Path, olderThan: TimeSpan.FromHours(1)));
        Assert.Equal(new[] { ".b.csv.tmp-2", "c.tmp-3" }, FilesInDir());
    }

    [Fact]
    public void A_truncated_data_file_is_refused_by_size()
    {
        ArtifactIO.Save(new CsvIoHandler(), Table(1000), _dir.Path, "table");
        var data = _dir.File("table.csv");
        using (var f = new FileStream(data, FileMode.Open)) f.SetLength(f.Length / 2);

        Assert.False(ArtifactIO.IsComplete(_dir.Path, "table"));
        var ex = Assert.Throws<AxlArtifactException>(() => ArtifactIO.Load(_dir.Path, "table"));
        Assert.Contains("table.csv", ex.Message);
        Assert.Contains("truncated", ex.Message);
        Assert.Equal(data, ex.Path);
    }

    [Fact]
    public void A_changed_data_file_of_the_same_size_is_refused_by_hash()
    {
        ArtifactIO.Save(new TextIoHandler(), "hello world", _dir.Path);
        File.WriteAllText(_dir.File("output.txt"), "HELLO WORLD");

        Assert.True(ArtifactIO.IsComplete(_dir.Path));
        Assert.False(ArtifactIO.IsComplete(_dir.Path, verifyHash: true));
        var ex = Assert.Throws<AxlArtifactException>(() => ArtifactIO.Load(_dir.Path));
        Assert.Contains("SHA-256", ex.Message);
        Assert.Equal("HELLO WORLD", ArtifactIO.Load(_dir.Path, verifyHash: false));
    }

    [Fact]
    public void A_missing_data_file_or_bad_metadata_is_not_complete()
    {
        ArtifactIO.Save(new TextIoHandler(), "x", _dir.Path);
        File.Delete(_dir.File("output.txt"));
        Assert.False(ArtifactIO.IsComplete(_dir.Path));
        Assert.Contains("does not exist", Assert.Throws<AxlArtifactException>(() => ArtifactIO.Load(_dir.Path)).Message);

        File.WriteAllText(_dir.File("output.meta.json"), "{ not json");
        Assert.False(ArtifactIO.IsComplete(_dir.Path));
        Assert.Contains("not valid artifact metadata", Assert.Throws<AxlArtifactException>(() => ArtifactIO.Load(_dir.Path)).Message);

        // Metadata may not point outside the artifact directory.
        File.WriteAllText(_dir.File("output.meta.json"),
            "{\"name\":\"output\",\"ioHandler\":\"text\",\"extension\":\".txt\",\"file\":\"../../etc/passwd\",\"size\":1,\"sha256\":\"sha256:" + new string('0', 64) + "\"}");
        Assert.False(ArtifactIO.IsComplete(_dir.Path));
        Assert.Throws<AxlArtifactException>(() => ArtifactIO.DataPath(_dir.Path));
    }

    [Fact]
    public void Saving_again_replaces_data_and_metadata()
    {
        ArtifactIO.Save(new TextIoHandler(), "first, longer value", _dir.Path);
        var meta = ArtifactIO.Save(new TextIoHandler(), "second", _dir.Path);
        Assert.Equal(6, meta.Size);
        Assert.Equal("second", ArtifactIO.Load(_dir.Path));
        Assert.Equal(new[] { "output.meta.json", "output.txt" }, FilesInDir());
    }

    [Fact]
    public void A_failing_handler_leaves_nothing_behind()
    {
        ArtifactIO.Save(new TextIoHandler(), "old", _dir.Path, "bin");
        var ex = Assert.Throws<AxlArtifactException>(() => ArtifactIO.Save(new BytesIoHandler(), "a string", _dir.Path, "bin"));
        Assert.Contains("bytes", ex.Message);
        Assert.IsType<ArgumentException>(ex.InnerException);
        Assert.Equal(new[] { "bin.meta.json", "bin.txt" }, FilesInDir());
        Assert.Equal("old", ArtifactIO.Load(_dir.Path, "bin"));
    }

    [Fact]
    public void Handlers_that_seek_or_dispose_the_stream_still_get_the_right_hash()
    {
        foreach (var (handler, name) in new (IAxlIoHandler, string)[] { (new SeekingHandler(), "seek"), (new DisposingHandler(), "dispose"), (new ArrowIoHandler(), "arrow") })
        {
            var meta = ArtifactIO.Save(handler, Table(3), _dir.Path, name);
            var data = Path.Combine(_dir.Path, meta.File);
            Assert.Equal(Sha(data), meta.Sha256);
            Assert.Equal(new FileInfo(data).Length, meta.Size);
            Assert.True(ArtifactIO.IsComplete(_dir.Path, name, verifyHash: true));
        }
    }

    [Fact]
    public void Invalid_names_are_refused()
    {
        foreach (var name in new[] { "", "../x", "a/b", ".hidden", ".." })
            Assert.Throws<ArgumentException>(() => ArtifactIO.Save(new TextIoHandler(), "x", _dir.Path, name));
    }

    [Fact]
    public void SaveFile_copies_or_moves_a_file_into_place()
    {
        var source = _dir.File("step-stdout.tmp");
        File.WriteAllText(source, Unicode);

        var meta = ArtifactIO.SaveFile(source, Path.Combine(_dir.Path, "run"), new TextIoHandler(), "stdout");
        Assert.True(File.Exists(source));
        Assert.Equal("stdout.txt", meta.File);
        Assert.Equal(Sha(source), meta.Sha256);
        Assert.Null(meta.Type);
        Assert.Equal(Unicode, ArtifactIO.Load(Path.Combine(_dir.Path, "run"), "stdout"));

        var moved = ArtifactIO.SaveFile(source, Path.Combine(_dir.Path, "run"), new BytesIoHandler(), "raw", moveSource: true);
        Assert.False(File.Exists(source));
        Assert.Equal(meta.Sha256, moved.Sha256);
        Assert.Equal(Encoding.UTF8.GetBytes(Unicode), ArtifactIO.Load(Path.Combine(_dir.Path, "run"), "raw"));
        Assert.True(ArtifactIO.IsComplete(Path.Combine(_dir.Path, "run"), "raw", verifyHash: true));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir.Path, "run"), ".*"));

        Assert.Throws<AxlArtifactException>(() => ArtifactIO.SaveFile(source, _dir.Path, new BytesIoHandler()));
    }

    [Fact]
    public void A_user_registered_handler_round_trips_through_ArtifactIO()
    {
        IoHandlerRegistry.Register(new ReversedTextHandler());
        var meta = ArtifactIO.Save(IoHandlerRegistry.Get("Test-Reversed"), "abc" + Unicode, _dir.Path, "rev");
        Assert.Equal("test-reversed", meta.IoHandler);
        Assert.Equal("rev.rev", meta.File);
        Assert.Equal("abc" + Unicode, ArtifactIO.Load(_dir.Path, "rev"));
        Assert.Equal((byte)'a', File.ReadAllBytes(_dir.File("rev.rev"))[^1]); // stored reversed
    }

    [Fact]
    public void Every_built_in_handler_round_trips_through_ArtifactIO()
    {
        var table = Table(5);
        foreach (var h in IoHandlerRegistry.BuiltIns())
        {
            object? value = h.Name switch { "text" => Unicode, "bytes" => Encoding.UTF8.GetBytes(Unicode), _ => table };
            var meta = ArtifactIO.Save(h, value, _dir.Path, "all-" + h.Name);
            Assert.True(ArtifactIO.IsComplete(_dir.Path, "all-" + h.Name, verifyHash: true), h.Name);
            var back = ArtifactIO.Load(_dir.Path, "all-" + h.Name);
            switch (h.Name)
            {
                case "text": Assert.Equal(Unicode, back); break;
                case "bytes": Assert.Equal(value, back); break;
                default:
                    var rows = Array(back);
                    Assert.Equal(5, rows.Length);
                    Assert.Equal("row 4", Prop(rows[4], "name"));
                    break;
            }
            Assert.EndsWith(h.Extension, meta.File);
        }
        Assert.Empty(Directory.GetFiles(_dir.Path, ".*"));
    }

    /// <summary>Writes a placeholder header, the body, then seeks back to patch the header (like formats with a length prefix).</summary>
    private sealed class SeekingHandler : IAxlIoHandler
    {
        public string Name => "test-seeking";
        public string Extension => ".seek";
        public string Description => "test";
        public void Write(object? value, Stream destination)
        {
            destination.Write(new byte[8]);
            var body = Encoding.UTF8.GetBytes(value?.ToString() ?? "");
            destination.Write(body);
            destination.Position = 0;
            destination.Write(BitConverter.GetBytes((long)body.Length));
            destination.Seek(0, SeekOrigin.End);
        }
        public object? Read(Stream source) => throw new NotSupportedException();
    }

    /// <summary>Writes 6 MB in odd-sized pieces, then throws.</summary>
    private sealed class FailingLargeHandler : IAxlIoHandler
    {
        public string Name => "test-failing-large";
        public string Extension => ".fail";
        public string Description => "test";
        public void Write(object? value, Stream destination)
        {
            var piece = new byte[100_003];
            for (var written = 0; written < 6 << 20; written += piece.Length) destination.Write(piece);
            throw new InvalidOperationException("failed after 6 MB");
        }
        public object? Read(Stream source) => throw new NotSupportedException();
    }

    /// <summary>Closes the stream it was given, as a careless StreamWriter would.</summary>
    private sealed class DisposingHandler : IAxlIoHandler
    {
        public string Name => "test-disposing";
        public string Extension => ".disp";
        public string Description => "test";
        public void Write(object? value, Stream destination)
        {
            using var w = new StreamWriter(destination);
            w.Write("some text " + value);
        }
        public object? Read(Stream source) => new StreamReader(source).ReadToEnd();
    }
}

/// <summary>A user handler: text stored reversed, extension ".rev".</summary>
internal sealed class ReversedTextHandler : IAxlIoHandler
{
    public string Name => "test-reversed";
    public string Extension => ".rev";
    public string Description => "text, reversed (test handler)";
    public void Write(object? value, Stream destination)
    {
        var s = new string((value as string ?? "").EnumerateRunes().Reverse().SelectMany(r => r.ToString()).ToArray());
        destination.Write(Encoding.UTF8.GetBytes(s));
    }
    public object? Read(Stream source)
    {
        var s = new StreamReader(source, Encoding.UTF8).ReadToEnd();
        return new string(s.EnumerateRunes().Reverse().SelectMany(r => r.ToString()).ToArray());
    }
}
