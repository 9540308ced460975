using System.Collections;
using System.Management.Automation.Language;
using Axl.Dsl;
using Axl.Jobs;
using Axl.Model;
using Axl.Runtime;

namespace Axl.Cmdlets.Completion;

/// <summary>
/// The workflows and runs a command line being completed is about: what its parameters already bind
/// (fakeBoundParameters: workflow files, workflow names, run ids, -RunRoot, AxlWorkflow and AxlRun objects in
/// variables), else what the command before it in the pipeline names (`Get-AxlRun etl | Get-AxlArtifact -Step`).
/// </summary>
internal sealed class AtHand
{
    private static readonly string[] FileKeys = { "Path", "LiteralPath", "WorkflowPath", "Workflow" };
    private static readonly string[] NameKeys = { "Workflow", "WorkflowName" };
    private static readonly string[] RunIdKeys = { "RunId", "Resume" };

    public List<string> Files { get; } = new();
    public List<string> WorkflowNames { get; } = new();
    public List<string> RunIds { get; } = new();
    public List<AxlRun> Runs { get; } = new();
    public List<AxlWorkflow> Workflows { get; } = new();
    public string? RunRootText { get; private set; }

    /// <summary>What the command at <paramref name="commandAst"/> is about; <paramref name="except"/> is the parameter being completed (its own text is not a fact).</summary>
    public static AtHand Of(CommandAst? commandAst, IDictionary? bound, string? except)
    {
        var at = new AtHand();
        if (bound is not null)
        {
            foreach (DictionaryEntry e in bound)
            {
                var key = e.Key as string ?? "";
                if (key.Equals(except, StringComparison.OrdinalIgnoreCase)) continue;
                at.Add(key, e.Value);
            }
        }
        if (at.IsEmpty && Previous(commandAst) is { } before)
        {
            try
            {
                foreach (var (name, value) in StaticParameterBinder.BindCommand(before, resolve: true).BoundParameters)
                    if (value.ConstantValue is { } constant) at.Add(name, constant);
                    else if (value.Value is ArrayLiteralAst array) at.Add(name, array.Elements.OfType<StringConstantExpressionAst>().Select(s => s.Value).ToArray());
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // a command that does not bind offers nothing more
            }
        }
        return at;
    }

    private bool IsEmpty => Files.Count == 0 && WorkflowNames.Count == 0 && RunIds.Count == 0 && Runs.Count == 0 && Workflows.Count == 0;

    private void Add(string key, object? value)
    {
        foreach (var item in Completions.Items(value))
        {
            switch (item)
            {
                case AxlRun run: Runs.Add(run); break;
                case AxlWorkflow wf: Workflows.Add(wf); break;
                case AxlJobSpec spec:
                    if (spec.WorkflowPath is { Length: > 0 } p) Files.Add(p);
                    if (spec.WorkflowName is { Length: > 0 } n) WorkflowNames.Add(n);
                    break;
                case string text when key.Equals("RunRoot", StringComparison.OrdinalIgnoreCase):
                    RunRootText = text;
                    break;
                case string text when RunIdKeys.Contains(key, StringComparer.OrdinalIgnoreCase):
                    RunIds.Add(text);
                    break;
                case string text when FileKeys.Contains(key, StringComparer.OrdinalIgnoreCase) && LooksLikeFile(text):
                    Files.Add(text);
                    break;
                case string text when NameKeys.Contains(key, StringComparer.OrdinalIgnoreCase):
                    WorkflowNames.Add(text);
                    break;
            }
        }
    }

    private static bool LooksLikeFile(string text) =>
        text.Contains(".ps1", StringComparison.OrdinalIgnoreCase) || text.IndexOfAny(new[] { '/', '\\' }) >= 0;

    /// <summary>The command before this one in its pipeline.</summary>
    private static CommandAst? Previous(CommandAst? commandAst)
    {
        if (commandAst?.Parent is not PipelineAst pipeline) return null;
        var i = -1;
        for (var k = 0; k < pipeline.PipelineElements.Count; k++)
            if (ReferenceEquals(pipeline.PipelineElements[k], commandAst)) i = k;
        return i > 0 ? pipeline.PipelineElements[i - 1] as CommandAst : null;
    }

    /// <summary>The run root: -RunRoot as typed (resolved by the session), else the default one of the session's location.</summary>
    public string RunRoot() => RunRootText is { Length: > 0 } r
        ? Completions.ResolvePath(r)
        : Path.GetFullPath(RunOptions.DefaultRunRoot(Completions.CurrentDirectory()));

    /// <summary>The outlines of the workflows at hand: from their files (a file:Name reference keeps that workflow only).</summary>
    public IEnumerable<WorkflowOutline> Outlines()
    {
        var files = Files.Concat(Workflows.Select(w => w.SourceFile).OfType<string>()).Distinct(StringComparer.OrdinalIgnoreCase);
        foreach (var file in files)
        {
            var (path, name) = WorkflowReference.Parse(file, p => File.Exists(Completions.ResolvePath(p)));
            foreach (var o in WorkflowOutline.Read(Completions.ResolvePath(path)))
                if (name is null || o.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                    yield return o;
        }
    }

    /// <summary>The names of the workflows at hand (given by name, as objects, or defined in the files at hand).</summary>
    public IReadOnlyList<string> AllWorkflowNames() =>
        WorkflowNames.Concat(Workflows.Select(w => w.Name)).Concat(Runs.Select(r => r.Workflow)).Concat(Outlines().Select(o => o.Name))
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
}
