using System.Diagnostics;
using System.Globalization;

namespace Axl.Bench;

/// <summary>
/// What users hit: whole processes of the axl command (fresh-process `axl validate` and `axl compile --target argo` of
/// 100 to 10,000-step chains, `axl run local` of a 1,000-step chain and a 1,000-wide fan-out) beside floors that are
/// whole pwsh processes doing the same work in the same rounds: a pwsh loop passing every value through
/// Export-Clixml / Import-Clixml files (the issue's floor), the fan-out with `ForEach-Object -Parallel`, pwsh's own cold
/// start, and dd of 100 MB with conv=fsync (the disk's durable write). Each ratio is the median of the per-round ratios.
/// </summary>
public sealed class ProcessBench(BenchConfig cfg, Report report)
{
    private readonly string _work = Path.Combine(cfg.Work, "process");

    // The issue's floor: one pwsh process, one loop, each value exported with Export-Clixml to a file of its own and
    // imported by each step that takes it. fan: src, N steps that take it (sequential), a join that takes all of them.
    private const string ClixmlLoop = """
        param([string]$Shape, [int]$N, [string]$Dir)
        $ErrorActionPreference = 'Stop'
        $null = New-Item -ItemType Directory -Force -Path $Dir
        if ($Shape -eq 'chain') {
            Export-Clixml -LiteralPath "$Dir/s0.xml" -InputObject 0
            for ($i = 1; $i -lt $N; $i++) {
                $prev = Import-Clixml -LiteralPath "$Dir/s$($i - 1).xml"
                Export-Clixml -LiteralPath "$Dir/s$i.xml" -InputObject ($prev + 1)
            }
            Import-Clixml -LiteralPath "$Dir/s$($N - 1).xml"
        } else {
            Export-Clixml -LiteralPath "$Dir/src.xml" -InputObject 1
            for ($i = 0; $i -lt $N; $i++) {
                $src = Import-Clixml -LiteralPath "$Dir/src.xml"
                Export-Clixml -LiteralPath "$Dir/f$i.xml" -InputObject ($src + $i)
            }
            $sum = 0
            for ($i = 0; $i -lt $N; $i++) { $sum += Import-Clixml -LiteralPath "$Dir/f$i.xml" }
            Export-Clixml -LiteralPath "$Dir/join.xml" -InputObject $sum
            Import-Clixml -LiteralPath "$Dir/join.xml"
        }
        """;

    // The fan-out as PowerShell users write it: ForEach-Object -Parallel with the machine's cores, values through files.
    private const string ParallelFan = """
        param([int]$N, [string]$Dir, [int]$Throttle)
        $ErrorActionPreference = 'Stop'
        $null = New-Item -ItemType Directory -Force -Path $Dir
        Export-Clixml -LiteralPath "$Dir/src.xml" -InputObject 1
        0..($N - 1) | ForEach-Object -ThrottleLimit $Throttle -Parallel {
            $src = Import-Clixml -LiteralPath "$using:Dir/src.xml"
            Export-Clixml -LiteralPath "$using:Dir/f$_.xml" -InputObject ($src + $_)
        }
        $sum = 0
        for ($i = 0; $i -lt $N; $i++) { $sum += Import-Clixml -LiteralPath "$Dir/f$i.xml" }
        Export-Clixml -LiteralPath "$Dir/join.xml" -InputObject $sum
        Import-Clixml -LiteralPath "$Dir/join.xml"
        """;

    private sealed record Figure(string Key, string Label, string[] Args, string? Expect, string? Clean);

    public void Run()
    {
        if (cfg.AxlCli is null || cfg.Pwsh is null)
        {
            report.Add("Whole processes: what users hit").Note(
                "Not measured: this section needs --axl-cli DIR (an axl build) and --pwsh FILE (pwsh.dll of the PowerShell tool); bench/run passes both.");
            return;
        }
        Directory.CreateDirectory(_work);
        var dotnet = Environment.ProcessPath ?? "dotnet";
        var axl = Path.Combine(cfg.AxlCli, "axl.dll");
        var loop = Path.Combine(_work, "clixml-loop.ps1");
        var parallel = Path.Combine(_work, "parallel-fan.ps1");
        File.WriteAllText(loop, ClixmlLoop);
        File.WriteAllText(parallel, ParallelFan);
        var n = cfg.ProcessSteps;
        var chain = Workload.Chain(n);
        var fan = Workload.FanOut(n);
        var chainFile = chain.WriteFile(Path.Combine(_work, "flows"));
        var fanFile = fan.WriteFile(Path.Combine(_work, "flows"));
        var scaleFiles = cfg.ProcessScaleSizes.ToDictionary(s => s, s => Workload.Chain(s).WriteFile(Path.Combine(_work, "flows")));
        var scratch = Path.Combine(_work, "scratch");

        var figures = new List<Figure>
        {
            new("pwsh", "`pwsh -NoProfile -c exit` (floor)", new[] { cfg.Pwsh, "-NoProfile", "-c", "exit" }, null, null),
            new("dd", "`dd if=/dev/zero of=<file> bs=1M count=100 conv=fsync` (floor: durable write of 100 MB)", Array.Empty<string>(), null, null),
        };
        foreach (var s in cfg.ProcessScaleSizes)
        {
            figures.Add(new($"validate{s}", $"`axl validate` chain{s}", new[] { axl, "validate", scaleFiles[s] }, null, null));
            figures.Add(new($"compile{s}", $"`axl compile --target argo` chain{s}", new[] { axl, "compile", scaleFiles[s], "--target", "argo", "--out", Path.Combine(scratch, $"chain{s}.yaml") }, null, scratch));
        }
        figures.AddRange(new[]
        {
            new Figure("loop-chain", $"pwsh loop, Export-/Import-Clixml, chain{n} (floor)", new[] { cfg.Pwsh, "-NoProfile", "-NonInteractive", "-File", loop, "chain", n.ToString(CultureInfo.InvariantCulture), scratch }, chain.Expected.ToString(CultureInfo.InvariantCulture), scratch),
            new Figure("run-chain", $"`axl run local` chain{n}", new[] { axl, "run", "local", chainFile, "--run-root", scratch, "--quiet" }, null, scratch),
            new Figure("loop-fan", $"pwsh loop, Export-/Import-Clixml, fan{n} (floor)", new[] { cfg.Pwsh, "-NoProfile", "-NonInteractive", "-File", loop, "fan", n.ToString(CultureInfo.InvariantCulture), scratch }, fan.Expected.ToString(CultureInfo.InvariantCulture), scratch),
            new Figure("parallel-fan", $"pwsh `ForEach-Object -Parallel -ThrottleLimit {Environment.ProcessorCount}`, Clixml files, fan{n} (floor)", new[] { cfg.Pwsh, "-NoProfile", "-NonInteractive", "-File", parallel, n.ToString(CultureInfo.InvariantCulture), scratch, Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) }, fan.Expected.ToString(CultureInfo.InvariantCulture), scratch),
            new Figure("run-fan", $"`axl run local` fan{n}", new[] { axl, "run", "local", fanFile, "--run-root", scratch, "--quiet" }, null, scratch),
        });

        // A figure's files are moved aside, not deleted, until the section ends: on ext4 without a journal (this
        // machine's root) an inode freed in the last seconds is not reused, and every new file scans past the recently
        // freed ones, so deleting the previous figure's thousand files just before a figure would charge it for them
        // (bench/README.md, "Whole processes").
        var trash = Path.Combine(_work, "trash");
        var moved = 0;
        void PutAside(string? folder)
        {
            if (folder is null || !Directory.Exists(folder)) return;
            Directory.CreateDirectory(trash);
            Directory.Move(folder, Path.Combine(trash, (moved++).ToString(CultureInfo.InvariantCulture)));
        }

        double RunOnce(Figure f)
        {
            PutAside(f.Clean);
            Harness.Collect();
            if (f.Key == "dd")
            {
                Directory.CreateDirectory(scratch);
                var t = Launch("dd", new[] { "if=/dev/zero", $"of={Path.Combine(scratch, "dd.bin")}", "bs=1M", "count=100", "conv=fsync" }, _work, f.Label, null);
                Directory.Delete(scratch, recursive: true);
                return t;
            }
            var seconds = Launch(dotnet, f.Args, _work, f.Label, f.Expect);
            PutAside(f.Clean);
            return seconds;
        }

        if (Directory.Exists(trash)) Directory.Delete(trash, recursive: true); // a previous run's, before the warm-up round
        Console.WriteLine($"  whole processes: warming up (each once, not kept)");
        foreach (var f in figures) RunOnce(f);
        var samples = figures.ToDictionary(f => f.Key, _ => new List<double>());
        for (var round = 1; round <= cfg.ProcessRuns; round++)
        {
            var label = $"process round {round}";
            Harness.Probe(label, _work);
            var meter = LoadMeter.Start(label);
            var children = StartupBench.ChildCpu();
            foreach (var f in figures) samples[f.Key].Add(RunOnce(f));
            meter.Stop(excludeSeconds: StartupBench.ChildCpu() - children);
            Console.WriteLine($"    round {round}: " + string.Join(", ", figures.Select(f => $"{f.Key} {Fmt.Seconds(samples[f.Key][^1])}")));
        }
        if (Directory.Exists(trash)) Directory.Delete(trash, recursive: true);

        double Ratio(string a, string b) => DispatchBench.Median(samples[a].Select((x, i) => x / samples[b][i]).ToList());
        string Spread(string key)
        {
            var s = samples[key];
            return Fmt.Seconds(DispatchBench.Median(s)) + (s.Count == 1 ? "" : $" ({Fmt.Seconds(s.Min())}–{Fmt.Seconds(s.Max())})");
        }

        var section = report.Add("Whole processes: what users hit",
            "Each figure is a new process, started as `./axl` starts the command (`dotnet axl.dll ...`, the Release build bench/run lays out) or as " +
            "`dotnet pwsh.dll ...` (the PowerShell dotnet tool, as in the startup section), timed from its start to its exit. The workflows are the " +
            "dispatch section's generated .axl.ps1 files (trivial steps). Floors, in the same rounds: pwsh's cold start; *pwsh loop, Export-/Import-Clixml*: " +
            "one pwsh process whose loop exports every value to a Clixml file of its own with Export-Clixml and imports it with Import-Clixml in each step " +
            "that takes it (no hash, no fsync, no records); for the fan-out also `ForEach-Object -Parallel` over the machine's cores, values through files; " +
            "and dd of 100 MB with conv=fsync (the disk's durable write). " +
            $"{cfg.ProcessRuns} rounds after one warm-up round (not kept); a round runs every figure once, back to back. Times are medians (fastest–slowest); " +
            "each ratio is the median of the per-round ratios, so a slow spell of the machine hits both sides.");
        var t = section.Table("process", "wall", "ms/step", "÷ pwsh cold start", "÷ its floor");
        foreach (var f in figures)
        {
            var steps = f.Key switch
            {
                "run-chain" or "loop-chain" => chain.Count,
                "run-fan" or "loop-fan" or "parallel-fan" => fan.Count,
                _ when f.Key.StartsWith("validate", StringComparison.Ordinal) => int.Parse(f.Key["validate".Length..], CultureInfo.InvariantCulture),
                _ when f.Key.StartsWith("compile", StringComparison.Ordinal) => int.Parse(f.Key["compile".Length..], CultureInfo.InvariantCulture),
                _ => 0,
            };
            var floor = f.Key switch
            {
                "run-chain" => Fmt.Ratio(Ratio("run-chain", "loop-chain")) + " of the Clixml loop",
                "run-fan" => Fmt.Ratio(Ratio("run-fan", "loop-fan")) + " of the Clixml loop; " + Fmt.Ratio(Ratio("run-fan", "parallel-fan")) + " of -Parallel",
                _ when f.Key.StartsWith("validate", StringComparison.Ordinal) || f.Key.StartsWith("compile", StringComparison.Ordinal)
                    => Fmt.Ratio(Ratio(f.Key, f.Key.TrimEnd("0123456789".ToCharArray()) + cfg.ProcessScaleSizes[0])) + $" of chain{cfg.ProcessScaleSizes[0]}",
                _ => "",
            };
            t.Row(f.Label, Spread(f.Key), steps == 0 ? "" : Fmt.Ms(DispatchBench.Median(samples[f.Key]) * 1e3 / steps),
                f.Key == "dd" ? "" : Fmt.Ratio(Ratio(f.Key, "pwsh")), floor);
        }
        section.Note("`axl run local` includes the command's start (about one pwsh cold start of it is the engine), loading and validating the file, " +
                     "every step in a warm step host, every artifact written with its SHA-256 and fsynced before the step is recorded, the run records and log; " +
                     "the Clixml loop includes pwsh's start and nothing of that bookkeeping.");

        var big = cfg.ProcessScaleSizes[^1];
        var small = cfg.ProcessScaleSizes[0];
        if (big >= 10 * small)
        {
            report.Target("2", $"fresh-process `axl validate` of chain{big} < 4× chain{small}", Ratio($"validate{big}", $"validate{small}"), 4, strict: true);
            report.Target("2", $"fresh-process `axl compile --target argo` of chain{big} < 4× chain{small}", Ratio($"compile{big}", $"compile{small}"), 4, strict: true);
        }
        report.Target("3", $"`axl run local` chain{n} ≤ 1.3× the pwsh Export-/Import-Clixml loop", Ratio("run-chain", "loop-chain"), 1.3);
        report.Target("3", $"`axl run local` fan{n} ≤ 1.1× the pwsh Export-/Import-Clixml loop", Ratio("run-fan", "loop-fan"), 1.1);
        section.Print();
    }

    /// <summary>Runs a process to its end and returns its wall time; a failure (or another result than expected) stops the benchmark.</summary>
    private static double Launch(string file, string[] args, string cwd, string label, string? expect)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("AXL_STARTUP_TRACE");
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        sw.Stop();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{label} exited {p.ExitCode}: {(stderr.Result + stdout.Result).Trim()}");
        if (expect is not null && stdout.Result.Trim() != expect)
            throw new InvalidOperationException($"{label} printed '{stdout.Result.Trim()}', expected {expect}");
        return sw.Elapsed.TotalSeconds;
    }
}
