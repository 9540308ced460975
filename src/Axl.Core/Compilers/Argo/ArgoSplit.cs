using System.Globalization;
using Axl.Model;
using Axl.Validation;
using static Axl.Compilers.Argo.ArgoObjects;

namespace Axl.Compilers.Argo;

/// <summary>
/// Splitting a workflow over Argo's limits (200 templates per object and 200 tasks per DAG in Argo v4's CRDs, about
/// 1 MiB per object in etcd) into WorkflowTemplates called by templateRef from a small parent Workflow.
/// <para>
/// Steps are cut, in the workflow's topological order, into groups that fit; each group is the "main-dag" DAG
/// template of a WorkflowTemplate that also holds the group's step templates (the same maps as the unsplit
/// compile). The parent's DAG calls the groups (tasks part-1, part-2, ...) and orders them by the edges between their
/// steps; when the groups are too many for one DAG, groups of groups are made the same way. What crosses a group
/// boundary travels as the group's inputs and outputs: a step's output artifact (named after the step), its scalar
/// read by a condition (u_value) and, for a step that may be skipped, its outcome (u_status), which a gate task of
/// the step's name inside the reading group turns back into Succeeded, Skipped or Omitted, so the unsplit depends
/// and when expressions keep their meaning. Same IR and options, same bytes.
/// </para>
/// </summary>
public static partial class ArgoCompiler
{
    /// <summary>The template of a gate task: it runs no pod (a suspend of 0 s) and only mirrors a step's outcome.</summary>
    public const string GateTemplate = "Gate";
    /// <summary>Task name prefix of a group in the parent (part-1, part-2, ...).</summary>
    public const string PartTaskPrefix = "part-";
    /// <summary>Suffix of the pre-gate that tells an Omitted step from a Skipped one.</summary>
    public const string ReachedSuffix = "-Reached";

    private enum ItemKind { Artifact, Value, Status }

    /// <summary>What a step hands across a group boundary: its output artifact, its scalar value, or its outcome.</summary>
    private readonly record struct Item(ItemKind Kind, AxlStep Step);

    /// <summary>
    /// <see cref="Item"/>'s equality (the same kind of the same step), for the sets and maps of items: the default
    /// comparer of a struct of this assembly is made by the JIT at its first, unoptimised tier in a fresh process, and a
    /// split compile of 10,000 steps looks items up tens of thousands of times.
    /// </summary>
    private sealed class ItemComparer : IEqualityComparer<Item>
    {
        public static readonly ItemComparer Instance = new();
        public bool Equals(Item a, Item b) => a.Kind == b.Kind && ReferenceEquals(a.Step, b.Step);
        public int GetHashCode(Item i) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(i.Step) * 3 + (int)i.Kind;
    }

    /// <summary>Whether <paramref name="items"/> holds <paramref name="item"/> (a step's few items: a look along the list).</summary>
    private static bool Holds(List<Item> items, Item item)
    {
        foreach (var i in items)
            if (ItemComparer.Instance.Equals(i, item)) return true;
        return false;
    }

    private static string ItemName(Item i) => i.Kind switch
    {
        ItemKind.Artifact => i.Step.KubernetesName,
        ItemKind.Value => i.Step.KubernetesName + "_value",
        _ => i.Step.KubernetesName + "_status",
    };

    /// <summary>One WorkflowTemplate of a split workflow: a group of steps, or a group of groups.</summary>
    private sealed class Part
    {
        private readonly HashSet<AxlStep> _steps = new(ReferenceEqualityComparer.Instance);

        public Part(int number, IReadOnlyList<AxlStep> steps, IReadOnlyList<Part> children)
        {
            Number = number;
            Steps = steps;
            Children = children;
            foreach (var s in steps) _steps.Add(s);
            foreach (var c in children) _steps.UnionWith(c.AllSteps);
        }

        public int Number { get; }
        /// <summary>The steps of a group of steps (empty for a group of groups).</summary>
        public IReadOnlyList<AxlStep> Steps { get; }
        /// <summary>The groups of a group of groups (empty for a group of steps).</summary>
        public IReadOnlyList<Part> Children { get; }
        public IEnumerable<AxlStep> AllSteps => _steps;
        /// <summary>Every step inside, as a set (for lookups without a delegate per call).</summary>
        public HashSet<AxlStep> StepSet => _steps;
        public bool Contains(AxlStep s) => _steps.Contains(s);

        private Dictionary<AxlStep, Part>? _childOf;

        /// <summary>The first of <see cref="Children"/> that holds <paramref name="s"/>, or null (one lookup, not a walk over the children).</summary>
        public Part? ChildHolding(AxlStep s)
        {
            if (_childOf is null)
            {
                var map = new Dictionary<AxlStep, Part>(_steps.Count, ReferenceEqualityComparer.Instance);
                foreach (var c in Children)
                    foreach (var step in c.AllSteps) map.TryAdd(step, c);
                _childOf = map;
            }
            return _childOf.GetValueOrDefault(s);
        }
        public string TaskName => PartTaskPrefix + Number.ToString(CultureInfo.InvariantCulture);
        public string TemplateName { get; set; } = "";
        public List<Item> Needs { get; } = new();
        public List<Item> Exports { get; } = new();
    }

    private sealed partial class Compilation
    {
        private Dictionary<AxlStep, int> _index = null!;
        /// <summary>The steps in topological order (<see cref="_index"/> gives each one's place in it).</summary>
        private IReadOnlyList<AxlStep> _order = null!;
        private Dictionary<AxlStep, List<Item>> _consumes = null!;
        private Dictionary<Item, List<AxlStep>> _consumers = null!;
        /// <summary>
        /// Each step's template: its YAML, written once to plan the split and copied into its WorkflowTemplate, with the
        /// map built again only when asked for (<see cref="RenderedMap"/>); the map itself when the direct writer left it.
        /// </summary>
        private Dictionary<AxlStep, IDictionary<string, object?>> _stepTemplates = null!;
        /// <summary>
        /// Each step's DAG task as the unsplit compile makes it, as YAML (null when the direct writer left it): what the
        /// group's DAG copies in for a step whose upstream steps are all in its group (<see cref="Task(AxlStep, Part?)"/>
        /// gives the same map then).
        /// </summary>
        private Dictionary<AxlStep, RenderedMap?> _stepTasks = null!;

        /// <summary>The workflow as WorkflowTemplates within the limits and a parent that calls them.</summary>
        public ArgoDocument Split(IReadOnlyList<AxlDiagnostic> warnings)
        {
            var order = _order = _wf.TopologicalOrder();
            _index = new Dictionary<AxlStep, int>(ReferenceEqualityComparer.Instance);
            for (var i = 0; i < order.Count; i++) _index[order[i]] = i;
            CompileTrace.Mark("split: topological order");
            var work = PerStep(order, s =>
            {
                var data = _storage.Kind == ArgoStorageKind.Volume ? null : DataUpstream(s);
                return StepWork.Of(StepTemplateYaml(s, TemplateIndent, data), () => StepTemplate(s), TaskYaml(s, TaskIndent, data), () => Task(s), Consumes(s, data));
            });
            _stepTemplates = new Dictionary<AxlStep, IDictionary<string, object?>>(order.Count, ReferenceEqualityComparer.Instance);
            _stepTasks = new Dictionary<AxlStep, RenderedMap?>(order.Count, ReferenceEqualityComparer.Instance);
            for (var i = 0; i < order.Count; i++)
            {
                _stepTemplates[order[i]] = work[i].Template;
                _stepTasks[order[i]] = work[i].Task;
            }
            CompileTrace.Mark("split: step templates and their YAML");
            MapItems(order, work);
            CompileTrace.Mark("split: items mapped");

            // Bytes of each step's template and task as they sit in a WorkflowTemplate, plus its share of the group's interface.
            var cost = new Dictionary<AxlStep, long>(ReferenceEqualityComparer.Instance);
            for (var i = 0; i < order.Count; i++)
                cost[order[i]] = work[i].TemplateBytes + work[i].TaskBytes + 260L * _consumes[order[i]].Count;
            CompileTrace.Mark("split: step costs");
            var overhead = YamlBytes(TemplateObject(new Part(0, Array.Empty<AxlStep>(), Array.Empty<Part>()), Map().With("name", Entrypoint)), 0) + 512;
            var budget = _o.MaxBytes - overhead - _o.MaxBytes / 16;
            for (var attempt = 0; attempt < 10 && budget > 0; attempt++)
            {
                var (result, overshoot) = TrySplit(order, cost, budget, warnings);
                if (result is not null) return result;
                // The estimate missed by this factor (a group's interface is larger than its share): aim lower by as much.
                budget = (long)(budget / Math.Max(overshoot, 1.05) * 0.97);
            }
            throw new AxlCompileException(CompileErrorIds.ArgoTooLarge,
                $"workflow '{_wf.Name}' could not be split into WorkflowTemplates under {ArgoDocument.FormatSize(_o.MaxBytes)} with at most {_o.MaxTemplates} templates and {_o.MaxDagTasks} DAG tasks each.",
                "raise -MaxBytes, -MaxTemplates or -MaxDagTasks (axl compile --max-bytes, --max-templates, --max-dag-tasks) if your cluster allows it, or use fewer, smaller steps.", _wf.Name);
        }

        /// <summary>
        /// One try at a byte budget per group: null when an object came out over the size limit, with how far over the
        /// largest one was (the caller tries a budget smaller by that factor).
        /// </summary>
        private (ArgoDocument? Result, double Overshoot) TrySplit(IReadOnlyList<AxlStep> order, Dictionary<AxlStep, long> cost, long budget, IReadOnlyList<AxlDiagnostic> warnings)
        {
            var parts = new List<Part>();
            var units = Groups(order, cost, budget, parts);
            CompileTrace.Mark($"split: {parts.Count} groups");
            // The parent calls the top groups; too many of them (or too many bytes) make groups of groups.
            Part top;
            while (true)
            {
                top = new Part(0, Array.Empty<AxlStep>(), units);
                var tasks = units.Select(u => (object?)PartTask(u, top)).ToList();
                var size = tasks.Sum(t => YamlBytes(t!, 6));
                if (units.Count <= _o.MaxDagTasks && size + 8192 <= ParentBudget) break;
                var next = GroupsOfGroups(units, top, budget, parts.Count + 1, out var made);
                if (next.Count >= units.Count)
                {
                    // No fewer groups (each would take in too much): a parent up to the full limit, else a smaller budget.
                    if (units.Count <= _o.MaxDagTasks && size + 8192 <= _o.MaxBytes) break;
                    return (null, 1.25);
                }
                parts.AddRange(made);
                units = next;
            }

            var hash = _hash;
            var hex = Hashing.ContentHash.ShortHex(hash, 10);
            var prefix = _wf.KubernetesName;
            var room = 63 - hex.Length - 2 - parts.Count.ToString(CultureInfo.InvariantCulture).Length;
            if (prefix.Length > room) prefix = prefix[..room].TrimEnd('-');
            CompileTrace.Mark($"split: groups of groups ({units.Count} top units)");
            foreach (var p in parts) p.TemplateName = prefix + "-" + hex + "-" + p.Number.ToString(CultureInfo.InvariantCulture);
            ComputeInterfaces(parts);
            CompileTrace.Mark("split: interfaces");

            // Each part's tree and YAML reads the plan and writes only its own document: on several threads, in order.
            var templates = InParallel(parts, 1, p =>
            {
                var dag = p.Children.Count == 0 ? GroupDag(p) : GroupOfGroupsDag(p);
                return new ArgoDocument(_wf, _o, TemplateObject(p, dag), Storage, Delivery, ImagesOf(p), p.StepSet.Count, warnings,
                    kind: ArgoKind.WorkflowTemplate, name: p.TemplateName, workflowHash: hash);
            });
            CompileTrace.Mark($"split: {parts.Count} part documents (trees and YAML)");
            var overshoot = templates.Max(doc => (double)doc.Size / _o.MaxBytes);
            if (overshoot > 1) return (null, overshoot);

            var root = top; // the final top units: the parent's DAG calls them
            var parentDag = Map().With("name", Entrypoint)
                .With("dag", Map().With("tasks", units.Select(u => (object?)PartTask(u, root)).ToList()));
            var parentTree = Map()
                .With("apiVersion", ApiVersion)
                .With("kind", _o.Kind.ToString())
                .With("metadata", Metadata(parts.Select(p => p.TemplateName).ToList()))
                .With("spec", Spec(new List<object?> { parentDag }, (_o.Parallelism ?? ArgoCompileOptions.DefaultSplitParallelism) is > 0 and var n ? n : null, podGc: true));
            CompileTrace.Mark("split: parent tree");
            var parent = new ArgoDocument(_wf, _o, parentTree, Storage, Delivery, Images, TaskCount, warnings, templates, workflowHash: hash);
            CompileTrace.Mark("split: parent document (YAML)");
            return parent.Size > _o.MaxBytes ? (null, (double)parent.Size / _o.MaxBytes) : (parent, 0);
        }

        /// <summary>
        /// The most bytes the parent's spec may take: a quarter of the limit, as a running Workflow's status (a node per
        /// step, pod and retry) grows in the same object until the controller compresses or offloads it.
        /// </summary>
        private long ParentBudget => Math.Max(_o.MaxBytes / 4, Math.Min(_o.MaxBytes, 64 * 1024));

        private IReadOnlyList<string> ImagesOf(Part p) =>
            p.AllSteps.Select(s => CompilerSteps.ImageOf(_wf, s, _o.Image)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        /// <summary>
        /// What step <paramref name="s"/> reads from others, each once: the artifacts of <paramref name="dataUpstream"/>
        /// (its <see cref="DataUpstream"/>, null on a shared volume), the values its condition reads, and the outcomes of
        /// the steps it comes after that may be skipped.
        /// </summary>
        private List<Item> Consumes(AxlStep s, List<AxlStep>? dataUpstream)
        {
            // Artifacts first: DataUpstream gives each upstream step once, so they need no check against each other.
            var distinct = new List<Item>();
            if (dataUpstream is not null)
                foreach (var u in dataUpstream) distinct.Add(new Item(ItemKind.Artifact, u));
            if (s.Condition is { } c)
                foreach (var r in c.References())
                    if (!r.IsParameter && _wf.GetStep(r.Name) is { } u && !Holds(distinct, new Item(ItemKind.Value, u))) distinct.Add(new Item(ItemKind.Value, u));
            if (_maySkip.Count > 0)
                foreach (var name in s.Upstream)
                    if (_maySkip.Contains(name) && !Holds(distinct, new Item(ItemKind.Status, _wf.GetStep(name)!))) distinct.Add(new Item(ItemKind.Status, _wf.GetStep(name)!));
            return distinct;
        }

        /// <summary>What each step reads from others (<see cref="Consumes"/>, worked out with its template), and who reads each.</summary>
        private void MapItems(IReadOnlyList<AxlStep> order, StepWork[] work)
        {
            _consumes = new Dictionary<AxlStep, List<Item>>(order.Count, ReferenceEqualityComparer.Instance);
            _consumers = new Dictionary<Item, List<AxlStep>>(ItemComparer.Instance);
            for (var i = 0; i < order.Count; i++)
            {
                var s = order[i];
                _consumes[s] = work[i].Consumes;
                foreach (var item in work[i].Consumes)
                {
                    if (!_consumers.TryGetValue(item, out var list)) _consumers[item] = list = new List<AxlStep>();
                    list.Add(s);
                }
            }
        }

        /// <summary>Tasks a gate for step <paramref name="u"/> takes: two when u can end both Skipped (its condition) and Omitted (a step above it skipped).</summary>
        private int GateTasks(AxlStep u)
        {
            if (u.Condition is null) return 1;
            foreach (var name in u.Upstream)
                if (_maySkip.Contains(name)) return 2;
            return 1;
        }

        /// <summary>Steps outside <paramref name="inside"/> that <paramref name="s"/> comes after and that may be skipped: each needs a gate.</summary>
        private IReadOnlyList<AxlStep> GatedUpstream(AxlStep s, HashSet<AxlStep> inside)
        {
            List<AxlStep>? gated = null;
            if (_maySkip.Count > 0)
                foreach (var name in s.Upstream)
                    if (_maySkip.Contains(name) && _wf.GetStep(name)! is var u && !inside.Contains(u)) (gated ??= new List<AxlStep>()).Add(u);
            return gated ?? (IReadOnlyList<AxlStep>)Array.Empty<AxlStep>();
        }

        /// <summary>Cuts the steps, in topological order, into groups within the item limits and the byte budget.</summary>
        private List<Part> Groups(IReadOnlyList<AxlStep> order, Dictionary<AxlStep, long> cost, long budget, List<Part> parts)
        {
            var groups = new List<Part>();
            var current = new List<AxlStep>();
            var inCurrent = new HashSet<AxlStep>(ReferenceEqualityComparer.Instance);
            var gated = new HashSet<AxlStep>(ReferenceEqualityComparer.Instance);
            var inputParameters = new HashSet<Item>(ItemComparer.Instance);
            var newGates = new List<AxlStep>();
            var newParameters = new List<Item>();
            long bytes = 0;
            var gateTasks = 0;

            void Close()
            {
                if (current.Count == 0) return;
                var part = new Part(parts.Count + 1, current.ToList(), Array.Empty<Part>());
                parts.Add(part);
                groups.Add(part);
                current.Clear();
                inCurrent.Clear();
                gated.Clear();
                inputParameters.Clear();
                bytes = 0;
                gateTasks = 0;
            }

            foreach (var s in order)
            {
                for (var fresh = current.Count == 0; ; fresh = true)
                {
                    newGates.Clear();
                    var extraTasks = 0;
                    foreach (var u in GatedUpstream(s, inCurrent))
                        if (!gated.Contains(u) && !newGates.Contains(u))
                        {
                            newGates.Add(u);
                            extraTasks += GateTasks(u);
                        }
                    var tasks = current.Count + 1 + gateTasks + extraTasks;
                    var templates = current.Count + 1 + 1 + (gateTasks + extraTasks > 0 ? 1 : 0);
                    var add = cost[s] + 160L * extraTasks;
                    // The group's input parameters: values and outcomes of steps outside (a step's readers come after it).
                    newParameters.Clear();
                    foreach (var i in _consumes[s])
                        if (i.Kind != ItemKind.Artifact && !inCurrent.Contains(i.Step) && !inputParameters.Contains(i)) newParameters.Add(i);
                    var parameterCount = inputParameters.Count + newParameters.Count;
                    if (tasks <= _o.MaxDagTasks && templates <= _o.MaxTemplates && parameterCount <= _o.MaxInputParameters && bytes + add <= budget)
                    {
                        current.Add(s);
                        inCurrent.Add(s);
                        inputParameters.UnionWith(newParameters);
                        gated.UnionWith(newGates);
                        gateTasks += extraTasks;
                        bytes += add;
                        break;
                    }
                    if (fresh)
                        throw new AxlCompileException(CompileErrorIds.ArgoTooLarge,
                            $"step '{s.Name}' of workflow '{_wf.Name}' does not fit in a WorkflowTemplate on its own ({tasks} DAG tasks with its gates, {templates} templates, {parameterCount} input parameters, about {ArgoDocument.FormatSize(add)}), " +
                            $"within the limits of {_o.MaxDagTasks} tasks, {_o.MaxTemplates} templates, {_o.MaxInputParameters} input parameters and {ArgoDocument.FormatSize(_o.MaxBytes)}.",
                            "raise -MaxDagTasks, -MaxTemplates or -MaxBytes (axl compile --max-dag-tasks, --max-templates, --max-bytes), or make the step smaller (fewer inputs, less inline data).", _wf.Name);
                    Close();
                }
            }
            Close();
            return groups;
        }

        /// <summary>
        /// Cuts a list of groups, in order, into groups of groups within the DAG task limit, the input parameter limit
        /// and the byte budget; a group that would be alone in one stays as it is. <paramref name="made"/>: the new
        /// groups of groups, numbered from <paramref name="number"/>.
        /// </summary>
        private List<Part> GroupsOfGroups(IReadOnlyList<Part> units, Part top, long budget, int number, out List<Part> made)
        {
            var result = new List<Part>();
            var created = new List<Part>();
            var current = new List<Part>();
            var inputParameters = new HashSet<Item>(ItemComparer.Instance);
            long bytes = 0;
            void Close()
            {
                if (current.Count == 1) result.Add(current[0]);
                else if (current.Count > 1)
                {
                    var part = new Part(number++, Array.Empty<AxlStep>(), current.ToList());
                    created.Add(part);
                    result.Add(part);
                }
                current.Clear();
                inputParameters.Clear();
                bytes = 0;
            }
            foreach (var u in units)
            {
                var needs = NeedsOf(u);
                // Measured as a task of the top DAG: inside a group of groups its arguments are as long or shorter.
                var add = YamlBytes(PartTask(u, top), 6) + 400L * needs.Count;
                // Earlier groups never read a later one, so what u needs from outside only adds to what the group needs.
                var newParameters = new List<Item>();
                foreach (var i in needs)
                    if (i.Kind != ItemKind.Artifact && !InAny(current, i.Step) && !inputParameters.Contains(i)) newParameters.Add(i);
                if (current.Count > 0 && (current.Count + 1 > _o.MaxDagTasks || bytes + add > budget || inputParameters.Count + newParameters.Count > _o.MaxInputParameters))
                {
                    Close();
                    newParameters.Clear();
                    foreach (var i in needs)
                        if (i.Kind != ItemKind.Artifact) newParameters.Add(i);
                }
                current.Add(u);
                inputParameters.UnionWith(newParameters);
                bytes += add;
            }
            Close();
            made = created;
            return result;
        }

        private static bool InAny(List<Part> parts, AxlStep s)
        {
            foreach (var p in parts)
                if (p.Contains(s)) return true;
            return false;
        }

        /// <summary>Which items each group takes in and hands out, in topological order of their steps.</summary>
        private void ComputeInterfaces(List<Part> parts)
        {
            foreach (var p in parts)
            {
                p.Needs.Clear();
                p.Exports.Clear();
                AddInOrder(p.Needs, NeedsOf(p));
                var exports = new List<Item>();
                foreach (var s in p.StepSet)
                    for (var kind = ItemKind.Artifact; kind <= ItemKind.Status; kind++)
                        if (_consumers.TryGetValue(new Item(kind, s), out var readers) && ReadOutside(readers, p)) exports.Add(new Item(kind, s));
                AddInOrder(p.Exports, exports);
            }
        }

        /// <summary>
        /// Adds distinct <paramref name="items"/> to <paramref name="into"/> in topological order of their steps, then by
        /// kind: each item's place (step index * 3 + kind) is its own, so the places are sorted as numbers and read back
        /// as items (no sort over the struct, whose generic code the JIT would make unoptimised in a fresh process).
        /// </summary>
        private void AddInOrder(List<Item> into, List<Item> items)
        {
            var places = new int[items.Count];
            for (var n = 0; n < items.Count; n++) places[n] = _index[items[n].Step] * 3 + (int)items[n].Kind;
            Array.Sort(places);
            foreach (var place in places) into.Add(new Item((ItemKind)(place % 3), _order[place / 3]));
        }

        private static bool ReadOutside(List<AxlStep> readers, Part p)
        {
            foreach (var c in readers)
                if (!p.Contains(c)) return true;
            return false;
        }

        /// <summary>A WorkflowTemplate holding one group's DAG (and, for a group of steps, the gate and step templates).</summary>
        private ArgoMap TemplateObject(Part p, ArgoMap dag)
        {
            var templates = new List<object?> { dag };
            if (p.Steps.Count > 0)
            {
                if (p.Steps.Any(s => GatedUpstream(s, p.StepSet).Count > 0))
                    templates.Add(Map().With("name", GateTemplate).With("suspend", Map().With("duration", "0")));
                templates.AddRange(p.Steps.Select(s => (object?)_stepTemplates[s]));
            }
            var labels = Map()
                .With(LabelPrefix + "workflow", _wf.KubernetesName)
                .With(LabelPrefix + "workflow-hash", Hashing.ContentHash.ShortHex(_hash, 12))
                .With(LabelPrefix + "version", LabelValue(AxlInfo.Version))
                .With(LabelPrefix + "part", p.Number.ToString(CultureInfo.InvariantCulture));
            var annotations = Map()
                .With(LabelPrefix + "workflow", _wf.Name)
                .With(LabelPrefix + "workflow-hash", _hash)
                .With(LabelPrefix + "version", AxlInfo.Version)
                .With(LabelPrefix + "source", _workflowFile);
            return Map()
                .With("apiVersion", ApiVersion)
                .With("kind", nameof(ArgoKind.WorkflowTemplate))
                .With("metadata", Map().With("name", p.TemplateName).With("namespace", _o.Namespace).With("labels", labels).With("annotations", annotations))
                .With("spec", Map().With("arguments", Arguments()).With("templates", templates));
        }

        /// <summary>The DAG of a group of steps: gates for the outcomes of steps above it that may be skipped, then its steps' tasks.</summary>
        private ArgoMap GroupDag(Part p)
        {
            var tasks = new List<object?>();
            var gates = p.Steps.SelectMany(s => GatedUpstream(s, p.StepSet)).Distinct().OrderBy(u => _index[u]);
            foreach (var u in gates)
            {
                var status = "'{{inputs.parameters." + ItemName(new Item(ItemKind.Status, u)) + "}}'";
                var gate = Map().With("name", u.KubernetesName).With("template", GateTemplate);
                if (GateTasks(u) == 2)
                {
                    tasks.Add(Map().With("name", u.KubernetesName + ReachedSuffix).With("template", GateTemplate).With("when", status + " != 'Omitted'"));
                    gate.With("depends", u.KubernetesName + ReachedSuffix + ".Succeeded");
                }
                tasks.Add(gate.With("when", status + " == 'Succeeded'"));
            }
            foreach (var s in p.Steps) tasks.Add(_stepTasks[s] is { } rendered && AllInside(s, p) ? rendered : Task(s, p));
            return Map()
                .With("name", Entrypoint)
                .With("inputs", Inputs(p))
                .With("outputs", Outputs(p, i => "tasks." + i.Step.KubernetesName + (i.Kind == ItemKind.Artifact ? ".outputs.artifacts." + OutputArtifact : ".outputs.parameters." + ValueParameter)))
                .With("dag", Map().With("tasks", tasks));
        }

        /// <summary>
        /// Whether every step <paramref name="s"/> comes after or reads from (artifacts, condition values, outcomes) is in
        /// group <paramref name="p"/>: then its task in the group is its task in the unsplit DAG.
        /// </summary>
        private bool AllInside(AxlStep s, Part p)
        {
            if (_wf.Options.WarmEnv) return false;
            foreach (var name in s.Upstream)
                if (!p.Contains(_wf.GetStep(name)!)) return false;
            // The artifacts it reads (unless on a shared volume) and the steps its condition reads.
            foreach (var i in _consumes[s])
                if (!p.Contains(i.Step)) return false;
            return true;
        }

        /// <summary>The DAG of a group of groups: one templateRef task per group.</summary>
        private ArgoMap GroupOfGroupsDag(Part p) => Map()
            .With("name", Entrypoint)
            .With("inputs", Inputs(p))
            .With("outputs", Outputs(p, i => "tasks." + p.ChildHolding(i.Step)!.TaskName + (i.Kind == ItemKind.Artifact ? ".outputs.artifacts." : ".outputs.parameters.") + ItemName(i)))
            .With("dag", Map().With("tasks", p.Children.Select(c => (object?)PartTask(c, p)).ToList()));

        private ArgoMap Inputs(Part p)
        {
            var parameters = new List<object?>();
            var artifacts = new List<object?>();
            foreach (var i in p.Needs)
                if (i.Kind != ItemKind.Artifact) parameters.Add(Map().With("name", ItemName(i)));
                else artifacts.Add(Map().With("name", ItemName(i)).With("optional", Optional(i)));
            return Map().With("parameters", parameters).With("artifacts", artifacts);
        }

        /// <param name="source">The reference (without braces) an exported item is read from inside the group.</param>
        private ArgoMap Outputs(Part p, Func<Item, string> source)
        {
            var leaf = p.Children.Count == 0;
            var parameters = new List<object?>();
            var artifacts = new List<object?>();
            foreach (var i in p.Exports)
            {
                var name = ItemName(i);
                switch (i.Kind)
                {
                    case ItemKind.Artifact:
                        artifacts.Add(Map().With("name", name).With("from", "{{" + source(i) + "}}").With("optional", Optional(i)));
                        break;
                    case ItemKind.Value:
                        // A skipped step has no value: the default keeps the group's outputs resolvable (its readers do not run).
                        parameters.Add(Map().With("name", name).With("valueFrom", Map().With("parameter", "{{" + source(i) + "}}").With("default", leaf ? "" : null)));
                        break;
                    default:
                        // Argo's lint has no tasks.X.status in a DAG's output scope; the controller's expression env has it.
                        parameters.Add(Map().With("name", name).With("valueFrom", leaf
                            ? Map().With("expression", "tasks['" + i.Step.KubernetesName + "'].status")
                            : Map().With("parameter", "{{" + source(i) + "}}")));
                        break;
                }
            }
            return Map().With("parameters", parameters).With("artifacts", artifacts);
        }

        private object? Optional(Item i) => _maySkip.Contains(i.Step.Name) ? true : null;

        /// <summary>
        /// The task calling group <paramref name="child"/> from the DAG of <paramref name="container"/> (the parent when
        /// it holds every step): after the sibling groups its steps come after, with each item it needs from a sibling's
        /// outputs or from the container's own inputs.
        /// </summary>
        private ArgoMap PartTask(Part child, Part container)
        {
            Part? Sibling(AxlStep s) => container.Contains(s) ? container.ChildHolding(s) : null;
            var after = new SortedSet<int>();
            foreach (var s in child.AllSteps)
                foreach (var name in s.Upstream)
                {
                    var u = _wf.GetStep(name)!;
                    if (!child.Contains(u) && Sibling(u) is { } v) after.Add(v.Number);
                }
            string From(Item i, string what) => Sibling(i.Step) is { } v
                ? "{{tasks." + v.TaskName + ".outputs." + what + "." + ItemName(i) + "}}"
                : "{{inputs." + what + "." + ItemName(i) + "}}";
            var needs = child.Needs.Count > 0 ? child.Needs : NeedsOf(child);
            var parameters = new List<object?>();
            var artifacts = new List<object?>();
            foreach (var i in needs)
                if (i.Kind != ItemKind.Artifact) parameters.Add(Parameter(ItemName(i), From(i, "parameters")));
                else artifacts.Add(Map().With("name", ItemName(i)).With("from", From(i, "artifacts")).With("optional", Optional(i)));
            var arguments = Map().With("parameters", parameters).With("artifacts", artifacts);
            return Map()
                .With("name", child.TaskName)
                .With("templateRef", Map().With("name", child.TemplateName.Length > 0 ? child.TemplateName : "?").With("template", Entrypoint))
                .With("depends", after.Count == 0 ? null : string.Join(" && ", after.Select(n => PartTaskPrefix + n.ToString(CultureInfo.InvariantCulture))))
                .With("arguments", arguments);
        }

        /// <summary>The needs of a group before <see cref="ComputeInterfaces"/> ran (for size estimates).</summary>
        private List<Item> NeedsOf(Part p)
        {
            // Each item once, where it is first read (the order of the part's steps, then of each step's items).
            var needs = new List<Item>();
            var seen = new HashSet<Item>(ItemComparer.Instance);
            foreach (var s in p.StepSet)
                foreach (var i in _consumes[s])
                    if (!p.Contains(i.Step) && seen.Add(i)) needs.Add(i);
            return needs;
        }

        /// <summary>List item indent of a step template in a WorkflowTemplate (spec.templates).</summary>
        private const int TemplateIndent = 4;
        /// <summary>List item indent of a task in a WorkflowTemplate's DAG (spec.templates[0].dag.tasks).</summary>
        private const int TaskIndent = 10;

        /// <summary>
        /// A step's template as the documents take it (a <see cref="RenderedMap"/> of its YAML, or the map itself when
        /// the direct writer leaves it to YamlDotNet), its unsplit DAG task as YAML (null when left to YamlDotNet), and
        /// the bytes of the template and of the task as they sit in a WorkflowTemplate (<see cref="YamlBytes"/> at
        /// indents <see cref="TemplateIndent"/> and <see cref="TaskIndent"/>), and what the step reads from others.
        /// </summary>
        private readonly record struct StepWork(IDictionary<string, object?> Template, RenderedMap? Task, long TemplateBytes, long TaskBytes, List<Item> Consumes)
        {
            /// <param name="templateYaml">The template's YAML written straight from the step (<see cref="StepTemplateYaml"/>), or null to build and write its tree.</param>
            /// <param name="template">Builds the template's tree (when there is no YAML yet, or for a reader of the tree later).</param>
            /// <param name="taskYaml">The task's YAML written straight from the step (<see cref="TaskYaml"/>), or null.</param>
            /// <param name="task">Builds the task's tree.</param>
            /// <param name="consumes">What the step reads from others (<see cref="Compilation.Consumes"/>).</param>
            public static StepWork Of(ReadOnlyMemory<char>? templateYaml, Func<ArgoMap> template, ReadOnlyMemory<char>? taskYaml, Func<ArgoMap> task, List<Item> consumes)
            {
                // The template first: a step that cannot be compiled fails on its template's error, as when both were trees.
                var (renderedTemplate, templateBytes) = Rendered(templateYaml, TemplateIndent, template);
                var (renderedTask, taskBytes) = Rendered(taskYaml, TaskIndent, task);
                return new(renderedTemplate.Map ?? (IDictionary<string, object?>)renderedTemplate.Tree!, renderedTask.Map, templateBytes, taskBytes, consumes);
            }

            /// <summary>
            /// A map as a list item at <paramref name="indent"/>: <paramref name="yaml"/>, else the tree's text when the
            /// direct writer takes it, else the tree itself; and its bytes as <see cref="YamlBytes"/> counts them (the text
            /// at indent 0 plus <paramref name="indent"/> per line): the text's lines after the first carry indent + 2
            /// spaces each.
            /// </summary>
            private static ((RenderedMap? Map, ArgoMap? Tree), long Bytes) Rendered(ReadOnlyMemory<char>? yaml, int indent, Func<ArgoMap> build)
            {
                if (yaml is null)
                {
                    var tree = build();
                    if (CompilerYaml.Render(tree, indent) is not { } text) return ((null, tree), YamlBytes(tree, indent));
                    yaml = text.AsMemory();
                }
                var t = yaml.Value;
                long lines = t.Span.Count('\n');
                return ((new RenderedMap(t, indent, build), null), t.Length - (lines - 1) * (indent + 2) + lines * indent);
            }
        }

        /// <summary>
        /// <paramref name="work"/> of every step, at the step's index in <paramref name="order"/>, on up to
        /// <see cref="ArgoCompileOptions.Threads"/> threads: blocks of steps handed out in turn keep the cores evenly busy.
        /// A step's work reads the IR and writes only its own result (and the locked images), so the results are the
        /// same on any number of threads; the error of the first failing step in the order is thrown, as in one loop.
        /// </summary>
        private T[] PerStep<T>(IReadOnlyList<AxlStep> order, Func<AxlStep, T> work) => InParallel(order, 64, work);

        /// <summary>
        /// <paramref name="work"/> of every item, at the item's index, on up to <see cref="ArgoCompileOptions.Threads"/>
        /// threads, handing out blocks of <paramref name="block"/> items in turn; the error of the first failing item in
        /// the list is thrown, as in one loop.
        /// </summary>
        private T[] InParallel<TItem, T>(IReadOnlyList<TItem> items, int block, Func<TItem, T> work)
        {
            var results = new T[items.Count];
            var errors = new System.Runtime.ExceptionServices.ExceptionDispatchInfo?[items.Count];
            var threads = _o.Threads > 0 ? _o.Threads : Environment.ProcessorCount;
            Parallel.For(0, (items.Count + block - 1) / block, new ParallelOptions { MaxDegreeOfParallelism = threads }, b =>
            {
                for (var i = b * block; i < Math.Min(items.Count, (b + 1) * block); i++)
                {
                    try { results[i] = work(items[i]); }
                    catch (Exception ex) { errors[i] = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex); }
                }
            });
            foreach (var e in errors) e?.Throw();
            return results;
        }

        /// <summary>Bytes of <paramref name="tree"/> as YAML, with <paramref name="indent"/> more spaces on each line (its place in the document).</summary>
        private static long YamlBytes(object tree, int indent)
        {
            var (chars, lines) = CompilerYaml.Measure(tree);
            return chars + lines * indent;
        }
    }
}
