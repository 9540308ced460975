using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using Axl.IO;

namespace Axl.Bench;

/// <summary>
/// Throughput of every built-in IO handler through ArtifactIO.Save / ArtifactIO.Load (what a step output costs: the
/// handler, SHA-256, fsync, atomic rename, metadata; and on load the hash verified), on a table of ~100 MB as CSV and
/// on a 100 MB string (text) and byte[] (bytes). Floors in the same run: File.WriteAllBytes / ReadAllBytes of as many
/// bytes as the handler's file (raw disk, page cache), the same plus fsync, and for the table the cost of enumerating
/// every property of every row (write) or of building the rows (read).
/// </summary>
public sealed class HandlerBench(BenchConfig cfg, Report report)
{
    private readonly string _work = Path.Combine(cfg.Work, "handlers");
    private static readonly DateTime Epoch = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private sealed record Result(string Handler, string Value, long Rows, long FileBytes, Timing Save, Timing Load, double SaveScale, double LoadScale,
        double SaveExponent, double LoadExponent, long MeasuredRows,
        double RawWrite, double RawWriteSync, double RawRead);

    public void Run()
    {
        Directory.CreateDirectory(_work);
        Console.WriteLine("  calibrating the table (CSV bytes per row)");
        var sample = MakeRows(20_000);
        double bytesPerRow;
        using (var ms = new MemoryStream())
        {
            new CsvIoHandler().Write(sample, ms);
            bytesPerRow = (double)ms.Length / sample.Length;
        }
        var rows = (int)Math.Round(cfg.TableBytes / bytesPerRow);
        Console.WriteLine($"    {bytesPerRow:0.0} CSV bytes per row: {Fmt.Int(rows)} rows for {Fmt.MB(cfg.TableBytes)}");

        // The object floors: a warm-up on the sample, then one run on the full table (each takes seconds).
        Traverse(sample);
        Build(Columns(sample), sample.Length);
        var table = MakeRows(rows);
        var firstTouch = Harness.Measure("traverse new rows, the first time (PowerShell builds each row's member caches)", 0, 1, () => Traverse(table));
        var traverse = Harness.Measure("traverse: read every property of every row", 0, 3, () => Traverse(table));
        var columns = Columns(table);
        table = null!;
        var build = Harness.Measure("build: make the rows from column values in memory", 0, 1, () => Build(columns, rows));
        columns = null!;
        Harness.Collect();

        var results = new List<Result>();
        foreach (var name in new[] { "csv", "json", "parquet", "arrow", "clixml" })
            results.Add(Measure(name, "table", rows, MakeRows, n => n,
                o => (o as object[])?.Length ?? throw new InvalidOperationException($"read back {o?.GetType()}")));

        // text and bytes: one value of TableBytes; sized in "rows" of 1,000 bytes so that the same scaling logic applies.
        var units = (int)(cfg.TableBytes / 1000);
        string? bigText = null;
        results.Add(Measure("text", "string", units, n => n == units ? bigText ??= MakeText(n) : MakeText(n), n => n * 1000L,
            o => o is string s ? s.Length / 1000 : throw new InvalidOperationException("text")));
        bigText = null;
        byte[]? bigBytes = null;
        results.Add(Measure("bytes", "byte[]", units, n => n == units ? bigBytes ??= MakeBytes(n) : MakeBytes(n), n => n * 1000L,
            o => o is byte[] b ? b.Length / 1000 : throw new InvalidOperationException("bytes")));
        bigBytes = null;
        Harness.Collect();

        // Raw disk at each handler's file size, now that the heap is small (a full GC with the table alive takes seconds).
        Console.WriteLine("  raw disk floors");
        for (var i = 0; i < results.Count; i++)
        {
            var (w, ws, rd) = Raw(results[i].FileBytes);
            results[i] = results[i] with { RawWrite = w, RawWriteSync = ws, RawRead = rd };
            Console.WriteLine($"    {results[i].Handler}, {Fmt.MB(results[i].FileBytes)}: WriteAllBytes {Fmt.Seconds(w)}, + fsync {Fmt.Seconds(ws)}, ReadAllBytes {Fmt.Seconds(rd)}");
        }

        var section = report.Add("IO handlers: artifact write and read throughput",
            $"The table: {Fmt.Int(rows)} rows of PSCustomObject with 6 columns (Id long, Score double, Name string, Active bool, Created DateTime (UTC), Quantity long), " +
            $"{Fmt.MB(rows * bytesPerRow)} as CSV; text: a {Fmt.MB(units * 1000L)} ASCII string; bytes: a {Fmt.MB(units * 1000L)} byte[]. " +
            "*write* is `ArtifactIO.Save(handler, value, dir)`: the handler's serialization, SHA-256 of the bytes, fsync, rename, metadata (+ fsync, rename). " +
            "*read* is `ArtifactIO.Load(dir)`: metadata, SHA-256 of the file verified, then the handler's deserialization. " +
            "MB/s = file size / time (MB = 10^6 bytes); rows/s compares the table handlers on the same rows, whatever their file size. Floors, measured in the same run at the same byte count: `File.WriteAllBytes` / `File.ReadAllBytes` " +
            "(raw disk; the file is in the page cache, as an artifact just written is), WriteAllBytes + fsync, and for the table " +
            $"*traverse* (read every property value of every row, once the rows' member caches exist: {Fmt.Seconds(traverse.Median)}, median of 3; " +
            $"the first traversal of new rows took {Fmt.Seconds(firstTouch.Median)}, and every write below pays that first touch, as a step's new output does) and *build* (make the {Fmt.Int(rows)} PSCustomObjects from column values already in memory: {Fmt.Seconds(build.Median)}), the least any writer or reader of these objects pays (after a warm-up on 20,000 rows; build: one run). " +
            "Write and read are the median of 3 runs (1 run when write + read take over 15 s), each on new rows made off the clock (PowerShell caches a PSObject's member " +
            "collections on first access, and a step's output is new when it is saved), after a warm-up and two pilots on smaller tables; in brackets, the fastest and slowest run.");
        string RowsPerSecond(Result r, double seconds) => r.Value == "table" ? Fmt.Int((long)(r.MeasuredRows / seconds)) : "—";
        var wt = section.Table("handler", "value", "file size", "write", "MB/s", "rows/s", "floor: WriteAllBytes", "÷ floor", "floor: + fsync", "÷ floor", "floor: traverse", "÷ floor");
        foreach (var r in results)
        {
            var sizeScale = (double)r.Rows / r.MeasuredRows; // raw disk and file size are linear in size
            var save = r.Save.Median * r.SaveScale;
            wt.Row(r.Handler + (sizeScale > 1 ? " *" : ""), r.Value, Fmt.MB(r.FileBytes * sizeScale), Fmt.Seconds(save) + Spread(r.Save, r.SaveScale), Fmt.MBps(r.FileBytes, r.Save.Median), RowsPerSecond(r, r.Save.Median),
                Fmt.Seconds(r.RawWrite * sizeScale), Fmt.Ratio(r.Save.Median / r.RawWrite), Fmt.Seconds(r.RawWriteSync * sizeScale), Fmt.Ratio(r.Save.Median / r.RawWriteSync),
                r.Value == "table" ? Fmt.Seconds(traverse.Median) : "—", r.Value == "table" ? Fmt.Ratio(save / traverse.Median) : "—");
        }
        var rt = section.Table("handler", "value", "file size", "read", "MB/s", "rows/s", "floor: ReadAllBytes", "÷ floor", "floor: build rows", "÷ floor");
        foreach (var r in results)
        {
            var sizeScale = (double)r.Rows / r.MeasuredRows;
            var load = r.Load.Median * r.LoadScale;
            rt.Row(r.Handler + (sizeScale > 1 ? " *" : ""), r.Value, Fmt.MB(r.FileBytes * sizeScale), Fmt.Seconds(load) + Spread(r.Load, r.LoadScale), Fmt.MBps(r.FileBytes, r.Load.Median), RowsPerSecond(r, r.Load.Median),
                Fmt.Seconds(r.RawRead * sizeScale), Fmt.Ratio(r.Load.Median / r.RawRead),
                r.Value == "table" ? Fmt.Seconds(build.Median) : "—", r.Value == "table" ? Fmt.Ratio(load / build.Median) : "—");
        }
        foreach (var r in results.Where(r => r.MeasuredRows < r.Rows))
            section.Note($"\\* {r.Handler}: **extrapolated, not measured at full size**. Its write + read of the full {r.Value} was projected past the {cfg.HandlerBudgetSeconds:0} s budget, " +
                         $"so it was measured on {Fmt.Int(r.MeasuredRows)} of {Fmt.Int(r.Rows)} rows ({Fmt.MB(r.FileBytes)} file: write {Fmt.Seconds(r.Save.Median)}, read {Fmt.Seconds(r.Load.Median)}). " +
                         (r.SaveExponent > 1.05 || r.LoadExponent > 1.05 ? "Its time grows faster than the size: " : "") +
                         $"between that size and a pilot on a smaller table, time ∝ rows^{r.SaveExponent:0.00} to write and ^{r.LoadExponent:0.00} to read (^1 is linear), " +
                         $"so the full-size times are the measured ones ×{r.SaveScale:0.0} and ×{r.LoadScale:0.0}; file size and raw-disk floors are scaled linearly. " +
                         "MB/s, rows/s and the ratios to the raw-disk floors are those measured at the smaller size; the ratios to traverse and build are of the extrapolated times.");
        section.Print();
    }

    private static string Spread(Timing t, double scale) => t.Runs == 1 ? "" : $" ({Fmt.Seconds(t.Min * scale)}–{Fmt.Seconds(t.Max * scale)})";

    /// <summary>
    /// Save and Load of one handler. A warm-up on a tiny value, then pilots on 1/50 and 1/10 of the value give the time of
    /// each and how it grows with the size (an exponent k: time ∝ size^k; clixml grows faster than linearly). Past the
    /// budget, a fraction of the value is measured and the times are extrapolated to the full value with that exponent.
    /// Every run gets a value of its own, made off the clock: a step's output is fresh when it is saved, and PowerShell
    /// caches a PSObject's member collections on first access (a first traversal of new rows is several times slower).
    /// </summary>
    private Result Measure(string handlerName, string valueKind, int units, Func<int, object> value, Func<int, long> bytesOf, Func<object?, int> unitsOf)
    {
        Console.WriteLine($"  {handlerName} ({valueKind})");
        var handler = IoHandlerRegistry.Get(handlerName);
        var label = $"handlers {handlerName}";
        Harness.Probe(label, _work);
        var meter = LoadMeter.Start(label);
        SaveLoad(handler, value(1000), 1000, unitsOf, new Stopwatch(), new Stopwatch());
        (double Save, double Load) Once(int n)
        {
            var v = value(n);
            Harness.Collect();
            var save = new Stopwatch();
            var load = new Stopwatch();
            SaveLoad(handler, v, n, unitsOf, save, load);
            return (save.Elapsed.TotalSeconds, load.Elapsed.TotalSeconds);
        }
        int a = Math.Max(1000, units / 50), b = Math.Max(2 * a, units / 10);
        var pa = Once(a);
        var pb = Once(b);
        var kSave = Exponent(pa.Save, pb.Save, a, b);
        var kLoad = Exponent(pa.Load, pb.Load, a, b);
        double Project(int n) => pb.Save * Math.Pow((double)n / b, kSave) + pb.Load * Math.Pow((double)n / b, kLoad);
        var projected = Project(units);

        var measuredUnits = units;
        if (projected > cfg.HandlerBudgetSeconds)
        {
            var fraction = new[] { 2, 4, 5, 10 }.FirstOrDefault(f => Project(units / f) <= cfg.HandlerBudgetSeconds, 10);
            measuredUnits = units / fraction;
            Console.WriteLine($"    projected {projected:0} s for write + read of the full value (time ∝ size^{kSave:0.00} to write, ^{kLoad:0.00} to read), " +
                              $"over the {cfg.HandlerBudgetSeconds:0} s budget: measuring 1/{fraction} of it and extrapolating");
        }
        var runs = Project(measuredUnits) > 15 ? 1 : 3;
        var saves = new List<double>();
        var loads = new List<double>();
        long size = 0;
        for (var i = 0; i < runs; i++)
        {
            var v = value(measuredUnits);
            Harness.Collect();
            var save = new Stopwatch();
            var load = new Stopwatch();
            size = SaveLoad(handler, v, measuredUnits, unitsOf, save, load);
            saves.Add(save.Elapsed.TotalSeconds);
            loads.Add(load.Elapsed.TotalSeconds);
        }
        var saveT = new Timing(handlerName + " write", saves.ToArray());
        var loadT = new Timing(handlerName + " read", loads.ToArray());
        double saveScale = 1, loadScale = 1;
        if (measuredUnits < units)
        {
            // The exponent from the pilot on 1/10 to the measured size (from 1/50 when the measured size is 1/10).
            var (refUnits, refTimes) = measuredUnits > b ? (b, pb) : (a, pa);
            kSave = Exponent(refTimes.Save, saveT.Median, refUnits, measuredUnits);
            kLoad = Exponent(refTimes.Load, loadT.Median, refUnits, measuredUnits);
            saveScale = Math.Pow((double)units / measuredUnits, kSave);
            loadScale = Math.Pow((double)units / measuredUnits, kLoad);
        }
        Console.WriteLine($"    {Fmt.MB(size)}: write {Fmt.Seconds(saveT.Median)} ({Fmt.MBps(size, saveT.Median)} MB/s), read {Fmt.Seconds(loadT.Median)} ({Fmt.MBps(size, loadT.Median)} MB/s), {runs} run(s)");
        var others = meter.Stop();
        Console.WriteLine($"    other processes {LoadMeter.Cores(others)} cores");
        return new Result(handlerName, valueKind, units, size, saveT, loadT, saveScale, loadScale, kSave, kLoad, measuredUnits, double.NaN, double.NaN, double.NaN);
    }

    /// <summary>k in time ∝ size^k from two measurements, kept within [1, 2]; 1 when the times are too short to tell.</summary>
    private static double Exponent(double t1, double t2, double n1, double n2) =>
        t1 < 0.02 || t2 <= t1 || n2 <= n1 ? 1 : Math.Clamp(Math.Log(t2 / t1) / Math.Log(n2 / n1), 1, 2);

    private long SaveLoad(IAxlIoHandler handler, object value, int units, Func<object?, int> unitsOf, Stopwatch save, Stopwatch load)
    {
        var dir = Path.Combine(_work, handler.Name + "-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            save.Start();
            var meta = ArtifactIO.Save(handler, value, dir);
            save.Stop();
            GC.Collect(); // the save's garbage is not collected on the load's clock
            load.Start();
            var back = ArtifactIO.Load(dir);
            load.Stop();
            var got = unitsOf(back);
            if (got != units) throw new InvalidOperationException($"{handler.Name} read back {got} units, wrote {units}");
            return meta.Size;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Raw disk at the same size: File.WriteAllBytes, the same plus fsync, File.ReadAllBytes (medians of 3).</summary>
    private (double Write, double WriteSync, double Read) Raw(long size)
    {
        var bytes = new byte[size];
        new Random(7).NextBytes(bytes);
        var path = Path.Combine(_work, "raw.bin");
        var write = Harness.Measure("WriteAllBytes", 1, 3, clock =>
        {
            if (File.Exists(path)) File.Delete(path);
            clock.Start();
            File.WriteAllBytes(path, bytes);
            clock.Stop();
        });
        var writeSync = Harness.Measure("WriteAllBytes + fsync", 1, 3, clock =>
        {
            if (File.Exists(path)) File.Delete(path);
            clock.Start();
            using (var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            clock.Stop();
        });
        var read = Harness.Measure("ReadAllBytes", 1, 3, () =>
        {
            if (File.ReadAllBytes(path).Length != size) throw new InvalidOperationException("raw read");
        });
        File.Delete(path);
        return (write.Median, writeSync.Median, read.Median);
    }

    // ---- values -------------------------------------------------------------------------------------------------

    /// <summary>Rows as a step returning a table gives them: an object[] of PSCustomObjects. Deterministic.</summary>
    public static object[] MakeRows(int n)
    {
        var rng = new Random(42);
        var rows = new object[n];
        for (var i = 0; i < n; i++)
        {
            var o = new PSObject();
            o.Properties.Add(new PSNoteProperty("Id", (long)i));
            o.Properties.Add(new PSNoteProperty("Score", rng.NextDouble() * 1000));
            o.Properties.Add(new PSNoteProperty("Name", "item-" + (i % 100_003).ToString(CultureInfo.InvariantCulture)));
            o.Properties.Add(new PSNoteProperty("Active", i % 3 == 0));
            o.Properties.Add(new PSNoteProperty("Created", Epoch.AddSeconds(i * 7L)));
            o.Properties.Add(new PSNoteProperty("Quantity", (long)rng.Next(0, 10_000)));
            rows[i] = o;
        }
        return rows;
    }

    private static long Traverse(object[] rows)
    {
        long n = 0;
        foreach (PSObject row in rows)
            foreach (var p in row.Properties)
                if (p.Value is not null) n++;
        if (n != rows.Length * 6L) throw new InvalidOperationException("traverse");
        return n;
    }

    private static readonly string[] Names = ["Id", "Score", "Name", "Active", "Created", "Quantity"];

    /// <summary>The values of the table by column, as a columnar reader has them before it makes rows.</summary>
    private static object?[][] Columns(object[] rows)
    {
        var columns = Names.Select(_ => new object?[rows.Length]).ToArray();
        for (var r = 0; r < rows.Length; r++)
        {
            var c = 0;
            foreach (var p in ((PSObject)rows[r]).Properties) columns[c++][r] = p.Value;
        }
        return columns;
    }

    /// <summary>What every reader of a table does at the least: one PSCustomObject per row with a note property per column.</summary>
    private static object[] Build(object?[][] columns, int n)
    {
        var rows = new object[n];
        for (var r = 0; r < n; r++)
        {
            var o = new PSObject();
            for (var c = 0; c < Names.Length; c++) o.Properties.Add(new PSNoteProperty(Names[c], columns[c][r]));
            rows[r] = o;
        }
        return rows;
    }

    private static string MakeText(int thousands)
    {
        var sb = new StringBuilder(thousands * 1000);
        var line = 0;
        while (sb.Length < thousands * 1000)
            sb.Append("line ").Append(line++.ToString("D9", CultureInfo.InvariantCulture)).Append(": the quick brown fox jumps over the lazy dog, 0123456789\n");
        sb.Length = thousands * 1000;
        return sb.ToString();
    }

    private static byte[] MakeBytes(int thousands)
    {
        var b = new byte[thousands * 1000L];
        new Random(3).NextBytes(b);
        return b;
    }
}
