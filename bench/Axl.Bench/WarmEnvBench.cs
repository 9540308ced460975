using System.Diagnostics;
using System.IO.Compression;
using Axl.Model;
using Axl.Runtime;

namespace Axl.Bench;

/// <summary>
/// Warm environments (issue 18 point 3, seed M7 "optional warm env step reduces cold-starts measurably"): a workflow of
/// N independent python command steps that each import a package from a local folder of wheels (written here, offline:
/// PyPI is not reachable), run by LocalRunner in five ways: the package importable already (floor: no install at all);
/// a fresh venv per step (what a step does for itself without Axl's help: `python3 -m venv` + `pip install
/// --no-index --find-links`); per-step -Packages (StepPackages: pip --target into a new package cache, shared by the
/// steps of the run); -WarmEnv with a new cache (one venv built by the axl-warm-env step); -WarmEnv with the venv
/// cached by an earlier run. Python is Debian's /usr/bin/python3 (python3-venv, pip 23), first on PATH.
/// </summary>
public sealed class WarmEnvBench(BenchConfig cfg, Report report)
{
    private readonly string _work = Path.Combine(cfg.Work, "warmenv");
    private const string Python = "/usr/bin/python3";

    public void Run()
    {
        if (!File.Exists(Python))
        {
            Console.WriteLine($"  warmenv: {Python} not found; section left out");
            return;
        }
        var steps = cfg.Quick ? 2 : 4;
        var runs = cfg.Quick ? 1 : 3;
        Directory.CreateDirectory(_work);
        var wheels = Path.Combine(_work, "wheels");
        WriteWheel(wheels);
        var installed = Path.Combine(_work, "installed");
        Exec(Python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", wheels, "--target", installed, "benchpkg==1.0.0");

        var oldPath = Environment.GetEnvironmentVariable("PATH");
        var oldPython = Environment.GetEnvironmentVariable(WarmEnvironment.PythonVariable);
        Environment.SetEnvironmentVariable("PATH", "/usr/bin:" + oldPath);
        Environment.SetEnvironmentVariable(WarmEnvironment.PythonVariable, Python);
        using var rs = new BenchRunspace();
        try
        {
            const string import = "import benchpkg; benchpkg.hello()";
            var floor = rs.LoadWorkflow(Flow("floor", steps, "", i => $"-Command python3 -ArgumentList '-c', '{import}' -Env @{{ PYTHONPATH = '{installed}' }}"));
            var venvScript = $"d=$(mktemp -d) && {Python} -m venv \"$d\" && \"$d/bin/python\" -m pip install --quiet --disable-pip-version-check --no-index --find-links {wheels} benchpkg==1.0.0 && \"$d/bin/python\" -c '{import}'; s=$?; rm -rf \"$d\"; exit $s";
            var perStepVenv = rs.LoadWorkflow(Flow("venv-per-step", steps, "", i => $"-Command /bin/sh -ArgumentList '-c', '{venvScript.Replace("'", "''")}'"));
            var packages = rs.LoadWorkflow(Flow("packages", steps, "", i => $"-Command python3 -ArgumentList '-c', '{import}' -Packages 'benchpkg==1.0.0'"));
            var warm = rs.LoadWorkflow(Flow("warm", steps, "-WarmEnv -Requirements 'benchpkg==1.0.0'", i => $"-Command python3 -ArgumentList '-c', '{import}'"));

            var warmCache = Path.Combine(_work, "warm-cache");
            Console.WriteLine($"  warmenv: {steps} python steps, {runs} run(s) each");
            // Off the clock: the runner's first runs in this process (JIT, step hosts), and the cached venv's first build.
            RunOnce(floor, null);
            RunOnce(warm, new StepPackageOptions { CacheRoot = warmCache, PythonFindLinks = wheels });
            RunOnce(warm, new StepPackageOptions { CacheRoot = warmCache });
            // Interleaved rounds (each round runs every way once, in turn), so that the machine's mood hits all alike.
            var ways = new (string Name, AxlWorkflow Wf, Func<StepPackageOptions?> Packages)[]
            {
                ("package importable (floor)", floor, () => null),
                ("fresh venv per step", perStepVenv, () => null),
                ("per-step -Packages, new cache", packages, () => NewCache(wheels)),
                ("-WarmEnv, new cache", warm, () => NewCache(wheels)),
                ("-WarmEnv, cached venv", warm, () => new StepPackageOptions { CacheRoot = warmCache }),
            };
            var seconds = ways.Select(_ => new double[runs]).ToArray();
            for (var round = 0; round < runs; round++)
                for (var w = 0; w < ways.Length; w++)
                {
                    var options = ways[w].Packages();
                    GC.Collect();
                    var clock = Stopwatch.StartNew();
                    RunOnce(ways[w].Wf, options);
                    seconds[w][round] = clock.Elapsed.TotalSeconds;
                }
            var timings = ways.Select((w, i) => new Timing(w.Name, seconds[i])).ToArray();
            foreach (var tm in timings) Console.WriteLine($"    {tm.Name}: median {Fmt.Seconds(tm.Median)} of {runs} run(s) [{string.Join(", ", tm.Seconds.Select(Fmt.Seconds))}]");
            var (tFloor, tVenv, tPackages, tWarm, tWarmHit) = (timings[0], timings[1], timings[2], timings[3], timings[4]);

            var s = report.Add("Warm environments: cold starts of python steps",
                $"One workflow of {steps} independent python command steps (`python3 -c \"{import}\"`; up to {Environment.ProcessorCount} at once), each needing `benchpkg==1.0.0`, " +
                "a one-module pure-Python wheel written by the benchmark into a local folder (offline: `pip --no-index --find-links`; PyPI is not reachable here). " +
                $"Python: Debian's {Python} (3.11, python3-venv, pip 23.0.1), first on PATH. Each figure is the whole `LocalRunner.Run` of the workflow ({runs} timed run(s), median), " +
                "including run records and the steps' processes. *floor*: the package importable already (on PYTHONPATH), nothing installed. The ways run in interleaved rounds (each round runs each once), after untimed runs that warm the runner up. " +
                "*fresh venv per step*: each step makes its own venv and pip-installs into it (what steps do without a shared environment, e.g. one pod each). " +
                "*per-step -Packages*: Axl's step packages (pip --target into a new package cache; the steps of one run share the entry, so one install per run). " +
                "*-WarmEnv, new cache*: the synthetic axl-warm-env step builds one venv (`python3 -m venv --without-pip`, then `python3 -m pip --python <venv> install -r`) before the steps. " +
                "*-WarmEnv, cached venv*: the same with the venv from an earlier run (the cache hit of every later run, and of each pod after the init task on Argo).");
            var t = s.Table("how the steps get the package", "time (median)", "spread", "÷ floor", "fresh venv per step ÷ this (saved)");
            foreach (var m in new[] { tFloor, tVenv, tPackages, tWarm, tWarmHit })
                t.Row(m.Name, Fmt.Seconds(m.Median), m.Spread, Fmt.Ratio(m.Median / tFloor.Median), Fmt.Ratio(tVenv.Median / m.Median));
            s.Note($"With the venv cached a run is {Fmt.Ratio(tVenv.Median / tWarmHit.Median)} faster than a fresh venv per step and {Fmt.Ratio(tPackages.Median / tWarmHit.Median)} faster than per-step -Packages, " +
                   $"at {Fmt.Ratio(tWarmHit.Median / tFloor.Median)} the floor (near 1× the difference is this machine's noise: both install nothing). Building the venv in the run is {Fmt.Ratio(tVenv.Median / tWarm.Median)} faster than a venv per step " +
                   $"and takes {Fmt.Ratio(tWarm.Median / tPackages.Median)} the time of per-step -Packages (which already install once per run, into a cache the run's steps share; the warm venv is also shared by later runs). " +
                   "What this does not measure: real packages (a wheel of one module installs in well under a second; numpy or scikit-learn take far longer, which widens every gap), " +
                   "uv (not installed here: `uv sync --frozen` is untested), and pods on Argo (the init task and shared volume are compiled and schema-checked, not run on a cluster).");
            s.Print();
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", oldPath);
            Environment.SetEnvironmentVariable(WarmEnvironment.PythonVariable, oldPython);
        }
    }

    private StepPackageOptions NewCache(string wheels) =>
        new() { CacheRoot = Path.Combine(_work, "cache-" + Guid.NewGuid().ToString("N")[..8]), PythonFindLinks = wheels };

    private void RunOnce(AxlWorkflow wf, StepPackageOptions? packages)
    {
        var root = Path.Combine(_work, "runs-" + Guid.NewGuid().ToString("N")[..8]);
        var run = LocalRunner.Run(wf, new RunOptions { RunRoot = root, ThrottleLimit = Environment.ProcessorCount, Packages = packages ?? new StepPackageOptions { CacheRoot = Path.Combine(root, ".axl-packages") } });
        if (run.Status != RunStatus.Succeeded)
            throw new InvalidOperationException($"warmenv: {wf.Name} {run.Status}: {string.Join("; ", run.Steps.Where(s => s.Error is not null).Select(s => s.Name + ": " + s.Error))}");
    }

    private string Flow(string name, int steps, string options, Func<int, string> step)
    {
        var file = Path.Combine(_work, "flows", name + ".axl.ps1");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var lines = new List<string> { $"AxlWorkflow {name} {options} {{" };
        for (var i = 0; i < steps; i++) lines.Add($"    Step p{i} {step(i)}");
        lines.Add("}");
        File.WriteAllLines(file, lines);
        return file;
    }

    /// <summary>benchpkg 1.0.0: a pure-Python wheel of one module, written by hand (no network, no build backend).</summary>
    private static void WriteWheel(string dir)
    {
        Directory.CreateDirectory(dir);
        using var zip = ZipFile.Open(Path.Combine(dir, "benchpkg-1.0.0-py3-none-any.whl"), ZipArchiveMode.Create);
        var files = new Dictionary<string, string>
        {
            ["benchpkg/__init__.py"] = "def hello():\n    return 'bench-hello'\n",
            ["benchpkg-1.0.0.dist-info/METADATA"] = "Metadata-Version: 2.1\nName: benchpkg\nVersion: 1.0.0\n",
            ["benchpkg-1.0.0.dist-info/WHEEL"] = "Wheel-Version: 1.0\nGenerator: axl-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            ["benchpkg-1.0.0.dist-info/top_level.txt"] = "benchpkg\n",
        };
        files["benchpkg-1.0.0.dist-info/RECORD"] = string.Join("\n", files.Keys.Select(k => k + ",,").Append("benchpkg-1.0.0.dist-info/RECORD,,")) + "\n";
        foreach (var (k, v) in files)
        {
            using var w = new StreamWriter(zip.CreateEntry(k).Open());
            w.Write(v);
        }
    }

    private static void Exec(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {err}");
    }
}
