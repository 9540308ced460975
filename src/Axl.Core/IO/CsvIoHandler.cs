using System.Management.Automation;
using System.Text;

namespace Axl.IO;

/// <summary>
/// CSV (RFC 4180, UTF-8 without BOM, CRLF line ends) of a table of rows.
/// <para>Rows: an enumerable of objects (PSCustomObjects, hashtables, DataRows or a DataTable, any .NET objects by their
/// public properties); a single object is one row; a scalar row (a number, a string) is one column "Value"; null or an
/// empty enumerable is an empty file. The header is the union of the property names in first-seen order
/// (case-insensitive, as PowerShell property names are).</para>
/// <para>Values: culture-invariant text (numbers round-trip, dates ISO 8601 "o", bools True/False). Fields with commas,
/// quotes, CR or LF are quoted; a null value is an empty unquoted field and an empty string is a quoted empty field ("")
/// so that the two read back apart.</para>
/// <para>Read: an object[] of PSCustomObjects with string values (null for an empty unquoted field or a missing one).</para>
/// </summary>
public sealed class CsvIoHandler : IAxlIoHandler
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public string Name => "csv";
    public string Extension => ".csv";
    public string Description => "CSV (RFC 4180) of a table of objects";

    public void Write(object? value, Stream destination)
    {
        var table = TableSource.Open(value);
        using var w = new StreamWriter(destination, Utf8NoBom, bufferSize: TextBuffer.WriterChars, leaveOpen: true) { NewLine = "\r\n" };
        var columns = table.Columns.Length;
        if (columns == 0) return;
        for (var c = 0; c < columns; c++)
        {
            if (c > 0) w.Write(',');
            WriteField(w, table.Columns[c]);
        }
        w.Write("\r\n");
        // The text of a batch of rows, a column at a time, then written row by row.
        const int Batch = 16_384;
        var text = new string?[columns][];
        for (var c = 0; c < columns; c++) text[c] = new string?[Math.Min(Batch, Math.Max(1, table.RowCount))];
        for (var start = 0; start < table.RowCount; start += Batch)
        {
            var n = Math.Min(Batch, table.RowCount - start);
            for (var c = 0; c < columns; c++) table.FillString(c, start, text[c].AsSpan(0, n));
            for (var r = 0; r < n; r++)
            {
                for (var c = 0; c < columns; c++)
                {
                    if (c > 0) w.Write(',');
                    WriteField(w, text[c][r]);
                }
                w.Write("\r\n");
            }
        }
    }

    private static void WriteField(TextWriter w, string? field)
    {
        if (field is null) return;
        if (field.Length == 0) { w.Write("\"\""); return; }
        if (field.AsSpan().IndexOfAny(",\"\r\n") < 0) { w.Write(field); return; }
        w.Write('"');
        w.Write(field.Replace("\"", "\"\""));
        w.Write('"');
    }

    private const int CsvBatch = 8192;

    public object? Read(Stream source)
    {
        using var reader = new StreamReader(source, Utf8NoBom, detectEncodingFromByteOrderMarks: true, bufferSize: TextBuffer.ReaderBytes(source), leaveOpen: true);
        var parser = new Parser(reader);
        var header = parser.NextRecord();
        if (header is null) return Array.Empty<object?>();
        var names = new string[header.Count];
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = header[i] ?? "";
            if (names[i].Length == 0)
                throw new InvalidDataException($"CSV header field {i + 1} is empty; every column needs a name to become a property.");
            if (!seen.Add(names[i]))
                throw new InvalidDataException($"CSV header has the column '{names[i]}' twice (names are case-insensitive).");
        }
        // Records gathered a batch at a time into string columns, then made into rows (a missing field is null).
        var rows = new TableRows(names, Enumerable.Repeat(typeof(string), names.Length).ToArray(), TableRows.ClassesAllowed);
        var columns = new Array[names.Length];
        for (var c = 0; c < columns.Length; c++) columns[c] = new string?[CsvBatch];
        var n = 0;
        while (parser.NextRecord() is { } record)
        {
            if (record.Count > names.Length)
                throw new InvalidDataException($"CSV record on line {parser.RecordLine} has {record.Count} fields; the header has {names.Length}.");
            for (var c = 0; c < columns.Length; c++) ((string?[])columns[c])[n] = c < record.Count ? record[c] : null;
            if (++n == CsvBatch) { rows.Add(columns, n); n = 0; }
        }
        rows.Add(columns, n);
        return rows.ToArray();
    }

    /// <summary>RFC 4180 record reader: quoted fields may hold commas, doubled quotes, CR and LF; records end with CRLF or LF.</summary>
    private sealed class Parser(TextReader reader)
    {
        private readonly StringBuilder _field = new();
        private readonly List<string?> _record = new();
        private int _line = 1;

        public int RecordLine { get; private set; }

        /// <summary>The next record, or null at the end. The list is reused between calls.</summary>
        public List<string?>? NextRecord()
        {
            _record.Clear();
            RecordLine = _line;
            var c = reader.Read();
            if (c < 0) return null;
            while (true)
            {
                // At the start of a field.
                _field.Clear();
                if (c == '"')
                {
                    while (true)
                    {
                        c = reader.Read();
                        if (c < 0) throw new InvalidDataException($"CSV quoted field opened on line {RecordLine} is not closed.");
                        if (c == '"')
                        {
                            if (reader.Peek() == '"') { reader.Read(); _field.Append('"'); continue; }
                            break;
                        }
                        if (c == '\n') _line++;
                        _field.Append((char)c);
                    }
                    _record.Add(_field.ToString());
                    c = reader.Read();
                    if (c != ',' && c != '\r' && c != '\n' && c >= 0)
                        throw new InvalidDataException($"CSV line {_line}: unexpected character '{(char)c}' after a closing quote.");
                }
                else
                {
                    while (c >= 0 && c != ',' && c != '\r' && c != '\n') { _field.Append((char)c); c = reader.Read(); }
                    _record.Add(_field.Length == 0 ? null : _field.ToString());
                }
                if (c == ',') { c = reader.Read(); continue; }
                if (c == '\r' && reader.Peek() == '\n') reader.Read();
                if (c >= 0) _line++;
                return _record;
            }
        }
    }
}
