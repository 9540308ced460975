namespace Axl.Model;

/// <summary>A workflow parameter: a named value given at run time, with an optional default.</summary>
public sealed class AxlParameter
{
    public AxlParameter(string name, object? defaultValue, string? type, string? description, SourceLocation location, bool sensitive = false)
    {
        Sensitive = sensitive;
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
    /// <summary>
    /// -Sensitive: the value is shown as <see cref="Masked"/> in run records, logs, summaries and envelopes, is not
    /// written inline into compiled output, and must be given again to resume a run.
    /// </summary>
    public bool Sensitive { get; }

    /// <summary>What a sensitive value is shown as.</summary>
    public const string Masked = "***";

    public override string ToString() => HasDefault ? $"{Name}={(Sensitive ? Masked : Default)}" : Name;
}
