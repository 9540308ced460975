using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;
using System.Text;
using Axl.IO;
using static Axl.Core.Tests.IO.IoTestData;

namespace Axl.Core.Tests.IO;

public class ClixmlIoHandlerTests
{
    private readonly ClixmlIoHandler _h = new();

    [Fact]
    public void Null_round_trips() => Assert.Null(RoundTrip(_h, null));

    [Fact]
    public void Empty_values_round_trip()
    {
        Assert.Equal("", RoundTrip(_h, ""));
        Assert.Empty(Array(RoundTrip(_h, System.Array.Empty<object>())));
        var table = Assert.IsType<PSObject>(RoundTrip(_h, new Hashtable()));
        Assert.Empty(Assert.IsType<Hashtable>(table.BaseObject));
    }

    [Fact]
    public void Scalars_keep_their_types()
    {
        var when = new DateTime(2024, 2, 29, 13, 14, 15, DateTimeKind.Utc).AddTicks(1234567);
        var values = Array(RoundTrip(_h, new object?[] { 42, 42L, 1.5, 2.5m, true, "s", when, Guid.Empty, null }));
        Assert.Equal(42, Assert.IsType<int>(values[0]));
        Assert.Equal(42L, Assert.IsType<long>(values[1]));
        Assert.Equal(1.5, Assert.IsType<double>(values[2]));
        Assert.Equal(2.5m, Assert.IsType<decimal>(values[3]));
        Assert.True(Assert.IsType<bool>(values[4]));
        Assert.Equal("s", values[5]);
        Assert.Equal(when, Assert.IsType<DateTime>(values[6]));
        Assert.Equal(DateTimeKind.Utc, ((DateTime)values[6]!).Kind);
        Assert.Equal(Guid.Empty, Assert.IsType<Guid>(values[7]));
        Assert.Null(values[8]);
    }

    [Fact]
    public void Nested_values_round_trip()
    {
        var ordered = new OrderedDictionary { ["z"] = 1, ["a"] = new object[] { 1, "two", new Hashtable { ["deep"] = Obj(("leaf", "yes")) } } };
        var value = Obj(("name", "outer"), ("child", Obj(("n", 3), ("list", new[] { 1, 2, 3 }))), ("map", ordered));
        var back = Assert.IsType<PSObject>(RoundTrip(_h, value));
        Assert.Equal("outer", Prop(back, "name"));
        var child = Assert.IsType<PSObject>(Prop(back, "child"));
        Assert.Equal(3, Prop(child, "n"));
        var map = Assert.IsType<OrderedDictionary>(Assert.IsType<PSObject>(Prop(back, "map")).BaseObject);
        Assert.Equal(new[] { "z", "a" }, map.Keys.Cast<string>());
        var inner = Assert.IsType<ArrayList>(Assert.IsType<PSObject>(map["a"]).BaseObject);
        Assert.Equal("two", inner[1]);
        var deep = Assert.IsType<Hashtable>(Assert.IsType<PSObject>(inner[2]).BaseObject);
        Assert.Equal("yes", Prop(deep["deep"], "leaf"));
    }

    [Fact]
    public void Unicode_and_xml_special_characters_round_trip()
    {
        var s = Unicode + " <tag attr=\"v\"> & ]]> \t\r\n \u0001 \0 end";
        Assert.Equal(s, RoundTrip(_h, s));
        var back = RoundTrip(_h, Obj((Unicode, s)));
        Assert.Equal(s, Prop(back, Unicode));
    }

    [Fact]
    public void File_is_utf8_without_bom()
    {
        var bytes = Bytes(_h, "x");
        Assert.NotEqual(0xEF, bytes[0]);
        Assert.StartsWith("<Objs", Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void Large_string_round_trips() => Assert.Equal(LargeString, RoundTrip(_h, LargeString));

    [Fact]
    public void Objects_made_by_script_round_trip()
    {
        var made = Ps("[pscustomobject]@{ Id = 7; Name = 'seven'; When = [datetime]'2024-05-06T07:08:09Z'; Tags = @('a','b') }");
        var back = RoundTrip(_h, made[0]);
        Assert.Equal(7, Prop(back, "Id"));
        Assert.Equal("seven", Prop(back, "Name"));
        Assert.IsType<DateTime>(Prop(back, "When"));
        Assert.Contains("Deserialized.System.Management.Automation.PSCustomObject", ((PSObject)back!).TypeNames);
    }
}
