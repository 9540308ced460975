using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;

namespace Axl.IO;

/// <summary>
/// The write-only stream an artifact's handler writes to (<see cref="ArtifactIO"/>): it hashes (SHA-256) and counts what
/// goes to the file. Past the first <see cref="ChunkBytes"/>, the bytes are copied into chunks that a second thread hashes
/// and writes to the file, in order, while the handler goes on encoding: at most <see cref="ChunksInFlight"/> chunks are
/// waiting (the handler waits only when all are), so memory stays bounded whatever the size of the file. A smaller file is
/// hashed and written on the handler's thread when it is finished (no thread for it).
/// <para>Seekable when the file is (Arrow's writer asks): a seek first writes out every waiting chunk. A handler that seeks
/// back and overwrites makes the hash void, and the caller hashes the finished file instead. Disposing it leaves the file
/// open (the runtime owns the file). With <paramref name="writeback"/> (a file to be synced when written), the disk is asked
/// to start writing every <see cref="WritebackBytes"/> written (<see cref="DurableFiles.StartWriteback"/>), so that the
/// final fsync waits for the last part only.</para>
/// </summary>
internal sealed class HashingWriteStream(FileStream inner, bool writeback) : Stream
{
    internal const int ChunkBytes = 1 << 20;
    private const int ChunksInFlight = 4;
    private const long WritebackBytes = 4 << 20;

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    /// <summary>Bytes taken from the handler in its sequential pass (the logical end of the file while sequential).</summary>
    private long _position;
    /// <summary>Bytes hashed and written to the file (by the writer thread while it runs).</summary>
    private long _hashed;
    private long _writtenBack;
    private bool _sequential = true;
    private bool _closed;

    // The chunk being filled, and the pipeline to the writer thread (started at the first full chunk).
    private byte[]? _chunk;
    private int _filled;
    private BlockingCollection<(byte[] Chunk, int Count)>? _queue;
    private SemaphoreSlim? _free;
    private Thread? _writer;
    private ExceptionDispatchInfo? _failure;

    /// <summary>How many times this process handed chunks to a writer thread (for tests).</summary>
    internal static long PipelinesStarted => Interlocked.Read(ref _pipelines);
    private static long _pipelines;

    public override bool CanRead => false;
    public override bool CanSeek => !_closed;
    public override bool CanWrite => !_closed;
    public override long Length => _sequential ? _position : inner.Length;

    public override long Position
    {
        get => _sequential ? _position : inner.Position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Open();
        if (_sequential)
        {
            var target = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => _position + offset };
            if (target == _position) return _position;
            Drain();
            _sequential = false;
        }
        return inner.Seek(offset, origin);
    }

    public override void SetLength(long value)
    {
        Open();
        if (_sequential)
        {
            if (value == _position) return;
            Drain();
            _sequential = false;
        }
        inner.SetLength(value);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Open();
        if (!_sequential)
        {
            inner.Write(buffer);
            return;
        }
        _position += buffer.Length;
        while (!buffer.IsEmpty)
        {
            _chunk ??= Rent();
            var n = Math.Min(buffer.Length, _chunk.Length - _filled);
            buffer[..n].CopyTo(_chunk.AsSpan(_filled));
            _filled += n;
            buffer = buffer[n..];
            if (_filled == _chunk.Length) Submit();
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

    /// <summary>
    /// Nothing to do while sequential: the chunks reach the file in order, and the runtime writes the last one before it
    /// syncs and renames the file (<see cref="Finish"/>); no one reads the temporary file before that.
    /// </summary>
    public override void Flush()
    {
        if (!_closed && !_sequential) inner.Flush();
    }

    public override Task FlushAsync(CancellationToken cancellationToken) { Flush(); return Task.CompletedTask; }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("An artifact being written cannot be read back.");

    /// <summary>Size and hex SHA-256 of the file, or an empty hash when the writes were not one sequential pass.</summary>
    public (long Size, string Sha) Finish()
    {
        Open();
        Drain();
        _closed = true;
        inner.Flush();
        var sequential = _sequential && inner.Length == _hashed;
        var hash = _hash.GetHashAndReset();
        return sequential ? (_hashed, Convert.ToHexString(hash).ToLowerInvariant()) : (inner.Length, "");
    }

    /// <summary>
    /// Drops everything written so far (the file emptied, the hash and size started again): the handler writes the file
    /// again from its start (<see cref="TableSource.Write"/>).
    /// </summary>
    internal void Restart()
    {
        Open();
        Stop();
        _filled = 0;
        inner.Flush();
        inner.SetLength(0);
        inner.Seek(0, SeekOrigin.Begin);
        _hash.GetHashAndReset();
        _position = _hashed = _writtenBack = 0;
        _sequential = true;
    }

    /// <summary>Stops the writer thread if the handler failed midway, and returns the chunks; the file stays open.</summary>
    public void Release()
    {
        _closed = true;
        try { Stop(); }
        catch (Exception) { } // the handler's own failure is the one reported
        if (_chunk is not null) { ArrayPool<byte>.Shared.Return(_chunk); _chunk = null; }
        _hash.Dispose();
    }

    // A handler may dispose the stream it was given: that changes nothing, the file stays open for the runtime
    // to flush and rename, and the hash lives until Release.
    protected override void Dispose(bool disposing) { }

    private void Open()
    {
        if (_closed) throw new ObjectDisposedException(nameof(HashingWriteStream), "The artifact stream is closed: the handler wrote after returning.");
    }

    private static byte[] Rent() => ArrayPool<byte>.Shared.Rent(ChunkBytes);

    /// <summary>Hands the full chunk to the writer thread (started now if it is the first), waiting only when every chunk is in flight.</summary>
    private void Submit()
    {
        _failure?.Throw();
        if (_writer is null)
        {
            _queue = new BlockingCollection<(byte[], int)>();
            _free = new SemaphoreSlim(ChunksInFlight, ChunksInFlight);
            _writer = new Thread(WriteChunks) { IsBackground = true, Name = "axl artifact writer" };
            _writer.Start();
            Interlocked.Increment(ref _pipelines);
        }
        _free!.Wait();
        _queue!.Add((_chunk!, _filled));
        _chunk = null;
        _filled = 0;
    }

    private void WriteChunks()
    {
        foreach (var (chunk, count) in _queue!.GetConsumingEnumerable())
        {
            try
            {
                if (_failure is null) Append(chunk.AsSpan(0, count));
            }
            catch (Exception ex)
            {
                _failure = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
                _free!.Release();
            }
        }
    }

    /// <summary>Writes and hashes bytes of the sequential pass, starting the writeback as they accumulate.</summary>
    private void Append(ReadOnlySpan<byte> bytes)
    {
        inner.Write(bytes);
        _hash.AppendData(bytes);
        _hashed += bytes.Length;
        if (writeback && _hashed - _writtenBack >= WritebackBytes)
        {
            inner.Flush();
            DurableFiles.StartWriteback(inner.SafeFileHandle, _writtenBack, _hashed - _writtenBack);
            _writtenBack = _hashed;
        }
    }

    /// <summary>Everything taken so far written to the file and hashed, the writer thread stopped; its failure rethrown.</summary>
    private void Drain()
    {
        Stop();
        if (_filled > 0) Append(_chunk.AsSpan(0, _filled));
        _filled = 0;
    }

    private void Stop()
    {
        if (_writer is not null)
        {
            _queue!.CompleteAdding();
            _writer.Join();
            _writer = null;
            _queue.Dispose();
            _free!.Dispose();
            _queue = null;
            _free = null;
        }
        _failure?.Throw();
    }
}
