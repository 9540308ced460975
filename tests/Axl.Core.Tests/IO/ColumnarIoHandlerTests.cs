using System.Collections;
using System.Management.Automation;
using Axl.IO;
using static Axl.Core.Tests.IO.IoTestData;

namespace Axl.Core.Tests.IO;

/// <summary>parquet and arrow share the table mapping; every test runs on both.</summary>
public class ColumnarIoHandlerTests
{
    public static TheoryData<string> Handlers => new() { "parquet", "arrow" };

    private static IAxlIoHandler H(string name) => name == "parquet" ? new ParquetIoHandler() : new ArrowIoHandler();

    [Theory, MemberData(nameof(Handlers))]
    public void Null_and_empty_tables_read_back_empty(string handler)
    {
        Assert.Empty(Array(RoundTrip(H(handler), null)));
        Assert.Empty(Array(RoundTrip(H(handler), System.Array.Empty<object>())));
        Assert.NotEmpty(Bytes(H(handler), null)); // still a valid file of its format
    }

    [Theory, MemberData(nameof(Handlers))]
    public void Typed_columns_survive(string handler)
    {
        var when = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks(1234567);
        var rows = new object[]
        {
            Obj(("l", 1), ("d", 1.5), ("b", true), ("s", "x"), ("t", when), ("mixed", 1), ("widen", 1), ("nulls", null), ("bytes", (byte)7)),
            Obj(("l", null), ("d", null), ("b", null), ("s", null), ("t", null), ("mixed", "two"), ("widen", 2.5), ("nulls", null), ("bytes", (byte)8)),
            new Hashtable { ["l"] = long.MaxValue, ["d"] = double.NaN, ["b"] = false, ["s"] = "", ["t"] = new DateTimeOffset(when).ToOffset(TimeSpan.FromHours(-5)), ["mixed"] = true, ["widen"] = 3L, ["bytes"] = (byte)9 },
        };
        var back = Array(RoundTrip(H(handler), rows));
        Assert.Equal(3, back.Length);
        Assert.Equal(new[] { "l", "d", "b", "s", "t", "mixed", "widen", "nulls", "bytes" }, Names(back[0]));

        Assert.Equal(1L, Assert.IsType<long>(Prop(back[0], "l")));
        Assert.Null(Prop(back[1], "l"));
        Assert.Equal(long.MaxValue, Prop(back[2], "l"));

        Assert.Equal(1.5, Assert.IsType<double>(Prop(back[0], "d")));
        Assert.Null(Prop(back[1], "d"));
        Assert.True(double.IsNaN((double)Prop(back[2], "d")!));

        Assert.Equal(true, Prop(back[0], "b"));
        Assert.Null(Prop(back[1], "b"));
        Assert.Equal(false, Prop(back[2], "b"));

        Assert.Equal("x", Prop(back[0], "s"));
        Assert.Null(Prop(back[1], "s"));
        Assert.Equal("", Prop(back[2], "s"));

        var t = Assert.IsType<DateTime>(Prop(back[0], "t"));
        Assert.Equal(when, t);
        Assert.Equal(DateTimeKind.Utc, t.Kind);
        Assert.Null(Prop(back[1], "t"));
        Assert.Equal(when, Prop(back[2], "t")); // DateTimeOffset: its UTC instant

        Assert.Equal(new object?[] { "1", "two", "True" }, back.Select(r => Prop(r, "mixed")));
        Assert.Equal(new object?[] { 1.0, 2.5, 3.0 }, back.Select(r => Prop(r, "widen")));
        Assert.Equal(new object?[] { null, null, null }, back.Select(r => Prop(r, "nulls")));
        Assert.Equal(new object?[] { 7L, 8L, 9L }, back.Select(r => Prop(r, "bytes")));
    }

    [Theory, MemberData(nameof(Handlers))]
    public void Dates_outside_the_nanosecond_range_keep_microseconds_and_local_dates_become_utc(string handler)
    {
        var local = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Local);
        var rows = new object[]
        {
            Obj(("t", DateTime.MinValue), ("u", local)),
            Obj(("t", new DateTime(3000, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(10)), ("u", null)),
        };
        var back = Array(RoundTrip(H(handler), rows));
        Assert.Equal(DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc), Prop(back[0], "t"));
        Assert.Equal(new DateTime(3000, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(10), Prop(back[1], "t"));
        Assert.Equal(local.ToUniversalTime(), Prop(back[0], "u"));
    }

    [Theory, MemberData(nameof(Handlers))]
    public void Unicode_round_trips_in_names_and_values(string handler)
    {
        var rows = CsvSpecial.Select(s => (object)Obj((Unicode, Unicode + s), ("col.with/odd chars", s))).ToArray();
        var back = Array(RoundTrip(H(handler), rows));
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(Unicode + CsvSpecial[i], Prop(back[i], Unicode));
            Assert.Equal(CsvSpecial[i], Prop(back[i], "col.with/odd chars"));
        }
    }

    [Theory, MemberData(nameof(Handlers))]
    public void Rows_of_dotnet_objects_and_scalars(string handler)
    {
        var back = Array(RoundTrip(H(handler), new[] { KeyValuePair.Create("a", 1), KeyValuePair.Create("b", 2) }));
        Assert.Equal(new[] { "Key", "Value" }, Names(back[0]));
        Assert.Equal("b", Prop(back[1], "Key"));
        Assert.Equal(2L, Prop(back[1], "Value"));
        var scalars = Array(RoundTrip(H(handler), new[] { 1, 2, 3 }));
        Assert.Equal(new object[] { 1L, 2L, 3L }, scalars.Select(r => Prop(r, "Value")));
    }

    [Theory, MemberData(nameof(Handlers))]
    public void Large_table_round_trips_in_several_row_groups(string handler)
    {
        var back = Array(RoundTrip(H(handler), LargeTable));
        Assert.Equal(200_000, back.Length);
        foreach (var i in new[] { 0, 131_071, 131_072, 199_999 })
        {
            Assert.Equal((long)i, Prop(back[i], "id"));
            Assert.Equal(i * 0.5, Prop(back[i], "x"));
            Assert.Equal(i % 2 == 0, Prop(back[i], "flag"));
            Assert.Equal("row " + i, Prop(back[i], "name"));
            Assert.Equal(new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i), Prop(back[i], "when"));
        }
    }

    [Theory, MemberData(nameof(Handlers))]
    public void Reads_from_a_stream_that_cannot_seek(string handler)
    {
        var bytes = Bytes(H(handler), Table(10));
        var back = Array(H(handler).Read(new NonSeekable(bytes)));
        Assert.Equal(10, back.Length);
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
