using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Axl.Images;
using Axl.Model;

namespace Axl.Runtime;

/// <summary>A workflow's warm environment could not be built; the message names the package, where it looked and the fix.</summary>
public sealed class AxlWarmEnvException(string message) : Exception(message);

/// <summary>
/// What a warm environment gives the steps: the Python virtual environment (its bin folder first on PATH, VIRTUAL_ENV
/// set) and how it was obtained (built now or found in the cache).
/// </summary>
public sealed record WarmEnv
{
    public static WarmEnv None { get; } = new();

    /// <summary>The virtual environment's folder; null when the workflow declares no Python dependencies.</summary>
    public string? VirtualEnv { get; init; }
    /// <summary>Where the Python dependencies came from ("-RequirementsFile requirements.txt", ...); null without any.</summary>
    public string? PythonSource { get; init; }
    /// <summary>The cache key: a hash of the requirements or lockfile content, the installer and the Python version.</summary>
    public string? Key { get; init; }
    /// <summary>True when the virtual environment was in the cache already (nothing installed).</summary>
    public bool CacheHit { get; init; }
    /// <summary>The modules the steps name, as saved (or found) for them.</summary>
    public int ModuleCount { get; init; }
    /// <summary>How many modules this call installed (0: every one was cached or importable already).</summary>
    public int ModulesInstalled { get; init; }

    /// <summary>The variables every step gets: PATH with the venv's bin folder first and VIRTUAL_ENV (none without a venv).</summary>
    public IReadOnlyDictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (VirtualEnv is null) return env;
        var bin = WarmEnvironment.BinFolder(VirtualEnv);
        var path = EnvironmentScope.BaseValue("PATH");
        env["PATH"] = string.IsNullOrEmpty(path) ? bin : bin + Path.PathSeparator + path;
        env["VIRTUAL_ENV"] = VirtualEnv;
        return env;
    }

    /// <summary>One line for logs and the step record.</summary>
    public string Summary =>
        (VirtualEnv is null ? "no Python dependencies" : $"Python environment {VirtualEnv} ({PythonSource}; {(CacheHit ? "cache hit, nothing installed" : "built")})")
        + (ModuleCount == 0 ? "" : $"; {ModuleCount} module(s), {ModulesInstalled} installed");
}

/// <summary>
/// The warm environment of a workflow with -WarmEnv (seed M7, issue 18 point 3): once per run, before the user's steps,
/// a synthetic step named <see cref="StepName"/> builds the Python virtual environment of the workflow's dependency
/// policy (-Lockfile, -RequirementsFile, -Requirements, or a requirements.txt / uv.lock beside the workflow file) into
/// &lt;package cache&gt;/venv/&lt;key&gt;, keyed by the content of the requirements or lockfile, the installer and the Python
/// version, and saves every module the steps name into the package cache (<see cref="StepPackages"/>). A cached
/// environment is used as it is: a second run (or a resumed one) installs nothing. Installs are offline, as step
/// packages are: pip --no-index --find-links $AXL_PIP_FIND_LINKS (or `uv sync --frozen --offline` when uv is on PATH and
/// the policy is a uv.lock). Local runs, `axl warm-env` (the Argo/KFP init task) and `axl step` all call
/// <see cref="Prepare"/>.
/// </summary>
public static partial class WarmEnvironment
{
    /// <summary>The synthetic step's name: in the run's records, not in the workflow's DAG or hash.</summary>
    public const string StepName = "axl-warm-env";
    /// <summary>The Python the venv is made with; default python3 (else python) on PATH.</summary>
    public const string PythonVariable = "AXL_WARM_ENV_PYTHON";
    /// <summary>Written last into a finished environment: its presence is the cache hit.</summary>
    public const string MarkerFile = ".axl-warm-env";

    public static string BinFolder(string venv) => Path.Combine(venv, OperatingSystem.IsWindows() ? "Scripts" : "bin");

    /// <summary>The folder the workflow's relative dependency files are resolved against: its file's folder, else the current one.</summary>
    public static string WorkflowFolder(AxlWorkflow wf) =>
        wf.SourceFile is { Length: > 0 } f && File.Exists(f) ? Path.GetDirectoryName(Path.GetFullPath(f))! : System.Environment.CurrentDirectory;

    /// <summary>Builds (or finds in the cache) the workflow's warm environment; <paramref name="log"/> hears what happens.</summary>
    /// <exception cref="AxlWarmEnvException">A dependency file is missing, a package cannot be installed, no Python is found.</exception>
    public static WarmEnv Prepare(AxlWorkflow wf, StepPackageOptions options, Action<string>? log = null, string? workflowDir = null)
    {
        workflowDir ??= WorkflowFolder(wf);
        ImageDependencies deps;
        try
        {
            deps = ImageDependencies.DetectPython(wf, workflowDir);
        }
        catch (AxlImageException ex)
        {
            throw new AxlWarmEnvException($"{StepName}: {ex.Message}");
        }
        var result = deps.Python == PythonDependencyKind.None ? WarmEnv.None : PreparePython(wf, deps, options, log);

        // Modules: every step's (and the workflow's), saved into the package cache where each step's own
        // StepPackages.Prepare then finds them without installing.
        var installed = 0;
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var step in wf.Steps)
        {
            if (wf.Options.Modules.Count == 0 && step.Modules.Count == 0) continue;
            try
            {
                StepPackages.PrepareModules(wf, step, options, text => { installed++; log?.Invoke(text); });
            }
            catch (AxlPackageException ex)
            {
                throw new AxlWarmEnvException($"{StepName}: {ex.Message}");
            }
            foreach (var m in wf.Options.Modules.Concat(step.Modules)) names.Add(ModuleRequirement.Parse(m).Name);
        }
        return result with { ModuleCount = names.Count, ModulesInstalled = installed };
    }

    private static WarmEnv PreparePython(AxlWorkflow wf, ImageDependencies deps, StepPackageOptions options, Action<string>? log)
    {
        var python = FindPython();
        var version = ToolProcess.Run(python, new[] { "-c", "import sys; print(sys.version); print(sys.executable)" }, isolatePython: true);
        if (version.ExitCode != 0)
            throw new AxlWarmEnvException($"{StepName}: {python} does not run (exit code {version.ExitCode}): {ToolProcess.Tail(version.Error)}. Fix: install python3 or set {PythonVariable} to a working Python.");
        var uv = deps.Python == PythonDependencyKind.UvLock ? FindOnPath("uv") : null;
        var source = deps.PythonSource + (deps.PythonFiles.Count > 0 ? " " + string.Join(", ", deps.PythonFiles.Select(Path.GetFileName)) : "");

        // The key: what is installed (file contents, not paths), with what, into which Python.
        var keyText = new StringBuilder()
            .Append(deps.Python).Append('\n').Append(uv is null ? "pip" : "uv").Append('\n').Append(version.Output.Trim()).Append('\n')
            .Append(deps.InlineRequirements ?? "");
        foreach (var f in deps.PythonFiles) keyText.Append('\n').Append(Path.GetFileName(f)).Append('\n').Append(File.ReadAllText(f));
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(keyText.ToString()))).ToLowerInvariant()[..16];
        var root = Path.Combine(options.CacheRoot, "venv");
        var venv = Path.Combine(root, key);
        var env = new WarmEnv { VirtualEnv = venv, PythonSource = source, Key = key, CacheHit = true };
        if (File.Exists(Path.Combine(venv, MarkerFile))) return env;

        Directory.CreateDirectory(root);
        using (AcquireLock(Path.Combine(root, key + ".lock")))
        {
            if (File.Exists(Path.Combine(venv, MarkerFile))) return env; // built by another run while this one waited
            if (Directory.Exists(venv)) Directory.Delete(venv, recursive: true); // a build that did not finish
            try
            {
                if (uv is not null) BuildWithUv(uv, python, deps, venv, options, log);
                else BuildWithPip(python, deps, venv, options, log);
                File.WriteAllText(Path.Combine(venv, MarkerFile), $"key {key}\npython {version.Output.Trim().Replace('\n', ' ')}\nsource {source}\ninstaller {(uv is null ? "pip" : "uv")}\n");
            }
            catch
            {
                if (Directory.Exists(venv)) try { Directory.Delete(venv, recursive: true); } catch (IOException) { }
                throw;
            }
        }
        log?.Invoke($"Python environment built into {venv} from {source}");
        return env with { CacheHit = false };
    }

    private static void BuildWithPip(string python, ImageDependencies deps, string venv, StepPackageOptions options, Action<string>? log)
    {
        var links = FindLinks(deps, options);
        // With a pip that has --python (22.3 and later), the venv needs no pip of its own: `venv --without-pip` takes a
        // fraction of a second where ensurepip takes seconds, and this Python's pip installs into it.
        var outerPip = PipSupportsPythonOption(python);
        var made = ToolProcess.Run(python, outerPip ? new[] { "-m", "venv", "--without-pip", venv } : new[] { "-m", "venv", venv }, isolatePython: true);
        if (made.ExitCode != 0)
            throw new AxlWarmEnvException($"{StepName}: `{python} -m venv {venv}` failed (exit code {made.ExitCode}): {ToolProcess.Tail(made.Error)}. Fix: install the venv module (Debian: apt-get install python3-venv) or set {PythonVariable} to a Python that has it.");

        var requirements = deps.PythonFiles.Count > 0 && deps.Python == PythonDependencyKind.Requirements ? deps.PythonFiles[0] : null;
        string? temp = null;
        if (requirements is null)
        {
            temp = Path.Combine(venv, "axl-requirements.txt");
            File.WriteAllText(temp, deps.Python == PythonDependencyKind.UvLock ? string.Concat(UvLockPins(deps.PythonFiles[1]).Select(p => p + "\n")) : deps.InlineRequirements ?? "");
            requirements = temp;
        }
        var args = new List<string> { "-m", "pip" };
        if (outerPip) { args.Add("--python"); args.Add(BinPython(venv)); }
        args.AddRange(new[] { "install", "--no-index", "--find-links", links, "--disable-pip-version-check", "--no-input", "--quiet", "-r", requirements });
        var pip = ToolProcess.Run(outerPip ? python : BinPython(venv), args, isolatePython: true);
        if (pip.ExitCode != 0)
            throw new AxlWarmEnvException(
                $"{StepName}: installing the workflow's Python dependencies ({deps.PythonSource}) with `pip install --no-index --find-links {links}` failed (exit code {pip.ExitCode}): {ToolProcess.Tail(pip.Error)}. " +
                $"Fix: put the missing wheels into {links} (python3 -m pip download -d {links} -r <requirements>), or correct the requirement.");
        log?.Invoke($"pip installed {deps.PythonSource} from {links}");
    }

    /// <summary>uv sync --frozen --offline into the venv folder (UV_PROJECT_ENVIRONMENT). Untested here: this machine has no uv.</summary>
    private static void BuildWithUv(string uv, string python, ImageDependencies deps, string venv, StepPackageOptions options, Action<string>? log)
    {
        var project = Path.GetDirectoryName(deps.PythonFiles[1])!;
        var args = new List<string> { "sync", "--frozen", "--offline", "--no-install-project", "--python", python };
        if (options.PythonFindLinks is { } links) { args.Add("--find-links"); args.Add(Path.GetFullPath(links)); }
        var sync = ToolProcess.Run(uv, args, isolatePython: true, project, new Dictionary<string, string> { ["UV_PROJECT_ENVIRONMENT"] = venv });
        if (sync.ExitCode != 0)
            throw new AxlWarmEnvException(
                $"{StepName}: `uv sync --frozen --offline` in {project} failed (exit code {sync.ExitCode}): {ToolProcess.Tail(sync.Error)}. " +
                $"Fix: make the locked packages available offline (uv's cache, or wheels in {StepPackageOptions.FindLinksVariable}), or run `uv lock` again if the lock is stale.");
        log?.Invoke($"uv sync --frozen installed {deps.PythonFiles[1]}");
    }

    private static string FindLinks(ImageDependencies deps, StepPackageOptions options)
    {
        if (options.PythonFindLinks is not { } links)
            throw new AxlWarmEnvException(
                $"{StepName}: the workflow's Python dependencies ({deps.PythonSource}) are not in the cache and no folder is configured to install them from " +
                $"(Axl installs offline, with pip --no-index). Fix: set {StepPackageOptions.FindLinksVariable} to a folder of wheels (python3 -m pip download / pip wheel), or drop -WarmEnv.");
        var folder = Path.GetFullPath(links);
        if (!Directory.Exists(folder))
            throw new AxlWarmEnvException($"{StepName}: {StepPackageOptions.FindLinksVariable} names the folder {folder}, which does not exist. Fix: point it at the folder of wheels.");
        return folder;
    }

    /// <summary>name==version of every package of a uv.lock except the project itself (an editable or virtual source).</summary>
    internal static IEnumerable<string> UvLockPins(string uvLock)
    {
        string? name = null, version = null;
        var own = false;
        foreach (var raw in File.ReadLines(uvLock).Append("[[package]]"))
        {
            var line = raw.Trim();
            if (line.StartsWith('['))
            {
                if (name is not null && version is not null && !own) yield return $"{name}=={version}";
                name = version = null;
                own = false;
                continue;
            }
            if (TomlString().Match(line) is { Success: true } m)
            {
                if (m.Groups[1].Value == "name") name = m.Groups[2].Value;
                else if (m.Groups[1].Value == "version") version = m.Groups[2].Value;
            }
            else if (line.StartsWith("source", StringComparison.Ordinal) && (line.Contains("editable", StringComparison.Ordinal) || line.Contains("virtual", StringComparison.Ordinal)))
                own = true;
        }
    }

    /// <summary>True when <paramref name="python"/> has a pip of 22.3 or later (which can install into another interpreter with --python).</summary>
    internal static bool PipSupportsPythonOption(string python)
    {
        var r = ToolProcess.Run(python, new[] { "-m", "pip", "--version" }, isolatePython: true);
        var m = PipVersion().Match(r.Output);
        if (r.ExitCode != 0 || !m.Success) return false;
        var major = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var minor = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        return major > 22 || (major == 22 && minor >= 3);
    }

    /// <summary>
    /// How to run pip for <paramref name="python"/>: itself (-m pip), or, for a venv made without pip (a warm
    /// environment's), the Python it was made from with --python. Null: no pip found (the caller's pip run fails and says so).
    /// </summary>
    internal static (string Program, IReadOnlyList<string> Prefix) PipFor(string python)
    {
        var cfg = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(python)!) ?? "", "pyvenv.cfg");
        if (!File.Exists(cfg) || ToolProcess.Run(python, new[] { "-c", "import pip" }, isolatePython: true).ExitCode == 0) return (python, new[] { "-m", "pip" });
        var executable = File.ReadLines(cfg).Select(l => l.Split('=', 2)).Where(kv => kv.Length == 2 && kv[0].Trim() == "executable").Select(kv => kv[1].Trim()).FirstOrDefault();
        return executable is not null && File.Exists(executable) && PipSupportsPythonOption(executable)
            ? (executable, new[] { "-m", "pip", "--python", python })
            : (python, new[] { "-m", "pip" });
    }

    [GeneratedRegex(@"^pip (\d+)\.(\d+)")]
    private static partial Regex PipVersion();

    private static string BinPython(string venv) => Path.Combine(BinFolder(venv), OperatingSystem.IsWindows() ? "python.exe" : "python");

    private static string FindPython()
    {
        if (System.Environment.GetEnvironmentVariable(PythonVariable) is { Length: > 0 } given)
        {
            var found = FindOnPath(given) ?? (File.Exists(given) ? Path.GetFullPath(given) : null);
            return found ?? throw new AxlWarmEnvException($"{StepName}: {PythonVariable} names '{given}', which is not found. Fix: point it at a Python 3 interpreter.");
        }
        return FindOnPath("python3") ?? FindOnPath("python")
            ?? throw new AxlWarmEnvException($"{StepName}: no python3 (or python) on PATH to build the workflow's Python environment with. Fix: install python3 (Debian: apt-get install python3 python3-venv) or set {PythonVariable}.");
    }

    private static string? FindOnPath(string name)
    {
        try { return StepProcess.ResolveProgram(name); }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    /// <summary>An exclusive lock file (held until disposed): two runs never build one environment at once.</summary>
    private static FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow.AddMinutes(30);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }

    [GeneratedRegex(@"^(name|version)\s*=\s*""([^""]*)""")]
    private static partial Regex TomlString();
}
