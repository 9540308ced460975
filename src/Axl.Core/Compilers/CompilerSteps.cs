using System.Globalization;
using Axl.Model;
using Axl.Runner;

namespace Axl.Compilers;

/// <summary>
/// What every compiler (Argo, KFP, Dagster) derives from the IR the same way: the runner's command line for one
/// step, its image, the upstream steps whose output it reads, the parameters it reads, which steps may not run,
/// and where the workflow file is for the runner. One place, so the back ends cannot drift apart.
/// </summary>
public static class CompilerSteps
{
    /// <summary>The runner executable in the runner image.</summary>
    public const string RunnerCommand = "axl";

    /// <summary>The image of a step: its own -Image, else the compile option, else the workflow's, else the default runner image.</summary>
    public static string ImageOf(AxlWorkflow wf, AxlStep s, string? imageOption) =>
        s.Image ?? imageOption ?? wf.Options.Image ?? AxlInfo.DefaultRunnerImage;

    /// <summary>
    /// The runner's arguments: step [--workflow-archive FILE] [--env NAME=VALUE]... --manifest-json JSON.
    /// <paramref name="env"/> is for back ends that can substitute values in arguments but not in the environment (KFP v2).
    /// </summary>
    public static List<object?> RunnerArgs(StepManifest manifest, string? workflowArchive, IEnumerable<KeyValuePair<string, string>>? env = null)
    {
        var args = RunnerArgsBeforeManifest(workflowArchive, env);
        args.Add(manifest.ToJson(indented: false));
        return args;
    }

    /// <summary>
    /// <see cref="RunnerArgs"/> up to and with "--manifest-json": all but the manifest's JSON, for a writer that copies the
    /// JSON in itself (<see cref="StepManifest.CompactJsonChars"/>).
    /// </summary>
    public static List<object?> RunnerArgsBeforeManifest(string? workflowArchive, IEnumerable<KeyValuePair<string, string>>? env = null)
    {
        var args = new List<object?>(8) { "step" };
        if (workflowArchive is not null)
        {
            args.Add("--workflow-archive");
            args.Add(workflowArchive);
        }
        if (env is not null)
            foreach (var (name, value) in env)
            {
                args.Add("--env");
                args.Add(name + "=" + value);
            }
        args.Add("--manifest-json");
        return args;
    }

    /// <summary>
    /// Whether a parameter's default is written into compiled output: not for a -Sensitive parameter, which becomes a
    /// required input there (give it at submit time, or take the value from a secret).
    /// </summary>
    public static bool HasInlineDefault(AxlParameter p) => p.HasDefault && !p.Sensitive;

    /// <summary>
    /// The step's secret environment variables for a back end whose pods read Kubernetes secrets (Argo, KFP): every
    /// reference must name one; one that does not is a compile error naming the step and the variable.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, SecretReference>> KubernetesSecrets(AxlWorkflow wf, AxlStep s, string backend)
    {
        foreach (var (name, secret) in s.Secrets)
            if (!secret.HasKubernetes)
                throw new AxlCompileException(CompileErrorIds.NotExpressible,
                    $"step '{s.Name}' takes environment variable '{name}' from {secret}, which names no Kubernetes secret: {backend} pods read secrets from Kubernetes only.",
                    $"add the Kubernetes source to the reference: AxlSecret -Kubernetes <secret> -Key <key>{(secret.EnvironmentVariable is { } v ? " -EnvironmentVariable " + v : "")} (local runs keep the local source).", wf.Name);
        return s.Secrets.ToList();
    }

    /// <summary>
    /// The IO manifest of a step as compiled workflows carry it: <see cref="ManifestBuilder.For"/>'s, with the code
    /// archive's SHA-256 pinned (codeArchiveSha256) when the code is delivered as an archive, so that the runner refuses
    /// any other bytes before it extracts them.
    /// </summary>
    public static StepManifest Manifest(AxlWorkflow wf, AxlStep s, ManifestLayout layout, Delivery.CodeArchiveLocation? code, string? codeRoot)
    {
        // A layout made with the hash already (once per compile) is taken as it is, not copied for every step.
        var hash = WorkflowHash(wf, codeRoot);
        var manifest = ManifestBuilder.For(wf, s, layout.WorkflowHash == hash ? layout : layout with { WorkflowHash = hash });
        if (code is null) return manifest;
        var sha = code.Sha256?.Trim().ToLowerInvariant() ?? "";
        if (!System.Text.RegularExpressions.Regex.IsMatch(sha, "^sha256:[0-9a-f]{64}$"))
            throw new AxlCompileException(CompileErrorIds.InvalidCompileOption,
                $"the code archive location's sha256 is '{code.Sha256}', not sha256:<64 hex digits>, so the runner could not check the archive it downloads.",
                "give the location Publish-AxlWorkflowCode output (its Sha256 is the archive's), unchanged.", wf.Name);
        return manifest with { CodeArchiveSha256 = sha };
    }

    /// <summary>
    /// The workflow hash a compiled document shows and its manifests carry: the definition and every file of the code
    /// root the code is delivered from (<paramref name="codeRoot"/>, else the workflow file's folder), which is what the
    /// runner finds in its work dir and hashes again.
    /// </summary>
    public static string WorkflowHash(AxlWorkflow wf, string? codeRoot) =>
        string.IsNullOrEmpty(codeRoot) ? wf.Hash : wf.HashFor(Path.GetFullPath(codeRoot));

    /// <summary>Upstream steps whose output this step reads (one artifact each), in input order.</summary>
    public static List<AxlStep> DataUpstream(AxlWorkflow wf, AxlStep s)
    {
        var result = new List<AxlStep>(s.Inputs.Count);
        // A step's few inputs are told apart by a look along the list; a set is made only for a step with many (a join
        // of thousands), where that look would be quadratic. Compilers call this two or three times for every step.
        HashSet<AxlStep>? seen = null;
        foreach (var b in s.Inputs)
        {
            if (b.Source != BindingSource.Step || wf.GetStep(b.SourceName!) is not { } up) continue;
            if (seen is null && result.Count < 16)
            {
                if (!ContainsSame(result, up)) result.Add(up);
                continue;
            }
            seen ??= new HashSet<AxlStep>(result, ReferenceEqualityComparer.Instance);
            if (seen.Add(up)) result.Add(up);
        }
        return result;

        static bool ContainsSame(List<AxlStep> list, AxlStep step)
        {
            foreach (var x in list)
                if (ReferenceEquals(x, step)) return true;
            return false;
        }
    }

    /// <summary>Workflow parameters this step's inputs read, in input order, by their canonical names.</summary>
    public static List<AxlParameter> ParametersUsed(AxlWorkflow wf, AxlStep s)
    {
        var result = new List<AxlParameter>();
        foreach (var b in s.Inputs)
            if (b.Source == BindingSource.Parameter && b.SourceName is { } name && wf.GetParameter(name) is { } p && !result.Contains(p))
                result.Add(p);
        return result;
    }

    /// <summary>Steps that may not run: those with a condition, and those below any of them.</summary>
    public static HashSet<string> MaySkip(AxlWorkflow wf)
    {
        var maySkip = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in wf.TopologicalOrder())
            if (s.Condition is not null || s.Upstream.Any(u => maySkip.Contains(u))) maySkip.Add(s.Name);
        return maySkip;
    }

    /// <summary>The workflow file as the runner finds it: relative to the code root, with '/' separators.</summary>
    public static string RelativeWorkflowFile(AxlWorkflow wf, string? codeRoot)
    {
        if (string.IsNullOrEmpty(wf.SourceFile))
            throw new AxlCompileException(CompileErrorIds.WorkflowFileUnknown,
                $"workflow '{wf.Name}' has no source file; in a pod the runner loads the step code from the workflow file, so it cannot run a workflow that exists only in memory.",
                "define the workflow in a .axl.ps1 file and load it with Get-AxlWorkflow (or give the builder a SourceLocation with the file).", wf.Name);
        var file = Path.GetFullPath(wf.SourceFile);
        var root = CodeRootOf(wf, codeRoot);
        var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
        if (relative == ".." || relative.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            throw new AxlCompileException(CompileErrorIds.WorkflowFileUnknown,
                $"the workflow file {file} is not under the code root {root}, so it would not be in the image or the code archive.",
                "give a code root that contains the workflow file (-CodeRoot, axl compile --code-root), or leave it out to use the file's folder.", wf.Name);
        return relative;
    }

    /// <summary>The code root as a full path: the one given, else the workflow file's folder.</summary>
    public static string CodeRootOf(AxlWorkflow wf, string? codeRoot) =>
        Path.GetFullPath(string.IsNullOrEmpty(codeRoot) ? Path.GetDirectoryName(Path.GetFullPath(wf.SourceFile!))! : codeRoot);

    /// <summary>A parameter value as text (what Argo carries): booleans as true/false, numbers invariant.</summary>
    public static string ParameterText(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>The kind of value a parameter holds, from its -Type, else from its default: integer, number, boolean or string.</summary>
    public static ParameterKind KindOf(AxlParameter p)
    {
        if (p.Type is { } type)
        {
            var t = type.Trim('[', ']').ToLowerInvariant();
            if (t.StartsWith("system.", StringComparison.Ordinal)) t = t["system.".Length..];
            return t switch
            {
                "int" or "int32" or "long" or "int64" or "short" or "int16" or "byte" or "sbyte" or "uint" or "uint32" or "ulong" or "uint64" or "ushort" or "uint16" or "bigint" => ParameterKind.Integer,
                "double" or "float" or "single" or "decimal" => ParameterKind.Number,
                "bool" or "boolean" or "switch" or "management.automation.switchparameter" => ParameterKind.Boolean,
                _ => ParameterKind.String,
            };
        }
        return p.Default switch
        {
            bool => ParameterKind.Boolean,
            double or float or decimal => ParameterKind.Number,
            byte or sbyte or short or ushort or int or uint or long or ulong => ParameterKind.Integer,
            _ => ParameterKind.String,
        };
    }
}

/// <summary>The kind of a workflow parameter's value, for back ends with typed parameters (KFP, Dagster).</summary>
public enum ParameterKind { String, Integer, Number, Boolean }
