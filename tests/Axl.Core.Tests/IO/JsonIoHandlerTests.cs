using System.Collections;
using System.Collections.Specialized;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using Axl.IO;
using static Axl.Core.Tests.IO.IoTestData;

namespace Axl.Core.Tests.IO;

public class JsonIoHandlerTests
{
    private readonly JsonIoHandler _h = new();

    public enum Color { Red, Green }

    public sealed class Point
    {
        public int X { get; init; }
        public string? Label { get; init; }
        public int[] Items { get; init; } = System.Array.Empty<int>();
        internal int Hidden => 1;
    }

    private static string Text(IAxlIoHandler h, object? value) => Encoding.UTF8.GetString(Bytes(h, value));

    [Fact]
    public void Null_round_trips()
    {
        Assert.Equal("null", Text(_h, null));
        Assert.Null(RoundTrip(_h, null));
    }

    [Fact]
    public void Empty_values_round_trip()
    {
        Assert.Equal("", RoundTrip(_h, ""));
        Assert.Empty(Array(RoundTrip(_h, System.Array.Empty<object>())));
        Assert.Empty(Assert.IsType<PSObject>(RoundTrip(_h, new Hashtable())).Properties);
        Assert.Empty(Assert.IsType<PSObject>(RoundTrip(_h, new PSObject())).Properties);
    }

    [Fact]
    public void Scalars_are_written_as_json_and_read_back_as_long_double_string_bool()
    {
        var when = new DateTime(2024, 2, 29, 13, 14, 15, DateTimeKind.Utc);
        var value = new object?[]
        {
            (byte)1, (short)2, 3, 4L, 5u, ulong.MaxValue, 1.5, 2.25f, 3.5m, true, false, "s", 'c', when,
            new DateTimeOffset(2024, 2, 29, 13, 14, 15, TimeSpan.FromHours(2)), Guid.Empty, Color.Green, double.NaN,
            double.PositiveInfinity, TimeSpan.FromMinutes(90), new Version(1, 2, 3), new Uri("https://example.org/a?b=c"),
        };
        Assert.Equal(
            "[1,2,3,4,5,18446744073709551615,1.5,2.25,3.5,true,false,\"s\",\"c\",\"2024-02-29T13:14:15Z\",\"2024-02-29T13:14:15+02:00\"," +
            "\"00000000-0000-0000-0000-000000000000\",\"Green\",\"NaN\",\"Infinity\",\"01:30:00\",\"1.2.3\",\"https://example.org/a?b=c\"]",
            Text(_h, value));
        var back = Array(RoundTrip(_h, value));
        Assert.Equal(1L, Assert.IsType<long>(back[0]));
        Assert.Equal(4L, Assert.IsType<long>(back[3]));
        Assert.Equal((double)ulong.MaxValue, Assert.IsType<double>(back[5]));
        Assert.Equal(1.5, Assert.IsType<double>(back[6]));
        Assert.Equal(2.25, back[7]);
        Assert.Equal(3.5, back[8]);
        Assert.Equal(true, back[9]);
        Assert.Equal("2024-02-29T13:14:15Z", back[13]);
        Assert.Equal("Green", back[16]);
    }

    [Fact]
    public void Culture_does_not_change_numbers()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.Equal("[1.5,1234567.25]", Text(_h, new object[] { 1.5, 1234567.25 }));
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    [Fact]
    public void Nested_objects_keep_property_order_and_structure()
    {
        var ordered = new OrderedDictionary { ["z"] = 1, ["a"] = 2, ["m"] = new object?[] { new Hashtable { ["k"] = null }, new[] { 1, 2 }, new List<string> { "x" } } };
        var value = Obj(("b", 1), ("a", ordered), ("wrapped", PSObject.AsPSObject(new Point { X = 5, Label = "p", Items = new[] { 7 } })), ("plain", new Point { X = 6 }));
        var back = RoundTrip(_h, value);
        Assert.Equal(new[] { "b", "a", "wrapped", "plain" }, Names(back));
        var a = Prop(back, "a");
        Assert.Equal(new[] { "z", "a", "m" }, Names(a));
        var m = Array(Prop(a, "m"));
        Assert.Null(Prop(m[0], "k"));
        Assert.Equal(new object[] { 1L, 2L }, Array(m[1]));
        Assert.Equal(new object[] { "x" }, Array(m[2]));
        var wrapped = Prop(back, "wrapped");
        Assert.Equal(new[] { "X", "Label", "Items" }, Names(wrapped));
        Assert.Equal(5L, Prop(wrapped, "X"));
        Assert.Equal(new object[] { 7L }, Array(Prop(wrapped, "Items")));
        Assert.Null(Prop(Prop(back, "plain"), "Label"));
    }

    [Fact]
    public void Deep_nesting_is_refused_with_the_depth_in_the_message()
    {
        object value = "leaf";
        for (var i = 0; i < 70; i++) value = new Hashtable { ["child"] = value };
        var ex = Assert.Throws<InvalidOperationException>(() => Bytes(_h, value));
        Assert.Contains("depth limit of 64", ex.Message);
        Assert.Contains("$.child.child", ex.Message);

        var shallow = new JsonIoHandler(maxDepth: 3);
        Assert.Throws<InvalidOperationException>(() => Bytes(shallow, new object[] { new object[] { new object[] { new object[] { 1 } } } }));
        Assert.NotNull(RoundTrip(shallow, new object[] { new object[] { new object[] { 1 } } }));
    }

    [Fact]
    public void Reading_json_nested_deeper_than_the_limit_names_the_limit()
    {
        var json = new string('[', 70) + new string(']', 70);
        var ex = Assert.Throws<InvalidDataException>(() => _h.Read(new MemoryStream(Encoding.UTF8.GetBytes(json))));
        Assert.Contains("depth limit of 64", ex.Message);
        Assert.NotNull(new JsonIoHandler(maxDepth: 100).Read(new MemoryStream(Encoding.UTF8.GetBytes(json))));
    }

    [Fact]
    public void Nesting_up_to_the_limit_round_trips()
    {
        object value = "leaf";
        for (var i = 0; i < 64; i++) value = new object[] { value };
        var back = RoundTrip(_h, value);
        for (var i = 0; i < 64; i++) back = Array(back)[0];
        Assert.Equal("leaf", back);
    }

    [Fact]
    public void Cycles_are_refused()
    {
        var a = new Hashtable();
        a["self"] = new object[] { a };
        var ex = Assert.Throws<InvalidOperationException>(() => Bytes(_h, a));
        Assert.Contains("cycle", ex.Message);
        Assert.Contains("$.self[0]", ex.Message);

        // The same object twice, side by side, is not a cycle.
        var shared = Obj(("v", 1));
        Assert.Equal(2, Array(RoundTrip(_h, new object[] { shared, shared })).Length);
    }

    [Fact]
    public void Unicode_round_trips_in_names_and_values()
    {
        var s = Unicode + " \"quoted\" \\ / \t\r\n \u0001 \0";
        Assert.Equal(s, RoundTrip(_h, s));
        var back = RoundTrip(_h, Obj((Unicode, s)));
        Assert.Equal(s, Prop(back, Unicode));
        Assert.Contains("日本語", Text(_h, "日本語")); // readable, not \u-escaped
    }

    [Fact]
    public void Large_table_round_trips()
    {
        var back = Array(RoundTrip(_h, LargeTable));
        Assert.Equal(200_000, back.Length);
        Assert.Equal(199_999L, Prop(back[^1], "id"));
        Assert.Equal(199_999 * 0.5, Prop(back[^1], "x"));
        Assert.Equal("row 12345", Prop(back[12345], "name"));
    }

    [Fact]
    public void Large_string_round_trips() => Assert.Equal(LargeString, RoundTrip(_h, LargeString));

    [Fact]
    public void Reads_json_written_elsewhere()
    {
        var json = "{\"a\":1,\"b\":[1,2.5,\"x\",null,true,1e3],\"c\":{\"big\":12345678901234567890},\"a2\":-9223372036854775808,\"dup\":1,\"dup\":2}";
        var back = _h.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(1L, Prop(back, "a"));
        Assert.Equal(new object?[] { 1L, 2.5, "x", null, true, 1000.0 }, Array(Prop(back, "b")));
        Assert.Equal(12345678901234567890.0, Prop(Prop(back, "c"), "big"));
        Assert.Equal(long.MinValue, Prop(back, "a2"));
        Assert.Equal(2L, Prop(back, "dup"));
    }

    [Fact]
    public void Objects_made_by_script_round_trip()
    {
        var made = Ps("[pscustomobject]@{ Id = 7; Name = 'seven'; Nested = [ordered]@{ b = 2; a = @(1, 'x') } }");
        var back = RoundTrip(_h, made[0]);
        Assert.Equal(7L, Prop(back, "Id"));
        Assert.Equal(new[] { "b", "a" }, Names(Prop(back, "Nested")));
        Assert.Equal(new object[] { 1L, "x" }, Array(Prop(Prop(back, "Nested"), "a")));
    }
}
