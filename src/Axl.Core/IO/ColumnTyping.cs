using System.Globalization;
using System.Management.Automation;

namespace Axl.IO;

/// <summary>The type of a column of a columnar artifact (parquet, arrow).</summary>
internal enum ColumnKind { Long, Double, Bool, String, DateTime }

/// <summary>
/// Chooses a column type from the values of a column: integers are long; any floating value (float, double, decimal)
/// makes the column double (integers widen); bool; DateTime/DateTimeOffset (stored as UTC); anything else, and any mix
/// of these kinds, is string. A column of nulls only is string. Nulls are allowed in every column.
/// </summary>
internal static class ColumnTyping
{
    public const int RowsPerGroup = 131_072;

    public static ColumnKind[] Infer(RowTable table)
    {
        var kinds = new ColumnKind[table.Columns.Count];
        for (var c = 0; c < kinds.Length; c++)
        {
            bool hasLong = false, hasDouble = false, hasBool = false, hasDate = false, hasOther = false;
            for (var r = 0; r < table.Rows.Count && !hasOther; r++)
            {
                var v = table.Cell(r, c);
                if (v is null) continue;
                switch (Classify(v))
                {
                    case ColumnKind.Long: hasLong = true; break;
                    case ColumnKind.Double: hasDouble = true; break;
                    case ColumnKind.Bool: hasBool = true; break;
                    case ColumnKind.DateTime: hasDate = true; break;
                    default: hasOther = true; break;
                }
            }
            var numeric = hasLong || hasDouble;
            var families = (numeric ? 1 : 0) + (hasBool ? 1 : 0) + (hasDate ? 1 : 0) + (hasOther ? 1 : 0);
            kinds[c] = families != 1 ? ColumnKind.String
                : hasDouble ? ColumnKind.Double
                : hasLong ? ColumnKind.Long
                : hasBool ? ColumnKind.Bool
                : hasDate ? ColumnKind.DateTime
                : ColumnKind.String;
        }
        return kinds;
    }

    private static ColumnKind Classify(object v) => v switch
    {
        sbyte or byte or short or ushort or int or uint or long => ColumnKind.Long,
        ulong u => u <= long.MaxValue ? ColumnKind.Long : ColumnKind.Double,
        float or double or decimal => ColumnKind.Double,
        bool => ColumnKind.Bool,
        DateTime or DateTimeOffset => ColumnKind.DateTime,
        _ => ColumnKind.String,
    };

    public static long ToLong(object v) => Convert.ToInt64(v, CultureInfo.InvariantCulture);
    public static double ToDouble(object v) => Convert.ToDouble(v, CultureInfo.InvariantCulture);

    /// <summary>UTC instant of a date: UTC kept, local converted, unspecified taken as UTC; DateTimeOffset by its UTC instant.</summary>
    public static DateTime ToUtc(object v) => v switch
    {
        DateTimeOffset dto => dto.UtcDateTime,
        DateTime { Kind: DateTimeKind.Local } dt => dt.ToUniversalTime(),
        DateTime dt => DateTime.SpecifyKind(dt, DateTimeKind.Utc),
        _ => throw new InvalidCastException($"'{v}' is not a date."),
    };

    public static string? ToStr(object? v) => PsValues.ToInvariantString(v);

    /// <summary>Builds one PSCustomObject per row from columns of values (object?[] per column).</summary>
    public static void AppendRows(List<object?> rows, IReadOnlyList<string> names, IReadOnlyList<object?[]> columns, int count)
    {
        for (var r = 0; r < count; r++)
        {
            var o = new PSObject();
            for (var c = 0; c < names.Count; c++) o.Properties.Add(new PSNoteProperty(names[c], columns[c][r]));
            rows.Add(o);
        }
    }
}
