using System.Text;
using System.Text.Json;

namespace Axl.Jobs.Envelopes;

/// <summary>The result of reading envelope JSON: the envelope (when the structure could be read), and what was found.</summary>
public sealed class JobEnvelopeReadResult
{
    public JobEnvelope? Envelope { get; init; }
    /// <summary>Structural problems (not JSON, wrong types, unknown properties, missing required fields).</summary>
    public IReadOnlyList<string> Errors { get; init; } = Array.Empty<string>();
    /// <summary>Deprecations (a v0.1 envelope: steps, step_number, input_from_step).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
    public bool Success => Envelope is not null && Errors.Count == 0;
}

/// <summary>Reads and writes envelope JSON: snake_case as the schema, no extra properties; reads v0.1 with a deprecation warning.</summary>
public static class JobEnvelopeJson
{
    public const string V01Warning =
        "The envelope uses the v0.1 field names (steps, step_number, input_from_step), which are deprecated: write tasks, task_number and input_from_task (job envelope v0.2).";

    public static string Write(JobEnvelope envelope, bool indented = true)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("job_id", envelope.JobId);
            w.WriteString("plan_id", envelope.PlanId);
            if (envelope.PlanDescription is not null) w.WriteString("plan_description", envelope.PlanDescription);
            w.WriteStartArray("tasks");
            foreach (var t in envelope.Tasks)
            {
                w.WriteStartObject();
                w.WriteNumber("task_number", t.TaskNumber);
                w.WriteString("command", t.Command);
                w.WriteStartArray("args");
                foreach (var a in t.Args) w.WriteStringValue(a);
                w.WriteEndArray();
                if (t.TimeoutSecs is { } s) w.WriteNumber("timeout_secs", s);
                if (t.InputFromTask is { } i) w.WriteNumber("input_from_task", i);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>Reads envelope JSON; throws <see cref="JobEnvelopeException"/> with every structural problem. Warnings go to <paramref name="warnings"/>.</summary>
    public static JobEnvelope Parse(string json, out IReadOnlyList<string> warnings)
    {
        var r = Read(json);
        warnings = r.Warnings;
        if (!r.Success) throw new JobEnvelopeException("Invalid job envelope: " + string.Join("; ", r.Errors));
        return r.Envelope!;
    }

    public static JobEnvelope Parse(string json) => Parse(json, out _);

    /// <summary>Reads envelope bytes (as a queue or a file holds them): they must be UTF-8; throws <see cref="JobEnvelopeException"/> like <see cref="Parse(string)"/>.</summary>
    public static JobEnvelope Parse(ReadOnlySpan<byte> utf8)
    {
        var r = Read(utf8);
        if (!r.Success) throw new JobEnvelopeException("Invalid job envelope: " + string.Join("; ", r.Errors));
        return r.Envelope!;
    }

    /// <summary>
    /// Reads envelope bytes: bytes that are not UTF-8 are an error naming the first bad byte's offset (never replaced
    /// with U+FFFD and read on), then as <see cref="Read(string)"/>.
    /// </summary>
    public static JobEnvelopeReadResult Read(ReadOnlySpan<byte> utf8)
    {
        if (utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) utf8 = utf8[3..];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(utf8.Length)];
        var status = System.Text.Unicode.Utf8.ToUtf16(utf8, chars, out var read, out var written, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
            return new JobEnvelopeReadResult { Errors = new[] { $"not valid UTF-8: byte 0x{utf8[read]:X2} at offset {read} does not begin a UTF-8 sequence (save the envelope as UTF-8)" } };
        return Read(new string(chars, 0, written));
    }

    /// <summary>Reads envelope JSON, collecting structural problems (duplicate properties among them) and deprecation warnings instead of throwing.</summary>
    public static JobEnvelopeReadResult Read(string json)
    {
        var errors = new List<string>();
        var warnings = new List<string>();
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException ex) { return new JobEnvelopeReadResult { Errors = new[] { "not valid JSON: " + ex.Message } }; }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return new JobEnvelopeReadResult { Errors = new[] { $"the envelope must be a JSON object, not {root.ValueKind.ToString().ToLowerInvariant()}" } };
            var env = new JobEnvelope();
            bool v01 = false, sawTasks = false;
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
            {
                if (!names.Add(p.Name)) { errors.Add($"duplicate property '{p.Name}' (each property may appear once)"); continue; }
                switch (p.Name)
                {
                    case "job_id": env.JobId = Str(p, errors) ?? ""; break;
                    case "plan_id": env.PlanId = Str(p, errors) ?? ""; break;
                    case "plan_description": env.PlanDescription = p.Value.ValueKind == JsonValueKind.Null ? null : Str(p, errors); break;
                    case "tasks":
                    case "steps":
                        if (p.Name == "steps") v01 = true;
                        if (sawTasks) { errors.Add("both 'tasks' and 'steps' are given: keep only 'tasks'"); break; }
                        sawTasks = true;
                        if (p.Value.ValueKind != JsonValueKind.Array) { errors.Add($"'{p.Name}' must be an array"); break; }
                        var index = 0;
                        foreach (var item in p.Value.EnumerateArray())
                        {
                            index++;
                            var t = ReadTask(item, index, errors, ref v01);
                            if (t is not null) env.Tasks.Add(t);
                        }
                        break;
                    default:
                        errors.Add($"unknown property '{p.Name}' (the envelope has job_id, plan_id, plan_description and tasks)");
                        break;
                }
            }
            if (!root.TryGetProperty("job_id", out _)) errors.Add("'job_id' is required");
            if (!root.TryGetProperty("plan_id", out _)) errors.Add("'plan_id' is required");
            if (!sawTasks) errors.Add("'tasks' is required");
            if (v01) warnings.Add(V01Warning);
            return new JobEnvelopeReadResult { Envelope = env, Errors = errors, Warnings = warnings };
        }
    }

    private static JobTask? ReadTask(JsonElement item, int index, List<string> errors, ref bool v01)
    {
        if (item.ValueKind != JsonValueKind.Object) { errors.Add($"task at position {index} must be an object"); return null; }
        var t = new JobTask();
        bool number = false, command = false;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in item.EnumerateObject())
        {
            if (!names.Add(p.Name)) { errors.Add($"task at position {index}: duplicate property '{p.Name}' (each property may appear once)"); continue; }
            switch (p.Name)
            {
                case "task_number":
                case "step_number":
                    if (p.Name == "step_number") v01 = true;
                    t.TaskNumber = Int(p, index, errors) ?? 0; number = true; break;
                case "command": t.Command = Str(p, errors, index) ?? ""; command = true; break;
                case "args":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    if (p.Value.ValueKind != JsonValueKind.Array) { errors.Add($"task at position {index}: 'args' must be an array of strings"); break; }
                    foreach (var a in p.Value.EnumerateArray())
                    {
                        if (a.ValueKind == JsonValueKind.String) t.Args.Add(a.GetString()!);
                        else errors.Add($"task at position {index}: every element of 'args' must be a string, found {a.ValueKind.ToString().ToLowerInvariant()}");
                    }
                    break;
                case "timeout_secs": t.TimeoutSecs = p.Value.ValueKind == JsonValueKind.Null ? null : Int(p, index, errors); break;
                case "input_from_task":
                case "input_from_step":
                    if (p.Name == "input_from_step") v01 = true;
                    t.InputFromTask = p.Value.ValueKind == JsonValueKind.Null ? null : Int(p, index, errors); break;
                default:
                    errors.Add($"task at position {index}: unknown property '{p.Name}' (a task has task_number, command, args, timeout_secs and input_from_task)");
                    break;
            }
        }
        if (!number) errors.Add($"task at position {index}: 'task_number' is required");
        if (!command) errors.Add($"task at position {index}: 'command' is required");
        return t;
    }

    private static string? Str(JsonProperty p, List<string> errors, int? task = null)
    {
        if (p.Value.ValueKind == JsonValueKind.String) return p.Value.GetString();
        errors.Add((task is null ? "" : $"task at position {task}: ") + $"'{p.Name}' must be a string");
        return null;
    }

    private static int? Int(JsonProperty p, int task, List<string> errors)
    {
        if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var v)) return v;
        errors.Add($"task at position {task}: '{p.Name}' must be an integer");
        return null;
    }
}
