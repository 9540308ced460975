using System.Management.Automation.Language;

namespace Axl.Dsl;

/// <summary>A workflow's names as a workflow file spells them, read without running it: for tab completion.</summary>
/// <param name="Name">The workflow's name.</param>
/// <param name="Steps">Its step names, in the order of the file.</param>
/// <param name="Parameters">Its parameters, with the source text of their default when they give one.</param>
public sealed record WorkflowOutline(string Name, IReadOnlyList<string> Steps, IReadOnlyList<(string Name, string? Default)> Parameters)
{
    private static readonly string[] WorkflowCommands = { "AxlWorkflow", "New-AxlWorkflow" };
    private static readonly string[] StepCommands = { "Step", "Add-AxlStep" };
    private static readonly string[] ParameterCommands = { "Parameter", "Add-AxlParameter" };

    /// <summary>
    /// The workflows a file defines, found by parsing it (the script is not run: a workflow whose name or steps are
    /// computed at run time is not seen). A file that is missing or does not parse gives none; never throws.
    /// </summary>
    public static IReadOnlyList<WorkflowOutline> Read(string path)
    {
        try
        {
            if (!File.Exists(path)) return Array.Empty<WorkflowOutline>();
            var ast = Parser.ParseFile(path, out _, out _);
            return Of(ast);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Array.Empty<WorkflowOutline>();
        }
    }

    /// <summary>The workflows a parsed script defines (see <see cref="Read"/>).</summary>
    public static IReadOnlyList<WorkflowOutline> Of(Ast script)
    {
        var result = new List<WorkflowOutline>();
        foreach (CommandAst wf in script.FindAll(a => a is CommandAst c && Is(c, WorkflowCommands), searchNestedScriptBlocks: true))
        {
            var args = Positional(wf, "Name", "Definition");
            if (args.Name is not StringConstantExpressionAst { Value: { Length: > 0 } name }) continue;
            var steps = new List<string>();
            var parameters = new List<(string, string?)>();
            if (args.Definition is ScriptBlockExpressionAst body)
            {
                foreach (CommandAst c in body.ScriptBlock.FindAll(a => a is CommandAst, searchNestedScriptBlocks: true))
                {
                    if (Is(c, StepCommands))
                    {
                        if (Positional(c, "Name", "ScriptBlock").Name is StringConstantExpressionAst { Value: { Length: > 0 } step } && !steps.Contains(step, StringComparer.OrdinalIgnoreCase))
                            steps.Add(step);
                    }
                    else if (Is(c, ParameterCommands))
                    {
                        var p = Positional(c, "Name", "Default");
                        if (p.Name is StringConstantExpressionAst { Value: { Length: > 0 } parameter } && !parameters.Any(x => x.Item1.Equals(parameter, StringComparison.OrdinalIgnoreCase)))
                            parameters.Add((parameter, p.Definition?.Extent.Text));
                    }
                }
            }
            result.Add(new WorkflowOutline(name, steps, parameters));
        }
        return result;
    }

    private static bool Is(CommandAst c, string[] names) =>
        c.GetCommandName() is { } n && names.Any(x => x.Equals(n, StringComparison.OrdinalIgnoreCase) || n.EndsWith(@"\" + x, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The first two arguments of a keyword: by their parameter name or by position (an argument after a parameter
    /// without a value of its own is that parameter's value; the keywords' switches are -Sensitive only).
    /// </summary>
    private static (Ast? Name, Ast? Definition) Positional(CommandAst c, string first, string second)
    {
        Ast? a = null, b = null;
        var positions = new List<Ast>();
        var elements = c.CommandElements;
        for (var i = 1; i < elements.Count; i++)
        {
            if (elements[i] is CommandParameterAst p)
            {
                Ast? value = p.Argument;
                if (value is null && !p.ParameterName.Equals("Sensitive", StringComparison.OrdinalIgnoreCase) && i + 1 < elements.Count && elements[i + 1] is not CommandParameterAst)
                    value = elements[++i];
                if (p.ParameterName.Equals(first, StringComparison.OrdinalIgnoreCase)) a = value;
                else if (p.ParameterName.Equals(second, StringComparison.OrdinalIgnoreCase)) b = value;
                continue;
            }
            positions.Add(elements[i]);
        }
        var next = 0;
        if (a is null && next < positions.Count) a = positions[next++];
        if (b is null && next < positions.Count) b = positions[next];
        return (a, b);
    }
}
