using System.IO.Compression;
using System.Management.Automation;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Axl.Model;

namespace Axl.Runtime;

/// <summary>
/// Where a step's packages come from at run time and where they are kept. Read from the environment by default:
/// AXL_PSRESOURCE_REPOSITORY (a registered PSResource repository's name, or a folder of .nupkg files),
/// AXL_PIP_FIND_LINKS (a folder of wheels/sdists for pip --no-index --find-links) and AXL_PACKAGE_CACHE (the cache
/// folder; default &lt;run root&gt;/.axl-packages for local runs, ~/.cache/axl/packages for the runner).
/// </summary>
public sealed record StepPackageOptions
{
    public const string RepositoryVariable = "AXL_PSRESOURCE_REPOSITORY";
    public const string FindLinksVariable = "AXL_PIP_FIND_LINKS";
    public const string CacheVariable = "AXL_PACKAGE_CACHE";
    public const string CacheFolderName = ".axl-packages";

    /// <summary>A registered PSResource repository's name, or a folder holding &lt;Name&gt;.&lt;Version&gt;.nupkg files; null: none.</summary>
    public string? PSResourceRepository { get; init; }
    /// <summary>A folder of Python distributions (wheels) pip installs from, offline; null: none.</summary>
    public string? PythonFindLinks { get; init; }
    /// <summary>Where installed packages are kept, keyed by name and version (modules) or the package list (Python).</summary>
    public required string CacheRoot { get; init; }
    /// <summary>The PATH a python command is looked up on (a warm environment's venv first); null: this process's PATH.</summary>
    public string? SearchPath { get; init; }

    /// <summary>The options the environment gives; the cache under <paramref name="runRoot"/> (or the user's cache folder without one).</summary>
    public static StepPackageOptions FromEnvironment(string? runRoot) => new()
    {
        PSResourceRepository = Env(RepositoryVariable),
        PythonFindLinks = Env(FindLinksVariable),
        CacheRoot = Env(CacheVariable) ?? (runRoot is not null ? Path.Combine(runRoot, CacheFolderName) : UserCache()),
    };

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    private static string UserCache()
    {
        var xdg = Env("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(xdg ?? Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : home, ".cache"), "axl", "packages");
    }
}

/// <summary>A step's packages could not be made available; the message names the step, the package, where it looked and the fix.</summary>
public sealed class AxlPackageException(string message) : Exception(message);

/// <summary>What a step's environment needs so that its packages are found: folders to put before PSModulePath and PYTHONPATH.</summary>
public sealed record PreparedPackages(IReadOnlyList<string> ModulePaths, string? PythonPath)
{
    public static PreparedPackages None { get; } = new(Array.Empty<string>(), null);

    public bool IsEmpty => ModulePaths.Count == 0 && PythonPath is null;

    /// <summary>The variables to set for the step: PSModulePath and PYTHONPATH with the package folders first.</summary>
    public IReadOnlyDictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        // Before the value outside every step (another script step may hold its own PSModulePath in this process now).
        if (ModulePaths.Count > 0) env["PSModulePath"] = Prepend(ModulePaths, EnvironmentScope.BaseValue("PSModulePath"));
        if (PythonPath is not null) env["PYTHONPATH"] = Prepend(new[] { PythonPath }, EnvironmentScope.BaseValue("PYTHONPATH"));
        return env;
    }

    private static string Prepend(IEnumerable<string> first, string? rest) =>
        string.Join(Path.PathSeparator, first.Concat(string.IsNullOrEmpty(rest) ? Array.Empty<string>() : new[] { rest }));
}

/// <summary>
/// Installs what a step needs before it runs (issue 18, point 4): the PowerShell modules of the workflow's and the
/// step's -Modules that are not importable already (Save-PSResource from a registered repository, or unpacked from a
/// folder's .nupkg as Save-PSResource does), each into &lt;cache&gt;/psmodules/&lt;Name&gt;/&lt;Version&gt;, which goes first on
/// the step's PSModulePath; and the -Packages of a command step whose -Command is python, with
/// `python -m pip install --no-index --find-links` into &lt;cache&gt;/python/&lt;hash of the list&gt;, which goes first on
/// PYTHONPATH. A cached install is used as it is. Nothing is found and nothing configured: a clear error before the
/// step runs. Baked images (Build-AxlImage) hold the modules already, so nothing is installed there at run time.
/// </summary>
public static partial class StepPackages
{
    /// <summary>Installs (or finds) what <paramref name="step"/> needs; <paramref name="log"/> hears about every install.</summary>
    /// <exception cref="AxlPackageException">A package is missing and cannot be installed.</exception>
    public static PreparedPackages Prepare(AxlWorkflow wf, AxlStep step, StepPackageOptions options, Action<string>? log = null)
    {
        var modules = wf.Options.Modules.Concat(step.Modules).ToList();
        var python = step.Kind == StepKind.Command && step.Packages.Count > 0 && IsPython(step.Command);
        if (modules.Count == 0 && !python) return PreparedPackages.None;

        var paths = PrepareModules(wf, step, options, log);
        var pythonPath = python ? PreparePython(step, options, log) : null;
        return new PreparedPackages(paths, pythonPath);
    }

    /// <summary>
    /// The modules part of <see cref="Prepare"/> alone: installs (or finds in the cache) the workflow's and the step's
    /// -Modules and gives the PSModulePath entries that hold them. A warm environment calls it for every step first.
    /// </summary>
    /// <exception cref="AxlPackageException">A module is missing and cannot be installed.</exception>
    public static IReadOnlyList<string> PrepareModules(AxlWorkflow wf, AxlStep step, StepPackageOptions options, Action<string>? log = null)
    {
        var paths = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var text in wf.Options.Modules.Concat(step.Modules))
        {
            var m = ModuleRequirement.Parse(text);
            if (!seen.Add(m.Name)) continue;
            if (PrepareModule(step, m, options, log) is { } path && !paths.Contains(path)) paths.Add(path);
        }
        return paths;
    }

    internal static bool IsPython(string? command) =>
        command is not null && PythonRegex().IsMatch(Path.GetFileName(command));

    // ---- PowerShell modules ----

    /// <summary>The PSModulePath entry that holds <paramref name="m"/> (null when it is importable already).</summary>
    private static string? PrepareModule(AxlStep step, ModuleRequirement m, StepPackageOptions options, Action<string>? log)
    {
        if (Importable(m, out var where)) return null;
        var cacheDir = Path.Combine(options.CacheRoot, "psmodules", m.Name);
        if (m.Version is { } pinned && IsInstalled(Path.Combine(cacheDir, pinned), m.Name)) return Path.Combine(cacheDir, pinned);

        var repo = options.PSResourceRepository;
        if (repo is null)
        {
            var cached = m.Version is null ? CachedVersions(cacheDir, m.Name).FirstOrDefault() : null;
            if (cached is not null) return cached;
            throw new AxlPackageException(
                $"step '{step.Name}' needs module {m}, which is not installed (looked in PSModulePath: {where}; and in the package cache {cacheDir}) " +
                $"and no repository is configured to install it from. Fix: set {StepPackageOptions.RepositoryVariable} to a registered PSResource repository " +
                "or a folder of .nupkg files, install the module, or run in an image built with Build-AxlImage (it saves the workflow's modules at build time).");
        }
        return IsFolder(repo)
            ? InstallFromFolder(step, m, repo, cacheDir, log)
            : InstallFromRepository(step, m, repo, cacheDir, log);
    }

    private static bool IsFolder(string repo) =>
        Directory.Exists(repo) || repo.Contains('/') || repo.Contains('\\') || repo.StartsWith('.');

    /// <summary>True when a folder of PSModulePath (or PowerShell's own Modules folder) holds the module at the version asked (any version when unpinned).</summary>
    private static bool Importable(ModuleRequirement m, out string where)
    {
        var dirs = (EnvironmentScope.BaseValue("PSModulePath") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).ToList();
        var psHome = Path.Combine(Path.GetDirectoryName(typeof(PSObject).Assembly.Location) ?? "", "Modules");
        if (!dirs.Contains(psHome)) dirs.Add(psHome);
        where = string.Join(Path.PathSeparator, dirs);
        foreach (var dir in dirs)
        {
            var moduleDir = Path.Combine(dir, m.Name);
            if (!Directory.Exists(moduleDir)) continue;
            if (m.Version is null) return true;
            if (IsInstalled(Path.Combine(moduleDir, m.Version), m.Name, versioned: false)) return true;
            var manifest = Path.Combine(moduleDir, m.Name + ".psd1");
            if (File.Exists(manifest) && ManifestVersionRegex().Match(File.ReadAllText(manifest)) is { Success: true } v && SameVersion(v.Groups[1].Value, m.Version)) return true;
        }
        return false;
    }

    /// <summary>A cache entry (or, with versioned: false, a module version folder) that holds the module's manifest or script module.</summary>
    private static bool IsInstalled(string dir, string name, bool versioned = true)
    {
        if (!Directory.Exists(dir)) return false;
        if (versioned && !Directory.Exists(Path.Combine(dir, name))) return false;
        var moduleDir = versioned ? Directory.EnumerateDirectories(Path.Combine(dir, name)).FirstOrDefault() : dir;
        return moduleDir is not null && (File.Exists(Path.Combine(moduleDir, name + ".psd1")) || File.Exists(Path.Combine(moduleDir, name + ".psm1")));
    }

    private static IEnumerable<string> CachedVersions(string cacheDir, string name) =>
        !Directory.Exists(cacheDir) ? Enumerable.Empty<string>()
        : Directory.EnumerateDirectories(cacheDir).Where(d => !Path.GetFileName(d).StartsWith('.') && SafeInstalled(d, name))
            .OrderByDescending(d => VersionKey(Path.GetFileName(d)));

    private static bool SafeInstalled(string dir, string name)
    {
        try { return IsInstalled(dir, name); } catch (IOException) { return false; }
    }

    /// <summary>Unpacks &lt;Name&gt;.&lt;Version&gt;.nupkg from the folder into the cache, as Save-PSResource lays a module out.</summary>
    private static string InstallFromFolder(AxlStep step, ModuleRequirement m, string folder, string cacheDir, Action<string>? log)
    {
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full))
            throw new AxlPackageException($"step '{step.Name}' needs module {m}: {StepPackageOptions.RepositoryVariable} names the folder {full}, which does not exist. Fix: point it at the folder of .nupkg files, or at a registered repository's name.");
        var pattern = new Regex("^" + Regex.Escape(m.Name) + @"\.(?<v>[0-9]+(\.[0-9]+){1,3}(-[A-Za-z0-9.]+)?)\.nupkg$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        var candidates = Directory.EnumerateFiles(full, "*.nupkg")
            .Select(f => (File: f, Match: pattern.Match(Path.GetFileName(f))))
            .Where(c => c.Match.Success && (m.Version is null || SameVersion(c.Match.Groups["v"].Value, m.Version)))
            .OrderByDescending(c => VersionKey(c.Match.Groups["v"].Value))
            .ToList();
        if (candidates.Count == 0)
            throw new AxlPackageException(
                $"step '{step.Name}' needs module {m}, which is not installed and not in {full} (no {m.Name}.{m.Version ?? "<version>"}.nupkg there). " +
                $"Fix: add the package to that folder (Publish-PSResource -Repository <a folder repository> or Compress-PSResource), point {StepPackageOptions.RepositoryVariable} elsewhere, or bake the module into the image (Build-AxlImage).");
        var (nupkg, match) = candidates[0];
        var version = m.Version ?? match.Groups["v"].Value;
        var target = Path.Combine(cacheDir, version);
        if (IsInstalled(target, m.Name)) return target;

        var temp = Path.Combine(cacheDir, $".tmp-{Guid.NewGuid():N}");
        try
        {
            var moduleDir = Path.Combine(temp, m.Name, version);
            ZipFile.ExtractToDirectory(nupkg, moduleDir);
            // The package's own files, which Save-PSResource leaves out too.
            foreach (var f in new[] { "[Content_Types].xml", m.Name + ".nuspec" }) File.Delete(Path.Combine(moduleDir, f));
            foreach (var d in new[] { "_rels", "package" })
                if (Directory.Exists(Path.Combine(moduleDir, d))) Directory.Delete(Path.Combine(moduleDir, d), recursive: true);
            if (!IsInstalled(temp, m.Name))
                throw new AxlPackageException($"step '{step.Name}' needs module {m}: {nupkg} holds no {m.Name}.psd1 or {m.Name}.psm1 at its top. Fix: pack the module folder itself (Compress-PSResource -Path <module folder>).");
            Commit(temp, target);
        }
        catch (InvalidDataException ex)
        {
            throw new AxlPackageException($"step '{step.Name}' needs module {m}: {nupkg} is not a valid package ({ex.Message}). Fix: pack it again.");
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        log?.Invoke($"module {m.Name}@{version} installed from {nupkg} into {target}");
        return target;
    }

    /// <summary>Save-PSResource from a registered repository into the cache.</summary>
    private static string InstallFromRepository(AxlStep step, ModuleRequirement m, string repository, string cacheDir, Action<string>? log)
    {
        var temp = Path.Combine(cacheDir, $".tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            using var ps = PowerShell.Create(AxlEngine.CreateSessionState());
            ps.AddScript("""
                param($Name, $Version, $Repository, $Path)
                $ErrorActionPreference = 'Stop'
                $ProgressPreference = 'SilentlyContinue'
                Import-Module Microsoft.PowerShell.PSResourceGet
                $save = @{ Name = $Name; Repository = $Repository; Path = $Path; TrustRepository = $true; Quiet = $true }
                if ($Version) { $save.Version = $Version }
                Save-PSResource @save
                """).AddArgument(m.Name).AddArgument(m.Version).AddArgument(repository).AddArgument(temp);
            try
            {
                ps.Invoke();
            }
            catch (RuntimeException ex)
            {
                throw Failed(ex.Message);
            }
            if (ps.HadErrors) throw Failed(string.Join("; ", ps.Streams.Error.Select(e => e.ToString())));
            var version = m.Version ?? (Directory.Exists(Path.Combine(temp, m.Name)) ? Directory.EnumerateDirectories(Path.Combine(temp, m.Name)).Select(Path.GetFileName).FirstOrDefault() : null);
            if (version is null || !IsInstalled(temp, m.Name))
                throw Failed($"Save-PSResource saved no {m.Name} into {temp}");
            var target = Path.Combine(cacheDir, version);
            if (IsInstalled(target, m.Name)) return target;
            Commit(temp, target);
            log?.Invoke($"module {m.Name}@{version} installed from repository '{repository}' into {target}");
            return target;
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }

        AxlPackageException Failed(string why) => new(
            $"step '{step.Name}' needs module {m}, which is not installed, and Save-PSResource from repository '{repository}' failed: {why}. " +
            $"Fix: check that the repository is registered (Get-PSResourceRepository) and reachable and holds {m}, point {StepPackageOptions.RepositoryVariable} at a folder of .nupkg files, or bake the module into the image (Build-AxlImage).");
    }

    /// <summary>Moves a finished install into place; another process that got there first wins (same content).</summary>
    private static void Commit(string temp, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            Directory.Move(temp, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            // Installed meanwhile by another step: keep that one.
        }
    }

    private static bool SameVersion(string a, string b) => VersionKey(a) == VersionKey(b);

    /// <summary>Versions compared as NuGet does: 1.0 = 1.0.0 = 1.0.0.0; a prerelease suffix kept (and sorted first).</summary>
    private static string VersionKey(string v)
    {
        var dash = v.IndexOf('-');
        var (core, pre) = dash < 0 ? (v, "") : (v[..dash], v[dash..]);
        var parts = core.Split('.').Select(p => int.TryParse(p, out var n) ? n : 0).ToList();
        while (parts.Count < 4) parts.Add(0);
        return string.Join(".", parts.Select(p => p.ToString("D9", System.Globalization.CultureInfo.InvariantCulture))) + (pre.Length == 0 ? "~" : pre.ToLowerInvariant());
    }

    // ---- Python packages ----

    private const string CheckScript = """
        import sys
        from importlib import metadata
        for spec in sys.argv[1:]:
            name, _, version = spec.partition("==")
            try:
                found = metadata.version(name.strip())
            except metadata.PackageNotFoundError:
                sys.exit(1)
            if version and found != version.strip():
                sys.exit(1)
        """;

    /// <summary>True when the interpreter has every package already ('name' or 'name==version' only; other specifiers count as missing).</summary>
    private static bool AllInstalled(string python, IReadOnlyList<string> list)
    {
        if (list.Any(p => !SimpleRequirementRegex().IsMatch(p))) return false;
        return ToolProcess.Run(python, new[] { "-c", CheckScript }.Concat(list), isolatePython: false).ExitCode == 0;
    }

    private static string? PreparePython(AxlStep step, StepPackageOptions options, Action<string>? log)
    {
        string python;
        try
        {
            python = StepProcess.ResolveProgram(step.Command!, options.SearchPath);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // the step fails to start and says so
        }
        var list = step.Packages.Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(python + "\n" + string.Join("\n", list.OrderBy(p => p, StringComparer.Ordinal))))).ToLowerInvariant()[..16];
        var target = Path.Combine(options.CacheRoot, "python", hash);
        if (Directory.Exists(target)) return target;
        if (AllInstalled(python, list)) return null; // e.g. a baked image: nothing to install at run time

        if (options.PythonFindLinks is not { } links)
            throw new AxlPackageException(
                $"step '{step.Name}' needs Python packages {string.Join(", ", list)}, which are not in the package cache ({target}), and no folder is configured to install them from " +
                $"(Axl installs offline, with pip --no-index). Fix: set {StepPackageOptions.FindLinksVariable} to a folder of wheels (python3 -m pip download / pip wheel), or bake them into the image (Build-AxlImage with -Requirements).");
        var folder = Path.GetFullPath(links);
        if (!Directory.Exists(folder))
            throw new AxlPackageException($"step '{step.Name}' needs Python packages {string.Join(", ", list)}: {StepPackageOptions.FindLinksVariable} names the folder {folder}, which does not exist. Fix: point it at the folder of wheels.");

        var temp = Path.Combine(options.CacheRoot, "python", $".tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            // A warm environment's venv has no pip of its own: the Python it was made from installs for it (--python).
            var (pipProgram, pipPrefix) = WarmEnvironment.PipFor(python);
            var pip = ToolProcess.Run(pipProgram, pipPrefix.Concat(new[] { "install", "--no-index", "--find-links", folder, "--target", temp, "--disable-pip-version-check", "--no-input", "--quiet" }).Concat(list), isolatePython: false);
            if (pip.ExitCode != 0)
                throw new AxlPackageException(
                    $"step '{step.Name}' needs Python packages {string.Join(", ", list)}, and `{python} -m pip install --no-index --find-links {folder}` failed (exit code {pip.ExitCode}): {ToolProcess.Tail(pip.Error)}. " +
                    $"Fix: put the missing wheels into {folder} (python3 -m pip download -d {folder} <package>), or bake them into the image (Build-AxlImage).");
            Commit(temp, target);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        log?.Invoke($"Python packages {string.Join(", ", list)} installed from {folder} into {target}");
        return target;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._\-]*(\s*==\s*[A-Za-z0-9.+!\-]+)?$")]
    private static partial Regex SimpleRequirementRegex();

    [GeneratedRegex(@"^python(\d+(\.\d+)?)?(\.exe)?$", RegexOptions.IgnoreCase)]
    private static partial Regex PythonRegex();

    [GeneratedRegex(@"ModuleVersion\s*=\s*['""]([^'""]+)['""]")]
    private static partial Regex ManifestVersionRegex();
}
