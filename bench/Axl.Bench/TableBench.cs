using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Reflection;
using Axl.IO;

namespace Axl.Bench;

/// <summary>
/// The table handlers at 1,000,000 rows x 5 columns (Id long, Score double, Name string, Active bool, Created DateTime UTC),
/// from typed inputs (an array of records) and from PSCustomObject rows, through ArtifactIO.Save / Load, beside the disk
/// write floor measured in the same run on the same bytes (`dd conv=fsync` of the artifact file). The general path (every
/// row's properties enumerated, what every handler did before the typed paths) is measured on a tenth of the rows for
/// the rows/s it reaches. Peak working set: the highest process working set sampled every 10 ms during the operation,
/// minus the working set before it (the input table is alive before and during).
/// </summary>
public sealed class TableBench(BenchConfig cfg, Report report)
{
    private readonly string _work = Path.Combine(cfg.Work, "tables");
    private static readonly DateTime Epoch = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public sealed record Row(long Id, double Score, string Name, bool Active, DateTime Created);

    private sealed record Figure(string Handler, string Input, string Path, int Rows, long Bytes, double Write, long WritePeak, double Read, long ReadPeak, double Floor);

    public void Run()
    {
        Directory.CreateDirectory(_work);
        var n = cfg.TableRows;
        var small = Math.Max(1000, n / 10);
        Console.WriteLine($"  tables: {Fmt.Int(n)} rows x 5 columns");
        var figures = new List<Figure>();
        // Warm-up: JIT of every handler and path on small tables.
        foreach (var h in new[] { "csv", "json", "parquet", "arrow", "clixml" })
        {
            Once(h, "warm-up", Typed(2000), 2000, general: false, runs: 1);
            Once(h, "warm-up", PsRows(2000), 2000, general: false, runs: 1);
        }
        foreach (var h in new[] { "parquet", "arrow", "csv" })
        {
            figures.Add(Once(h, "records (typed)", Typed(n), n, general: false, runs: 3));
            figures.Add(Once(h, "PSCustomObject rows", PsRows(n), n, general: false, runs: 1));
            figures.Add(Once(h, "PSCustomObject rows, general path", PsRows(small), small, general: true, runs: 1));
        }
        // json and clixml have no typed path: PSCustomObject rows on a tenth of the table (rows/s compare).
        foreach (var h in new[] { "json", "clixml" }) figures.Add(Once(h, "PSCustomObject rows", PsRows(small), small, general: false, runs: 1));

        var section = report.Add("Tables: 1,000,000 rows × 5 columns, typed and PSCustomObject inputs",
            $"{Fmt.Int(n)} rows × 5 columns (Id long, Score double, Name string, Active bool, Created DateTime UTC). *records*: a `Row[]` of a C# record " +
            "(the typed path: one compiled loop per column, columns filled a row group at a time; arrow arrays made from their buffers); *PSCustomObject rows*: an `object[]` of new PSCustomObjects (the " +
            "PSCustomObject path: note properties read by index from the instance members), each measured once on rows made off the clock; " +
            $"*general path*: the same rows forced through the general path (every row's properties enumerated into a row table, as every handler did before), on {Fmt.Int(small)} rows. " +
            "write = `ArtifactIO.Save` (serialization, SHA-256, fsync, rename, metadata); read = `ArtifactIO.Load` (hash verified, then one object per row of the row class generated for the columns, a row group at a time; the general path's read builds PSCustomObjects with PSObject.Properties.Add, as before). " +
            "floor = `dd if=<artifact> of=<new file> bs=1M conv=fsync` of the same bytes, in the same run (process start included). " +
            "Peak = the largest rise of the process working set over its value before the operation, sampled every 10 ms. " +
            "The machine was shared (2 cores, other jobs running): compare the ratios within this table, not the absolute times.");
        var t = section.Table("handler", "input", "rows", "file", "write", "rows/s", "MB/s", "floor (dd fsync)", "floor ÷ write", "peak (write)", "read", "rows/s", "peak (read)");
        foreach (var f in figures)
            t.Row(f.Handler, f.Input, Fmt.Int(f.Rows), Fmt.MB(f.Bytes), Fmt.Seconds(f.Write), Fmt.Int((long)(f.Rows / f.Write)), Fmt.MBps(f.Bytes, f.Write),
                Fmt.Seconds(f.Floor), (f.Floor / f.Write * 100).ToString("0", CultureInfo.InvariantCulture) + " %", Fmt.MB(f.WritePeak),
                Fmt.Seconds(f.Read), Fmt.Int((long)(f.Rows / f.Read)), Fmt.MB(f.ReadPeak));
        foreach (var h in new[] { "parquet", "arrow", "csv" })
        {
            var typed = figures.First(f => f.Handler == h && f.Input.StartsWith("records"));
            var ps = figures.First(f => f.Handler == h && f.Input == "PSCustomObject rows");
            var gen = figures.First(f => f.Handler == h && f.Input.EndsWith("general path"));
            double Rps(Figure f, double s) => f.Rows / s;
            var writeGain = Rps(ps, ps.Write) / Rps(gen, gen.Write);
            var readGain = Rps(ps, ps.Read) / Rps(gen, gen.Read);
            var floorShare = typed.Floor / typed.Write;
            if (h is "parquet" or "arrow")
            {
                report.Target("4", $"{h}: typed write (records) of {Fmt.Int(typed.Rows)} rows at least 50 % of the disk write floor (dd conv=fsync of the same bytes): time ÷ floor time ≤ 2×", typed.Write / typed.Floor, 2);
                report.Target("4", $"{h}: PSCustomObject rows written at ≥ 10× the general path's rows/s: general path's time per row ÷ this one's, inverted (≤ 0.1×)", 1 / writeGain, 0.1);
                report.Target("4", $"{h}: PSCustomObject rows read at ≥ 10× the general path's rows/s (inverted, ≤ 0.1×)", 1 / readGain, 0.1);
            }
            section.Note($"{h}: typed write at {floorShare * 100:0} % of the disk write floor (target ≥ 50 %: {(floorShare >= 0.5 ? "met" : "not met")}); " +
                         $"PSCustomObject rows {writeGain:0.0}× the general path's rows/s to write and {readGain:0.0}× to read (target ≥ 10×: write {(writeGain >= 10 ? "met" : "not met")}, read {(readGain >= 10 ? "met" : "not met")}).");
        }
        section.Print();
    }

    private static object[] PsRows(int n)
    {
        var rows = new object[n];
        for (var i = 0; i < n; i++)
        {
            var o = new PSObject();
            o.Properties.Add(new PSNoteProperty("Id", (long)i));
            o.Properties.Add(new PSNoteProperty("Score", (i % 1000) * 0.37));
            o.Properties.Add(new PSNoteProperty("Name", "item-" + (i % 100_003).ToString(CultureInfo.InvariantCulture)));
            o.Properties.Add(new PSNoteProperty("Active", i % 3 == 0));
            o.Properties.Add(new PSNoteProperty("Created", Epoch.AddSeconds(i * 7L)));
            rows[i] = o;
        }
        return rows;
    }

    private static Row[] Typed(int n)
    {
        var rows = new Row[n];
        for (var i = 0; i < n; i++) rows[i] = new Row(i, (i % 1000) * 0.37, "item-" + (i % 100_003).ToString(CultureInfo.InvariantCulture), i % 3 == 0, Epoch.AddSeconds(i * 7L));
        return rows;
    }

    private static void SetGeneral(bool general)
    {
        var core = typeof(ArtifactIO).Assembly;
        core.GetType("Axl.IO.TableSource")!.GetField("ForceGeneralPath", BindingFlags.NonPublic | BindingFlags.Static)!.SetValue(null, general);
        core.GetType("Axl.IO.PsInternals")!.GetField("BuildRowsThroughProperties", BindingFlags.NonPublic | BindingFlags.Static)!.SetValue(null, general);
    }

    private Figure Once(string handlerName, string input, object value, int rows, bool general, int runs)
    {
        var handler = IoHandlerRegistry.Get(handlerName);
        var writes = new List<(double S, long Peak)>();
        var reads = new List<(double S, long Peak)>();
        long bytes = 0;
        double floor = double.NaN;
        SetGeneral(general);
        try
        {
            for (var run = 0; run < runs; run++)
            {
                var dir = Path.Combine(_work, handlerName + "-" + Guid.NewGuid().ToString("N")[..8]);
                Harness.Collect();
                ArtifactMetadata meta = null!;
                writes.Add(Sampled(() => meta = ArtifactIO.Save(handler, value, dir)));
                bytes = meta.Size;
                GC.Collect();
                object? back = null;
                reads.Add(Sampled(() => back = ArtifactIO.Load(dir)));
                var got = back is object[] a ? a.Length : -1;
                if (got != rows) throw new InvalidOperationException($"{handlerName} read back {got} rows, wrote {rows}");
                back = null;
                if (run == 0 && input != "warm-up") floor = Dd(Path.Combine(dir, meta.File));
                Directory.Delete(dir, recursive: true);
            }
        }
        finally { SetGeneral(false); }
        var w = writes.OrderBy(x => x.S).ElementAt(writes.Count / 2);
        var r = reads.OrderBy(x => x.S).ElementAt(reads.Count / 2);
        if (input != "warm-up")
            Console.WriteLine($"    {handlerName}, {input}, {Fmt.Int(rows)} rows, {Fmt.MB(bytes)}: write {Fmt.Seconds(w.S)} (peak +{Fmt.MB(w.Peak)}), read {Fmt.Seconds(r.S)} (peak +{Fmt.MB(r.Peak)}), dd fsync {Fmt.Seconds(floor)}");
        return new Figure(handlerName, input, general ? "general" : "fast", rows, bytes, w.S, w.Peak, r.S, r.Peak, floor);
    }

    /// <summary>Times an action and samples the working set every 10 ms while it runs.</summary>
    private static (double Seconds, long Peak) Sampled(Action action)
    {
        using var proc = Process.GetCurrentProcess();
        proc.Refresh();
        var before = proc.WorkingSet64;
        long peak = before;
        var done = false;
        var sampler = new Thread(() =>
        {
            using var p = Process.GetCurrentProcess();
            while (!Volatile.Read(ref done))
            {
                p.Refresh();
                peak = Math.Max(Interlocked.Read(ref peak), p.WorkingSet64);
                Thread.Sleep(10);
            }
        }) { IsBackground = true };
        sampler.Start();
        var sw = Stopwatch.StartNew();
        action();
        sw.Stop();
        Volatile.Write(ref done, true);
        sampler.Join();
        return (sw.Elapsed.TotalSeconds, Math.Max(0, peak - before));
    }

    /// <summary>dd of the file's bytes to a new file with conv=fsync: the disk write floor for the same bytes.</summary>
    private double Dd(string file)
    {
        var target = Path.Combine(_work, "dd-" + Guid.NewGuid().ToString("N")[..8]);
        var times = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var psi = new ProcessStartInfo("dd", $"if={file} of={target} bs=1M conv=fsync") { RedirectStandardError = true, RedirectStandardOutput = true };
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            sw.Stop();
            if (p.ExitCode != 0) throw new InvalidOperationException($"dd exited {p.ExitCode}");
            times.Add(sw.Elapsed.TotalSeconds);
            File.Delete(target);
        }
        return times.OrderBy(x => x).ElementAt(1);
    }
}
