using System.Collections;
using System.Collections.Concurrent;
using System.Data;
using System.Linq.Expressions;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading;
using Apache.Arrow;
using Array = System.Array;

namespace Axl.IO;

/// <summary>How a table handler reads its input (see <see cref="TableSource.Open"/>).</summary>
internal enum TablePath
{
    /// <summary>The general path: every row's properties enumerated into a <see cref="RowTable"/>.</summary>
    Rows,
    /// <summary>PSCustomObject rows with the same note properties, read by index from their instance members.</summary>
    PSCustomObjects,
    /// <summary>.NET objects of one type, read through compiled property getters.</summary>
    Typed,
    DataTable,
    /// <summary>A dictionary of string to equal-length arrays or lists (one per column).</summary>
    ColumnDictionary,
    RecordBatch,
}

/// <summary>
/// A table as the columnar and CSV writers read it: column names, a row count, the type of each column
/// (<see cref="ColumnTyping"/>: inferred from the values, the same whatever the path), and the values of a column
/// over a range of rows, filled into typed buffers a batch at a time. The rows stay where the caller has them: no
/// second copy of the table (the general path, <see cref="RowsSource"/>, copies the values into a RowTable as before).
/// <para><see cref="Open"/> chooses the path; every path yields the same values as the general path would, so a
/// handler's bytes do not depend on it (tests compare them).</para>
/// </summary>
internal abstract class TableSource
{
    private static readonly long[] PathCounts = new long[Enum.GetValues<TablePath>().Length];

    /// <summary>How many tables took each path in this process (for tests and the bench).</summary>
    public static long Count(TablePath path) => Interlocked.Read(ref PathCounts[(int)path]);

    /// <summary>Set by tests (on their thread): every table opened on this thread takes the general path.</summary>
    [ThreadStatic] internal static bool ForceGeneralPath;

    /// <summary>The path of the last table opened on this thread (for tests).</summary>
    [ThreadStatic] internal static TablePath? LastPath;

    public abstract TablePath Path { get; }
    public string[] Columns { get; protected init; } = Array.Empty<string>();
    public int RowCount { get; protected init; }
    public ColumnKind[] Kinds { get; private set; } = Array.Empty<ColumnKind>();

    /// <summary>
    /// For a DateTime column: every value fits a nanosecond timestamp (1677-2262). Unless the source found it while checking
    /// its rows, the first call reads every date column once to find it (<see cref="NanosKnown"/>).
    /// </summary>
    public bool[] Nanos
    {
        get
        {
            if (!NanosKnown) CheckNanos();
            return _nanos;
        }
    }

    /// <summary>Whether <see cref="Nanos"/> is known without reading the dates (no date column, or found while checking the rows).</summary>
    public bool NanosKnown { get; private set; }

    private bool[] _nanos = Array.Empty<bool>();

    /// <summary>
    /// Writes the table with <paramref name="write"/>(nanos, check). When <see cref="Nanos"/> is not known yet and the
    /// destination can start over (an artifact being written, <see cref="HashingWriteStream"/>), every date column is first
    /// taken to fit nanoseconds (the usual case) and the writer checks each date as it encodes it (check true), throwing
    /// <see cref="NanosDoNotFit"/> at the first that does not: then the file starts over with <see cref="Nanos"/> read
    /// from the dates. Else <see cref="Nanos"/> is read first. Either way the bytes are those of a write with the real fits.
    /// </summary>
    public void Write(Stream destination, Action<bool[], bool> write)
    {
        if (NanosKnown || destination is not HashingWriteStream restartable)
        {
            write(Nanos, false);
            return;
        }
        var guess = new bool[Kinds.Length];
        for (var c = 0; c < guess.Length; c++) guess[c] = Kinds[c] == ColumnKind.DateTime;
        try { write(guess, true); }
        catch (NanosDoNotFit)
        {
            NanosRestarts++;
            restartable.Restart();
            write(Nanos, false);
        }
    }

    /// <summary>Thrown by a writer checking its dates (<see cref="Write"/>) at one outside the nanosecond range.</summary>
    internal sealed class NanosDoNotFit() : Exception("A date does not fit a nanosecond timestamp.");

    /// <summary>Whether a UTC instant fits a nanosecond timestamp (what <see cref="Nanos"/> says of every date of a column).</summary>
    public static bool FitsNanos(DateTime utc) => utc >= ParquetIoHandler.NanosMin && utc <= ParquetIoHandler.NanosMax;

    /// <summary>How many writes on this thread started over because a date did not fit nanoseconds (for tests).</summary>
    [ThreadStatic] internal static int NanosRestarts;

    /// <summary>
    /// The fills may run on another thread than the one that opened the table (one thread at a time): the values are
    /// plain .NET reads, no PowerShell member that may need the caller's runspace.
    /// </summary>
    public virtual bool ReadsOnAnyThread => false;

    /// <summary>The value of a cell as the general path holds it (PSObject of a .NET value unwrapped, DBNull as null).</summary>
    public abstract object? Get(int column, int row);

    /// <summary>The kind a column has from its static type when it has any non-null value; null when only the values can tell.</summary>
    protected virtual ColumnKind? StaticKind(int column) => null;

    /// <summary>Chooses the path for a value and types its columns. Reads the rows on the calling thread (a property may need its runspace).</summary>
    public static TableSource Open(object? value)
    {
        TableSource? source = null;
        if (!ForceGeneralPath)
        {
            source = ColumnDictionarySource.TryCreate(value) ?? RecordBatchSource.TryCreate(value) ?? DataTableSource.TryCreate(value) ?? RowListSource(value);
        }
        source ??= new RowsSource(RowTable.From(value));
        source.Analyze();
        Interlocked.Increment(ref PathCounts[(int)source.Path]);
        LastPath = source.Path;
        return source;
    }

    private static TableSource? RowListSource(object? value)
    {
        if (PsValues.IsPropertyBag(value, out _)) return null;
        var unwrapped = PsValues.Unwrap(value);
        if (unwrapped is null or string or IDictionary or DataTable or DataView || unwrapped is not IEnumerable items) return null;
        var rows = unwrapped as IList ?? items.Cast<object?>().ToList();
        if (rows.Count == 0) return null;
        return PSCustomObjectSource.TryCreate(rows) ?? TypedSource.TryCreate(rows);
    }

    /// <summary>The column kinds and nanosecond fits, when the source found them while checking its rows (else inferred here).</summary>
    protected virtual (ColumnKind[] Kinds, bool[] Nanos)? Analyzed => null;

    private void Analyze()
    {
        if (Analyzed is { } found)
        {
            Kinds = found.Kinds;
            _nanos = found.Nanos;
            NanosKnown = true;
            return;
        }
        var kinds = new ColumnKind[Columns.Length];
        for (var c = 0; c < kinds.Length; c++)
            kinds[c] = StaticKind(c) is { } k ? (k == ColumnKind.String || AnyValue(c, k) ? k : ColumnKind.String) : InferFromValues(c);
        Kinds = kinds;
        _nanos = new bool[kinds.Length];
        NanosKnown = !kinds.Contains(ColumnKind.DateTime);
    }

    /// <summary>Reads every date column once for <see cref="Nanos"/>.</summary>
    private void CheckNanos()
    {
        var nanos = new bool[Kinds.Length];
        for (var c = 0; c < nanos.Length; c++) nanos[c] = Kinds[c] == ColumnKind.DateTime && AllFitNanos(c);
        _nanos = nanos;
        NanosKnown = true;
    }

    private const int ScanBatch = 4096;

    private bool AnyValue(int c, ColumnKind kind)
    {
        for (var start = 0; start < RowCount; start += ScanBatch)
        {
            var n = Math.Min(ScanBatch, RowCount - start);
            switch (kind)
            {
                case ColumnKind.Long: { var b = new long?[n]; FillLong(c, start, b); if (b.Any(v => v.HasValue)) return true; break; }
                case ColumnKind.Double: { var b = new double?[n]; FillDouble(c, start, b); if (b.Any(v => v.HasValue)) return true; break; }
                case ColumnKind.Bool: { var b = new bool?[n]; FillBool(c, start, b); if (b.Any(v => v.HasValue)) return true; break; }
                case ColumnKind.DateTime: { var b = new DateTime?[n]; FillDate(c, start, b); if (b.Any(v => v.HasValue)) return true; break; }
            }
        }
        return false;
    }

    private bool AllFitNanos(int c)
    {
        var b = new DateTime?[Math.Min(ScanBatch, Math.Max(1, RowCount))];
        for (var start = 0; start < RowCount; start += ScanBatch)
        {
            var n = Math.Min(ScanBatch, RowCount - start);
            var span = b.AsSpan(0, n);
            FillDate(c, start, span);
            foreach (var v in span)
                if (v is { } d && !FitsNanos(d)) return false;
        }
        return true;
    }

    private ColumnKind InferFromValues(int c)
    {
        var families = new ColumnTyping.Families();
        for (var r = 0; r < RowCount && !families.HasOther; r++)
            if (Get(c, r) is { } v) families.Add(v);
        return families.Kind;
    }

    // ---- typed fills: the general versions convert each cell as the writers always have; sources override for speed ----

    /// <summary>
    /// Fills dest[at..at+count] (long?[], double?[], bool?[], DateTime?[] or string?[] as the column's kind) with rows
    /// start.. as the Fill* methods would, when the source writes into the array itself (no copy); false: it does not.
    /// </summary>
    public virtual bool FillArray(int c, int start, Array dest, int at, int count) => false;

    private object?[]? _cells;

    /// <summary>The cells of column <paramref name="c"/> for rows start..start+count, as <see cref="Get"/> gives them (valid until the next call).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected virtual ReadOnlySpan<object?> Cells(int c, int start, int count)
    {
        if (_cells is null || _cells.Length < count) _cells = new object?[Math.Max(count, Math.Min(ColumnTyping.RowsPerGroup, RowCount))];
        for (var r = 0; r < count; r++) _cells[r] = Get(c, start + r);
        return _cells.AsSpan(0, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public virtual void FillLong(int c, int start, Span<long?> dest)
    {
        var cells = Cells(c, start, dest.Length);
        for (var r = 0; r < dest.Length; r++) dest[r] = cells[r] is { } v ? ColumnTyping.ToLong(v) : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public virtual void FillDouble(int c, int start, Span<double?> dest)
    {
        var cells = Cells(c, start, dest.Length);
        for (var r = 0; r < dest.Length; r++) dest[r] = cells[r] is { } v ? ColumnTyping.ToDouble(v) : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public virtual void FillBool(int c, int start, Span<bool?> dest)
    {
        var cells = Cells(c, start, dest.Length);
        for (var r = 0; r < dest.Length; r++) dest[r] = cells[r] is { } v ? (bool)v : null;
    }

    /// <summary>Dates as UTC instants (<see cref="ColumnTyping.ToUtc"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public virtual void FillDate(int c, int start, Span<DateTime?> dest)
    {
        var cells = Cells(c, start, dest.Length);
        for (var r = 0; r < dest.Length; r++) dest[r] = cells[r] is { } v ? ColumnTyping.ToUtc(v) : null;
    }

    /// <summary>Culture-invariant text (<see cref="PsValues.ToInvariantString"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public virtual void FillString(int c, int start, Span<string?> dest)
    {
        var cells = Cells(c, start, dest.Length);
        for (var r = 0; r < dest.Length; r++) dest[r] = ColumnTyping.ToStr(cells[r]);
    }
}

/// <summary>The general path: the rows copied into a RowTable (union of property names, any row shape).</summary>
internal sealed class RowsSource : TableSource
{
    private readonly RowTable _table;

    public RowsSource(RowTable table)
    {
        _table = table;
        Columns = table.Columns.ToArray();
        RowCount = table.Rows.Count;
    }

    public override TablePath Path => TablePath.Rows;
    public override object? Get(int column, int row) => _table.Cell(row, column);
}

/// <summary>
/// PSCustomObject rows whose visible instance members are the same note properties in the same order (names compared
/// case-insensitively, as the general path merges them). The schema is read from the first row; every row is checked
/// once (its members enumerated by index, hidden reserved members skipped), and each row's type names are checked once
/// per distinct list against what PSObject.Properties yields (types.ps1xml members would add columns: then the general path).
/// The same pass types the columns from the values. Values are read from the instance members by index without name
/// resolution, a batch of rows at a time (each row's members looked up once for all its columns).
/// </summary>
internal sealed class PSCustomObjectSource : TableSource
{
    private readonly IList _rows;
    private readonly (ColumnKind[] Kinds, bool[] Nanos) _analyzed;
    // One batch of cells, row-major read into one array per column: rows _batchStart.._batchStart+_batchCount.
    private object?[][]? _batch;
    private int _batchStart, _batchCount;

    private PSCustomObjectSource(IList rows, string[] names, (ColumnKind[] Kinds, bool[] Nanos) analyzed)
    {
        _rows = rows;
        Columns = names;
        RowCount = rows.Count;
        _analyzed = analyzed;
    }

    public override TablePath Path => TablePath.PSCustomObjects;

    protected override (ColumnKind[] Kinds, bool[] Nanos)? Analyzed => _analyzed;

    public static TableSource? TryCreate(IList rows)
    {
        if (!PsInternals.CanReadMembers) return null;
        string[]? names = null;
        for (var r = 0; r < rows.Count && names is null; r++)
        {
            if (rows[r] is null) continue;
            if (!PsValues.IsPropertyBag(rows[r], out var first)) return null;
            names = VisibleNotes(first);
            if (names is null || names.Length == 0) return null;
        }
        if (names is null) return null;
        // The kinds as the general path infers them (ColumnTyping.Families over the non-null values), and whether every
        // date fits a nanosecond timestamp, from the values met while checking the rows.
        var families = new ColumnTyping.Families[names.Length];
        var nanos = Enumerable.Repeat(true, names.Length).ToArray();
        var values = new object?[names.Length];
        // Type names decide which types.ps1xml members a row has: each distinct list is checked once against what
        // PSObject.Properties resolves (rows with their base type's default names, the usual case, share one check).
        var validatedTypeNames = new List<string[]>();
        var defaultValidated = false;
        object? lastTypeNames = null;
        for (var r = 0; r < rows.Count; r++)
        {
            var item = rows[r];
            if (item is null) continue;
            if (!PsValues.IsPropertyBag(item, out var row)) return null;
            if (!Read(row, names, values)) return null;
            for (var c = 0; c < values.Length; c++)
            {
                if (values[c] is not { } v || families[c].HasOther) continue;
                families[c].Add(v);
                if (nanos[c] && v is DateTime or DateTimeOffset)
                {
                    nanos[c] = FitsNanos(ColumnTyping.ToUtc(v));
                }
            }
            var own = PsInternals.OwnTypeNames(row);
            if (own is null ? defaultValidated : ReferenceEquals(own, lastTypeNames)) continue;
            if (own is not null)
            {
                lastTypeNames = own;
                if (validatedTypeNames.Any(v => v.SequenceEqual(own))) continue;
            }
            // What the general path would see: every property PowerShell resolves for this row.
            var resolved = row.Properties.ToArray();
            if (!resolved.Select(p => p.Name).SequenceEqual(names, StringComparer.OrdinalIgnoreCase) || resolved.Any(p => p is not PSNoteProperty)) return null;
            if (own is null) defaultValidated = true;
            else validatedTypeNames.Add(own.ToArray());
        }
        var kinds = families.Select(f => f.Kind).ToArray();
        for (var c = 0; c < kinds.Length; c++) nanos[c] &= kinds[c] == ColumnKind.DateTime;
        return new PSCustomObjectSource(rows, names, (kinds, nanos));
    }

    private static string[]? VisibleNotes(PSObject row)
    {
        var members = PsInternals.Members(row);
        if (members is null) return Array.Empty<string>();
        var names = new List<string>(members.Count);
        for (var i = 0; i < members.Count; i++)
        {
            var m = (PSMemberInfo)members[i]!;
            if (PsInternals.IsHidden(m)) continue;
            if (m is not PSNoteProperty) return null;
            names.Add(m.Name);
        }
        return names.ToArray();
    }

    /// <summary>
    /// The values of a row's visible note properties into <paramref name="values"/> (unwrapped, as the general path
    /// holds them), checking that they are exactly <paramref name="names"/> in order; false when the row has another shape.
    /// </summary>
    private static bool Read(PSObject row, string[] names, object?[] values)
    {
        var members = PsInternals.Members(row);
        if (members is null || members.Count < names.Length) return false;
        var c = 0;
        for (var i = 0; i < members.Count; i++)
        {
            var m = (PSMemberInfo)members[i]!;
            if (PsInternals.IsHidden(m)) continue;
            if (c >= names.Length || m is not PSNoteProperty note || !SameName(m.Name, names[c])) return false;
            values[c++] = PsValues.Unwrap(note.Value);
        }
        return c == names.Length;
    }

    private static bool SameName(string a, string b) => ReferenceEquals(a, b) || string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    public override object? Get(int column, int row)
    {
        if (_rows[row] is not PSObject o) return null;
        return Cell(PsInternals.Members(o)!, column);
    }

    private object? Cell(System.Collections.Specialized.OrderedDictionary members, int column)
    {
        // Usually the notes come first (hidden members are added after them); otherwise by name.
        var m = column < members.Count ? members[column] as PSNoteProperty : null;
        if (m is null || PsInternals.IsHidden(m) || !SameName(m.Name, Columns[column])) m = (PSNoteProperty)members[Columns[column]]!;
        return PsValues.Unwrap(m.Value);
    }

    protected override ReadOnlySpan<object?> Cells(int c, int start, int count)
    {
        if (_batch is null || start < _batchStart || start + count > _batchStart + _batchCount) LoadBatch(start, count);
        return _batch![c].AsSpan(start - _batchStart, count);
    }

    /// <summary>Reads the cells of every column for rows start.. (at least count rows, up to a row group), each row's members looked up once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void LoadBatch(int start, int count)
    {
        var n = Math.Max(count, Math.Min(ColumnTyping.RowsPerGroup, RowCount - start));
        if (_batch is null || _batch[0].Length < n) _batch = Columns.Select(_ => new object?[n]).ToArray();
        var batch = _batch;
        for (var r = 0; r < n; r++)
        {
            if (_rows[start + r] is not PSObject o)
            {
                foreach (var column in batch) column[r] = null;
                continue;
            }
            var members = PsInternals.Members(o)!;
            for (var c = 0; c < batch.Length; c++) batch[c][r] = Cell(members, c);
        }
        _batchStart = start;
        _batchCount = n;
    }
}

/// <summary>
/// Rows of one .NET type (records, classes, structs; bare or wrapped in a PSObject), read through getters compiled
/// once per type: the public readable properties, as the general path reads them (a getter that throws reads as null).
/// </summary>
internal sealed class TypedSource : TableSource
{
    private sealed class Getters
    {
        public required PropertyInfo[] Properties;
        public required Func<object, object?>[] Boxed;
        public required ColumnKind?[] Kinds;
        /// <summary>Action&lt;object?[] rows, int start, T[] dest, int at, int count&gt; per typed column (long?, double?, bool?, DateTime?, string? per Kinds): one compiled loop.</summary>
        public required Delegate?[] Batch;
        /// <summary>The same loops with each read guarded (a getter that throws reads as null), for a batch where the fast loop threw.</summary>
        public required Lazy<Delegate>?[] GuardedBatch;
    }

    private static readonly ConcurrentDictionary<Type, Getters?> Cache = new();
    private readonly object?[] _rows;
    private readonly Getters _g;

    private TypedSource(object?[] rows, Getters g)
    {
        _rows = rows;
        _g = g;
        Columns = g.Properties.Select(p => p.Name).ToArray();
        RowCount = rows.Length;
    }

    public override TablePath Path => TablePath.Typed;

    /// <summary>Compiled getters of a .NET type (its rows unwrapped from any PSObject): no runspace needed.</summary>
    public override bool ReadsOnAnyThread => true;

    public static TableSource? TryCreate(IList items)
    {
        var rows = SameTypeArray(items) ?? UnwrappedRows(items);
        if (rows is null) return null;
        var type = rows.FirstOrDefault(x => x is not null)?.GetType();
        if (type is null || PsValues.IsScalar(rows.First(x => x is not null)!) || typeof(IEnumerable).IsAssignableFrom(type)
            || typeof(DataRow).IsAssignableFrom(type) || type == typeof(PSObject) || type == typeof(PSCustomObject)) return null;
        var g = Cache.GetOrAdd(type, Compile);
        return g is null ? null : new TypedSource(rows, g);
    }

    /// <summary>
    /// An array of a reference type other than object (Row[]: what C# and [Row[]] casts give): none of its items can be a
    /// PSObject, so it is read in place (as object?[], arrays being covariant) when all its items are of one type.
    /// </summary>
    private static object?[]? SameTypeArray(IList items)
    {
        if (items is not object?[] array || array.GetType().GetElementType() is not { } element
            || element == typeof(object) || element.IsAssignableFrom(typeof(PSObject))) return null;
        if (element.IsSealed) return array; // every item is of the element type itself: nothing to check
        Type? type = null;
        foreach (var item in array)
        {
            if (item is null) continue;
            if (type is null) type = item.GetType();
            else if (item.GetType() != type) return null;
        }
        return array;
    }

    /// <summary>References to the unwrapped rows (8 bytes a row: the values stay in the caller's objects) when all are of one type.</summary>
    private static object?[]? UnwrappedRows(IList items)
    {
        Type? type = null;
        var rows = new object?[items.Count];
        for (var r = 0; r < rows.Length; r++)
        {
            var item = items[r];
            if (item is null) continue;
            if (PsValues.IsPropertyBag(item, out _)) return null;
            var v = PsValues.Unwrap(item);
            if (v is null) continue;
            if (type is null) type = v.GetType();
            else if (v.GetType() != type) return null;
            rows[r] = v;
        }
        return rows;
    }

    private static Getters? Compile(Type type)
    {
        var props = PsValues.ReadableProperties(type);
        if (props.Length == 0 || props.Select(p => p.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() != props.Length) return null;
        var boxed = new Func<object, object?>[props.Length];
        var kinds = new ColumnKind?[props.Length];
        var batch = new Delegate?[props.Length];
        var guarded = new Lazy<Delegate>?[props.Length];
        for (var i = 0; i < props.Length; i++)
        {
            var p = props[i];
            boxed[i] = Getter<object?>(type, p, v => Expression.Convert(v, typeof(object)));
            var t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            var nullable = Nullable.GetUnderlyingType(p.PropertyType) is not null;
            Expression Lift(Expression v, Type target) => nullable
                ? Expression.Condition(Expression.Property(v, "HasValue"),
                    Expression.Convert(Expression.Convert(Expression.Property(v, "Value"), target), typeof(Nullable<>).MakeGenericType(target)),
                    Expression.Constant(null, typeof(Nullable<>).MakeGenericType(target)))
                : Expression.Convert(Expression.Convert(v, target), typeof(Nullable<>).MakeGenericType(target));
            if (t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(sbyte) || t == typeof(byte) || t == typeof(ushort) || t == typeof(uint))
            { kinds[i] = ColumnKind.Long; (batch[i], guarded[i]) = Loops<long?>(type, p, v => Lift(v, typeof(long))); }
            else if (t == typeof(double) || t == typeof(float) || t == typeof(decimal))
            { kinds[i] = ColumnKind.Double; (batch[i], guarded[i]) = Loops<double?>(type, p, v => Lift(v, typeof(double))); }
            else if (t == typeof(bool))
            { kinds[i] = ColumnKind.Bool; (batch[i], guarded[i]) = Loops<bool?>(type, p, v => Lift(v, typeof(bool))); }
            else if (t == typeof(DateTime))
            {
                kinds[i] = ColumnKind.DateTime;
                (batch[i], guarded[i]) = Loops<DateTime?>(type, p, v => nullable ? v : Expression.Convert(v, typeof(DateTime?)));
            }
            else if (t == typeof(string))
            { kinds[i] = ColumnKind.String; (batch[i], guarded[i]) = Loops<string?>(type, p, v => v); }
            else if (t.IsEnum || t == typeof(char) || t == typeof(Guid) || t == typeof(TimeSpan) || t == typeof(DateOnly) || t == typeof(TimeOnly))
                kinds[i] = ColumnKind.String; // never numeric, bool or date: text through the boxed getter
            // anything else (object, ulong, DateTimeOffset, classes): typed from the values
        }
        return new Getters { Properties = props, Boxed = boxed, Kinds = kinds, Batch = batch, GuardedBatch = guarded };
    }

    /// <summary>o => { try { return convert(((T)o).P); } catch { return default; } }</summary>
    private static Func<object, TOut> Getter<TOut>(Type type, PropertyInfo p, Func<Expression, Expression> convert)
    {
        var o = Expression.Parameter(typeof(object), "o");
        var read = Expression.Property(type.IsValueType ? Expression.Unbox(o, type) : Expression.Convert(o, type), p);
        var body = Expression.TryCatch(convert(read), Expression.Catch(typeof(Exception), Expression.Default(typeof(TOut))));
        return Expression.Lambda<Func<object, TOut>>(body, o).Compile();
    }

    /// <summary>The fast loop of a column and its guarded twin (<see cref="Loop"/>), compiled when first needed.</summary>
    private static (Delegate Fast, Lazy<Delegate> Guarded) Loops<TOut>(Type type, PropertyInfo p, Func<Expression, Expression> convert) =>
        (Loop<TOut>(type, p, convert, guarded: false), new Lazy<Delegate>(() => Loop<TOut>(type, p, convert, guarded: true)));

    /// <summary>
    /// (rows, start, dest, at, count) => { for (r = 0; r &lt; count; r++) { var o = rows[start + r]; dest[at + r] = o == null ? default
    /// : convert(((T)o).P); } }: the typed getter without a delegate call per value, writing into the caller's array. <paramref name="guarded"/>: each read in
    /// try { } catch { default } (a handler inside the loop keeps its values out of registers: the fast loop has none, and
    /// a batch where it throws is read again by the guarded one).
    /// </summary>
    private static Action<object?[], int, TOut[], int, int> Loop<TOut>(Type type, PropertyInfo p, Func<Expression, Expression> convert, bool guarded)
    {
        var rows = Expression.Parameter(typeof(object[]), "rows");
        var start = Expression.Parameter(typeof(int), "start");
        var dest = Expression.Parameter(typeof(TOut[]), "dest");
        var at = Expression.Parameter(typeof(int), "at");
        var count = Expression.Parameter(typeof(int), "count");
        var r = Expression.Variable(typeof(int), "r");
        var o = Expression.Variable(typeof(object), "o");
        var read = Expression.Property(type.IsValueType ? Expression.Unbox(o, type) : Expression.Convert(o, type), p);
        var value = Expression.Condition(Expression.Equal(o, Expression.Constant(null)), Expression.Default(typeof(TOut)),
            guarded ? Expression.TryCatch(convert(read), Expression.Catch(typeof(Exception), Expression.Default(typeof(TOut)))) : convert(read));
        var end = Expression.Label("end");
        var body = Expression.Block(new[] { r, o },
            Expression.Assign(r, Expression.Constant(0)),
            Expression.Loop(
                Expression.IfThenElse(Expression.LessThan(r, count),
                    Expression.Block(
                        Expression.Assign(o, Expression.ArrayIndex(rows, Expression.Add(start, r))),
                        Expression.Assign(Expression.ArrayAccess(dest, Expression.Add(at, r)), value),
                        Expression.PostIncrementAssign(r)),
                    Expression.Break(end)),
                end));
        return Expression.Lambda<Action<object?[], int, TOut[], int, int>>(body, rows, start, dest, at, count).Compile();
    }

    // Scratch arrays of the compiled loops for a fill into a span (one batch of one column at a time), copied to it.
    private long?[]? _longs;
    private double?[]? _doubles;
    private bool?[]? _bools;
    private DateTime?[]? _dates;
    private string?[]? _strings;

    private bool Batch<T>(int c, int start, Span<T> dest, ref T[]? scratch)
    {
        if (scratch is null || scratch.Length < dest.Length) scratch = new T[dest.Length];
        if (!Batch(c, start, scratch, 0, dest.Length)) return false;
        scratch.AsSpan(0, dest.Length).CopyTo(dest);
        return true;
    }

    /// <summary>The compiled loop of column <paramref name="c"/> into dest[at..at+count]; false when the column has none.</summary>
    private bool Batch<T>(int c, int start, T[] dest, int at, int count)
    {
        if (_g.Batch[c] is not Action<object?[], int, T[], int, int> loop) return false;
        try { loop(_rows, start, dest, at, count); }
        catch (Exception) { ((Action<object?[], int, T[], int, int>)_g.GuardedBatch[c]!.Value)(_rows, start, dest, at, count); }
        return true;
    }

    public override bool FillArray(int c, int start, Array dest, int at, int count)
    {
        switch (dest)
        {
            case long?[] a: return Batch(c, start, a, at, count);
            case double?[] a: return Batch(c, start, a, at, count);
            case bool?[] a: return Batch(c, start, a, at, count);
            case string?[] a: return Batch(c, start, a, at, count);
            case DateTime?[] a:
                if (!Batch(c, start, a, at, count)) return false;
                foreach (ref var v in a.AsSpan(at, count)) if (v is { } d) v = ColumnTyping.ToUtc(d);
                return true;
            default: return false;
        }
    }

    protected override ColumnKind? StaticKind(int column) => _g.Kinds[column];

    public override object? Get(int column, int row) => _rows[row] is { } o ? PsValues.Unwrap(_g.Boxed[column](o)) : null;

    public override void FillLong(int c, int start, Span<long?> dest)
    {
        if (Batch(c, start, dest, ref _longs)) return;
        base.FillLong(c, start, dest);
    }

    public override void FillDouble(int c, int start, Span<double?> dest)
    {
        if (Batch(c, start, dest, ref _doubles)) return;
        base.FillDouble(c, start, dest);
    }

    public override void FillBool(int c, int start, Span<bool?> dest)
    {
        if (Batch(c, start, dest, ref _bools)) return;
        base.FillBool(c, start, dest);
    }

    public override void FillDate(int c, int start, Span<DateTime?> dest)
    {
        if (Batch(c, start, dest, ref _dates))
        {
            for (var r = 0; r < dest.Length; r++) if (dest[r] is { } d) dest[r] = ColumnTyping.ToUtc(d);
            return;
        }
        base.FillDate(c, start, dest);
    }

    public override void FillString(int c, int start, Span<string?> dest)
    {
        if (Batch(c, start, dest, ref _strings)) return;
        base.FillString(c, start, dest);
    }
}

/// <summary>A DataTable (or DataView): its columns, its rows in order, DBNull as null.</summary>
internal sealed class DataTableSource : TableSource
{
    private readonly DataRow[] _rows;
    private readonly DataColumn[] _columns;

    private DataTableSource(DataRow[] rows, DataColumn[] columns)
    {
        _rows = rows;
        _columns = columns;
        Columns = columns.Select(c => c.ColumnName).ToArray();
        RowCount = rows.Length;
    }

    public override TablePath Path => TablePath.DataTable;

    public static TableSource? TryCreate(object? value)
    {
        var v = PsValues.IsPropertyBag(value, out _) ? null : PsValues.Unwrap(value);
        DataRow[] rows;
        DataTable table;
        switch (v)
        {
            case DataTable dt: table = dt; rows = new DataRow[dt.Rows.Count]; dt.Rows.CopyTo(rows, 0); break;
            case DataView dv: table = dv.Table!; rows = dv.Cast<DataRowView>().Select(r => r.Row).ToArray(); break;
            default: return null;
        }
        var columns = table.Columns.Cast<DataColumn>().ToArray();
        if (columns.Length == 0 || rows.Length == 0
            || columns.Select(c => c.ColumnName).Distinct(StringComparer.OrdinalIgnoreCase).Count() != columns.Length) return null;
        return new DataTableSource(rows, columns);
    }

    public override object? Get(int column, int row) => PsValues.Unwrap(_rows[row][_columns[column]]);
}

/// <summary>
/// A dictionary of columns: a generic dictionary with string keys (Dictionary&lt;string, long[]&gt;,
/// Dictionary&lt;string, object&gt; of arrays, ...) whose every value is an array or list of the same length. Hashtables
/// and ordered dictionaries stay rows (a PowerShell @{...} is one object), as they always were.
/// </summary>
internal sealed class ColumnDictionarySource : TableSource
{
    private readonly IList[] _lists;

    private ColumnDictionarySource(string[] names, IList[] lists)
    {
        _lists = lists;
        Columns = names;
        RowCount = lists[0].Count;
    }

    public override TablePath Path => TablePath.ColumnDictionary;

    public static TableSource? TryCreate(object? value)
    {
        var v = PsValues.IsPropertyBag(value, out _) ? null : PsValues.Unwrap(value);
        if (v is not IDictionary dict || v is Hashtable || v is System.Collections.Specialized.IOrderedDictionary) return null;
        if (!v.GetType().GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>) && i.GetGenericArguments()[0] == typeof(string)))
            return null;
        var names = new List<string>();
        var lists = new List<IList>();
        foreach (DictionaryEntry e in dict)
        {
            if (PsValues.Unwrap(e.Value) is not IList list || e.Key is not string name) return null;
            if (list is Array { Rank: not 1 }) return null;
            names.Add(name);
            lists.Add(list);
        }
        if (lists.Count == 0 || lists.Any(l => l.Count != lists[0].Count)
            || names.Distinct(StringComparer.OrdinalIgnoreCase).Count() != names.Count) return null;
        return new ColumnDictionarySource(names.ToArray(), lists.ToArray());
    }

    protected override ColumnKind? StaticKind(int column) => _lists[column] switch
    {
        long[] or int[] or long?[] or int?[] => ColumnKind.Long,
        double[] or double?[] or float[] or decimal[] => ColumnKind.Double,
        bool[] or bool?[] => ColumnKind.Bool,
        DateTime[] or DateTime?[] => ColumnKind.DateTime,
        string[] => ColumnKind.String,
        _ => null,
    };

    public override object? Get(int column, int row) => PsValues.Unwrap(_lists[column][row]);

    public override void FillLong(int c, int start, Span<long?> dest)
    {
        switch (_lists[c])
        {
            case long[] a: for (var r = 0; r < dest.Length; r++) dest[r] = a[start + r]; break;
            case int[] a: for (var r = 0; r < dest.Length; r++) dest[r] = a[start + r]; break;
            case long?[] a: a.AsSpan(start, dest.Length).CopyTo(dest); break;
            default: base.FillLong(c, start, dest); break;
        }
    }

    public override void FillDouble(int c, int start, Span<double?> dest)
    {
        switch (_lists[c])
        {
            case double[] a: for (var r = 0; r < dest.Length; r++) dest[r] = a[start + r]; break;
            case double?[] a: a.AsSpan(start, dest.Length).CopyTo(dest); break;
            default: base.FillDouble(c, start, dest); break;
        }
    }

    public override void FillBool(int c, int start, Span<bool?> dest)
    {
        if (_lists[c] is bool[] a) for (var r = 0; r < dest.Length; r++) dest[r] = a[start + r];
        else base.FillBool(c, start, dest);
    }

    public override void FillDate(int c, int start, Span<DateTime?> dest)
    {
        if (_lists[c] is DateTime[] a) for (var r = 0; r < dest.Length; r++) dest[r] = ColumnTyping.ToUtc(a[start + r]);
        else base.FillDate(c, start, dest);
    }

    public override void FillString(int c, int start, Span<string?> dest)
    {
        if (_lists[c] is string?[] a) a.AsSpan(start, dest.Length).CopyTo(dest);
        else base.FillString(c, start, dest);
    }
}

/// <summary>An Apache Arrow RecordBatch: its columns, values as the arrow handler reads them back.</summary>
internal sealed class RecordBatchSource : TableSource
{
    private readonly IArrowArray[] _arrays;

    private RecordBatchSource(RecordBatch batch)
    {
        _arrays = Enumerable.Range(0, batch.ColumnCount).Select(batch.Column).ToArray();
        Columns = batch.Schema.FieldsList.Select(f => f.Name).ToArray();
        RowCount = batch.Length;
    }

    public override TablePath Path => TablePath.RecordBatch;

    public static TableSource? TryCreate(object? value)
    {
        if (PsValues.IsPropertyBag(value, out _) || PsValues.Unwrap(value) is not RecordBatch batch) return null;
        if (batch.ColumnCount == 0 || batch.Length == 0
            || batch.Schema.FieldsList.Select(f => f.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() != batch.ColumnCount) return null;
        return new RecordBatchSource(batch);
    }

    protected override ColumnKind? StaticKind(int column) => _arrays[column] switch
    {
        Int64Array or Int32Array or Int16Array or Int8Array or UInt32Array or UInt16Array or UInt8Array => ColumnKind.Long,
        DoubleArray or FloatArray => ColumnKind.Double,
        BooleanArray => ColumnKind.Bool,
        TimestampArray or Date32Array or Date64Array => ColumnKind.DateTime,
        StringArray or LargeStringArray => ColumnKind.String,
        _ => null,
    };

    public override object? Get(int column, int row) => ArrowIoHandler.Value(_arrays[column], row, Columns[column]);

    public override void FillLong(int c, int start, Span<long?> dest)
    {
        if (_arrays[c] is Int64Array a) for (var r = 0; r < dest.Length; r++) dest[r] = a.GetValue(start + r);
        else base.FillLong(c, start, dest);
    }

    public override void FillDouble(int c, int start, Span<double?> dest)
    {
        if (_arrays[c] is DoubleArray a) for (var r = 0; r < dest.Length; r++) dest[r] = a.GetValue(start + r);
        else base.FillDouble(c, start, dest);
    }

    public override void FillString(int c, int start, Span<string?> dest)
    {
        if (_arrays[c] is StringArray a) for (var r = 0; r < dest.Length; r++) dest[r] = a.IsNull(start + r) ? null : a.GetString(start + r);
        else base.FillString(c, start, dest);
    }
}
