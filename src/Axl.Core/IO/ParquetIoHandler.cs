using Parquet;
using Parquet.Schema;

namespace Axl.IO;

/// <summary>
/// Apache Parquet: a table of rows (PSCustomObjects, hashtables, .NET objects; see <see cref="CsvIoHandler"/> for the row
/// rules) as typed, nullable columns: long, double, bool, string, timestamp (UTC). A column of mixed kinds falls back to
/// string. Written in row groups of <see cref="ColumnTyping.RowsPerGroup"/> rows with Parquet.Net.
/// Reads back an object[] of PSCustomObjects with typed values (dates as UTC DateTime).
/// </summary>
public sealed class ParquetIoHandler : IAxlIoHandler
{
    public string Name => "parquet";
    public string Extension => ".parquet";
    public string Description => "Apache Parquet columnar table (typed, nullable columns)";

    // Parquet.Net's API is asynchronous. The rows are read on the caller's thread (a script property may need its runspace);
    // the async part runs on the thread pool so that blocking on it cannot deadlock under a synchronization context.
    public void Write(object? value, Stream destination)
    {
        var table = TableSource.Open(value);
        Task.Run(() => WriteAsync(table, destination)).GetAwaiter().GetResult();
    }

    public object? Read(Stream source)
    {
        var classes = TableRows.ClassesAllowed;
        return Task.Run(() => ReadAsync(source, classes)).GetAwaiter().GetResult();
    }

    private static async Task WriteAsync(TableSource table, Stream destination)
    {
        var kinds = table.Kinds;
        var fields = new DataField[table.Columns.Length];
        for (var c = 0; c < fields.Length; c++) fields[c] = Field(table, c, kinds[c]);
        // A table without columns (no rows, or rows without properties) is written as zero rows of one string column.
        var schema = fields.Length == 0 ? new ParquetSchema(new DataField<string>(RowTable.ScalarColumn, true)) : new ParquetSchema(fields);
        var rowCount = fields.Length == 0 ? 0 : table.RowCount;

        await using var writer = await ParquetWriter.CreateAsync(schema, destination).ConfigureAwait(false);
        // One buffer per kind, reused across columns and row groups: memory is one row group of one column at a time.
        var size = Math.Min(ColumnTyping.RowsPerGroup, rowCount);
        long?[]? longs = null;
        double?[]? doubles = null;
        bool?[]? bools = null;
        DateTime?[]? dates = null;
        string?[]? strings = null;
        for (var start = 0; start < rowCount; start += ColumnTyping.RowsPerGroup)
        {
            var n = Math.Min(ColumnTyping.RowsPerGroup, rowCount - start);
            using var group = writer.CreateRowGroup();
            for (var c = 0; c < fields.Length; c++)
            {
                switch (kinds[c])
                {
                    case ColumnKind.Long:
                        longs ??= new long?[size];
                        table.FillLong(c, start, longs.AsSpan(0, n));
                        await group.WriteAsync<long>(fields[c], longs.AsMemory(0, n)).ConfigureAwait(false);
                        break;
                    case ColumnKind.Double:
                        doubles ??= new double?[size];
                        table.FillDouble(c, start, doubles.AsSpan(0, n));
                        await group.WriteAsync<double>(fields[c], doubles.AsMemory(0, n)).ConfigureAwait(false);
                        break;
                    case ColumnKind.Bool:
                        bools ??= new bool?[size];
                        table.FillBool(c, start, bools.AsSpan(0, n));
                        await group.WriteAsync<bool>(fields[c], bools.AsMemory(0, n)).ConfigureAwait(false);
                        break;
                    case ColumnKind.DateTime:
                        dates ??= new DateTime?[size];
                        table.FillDate(c, start, dates.AsSpan(0, n));
                        await group.WriteAsync<DateTime>(fields[c], dates.AsMemory(0, n)).ConfigureAwait(false);
                        break;
                    default:
                        strings ??= new string?[size];
                        table.FillString(c, start, strings.AsSpan(0, n));
                        await group.WriteAsync(fields[c], (IReadOnlyCollection<string>)new ArraySegment<string?>(strings, 0, n)!).ConfigureAwait(false);
                        break;
                }
            }
            group.CompleteValidate();
        }
    }

    private static DataField Field(TableSource table, int column, ColumnKind kind)
    {
        var name = table.Columns[column];
        return kind switch
        {
            ColumnKind.Long => new DataField<long?>(name),
            ColumnKind.Double => new DataField<double?>(name),
            ColumnKind.Bool => new DataField<bool?>(name),
            // Nanosecond timestamps keep every tick of a DateTime but only span 1677-2262; outside that, microseconds.
            ColumnKind.DateTime => new DateTimeDataField(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true,
                unit: table.Nanos[column] ? DateTimeTimeUnit.Nanos : DateTimeTimeUnit.Micros, isNullable: true),
            _ => new DataField<string>(name, true),
        };
    }

    internal static readonly DateTime NanosMin = new(1677, 9, 22, 0, 0, 0, DateTimeKind.Utc);
    internal static readonly DateTime NanosMax = new(2262, 4, 11, 0, 0, 0, DateTimeKind.Utc);

    private static async Task<object?> ReadAsync(Stream source, bool classes)
    {
        var input = source;
        if (!source.CanSeek)
        {
            var buffer = new MemoryStream();
            await source.CopyToAsync(buffer).ConfigureAwait(false);
            buffer.Position = 0;
            input = buffer;
        }
        await using var reader = await ParquetReader.CreateAsync(input, leaveStreamOpen: true).ConfigureAwait(false);
        if (reader.Schema.Fields.Any(f => f is not DataField) || reader.Schema.DataFields.Any(f => f.IsArray))
            throw new NotSupportedException($"The parquet IO handler reads flat tables only; this file has nested or repeated columns ({reader.Schema}).");
        var fields = reader.Schema.DataFields;
        var names = fields.Select(f => f.Name).ToArray();
        var rows = new TableRows(names, fields.Select(ColumnType).ToArray(), classes, reader.Metadata?.NumRows ?? 0);
        // One row group's columns at a time: made into rows, then dropped.
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var n = checked((int)group.RowCount);
            var columns = new Array[fields.Length];
            for (var c = 0; c < fields.Length; c++) columns[c] = await ReadColumn(group, fields[c], n).ConfigureAwait(false);
            rows.Add(columns, n);
        }
        return rows.ToArray();
    }

    /// <summary>The element type of the array <see cref="ReadColumn"/> gives for a field (T? for a nullable value type).</summary>
    private static Type ColumnType(DataField field)
    {
        var t = field.ClrType;
        if (t == typeof(ReadOnlyMemory<char>)) return typeof(string);
        if (t.IsValueType && field.IsNullable) return typeof(Nullable<>).MakeGenericType(t);
        return t;
    }

    private static async Task<Array> ReadColumn(ParquetRowGroupReader group, DataField field, int n)
    {
        var t = field.ClrType;
        if (t == typeof(string) || t == typeof(ReadOnlyMemory<char>))
        {
            var strings = new string?[n];
            await group.ReadAsync(field, strings.AsMemory()).ConfigureAwait(false);
            return strings;
        }
        if (t == typeof(byte[]))
        {
            var bytes = new byte[]?[n];
            await group.ReadAsync(field, bytes.AsMemory()).ConfigureAwait(false);
            return bytes;
        }
        if (t == typeof(long)) return await ReadStruct<long>(group, field, n).ConfigureAwait(false);
        if (t == typeof(double)) return await ReadStruct<double>(group, field, n).ConfigureAwait(false);
        if (t == typeof(bool)) return await ReadStruct<bool>(group, field, n).ConfigureAwait(false);
        if (t == typeof(DateTime)) return await ReadStruct<DateTime>(group, field, n).ConfigureAwait(false);
        if (t == typeof(int)) return await ReadStruct<int>(group, field, n).ConfigureAwait(false);
        if (t == typeof(short)) return await ReadStruct<short>(group, field, n).ConfigureAwait(false);
        if (t == typeof(sbyte)) return await ReadStruct<sbyte>(group, field, n).ConfigureAwait(false);
        if (t == typeof(byte)) return await ReadStruct<byte>(group, field, n).ConfigureAwait(false);
        if (t == typeof(ushort)) return await ReadStruct<ushort>(group, field, n).ConfigureAwait(false);
        if (t == typeof(uint)) return await ReadStruct<uint>(group, field, n).ConfigureAwait(false);
        if (t == typeof(ulong)) return await ReadStruct<ulong>(group, field, n).ConfigureAwait(false);
        if (t == typeof(float)) return await ReadStruct<float>(group, field, n).ConfigureAwait(false);
        if (t == typeof(decimal)) return await ReadStruct<decimal>(group, field, n).ConfigureAwait(false);
        if (t == typeof(DateOnly)) return await ReadStruct<DateOnly>(group, field, n).ConfigureAwait(false);
        if (t == typeof(TimeSpan)) return await ReadStruct<TimeSpan>(group, field, n).ConfigureAwait(false);
        if (t == typeof(TimeOnly)) return await ReadStruct<TimeOnly>(group, field, n).ConfigureAwait(false);
        if (t == typeof(Guid)) return await ReadStruct<Guid>(group, field, n).ConfigureAwait(false);
        throw new NotSupportedException($"The parquet IO handler cannot read column '{field.Name}' of type {t}.");
    }

    private static async Task<Array> ReadStruct<T>(ParquetRowGroupReader group, DataField field, int n) where T : struct
    {
        if (field.IsNullable)
        {
            var values = new T?[n];
            await group.ReadAsync<T>(field, values.AsMemory()).ConfigureAwait(false);
            return values;
        }
        var plain = new T[n];
        await group.ReadAsync<T>(field, plain.AsMemory()).ConfigureAwait(false);
        return plain;
    }
}
