namespace Axl.Dsl;

/// <summary>What a step call returns inside a Graph block: a symbolic reference to the step's output, not a value.</summary>
public sealed class AxlOutputRef
{
    internal AxlOutputRef(string step) => Step = step;
    public string Step { get; }
    public override string ToString() => $"<output of {Step}>";
}

/// <summary>What a workflow parameter variable holds inside a Graph block.</summary>
public sealed class AxlParameterRef
{
    internal AxlParameterRef(string name) => Name = name;
    public string Name { get; }
    public override string ToString() => $"<parameter {Name}>";
}

/// <summary>One step call recorded in a Graph block.</summary>
public sealed record GraphCall(string Step, IReadOnlyDictionary<string, object?> Arguments, Model.SourceLocation Location);
