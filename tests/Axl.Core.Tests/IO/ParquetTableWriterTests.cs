using System.Collections;
using Axl.IO;
using Parquet;
using Parquet.Schema;
using static Axl.Core.Tests.IO.IoTestData;

namespace Axl.Core.Tests.IO;

/// <summary>
/// The parquet handler writes with its own writer (<see cref="ParquetTableWriter"/>: PLAIN, uncompressed). Its files
/// must read back through Parquet.Net exactly as the files Parquet.Net's own writer made for the same table (what the
/// handler wrote before): same schema, same row groups, same values, for every column kind, with and without nulls.
/// </summary>
public class ParquetTableWriterTests
{
    private static readonly DateTime When = new(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);

    /// <summary>Rows with every column kind: some nulls, no nulls, only nulls, unicode, extremes, both timestamp units.</summary>
    private static object[] AllKinds(int n) => Enumerable.Range(0, n).Select(i => (object)Obj(
        ("long", i % 3 == 0 ? null : (object)(i % 5 == 0 ? long.MinValue : i % 7 == 0 ? long.MaxValue : (long)i * 1_000_003)),
        ("dense", (long)i),
        ("double", i % 4 == 0 ? null : (object)(i % 9 == 0 ? double.NaN : i % 11 == 0 ? double.NegativeInfinity : i * -0.25)),
        ("bool", i % 6 == 0 ? null : (object)(i % 4 < 2)),
        ("allTrue", true),
        ("text", i % 5 == 0 ? null : i % 2 == 0 ? "" : Unicode + i),
        ("nanos", i % 8 == 0 ? null : (object)When.AddTicks(i * 1_234_567L - 50_000_000_000_000L)),
        ("micros", i % 2 == 0 ? null : (object)new DateTime(1500, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(i * 7_777_770L)),
        ("nothing", null),
        ("mixed", i % 2 == 0 ? i : "s" + i))).ToArray();

    /// <summary>What the handler wrote before, with Parquet.Net: the same schema, row groups of RowsPerGroup rows.</summary>
    private static byte[] WithParquetNet(object? value)
    {
        var table = TableSource.Open(value);
        return Task.Run(async () =>
        {
            var kinds = table.Kinds;
            var fields = new DataField[kinds.Length];
            for (var c = 0; c < fields.Length; c++)
            {
                var name = table.Columns[c];
                fields[c] = kinds[c] switch
                {
                    ColumnKind.Long => new DataField<long?>(name),
                    ColumnKind.Double => new DataField<double?>(name),
                    ColumnKind.Bool => new DataField<bool?>(name),
                    ColumnKind.DateTime => new DateTimeDataField(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true,
                        unit: table.Nanos[c] ? DateTimeTimeUnit.Nanos : DateTimeTimeUnit.Micros, isNullable: true),
                    _ => new DataField<string>(name, true),
                };
            }
            var schema = fields.Length == 0 ? new ParquetSchema(new DataField<string>(RowTable.ScalarColumn, true)) : new ParquetSchema(fields);
            var rowCount = fields.Length == 0 ? 0 : table.RowCount;
            using var ms = new MemoryStream();
            await using (var writer = await ParquetWriter.CreateAsync(schema, ms))
            {
                for (var start = 0; start < rowCount; start += ColumnTyping.RowsPerGroup)
                {
                    var n = Math.Min(ColumnTyping.RowsPerGroup, rowCount - start);
                    using var group = writer.CreateRowGroup();
                    for (var c = 0; c < fields.Length; c++)
                    {
                        switch (kinds[c])
                        {
                            case ColumnKind.Long: { var v = new long?[n]; table.FillLong(c, start, v); await group.WriteAsync<long>(fields[c], v.AsMemory()); break; }
                            case ColumnKind.Double: { var v = new double?[n]; table.FillDouble(c, start, v); await group.WriteAsync<double>(fields[c], v.AsMemory()); break; }
                            case ColumnKind.Bool: { var v = new bool?[n]; table.FillBool(c, start, v); await group.WriteAsync<bool>(fields[c], v.AsMemory()); break; }
                            case ColumnKind.DateTime: { var v = new DateTime?[n]; table.FillDate(c, start, v); await group.WriteAsync<DateTime>(fields[c], v.AsMemory()); break; }
                            default: { var v = new string?[n]; table.FillString(c, start, v); await group.WriteAsync(fields[c], (IReadOnlyCollection<string>)v!); break; }
                        }
                    }
                    group.CompleteValidate();
                }
            }
            return ms.ToArray();
        }).GetAwaiter().GetResult();
    }

    private static byte[] Ours(object? value, int pageBytes = ParquetTableWriter.DefaultPageBytes)
    {
        using var ms = new MemoryStream();
        ParquetTableWriter.Write(TableSource.Open(value), ms, pageBytes);
        return ms.ToArray();
    }

    /// <summary>The schema and the rows of each row group as Parquet.Net reads them.</summary>
    private static string Layout(byte[] file) => Task.Run(async () =>
    {
        await using var reader = await ParquetReader.CreateAsync(new MemoryStream(file));
        var fields = reader.Schema.DataFields.Select(f => f is DateTimeDataField d
            ? $"{f.Name}:{f.ClrType.Name}:{f.IsNullable}:{d.DateTimeFormat}:{d.Unit}:{d.IsAdjustedToUTC}"
            : $"{f.Name}:{f.ClrType.Name}:{f.IsNullable}:{f.IsArray}");
        var groups = Enumerable.Range(0, reader.RowGroupCount).Select(g => { using var r = reader.OpenRowGroupReader(g); return r.RowCount; }).ToArray();
        return string.Join(", ", fields) + " | row groups: " + string.Join(", ", groups);
    }).GetAwaiter().GetResult();

    /// <summary>Same row count; same names and values in every row (or in the rows <paramref name="check"/> picks).</summary>
    private static void AssertSameRows(byte[] expected, byte[] actual, Func<int, bool>? check = null)
    {
        var handler = new ParquetIoHandler();
        var want = Array(handler.Read(new MemoryStream(expected)));
        var got = Array(handler.Read(new MemoryStream(actual)));
        Assert.Equal(want.Length, got.Length);
        for (var i = 0; i < want.Length; i++)
        {
            if (check is not null && !check(i)) continue;
            var names = Names(want[i]);
            Assert.Equal(names, Names(got[i]));
            foreach (var name in names)
            {
                var (w, g) = (Prop(want[i], name), Prop(got[i], name));
                if (w is double dw && g is double dg && double.IsNaN(dw)) Assert.True(double.IsNaN(dg));
                else Assert.Equal(w, g);
                if (w is DateTime tw) Assert.Equal(tw.Kind, ((DateTime)g!).Kind);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(1000)]
    public void Every_column_kind_reads_back_as_Parquet_Nets_own_file(int n)
    {
        var rows = AllKinds(n);
        var theirs = WithParquetNet(rows);
        var ours = Ours(rows);
        Assert.Equal(Layout(theirs), Layout(ours));
        AssertSameRows(theirs, ours);
    }

    [Fact]
    public void Several_row_groups_read_back_as_Parquet_Nets_own_file()
    {
        var rows = AllKinds(ColumnTyping.RowsPerGroup + 21);
        var theirs = WithParquetNet(rows);
        var ours = Ours(rows);
        var layout = Layout(ours);
        Assert.EndsWith($" | row groups: {ColumnTyping.RowsPerGroup}, 21", layout);
        Assert.Equal(Layout(theirs), layout);
        AssertSameRows(theirs, ours, i => i % 101 == 0 || Math.Abs(i - ColumnTyping.RowsPerGroup) < 50 || i > ColumnTyping.RowsPerGroup);
    }

    [Fact]
    public void String_columns_cut_into_several_pages_read_back_the_same()
    {
        var rows = AllKinds(500);
        var onePage = Ours(rows);
        var manyPages = Ours(rows, pageBytes: 100); // a page every few values; nulls fall in different pages
        Assert.True(manyPages.Length > onePage.Length, "more page headers");
        Assert.Equal(Layout(onePage), Layout(manyPages));
        AssertSameRows(onePage, manyPages);
        AssertSameRows(WithParquetNet(rows), manyPages);
    }

    [Fact]
    public void Tables_without_rows_or_columns_are_the_scalar_column_and_no_row_group()
    {
        foreach (var value in new object?[] { null, System.Array.Empty<object>(), new ArrayList { Obj() } })
        {
            var ours = Ours(value);
            Assert.Equal(Layout(WithParquetNet(value)), Layout(ours));
            Assert.Equal("PAR1"u8.ToArray(), ours[..4]);
            Assert.Equal("PAR1"u8.ToArray(), ours[^4..]);
        }
    }

    [Fact]
    public void Typed_inputs_write_what_their_rows_write()
    {
        var rows = Enumerable.Range(0, 300).Select(i => new Rec(i, i % 3 == 0 ? null : i * 0.5, i % 4 == 0 ? null : "r" + i, i % 2 == 0, When.AddSeconds(i))).ToArray();
        var asRows = rows.Select(r => (object)Obj(("Id", r.Id), ("Score", r.Score), ("Name", r.Name), ("Flag", r.Flag), ("At", r.At))).ToArray();
        Assert.Equal(Ours(asRows), Ours(rows));
        AssertSameRows(WithParquetNet(rows), Ours(rows));
    }

    private sealed record Rec(long Id, double? Score, string? Name, bool Flag, DateTime At);

    [Fact]
    public void Strings_are_encoded_as_Encoding_UTF8_encodes_them()
    {
        var cases = new[] { "", "a", "item-12345", new string('x', 32), new string('x', 33), new string('x', 31) + "é", "é", "日本語", "\ud800 lone",
            "emoji 😀", "tab\tnul\0", new string('y', 100) + "ü", "\u007f\u0080" };
        var dest = new byte[1024];
        foreach (var s in cases)
        {
            var n = ColumnTyping.Utf8(s, dest);
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(s), dest.AsSpan(0, n).ToArray());
            Assert.True(n <= ColumnTyping.MaxUtf8Bytes(s.Length));
        }
    }
}
