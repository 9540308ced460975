using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Axl.Model;
using Axl.Validation;

namespace Axl.Serialization;

/// <summary>
/// The IR as a plain tree of ordered maps, lists and scalars: the one shape behind the JSON and YAML forms
/// and the content hash. Keys come in a fixed order, so the same IR always gives the same bytes.
/// </summary>
public static class IrDocument
{
    public const int SchemaVersion = 1;

    private static Dictionary<string, object?> Edge(AxlEdge e) => new(4)
    {
        ["from"] = e.From,
        ["to"] = e.To,
        ["kind"] = e.Kind == EdgeKind.Data ? "data" : "order",
        ["input"] = e.Input,
    };

    /// <summary>
    /// The compact JSON of the tree of the definition hash (<see cref="ToTree"/> without locations), written straight
    /// from the IR: the same bytes (the tests compare both for every example and random workflows), without the
    /// million small maps a 10,000-step tree is made of. The steps, most of the document, go through
    /// <see cref="WriteHashedStep"/>, which follows <see cref="Step"/> key for key; the rest is the tree's own code.
    /// </summary>
    public static void WriteDefinition(Stream stream, AxlWorkflow wf)
    {
        using var w = new Utf8JsonWriter(stream, Compact);
        w.WriteStartObject();
        w.WriteNumber("schemaVersion", SchemaVersion);
        w.WriteString("name", wf.Name);
        w.WritePropertyName("options");
        Write(w, Options(wf.Options));
        w.WritePropertyName("parameters");
        w.WriteStartArray();
        foreach (var p in wf.Parameters) Write(w, Parameter(p));
        w.WriteEndArray();
        w.WritePropertyName("steps");
        w.WriteStartArray();
        foreach (var s in wf.Steps)
        {
            WriteHashedStep(w, s);
            // The writer keeps what it wrote until flushed: flushing as it goes keeps its buffer small.
            if (w.BytesPending >= FlushBytes) w.Flush();
        }
        w.WriteEndArray();
        w.WritePropertyName("edges");
        w.WriteStartArray();
        foreach (var e in wf.Edges)
        {
            WriteEdge(w, e);
            if (w.BytesPending >= FlushBytes) w.Flush();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private const int FlushBytes = 1 << 15;

    private static readonly JsonEncodedText KName = JsonEncodedText.Encode("name"), KKubernetesName = JsonEncodedText.Encode("kubernetesName"),
        KKind = JsonEncodedText.Encode("kind"), KDescription = JsonEncodedText.Encode("description"), KSource = JsonEncodedText.Encode("source"),
        KCommand = JsonEncodedText.Encode("command"), KArguments = JsonEncodedText.Encode("arguments"), KStdin = JsonEncodedText.Encode("stdin"),
        KInputs = JsonEncodedText.Encode("inputs"), KFrom = JsonEncodedText.Encode("from"), KMode = JsonEncodedText.Encode("mode"),
        KType = JsonEncodedText.Encode("type"), KRequired = JsonEncodedText.Encode("required"), KValue = JsonEncodedText.Encode("value"),
        KOutput = JsonEncodedText.Encode("output"), KIoHandler = JsonEncodedText.Encode("ioHandler"), KExtension = JsonEncodedText.Encode("extension"),
        KInputMode = JsonEncodedText.Encode("inputMode"), KResources = JsonEncodedText.Encode("resources"), KCpuRequest = JsonEncodedText.Encode("cpuRequest"),
        KCpuLimit = JsonEncodedText.Encode("cpuLimit"), KMemoryRequest = JsonEncodedText.Encode("memoryRequest"), KMemoryLimit = JsonEncodedText.Encode("memoryLimit"),
        KGpu = JsonEncodedText.Encode("gpu"), KGpuResource = JsonEncodedText.Encode("gpuResource"), KRetries = JsonEncodedText.Encode("retries"),
        KTimeoutSeconds = JsonEncodedText.Encode("timeoutSeconds"), KEnv = JsonEncodedText.Encode("env"), KWhen = JsonEncodedText.Encode("when"),
        KPackages = JsonEncodedText.Encode("packages"), KModules = JsonEncodedText.Encode("modules"), KImage = JsonEncodedText.Encode("image"),
        KDependsOn = JsonEncodedText.Encode("dependsOn"), KSecrets = JsonEncodedText.Encode("secrets"),
        KTo = JsonEncodedText.Encode("to"), KInput = JsonEncodedText.Encode("input");

    /// <summary>One edge as <see cref="Edge"/> writes, key for key, without a map per edge (a chain of 10,000 steps has 9,999).</summary>
    private static void WriteEdge(Utf8JsonWriter w, AxlEdge e)
    {
        w.WriteStartObject();
        w.WriteString(KFrom, e.From);
        w.WriteString(KTo, e.To);
        w.WriteString(KKind, e.Kind == EdgeKind.Data ? "data" : "order");
        w.WriteString(KInput, e.Input);
        w.WriteEndObject();
    }

    /// <summary>One step as <see cref="Step"/>(s, includeLocations: false) writes, key for key.</summary>
    private static void WriteHashedStep(Utf8JsonWriter w, AxlStep s)
    {
        w.WriteStartObject();
        w.WriteString(KName, s.Name);
        w.WriteString(KKubernetesName, s.KubernetesName);
        w.WriteString(KKind, Lower(s.Kind));
        w.WriteString(KDescription, s.Description);
        w.WriteString(KSource, s.Source);
        w.WriteString(KCommand, s.Command);
        Strings(w, KArguments, s.Arguments);
        w.WriteString(KStdin, s.Stdin);
        w.WriteStartArray(KInputs);
        foreach (var i in s.Inputs)
        {
            w.WriteStartObject();
            w.WriteString(KName, i.Name);
            w.WriteString(KSource, Lower(i.Source));
            w.WriteString(KFrom, i.SourceName);
            w.WriteString(KMode, Lower(i.Mode));
            w.WriteString(KType, i.Type);
            w.WriteBoolean(KRequired, i.Required);
            w.WritePropertyName(KValue);
            Write(w, i.Constant);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject(KOutput);
        w.WriteString(KName, s.Output.Name);
        w.WriteString(KIoHandler, s.Output.IoHandler);
        w.WriteString(KExtension, s.Output.Extension);
        w.WriteString(KType, s.Output.Type);
        w.WriteEndObject();
        w.WriteString(KInputMode, Lower(s.InputMode));
        w.WriteStartObject(KResources);
        w.WriteString(KCpuRequest, s.Resources.CpuRequest);
        w.WriteString(KCpuLimit, s.Resources.CpuLimit);
        w.WriteString(KMemoryRequest, s.Resources.MemoryRequest);
        w.WriteString(KMemoryLimit, s.Resources.MemoryLimit);
        Int(w, KGpu, s.Resources.Gpu);
        w.WriteString(KGpuResource, s.Resources.Gpu is null ? null : s.Resources.GpuResource);
        w.WriteEndObject();
        Int(w, KRetries, s.Retries);
        Int(w, KTimeoutSeconds, s.TimeoutSeconds);
        w.WriteStartObject(KEnv);
        foreach (var kv in s.Env) w.WriteString(kv.Key, kv.Value);
        w.WriteEndObject();
        w.WriteString(KWhen, s.Condition?.ToString() ?? s.When);
        Strings(w, KPackages, s.Packages);
        Strings(w, KModules, s.Modules);
        w.WriteString(KImage, s.Image);
        Strings(w, KDependsOn, s.DependsOn);
        if (s.Secrets.Count > 0)
        {
            w.WritePropertyName(KSecrets);
            Write(w, s.Secrets.ToDictionary(kv => kv.Key, kv => (object?)kv.Value.ToTree()));
        }
        w.WriteEndObject();

        static void Strings(Utf8JsonWriter w, JsonEncodedText name, IReadOnlyList<string> items)
        {
            w.WriteStartArray(name);
            foreach (var item in items) w.WriteStringValue(item);
            w.WriteEndArray();
        }

        static void Int(Utf8JsonWriter w, JsonEncodedText name, int? value)
        {
            if (value is { } v) w.WriteNumber(name, v);
            else w.WriteNull(name);
        }
    }

    /// <param name="includeLocations">File and line of each step; left out of the hash so moving a file keeps its hash.</param>
    public static Dictionary<string, object?> ToTree(AxlWorkflow wf, bool includeLocations = true, IReadOnlyList<AxlDiagnostic>? diagnostics = null)
    {
        var root = new Dictionary<string, object?>
        {
            ["schemaVersion"] = SchemaVersion,
            ["name"] = wf.Name,
            ["options"] = Options(wf.Options),
            ["parameters"] = wf.Parameters.Select(p => (object?)Parameter(p)).ToList(),
            ["steps"] = wf.Steps.Select(s => (object?)Step(s, includeLocations)).ToList(),
            ["edges"] = wf.Edges.Select(e => (object?)Edge(e)).ToList(),
        };
        if (includeLocations)
        {
            root["axlVersion"] = AxlInfo.Version;
            root["hash"] = wf.Hash;
            root["source"] = wf.Location.File;
        }
        if (diagnostics is not null)
            root["diagnostics"] = diagnostics.Select(d => (object?)Diagnostic(d)).ToList();
        return root;
    }

    private static Dictionary<string, object?> Parameter(AxlParameter p)
    {
        var d = new Dictionary<string, object?>
        {
            ["name"] = p.Name,
            // A sensitive default is never written out, only that there is one.
            ["default"] = p.Sensitive && p.HasDefault ? AxlParameter.Masked : p.Default,
            ["type"] = p.Type,
            ["description"] = p.Description,
        };
        if (p.Sensitive) d["sensitive"] = true; // only when set: the IR (and hash) of other workflows is unchanged
        return d;
    }

    public static Dictionary<string, object?> Diagnostic(AxlDiagnostic d) => new()
    {
        ["id"] = d.Id,
        ["severity"] = d.Severity.ToString().ToLowerInvariant(),
        ["workflow"] = d.Workflow,
        ["step"] = d.Step,
        ["file"] = d.File,
        ["line"] = d.Line,
        ["message"] = d.Message,
        ["fix"] = d.Fix,
    };

    private static Dictionary<string, object?> Options(WorkflowOptions o)
    {
        var d = OptionsWithoutModules(o);
        // Only when given, so the IR (and the hash) of workflows without -Modules is what it was before the option existed.
        if (o.Modules.Count > 0) d["modules"] = o.Modules.Cast<object?>().ToList();
        if (o.WarmEnv) d["warmEnv"] = true; // likewise: absent unless -WarmEnv
        return d;
    }

    private static Dictionary<string, object?> OptionsWithoutModules(WorkflowOptions o) => new()
    {
        ["image"] = o.Image,
        ["ioHandler"] = o.DefaultIoHandler,
        ["inputMode"] = Lower(o.DefaultInputMode),
        ["serviceAccount"] = o.ServiceAccount,
        ["artifactStore"] = o.ArtifactStore,
        ["codeDelivery"] = Lower(o.CodeDelivery),
        ["dependencies"] = new Dictionary<string, object?>
        {
            ["mode"] = o.Dependencies.Mode,
            ["lockfile"] = o.Dependencies.Lockfile,
            ["requirementsFile"] = o.Dependencies.RequirementsFile,
            ["requirements"] = o.Dependencies.Requirements.Cast<object?>().ToList(),
        },
        ["description"] = o.Description,
        ["labels"] = o.Labels.ToDictionary(kv => kv.Key, kv => (object?)kv.Value),
    };

    /// <summary>One step as a tree (the step part of the IR document).</summary>
    public static Dictionary<string, object?> Step(AxlStep s, bool includeLocations)
    {
        // Sized up front (same key order): a 10,000-step workflow makes hundreds of thousands of these maps.
        var d = new Dictionary<string, object?>(27)
        {
            ["name"] = s.Name,
            ["kubernetesName"] = s.KubernetesName,
            ["kind"] = Lower(s.Kind),
            ["description"] = s.Description,
            ["source"] = s.Source,
            ["command"] = s.Command,
            ["arguments"] = s.Arguments.Cast<object?>().ToList(),
            ["stdin"] = s.Stdin,
            ["inputs"] = s.Inputs.Select(i => (object?)new Dictionary<string, object?>(7)
            {
                ["name"] = i.Name,
                ["source"] = Lower(i.Source),
                ["from"] = i.SourceName,
                ["mode"] = Lower(i.Mode),
                ["type"] = i.Type,
                ["required"] = i.Required,
                ["value"] = i.Constant,
            }).ToList(),
            ["output"] = new Dictionary<string, object?>(4)
            {
                ["name"] = s.Output.Name,
                ["ioHandler"] = s.Output.IoHandler,
                ["extension"] = s.Output.Extension,
                ["type"] = s.Output.Type,
            },
            ["inputMode"] = Lower(s.InputMode),
            ["resources"] = new Dictionary<string, object?>(6)
            {
                ["cpuRequest"] = s.Resources.CpuRequest,
                ["cpuLimit"] = s.Resources.CpuLimit,
                ["memoryRequest"] = s.Resources.MemoryRequest,
                ["memoryLimit"] = s.Resources.MemoryLimit,
                ["gpu"] = s.Resources.Gpu,
                ["gpuResource"] = s.Resources.Gpu is null ? null : s.Resources.GpuResource,
            },
            ["retries"] = s.Retries,
            ["timeoutSeconds"] = s.TimeoutSeconds,
            ["env"] = s.Env.ToDictionary(kv => kv.Key, kv => (object?)kv.Value),
            ["when"] = s.Condition?.ToString() ?? s.When,
            ["packages"] = s.Packages.Cast<object?>().ToList(),
            ["modules"] = s.Modules.Cast<object?>().ToList(),
            ["image"] = s.Image,
            ["dependsOn"] = s.DependsOn.Cast<object?>().ToList(),
        };
        // References only, never values; only when there are some, so the IR (and hash) of other steps is unchanged.
        if (s.Secrets.Count > 0) d["secrets"] = s.Secrets.ToDictionary(kv => kv.Key, kv => (object?)kv.Value.ToTree());
        if (includeLocations)
        {
            d["file"] = s.Location.File;
            d["line"] = s.Location.Line;
        }
        return d;
    }

    private static string Lower<T>(T value) where T : struct, Enum => LowerNames<T>.Of(value);

    /// <summary>
    /// Each named value of an enum as its name in lower case, made once per enum: the definition hash writes four per
    /// step (an enum's ToString and a lower-case copy, 40,000 of each for 10,000 steps). A value without a name (none
    /// of Axl's) is made as before.
    /// </summary>
    private static class LowerNames<T> where T : struct, Enum
    {
        private static readonly T[] Values = Enum.GetValues<T>();
        private static readonly long[] Numbers = Array.ConvertAll(Values, Number);
        private static readonly string[] Names = Array.ConvertAll(Values, v => v.ToString().ToLowerInvariant());

        public static string Of(T value)
        {
            var number = Number(value);
            for (var i = 0; i < Numbers.Length; i++)
                if (Numbers[i] == number) return Names[i];
            return value.ToString().ToLowerInvariant();
        }

        /// <summary>The value's bits as a number (not EqualityComparer, whose enum comparer the JIT makes unoptimised in a fresh process).</summary>
        private static long Number(T value) => System.Runtime.CompilerServices.Unsafe.SizeOf<T>() switch
        {
            1 => System.Runtime.CompilerServices.Unsafe.As<T, byte>(ref value),
            2 => System.Runtime.CompilerServices.Unsafe.As<T, ushort>(ref value),
            4 => System.Runtime.CompilerServices.Unsafe.As<T, uint>(ref value),
            _ => System.Runtime.CompilerServices.Unsafe.As<T, long>(ref value),
        };
    }

    // Relaxed escaping (the same bytes as JavaScriptEncoder.UnsafeRelaxedJsonEscaping), its search for a character to
    // escape precompiled (AsciiFirstEncoder): every name and string of the definition hash and of each step's manifest goes through it.
    private static readonly JsonWriterOptions Compact = new() { Encoder = AsciiFirstEncoder.UnsafeRelaxed };
    private static readonly JsonWriterOptions Indented = new() { Encoder = AsciiFirstEncoder.UnsafeRelaxed, Indented = true };

    /// <summary>Writes a tree as JSON (nulls kept, key order kept).</summary>
    public static string ToJson(object? tree, bool indented = true) => ToJson(tree, Write, indented);

    /// <summary>
    /// The JSON <paramref name="write"/> writes for <paramref name="value"/> (<see cref="ToJson(object?, bool)"/>'s
    /// options), through a buffer kept per thread for the next document (the many small documents of a compile): taken
    /// out while in use, so a nested call makes its own, and not kept when a large document grew it.
    /// </summary>
    public static string ToJson<T>(T value, Action<Utf8JsonWriter, T> write, bool indented)
    {
        var (buffer, w) = WriteJson(value, write, indented);
        var json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Keep(buffer, w, indented);
        return json;
    }

    /// <summary>
    /// <see cref="ToJson{T}"/>'s compact JSON as chars in a buffer of this thread, without a string of its own: valid
    /// until the next call on this thread. For a writer that copies the JSON straight into its own text (a split compile's
    /// 10,000 step manifests, each a string made only to be copied once).
    /// </summary>
    internal static ReadOnlySpan<char> ToCompactChars<T>(T value, Action<Utf8JsonWriter, T> write)
    {
        var (buffer, w) = WriteJson(value, write, indented: false);
        var bytes = buffer.WrittenSpan;
        // UTF-8 never decodes to more chars than it has bytes.
        var chars = _jsonChars is { } kept && kept.Length >= bytes.Length ? kept : new char[Math.Max(bytes.Length, 1024)];
        if (chars.Length <= KeptJsonBufferBytes) _jsonChars = chars;
        var length = Encoding.UTF8.GetChars(bytes, chars);
        Keep(buffer, w, indented: false);
        return chars.AsSpan(0, length);
    }

    /// <summary>The JSON <paramref name="write"/> writes, in the thread's buffer (taken out while in use, so a nested call makes its own).</summary>
    private static (System.Buffers.ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer) WriteJson<T>(T value, Action<Utf8JsonWriter, T> write, bool indented)
    {
        var buffer = _jsonBuffer ?? new System.Buffers.ArrayBufferWriter<byte>(4096);
        _jsonBuffer = null;
        buffer.ResetWrittenCount();
        // The writer is kept with the buffer (Reset onto it), for compact JSON: a compile writes one manifest per step.
        var w = indented ? new Utf8JsonWriter(buffer, Indented) : _compactWriter ?? new Utf8JsonWriter(buffer, Compact);
        _compactWriter = null;
        w.Reset(buffer);
        write(w, value);
        w.Flush();
        return (buffer, w);
    }

    /// <summary>Keeps the buffer (and a compact writer) for the thread's next document, unless a large document grew it.</summary>
    private static void Keep(System.Buffers.ArrayBufferWriter<byte> buffer, Utf8JsonWriter w, bool indented)
    {
        if (buffer.Capacity > KeptJsonBufferBytes) return;
        _jsonBuffer = buffer;
        if (!indented) _compactWriter = w;
    }

    private const int KeptJsonBufferBytes = 1 << 20;
    [ThreadStatic] private static char[]? _jsonChars;
    [ThreadStatic] private static System.Buffers.ArrayBufferWriter<byte>? _jsonBuffer;
    [ThreadStatic] private static Utf8JsonWriter? _compactWriter;

    /// <summary>BLAKE3 of the compact JSON of a tree, as "blake3:&lt;hex&gt;" (<see cref="Hashing.ContentHash"/>).</summary>
    public static string Hash(object? tree) => Hash(tree, legacy: false);

    /// <summary>
    /// The hash of the compact JSON of a tree: BLAKE3, or with <paramref name="legacy"/> the SHA-256 id Axl wrote before
    /// (to recognise the step keys of runs recorded then).
    /// </summary>
    public static string Hash(object? tree, bool legacy)
    {
        using var ms = new MemoryStream();
        WriteJson(ms, tree, indented: false);
        var bytes = ms.GetBuffer().AsSpan(0, (int)ms.Length);
        return legacy ? Hashing.ContentHash.OfLegacy(bytes) : Hashing.ContentHash.Of(bytes);
    }

    public static void WriteJson(Stream stream, object? tree, bool indented)
    {
        using var w = new Utf8JsonWriter(stream, indented ? Indented : Compact);
        Write(w, tree);
    }

    private static void Write(Utf8JsonWriter w, object? value)
    {
        // Depth of the IR tree is fixed and small, so recursion here is bounded.
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            case double d: w.WriteNumberValue(d); break;
            case float f: w.WriteNumberValue(f); break;
            case decimal m: w.WriteNumberValue(m); break;
            case short or ushort or byte or sbyte or uint: w.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case ulong ul: w.WriteNumberValue(ul); break;
            case DateTimeOffset dto: w.WriteStringValue(dto.ToString("o", CultureInfo.InvariantCulture)); break;
            case DateTime dt: w.WriteStringValue(dt.ToString("o", CultureInfo.InvariantCulture)); break;

            case IDictionary<string, object?> map:
                w.WriteStartObject();
                foreach (var kv in map) { w.WritePropertyName(kv.Key); Write(w, kv.Value); }
                w.WriteEndObject();
                break;
            case System.Collections.IDictionary dict:
                // Hashtables enumerate in hash order, which differs between processes: sort for stable bytes.
                w.WriteStartObject();
                foreach (var kv in dict.Cast<System.Collections.DictionaryEntry>()
                             .Select(e => (Key: Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "", e.Value))
                             .OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    w.WritePropertyName(kv.Key);
                    Write(w, kv.Value);
                }
                w.WriteEndObject();
                break;
            case System.Collections.IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list) Write(w, item);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>Writes a tree as YAML (YamlDotNet), keys in tree order.</summary>
    public static string ToYaml(object? tree)
    {
        var serializer = new YamlDotNet.Serialization.SerializerBuilder()
            .WithIndentedSequences()
            .Build();
        return serializer.Serialize(tree);
    }
}
