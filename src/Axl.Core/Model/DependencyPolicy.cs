namespace Axl.Model;

/// <summary>How a workflow's third-party dependencies are pinned: a lockfile (preferred) or a requirements list/file.</summary>
public sealed record DependencyPolicy
{
    /// <summary>Path of the lockfile (for example uv.lock), relative to the workflow file.</summary>
    public string? Lockfile { get; init; }
    /// <summary>Path of a requirements file, relative to the workflow file.</summary>
    public string? RequirementsFile { get; init; }
    /// <summary>Inline requirements ("scikit-learn==1.2.1").</summary>
    public IReadOnlyList<string> Requirements { get; init; } = Array.Empty<string>();

    public static DependencyPolicy None { get; } = new();

    public string Mode => Lockfile is not null ? "lockfile" : RequirementsFile is not null || Requirements.Count > 0 ? "requirements" : "none";

    public override string ToString() => Mode switch
    {
        "lockfile" => $"lockfile {Lockfile}",
        "requirements" => RequirementsFile is not null ? $"requirements {RequirementsFile}" : $"requirements {string.Join(", ", Requirements)}",
        _ => "none",
    };
}
