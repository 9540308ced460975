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

    public string ToJson(bool indented = true) => IrDocument.ToJson(ToTree(), indented);

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

    /// <summary>Reads a manifest; a malformed one is an <see cref="AxlManifestException"/> naming what is wrong.</summary>
    public static StepManifest Parse(string json, string origin = "manifest")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException ex) { throw new AxlManifestException($"{origin} is not valid JSON: {ex.Message}"); }
        using (doc)
        {
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) throw new AxlManifestException($"{origin} must be a JSON object.");
            var version = r.TryGetProperty("schemaVersion", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : 0;
            if (version != CurrentSchemaVersion)
                throw new AxlManifestException($"{origin} has schemaVersion {version}; this runner (Axl {AxlInfo.Version}) reads version {CurrentSchemaVersion}. Fix: compile the workflow with the same Axl version as the runner image.");
            string Req(JsonElement e, string name, string where) =>
                e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String && p.GetString() is { Length: > 0 } s
                    ? s : throw new AxlManifestException($"{origin}: {where}'{name}' is missing or empty.");
            string? Opt(JsonElement e, string name) =>
                e.TryGetProperty(name, out var p) ? p.ValueKind switch
                {
                    JsonValueKind.String => p.GetString(),
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.GetRawText(),
                    _ => null,
                } : null;
            var inputs = new List<ManifestInput>();
            if (r.TryGetProperty("inputs", out var ins) && ins.ValueKind == JsonValueKind.Array)
                foreach (var i in ins.EnumerateArray())
                    inputs.Add(new ManifestInput(Req(i, "name", "an input's "), Req(i, "source", "an input's "), Opt(i, "from"), Opt(i, "mode") ?? "object", Opt(i, "path"), Opt(i, "value"), Opt(i, "env")));
            if (!r.TryGetProperty("output", out var o) || o.ValueKind != JsonValueKind.Object)
                throw new AxlManifestException($"{origin}: 'output' is missing.");
            return new StepManifest
            {
                SchemaVersion = version,
                AxlVersion = Opt(r, "axlVersion") ?? "",
                Workflow = Req(r, "workflow", ""),
                WorkflowHash = Opt(r, "workflowHash"),
                WorkflowFile = Req(r, "workflowFile", ""),
                WorkDir = Opt(r, "workDir"),
                Step = Req(r, "step", ""),
                RunId = Opt(r, "runId"),
                CodeArchiveSha256 = Opt(r, "codeArchiveSha256"),
                Inputs = inputs,
                Output = new ManifestOutput(Req(o, "directory", "output."), Req(o, "ioHandler", "output."), Opt(o, "extension") ?? "", Opt(o, "valueFile")),
            };
        }
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
