using System.Globalization;
using System.Text.Json;
using Axl.Model;
using Axl.Serialization;

namespace Axl.Runner;

/// <summary>
/// The IO manifest: everything the runner needs to run one step anywhere (a local run, an Argo pod, a KFP or
/// Dagster op). It names the workflow file and step (the runner import contract), where each input artifact
/// directory is, the value of each parameter, and where the output goes. Back ends write it; the runner reads it.
/// </summary>
public sealed record StepManifest
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public string AxlVersion { get; init; } = AxlInfo.Version;
    public required string Workflow { get; init; }
    /// <summary>Hash of the workflow the manifest was made for; the runner refuses a different definition.</summary>
    public string? WorkflowHash { get; init; }
    /// <summary>The workflow file, absolute or relative to <see cref="WorkDir"/>.</summary>
    public required string WorkflowFile { get; init; }
    /// <summary>Where the workflow code is (e.g. /axl/workdir); steps run there.</summary>
    public string? WorkDir { get; init; }
    public required string Step { get; init; }
    public string? RunId { get; init; }
    /// <summary>
    /// The SHA-256 ("sha256:&lt;hex&gt;") of the code archive the step must run (code delivery Artifact), pinned when the
    /// workflow was compiled: the runner hashes the archive before extracting anything and refuses any other bytes.
    /// </summary>
    public string? CodeArchiveSha256 { get; init; }
    public IReadOnlyList<ManifestInput> Inputs { get; init; } = Array.Empty<ManifestInput>();
    public required ManifestOutput Output { get; init; }

    /// <summary>
    /// The JSON of <see cref="ToTree"/>, written straight from the record (<see cref="Write"/>): a compile writes one
    /// per step into the step's command line, and the tree's maps and lists would be made only to be written.
    /// </summary>
    public string ToJson(bool indented = true) => IrDocument.ToJson(this, static (w, m) => m.Write(w), indented);

    /// <summary><see cref="ToJson"/>(indented: false) as chars in a buffer of the thread, valid until its next JSON (<see cref="IrDocument.ToCompactChars"/>).</summary>
    internal ReadOnlySpan<char> CompactJsonChars() => IrDocument.ToCompactChars(this, static (w, m) => m.Write(w));

    /// <summary>What <see cref="IrDocument.ToJson(object?, bool)"/> writes for <see cref="ToTree"/>, key for key (the tests compare both).</summary>
    private void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("schemaVersion", SchemaVersion);
        w.WriteString("axlVersion", AxlVersion);
        w.WriteString("workflow", Workflow);
        w.WriteString("workflowHash", WorkflowHash);
        w.WriteString("workflowFile", WorkflowFile);
        w.WriteString("workDir", WorkDir);
        w.WriteString("step", Step);
        w.WriteString("runId", RunId);
        w.WriteStartArray("inputs");
        foreach (var i in Inputs)
        {
            w.WriteStartObject();
            w.WriteString("name", i.Name);
            w.WriteString("source", i.Source);
            w.WriteString("from", i.From);
            w.WriteString("mode", i.Mode);
            w.WriteString("path", i.Path);
            w.WriteString("value", i.Value);
            if (i.Env is not null) w.WriteString("env", i.Env);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("output");
        w.WriteString("directory", Output.Directory);
        w.WriteString("ioHandler", Output.IoHandler);
        w.WriteString("extension", Output.Extension);
        w.WriteString("valueFile", Output.ValueFile);
        w.WriteEndObject();
        if (CodeArchiveSha256 is not null) w.WriteString("codeArchiveSha256", CodeArchiveSha256);
        w.WriteEndObject();
    }

    public Dictionary<string, object?> ToTree()
    {
        var tree = Tree();
        if (CodeArchiveSha256 is not null) tree["codeArchiveSha256"] = CodeArchiveSha256;
        return tree;
    }

    private Dictionary<string, object?> Tree() => new()
    {
        ["schemaVersion"] = SchemaVersion,
        ["axlVersion"] = AxlVersion,
        ["workflow"] = Workflow,
        ["workflowHash"] = WorkflowHash,
        ["workflowFile"] = WorkflowFile,
        ["workDir"] = WorkDir,
        ["step"] = Step,
        ["runId"] = RunId,
        ["inputs"] = Inputs.Select(i =>
        {
            var d = new Dictionary<string, object?>
            {
                ["name"] = i.Name,
                ["source"] = i.Source,
                ["from"] = i.From,
                ["mode"] = i.Mode,
                ["path"] = i.Path,
                ["value"] = i.Value,
            };
            if (i.Env is not null) d["env"] = i.Env;
            return (object?)d;
        }).ToList(),
        ["output"] = new Dictionary<string, object?>
        {
            ["directory"] = Output.Directory,
            ["ioHandler"] = Output.IoHandler,
            ["extension"] = Output.Extension,
            ["valueFile"] = Output.ValueFile,
        },
    };

    /// <summary>The sources an input can have.</summary>
    public static readonly IReadOnlyList<string> Sources = new[] { "step", "parameter", "constant", "context" };

    /// <summary>
    /// Reads a manifest strictly; a malformed one is an <see cref="AxlManifestException"/> naming the field
    /// (e.g. inputs[2].source) and what it must be: a null or non-object input, a field of the wrong type, a missing
    /// field, an unknown source or mode, a constant that is not JSON. Fields it does not know are ignored.
    /// </summary>
    public static StepManifest Parse(string json, string origin = "manifest")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException ex) { throw new AxlManifestException($"{origin} is not valid JSON: {ex.Message}"); }
        using (doc)
        {
            try { return Read(doc.RootElement, origin); }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException)
            {
                // Every field is checked before it is read; this only keeps a missed case from being a crash.
                throw new AxlManifestException($"{origin} cannot be read: {ex.Message}");
            }
        }
    }

    private static StepManifest Read(JsonElement r, string origin)
    {
        AxlManifestException Bad(string field, string problem) => new($"{origin}: '{field}' {problem}.");
        static string Kind(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Null => "null",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "true/false",
            JsonValueKind.Array => "a list",
            JsonValueKind.Object => "an object",
            _ => "a string",
        };
        string? Str(JsonElement e, string name, string path, bool required)
        {
            if (!e.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
                return required ? throw Bad(path, p.ValueKind == JsonValueKind.Null && e.TryGetProperty(name, out _) ? "is null; it must be a string" : "is missing") : null;
            if (p.ValueKind != JsonValueKind.String) throw Bad(path, $"must be a string, not {Kind(p)}");
            var s = p.GetString()!;
            if (required && s.Length == 0) throw Bad(path, "is empty");
            return s;
        }
        // A value may be written as a JSON scalar (a number, true/false) by hand; it is kept as its JSON text.
        string? Scalar(JsonElement e, string name, string path) =>
            !e.TryGetProperty(name, out var p) ? null : p.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => p.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.GetRawText(),
                _ => throw Bad(path, $"must be a string, a number or true/false, not {Kind(p)}"),
            };

        if (r.ValueKind != JsonValueKind.Object) throw new AxlManifestException($"{origin} must be a JSON object, not {Kind(r)}.");
        if (!r.TryGetProperty("schemaVersion", out var v))
            throw Bad("schemaVersion", $"is missing; this runner (Axl {AxlInfo.Version}) reads version {CurrentSchemaVersion}");
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var version))
            throw Bad("schemaVersion", $"must be a whole number, not {(v.ValueKind == JsonValueKind.Number ? v.GetRawText() : Kind(v))}");
        if (version != CurrentSchemaVersion)
            throw new AxlManifestException($"{origin} has schemaVersion {version}; this runner (Axl {AxlInfo.Version}) reads version {CurrentSchemaVersion}. Fix: compile the workflow with the same Axl version as the runner image.");

        var inputs = new List<ManifestInput>();
        if (r.TryGetProperty("inputs", out var ins))
        {
            if (ins.ValueKind != JsonValueKind.Array) throw Bad("inputs", $"must be a list of inputs, not {Kind(ins)}");
            var n = 0;
            foreach (var i in ins.EnumerateArray())
            {
                var at = $"inputs[{n++}]";
                if (i.ValueKind != JsonValueKind.Object) throw Bad(at, $"is {Kind(i)}; each input must be an object with 'name' and 'source'");
                var name = Str(i, "name", at + ".name", required: true)!;
                var source = Str(i, "source", at + ".source", required: true)!;
                if (!Sources.Contains(source)) throw Bad(at + ".source", $"is '{source}'; it must be one of {string.Join(", ", Sources)}");
                var mode = Str(i, "mode", at + ".mode", required: false) ?? "object";
                if (mode is not ("object" or "path")) throw Bad(at + ".mode", $"is '{mode}'; it must be object or path");
                var path = Str(i, "path", at + ".path", required: source == "step");
                var value = Scalar(i, "value", at + ".value");
                if (source == "constant" && value is not null)
                {
                    try { using var _ = JsonDocument.Parse(value); }
                    catch (JsonException) { throw Bad(at + ".value", "is not valid JSON: a constant's value is JSON text, such as 42, true or \"\\\"quoted\\\"\""); }
                }
                inputs.Add(new ManifestInput(name, source, Str(i, "from", at + ".from", required: false), mode, path, value, Str(i, "env", at + ".env", required: false)));
            }
        }
        if (!r.TryGetProperty("output", out var o)) throw Bad("output", "is missing");
        if (o.ValueKind != JsonValueKind.Object) throw Bad("output", $"must be an object with 'directory' and 'ioHandler', not {Kind(o)}");
        return new StepManifest
        {
            SchemaVersion = version,
            AxlVersion = Scalar(r, "axlVersion", "axlVersion") ?? "",
            Workflow = Str(r, "workflow", "workflow", required: true)!,
            WorkflowHash = Str(r, "workflowHash", "workflowHash", required: false),
            WorkflowFile = Str(r, "workflowFile", "workflowFile", required: true)!,
            WorkDir = Str(r, "workDir", "workDir", required: false),
            Step = Str(r, "step", "step", required: true)!,
            RunId = Scalar(r, "runId", "runId"),
            CodeArchiveSha256 = Str(r, "codeArchiveSha256", "codeArchiveSha256", required: false),
            Inputs = inputs,
            Output = new ManifestOutput(Str(o, "directory", "output.directory", required: true)!, Str(o, "ioHandler", "output.ioHandler", required: true)!,
                Str(o, "extension", "output.extension", required: false) ?? "", Str(o, "valueFile", "output.valueFile", required: false)),
        };
    }
}

/// <summary>
/// One input: <see cref="Source"/> is "step" (an artifact directory at <see cref="Path"/>, loaded as an object or
/// handed as the data file's path per <see cref="Mode"/>), "parameter" (<see cref="Value"/>, converted to the
/// parameter's type; or read from the environment variable <see cref="Env"/>, which back ends use so that a value
/// with quotes or backslashes never has to be escaped inside the manifest's JSON), "constant" (<see cref="Value"/>
/// as JSON) or "context" (the run context).
/// </summary>
public sealed record ManifestInput(string Name, string Source, string? From, string Mode, string? Path, string? Value, string? Env = null);

/// <summary>Where the output artifact goes, through which handler; <see cref="ValueFile"/> gets a scalar output as text (for conditions).</summary>
public sealed record ManifestOutput(string Directory, string IoHandler, string Extension, string? ValueFile);

/// <summary>A manifest that cannot be used. An infrastructure error: the back end wrote it wrong.</summary>
public sealed class AxlManifestException(string message) : Exception(message);
