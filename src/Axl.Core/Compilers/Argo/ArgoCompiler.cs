using System.Globalization;
using Axl.Delivery;
using Axl.Model;
using Axl.Runner;
using Axl.Runtime;
using Axl.Validation;
using static Axl.Compilers.Argo.ArgoObjects;

namespace Axl.Compilers.Argo;

/// <summary>
/// IR -> Argo Workflows: a pure function that never runs user code. One class walks the graph and builds the
/// Argo objects with small builders (<see cref="ArgoObjects"/>); the YAML is written at the edge
/// (<see cref="ArgoDocument.ToYaml"/>). The same IR and options always give the same bytes.
/// <para>
/// The shape (seed M2): spec.entrypoint main-dag; a "main-dag" DAG template with one task per step (dependencies
/// from the IR, artifacts wired in the task arguments with from: {{tasks.X.outputs.artifacts.output}}, workflow
/// parameters passed as {{workflow.parameters.X}}, conditions as "when"); one container template per step running
/// the runner (axl step --manifest-json &lt;the step's IO manifest&gt;) with its inputs and outputs declared, never
/// with "from" in template inputs.
/// </para>
/// </summary>
public static partial class ArgoCompiler
{
    public const string ApiVersion = "argoproj.io/v1alpha1";
    public const string Entrypoint = "main-dag";
    public const string ContainerName = "main";
    public const string OutputArtifact = "output";
    /// <summary>The output parameter a step read by a condition exposes (its scalar output as text).</summary>
    public const string ValueParameter = "value";
    public const string CodeArtifact = "code";
    public const string VolumeName = "axl-work";

    public const string InputsRoot = "/axl/inputs";
    public const string OutputsRoot = "/axl/outputs";
    public const string DataRoot = "/axl/data";
    public const string WorkDir = "/axl/workdir";
    public const string CodeArchivePath = "/axl/code.tar.gz";
    /// <summary>-WarmEnv: the shared volume the axl-warm-env task builds the environment into, and where every step mounts it.</summary>
    public const string WarmEnvVolume = "axl-env";
    public const string WarmEnvRoot = "/axl/env";
    public const string WarmEnvSize = "2Gi";

    /// <summary>Prefix of the labels and annotations Axl puts on the objects it writes.</summary>
    public const string LabelPrefix = "axl.dev/";

    /// <summary>
    /// Compiles <paramref name="wf"/>. Throws <see cref="AxlInvalidWorkflowException"/> (with every diagnostic) for
    /// an invalid workflow and <see cref="AxlCompileException"/> when options are missing or wrong, or the document
    /// is over <see cref="ArgoCompileOptions.MaxBytes"/>.
    /// </summary>
    public static ArgoDocument Compile(AxlWorkflow wf, ArgoCompileOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(wf);
        options ??= ArgoCompileOptions.Default;
        CompileTrace.Mark("argo: start");
        var diagnostics = WorkflowValidator.ValidateWhileHashing(wf, options.CodeRoot ?? options.CodeArchive?.CodeRoot, order: true);
        if (diagnostics.Any(d => d.IsError)) throw new AxlInvalidWorkflowException(wf, diagnostics);
        CompileTrace.Mark("argo: validated (the definition and code hashes made meanwhile)");
        var compilation = new Compilation(wf, options);
        CompileTrace.Mark("argo: compilation set up (hash, options)");
        var warnings = diagnostics.Where(d => !d.IsError).ToList();
        // One object when it fits: a DAG task and a container template per step, plus the DAG template itself.
        var warm = wf.Options.WarmEnv ? 1 : 0; // -WarmEnv: its task and template
        var itemsFit = wf.StepCount + 1 + warm <= options.MaxTemplates && wf.StepCount + warm <= options.MaxDagTasks;
        if (itemsFit)
        {
            var result = new ArgoDocument(wf, options, compilation.Document(), compilation.Storage, compilation.Delivery, compilation.Images, compilation.TaskCount, warnings);
            if (result.Size <= options.MaxBytes) return result;
            if (options.Split == ArgoSplit.None) throw TooLarge(wf, result, options.MaxBytes);
        }
        else if (options.Split == ArgoSplit.None) throw TooManyItems(wf, options);
        if (wf.Options.WarmEnv)
            throw new AxlCompileException(CompileErrorIds.NotExpressible,
                $"workflow '{wf.Name}' has -WarmEnv and must be split into WorkflowTemplates to fit Argo's limits; a warm environment is compiled for one object only (its axl-warm-env task and shared volume are not carried into split groups yet).",
                "drop -WarmEnv for this workflow (each step then installs its own -Packages/-Modules), or use fewer steps so it fits one object.", wf.Name);
        return compilation.Split(warnings);
    }

    /// <summary>The error for one object over Argo's item limits when splitting is off: which limit, and the remedies.</summary>
    private static AxlCompileException TooManyItems(AxlWorkflow wf, ArgoCompileOptions o)
    {
        var (what, count, limit, option) = wf.StepCount + 1 > o.MaxTemplates
            ? ("spec.templates", wf.StepCount + 1, o.MaxTemplates, "-MaxTemplates (axl compile --max-templates)")
            : ("the DAG's tasks (spec.templates[0].dag.tasks)", wf.StepCount, o.MaxDagTasks, "-MaxDagTasks (axl compile --max-dag-tasks)");
        return new AxlCompileException(CompileErrorIds.ArgoTooManyItems,
            $"workflow '{wf.Name}' has {wf.StepCount} steps, so its one {o.Kind} would hold {count} items in {what}, over the limit of {limit}: " +
            "Argo v4's full CRDs refuse more than 200 templates in a workflow and 200 tasks in a DAG, and the API server rejects the object.",
            $"let Axl split it into WorkflowTemplates called from a small parent (-Split Auto, the default; axl compile --split auto); " +
            $"or, on a cluster with Argo's minimal CRDs (no item limits), raise the limit with {option}.",
            wf.Name);
    }

    /// <summary>
    /// The error for a document over the size limit, found here rather than by the cluster: its size, the size per step
    /// and how many steps would fit, and the remedies (split into WorkflowTemplates referenced by templateRef, fewer
    /// steps, values as artifacts, node status offloading, a larger limit).
    /// </summary>
    private static AxlCompileException TooLarge(AxlWorkflow wf, ArgoDocument document, long maxBytes)
    {
        static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        var perStep = Math.Max(1, document.Size / Math.Max(1, wf.StepCount));
        var fit = maxBytes / perStep;
        return new AxlCompileException(CompileErrorIds.ArgoTooLarge,
            $"the compiled {document.Kind} of workflow '{wf.Name}' is {ArgoDocument.FormatSize(document.Size)} ({N(document.Size)} bytes, {N(wf.StepCount)} steps, about {N(perStep)} bytes per step), " +
            $"over the limit of {ArgoDocument.FormatSize(maxBytes)} ({N(maxBytes)} bytes): Kubernetes keeps every object in etcd, which refuses objects over about 1 MiB, " +
            $"and a running workflow's status needs room too. At this size about {N(fit)} steps fit in one object.",
            "let Axl split it into WorkflowTemplates called from a small parent (-Split Auto, the default; axl compile --split auto); " +
            "or use fewer, longer steps (each step adds a DAG task, a template and its IO manifest); keep large values out of the spec (pass data as artifacts, not parameters); " +
            "for large runs also turn on Argo's node status offloading (persistence with nodeStatusOffLoad), as the status grows with every node; " +
            "or raise the limit with -MaxBytes (axl compile --max-bytes) if your cluster's etcd accepts larger objects.",
            wf.Name);
    }

    /// <summary>One compile: the workflow, its options and what is derived from them once.</summary>
    private sealed partial class Compilation
    {
        private readonly AxlWorkflow _wf;
        private readonly ArgoCompileOptions _o;
        private readonly ArgoStorage _storage;
        private readonly CodeArchiveLocation? _code;
        private readonly string _workflowFile;
        private readonly string? _codeRoot;
        private readonly string _hash;
        private readonly ManifestLayout _layout;
        private readonly HashSet<string> _maySkip;
        /// <summary>
        /// Every image the pods use. A split compile adds one per step on several threads, nearly always one it has
        /// already: a concurrent set finds it without a lock (a lock per step was contended on every step).
        /// </summary>
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _images = new(StringComparer.Ordinal);

        public Compilation(AxlWorkflow wf, ArgoCompileOptions o)
        {
            _wf = wf;
            _o = o;
            _storage = ArgoStorage.Parse(wf.Options.ArtifactStore);
            CheckOptions();
            _code = o.CodeArchive;
            if (_code is null && wf.Options.CodeDelivery == CodeDelivery.Artifact)
                throw new AxlCompileException(CompileErrorIds.CodeArchiveMissing,
                    $"workflow '{wf.Name}' delivers its code as an artifact (-CodeDelivery Artifact), but no code archive location was given, so the pods would have no workflow code.",
                    "upload the code archive first and give its location: ConvertTo-ArgoWorkflow -CodeArchive <CodeArchiveLocation> (axl compile --code-archive <location.json>); or bake the code into the image with -CodeDelivery Image.", wf.Name);
            // The archive's own root wins over the file's folder: the workflow file must be named as it is inside the archive.
            _workflowFile = CompilerSteps.RelativeWorkflowFile(wf, o.CodeRoot ?? _code?.CodeRoot);
            if (wf.Options.WarmEnv && _code is not null)
                throw new AxlCompileException(CompileErrorIds.NotExpressible,
                    $"workflow '{wf.Name}' has -WarmEnv and delivers its code as an artifact (-CodeDelivery Artifact); the axl-warm-env task reads the workflow file from the image and cannot unpack the code archive yet.",
                    "use -CodeDelivery Image with -WarmEnv, or drop -WarmEnv (each step then installs its own -Packages/-Modules).", wf.Name);
            _codeRoot = o.CodeRoot ?? _code?.CodeRoot;
            if (CompileTrace.Enabled)
            {
                CompileTrace.Mark("argo: options checked");
                _ = wf.DefinitionHash;
                CompileTrace.Mark("argo: definition hash");
            }
            _hash = CompilerSteps.WorkflowHash(wf, _codeRoot);
            CompileTrace.Mark("argo: workflow hash (with the code root)");
            var volume = _storage.Kind == ArgoStorageKind.Volume;
            _layout = new ManifestLayout
            {
                InputDirectory = up => (volume ? DataRoot : InputsRoot) + "/" + up.KubernetesName,
                OutputDirectory = s => (volume ? DataRoot : OutputsRoot) + "/" + s.KubernetesName,
                ParameterValue = p => "{{inputs.parameters." + p.Name + "}}",
                // Values reach the runner through the environment: Argo would paste them raw into the manifest's JSON.
                ParameterEnv = p => ManifestBuilder.ParameterEnvironmentVariable(wf, p),
                WorkflowFile = _workflowFile,
                WorkDir = WorkDir,
                RunId = "{{workflow.name}}",
                WorkflowHash = _hash, // what CompilerSteps.Manifest sets for the code root: made once here, not per step
            };
            // A step may be skipped when it has a condition, or omitted when any step above it may be skipped.
            _maySkip = CompilerSteps.MaySkip(wf);
        }

        public ArgoStorage Storage => _storage;
        public CodeDelivery Delivery => _code is null ? CodeDelivery.Image : CodeDelivery.Artifact;
        public IReadOnlyList<string> Images => _images.Keys.Order(StringComparer.Ordinal).ToList();

        private void AddImage(string image)
        {
            if (!_images.ContainsKey(image)) _images.TryAdd(image, 0);
        }
        public int TaskCount => _wf.StepCount;

        private void CheckOptions()
        {
            void Bad(string message, string fix) => throw new AxlCompileException(CompileErrorIds.InvalidCompileOption, message, fix, _wf.Name);
            var s3Given = _o.S3Endpoint is not null || _o.S3Region is not null || _o.S3Insecure is not null || _o.S3CredentialsSecret is not null;
            if (s3Given && _storage.Kind != ArgoStorageKind.S3)
                Bad($"the S3 options (endpoint, region, insecure, credentials secret) apply to an s3:// artifact store, but workflow '{_wf.Name}' uses {Describe(_storage)}.",
                    "leave the S3 options out for this workflow, or give it -ArtifactStore s3://bucket/prefix.");
            if (_o.S3Endpoint is { } ep && (ep.Contains("://", StringComparison.Ordinal) || ep.Length == 0 || ep.Contains('/')))
                Bad($"S3 endpoint '{ep}' is not a host[:port]; Argo wants it without scheme or path.", "write it like minio.argo:9000 (and add -S3Insecure for plain HTTP).");
            if (_o.S3CredentialsSecret is { } secret && !Dns1123Subdomain(secret))
                Bad($"S3 credentials secret '{secret}' is not a Kubernetes secret name.", "give the name of a secret in the workflow's namespace, e.g. minio-credentials.");
            if (_o.Namespace is { } ns && !Dns1123.IsValid(ns))
                Bad($"namespace '{ns}' is not a valid Kubernetes namespace name.", "use lower-case letters, digits and '-', at most 63 characters.");
            if (_o.ServiceAccount is { Length: 0 })
                Bad("the service account override is empty.", "give a service account name, or leave the option out.");
            if (_o.PvcAccessMode is not ("ReadWriteOnce" or "ReadWriteMany" or "ReadWriteOncePod"))
                Bad($"volume access mode '{_o.PvcAccessMode}' is not one Kubernetes knows.", "use ReadWriteOnce or ReadWriteMany.");
            if (_o.MaxBytes <= 0) Bad($"the size limit must be positive, got {_o.MaxBytes}.", "give a number of bytes, e.g. 1048576.");
            if (_o.MaxTemplates < 3) Bad($"the template limit must be at least 3 (a DAG, a gate and a step), got {_o.MaxTemplates}.", "give Argo's 200, or more for a cluster with the minimal CRDs.");
            if (_o.MaxDagTasks < 2) Bad($"the DAG task limit must be at least 2, got {_o.MaxDagTasks}.", "give Argo's 200, or more for a cluster with the minimal CRDs.");
            if (_o.MaxInputParameters < 2) Bad($"the input parameter limit must be at least 2, got {_o.MaxInputParameters}.", "give Argo's 500, or more for a cluster with the minimal CRDs.");
            if (_o.Parallelism < 0) Bad($"parallelism must be 0 (no limit) or more, got {_o.Parallelism}.", "give the number of pods that may run at once, or 0.");
            if (_o.DeadlineGraceSeconds < 0) Bad($"the deadline grace must be 0 or more seconds, got {_o.DeadlineGraceSeconds}.", "give 0 or more.");
            if (_o.CodeArchive is { } c)
            {
                if (string.IsNullOrEmpty(c.Bucket) || string.IsNullOrEmpty(c.Key))
                    Bad("the code archive location has no bucket or no key.", "give the location the code archive was uploaded to.");
                if (c.Endpoint is { } cep && cep.Contains("://", StringComparison.Ordinal))
                    Bad($"code archive endpoint '{cep}' is not a host[:port]; Argo wants it without scheme.", "write it like minio.argo:9000 (Insecure for plain HTTP).");
            }
        }

        private static bool Dns1123Subdomain(string name) =>
            name.Length is > 0 and <= 253 && name.Split('.').All(Dns1123.IsValid);

        private static string Describe(ArgoStorage s) => s.Kind switch
        {
            ArgoStorageKind.DefaultRepository => "the cluster's default artifact repository",
            ArgoStorageKind.RepositoryRef => $"the artifact repository {s}",
            ArgoStorageKind.Volume => $"a volume ({s})",
            _ => s.ToString(),
        };

        /// <summary>The whole workflow as one object.</summary>
        public ArgoMap Document()
        {
            var order = _wf.TopologicalOrder();
            var templates = new List<object?> { MainDag(order) };
            if (_wf.Options.WarmEnv) templates.Add(WarmEnvTemplate());
            templates.AddRange(order.Select(s => (object?)StepTemplate(s)));
            return Map()
                .With("apiVersion", ApiVersion)
                .With("kind", _o.Kind.ToString())
                .With("metadata", Metadata())
                .With("spec", Spec(templates, _o.Parallelism is > 0 ? _o.Parallelism : null, podGc: false));
        }

        private ArgoMap Metadata(IReadOnlyList<string>? parts = null)
        {
            var name = _wf.KubernetesName;
            var labels = Map()
                .With(LabelPrefix + "workflow", name)
                .With(LabelPrefix + "workflow-hash", Hashing.ContentHash.ShortHex(_hash, 12))
                .With(LabelPrefix + "version", LabelValue(AxlInfo.Version));
            foreach (var (k, v) in _wf.Options.Labels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                if (!labels.ContainsKey(k)) labels.With(k, v);
            var annotations = Map()
                .With(LabelPrefix + "workflow", _wf.Name)
                .With(LabelPrefix + "workflow-hash", _hash)
                .With(LabelPrefix + "version", AxlInfo.Version)
                .With(LabelPrefix + "source", _workflowFile)
                .With(LabelPrefix + "templates", parts is null ? null : string.Join(",", parts))
                .With("workflows.argoproj.io/description", _wf.Options.Description);
            return Map()
                .With(_o.Kind == ArgoKind.Workflow ? "generateName" : "name", _o.Kind == ArgoKind.Workflow ? name + "-" : name)
                .With("namespace", _o.Namespace)
                .With("labels", labels)
                .With("annotations", annotations);
        }

        /// <summary>The workflow's parameters as spec.arguments, with their defaults.</summary>
        private ArgoMap Arguments() =>
            Map().With("parameters", _wf.Parameters.Select(p => (object?)Parameter(p.Name, CompilerSteps.HasInlineDefault(p) ? ParameterText(p.Default) : null, p.Description)).ToList());

        private ArgoMap Spec(List<object?> templates, int? parallelism, bool podGc)
        {
            var spec = Map()
                .With("entrypoint", Entrypoint)
                .With("serviceAccountName", _o.ServiceAccount ?? _wf.Options.ServiceAccount)
                .With("arguments", Arguments());
            switch (_storage.Kind)
            {
                case ArgoStorageKind.RepositoryRef:
                    spec.With("artifactRepositoryRef", Map().With("configMap", _storage.ConfigMap).With("key", _storage.Key));
                    break;
                case ArgoStorageKind.Volume:
                    spec.With("volumeClaimTemplates", new List<object?>
                    {
                        Map()
                            .With("apiVersion", "v1")
                            .With("kind", "PersistentVolumeClaim")
                            .With("metadata", Map().With("name", VolumeName))
                            .With("spec", Map()
                                .With("accessModes", new List<object?> { _o.PvcAccessMode })
                                .With("storageClassName", _o.PvcStorageClass)
                                .With("resources", Map().With("requests", Map().With("storage", _storage.Size)))),
                    });
                    break;
            }
            if (_wf.Options.WarmEnv)
            {
                var claims = spec.TryGetValue("volumeClaimTemplates", out var existing) ? (List<object?>)existing! : new List<object?>();
                claims.Add(Map()
                    .With("apiVersion", "v1")
                    .With("kind", "PersistentVolumeClaim")
                    .With("metadata", Map().With("name", WarmEnvVolume))
                    .With("spec", Map()
                        .With("accessModes", new List<object?> { _o.PvcAccessMode })
                        .With("storageClassName", _o.PvcStorageClass)
                        .With("resources", Map().With("requests", Map().With("storage", WarmEnvSize)))));
                spec.With("volumeClaimTemplates", claims);
            }
            return spec
                .With("parallelism", parallelism)
                .With("podGC", podGc ? Map().With("strategy", "OnPodSuccess") : null)
                .With("templates", templates);
        }

        private ArgoMap MainDag(IReadOnlyList<AxlStep> order)
        {
            var tasks = order.Select(s => (object?)Task(s)).ToList();
            if (_wf.Options.WarmEnv) tasks.Insert(0, Map().With("name", WarmEnvironment.StepName).With("template", WarmEnvironment.StepName));
            return Map().With("name", Entrypoint).With("dag", Map().With("tasks", tasks));
        }

        /// <summary>
        /// -WarmEnv: the task every step starts after (the steps without upstream depend on it): `axl warm-env` builds the
        /// Python environment and saves the modules into the shared volume <see cref="WarmEnvVolume"/> at
        /// <see cref="WarmEnvRoot"/>, where each step's `axl step` finds them (AXL_PACKAGE_CACHE) instead of installing.
        /// </summary>
        private ArgoMap WarmEnvTemplate()
        {
            var image = _o.Image ?? _wf.Options.Image ?? AxlInfo.DefaultRunnerImage;
            AddImage(image);
            var container = Map()
                .With("name", ContainerName)
                .With("image", image)
                .With("command", new List<object?> { CompilerSteps.RunnerCommand })
                .With("args", new List<object?> { "warm-env", WorkDir + "/" + _workflowFile, "--cache", WarmEnvRoot })
                .With("volumeMounts", new List<object?> { WarmEnvMount() });
            return Map().With("name", WarmEnvironment.StepName).With("container", container);
        }

        private static ArgoMap WarmEnvMount() => Map().With("name", WarmEnvVolume).With("mountPath", WarmEnvRoot);

        /// <summary>
        /// The DAG task of a step. In a split workflow <paramref name="part"/> is the group it sits in: an upstream step
        /// outside it is reached through the group's inputs (its artifact, its value, and its outcome through a gate
        /// task of its name), and an order on an upstream step that is never skipped is left to the parent's depends.
        /// </summary>
        private ArgoMap Task(AxlStep s, Part? part = null)
        {
            bool Outside(AxlStep u) => part is not null && !part.Contains(u);
            var task = Map().With("name", s.KubernetesName).With("template", s.KubernetesName);
            var upstream = s.Upstream.Select(u => _wf.GetStep(u)!).Where(u => !Outside(u) || _maySkip.Contains(u.Name)).ToList();
            if (upstream.Count == 0 && _wf.Options.WarmEnv && part is null)
                task.With("dependencies", new List<object?> { WarmEnvironment.StepName }); // the rest come after these
            else if (upstream.Count > 0)
            {
                if (upstream.All(u => !_maySkip.Contains(u.Name)))
                    task.With("dependencies", upstream.Select(u => (object?)u.KubernetesName).ToList());
                else
                {
                    var dataFrom = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                    foreach (var e in _wf.IncomingEdges(s.Name))
                        if (e.Kind == EdgeKind.Data) dataFrom.Add(e.From);
                    task.With("depends", string.Join(" && ", upstream.Select(u => DependsOn(u, dataFrom.Contains(u.Name)))));
                }
            }
            if (s.Condition is { } condition)
                task.With("when", ArgoConditions.ToWhen(condition, _wf, u => Outside(u) ? "{{inputs.parameters." + ItemName(new Item(ItemKind.Value, u)) + "}}" : null));
            var arguments = Map()
                .With("parameters", ParametersUsed(s).Select(p => (object?)Parameter(p.Name, "{{workflow.parameters." + p.Name + "}}")).ToList());
            if (_storage.Kind != ArgoStorageKind.Volume)
                arguments.With("artifacts", DataUpstream(s).Select(u => (object?)(Outside(u)
                    ? Map().With("name", u.KubernetesName).With("from", "{{inputs.artifacts." + u.KubernetesName + "}}")
                    : ArtifactFrom(u.KubernetesName, u.KubernetesName, OutputArtifact))).ToList());
            return task.With("arguments", arguments);
        }

        /// <summary>
        /// The "depends" term of one upstream step when some upstream step may be skipped, matching the local runtime:
        /// a step that reads another's output (<paramref name="readsOutput"/>) runs only when that one succeeded; a step
        /// that only comes after it (-DependsOn) also runs when its condition skipped it, but not when it was left out
        /// (Omitted) because a step above it was skipped.
        /// </summary>
        private static string DependsOn(AxlStep u, bool readsOutput) =>
            readsOutput || u.Condition is null ? u.KubernetesName + ".Succeeded" : "(" + u.KubernetesName + ".Succeeded || " + u.KubernetesName + ".Skipped)";

        private List<AxlStep> DataUpstream(AxlStep s) => CompilerSteps.DataUpstream(_wf, s);

        private List<AxlParameter> ParametersUsed(AxlStep s) => CompilerSteps.ParametersUsed(_wf, s);

        private ArgoMap StepTemplate(AxlStep s)
        {
            var manifest = CompilerSteps.Manifest(_wf, s, _layout, _code, _codeRoot);
            var volume = _storage.Kind == ArgoStorageKind.Volume;
            var dataUpstream = DataUpstream(s);

            var inputArtifacts = new List<object?>();
            if (!volume) inputArtifacts.AddRange(dataUpstream.Select(u => (object?)Artifact(u.KubernetesName, _layout.InputDirectory(u))));
            if (_code is not null)
            {
                if (dataUpstream.Any(u => u.KubernetesName == CodeArtifact) && !volume)
                    throw new AxlCompileException(CompileErrorIds.NotExpressible,
                        $"step '{s.Name}' reads the output of a step named '{CodeArtifact}', whose artifact name clashes with the code archive artifact of code delivery Artifact.",
                        $"rename the step '{CodeArtifact}' (for example to load_code).", _wf.Name);
                inputArtifacts.Add(CodeInput(_code));
            }
            var inputs = Map()
                .With("parameters", ParametersUsed(s).Select(p => (object?)Parameter(p.Name)).ToList())
                .With("artifacts", inputArtifacts);

            var outputs = Map();
            if (manifest.Output.ValueFile is { } valueFile)
                outputs.With("parameters", new List<object?> { Map().With("name", ValueParameter).With("valueFrom", Map().With("path", valueFile)) });
            if (!volume) outputs.With("artifacts", new List<object?> { OutputArtifactOf(s, manifest.Output.Directory) });

            var args = CompilerSteps.RunnerArgs(manifest, _code is null ? null : CodeArchivePath);
            var image = CompilerSteps.ImageOf(_wf, s, _o.Image);
            AddImage(image);
            var container = Map()
                .With("name", ContainerName)
                .With("image", image)
                .With("command", new List<object?> { CompilerSteps.RunnerCommand })
                .With("args", args)
                .With("env", Env(s.Env.Concat(ParametersUsed(s).Select(p =>
                    new KeyValuePair<string, string>(ManifestBuilder.ParameterEnvironmentVariable(_wf, p), "{{inputs.parameters." + p.Name + "}}")))
                    .Concat(_wf.Options.WarmEnv ? new[] { new KeyValuePair<string, string>(StepPackageOptions.CacheVariable, WarmEnvRoot) } : Array.Empty<KeyValuePair<string, string>>()),
                    CompilerSteps.KubernetesSecrets(_wf, s, "Argo")))
                .With("resources", Resources(s.Resources))
                .With("volumeMounts", StepMounts(volume));

            return Map()
                .With("name", s.KubernetesName)
                .With("inputs", inputs)
                .With("outputs", outputs)
                .With("retryStrategy", s.Retries > 0 ? RetryStrategy(s.Retries) : null)
                .With("activeDeadlineSeconds", s.TimeoutSeconds is { } t ? ((long)t + _o.DeadlineGraceSeconds).ToString(CultureInfo.InvariantCulture) : null)
                .With("container", container);
        }

        private List<object?>? StepMounts(bool volume)
        {
            var mounts = new List<object?>();
            if (volume) mounts.Add(Map().With("name", VolumeName).With("mountPath", DataRoot));
            if (_wf.Options.WarmEnv) mounts.Add(WarmEnvMount());
            return mounts.Count == 0 ? null : mounts;
        }

        /// <summary>The step's output directory as one artifact (a tgz of the whole folder, so output.meta.json travels with the data).</summary>
        private ArgoMap OutputArtifactOf(AxlStep s, string directory)
        {
            var artifact = Artifact(OutputArtifact, directory);
            if (_storage.Kind == ArgoStorageKind.S3)
            {
                var key = (_storage.Prefix is null ? "" : _storage.Prefix + "/") + "{{workflow.name}}/" + s.KubernetesName + "/output.tgz";
                artifact.With("s3", S3(_o.S3Endpoint ?? "s3.amazonaws.com", _storage.Bucket, key, _o.S3Region, _o.S3Insecure == true, _o.S3CredentialsSecret, _o.S3AccessKeyKey, _o.S3SecretKeyKey));
            }
            return artifact;
        }

        /// <summary>
        /// The code archive as an input artifact, kept as the .tar.gz file (archive: none) for the runner to verify and
        /// extract to /axl/workdir (--workflow-archive); without "none" Argo would unpack it into a folder itself.
        /// Without an endpoint only the key is given, and the cluster's artifact repository supplies the rest.
        /// </summary>
        private static ArgoMap CodeInput(CodeArchiveLocation c)
        {
            var s3 = c.Endpoint is null
                ? Map().With("key", c.Key)
                : S3(c.Endpoint, c.Bucket, c.Key, c.Region, c.Insecure, c.CredentialsSecret, c.AccessKeyKey, c.SecretKeyKey);
            // "none: {}" is an empty map on purpose, which With would leave out: set it directly.
            var archive = new ArgoMap { ["none"] = new ArgoMap() };
            return Artifact(CodeArtifact, CodeArchivePath).With("archive", archive).With("s3", s3);
        }

        /// <summary>Retries as the local runtime does them: on any failure (the runner's exit code says whose), 1 s backoff doubling.</summary>
        private static ArgoMap RetryStrategy(int retries) => Map()
            .With("limit", retries.ToString(CultureInfo.InvariantCulture))
            .With("retryPolicy", "Always")
            .With("backoff", Map().With("duration", "1s").With("factor", "2"));

        private static ArgoMap? Resources(ResourceSpec r)
        {
            if (r.IsEmpty) return null;
            var requests = Map().With("cpu", r.CpuRequest).With("memory", r.MemoryRequest);
            var limits = Map().With("cpu", r.CpuLimit).With("memory", r.MemoryLimit)
                .With(r.GpuResource, r.Gpu?.ToString(CultureInfo.InvariantCulture));
            return Map().With("requests", requests).With("limits", limits);
        }
    }

    /// <summary>A parameter value as Argo carries it (always a string): booleans as true/false, numbers invariant.</summary>
    public static string ParameterText(object? value) => CompilerSteps.ParameterText(value);

    /// <summary>A valid label value: at most 63 of [A-Za-z0-9._-], starting and ending with a letter or digit.</summary>
    public static string LabelValue(string text)
    {
        var chars = text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray();
        var s = new string(chars);
        if (s.Length > 63) s = s[..63];
        return s.Trim('-', '_', '.');
    }
}
