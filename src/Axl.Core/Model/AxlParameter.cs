namespace Axl.Model;

/// <summary>A workflow parameter: a named value given at run time, with an optional default.</summary>
public sealed class AxlParameter
{
    public AxlParameter(string name, object? defaultValue, string? type, string? description, SourceLocation location)
    {
        Name = name;
        Default = defaultValue;
        Type = type;
        Description = description;
        Location = location;
    }

    public string Name { get; }
    /// <summary>Default value (string, number, bool or null). Null with <see cref="HasDefault"/> false means required.</summary>
    public object? Default { get; }
    public bool HasDefault => Default is not null;
    public string? Type { get; }
    public string? Description { get; }
    public SourceLocation Location { get; }

    public override string ToString() => HasDefault ? $"{Name}={Default}" : Name;
}
