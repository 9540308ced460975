using System.Collections;

namespace Axl.Dsl;

/// <summary>Step options exactly as the user wrote them; the builder turns them into the IR and reports what is wrong.</summary>
public sealed record StepOptions
{
    public string? IoHandler { get; init; }
    /// <summary>"object", "path", or a hashtable of parameter name to mode.</summary>
    public object? InputMode { get; init; }
    public string? Cpu { get; init; }
    public string? CpuLimit { get; init; }
    public string? Memory { get; init; }
    public string? MemoryLimit { get; init; }
    public int? Gpu { get; init; }
    public string? GpuResource { get; init; }
    public int? Retries { get; init; }
    /// <summary>Seconds (number), a TimeSpan, or a duration string ("90s", "5m", "1h30m", "00:05:00").</summary>
    public object? Timeout { get; init; }
    public IDictionary? Env { get; init; }
    public string? When { get; init; }
    public string[]? Packages { get; init; }
    /// <summary>PowerShell modules: 'Name', 'Name@1.2.3' or module specification hashtables (see <see cref="Model.ModuleRequirement"/>).</summary>
    public object[]? Modules { get; init; }
    public string? Image { get; init; }
    public string[]? DependsOn { get; init; }
    /// <summary>Set when -Command was given, even empty (so an empty command is reported, not ignored).</summary>
    public bool CommandSpecified { get; init; }
    public string? Command { get; init; }
    public string[]? ArgumentList { get; init; }
    public string? Stdin { get; init; }
    public string? OutputType { get; init; }
    public string? Description { get; init; }
}

/// <summary>Workflow options as written on the AxlWorkflow keyword.</summary>
public sealed record WorkflowDefinitionOptions
{
    public string? Image { get; init; }
    public string? IoHandler { get; init; }
    public string? InputMode { get; init; }
    public string? ServiceAccount { get; init; }
    public string? ArtifactStore { get; init; }
    public string? CodeDelivery { get; init; }
    public string? Lockfile { get; init; }
    public string? RequirementsFile { get; init; }
    public string[]? Requirements { get; init; }
    /// <summary>PowerShell modules every step needs (see <see cref="Model.ModuleRequirement"/>).</summary>
    public object[]? Modules { get; init; }
    /// <summary>-WarmEnv: a synthetic first step builds the Python environment and saves the modules once per run.</summary>
    public bool WarmEnv { get; init; }
    public string? Description { get; init; }
    public IDictionary? Labels { get; init; }
}
