using System.Collections;
using System.Collections.Specialized;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using Axl.IO;
using static Axl.Core.Tests.IO.IoTestData;

namespace Axl.Core.Tests.IO;

public class CsvIoHandlerTests
{
    private readonly CsvIoHandler _h = new();

    private static string Text(IAxlIoHandler h, object? value) => Encoding.UTF8.GetString(Bytes(h, value));

    public sealed class Item
    {
        public string Name { get; init; } = "";
        public double Price { get; init; }
    }

    [Fact]
    public void Null_and_empty_tables_are_an_empty_file_and_read_back_empty()
    {
        Assert.Empty(Bytes(_h, null));
        Assert.Empty(Bytes(_h, System.Array.Empty<object>()));
        Assert.Empty(Array(RoundTrip(_h, null)));
        Assert.Empty(Array(RoundTrip(_h, new List<object>())));
        Assert.Empty(Array(_h.Read(new MemoryStream(Encoding.UTF8.GetBytes("a,b\r\n")))));
    }

    [Fact]
    public void Header_is_the_union_of_properties_in_first_seen_order()
    {
        var rows = new object[]
        {
            Obj(("b", 1), ("a", 2)),
            new OrderedDictionary { ["A"] = 3, ["c"] = 4 },
            new Item { Name = "pen", Price = 1.25 },
        };
        Assert.Equal("b,a,c,Name,Price\r\n1,2,,,\r\n,3,4,,\r\n,,,pen,1.25\r\n", Text(_h, rows));
        var back = Array(RoundTrip(_h, rows));
        Assert.Equal(new[] { "b", "a", "c", "Name", "Price" }, Names(back[0]));
        Assert.Equal("1", Prop(back[0], "b"));
        Assert.Null(Prop(back[0], "c"));
        Assert.Equal("3", Prop(back[1], "a"));
        Assert.Equal("1.25", Prop(back[2], "Price"));
    }

    [Fact]
    public void Special_characters_round_trip_and_null_stays_apart_from_empty()
    {
        var rows = CsvSpecial.Select((s, i) => (object)Obj(("i", i), ("v", s), ("n", null), ("q\"uote,d", s))).ToArray();
        var back = Array(RoundTrip(_h, rows));
        Assert.Equal(CsvSpecial.Length, back.Length);
        for (var i = 0; i < CsvSpecial.Length; i++)
        {
            Assert.Equal(CsvSpecial[i], Prop(back[i], "v"));
            Assert.Equal(CsvSpecial[i], Prop(back[i], "q\"uote,d"));
            Assert.Null(Prop(back[i], "n"));
        }
        Assert.StartsWith("i,v,n,\"q\"\"uote,d\"\r\n0,\"a,b\",,\"a,b\"\r\n1,\"say \"\"hi\"\"\",,", Text(_h, rows));
    }

    [Fact]
    public void Numbers_and_dates_are_culture_invariant()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            var when = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);
            var text = Text(_h, Obj(("d", 1234.5), ("m", 0.1m), ("f", 0.1f), ("t", when), ("o", new DateTimeOffset(when)), ("b", true)));
            Assert.Equal("d,m,f,t,o,b\r\n1234.5,0.1,0.1,2024-05-06T07:08:09.0000000Z,2024-05-06T07:08:09.0000000+00:00,True\r\n", text);
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    [Fact]
    public void Scalars_and_nested_values()
    {
        Assert.Equal("Value\r\n1\r\nx\r\n\r\n", Text(_h, new object?[] { 1, "x", null }));
        Assert.Equal("a,b\r\n1 2 3,@{k=v}\r\n", Text(_h, Obj(("a", new[] { 1, 2, 3 }), ("b", Obj(("k", "v"))))));
    }

    [Fact]
    public void Unicode_round_trips_in_header_and_values()
    {
        var back = Array(RoundTrip(_h, new[] { Obj((Unicode, Unicode), ("plain", "日本")) }));
        Assert.Equal(Unicode, Prop(back[0], Unicode));
        Assert.Equal("日本", Prop(back[0], "plain"));
    }

    [Fact]
    public void Large_table_round_trips()
    {
        var back = Array(RoundTrip(_h, LargeTable));
        Assert.Equal(200_000, back.Length);
        Assert.Equal("199999", Prop(back[^1], "id"));
        Assert.Equal("99999.5", Prop(back[^1], "x"));
        Assert.Equal("True", Prop(back[0], "flag"));
        Assert.Equal("2024-01-01T00:00:01.0000000Z", Prop(back[1], "when"));
    }

    [Fact]
    public void Reads_csv_written_elsewhere()
    {
        var csv = "\ufeffa,b,c\n1,\"multi\nline\",x\n2,,\n3\n";
        var back = Array(_h.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv))));
        Assert.Equal(3, back.Length);
        Assert.Equal(new[] { "a", "b", "c" }, Names(back[0]));
        Assert.Equal("multi\nline", Prop(back[0], "b"));
        Assert.Null(Prop(back[1], "b"));
        Assert.Null(Prop(back[2], "c"));
        var ex = Assert.Throws<InvalidDataException>(() => _h.Read(new MemoryStream(Encoding.UTF8.GetBytes("a\n1,2\n"))));
        Assert.Contains("line 2", ex.Message);
        Assert.Throws<InvalidDataException>(() => _h.Read(new MemoryStream(Encoding.UTF8.GetBytes("a\n\"open\n"))));
    }

    [Fact]
    public void Rows_from_script_and_a_data_table()
    {
        var made = Ps("@([pscustomobject]@{ Id = 1; Name = 'a' }, [pscustomobject]@{ Id = 2; Name = 'b'; Extra = $true })");
        Assert.Equal("Id,Name,Extra\r\n1,a,\r\n2,b,True\r\n", Text(_h, made.Cast<object>().ToArray()));

        var dt = new System.Data.DataTable();
        dt.Columns.Add("k", typeof(int));
        dt.Columns.Add("v", typeof(string));
        dt.Rows.Add(1, "x");
        dt.Rows.Add(2, DBNull.Value);
        Assert.Equal("k,v\r\n1,x\r\n2,\r\n", Text(_h, dt));
    }
}
