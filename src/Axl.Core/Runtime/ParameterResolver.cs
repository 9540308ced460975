using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text.Json;
using Axl.Model;
using Axl.Serialization;

namespace Axl.Runtime;

/// <summary>A parameter value or parameters file that cannot be used; the message names the file, the parameter and the fix.</summary>
public sealed class AxlParameterException(string message) : Exception(message);

/// <summary>
/// The values of a run's workflow parameters: defaults, overridden by a YAML/JSON file, overridden by explicit values.
/// Unknown names and missing required values are errors; values are converted to the parameter's type
/// (its -Type, else the type of its default).
/// </summary>
public static class ParameterResolver
{
    public static Dictionary<string, object?> Resolve(AxlWorkflow wf, string? parametersFile, IDictionary? values)
    {
        var given = new List<(string Name, object? Value, string Origin)>();
        if (parametersFile is not null)
            foreach (var (k, v) in ReadFile(parametersFile)) given.Add((k, v, $"parameters file '{parametersFile}'"));
        if (values is not null)
            foreach (DictionaryEntry e in values)
                given.Add((System.Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "", e.Value is PSObject p ? p.BaseObject : e.Value, "-Parameters"));

        var result = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in wf.Parameters) if (p.HasDefault) result[p.Name] = p.Default;
        foreach (var (name, value, origin) in given)
        {
            var p = wf.Parameters.FirstOrDefault(x => x.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? throw new AxlParameterException($"{origin}: '{name}' is not a parameter of workflow '{wf.Name}'. Its parameters are: {(wf.Parameters.Count == 0 ? "none" : string.Join(", ", wf.Parameters.Select(x => x.Name)))}.");
            result[p.Name] = ConvertValue(p, value, origin);
        }
        var missing = wf.Parameters.Where(p => !result.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        if (missing.Count > 0)
            throw new AxlParameterException($"workflow '{wf.Name}' needs a value for {string.Join(", ", missing.Select(m => $"'{m}'"))}: it has no default. Fix: give it when you run the workflow (Invoke-AxlLocalRun -Parameters @{{ {missing[0]} = ... }}, or axl run local --param {missing[0]}=...), or in a parameters file.");
        // Canonical key casing and definition order.
        return wf.Parameters.ToDictionary(p => p.Name, p => result[p.Name], StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Converts the given values only (unknown names are errors, nothing is required): for a step that needs a few parameters.</summary>
    public static Dictionary<string, object?> Convert(AxlWorkflow wf, IDictionary values, string origin)
    {
        var result = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry e in values)
        {
            var name = System.Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "";
            var p = wf.Parameters.FirstOrDefault(x => x.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? throw new AxlParameterException($"{origin}: '{name}' is not a parameter of workflow '{wf.Name}'.");
            result[p.Name] = ConvertValue(p, e.Value is PSObject ps ? ps.BaseObject : e.Value, origin);
        }
        return result;
    }

    private static object? ConvertValue(AxlParameter p, object? value, string origin)
    {
        if (value is null) return null;
        Type? target = null;
        if (p.Type is not null)
        {
            try { target = LanguagePrimitives.ConvertTo<Type>(p.Type.Trim('[', ']')); }
            catch (PSInvalidCastException) { throw new AxlParameterException($"parameter '{p.Name}' declares type '{p.Type}', which is not a known type. Fix: use a type such as int, double, string, bool."); }
        }
        else if (p.Default is long) target = typeof(long);
        else if (p.Default is double) target = typeof(double);
        else if (p.Default is bool) target = typeof(bool);
        if (target is null || target.IsInstanceOfType(value)) return value;
        try
        {
            if (target == typeof(bool) && value is string s)
            {
                if (bool.TryParse(s, out var b)) return b;
                throw new FormatException();
            }
            if (target == typeof(double) && value is string ds) return double.Parse(ds, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (target == typeof(long) && value is string ls) return long.Parse(ls, NumberStyles.Integer, CultureInfo.InvariantCulture);
            return LanguagePrimitives.ConvertTo(value, target, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or PSInvalidCastException or InvalidCastException)
        {
            throw new AxlParameterException($"{origin}: parameter '{p.Name}' must be {Article(target)}, got '{value}'.");
        }
    }

    private static string Article(Type t) => t == typeof(long) ? "a whole number" : t == typeof(double) ? "a number" : t == typeof(bool) ? "true or false" : "a " + t.Name;

    /// <summary>Reads a parameters file: a YAML or JSON mapping of name to value.</summary>
    public static IReadOnlyList<(string Name, object? Value)> ReadFile(string path)
    {
        if (!File.Exists(path))
            throw new AxlParameterException($"parameters file '{path}' does not exist. Fix: check the path; it is read relative to the current directory.");
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".json")
        {
            var size = new FileInfo(path).Length;
            if (size > YamlLimits.Default.MaxBytes)
                throw new AxlParameterException($"{path}: the file is {size:N0} bytes; a parameters file may have at most {YamlLimits.Default.MaxBytes:N0}. Fix: make it smaller (it should hold values, not data).");
            return ReadJson(path, File.ReadAllText(path));
        }
        return ReadYaml(path);
    }

    private static IReadOnlyList<(string, object?)> ReadJson(string path, string text)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException ex)
        {
            throw new AxlParameterException($"{path}:{(ex.LineNumber ?? 0) + 1}:{(ex.BytePositionInLine ?? 0) + 1}: not valid JSON: {ex.Message} Fix: the file must be one JSON object of parameter names to values.");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new AxlParameterException($"{path}: the parameters file must hold one object of name to value, not a {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
            return doc.RootElement.EnumerateObject().Select(p => (p.Name, FromJson(p.Value))).ToList();
        }
    }

    private static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToArray(),
        JsonValueKind.Object => e.EnumerateObject().Aggregate(new Hashtable(StringComparer.OrdinalIgnoreCase), (h, p) => { h[p.Name] = FromJson(p.Value); return h; }),
        _ => null,
    };

    private static IReadOnlyList<(string, object?)> ReadYaml(string path)
    {
        object? doc;
        try { doc = SafeYaml.LoadFile(path); }
        catch (AxlYamlException ex) { throw new AxlParameterException(ex.Message); }
        return doc switch
        {
            null => Array.Empty<(string, object?)>(),
            YamlMap map => map.Select(kv => (kv.Key, FromYaml(kv.Value))).ToList(),
            _ => throw new AxlParameterException($"{path}: the parameters file must be a mapping of name to value (name: value per line), not a {(doc is object?[] ? "sequence" : "scalar")}."),
        };
    }

    /// <summary>Nested YAML mappings become hashtables (as PowerShell hands them), sequences arrays.</summary>
    private static object? FromYaml(object? value) => value switch
    {
        object?[] seq => seq.Select(FromYaml).ToArray(),
        YamlMap m => m.Aggregate(new Hashtable(StringComparer.OrdinalIgnoreCase), (h, kv) => { h[kv.Key] = FromYaml(kv.Value); return h; }),
        _ => value,
    };
}
