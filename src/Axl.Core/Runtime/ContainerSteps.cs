using System.Globalization;
using System.Text.Json;
using Axl.Compilers;
using Axl.Images;
using Axl.Model;
using Axl.Runner;

namespace Axl.Runtime;

/// <summary>
/// How a local run runs its steps in containers (Invoke-AxlLocalRun -Container, axl run local --in-containers):
/// the image when a step names none (as ConvertTo-ArgoWorkflow -Image), and the engine's Docker host.
/// </summary>
public sealed record ContainerRunOptions
{
    /// <summary>The image of every step without an -Image of its own (before the workflow's -Image, as when compiling).</summary>
    public string? Image { get; init; }
    /// <summary>The Docker host (unix:///run/podman/podman.sock, tcp://host:2375); null: $DOCKER_HOST, else the default sockets.</summary>
    public string? DockerHost { get; init; }
}

/// <summary>
/// Runs the steps of one local run in containers of their images through the Docker Engine API, each the way a
/// compiled Argo pod runs it: the container's command is the same `axl step --manifest-json ...` line, the outputs of
/// the steps it reads are bound read-only at /axl/inputs/&lt;step&gt;, a fresh folder is bound at /axl/outputs/&lt;step&gt;
/// for its output, and the code is the image's (code delivery Image, at /axl/workdir) or the workflow's folder bound
/// there (code delivery Artifact). The output the container wrote is then saved into the run's step folder exactly
/// as an in-process step's (<see cref="StepRunner.SaveOutput"/>: atomic, output.meta.json, SHA-256), so resume,
/// caching and reports do not know the difference. Every container carries the labels io.axl.run-id, io.axl.workflow,
/// io.axl.step and io.axl.attempt, and is always removed.
/// </summary>
public sealed class ContainerSteps : IDisposable
{
    public const string InputsRoot = "/axl/inputs";
    public const string OutputsRoot = "/axl/outputs";
    public const string WorkDir = "/axl/workdir";
    /// <summary>The prefix of the folders a container writes its output to, inside the step's folder (removed after each attempt).</summary>
    public const string StagingPrefix = ".axl-container-";
    public const string LabelRunId = "io.axl.run-id";
    public const string LabelWorkflow = "io.axl.workflow";
    public const string LabelStep = "io.axl.step";
    public const string LabelAttempt = "io.axl.attempt";
    private const int TailLines = 20;

    private readonly DockerEngine _engine;
    private readonly AxlWorkflow _wf;
    private readonly ContainerRunOptions _options;
    private readonly Dictionary<string, ImageCode> _images;
    private readonly string _codeRoot;

    /// <summary>What an image holds of the workflow: the file's path under /axl/workdir and the workflow hash the runner must find there (null: the folder is bound, no check).</summary>
    private sealed record ImageCode(string WorkflowFile, string? WorkflowHash);

    private ContainerSteps(DockerEngine engine, AxlWorkflow wf, ContainerRunOptions options, Dictionary<string, ImageCode> images, string codeRoot)
    {
        _engine = engine;
        _wf = wf;
        _options = options;
        _images = images;
        _codeRoot = codeRoot;
    }

    /// <summary>The engine, as "Podman Engine 4.9 (API 1.41) at unix:///...".</summary>
    public string Engine => _engine.ToString();

    /// <summary>The image a step runs in: its own -Image, else the run's, else the workflow's, else the default runner image (<see cref="CompilerSteps.ImageOf"/>).</summary>
    public string ImageOf(AxlStep step) => CompilerSteps.ImageOf(_wf, step, _options.Image);

    /// <summary>The images of the steps, in step order, each once.</summary>
    public IReadOnlyList<string> Images => _images.Keys.ToList();

    /// <summary>
    /// Before any step runs: connects to the engine, and makes sure every image the steps need is there (pulled when
    /// the engine does not have it). With code delivery Image, each image must hold the workflow's code as it is here
    /// (its io.axl.workflow.hash label, which Build-AxlImage writes, against the hash of the files here).
    /// </summary>
    /// <exception cref="AxlImageException">No engine answers (<see cref="ImageErrorIds.EngineUnavailable"/>), an image cannot be had (<see cref="ImageErrorIds.PullFailed"/>), an image holds other code (<see cref="ImageErrorIds.InvalidContext"/>).</exception>
    public static ContainerSteps Connect(AxlWorkflow wf, ContainerRunOptions options, string runRoot, CancellationToken cancel)
    {
        if (wf.SourceFile is not { } source || !File.Exists(source))
            throw new AxlImageException(ImageErrorIds.InvalidContext, $"workflow '{wf.Name}' was not loaded from a file, so a container has no workflow file to load its steps from. Fix: save it as a .axl.ps1 file and run that (Invoke-AxlLocalRun -Path ./flow.axl.ps1 -Container).");
        if (options.Image is { } given) ImageReference.Validate(given, "the image (-Image / --image)");
        var engine = DockerEngine.ConnectAsync(options.DockerHost, cancel).GetAwaiter().GetResult();
        try
        {
            var workflowDir = Path.GetDirectoryName(Path.GetFullPath(source))!;
            var images = new Dictionary<string, ImageCode>(StringComparer.Ordinal);
            foreach (var step in wf.Steps)
            {
                var image = CompilerSteps.ImageOf(wf, step, options.Image);
                if (images.ContainsKey(image)) continue;
                var found = engine.InspectAsync(image, cancel).GetAwaiter().GetResult();
                if (found is null)
                {
                    try
                    {
                        engine.PullAsync(image, cancel).GetAwaiter().GetResult();
                    }
                    catch (AxlImageException ex) when (ex.Id == ImageErrorIds.PullFailed)
                    {
                        throw new AxlImageException(ImageErrorIds.PullFailed,
                            $"step '{step.Name}' runs in image {image}, which the engine at {engine.Host} does not have and could not pull ({ex.Message}). " +
                            $"Fix: build it first (Get-AxlWorkflow {Path.GetFileName(source)} | Build-AxlImage -Tag {image}; axl build-image -m {Path.GetFileName(source)} --tag {image}), " +
                            "or give an image the engine has or can pull (-Image / --image, or the step's -Image).", ex);
                    }
                    found = engine.InspectAsync(image, cancel).GetAwaiter().GetResult()
                        ?? throw new AxlImageException(ImageErrorIds.PullFailed, $"the engine at {engine.Host} pulled {image} but does not show it. Fix: pull it by hand (podman pull {image}) and run again.");
                }
                images[image] = CodeOf(wf, image, found, workflowDir, runRoot);
            }
            return new ContainerSteps(engine, wf, options, images, workflowDir);
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>Where the workflow file is in the image and the hash its code must have; with code delivery Artifact, the folder bound at /axl/workdir instead.</summary>
    private static ImageCode CodeOf(AxlWorkflow wf, string image, EngineImage found, string workflowDir, string runRoot)
    {
        var relative = Path.GetFileName(wf.SourceFile!);
        if (wf.CodeDelivery != CodeDelivery.Image) return new ImageCode(relative, null);
        // Build-AxlImage's labels: the workflow file under the code root, and the hash of that code.
        if (found.Labels.TryGetValue("io.axl.workflow.file", out var file) && file.Length > 0) relative = file;
        var up = relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Length - 1;
        var root = workflowDir;
        for (var i = 0; i < up; i++) root = Path.GetDirectoryName(root) ?? root;
        var here = wf.HashFor(root, new[] { runRoot });
        if (found.Labels.TryGetValue("io.axl.workflow.hash", out var baked) && baked.Length > 0 && baked != here)
            throw new AxlImageException(ImageErrorIds.InvalidContext,
                $"image {image} holds other code of workflow '{wf.Name}' than the files in {root}: its io.axl.workflow.hash label is {baked}, the code here hashes {here} " +
                "(a step, a top-level line of the workflow file or another file of the code root changed since the image was built). " +
                $"Fix: build the image again (Build-AxlImage -Tag {image} ...), then run again.");
        return new ImageCode(relative, here);
    }

    /// <summary>
    /// One attempt of one step in a container. The output the container wrote stays in a staging folder inside the step's
    /// folder; the result names its data file (<see cref="StepAttemptResult.OutputFile"/>), which the runner saves like an
    /// in-process step's output. A failure carries the container's exit code and the last lines of its log.
    /// </summary>
    public StepAttemptResult Run(ContainerStepCall call, CancellationToken cancel)
    {
        var step = call.Step;
        var image = ImageOf(step);
        var code = _images[image];
        RemoveStaging(call.OutputDirectory);
        var staging = Path.Combine(call.OutputDirectory, StagingPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(staging);
        var outputDir = OutputsRoot + "/" + step.KubernetesName;
        var manifest = ManifestBuilder.For(_wf, step, new ManifestLayout
        {
            InputDirectory = up => InputsRoot + "/" + up.KubernetesName,
            OutputDirectory = s => OutputsRoot + "/" + s.KubernetesName,
            ParameterValue = p => CompilerSteps.ParameterText(call.Parameters.GetValueOrDefault(p.Name)),
            ParameterEnv = p => ManifestBuilder.ParameterEnvironmentVariable(_wf, p),
            WorkflowFile = code.WorkflowFile,
            WorkDir = WorkDir,
            RunId = call.RunId,
        });
        manifest = manifest with { WorkflowHash = code.WorkflowHash, Output = manifest.Output with { ValueFile = null } };

        var binds = new List<string> { $"{staging}:{outputDir}" };
        foreach (var up in CompilerSteps.DataUpstream(_wf, step))
            binds.Add($"{call.InputDirectory(up)}:{InputsRoot}/{up.KubernetesName}:ro");
        if (_wf.CodeDelivery != CodeDelivery.Image) binds.Add($"{_codeRoot}:{WorkDir}");

        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in step.Env) env[k] = v;
        foreach (var p in CompilerSteps.ParametersUsed(_wf, step))
            env[ManifestBuilder.ParameterEnvironmentVariable(_wf, p)] = CompilerSteps.ParameterText(call.Parameters.GetValueOrDefault(p.Name));
        foreach (var (k, v) in call.SecretEnvironment) env[k] = v;

        var command = new List<string> { "step" };
        if (call.Preferences.VerboseOn) command.Add("--verbose");
        if (call.Preferences.DebugOn) command.Add("--debug");
        command.AddRange(new[] { "--kill-grace", call.KillGrace.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture), "--manifest-json", manifest.ToJson(indented: false) });
        var spec = new ContainerSpec(image, command)
        {
            Entrypoint = new[] { CompilerSteps.RunnerCommand },
            Env = env,
            Binds = binds,
            Labels = new Dictionary<string, string>
            {
                [LabelRunId] = call.RunId,
                [LabelWorkflow] = _wf.Name,
                [LabelStep] = step.Name,
                [LabelAttempt] = call.Attempt.ToString(CultureInfo.InvariantCulture),
            },
        };

        var tail = new Queue<string>();
        string? failure = null, failureKind = null;
        void OnLine(string line, bool stderr)
        {
            var shown = call.Mask?.Invoke(line) ?? line;
            lock (tail)
            {
                tail.Enqueue(shown);
                if (tail.Count > TailLines) tail.Dequeue();
            }
            if (stderr || !TryRunnerLine(line, out var status, out var stream, out var message, out var kind))
            {
                call.Streams?.Invoke(new StepStreamRecord(StepStream.Stderr, line));
                return;
            }
            if (StepStreamRecord.Parse(stream) is { } s) call.Streams?.Invoke(new StepStreamRecord(s, message));
            else if (status is "Failed" or "Cancelled") { failure = message; failureKind = kind; }
        }

        // The runner stops the step itself at its -TimeoutSeconds; the container is stopped only when that did not work.
        var timeout = step.TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) + call.KillGrace + TimeSpan.FromSeconds(30) : Timeout.InfiniteTimeSpan;
        try
        {
            call.Streams?.Invoke(new StepStreamRecord(StepStream.Verbose, $"step '{step.Name}' runs in a container of {image} ({_engine.Name} at {_engine.Host})"));
            var outcome = _engine.RunContainer(spec, OnLine, timeout, call.KillGrace, cancel);
            var where = $"container {outcome.Id[..Math.Min(12, outcome.Id.Length)]} of {image}";
            string Tail() { lock (tail) return tail.Count == 0 ? "" : $"\nLast lines of the container's log:\n  {string.Join("\n  ", tail)}"; }
            if (outcome.Cancelled)
                return StepAttemptResult.Fail(new StepError($"step '{step.Name}' was cancelled: its {where} was stopped", FailureKind.Cancelled, step.Location.File, step.Location.Line));
            if (outcome.TimedOut)
                return StepAttemptResult.Fail(new StepError($"step '{step.Name}' timed out after {step.TimeoutSeconds} s: its {where} did not end and was stopped{Tail()}", FailureKind.Timeout, step.Location.File, step.Location.Line));
            if (outcome.ExitCode != RunnerExitCodes.Success)
            {
                var kindOf = failureKind switch
                {
                    "user" => FailureKind.User,
                    "timeout" => FailureKind.Timeout,
                    "cancelled" => FailureKind.Cancelled,
                    "infrastructure" => FailureKind.Infrastructure,
                    _ => outcome.ExitCode switch { RunnerExitCodes.User => FailureKind.User, RunnerExitCodes.Cancelled => FailureKind.Cancelled, _ => FailureKind.Infrastructure },
                };
                var why = failure ?? (outcome.ExitCode == 127 ? $"the image has no '{CompilerSteps.RunnerCommand}' command on its PATH (build it on the Axl runner image, or with Build-AxlImage -RunnerPath)" : "the runner wrote no error");
                return StepAttemptResult.Fail(new StepError($"{why} (in {where}, exit code {outcome.ExitCode}){Tail()}", kindOf, step.Location.File, step.Location.Line));
            }
            var meta = IO.ArtifactIO.ReadMetadata(staging);
            if (meta is null || !File.Exists(Path.Combine(staging, meta.File)))
                return StepAttemptResult.Fail(new StepError($"step '{step.Name}' ended with exit code 0 in {where}, but left no output artifact in {outputDir}{Tail()}", FailureKind.Infrastructure, step.Location.File, step.Location.Line));
            return StepAttemptResult.OkFile(Path.Combine(staging, meta.File));
        }
        catch (AxlImageException ex)
        {
            return StepAttemptResult.Fail(new StepError(ex.Message, FailureKind.Infrastructure, step.Location.File, step.Location.Line));
        }
    }

    /// <summary>Removes the staging folders of earlier attempts (and what a killed run left) from a step's folder.</summary>
    public static void RemoveStaging(string stepDirectory)
    {
        if (!Directory.Exists(stepDirectory)) return;
        foreach (var dir in Directory.EnumerateDirectories(stepDirectory, StagingPrefix + "*"))
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>Kills and removes every container still running: for an abort (a second interrupt).</summary>
    public void KillAll() => _engine.RemoveAllContainers();

    public void Dispose() => _engine.Dispose();

    /// <summary>A structured line of the runner (`axl step` writes one JSON object a line): its status, stream, message and error kind.</summary>
    private static bool TryRunnerLine(string line, out string? status, out string? stream, out string message, out string? kind)
    {
        status = stream = kind = null;
        message = line;
        if (!line.StartsWith('{')) return false;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object || !r.TryGetProperty("message", out var m) || m.ValueKind != JsonValueKind.String) return false;
            message = m.GetString()!;
            status = r.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            stream = r.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.String ? st.GetString() : null;
            kind = r.TryGetProperty("error_kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>One attempt of a step for <see cref="ContainerSteps.Run"/>: what the local runner knows of it.</summary>
public sealed record ContainerStepCall
{
    public required AxlStep Step { get; init; }
    public required string RunId { get; init; }
    public required int Attempt { get; init; }
    /// <summary>The step's folder in the run: the container's output is staged inside it.</summary>
    public required string OutputDirectory { get; init; }
    /// <summary>The folder of an upstream step's output in the run.</summary>
    public required Func<AxlStep, string> InputDirectory { get; init; }
    public required IReadOnlyDictionary<string, object?> Parameters { get; init; }
    public IReadOnlyDictionary<string, string> SecretEnvironment { get; init; } = new Dictionary<string, string>();
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(10);
    public StepPreferences Preferences { get; init; } = StepPreferences.Default;
    public Action<StepStreamRecord>? Streams { get; init; }
    public Func<string, string>? Mask { get; init; }
}
