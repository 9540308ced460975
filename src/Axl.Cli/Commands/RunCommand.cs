using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Text;
using Axl.Dsl;
using Axl.Model;
using Axl.Runtime;
using Axl.Serialization;

namespace Axl.Cli.Commands;

/// <summary>axl run local file.axl.ps1[:Name] [--params FILE] [--param K=V]...: runs a workflow on this machine.</summary>
public sealed class RunCommand : ICliCommand
{
    public string Name => "run";
    public string Summary => "run a workflow: 'axl run local flow.axl.ps1[:Name]'";
    public IReadOnlyCollection<string> Flags { get; } = new[] { "--cache", "--use-hash", "--isolate-steps", "--log-json", "--json", "--quiet", "--verbose", "--debug", "--in-containers" };
    public IReadOnlyCollection<string> Options { get; } = new[] { "--params", "--param", "--run-root", "--run-id", "--resume", "--throttle", "--retry-backoff", "--kill-grace", "--remedy-style", "--progress", "--metrics-file", "--image", "--docker-host" };
    public string Usage => """
        Usage: axl run local <file.axl.ps1[:Name]> [options]

        Runs the workflow on this machine: steps in dependency order, independent steps in parallel,
        outputs saved through their IO handlers under <run-root>/<workflow>/<run-id>/<step>/.

          --params FILE         parameter values from a YAML or JSON file (name: value)
          --param NAME=VALUE    one parameter value (repeatable; wins over --params)
          --run-root DIR        where runs are kept (default: $AXL_RUN_ROOT or ./.axl/runs)
          --run-id ID           id of the new run (default: time-sortable, e.g. 20261123-140501-a1b2c3)
          --resume RUN_ID       continue that run: re-run only steps that failed or changed. A run has one
                                writer: resuming a run that another process is running exits 1 (Axl.RunLocked)
          --cache               reuse outputs of earlier runs of unchanged steps (same code, options, inputs)
          --use-hash            keep outputs in the run root's hash-addressed store (<run-root>/store/<hash>): an
                                output many runs produce is on disk once; 'axl runs prune' frees what no run uses
          --isolate-steps       a new runspace for every script step (default: warm runspaces are reused,
                                each step in a fresh scope; the workflow file is loaded once per runspace)
          --throttle N          at most N steps at once (default: the number of cores)
          --retry-backoff SECS  wait before the first retry, doubled for each next one (default 1)
          --kill-grace SECS     time between SIGTERM and SIGKILL for timed-out commands (default 10)
          --verbose             steps start with $VerbosePreference = 'Continue': their Write-Verbose lines show
          --debug               steps start with $DebugPreference = 'Continue': their Write-Debug lines show
          --log-json            structured JSON log lines on stderr (workflow, step, status, duration_ms, and
                                for what steps write: level and stream)
          --json                print the run record as JSON on stdout instead of the summary
          --progress MODE       auto (default), live or plain. live: the event lines on stderr under a status
                                block redrawn in place (done, failed and total steps, every running step with
                                its elapsed time); plain: the lines only, no control codes. auto is live when
                                stdout and stderr are a terminal and TERM is not 'dumb', and never with
                                --log-json or --quiet. NO_COLOR turns the block's colours off
          --metrics-file FILE   at the end of the run (failed and cancelled runs too) write its metrics in the
                                Prometheus text format, atomically, e.g. for node_exporter's textfile collector
                                (name it *.prom in --collector.textfile.directory): axl_run_duration_seconds,
                                axl_run_status, axl_run_steps_total, axl_step_duration_seconds, axl_step_status,
                                axl_step_retries_total, axl_step_output_bytes, axl_run_last_completion_timestamp_seconds
          --quiet               print only errors
          --in-containers       run every step in a container of its image through the Docker Engine API (Docker,
                                or Podman's API service), as a compiled Argo pod runs it: the same 'axl step'
                                command, the inputs bound read-only at /axl/inputs, the output at /axl/outputs,
                                the code from the image (code delivery Image) or the workflow's folder bound at
                                /axl/workdir. Outputs, resume and caching are those of a local run. Try the
                                production image before pushing it: axl build-image, then this
          --image REF           with --in-containers: the image of steps that name none (before the workflow's
                                -Image, as axl compile --image); missing on the engine, it is pulled
          --docker-host URI     with --in-containers: the engine (default $DOCKER_HOST, else
                                /var/run/docker.sock or Podman's socket), e.g. unix:///run/podman/podman.sock
          --remedy-style STYLE  how fix hints name the next command: cli (default: axl run local ... --resume)
                                or powershell (Invoke-AxlLocalRun ... -Resume; what the module's local jobs use)

        What a step writes besides its output is printed on stderr with the step's name, as it is written:
        "[train] WARNING: ...", "[train] VERBOSE: ...", Write-Host and Write-Information text as it is, errors that
        did not stop the step as "ERROR: ...", progress (at most a line a second per activity), and the standard
        error of command steps. The same lines, with their level, are in the run's log.jsonl.

        Step packages: a step's -Modules that are not importable, and a python command step's -Packages, are
        installed before it runs and kept in a cache (see docs/steps.md, "Step packages"):
          AXL_PSRESOURCE_REPOSITORY  modules from a folder of <Name>.<Version>.nupkg files or a registered
                                     PSResource repository's name (Save-PSResource)
          AXL_PIP_FIND_LINKS         Python packages from a folder of wheels (pip install --no-index --find-links)
          AXL_PACKAGE_CACHE          the cache (default: <run-root>/.axl-packages)
        A package missing with no source configured fails the step before it runs. Baked images
        (axl build-image) hold their modules already: nothing is installed at run time there.
        A workflow with -WarmEnv first runs the synthetic step axl-warm-env: the Python venv of its requirements
        or lockfile (AXL_WARM_ENV_PYTHON, default python3) built once into <cache>/venv/<key>, its modules saved
        (see docs/steps.md, "Warm environments"; axl warm-env does it alone).

        Ctrl+C, SIGTERM or SIGHUP cancels the run: running steps are stopped with every process they started (SIGTERM
        to their process groups, SIGKILL after --kill-grace), the run is recorded as cancelled and can be resumed with
        --resume. A second signal aborts at once (all step processes killed, the run still recorded as cancelled).

        Exit codes: 0 the run succeeded, 1 a step failed or the input is invalid, 2 internal error,
        130 / 143 / 129 cancelled by SIGINT / SIGTERM / SIGHUP.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Positional.Count == 0 || args.Positional[0] != "local")
            throw new UsageException("run needs a target and a workflow: axl run local flow.axl.ps1[:Name]. (Other targets: see Submit-AxlJob.)");
        if (args.Positional.Count != 2)
            throw new UsageException("run local takes one workflow reference, e.g. axl run local examples/iris-knn/iris-knn.axl.ps1.");
        var reference = args.Positional[1];

        var values = new Hashtable(StringComparer.OrdinalIgnoreCase);
        if (args.Options.TryGetValue("--param", out var pairs))
            foreach (var pair in pairs)
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0) throw new UsageException($"--param takes NAME=VALUE, got '{pair}'.");
                values[pair[..eq]] = pair[(eq + 1)..];
            }
        using var abort = new CancellationTokenSource();
        var options = new RunOptions
        {
            Abort = abort.Token,
            RunRoot = args.Option("--run-root") is { } root ? Path.GetFullPath(root) : RunOptions.DefaultRunRoot(),
            RunId = args.Option("--run-id"),
            Resume = args.Option("--resume"),
            ParametersFile = args.Option("--params"),
            Parameters = values,
            Cache = args.Has("--cache"),
            UseHash = args.Has("--use-hash"),
            IsolateSteps = args.Has("--isolate-steps"),
            ThrottleLimit = args.Option("--throttle") is { } t ? PositiveInt(t, "--throttle") : Environment.ProcessorCount,
            RetryBackoff = args.Seconds("--retry-backoff", 1),
            KillGrace = args.Seconds("--kill-grace", 10),
            Preferences = StepPreferences.FromFlags(args.Has("--verbose"), args.Has("--debug")),
            Remedies = args.Option("--remedy-style") is { } style
                ? Remedies.Parse(style) ?? throw new UsageException($"--remedy-style takes cli or powershell, got '{style}'.")
                : RemedyStyle.Cli,
            Containers = args.Has("--in-containers") ? new ContainerRunOptions { Image = args.Option("--image"), DockerHost = args.Option("--docker-host") } : null,
        };
        if (options.Containers is null && (args.Option("--image") ?? args.Option("--docker-host")) is not null)
            throw new UsageException($"{(args.Option("--image") is not null ? "--image" : "--docker-host")} applies to runs in containers: add --in-containers.");
        var remedies = options.Remedies;
        var quiet = args.Has("--quiet");
        var logJson = args.Has("--log-json");
        var progressOption = args.Option("--progress");
        var mode = RunStatusRenderer.Choose(progressOption, Console.IsOutputRedirected, Console.IsErrorRedirected, Environment.GetEnvironmentVariable("TERM"), logJson, quiet)
            ?? throw new UsageException($"--progress takes auto, live or plain, got '{progressOption}'.");
        if (logJson && progressOption is not null && mode == ProgressMode.Live)
            throw new UsageException("--progress live cannot be combined with --log-json (a JSON log has no control codes): drop one of them.");
        var metricsFile = args.Option("--metrics-file");
        if (metricsFile is { Length: 0 }) throw new UsageException("--metrics-file needs a file name, e.g. --metrics-file /var/lib/node_exporter/textfile/axl.prom.");

        // A broken parameters file is refused before the engine starts (the run reads it again, with the workflow).
        if (options.ParametersFile is { } parametersFile)
        {
            try { ParameterResolver.ReadFile(parametersFile); }
            catch (AxlParameterException ex)
            {
                stderr.WriteLine($"axl: {ex.Message}");
                return ExitCodes.UserError;
            }
        }

        using var host = new AxlEngineHost();
        var (workflows, errors) = host.LoadWorkflows(reference);
        foreach (var e in errors) stderr.WriteLine($"error {e.FullyQualifiedErrorId.Split(',')[0]}: {e.Exception.Message}");
        if (errors.Count > 0) return ExitCodes.UserError;
        if (workflows.Count != 1)
            throw new UsageException($"{reference} defines {workflows.Count} workflows ({string.Join(", ", workflows.Select(w => w.Name))}); name one: {reference}:{workflows[0].Name}.");
        var wf = workflows[0];

        // SIGINT (Ctrl+C), SIGTERM and SIGHUP: the first cancels the run (running steps are stopped with their process
        // groups, the run is recorded as cancelled and can be resumed); a second one aborts at once (every step's
        // group is killed, the run still recorded as cancelled). Exit code 128 + the signal's number.
        using var cancel = new CancellationTokenSource();
        var renderer = new RunStatusRenderer(stderr, mode)
        {
            Workflow = wf.Name,
            Quiet = quiet,
            Color = Environment.GetEnvironmentVariable("NO_COLOR") is not { Length: > 0 },
            Width = mode == ProgressMode.Live ? ConsoleWidth() : 0,
        };
        var signalled = 0;
        var signals = 0;
        void OnSignal(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            var number = SignalNumber(ctx.Signal);
            Interlocked.CompareExchange(ref signalled, number, 0);
            if (Interlocked.Increment(ref signals) == 1)
            {
                renderer.Message($"axl: {ctx.Signal}: cancelling the run (steps are being stopped; resume it later with {Remedies.ResumeOption(remedies, options.Resume ?? options.RunId)}; a second interrupt aborts at once)...");
                cancel.Cancel();
                return;
            }
            renderer.Finish();
            lock (stderr) { stderr.WriteLine($"axl: {ctx.Signal} again: aborting the run now (step processes killed; resume it later with {Remedies.ResumeOption(remedies, options.Resume ?? options.RunId)})"); stderr.Flush(); }
            abort.Cancel();
            StepProcess.KillEverything(); // the programs script steps started too: nothing outlives the abort
            Environment.Exit(128 + Volatile.Read(ref signalled));
        }
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
        // What the steps start ends with this process, even when it is SIGKILLed (script steps' programs included).
        using var owned = OwnedProcesses.Guard();
        AxlRun run;
        // Live: a timer moves the block's elapsed times on between events (the renderer bounds the redraw rate).
        using (var ticks = mode == ProgressMode.Live && !logJson ? new Timer(_ => renderer.Tick(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250)) : null)
        try
        {
            run = LocalRunner.Run(wf, options, e =>
            {
                if (StartupTrace.Enabled) StartupTrace.Mark($"run: {e.Kind} {e.Step}");
                if (logJson) { lock (stderr) stderr.WriteLine(e.Json); }
                else renderer.OnEvent(e);
            }, cancel.Token);
        }
        catch (AxlInvalidWorkflowException ex)
        {
            foreach (var d in ex.Diagnostics.Where(d => d.IsError)) stderr.WriteLine(d.ToString());
            stderr.WriteLine($"axl: workflow '{wf.Name}' is not valid; nothing was run.");
            return ExitCodes.UserError;
        }
        catch (AxlRunLockedException ex)
        {
            stderr.WriteLine($"error Axl.RunLocked: {ex.Message}");
            return ExitCodes.UserError;
        }
        catch (Exception ex) when (ex is AxlParameterException or AxlRunException)
        {
            stderr.WriteLine($"axl: {ex.Message}");
            return ExitCodes.UserError;
        }
        catch (Axl.Images.AxlImageException ex)
        {
            // --in-containers: no engine, an image that cannot be had, or one with other code; nothing was run.
            stderr.WriteLine($"error {ex.Id}: {ex.Message}");
            return ExitCodes.UserError;
        }
        finally
        {
            renderer.Finish();
        }

        // The metrics of every run that started, failed and cancelled ones too; a file that cannot be written fails the command.
        var metricsFailed = false;
        if (metricsFile is not null)
        {
            try { MetricsWriter.Write(run, metricsFile); }
            catch (AxlMetricsException ex)
            {
                stderr.WriteLine($"error Axl.MetricsNotWritten: {ex.Message}");
                metricsFailed = true;
            }
        }
        if (args.Has("--json")) stdout.WriteLine(File.ReadAllText(Path.Combine(run.Directory, RunStore.RunFile)));
        else if (!quiet) stdout.Write(Describe(wf, run));
        foreach (var f in run.Failed) stderr.WriteLine($"error Axl.StepFailed: step '{f.Name}' failed after {f.Attempts} attempt(s): {f.Error}. Logs and artifacts: {f.Directory}");
        if (run.Status != RunStatus.Succeeded && !quiet)
            stderr.WriteLine($"axl: run {run.RunId} {run.Status.ToString().ToLowerInvariant()}; fix the cause and continue it with: " + Remedies.ResumeCommand(remedies, reference, run.RunId, args.Option("--run-root")));
        var code = run.Status == RunStatus.Cancelled && Volatile.Read(ref signalled) is > 0 and var signal ? 128 + signal
            : run.Status == RunStatus.Succeeded && !metricsFailed ? ExitCodes.Success : ExitCodes.UserError;
        if (ScriptStepHost.AbandonedSteps > 0)
        {
            // A step stuck in a call nothing can interrupt still holds a thread: end the process now instead of
            // waiting for it (its result is discarded, and the run is recorded already).
            stdout.Flush();
            stderr.Flush();
            Environment.Exit(code);
        }
        return code;
    }

    /// <summary>The terminal's width in columns, 0 when it cannot be read.</summary>
    private static int ConsoleWidth()
    {
        try { return Console.WindowWidth; }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or PlatformNotSupportedException) { return 0; }
    }

    /// <summary>The signal's number on Linux (SIGINT 2, SIGTERM 15, SIGHUP 1): the exit code is 128 plus it, as shells report.</summary>
    private static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        PosixSignal.SIGTERM => 15,
        _ => (int)signal > 0 ? (int)signal : 1,
    };

    private static int PositiveInt(string text, string option) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new UsageException($"{option} takes a positive whole number, got '{text}'.");

    /// <summary>The summary printed after a run: status, every step, and the values of the final steps.</summary>
    public static string Describe(AxlWorkflow wf, AxlRun run)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"run         {run.RunId}");
        sb.AppendLine($"workflow    {run.Workflow} ({wf.ShortHash})");
        sb.AppendLine($"status      {run.Status.ToString().ToLowerInvariant()} in {run.Duration?.TotalSeconds:0.00} s");
        sb.AppendLine($"directory   {run.Directory}");
        if (run.Parameters.Count > 0) sb.AppendLine($"parameters  {string.Join(", ", run.Parameters.Select(kv => $"{kv.Key}={Convert.ToString(kv.Value, CultureInfo.InvariantCulture)}"))}");
        sb.AppendLine();
        sb.Append(StepTable.Format(run.Steps, 200, Path.Combine(run.Directory, RunStore.RunFile)));
        var leaves = wf.Steps.Where(s => wf.OutgoingEdges(s.Name).Count == 0 && run.GetStep(s.Name)?.Status == StepStatus.Succeeded).Take(10).ToList();
        if (leaves.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("outputs");
            foreach (var leaf in leaves)
            {
                string shown;
                try { shown = Preview(run.GetOutput(leaf.Name)); }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or InvalidDataException) { shown = "(unreadable: " + ex.Message + ")"; }
                sb.AppendLine($"  {leaf.Name} = {shown}");
            }
        }
        sb.AppendLine();
        return sb.ToString();
    }

    private static string Preview(object? value)
    {
        if (value is PSObject p && p.BaseObject is not PSCustomObject) value = p.BaseObject;
        var text = value switch
        {
            null => "(null)",
            string s => s.TrimEnd('\n'),
            double d => d.ToString("0.####", CultureInfo.InvariantCulture),
            IEnumerable e when value is not string => $"[{e.Cast<object?>().Count()} items]",
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
        };
        text = text.Replace("\n", " | ");
        return text.Length > 160 ? text[..157] + "..." : text;
    }
}
