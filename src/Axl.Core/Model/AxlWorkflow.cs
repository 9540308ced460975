using System.Collections.ObjectModel;
using Axl.Validation;

namespace Axl.Model;

/// <summary>
/// The IR: the single contract between the DSL front end and every back end.
/// Nodes (steps) in definition order with O(1) lookup by name, edges, parameters, options and a stable content hash.
/// </summary>
public sealed class AxlWorkflow
{
    private readonly Dictionary<string, AxlStep> _byName;
    private readonly Dictionary<string, AxlParameter> _parametersByName;
    private EdgeIndex? _edgeIndex;
    private IReadOnlyList<AxlStep>? _order;
    private string? _hash;
    private string? _definitionHash;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _codeHashes = new(StringComparer.Ordinal);
    private HashSet<string>? _readByConditions;

    internal AxlWorkflow(
        string name,
        WorkflowOptions options,
        IReadOnlyList<AxlParameter> parameters,
        IReadOnlyList<AxlStep> steps,
        IReadOnlyList<AxlEdge> edges,
        IReadOnlyList<AxlDiagnostic> buildDiagnostics,
        SourceLocation location)
    {
        Name = name;
        Options = options;
        Parameters = parameters;
        Steps = steps;
        Edges = edges;
        BuildDiagnostics = buildDiagnostics;
        Location = location;
        _byName = new Dictionary<string, AxlStep>(steps.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var s in steps) _byName.TryAdd(s.Name, s);
        _parametersByName = new Dictionary<string, AxlParameter>(parameters.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var p in parameters) _parametersByName.TryAdd(p.Name, p);
    }

    /// <summary>Each step's incoming and outgoing edges, made on the first question (validate never asks: two lists per step).</summary>
    private sealed class EdgeIndex
    {
        public readonly Dictionary<string, List<AxlEdge>> Incoming = new(StringComparer.OrdinalIgnoreCase);
        public readonly Dictionary<string, List<AxlEdge>> Outgoing = new(StringComparer.OrdinalIgnoreCase);

        public EdgeIndex(IReadOnlyList<AxlEdge> edges)
        {
            foreach (var e in edges)
            {
                (Outgoing.TryGetValue(e.From, out var o) ? o : Outgoing[e.From] = new()).Add(e);
                (Incoming.TryGetValue(e.To, out var i) ? i : Incoming[e.To] = new()).Add(e);
            }
        }
    }

    private EdgeIndex Index => Volatile.Read(ref _edgeIndex) ?? MakeIndex();

    private EdgeIndex MakeIndex()
    {
        var made = new EdgeIndex(Edges);
        return Interlocked.CompareExchange(ref _edgeIndex, made, null) ?? made;
    }

    public string Name { get; }
    /// <summary>The DNS-1123 form of the workflow name.</summary>
    public string KubernetesName => Validation.Dns1123.Normalize(Name);
    public WorkflowOptions Options { get; }
    public string Image => Options.Image ?? AxlInfo.DefaultRunnerImage;
    public IReadOnlyList<AxlParameter> Parameters { get; }
    /// <summary>The parameter of that name (ignoring case; the first one when names repeat), or null; O(1).</summary>
    public AxlParameter? GetParameter(string name) => _parametersByName.GetValueOrDefault(name);
    public IReadOnlyList<AxlStep> Steps { get; }
    public IReadOnlyList<AxlEdge> Edges { get; }
    /// <summary>Problems found while building the IR (wiring); <see cref="WorkflowValidator"/> adds the rest.</summary>
    public IReadOnlyList<AxlDiagnostic> BuildDiagnostics { get; }
    public SourceLocation Location { get; }
    public string? SourceFile => Location.File;

    public int StepCount => Steps.Count;

    // Plain text for views: properties, not methods or nested objects, so a deserialized workflow (Receive-Job,
    // remoting) shows the same as the live one.
    /// <summary>The step names in definition order, comma-separated.</summary>
    public string StepNames => string.Join(", ", Steps.Select(s => s.Name));
    /// <summary>The edges as "from -> to.input", comma-separated.</summary>
    public string EdgeText => string.Join(", ", Edges);
    /// <summary>The parameters as name=default (masked when sensitive), comma-separated.</summary>
    public string ParameterText => string.Join(", ", Parameters);
    public string DefaultIoHandler => Options.DefaultIoHandler;
    public InputMode DefaultInputMode => Options.DefaultInputMode;
    public string? ServiceAccount => Options.ServiceAccount;
    public string? ArtifactStore => Options.ArtifactStore;
    public CodeDelivery CodeDelivery => Options.CodeDelivery;
    /// <summary>The dependency policy as text ("none", "requirements.txt", ...).</summary>
    public string DependencyText => Options.Dependencies.ToString();
    public int EdgeCount => Edges.Count;

    /// <summary>
    /// Stable content hash ("sha256:..."): of the definition (<see cref="DefinitionHash"/>) and of every file of the
    /// code root that code delivery ships (<see cref="CodeHash"/>): same definition and same code, same hash; a changed
    /// step, helper script or top-level line of the workflow file, a new hash. Computed when first asked for.
    /// </summary>
    public string Hash => _hash ??= DefinitionAndCodeHash();

    /// <summary>
    /// The code root's files are read and hashed on another thread while the definition's JSON is hashed on this one
    /// (each is tens of milliseconds for a large workflow or code root); the same hash as one after the other.
    /// </summary>
    private string DefinitionAndCodeHash()
    {
        if (_definitionHash is not null || CodeRoot is null) return Hashing.CodeTreeHasher.Combine(DefinitionHash, CodeHash);
        var code = Task.Run(() => CodeHash);
        var definition = DefinitionHash;
        return Hashing.CodeTreeHasher.Combine(definition, code.GetAwaiter().GetResult());
    }

    /// <summary>The hash of the definition alone (steps, options, parameters, edges), without the code around it.</summary>
    public string DefinitionHash => _definitionHash ??= Hashing.WorkflowHasher.Compute(this);

    /// <summary>The default code root: the workflow file's folder, when the file exists; null for a workflow that exists only in memory.</summary>
    public string? CodeRoot => SourceFile is { Length: > 0 } f && File.Exists(f) ? Path.GetDirectoryName(Path.GetFullPath(f)) : null;

    /// <summary>The hash of the files of <see cref="CodeRoot"/> a code archive would hold (<see cref="Hashing.CodeTreeHasher"/>); null without a file.</summary>
    public string? CodeHash => CodeHashFor(null);

    /// <summary>
    /// The code hash of another code root (a compile's or image's --code-root, the runner's work dir), leaving out
    /// <paramref name="exclude"/> (full paths, e.g. a run root inside the code root); null when the workflow has no file.
    /// </summary>
    public string? CodeHashFor(string? codeRoot, IEnumerable<string>? exclude = null)
    {
        if (CodeRoot is not { } own) return null;
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(codeRoot ?? own));
        var excluded = exclude?.ToList();
        if (excluded is { Count: > 0 }) return Hashing.CodeTreeHasher.Compute(root, excluded);
        return _codeHashes.GetOrAdd(root, r => Hashing.CodeTreeHasher.Compute(r));
    }

    /// <summary>The workflow hash with the code of <paramref name="codeRoot"/> (see <see cref="CodeHashFor"/>); <see cref="Hash"/> for the default root.</summary>
    public string HashFor(string? codeRoot, IEnumerable<string>? exclude = null) =>
        Hashing.CodeTreeHasher.Combine(DefinitionHash, CodeHashFor(codeRoot, exclude));
    /// <summary>The first 12 hex digits of the hash, for display.</summary>
    public string ShortHash => Hashing.ContentHash.ShortHex(Hash, 12);

    /// <summary>O(1) lookup of a step by name (case-insensitive, as PowerShell names are).</summary>
    public AxlStep? GetStep(string name) => _byName.TryGetValue(name, out var s) ? s : null;
    public bool ContainsStep(string name) => _byName.ContainsKey(name);

    public IReadOnlyList<AxlEdge> IncomingEdges(string step) => Index.Incoming.TryGetValue(step, out var l) ? l : (IReadOnlyList<AxlEdge>)Array.Empty<AxlEdge>();
    public IReadOnlyList<AxlEdge> OutgoingEdges(string step) => Index.Outgoing.TryGetValue(step, out var l) ? l : (IReadOnlyList<AxlEdge>)Array.Empty<AxlEdge>();

    /// <summary>Steps in a topological order (stable: definition order among ready steps). Throws when the graph has a cycle.</summary>
    public IReadOnlyList<AxlStep> TopologicalOrder()
    {
        if (_order is not null) return _order;
        var names = Graph.GraphAlgorithms.TopologicalSort(this, out var cycle);
        if (names is null) throw new InvalidOperationException($"Workflow '{Name}' has a cycle: {string.Join(" -> ", cycle!)}.");
        return _order = names.Select(n => _byName[n]).ToList();
    }

    /// <summary>
    /// True when a condition of some step reads <paramref name="step"/>'s output (back ends then expose it as a value).
    /// The set of such steps is computed once, in one pass over the conditions.
    /// </summary>
    public bool IsReadByCondition(string step)
    {
        if (_readByConditions is null)
        {
            var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var s in Steps)
                if (s.Condition is not null)
                    foreach (var r in s.Condition.References())
                        if (!r.IsParameter) set.Add(r.Name);
            _readByConditions = set;
        }
        return _readByConditions.Contains(step);
    }

    /// <summary>All steps upstream of <paramref name="step"/> (transitively), iteratively computed.</summary>
    public IReadOnlySet<string> Ancestors(string step) => Graph.GraphAlgorithms.Ancestors(this, step);

    public override string ToString() => $"{Name} ({StepCount} steps, {ShortHash})";
}

/// <summary>Workflow-level options of the DSL (the AxlWorkflow keyword's parameters).</summary>
public sealed record WorkflowOptions
{
    public string? Image { get; init; }
    public string DefaultIoHandler { get; init; } = "clixml";
    public InputMode DefaultInputMode { get; init; } = InputMode.Object;
    public string? ServiceAccount { get; init; }
    /// <summary>Artifact store: "s3://bucket[/prefix]", "pvc[:size]", "ref:configmap[/key]" or null for the cluster default.</summary>
    public string? ArtifactStore { get; init; }
    public CodeDelivery CodeDelivery { get; init; } = CodeDelivery.Image;
    public DependencyPolicy Dependencies { get; init; } = DependencyPolicy.None;
    /// <summary>PowerShell modules every step needs ('Name' or 'Name@1.2.3'), from -Modules on the AxlWorkflow keyword.</summary>
    public IReadOnlyList<string> Modules { get; init; } = Array.Empty<string>();
    /// <summary>
    /// -WarmEnv: before the user's steps, a synthetic step (<see cref="Runtime.WarmEnvironment.StepName"/>) builds the
    /// Python virtual environment of <see cref="Dependencies"/> into a cache and saves every module the steps name, once
    /// per run (once per node on Argo/KFP); steps then start with both in place.
    /// </summary>
    public bool WarmEnv { get; init; }
    public string? Description { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new ReadOnlyDictionary<string, string>(new SortedDictionary<string, string>(StringComparer.Ordinal));
}
