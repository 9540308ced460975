using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Axl.IO;

/// <summary>
/// What <c>&lt;name&gt;.meta.json</c> says of an artifact. Its presence marks the data file as complete.
/// <see cref="Type"/> is the .NET/PowerShell type name of the saved value (PSObject: its first type name), null for a
/// null value or a file saved with <see cref="ArtifactIO.SaveFile"/>.
/// </summary>
public sealed record ArtifactMetadata(
    string Name,
    string IoHandler,
    string Extension,
    string File,
    long Size,
    string Sha256,
    string? Type,
    DateTime CreatedUtc,
    string AxlVersion);

/// <summary>An artifact that cannot be saved or loaded: missing, incomplete, truncated, corrupted, or its metadata unreadable.</summary>
public sealed class AxlArtifactException : IOException
{
    public AxlArtifactException(string message, string path, Exception? inner = null) : base(message, inner) => Path = path;

    /// <summary>The file at fault.</summary>
    public string Path { get; }
}

/// <summary>
/// Files of step artifacts. Writes are atomic: the data goes to <c>.&lt;name&gt;&lt;ext&gt;.tmp-&lt;random&gt;</c> in the target
/// directory, is flushed to disk and renamed over <c>&lt;name&gt;&lt;ext&gt;</c>; size and SHA-256 are computed while writing.
/// Then <c>&lt;name&gt;.meta.json</c> is written the same way: it is the completion marker, so a crash at any point leaves
/// either no metadata (incomplete) or metadata that matches the data file.
/// </summary>
public static class ArtifactIO
{
    public const string MetadataSuffix = ".meta.json";
    private const string TempMarker = ".tmp-";
    private const int BufferSize = 1 << 16;

    public static string MetadataPath(string directory, string name = "output")
    {
        CheckName(name);
        return Path.Combine(directory, name + MetadataSuffix);
    }

    /// <summary>
    /// Writes <paramref name="value"/> through <paramref name="handler"/> to <c>&lt;directory&gt;/&lt;name&gt;&lt;ext&gt;</c>, then its metadata.
    /// With <paramref name="durable"/> false the data file is not synced before it is renamed into place: the caller makes
    /// it durable later (<see cref="DurableFiles.Sync"/>, many files at once) and must not record the artifact as done
    /// before that. Readers in this machine's lifetime see the complete file either way (temp file + rename).
    /// </summary>
    public static ArtifactMetadata Save(IAxlIoHandler handler, object? value, string directory, string name = "output", bool durable = true)
    {
        ArgumentNullException.ThrowIfNull(handler);
        CheckName(name);
        var extension = CheckExtension(handler);
        Directory.CreateDirectory(directory);
        var fileName = name + extension;
        var target = Path.Combine(directory, fileName);
        var temp = TempPath(directory, fileName);
        long size;
        string sha;
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, BufferSize))
            {
                var hashing = new HashingWriteStream(file, writeback: durable);
                try
                {
                    try { handler.Write(value, hashing); }
                    catch (Exception ex)
                    {
                        throw new AxlArtifactException($"IO handler '{handler.Name}' could not write artifact '{fileName}' in '{directory}': {ex.Message}", target, ex);
                    }
                    (size, sha) = hashing.Finish();
                }
                finally { hashing.Release(); }
                file.Flush(flushToDisk: durable);
            }
            if (sha.Length == 0) (size, sha) = HashFile(temp); // the handler seeked back: hash what is on disk
            // The old marker goes first, so it never vouches for a data file it does not describe.
            DeleteIfExists(MetadataPath(directory, name));
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            DeleteIfExists(temp);
            throw;
        }
        var metadata = new ArtifactMetadata(name, handler.Name, extension, fileName, size, "sha256:" + sha,
            PsValues.TypeName(value), DateTime.UtcNow, AxlInfo.Version);
        WriteMetadata(directory, metadata);
        return metadata;
    }

    /// <summary>
    /// Puts an existing file (written by a command step, or its captured stdout) in place as the artifact
    /// <c>&lt;directory&gt;/&lt;name&gt;&lt;ext&gt;</c> of <paramref name="handler"/>, atomically, and writes its metadata.
    /// The source is copied; with <paramref name="moveSource"/> it is moved instead (a rename when on the same volume).
    /// <paramref name="durable"/>: as for <see cref="Save"/>.
    /// </summary>
    public static ArtifactMetadata SaveFile(string sourcePath, string directory, IAxlIoHandler handler, string name = "output", bool moveSource = false, bool durable = true)
    {
        ArgumentNullException.ThrowIfNull(handler);
        CheckName(name);
        var extension = CheckExtension(handler);
        if (!File.Exists(sourcePath))
            throw new AxlArtifactException($"Cannot save '{sourcePath}' as artifact '{name}': the file does not exist.", sourcePath);
        Directory.CreateDirectory(directory);
        var fileName = name + extension;
        var target = Path.Combine(directory, fileName);
        var temp = TempPath(directory, fileName);
        long size;
        string sha;
        try
        {
            if (moveSource)
            {
                File.Move(sourcePath, temp);
                if (durable) DurableFiles.Sync(new[] { temp });
                (size, sha) = HashFile(temp);
            }
            else
            {
                using var input = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);
                using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize);
                var hashing = new HashingWriteStream(output, writeback: durable);
                try
                {
                    input.CopyTo(hashing, BufferSize);
                    (size, sha) = hashing.Finish();
                }
                finally { hashing.Release(); }
                output.Flush(flushToDisk: durable);
            }
            DeleteIfExists(MetadataPath(directory, name));
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception ex) when (ex is not AxlArtifactException)
        {
            // A moved source is put back where it was, if it can be.
            if (moveSource && File.Exists(temp) && !File.Exists(sourcePath)) { try { File.Move(temp, sourcePath); } catch (IOException) { } }
            DeleteIfExists(temp);
            throw new AxlArtifactException($"Cannot save '{sourcePath}' as artifact '{fileName}' in '{directory}': {ex.Message}", target, ex);
        }
        var metadata = new ArtifactMetadata(name, handler.Name, extension, fileName, size, "sha256:" + sha,
            null, DateTime.UtcNow, AxlInfo.Version);
        WriteMetadata(directory, metadata);
        return metadata;
    }

    /// <summary>The metadata of an artifact, or null when there is none (never saved, or not finished). Unreadable metadata throws.</summary>
    public static ArtifactMetadata? ReadMetadata(string directory, string name = "output")
    {
        var path = MetadataPath(directory, name);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            string Str(string field) => root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
                : throw new InvalidDataException($"field '{field}' is missing or not a string");
            var file = Str("file");
            if (file.Length == 0 || Path.GetFileName(file) != file || file is "." or "..")
                throw new InvalidDataException($"field 'file' must be a file name in the artifact directory, got '{file}'");
            var sha = Str("sha256");
            if (!sha.StartsWith("sha256:", StringComparison.Ordinal) || sha.Length != 7 + 64)
                throw new InvalidDataException($"field 'sha256' must be 'sha256:' and 64 hex digits, got '{sha}'");
            if (!root.TryGetProperty("size", out var sizeEl) || !sizeEl.TryGetInt64(out var size) || size < 0)
                throw new InvalidDataException("field 'size' is missing or not a non-negative integer");
            string? type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var created = root.TryGetProperty("createdUtc", out var c) && c.ValueKind == JsonValueKind.String
                && DateTime.TryParse(c.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var when)
                ? when : DateTime.MinValue;
            return new ArtifactMetadata(Str("name"), Str("ioHandler"), Str("extension"), file, size, sha, type, created,
                root.TryGetProperty("axlVersion", out var av) && av.ValueKind == JsonValueKind.String ? av.GetString()! : "");
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            throw new AxlArtifactException($"The metadata file '{path}' is not valid artifact metadata: {ex.Message}.", path, ex);
        }
    }

    /// <summary>The path of the data file of an artifact, as its metadata names it; throws when there is no metadata.</summary>
    public static string DataPath(string directory, string name = "output")
    {
        var metadata = ReadMetadata(directory, name)
            ?? throw new AxlArtifactException($"Artifact '{name}' in '{directory}' is incomplete: its metadata file '{MetadataPath(directory, name)}' does not exist (the step did not finish saving it).", MetadataPath(directory, name));
        return Path.Combine(directory, metadata.File);
    }

    /// <summary>
    /// True when the metadata exists and is valid, the data file it names exists with the recorded size, and, with
    /// <paramref name="verifyHash"/>, its SHA-256 matches.
    /// </summary>
    public static bool IsComplete(string directory, string name = "output", bool verifyHash = false)
    {
        try { return Problem(directory, name, verifyHash, out _) is null; }
        catch (AxlArtifactException) { return false; }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Loads an artifact with the handler its metadata names. Refuses, with an <see cref="AxlArtifactException"/> naming
    /// the file and the fault, an artifact without metadata, whose data file is missing, of another size, or (with
    /// <paramref name="verifyHash"/>, the default) whose SHA-256 differs.
    /// </summary>
    public static object? Load(string directory, string name = "output", bool verifyHash = true)
    {
        var problem = Problem(directory, name, verifyHash, out var metadata);
        if (problem is not null) throw problem;
        return Read(directory, metadata!);
    }

    /// <summary>
    /// Loads an artifact whose metadata the caller holds because it saved the artifact itself (its hash taken while it
    /// was written): the metadata is not read again and the data is not hashed again; the data file must still exist
    /// with the recorded size.
    /// </summary>
    public static object? Load(string directory, ArtifactMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var path = Path.Combine(directory, metadata.File);
        var info = new FileInfo(path);
        if (!info.Exists || info.Length != metadata.Size)
            throw new AxlArtifactException($"Artifact '{metadata.Name}' is {(info.Exists ? "corrupted" : "incomplete")}: its data file '{path}' {(info.Exists ? $"is {info.Length} bytes, it was saved with {metadata.Size}" : "does not exist")} (changed after it was saved).", path);
        return Read(directory, metadata);
    }

    private static object? Read(string directory, ArtifactMetadata metadata)
    {
        var handler = IoHandlerRegistry.Get(metadata.IoHandler);
        var path = Path.Combine(directory, metadata.File);
        try
        {
            using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);
            return handler.Read(input);
        }
        catch (Exception ex) when (ex is not AxlArtifactException)
        {
            throw new AxlArtifactException($"IO handler '{handler.Name}' could not read artifact '{path}': {ex.Message}", path, ex);
        }
    }

    /// <summary>Removes the temporary files (<c>.*.tmp-*</c>) that interrupted saves left in <paramref name="directory"/>; returns how many.</summary>
    public static int CleanTemporaryFiles(string directory, TimeSpan? olderThan = null)
    {
        if (!Directory.Exists(directory)) return 0;
        var removed = 0;
        var cutoff = DateTime.UtcNow - (olderThan ?? TimeSpan.Zero);
        foreach (var path in Directory.EnumerateFiles(directory, "." + "*" + TempMarker + "*"))
        {
            var fileName = Path.GetFileName(path);
            if (!fileName.StartsWith('.') || !fileName.Contains(TempMarker, StringComparison.Ordinal)) continue;
            try
            {
                if (olderThan is not null && File.GetLastWriteTimeUtc(path) > cutoff) continue;
                File.Delete(path);
                removed++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    private static AxlArtifactException? Problem(string directory, string name, bool verifyHash, out ArtifactMetadata? metadata)
    {
        var metaPath = MetadataPath(directory, name);
        metadata = ReadMetadata(directory, name);
        if (metadata is null)
            return new AxlArtifactException($"Artifact '{name}' in '{directory}' is incomplete: its metadata file '{metaPath}' does not exist (the step did not finish saving it, or it was never saved).", metaPath);
        var path = Path.Combine(directory, metadata.File);
        var info = new FileInfo(path);
        if (!info.Exists)
            return new AxlArtifactException($"Artifact '{name}' is incomplete: its data file '{path}' does not exist although '{metaPath}' names it.", path);
        if (info.Length != metadata.Size)
            return new AxlArtifactException($"Artifact '{name}' is corrupted: its data file '{path}' is {info.Length} bytes, the metadata says {metadata.Size} (truncated or changed after it was saved).", path);
        if (verifyHash)
        {
            var (_, sha) = HashFile(path);
            if (!string.Equals("sha256:" + sha, metadata.Sha256, StringComparison.OrdinalIgnoreCase))
                return new AxlArtifactException($"Artifact '{name}' is corrupted: the SHA-256 of its data file '{path}' is sha256:{sha}, the metadata says {metadata.Sha256} (changed after it was saved).", path);
        }
        return null;
    }

    private static void WriteMetadata(string directory, ArtifactMetadata m)
    {
        var fileName = m.Name + MetadataSuffix;
        var target = Path.Combine(directory, fileName);
        var temp = TempPath(directory, fileName);
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096))
            {
                using (var w = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartObject();
                    w.WriteString("name", m.Name);
                    w.WriteString("ioHandler", m.IoHandler);
                    w.WriteString("extension", m.Extension);
                    w.WriteString("file", m.File);
                    w.WriteNumber("size", m.Size);
                    w.WriteString("sha256", m.Sha256);
                    if (m.Type is null) w.WriteNull("type"); else w.WriteString("type", m.Type);
                    w.WriteString("createdUtc", m.CreatedUtc.ToString("o", CultureInfo.InvariantCulture));
                    w.WriteString("axlVersion", m.AxlVersion);
                    w.WriteEndObject();
                }
                file.Write("\n"u8);
                // No fsync: the data file was synced before this marker; after a power loss a torn or missing marker
                // only makes the artifact incomplete (re-run on resume), never a wrong artifact taken for complete.
                file.Flush();
            }
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            DeleteIfExists(temp);
            throw;
        }
    }

    private static string TempPath(string directory, string fileName) =>
        Path.Combine(directory, "." + fileName + TempMarker + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant());

    private static (long Size, string Sha) HashFile(string path)
    {
        using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);
        var hash = SHA256.HashData(input);
        return (input.Length, Convert.ToHexString(hash).ToLowerInvariant());
    }

    private static void DeleteIfExists(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name is "." or ".." || name.StartsWith('.')
            || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains('/') || name.Contains('\\'))
            throw new ArgumentException($"'{name}' cannot be an artifact name: use a plain file name that does not start with '.' (letters, digits, '-', '_').", nameof(name));
    }

    private static string CheckExtension(IAxlIoHandler handler)
    {
        var ext = handler.Extension;
        if (string.IsNullOrEmpty(ext) || !ext.StartsWith('.') || ext.Length < 2 || ext.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
            || ext.Contains('/') || ext.Contains('\\') || ext.Equals(MetadataSuffix, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"IO handler '{handler.Name}' has the extension '{ext}', which cannot name an artifact file: it must start with '.' and be a plain file-name suffix.", nameof(handler));
        return ext;
    }

    /// <summary>
    /// Write-only pass-through that hashes and counts what goes to the file. Seekable when the file is (Arrow's writer asks);
    /// a handler that seeks back and overwrites makes the hash void, and the caller hashes the finished file instead.
    /// Disposing it leaves the file open (the runtime owns the file). With <paramref name="writeback"/> (a file to be synced
    /// when written), the disk is asked to start writing every <see cref="WritebackBytes"/> written
    /// (<see cref="DurableFiles.StartWriteback"/>), so that the final fsync waits for the last part only.
    /// </summary>
    private sealed class HashingWriteStream(FileStream inner, bool writeback) : Stream
    {
        private const long WritebackBytes = 4 << 20;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _hashed;
        private long _writtenBack;
        private bool _sequential = true;
        private bool _closed;

        public override bool CanRead => false;
        public override bool CanSeek => !_closed;
        public override bool CanWrite => !_closed;
        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => Seek(value, SeekOrigin.Begin);
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            Open();
            var p = inner.Seek(offset, origin);
            if (p != _hashed) _sequential = false;
            return p;
        }

        public override void SetLength(long value)
        {
            Open();
            if (value != _hashed) _sequential = false;
            inner.SetLength(value);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Open();
            if (inner.Position != _hashed) _sequential = false;
            inner.Write(buffer);
            if (!_sequential) return;
            _hash.AppendData(buffer);
            _hashed += buffer.Length;
            if (writeback && _hashed - _writtenBack >= WritebackBytes)
            {
                inner.Flush();
                DurableFiles.StartWriteback(inner.SafeFileHandle, _writtenBack, _hashed - _writtenBack);
                _writtenBack = _hashed;
            }
        }

        public override void WriteByte(byte value) => Write(new ReadOnlySpan<byte>(in value));

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush() { if (!_closed) inner.Flush(); }
        public override Task FlushAsync(CancellationToken cancellationToken) { Flush(); return Task.CompletedTask; }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("An artifact being written cannot be read back.");

        /// <summary>Size and hex SHA-256 of the file, or an empty hash when the writes were not one sequential pass.</summary>
        public (long Size, string Sha) Finish()
        {
            _closed = true;
            inner.Flush();
            var sequential = _sequential && inner.Length == _hashed;
            var hash = _hash.GetHashAndReset();
            return sequential ? (_hashed, Convert.ToHexString(hash).ToLowerInvariant()) : (inner.Length, "");
        }

        private void Open()
        {
            if (_closed) throw new ObjectDisposedException(nameof(HashingWriteStream), "The artifact stream is closed: the handler wrote after returning.");
        }

        // A handler may dispose the stream it was given: that changes nothing, the file stays open for the runtime
        // to flush and rename, and the hash lives until Release.
        protected override void Dispose(bool disposing) { }

        public void Release() => _hash.Dispose();
    }
}
