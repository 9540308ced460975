using Axl.Runtime;
using Axl.Visual;

namespace Axl.Cli.Commands;

/// <summary>axl report RUN-ID|RUN-DIR [-o FILE] [--run-root DIR] [--workflow WF]: a run's self-contained HTML report (Export-AxlRunReport).</summary>
public sealed class ReportCommand : ICliCommand
{
    public string Name => "report";
    public string Summary => "write a run's HTML report: 'axl report <run-id|run-dir> [-o report.html]'";
    public IReadOnlyCollection<string> Flags { get; } = Array.Empty<string>();
    public IReadOnlyCollection<string> Options { get; } = new[] { "-o", "--out", "--run-root", "--workflow" };
    public string Usage => """
        Usage: axl report <run-id|run-dir> [-o FILE] [--run-root DIR] [--workflow WORKFLOW]

        Writes the run's report, like Export-AxlRunReport: one self-contained HTML file (no scripts, no network)
        with the DAG coloured by step status, a timeline of every attempt (retries and reused outputs visible),
        each step's duration, output size, IO handler and hash, the parameters, previews of small outputs, the
        tail of each failed step's log and the command that resumes the run. Prints the file's path.

          -o, --out FILE       where to write it (default: report.html in the run's directory)
          --run-root DIR       where runs are kept (default: $AXL_RUN_ROOT or ./.axl/runs)
          --workflow WORKFLOW  the run's workflow, when runs of two workflows have that id

        Exit codes: 0 written, 1 no such run or bad arguments, 2 internal error.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Positional.Count != 1) throw new UsageException("report takes one run: its id or its directory, e.g. axl report 20261206-101500-a1b2c3.");
        var root = args.Option("--run-root") is { } r ? Path.GetFullPath(r) : RunOptions.DefaultRunRoot();
        AxlRun run;
        try { run = RunLocator.Find(root, args.Positional[0], args.Option("--workflow"), "--run-root", "--workflow"); }
        catch (AxlRunNotFoundException ex) { throw new UsageException(ex.Message); }
        var outFile = args.Option("-o") ?? args.Option("--out");
        FileInfo file;
        try { file = RunReportWriter.Save(run, outFile is null ? null : Path.GetFullPath(outFile)); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"could not write the report of run {run.RunId}: {ex.Message}");
        }
        stdout.WriteLine(file.FullName);
        return ExitCodes.Success;
    }
}
