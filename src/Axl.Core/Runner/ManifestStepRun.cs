using System.Diagnostics;
using System.Globalization;
using Axl.Delivery;
using Axl.Model;
using Axl.Runtime;
using Axl.Serialization;

namespace Axl.Runner;

/// <summary>Exit codes of the runner: whose fault a failure is decides what a back end should do (retry or not).</summary>
public static class RunnerExitCodes
{
    public const int Success = 0;
    /// <summary>The step failed: its code, or its input values.</summary>
    public const int User = 1;
    public const int Internal = 2;
    /// <summary>An input artifact missing or corrupted, the workflow code missing or not the one compiled, a bad manifest: safe to retry.</summary>
    public const int Infrastructure = 3;
    public const int Cancelled = 130;
}

/// <summary>One structured log line of the runner: workflow, step, status, duration_ms, and why on failure.</summary>
public sealed record RunnerLogLine(string? Workflow, string? Step, string Status, long DurationMs, string Message, string? ErrorKind, string? Stream)
{
    /// <summary>For a line a step wrote on a stream, in this process: the record itself.</summary>
    public StepStreamRecord? Record { get; init; }

    public string ToJson() => IrDocument.ToJson(new Dictionary<string, object?>
    {
        ["ts"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture),
        ["level"] = Status == "Failed" ? "error" : StepStreamRecord.Parse(Stream) is { } stream ? StepStreamRecord.LevelOf(stream) : "info",
        ["workflow"] = Workflow,
        ["step"] = Step,
        ["status"] = Status,
        ["duration_ms"] = DurationMs,
        ["stream"] = Stream,
        ["tags"] = Record?.Tags,
        ["error_kind"] = ErrorKind,
        ["message"] = Message,
    }, indented: false);
}

/// <summary>What one runner call did: the exit code, the status, and the error when it failed.</summary>
public sealed record StepRunOutcome(string Workflow, string Step, string Status, int ExitCode, StepError? Error, string OutputDirectory, TimeSpan Duration);

/// <summary>
/// The runner's whole job for one manifest, shared by `axl step` and Invoke-AxlStep: extract the code archive when
/// there is one, load the workflow file by path (through the host's loader), check it is the code the manifest was
/// compiled from, run the step, and say how it went in structured log lines and an exit code.
/// </summary>
public static class ManifestStepRun
{
    public const string DefaultWorkDir = "/axl/workdir";

    /// <param name="load">Loads the workflows of a file in the host's engine; returns them, or the load errors.</param>
    public static StepRunOutcome Run(
        StepManifest manifest, string? workflowArchive, Func<string, (IReadOnlyList<AxlWorkflow> Workflows, IReadOnlyList<string> Errors)> load,
        Action<RunnerLogLine> log, CancellationToken ct, TimeSpan? killGrace = null, StepPreferences? preferences = null)
    {
        var sw = Stopwatch.StartNew();
        StepRunOutcome Done(string? wf, string status, int exit, StepError? error, string message)
        {
            log(new RunnerLogLine(wf ?? manifest.Workflow, manifest.Step, status, sw.ElapsedMilliseconds, message, error is null ? null : Kind(error.Kind), null));
            return new StepRunOutcome(wf ?? manifest.Workflow, manifest.Step, status, exit, error, manifest.Output.Directory, sw.Elapsed);
        }
        StepRunOutcome Infra(string message) => Done(null, "Failed", RunnerExitCodes.Infrastructure, new StepError(message, FailureKind.Infrastructure), message);

        if (workflowArchive is not null)
        {
            var workDir = manifest.WorkDir is { Length: > 0 } w ? w : DefaultWorkDir;
            try
            {
                var x = CodeArchive.Extract(workflowArchive, workDir);
                log(new RunnerLogLine(manifest.Workflow, manifest.Step, "Running", sw.ElapsedMilliseconds,
                    x.AlreadyPresent
                        ? $"code archive {workflowArchive} ({x.Sha256}) is already extracted in {x.Destination}"
                        : $"code archive {workflowArchive} ({x.Sha256}, {x.FileCount} file{(x.FileCount == 1 ? "" : "s")}) extracted to {x.Destination}", null, null));
            }
            catch (AxlArchiveException ex)
            {
                return Infra($"the code archive {workflowArchive} cannot be used: {ex.Message} Fix: publish the workflow code again (Publish-AxlWorkflowCode) and compile with its location; never edit the archive by hand.");
            }
            manifest = manifest with { WorkDir = workDir };
        }

        // The output folder must take files before the step runs: finding out afterwards wastes the step, and is no crash.
        foreach (var (target, field, isFile) in new[] { (manifest.Output.Directory, "output.directory", false), (manifest.Output.ValueFile, "output.valueFile", true) })
        {
            if (target is null) continue;
            if (WriteProblem(target, isFile) is { } problem)
                return Infra($"the output folder {(isFile ? "of " : "")}{target} ({field} in the manifest) cannot be written: {problem} Fix: mount a writable volume there, or compile with an output location this container can write.");
        }

        var workflowFile = manifest.WorkDir is { } dir && !Path.IsPathRooted(manifest.WorkflowFile) ? Path.Combine(dir, manifest.WorkflowFile) : manifest.WorkflowFile;
        log(new RunnerLogLine(manifest.Workflow, manifest.Step, "Running", sw.ElapsedMilliseconds, $"step '{manifest.Step}' of '{manifest.Workflow}' starting (Axl {AxlInfo.Version}, workflow file {workflowFile})", null, null));
        if (!File.Exists(workflowFile))
            return Infra($"the workflow file {workflowFile} is not there. Fix: bake the workflow code into the image at that path, or deliver it as an artifact (code delivery Artifact) extracted to the work dir.");
        var (workflows, errors) = load(workflowFile);
        var wf = workflows.FirstOrDefault(w => w.Name.Equals(manifest.Workflow, StringComparison.OrdinalIgnoreCase));
        if (wf is null)
            return Infra($"workflow '{manifest.Workflow}' cannot be loaded from {workflowFile}: {(errors.Count > 0 ? string.Join("; ", errors) : $"it defines {string.Join(", ", workflows.Select(w => w.Name))}")}");
        if (manifest.WorkflowHash is { Length: > 0 } expected && expected != wf.Hash)
            return Infra($"the workflow code in {workflowFile} ({wf.ShortHash}) is not the one this manifest was compiled from ({(expected.Length >= 19 ? expected[7..19] : expected)}). Fix: rebuild the image or re-upload the code archive, then compile again.");

        if (!IO.IoHandlerRegistry.TryGet(manifest.Output.IoHandler, out _))
            return Infra($"output.ioHandler '{manifest.Output.IoHandler}' in the manifest is not a known IO handler (known: {IO.IoHandlerRegistry.KnownNames}). Fix: compile with the same Axl version as the runner, and register custom handlers in the workflow file.");

        var result = StepRunner.Execute(manifest, wf, ct, record => log(new RunnerLogLine(wf.Name, manifest.Step, "Running", sw.ElapsedMilliseconds, record.Message, null, record.Name) { Record = record }), killGrace, preferences);
        if (result.Success) return Done(wf.Name, "Succeeded", RunnerExitCodes.Success, null, $"step '{manifest.Step}' succeeded; output in {manifest.Output.Directory}");
        var error = result.Error!;
        return Done(wf.Name, error.Kind == FailureKind.Cancelled ? "Cancelled" : "Failed", error.Kind switch
        {
            FailureKind.Infrastructure => RunnerExitCodes.Infrastructure,
            FailureKind.Cancelled => RunnerExitCodes.Cancelled,
            _ => RunnerExitCodes.User,
        }, error, error.ToString());
    }

    /// <summary>Why a file cannot be written in the folder (or the file's folder; created if missing), or null when a test file can be written and deleted.</summary>
    private static string? WriteProblem(string target, bool isFile)
    {
        try
        {
            var folder = isFile ? Path.GetDirectoryName(Path.GetFullPath(target)) ?? "." : target;
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, $".axl-write-test-{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    public static string Kind(FailureKind kind) => kind switch
    {
        FailureKind.Infrastructure => "infrastructure",
        FailureKind.Timeout => "timeout",
        FailureKind.Cancelled => "cancelled",
        _ => "user",
    };
}
