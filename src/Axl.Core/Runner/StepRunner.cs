using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text.Json;
using Axl.Dsl;
using Axl.IO;
using Axl.Model;
using Axl.Runtime;

namespace Axl.Runner;

/// <summary>Inputs of one step, bound from its manifest: script arguments, command placeholders, the stdin file.</summary>
public sealed record StepBinding(IReadOnlyDictionary<string, object?> Arguments, IReadOnlyDictionary<string, string> Placeholders, string? StdinPath);

/// <summary>An input that cannot be had (artifact missing or corrupted, bad value): an infrastructure failure unless the value is the user's.</summary>
public sealed class AxlInputException(string message, FailureKind kind, Exception? inner = null) : Exception(message, inner)
{
    public FailureKind Kind { get; } = kind;
}

/// <summary>
/// Runs one attempt of one step from its manifest: binds the inputs (artifacts through their IO handlers,
/// parameters converted to their types), runs the step, saves the output atomically with its metadata.
/// The local runtime and the container runner both go through here, so they give the same artifacts.
/// </summary>
public static class StepRunner
{
    /// <param name="saved">The metadata of an upstream step's artifact that the caller saved itself (a local run's own
    /// steps: hashed while written), or null. Such an input is loaded without reading its metadata or hashing it again;
    /// every other input artifact is verified (metadata, size, SHA-256). Null: all are verified.</param>
    public static StepBinding Bind(StepManifest m, AxlWorkflow wf, AxlStep step, IReadOnlyDictionary<string, object?>? typedParameters = null, int attempt = 1,
        Func<string, ArtifactMetadata?>? saved = null)
    {
        var args = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        var placeholders = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? stdin = null;
        var parameters = typedParameters ?? ParametersOf(m, wf);
        foreach (var i in m.Inputs)
        {
            switch (i.Source)
            {
                case "step":
                    var dir = i.Path ?? throw new AxlInputException($"input '{i.Name}' of step '{step.Name}' has no artifact path in the manifest.", FailureKind.Infrastructure);
                    try
                    {
                        if (step.Kind == StepKind.Command && i.Name == WorkflowBuilder.StdinInput) stdin = ArtifactIO.DataPath(dir);
                        else if (step.Kind == StepKind.Command) placeholders[i.Name] = ArtifactIO.DataPath(dir);
                        else if (i.Mode == "path") args[i.Name] = ArtifactIO.DataPath(dir);
                        else args[i.Name] = i.From is not null && saved?.Invoke(i.From) is { } meta ? ArtifactIO.Load(dir, meta) : ArtifactIO.Load(dir);
                    }
                    catch (Exception ex) when (ex is IOException or InvalidDataException or InvalidOperationException or KeyNotFoundException)
                    {
                        throw new AxlInputException($"input '{i.Name}' of step '{step.Name}' (the output of step '{i.From}' in {dir}) cannot be read: {ex.Message}", FailureKind.Infrastructure, ex);
                    }
                    break;
                case "parameter":
                    var value = i.From is not null && parameters.TryGetValue(i.From, out var v) ? v : i.Value;
                    if (step.Kind == StepKind.Command) placeholders[i.Name] = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
                    else args[i.Name] = value;
                    break;
                case "constant":
                    args[i.Name] = i.Value is null ? null : Constant(i.Value);
                    break;
                case "context":
                    args[i.Name] = new AxlStepContext(wf.Name, m.RunId ?? "", step.Name, attempt, m.Output.Directory, parameters);
                    break;
                default:
                    throw new AxlManifestException($"input '{i.Name}' of step '{step.Name}' has an unknown source '{i.Source}'.");
            }
        }
        return new StepBinding(args, placeholders, stdin);
    }

    /// <summary>The manifest's parameter values (inline, or from their environment variables) converted to each parameter's type.</summary>
    private static Dictionary<string, object?> ParametersOf(StepManifest m, AxlWorkflow wf)
    {
        var given = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (var i in m.Inputs.Where(i => i.Source == "parameter" && i.From is not null))
        {
            if (i.Env is { } env)
                given[i.From!] = Environment.GetEnvironmentVariable(env)
                    ?? throw new AxlInputException($"parameter '{i.From}' should come in the environment variable {env}, which is not set in this container.", FailureKind.Infrastructure);
            else given[i.From!] = i.Value;
        }
        try
        {
            // Only the parameters this step uses: the others need no value here.
            return ParameterResolver.Convert(wf, given, "the step manifest");
        }
        catch (AxlParameterException ex)
        {
            throw new AxlInputException(ex.Message, FailureKind.User, ex);
        }
    }

    private static object? Constant(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var e = doc.RootElement;
        return e.ValueKind switch
        {
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        };
    }

    /// <summary>Saves a successful attempt's output into the manifest's output directory (and the value file when asked).</summary>
    public static ArtifactMetadata SaveOutput(StepManifest m, AxlStep step, StepAttemptResult result) => SaveOutput(m, step, result, durable: true);

    /// <summary>
    /// Saves the step's output (and its value file). With <paramref name="durable"/> false nothing is synced to disk: the
    /// caller syncs <see cref="OutputFiles"/> before it records the step as done (group commit, see LocalRunner).
    /// </summary>
    public static ArtifactMetadata SaveOutput(StepManifest m, AxlStep step, StepAttemptResult result, bool durable)
    {
        var handler = IoHandlerRegistry.Get(m.Output.IoHandler);
        var meta = result.OutputFile is not null
            ? ArtifactIO.SaveFile(result.OutputFile, m.Output.Directory, handler, moveSource: true, durable: durable)
            : ArtifactIO.Save(handler, result.Value, m.Output.Directory, durable: durable);
        if (m.Output.ValueFile is { } valueFile)
        {
            var value = result.OutputFile is not null ? File.ReadAllText(Path.Combine(m.Output.Directory, meta.File)) : result.Value;
            RunStore.WriteAtomic(valueFile, ScalarText(value, step.Name), durable);
        }
        return meta;
    }

    /// <summary>The files <see cref="SaveOutput(StepManifest, AxlStep, StepAttemptResult, bool)"/> wrote whose bytes a record of the step vouches for.</summary>
    public static IReadOnlyList<string> OutputFiles(StepManifest m, ArtifactMetadata meta) =>
        m.Output.ValueFile is { } valueFile ? new[] { Path.Combine(m.Output.Directory, meta.File), valueFile } : new[] { Path.Combine(m.Output.Directory, meta.File) };

    /// <summary>The text a condition compares: numbers invariant, booleans lower-case (true/false), strings trimmed of a final newline.</summary>
    public static string ScalarText(object? value, string step)
    {
        if (value is PSObject p) value = p.BaseObject;
        if (value is IEnumerable e and not string and not IDictionary)
        {
            var items = e.Cast<object?>().Take(2).ToList();
            value = items.Count == 1 ? (items[0] is PSObject ip ? ip.BaseObject : items[0]) : value;
        }
        return value switch
        {
            null => "",
            bool b => b ? "true" : "false",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            float f => f.ToString("R", CultureInfo.InvariantCulture),
            string s => s.TrimEnd('\n', '\r'),
            IFormattable f2 => f2.ToString(null, CultureInfo.InvariantCulture),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
        };
    }

    /// <summary>
    /// The container runner's whole job for one attempt: bind, run (a fresh runspace for a script step), save.
    /// Failures come back as errors with a kind; nothing here throws for a bad step or input.
    /// </summary>
    public static StepAttemptResult Execute(StepManifest m, AxlWorkflow wf, CancellationToken ct, Action<StepStreamRecord>? streams = null, TimeSpan? killGrace = null, StepPreferences? preferences = null)
    {
        var step = wf.GetStep(m.Step);
        if (step is null)
            return StepAttemptResult.Fail(new StepError($"workflow '{wf.Name}' has no step '{m.Step}' (its steps: {string.Join(", ", wf.Steps.Select(s => s.Name))}); the manifest does not match the workflow code", FailureKind.Infrastructure));
        StepBinding binding;
        try
        {
            binding = Bind(m, wf, step);
        }
        catch (AxlInputException ex)
        {
            return StepAttemptResult.Fail(new StepError(ex.Message, ex.Kind, step.Location.File, step.Location.Line));
        }
        catch (AxlManifestException ex)
        {
            return StepAttemptResult.Fail(new StepError(ex.Message, FailureKind.Infrastructure));
        }
        // Secrets: on a cluster the pod has them already (secretKeyRef; Dagster sets them too). Run by hand (axl step,
        // Invoke-AxlStep), a variable not set yet is read from the reference's local source now.
        Dictionary<string, string> secretEnv;
        try
        {
            secretEnv = SecretResolver.Resolve(step, step.Secrets.Where(kv => Environment.GetEnvironmentVariable(kv.Key) is null && kv.Value.HasLocal));
        }
        catch (AxlSecretException ex)
        {
            return StepAttemptResult.Fail(new StepError(ex.Message, FailureKind.User, step.Location.File, step.Location.Line));
        }
        // Packages: a baked image has them already (nothing to install); else from the configured repository or folder.
        // -WarmEnv: the environment the axl-warm-env task built (on Argo/KFP in the shared volume AXL_PACKAGE_CACHE names)
        // is found in the cache; a pod that runs without it builds it here, once per cache.
        PreparedPackages packages;
        IReadOnlyDictionary<string, string> warmEnv = new Dictionary<string, string>();
        try
        {
            Action<string>? log = streams is null ? null : text => streams(new StepStreamRecord(StepStream.Information, text));
            var packageOptions = StepPackageOptions.FromEnvironment(null);
            if (wf.Options.WarmEnv)
            {
                warmEnv = WarmEnvironment.Prepare(wf, packageOptions, log).Environment();
                if (warmEnv.TryGetValue("PATH", out var warmPath)) packageOptions = packageOptions with { SearchPath = warmPath };
            }
            packages = StepPackages.Prepare(wf, step, packageOptions, log);
        }
        catch (Exception ex) when (ex is AxlPackageException or AxlWarmEnvException)
        {
            return StepAttemptResult.Fail(new StepError(ex.Message, FailureKind.User, step.Location.File, step.Location.Line));
        }
        Directory.CreateDirectory(m.Output.Directory);
        ArtifactIO.CleanTemporaryFiles(m.Output.Directory);
        var inv = new StepInvocation
        {
            Workflow = wf, Step = step, Arguments = binding.Arguments, Placeholders = binding.Placeholders, StdinPath = binding.StdinPath,
            OutputDirectory = m.Output.Directory, RunId = m.RunId ?? "",
            // The workflow file's folder, as in local runs (the code root may be higher up, e.g. a whole repository).
            WorkingDirectory = wf.SourceFile is { } source ? Path.GetDirectoryName(Path.GetFullPath(source)) : m.WorkDir,
            KillGrace = killGrace ?? TimeSpan.FromSeconds(10), Streams = streams, Preferences = preferences ?? StepPreferences.Default,
            SecretEnvironment = secretEnv,
            PackageEnvironment = warmEnv.Count == 0 ? packages.Environment()
                : warmEnv.Concat(packages.Environment()).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
        };
        var result = step.Kind == StepKind.Command ? CommandStepExecutor.Run(inv, ct) : ScriptStepExecutor.Run(inv, ct);
        if (!result.Success) return result;
        try
        {
            SaveOutput(m, step, result);
            return result;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return StepAttemptResult.Fail(new StepError($"the output of step '{step.Name}' could not be written with the '{m.Output.IoHandler}' IO handler: {ex.Message}", FailureKind.User, step.Location.File, step.Location.Line));
        }
    }
}
