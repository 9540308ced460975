using System.Management.Automation;
using Axl.Runtime;

namespace Axl.Cmdlets.Runs;

/// <summary>Where step stream records are written: a cmdlet's streams, or a job's.</summary>
internal interface IStepStreamSink
{
    void Error(ErrorRecord record);
    void Warning(string text);
    void Verbose(string text);
    void Debug(string text);
    void Information(InformationRecord record);
    void Progress(ProgressRecord record);
}

/// <summary>A cmdlet's own streams (call it on the pipeline thread).</summary>
internal sealed class CmdletStreamSink(Cmdlet cmdlet) : IStepStreamSink
{
    public void Error(ErrorRecord record) => cmdlet.WriteError(record);
    public void Warning(string text) => cmdlet.WriteWarning(text);
    public void Verbose(string text) => cmdlet.WriteVerbose(text);
    public void Debug(string text) => cmdlet.WriteDebug(text);
    public void Information(InformationRecord record) => cmdlet.WriteInformation(record);
    public void Progress(ProgressRecord record) => cmdlet.WriteProgress(record);
}

/// <summary>A PowerShell job's streams: Receive-Job replays them on their own streams.</summary>
internal sealed class JobStreamSink(Job job) : IStepStreamSink
{
    public void Error(ErrorRecord record) => job.Error.Add(record);
    public void Warning(string text) => job.Warning.Add(new WarningRecord(text));
    public void Verbose(string text) => job.Verbose.Add(new VerboseRecord(text));
    public void Debug(string text) => job.Debug.Add(new DebugRecord(text));
    public void Information(InformationRecord record) => job.Information.Add(record);
    public void Progress(ProgressRecord record) => job.Progress.Add(record);
}

/// <summary>
/// Writes what steps wrote besides their output on PowerShell streams, each record on the stream it came from and
/// named with its step ("[train] ..."): errors that did not stop the step as errors, warnings as warnings, verbose
/// and debug as such (so the caller's -Verbose, -Debug and preference variables decide what shows), information and
/// Write-Host text as information records (tags kept, plus "axl-step" and the step's name), progress as progress under
/// the run's own bar, and a command's stderr as host text, as pwsh shows a native command's stderr. Records that came
/// from another process (a job's `axl`) carry their text only and are rebuilt from it.
/// </summary>
internal sealed class StepStreamWriter(IStepStreamSink sink, int parentActivityId = -1)
{
    public const string StepTag = "axl-step";
    private readonly Dictionary<(string Step, int Activity), int> _activities = new();
    private int _nextActivity = parentActivityId > 0 ? parentActivityId * 100 : 100_000;

    public StepStreamWriter(Cmdlet cmdlet, int parentActivityId = -1) : this(new CmdletStreamSink(cmdlet), parentActivityId) { }

    /// <summary>
    /// The activity a step's own top-level progress records go under (its record in the run's progress), or -1 for the
    /// run's activity: what a step writes with Write-Progress shows under that step.
    /// </summary>
    public Func<string, int>? StepParent { get; init; }

    public void Write(string step, StepStreamRecord r)
    {
        var text = $"[{step}] {r.Message}";
        switch (r.Stream)
        {
            case StepStream.Error:
                sink.Error(ErrorOf(step, r, text));
                break;
            case StepStream.Warning:
                sink.Warning(text);
                break;
            case StepStream.Verbose:
                sink.Verbose(text);
                break;
            case StepStream.Debug:
                sink.Debug(text);
                break;
            case StepStream.Progress when r.Record is ProgressRecord p:
                sink.Progress(ProgressOf(step, p));
                break;
            default: // information, stderr, and progress known by its text only
                sink.Information(InformationOf(step, r, text));
                break;
        }
    }

    private static ErrorRecord ErrorOf(string step, StepStreamRecord r, string text)
    {
        var record = r.Record is ErrorRecord e
            ? new ErrorRecord(e.Exception, e.FullyQualifiedErrorId, e.CategoryInfo.Category, e.TargetObject)
            : new ErrorRecord(new AxlStepStreamException(r.Message), "Axl.StepError", ErrorCategory.NotSpecified, step);
        record.ErrorDetails = new ErrorDetails(text);
        return record;
    }

    private static InformationRecord InformationOf(string step, StepStreamRecord r, string text)
    {
        var host = r.Record is InformationRecord { MessageData: HostInformationMessage h } ? h : null;
        object data = host is not null
            ? new HostInformationMessage { Message = text, NoNewLine = host.NoNewLine, ForegroundColor = host.ForegroundColor, BackgroundColor = host.BackgroundColor }
            : r.Stream == StepStream.Stderr ? new HostInformationMessage { Message = text }
            : text;
        var record = new InformationRecord(data, step);
        if (r.Record is InformationRecord original) foreach (var tag in original.Tags) record.Tags.Add(tag);
        if (r.Stream == StepStream.Stderr) { record.Tags.Add("stderr"); record.Tags.Add("PSHOST"); }
        if (r.Stream == StepStream.Progress) record.Tags.Add("progress");
        record.Tags.Add(StepTag);
        record.Tags.Add(step);
        return record;
    }

    private ProgressRecord ProgressOf(string step, ProgressRecord p)
    {
        if (!_activities.TryGetValue((step, p.ActivityId), out var id)) _activities[(step, p.ActivityId)] = id = _nextActivity++;
        var parent = p.ParentActivityId >= 0 && _activities.TryGetValue((step, p.ParentActivityId), out var pid) ? pid
            : StepParent?.Invoke(step) is > 0 and var stepActivity ? stepActivity : parentActivityId;
        return new ProgressRecord(id, $"[{step}] {p.Activity}", string.IsNullOrEmpty(p.StatusDescription) ? "..." : p.StatusDescription)
        {
            ParentActivityId = parent,
            PercentComplete = p.PercentComplete,
            SecondsRemaining = p.SecondsRemaining,
            CurrentOperation = p.CurrentOperation,
            RecordType = p.RecordType,
        };
    }
}

/// <summary>An error a step wrote without stopping, known by its text only (it came from another process).</summary>
public sealed class AxlStepStreamException(string message) : Exception(message);
