using System.Diagnostics;
using Axl.Model;
using Axl.Runtime;

namespace Axl.Bench;

/// <summary>
/// Per-step dispatch: a chain and a fan-out of trivial steps run by LocalRunner (built in C# and loaded from a generated
/// .axl.ps1 file, with warm hosts and with IsolateSteps), against a plain PowerShell loop doing the same work in one
/// runspace, and the same loop with every value through a CLIXML file and back.
/// </summary>
public sealed class DispatchBench(BenchConfig cfg, Report report)
{
    private readonly string _work = Path.Combine(cfg.Work, "dispatch");

    /// <summary>Per-step figures of the warm-host runs, for the profile section: workload name + path -> seconds.</summary>
    public Dictionary<string, double> Results { get; } = new();

    public void Run()
    {
        Directory.CreateDirectory(_work);
        using var rs = new BenchRunspace();
        var floors = new Floors(rs);

        Console.WriteLine("  warming up (small chain and fan-out through every path, not kept)");
        foreach (var w in new[] { Workload.Chain(20), Workload.FanOut(20) })
        {
            var file = rs.LoadWorkflow(w.WriteFile(Path.Combine(_work, "warmup")));
            RunAxl(w, w.BuildInCSharp(), isolate: false, new Stopwatch());
            RunAxl(w, file, isolate: false, new Stopwatch());
            RunAxl(w, w.BuildInCSharp(), isolate: true, new Stopwatch());
            RunAxl(w, file, isolate: true, new Stopwatch());
            floors.Prepare(w);
            floors.RunPlain(w, new Stopwatch());
            floors.RunClixml(w, new Stopwatch(), _work);
        }

        var section = report.Add("Dispatch: per-step overhead of LocalRunner",
            $"Trivial steps (each returns a number computed from its input), run with `LocalRunner.Run(wf, new RunOptions {{ RunRoot = <temp>, ThrottleLimit = {Environment.ProcessorCount} }})`. " +
            $"chainN: `s0` returns 0, `s_i` takes `$s_(i-1)` and returns it + 1 (strictly sequential). fanN: `src` returns 1, N independent steps `f_i` take `$src`, one `join` takes all N (N + 2 steps; up to {Environment.ProcessorCount} run at once). " +
            "*C# builder*: the workflow is built with `WorkflowBuilder` (no file; each step's source is compiled in its runspace). " +
            "*.axl.ps1 file*: the same workflow generated as a file and loaded with `Get-AxlWorkflow` (what users hit; each warm runspace loads the file once). " +
            "*isolated*: `IsolateSteps = true` (a new runspace per step, and the file loaded again in each), at a smaller size. " +
            "Axl times include validation, run records, logs and artifacts (the whole `LocalRunner.Run` call). " +
            "Floor *loop*: the same script blocks invoked in order by one PowerShell loop in one runspace (one thread), values passed in hashtables as Axl splats them. " +
            "Floor *loop + clixml*: the same loop, each value serialized with PSSerializer to a file of its own and read back by each step that takes it (the least an artifact costs; no fsync, no hash). " +
            "ms/step = time / steps; overhead/step = (Axl − floor + clixml) / steps.");
        var table = section.Table("workload", "how it runs", "steps", "Axl", "Axl ms/step", "floor: loop", "Axl ÷ loop", "floor: loop + clixml", "Axl ÷ loop+clixml", "overhead ms/step");

        foreach (var (w, isolate) in new[]
                 {
                     (Workload.Chain(cfg.Steps), false), (Workload.FanOut(cfg.Steps), false),
                     (Workload.Chain(cfg.IsolatedSteps), true), (Workload.FanOut(cfg.IsolatedSteps), true),
                 })
        {
            var tag = isolate ? ", isolated" : "";
            Console.WriteLine($"  {w.Name} ({w.Count} steps){tag}");
            var path = w.WriteFile(Path.Combine(_work, "flows"));
            var fromFile = rs.LoadWorkflow(path);
            floors.Prepare(w);
            floors.RunPlain(w, new Stopwatch());

            // Interleaved rounds: the floors and the Axl runs of one round see the same machine, so the ratio of each round
            // is taken, and the median of those is reported (the host's speed drifts; see the CPU probe section).
            var rounds = isolate ? Math.Min(cfg.Runs, 3) : cfg.Runs;
            var plain = new List<double>();
            var clixml = new List<double>();
            var load = new List<double>();
            var builder = new List<double>();
            var file = new List<double>();
            for (var r = 0; r < rounds; r++)
            {
                var label = $"dispatch {w.Name}{tag}, round {r + 1}";
                Harness.Probe(label, _work);
                var meter = LoadMeter.Start(label);
                plain.Add(Timed(clock => floors.RunPlain(w, clock)));
                clixml.Add(Timed(clock => floors.RunClixml(w, clock, _work)));
                load.Add(Timed(clock => { clock.Start(); rs.LoadWorkflow(path); clock.Stop(); }));
                builder.Add(Timed(clock => RunAxl(w, w.BuildInCSharp(), isolate, clock)));
                file.Add(Timed(clock => RunAxl(w, fromFile, isolate, clock)));
                var others = meter.Stop();
                Console.WriteLine($"    round {r + 1}: floor {Fmt.Seconds(plain[r])}, floor+clixml {Fmt.Seconds(clixml[r])}, load {Fmt.Seconds(load[r])}, " +
                                  $"Axl builder {Fmt.Seconds(builder[r])}, Axl file {Fmt.Seconds(file[r])}; other processes {LoadMeter.Cores(others)} cores");
            }
            var loadPlusFile = load.Zip(file, (a, b) => a + b).ToList();
            Row(table, w, "C# builder" + tag, builder, plain, clixml);
            Row(table, w, ".axl.ps1 file" + tag, file, plain, clixml);
            Row(table, w, ".axl.ps1 file" + tag + ", load + run", loadPlusFile, plain, clixml);
            if (!isolate)
            {
                Results[w.Name + "/builder"] = Median(builder);
                Results[w.Name + "/file"] = Median(file);
                Results[w.Name + "/floor"] = Median(plain);
                Results[w.Name + "/floor-clixml"] = Median(clixml);
            }
        }
        section.Note($"Timed values are medians over {cfg.Runs} interleaved rounds ({Math.Min(cfg.Runs, 3)} for the isolated runs); in brackets, the fastest and slowest round. " +
                     "Each ratio is the median of the per-round ratios (a round runs the floors and the Axl runs back to back), so a slow spell of the machine cancels out. " +
                     $"The isolated runs are at {cfg.IsolatedSteps} steps, not {cfg.Steps}: each step opens a runspace and, from a file, loads the whole workflow file again, " +
                     $"so a {cfg.Steps}-step file would be parsed {cfg.Steps} times (quadratic).");
        section.Print();
    }

    private static double Timed(Harness.TimedRun run)
    {
        Harness.Collect();
        var clock = new Stopwatch();
        run(clock);
        return clock.Elapsed.TotalSeconds;
    }

    public static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static void Row(Table table, Workload w, string how, List<double> axl, List<double> plain, List<double> clixml)
    {
        var m = Median(axl);
        var overhead = Median(axl.Select((a, i) => (a - clixml[i]) * 1e3 / w.Count).ToList());
        table.Row(w.Name, how, Fmt.Int(w.Count),
            Fmt.Seconds(m) + (axl.Count == 1 ? "" : $" ({Fmt.Seconds(axl.Min())}–{Fmt.Seconds(axl.Max())})"),
            Fmt.Ms(m * 1e3 / w.Count),
            Fmt.Seconds(Median(plain)), Fmt.Ratio(Median(axl.Select((a, i) => a / plain[i]).ToList())),
            Fmt.Seconds(Median(clixml)), Fmt.Ratio(Median(axl.Select((a, i) => a / clixml[i]).ToList())),
            Fmt.Ms(overhead));
    }

    /// <summary>One run of the workflow in a fresh run root (removed afterwards, off the clock); checks the result.</summary>
    public AxlRun RunAxl(Workload w, AxlWorkflow wf, bool isolate, Stopwatch clock, Action<RunEvent>? onEvent = null, bool keep = false)
    {
        var root = Path.Combine(_work, "runs-" + Guid.NewGuid().ToString("N")[..8]);
        var options = new RunOptions { RunRoot = root, ThrottleLimit = Environment.ProcessorCount, IsolateSteps = isolate };
        clock.Start();
        var run = LocalRunner.Run(wf, options, onEvent);
        clock.Stop();
        try
        {
            if (run.Status != RunStatus.Succeeded)
                throw new InvalidOperationException($"{w.Name} run {run.Status}: {string.Join("; ", run.Failed.Select(f => f.Name + ": " + f.Error))}");
            var v = Workload.Value(run.GetOutput(w.ResultStep));
            if (v != w.Expected) throw new InvalidOperationException($"{w.Name} computed {v}, expected {w.Expected}");
        }
        finally
        {
            if (!keep) Directory.Delete(root, recursive: true);
        }
        return run;
    }

    public string WorkDirectory => _work;
}
