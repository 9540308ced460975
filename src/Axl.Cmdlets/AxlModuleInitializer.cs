using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace Axl.Cmdlets;

/// <summary>
/// Dependency isolation (see shared/STYLE.md): on import, hook the default context's Resolving event for one name
/// only, the engine assembly Axl.Core, and load it from Dependencies/ into a private AssemblyLoadContext.
/// Everything Axl.Core needs (YamlDotNet, ...) then resolves inside that context, so another module's versions
/// cannot break Axl and Axl's cannot break theirs. PowerShell itself and the framework stay shared.
/// </summary>
public sealed class AxlModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private const string EngineAssembly = "Axl.Core";
    private static readonly string DependencyDirectory =
        Path.Combine(Path.GetDirectoryName(typeof(AxlModuleInitializer).Assembly.Location)!, "Dependencies");
    private static AxlLoadContext? _context;
    private static readonly object Gate = new();

    private static bool _hooked;

    public void OnImport()
    {
        lock (Gate)
        {
            if (!_hooked) AssemblyLoadContext.Default.Resolving += ResolveEngine;
            _hooked = true;
        }
        ConfigureEngine();
    }

    /// <summary>Remove-Module: the type accelerators go when the last runspace that imported the module removes it.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo) => AxlTypeAccelerators.Unregister(System.Management.Automation.Runspaces.Runspace.DefaultRunspace);

    /// <summary>Touches Core only after the resolver is in place (a separate method, so the JIT resolves Core here, not in OnImport).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void ConfigureEngine() => AxlSessionState.ConfigureEngine();

    private static Assembly? ResolveEngine(AssemblyLoadContext defaultContext, AssemblyName name)
    {
        if (!EngineAssembly.Equals(name.Name, StringComparison.Ordinal)) return null;
        lock (Gate)
        {
            _context ??= new AxlLoadContext(DependencyDirectory);
        }
        return _context.LoadFromAssemblyName(name);
    }
}

/// <summary>
/// The private context: loads from the module's Dependencies/ folder what the host does not already provide, and
/// defers the rest to the default context. Dependencies/ holds everything Axl.Core was built with, including
/// packages of framework assemblies (System.IO.Pipelines, System.Diagnostics.DiagnosticSource, ...) that the
/// .NET shared framework or pwsh itself already carries. Loading a second copy of those would split their types
/// and static state (two DiagnosticListener.AllListeners, two PipeReader types), so an assembly that is one of the
/// host's platform assemblies (its trusted platform assemblies: the shared framework and pwsh's own folder) at
/// the version asked for or newer comes from the default context; only what the host lacks, or has in an older
/// version than Axl needs (an older pwsh on an older .NET), is loaded here.
/// </summary>
internal sealed class AxlLoadContext : AssemblyLoadContext
{
    private readonly string _directory;
    private readonly Dictionary<string, string> _platform;

    public AxlLoadContext(string directory) : base("Axl", isCollectible: false)
    {
        _directory = directory;
        _platform = PlatformAssemblies();
    }

    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name is null || name.Name.StartsWith("System.Management.Automation", StringComparison.Ordinal)) return null;
        if (HostProvides(name)) return null;
        var path = Path.Combine(_directory, name.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    /// <summary>Whether the default context has <paramref name="name"/> among the host's platform assemblies, at its version or newer.</summary>
    internal bool HostProvides(AssemblyName name)
    {
        if (name.Name is null || !_platform.TryGetValue(name.Name, out var path)) return false;
        if (name.Version is null) return true;
        try { return AssemblyName.GetAssemblyName(path).Version is { } v && v >= name.Version; }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>The host's trusted platform assemblies by simple name (what the default context loads without being asked).</summary>
    private static Dictionary<string, string> PlatformAssemblies()
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is not string list) return map;
        foreach (var path in list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            if (path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) map.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        return map;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = Path.Combine(_directory, unmanagedDllName);
        return File.Exists(path) ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}
