using System.Reflection;

namespace Axl;

/// <summary>Version and identity of the Axl engine, shared by the module, the CLI and the runner.</summary>
public static class AxlInfo
{
    public static string Version { get; } =
        typeof(AxlInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(AxlInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The runner image used when a workflow names none.</summary>
    public static string DefaultRunnerImage => $"ghcr.io/axl-workflows/runner:{Version}";
}
