using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Axl.Jobs;

/// <summary>Where a job runs. Local: a separate `axl run local` process on this machine; Argo and Queue: see docs/jobs.md; Kfp: a run on a Kubeflow Pipelines server (docs/kfp-dagster.md).</summary>
public enum JobTargetKind { Local, Argo, Queue, Kfp }

/// <summary>What a job asks for: cpu and memory as Kubernetes quantities (500m, 2, 1Gi), whole GPUs.</summary>
public sealed class JobResources
{
    public string? Cpu { get; set; }
    public string? Memory { get; set; }
    public int? Gpu { get; set; }
    public bool IsEmpty => Cpu is null && Memory is null && Gpu is null;
    public override string ToString() => string.Join(", ", new[] { Cpu is null ? null : "cpu=" + Cpu, Memory is null ? null : "memory=" + Memory, Gpu is null ? null : "gpu=" + Gpu }.Where(s => s is not null));
}

/// <summary>Thrown for a spec that cannot be read or is not complete; the message names the field and the fix.</summary>
public sealed class AxlJobSpecException(string message, string? field = null) : Exception(message)
{
    public string? Field { get; } = field;
}

/// <summary>
/// How to launch a workflow as a job: data only (no behaviour beyond validation and JSON). The workflow file and,
/// when the file defines several, the workflow's name; parameter values; overrides (parameter values that win over
/// Parameters, e.g. the value a sweep varies); the target; resources. Stable JSON: fixed property order, camelCase,
/// unknown properties rejected.
/// </summary>
public sealed class AxlJobSpec
{
    public const int SchemaVersion = 1;
    private static readonly string[] Known = { "version", "name", "workflowPath", "workflowName", "parameters", "overrides", "target", "resources" };
    private static readonly string[] KnownResources = { "cpu", "memory", "gpu" };

    public string Name { get; set; } = "";
    public string? WorkflowPath { get; set; }
    public string? WorkflowName { get; set; }
    public IDictionary<string, object?> Parameters { get; set; } = new SortedDictionary<string, object?>(StringComparer.Ordinal);
    public IDictionary<string, object?> Overrides { get; set; } = new SortedDictionary<string, object?>(StringComparer.Ordinal);
    public JobTargetKind Target { get; set; } = JobTargetKind.Local;
    public JobResources Resources { get; set; } = new();

    /// <summary>The workflow reference as `axl` takes it: file, or file:Name.</summary>
    public string WorkflowReference => WorkflowName is { Length: > 0 } n ? $"{WorkflowPath}:{n}" : WorkflowPath ?? "";

    /// <summary>Parameters with the overrides applied (an override wins over a parameter of the same name, ignoring case).</summary>
    public IReadOnlyDictionary<string, object?> EffectiveParameters()
    {
        var all = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var kv in Parameters) all[kv.Key] = kv.Value;
        foreach (var kv in Overrides) all[kv.Key] = kv.Value;
        return all;
    }

    /// <summary>The problems that keep this spec from being submitted (empty when it is complete).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(WorkflowPath))
            problems.Add($"job spec '{(Name.Length == 0 ? "(unnamed)" : Name)}' names no workflow: set workflowPath (New-AxlJobSpec -WorkflowPath flow.axl.ps1, or pipe an AxlWorkflow loaded from a file).");
        if (string.IsNullOrWhiteSpace(Name))
            problems.Add("job spec has no name: set name (New-AxlJobSpec -Name).");
        if (Resources.Gpu is < 0) problems.Add($"job spec '{Name}': resources.gpu must be 0 or more, got {Resources.Gpu}.");
        return problems;
    }

    public void ThrowIfInvalid()
    {
        var p = Validate();
        if (p.Count > 0) throw new AxlJobSpecException(string.Join(" ", p), p[0].Contains("workflowPath") ? "workflowPath" : "name");
    }

    public AxlJobSpec Clone() => FromJson(ToJson());

    // ---- JSON ------------------------------------------------------------------------------------------------

    public string ToJson(bool indented = true)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            w.WriteNumber("version", SchemaVersion);
            w.WriteString("name", Name);
            w.WriteString("workflowPath", WorkflowPath);
            w.WriteString("workflowName", WorkflowName);
            w.WritePropertyName("parameters"); WriteMap(w, Parameters);
            w.WritePropertyName("overrides"); WriteMap(w, Overrides);
            w.WriteString("target", Target.ToString());
            w.WriteStartObject("resources");
            w.WriteString("cpu", Resources.Cpu);
            w.WriteString("memory", Resources.Memory);
            if (Resources.Gpu is { } g) w.WriteNumber("gpu", g); else w.WriteNull("gpu");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()).Replace("\r\n", "\n");
    }

    public static AxlJobSpec FromJson(string json, string? source = null)
    {
        var where = source is null ? "job spec JSON" : $"job spec {source}";
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException ex) { throw new AxlJobSpecException($"{where} is not valid JSON: {ex.Message}"); }
        using (doc)
        {
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) throw new AxlJobSpecException($"{where} must be a JSON object, got {r.ValueKind}.");
            foreach (var p in r.EnumerateObject())
                if (!Known.Contains(p.Name, StringComparer.Ordinal))
                    throw new AxlJobSpecException($"{where} has an unknown field '{p.Name}'. Known fields: {string.Join(", ", Known)}.", p.Name);
            if (r.TryGetProperty("version", out var v) && !(v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n == SchemaVersion))
                throw new AxlJobSpecException($"{where} has version {v.GetRawText()}; this Axl reads version {SchemaVersion}.", "version");
            var spec = new AxlJobSpec
            {
                Name = Str(r, "name", where) ?? "",
                WorkflowPath = Str(r, "workflowPath", where),
                WorkflowName = Str(r, "workflowName", where),
                Parameters = Map(r, "parameters", where),
                Overrides = Map(r, "overrides", where),
            };
            if (Str(r, "target", where) is { } t)
                spec.Target = Enum.TryParse<JobTargetKind>(t, ignoreCase: true, out var k) && Enum.IsDefined(k) && !int.TryParse(t, out _)
                    ? k : throw new AxlJobSpecException($"{where}: target '{t}' is not one of {string.Join(", ", Enum.GetNames<JobTargetKind>())}.", "target");
            if (r.TryGetProperty("resources", out var res) && res.ValueKind != JsonValueKind.Null)
            {
                if (res.ValueKind != JsonValueKind.Object) throw new AxlJobSpecException($"{where}: resources must be an object.", "resources");
                foreach (var p in res.EnumerateObject())
                    if (!KnownResources.Contains(p.Name, StringComparer.Ordinal))
                        throw new AxlJobSpecException($"{where} has an unknown field 'resources.{p.Name}'. Known fields: {string.Join(", ", KnownResources)}.", "resources." + p.Name);
                spec.Resources = new JobResources
                {
                    Cpu = QuantityString(res, "cpu", where),
                    Memory = QuantityString(res, "memory", where),
                    Gpu = res.TryGetProperty("gpu", out var g) && g.ValueKind != JsonValueKind.Null
                        ? g.ValueKind == JsonValueKind.Number && g.TryGetInt32(out var gi) ? gi : throw new AxlJobSpecException($"{where}: resources.gpu must be a whole number.", "resources.gpu")
                        : null,
                };
            }
            return spec;
        }
    }

    public override bool Equals(object? obj) => obj is AxlJobSpec o && o.ToJson(false) == ToJson(false);
    public override int GetHashCode() => ToJson(false).GetHashCode(StringComparison.Ordinal);
    public override string ToString() => $"{Name}: {WorkflowReference} on {Target}";

    private static string? Str(JsonElement e, string name, string where) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString() : throw new AxlJobSpecException($"{where}: {name} must be a string, got {v.ValueKind}.", name);

    private static string? QuantityString(JsonElement e, string name, string where) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : v.ValueKind == JsonValueKind.Number ? v.GetRawText()
        : throw new AxlJobSpecException($"{where}: resources.{name} must be a string such as 500m or 1Gi.", "resources." + name);

    private static IDictionary<string, object?> Map(JsonElement e, string name, string where)
    {
        var map = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return map;
        if (v.ValueKind != JsonValueKind.Object) throw new AxlJobSpecException($"{where}: {name} must be an object of name to value.", name);
        foreach (var p in v.EnumerateObject()) map[p.Name] = Value(p.Value);
        return map;
    }

    private static object? Value(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => e.EnumerateArray().Select(Value).ToArray(),
        JsonValueKind.Object => new SortedDictionary<string, object?>(e.EnumerateObject().ToDictionary(p => p.Name, p => Value(p.Value)), StringComparer.Ordinal),
        _ => null,
    };

    /// <summary>Writes a map sorted by key, so equal specs give equal JSON.</summary>
    public static void WriteMap(Utf8JsonWriter w, IEnumerable<KeyValuePair<string, object?>> map)
    {
        w.WriteStartObject();
        foreach (var kv in map.OrderBy(k => k.Key, StringComparer.Ordinal)) { w.WritePropertyName(kv.Key); WriteValue(w, kv.Value); }
        w.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int or long or short or byte or sbyte or uint or ushort: w.WriteNumberValue(Convert.ToInt64(v, CultureInfo.InvariantCulture)); break;
            case ulong u: w.WriteNumberValue(u); break;
            case float or double or decimal: w.WriteNumberValue(Convert.ToDouble(v, CultureInfo.InvariantCulture)); break;
            case IDictionary d:
                w.WriteStartObject();
                foreach (var k in d.Keys.Cast<object>().Select(k => Convert.ToString(k, CultureInfo.InvariantCulture)!).OrderBy(k => k, StringComparer.Ordinal))
                { w.WritePropertyName(k); WriteValue(w, d[k]); }
                w.WriteEndObject();
                break;
            case IEnumerable<KeyValuePair<string, object?>> m: WriteMap(w, m); break;
            case IEnumerable e:
                w.WriteStartArray();
                foreach (var x in e) WriteValue(w, x);
                w.WriteEndArray();
                break;
            case DateTime or DateTimeOffset: w.WriteStringValue(Convert.ToString(v is DateTime dt ? dt.ToString("o", CultureInfo.InvariantCulture) : ((DateTimeOffset)v).ToString("o", CultureInfo.InvariantCulture))); break;
            default: w.WriteStringValue(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
        }
    }
}
