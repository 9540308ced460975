using System.Globalization;

namespace Axl.Bench;

/// <summary>Sizes and repetitions of one benchmark run, from the command line.</summary>
public sealed class BenchConfig
{
    public bool Quick { get; private set; }
    /// <summary>Steps of the chain and width of the fan-out (warm hosts).</summary>
    public int Steps { get; private set; } = 1000;
    /// <summary>Size of the chain and fan-out run with IsolateSteps (a new runspace, and the file loaded again, per step).</summary>
    public int IsolatedSteps { get; private set; } = 100;
    /// <summary>Timed runs of each dispatch measurement (the median is reported).</summary>
    public int Runs { get; private set; } = 3;
    /// <summary>Target size of the table as CSV, in bytes; the text and bytes artifacts are this size too.</summary>
    public long TableBytes { get; private set; } = 20_000_000;
    /// <summary>A handler whose write + read of the full table is projected to take longer than this runs on a smaller table.</summary>
    public double HandlerBudgetSeconds { get; private set; } = 40;
    /// <summary>Step counts of the scale section (IR build, validation, Argo compile).</summary>
    public int[] ScaleSizes { get; private set; } = [100, 1000, 3000, 10000];
    /// <summary>Rounds of the scale section (the median is reported).</summary>
    public int ScaleRuns { get; private set; } = 3;
    /// <summary>"shape:N" for --compile-loop: build, validate and compile that shape over and over (for a profiler), no tables.</summary>
    public string? CompileLoop { get; private set; }
    /// <summary>Rounds of the startup section (each starts every command once as a new process).</summary>
    public int StartupRuns { get; private set; } = 6;
    /// <summary>The axl build whose cold start is measured (a folder with axl.dll, as artifacts/cli), and its name in the tables.</summary>
    public string? AxlCli { get; private set; }
    public string? AxlCliLabel { get; private set; }
    /// <summary>Other builds measured in the same rounds (bench/run --before REV builds each), with their names.</summary>
    public List<(string Dir, string? Label)> BeforeClis { get; } = new();
    /// <summary>pwsh.dll of the PowerShell dotnet tool: the floor of the startup section.</summary>
    public string? Pwsh { get; private set; }
    /// <summary>The repository whose examples the startup section runs (default: found above the current directory).</summary>
    public string? Repo { get; private set; }
    public string? Out { get; private set; }
    public string Work { get; private set; } = Path.Combine(Path.GetTempPath(), "axl-bench-" + Guid.NewGuid().ToString("N")[..8]);
    public HashSet<string> Only { get; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Steps of the chain and width of the fan-out run as whole `axl run local` processes (process section).</summary>
    public int ProcessSteps { get; private set; } = 1000;
    /// <summary>Chain lengths validated and compiled by fresh `axl` processes (process section); the last is compared with the first.</summary>
    public int[] ProcessScaleSizes { get; private set; } = [100, 1000, 10000];
    /// <summary>Rounds of the process section (the median is reported).</summary>
    public int ProcessRuns { get; private set; } = 3;
    /// <summary>Rows of the tables section (typed and PSCustomObject inputs of the table handlers).</summary>
    public int TableRows { get; private set; } = 1_000_000;

    public bool Includes(string section) => Only.Count == 0 || Only.Contains(section);

    public const string Usage = """
        Axl.Bench: cold start of the axl command, IR build, validation and Argo compile at scale, per-step dispatch overhead and IO
        handler throughput of the local runtime, each against a floor measured in the same run.

          --quick               small sizes for a smoke run (scale 100 and 1000 steps with 2 rounds; 200 steps, 20 isolated,
                                10 MB table, 1 run; whole processes at 200 steps, chains of 100 and 1000, 1 round)
          --out FILE            also write the results as markdown to FILE
          --only SECTION        startup, process, scale, dispatch, profile, handlers or tables (repeatable); default all
          --process-steps N     chain length and fan-out width of the whole `axl run local` processes (default 1000; 200 with --quick)
          --process-sizes N,..  chain lengths validated and compiled by fresh axl processes (default 100,1000,10000; 100,1000 with --quick)
          --process-runs N      rounds of the process section, median reported (default 3; 1 with --quick)
          --table-rows N        rows of the tables section (1,000,000 x 5 columns; default 1000000, 100000 with --quick)
          --startup-runs N      rounds of the startup section, median reported (default 6; 3 with --quick)
          --axl-cli DIR         the axl build the startup section measures (axl.dll in DIR); --axl-cli-label NAME names it
          --before-cli DIR      another axl build measured in the same rounds (repeatable); --before-cli-label NAME after it names it
          --pwsh FILE           pwsh.dll of the PowerShell dotnet tool, the startup section's floor
          --repo DIR            the repository whose examples the startup section runs (default: found above the current directory)
          --scale-sizes N,N,..  step counts of the scale section (default 100,1000,3000,10000)
          --scale-runs N        rounds of the scale section, median reported (default 3)
          --compile-loop S:N    no tables: build, validate and compile shape S (chain, wide, random) of N steps in a loop
                                for 30 s, printing each phase's time; run it under dotnet-trace to profile the compiler
          --steps N             chain length and fan-out width (default 1000)
          --isolated-steps N    size for the IsolateSteps runs (default 100)
          --runs N              interleaved rounds of the dispatch figures, median reported (default 3; 3 at most
                                for the isolated runs and the profile)
          --table-mb N          table size as CSV, in MB (10^6 bytes; default 20)
          --handler-budget S    seconds a handler may take for write + read of the full table before it is measured
                                on a smaller table and extrapolated (default 40)
          --work DIR            scratch directory (default a new folder under the temp directory; removed at the end)
        """;

    public static BenchConfig Parse(string[] args)
    {
        var c = new BenchConfig();
        // --quick first, so that explicit sizes given with it win.
        if (args.Contains("--quick"))
        {
            c.Quick = true;
            c.Steps = 200;
            c.IsolatedSteps = 20;
            c.Runs = 1;
            c.TableBytes = 10_000_000;
            c.HandlerBudgetSeconds = 20;
            c.TableRows = 100_000;
            c.ScaleSizes = [100, 1000];
            c.ScaleRuns = 2;
            c.StartupRuns = 3;
            c.ProcessSteps = 200;
            c.ProcessScaleSizes = [100, 1000];
            c.ProcessRuns = 1;
        }
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--quick": break;
                case "--out": c.Out = Path.GetFullPath(Next()); break;
                case "--only": c.Only.Add(Next()); break;
                case "--table-rows": c.TableRows = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--steps": c.Steps = Int(); break;
                case "--isolated-steps": c.IsolatedSteps = Int(); break;
                case "--runs": c.Runs = Int(); break;
                case "--scale-sizes": c.ScaleSizes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--scale-runs": c.ScaleRuns = Int(); break;
                case "--compile-loop": c.CompileLoop = Next(); break;
                case "--table-mb": c.TableBytes = (long)(double.Parse(Next(), CultureInfo.InvariantCulture) * 1e6); break;
                case "--handler-budget": c.HandlerBudgetSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--work": c.Work = Path.GetFullPath(Next()); break;
                case "--startup-runs": c.StartupRuns = Int(); break;
                case "--process-steps": c.ProcessSteps = Int(); break;
                case "--process-sizes": c.ProcessScaleSizes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--process-runs": c.ProcessRuns = Int(); break;
                case "--axl-cli": c.AxlCli = Path.GetFullPath(Next()); break;
                case "--axl-cli-label": c.AxlCliLabel = Next(); break;
                case "--before-cli": c.BeforeClis.Add((Path.GetFullPath(Next()), null)); break;
                case "--before-cli-label":
                    if (c.BeforeClis.Count == 0) throw new ArgumentException("--before-cli-label names the --before-cli before it");
                    c.BeforeClis[^1] = (c.BeforeClis[^1].Dir, Next());
                    break;
                case "--pwsh": c.Pwsh = Path.GetFullPath(Next()); break;
                case "--repo": c.Repo = Path.GetFullPath(Next()); break;
                case "-h" or "--help": Console.WriteLine(Usage); Environment.Exit(0); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'\n\n{Usage}");
            }
        }
        if (c.Steps < 2 || c.IsolatedSteps < 2 || c.Runs < 1 || c.TableBytes < 100_000 || c.ScaleRuns < 1 || c.ScaleSizes.Length == 0 || c.ScaleSizes.Any(n => n < 3) || c.StartupRuns < 1
            || c.ProcessSteps < 2 || c.ProcessRuns < 1 || c.ProcessScaleSizes.Length == 0 || c.ProcessScaleSizes.Any(n => n < 2))
            throw new ArgumentException("sizes too small: --steps and --isolated-steps at least 2, --runs and --scale-runs at least 1, --table-mb at least 0.1, --scale-sizes at least 3 each, --startup-runs, --process-steps (2), --process-runs and --process-sizes (2 each) at least 1");
        foreach (var s in c.Only)
            if (s is not ("startup" or "process" or "scale" or "dispatch" or "profile" or "handlers" or "tables" or "hashing" or "warmenv")) throw new ArgumentException($"unknown section '{s}' (startup, process, scale, dispatch, profile, handlers, tables, hashing, warmenv)");
        return c;
    }
}
