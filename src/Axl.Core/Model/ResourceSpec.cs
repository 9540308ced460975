namespace Axl.Model;

/// <summary>Kubernetes-style resource requests and limits of a step. Quantities are kept as written ("500m", "1Gi").</summary>
public sealed record ResourceSpec
{
    public string? CpuRequest { get; init; }
    public string? CpuLimit { get; init; }
    public string? MemoryRequest { get; init; }
    public string? MemoryLimit { get; init; }
    /// <summary>GPU count; GPUs are limits in Kubernetes (requests equal limits).</summary>
    public int? Gpu { get; init; }
    /// <summary>Extended resource name of the GPU, by default nvidia.com/gpu.</summary>
    public string GpuResource { get; init; } = "nvidia.com/gpu";

    public bool IsEmpty => CpuRequest is null && CpuLimit is null && MemoryRequest is null && MemoryLimit is null && Gpu is null;

    public static ResourceSpec Empty { get; } = new();

    public override string ToString()
    {
        var parts = new List<string>();
        if (CpuRequest is not null || CpuLimit is not null) parts.Add($"cpu={CpuRequest ?? "-"}/{CpuLimit ?? "-"}");
        if (MemoryRequest is not null || MemoryLimit is not null) parts.Add($"memory={MemoryRequest ?? "-"}/{MemoryLimit ?? "-"}");
        if (Gpu is not null) parts.Add($"{GpuResource}={Gpu}");
        return string.Join(" ", parts);
    }
}
