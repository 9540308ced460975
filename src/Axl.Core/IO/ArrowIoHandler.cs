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
        var table = RowTable.From(value);
        var kinds = ColumnTyping.Infer(table);
        var types = new IArrowType[kinds.Length];
        var strings = new string?[kinds.Length][];
        var builder = new Schema.Builder();
        for (var c = 0; c < kinds.Length; c++)
        {
            types[c] = kinds[c] switch
            {
                ColumnKind.Long => Int64Type.Default,
                ColumnKind.Double => DoubleType.Default,
                ColumnKind.Bool => BooleanType.Default,
                ColumnKind.DateTime => new TimestampType(ParquetIoHandler.FitsNanoseconds(table, c) ? TimeUnit.Nanosecond : TimeUnit.Microsecond, "UTC"),
                _ => StringType.Default,
            };
            if (kinds[c] == ColumnKind.String)
            {
                var s = strings[c] = new string?[table.Rows.Count];
                for (var r = 0; r < s.Length; r++) s[r] = ColumnTyping.ToStr(table.Cell(r, c));
            }
            var type = types[c];
            builder.Field(f => f.Name(table.Columns[c]).DataType(type).Nullable(true));
        }
        var schema = builder.Build();
        var rowCount = kinds.Length == 0 ? 0 : table.Rows.Count;

        using var writer = new ArrowFileWriter(destination, schema, leaveOpen: true);
        writer.WriteStart();
        var start = 0;
        while (start < rowCount)
        {
            // Batch boundary: at most RowsPerGroup rows, and string data well under the 2 GB of 32-bit offsets.
            var end = start;
            long chars = 0;
            while (end < rowCount && end - start < ColumnTyping.RowsPerGroup)
            {
                long rowChars = 0;
                foreach (var s in strings) if (s?[end] is { } v) rowChars += v.Length;
                if (end > start && chars + rowChars > MaxStringCharsPerBatch) break;
                chars += rowChars;
                end++;
            }
            var arrays = new IArrowArray[kinds.Length];
            for (var c = 0; c < kinds.Length; c++) arrays[c] = BuildArray(table, c, kinds[c], types[c], strings[c], start, end);
            using var batch = new RecordBatch(schema, arrays, end - start);
            writer.WriteRecordBatch(batch);
            start = end;
        }
        writer.WriteEnd();
        destination.Flush();
    }

    private static IArrowArray BuildArray(RowTable table, int c, ColumnKind kind, IArrowType type, string?[]? strings, int start, int end)
    {
        switch (kind)
        {
            case ColumnKind.Long:
            {
                var b = new Int64Array.Builder().Reserve(end - start);
                for (var r = start; r < end; r++) { if (table.Cell(r, c) is { } v) b.Append(ColumnTyping.ToLong(v)); else b.AppendNull(); }
                return b.Build();
            }
            case ColumnKind.Double:
            {
                var b = new DoubleArray.Builder().Reserve(end - start);
                for (var r = start; r < end; r++) { if (table.Cell(r, c) is { } v) b.Append(ColumnTyping.ToDouble(v)); else b.AppendNull(); }
                return b.Build();
            }
            case ColumnKind.Bool:
            {
                var b = new BooleanArray.Builder().Reserve(end - start);
                for (var r = start; r < end; r++) { if (table.Cell(r, c) is bool v) b.Append(v); else b.AppendNull(); }
                return b.Build();
            }
            case ColumnKind.DateTime:
            {
                var b = new TimestampArray.Builder((TimestampType)type).Reserve(end - start);
                for (var r = start; r < end; r++)
                {
                    if (table.Cell(r, c) is { } v) b.Append(new DateTimeOffset(ColumnTyping.ToUtc(v)));
                    else b.AppendNull();
                }
                return b.Build();
            }
            default:
            {
                var b = new StringArray.Builder();
                for (var r = start; r < end; r++) { if (strings![r] is { } s) b.Append(s); else b.AppendNull(); }
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
