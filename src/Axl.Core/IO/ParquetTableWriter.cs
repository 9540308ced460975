using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Axl.IO;

/// <summary>
/// Writes a <see cref="TableSource"/> as an Apache Parquet file, in one pass and without an intermediate copy of the
/// table: row groups of <see cref="ColumnTyping.RowsPerGroup"/> rows, the columns of a group filled from the source together
/// (<see cref="ColumnBatch"/>; typed rows: the next group loaded on another thread while this one is encoded,
/// <see cref="BatchReader"/>), encoded PLAIN (booleans bit-packed) in uncompressed data pages (v1) with definition levels
/// (every column OPTIONAL, RLE/bit-packed hybrid, bit width 1), then the Thrift compact footer. The schema is the one
/// the handler always wrote: INT64, DOUBLE, BOOLEAN, BYTE_ARRAY (STRING) and INT64 TIMESTAMP (UTC, nanoseconds or
/// microseconds). Read by Parquet.Net (the handler's reader) and by any Parquet reader: no compression, dictionary or
/// statistics are needed for that.
/// </summary>
internal sealed class ParquetTableWriter
{
    /// <summary>A string page is cut once its values pass this many bytes (a page's size is a 32-bit integer).</summary>
    internal const int DefaultPageBytes = 64 << 20;

    // Parquet Thrift enums
    private const int TypeBoolean = 0, TypeInt64 = 2, TypeDouble = 5, TypeByteArray = 6;
    private const int EncodingPlain = 0, EncodingRle = 3;
    private const int Optional = 1;
    private const int ConvertedUtf8 = 0, ConvertedTimestampMicros = 10;

    private readonly Stream _out;
    private readonly TableSource _table;
    private readonly int _pageBytes;
    /// <summary>Per column: dates as nanoseconds (else microseconds); <see cref="_checkNanos"/>: a guess to check on each date.</summary>
    private readonly bool[] _nanos;
    private readonly bool _checkNanos;
    private long _position;
    private readonly ThriftCompactWriter _thrift = new();
    private byte[] _values = Array.Empty<byte>();
    private byte[] _defs = Array.Empty<byte>();
    private readonly byte[] _head = new byte[16];

    private ParquetTableWriter(TableSource table, Stream destination, int pageBytes, bool[] nanos, bool checkNanos)
    {
        _table = table;
        _out = destination;
        _pageBytes = pageBytes;
        _nanos = nanos;
        _checkNanos = checkNanos;
    }

    private readonly record struct Chunk(long FirstPage, long Bytes, long Values);

    /// <summary>
    /// Writes <paramref name="table"/> to <paramref name="destination"/> (not seeked: any writable stream); string pages
    /// are cut past <paramref name="pageBytes"/> bytes of values.
    /// </summary>
    public static void Write(TableSource table, Stream destination, int pageBytes = DefaultPageBytes)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The parquet writer needs a little-endian machine.");
        table.Write(destination, (nanos, check) => new ParquetTableWriter(table, destination, pageBytes, nanos, check).WriteFile());
    }

    private void WriteFile()
    {
        var kinds = _table.Kinds;
        var names = _table.Columns;
        var rowCount = kinds.Length == 0 ? 0 : _table.RowCount;
        Put("PAR1"u8);
        var groups = new List<(Chunk[] Chunks, int Rows)>();
        using var reader = new BatchReader(_table, Math.Min(ColumnTyping.RowsPerGroup, rowCount));
        for (var start = 0; start < rowCount; start += ColumnTyping.RowsPerGroup)
        {
            var n = Math.Min(ColumnTyping.RowsPerGroup, rowCount - start);
            // The typed values of the group, all its columns filled together.
            var batch = reader.Read(start, n, Math.Min(ColumnTyping.RowsPerGroup, rowCount - start - n));
            var chunks = new Chunk[kinds.Length];
            for (var c = 0; c < kinds.Length; c++) chunks[c] = WriteChunk(batch, c, kinds[c], n);
            groups.Add((chunks, n));
        }
        // A table without columns (no rows, or rows without properties) is zero rows of one string column.
        var columns = kinds.Length == 0
            ? new[] { (Name: RowTable.ScalarColumn, Kind: ColumnKind.String, Nanos: false) }
            : names.Select((name, c) => (Name: name, Kind: kinds[c], Nanos: _nanos[c])).ToArray();
        var footer = Footer(columns, groups, rowCount);
        Put(footer);
        BinaryPrimitives.WriteInt32LittleEndian(_head, footer.Length);
        Put(_head.AsSpan(0, 4));
        Put("PAR1"u8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Chunk WriteChunk(ColumnBatch batch, int c, ColumnKind kind, int n)
    {
        var first = _position;
        EnsureDefs(n);
        switch (kind)
        {
            case ColumnKind.Long:
            {
                var src = batch.Longs(c);
                var k = Pack<long>(src, MemoryMarshal.Cast<byte, long>(Values(n * 8L)));
                Page(n, n - k, k * 8);
                break;
            }
            case ColumnKind.DateTime:
            {
                var src = batch.Dates(c);
                var dest = MemoryMarshal.Cast<byte, long>(Values(n * 8L));
                var nanos = _nanos[c];
                var check = nanos && _checkNanos;
                var k = 0;
                for (var r = 0; r < n; r++)
                {
                    if (src[r] is not { } d) continue;
                    if (check && !TableSource.FitsNanos(d)) throw new TableSource.NanosDoNotFit();
                    var ticks = d.Ticks - DateTime.UnixEpoch.Ticks;
                    dest[k++] = nanos ? ticks * 100 : ticks / 10;
                    Def(r);
                }
                Page(n, n - k, k * 8);
                break;
            }
            case ColumnKind.Double:
            {
                var src = batch.Doubles(c);
                var k = Pack<double>(src, MemoryMarshal.Cast<byte, double>(Values(n * 8L)));
                Page(n, n - k, k * 8);
                break;
            }
            case ColumnKind.Bool:
            {
                var src = batch.Bools(c);
                var bits = Values((n + 7) / 8);
                bits.Clear();
                var k = 0;
                for (var r = 0; r < n; r++)
                {
                    if (src[r] is not { } b) continue;
                    if (b) bits[k >> 3] |= (byte)(1 << (k & 7));
                    k++;
                    Def(r);
                }
                Page(n, n - k, (k + 7) / 8);
                break;
            }
            default:
                WriteStrings(batch, c, n);
                break;
        }
        return new Chunk(first, _position - first, n);
    }

    /// <summary>PLAIN fixed-width values: the non-null ones of <paramref name="src"/>, packed in order, with their definition bits; how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Pack<T>(ReadOnlySpan<T?> src, Span<T> dest) where T : struct
    {
        var k = 0;
        for (var r = 0; r < src.Length; r++) if (src[r] is { } v) { dest[k++] = v; Def(r); }
        return k;
    }

    /// <summary>PLAIN byte arrays: a 4-byte length and the UTF-8 bytes of each value, in pages of about the page size at most.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteStrings(ColumnBatch batch, int c, int n)
    {
        var src = batch.Strings(c).AsSpan(0, n);
        var pageStart = 0;
        var length = 0;
        var nulls = 0;
        for (var r = 0; r < n; r++)
        {
            if (src[r] is { } s)
            {
                var max = 4 + ColumnTyping.MaxUtf8Bytes(s.Length);
                if (length + max > _values.Length) Grow(length + max, length);
                var written = ColumnTyping.Utf8(s, _values.AsSpan(length + 4));
                BinaryPrimitives.WriteInt32LittleEndian(_values.AsSpan(length), written);
                length += 4 + written;
                Def(r - pageStart);
            }
            else nulls++;
            if (length >= _pageBytes && r + 1 < n)
            {
                Page(r + 1 - pageStart, nulls, length);
                pageStart = r + 1;
                length = 0;
                nulls = 0;
                _defs.AsSpan(0, (n - pageStart + 7) / 8).Clear();
            }
        }
        Page(n - pageStart, nulls, length);
    }

    private void Def(int r) => _defs[r >> 3] |= (byte)(1 << (r & 7));

    private void EnsureDefs(int n)
    {
        var bytes = (n + 7) / 8;
        if (_defs.Length < bytes) _defs = new byte[bytes];
        else _defs.AsSpan(0, bytes).Clear();
    }

    /// <summary>The values buffer, at least <paramref name="bytes"/> long (contents undefined).</summary>
    private Span<byte> Values(long bytes)
    {
        if (_values.Length < bytes) Grow(bytes, 0);
        return _values.AsSpan(0, (int)bytes);
    }

    private void Grow(long needed, int keep)
    {
        if (needed > Array.MaxLength) throw new InvalidOperationException("A parquet page passed 2 GB.");
        var grown = new byte[(int)Math.Min(Array.MaxLength, Math.Max(needed, Math.Max(1 << 16, _values.Length * 2L)))];
        _values.AsSpan(0, keep).CopyTo(grown);
        _values = grown;
    }

    /// <summary>
    /// One data page (v1) of <paramref name="rows"/> rows: its header, the definition levels (one RLE run when all rows
    /// are set or all null, else one bit-packed run of the bitmap <see cref="_defs"/>), then the first
    /// <paramref name="valueBytes"/> bytes of <see cref="_values"/>.
    /// </summary>
    private void Page(int rows, int nulls, int valueBytes)
    {
        var packed = nulls != 0 && nulls != rows;
        var bitmapBytes = packed ? (rows + 7) / 8 : 0;
        // Definition levels: 4-byte length, then the run header and its data.
        var run = _head.AsSpan(4);
        var runHeader = Varint(run, packed ? ((ulong)bitmapBytes << 1) | 1 : (ulong)rows << 1);
        var levels = runHeader + (packed ? bitmapBytes : 1);
        if (!packed) run[runHeader] = nulls == 0 ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32LittleEndian(_head, levels);
        var body = checked(4 + levels + valueBytes);

        var t = _thrift;
        t.Reset();
        t.BeginStruct();
        t.I32(1, 0); // DATA_PAGE
        t.I32(2, body);
        t.I32(3, body);
        t.BeginStruct(5); // DataPageHeader
        t.I32(1, rows);
        t.I32(2, EncodingPlain);
        t.I32(3, EncodingRle);
        t.I32(4, EncodingRle);
        t.EndStruct();
        t.EndStruct();
        Put(t.Written);
        Put(_head.AsSpan(0, 4 + (packed ? runHeader : runHeader + 1)));
        if (packed) Put(_defs.AsSpan(0, bitmapBytes));
        Put(_values.AsSpan(0, valueBytes));
    }

    private static int Varint(Span<byte> dest, ulong v)
    {
        var i = 0;
        while (v >= 0x80) { dest[i++] = (byte)(v | 0x80); v >>= 7; }
        dest[i++] = (byte)v;
        return i;
    }

    private void Put(ReadOnlySpan<byte> bytes)
    {
        _out.Write(bytes);
        _position += bytes.Length;
    }

    private byte[] Footer((string Name, ColumnKind Kind, bool Nanos)[] columns, List<(Chunk[] Chunks, int Rows)> groups, long rowCount)
    {
        var t = _thrift;
        t.Reset();
        t.BeginStruct(); // FileMetaData
        t.I32(1, 1); // version
        t.ListHeader(2, ThriftCompactWriter.Struct, columns.Length + 1);
        t.BeginStruct(); // the root
        t.String(4, "schema");
        t.I32(5, columns.Length);
        t.EndStruct();
        foreach (var (name, kind, nanos) in columns)
        {
            t.BeginStruct(); // SchemaElement
            t.I32(1, PhysicalType(kind));
            t.I32(3, Optional);
            t.String(4, name);
            if (kind == ColumnKind.String) t.I32(6, ConvertedUtf8);
            else if (kind == ColumnKind.DateTime && !nanos) t.I32(6, ConvertedTimestampMicros);
            if (kind == ColumnKind.String)
            {
                t.BeginStruct(10); // LogicalType
                t.BeginStruct(1); t.EndStruct(); // STRING
                t.EndStruct();
            }
            else if (kind == ColumnKind.DateTime)
            {
                t.BeginStruct(10); // LogicalType
                t.BeginStruct(8); // TIMESTAMP
                t.Bool(1, true); // isAdjustedToUTC
                t.BeginStruct(2); // unit
                t.BeginStruct(nanos ? (short)3 : (short)2); t.EndStruct();
                t.EndStruct();
                t.EndStruct();
                t.EndStruct();
            }
            t.EndStruct();
        }
        t.I64(3, rowCount);
        t.ListHeader(4, ThriftCompactWriter.Struct, groups.Count);
        for (var g = 0; g < groups.Count; g++)
        {
            var (chunks, rows) = groups[g];
            t.BeginStruct(); // RowGroup
            t.ListHeader(1, ThriftCompactWriter.Struct, chunks.Length);
            long total = 0;
            for (var c = 0; c < chunks.Length; c++)
            {
                var chunk = chunks[c];
                total += chunk.Bytes;
                t.BeginStruct(); // ColumnChunk
                t.I64(2, chunk.FirstPage);
                t.BeginStruct(3); // ColumnMetaData
                t.I32(1, PhysicalType(columns[c].Kind));
                t.ListHeader(2, ThriftCompactWriter.I32Type, 2);
                t.ListI32(EncodingPlain);
                t.ListI32(EncodingRle);
                t.ListHeader(3, ThriftCompactWriter.Binary, 1);
                t.ListString(columns[c].Name);
                t.I32(4, 0); // UNCOMPRESSED
                t.I64(5, chunk.Values);
                t.I64(6, chunk.Bytes);
                t.I64(7, chunk.Bytes);
                t.I64(9, chunk.FirstPage);
                t.EndStruct();
                t.EndStruct();
            }
            t.I64(2, total);
            t.I64(3, rows);
            t.I64(5, chunks.Length > 0 ? chunks[0].FirstPage : 0);
            t.I64(6, total);
            t.I16(7, (short)g);
            t.EndStruct();
        }
        t.String(6, "axl " + AxlInfo.Version);
        t.EndStruct();
        return t.Written.ToArray();
    }

    private static int PhysicalType(ColumnKind kind) => kind switch
    {
        ColumnKind.Long or ColumnKind.DateTime => TypeInt64,
        ColumnKind.Double => TypeDouble,
        ColumnKind.Bool => TypeBoolean,
        _ => TypeByteArray,
    };
}

/// <summary>The Thrift compact protocol, write side, as much of it as a Parquet footer and page header need.</summary>
internal sealed class ThriftCompactWriter
{
    public const byte BoolTrue = 1, BoolFalse = 2, I16Type = 4, I32Type = 5, I64Type = 6, Binary = 8, List = 9, Struct = 12;

    private byte[] _buffer = new byte[256];
    private int _length;
    private readonly Stack<short> _outer = new();
    private short _last;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Reset()
    {
        _length = 0;
        _outer.Clear();
        _last = 0;
    }

    /// <summary>A struct as a list element or the top level.</summary>
    public void BeginStruct()
    {
        _outer.Push(_last);
        _last = 0;
    }

    /// <summary>A struct as field <paramref name="id"/> of the current struct.</summary>
    public void BeginStruct(short id)
    {
        Field(id, Struct);
        BeginStruct();
    }

    public void EndStruct()
    {
        Byte(0); // STOP
        _last = _outer.Pop();
    }

    public void Bool(short id, bool value) => Field(id, value ? BoolTrue : BoolFalse);
    public void I16(short id, short value) { Field(id, I16Type); Varint(ZigZag(value)); }
    public void I32(short id, int value) { Field(id, I32Type); Varint(ZigZag(value)); }
    public void I64(short id, long value) { Field(id, I64Type); Varint(ZigZag(value)); }

    public void String(short id, string value)
    {
        Field(id, Binary);
        ListString(value);
    }

    public void ListHeader(short id, byte elementType, int count)
    {
        Field(id, List);
        if (count < 15) Byte((byte)((count << 4) | elementType));
        else { Byte((byte)(0xF0 | elementType)); Varint((ulong)count); }
    }

    public void ListI32(int value) => Varint(ZigZag(value));

    public void ListString(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Varint((ulong)bytes.Length);
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer, _length);
        _length += bytes.Length;
    }

    private void Field(short id, byte type)
    {
        var delta = id - _last;
        if (delta is > 0 and <= 15) Byte((byte)((delta << 4) | type));
        else { Byte(type); Varint(ZigZag(id)); }
        _last = id;
    }

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    private void Varint(ulong v)
    {
        Ensure(10);
        while (v >= 0x80) { _buffer[_length++] = (byte)(v | 0x80); v >>= 7; }
        _buffer[_length++] = (byte)v;
    }

    private void Byte(byte b)
    {
        Ensure(1);
        _buffer[_length++] = b;
    }

    private void Ensure(int more)
    {
        if (_length + more <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(_length + more, _buffer.Length * 2));
    }
}
