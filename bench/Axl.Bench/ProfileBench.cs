using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Security.Cryptography;
using System.Text;
using Axl.IO;
using Axl.Model;
using Axl.Runtime;
using Axl.Serialization;

namespace Axl.Bench;

/// <summary>
/// Where the time of one step goes. Two views: (1) the timeline of a chain run from its own events (time inside a step,
/// from StepStarted to StepSucceeded, and time between steps); (2) each piece of work LocalRunner does per step, timed
/// alone through the same public APIs (the runspace invocation, the artifact save and load, the run records and their
/// fsyncs, the step key, the log line), summed into a model of one chain step. What the model leaves out of the measured
/// time is scheduling and everything else. Plus what-if timings of the runspace invocation done differently.
/// </summary>
public sealed class ProfileBench(BenchConfig cfg, Report report, Dictionary<string, double>? dispatch)
{
    private readonly string _work = Path.Combine(cfg.Work, "profile");
    private int K => cfg.Quick ? 50 : 200; // operations per timed loop

    private sealed record Timeline(double Whole, double Before, double After, List<double> Inside, List<double> Between);

    private sealed record Piece(string Name, string Api, int Times, bool Inside, Func<double> Measure);

    public void Run()
    {
        Directory.CreateDirectory(_work);
        using var rs = new BenchRunspace();
        var w = Workload.Chain(cfg.Steps);
        var file = rs.LoadWorkflow(w.WriteFile(Path.Combine(_work, "flows")));
        var dispatchBench = new DispatchBench(cfg, new Report());
        var warm = Workload.Chain(20);
        dispatchBench.RunAxl(warm, rs.LoadWorkflow(warm.WriteFile(Path.Combine(_work, "warm"))), false, new Stopwatch());

        var dir = Path.Combine(_work, "pieces");
        Directory.CreateDirectory(dir);
        var pieces = new List<Piece>
        {
            new("step.json written before the attempt (running) and when it ends (temp + rename, not synced: resume re-verifies every artifact)", "RunStore.SaveStep → WriteAtomic(durable: false)", 2, true, () => RecordWrite(dir, durable: false)),
            new("runspace invocation of the step (file-loaded body, warm host)", "ScriptStepHost.Run", 1, true, () => HostRun(file, w, isolate: false)),
            new("artifact save (clixml; data temp + SHA-256 while writing + fsync + rename, metadata temp + rename)", "ArtifactIO.Save", 1, true, () => ArtifactSave(dir)),
            new("log lines StepStarted, StepSucceeded (JSON + AutoFlush write)", "IrDocument.ToJson + StreamWriter", 2, true, () => LogLine(dir)),
            new("cache journal line of the finished step (JSON + an append to the run's open journal)", "LocalRunner.WriteCacheEntry", 1, false, () => LogLine(dir)),
            new("step directory made (and cleaned, which a new run's new folders skip)", "Directory.CreateDirectory + ArtifactIO.CleanTemporaryFiles", 1, false, () => StepDirectory(dir)),
            new("input artifact loaded (metadata, SHA-256 verified, read)", "ArtifactIO.Load", 1, false, () => ArtifactLoad(dir)),
            new("step key (IR of the step and inputs as JSON, SHA-256)", "IrDocument.Hash", 1, false, () => StepKey(file)),
        };
        foreach (var p in pieces) p.Measure(); // warm-up

        // Interleaved rounds: a timeline run, then every piece, so that both see the same machine.
        var rounds = Math.Min(cfg.Runs, 3);
        var timelines = new List<Timeline>();
        var costs = pieces.ToDictionary(p => p, _ => new List<double>());
        var fsyncs = new List<double>();
        for (var r = 0; r < rounds; r++)
        {
            var label = $"profile {w.Name}, round {r + 1}";
            Harness.Probe(label, _work);
            var meter = LoadMeter.Start(label);
            var t = RunTimeline(dispatchBench, w, file);
            timelines.Add(t);
            foreach (var p in pieces) costs[p].Add(p.Measure());
            fsyncs.Add(Fsync(dir));
            meter.Stop();
            Console.WriteLine($"    round {r + 1}: {w.Name} run {Fmt.Seconds(t.Whole)} ({Fmt.Ms(t.Whole * 1e3 / w.Count)} ms/step); pieces " +
                              string.Join(", ", pieces.Select(p => Fmt.Ms(costs[p][r] * 1e3))) + $"; fsync {Fmt.Ms(fsyncs[r] * 1e3)} ms");
        }
        double M(IEnumerable<double> xs) => DispatchBench.Median(xs.ToList());
        var n = w.Count;
        var whole = M(timelines.Select(t => t.Whole));

        var timeline = report.Add($"Profile: where the time of a step goes ({w.Name}, .axl.ps1 file, warm hosts)",
            $"From the run's own events (timestamps taken in the onEvent callback; medians of {rounds} runs): *inside a step* is StepStarted → StepSucceeded " +
            "(step.json written, the runspace invocation, the artifact saved, step.json written again); *between steps* is a step's StepSucceeded → the next one's StepStarted " +
            "(the cache journal line of the finished step, scheduling and a thread-pool hop, the step directory made, the input artifact loaded and hash-verified, the step key computed). " +
            "The per-step columns are over all steps of one run (the median run).");
        var tt = timeline.Table("part of the run", "total", "ms/step", "share", "one step: median", "p90", "p99", "max");
        var mid = timelines.OrderBy(t => t.Whole).ElementAt(timelines.Count / 2);
        void T(string what, double s, List<double>? each = null) => tt.Row(what, Fmt.Seconds(s), Fmt.Ms(s * 1e3 / n), Fmt.Pct(s / whole),
            each is null ? "" : Fmt.Ms(Pct(each, 0.5) * 1e3), each is null ? "" : Fmt.Ms(Pct(each, 0.9) * 1e3),
            each is null ? "" : Fmt.Ms(Pct(each, 0.99) * 1e3), each is null ? "" : Fmt.Ms(each.Max() * 1e3));
        T("before the first step (validation, run.json, log)", M(timelines.Select(t => t.Before)));
        T("inside steps", M(timelines.Select(t => t.Inside.Sum())), mid.Inside);
        T("between steps", M(timelines.Select(t => t.Between.Sum())), mid.Between);
        T("after the last step (run.json, hosts disposed)", M(timelines.Select(t => t.After)));
        T("whole run", whole);
        timeline.Print();

        var model = report.Add("Profile: the pieces of one chain step, timed alone",
            $"Each piece is work LocalRunner does for every step of the chain, done {K} times in a loop through the same public API (fresh directories, as in a run), " +
            $"in the same rounds as the runs above (median of {rounds}); *per step* is how often one chain step does it. Measured: the run's inside / between time per step from the table above. " +
            "*fsync* is `FileStream.Flush(flushToDisk: true)` of a freshly written small file, timed alone; it is inside the artifact save above (1 per step: the data file; the marker and step.json are not synced), " +
            "shown on its own line and not added twice. Unexplained = measured − pieces: thread hand-offs (Task.Run, the runspace's pipeline thread), GC, and what the pieces miss when run alone.");
        var pt = model.Table("piece", "API", "ms each", "per step", "ms/step", "share of the step");
        var perStep = whole / n;
        double sumIn = 0, sumBetween = 0;
        foreach (var inside in new[] { true, false })
        {
            foreach (var p in pieces.Where(p => p.Inside == inside))
            {
                var each = M(costs[p]);
                if (inside) sumIn += each * p.Times; else sumBetween += each * p.Times;
                pt.Row((inside ? "inside: " : "between: ") + p.Name, p.Api, Fmt.Ms(each * 1e3), p.Times.ToString(CultureInfo.InvariantCulture), Fmt.Ms(each * p.Times * 1e3), Fmt.Pct(each * p.Times / perStep));
            }
            var measuredPart = M(timelines.Select(t => (inside ? t.Inside : t.Between).Sum())) / n;
            var sum = inside ? sumIn : sumBetween;
            var label = inside ? "inside" : "between";
            pt.Row($"**{label}: sum of the pieces**", "", "", "", Fmt.Ms(sum * 1e3), Fmt.Pct(sum / perStep));
            pt.Row($"**{label}: measured**", "", "", "", Fmt.Ms(measuredPart * 1e3), Fmt.Pct(measuredPart / perStep));
            pt.Row($"{label}: unexplained", "", "", "", Fmt.Ms((measuredPart - sum) * 1e3), Fmt.Pct((measuredPart - sum) / perStep));
        }
        var fsync = M(fsyncs);
        pt.Row("**whole step, measured**", "LocalRunner.Run / steps", "", "", Fmt.Ms(perStep * 1e3), "100 %");
        pt.Row("of which fsync: 1 per step (the artifact's data file)", "FileStream.Flush(true)", Fmt.Ms(fsync * 1e3), "1", Fmt.Ms(fsync * 1e3), Fmt.Pct(fsync / perStep));
        var floorClixml = dispatch is not null && dispatch.TryGetValue(w.Name + "/floor-clixml", out var fc) ? fc / n : double.NaN;
        if (!double.IsNaN(floorClixml))
            pt.Row("(for scale) the loop + clixml floor", "dispatch table", "", "", Fmt.Ms(floorClixml * 1e3), Fmt.Pct(floorClixml / perStep));
        model.Print();

        // What-ifs: the runspace invocation done otherwise, and a new runspace per step (IsolateSteps).
        Console.WriteLine("  what-ifs of the runspace invocation");
        Harness.Probe("profile what-ifs", _work);
        var whatIfMeter = LoadMeter.Start("profile what-ifs");
        var whatIf = report.Add("Profile: the runspace invocation, done otherwise (what-ifs)",
            "ScriptStepHost's step driver script (compile the step source, splat the arguments) on a runspace of the same session state, " +
            $"{K} times each (median of 3 loops), invoked in other ways; and what IsolateSteps costs per step. Only the first line is Axl's code path: the others bound what a change to ScriptStepHost could save.");
        var wt = whatIf.Table("variant", "ms per step", "vs ScriptStepHost.Run");
        var baseline = Loops(() => HostRun(w.BuildInCSharp(), w, isolate: false));
        wt.Row("ScriptStepHost.Run, warm host, no file (as LocalRunner does for a C#-built workflow: compiles the source)", Fmt.Ms(baseline * 1e3), "1.00×");
        var fileHost = Loops(() => HostRun(file, w, isolate: false));
        wt.Row("ScriptStepHost.Run, warm host, .axl.ps1 file (the body comes compiled from the file load)", Fmt.Ms(fileHost * 1e3), Fmt.Ratio(fileHost / baseline));
        foreach (var (name, options, sync) in new[]
                 {
                     ("driver script, PowerShell.BeginInvoke + wait, runspace ThreadOptions Default (a new thread per invocation, as ScriptStepHost)", PSThreadOptions.Default, false),
                     ("driver script, PowerShell.BeginInvoke + wait, runspace ThreadOptions ReuseThread", PSThreadOptions.ReuseThread, false),
                     ("driver script, PowerShell.Invoke on the calling thread (ThreadOptions UseCurrentThread)", PSThreadOptions.UseCurrentThread, true),
                 })
        {
            var s = Loops(() => DriverInvoke(w, options, sync));
            wt.Row(name, Fmt.Ms(s * 1e3), Fmt.Ratio(s / baseline));
        }
        var plainCall = LoopCall(rs, w);
        wt.Row("the step body alone, invoked by a PowerShell loop (the dispatch floor)", Fmt.Ms(plainCall * 1e3), Fmt.Ratio(plainCall / baseline));
        var small = Workload.Chain(cfg.IsolatedSteps);
        var smallFile = rs.LoadWorkflow(small.WriteFile(Path.Combine(_work, "flows-small")));
        var isolatedOpen = Loops(() => HostRun(small.BuildInCSharp(), small, isolate: true));
        var isolatedFile = Loops(() => HostRun(smallFile, small, isolate: true));
        wt.Row("IsolateSteps: a new runspace per step (open, run, dispose), no file", Fmt.Ms(isolatedOpen * 1e3), Fmt.Ratio(isolatedOpen / baseline));
        wt.Row($"IsolateSteps: a new runspace per step + the {small.Count}-step .axl.ps1 file loaded in it", Fmt.Ms(isolatedFile * 1e3), Fmt.Ratio(isolatedFile / baseline));
        var freshIss = Loops(() => OpenClose(null));
        var cachedIss = Axl.AxlEngine.CreateSessionState();
        var reusedIss = Loops(() => OpenClose(cachedIss));
        wt.Row("IsolateSteps part: open and close a runspace, a new InitialSessionState each time (AxlEngine.CreateSessionState, as ScriptStepHost)", Fmt.Ms(freshIss * 1e3), Fmt.Ratio(freshIss / baseline));
        wt.Row("IsolateSteps part: open and close a runspace from one InitialSessionState made once", Fmt.Ms(reusedIss * 1e3), Fmt.Ratio(reusedIss / baseline));
        var loadBig = Harness.Measure($"load {w.Name} file", 1, 3, () => rs.LoadWorkflow(file.SourceFile!));
        wt.Row($"(for scale) loading the {w.Count}-step .axl.ps1 file once (Get-AxlWorkflow)", Fmt.Ms(loadBig.Median * 1e3), "");
        whatIf.Print();

        // What-ifs of persistence: the same file writes as a step's, with and without fsync.
        Console.WriteLine("  what-ifs of persistence");
        var persist = report.Add("Profile: a step's file writes with and without fsync (what-ifs)",
            $"The writes of one chain step, {K} times each in fresh directories (median of 3 loops). *as now* is Axl's code; *without fsync* is a copy of the same steps " +
            "(temp file, write, rename; SHA-256 and metadata for the artifact) with `Flush()` instead of `Flush(flushToDisk: true)`. A rename without fsync is still atomic " +
            "for a process that is killed (the page cache survives it); only an OS crash or power loss can lose it, and resume re-verifies every artifact by SHA-256.");
        var ft = persist.Table("write", "as now: ms each", "without fsync: ms each", "per step", "saving ms/step");
        var recNow = Loops(() => RecordWrite(dir));
        var recNoSync = Loops(() => RecordWrite(dir, durable: false));
        var saveNow = Loops(() => ArtifactSave(dir));
        var saveNoSync = Loops(() => ArtifactSaveWithoutFsync(dir));
        ft.Row($"run record (step.json, twice): RunStore.WriteAtomic(durable: false), not synced (with an fsync each would take {Fmt.Ms(recNow * 1e3)} ms)", Fmt.Ms(recNoSync * 1e3), Fmt.Ms(recNoSync * 1e3), "2", "0");
        ft.Row("artifact (clixml, one number) and its metadata: ArtifactIO.Save", Fmt.Ms(saveNow * 1e3), Fmt.Ms(saveNoSync * 1e3), "1", Fmt.Ms((saveNow - saveNoSync) * 1e3));
        ft.Row("**all of a step's writes, as Axl does them**", Fmt.Ms((recNoSync * 2 + saveNow) * 1e3), Fmt.Ms((recNoSync * 2 + saveNoSync) * 1e3), "", Fmt.Ms((saveNow - saveNoSync) * 1e3));
        whatIfMeter.Stop();
        persist.Print();
    }

    private static double Loops(Func<double> perOp)
    {
        perOp();
        return DispatchBench.Median(new[] { perOp(), perOp(), perOp() });
    }

    /// <summary>One chain run with its events timestamped.</summary>
    private static Timeline RunTimeline(DispatchBench bench, Workload w, AxlWorkflow wf)
    {
        Harness.Collect();
        var events = new List<(RunEventKind Kind, string? Step, long Ticks)>(w.Count * 3);
        var clock = new Stopwatch();
        var t0 = Stopwatch.GetTimestamp();
        bench.RunAxl(w, wf, false, clock, e => { lock (events) events.Add((e.Kind, e.Step, Stopwatch.GetTimestamp())); });
        var tEnd = t0 + (long)(clock.Elapsed.TotalSeconds * Stopwatch.Frequency);
        var started = events.Where(e => e.Kind == RunEventKind.StepStarted).ToDictionary(e => e.Step!, e => e.Ticks);
        var succeeded = events.Where(e => e.Kind == RunEventKind.StepSucceeded).ToDictionary(e => e.Step!, e => e.Ticks);
        double Sec(long ticks) => (double)ticks / Stopwatch.Frequency;
        var inside = new List<double>();
        var between = new List<double>();
        for (var i = 0; i < w.Count; i++)
        {
            var name = w.Steps[i].Name;
            inside.Add(Sec(succeeded[name] - started[name]));
            if (i > 0) between.Add(Sec(started[name] - succeeded[w.Steps[i - 1].Name]));
        }
        return new Timeline(clock.Elapsed.TotalSeconds, Sec(started[w.Steps[0].Name] - t0), Sec(tEnd - succeeded[w.Steps[^1].Name]), inside, between);
    }

    private static double Pct(List<double> values, double p)
    {
        var s = values.OrderBy(x => x).ToList();
        return s[Math.Min(s.Count - 1, (int)(p * s.Count))];
    }

    // ---- pieces -------------------------------------------------------------------------------------------------

    /// <summary>Seconds per operation: one loop of K operations (k for expensive ones), optional setup off the clock.</summary>
    private double PerOp(string name, Action<int> op, int? k = null)
    {
        var n = k ?? K;
        Harness.Collect();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++) op(i);
        return sw.Elapsed.TotalSeconds / n;
    }

    /// <summary>Mean time of FileStream.Flush(flushToDisk: true) on a freshly written small file in a fresh directory.</summary>
    private double Fsync(string dir)
    {
        var payload = new byte[400];
        double total = 0;
        for (var i = 0; i < K + 10; i++)
        {
            var d = Path.Combine(dir, "fsync-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(d);
            using (var fs = new FileStream(Path.Combine(d, "f.tmp"), FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(payload);
                fs.Flush();
                var t = Stopwatch.GetTimestamp();
                fs.Flush(flushToDisk: true);
                if (i >= 10) total += Stopwatch.GetElapsedTime(t).TotalSeconds;
            }
        }
        return total / K;
    }

    /// <summary>One step's runspace invocation: ScriptStepHost.Run of chain steps (a warm host, or a new one per step).</summary>
    private double HostRun(AxlWorkflow wf, Workload w, bool isolate)
    {
        var outDir = Path.Combine(_work, "host-out");
        Directory.CreateDirectory(outDir);
        using var pool = new ScriptStepHostPool(isolate);
        StepInvocation Inv(int i)
        {
            var s = wf.Steps[1 + i % (wf.Steps.Count - 1)];
            return new StepInvocation
            {
                Workflow = wf, Step = s, Arguments = new Dictionary<string, object?> { [s.Inputs[0].Name] = i }, OutputDirectory = outDir, RunId = "bench",
                Streams = _ => { }, // LocalRunner always passes one (it hooks every stream the step writes)
            };
        }
        var k = isolate ? Math.Min(K, cfg.Quick ? 10 : 40) : K;
        return PerOp($"ScriptStepHost.Run ({(wf.SourceFile is null ? "no file" : "file")}{(isolate ? ", isolated" : ", warm")})", i =>
        {
            var r = pool.Run(Inv(i), CancellationToken.None);
            if (!r.Success || Workload.Value(r.Value) != i + 1) throw new InvalidOperationException($"step run failed: {r.Error}");
        }, k);
    }

    private double ArtifactSave(string dir)
    {
        var handler = IoHandlerRegistry.Get("clixml");
        return PerOp("ArtifactIO.Save (clixml, one number, fresh directory)", i =>
        {
            var d = Path.Combine(dir, "save-" + Guid.NewGuid().ToString("N")[..8]);
            ArtifactIO.Save(handler, PSObject.AsPSObject(i), d);
        });
    }

    /// <summary>RunStore.WriteAtomic, less the fsync.</summary>
    private static void WriteAtomicWithoutFsync(string path, string content)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.tmp-{Guid.NewGuid():N}");
        using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            fs.Write(new UTF8Encoding(false).GetBytes(content));
            fs.Flush();
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The steps of ArtifactIO.Save (temp file, handler, SHA-256, rename, metadata JSON, rename), less the fsync of the data file.</summary>
    private double ArtifactSaveWithoutFsync(string dir)
    {
        var handler = IoHandlerRegistry.Get("clixml");
        return PerOp("artifact save without fsync", i =>
        {
            var d = Path.Combine(dir, "save-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(d);
            var temp = Path.Combine(d, ".output.clixml.tmp-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant());
            string sha;
            long size;
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                using var buffer = new MemoryStream();
                handler.Write(PSObject.AsPSObject(i), buffer);
                sha = Convert.ToHexString(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length))).ToLowerInvariant();
                size = buffer.Length;
                file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                file.Flush();
            }
            var meta = Path.Combine(d, "output.meta.json");
            if (File.Exists(meta)) File.Delete(meta);
            File.Move(temp, Path.Combine(d, "output.clixml"), overwrite: true);
            var tempMeta = Path.Combine(d, ".output.meta.json.tmp-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant());
            using (var f = new FileStream(tempMeta, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096))
            {
                using (var w = new System.Text.Json.Utf8JsonWriter(f, new System.Text.Json.JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartObject();
                    w.WriteString("name", "output"); w.WriteString("ioHandler", "clixml"); w.WriteString("extension", ".clixml");
                    w.WriteString("file", "output.clixml"); w.WriteNumber("size", size); w.WriteString("sha256", "sha256:" + sha);
                    w.WriteString("type", "System.Int32"); w.WriteString("createdUtc", DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture));
                    w.WriteString("axlVersion", "0.1.0");
                    w.WriteEndObject();
                }
                f.Write("\n"u8);
                f.Flush();
            }
            File.Move(tempMeta, meta, overwrite: true);
        });
    }

    private double ArtifactLoad(string dir)
    {
        var d = Path.Combine(dir, "load");
        ArtifactIO.Save(IoHandlerRegistry.Get("clixml"), PSObject.AsPSObject(42), d);
        return PerOp("ArtifactIO.Load (clixml, one number, hash verified)", _ =>
        {
            if (Workload.Value(ArtifactIO.Load(d)) != 42) throw new InvalidOperationException("load");
        });
    }

    private double RecordWrite(string dir, bool durable = true)
    {
        // A step.json as SaveStep writes it for a succeeded step (same keys, same size).
        var tree = new Dictionary<string, object?>
        {
            ["name"] = "s123", ["status"] = "Succeeded", ["attempts"] = 1, ["startTime"] = DateTimeOffset.UtcNow, ["endTime"] = DateTimeOffset.UtcNow,
            ["durationMs"] = 5L, ["key"] = "sha256:" + new string('a', 64), ["reusedFrom"] = null, ["skipReason"] = null, ["error"] = null,
            ["output"] = new Dictionary<string, object?> { ["path"] = Path.Combine(dir, "s123", "output.clixml"), ["ioHandler"] = "clixml", ["size"] = 120L, ["sha256"] = "sha256:" + new string('b', 64) },
        };
        // Fresh step directories, made off the clock, as a run writes each step.json into a new one.
        var dirs = Enumerable.Range(0, K).Select(_ => Path.Combine(dir, "records-" + Guid.NewGuid().ToString("N")[..8])).ToArray();
        foreach (var d in dirs) Directory.CreateDirectory(d);
        return durable
            ? PerOp("RunStore.WriteAtomic (step.json)", i => RunStore.WriteAtomic(Path.Combine(dirs[i], "step.json"), IrDocument.ToJson(tree)))
            : PerOp("WriteAtomic without fsync (step.json)", i => WriteAtomicWithoutFsync(Path.Combine(dirs[i], "step.json"), IrDocument.ToJson(tree)));
    }

    private double StepKey(AxlWorkflow wf)
    {
        var step = wf.Steps[1];
        var inputs = new List<object?> { new Dictionary<string, object?> { ["name"] = step.Inputs[0].Name, ["step"] = step.Inputs[0].SourceName, ["sha256"] = "sha256:" + new string('c', 64), ["mode"] = "Object" } };
        return PerOp("IrDocument.Hash (step key)", _ => IrDocument.Hash(new Dictionary<string, object?> { ["step"] = IrDocument.Step(step, includeLocations: false), ["inputs"] = inputs }), K * 5);
    }

    private double LogLine(string dir)
    {
        using var log = new StreamWriter(new FileStream(Path.Combine(dir, "log.jsonl"), FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        return PerOp("log line (IrDocument.ToJson + AutoFlush write)", i => log.WriteLine(IrDocument.ToJson(new Dictionary<string, object?>
        {
            ["ts"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture), ["level"] = "info", ["event"] = "StepSucceeded", ["workflow"] = "chain1000",
            ["run_id"] = "20261123-000000-abcdef", ["step"] = "s123", ["status"] = "Succeeded", ["attempt"] = 1, ["duration_ms"] = 5L,
            ["message"] = "step 's123' succeeded in 5 ms (120 bytes, clixml)",
        }, indented: false)), K * 5);
    }

    private double StepDirectory(string dir)
    {
        return PerOp("step directory (create + clean temporary files)", _ =>
        {
            var d = Path.Combine(dir, "dir-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(d);
            ArtifactIO.CleanTemporaryFiles(d);
        });
    }

    // ---- what-ifs -----------------------------------------------------------------------------------------------

    private const string DriverScript = """
        param($__axlStep, $__axlSource, $__axlArgs)
        $ErrorActionPreference = 'Stop'
        $__axlBody = [scriptblock]::Create($__axlSource)
        & $__axlBody @__axlArgs
        """;

    /// <summary>The step driver on a runspace of the step session state, invoked as ScriptStepHost does or otherwise.</summary>
    private double DriverInvoke(Workload w, PSThreadOptions threadOptions, bool synchronous)
    {
        using var runspace = RunspaceFactory.CreateRunspace(Axl.AxlEngine.CreateSessionState());
        runspace.ThreadOptions = threadOptions;
        runspace.Open();
        return PerOp($"driver script, ThreadOptions {threadOptions}{(synchronous ? ", Invoke" : ", BeginInvoke")}", i =>
        {
            var s = w.Steps[1 + i % (w.Count - 1)];
            using var ps = PowerShell.Create();
            ps.Runspace = runspace;
            var args = new Hashtable(StringComparer.OrdinalIgnoreCase) { [s.Inputs[0]] = i };
            ps.AddScript(DriverScript).AddArgument(s.Name).AddArgument(s.Body).AddArgument(args);
            var output = new PSDataCollection<PSObject>();
            if (synchronous) ps.Invoke(null, output);
            else
            {
                var async = ps.BeginInvoke<PSObject, PSObject>(null, output);
                WaitHandle.WaitAny(new[] { async.AsyncWaitHandle, CancellationToken.None.WaitHandle }, Timeout.InfiniteTimeSpan);
                ps.EndInvoke(async);
            }
            if (Workload.Value(output[0]) != i + 1) throw new InvalidOperationException("driver");
        });
    }

    /// <summary>Opens and closes a runspace: from <paramref name="iss"/>, or from a new session state each time.</summary>
    private double OpenClose(InitialSessionState? iss) => PerOp($"runspace open + close ({(iss is null ? "new" : "cached")} session state)", _ =>
    {
        using var r = RunspaceFactory.CreateRunspace(iss ?? Axl.AxlEngine.CreateSessionState());
        r.Open();
    }, cfg.Quick ? 10 : 40);

    /// <summary>One step body invoked from a PowerShell loop: the per-step cost of the dispatch floor.</summary>
    private double LoopCall(BenchRunspace rs, Workload w)
    {
        var floors = new Floors(rs);
        floors.Prepare(w);
        return PerOp("floor loop (whole chain)", _ => floors.RunPlain(w, new Stopwatch()), 3) / w.Count;
    }
}
