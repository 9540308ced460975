namespace Axl.Model;

/// <summary>How a step runs: a PowerShell script block or an external command (argument array, never a shell string).</summary>
public enum StepKind { Script, Command }

/// <summary>How an input reaches a step: the loaded object, or the path of the artifact file.</summary>
public enum InputMode { Object, Path }

/// <summary>How the workflow code reaches the pods: baked in the image, or as a tar.gz artifact.</summary>
public enum CodeDelivery { Image, Artifact }

/// <summary>Where an input of a step comes from.</summary>
public enum BindingSource
{
    /// <summary>The output of an upstream step.</summary>
    Step,
    /// <summary>A workflow parameter.</summary>
    Parameter,
    /// <summary>A literal value given in a Graph block.</summary>
    Constant,
    /// <summary>Nothing bound: the script parameter keeps its default value.</summary>
    Default,
    /// <summary>The run context object (reserved parameter name AxlContext).</summary>
    Context,
    /// <summary>Nothing could be bound (an error diagnostic says why).</summary>
    Unbound,
}

/// <summary>Data edges carry an artifact; order edges only sequence (-DependsOn).</summary>
public enum EdgeKind { Data, Order }

public enum DiagnosticSeverity { Error, Warning }
