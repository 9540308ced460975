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
    public const int InfrastructureError = RunnerExitCodes.Infrastructure;

    public string Name => "step";
    public string Summary => "run one step from its IO manifest (the runner entrypoint in containers)";
    public IReadOnlyCollection<string> Flags { get; } = new[] { "--verbose", "--debug" };
    public IReadOnlyCollection<string> Options { get; } = new[] { "--manifest", "--manifest-json", "--workdir", "--kill-grace", "--workflow-archive", "--env", "--workflow-archive-sha256", "--max-extract-bytes", "--max-extract-entries" };
    public string Usage => """
        Usage: axl step --manifest FILE | --manifest-json JSON [--workdir DIR] [--workflow-archive FILE
               [--workflow-archive-sha256 sha256:HEX] [--max-extract-bytes N] [--max-extract-entries N]] [--env NAME=VALUE]...

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
                                 before the workflow is loaded; an unsafe or unreadable archive exits 3. Its
                                 SHA-256 is checked before anything is extracted against the manifest's
                                 codeArchiveSha256 (compiled workflows pin it) or --workflow-archive-sha256: another
                                 hash, or no pinned hash at all, exits 3
          --workflow-archive-sha256 sha256:HEX  pin the archive's hash yourself (running an archive by hand)
          --max-extract-bytes N  the most file content the archive may extract to (default 1073741824, or
                                 AXL_MAX_EXTRACT_BYTES); more exits 3 and extracts nothing
          --max-extract-entries N  the most entries it may hold (default 100000, or AXL_MAX_EXTRACT_ENTRIES)
          --env NAME=VALUE       set an environment variable for the step (repeatable): how KFP passes
                                 parameter values, which it substitutes in arguments but not in the environment
          --verbose, --debug     the step starts with $VerbosePreference / $DebugPreference = 'Continue'

        What the step writes besides its output (errors that did not stop it, warnings, Write-Host and
        Write-Information text, verbose, debug, progress, a command's stderr) is logged as it is written, one
        JSON line each with its level and "stream".

        Step packages: a step's -Modules that are not importable, and a python command step's -Packages, are
        installed before it runs and kept in a cache (see docs/steps.md, "Step packages"):
          AXL_PSRESOURCE_REPOSITORY  modules from a folder of <Name>.<Version>.nupkg files or a registered
                                     PSResource repository's name (Save-PSResource)
          AXL_PIP_FIND_LINKS         Python packages from a folder of wheels (pip install --no-index --find-links)
          AXL_PACKAGE_CACHE          the cache (default: ~/.cache/axl/packages)
        A package missing with no source configured fails the step before it runs. Baked images
        (axl build-image) hold their modules already: nothing is installed at run time there.

        PowerShell's own telemetry is off in a step (POWERSHELL_TELEMETRY_OPTOUT=1, as in the runner image) unless
        POWERSHELL_TELEMETRY_OPTOUT is set already.

        Exit codes: 0 success; 1 the step failed (its code or its input values); 3 infrastructure (an input
        artifact missing or corrupted, the workflow code missing or not the one compiled, a bad manifest):
        safe to retry; 2 internal error; 130 cancelled.

        """;

    /// <summary>
    /// The process's first act for `axl step` with a manifest: the step host's runspace starts opening on the other core
    /// before the arguments are even parsed (it is most of the command's start, and what the step waits for). Execute
    /// takes it as it would one it started itself; a step that needs none (a command step, a bad manifest) leaves it.
    /// </summary>
    public static void StartEarly(string[] args)
    {
        if (!args.Any(a => a.StartsWith("--manifest", StringComparison.Ordinal)) || args.Any(a => a is "-h" or "--help")) return;
        OptOutOfEngineTelemetry();
        // The type accelerators are registered on this thread once the file is read (Execute), not by the runspace opening.
        AxlEngineHost.ConfigureEngine(typesByCommand: true);
        ScriptStepHost.Prewarm();
        StartupTrace.Mark("step host: opening");
    }

    /// <summary>The variable with which PowerShell's engine sends no telemetry (runner/Dockerfile sets it in the image).</summary>
    public const string TelemetryOptOutVariable = "POWERSHELL_TELEMETRY_OPTOUT";

    /// <summary>
    /// A step runs with the PowerShell engine's telemetry off, as in the runner image, unless POWERSHELL_TELEMETRY_OPTOUT
    /// is set already (then as it says): a step host sends nothing anywhere, and the telemetry client the engine would
    /// start (its configuration, a metric per PowerShell.Create, its threads, the flush when the process ends, which
    /// formats an exception's stack trace when nothing can be reached) is about a tenth of a cold step's CPU time.
    /// </summary>
    public static void OptOutOfEngineTelemetry()
    {
        if (Environment.GetEnvironmentVariable(TelemetryOptOutVariable) is null) Environment.SetEnvironmentVariable(TelemetryOptOutVariable, "1");
    }

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        OptOutOfEngineTelemetry(); // before the engine's first PowerShell.Create, when StartEarly did not run
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
            Write(stdout, new RunnerLogLine(null, null, "Failed", 0, $"bad manifest: {ex.Message}", "infrastructure", null));
            return RunnerExitCodes.Infrastructure;
        }
        foreach (var pair in args.Options.TryGetValue("--env", out var env) ? env : new List<string>())
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new UsageException($"--env takes NAME=VALUE, got '{pair}'.");
            Environment.SetEnvironmentVariable(pair[..eq], pair[(eq + 1)..]);
        }
        if (args.Option("--workdir") is { } wd) manifest = manifest with { WorkDir = Path.GetFullPath(wd) };
        var grace = args.Seconds("--kill-grace", 10);
        long? Count(string option) => args.Option(option) is not { } text ? null
            : long.TryParse(text, System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
            : throw new UsageException($"{option} takes a positive whole number, got '{text}'.");
        var maxBytes = Count("--max-extract-bytes");
        var maxEntries = Count("--max-extract-entries");
        if (maxEntries > int.MaxValue) throw new UsageException($"--max-extract-entries may be at most {int.MaxValue}.");
        CodeArchiveLimits limits;
        try
        {
            limits = CodeArchiveLimits.Resolve(maxBytes, maxEntries);
        }
        catch (AxlArchiveException ex)
        {
            Write(stdout, new RunnerLogLine(manifest.Workflow, manifest.Step, "Failed", 0, $"the code archive limits cannot be used: {ex.Message}", "infrastructure", null));
            return RunnerExitCodes.Infrastructure;
        }

        using var owned = OwnedProcesses.Guard(); // what the step starts ends with this process, even when it is SIGKILLed
        using var host = new AxlEngineHost();
        // The step host's runspace opens on the other core while this thread reads the workflow, checks the code and
        // binds the inputs (a command step never takes it: it is closed at the end).
        ScriptStepHost.Prewarm();
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cancel.Cancel(); });
        try
        {
            var outcome = ManifestStepRun.Run(manifest, args.Option("--workflow-archive"), file =>
            {
                // Parsed whole: the step host makes the file's module from its tree, and binds the step's body to it.
                var (workflows, errors) = host.LoadWorkflows(file, runsBodies: false, Axl.Dsl.FileRead.Whole);
                // Before any script runs in a runspace of this process (StartEarly left them to this command): here, on this
                // thread, while the step host's runspace is still opening on the other.
                AxlEngineHost.RegisterTypes();
                // A script step's file read without running it: the prewarmed runspace gets the file's module from this read
                // (not by loading the file again), and the step is bound to it.
                if (host.ReadWithoutRunningIt && workflows.FirstOrDefault(w => w.Name.Equals(manifest.Workflow, StringComparison.OrdinalIgnoreCase)) is { } wf
                    && wf.Steps.FirstOrDefault(s => s.Name == manifest.Step) is { Kind: Axl.Model.StepKind.Script })
                    ScriptStepHost.PrewarmLoad(file, wf);
                return (workflows, errors.Select(e => e.Exception.Message).ToList());
            }, line => Write(stdout, line), cancel.Token, grace, StepPreferences.FromFlags(args.Has("--verbose"), args.Has("--debug")),
                new CodeArchiveCheck(args.Option("--workflow-archive-sha256"), limits));
            // A script step abandoned in a call nothing can interrupt still holds a thread: end the process now.
            if (ScriptStepHost.AbandonedSteps > 0) { stdout.Flush(); stderr.Flush(); Environment.Exit(outcome.ExitCode); }
            return outcome.ExitCode;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            ScriptStepHost.DisposePrewarmed();
        }
    }

    private static readonly object Gate = new();

    private static void Write(TextWriter w, RunnerLogLine line)
    {
        var json = line.ToJson();
        lock (Gate) w.WriteLine(json);
    }
}
