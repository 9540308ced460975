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
    private readonly bool _countChars;
    private int _start;

    /// <param name="countChars">Count the characters of the string columns while loading (<see cref="StringChars"/>).</param>
    public ColumnBatch(TableSource table, int capacity, bool countChars = false)
    {
        _table = table;
        _countChars = countChars;
        _kinds = table.Kinds;
        _capacity = capacity;
        _eager = !ForceColumnAtATime && (long)capacity * _kinds.Sum(k => (long)Width(k)) <= MaxEagerBytes;
        _columns = new Array?[_kinds.Length];
        for (var c = 0; c < _kinds.Length; c++)
            if (_eager || _kinds[c] == ColumnKind.String) _columns[c] = NewArray(_kinds[c], capacity);
    }

    /// <summary>Every column is filled by <see cref="Load"/> (none on access): a batch another thread may load.</summary>
    public bool Eager => _eager;

    /// <summary>Rows of the range loaded last.</summary>
    public int Count { get; private set; }

    /// <summary>With countChars: the characters of all the string values of the range loaded last.</summary>
    public long StringChars { get; private set; }

    /// <summary>Loads rows <paramref name="start"/>..+<paramref name="count"/> (at most the capacity).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Load(int start, int count)
    {
        if (count > _capacity) throw new ArgumentOutOfRangeException(nameof(count), $"{count} rows, the batch holds {_capacity}.");
        _start = start;
        Count = count;
        long chars = 0;
        for (var p = 0; p < count; p += RowsPerPass)
        {
            var n = Math.Min(RowsPerPass, count - p);
            for (var c = 0; c < _kinds.Length; c++)
            {
                if (_columns[c] is not { } column) continue;
                Fill(c, column, p, n);
                if (_countChars && column is string?[] strings)
                    foreach (var s in strings.AsSpan(p, n)) chars += s?.Length ?? 0;
            }
        }
        StringChars = chars;
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
        if (_table.FillArray(c, start, column, at, n)) return;
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

/// <summary>
/// The ranges of rows of a table read in order, as <see cref="ColumnBatch"/>es: when the table's rows may be read on any
/// thread (<see cref="TableSource.ReadsOnAnyThread"/>), the next range is loaded into a second batch on the thread pool while
/// the caller encodes the current one (two batches in memory at most; the source is read by one thread at a time).
/// </summary>
internal sealed class BatchReader : IDisposable
{
    private ColumnBatch _current;
    private ColumnBatch? _spare;
    private Task? _ahead;
    private int _aheadStart, _aheadCount;

    /// <summary>How many batches this process loaded ahead on another thread and used (for tests).</summary>
    internal static long LoadedAhead => Interlocked.Read(ref _loadedAhead);
    private static long _loadedAhead;

    public BatchReader(TableSource table, int capacity, bool countChars = false)
    {
        _current = new ColumnBatch(table, capacity, countChars);
        if (table.ReadsOnAnyThread && _current.Eager && table.RowCount > capacity) _spare = new ColumnBatch(table, capacity, countChars);
    }

    /// <summary>
    /// Rows <paramref name="start"/>..+<paramref name="count"/>, valid until the next call; <paramref name="nextCount"/>: the
    /// rows the caller will most likely ask for next, from where these end (0: none).
    /// </summary>
    public ColumnBatch Read(int start, int count, int nextCount)
    {
        if (TakeAhead() && _aheadStart == start && _aheadCount == count)
        {
            (_current, _spare) = (_spare!, _current);
            Interlocked.Increment(ref _loadedAhead);
        }
        else _current.Load(start, count);
        if (_spare is { } spare && nextCount > 0)
        {
            var next = start + count;
            (_aheadStart, _aheadCount) = (next, nextCount);
            _ahead = Task.Run(() => spare.Load(next, nextCount));
        }
        return _current;
    }

    /// <summary>Waits for the load ahead, if any (its failure rethrown); whether there was one.</summary>
    private bool TakeAhead()
    {
        if (_ahead is not { } ahead) return false;
        _ahead = null;
        ahead.GetAwaiter().GetResult();
        return true;
    }

    /// <summary>Waits for a load still running (the caller failed): the source is not read after the writer returns.</summary>
    public void Dispose()
    {
        try { TakeAhead(); }
        catch (Exception) { } // the caller's own failure is the one reported
    }
}
