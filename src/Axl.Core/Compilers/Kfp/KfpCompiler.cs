using System.Globalization;
using System.Text;
using Axl.Compilers.Argo;
using Axl.Delivery;
using Axl.Model;
using Axl.Runner;
using Axl.Runtime;
using Axl.Serialization;
using Axl.Validation;
using static Axl.Compilers.Argo.ArgoObjects;

namespace Axl.Compilers.Kfp;

/// <summary>
/// IR -> Kubeflow Pipelines, a pure function that never runs user code (like <see cref="ArgoCompiler"/>).
/// <para>
/// V2 (default): the pipeline spec that KFP 2.x servers accept (pipeline_spec.proto, schemaVersion 2.1.0):
/// pipelineInfo; root.dag.tasks with one task per step (dependentTasks from the IR, the upstream outputs as
/// taskOutputArtifact inputs, workflow parameters as componentInputParameter, conditions as triggerPolicy.condition
/// in CEL, retries as retryPolicy); one component per step (typed input and output definitions: the step's
/// artifact "output" and, when a condition reads it, the STRING parameter "value"); one container executor per
/// step running the runner, axl step --manifest-json &lt;IO manifest&gt;, whose paths are KFP placeholders
/// ({{$.inputs.artifacts['x'].path}}, {{$.outputs.artifacts['output'].path}}) that the launcher substitutes.
/// Parameter values travel as --env NAME={{$.inputs.parameters['Name']}} arguments, so a value is never pasted
/// into the manifest's JSON.
/// </para>
/// <para>V1: the Argo Workflow of <see cref="ArgoCompiler"/> with the labels and annotations of a KFP 1.8 SDK package.</para>
/// </summary>
public static class KfpCompiler
{
    public const string SchemaVersion = "2.1.0";
    /// <summary>The SDK whose V1 package format the V1 output follows (its annotations say so).</summary>
    public const string V1SdkVersion = "1.8.22";
    public const string OutputArtifact = "output";
    public const string ValueParameter = "value";
    public const string CodeArtifact = "code";
    public const string CodeTask = "code-archive";
    public const string ImporterOutput = "artifact";
    public const string ArtifactSchema = "system.Artifact";
    public const string ArtifactSchemaVersion = "0.0.1";
    public const string DefaultServiceAccount = "pipeline-runner";
    /// <summary>-WarmEnv: the kfp-kubernetes tasks that create the shared volume before the run and delete it after the steps.</summary>
    public const string CreatePvcTask = "createpvc";
    public const string DeletePvcTask = "deletepvc";
    /// <summary>-WarmEnv: the output of <see cref="CreatePvcTask"/> that names the claim (kfp-kubernetes CreatePVC's "name").</summary>
    public const string PvcNameOutput = "name";
    /// <summary>-WarmEnv: the suffix of the claim's generated name (the backend prefixes a UUID).</summary>
    public const string WarmEnvPvcSuffix = "-axl-env";

    /// <summary>
    /// Compiles <paramref name="wf"/>. Throws <see cref="AxlInvalidWorkflowException"/> for an invalid workflow and
    /// <see cref="AxlCompileException"/> when it cannot be expressed in KFP as asked.
    /// </summary>
    public static KfpDocument Compile(AxlWorkflow wf, KfpCompileOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(wf);
        options ??= KfpCompileOptions.Default;
        var diagnostics = WorkflowValidator.Validate(wf);
        if (diagnostics.Any(d => d.IsError)) throw new AxlInvalidWorkflowException(wf, diagnostics);
        var warnings = diagnostics.Where(d => !d.IsError).ToList();
        return options.Format == KfpFormat.V1 ? CompileV1(wf, options, warnings) : new V2(wf, options).Build(warnings);
    }

    /// <summary>The KFP parameter type of a workflow parameter.</summary>
    public static string ParameterType(AxlParameter p) => CompilerSteps.KindOf(p) switch
    {
        ParameterKind.Integer => "NUMBER_INTEGER",
        ParameterKind.Number => "NUMBER_DOUBLE",
        ParameterKind.Boolean => "BOOLEAN",
        _ => "STRING",
    };

    /// <summary>A default value typed as KFP reads it (a number, a boolean or a string).</summary>
    public static object? TypedDefault(AxlParameter p)
    {
        if (!CompilerSteps.HasInlineDefault(p)) return null;
        var text = CompilerSteps.ParameterText(p.Default);
        return CompilerSteps.KindOf(p) switch
        {
            ParameterKind.Integer when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
            ParameterKind.Number when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => PlainScalar.Number(d),
            ParameterKind.Boolean when bool.TryParse(text, out var b) => b,
            _ => text,
        };
    }

    private sealed class V2
    {
        private readonly AxlWorkflow _wf;
        private readonly KfpCompileOptions _o;
        private readonly string? _codeRoot;
        private readonly string _hash;
        private readonly CodeArchiveLocation? _code;
        private readonly string _workflowFile;
        private readonly ManifestLayout _layout;
        private readonly SortedSet<string> _images = new(StringComparer.Ordinal);
        private readonly string? _pipelineRoot;

        public V2(AxlWorkflow wf, KfpCompileOptions o)
        {
            _wf = wf;
            _o = o;
            var storage = ArgoStorage.Parse(wf.Options.ArtifactStore);
            if (storage.Kind is ArgoStorageKind.Volume or ArgoStorageKind.RepositoryRef)
                throw new AxlCompileException(CompileErrorIds.NotExpressible,
                    $"workflow '{wf.Name}' keeps its artifacts in {storage} (-ArtifactStore), which KFP v2 cannot use: KFP stores every artifact under its pipeline root.",
                    "leave -ArtifactStore out (the server's pipeline root) or use s3://bucket/prefix (it becomes the pipeline root); or compile with -Format V1, which runs on Argo and keeps the volume or repository.", wf.Name);
            _pipelineRoot = o.PipelineRoot ?? (storage.Kind == ArgoStorageKind.S3 ? storage.ToString() : null);
            _code = o.CodeArchive;
            if (_code is null && wf.Options.CodeDelivery == CodeDelivery.Artifact)
                throw new AxlCompileException(CompileErrorIds.CodeArchiveMissing,
                    $"workflow '{wf.Name}' delivers its code as an artifact (-CodeDelivery Artifact), but no code archive location was given, so the steps would have no workflow code.",
                    "upload the code archive first and give its location: ConvertTo-KfpPipeline -CodeArchive <CodeArchiveLocation> (axl compile --code-archive <location.json>); or bake the code into the image with -CodeDelivery Image.", wf.Name);
            if (_code is not null && (string.IsNullOrEmpty(_code.Bucket) || string.IsNullOrEmpty(_code.Key)))
                throw new AxlCompileException(CompileErrorIds.InvalidCompileOption, "the code archive location has no bucket or no key.", "give the location the code archive was uploaded to.", wf.Name);
            _workflowFile = CompilerSteps.RelativeWorkflowFile(wf, o.CodeRoot ?? _code?.CodeRoot);
            _codeRoot = o.CodeRoot ?? _code?.CodeRoot;
            _hash = CompilerSteps.WorkflowHash(wf, _codeRoot);
            _layout = new ManifestLayout
            {
                InputDirectory = up => "{{$.inputs.artifacts['" + up.Name + "'].path}}",
                OutputDirectory = _ => "{{$.outputs.artifacts['" + OutputArtifact + "'].path}}",
                ParameterValue = p => "{{$.inputs.parameters['" + p.Name + "']}}",
                ParameterEnv = p => ManifestBuilder.ParameterEnvironmentVariable(wf, p),
                WorkflowFile = _workflowFile,
                WorkDir = ArgoCompiler.WorkDir,
                RunId = "{{$.pipeline_job_name}}",
            };
            if (o.PvcAccessMode is not ("ReadWriteOnce" or "ReadWriteMany" or "ReadWriteOncePod"))
                throw new AxlCompileException(CompileErrorIds.InvalidCompileOption, $"volume access mode '{o.PvcAccessMode}' is not one Kubernetes knows.", "use ReadWriteOnce or ReadWriteMany.", wf.Name);
            if (wf.Options.WarmEnv && _code is not null)
                throw new AxlCompileException(CompileErrorIds.NotExpressible,
                    $"workflow '{wf.Name}' has -WarmEnv and delivers its code as an artifact (-CodeDelivery Artifact); the axl-warm-env task reads the workflow file from the image and cannot unpack the code archive yet.",
                    "use -CodeDelivery Image with -WarmEnv, or drop -WarmEnv (each step then installs its own -Packages/-Modules).", wf.Name);
            foreach (var s in wf.Steps)
            {
                if (wf.Options.WarmEnv && s.KubernetesName is CreatePvcTask or DeletePvcTask)
                    throw new AxlCompileException(CompileErrorIds.NotExpressible,
                        $"step '{s.Name}' has the task name '{s.KubernetesName}' of the kfp-kubernetes task that creates or deletes the shared volume of -WarmEnv.",
                        "rename the step (for example to make_volume), or drop -WarmEnv.", wf.Name);
                if (s.KubernetesName == CodeTask && _code is not null)
                    throw new AxlCompileException(CompileErrorIds.NotExpressible,
                        $"step '{s.Name}' has the task name '{CodeTask}' of the code archive importer (code delivery Artifact).", $"rename the step (for example to load_code).", wf.Name);
                if (_code is not null && CompilerSteps.DataUpstream(wf, s).Any(u => u.Name == CodeArtifact))
                    throw new AxlCompileException(CompileErrorIds.NotExpressible,
                        $"step '{s.Name}' reads the output of a step named '{CodeArtifact}', whose input name clashes with the code archive input of code delivery Artifact.",
                        $"rename the step '{CodeArtifact}' (for example to load_code).", wf.Name);
            }
        }

        public KfpDocument Build(IReadOnlyList<AxlDiagnostic> warnings)
        {
            var order = _wf.TopologicalOrder();
            var components = Map();
            var executors = Map();
            var tasks = Map();
            var platformExecutors = Map();
            if (_code is not null)
            {
                components.With("comp-" + CodeTask, Map()
                    .With("executorLabel", "exec-" + CodeTask)
                    .With("outputDefinitions", Map().With("artifacts", Map().With(ImporterOutput, ArtifactSpec()))));
                executors.With("exec-" + CodeTask, Map().With("importer", Map()
                    .With("artifactUri", Map().With("constant", "s3://" + _code.Bucket + "/" + _code.Key))
                    .With("typeSchema", ArtifactType())));
                tasks.With(CodeTask, Map()
                    .With("taskInfo", Map().With("name", CodeTask))
                    .With("componentRef", Map().With("name", "comp-" + CodeTask)));
            }
            var warm = _wf.Options.WarmEnv;
            if (warm) AddWarmEnv(components, executors, tasks, platformExecutors);
            foreach (var s in order)
            {
                components.With("comp-" + s.KubernetesName, Component(s));
                executors.With("exec-" + s.KubernetesName, Map().With("container", Container(s)));
                var platformExecutor = Map();
                if (SecretAsEnv(s) is { } secretAsEnv) platformExecutor.With("secretAsEnv", secretAsEnv);
                if (warm) platformExecutor.With("pvcMount", WarmEnvMount());
                if (platformExecutor.Count > 0) platformExecutors.With("exec-" + s.KubernetesName, platformExecutor);
                tasks.With(s.KubernetesName, Task(s));
            }
            if (warm) AddDeletePvc(components, executors, tasks, order);
            var root = Map()
                .With("dag", Map().With("tasks", tasks))
                .With("inputDefinitions", Map().With("parameters", RootParameters()));
            var tree = Map()
                .With("pipelineInfo", Map()
                    .With("name", _wf.KubernetesName)
                    .With("displayName", _wf.Name == _wf.KubernetesName ? null : _wf.Name)
                    .With("description", _wf.Options.Description))
                .With("sdkVersion", "axl-" + AxlInfo.Version)
                .With("schemaVersion", SchemaVersion)
                .With("defaultPipelineRoot", _pipelineRoot)
                .With("root", root)
                .With("components", components)
                .With("deploymentSpec", Map().With("executors", executors));
            // Secrets: the Kubernetes platform spec (kfp-kubernetes' secretAsEnv), the second document of the file.
            var platform = platformExecutors.Count == 0 ? null : Map().With("platforms", Map().With("kubernetes", Map()
                .With("deploymentSpec", Map().With("executors", platformExecutors))));
            return new KfpDocument(_wf, KfpFormat.V2, tree, Header(), _images.ToList(), _wf.StepCount, warnings, platform, _hash);
        }

        /// <summary>
        /// -WarmEnv, as the kfp-kubernetes SDK compiles CreatePVC and mount_pvc: a createpvc task (its component and the
        /// backend-handled executor image argostub/createpvc) makes a claim named &lt;uuid&gt;-axl-env; the axl-warm-env
        /// task, after it, runs `axl warm-env` into the claim mounted at /axl/env; every root step comes after that, and
        /// every step mounts the claim there (pvcMount, platform spec) with AXL_PACKAGE_CACHE=/axl/env.
        /// </summary>
        private void AddWarmEnv(ArgoMap components, ArgoMap executors, ArgoMap tasks, ArgoMap platformExecutors)
        {
            static ArgoMap P(string type, bool optional = false) => Map().With("parameterType", type).With("isOptional", optional ? true : null);
            var createInputs = Map()
                .With("access_modes", P("LIST"))
                .With("annotations", P("STRUCT", true))
                .With("pvc_name", P("STRING", true))
                .With("pvc_name_suffix", P("STRING", true))
                .With("size", P("STRING"))
                .With("storage_class_name", P("STRING", true))
                .With("volume_name", P("STRING", true));
            components.With("comp-" + CreatePvcTask, Map()
                .With("executorLabel", "exec-" + CreatePvcTask)
                .With("inputDefinitions", Map().With("parameters", createInputs))
                .With("outputDefinitions", Map().With("parameters", Map().With(PvcNameOutput, P("STRING")))));
            components.With("comp-" + WarmEnvironment.StepName, Map().With("executorLabel", "exec-" + WarmEnvironment.StepName));
            executors.With("exec-" + CreatePvcTask, Map().With("container", Map().With("image", "argostub/" + CreatePvcTask)));
            var image = _o.Image ?? _wf.Options.Image ?? AxlInfo.DefaultRunnerImage;
            _images.Add(image);
            executors.With("exec-" + WarmEnvironment.StepName, Map().With("container", Map()
                .With("image", image)
                .With("command", new List<object?> { CompilerSteps.RunnerCommand })
                .With("args", new List<object?> { "warm-env", ArgoCompiler.WorkDir + "/" + _workflowFile, "--cache", ArgoCompiler.WarmEnvRoot })));
            static ArgoMap Constant(object value) => Map().With("runtimeValue", Map().With("constant", value));
            var createArgs = Map()
                .With("access_modes", Constant(new List<object?> { _o.PvcAccessMode }))
                .With("pvc_name_suffix", Constant(WarmEnvPvcSuffix))
                .With("size", Constant(ArgoCompiler.WarmEnvSize));
            if (_o.PvcStorageClass is { } storageClass) createArgs.With("storage_class_name", Constant(storageClass));
            tasks.With(CreatePvcTask, Map()
                .With("taskInfo", Map().With("name", CreatePvcTask))
                .With("componentRef", Map().With("name", "comp-" + CreatePvcTask))
                .With("inputs", Map().With("parameters", createArgs))
                .With("cachingOptions", Map().With("enableCache", false)));
            tasks.With(WarmEnvironment.StepName, Map()
                .With("taskInfo", Map().With("name", WarmEnvironment.StepName))
                .With("componentRef", Map().With("name", "comp-" + WarmEnvironment.StepName))
                .With("dependentTasks", new List<object?> { CreatePvcTask })
                .With("cachingOptions", Map().With("enableCache", false)));
            platformExecutors.With("exec-" + WarmEnvironment.StepName, Map().With("pvcMount", WarmEnvMount()));
        }

        /// <summary>-WarmEnv: the deletepvc task after the last steps (those no step comes after), as kfp-kubernetes' DeletePVC(...).after(...).</summary>
        private void AddDeletePvc(ArgoMap components, ArgoMap executors, ArgoMap tasks, IReadOnlyList<AxlStep> order)
        {
            components.With("comp-" + DeletePvcTask, Map()
                .With("executorLabel", "exec-" + DeletePvcTask)
                .With("inputDefinitions", Map().With("parameters", Map().With("pvc_name", Map().With("parameterType", "STRING")))));
            executors.With("exec-" + DeletePvcTask, Map().With("container", Map().With("image", "argostub/" + DeletePvcTask)));
            var last = order.Where(s => !_wf.Steps.Any(d => d.Upstream.Contains(s.Name, StringComparer.OrdinalIgnoreCase)))
                .Select(s => (object?)s.KubernetesName).ToList();
            last.Add(CreatePvcTask);
            tasks.With(DeletePvcTask, Map()
                .With("taskInfo", Map().With("name", DeletePvcTask))
                .With("componentRef", Map().With("name", "comp-" + DeletePvcTask))
                .With("dependentTasks", last)
                .With("inputs", Map().With("parameters", Map().With("pvc_name", Map().With("taskOutputParameter", PvcName()))))
                .With("cachingOptions", Map().With("enableCache", false)));
        }

        private static ArgoMap PvcName() => Map().With("outputParameterKey", PvcNameOutput).With("producerTask", CreatePvcTask);

        /// <summary>kfp-kubernetes' pvcMount of the shared volume (both the current pvcNameParameter and the older taskOutputParameter field, as the SDK writes them).</summary>
        private static List<object?> WarmEnvMount() => new()
        {
            Map().With("mountPath", ArgoCompiler.WarmEnvRoot)
                .With("pvcNameParameter", Map().With("taskOutputParameter", PvcName()))
                .With("taskOutputParameter", PvcName()),
        };

        /// <summary>The SDK's comment block: the pipeline's name and inputs, for a person reading the file.</summary>
        private string Header()
        {
            var sb = new StringBuilder();
            sb.Append("# PIPELINE DEFINITION\n");
            sb.Append("# Name: ").Append(_wf.KubernetesName).Append('\n');
            if (_wf.Options.Description is { } d) sb.Append("# Description: ").Append(OneLine(d)).Append('\n');
            if (_wf.Parameters.Count > 0)
            {
                sb.Append("# Inputs:\n");
                foreach (var p in _wf.Parameters)
                {
                    sb.Append("#    ").Append(p.Name).Append(": ").Append(ParameterType(p));
                    if (CompilerSteps.HasInlineDefault(p)) sb.Append(" [Default: ").Append(OneLine(CompilerSteps.ParameterText(p.Default))).Append(']');
                    sb.Append('\n');
                }
            }
            sb.Append("# Compiled by Axl ").Append(AxlInfo.Version).Append(" from ").Append(_workflowFile).Append(" (workflow ").Append(_wf.Name).Append(", ").Append(_hash).Append(")\n");
            return sb.ToString();
        }

        private static string OneLine(string s) => s.Replace('\r', ' ').Replace('\n', ' ');

        private ArgoMap RootParameters()
        {
            var parameters = Map();
            foreach (var p in _wf.Parameters)
                parameters.With(p.Name, Map()
                    .With("parameterType", ParameterType(p))
                    .With("defaultValue", TypedDefault(p))
                    .With("isOptional", CompilerSteps.HasInlineDefault(p) ? true : null)
                    .With("description", p.Description));
            return parameters;
        }

        private static ArgoMap ArtifactType() => Map().With("schemaTitle", ArtifactSchema).With("schemaVersion", ArtifactSchemaVersion);
        private static ArgoMap ArtifactSpec() => Map().With("artifactType", ArtifactType());

        /// <summary>The condition's operands, each once, in order of appearance.</summary>
        private List<ConditionRef> ConditionRefs(AxlStep s)
        {
            var result = new List<ConditionRef>();
            if (s.Condition is null) return result;
            foreach (var r in s.Condition.References())
                if (!result.Any(x => KfpConditions.InputKey(x, _wf) == KfpConditions.InputKey(r, _wf))) result.Add(r);
            return result;
        }

        private ArgoMap Component(AxlStep s)
        {
            var artifacts = Map();
            foreach (var u in CompilerSteps.DataUpstream(_wf, s)) artifacts.With(u.Name, ArtifactSpec());
            if (_code is not null) artifacts.With(CodeArtifact, ArtifactSpec());
            var parameters = Map();
            foreach (var p in CompilerSteps.ParametersUsed(_wf, s)) parameters.With(p.Name, Map().With("parameterType", ParameterType(p)));
            foreach (var r in ConditionRefs(s))
                parameters.With(KfpConditions.InputKey(r, _wf), Map().With("parameterType", r.IsParameter && _wf.Parameters.FirstOrDefault(p => p.Name.Equals(r.Name, StringComparison.OrdinalIgnoreCase)) is { } p ? ParameterType(p) : "STRING"));
            var outputs = Map().With("artifacts", Map().With(OutputArtifact, ArtifactSpec()));
            if (ManifestBuilder.IsReadByCondition(_wf, s)) outputs.With("parameters", Map().With(ValueParameter, Map().With("parameterType", "STRING")));
            return Map()
                .With("executorLabel", "exec-" + s.KubernetesName)
                .With("inputDefinitions", Map().With("artifacts", artifacts).With("parameters", parameters))
                .With("outputDefinitions", outputs);
        }

        private ArgoMap Task(AxlStep s)
        {
            var upstream = s.Upstream.Select(u => (object?)_wf.GetStep(u)!.KubernetesName).ToList();
            if (_code is not null) upstream.Insert(0, CodeTask);
            if (_wf.Options.WarmEnv)
            {
                // The SDK lists the task whose output a pvcMount reads; the roots also wait for the warm-up.
                upstream.Insert(0, CreatePvcTask);
                if (s.Upstream.Count == 0) upstream.Insert(1, WarmEnvironment.StepName);
            }
            var artifacts = Map();
            foreach (var u in CompilerSteps.DataUpstream(_wf, s))
                artifacts.With(u.Name, Map().With("taskOutputArtifact", Map().With("producerTask", u.KubernetesName).With("outputArtifactKey", OutputArtifact)));
            if (_code is not null)
                artifacts.With(CodeArtifact, Map().With("taskOutputArtifact", Map().With("producerTask", CodeTask).With("outputArtifactKey", ImporterOutput)));
            var parameters = Map();
            foreach (var p in CompilerSteps.ParametersUsed(_wf, s)) parameters.With(p.Name, Map().With("componentInputParameter", p.Name));
            foreach (var r in ConditionRefs(s))
            {
                var key = KfpConditions.InputKey(r, _wf);
                if (!r.IsParameter && _wf.GetStep(r.Name) is { } step)
                    parameters.With(key, Map().With("taskOutputParameter", Map().With("producerTask", step.KubernetesName).With("outputParameterKey", ValueParameter)));
                else
                    parameters.With(key, Map().With("componentInputParameter", key["pipelinechannel--".Length..]));
            }
            return Map()
                .With("taskInfo", Map().With("name", s.KubernetesName))
                .With("componentRef", Map().With("name", "comp-" + s.KubernetesName))
                .With("dependentTasks", upstream)
                .With("inputs", Map().With("artifacts", artifacts).With("parameters", parameters))
                .With("triggerPolicy", s.Condition is { } c ? Map().With("condition", KfpConditions.ToCel(c, _wf)) : null)
                .With("retryPolicy", s.Retries > 0
                    ? Map().With("maxRetryCount", (long)s.Retries).With("backoffDuration", "1s").With("backoffFactor", PlainScalar.Number(2)).With("backoffMaxDuration", "3600s")
                    : null)
                .With("cachingOptions", Map().With("enableCache", _o.EnableCaching));
        }

        /// <summary>kfp-kubernetes' secretAsEnv entries of a step (one per secret name, its keys mapped to variables), null when it has none.</summary>
        private List<object?>? SecretAsEnv(AxlStep s)
        {
            var secrets = CompilerSteps.KubernetesSecrets(_wf, s, "Kubeflow Pipelines");
            if (secrets.Count == 0) return null;
            return secrets.GroupBy(kv => kv.Value.KubernetesSecret!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (object?)Map()
                    .With("secretName", g.Key)
                    .With("keyToEnv", g.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                        .Select(kv => (object?)Map().With("secretKey", kv.Value.KubernetesKey).With("envVar", kv.Key)).ToList()))
                .ToList();
        }

        private ArgoMap Container(AxlStep s)
        {
            var manifest = CompilerSteps.Manifest(_wf, s, _layout, _code, _codeRoot);
            if (manifest.Output.ValueFile is not null)
                manifest = manifest with { Output = manifest.Output with { ValueFile = "{{$.outputs.parameters['" + ValueParameter + "'].output_file}}" } };
            var env = CompilerSteps.ParametersUsed(_wf, s)
                .Select(p => new KeyValuePair<string, string>(ManifestBuilder.ParameterEnvironmentVariable(_wf, p), "{{$.inputs.parameters['" + p.Name + "']}}"));
            var args = CompilerSteps.RunnerArgs(manifest, _code is null ? null : "{{$.inputs.artifacts['" + CodeArtifact + "'].path}}", env);
            var image = CompilerSteps.ImageOf(_wf, s, _o.Image);
            _images.Add(image);
            return Map()
                .With("image", image)
                .With("command", new List<object?> { CompilerSteps.RunnerCommand })
                .With("args", args)
                .With("env", Env(_wf.Options.WarmEnv ? s.Env.Append(new KeyValuePair<string, string>(StepPackageOptions.CacheVariable, ArgoCompiler.WarmEnvRoot)) : s.Env))
                .With("resources", Resources(s.Resources));
        }

        private static ArgoMap? Resources(ResourceSpec r)
        {
            if (r.IsEmpty) return null;
            return Map()
                .With("resourceCpuRequest", r.CpuRequest)
                .With("resourceCpuLimit", r.CpuLimit)
                .With("resourceMemoryRequest", r.MemoryRequest)
                .With("resourceMemoryLimit", r.MemoryLimit)
                .With("accelerator", r.Gpu is { } gpu ? Map().With("resourceType", r.GpuResource).With("resourceCount", gpu.ToString(CultureInfo.InvariantCulture)) : null);
        }
    }

    /// <summary>
    /// V1: the Argo Workflow, then what the KFP 1.8 SDK adds: the pipeline spec annotation (name, description, typed
    /// inputs), the SDK version label, and on each step template the component spec annotation, the SDK type label
    /// and the caching label; the pods run as pipeline-runner unless a service account is given.
    /// </summary>
    private static KfpDocument CompileV1(AxlWorkflow wf, KfpCompileOptions o, IReadOnlyList<AxlDiagnostic> warnings)
    {
        var argo = ArgoCompiler.Compile(wf, new ArgoCompileOptions
        {
            Kind = ArgoKind.Workflow,
            Image = o.Image,
            CodeRoot = o.CodeRoot,
            CodeArchive = o.CodeArchive,
            PvcAccessMode = o.PvcAccessMode, // -WarmEnv's shared volume (and a pvc: artifact store)
            PvcStorageClass = o.PvcStorageClass,
            ServiceAccount = o.ServiceAccount ?? wf.Options.ServiceAccount ?? DefaultServiceAccount,
            // KFP 1.x uploads one Workflow and runs it on the Argo it ships (v3, CRDs without item limits): no
            // WorkflowTemplates to split into, so one object, refused below when over the size limit.
            MaxBytes = long.MaxValue,
            Split = ArgoSplit.None,
            MaxTemplates = int.MaxValue,
            MaxDagTasks = int.MaxValue,
        });
        var tree = (ArgoMap)argo.Tree;
        var metadata = (ArgoMap)tree["metadata"]!;
        ((ArgoMap)metadata["labels"]!).With("pipelines.kubeflow.org/kfp_sdk_version", V1SdkVersion);
        var pipelineSpec = new Dictionary<string, object?>
        {
            ["description"] = wf.Options.Description,
            ["inputs"] = wf.Parameters.Select(p =>
            {
                var input = new Dictionary<string, object?> { ["name"] = p.Name, ["type"] = V1Type(p) };
                if (CompilerSteps.HasInlineDefault(p)) { input["default"] = CompilerSteps.ParameterText(p.Default); input["optional"] = true; }
                if (p.Description is not null) input["description"] = p.Description;
                return (object?)input;
            }).ToList(),
            ["name"] = wf.Name,
        };
        if (pipelineSpec["description"] is null) pipelineSpec.Remove("description");
        ((ArgoMap)metadata["annotations"]!)
            .With("pipelines.kubeflow.org/kfp_sdk_version", V1SdkVersion)
            .With("pipelines.kubeflow.org/pipeline_spec", IrDocument.ToJson(pipelineSpec, indented: false));
        var steps = wf.Steps.ToDictionary(s => s.KubernetesName, StringComparer.Ordinal);
        foreach (var t in ((List<object?>)((ArgoMap)tree["spec"]!)["templates"]!).Cast<ArgoMap>())
        {
            if (!t.TryGetValue("container", out var c) || c is not ArgoMap container || !steps.TryGetValue((string)t["name"]!, out var step)) continue;
            var componentSpec = new Dictionary<string, object?>
            {
                ["name"] = step.Name,
                ["description"] = step.Description,
                ["inputs"] = CompilerSteps.DataUpstream(wf, step).Select(u => (object?)new Dictionary<string, object?> { ["name"] = u.KubernetesName, ["type"] = "Artifact" })
                    .Concat(CompilerSteps.ParametersUsed(wf, step).Select(p => (object?)new Dictionary<string, object?> { ["name"] = p.Name, ["type"] = V1Type(p) })).ToList(),
                ["outputs"] = new List<object?> { new Dictionary<string, object?> { ["name"] = ArgoCompiler.OutputArtifact, ["type"] = "Artifact" } },
                ["implementation"] = new Dictionary<string, object?>
                {
                    ["container"] = new Dictionary<string, object?> { ["image"] = container["image"], ["command"] = container["command"], ["args"] = container["args"] },
                },
            };
            if (componentSpec["description"] is null) componentSpec.Remove("description");
            t.With("metadata", Map()
                .With("labels", Map()
                    .With("pipelines.kubeflow.org/kfp_sdk_version", V1SdkVersion)
                    .With("pipelines.kubeflow.org/pipeline-sdk-type", "kfp")
                    .With("pipelines.kubeflow.org/enable_caching", o.EnableCaching ? "true" : "false"))
                .With("annotations", Map()
                    .With("pipelines.kubeflow.org/component_spec", IrDocument.ToJson(componentSpec, indented: false))
                    .With("pipelines.kubeflow.org/component_ref", "{}")));
        }
        var header = $"# KFP 1.8 pipeline package (Argo Workflow) compiled by Axl {AxlInfo.Version} from {CompilerSteps.RelativeWorkflowFile(wf, o.CodeRoot ?? o.CodeArchive?.CodeRoot)} (workflow {wf.Name}, {argo.WorkflowHash})\n";
        var document = new KfpDocument(wf, KfpFormat.V1, tree, header, argo.Images, argo.TaskCount, warnings, workflowHash: argo.WorkflowHash);
        if (document.Size > o.MaxBytes)
            throw new AxlCompileException(CompileErrorIds.ArgoTooLarge,
                $"the compiled KFP V1 package of workflow '{wf.Name}' is {ArgoDocument.FormatSize(document.Size)}, over the limit of {ArgoDocument.FormatSize(o.MaxBytes)}: KFP 1.x submits it as one Argo Workflow, which Kubernetes keeps in etcd, " +
                "and a KFP package cannot be split into WorkflowTemplates as Argo workflows are (KFP uploads one object and does not install templates).",
                "use fewer, longer steps, compile -Format V2 (KFP 2.x keeps the spec out of the workflow object), or raise the limit with -MaxBytes if your cluster allows it.", wf.Name);
        return document;
    }

    /// <summary>The KFP 1.8 component input type of a parameter.</summary>
    private static string V1Type(AxlParameter p) => CompilerSteps.KindOf(p) switch
    {
        ParameterKind.Integer => "Integer",
        ParameterKind.Number => "Float",
        ParameterKind.Boolean => "Bool",
        _ => "String",
    };
}

