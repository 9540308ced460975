using System.Formats.Tar;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Axl.Delivery;
using Axl.Model;

namespace Axl.Images;

/// <summary>
/// The build context of a workflow image: a tar with the generated Dockerfile, the workflow code (what
/// Publish-AxlWorkflowCode would archive, at /axl/workdir), the locked Python dependency files, and optionally an axl
/// build (/opt/axl). Deterministic like the code archive: the same inputs give the same bytes (entries sorted
/// ordinally, every entry dated 2000-01-01, owned by 0:0, modes normalized), so the context's SHA-256 identifies
/// the build's inputs.
/// </summary>
/// <remarks>
/// Files the image gets are copied as whole trees (COPY axl/code/ /), with their parent directories in the tar, so
/// the directories the layer creates (/axl, /axl/workdir, /opt/axl) carry the tar's fixed times: the COPY layers are
/// byte-identical from build to build on any engine. Layers made by RUN (uv sync, pip, Save-Module) hold files with the
/// build's times; the builder asks the engine for a fixed timestamp (Podman's build timestamp, BuildKit's
/// SOURCE_DATE_EPOCH), and their content is as reproducible as the lock the tools install from.
/// </remarks>
public sealed partial class ImageContext
{
    public const string WorkDir = "/axl/workdir";
    public const string RunnerDir = "/opt/axl";
    public const string VirtualEnv = "/axl/venv";
    public const string ModulesDir = "/axl/modules";
    public const string PythonDir = "/axl/python";
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Runner files left out of the context: other platforms' native libraries (the image is Linux).</summary>
    public static IReadOnlyList<string> RunnerIgnorePatterns { get; } = new[] { "runtimes/win*/", "runtimes/osx*/", "runtimes/freebsd*/", "*.xml.tmp" };

    private ImageContext() { }

    /// <summary>The tar (uncompressed), as sent to the engine.</summary>
    public byte[] Tar { get; private init; } = Array.Empty<byte>();
    public string Sha256 { get; private init; } = "";
    public string Dockerfile { get; private init; } = "";
    public IReadOnlyDictionary<string, string> Labels { get; private init; } = new Dictionary<string, string>();
    public ImageDependencies Dependencies { get; private init; } = ImageDependencies.None;
    public string BaseImage { get; private init; } = "";
    public string CodeRoot { get; private init; } = "";
    /// <summary>The workflow file relative to the code root ('/'-separated): in the image at /axl/workdir/&lt;it&gt;.</summary>
    public string WorkflowFile { get; private init; } = "";
    /// <summary>The code's SHA-256 as a code archive (Publish-AxlWorkflowCode) of the same root and rules.</summary>
    public string CodeSha256 { get; private init; } = "";
    public int FileCount { get; private init; }
    // Plain values for views (a deserialized context shows the same as the live one).
    /// <summary>The size of the tar in bytes.</summary>
    public long Size => Tar.LongLength;
    /// <summary>The SHA-256 cut to "sha256:" and 12 hex digits.</summary>
    public string ShortSha256 => Sha256.Length > 19 ? Sha256[..19] : Sha256;
    /// <summary>The dependencies as text ("no Python dependencies", "uv.lock", ...).</summary>
    public string DependencyText => Dependencies.ToString();
    public DateTimeOffset SourceDate { get; private init; }
    /// <summary>Files of the code root that were not taken (fifos, sockets).</summary>
    public IReadOnlyList<string> Skipped { get; private init; } = Array.Empty<string>();
    public IReadOnlyList<string> Warnings => Dependencies.Warnings;

    /// <summary>Makes the context of <paramref name="wf"/> (which must come from a file) as <paramref name="options"/> say.</summary>
    /// <exception cref="AxlImageException">The workflow has no file or it is outside the code root, a dependency file is missing, a module is not pinned.</exception>
    /// <exception cref="AxlArchiveException">The code cannot be archived (a link out of the root, too big).</exception>
    public static ImageContext Create(AxlWorkflow wf, ImageBuildOptions options)
    {
        if (wf.SourceFile is not { } file || !File.Exists(file))
            throw new AxlImageException(ImageErrorIds.InvalidContext, $"workflow '{wf.Name}' was not loaded from a file, so there is no workflow file to bake into the image. Fix: save it as a .axl.ps1 file and build from it (Get-AxlWorkflow ./flow.axl.ps1 | Build-AxlImage ...).");
        file = Path.GetFullPath(file);
        var workflowDir = Path.GetDirectoryName(file)!;
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.CodeRoot ?? workflowDir));
        if (!Directory.Exists(root))
            throw new AxlImageException(ImageErrorIds.InvalidContext, $"the code root {root} is not a directory. Fix: give the repository root or the workflow's folder.");
        var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
        if (relative.StartsWith("../", StringComparison.Ordinal) || relative == ".." || Path.IsPathRooted(relative))
            throw new AxlImageException(ImageErrorIds.InvalidContext, $"the workflow file {file} is not under the code root {root}. Fix: give a code root that contains it (the repository root), or leave it out to use the workflow's folder.");
        var baseImage = string.IsNullOrWhiteSpace(options.BaseImage) ? AxlInfo.DefaultRunnerImage : options.BaseImage.Trim();
        ImageReference.Validate(baseImage, "the base image");
        var sourceDate = options.SourceDate ?? SourceDateFromEnvironment() ?? CodeArchive.EntryTime;

        var dependencies = ImageDependencies.Detect(wf, workflowDir);

        // The code, exactly as a code archive of the same root would hold it.
        var (code, skipped) = CodeArchive.Collect(root, options.Code);
        if (!code.Any(c => c.Entry.Path == relative))
            throw new AxlImageException(ImageErrorIds.InvalidContext, $"the workflow file '{relative}' is ignored by the code root's ignore rules (.gitignore, .axlignore or the options), so the image would not have it. Fix: un-ignore it (a '!{relative}' line in .axlignore).");
        string codeSha;
        using (var sink = new MemoryStream()) codeSha = CodeArchive.Create(root, sink, options.Code).Sha256;

        var entries = new List<ContextEntry>();
        AddDirectories(entries, "axl/code/axl/workdir");
        entries.AddRange(code.Select(c => new ContextEntry(c.Entry with { Path = "axl/code/axl/workdir/" + c.Entry.Path }, c.FullPath, null)));

        if (options.RunnerDirectory is { } runnerDir)
        {
            runnerDir = Path.GetFullPath(runnerDir);
            if (!File.Exists(Path.Combine(runnerDir, "axl.dll")))
                throw new AxlImageException(ImageErrorIds.InvalidContext, $"the runner folder {runnerDir} has no axl.dll. Fix: give the folder of an axl build (artifacts/cli after `dotnet build`, or a `dotnet publish` of src/Axl.Cli).");
            var (runner, _) = CodeArchive.Collect(runnerDir, new CodeArchiveOptions { UseGitIgnore = false, UseAxlIgnore = false, Ignore = RunnerIgnorePatterns });
            AddDirectories(entries, "axl/runner/opt/axl");
            entries.AddRange(runner.Select(r => new ContextEntry(r.Entry with { Path = "axl/runner/opt/axl/" + r.Entry.Path }, r.FullPath, null)));
        }

        if (dependencies.Python != PythonDependencyKind.None)
        {
            AddDirectories(entries, "axl/deps/axl/python");
            if (dependencies.InlineRequirements is { } inline)
                entries.Add(Generated("axl/deps/axl/python/" + ImageDependencies.RequirementsFileName, Encoding.UTF8.GetBytes(inline)));
            else
                foreach (var f in dependencies.PythonFiles)
                {
                    // Requirements files keep their name only when it is requirements.txt; the Dockerfile names the one it copies.
                    var name = dependencies.Python == PythonDependencyKind.Requirements ? ImageDependencies.RequirementsFileName : Path.GetFileName(f);
                    entries.Add(Generated("axl/deps/axl/python/" + name, File.ReadAllBytes(f)));
                }
        }

        var labels = MakeLabels(wf, options, baseImage, relative, codeSha, dependencies, root, sourceDate);
        var dockerfile = GenerateDockerfile(wf, baseImage, options.RunnerDirectory is not null, dependencies, relative, labels);
        entries.Add(Generated("Dockerfile", Encoding.UTF8.GetBytes(dockerfile)));

        entries.Sort((a, b) => string.CompareOrdinal(a.Entry.Path, b.Entry.Path));
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Gnu, leaveOpen: true))
            foreach (var e in entries) CodeArchive.WriteEntry(writer, e.Entry, e.FullPath, "", e.Content);
        var bytes = tar.ToArray();
        return new ImageContext
        {
            Tar = bytes,
            Sha256 = Hashing.Sha256Text.Of(bytes),
            Dockerfile = dockerfile,
            Labels = labels,
            Dependencies = dependencies,
            BaseImage = baseImage,
            CodeRoot = root,
            WorkflowFile = relative,
            CodeSha256 = codeSha,
            FileCount = entries.Count(e => e.Entry.Kind == CodeArchiveEntryKind.File),
            SourceDate = sourceDate,
            Skipped = skipped,
        };
    }

    /// <summary>Writes the context tar to a file (for `docker build - &lt; context.tar`, or buildx in CI).</summary>
    public void Save(string path)
    {
        path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Tar);
    }

    private sealed record ContextEntry(CodeArchiveEntry Entry, string? FullPath, byte[]? Content);

    private static ContextEntry Generated(string path, byte[] content) =>
        new(new CodeArchiveEntry(path, CodeArchiveEntryKind.File, content.Length, CodeArchive.FileEntryMode), null, content);

    /// <summary>Directory entries for "a", "a/b", ... "a/b/c" (the COPY sources and the directories they create).</summary>
    private static void AddDirectories(List<ContextEntry> entries, string path)
    {
        var parts = path.Split('/');
        for (int i = 1; i <= parts.Length; i++)
        {
            var dir = string.Join('/', parts.Take(i));
            if (entries.All(e => e.Entry.Path != dir))
                entries.Add(new ContextEntry(new CodeArchiveEntry(dir, CodeArchiveEntryKind.Directory, 0, CodeArchive.ExecutableEntryMode), null, null));
        }
    }

    /// <summary>OCI labels (org.opencontainers.image.*) and Axl's (io.axl.*), sorted by key.</summary>
    private static SortedDictionary<string, string> MakeLabels(AxlWorkflow wf, ImageBuildOptions options, string baseImage, string workflowFile, string codeSha,
        ImageDependencies deps, string root, DateTimeOffset sourceDate)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["org.opencontainers.image.title"] = wf.Name,
            ["org.opencontainers.image.created"] = sourceDate.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["org.opencontainers.image.base.name"] = baseImage,
            ["io.axl.version"] = AxlInfo.Version,
            ["io.axl.workflow.name"] = wf.Name,
            ["io.axl.workflow.hash"] = wf.HashFor(root),
            ["io.axl.workflow.file"] = workflowFile,
            ["io.axl.code.sha256"] = codeSha,
            ["io.axl.dependencies"] = deps.Python switch { PythonDependencyKind.UvLock => "uv.lock", PythonDependencyKind.Requirements => "requirements", _ => "none" },
        };
        if (wf.Options.Description is { Length: > 0 } description) labels["org.opencontainers.image.description"] = description;
        if (ImageReference.TagOf(options.Tag) is { } version) labels["org.opencontainers.image.version"] = version;
        if (deps.Modules.Count > 0) labels["io.axl.modules"] = string.Join(",", deps.Modules);
        if (options.RunnerDirectory is not null) labels["io.axl.runner"] = RunnerDir;
        if (GitRevision(root) is { } revision) labels["org.opencontainers.image.revision"] = revision;
        foreach (var (k, v) in options.Labels) labels[k] = v;
        return labels;
    }

    /// <summary>The generated Dockerfile (LF line endings, no time or machine in it).</summary>
    public static string GenerateDockerfile(AxlWorkflow wf, string baseImage, bool includeRunner, ImageDependencies deps, string workflowFile, IReadOnlyDictionary<string, string> labels)
    {
        var d = new StringBuilder();
        void Line(string text = "") => d.Append(text).Append('\n');
        Line($"# Generated by Axl {AxlInfo.Version} (Build-AxlImage / axl build-image) for workflow '{OneLine(wf.Name)}' {(labels.TryGetValue("io.axl.workflow.hash", out var hash) ? hash : wf.Hash)}.");
        Line("# Do not edit: build again to change it. Each COPY takes a whole tree of the context with fixed times and owners.");
        Line($"FROM {baseImage}");
        Line("ARG SOURCE_DATE_EPOCH");
        var path = new List<string>();
        if (includeRunner)
        {
            Line();
            Line($"# The axl command (an axl build copied into the context) at {RunnerDir}.");
            Line("COPY axl/runner/ /");
            path.Add(RunnerDir);
        }
        switch (deps.Python)
        {
            case PythonDependencyKind.UvLock:
                Line();
                Line($"# Python dependencies, exactly as uv.lock pins them ({deps.PythonSource}); no installs at run time. The base image needs uv.");
                Line("COPY axl/deps/ /");
                Line($"RUN cd {PythonDir} && UV_PROJECT_ENVIRONMENT={VirtualEnv} UV_LINK_MODE=copy uv sync --frozen --no-dev --no-install-project --no-cache");
                path.Add(VirtualEnv + "/bin");
                break;
            case PythonDependencyKind.Requirements:
                Line();
                Line($"# Python dependencies from requirements ({deps.PythonSource}){(deps.RequireHashes ? ", every file checked against its hash" : "")}; no installs at run time. The base image needs python3 with venv.");
                Line("COPY axl/deps/ /");
                Line($"RUN python3 -m venv {VirtualEnv} && {VirtualEnv}/bin/pip install --no-cache-dir --no-input --disable-pip-version-check{(deps.RequireHashes ? " --require-hashes" : "")} -r {PythonDir}/{ImageDependencies.RequirementsFileName}");
                path.Add(VirtualEnv + "/bin");
                break;
        }
        if (deps.Modules.Count > 0)
        {
            Line();
            Line($"# PowerShell modules, each at the version the workflow pins, saved to {ModulesDir}. The base image needs pwsh with PowerShellGet.");
            // Single quotes for the shell (no $ expansion); module names and versions cannot hold quotes (ModuleRequirement).
            var saves = string.Join("; ", deps.Modules.Select(m => $"Save-Module -Name \"{m.Name}\" -RequiredVersion \"{m.Version}\" -Path {ModulesDir} -Force -AcceptLicense"));
            Line($"RUN pwsh -NoLogo -NoProfile -NonInteractive -Command '$ErrorActionPreference = \"Stop\"; $ProgressPreference = \"SilentlyContinue\"; New-Item -ItemType Directory -Force -Path {ModulesDir} | Out-Null; {saves}'");
        }

        Line();
        Line("# The workflow code (what Publish-AxlWorkflowCode would archive), where compiled workflows expect it.");
        Line("COPY axl/code/ /");
        Line($"WORKDIR {WorkDir}");
        var env = new List<(string, string)>
        {
            ("AXL_VERSION", AxlInfo.Version),
            ("AXL_WORKFLOW", wf.Name),
            ("AXL_WORKFLOW_FILE", WorkDir + "/" + workflowFile),
        };
        if (path.Count > 0) env.Add(("PATH", string.Join(':', path) + ":${PATH:-" + DefaultPath + "}"));
        if (deps.Python != PythonDependencyKind.None)
        {
            env.Add(("VIRTUAL_ENV", VirtualEnv));
            // Nothing installs at run time: uv and pip stay offline (M11: no internet at run time).
            env.Add(("UV_OFFLINE", "1"));
            env.Add(("UV_FROZEN", "1"));
            env.Add(("PIP_NO_INDEX", "1"));
        }
        if (deps.Modules.Count > 0) env.Add(("PSModulePath", ModulesDir + ":${PSModulePath:-/usr/local/share/powershell/Modules}"));
        Line("ENV " + string.Join(" \\\n    ", env.Select(e => $"{e.Item1}={Quote(e.Item2, allowVariables: true)}")));
        Line("LABEL " + string.Join(" \\\n      ", labels.Select(kv => $"{Quote(kv.Key, false)}={Quote(kv.Value, false)}")));
        return d.ToString();
    }

    private static string OneLine(string s) => s.Replace('\n', ' ').Replace('\r', ' ');

    /// <summary>A double-quoted Dockerfile word: quotes and backslashes escaped; '$' escaped unless the value uses ${...} on purpose.</summary>
    private static string Quote(string value, bool allowVariables)
    {
        var s = OneLine(value).Replace("\\", "\\\\").Replace("\"", "\\\"");
        if (!allowVariables) s = s.Replace("$", "\\$");
        return "\"" + s + "\"";
    }

    /// <summary>$SOURCE_DATE_EPOCH (seconds since 1970, the reproducible-builds convention), when set and valid.</summary>
    internal static DateTimeOffset? SourceDateFromEnvironment() =>
        long.TryParse(Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s is >= 0 and < 253402300800
            ? DateTimeOffset.FromUnixTimeSeconds(s) : null;

    /// <summary>The commit checked out in the git repository holding <paramref name="root"/> (read from .git, no git needed), or null.</summary>
    internal static string? GitRevision(string root)
    {
        try
        {
            for (var dir = new DirectoryInfo(root); dir is not null; dir = dir.Parent)
            {
                var git = Path.Combine(dir.FullName, ".git");
                if (File.Exists(git))
                {
                    // A worktree or submodule: "gitdir: <path>".
                    var pointer = File.ReadAllText(git).Trim();
                    if (!pointer.StartsWith("gitdir:", StringComparison.Ordinal)) return null;
                    git = Path.GetFullPath(pointer["gitdir:".Length..].Trim(), dir.FullName);
                }
                else if (!Directory.Exists(git)) continue;
                var head = File.ReadAllText(Path.Combine(git, "HEAD")).Trim();
                if (ShaRegex().IsMatch(head)) return head;
                if (!head.StartsWith("ref: ", StringComparison.Ordinal)) return null;
                var refName = head[5..].Trim();
                // Refs live in the common dir for worktrees (commondir file), else in the git dir.
                var common = File.Exists(Path.Combine(git, "commondir")) ? Path.GetFullPath(File.ReadAllText(Path.Combine(git, "commondir")).Trim(), git) : git;
                foreach (var d in new[] { git, common })
                {
                    var loose = Path.Combine(d, refName);
                    if (File.Exists(loose) && File.ReadAllText(loose).Trim() is var sha && ShaRegex().IsMatch(sha)) return sha;
                }
                var packed = Path.Combine(common, "packed-refs");
                if (File.Exists(packed))
                    foreach (var line in File.ReadLines(packed))
                        if (line.EndsWith(" " + refName, StringComparison.Ordinal) && ShaRegex().IsMatch(line[..40])) return line[..40];
                return null;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex ShaRegex();
}

/// <summary>Image references: [registry[:port]/]path[:tag][@digest].</summary>
public static partial class ImageReference
{
    /// <summary>Throws <see cref="AxlImageException"/> (<see cref="ImageErrorIds.InvalidTag"/>) when <paramref name="reference"/> is not a valid reference.</summary>
    public static void Validate(string reference, string what = "the tag")
    {
        if (!ReferenceRegex().IsMatch(reference))
            throw new AxlImageException(ImageErrorIds.InvalidTag, $"{what} '{reference}' is not an image reference: [registry[:port]/]name[:tag] with a lowercase name (letters, digits, '.', '_', '-', '/' between parts) and a tag of at most 128 letters, digits, '.', '_' or '-'. Example: ghcr.io/you/train:1.0.");
    }

    /// <summary>The tag part ("1.0" of "reg/name:1.0"), or null when there is none.</summary>
    public static string? TagOf(string reference)
    {
        var at = reference.IndexOf('@');
        if (at >= 0) reference = reference[..at];
        var slash = reference.LastIndexOf('/');
        var colon = reference.LastIndexOf(':');
        return colon > slash ? reference[(colon + 1)..] : null;
    }

    /// <summary>The repository without tag or digest ("reg:5000/name" of "reg:5000/name:1.0").</summary>
    public static string RepositoryOf(string reference)
    {
        var at = reference.IndexOf('@');
        if (at >= 0) reference = reference[..at];
        var tag = TagOf(reference);
        return tag is null ? reference : reference[..^(tag.Length + 1)];
    }

    /// <summary>The registry host of a reference ("ghcr.io", "127.0.0.1:5000"), or "docker.io" when the first part is not a host.</summary>
    public static string RegistryOf(string reference)
    {
        var slash = reference.IndexOf('/');
        if (slash < 0) return "docker.io";
        var first = reference[..slash];
        return first.Contains('.') || first.Contains(':') || first == "localhost" ? first : "docker.io";
    }

    [GeneratedRegex(@"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$")]
    private static partial Regex ReferenceRegex();
}
