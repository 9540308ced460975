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

    /// <summary>The kinds of values seen in a column so far, and the column kind they make.</summary>
    public struct Families
    {
        private bool _long, _double, _bool, _date, _other;

        public readonly bool HasOther => _other;

        public void Add(object v)
        {
            switch (Classify(v))
            {
                case ColumnKind.Long: _long = true; break;
                case ColumnKind.Double: _double = true; break;
                case ColumnKind.Bool: _bool = true; break;
                case ColumnKind.DateTime: _date = true; break;
                default: _other = true; break;
            }
        }

        public readonly ColumnKind Kind
        {
            get
            {
                var numeric = _long || _double;
                var families = (numeric ? 1 : 0) + (_bool ? 1 : 0) + (_date ? 1 : 0) + (_other ? 1 : 0);
                return families != 1 ? ColumnKind.String
                    : _double ? ColumnKind.Double
                    : _long ? ColumnKind.Long
                    : _bool ? ColumnKind.Bool
                    : _date ? ColumnKind.DateTime
                    : ColumnKind.String;
            }
        }
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

    public static long ToLong(object v) => v is long l ? l : Convert.ToInt64(v, CultureInfo.InvariantCulture);
    public static double ToDouble(object v) => v is double d ? d : Convert.ToDouble(v, CultureInfo.InvariantCulture);

    /// <summary>UTC instant of a date: UTC kept, local converted, unspecified taken as UTC; DateTimeOffset by its UTC instant.</summary>
    /// <summary>The same for a DateTime, without boxing it.</summary>
    public static DateTime ToUtc(DateTime dt) => dt.Kind switch
    {
        DateTimeKind.Utc => dt,
        DateTimeKind.Local => dt.ToUniversalTime(),
        _ => DateTime.SpecifyKind(dt, DateTimeKind.Utc),
    };

    public static DateTime ToUtc(object v) => v switch
    {
        DateTimeOffset dto => dto.UtcDateTime,
        DateTime { Kind: DateTimeKind.Local } dt => dt.ToUniversalTime(),
        DateTime dt => DateTime.SpecifyKind(dt, DateTimeKind.Utc),
        _ => throw new InvalidCastException($"'{v}' is not a date."),
    };

    public static string? ToStr(object? v) => PsValues.ToInvariantString(v);

    /// <summary>The most bytes <see cref="Utf8"/> writes for <paramref name="chars"/> characters (as Encoding.UTF8.GetMaxByteCount).</summary>
    public static long MaxUtf8Bytes(int chars) => (chars + 1L) * 3;

    /// <summary>
    /// The UTF-8 bytes of <paramref name="s"/> into <paramref name="dest"/>, exactly as Encoding.UTF8 writes them; how many.
    /// A short ASCII string (a table's usual cell) is copied a character a byte, without the encoder's call overhead.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int Utf8(string s, Span<byte> dest)
    {
        if (s.Length <= 32 && s.Length <= dest.Length)
        {
            var i = 0;
            for (; i < s.Length; i++)
            {
                var ch = s[i];
                if (ch > 0x7F) break;
                dest[i] = (byte)ch;
            }
            if (i == s.Length) return i;
        }
        return System.Text.Encoding.UTF8.GetBytes(s, dest);
    }
}
