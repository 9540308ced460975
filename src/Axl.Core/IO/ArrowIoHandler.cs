using System.Runtime.CompilerServices;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Array = System.Array;

namespace Axl.IO;

/// <summary>
/// Apache Arrow IPC file (Feather v2 layout, uncompressed): the same table mapping as <see cref="ParquetIoHandler"/>
/// (typed, nullable columns: int64, double, bool, utf8, timestamp UTC) in record batches of at most
/// <see cref="ColumnTyping.RowsPerGroup"/> rows. Reads back an object[] of PSCustomObjects with typed values.
/// </summary>
public sealed class ArrowIoHandler : IAxlIoHandler
{
    /// <summary>A record batch is cut before its string columns pass this many characters (Arrow utf8 offsets are 32-bit).</summary>
    private const long MaxStringCharsPerBatch = 256L * 1024 * 1024;

    /// <summary>Set by tests (on their thread): a smaller <see cref="MaxStringCharsPerBatch"/>.</summary>
    [ThreadStatic] internal static long? MaxStringCharsForTests;

    public string Name => "arrow";
    public string Extension => ".arrow";
    public string Description => "Apache Arrow IPC columnar table (typed, nullable columns)";

    public void Write(object? value, Stream destination)
    {
        var table = TableSource.Open(value);
        table.Write(destination, (nanos, check) => Write(table, destination, nanos, check));
    }

    /// <param name="nanos">Per column: dates as nanoseconds (else microseconds).</param>
    /// <param name="checkNanos">The nanoseconds are a guess: each date is checked (<see cref="TableSource.Write"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Write(TableSource table, Stream destination, bool[] nanos, bool checkNanos)
    {
        var kinds = table.Kinds;
        var types = new IArrowType[kinds.Length];
        var builder = new Schema.Builder();
        for (var c = 0; c < kinds.Length; c++)
        {
            types[c] = kinds[c] switch
            {
                ColumnKind.Long => Int64Type.Default,
                ColumnKind.Double => DoubleType.Default,
                ColumnKind.Bool => BooleanType.Default,
                ColumnKind.DateTime => new TimestampType(nanos[c] ? TimeUnit.Nanosecond : TimeUnit.Microsecond, "UTC"),
                _ => StringType.Default,
            };
            var type = types[c];
            builder.Field(f => f.Name(table.Columns[c]).DataType(type).Nullable(true));
        }
        var schema = builder.Build();
        var rowCount = kinds.Length == 0 ? 0 : table.RowCount;

        using var writer = new ArrowFileWriter(destination, schema, leaveOpen: true);
        writer.WriteStart();
        // The typed values of one batch (all its columns filled together, the characters of its strings counted: they may cut it).
        using var reader = new BatchReader(table, Math.Min(ColumnTyping.RowsPerGroup, rowCount), countChars: true);
        var strings = new string?[]?[kinds.Length];
        var outputs = new ColumnBuffers[kinds.Length];
        for (var c = 0; c < kinds.Length; c++) outputs[c] = new ColumnBuffers();
        var start = 0;
        while (start < rowCount)
        {
            // Batch boundary: at most RowsPerGroup rows, and string data well under the 2 GB of 32-bit offsets.
            var max = Math.Min(ColumnTyping.RowsPerGroup, rowCount - start);
            var values = reader.Read(start, max, Math.Min(ColumnTyping.RowsPerGroup, rowCount - start - max));
            var end = start + max;
            var limit = MaxStringCharsForTests ?? MaxStringCharsPerBatch;
            if (values.StringChars > limit)
            {
                for (var c = 0; c < kinds.Length; c++) if (kinds[c] == ColumnKind.String) strings[c] = values.Strings(c);
                end = start;
                long chars = 0;
                while (end - start < max)
                {
                    long rowChars = 0;
                    foreach (var s in strings) if (s?[end - start] is { } v) rowChars += v.Length;
                    if (end > start && chars + rowChars > limit) break;
                    chars += rowChars;
                    end++;
                }
            }
            var arrays = new IArrowArray[kinds.Length];
            for (var c = 0; c < kinds.Length; c++) arrays[c] = BuildArray(values, c, kinds[c], types[c], outputs[c], end - start, checkNanos);
            using var batch = new RecordBatch(schema, arrays, end - start);
            writer.WriteRecordBatch(batch);
            start = end;
        }
        writer.WriteEnd();
        destination.Flush();
    }

    /// <summary>
    /// The bytes of one column's arrays, reused from batch to batch (a batch is written before the next is built): no
    /// allocation per batch, so no large-object garbage (which would bring full collections over the caller's rows).
    /// </summary>
    private sealed class ColumnBuffers
    {
        public byte[] Data = Array.Empty<byte>();
        public byte[] Validity = Array.Empty<byte>();
        public byte[] Offsets = Array.Empty<byte>();

        /// <summary><paramref name="array"/>, at least <paramref name="bytes"/> long, the first <paramref name="keep"/> bytes kept.</summary>
        public static byte[] Ensure(ref byte[] array, long bytes, int keep = 0)
        {
            if (array.Length >= bytes) return array;
            if (bytes > Array.MaxLength) throw new InvalidOperationException("A record batch's column passed 2 GB.");
            var grown = new byte[(int)Math.Min(Array.MaxLength, Math.Max(bytes, array.Length * 2L))];
            array.AsSpan(0, keep).CopyTo(grown);
            return array = grown;
        }
    }

    // The arrays are made from their buffers directly (no builder appends): the same layout the Arrow builders give
    // (values padded to 64 bytes with zeros, no validity bitmap without nulls), so the same bytes; tests compare with the builders.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IArrowArray BuildArray(ColumnBatch batch, int c, ColumnKind kind, IArrowType type, ColumnBuffers output, int n, bool checkNanos)
    {
        switch (kind)
        {
            case ColumnKind.Long:
            {
                var values = batch.Longs(c)[..n];
                var data = Fixed<long>(output, n, out var dest);
                var nulls = Unwrap<long>(values, dest);
                return new Int64Array(new ArrayData(type, n, nulls, 0, new[] { Validity(output, values, nulls), data }));
            }
            case ColumnKind.Double:
            {
                var values = batch.Doubles(c)[..n];
                var data = Fixed<double>(output, n, out var dest);
                var nulls = Unwrap<double>(values, dest);
                return new DoubleArray(new ArrayData(type, n, nulls, 0, new[] { Validity(output, values, nulls), data }));
            }
            case ColumnKind.Bool:
            {
                var values = batch.Bools(c)[..n];
                var length = Pad64((n + 7) / 8);
                var bits = ColumnBuffers.Ensure(ref output.Data, length).AsSpan(0, length);
                bits.Clear();
                var nulls = 0;
                for (var r = 0; r < n; r++)
                {
                    if (values[r] is { } b) { if (b) bits[r >> 3] |= (byte)(1 << (r & 7)); }
                    else nulls++;
                }
                return new BooleanArray(new ArrayData(type, n, nulls, 0, new[] { Validity(output, values, nulls), new ArrowBuffer(output.Data.AsMemory(0, length)) }));
            }
            case ColumnKind.DateTime:
            {
                var values = batch.Dates(c)[..n];
                var nanos = ((TimestampType)type).Unit == TimeUnit.Nanosecond;
                var check = nanos && checkNanos;
                var data = Fixed<long>(output, n, out var dest);
                var nulls = 0;
                for (var r = 0; r < n; r++)
                {
                    if (values[r] is { } d)
                    {
                        if (check && !TableSource.FitsNanos(d)) throw new TableSource.NanosDoNotFit();
                        var ticks = d.Ticks - DateTime.UnixEpoch.Ticks;
                        dest[r] = nanos ? ticks * 100 : ticks / 10;
                    }
                    else { dest[r] = 0; nulls++; }
                }
                return new TimestampArray(new ArrayData(type, n, nulls, 0, new[] { Validity(output, values, nulls), data }));
            }
            default:
                return Strings(type, batch.Strings(c).AsSpan(0, n), output);
        }
    }

    private static int Pad64(long bytes) => checked((int)((bytes + 63) & ~63L));

    /// <summary>The values of <paramref name="values"/> into <paramref name="dest"/>, a null as 0 (its validity bit says null); how many nulls.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Unwrap<T>(ReadOnlySpan<T?> values, Span<T> dest) where T : struct
    {
        var nulls = 0;
        for (var r = 0; r < values.Length; r++)
        {
            if (values[r] is { } v) dest[r] = v;
            else { dest[r] = default; nulls++; }
        }
        return nulls;
    }

    /// <summary>The value buffer of a fixed-width column of <paramref name="n"/> values (padded to 64 bytes with zeros) and its values to fill.</summary>
    private static ArrowBuffer Fixed<T>(ColumnBuffers output, int n, out Span<T> values) where T : unmanaged
    {
        var size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var length = Pad64((long)n * size);
        var bytes = ColumnBuffers.Ensure(ref output.Data, length);
        bytes.AsSpan(n * size, length - n * size).Clear();
        values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes.AsSpan(0, n * size));
        return new ArrowBuffer(bytes.AsMemory(0, length));
    }

    /// <summary>The validity bitmap of a column (padded to 64 bytes), empty without nulls.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ArrowBuffer Validity<T>(ColumnBuffers output, ReadOnlySpan<T?> values, int nulls) where T : struct
    {
        if (nulls == 0) return ArrowBuffer.Empty;
        var length = Pad64((values.Length + 7) / 8);
        var bits = ColumnBuffers.Ensure(ref output.Validity, length).AsSpan(0, length);
        bits.Clear();
        for (var r = 0; r < values.Length; r++) if (values[r].HasValue) bits[r >> 3] |= (byte)(1 << (r & 7));
        return new ArrowBuffer(output.Validity.AsMemory(0, length));
    }

    /// <summary>A utf8 column: int32 offsets and the UTF-8 bytes of every value, encoded in one pass into one buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static StringArray Strings(IArrowType type, ReadOnlySpan<string?> values, ColumnBuffers output)
    {
        var n = values.Length;
        var offsetLength = Pad64((n + 1) * 4L);
        var offsetBytes = ColumnBuffers.Ensure(ref output.Offsets, offsetLength);
        var offsets = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(offsetBytes.AsSpan(0, offsetLength));
        offsets.Clear();
        var nulls = 0;
        var at = 0;
        for (var r = 0; r < n; r++)
        {
            offsets[r] = at;
            if (values[r] is { } s)
            {
                var max = at + ColumnTyping.MaxUtf8Bytes(s.Length);
                if (max > int.MaxValue) throw new InvalidOperationException("A record batch's strings passed 2 GB of UTF-8.");
                at += ColumnTyping.Utf8(s, ColumnBuffers.Ensure(ref output.Data, max, at).AsSpan(at));
            }
            else nulls++;
        }
        offsets[n] = at;
        var dataLength = Pad64(at);
        ColumnBuffers.Ensure(ref output.Data, dataLength, at).AsSpan(at, dataLength - at).Clear();
        ArrowBuffer validity;
        if (nulls == 0) validity = ArrowBuffer.Empty;
        else
        {
            var length = Pad64((n + 7) / 8);
            var bits = ColumnBuffers.Ensure(ref output.Validity, length).AsSpan(0, length);
            bits.Clear();
            for (var r = 0; r < n; r++) if (values[r] is not null) bits[r >> 3] |= (byte)(1 << (r & 7));
            validity = new ArrowBuffer(output.Validity.AsMemory(0, length));
        }
        return new StringArray(new ArrayData(type, n, nulls, 0, new[] { validity, new ArrowBuffer(output.Offsets.AsMemory(0, offsetLength)), new ArrowBuffer(output.Data.AsMemory(0, dataLength)) }));
    }

    public object? Read(Stream source)
    {
        var input = source;
        if (!source.CanSeek)
        {
            var buffer = new MemoryStream();
            source.CopyTo(buffer);
            buffer.Position = 0;
            input = buffer;
        }
        // Apache.Arrow reads a file only asynchronously: run it on the thread pool so that blocking cannot deadlock.
        var classes = TableRows.ClassesAllowed;
        return Task.Run(() => ReadAsync(input, classes)).GetAwaiter().GetResult();
    }

    private static async Task<object?> ReadAsync(Stream input, bool classes)
    {
        using var reader = new ArrowFileReader(input, leaveOpen: true);
        var count = await reader.RecordBatchCountAsync().ConfigureAwait(false);
        TableRows? rows = null;
        string[]? names = null;
        // One record batch at a time: its columns made into rows, then the batch dropped.
        for (var i = 0; i < count; i++)
        {
            using var batch = await reader.ReadRecordBatchAsync(i).ConfigureAwait(false);
            names ??= batch.Schema.FieldsList.Select(f => f.Name).ToArray();
            var columns = new Array[batch.ColumnCount];
            for (var c = 0; c < columns.Length; c++) columns[c] = Values(batch.Column(c), names[c]);
            rows ??= new TableRows(names, columns.Select(a => a.GetType().GetElementType()!).ToArray(), classes);
            rows.Add(columns, batch.Length);
        }
        return rows?.ToArray() ?? Array.Empty<object?>();
    }

    /// <summary>One value of an Arrow array, as <see cref="Read"/> gives it.</summary>
    internal static object? Value(IArrowArray array, int i, string name) => array switch
    {
        TimestampArray a => a.GetTimestamp(i)?.UtcDateTime,
        Date32Array a => a.GetDateTime(i),
        Date64Array a => a.GetDateTime(i),
        Int64Array a => a.GetValue(i),
        Int32Array a => a.GetValue(i),
        Int16Array a => a.GetValue(i),
        Int8Array a => a.GetValue(i),
        UInt64Array a => a.GetValue(i),
        UInt32Array a => a.GetValue(i),
        UInt16Array a => a.GetValue(i),
        UInt8Array a => a.GetValue(i),
        DoubleArray a => a.GetValue(i),
        FloatArray a => a.GetValue(i),
        BooleanArray a => a.GetValue(i),
        Decimal128Array a => a.GetValue(i),
        StringArray a => a.IsNull(i) ? null : a.GetString(i),
        LargeStringArray a => a.IsNull(i) ? null : a.GetString(i),
        BinaryArray a => a.IsNull(i) ? null : a.GetBytes(i).ToArray(),
        NullArray => null,
        _ => throw new NotSupportedException($"The arrow IO handler cannot read column '{name}' of Arrow type {array.Data.DataType.Name}."),
    };

    /// <summary>
    /// The values of an Arrow array as a typed .NET array (long?[], double?[], string?[], DateTime?[] UTC, ...; object?[]
    /// for binary and null columns): what the rows' properties hold. The element type depends on the Arrow type only.
    /// </summary>
    private static Array Values(IArrowArray array, string name)
    {
        var n = array.Length;
        switch (array)
        {
            case TimestampArray a: { var r = new DateTime?[n]; for (var i = 0; i < n; i++) r[i] = a.GetTimestamp(i)?.UtcDateTime; return r; }
            case Date32Array a: { var r = new DateTime?[n]; for (var i = 0; i < n; i++) r[i] = a.GetDateTime(i); return r; }
            case Date64Array a: { var r = new DateTime?[n]; for (var i = 0; i < n; i++) r[i] = a.GetDateTime(i); return r; }
            case Int64Array a: return Primitive(a);
            case Int32Array a: return Primitive(a);
            case Int16Array a: return Primitive(a);
            case Int8Array a: return Primitive(a);
            case UInt64Array a: return Primitive(a);
            case UInt32Array a: return Primitive(a);
            case UInt16Array a: return Primitive(a);
            case UInt8Array a: return Primitive(a);
            case DoubleArray a: return Primitive(a);
            case FloatArray a: return Primitive(a);
            case BooleanArray a: { var r = new bool?[n]; for (var i = 0; i < n; i++) r[i] = a.GetValue(i); return r; }
            case Decimal128Array a: { var r = new decimal?[n]; for (var i = 0; i < n; i++) r[i] = a.GetValue(i); return r; }
            case StringArray a: { var r = new string?[n]; for (var i = 0; i < n; i++) r[i] = a.IsNull(i) ? null : a.GetString(i); return r; }
            case LargeStringArray a: { var r = new string?[n]; for (var i = 0; i < n; i++) r[i] = a.IsNull(i) ? null : a.GetString(i); return r; }
            case BinaryArray a: { var r = new object?[n]; for (var i = 0; i < n; i++) r[i] = a.IsNull(i) ? null : a.GetBytes(i).ToArray(); return r; }
            case NullArray: return new object?[n];
            default:
                throw new NotSupportedException($"The arrow IO handler cannot read column '{name}' of Arrow type {array.Data.DataType.Name}.");
        }
    }

    private static T?[] Primitive<T>(PrimitiveArray<T> a) where T : struct, IEquatable<T>
    {
        var n = a.Length;
        var result = new T?[n];
        if (a.NullCount == 0)
        {
            var values = a.Values;
            for (var i = 0; i < n; i++) result[i] = values[i];
        }
        else for (var i = 0; i < n; i++) result[i] = a.GetValue(i);
        return result;
    }
}
