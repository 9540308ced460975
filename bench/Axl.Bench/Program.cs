using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;
using Axl.Bench;

// bench/run soak: workers through Redis outages (its own arguments; not part of a full run).
if (args.Length > 0 && args[0] == "soak") return SoakBench.Run(args[1..]);

BenchConfig cfg;
try { cfg = BenchConfig.Parse(args); }
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

// Step runspaces must know the Axl commands (Get-AxlWorkflow loads the workflow file in each of them).
Axl.Cmdlets.AxlSessionState.ConfigureEngine();

if (cfg.CompileLoop is { } loop) return ScaleBench.CompileLoop(loop, TimeSpan.FromSeconds(30));

var total = Stopwatch.StartNew();
var report = new Report();
Directory.CreateDirectory(cfg.Work);
#if DEBUG
Console.WriteLine("WARNING: a Debug build; figures are not representative. Use bench/run (Release).");
#endif
Console.WriteLine($"Axl.Bench{(cfg.Quick ? " --quick" : "")}: {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
                  $"{RuntimeInformation.OSDescription}, GC {(GCSettings.IsServerGC ? "server" : "workstation")}, work directory {cfg.Work}");

try
{
    if (cfg.Includes("startup")) new StartupBench(cfg, report).Run();
    if (cfg.Includes("process")) new ProcessBench(cfg, report).Run();
    if (cfg.Includes("scale")) new ScaleBench(cfg, report).Run();
    DispatchBench? dispatch = null;
    if (cfg.Includes("dispatch"))
    {
        dispatch = new DispatchBench(cfg, report);
        dispatch.Run();
    }
    if (cfg.Includes("profile")) new ProfileBench(cfg, report, dispatch?.Results).Run();
    if (cfg.Includes("handlers")) new HandlerBench(cfg, report).Run();
    if (cfg.Includes("tables")) new TableBench(cfg, report).Run();
    if (cfg.Includes("hashing")) new HashBench(cfg, report).Run();
    if (cfg.Only.Contains("warmenv")) new WarmEnvBench(cfg, report).Run(); // only when asked for (not part of a full run)
    TargetsSection(report);
    MachineSection(report);
}
finally
{
    try { Directory.Delete(cfg.Work, recursive: true); } catch (IOException) { }
}

var elapsed = total.Elapsed;
var footer = $"Whole benchmark: {elapsed.TotalMinutes:0.0} min in one process (Axl.Bench{(cfg.Quick ? " --quick" : "")}, .NET {Environment.Version}, " +
             $"System.Management.Automation {SmaVersion()}).";
Console.WriteLine();
Console.WriteLine(footer);
if (cfg.Out is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(cfg.Out)!);
    File.WriteAllText(cfg.Out, report.ToMarkdown() + footer + "\n");
    Console.WriteLine($"results written to {cfg.Out}");
}
return 0;

// Every target of issue 16, each a line: met or not, with the ratio measured in this run.
static void TargetsSection(Report report)
{
    var missing = new List<string>();
    if (!report.HasTarget("1")) missing.Add("Point 1 (`axl validate` of iris-knn and `axl step` of a trivial step ≤ 0.5× `pwsh -NoProfile -c exit`) was not measured in this run: it is in the startup section.");
    if (!report.HasTarget("2") || !report.HasTarget("3")) missing.Add("Points 2 (fresh-process validate and compile of 10,000 steps under 4× 100 steps) and 3 (`axl run local` within 1.3× / 1.1× of the Clixml loop) need the process section, which this run left out or ran too small for point 2 (its largest chain must be at least 10× its smallest).");
    if (!report.HasTarget("4")) missing.Add("Point 4 (parquet and arrow: typed writes ≥ 50 % of the dd floor, PSCustomObject rows ≥ 10× the general path) was not measured in this run: it is in the tables section.");
    report.TargetsSection("Targets of issue 16: met or not, in this run",
        "Each line is a target of the issue, checked against the ratio measured in this run (figure ÷ its floor, or ÷ the smaller workflow, both in the same rounds). " +
        "For a share of a floor (point 4: write speed ≥ 50 % of dd) the ratio is time ÷ floor time, so the limit is its inverse (≤ 2×). The sections above give the figures.",
        missing);
}

static void MachineSection(Report report)
{
    var probes = Harness.ProbeResults;
    if (probes.Count == 0) return;
    var load = LoadMeter.All.ToDictionary(l => l.Label, l => l);
    var s = report.Add("The machine during the run",
        "Before each measured round: the time of a fixed piece of CPU work (CPU probe; lower is faster) and the mean fsync of 20 small new files (disk probe); " +
        "during the round: the CPU time other processes used, in cores (from /proc/stat, less this process). A round whose probes are far from the median, " +
        "or with other processes busy, ran on a slower machine than the others; the per-round ratios of the dispatch table absorb most of that, absolute times do not.");
    var t = s.Table("round", "CPU probe", "fsync probe", "other processes (cores)", "round length");
    foreach (var p in probes)
    {
        var l = load.GetValueOrDefault(p.Label);
        t.Row(p.Label, Fmt.Seconds(p.Cpu), Fmt.Seconds(p.Fsync), l.Label is null ? "" : LoadMeter.Cores(l.OtherCores), l.Label is null ? "" : Fmt.Seconds(l.Seconds));
    }
    double Med(IEnumerable<double> xs) => DispatchBench.Median(xs.ToList());
    t.Row("**median (min–max)**", $"{Fmt.Seconds(Med(probes.Select(p => p.Cpu)))} ({Fmt.Seconds(probes.Min(p => p.Cpu))}–{Fmt.Seconds(probes.Max(p => p.Cpu))})",
        $"{Fmt.Seconds(Med(probes.Select(p => p.Fsync)))} ({Fmt.Seconds(probes.Min(p => p.Fsync))}–{Fmt.Seconds(probes.Max(p => p.Fsync))})",
        load.Count == 0 ? "" : $"{LoadMeter.Cores(Med(load.Values.Select(l => l.OtherCores)))} ({LoadMeter.Cores(load.Values.Min(l => l.OtherCores))}–{LoadMeter.Cores(load.Values.Max(l => l.OtherCores))})", "");
    s.Print();
}

static string SmaVersion()
{
    var a = typeof(System.Management.Automation.PSObject).Assembly;
    var v = a.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion;
    return v?.Split('+')[0] ?? a.GetName().Version?.ToString() ?? "?";
}
