using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace Axl.Cmdlets;

/// <summary>
/// Makes Axl.Core's types nameable in scripts. PowerShell looks type names up only in the assemblies of the default
/// load context, and Axl.Core lives in the module's private one (see <see cref="AxlModuleInitializer"/>), so
/// <c>[Axl.Model.AxlWorkflow]</c> would not resolve. Type accelerators are looked up first, by the whole name, and
/// may hold dots: every public type of Axl.Core is registered under its full name (what help pages, OutputType and
/// Get-Member show), and the main ones also under their short names ([AxlWorkflow], [JobStatus], ...).
/// An accelerator of another module or of PowerShell with the same name is left alone.
/// <para>
/// Accelerators are process-wide while imports are per runspace: they are added on the first import and removed
/// when the last runspace that imported the module removes it (or has closed).
/// </para>
/// </summary>
internal static class AxlTypeAccelerators
{
    private static readonly object Gate = new();
    private static readonly List<WeakReference<Runspace>> Importers = new();
    private static readonly Dictionary<string, Type> Added = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The public types of Axl.Core under short names as well as their full names.</summary>
    internal static Type[] ShortNamed() => new[]
    {
        typeof(Axl.Model.AxlWorkflow), typeof(Axl.Model.AxlStep), typeof(Axl.Validation.AxlDiagnostic),
        typeof(Axl.Runtime.AxlRun), typeof(Axl.Runtime.AxlStepResult), typeof(Axl.Runtime.RunStatus), typeof(Axl.Runtime.StepStatus),
        typeof(Axl.Jobs.AxlJobSpec), typeof(Axl.Jobs.JobResult), typeof(Axl.Jobs.JobStatus), typeof(Axl.Jobs.AxlExperiment),
        typeof(Axl.Jobs.Envelopes.JobEnvelope), typeof(Axl.Jobs.AxlJobOption),
    };

    /// <summary>The names and types to register: full names of Axl.Core's public types, then the short names.</summary>
    internal static IEnumerable<KeyValuePair<string, Type>> Wanted()
    {
        var core = typeof(Axl.Model.AxlWorkflow).Assembly;
        foreach (var t in core.GetExportedTypes())
            if (t.FullName is { } full) yield return new(full, t);
        foreach (var t in ShortNamed()) yield return new(t.Name, t);
    }

    /// <summary>Registers the accelerators (once per process; later calls only count the importing runspace).</summary>
    public static void Register(Runspace? importer)
    {
        lock (Gate)
        {
            if (importer is not null && !Importers.Any(w => w.TryGetTarget(out var r) && ReferenceEquals(r, importer)))
                Importers.Add(new WeakReference<Runspace>(importer));
            if (Added.Count > 0 || Api is not { } api) return;
            var existing = api.Existing();
            foreach (var (name, type) in Wanted())
            {
                if (existing.ContainsKey(name) || Added.ContainsKey(name)) continue;
                api.Add(name, type);
                Added[name] = type;
            }
        }
    }

    /// <summary>
    /// Called when <paramref name="remover"/> removes the module: once no runspace that imported it still has it (open),
    /// removes the accelerators this module added (only those still pointing at Axl's types).
    /// </summary>
    public static void Unregister(Runspace? remover)
    {
        lock (Gate)
        {
            Importers.RemoveAll(w => !w.TryGetTarget(out var r) || ReferenceEquals(r, remover)
                || r.RunspaceStateInfo.State is RunspaceState.Closed or RunspaceState.Closing or RunspaceState.Broken);
            if (Importers.Count > 0 || Api is not { } api) return;
            var existing = api.Existing();
            foreach (var (name, type) in Added)
                if (existing.TryGetValue(name, out var current) && current == type) api.Remove(name);
            Added.Clear();
        }
    }

    /// <summary>Names currently registered by this module (for tests and diagnostics).</summary>
    internal static IReadOnlyCollection<string> Names { get { lock (Gate) return Added.Keys.ToList(); } }

    // System.Management.Automation.TypeAccelerators is public in PowerShell but not in the reference assembly the
    // module builds against (PowerShellStandard.Library), so it is reached by reflection, as PowerShell's docs show.
    private static readonly AcceleratorApi? Api = AcceleratorApi.Find();

    private sealed class AcceleratorApi
    {
        private readonly MethodInfo _add, _remove;
        private readonly PropertyInfo _get;

        private AcceleratorApi(MethodInfo add, MethodInfo remove, PropertyInfo get) => (_add, _remove, _get) = (add, remove, get);

        public static AcceleratorApi? Find()
        {
            var t = typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators");
            var add = t?.GetMethod("Add", BindingFlags.Public | BindingFlags.Static, new[] { typeof(string), typeof(Type) });
            var remove = t?.GetMethod("Remove", BindingFlags.Public | BindingFlags.Static, new[] { typeof(string) });
            var get = t?.GetProperty("Get", BindingFlags.Public | BindingFlags.Static);
            return add is null || remove is null || get is null ? null : new AcceleratorApi(add, remove, get);
        }

        public void Add(string name, Type type) => _add.Invoke(null, new object[] { name, type });
        public void Remove(string name) => _remove.Invoke(null, new object[] { name });
        public IReadOnlyDictionary<string, Type> Existing() =>
            _get.GetValue(null) is Dictionary<string, Type> d ? new Dictionary<string, Type>(d, StringComparer.OrdinalIgnoreCase) : new Dictionary<string, Type>();
    }
}
