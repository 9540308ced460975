using Parquet;
using Parquet.Schema;

namespace Axl.IO;

/// <summary>
/// Apache Parquet: a table of rows (PSCustomObjects, hashtables, .NET objects; see <see cref="CsvIoHandler"/> for the row
/// rules) as typed, nullable columns: long, double, bool, string, timestamp (UTC). A column of mixed kinds falls back to
/// string. Written in row groups of <see cref="ColumnTyping.RowsPerGroup"/> rows by <see cref="ParquetTableWriter"/>
/// (PLAIN encoding, uncompressed: any Parquet reader reads it).
/// Reads back an object[] of PSCustomObjects with typed values (dates as UTC DateTime).
/// </summary>
public sealed class ParquetIoHandler : IAxlIoHandler
{
    public string Name => "parquet";
    public string Extension => ".parquet";
    public string Description => "Apache Parquet columnar table (typed, nullable columns)";

    // Written by ParquetTableWriter (PLAIN, uncompressed, in one pass from the table source); read with Parquet.Net,
    // whose API is asynchronous: the async part runs on the thread pool so that blocking on it cannot deadlock under a
    // synchronization context. The rows are read on the caller's thread (a script property may need its runspace).
    public void Write(object? value, Stream destination) => ParquetTableWriter.Write(TableSource.Open(value), destination);

    public object? Read(Stream source)
    {
        var classes = TableRows.ClassesAllowed;
        return Task.Run(() => ReadAsync(source, classes)).GetAwaiter().GetResult();
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
