using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Graph;
using Axl.Hashing;
using Axl.Model;
using Axl.Validation;
using YamlDotNet.Serialization;

namespace Axl.Bench;

/// <summary>
/// Scale: the IR built from a generated .axl.ps1 (the DSL load) and in memory (WorkflowBuilder), validated, and compiled
/// to Argo, for chains, wide fan-outs and random DAGs of 100 to 10,000 steps; each figure beside a floor measured in the
/// same round: the same file run by two plain PowerShell functions, a dictionary wiring of the same param blocks, a plain
/// topological sort and hash-set pass over the same edges, and raw YamlDotNet serialization of the same document.
/// </summary>
public sealed class ScaleBench(BenchConfig cfg, Report report)
{
    private readonly string _work = Path.Combine(cfg.Work, "scale");
    /// <summary>The unsplit compile: one object whatever its size (-Split None with every limit raised), as before splitting existed.</summary>
    private static readonly ArgoCompileOptions Unlimited = new() { Split = ArgoSplit.None, MaxBytes = long.MaxValue, MaxTemplates = int.MaxValue, MaxDagTasks = int.MaxValue };

    /// <summary>The default compile: split into WorkflowTemplates within Argo v4's limits (200 templates, 200 DAG tasks, 1 MiB) when over them.</summary>
    private static readonly ArgoCompileOptions Split = new();

    /// <summary>The measurements of one round, in the order they run.</summary>
    private static readonly string[] Measures =
        ["parse", "dslFloor", "load", "buildFloor", "build", "validateFloor", "validate", "yamlFloor", "jsonFloor", "compile", "split", "hash", "topo", "yaml"];

    private sealed class Row(Shape shape)
    {
        public Shape Shape { get; } = shape;
        public Dictionary<string, List<double>> T { get; } = Measures.ToDictionary(m => m, _ => new List<double>());
        public long YamlBytes;
        public long FloorYamlBytes;
        public bool TooLargeAtDefault;
        public string? TooLargeId;
        public string? TooLargeMessage;
        /// <summary>The default (split) compile: its objects, their bytes in all and the largest; or why it was refused.</summary>
        public int SplitObjects;
        public long SplitBytes;
        public long SplitLargest;
        public string? SplitRefused;
        public double Median(string m) => DispatchBench.Median(T[m]);
        public double Ratio(string m, string floor) => DispatchBench.Median(T[m].Select((x, i) => x / T[floor][i]).ToList());
        public double PerStepUs(string m) => Median(m) * 1e6 / Shape.Count;
    }

    public void Run()
    {
        Directory.CreateDirectory(_work);
        using var axl = new BenchRunspace();
        using var plain = new FloorDslRunspace();

        Console.WriteLine("  warming up (every shape at 100 steps, not kept)");
        foreach (var kind in Shape.Kinds) Round(Shape.Of(kind, 100), new Row(Shape.Of(kind, 100)), axl, plain, ScriptBlocksOf(Shape.Of(kind, 100)), "warm-up");

        var rows = new List<Row>();
        foreach (var kind in Shape.Kinds)
            foreach (var n in cfg.ScaleSizes)
            {
                var shape = Shape.Of(kind, n);
                Console.WriteLine($"  {shape.Name} ({shape.Count} steps, {shape.EdgeCount} edges)");
                var blocks = ScriptBlocksOf(shape);
                var row = new Row(shape);
                Round(shape, new Row(shape), axl, plain, blocks, "warm-up"); // not kept: JIT tiers for this size
                for (var r = 0; r < cfg.ScaleRuns; r++)
                {
                    var label = $"scale {shape.Name}, round {r + 1}";
                    Harness.Probe(label, _work);
                    var meter = LoadMeter.Start(label);
                    Round(shape, row, axl, plain, blocks, label);
                    var others = meter.Stop();
                    Console.WriteLine($"    round {r + 1}: load {Fmt.Seconds(row.T["load"][r])} (floor {Fmt.Seconds(row.T["dslFloor"][r])}), " +
                                      $"build {Fmt.Seconds(row.T["build"][r])} (floor {Fmt.Seconds(row.T["buildFloor"][r])}), " +
                                      $"validate {Fmt.Seconds(row.T["validate"][r])} (floor {Fmt.Seconds(row.T["validateFloor"][r])}), " +
                                      $"compile {Fmt.Seconds(row.T["compile"][r])} (floor {Fmt.Seconds(row.T["yamlFloor"][r])}), " +
                                      $"split compile {Fmt.Seconds(row.T["split"][r])}; other processes {LoadMeter.Cores(others)} cores");
                }
                TooLarge(shape, blocks, row);
                rows.Add(row);
            }
        Tables(rows);
    }

    /// <summary>--compile-loop shape:N: the build, validation and compile of one shape over and over, for a profiler.</summary>
    public static int CompileLoop(string spec, TimeSpan duration)
    {
        var parts = spec.Split(':');
        var shape = Shape.Of(parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture));
        var blocks = shape.ScriptBlocks();
        var file = Path.Combine(Path.GetTempPath(), shape.Name + ".axl.ps1");
        var until = Stopwatch.StartNew();
        for (var i = 1; until.Elapsed < duration; i++)
        {
            var sw = Stopwatch.StartNew();
            var wf = shape.Build(blocks, file);
            var build = sw.Elapsed.TotalSeconds;
            var diagnostics = WorkflowValidator.Validate(wf);
            var validate = sw.Elapsed.TotalSeconds - build;
            var doc = ArgoCompiler.Compile(wf, Unlimited);
            var compile = sw.Elapsed.TotalSeconds - build - validate;
            Console.WriteLine($"{shape.Name} #{i}: build {Fmt.Seconds(build)}, validate {Fmt.Seconds(validate)} ({diagnostics.Count} diagnostics), compile {Fmt.Seconds(compile)} ({Fmt.Int(doc.Size)} bytes)");
        }
        return 0;
    }

    private static ScriptBlock[] ScriptBlocksOf(Shape shape) => shape.ScriptBlocks();

    /// <summary>One round: every floor and every Axl figure once, back to back; inputs prepared off the clock.</summary>
    private void Round(Shape shape, Row row, BenchRunspace axl, FloorDslRunspace plain, ScriptBlock[] blocks, string label)
    {
        // A new path per load: PowerShell caches compiled scripts by file and content, and a user's first load is cold.
        string Fresh()
        {
            var p = Path.Combine(_work, $"{shape.Name}-{Guid.NewGuid().ToString("N")[..8]}.axl.ps1");
            File.WriteAllText(p, shape.FileText());
            return p;
        }
        void Add(string m, double s) => row.T[m].Add(s);

        var f1 = Fresh();
        Add("parse", Timed(() => { Parser.ParseFile(f1, out _, out var errors); if (errors.Length > 0) throw new InvalidOperationException(errors[0].Message); }));
        var f2 = Fresh();
        Add("dslFloor", Timed(() => plain.Load(f2, shape.Count)));
        var f3 = Fresh();
        AxlWorkflow? loaded = null;
        Add("load", Timed(() => loaded = axl.LoadWorkflow(f3)));
        if (loaded!.StepCount != shape.Count || loaded.EdgeCount != shape.EdgeCount)
            throw new InvalidOperationException($"{shape.Name}: loaded {loaded.StepCount} steps and {loaded.EdgeCount} edges, expected {shape.Count} and {shape.EdgeCount}");
        foreach (var f in new[] { f1, f2, f3 }) File.Delete(f);

        var file = Path.Combine(_work, shape.Name + ".axl.ps1");
        Add("buildFloor", Timed(() => BuildFloor(shape, blocks)));
        AxlWorkflow? built = null;
        Add("build", Timed(() => built = shape.Build(blocks, file)));

        Add("validateFloor", Timed(() => ValidateFloor(built!)));
        IReadOnlyList<AxlDiagnostic>? diagnostics = null;
        Add("validate", Timed(() => diagnostics = WorkflowValidator.Validate(built!)));
        if (diagnostics!.Count != 0) throw new InvalidOperationException($"{shape.Name}: {diagnostics[0]}");

        // Compile a workflow that has computed nothing yet (its hash and topological order are cached on first use).
        var fresh = shape.Build(blocks, file);
        ArgoDocument? doc = null;
        var compileTime = Timed(() => doc = ArgoCompiler.Compile(fresh, Unlimited));
        var plainTree = PlainCopy(doc!.Tree);
        string? floorYaml = null;
        Add("yamlFloor", Timed(() => floorYaml = FloorSerializer.Serialize(plainTree)));
        Add("jsonFloor", Timed(() => System.Text.Json.JsonSerializer.Serialize(plainTree)));
        Add("compile", compileTime);
        row.YamlBytes = doc.Size;
        row.FloorYamlBytes = System.Text.Encoding.UTF8.GetByteCount(floorYaml!);

        // The default compile of the same workflow: within Argo v4's limits, split into WorkflowTemplates when over them.
        var freshSplit = shape.Build(blocks, file);
        ArgoDocument? split = null;
        string? refused = null;
        Add("split", Timed(() =>
        {
            try { split = ArgoCompiler.Compile(freshSplit, Split); }
            catch (AxlCompileException ex) { refused = $"{ex.Id}: {ex.Message}"; }
        }));
        row.SplitRefused = refused;
        if (split is not null)
        {
            row.SplitObjects = split.Documents.Count();
            row.SplitBytes = split.Documents.Sum(d => d.Size);
            row.SplitLargest = split.Documents.Max(d => d.Size);
        }

        // Pieces of the compile, each alone (for the breakdown): the content hash, the topological order, the YAML writer.
        var again = shape.Build(blocks, file);
        Add("hash", Timed(() => WorkflowHasher.Compute(again)));
        Add("topo", Timed(() => GraphAlgorithms.TopologicalSort(again, out _)));
        Add("yaml", Timed(() => CompilerYaml.Serialize(doc.Tree)));
    }

    /// <summary>
    /// Compiles as one object (-Split None) with the default limits once: a workflow over Argo v4's item limits or 1 MiB
    /// must be refused at compile time, with the remedies.
    /// </summary>
    private void TooLarge(Shape shape, ScriptBlock[] blocks, Row row)
    {
        var wf = shape.Build(blocks, Path.Combine(_work, shape.Name + ".axl.ps1"));
        try
        {
            var d = ArgoCompiler.Compile(wf, new ArgoCompileOptions { Split = ArgoSplit.None });
            if (d.Size > ArgoCompileOptions.DefaultMaxBytes || d.TaskCount >= ArgoCompileOptions.DefaultMaxItems)
                throw new InvalidOperationException($"{shape.Name}: {d.Size} bytes and {d.TaskCount} tasks compiled as one object without an error");
        }
        catch (AxlCompileException ex) when (ex.Id is CompileErrorIds.ArgoTooLarge or CompileErrorIds.ArgoTooManyItems)
        {
            row.TooLargeAtDefault = true;
            row.TooLargeId = ex.Id;
            row.TooLargeMessage = ex.Message;
        }
    }

    private static double Timed(Action a)
    {
        Harness.Collect();
        var sw = Stopwatch.StartNew();
        a();
        sw.Stop();
        return sw.Elapsed.TotalSeconds;
    }

    // ---- floors -------------------------------------------------------------------------------------------------------

    /// <summary>
    /// The least any wiring of these steps does: each step's parameter names read from its (already parsed) param block,
    /// looked up by name among the steps, an edge recorded per match.
    /// </summary>
    private static int BuildFloor(Shape shape, ScriptBlock[] blocks)
    {
        var index = new Dictionary<string, int>(shape.Count, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < shape.Count; i++) index.TryAdd(shape.Steps[i].Name, i);
        var edges = new List<(int, int)>();
        for (var i = 0; i < blocks.Length; i++)
        {
            if (((ScriptBlockAst)blocks[i].Ast).ParamBlock is not { } pb) continue;
            foreach (var p in pb.Parameters)
                if (index.TryGetValue(p.Name.VariablePath.UserPath, out var j)) edges.Add((j, i));
        }
        if (edges.Count != shape.EdgeCount) throw new InvalidOperationException("floor wiring lost edges");
        return edges.Count;
    }

    /// <summary>
    /// The least a validation does: step names unique (case-insensitive, and as lower-case DNS names), every edge's ends
    /// looked up, and a plain topological sort (Kahn) to prove there is no cycle.
    /// </summary>
    private static int ValidateFloor(AxlWorkflow wf)
    {
        var steps = wf.Steps;
        var index = new Dictionary<string, int>(steps.Count, StringComparer.OrdinalIgnoreCase);
        var dns = new HashSet<string>(steps.Count, StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            if (!index.TryAdd(steps[i].Name, i)) throw new InvalidOperationException("duplicate");
            if (!dns.Add(steps[i].Name.ToLowerInvariant().Replace('_', '-'))) throw new InvalidOperationException("collision");
        }
        var indegree = new int[steps.Count];
        var next = new List<int>?[steps.Count];
        foreach (var e in wf.Edges)
        {
            var from = index[e.From];
            var to = index[e.To];
            indegree[to]++;
            (next[from] ??= new()).Add(to);
        }
        var ready = new Queue<int>();
        for (var i = 0; i < steps.Count; i++) if (indegree[i] == 0) ready.Enqueue(i);
        var seen = 0;
        while (ready.TryDequeue(out var n))
        {
            seen++;
            if (next[n] is { } succ) foreach (var m in succ) if (--indegree[m] == 0) ready.Enqueue(m);
        }
        if (seen != steps.Count) throw new InvalidOperationException("cycle");
        return seen;
    }

    /// <summary>YamlDotNet with its defaults (sequences indented as Axl writes them, so the document is the same size).</summary>
    private static readonly ISerializer FloorSerializer = new SerializerBuilder().WithIndentedSequences().Build();

    /// <summary>The compiled document as plain dictionaries, lists and strings: the same structure and content.</summary>
    private static object? PlainCopy(object? node) => node switch
    {
        IReadOnlyDictionary<string, object?> map => map.ToDictionary(kv => kv.Key, kv => PlainCopy(kv.Value)),
        IDictionary<string, object?> map => map.ToDictionary(kv => kv.Key, kv => PlainCopy(kv.Value)),
        string s => s,
        System.Collections.IEnumerable list => list.Cast<object?>().Select(PlainCopy).ToList(),
        _ => node,
    };

    /// <summary>A runspace without Axl where AxlWorkflow and Step are two plain PowerShell functions that record each step.</summary>
    private sealed class FloorDslRunspace : IDisposable
    {
        private readonly Runspace _rs;

        public FloorDslRunspace()
        {
            _rs = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
            _rs.Open();
            using var ps = PowerShell.Create();
            ps.Runspace = _rs;
            ps.AddScript("""
                function global:AxlWorkflow { param([string] $Name, [scriptblock] $Body) $global:__floorSteps = [System.Collections.Generic.List[object]]::new(); $null = & $Body; $global:__floorSteps.Count }
                function global:Step { param([string] $Name, [scriptblock] $Body) $global:__floorSteps.Add([System.Tuple[string, scriptblock]]::new($Name, $Body)) }
                """).Invoke();
        }

        public void Load(string path, int expected)
        {
            using var ps = PowerShell.Create();
            ps.Runspace = _rs;
            ps.AddScript("param($p) & $p").AddArgument(path);
            var result = ps.Invoke();
            if (ps.HadErrors || result.Count != 1 || Convert.ToInt32(result[0].BaseObject, CultureInfo.InvariantCulture) != expected)
                throw new InvalidOperationException($"floor DSL load of {path} failed: {string.Join("; ", ps.Streams.Error)}");
        }

        public void Dispose() => _rs.Dispose();
    }

    // ---- tables -------------------------------------------------------------------------------------------------------

    private void Tables(List<Row> rows)
    {
        var smallest = cfg.ScaleSizes.Min();
        double Growth(Row r, string m)
        {
            var baseRow = rows.FirstOrDefault(x => x.Shape.Kind == r.Shape.Kind && x.Shape.Count == smallest);
            return baseRow is null ? double.NaN : r.PerStepUs(m) / baseRow.PerStepUs(m);
        }
        string Time(Row r, string m) => Fmt.Seconds(r.Median(m)) + (r.T[m].Count == 1 ? "" : $" ({Fmt.Seconds(r.T[m].Min())}–{Fmt.Seconds(r.T[m].Max())})");
        string Us(double us) => us.ToString(us < 10 ? "0.00" : us < 100 ? "0.0" : "0", CultureInfo.InvariantCulture);

        var section = report.Add($"Scale: IR build, validation and Argo compile of {Fmt.Int(smallest)} to {Fmt.Int(cfg.ScaleSizes.Max())} steps",
            $"Shapes (each exactly N steps, all trivial script steps whose param blocks name the steps they take): *chain* s0 → s1 → … (N − 1 edges); " +
            $"*wide* one `src`, N − 2 independent steps that take it, one `join` that takes all of them (2N − 4 edges); " +
            $"*random* a random DAG where step i takes min(i, {Shape.RandomDegree}) distinct earlier steps drawn uniformly (SplitMix64, seed {Shape.RandomSeed} + N: the same graph on every run and machine). " +
            $"Each figure is the median of {cfg.ScaleRuns} rounds (fastest–slowest in brackets); a round runs every floor and every figure once, back to back, after one warm-up round of the same size. " +
            "Each ratio (÷ floor) is the median of the per-round ratios. *µs/step* = time / steps; *growth* = µs/step at this size ÷ µs/step at " +
            $"{smallest} steps of the same shape: 1 is linear (below 1: fixed costs spread over more steps).");

        var load = section.Table("shape", "steps", "edges", "DSL load (Get-AxlWorkflow)", "µs/step", "growth", "floor: PowerShell functions", "÷ floor", "floor: parse only", "÷ parse");
        foreach (var r in rows)
            load.Row(r.Shape.Kind, Fmt.Int(r.Shape.Count), Fmt.Int(r.Shape.EdgeCount), Time(r, "load"), Us(r.PerStepUs("load")), Fmt.Ratio(Growth(r, "load")),
                Fmt.Seconds(r.Median("dslFloor")), Fmt.Ratio(r.Ratio("load", "dslFloor")), Fmt.Seconds(r.Median("parse")), Fmt.Ratio(r.Ratio("load", "parse")));
        section.Note("**DSL load**: `Get-AxlWorkflow` of the generated .axl.ps1 (a new copy of the file each time, so PowerShell's script cache is cold as in a new `axl` process): " +
                     "the file parsed, the script run (the `AxlWorkflow` and `Step` keywords record each step) and the IR built and wired. " +
                     "Floor *PowerShell functions*: the same file run in a runspace where `AxlWorkflow` and `Step` are two plain PowerShell functions that add the step's name and script block to a list: " +
                     "what any PowerShell DSL of one command per step pays. Floor *parse only*: `Parser.ParseFile` of the same file.");

        var build = section.Table("shape", "steps", "edges", "model build (WorkflowBuilder)", "µs/step", "growth", "floor: dictionary wiring", "÷ floor");
        foreach (var r in rows)
            build.Row(r.Shape.Kind, Fmt.Int(r.Shape.Count), Fmt.Int(r.Shape.EdgeCount), Time(r, "build"), Us(r.PerStepUs("build")), Fmt.Ratio(Growth(r, "build")),
                Fmt.Seconds(r.Median("buildFloor")), Fmt.Ratio(r.Ratio("build", "buildFloor")));
        section.Note("**Model build**: the IR built in memory with `WorkflowBuilder` from the steps' script blocks (parsed before the clock starts, as the DSL load has them): " +
                     "signatures read from each param block, inputs wired by name, edges, options, output specs. " +
                     "Floor *dictionary wiring*: each step's parameter names read from its param block and looked up in a dictionary of step names, one edge per match.");

        var validate = section.Table("shape", "steps", "edges", "validation", "µs/step", "growth", "floor: sort + hash sets", "÷ floor");
        foreach (var r in rows)
            validate.Row(r.Shape.Kind, Fmt.Int(r.Shape.Count), Fmt.Int(r.Shape.EdgeCount), Time(r, "validate"), Us(r.PerStepUs("validate")), Fmt.Ratio(Growth(r, "validate")),
                Fmt.Seconds(r.Median("validateFloor")), Fmt.Ratio(r.Ratio("validate", "validateFloor")));
        section.Note("**Validation**: `WorkflowValidator.Validate` of the built IR (every rule: names, DNS-1123 forms and collisions, options, quantities, IO handlers, cycles, conditions). " +
                     "Floor *sort + hash sets*: step names into a case-insensitive dictionary and their lower-case forms into a hash set, every edge's two ends looked up, and Kahn's topological sort over the edges.");

        var compile = section.Table("shape", "steps", "Argo compile", "µs/step", "growth", "floor: YamlDotNet", "÷ floor", "floor: System.Text.Json", "÷ JSON", "YAML bytes", "bytes/step", "one object at Argo v4's limits");
        foreach (var r in rows)
            compile.Row(r.Shape.Kind, Fmt.Int(r.Shape.Count), Time(r, "compile"), Us(r.PerStepUs("compile")), Fmt.Ratio(Growth(r, "compile")),
                Fmt.Seconds(r.Median("yamlFloor")), Fmt.Ratio(r.Ratio("compile", "yamlFloor")), Fmt.Seconds(r.Median("jsonFloor")), Fmt.Ratio(r.Ratio("compile", "jsonFloor")),
                Fmt.Int(r.YamlBytes), Fmt.Int(r.YamlBytes / r.Shape.Count), r.TooLargeAtDefault ? r.TooLargeId! : "fits");
        section.Note("**Argo compile**: `ArgoCompiler.Compile` of an IR that has computed nothing yet, as one object with no limit (`-Split None`, every limit raised): validation, the content hash, the topological order, " +
                     "the DAG and one container template per step (with its IO manifest), and the YAML. " +
                     "Floor *YamlDotNet*: the same document copied into plain dictionaries and lists, serialized by YamlDotNet with its defaults " +
                     $"(the floor's YAML is within {FloorSizeSpread(rows)} of Axl's size: Axl quotes strings a YAML 1.1 reader could misread). " +
                     "Axl's compile can be below this floor: it writes the YAML itself (the same bytes as YamlDotNet, which the tests check) instead of walking the tree with YamlDotNet's reflection. " +
                     "A stricter floor, *System.Text.Json*: the same plain document serialized as JSON by `JsonSerializer` (no YAML quoting rules; the fastest general serializer at hand). " +
                     "*one object at Argo v4's limits*: the same compile as one object (`-Split None`) with the default limits (200 templates, 200 DAG tasks, 1 MiB): " +
                     "one over them is refused at compile time (`Axl.ArgoTooManyItems`, `Axl.ArgoTooLarge`), not discovered by the cluster.");
        if (rows.FirstOrDefault(r => r.TooLargeMessage is not null) is { } big)
            section.Note($"The error for {big.Shape.Name}: *{big.TooLargeMessage}*");

        var splits = section.Table("shape", "steps", "split compile (default)", "µs/step", "growth", "unsplit compile", "÷ unsplit", "objects", "largest object", "bytes in all", "÷ unsplit bytes");
        foreach (var r in rows)
            splits.Row(r.Shape.Kind, Fmt.Int(r.Shape.Count), Time(r, "split"), Us(r.PerStepUs("split")), Fmt.Ratio(Growth(r, "split")),
                Fmt.Seconds(r.Median("compile")), Fmt.Ratio(r.Ratio("split", "compile")),
                r.SplitRefused is not null ? "refused" : r.SplitObjects == 1 ? "1 (fits)" : $"{r.SplitObjects - 1} WorkflowTemplates + 1",
                r.SplitRefused is not null ? "—" : Fmt.Int(r.SplitLargest), r.SplitRefused is not null ? "—" : Fmt.Int(r.SplitBytes),
                r.SplitRefused is not null ? "—" : Fmt.Ratio(r.SplitBytes / (double)r.YamlBytes));
        section.Note("**Split compile**: `ArgoCompiler.Compile` with the default options (`-Split Auto`; Argo v4's 200 templates per object and 200 tasks per DAG, 1 MiB per object) " +
                     "of an IR that has computed nothing yet: the same compile, and when the workflow is over a limit, the steps cut in topological order into groups that fit, " +
                     "each a WorkflowTemplate (its DAG, its gates, its step templates and the artifacts, values and outcomes crossing into and out of it), groups of groups when needed, " +
                     "and a parent Workflow calling them by templateRef; every object is measured and written as YAML. Beside it, the *unsplit compile* of the table above " +
                     "(`÷ unsplit`: the median of the per-round ratios). *objects*: the WorkflowTemplates and the parent (*1 (fits)*: under every limit, one object as unsplit); " +
                     "*largest object* and *bytes in all*: YAML bytes; *÷ unsplit bytes*: what the groups' interfaces and gates add.");
        if (rows.FirstOrDefault(r => r.SplitRefused is not null) is { } refused)
            section.Note($"Refused by the split compile, {refused.Shape.Name}: *{refused.SplitRefused}*");

        var largest = cfg.ScaleSizes.Max();
        var parts = section.Table("shape", "steps", "Argo compile", "validation", "content hash", "topological order", "YAML writer (CompilerYaml)", "the rest: DAG, templates, manifests");
        foreach (var r in rows.Where(r => r.Shape.Count == largest))
        {
            var rest = r.Median("compile") - r.Median("validate") - r.Median("hash") - r.Median("topo") - r.Median("yaml");
            string Share(string m) => $"{Fmt.Seconds(r.Median(m))} ({Fmt.Pct(r.Median(m) / r.Median("compile"))})";
            parts.Row(r.Shape.Kind, Fmt.Int(r.Shape.Count), Fmt.Seconds(r.Median("compile")), Share("validate"), Share("hash"), Share("topo"), Share("yaml"),
                $"{Fmt.Seconds(rest)} ({Fmt.Pct(rest / r.Median("compile"))})");
        }
        section.Note($"Where the time of an Argo compile of {Fmt.Int(largest)} steps goes: each piece timed alone in the same rounds (medians); *the rest* is the compile less the pieces.");

        var targets = section.Table("target", "shape", "measured", "met");
        foreach (var r in rows.Where(r => r.Shape.Count == largest))
        {
            foreach (var (what, m, floor) in new[] { ("validation", "validate", "validateFloor"), ("Argo compile", "compile", "yamlFloor") })
            {
                targets.Row($"{what} of {Fmt.Int(largest)} steps under 1 s", r.Shape.Kind, Fmt.Seconds(r.Median(m)), r.Median(m) < 1 ? "yes" : "**no**");
                var ratio = r.Ratio(m, floor);
                targets.Row($"{what} within 3× of its floor", r.Shape.Kind, Fmt.Ratio(ratio), ratio <= 3 ? "yes" : "**no**");
                var growth = Growth(r, m);
                targets.Row($"{what}: cost per step at {Fmt.Int(largest)} ÷ at {Fmt.Int(smallest)} (linear: ≤ 1.5)", r.Shape.Kind, Fmt.Ratio(growth), growth <= 1.5 ? "yes" : "**no**");
            }
        }
        section.Print();
    }

    private static string FloorSizeSpread(List<Row> rows)
    {
        var worst = rows.Max(r => Math.Abs(r.FloorYamlBytes - r.YamlBytes) / (double)r.YamlBytes);
        return Fmt.Pct(Math.Max(worst, 0.01)).Replace(" %", " %");
    }
}
