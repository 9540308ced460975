using System.Globalization;
using Axl.Runtime;
using Axl.Serialization;

namespace Axl.Cli.Commands;

/// <summary>axl runs prune [--keep N] [--older-than AGE] [--run-id ID]... [--workflow W]... [--dry-run] [--json]: Remove-AxlRun for the command line (RunRetention).</summary>
public sealed class RunsCommand : ICliCommand
{
    public string Name => "runs";
    public string Summary => "remove old local runs, never one in progress: 'axl runs prune --keep 10 --older-than 30d'";
    public IReadOnlyCollection<string> Flags { get; } = new[] { "--dry-run", "--json" };
    public IReadOnlyCollection<string> Options { get; } = new[] { "--keep", "--older-than", "--run-id", "--workflow", "--run-root" };
    public string Usage => """
        Usage: axl runs prune [--keep N] [--older-than AGE] [--run-id ID]... [--workflow NAME]... [--run-root DIR]
                              [--dry-run] [--json]

        Removes local runs (their folders under the run root) as Remove-AxlRun does: the runs of the workflows given
        (all by default), by id, by age, or all but the newest N of each workflow. A run in progress (a process holds
        its lock: it is running or being resumed) is never removed; a run is taken out of the list under its lock and
        then deleted, so a resume cannot start on a half-removed run. Prints one line per run: "removed", "would
        remove" (--dry-run), "kept" with the reason, or "in use".

          --keep N             keep the newest N runs of each workflow
          --older-than AGE     only runs that started more than AGE ago: 30d, 12h, 2w, 1d12h, or 30.00:00:00
          --run-id ID          this run (wildcards * ? [..]; repeatable)
          --workflow NAME      only this workflow's runs (wildcards; repeatable)
          --run-root DIR       where runs are kept (default: $AXL_RUN_ROOT or ./.axl/runs)
          --dry-run            print what would be removed, remove nothing
          --json               print the decisions as a JSON array (workflow, runId, directory, action, reason, bytes)

        At least one of --keep, --older-than, --run-id is needed (pruning everything is not a default).
        Exit codes: 0 done (runs in use are skipped, not errors, unless named by --run-id); 1 a bad option, a
        --run-id without wildcards that matches nothing, a named run in use, or a run that could not be removed;
        2 internal error.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Positional.Count != 1 || args.Positional[0] != "prune")
            throw new UsageException(args.Positional.Count == 0 ? "runs needs a subcommand: axl runs prune [...]." : $"unknown runs subcommand '{string.Join(" ", args.Positional)}'. Known: prune.");
        int? keep = null;
        if (args.Option("--keep") is { } k)
        {
            if (!int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                throw new UsageException($"--keep '{k}' is not a number of runs. Fix: --keep 10 keeps the newest 10 runs of each workflow.");
            keep = n;
        }
        TimeSpan? olderThan = null;
        if (args.Option("--older-than") is { } a)
        {
            if (!RunRetention.TryParseAge(a, out var age))
                throw new UsageException($"--older-than '{a}' is not an age. Fix: a number and a unit (w, d, h, m, s) such as 30d or 12h, or a TimeSpan such as 30.00:00:00.");
            olderThan = age;
        }
        var ids = args.Options.TryGetValue("--run-id", out var i) ? i : new List<string>();
        if (keep is null && olderThan is null && ids.Count == 0)
            throw new UsageException("runs prune needs to know which runs: give --keep N, --older-than AGE or --run-id ID (try --dry-run first).");
        var root = args.Option("--run-root") is { } r ? Path.GetFullPath(r) : RunOptions.DefaultRunRoot();
        var dryRun = args.Has("--dry-run");
        if (!dryRun) RunRetention.CleanInterrupted(root);

        var plan = RunRetention.Plan(new RetentionOptions
        {
            RunRoot = root,
            Workflows = args.Options.TryGetValue("--workflow", out var w) ? w : new List<string>(),
            RunIds = ids, OlderThan = olderThan, Keep = keep,
        });
        var code = ExitCodes.Success;
        var named = ids.Count > 0 && ids.All(id => id.IndexOfAny(['*', '?', '[']) < 0);
        foreach (var id in ids.Where(id => id.IndexOfAny(['*', '?', '[']) < 0))
            if (!plan.Any(d => d.RunId.Equals(id, StringComparison.OrdinalIgnoreCase)))
            {
                stderr.WriteLine($"error Axl.RunNotFound: there is no run '{id}' under {root}. Fix: list runs with Get-AxlRun, or give --run-root.");
                code = ExitCodes.UserError;
            }

        var rows = new List<object?>();
        long freed = 0;
        var removed = 0;
        foreach (var d in plan)
        {
            string action;
            long? bytes = null;
            var reason = d.Reason;
            switch (d.Action)
            {
                case RetentionAction.Keep: action = "kept"; break;
                case RetentionAction.InUse:
                    action = "in use";
                    if (named)
                    {
                        stderr.WriteLine($"error Axl.RunInUse: run {d.RunId} of workflow {d.Workflow} is in progress (a process holds its lock): not removed. Fix: remove it once it has ended.");
                        code = ExitCodes.UserError;
                    }
                    break;
                default:
                    if (dryRun) { action = "would remove"; break; }
                    var removal = RunRetention.Remove(d.Run);
                    if (!removal.Removed)
                    {
                        action = "not removed";
                        reason = removal.Error ?? reason;
                        stderr.WriteLine($"error Axl.RunNotRemoved: {removal.Error}");
                        code = ExitCodes.UserError;
                    }
                    else
                    {
                        action = "removed";
                        bytes = removal.Bytes;
                        freed += removal.Bytes;
                        removed++;
                        if (removal.Error is not null) stderr.WriteLine($"warning: {removal.Error}");
                    }
                    break;
            }
            if (args.Has("--json"))
                rows.Add(new Dictionary<string, object?>
                {
                    ["workflow"] = d.Workflow, ["runId"] = d.RunId, ["directory"] = d.Directory, ["action"] = action, ["reason"] = reason, ["bytes"] = bytes,
                });
            else
                stdout.WriteLine($"{action,-12} {d.Workflow} {d.RunId}  ({reason})");
        }
        // The hash-addressed store (--use-hash runs): what no run left under the root refers to goes too.
        var swept = ContentStore.Sweep(root, dryRun);
        if (args.Has("--json")) stdout.WriteLine(IrDocument.ToJson(rows));
        else stdout.WriteLine(dryRun
            ? $"{plan.Count(d => d.Action == RetentionAction.Remove)} run(s) would be removed, {plan.Count(d => d.Action != RetentionAction.Remove)} kept (dry run: nothing removed)."
            : $"{removed} run(s) removed ({freed.ToString("N0", CultureInfo.InvariantCulture)} bytes), {plan.Count(d => d.Action != RetentionAction.Remove)} kept.");
        if (!args.Has("--json") && (swept.Removed > 0 || swept.Kept > 0))
            stdout.WriteLine(dryRun
                ? $"store: {swept.Removed} entries ({swept.Bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes) no run uses would be removed, {swept.Kept} in use."
                : $"store: {swept.Removed} entries ({swept.Bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes) no run uses removed, {swept.Kept} in use.");
        return code;
    }
}
