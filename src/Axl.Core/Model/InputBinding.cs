namespace Axl.Model;

/// <summary>One input of a step: the script parameter (or command placeholder) and what feeds it.</summary>
public sealed class InputBinding
{
    public InputBinding(string name, BindingSource source, string? sourceName, InputMode mode, string? type, bool required, object? constant = null)
    {
        Name = name;
        Source = source;
        SourceName = sourceName;
        Mode = mode;
        Type = type;
        Required = required;
        Constant = constant;
    }

    /// <summary>The parameter name in the step's param block, or the placeholder name of a command step.</summary>
    public string Name { get; }
    public BindingSource Source { get; }
    /// <summary>Step name or workflow parameter name feeding this input.</summary>
    public string? SourceName { get; }
    public InputMode Mode { get; }
    /// <summary>Declared PowerShell type of the parameter, if any.</summary>
    public string? Type { get; }
    public bool Required { get; }
    /// <summary>Literal value when <see cref="Source"/> is Constant.</summary>
    public object? Constant { get; }

    public override string ToString() => Source switch
    {
        BindingSource.Step => $"{Name} <- {SourceName} ({Mode.ToString().ToLowerInvariant()})",
        BindingSource.Parameter => $"{Name} <- ${SourceName}",
        BindingSource.Constant => $"{Name} = {Constant}",
        BindingSource.Context => $"{Name} <- context",
        BindingSource.Default => $"{Name} (default)",
        _ => $"{Name} (unbound)",
    };
}
