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

/// <summary>
/// How the runner checks a code archive before it extracts it: a SHA-256 the caller pins (besides, or instead of, the
/// manifest's codeArchiveSha256), and the extraction limits (null: the environment's, else the defaults).
/// </summary>
public sealed record CodeArchiveCheck(string? Sha256 = null, CodeArchiveLimits? Limits = null);

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
        Action<RunnerLogLine> log, CancellationToken ct, TimeSpan? killGrace = null, StepPreferences? preferences = null,
        CodeArchiveCheck? archiveCheck = null)
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
                // A missing archive, or a folder (Argo unpacked it), gets Extract's own message; any file needs a pinned hash.
                var pinned = File.Exists(workflowArchive) ? PinnedArchiveHash(manifest, archiveCheck?.Sha256, workflowArchive) : "(no file)";
                var limits = archiveCheck?.Limits ?? CodeArchiveLimits.Resolve();
                var x = CodeArchive.Extract(workflowArchive, workDir, pinned, limits);
                log(new RunnerLogLine(manifest.Workflow, manifest.Step, "Running", sw.ElapsedMilliseconds,
                    x.AlreadyPresent
                        ? $"code archive {workflowArchive} ({x.Sha256}) is already extracted in {x.Destination}"
                        : $"code archive {workflowArchive} ({x.Sha256}, {x.FileCount} file{(x.FileCount == 1 ? "" : "s")}) extracted to {x.Destination}", null, null));
            }
            catch (AxlArchiveHashMismatchException ex)
            {
                return Infra(ex.Message);
            }
            catch (AxlArchiveException ex)
            {
                return Infra(ex.Message.StartsWith("the code archive ", StringComparison.Ordinal) && ex.Message.Contains("Fix:", StringComparison.Ordinal)
                    ? ex.Message
                    : $"the code archive {workflowArchive} cannot be used: {ex.Message} Fix: publish the workflow code again (Publish-AxlWorkflowCode) and compile with its location; never edit the archive by hand.");
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
        if (manifest.WorkflowHash is { Length: > 0 } expected)
        {
            // The hash covers the definition and every file of the code root: the work dir when the file is named
            // relative to it (what compiled workflows do), else the file's folder.
            var codeRoot = manifest.WorkDir is { } root && !Path.IsPathRooted(manifest.WorkflowFile) ? root : null;
            var actual = wf.HashFor(codeRoot);
            if (expected != actual)
                return Infra($"the workflow code in {codeRoot ?? Path.GetDirectoryName(Path.GetFullPath(workflowFile))} ({actual}) is not the one this manifest was compiled from ({expected}): " +
                    "a step, a top-level line of the workflow file, or another file of the code root differs. Fix: rebuild the image or re-upload the code archive, then compile again.");
        }

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

    /// <summary>
    /// The SHA-256 the archive must have: the manifest's <see cref="StepManifest.CodeArchiveSha256"/> (what compiled
    /// workflows pin) or the one the caller gives (--workflow-archive-sha256, for running an archive by hand); both
    /// must agree when both are there. An archive with no pinned hash is refused: its bytes could be anything.
    /// </summary>
    private static string PinnedArchiveHash(StepManifest manifest, string? given, string archive)
    {
        static string? Normal(string? h) => h is null ? null : h.Trim().ToLowerInvariant();
        var fromManifest = Normal(manifest.CodeArchiveSha256);
        var fromCaller = Normal(given);
        foreach (var (h, where) in new[] { (fromManifest, "the manifest's codeArchiveSha256"), (fromCaller, "--workflow-archive-sha256") })
            if (h is not null && !System.Text.RegularExpressions.Regex.IsMatch(h, "^sha256:[0-9a-f]{64}$"))
                throw new AxlArchiveException(null, $"the code archive {archive} cannot be checked: {where} is '{h}', not sha256:<64 hex digits>. Fix: compile the workflow again with the code archive's location, or give the hash Publish-AxlWorkflowCode printed.");
        if (fromManifest is not null && fromCaller is not null && fromManifest != fromCaller)
            throw new AxlArchiveException(null, $"the code archive {archive} has two different pinned hashes: {fromManifest} in the manifest and {fromCaller} from --workflow-archive-sha256; it was not extracted. Fix: leave --workflow-archive-sha256 out (the manifest pins the hash) or give the same one.");
        return fromManifest ?? fromCaller ?? throw new AxlArchiveException(null,
            $"the code archive {archive} has no pinned SHA-256, so nothing says it is the code that was compiled; it was not extracted. " +
            "Fix: compile the workflow with the archive's location (ConvertTo-ArgoWorkflow/ConvertTo-KfpPipeline -CodeArchive, axl compile --code-archive), which pins codeArchiveSha256 in every step's manifest; " +
            "or, running an archive by hand, pin it yourself: axl step --workflow-archive-sha256 sha256:<hex> (Invoke-AxlStep -WorkflowArchiveSha256), the hash Publish-AxlWorkflowCode printed.");
    }

    public static string Kind(FailureKind kind) => kind switch
    {
        FailureKind.Infrastructure => "infrastructure",
        FailureKind.Timeout => "timeout",
        FailureKind.Cancelled => "cancelled",
        _ => "user",
    };
}
