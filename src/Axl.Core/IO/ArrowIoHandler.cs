using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;

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

    public string Name => "arrow";
    public string Extension => ".arrow";
    public string Description => "Apache Arrow IPC columnar table (typed, nullable columns)";

    public void Write(object? value, Stream destination)
    {
        var table = TableSource.Open(value);
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
                ColumnKind.DateTime => new TimestampType(table.Nanos[c] ? TimeUnit.Nanosecond : TimeUnit.Microsecond, "UTC"),
                _ => StringType.Default,
            };
            var type = types[c];
            builder.Field(f => f.Name(table.Columns[c]).DataType(type).Nullable(true));
        }
        var schema = builder.Build();
        var rowCount = kinds.Length == 0 ? 0 : table.RowCount;

        using var writer = new ArrowFileWriter(destination, schema, leaveOpen: true);
        writer.WriteStart();
        // Buffers of one batch: the text of the string columns (to cut the batch), one typed column at a time.
        var size = Math.Min(ColumnTyping.RowsPerGroup, rowCount);
        var strings = new string?[kinds.Length][];
        for (var c = 0; c < kinds.Length; c++) if (kinds[c] == ColumnKind.String) strings[c] = new string?[size];
        var buffers = new Buffers(size);
        var start = 0;
        while (start < rowCount)
        {
            // Batch boundary: at most RowsPerGroup rows, and string data well under the 2 GB of 32-bit offsets.
            var max = Math.Min(ColumnTyping.RowsPerGroup, rowCount - start);
            for (var c = 0; c < kinds.Length; c++) if (strings[c] is { } s) table.FillString(c, start, s.AsSpan(0, max));
            var end = start;
            long chars = 0;
            while (end - start < max)
            {
                long rowChars = 0;
                foreach (var s in strings) if (s?[end - start] is { } v) rowChars += v.Length;
                if (end > start && chars + rowChars > MaxStringCharsPerBatch) break;
                chars += rowChars;
                end++;
            }
            var arrays = new IArrowArray[kinds.Length];
            for (var c = 0; c < kinds.Length; c++) arrays[c] = BuildArray(table, c, kinds[c], types[c], strings[c], buffers, start, end);
            using var batch = new RecordBatch(schema, arrays, end - start);
            writer.WriteRecordBatch(batch);
            start = end;
        }
        writer.WriteEnd();
        destination.Flush();
    }

    private sealed class Buffers(int size)
    {
        public long?[] Longs => _longs ??= new long?[size];
        public double?[] Doubles => _doubles ??= new double?[size];
        public bool?[] Bools => _bools ??= new bool?[size];
        public DateTime?[] Dates => _dates ??= new DateTime?[size];
        private long?[]? _longs;
        private double?[]? _doubles;
        private bool?[]? _bools;
        private DateTime?[]? _dates;
    }

    private static IArrowArray BuildArray(TableSource table, int c, ColumnKind kind, IArrowType type, string?[]? strings, Buffers buffers, int start, int end)
    {
        var n = end - start;
        switch (kind)
        {
            case ColumnKind.Long:
            {
                var values = buffers.Longs.AsSpan(0, n);
                table.FillLong(c, start, values);
                var b = new Int64Array.Builder().Reserve(n);
                foreach (var v in values) { if (v is { } x) b.Append(x); else b.AppendNull(); }
                return b.Build();
            }
            case ColumnKind.Double:
            {
                var values = buffers.Doubles.AsSpan(0, n);
                table.FillDouble(c, start, values);
                var b = new DoubleArray.Builder().Reserve(n);
                foreach (var v in values) { if (v is { } x) b.Append(x); else b.AppendNull(); }
                return b.Build();
            }
            case ColumnKind.Bool:
            {
                var values = buffers.Bools.AsSpan(0, n);
                table.FillBool(c, start, values);
                var b = new BooleanArray.Builder().Reserve(n);
                foreach (var v in values) { if (v is { } x) b.Append(x); else b.AppendNull(); }
                return b.Build();
            }
            case ColumnKind.DateTime:
            {
                var values = buffers.Dates.AsSpan(0, n);
                table.FillDate(c, start, values);
                var b = new TimestampArray.Builder((TimestampType)type).Reserve(n);
                foreach (var v in values) { if (v is { } x) b.Append(new DateTimeOffset(x)); else b.AppendNull(); }
                return b.Build();
            }
            default:
            {
                var b = new StringArray.Builder();
                for (var r = 0; r < n; r++) { if (strings![r] is { } s) b.Append(s); else b.AppendNull(); }
                return b.Build();
            }
        }
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
        return Task.Run(() => ReadAsync(input)).GetAwaiter().GetResult();
    }

    private static async Task<object?> ReadAsync(Stream input)
    {
        using var reader = new ArrowFileReader(input, leaveOpen: true);
        var count = await reader.RecordBatchCountAsync().ConfigureAwait(false);
        var rows = new List<object?>();
        for (var i = 0; i < count; i++)
        {
            using var batch = await reader.ReadRecordBatchAsync(i).ConfigureAwait(false);
            var names = batch.Schema.FieldsList.Select(f => f.Name).ToArray();
            var columns = new object?[batch.ColumnCount][];
            for (var c = 0; c < columns.Length; c++) columns[c] = Values(batch.Column(c), names[c]);
            ColumnTyping.AppendRows(rows, names, columns, batch.Length);
        }
        return rows.ToArray();
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

    private static object?[] Values(IArrowArray array, string name)
    {
        var n = array.Length;
        var result = new object?[n];
        switch (array)
        {
            case TimestampArray a: for (var i = 0; i < n; i++) result[i] = a.GetTimestamp(i)?.UtcDateTime; break;
            case Date32Array a: for (var i = 0; i < n; i++) result[i] = a.GetDateTime(i); break;
            case Date64Array a: for (var i = 0; i < n; i++) result[i] = a.GetDateTime(i); break;
            case Int64Array a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case Int32Array a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case Int16Array a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case Int8Array a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case UInt64Array a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case UInt32Array a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case UInt16Array a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case UInt8Array a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case DoubleArray a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case FloatArray a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case BooleanArray a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case Decimal128Array a: for (var i = 0; i < n; i++) result[i] = a.GetValue(i); break;
            case StringArray a: for (var i = 0; i < n; i++) result[i] = a.IsNull(i) ? null : a.GetString(i); break;
            case LargeStringArray a: for (var i = 0; i < n; i++) result[i] = a.IsNull(i) ? null : a.GetString(i); break;
            case BinaryArray a: for (var i = 0; i < n; i++) result[i] = a.IsNull(i) ? null : a.GetBytes(i).ToArray(); break;
            case NullArray: break;
            default:
                throw new NotSupportedException($"The arrow IO handler cannot read column '{name}' of Arrow type {array.Data.DataType.Name}.");
        }
        return result;
    }
}
