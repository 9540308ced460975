using System.Globalization;
using Axl.Model;
using Axl.Serialization;

namespace Axl.Runner;

/// <summary>Where a back end puts things: input artifact directories, the output directory, parameter values.</summary>
public sealed record ManifestLayout
{
    /// <summary>The directory holding the artifact of an upstream step, as the step will see it.</summary>
    public required Func<AxlStep, string> InputDirectory { get; init; }
    /// <summary>The directory the step writes its artifact to.</summary>
    public required Func<AxlStep, string> OutputDirectory { get; init; }
    /// <summary>The value (or a back end's placeholder for it, such as {{inputs.parameters.K}}) of a workflow parameter.</summary>
    public required Func<AxlParameter, string?> ParameterValue { get; init; }
    /// <summary>When set, the environment variable that carries a parameter's value to the runner (the value then stays out of the manifest).</summary>
    public Func<AxlParameter, string>? ParameterEnv { get; init; }
    /// <summary>The workflow file as the runner will find it (relative to <see cref="WorkDir"/> or absolute).</summary>
    public required string WorkflowFile { get; init; }
    public string? WorkDir { get; init; }
    public string? RunId { get; init; }
    /// <summary>The workflow hash the runner checks (the one over the back end's code root); null: <see cref="AxlWorkflow.Hash"/>.</summary>
    public string? WorkflowHash { get; init; }
}

/// <summary>Makes the IO manifest of a step from the IR and a back end's layout: one place for every back end.</summary>
public static class ManifestBuilder
{
    public const string ValueFileName = "value.txt";

    public static StepManifest For(AxlWorkflow wf, AxlStep step, ManifestLayout layout)
    {
        var inputs = new List<ManifestInput>();
        foreach (var b in step.Inputs)
        {
            switch (b.Source)
            {
                case BindingSource.Step:
                    var up = wf.GetStep(b.SourceName!)!;
                    inputs.Add(new ManifestInput(b.Name, "step", up.Name, b.Mode == InputMode.Path ? "path" : "object", layout.InputDirectory(up), null));
                    break;
                case BindingSource.Parameter:
                    var p = wf.Parameters.First(x => x.Name.Equals(b.SourceName, StringComparison.OrdinalIgnoreCase));
                    inputs.Add(layout.ParameterEnv is { } env
                        ? new ManifestInput(b.Name, "parameter", p.Name, "object", null, null, env(p))
                        : new ManifestInput(b.Name, "parameter", p.Name, "object", null, layout.ParameterValue(p)));
                    break;
                case BindingSource.Constant:
                    inputs.Add(new ManifestInput(b.Name, "constant", null, "object", null, IrDocument.ToJson(b.Constant, indented: false)));
                    break;
                case BindingSource.Context:
                    inputs.Add(new ManifestInput(b.Name, "context", null, "object", null, null));
                    break;
            }
        }
        var outDir = layout.OutputDirectory(step);
        return new StepManifest
        {
            Workflow = wf.Name,
            WorkflowHash = layout.WorkflowHash ?? wf.Hash,
            WorkflowFile = layout.WorkflowFile,
            WorkDir = layout.WorkDir,
            Step = step.Name,
            RunId = layout.RunId,
            Inputs = inputs,
            Output = new ManifestOutput(outDir, step.Output.IoHandler, step.Output.Extension, IsReadByCondition(wf, step) ? CombinePath(outDir, ValueFileName) : null),
        };
    }

    /// <summary>True when a condition of another step reads this step's output (the back ends then need it as a value).</summary>
    public static bool IsReadByCondition(AxlWorkflow wf, AxlStep step) => wf.IsReadByCondition(step.Name);

    /// <summary>The environment variable that carries a workflow parameter into a container: AXL_PARAM_ and the name in upper case, other characters as '_', and its position to keep names apart.</summary>
    public static string ParameterEnvironmentVariable(AxlWorkflow wf, AxlParameter p)
    {
        var index = wf.Parameters.ToList().FindIndex(x => ReferenceEquals(x, p));
        var name = new string(p.Name.ToUpperInvariant().Select(c => c is >= 'A' and <= 'Z' or >= '0' and <= '9' ? c : '_').ToArray());
        return $"AXL_PARAM_{index}_{name}";
    }

    /// <summary>Joins with '/' when the base uses it (container paths), else with the platform separator.</summary>
    public static string CombinePath(string dir, string name) =>
        dir.Contains('/') && !dir.Contains('\\') ? dir.TrimEnd('/') + "/" + name : Path.Combine(dir, name);

    internal static string Text(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
}
