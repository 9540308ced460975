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
public sealed class AxlModuleInitializer : IModuleAssemblyInitializer
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

/// <summary>The private context: loads any assembly found in the module's Dependencies/ folder, defers the rest to the default context.</summary>
internal sealed class AxlLoadContext : AssemblyLoadContext
{
    private readonly string _directory;

    public AxlLoadContext(string directory) : base("Axl", isCollectible: false) => _directory = directory;

    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name is null || name.Name.StartsWith("System.Management.Automation", StringComparison.Ordinal)) return null;
        var path = Path.Combine(_directory, name.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = Path.Combine(_directory, unmanagedDllName);
        return File.Exists(path) ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}
