using Axl.Runtime;
using Axl.Validation;

namespace Axl.Cli.Commands;

/// <summary>
/// axl warm-env file.axl.ps1[:Name] [--cache DIR] [--workdir DIR]: builds (or finds in the cache) the workflow's warm
/// environment, as the synthetic axl-warm-env step of a local run does; what the axl-warm-env task of a compiled
/// workflow runs, writing into the shared volume.
/// </summary>
public sealed class WarmEnvCommand : ICliCommand
{
    public string Name => "warm-env";
    public string Summary => "build a workflow's warm environment (Python venv, modules) into the package cache";
    public IReadOnlyCollection<string> Flags { get; } = new[] { "--quiet" };
    public IReadOnlyCollection<string> Options { get; } = new[] { "--cache", "--workdir" };
    public string Usage => $"""
        Usage: axl warm-env <file.axl.ps1[:Name]> [--cache DIR] [--workdir DIR] [--quiet]

        Builds the warm environment of a workflow (AxlWorkflow -WarmEnv; see docs/steps.md, "Warm environments"),
        the same way the synthetic '{WarmEnvironment.StepName}' step of a local run does: the Python virtual
        environment of the workflow's -Lockfile, -RequirementsFile or -Requirements (or a uv.lock/requirements.txt
        beside the file) into <cache>/venv/<key> (key: the requirements' or lockfile's content, the installer and
        the Python version; a cached one is used as it is), and every module the steps name into the package
        cache. Compiled workflows run it as their '{WarmEnvironment.StepName}' task, with the cache on a shared volume.

          --cache DIR     the package cache (default: AXL_PACKAGE_CACHE, else ~/.cache/axl/packages)
          --workdir DIR   the folder relative dependency files are read from (default: the workflow file's)
          --quiet         print nothing but errors

        Installs are offline: {StepPackageOptions.FindLinksVariable} (a folder of wheels, pip --no-index), {StepPackageOptions.RepositoryVariable}
        (modules), {WarmEnvironment.PythonVariable} (the Python the venv is made with; default python3). With uv on
        PATH and a uv.lock, `uv sync --frozen --offline` installs instead of pip.

        Prints the variables the steps get (VIRTUAL_ENV=..., PATH=...). Exit codes: 0 ready; 1 the workflow does
        not load or is invalid, or a package cannot be installed (the message names it, where Axl looked and the
        fix); 2 internal error.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Positional.Count != 1) throw new UsageException("warm-env needs one workflow, e.g. axl warm-env flow.axl.ps1 or flow.axl.ps1:Name.");
        using var host = new AxlEngineHost();
        var (workflows, errors) = host.LoadWorkflows(args.Positional[0], runsBodies: false);
        foreach (var e in errors) stderr.WriteLine($"axl: {e.Exception.Message}");
        if (errors.Count > 0) return ExitCodes.UserError;
        if (workflows.Count != 1)
            throw new UsageException($"{args.Positional[0]} defines {workflows.Count} workflows; name one (file.axl.ps1:Name).");
        var wf = workflows[0];
        var invalid = WorkflowValidator.Validate(wf).Where(d => d.IsError).ToList();
        if (invalid.Count > 0)
        {
            foreach (var d in invalid) stderr.WriteLine(d.ToString());
            return ExitCodes.UserError;
        }
        var options = StepPackageOptions.FromEnvironment(null);
        if (args.Option("--cache") is { } cache) options = options with { CacheRoot = Path.GetFullPath(cache) };
        var quiet = args.Has("--quiet");
        try
        {
            var env = WarmEnvironment.Prepare(wf, options, quiet ? null : stderr.WriteLine,
                args.Option("--workdir") is { } wd ? Path.GetFullPath(wd) : null);
            if (!quiet)
            {
                stderr.WriteLine($"axl: {WarmEnvironment.StepName}: {env.Summary}");
                foreach (var kv in env.Environment()) stdout.WriteLine($"{kv.Key}={kv.Value}");
            }
            return ExitCodes.Success;
        }
        catch (AxlWarmEnvException ex)
        {
            stderr.WriteLine($"axl: {ex.Message}");
            return ExitCodes.UserError;
        }
    }
}
