using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Axl.IO;

namespace Axl.Core.Tests.IO;

/// <summary>Values and helpers shared by the IO handler tests.</summary>
internal static class IoTestData
{
    /// <summary>Emoji (with ZWJ sequence and skin tone), CJK, Hangul, RTL Hebrew and Arabic, combining marks, zero-width and BOM characters.</summary>
    public const string Unicode = "emoji 😀👩‍👩‍👧👍🏽 | CJK 日本語 中文 | 한국어 | RTL עברית العربية | combining e\u0301 a\u0308 Z\u0335\u0321 | zw\u200b\u200d | bom\ufeff | math 𝔸";

    /// <summary>CSV's hard cases: separators, quotes, CR/LF, spaces, a lone quote, a field that looks like a number.</summary>
    public static readonly string[] CsvSpecial =
    {
        "a,b", "say \"hi\"", "line1\nline2", "line1\r\nline2", "cr\ronly", " padded ", "\"", ",", "\"\"", "007", "tab\there", "=1+1", "",
    };

    public static object? RoundTrip(IAxlIoHandler handler, object? value)
    {
        using var ms = new MemoryStream();
        handler.Write(value, ms);
        ms.Position = 0;
        return handler.Read(ms);
    }

    public static byte[] Bytes(IAxlIoHandler handler, object? value)
    {
        using var ms = new MemoryStream();
        handler.Write(value, ms);
        return ms.ToArray();
    }

    public static PSObject Obj(params (string Name, object? Value)[] properties)
    {
        var o = new PSObject();
        foreach (var (name, value) in properties) o.Properties.Add(new PSNoteProperty(name, value));
        return o;
    }

    public static object? Prop(object? row, string name)
    {
        var o = AsRow(row);
        var p = o.Properties[name];
        Assert.True(p is not null, $"no property '{name}' on {o}; it has: {string.Join(", ", o.Properties.Select(x => x.Name))}");
        return p!.Value;
    }

    public static string[] Names(object? row) => AsRow(row).Properties.Select(p => p.Name).ToArray();

    /// <summary>A row as PowerShell sees it: a PSCustomObject, or a read table's row (an object of a generated row class) wrapped.</summary>
    public static PSObject AsRow(object? row)
    {
        Assert.NotNull(row);
        return row as PSObject ?? PSObject.AsPSObject(row);
    }

    public static object?[] Array(object? value) => Assert.IsType<object[]>(value);

    /// <summary>A table of <paramref name="rows"/> PSCustomObjects with typed columns: id (long), x (double), flag (bool), name (string), when (DateTime UTC).</summary>
    public static object[] Table(int rows)
    {
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var result = new object[rows];
        for (var i = 0; i < rows; i++)
            result[i] = Obj(("id", (long)i), ("x", i * 0.5), ("flag", i % 2 == 0), ("name", "row " + i), ("when", start.AddSeconds(i)));
        return result;
    }

    private static readonly Lazy<object[]> LargeTableLazy = new(() => Table(200_000));
    /// <summary>200,000 rows, built once and shared (read-only).</summary>
    public static object[] LargeTable => LargeTableLazy.Value;

    private static readonly Lazy<string> LargeStringLazy = new(() =>
    {
        var sb = new System.Text.StringBuilder(20 * 1024 * 1024 + 200);
        var i = 0;
        while (sb.Length < 20 * 1024 * 1024) sb.Append("line ").Append(i++).Append(" <&>\"' ").Append(Unicode).Append('\n');
        return sb.ToString();
    });
    /// <summary>A string of about 20 M characters, with XML/JSON-special characters and unicode.</summary>
    public static string LargeString => LargeStringLazy.Value;

    /// <summary>Runs PowerShell script text in the real engine (no modules) and returns its output.</summary>
    public static IReadOnlyList<PSObject> Ps(string script)
    {
        using var ps = PowerShell.Create(InitialSessionState.CreateDefault2());
        ps.AddScript(script);
        var output = ps.Invoke();
        Assert.True(ps.Streams.Error.Count == 0, string.Join("\n", ps.Streams.Error.Select(e => e.ToString())));
        return output;
    }
}

/// <summary>A temporary directory per test, removed afterwards.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "axl-io-tests", Guid.NewGuid().ToString("n"));

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
