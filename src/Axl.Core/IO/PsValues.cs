using System.Collections;
using System.Collections.Concurrent;
using System.Data;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using System.Reflection;

namespace Axl.IO;

/// <summary>
/// How the IO handlers see PowerShell values: unwrapping of PSObject, the properties of a row, invariant text of a scalar,
/// the rows of a table. One set of rules for json, csv, parquet and arrow so that they agree.
/// </summary>
internal static class PsValues
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> PropertyCache = new();

    /// <summary>
    /// The value a handler works on: a PSObject wrapping a .NET object becomes that object; a PSCustomObject stays a PSObject
    /// (its note properties are the value); DBNull becomes null.
    /// </summary>
    public static object? Unwrap(object? value)
    {
        if (value is PSObject pso && pso.BaseObject is not PSCustomObject) value = pso.BaseObject;
        return value is DBNull ? null : value;
    }

    /// <summary>True for a PSObject whose base is PSCustomObject: a property bag ([pscustomobject]@{...}, new PSObject()).</summary>
    public static bool IsPropertyBag(object? value, out PSObject bag)
    {
        if (value is PSObject pso && pso.BaseObject is PSCustomObject) { bag = pso; return true; }
        bag = null!;
        return false;
    }

    /// <summary>Values written as one scalar (a number, a string, a date...), never as an object of properties.</summary>
    public static bool IsScalar(object value) => value is string or char or bool or Enum
        or sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal or BigInteger
        or DateTime or DateTimeOffset or DateOnly or TimeOnly or TimeSpan or Guid or Uri or Version or Type
        or nint or nuint;

    /// <summary>Culture-invariant text of a scalar; dates in ISO 8601 (round-trip "o"); other objects as PowerShell shows them.</summary>
    public static string? ToInvariantString(object? value)
    {
        value = Unwrap(value);
        switch (value)
        {
            case null: return null;
            case string s: return s;
            case DateTime dt: return dt.ToString("o", CultureInfo.InvariantCulture);
            case DateTimeOffset dto: return dto.ToString("o", CultureInfo.InvariantCulture);
            case DateOnly d: return d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            case TimeOnly t: return t.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
            case TimeSpan ts: return ts.ToString("c", CultureInfo.InvariantCulture);
            case double d: return d.ToString("R", CultureInfo.InvariantCulture);
            case float f: return f.ToString("R", CultureInfo.InvariantCulture);
            case bool b: return b ? "True" : "False";
            case Type t: return t.FullName ?? t.Name;
            case Uri u: return u.OriginalString;
            case Enum e: return e.ToString();
            case IFormattable f: return f.ToString(null, CultureInfo.InvariantCulture);
            default:
                // Arrays, hashtables, PSCustomObjects, other objects: the text PowerShell gives them ("1 2 3", "@{a=1; b=2}").
                return PSObject.AsPSObject(value).ToString();
        }
    }

    /// <summary>The .NET/PowerShell type name of a value, as recorded in artifact metadata.</summary>
    public static string? TypeName(object? value)
    {
        if (value is null) return null;
        if (value is PSObject pso)
        {
            if (pso.TypeNames.Count > 0 && !string.IsNullOrEmpty(pso.TypeNames[0])) return pso.TypeNames[0];
            return pso.BaseObject?.GetType().FullName;
        }
        return value.GetType().FullName;
    }

    /// <summary>Public, readable, non-indexed instance properties of a .NET type, in declaration order.</summary>
    public static PropertyInfo[] ReadableProperties(Type type) => PropertyCache.GetOrAdd(type, t =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0)
            .ToArray());

    /// <summary>
    /// The named values of one object: note properties of a PSCustomObject, entries of a dictionary, columns of a DataRow,
    /// public properties of any other .NET object. A property whose getter throws reads as null.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, object?>> Properties(object value)
    {
        if (IsPropertyBag(value, out var bag))
        {
            foreach (var p in bag.Properties)
            {
                object? v;
                try { v = p.IsGettable ? p.Value : null; }
                catch (Exception) { v = null; }
                yield return new(p.Name, v);
            }
            yield break;
        }
        value = Unwrap(value)!;
        switch (value)
        {
            case IDictionary dict:
                foreach (DictionaryEntry e in dict) yield return new(ToInvariantString(e.Key) ?? "", e.Value);
                yield break;
            case DataRow row:
                foreach (DataColumn c in row.Table.Columns) yield return new(c.ColumnName, row[c] is DBNull ? null : row[c]);
                yield break;
        }
        foreach (var p in ReadableProperties(value.GetType()))
        {
            object? v;
            try { v = p.GetValue(value); }
            catch (Exception) { v = null; }
            yield return new(p.Name, v);
        }
    }

    /// <summary>
    /// The rows of a table value: null is no rows; an enumerable (not a string or dictionary) is one row per item; a DataTable
    /// is its rows; any other single object is one row.
    /// </summary>
    public static IEnumerable<object?> Rows(object? value)
    {
        if (IsPropertyBag(value, out _)) return new[] { value };
        value = Unwrap(value);
        return value switch
        {
            null => Array.Empty<object?>(),
            DataTable dt => dt.Rows.Cast<object?>(),
            DataView dv => dv.Cast<DataRowView>().Select(r => (object?)r.Row),
            string or IDictionary => new[] { value },
            IEnumerable e => e.Cast<object?>(),
            _ => new[] { value },
        };
    }
}

/// <summary>
/// A table built from rows of objects: the union of the property names in first-seen order (case-insensitive, like
/// PowerShell property names) and one value per column per row. A scalar row (a number, a string) is one column "Value".
/// </summary>
internal sealed class RowTable
{
    public const string ScalarColumn = "Value";

    public List<string> Columns { get; } = new();
    /// <summary>Values aligned with <see cref="Columns"/>; a row may be shorter than the column list (later columns are null).</summary>
    public List<object?[]> Rows { get; } = new();

    public object? Cell(int row, int column)
    {
        var r = Rows[row];
        return column < r.Length ? r[column] : null;
    }

    public static RowTable From(object? value)
    {
        var table = new RowTable();
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var pairs = new List<KeyValuePair<string, object?>>();
        foreach (var item in PsValues.Rows(value))
        {
            pairs.Clear();
            var row = PsValues.IsPropertyBag(item, out _) ? item : PsValues.Unwrap(item);
            if (row is null) { table.Rows.Add(Array.Empty<object?>()); continue; }
            if (PsValues.IsScalar(row)) pairs.Add(new(ScalarColumn, row));
            else pairs.AddRange(PsValues.Properties(row));

            foreach (var p in pairs)
                if (!index.ContainsKey(p.Key)) { index[p.Key] = table.Columns.Count; table.Columns.Add(p.Key); }
            var values = new object?[table.Columns.Count];
            foreach (var p in pairs) values[index[p.Key]] = PsValues.Unwrap(p.Value);
            table.Rows.Add(values);
        }
        return table;
    }
}
