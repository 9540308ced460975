using System.Runtime.CompilerServices;

namespace Axl.IO;

/// <summary>
/// The typed values of the columns of a <see cref="TableSource"/> over a range of rows (a row group or record batch), as
/// the columnar writers encode them. The columns are filled together, <see cref="RowsPerPass"/> rows at a time: each
/// row's object is read from memory once while it is in the cache for all its columns, instead of once per column.
/// Bounded: the typed values of one range of rows, at most <see cref="MaxEagerBytes"/> (a wider table's value columns are
/// filled one at a time when asked, into one buffer per kind; its string columns, 8 bytes a row, are always kept).
/// </summary>
internal sealed class ColumnBatch
{
    private const int RowsPerPass = 2048;
    private const long MaxEagerBytes = 64L << 20;

    /// <summary>Set by tests (on their thread): every batch fills its value columns one at a time, as for a wide table.</summary>
    [ThreadStatic] internal static bool ForceColumnAtATime;

    private readonly TableSource _table;
    private readonly ColumnKind[] _kinds;
    private readonly bool _eager;
    /// <summary>Eager: one array per column. Else the string columns only, the value columns sharing <see cref="_byKind"/>.</summary>
    private readonly Array?[] _columns;
    private readonly Array?[] _byKind = new Array?[Enum.GetValues<ColumnKind>().Length];
    private readonly int _capacity;
    private int _start;

    public ColumnBatch(TableSource table, int capacity)
    {
        _table = table;
        _kinds = table.Kinds;
        _capacity = capacity;
        _eager = !ForceColumnAtATime && (long)capacity * _kinds.Sum(k => (long)Width(k)) <= MaxEagerBytes;
        _columns = new Array?[_kinds.Length];
        for (var c = 0; c < _kinds.Length; c++)
            if (_eager || _kinds[c] == ColumnKind.String) _columns[c] = NewArray(_kinds[c], capacity);
    }

    /// <summary>Rows of the range loaded last.</summary>
    public int Count { get; private set; }

    /// <summary>Loads rows <paramref name="start"/>..+<paramref name="count"/> (at most the capacity).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Load(int start, int count)
    {
        if (count > _capacity) throw new ArgumentOutOfRangeException(nameof(count), $"{count} rows, the batch holds {_capacity}.");
        _start = start;
        Count = count;
        for (var p = 0; p < count; p += RowsPerPass)
        {
            var n = Math.Min(RowsPerPass, count - p);
            for (var c = 0; c < _kinds.Length; c++)
                if (_columns[c] is { } column) Fill(c, column, p, n);
        }
    }

    public ReadOnlySpan<long?> Longs(int c) => Column<long?>(c);
    public ReadOnlySpan<double?> Doubles(int c) => Column<double?>(c);
    public ReadOnlySpan<bool?> Bools(int c) => Column<bool?>(c);
    public ReadOnlySpan<DateTime?> Dates(int c) => Column<DateTime?>(c);

    /// <summary>The values of string column <paramref name="c"/> (the array may be longer than <see cref="Count"/>).</summary>
    public string?[] Strings(int c) => (string?[])_columns[c]!;

    private ReadOnlySpan<T> Column<T>(int c)
    {
        if (_columns[c] is T[] loaded) return loaded.AsSpan(0, Count);
        var shared = (T[])(_byKind[(int)_kinds[c]] ??= NewArray(_kinds[c], _capacity));
        Fill(c, shared, 0, Count);
        return shared.AsSpan(0, Count);
    }

    private void Fill(int c, Array column, int at, int n)
    {
        var start = _start + at;
        switch (_kinds[c])
        {
            case ColumnKind.Long: _table.FillLong(c, start, ((long?[])column).AsSpan(at, n)); break;
            case ColumnKind.Double: _table.FillDouble(c, start, ((double?[])column).AsSpan(at, n)); break;
            case ColumnKind.Bool: _table.FillBool(c, start, ((bool?[])column).AsSpan(at, n)); break;
            case ColumnKind.DateTime: _table.FillDate(c, start, ((DateTime?[])column).AsSpan(at, n)); break;
            default: _table.FillString(c, start, ((string?[])column).AsSpan(at, n)); break;
        }
    }

    private static Array NewArray(ColumnKind kind, int n) => kind switch
    {
        ColumnKind.Long => new long?[n],
        ColumnKind.Double => new double?[n],
        ColumnKind.Bool => new bool?[n],
        ColumnKind.DateTime => new DateTime?[n],
        _ => new string?[n],
    };

    private static int Width(ColumnKind kind) => kind switch
    {
        ColumnKind.Bool => 2,
        ColumnKind.String => 8,
        _ => 16,
    };
}
