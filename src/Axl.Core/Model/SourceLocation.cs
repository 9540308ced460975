namespace Axl.Model;

/// <summary>A file and line in a workflow script; used by diagnostics and by the runner to find a step again.</summary>
public readonly record struct SourceLocation(string? File, int Line)
{
    public static SourceLocation None => new(null, 0);

    public override string ToString()
    {
        if (string.IsNullOrEmpty(File)) return Line > 0 ? $"line {Line}" : "<unknown>";
        return Line > 0 ? $"{File}:{Line}" : File!;
    }
}
