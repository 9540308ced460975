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
    public int Runs { get; private set; } = 5;
    /// <summary>Target size of the table as CSV, in bytes; the text and bytes artifacts are this size too.</summary>
    public long TableBytes { get; private set; } = 100_000_000;
    /// <summary>A handler whose write + read of the full table is projected to take longer than this runs on a smaller table.</summary>
    public double HandlerBudgetSeconds { get; private set; } = 120;
    /// <summary>Step counts of the scale section (IR build, validation, Argo compile).</summary>
    public int[] ScaleSizes { get; private set; } = [100, 1000, 10000];
    /// <summary>Rounds of the scale section (the median is reported).</summary>
    public int ScaleRuns { get; private set; } = 5;
    /// <summary>"shape:N" for --compile-loop: build, validate and compile that shape over and over (for a profiler), no tables.</summary>
    public string? CompileLoop { get; private set; }
    public string? Out { get; private set; }
    public string Work { get; private set; } = Path.Combine(Path.GetTempPath(), "axl-bench-" + Guid.NewGuid().ToString("N")[..8]);
    public HashSet<string> Only { get; } = new(StringComparer.OrdinalIgnoreCase);

    public bool Includes(string section) => Only.Count == 0 || Only.Contains(section);

    public const string Usage = """
        Axl.Bench: IR build, validation and Argo compile at scale, per-step dispatch overhead and IO handler throughput of the
        local runtime, each against a floor measured in the same run.

          --quick               small sizes for a smoke run (scale 100 and 1000 steps with 2 rounds; 200 steps, 20 isolated,
                                10 MB table, 1 run)
          --out FILE            also write the results as markdown to FILE
          --only SECTION        scale, dispatch, profile or handlers (repeatable); default all
          --scale-sizes N,N,..  step counts of the scale section (default 100,1000,10000)
          --scale-runs N        rounds of the scale section, median reported (default 5)
          --compile-loop S:N    no tables: build, validate and compile shape S (chain, wide, random) of N steps in a loop
                                for 30 s, printing each phase's time; run it under dotnet-trace to profile the compiler
          --steps N             chain length and fan-out width (default 1000)
          --isolated-steps N    size for the IsolateSteps runs (default 100)
          --runs N              interleaved rounds of the dispatch figures, median reported (default 5; 3 at most
                                for the isolated runs and the profile)
          --table-mb N          table size as CSV, in MB (10^6 bytes; default 100)
          --handler-budget S    seconds a handler may take for write + read of the full table before it is measured
                                on a smaller table and extrapolated (default 120)
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
            c.ScaleSizes = [100, 1000];
            c.ScaleRuns = 2;
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
                case "--steps": c.Steps = Int(); break;
                case "--isolated-steps": c.IsolatedSteps = Int(); break;
                case "--runs": c.Runs = Int(); break;
                case "--scale-sizes": c.ScaleSizes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--scale-runs": c.ScaleRuns = Int(); break;
                case "--compile-loop": c.CompileLoop = Next(); break;
                case "--table-mb": c.TableBytes = (long)(double.Parse(Next(), CultureInfo.InvariantCulture) * 1e6); break;
                case "--handler-budget": c.HandlerBudgetSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--work": c.Work = Path.GetFullPath(Next()); break;
                case "-h" or "--help": Console.WriteLine(Usage); Environment.Exit(0); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'\n\n{Usage}");
            }
        }
        if (c.Steps < 2 || c.IsolatedSteps < 2 || c.Runs < 1 || c.TableBytes < 100_000 || c.ScaleRuns < 1 || c.ScaleSizes.Length == 0 || c.ScaleSizes.Any(n => n < 3))
            throw new ArgumentException("sizes too small: --steps and --isolated-steps at least 2, --runs and --scale-runs at least 1, --table-mb at least 0.1, --scale-sizes at least 3 each");
        foreach (var s in c.Only)
            if (s is not ("scale" or "dispatch" or "profile" or "handlers")) throw new ArgumentException($"unknown section '{s}' (scale, dispatch, profile, handlers)");
        return c;
    }
}
