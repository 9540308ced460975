using System.Management.Automation;
using Axl.IO;
using static Axl.Core.Tests.IO.IoTestData;

namespace Axl.Core.Tests.IO;

/// <summary>
/// The rows a table read makes (<see cref="RowClass"/>: one generated class per column set): the same property names,
/// order, values and value types as the PSCustomObject rows the handlers made before (<see cref="RowClass.Disabled"/>),
/// and PowerShell's cmdlets, formatting and serialization treat them alike.
/// </summary>
public class RowClassTests
{
    public static TheoryData<string> TableHandlers => new() { "csv", "parquet", "arrow" };

    private static readonly DateTime Utc = new(2024, 3, 4, 5, 6, 7, DateTimeKind.Utc);

    private static object[] Table(int n, bool five = true) => Enumerable.Range(0, n).Select(i => (object)(five
        ? Obj(("Id", (long)i), ("Score", i % 10 / 10.0), ("Name", i % 4 == 0 ? null : "n" + i + (i % 7 == 0 ? Unicode[..12] : "")), ("Active", i % 3 == 0), ("When", Utc.AddMinutes(i)))
        : Obj(("Id", (long)i), ("Score", i % 10 / 10.0), ("Name", i % 4 == 0 ? null : "n" + i)))).ToArray();

    /// <summary>The rows read back as they are now, and as PSCustomObjects (as before), from the same bytes.</summary>
    private static (object?[] Rows, object?[] Before) Read(string handler, object[] table)
    {
        var h = IoHandlerRegistry.Get(handler);
        var bytes = Bytes(h, table);
        var rows = Array(h.Read(new MemoryStream(bytes)));
        RowClass.Disabled = true;
        try { return (rows, Array(h.Read(new MemoryStream(bytes)))); }
        finally { RowClass.Disabled = false; }
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void Rows_are_one_class_per_column_set_with_the_values_and_types_of_the_PSCustomObject_rows(string handler)
    {
        var (rows, before) = Read(handler, Table(50));
        Assert.Equal(50, rows.Length);
        var type = rows[0]!.GetType();
        Assert.False(rows[0] is PSObject);
        Assert.StartsWith("Axl.Rows.Row_", type.FullName);
        Assert.All(rows, r => Assert.Same(type, r!.GetType()));
        Assert.Same(type, Read(handler, Table(3)).Rows[0]!.GetType()); // the same columns: the same class
        Assert.NotSame(type, Read(handler, Table(3, five: false)).Rows[0]!.GetType());
        Assert.All(before, r => Assert.IsType<PSCustomObject>(Assert.IsType<PSObject>(r).BaseObject));
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(Names(before[i]), Names(rows[i]));
            foreach (var name in Names(before[i]))
            {
                var (now, was) = (Prop(rows[i], name), Prop(before[i], name));
                Assert.Equal(was, now);
                Assert.Equal(was?.GetType(), now?.GetType());
            }
            Assert.Equal(before[i]!.ToString(), rows[i]!.ToString());
        }
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void PowerShell_cmdlets_formatting_and_clixml_treat_the_rows_as_the_PSCustomObject_rows(string handler)
    {
        foreach (var five in new[] { true, false })
        {
            var (rows, before) = Read(handler, Table(40, five));
            var now = Checks(rows);
            var was = Checks(before);
            Assert.Equal(was.Keys, now.Keys);
            Assert.Equal("40", now["count"]);
            Assert.Equal("40", now["clixmlCount"]);
            Assert.Contains("Name", now[five ? "list" : "table"]);
            Assert.Equal(five ? "Id,Score,Name,Active,When" : "Id,Score,Name", now["names"]);
            if (handler != "csv") Assert.Equal(five ? "Int64,Double,String,Boolean,DateTime" : "Int64,Double,String", now["types"]);
            foreach (var key in was.Keys) Assert.True(Equals(was[key], now[key]), $"{handler} ({(five ? 5 : 3)} columns), {key}:\nPSCustomObject rows: {was[key]}\nread rows: {now[key]}");
        }
    }

    private static Dictionary<string, string> Checks(object?[] rows)
    {
        using var ps = PowerShell.Create(System.Management.Automation.Runspaces.InitialSessionState.CreateDefault2());
        ps.AddScript("""
            param($rows)
            $ser = [System.Management.Automation.PSSerializer]
            $back = $ser::Deserialize($ser::Serialize($rows, 2))
            [ordered]@{
                count = $rows.Count
                first = $rows[0].Id
                index = $rows[3].Name
                where = (@($rows | Where-Object Score -gt 0.5 | ForEach-Object Id) -join ',')
                whereScript = (@($rows | Where-Object { $_.Name -like 'n1*' } | ForEach-Object Id) -join ',')
                sort = (@($rows | Sort-Object Score, Id -Descending | Select-Object -First 7 | ForEach-Object Id) -join ',')
                select = (@($rows | Select-Object Id, Name -First 4 | ConvertTo-Csv) -join "`n")
                expand = (@($rows | Select-Object -ExpandProperty Score -First 4) -join ',')
                table = ($rows | Select-Object -First 6 | Format-Table | Out-String)
                list = ($rows | Select-Object -First 3 | Format-List | Out-String)
                default = ($rows | Select-Object -First 3 | Out-String)
                csv = (@($rows | ConvertTo-Csv) -join "`n")
                json = ($rows | ConvertTo-Json -Compress)
                text = "$($rows[1])"
                names = ($rows[0].psobject.Properties.Name -join ',')
                types = (@($rows[1].psobject.Properties | ForEach-Object { if ($null -eq $_.Value) { 'null' } else { $_.Value.GetType().Name } }) -join ',')
                measure = ($rows | Measure-Object Score -Sum).Sum
                group = (@($rows | Group-Object { $_.Id % 3 } | ForEach-Object { "$($_.Name)=$($_.Count)" }) -join ',')
                added = ($rows[2] | Add-Member -NotePropertyName Extra -NotePropertyValue 5 -PassThru).Extra
                clixmlCount = @($back).Count
                clixml = (@($back | ForEach-Object { @($_.psobject.Properties | ForEach-Object { "$($_.Name)=$($_.Value)" }) -join ';' }) -join "`n")
                clixmlTypes = (@($back[1].psobject.Properties | ForEach-Object { if ($null -eq $_.Value) { 'null' } else { $_.Value.GetType().Name } }) -join ',')
                clixmlWhere = @($back | Where-Object Score -gt 0.5).Count
            }
            """).AddArgument(rows);
        var output = ps.Invoke();
        Assert.False(ps.HadErrors, string.Join("\n", ps.Streams.Error.Select(e => e.ToString())));
        var map = (System.Collections.IDictionary)output.Single().BaseObject;
        return map.Keys.Cast<string>().ToDictionary(k => k, k => map[k]?.ToString() ?? "<null>");
    }

    [Theory, MemberData(nameof(TableHandlers))]
    public void Read_rows_saved_again_take_the_typed_path_and_give_the_same_file(string handler)
    {
        var h = IoHandlerRegistry.Get(handler);
        var bytes = Bytes(h, Table(300));
        var rows = h.Read(new MemoryStream(bytes));
        TableSource.LastPath = null;
        Assert.Equal(bytes, Bytes(h, rows));
        Assert.Equal(TablePath.Typed, TableSource.LastPath);
    }

    [Fact]
    public void Columns_that_cannot_be_properties_of_one_class_read_as_PSCustomObjects()
    {
        var h = new ArrowIoHandler();
        foreach (var bad in new[] { "ToString", "GetType", "Equals" })
        {
            var back = Array(RoundTrip(h, new object[] { Obj(("Id", 1L), (bad, "x")) }));
            var row = Assert.IsType<PSObject>(back[0]);
            Assert.IsType<PSCustomObject>(row.BaseObject);
            Assert.Equal("x", Prop(row, bad));
        }
        Assert.Null(RowClass.For(new[] { "a", "A" }, new[] { typeof(string), typeof(string) }));
        Assert.Null(RowClass.For(new[] { "a", "PSObject" }, new[] { typeof(string), typeof(string) }));
        Assert.Null(RowClass.For(new[] { "a", "" }, new[] { typeof(string), typeof(string) }));
        Assert.Null(RowClass.For(System.Array.Empty<string>(), System.Array.Empty<Type>()));
        // Any other name is a property, spaces and punctuation included.
        var odd = RowClass.For(new[] { "a b", "x.y", "Ünï 😀", "_c0", "Count" }, new[] { typeof(long?), typeof(string), typeof(double?), typeof(int), typeof(object) });
        Assert.NotNull(odd);
        Assert.Equal(new[] { "a b", "x.y", "Ünï 😀", "_c0", "Count" }, odd!.Type.GetProperties().Select(p => p.Name));
    }

    [Fact]
    public void Fill_refuses_columns_of_other_types_or_lengths()
    {
        var rc = RowClass.For(new[] { "Id", "Name" }, new[] { typeof(long?), typeof(string) })!;
        var dest = new object?[2];
        Assert.Throws<ArgumentException>(() => rc.Fill(new Array[] { new long[2], new string?[2] }, 2, dest, 0));
        Assert.Throws<ArgumentException>(() => rc.Fill(new Array[] { new long?[1], new string?[2] }, 2, dest, 0));
        rc.Fill(new Array[] { new long?[] { 1, null }, new string?[] { "a", null } }, 2, dest, 0);
        Assert.Equal(1L, rc.Get(dest[0]!, 0));
        Assert.Null(rc.Get(dest[1]!, 0));
        Assert.Equal("a", rc.Get(dest[0]!, 1));
    }
}
