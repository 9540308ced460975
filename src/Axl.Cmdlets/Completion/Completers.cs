using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using Axl.Cmdlets.Dsl;
using Axl.Cmdlets.Jobs;
using Axl.Dsl;
using Axl.IO;
using Axl.Jobs;
using Axl.Model;
using Axl.Runtime;

namespace Axl.Cmdlets.Completion;

/// <summary>
/// Workflow names: those with runs under the run root (-RunRoot when typed, else the default), then those defined in
/// the *.axl.ps1 files of the current directory; with a workflow file at hand (-WorkflowPath), that file's workflows.
/// </summary>
public sealed class WorkflowNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() =>
        {
            var (typed, quote) = Completions.Unquote(wordToComplete);
            var at = AtHand.Of(commandAst, fakeBoundParameters, parameterName);
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var results = new List<CompletionResult>();
            void Add(string name, string tip)
            {
                if (Completions.Matches(name, typed) && seen.Add(name)) results.Add(Completions.Result(name, quote, tip));
            }
            if (at.Files.Count > 0)
            {
                foreach (var o in at.Outlines()) Add(o.Name, $"workflow {o.Name}: {o.Steps.Count} step(s)");
                return results;
            }
            var root = at.RunRoot();
            foreach (var name in RunStore.Workflows(root)) Add(name, $"workflow {name}: has runs under {root}");
            var cwd = Completions.CurrentDirectory();
            foreach (var file in Directory.EnumerateFiles(cwd, "*.axl.ps1").OrderBy(f => f, StringComparer.OrdinalIgnoreCase))
                foreach (var o in WorkflowOutline.Read(file))
                    Add(o.Name, $"workflow {o.Name}: defined in {Path.GetFileName(file)}");
            return results;
        });
}

/// <summary>
/// Run ids under the run root, most recent first, of the workflows at hand (a bound -Workflow, a workflow file or
/// object); the tooltip gives the run's workflow, status and start time.
/// </summary>
public sealed class RunIdCompleter : IArgumentCompleter
{
    /// <summary>The most run ids offered.</summary>
    public const int Most = 100;

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() =>
        {
            var (typed, quote) = Completions.Unquote(wordToComplete);
            var at = AtHand.Of(commandAst, fakeBoundParameters, parameterName);
            var workflows = at.AllWorkflowNames();
            // A workflow file whose workflows cannot be read (missing, or named at run time) leaves nothing to offer:
            // another workflow's run would not resume.
            if (workflows.Count == 0 && at.Files.Count > 0) return Array.Empty<CompletionResult>();
            var runs = RunStore.List(at.RunRoot(), new NameFilter(workflows.Count > 0 ? workflows : null), NameFilter.Of(typed.Length == 0 ? null : typed.TrimEnd('*') + "*"));
            return runs.Take(Most).Select(RunStore.WithLiveStatus).Select(r => Completions.Result(r.RunId, quote, ToolTip(r)));
        });

    internal static string ToolTip(AxlRun r) =>
        $"{r.Workflow} {r.RunId}: {r.Status}, started {r.StartTime.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}" +
        (r.Duration is { } d ? $", took {d.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s" : "") +
        $" ({r.Steps.Count(s => s.Status == StepStatus.Succeeded)}/{r.Steps.Count} steps succeeded)";
}

/// <summary>
/// Step names of the run at hand (an AxlRun bound or piped from Get-AxlRun, else the newest run of the run id or
/// workflow at hand), or of the workflow at hand (its file, or an AxlWorkflow).
/// </summary>
public sealed class StepNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() =>
        {
            var (typed, quote) = Completions.Unquote(wordToComplete);
            var at = AtHand.Of(commandAst, fakeBoundParameters, parameterName);
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var results = new List<CompletionResult>();
            void Add(string name, string tip)
            {
                if (Completions.Matches(name, typed) && seen.Add(name)) results.Add(Completions.Result(name, quote, tip));
            }
            var runs = at.Runs.ToList();
            if (runs.Count == 0 && (at.RunIds.Count > 0 || at.WorkflowNames.Count > 0))
            {
                var newest = RunStore.List(at.RunRoot(), new NameFilter(at.WorkflowNames.Count > 0 ? at.WorkflowNames : null), new NameFilter(at.RunIds.Count > 0 ? at.RunIds : null)).FirstOrDefault();
                if (newest is not null) runs.Add(newest);
            }
            foreach (var run in runs)
                foreach (var s in run.Steps)
                    Add(s.Name, $"step {s.Name} of run {run.RunId}: {s.Status}");
            foreach (var wf in at.Workflows)
                foreach (var s in wf.Steps)
                    Add(s.Name, $"step {s.Name} of workflow {wf.Name}");
            if (runs.Count == 0)
                foreach (var o in at.Outlines())
                    foreach (var s in o.Steps)
                        Add(s, $"step {s} of workflow {o.Name}");
            return results;
        });
}

/// <summary>IO handler names: the built-in handlers and those registered in this process (Register-AxlIoHandler).</summary>
public sealed class IoHandlerNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() =>
        {
            var (typed, quote) = Completions.Unquote(wordToComplete);
            return IoHandlerRegistry.All
                .Where(h => Completions.Matches(h.Name, typed))
                .Select(h => Completions.Result(h.Name, quote, $"{h.Name} ({h.Extension}): {h.Description}"));
        });
}

/// <summary>Input modes (Object, Path) for Add-AxlStep's -InputMode, which also takes a hashtable of parameter to mode.</summary>
public sealed class InputModeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() =>
        {
            var (typed, quote) = Completions.Unquote(wordToComplete);
            return ValidateInputModeAttribute.Modes
                .Where(m => Completions.Matches(m, typed))
                .Select(m => Completions.Result(m, quote, m == "Path" ? "Path: the step gets its inputs as file paths" : "Object: the step gets its inputs loaded as objects"));
        });
}

/// <summary>
/// Workflow parameters for -Parameters and -Overrides, where the workflow is known (its file or AxlWorkflow at
/// hand): hashtables to start from, with every parameter and with each one, holding the defaults the file gives.
/// PowerShell calls no argument completer inside a hashtable literal, so this completes the argument as a whole.
/// </summary>
public sealed class WorkflowParameterCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() =>
        {
            var typed = wordToComplete ?? "";
            if (typed.Length > 0 && !"@{".StartsWith(typed, StringComparison.Ordinal) && !typed.StartsWith("@{", StringComparison.Ordinal)) return Array.Empty<CompletionResult>();
            var at = AtHand.Of(commandAst, fakeBoundParameters, parameterName);
            var parameters = new List<(string Name, string Value)>();
            foreach (var o in at.Outlines())
                foreach (var (name, value) in o.Parameters)
                    if (!parameters.Any(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))) parameters.Add((name, value ?? "''"));
            foreach (var wf in at.Workflows)
                foreach (var p in wf.Parameters)
                    if (!parameters.Any(x => x.Name.Equals(p.Name, StringComparison.OrdinalIgnoreCase))) parameters.Add((p.Name, Literal(p.Default)));
            var inside = typed.Length > 2 ? typed[2..].Trim() : "";
            var candidates = parameters.Where(p => Completions.Matches(p.Name, inside)).ToList();
            if (candidates.Count == 0) return Array.Empty<CompletionResult>();
            var results = new List<CompletionResult>();
            if (candidates.Count > 1)
            {
                var all = "@{ " + string.Join("; ", candidates.Select(Pair)) + " }";
                results.Add(new CompletionResult(all, all, CompletionResultType.ParameterValue, "every parameter of the workflow, with its default"));
            }
            foreach (var p in candidates)
            {
                var one = "@{ " + Pair(p) + " }";
                results.Add(new CompletionResult(one, one, CompletionResultType.ParameterValue, $"workflow parameter {p.Name}"));
            }
            return results;
        });

    private static string Pair((string Name, string Value) p) => $"{Completions.Quote(p.Name, '\0')} = {p.Value}";

    private static string Literal(object? value) => Completions.Base(value) switch
    {
        null => "$null",
        bool b => b ? "$true" : "$false",
        string s => "'" + s.Replace("'", "''") + "'",
        IFormattable f and (int or long or double or decimal or float or short or byte) => f.ToString(null, CultureInfo.InvariantCulture),
        _ => "''",
    };
}

/// <summary>Names of the Axl jobs of this session (Get-Job's), by id; or their ids for -Id.</summary>
public sealed class JobNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() =>
        {
            var (typed, quote) = Completions.Unquote(wordToComplete);
            var jobs = Completions.Session("Get-Job").OfType<AxlJob>().OrderBy(j => j.Id).ToList();
            var byId = parameterName.Equals("Id", StringComparison.OrdinalIgnoreCase);
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var results = new List<CompletionResult>();
            foreach (var j in jobs)
            {
                var text = byId ? j.Id.ToString(CultureInfo.InvariantCulture) : j.Name;
                if (!Completions.Matches(text, typed) || !seen.Add(text)) continue;
                var tip = $"job {j.Id} '{j.Name}': {j.JobStateInfo.State} ({j.Target}{(j.RunId is { Length: > 0 } r ? ", run " + r : "")})";
                results.Add(byId ? new CompletionResult(text, $"{text} ({j.Name})", CompletionResultType.ParameterValue, tip) : Completions.Result(text, quote, tip));
            }
            return results;
        });
}

/// <summary>Names of the experiments under the run root (-RunRoot when typed, else the default).</summary>
public sealed class ExperimentNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Safely(() =>
        {
            var (typed, quote) = Completions.Unquote(wordToComplete);
            var root = AtHand.Of(commandAst, fakeBoundParameters, parameterName).RunRoot();
            var results = new List<CompletionResult>();
            foreach (var name in AxlExperiment.Names(root).Where(n => Completions.Matches(n, typed)))
            {
                string tip;
                try { tip = $"experiment {AxlExperiment.Load(AxlExperiment.DirectoryOf(root, name))}"; }
                catch (Exception ex) when (ex is not OutOfMemoryException) { tip = $"experiment {name}"; }
                results.Add(Completions.Result(name, quote, tip));
            }
            return results;
        });
}
