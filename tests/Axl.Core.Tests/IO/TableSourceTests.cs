using System.Collections;
using System.Data;
using System.Globalization;
using System.Management.Automation;
using Apache.Arrow;
using Axl.IO;
using static Axl.Core.Tests.IO.IoTestData;

namespace Axl.Core.Tests.IO;

/// <summary>
/// The typed fast paths of the table handlers (<see cref="TableSource"/>): each input kind takes its path, and the bytes
/// written equal those of the general path (every row's properties enumerated into a RowTable) on random tables.
/// </summary>
public class TableSourceTests
{
    public static TheoryData<string> TableHandlers => new() { "csv", "parquet", "arrow" };

    private static (byte[] Bytes, TablePath? Path) Write(string handler, object? value, bool general)
    {
        TableSource.ForceGeneralPath = general;
        try
        {
            TableSource.LastPath = null;
            var bytes = Bytes(IoHandlerRegistry.Get(handler), value);
            return (bytes, TableSource.LastPath);
        }
        finally { TableSource.ForceGeneralPath = false; }
    }

    /// <summary>Writes through the fast path, asserts the path, and asserts the bytes equal the general path's.</summary>
    private static byte[] AssertSameAsGeneral(string handler, object? value, TablePath expected)
    {
        var (fast, path) = Write(handler, value, general: false);
        Assert.Equal(expected, path);
        var (slow, slowPath) = Write(handler, value, general: true);
        Assert.Equal(TablePath.Rows, slowPath);
        Assert.Equal(slow, fast);
        return fast;
    }

    private static readonly DateTime Utc = new(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);

    /// <summary>A random cell of a column "family" (some columns mix kinds, some hold nested values), or null.</summary>
    private static object? Cell(Random rng, int column, int row)
    {
        if (rng.Next(7) == 0) return null;
        return column switch
        {
            0 => (long)rng.Next() - 1_000_000_000L,
            1 => rng.Next(3) == 0 ? (object)(rng.Next(100) / 7m) : rng.NextDouble() * 1e6 - 5e5, // decimals and doubles: double
            2 => rng.Next(2) == 0,
            3 => rng.Next(3) switch
            {
                0 => Utc.AddSeconds(rng.Next()),
                1 => new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.FromHours(rng.Next(-12, 13))).AddTicks(rng.Next()),
                _ => DateTime.SpecifyKind(Utc.AddMinutes(rng.Next(100_000)), DateTimeKind.Unspecified),
            },
            4 => Unicode[..rng.Next(Unicode.Length)] + CsvSpecial[rng.Next(CsvSpecial.Length)] + row,
            5 => rng.Next(4) switch { 0 => 42, 1 => "text", 2 => true, _ => new[] { 1, 2, 3 } }, // mixed: string
            6 => rng.Next(2) == 0 ? new Hashtable { ["k"] = row } : Obj(("inner", row)), // nested: their text
            7 => rng.Next(2) == 0 ? (object)(int)rng.Next() : (short)rng.Next(short.MaxValue), // ints widen to long
            _ => new DateTime(1500 + rng.Next(1000), 1, 1, 0, 0, 0, DateTimeKind.Utc), // some outside the nanosecond range
        };
    }

    private static readonly string[] Names = ["Id", "Score", "Flag", "When", "Text", "Mixed", "Nested", "Small", "Old"];

    private static object?[] RandomRows(int seed, int rows, bool nullRows = true)
    {
        var rng = new Random(seed);
        var result = new object?[rows];
        for (var r = 0; r < rows; r++)
        {
            if (nullRows && rng.Next(50) == 0) continue;
            var o = new PSObject();
            for (var c = 0; c < Names.Length; c++) o.Properties.Add(new PSNoteProperty(Names[c], Cell(rng, c, r)));
            result[r] = o;
        }
        return result;
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void PSCustomObject_rows_with_one_shape_take_the_fast_path_and_write_the_same_bytes(string handler)
    {
        for (var seed = 1; seed <= 4; seed++) AssertSameAsGeneral(handler, RandomRows(seed, 300), TablePath.PSCustomObjects);
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void Rows_whose_reserved_members_were_touched_still_take_the_fast_path(string handler)
    {
        var rows = RandomRows(9, 100, nullRows: false);
        // $row.psobject, $row.pstypenames and Properties enumeration add hidden members to the instance members.
        foreach (PSObject row in rows) _ = row.Properties.Match("*").Count + row.Members["psobject"]!.Value.GetHashCode() + row.Members["pstypenames"]!.Value.GetHashCode();
        var late = Assert.IsType<PSObject>(rows[10]);
        late.Properties.Remove("Text");
        late.Properties.Add(new PSNoteProperty("Text", "re-added after the hidden members")); // now last: order differs
        rows[10] = Obj(Names.Select(n => (n, late.Properties[n].Value)).ToArray()); // keep the shape for this test
        AssertSameAsGeneral(handler, rows, TablePath.PSCustomObjects);
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void Rows_with_type_names_of_their_own_take_the_fast_path(string handler)
    {
        var rows = RandomRows(12, 80, nullRows: false);
        for (var i = 0; i < rows.Length; i += 3) ((PSObject)rows[i]!).TypeNames.Insert(0, i % 2 == 0 ? "My.Row" : "My.Other");
        AssertSameAsGeneral(handler, rows, TablePath.PSCustomObjects);
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void Rows_of_another_shape_fall_back_to_the_general_path(string handler)
    {
        var reordered = RandomRows(3, 50, nullRows: false);
        reordered[20] = Obj(("Score", 1.5), ("Id", 7L)); // other order and fewer properties
        Assert.Equal(TablePath.Rows, Write(handler, reordered, general: false).Path);

        var extra = RandomRows(4, 50, nullRows: false);
        ((PSObject)extra[5]!).Properties.Add(new PSNoteProperty("Extra", 1));
        Assert.Equal(TablePath.Rows, Write(handler, extra, general: false).Path);

        var script = RandomRows(5, 20, nullRows: false);
        ((PSObject)script[0]!).Properties.Add(new PSScriptProperty("Computed", ScriptBlock.Create("1")));
        Assert.Equal(TablePath.Rows, Write(handler, script, general: false).Path);

        var mixed = RandomRows(6, 20, nullRows: false);
        mixed[3] = new Hashtable { ["Id"] = 1L };
        Assert.Equal(TablePath.Rows, Write(handler, mixed, general: false).Path);
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void Rows_differing_only_in_name_case_merge_as_the_general_path_does(string handler)
    {
        var rows = new object[] { Obj(("Id", 1L), ("Name", "a")), Obj(("id", 2L), ("NAME", "b")), Obj(("ID", null), ("name", "c")) };
        AssertSameAsGeneral(handler, rows, TablePath.PSCustomObjects);
    }

    public enum Color { Red, Green }

    public sealed record Reading(long Id, int? Count, double Value, decimal Price, float Ratio, bool Ok, bool? Maybe, DateTime At,
        DateTime? Seen, DateTimeOffset Offset, string? Name, Color Color, Guid Key, object? Anything, ulong Big, char Letter, TimeSpan Took);

    public sealed class Throwing
    {
        public long Id { get; init; }
        public string Bad => Id % 3 == 0 ? throw new InvalidOperationException("no") : "fine";
        public DateTime? Never => null;
    }

    private static Reading[] RandomReadings(int seed, int n)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(i => new Reading(
            rng.NextInt64(), rng.Next(4) == 0 ? null : rng.Next(), rng.NextDouble(), rng.Next(100_000) / 100m, (float)rng.NextDouble(),
            rng.Next(2) == 0, rng.Next(3) switch { 0 => null, 1 => true, _ => false },
            rng.Next(3) switch { 0 => Utc.AddDays(rng.Next(1000)), 1 => new DateTime(1600, 1, 1).AddDays(rng.Next(10)), _ => DateTime.SpecifyKind(Utc, DateTimeKind.Unspecified) },
            rng.Next(2) == 0 ? null : Utc.AddHours(rng.Next(1000)),
            new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.FromHours(rng.Next(-5, 6))),
            rng.Next(5) == 0 ? null : Unicode[..rng.Next(Unicode.Length)] + CsvSpecial[rng.Next(CsvSpecial.Length)],
            (Color)rng.Next(2), new Guid(Enumerable.Range(0, 16).Select(_ => (byte)rng.Next(256)).ToArray()),
            rng.Next(3) switch { 0 => null, 1 => rng.Next(), _ => "text" },
            rng.Next(2) == 0 ? (ulong)rng.Next() : ulong.MaxValue - (ulong)rng.Next(), (char)('a' + rng.Next(26)), TimeSpan.FromSeconds(rng.Next()))).ToArray();
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void Records_take_the_typed_path_and_write_the_same_bytes(string handler)
    {
        AssertSameAsGeneral(handler, RandomReadings(1, 400), TablePath.Typed);
        AssertSameAsGeneral(handler, new List<Reading>(RandomReadings(2, 50)), TablePath.Typed);
        // As a step's output arrives from PowerShell: each item wrapped in a PSObject, some rows null.
        var wrapped = RandomReadings(3, 60).Select((r, i) => i % 17 == 0 ? null : (object)PSObject.AsPSObject(r)).ToArray();
        AssertSameAsGeneral(handler, wrapped, TablePath.Typed);
        // A getter that throws reads as null; a nullable column of nulls only is a string column.
        AssertSameAsGeneral(handler, Enumerable.Range(0, 30).Select(i => new Throwing { Id = i }).ToArray(), TablePath.Typed);
    }

    /// <summary>Typed properties whose getters throw on some rows.</summary>
    public sealed class ThrowingTyped
    {
        public long Id { get; init; }
        public long Number => Id % 1001 == 7 ? throw new InvalidOperationException("no") : Id * 3;
        public double Score => Id % 997 == 5 ? throw new InvalidOperationException("no") : Id / 4.0;
        public bool Flag => Id % 2039 == 11 ? throw new InvalidOperationException("no") : Id % 2 == 0;
        public DateTime At => Id % 3001 == 13 ? throw new InvalidOperationException("no") : Utc.AddSeconds(Id);
        public string Name => Id % 1999 == 17 ? throw new InvalidOperationException("no") : "n" + Id;
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void Typed_getters_that_throw_on_some_rows_of_a_long_table_read_as_null_there_only(string handler)
    {
        // Rows over several fill passes: a pass where a getter throws is read again with each read guarded.
        var rows = Enumerable.Range(0, 9000).Select(i => new ThrowingTyped { Id = i }).ToArray();
        AssertSameAsGeneral(handler, rows, TablePath.Typed);
        if (handler == "csv") return; // read back as text
        var back = Array(IoHandlerRegistry.Get(handler).Read(new MemoryStream(Write(handler, rows, general: false).Bytes)));
        Assert.Null(Prop(back[1008], "Number"));
        Assert.Equal(3L * 1009, Prop(back[1009], "Number"));
        Assert.Null(Prop(back[2039 + 11], "Flag"));
        Assert.Equal("n8999", Prop(back[8999], "Name"));
    }

    [Theory]
    [InlineData("parquet")]
    [InlineData("arrow")]
    public void A_table_filled_a_column_at_a_time_as_a_wide_one_is_gives_the_same_bytes(string handler)
    {
        var rows = RandomReadings(7, 5000);
        var together = Write(handler, rows, general: false).Bytes;
        ColumnBatch.ForceColumnAtATime = true;
        try { Assert.Equal(together, Write(handler, rows, general: false).Bytes); }
        finally { ColumnBatch.ForceColumnAtATime = false; }
    }

    public sealed record Small(int Id, string Name, DateTime At);

    [Theory]
    [InlineData("parquet")]
    [InlineData("arrow")]
    public void Typed_rows_of_many_row_groups_loaded_ahead_on_another_thread_give_the_same_bytes(string handler)
    {
        var rows = Enumerable.Range(0, 2 * ColumnTyping.RowsPerGroup + 1000).Select(i => new Small(i, i % 5 == 0 ? null! : "s" + i, Utc.AddSeconds(i))).ToArray();
        var ahead = BatchReader.LoadedAhead;
        var bytes = Write(handler, rows, general: false).Bytes;
        Assert.True(BatchReader.LoadedAhead >= ahead + 2, "the second and third groups were loaded ahead");
        ColumnBatch.ForceColumnAtATime = true; // one batch, filled on this thread
        try { Assert.Equal(bytes, Write(handler, rows, general: false).Bytes); }
        finally { ColumnBatch.ForceColumnAtATime = false; }
        var back = Array(IoHandlerRegistry.Get(handler).Read(new MemoryStream(bytes)));
        Assert.Equal(rows.Length, back.Length);
        foreach (var i in new[] { 0, 1, ColumnTyping.RowsPerGroup - 1, ColumnTyping.RowsPerGroup, 2 * ColumnTyping.RowsPerGroup + 999 })
        {
            Assert.Equal((long)i, Prop(back[i], "Id"));
            Assert.Equal(i % 5 == 0 ? null : "s" + i, Prop(back[i], "Name"));
            Assert.Equal(Utc.AddSeconds(i), Prop(back[i], "At"));
        }
    }

    public sealed record Dated(int Id, DateTime At, DateTime? Later);

    [Theory]
    [InlineData("parquet")]
    [InlineData("arrow")]
    public void A_saved_table_takes_its_dates_to_fit_nanoseconds_and_starts_over_at_one_that_does_not(string handler)
    {
        // An artifact's dates are not read before it is written: it is written with nanoseconds, each date checked, and
        // starts over with the real fits at a date outside 1677-2262; the bytes are those of the write that read them first.
        var io = IoHandlerRegistry.Get(handler);
        var n = 2 * ColumnTyping.RowsPerGroup + 500;
        var old = new DateTime(1600, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        var late = new DateTime(2300, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Dated[] Rows(int count, int oldAt, int lateAt) => Enumerable.Range(0, count).Select(i => new Dated(i, i == oldAt ? old : Utc.AddSeconds(i),
            i % 3 == 0 ? null : i == lateAt ? late : Utc.AddDays(i % 1000))).ToArray();
        using var dir = new TempDir();
        // (rows, old date at, late date at, starts over): none outside; one in the first rows (before any byte reached the
        // file, and after a megabyte did), one in the last row group, one in each column.
        foreach (var (count, oldAt, lateAt, restarts) in new[] { (n, -1, -1, 0), (100, 5, -1, 1), (n, 5, -1, 1), (n, -1, n - 2, 1), (n, 2 * ColumnTyping.RowsPerGroup + 10, 7, 1) })
        {
            var rows = Rows(count, oldAt, lateAt);
            var before = TableSource.NanosRestarts;
            var meta = ArtifactIO.Save(io, rows, dir.Path);
            Assert.Equal(restarts, TableSource.NanosRestarts - before);
            var file = File.ReadAllBytes(Path.Combine(dir.Path, meta.File));
            Assert.Equal(Bytes(io, rows), file);
            Assert.Equal(file.Length, meta.Size);
            Assert.Equal("sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(file)).ToLowerInvariant(), meta.Sha256);
            var back = Array(ArtifactIO.Load(dir.Path));
            Assert.Equal(count, back.Length);
            if (oldAt >= 0) Assert.Equal(old, Prop(back[oldAt], "At"));
            if (lateAt >= 0) Assert.Equal(late, Prop(back[lateAt], "Later"));
            Assert.Equal(Utc.AddSeconds(count - 1), Prop(back[count - 1], "At"));
        }
    }

    [Fact]
    public void Arrow_batches_cut_by_their_strings_while_the_next_group_is_loaded_ahead_give_the_same_bytes_and_rows()
    {
        var rows = Enumerable.Range(0, 2 * ColumnTyping.RowsPerGroup + 1000).Select(i => new Small(i, i % 5 == 0 ? null! : "s" + i, Utc.AddSeconds(i))).ToArray();
        ArrowIoHandler.MaxStringCharsForTests = 300_000; // three groups of 131,072 rows or fewer: more than three batches
        try
        {
            var bytes = Write("arrow", rows, general: false).Bytes;
            ColumnBatch.ForceColumnAtATime = true;
            try { Assert.Equal(bytes, Write("arrow", rows, general: false).Bytes); }
            finally { ColumnBatch.ForceColumnAtATime = false; }
            using var reader = new Apache.Arrow.Ipc.ArrowFileReader(new MemoryStream(bytes));
            Assert.True(reader.RecordBatchCountAsync().GetAwaiter().GetResult() > 3, "batches cut inside the row groups");
            var back = Array(IoHandlerRegistry.Get("arrow").Read(new MemoryStream(bytes)));
            Assert.Equal(rows.Length, back.Length);
            for (var i = 0; i < rows.Length; i += 997)
            {
                Assert.Equal((long)i, Prop(back[i], "Id"));
                Assert.Equal(i % 5 == 0 ? null : "s" + i, Prop(back[i], "Name"));
            }
        }
        finally { ArrowIoHandler.MaxStringCharsForTests = null; }
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void Rows_of_different_types_fall_back(string handler)
    {
        var rows = new object[] { RandomReadings(1, 1)[0], new Throwing { Id = 1 } };
        Assert.Equal(TablePath.Rows, Write(handler, rows, general: false).Path);
        Assert.Equal(TablePath.Rows, Write(handler, new object[] { 1, 2, 3 }, general: false).Path); // scalars
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void A_DataTable_takes_its_path_and_writes_the_same_bytes(string handler)
    {
        var dt = new DataTable();
        dt.Columns.Add("Id", typeof(long));
        dt.Columns.Add("Score", typeof(double));
        dt.Columns.Add("Name", typeof(string));
        dt.Columns.Add("At", typeof(DateTime));
        dt.Columns.Add("Price", typeof(decimal));
        var rng = new Random(5);
        for (var i = 0; i < 200; i++)
            dt.Rows.Add(i, rng.Next(5) == 0 ? DBNull.Value : rng.NextDouble(), rng.Next(5) == 0 ? DBNull.Value : Unicode[..rng.Next(20)],
                Utc.AddSeconds(i), rng.Next(1000) / 10m);
        AssertSameAsGeneral(handler, dt, TablePath.DataTable);
        AssertSameAsGeneral(handler, PSObject.AsPSObject(dt), TablePath.DataTable);
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void A_dictionary_of_columns_writes_what_the_same_rows_write(string handler)
    {
        var rng = new Random(11);
        const int n = 300;
        var ids = Enumerable.Range(0, n).Select(i => (long)i * 3).ToArray();
        var scores = Enumerable.Range(0, n).Select(_ => rng.Next(4) == 0 ? (double?)null : rng.NextDouble()).ToArray();
        var names = Enumerable.Range(0, n).Select(i => i % 9 == 0 ? null : Unicode[..(i % 30)] + i).ToArray();
        var when = Enumerable.Range(0, n).Select(i => Utc.AddMinutes(i)).ToArray();
        var mixed = Enumerable.Range(0, n).Select(i => i % 2 == 0 ? (object)i : "x" + i).ToList();
        var columns = new Dictionary<string, object> { ["Id"] = ids, ["Score"] = scores, ["Name"] = names, ["When"] = when, ["Mixed"] = mixed };
        var rows = Enumerable.Range(0, n).Select(i => (object)Obj(("Id", ids[i]), ("Score", scores[i]), ("Name", names[i]), ("When", when[i]), ("Mixed", mixed[i]))).ToArray();

        var (fast, path) = Write(handler, columns, general: false);
        Assert.Equal(TablePath.ColumnDictionary, path);
        Assert.Equal(Write(handler, rows, general: true).Bytes, fast);

        // A hashtable is one object (a row), as it always was.
        Assert.Equal(TablePath.Rows, Write(handler, new Hashtable { ["Id"] = ids }, general: false).Path);
        // Columns of different lengths are not a table of columns.
        Assert.Equal(TablePath.Rows, Write(handler, new Dictionary<string, object> { ["a"] = new[] { 1 }, ["b"] = new[] { 1, 2 } }, general: false).Path);
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void A_RecordBatch_writes_what_its_rows_write(string handler)
    {
        const int n = 100;
        var batch = new RecordBatch.Builder()
            .Append("Id", false, c => c.Int64(a => a.AppendRange(Enumerable.Range(0, n).Select(i => (long)i))))
            .Append("Score", true, c => c.Double(a => { for (var i = 0; i < n; i++) { if (i % 7 == 0) a.AppendNull(); else a.Append(i / 3.0); } }))
            .Append("Name", true, c => c.String(a => { for (var i = 0; i < n; i++) { if (i % 5 == 0) a.AppendNull(); else a.Append("n" + i + Unicode[..(i % 10)]); } }))
            .Append("Small", false, c => c.Int32(a => a.AppendRange(Enumerable.Range(0, n))))
            .Build();
        var rows = Enumerable.Range(0, n).Select(i => (object)Obj(("Id", (long)i), ("Score", i % 7 == 0 ? null : i / 3.0),
            ("Name", i % 5 == 0 ? null : "n" + i + Unicode[..(i % 10)]), ("Small", i))).ToArray();
        var (fast, path) = Write(handler, batch, general: false);
        Assert.Equal(TablePath.RecordBatch, path);
        Assert.Equal(Write(handler, rows, general: true).Bytes, fast);
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void Several_row_groups_write_the_same_bytes(string handler)
    {
        if (handler == "csv") return; // no row groups
        var n = ColumnTyping.RowsPerGroup + 1234;
        var rows = new object[n];
        for (var i = 0; i < n; i++) rows[i] = Obj(("Id", (long)i), ("Name", i % 11 == 0 ? null : "r" + i), ("At", Utc.AddSeconds(i)));
        AssertSameAsGeneral(handler, rows, TablePath.PSCustomObjects);
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("parquet")]
    [InlineData("arrow")]
    public void Rows_read_back_as_PSCustomObjects_are_the_objects_Properties_Add_would_build(string handler)
    {
        // The PSCustomObject rows a read makes when its columns have no row class (RowClassTests: the usual case).
        var h = IoHandlerRegistry.Get(handler);
        object?[] back;
        RowClass.Disabled = true;
        try { back = Array(RoundTrip(h, RandomRows(21, 200, nullRows: false))); }
        finally { RowClass.Disabled = false; }
        Assert.True(new PsInternals.RowBuilder(Names).Fast, "rows are built through the instance members");
        foreach (PSObject row in back)
        {
            var slow = new PSObject();
            foreach (var p in row.Properties) slow.Properties.Add(new PSNoteProperty(p.Name, p.Value));
            Assert.Equal(PSSerializer.Serialize(slow, 4), PSSerializer.Serialize(row, 4));
            Assert.Equal(Names, row.Properties.Select(p => p.Name).ToArray());
            Assert.Equal(slow.TypeNames, row.TypeNames);
            Assert.Equal(slow.ToString(), row.ToString());
            // The collection behaves the same afterwards: more members, and a name added again.
            foreach (var o in new[] { row, slow })
            {
                o.Properties.Add(new PSNoteProperty("Added", 1));
                Exception? error = null;
                try { o.Properties.Add(new PSNoteProperty("id", 2)); } catch (Exception ex) { error = ex; }
                o.Properties.Add(new PSNoteProperty("Error", error?.GetType().Name));
            }
            Assert.Equal(PSSerializer.Serialize(slow, 4), PSSerializer.Serialize(row, 4));
        }
    }

    [Fact]
    public void Read_rows_work_in_PowerShell_as_its_own_objects_do()
    {
        var rows = Array(RoundTrip(new ParquetIoHandler(), RandomRows(22, 20, nullRows: false)));
        using var ps = PowerShell.Create();
        ps.AddScript("param($rows) $rows | ForEach-Object { \"$($_.Id)|$($_.Text)|$($_.psobject.Properties.Name -join ',')\" }").AddArgument(rows);
        var lines = ps.Invoke().Select(x => x.ToString()).ToArray();
        Assert.False(ps.HadErrors);
        for (var i = 0; i < rows.Length; i++)
            Assert.Equal($"{Prop(rows[i], "Id")}|{Prop(rows[i], "Text")}|{string.Join(",", Names)}", lines[i]);
    }

    [Fact]
    public void Clixml_is_streamed_and_equals_PSSerializer()
    {
        Assert.NotNull(ClixmlIoHandler.StreamingSerializer);
        var handler = new ClixmlIoHandler();
        foreach (var value in new object?[] { RandomRows(31, 50), RandomReadings(1, 20), null, 1, "x", new Hashtable { ["a"] = 1 } })
        {
            var before = ClixmlIoHandler.StreamedWrites;
            var bytes = Bytes(handler, value);
            Assert.True(ClixmlIoHandler.StreamedWrites > before);
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(PSSerializer.Serialize(value, handler.Depth)), bytes);
        }
    }
}
