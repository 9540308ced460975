using System.Management.Automation;
using Axl.Cli.Commands;

namespace Axl.Cli;

/// <summary>Exit codes shared by every axl command: success, a user error (bad input, invalid workflow, failed step), an internal error.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int UserError = 1;
    public const int InternalError = 2;
}

/// <summary>A user error the CLI reports on stderr with exit code 1 (bad arguments, missing files).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The `axl` command: a thin host of the Axl cmdlets and Core, with the seed CLI's verbs.</summary>
public static class AxlCommand
{
    private static readonly Dictionary<string, ICliCommand> Commands = new ICliCommand[]
    {
        new ValidateCommand(),
        new CompileCommand(),
        new RunCommand(),
        new StepCommand(),
        new WorkerCommand(),
        new BuildImageCommand(),
        new ArgoCommand(),
        new RunsCommand(),
        new GraphCommand(),
        new ReportCommand(),
        new WarmEnvCommand(),
    }.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public static int Run(string[] args)
    {
        StartupTrace.Mark("main");
        if (args is ["step", ..]) StepCommand.StartEarly(args);
        var code = Run(args, Console.Out, Console.Error);
        StartupTrace.Mark("exit");
        return code;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                if (args.Length > 1 && Commands.TryGetValue(args[1], out var c)) stdout.Write(c.Usage);
                else stdout.Write(Usage);
                return args.Length == 0 ? ExitCodes.UserError : ExitCodes.Success;
            }
            if (args[0] is "--version" or "-V" or "version")
            {
                stdout.WriteLine($"axl {AxlInfo.Version}");
                return ExitCodes.Success;
            }
            if (!Commands.TryGetValue(args[0], out var command))
                throw new UsageException($"unknown command '{args[0]}'. Run 'axl --help' for the list of commands.");
            var rest = args.Skip(1).ToArray();
            if (rest.Any(a => a is "-h" or "--help"))
            {
                stdout.Write(command.Usage);
                return ExitCodes.Success;
            }
            return command.Execute(CliArguments.Parse(rest, command.Flags, command.Options), stdout, stderr);
        }
        catch (UsageException ex)
        {
            stderr.WriteLine($"axl: {ex.Message}");
            return ExitCodes.UserError;
        }
        catch (Exception ex)
        {
            stderr.WriteLine($"axl: internal error: {ex.GetType().Name}: {ex.Message}");
            stderr.WriteLine("This is a bug in Axl, not in your workflow. Please report it with the command you ran and this output:");
            stderr.WriteLine(ex.ToString());
            return ExitCodes.InternalError;
        }
    }

    public static string Usage => $"""
        axl {AxlInfo.Version}: define data and ML workflows once in PowerShell, run them anywhere.

        Usage: axl <command> [arguments]

        Commands:
        {string.Join("\n", Commands.Values.Select(c => $"  {c.Name,-14}{c.Summary}"))}

        Options:
          -V, --version   print the version
          -h, --help      print this help, or 'axl help <command>'

        Exit codes: 0 success, 1 user error (invalid workflow, bad arguments), 2 internal error.

        """;
}
