using System.Diagnostics;
using System.Globalization;
using Axl.Delivery;
using Axl.Runner;
using Axl.Runtime;
using Axl.Serialization;

namespace Axl.Cli.Commands;

/// <summary>
/// axl step --manifest m.json: the runner entrypoint in containers. Runs one attempt of one step from its IO
/// manifest and logs structured JSON lines on stdout. Exit codes separate whose fault a failure is.
/// </summary>
public sealed class StepCommand : ICliCommand
{
    /// <summary>Exit code for an infrastructure failure (missing or corrupted input, wrong code, bad manifest): worth retrying elsewhere.</summary>
    public const int InfrastructureError = 3;

    public string Name => "step";
    public string Summary => "run one step from its IO manifest (the runner entrypoint in containers)";
    public IReadOnlyCollection<string> Flags { get; } = Array.Empty<string>();
    public IReadOnlyCollection<string> Options { get; } = new[] { "--manifest", "--manifest-json", "--workdir", "--kill-grace", "--workflow-archive" };
    public string Usage => """
        Usage: axl step --manifest FILE | --manifest-json JSON [--workdir DIR] [--workflow-archive FILE]

        Runs one attempt of one step as its IO manifest describes: loads the workflow file by path (relative
        to the manifest's workDir, or --workdir), binds the inputs (artifact directories through their IO
        handlers, parameters converted to their types), runs the step, and saves its output and metadata
        atomically. Logs JSON lines on stdout: workflow, step, status, duration_ms.

          --manifest FILE        the manifest as a JSON file
          --manifest-json JSON   the manifest inline (what compiled workflows pass)
          --workdir DIR          where the workflow code is (overrides the manifest's workDir)
          --kill-grace SECS      time between SIGTERM and SIGKILL for a timed-out command (default 10)
          --workflow-archive FILE  the workflow code as a tar.gz (code delivery Artifact): extracted safely to
                                 the work dir (--workdir, else the manifest's workDir, else /axl/workdir)
                                 before the workflow is loaded; an unsafe or unreadable archive exits 3

        Exit codes: 0 success; 1 the step failed (its code or its input values); 3 infrastructure (an input
        artifact missing or corrupted, the workflow code missing or not the one compiled, a bad manifest):
        safe to retry; 2 internal error; 130 cancelled.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        var sw = Stopwatch.StartNew();
        StepManifest manifest;
        try
        {
            manifest = args.Option("--manifest-json") is { } inline ? StepManifest.Parse(inline, "--manifest-json")
                : args.Option("--manifest") is { } file
                    ? File.Exists(file) ? StepManifest.Parse(File.ReadAllText(file), file) : throw new AxlManifestException($"manifest file '{file}' does not exist.")
                    : throw new UsageException("step needs --manifest FILE or --manifest-json JSON.");
        }
        catch (AxlManifestException ex)
        {
            Log(stdout, null, null, "Failed", sw, $"bad manifest: {ex.Message}", "infrastructure");
            return InfrastructureError;
        }
        if (args.Option("--workdir") is { } wd) manifest = manifest with { WorkDir = Path.GetFullPath(wd) };
        if (args.Option("--workflow-archive") is { } archive)
        {
            if (!ExtractCode(archive, ref manifest, stdout, sw)) return InfrastructureError;
        }

        var workflowFile = manifest.WorkDir is { } dir && !Path.IsPathRooted(manifest.WorkflowFile) ? Path.Combine(dir, manifest.WorkflowFile) : manifest.WorkflowFile;
        Log(stdout, manifest.Workflow, manifest.Step, "Running", sw, $"step '{manifest.Step}' of '{manifest.Workflow}' starting (Axl {AxlInfo.Version}, workflow file {workflowFile})", null);
        if (!File.Exists(workflowFile))
        {
            Log(stdout, manifest.Workflow, manifest.Step, "Failed", sw,
                $"the workflow file {workflowFile} is not there. Fix: bake the workflow code into the image at that path, or deliver it as an artifact (code delivery Artifact) extracted to the work dir.", "infrastructure");
            return InfrastructureError;
        }
        using var host = new AxlEngineHost();
        var (workflows, errors) = host.LoadWorkflows(workflowFile);
        var wf = workflows.FirstOrDefault(w => w.Name.Equals(manifest.Workflow, StringComparison.OrdinalIgnoreCase));
        if (wf is null)
        {
            var why = errors.Count > 0 ? string.Join("; ", errors.Select(e => e.Exception.Message)) : $"it defines {string.Join(", ", workflows.Select(w => w.Name))}";
            Log(stdout, manifest.Workflow, manifest.Step, "Failed", sw, $"workflow '{manifest.Workflow}' cannot be loaded from {workflowFile}: {why}", "infrastructure");
            return InfrastructureError;
        }
        if (manifest.WorkflowHash is { Length: > 0 } expected && expected != wf.Hash)
        {
            Log(stdout, wf.Name, manifest.Step, "Failed", sw,
                $"the workflow code in {workflowFile} ({wf.ShortHash}) is not the one this manifest was compiled from ({expected[7..19]}). Fix: rebuild the image or re-upload the code archive, then compile again.", "infrastructure");
            return InfrastructureError;
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cancel.Cancel(); });
        StepAttemptResult result;
        try
        {
            var grace = args.Option("--kill-grace") is { } g && double.TryParse(g, NumberStyles.Float, CultureInfo.InvariantCulture, out var secs) ? TimeSpan.FromSeconds(secs) : TimeSpan.FromSeconds(10);
            result = StepRunner.Execute(manifest, wf, cancel.Token, (stream, line) => Log(stdout, wf.Name, manifest.Step, "Running", sw, line, null, stream), grace);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (result.Success)
        {
            Log(stdout, wf.Name, manifest.Step, "Succeeded", sw, $"step '{manifest.Step}' succeeded; output in {manifest.Output.Directory}", null);
            return ExitCodes.Success;
        }
        var error = result.Error!;
        var kind = error.Kind switch
        {
            FailureKind.Infrastructure => "infrastructure",
            FailureKind.Timeout => "timeout",
            FailureKind.Cancelled => "cancelled",
            _ => "user",
        };
        Log(stdout, wf.Name, manifest.Step, error.Kind == FailureKind.Cancelled ? "Cancelled" : "Failed", sw, error.ToString(), kind);
        return error.Kind switch
        {
            FailureKind.Infrastructure => InfrastructureError,
            FailureKind.Cancelled => 130,
            _ => ExitCodes.UserError,
        };
    }

    /// <summary>The default work dir of code delivery Artifact: where the archive is extracted and the steps run.</summary>
    public const string DefaultWorkDir = "/axl/workdir";

    /// <summary>Extracts the code archive to the work dir (code delivery Artifact); false, logged, when it cannot be used.</summary>
    private static bool ExtractCode(string archive, ref StepManifest manifest, TextWriter stdout, Stopwatch sw)
    {
        var workDir = manifest.WorkDir is { Length: > 0 } w ? w : DefaultWorkDir;
        try
        {
            var x = CodeArchive.Extract(archive, workDir);
            Log(stdout, manifest.Workflow, manifest.Step, "Running", sw,
                x.AlreadyPresent
                    ? $"code archive {archive} ({x.Sha256}) is already extracted in {x.Destination}"
                    : $"code archive {archive} ({x.Sha256}, {x.FileCount} file{(x.FileCount == 1 ? "" : "s")}) extracted to {x.Destination}", null);
        }
        catch (AxlArchiveException ex)
        {
            Log(stdout, manifest.Workflow, manifest.Step, "Failed", sw,
                $"the code archive {archive} cannot be used: {ex.Message} Fix: publish the workflow code again (Publish-AxlWorkflowCode) and compile with its location; never edit the archive by hand.", "infrastructure");
            return false;
        }
        manifest = manifest with { WorkDir = workDir };
        return true;
    }

    private static readonly object Gate = new();

    private static void Log(TextWriter w, string? workflow, string? step, string status, Stopwatch sw, string message, string? errorKind, string? stream = null)
    {
        var line = IrDocument.ToJson(new Dictionary<string, object?>
        {
            ["ts"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            ["level"] = status == "Failed" ? "error" : stream is "stderr" or "warning" ? "warning" : "info",
            ["workflow"] = workflow,
            ["step"] = step,
            ["status"] = status,
            ["duration_ms"] = sw.ElapsedMilliseconds,
            ["stream"] = stream,
            ["error_kind"] = errorKind,
            ["message"] = message,
        }, indented: false);
        lock (Gate) w.WriteLine(line);
    }
}
