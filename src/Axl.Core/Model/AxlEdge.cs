namespace Axl.Model;

/// <summary>A dependency between two steps. Data edges name the input they feed.</summary>
public sealed record AxlEdge(string From, string To, EdgeKind Kind, string? Input)
{
    public override string ToString() => Kind == EdgeKind.Data ? $"{From} -> {To}.{Input}" : $"{From} -> {To} (order)";
}
