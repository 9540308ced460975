using System.Management.Automation;

namespace Axl.Runtime;

/// <summary>The streams a step writes besides its output: PowerShell's own, and a command step's standard error.</summary>
public enum StepStream { Error, Warning, Information, Verbose, Debug, Progress, Stderr }

/// <summary>
/// One record a step wrote to a stream: its stream, its text, and, where the step ran in this process, the PowerShell
/// record itself (an ErrorRecord, WarningRecord, InformationRecord, VerboseRecord, DebugRecord or ProgressRecord), so a
/// cmdlet can write it on the stream it came from. Records from another process (a job's `axl`) carry the text only.
/// </summary>
public sealed record StepStreamRecord(StepStream Stream, string Message, object? Record = null)
{
    /// <summary>The stream's name in logs: error, warning, information, verbose, debug, progress, stderr.</summary>
    public string Name => Names[(int)Stream];

    /// <summary>The log level: error, warning, info, verbose or debug.</summary>
    public string Level => LevelOf(Stream);

    /// <summary>The log level of a stream's records: error, warning, info, verbose or debug.</summary>
    public static string LevelOf(StepStream stream) => stream switch
    {
        StepStream.Error => "error",
        StepStream.Warning => "warning",
        StepStream.Verbose => "verbose",
        StepStream.Debug => "debug",
        _ => "info",
    };

    /// <summary>True for Write-Host (an information record tagged PSHOST), which PowerShell shows whatever the preference.</summary>
    public bool IsHost => Record is InformationRecord { Tags: { } tags } && tags.Contains("PSHOST");

    /// <summary>The line a console shows for it, without the step: "WARNING: ...", "VERBOSE: ...", host text as it is.</summary>
    public string ConsoleText => Stream switch
    {
        StepStream.Error => "ERROR: " + Message,
        StepStream.Warning => "WARNING: " + Message,
        StepStream.Verbose => "VERBOSE: " + Message,
        StepStream.Debug => "DEBUG: " + Message,
        StepStream.Progress => "PROGRESS: " + Message,
        _ => Message,
    };

    /// <summary>The tags of an information record (Write-Host's is PSHOST), for logs; null for other streams.</summary>
    public IReadOnlyList<string>? Tags => Record is InformationRecord { Tags: { Count: > 0 } tags } ? tags : null;

    /// <summary>
    /// A record read back from a log line of another process: its text, and for information its tags, so Write-Host
    /// text is host text again.
    /// </summary>
    public static StepStreamRecord FromLog(StepStream stream, string message, IReadOnlyList<string>? tags, ProgressRecord? progress = null)
    {
        if (stream == StepStream.Progress && progress is not null) return new StepStreamRecord(stream, message, progress);
        if (stream != StepStream.Information || tags is not { Count: > 0 }) return new StepStreamRecord(stream, message);
        var record = new InformationRecord(tags.Contains("PSHOST") ? new HostInformationMessage { Message = message } : message, null);
        foreach (var tag in tags) record.Tags.Add(tag);
        return new StepStreamRecord(stream, message, record);
    }

    private static readonly string[] Names = { "error", "warning", "information", "verbose", "debug", "progress", "stderr" };

    /// <summary>The stream named in a log line ("warning", "stderr", ...), or null for a name that is not one.</summary>
    public static StepStream? Parse(string? name)
    {
        var i = name is null ? -1 : Array.IndexOf(Names, name);
        return i < 0 ? null : (StepStream)i;
    }

    /// <summary>The text of a progress record: "Activity: Status (42 %)", or "Activity: done" when it completes.</summary>
    public static string ProgressText(ProgressRecord p) =>
        p.RecordType == ProgressRecordType.Completed ? $"{p.Activity}: done"
        : $"{p.Activity}: {p.StatusDescription}" + (p.PercentComplete >= 0 ? $" ({p.PercentComplete} %)" : "")
          + (string.IsNullOrEmpty(p.CurrentOperation) ? "" : $" - {p.CurrentOperation}");
}

/// <summary>
/// The preference variables a step starts with ($VerbosePreference, $DebugPreference, $InformationPreference,
/// $WarningPreference, $ProgressPreference), taken from the caller: Invoke-AxlLocalRun's own (its -Verbose, -Debug,
/// -InformationAction ... or the session's variables), `axl run local --verbose/--debug`. $ErrorActionPreference is
/// always Stop in a step. Inquire becomes Continue: a step has no one to ask.
/// </summary>
public sealed record StepPreferences
{
    public ActionPreference Verbose { get; init; } = ActionPreference.SilentlyContinue;
    public ActionPreference Debug { get; init; } = ActionPreference.SilentlyContinue;
    public ActionPreference Information { get; init; } = ActionPreference.SilentlyContinue;
    public ActionPreference Warning { get; init; } = ActionPreference.Continue;
    public ActionPreference Progress { get; init; } = ActionPreference.Continue;

    public static StepPreferences Default { get; } = new();

    /// <summary>Whether Write-Verbose / Write-Debug in a step writes anything.</summary>
    public bool VerboseOn => Verbose is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
    public bool DebugOn => Debug is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);

    /// <summary>The variables to set in the step's scope, by name (a hashtable: what the step driver script takes).</summary>
    public System.Collections.Hashtable Variables() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["VerbosePreference"] = NoInquire(Verbose),
        ["DebugPreference"] = NoInquire(Debug),
        ["InformationPreference"] = NoInquire(Information),
        ["WarningPreference"] = NoInquire(Warning),
        ["ProgressPreference"] = NoInquire(Progress),
    };

    private static ActionPreference NoInquire(ActionPreference p) => p == ActionPreference.Inquire ? ActionPreference.Continue : p;

    /// <summary>The `axl` command's flags: --verbose and --debug turn the two streams on.</summary>
    public static StepPreferences FromFlags(bool verbose, bool debug) => new()
    {
        Verbose = verbose ? ActionPreference.Continue : ActionPreference.SilentlyContinue,
        Debug = debug ? ActionPreference.Continue : ActionPreference.SilentlyContinue,
    };
}

/// <summary>
/// A progress record in a JSON log line (the "progress" object of a run's log.jsonl and of `axl run local --log-json`):
/// activity, status, percent, id, parent, operation, seconds_remaining, completed; so a job in another process writes
/// it again as a progress record, not as its text.
/// </summary>
public static class ProgressLog
{
    /// <summary>Adds "progress" to a log line's fields when the record is a progress record.</summary>
    public static Dictionary<string, object?> WithProgress(this Dictionary<string, object?> fields, StepStreamRecord? record)
    {
        if (record?.Record is ProgressRecord p)
            fields["progress"] = new Dictionary<string, object?>
            {
                ["activity"] = p.Activity,
                ["status"] = p.StatusDescription,
                ["percent"] = p.PercentComplete,
                ["id"] = p.ActivityId,
                ["parent"] = p.ParentActivityId,
                ["operation"] = p.CurrentOperation,
                ["seconds_remaining"] = p.SecondsRemaining,
                ["completed"] = p.RecordType == ProgressRecordType.Completed,
            };
        return fields;
    }

    /// <summary>The progress record of a log line's "progress" object, or null.</summary>
    public static ProgressRecord? Read(System.Text.Json.JsonElement line)
    {
        if (!line.TryGetProperty("progress", out var p) || p.ValueKind != System.Text.Json.JsonValueKind.Object) return null;
        string? S(string n) => p.TryGetProperty(n, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
        int I(string n, int fallback) => p.TryGetProperty(n, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Number && v.TryGetInt32(out var i) ? i : fallback;
        var activity = S("activity");
        if (string.IsNullOrEmpty(activity)) return null;
        return new ProgressRecord(I("id", 0), activity, string.IsNullOrEmpty(S("status")) ? "..." : S("status"))
        {
            PercentComplete = Math.Clamp(I("percent", -1), -1, 100),
            ParentActivityId = I("parent", -1),
            CurrentOperation = S("operation"),
            SecondsRemaining = I("seconds_remaining", -1),
            RecordType = p.TryGetProperty("completed", out var c) && c.ValueKind == System.Text.Json.JsonValueKind.True ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
    }
}
