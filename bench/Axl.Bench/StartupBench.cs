using System.Diagnostics;
using System.Globalization;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Axl.Bench;

/// <summary>
/// Cold starts of the axl command, each a new process (`dotnet axl.dll ...`), beside the cold start of
/// `pwsh -NoProfile -c exit` (the PowerShell dotnet tool's pwsh.dll, started the same way) in the same rounds: the
/// current build and, when bench/run is given --before REV, the build of another revision. Each figure is the median of
/// the rounds; each ratio the median of the per-round ratios to pwsh.
/// </summary>
public sealed partial class StartupBench(BenchConfig cfg, Report report)
{
    private readonly string _work = Path.Combine(cfg.Work, "startup");

    private sealed record Build(string Key, string Label, string Dir)
    {
        public string Dll => Path.Combine(Dir, "axl.dll");
    }

    private sealed record Command(string Key, string Label, Func<Build?, string[]> Args);

    private sealed record Sample(double Wall, double Cpu, int Exit, string Error);

    public void Run()
    {
        if (cfg.AxlCli is null || cfg.Pwsh is null)
        {
            report.Add("Startup: cold start of the axl command").Note(
                "Not measured: the startup section needs --axl-cli DIR (an axl build) and --pwsh FILE (pwsh.dll of the PowerShell tool); bench/run passes both.");
            return;
        }
        var repo = cfg.Repo ?? FindRepo();
        Directory.CreateDirectory(_work);
        var dotnet = Environment.ProcessPath ?? "dotnet";

        var builds = new List<Build> { new("after", cfg.AxlCliLabel ?? "current", cfg.AxlCli) };
        for (var i = 0; i < cfg.BeforeClis.Count; i++)
            builds.Add(new Build($"before{i}", cfg.BeforeClis[i].Label ?? $"before {i + 1}", cfg.BeforeClis[i].Dir));
        foreach (var b in builds)
            if (!File.Exists(b.Dll)) throw new InvalidOperationException($"no axl.dll in {b.Dir} ({b.Label})");

        var runRoot = Path.Combine(_work, "runs");
        var stepOut = Path.Combine(_work, "step-out");
        var diamondDir = Path.Combine(repo, "examples", "diamond");
        var manifest = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["schemaVersion"] = 1,
            ["workflow"] = "diamond",
            ["workflowHash"] = "",
            ["workflowFile"] = "diamond.axl.ps1",
            ["workDir"] = diamondDir,
            ["step"] = "start",
            ["inputs"] = new[] { new Dictionary<string, object?> { ["name"] = "Base", ["source"] = "parameter", ["from"] = "Base", ["mode"] = "object", ["value"] = "10" } },
            ["output"] = new Dictionary<string, object?> { ["directory"] = stepOut, ["ioHandler"] = "clixml", ["extension"] = ".clixml", ["valueFile"] = null },
        });
        var pwsh = new Command("pwsh", "`pwsh -NoProfile -c exit`", _ => new[] { cfg.Pwsh, "-NoProfile", "-c", "exit" });
        var commands = new[]
        {
            new Command("version", "`axl --version`", b => new[] { b!.Dll, "--version" }),
            new Command("validate", "`axl validate examples/iris-knn/iris-knn.axl.ps1`", b => new[] { b!.Dll, "validate", Path.Combine("examples", "iris-knn", "iris-knn.axl.ps1") }),
            new Command("run", "`axl run local examples/diamond/diamond.axl.ps1`", b => new[] { b!.Dll, "run", "local", Path.Combine("examples", "diamond", "diamond.axl.ps1"), "--run-root", runRoot }),
            new Command("step", "`axl step --manifest-json <diamond's start>`", b => new[] { b!.Dll, "step", "--manifest-json", manifest }),
        };

        Sample RunOnce(Command c, Build? b, IDictionary<string, string?>? env = null)
        {
            if (c.Key == "step" && Directory.Exists(stepOut)) Directory.Delete(stepOut, recursive: true);
            return Launch(dotnet, c.Args(b), repo, env);
        }

        Console.WriteLine($"  warming up (each command once, not kept): {string.Join(", ", builds.Select(b => b.Label))}, pwsh");
        RunOnce(pwsh, null);
        foreach (var c in commands)
            foreach (var b in builds) RunOnce(c, b);

        // Rounds: pwsh first, then every command of every build, back to back.
        var samples = new Dictionary<string, List<Sample>>();
        void Keep(string key, Sample s) => (samples.TryGetValue(key, out var l) ? l : samples[key] = new()).Add(s);
        for (var round = 1; round <= cfg.StartupRuns; round++)
        {
            var label = $"startup round {round}";
            Harness.Probe(label, _work);
            var meter = LoadMeter.Start(label);
            var children = ChildCpu();
            Keep("pwsh", RunOnce(pwsh, null));
            foreach (var c in commands)
                foreach (var b in builds) Keep($"{b.Key}:{c.Key}", RunOnce(c, b));
            meter.Stop(excludeSeconds: ChildCpu() - children);
            Console.WriteLine($"    round {round}: pwsh {Fmt.Seconds(samples["pwsh"][^1].Wall)}, " +
                              string.Join(", ", commands.Select(c => $"{c.Key} {string.Join(" / ", builds.Select(b => Fmt.Seconds(samples[$"{b.Key}:{c.Key}"][^1].Wall)))}")));
        }

        var buildNotes = string.Join("; ", builds.Select(b => $"*{b.Label}*: {Describe(b.Dir)}"));
        var section = report.Add("Startup: cold start of the axl command",
            "Each figure is a new process started the way `./axl` starts the command, `dotnet <dll> <arguments>`, from the repository root, timed from " +
            "the start of the process to its exit (wall) and by the CPU time it used (user + system, from getrusage of the waited-for child). " +
            "Floor: `pwsh -NoProfile -c exit`, the PowerShell dotnet tool's own `pwsh.dll` started the same way (`dotnet pwsh.dll`; `dotnet pwsh` " +
            "through the tool manifest adds the SDK's tool lookup and a shim process that starts pwsh.dll again). " +
            $"Every command ran once first (not kept: the files are then in the page cache, as for a command typed twice), then {cfg.StartupRuns} rounds; " +
            "a round starts pwsh, then each command of each build back to back. Times are medians over the rounds (fastest–slowest in brackets); " +
            "each ratio is the median of the per-round ratios (to pwsh, or between builds), so a slow spell of the machine hits both sides. " +
            "`run local` runs the diamond (4 trivial steps, 2 at once) into a scratch run root; `step` runs the diamond's first step from a manifest, " +
            "as the runner does in a container (the workflow file loaded by path, the step run in a step host, its output saved with its handler). " +
            $"Builds: {buildNotes}.");
        var compare = builds.Count > 1;
        var headers = new List<string> { "command", "build", "wall", "÷ pwsh", "CPU (user + system)", "CPU ÷ pwsh" };
        if (compare) headers.Add($"{builds[0].Label} ÷ this build");
        var table = section.Table(headers.ToArray());
        var pw = samples["pwsh"];
        table.Row(new[] { pwsh.Label + " (floor)", "PowerShell tool", Spread(pw.Select(s => s.Wall)), "1", Spread(pw.Select(s => s.Cpu)), "1" }.Concat(compare ? new[] { "" } : Array.Empty<string>()).ToArray());
        var ratios = new Dictionary<string, double>();
        foreach (var c in commands)
            foreach (var b in builds)
            {
                var s = samples[$"{b.Key}:{c.Key}"];
                var row = new List<string> { c.Label, b.Label };
                if (s.FirstOrDefault(x => x.Exit != 0) is { } failed)
                {
                    row.AddRange(new[] { $"failed (exit {failed.Exit}: {failed.Error})", "", "", "" });
                    if (compare) row.Add("");
                    table.Row(row.ToArray());
                    continue;
                }
                var r = DispatchBench.Median(s.Select((x, i) => x.Wall / pw[i].Wall).ToList());
                ratios[$"{b.Key}:{c.Key}"] = r;
                row.AddRange(new[]
                {
                    Spread(s.Select(x => x.Wall)), Fmt.Ratio(r),
                    Spread(s.Select(x => x.Cpu)), Fmt.Ratio(DispatchBench.Median(s.Select((x, i) => x.Cpu / pw[i].Cpu).ToList())),
                });
                if (compare)
                {
                    var after = samples[$"{builds[0].Key}:{c.Key}"];
                    row.Add(b == builds[0] || after.Any(x => x.Exit != 0) ? "" : Fmt.Ratio(DispatchBench.Median(after.Select((x, i) => x.Wall / s[i].Wall).ToList())));
                }
                table.Row(row.ToArray());
            }
        section.Note(compare
            ? $"The builds other than *{builds[0].Label}* were built by bench/run from other revisions (`--before REV`: exported with git archive to bench/out/, built there in Release) and measured in the same rounds."
            : "Only the current build was measured. `bench/run --before REV` (repeatable) builds another revision's command (exported with git archive to " +
              "bench/out/, built there; the work tree is not touched) and measures it in the same rounds, e.g. `--before ce0d92d` for the command before it " +
              "hosted Microsoft.PowerShell.SDK.");

        // Targets: this issue's (no slower than pwsh's own cold start) and the next one's (half of it).
        var targets = section.Table("target", "ratio (median of rounds)", "met");
        foreach (var (key, name) in new[] { ("validate", "`axl validate` ≤ 1× pwsh"), ("run", "`axl run local` of the diamond ≤ 1× pwsh"), ("step", "`axl step` of one step ≤ 1× pwsh") })
            if (ratios.TryGetValue("after:" + key, out var r)) targets.Row(name, Fmt.Ratio(r), r <= 1 ? "yes" : "**no**");
        foreach (var (key, name) in new[] { ("validate", "`axl validate` ≤ 0.5× pwsh (next issue)"), ("run", "`axl run local` ≤ 0.5× pwsh (next issue)"), ("step", "`axl step` ≤ 0.5× pwsh (next issue)") })
            if (ratios.TryGetValue("after:" + key, out var r)) targets.Row(name, Fmt.Ratio(r), r <= 0.5 ? "yes" : "**no**");

        if (ratios.TryGetValue("after:validate", out var v)) report.Target("1", "`axl validate` of iris-knn ≤ 0.5× `pwsh -NoProfile -c exit`", v, 0.5);
        if (ratios.TryGetValue("after:step", out var st)) report.Target("1", "`axl step` of a trivial step ≤ 0.5× `pwsh -NoProfile -c exit`", st, 0.5);

        Phases(section, builds[0], commands.Where(c => c.Key is "validate" or "run" or "step").ToArray(), (c, b, env) => RunOnce(c, b, env), dotnet, repo);
        section.Print();
    }

    /// <summary>Where the time of a start goes, from the command's own trace (AXL_STARTUP_TRACE=1), median of a few runs.</summary>
    private void Phases(Section section, Build build, Command[] commands, Func<Command, Build?, IDictionary<string, string?>, Sample> run, string dotnet, string repo)
    {
        var runs = Math.Max(3, Math.Min(cfg.StartupRuns, 5));
        var env = new Dictionary<string, string?> { ["AXL_STARTUP_TRACE"] = "1" };
        var probe = run(commands[0], build, env);
        if (!probe.Error.Contains("axl-trace", StringComparison.Ordinal) && !_lastStderr.Contains("axl-trace", StringComparison.Ordinal))
        {
            section.Note($"*{build.Label}* writes no AXL_STARTUP_TRACE lines (a revision before the trace), so the phases are not shown.");
            return;
        }
        var t = section.Table("command", "phase (AXL_STARTUP_TRACE=1)", "at (ms since the process started)", "phase took (ms)", "JIT-compiled methods by then");
        foreach (var c in commands)
        {
            var perRun = new List<List<(string Phase, double Ms, int Jit)>>();
            for (var i = 0; i < runs; i++)
            {
                run(c, build, env);
                perRun.Add(ParseTrace(_lastStderr));
            }
            var phases = perRun.SelectMany(r => r.Select(p => p.Phase)).Distinct()
                .Select(phase =>
                {
                    var at = perRun.Select(r => r.FirstOrDefault(p => p.Phase == phase)).Where(p => p.Phase is not null).ToList();
                    return (Phase: phase, Ms: DispatchBench.Median(at.Select(p => p.Ms).ToList()), Jit: DispatchBench.Median(at.Select(p => (double)p.Jit).ToList()));
                })
                .OrderBy(p => p.Ms).ToList();
            double prev = 0;
            foreach (var (phase, ms, jit) in phases)
            {
                t.Row(c.Label, phase, ms.ToString("0", CultureInfo.InvariantCulture), (ms - prev).ToString("0", CultureInfo.InvariantCulture), jit.ToString("0", CultureInfo.InvariantCulture));
                prev = ms;
            }
        }
        section.Note($"Phases of *{build.Label}*, medians of {runs} runs with AXL_STARTUP_TRACE=1 (the trace itself adds a little). *main*: the runtime has started " +
                     "and loaded axl.dll; *engine configured*: the session state factory set (the Axl type accelerators are registered with the first runspace); " +
                     "*read ... without running it*: the workflow file read from its syntax tree with no runspace (validate, compile, step: a file whose top level has " +
                     "nothing to run); *runspace opened*: the command's own runspace (`run local`, and a file that has to run), in which *workflow loaded* runs " +
                     "Get-AxlWorkflow; then, for `run local`, the run's events (a step's first run includes opening its step host, a runspace of its own that loads the file " +
                     "again), and for `step`, the step host's own phases: *step host: opening* (started before the arguments are parsed), *step host: open* and " +
                     "*step host: file module made* (on the other core, while the command reads the file and binds the inputs: *step bound*; the file's module made " +
                     "from the command's own read, with the steps' invoker bound to it: the file is not run again), *step host taken* (the " +
                     "command waited for it until then), *step run* and *step output saved*.");
    }

    private static List<(string Phase, double Ms, int Jit)> ParseTrace(string stderr)
    {
        var list = new List<(string, double, int)>();
        foreach (Match m in TraceLine().Matches(stderr))
        {
            var phase = m.Groups["phase"].Value.Trim();
            if (phase.StartsWith("loaded ", StringComparison.Ordinal)) phase = "workflow loaded";
            if (phase.StartsWith("read ", StringComparison.Ordinal) && phase.EndsWith(" without running it", StringComparison.Ordinal)) phase = "workflow read without running it";
            if (phase.StartsWith("assembly", StringComparison.Ordinal)) continue;
            list.Add((phase, double.Parse(m.Groups["ms"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["jit"].Value, CultureInfo.InvariantCulture)));
        }
        return list;
    }

    [GeneratedRegex(@"^axl-trace +(?<ms>[0-9.]+) ms +jit +(?<jit>[0-9]+) methods .*?\] (?<phase>.+)$", RegexOptions.Multiline)]
    private static partial Regex TraceLine();

    private string _lastStderr = "";

    private Sample Launch(string dotnet, string[] args, string cwd, IDictionary<string, string?>? env)
    {
        var psi = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("AXL_STARTUP_TRACE");
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var cpu0 = ChildCpu();
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        sw.Stop();
        var cpu = ChildCpu() - cpu0;
        _lastStderr = stderr.Result;
        _ = stdout.Result;
        var error = p.ExitCode == 0 ? "" : (_lastStderr + stdout.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        if (error.Length > 160) error = error[..157] + "...";
        return new Sample(sw.Elapsed.TotalSeconds, cpu, p.ExitCode, error);
    }

    private static string Spread(IEnumerable<double> seconds)
    {
        var s = seconds.ToList();
        return $"{Fmt.Seconds(DispatchBench.Median(s))} ({Fmt.Seconds(s.Min())}–{Fmt.Seconds(s.Max())})";
    }

    /// <summary>What a build is: its layout (.axl-layout, written by `dotnet build` since the ReadyToRun layout), how many of its assemblies are ReadyToRun, the engine version.</summary>
    private static string Describe(string dir)
    {
        var layout = File.Exists(Path.Combine(dir, ".axl-layout")) ? File.ReadAllText(Path.Combine(dir, ".axl-layout")).Trim() : "portable IL layout (no .axl-layout)";
        int r2r = 0, all = 0;
        foreach (var f in Directory.EnumerateFiles(dir, "*.dll", SearchOption.AllDirectories))
        {
            // Not the modules' own assemblies, nor the reference assemblies Add-Type compiles against (ref/).
            var relative = Path.GetRelativePath(dir, f).Replace('\\', '/');
            if (relative.StartsWith("ref/", StringComparison.Ordinal) || relative.Contains("/Modules/", StringComparison.Ordinal) || relative.StartsWith("Modules/", StringComparison.Ordinal)) continue;
            try
            {
                using var s = File.OpenRead(f);
                using var pe = new PEReader(s);
                if (pe.PEHeaders.CorHeader is not { } cor) continue;
                all++;
                if (cor.ManagedNativeHeaderDirectory.Size > 0) r2r++;
            }
            catch (BadImageFormatException) { }
        }
        var sma = Directory.EnumerateFiles(dir, "System.Management.Automation.dll", SearchOption.AllDirectories).FirstOrDefault();
        var smaVersion = sma is null ? "?" : FileVersionInfo.GetVersionInfo(sma).ProductVersion?.Split('+', ' ')[0] ?? "?";
        var sdk = File.Exists(Path.Combine(dir, "axl.deps.json")) && File.ReadAllText(Path.Combine(dir, "axl.deps.json")).Contains("Microsoft.PowerShell.SDK/", StringComparison.Ordinal)
            ? "Microsoft.PowerShell.SDK" : "System.Management.Automation alone";
        return $"{layout}; {sdk} {smaVersion}; {r2r} of its {all} assemblies ReadyToRun (not counting the modules' and ref/)";
    }

    private static string FindRepo()
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "examples", "diamond", "diamond.axl.ps1"))) return d.FullName;
        throw new InvalidOperationException("cannot find the repository (examples/diamond) above the current directory; pass --repo DIR");
    }

    // ---- CPU time of waited-for children (getrusage RUSAGE_CHILDREN) ------------------------------------------------

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeVal { public long Sec; public long Usec; }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public TimeVal UTime;
        public TimeVal STime;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 14)] public long[] Rest;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out RUsage usage);

    /// <summary>User + system seconds of all waited-for children so far; NaN where getrusage is not there.</summary>
    internal static double ChildCpu()
    {
        try
        {
            if (getrusage(-1, out var u) != 0) return double.NaN;
            return u.UTime.Sec + u.UTime.Usec / 1e6 + u.STime.Sec + u.STime.Usec / 1e6;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return double.NaN;
        }
    }
}
