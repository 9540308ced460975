using Axl.Model;

namespace Axl.Images;

/// <summary>How the Python dependencies get into an image.</summary>
public enum PythonDependencyKind
{
    /// <summary>No Python dependencies (none declared, none found).</summary>
    None,
    /// <summary>pyproject.toml + uv.lock: `uv sync --frozen` at build time (the base image needs uv).</summary>
    UvLock,
    /// <summary>A requirements file (or the workflow's -Requirements): pip into a virtual environment (the base image needs python3 with venv).</summary>
    Requirements,
}

/// <summary>
/// The locked dependencies an image build installs: Python (from the workflow's -Lockfile, -RequirementsFile or
/// -Requirements, else found beside the workflow file) and the PowerShell modules the workflow and its steps name.
/// </summary>
public sealed record ImageDependencies
{
    public static ImageDependencies None { get; } = new();

    public PythonDependencyKind Python { get; init; }
    /// <summary>Where the Python files came from: the workflow option, or "found beside the workflow file".</summary>
    public string? PythonSource { get; init; }
    /// <summary>The local files copied into the context (pyproject.toml and uv.lock, or the requirements file), full paths.</summary>
    public IReadOnlyList<string> PythonFiles { get; init; } = Array.Empty<string>();
    /// <summary>The requirements text written into the context for inline -Requirements (no file).</summary>
    public string? InlineRequirements { get; init; }
    /// <summary>Every requirement carries --hash: pip runs with --require-hashes.</summary>
    public bool RequireHashes { get; init; }
    /// <summary>The PowerShell modules to save at build time (each pinned), by name.</summary>
    public IReadOnlyList<ModuleRequirement> Modules { get; init; } = Array.Empty<ModuleRequirement>();
    /// <summary>What makes the image less reproducible than it could be (unpinned requirements, no hashes).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    public override string ToString()
    {
        var python = Python switch
        {
            PythonDependencyKind.UvLock => "uv.lock",
            PythonDependencyKind.Requirements => RequireHashes ? "requirements (hashed)" : "requirements",
            _ => "no Python dependencies",
        };
        return Modules.Count == 0 ? python : $"{python}; modules {string.Join(", ", Modules)}";
    }

    public const string UvLockFile = "uv.lock";
    public const string PyProjectFile = "pyproject.toml";
    public const string RequirementsFileName = "requirements.txt";

    /// <summary>
    /// The dependencies of <paramref name="wf"/>, whose file is in <paramref name="workflowDir"/>: the workflow's
    /// -Lockfile (a uv.lock with its pyproject.toml beside it), else -RequirementsFile, else -Requirements; without any,
    /// a uv.lock + pyproject.toml or a requirements.txt beside the workflow file. Modules: the workflow's and every
    /// step's -Modules, each needing a version (an image holds exactly one).
    /// </summary>
    /// <exception cref="AxlImageException">A named file is missing, a lockfile is not uv.lock, a module is not pinned or pinned twice differently.</exception>
    public static ImageDependencies Detect(AxlWorkflow wf, string workflowDir)
    {
        var result = DetectPython(wf, workflowDir);
        var warnings = result.Warnings.ToList();

        // Modules: the workflow's, then each step's, by name; one version per name.
        var modules = new SortedDictionary<string, (ModuleRequirement Module, string Where)>(StringComparer.OrdinalIgnoreCase);
        void AddModule(string text, string where)
        {
            var m = ModuleRequirement.Parse(text);
            if (!m.IsPinned)
                throw new AxlImageException(ImageErrorIds.InvalidContext, $"workflow '{wf.Name}': {where} needs module '{m.Name}' without a version; an image build saves exactly one version of each module. Fix: write '{m.Name}@<version>' or @{{ ModuleName = '{m.Name}'; RequiredVersion = '<version>' }}.");
            if (modules.TryGetValue(m.Name, out var seen) && !string.Equals(seen.Module.Version, m.Version, StringComparison.OrdinalIgnoreCase))
                throw new AxlImageException(ImageErrorIds.InvalidContext, $"workflow '{wf.Name}': module '{m.Name}' is pinned to {seen.Module.Version} by {seen.Where} and to {m.Version} by {where}; one image holds one version. Fix: pin the same version, or give the step its own -Image.");
            modules.TryAdd(m.Name, (m, where));
        }
        foreach (var m in wf.Options.Modules) AddModule(m, "the workflow");
        foreach (var s in wf.Steps)
            if (s.Image is null) // a step with its own image does not run in this one
                foreach (var m in s.Modules) AddModule(m, $"step '{s.Name}'");

        return result with { Modules = modules.Values.Select(v => v.Module).ToList(), Warnings = warnings };
    }

    /// <summary>
    /// The Python part of <see cref="Detect"/> alone (no modules): what an image build and a warm environment
    /// (<see cref="Runtime.WarmEnvironment"/>) install from.
    /// </summary>
    /// <exception cref="AxlImageException">A named file is missing, or a lockfile is not uv.lock or has no pyproject.toml beside it.</exception>
    public static ImageDependencies DetectPython(AxlWorkflow wf, string workflowDir)
    {
        var policy = wf.Options.Dependencies;
        var warnings = new List<string>();
        var result = new ImageDependencies();

        string Existing(string relative, string option)
        {
            var full = Path.GetFullPath(relative, workflowDir);
            if (!File.Exists(full))
                throw new AxlImageException(ImageErrorIds.InvalidContext, $"workflow '{wf.Name}': {option} names '{relative}', but {full} does not exist. Fix the path (it is relative to the workflow file's folder) or commit the file.");
            return full;
        }

        if (policy.Lockfile is { } lockfile)
        {
            var lockPath = Existing(lockfile, "-Lockfile");
            if (!Path.GetFileName(lockPath).Equals(UvLockFile, StringComparison.Ordinal))
                throw new AxlImageException(ImageErrorIds.InvalidContext, $"workflow '{wf.Name}': -Lockfile '{lockfile}' is not a uv.lock; image builds install locked dependencies with `uv sync --frozen`. Fix: lock with uv (`uv lock`) and name its uv.lock, or use -RequirementsFile.");
            var pyproject = Path.Combine(Path.GetDirectoryName(lockPath)!, PyProjectFile);
            if (!File.Exists(pyproject))
                throw new AxlImageException(ImageErrorIds.InvalidContext, $"workflow '{wf.Name}': -Lockfile '{lockfile}' has no {PyProjectFile} beside it ({pyproject}); uv sync needs both. Fix: commit the pyproject.toml the lock was made from.");
            result = result with { Python = PythonDependencyKind.UvLock, PythonSource = "-Lockfile", PythonFiles = new[] { pyproject, lockPath } };
        }
        else if (policy.RequirementsFile is { } requirementsFile)
        {
            var path = Existing(requirementsFile, "-RequirementsFile");
            result = result with { Python = PythonDependencyKind.Requirements, PythonSource = "-RequirementsFile", PythonFiles = new[] { path } };
        }
        else if (policy.Requirements.Count > 0)
        {
            result = result with { Python = PythonDependencyKind.Requirements, PythonSource = "-Requirements", InlineRequirements = string.Concat(policy.Requirements.Select(r => r.Trim() + "\n")) };
        }
        else
        {
            var uvLock = Path.Combine(workflowDir, UvLockFile);
            var pyproject = Path.Combine(workflowDir, PyProjectFile);
            var requirements = Path.Combine(workflowDir, RequirementsFileName);
            if (File.Exists(uvLock) && File.Exists(pyproject))
                result = result with { Python = PythonDependencyKind.UvLock, PythonSource = "found beside the workflow file", PythonFiles = new[] { pyproject, uvLock } };
            else if (File.Exists(requirements))
                result = result with { Python = PythonDependencyKind.Requirements, PythonSource = "found beside the workflow file", PythonFiles = new[] { requirements } };
        }

        if (result.Python == PythonDependencyKind.Requirements)
        {
            var text = result.InlineRequirements ?? File.ReadAllText(result.PythonFiles[0]);
            var lines = RequirementLines(text).ToList();
            var hashed = lines.Count > 0 && lines.All(l => l.Contains("--hash=", StringComparison.Ordinal));
            result = result with { RequireHashes = hashed };
            var unpinned = lines.Where(l => !l.Contains("==", StringComparison.Ordinal) && !l.StartsWith('-')).ToList();
            if (unpinned.Count > 0)
                warnings.Add($"requirements without an exact version (==): {string.Join(", ", unpinned.Select(l => l.Split(' ')[0]))}; each build may install other versions. Pin them, or lock with uv.");
            else if (!hashed && lines.Count > 0)
                warnings.Add("requirements without --hash: pip cannot check that it installs the same files each build (pip-compile --generate-hashes or uv export writes them).");
        }

        return result with { Warnings = warnings };
    }

    /// <summary>Requirement lines without comments, blank lines and continuation backslashes (joined).</summary>
    private static IEnumerable<string> RequirementLines(string text)
    {
        var joined = text.Replace("\r\n", "\n").Replace("\\\n", " ");
        foreach (var raw in joined.Split('\n'))
        {
            var line = raw.Trim();
            var hash = line.IndexOf(" #", StringComparison.Ordinal);
            if (hash >= 0) line = line[..hash].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            yield return line;
        }
    }
}
