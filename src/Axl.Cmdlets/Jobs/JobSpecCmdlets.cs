using Axl.Cmdlets.Completion;
using System.Collections;
using System.Management.Automation;
using Axl.Jobs;
using Axl.Model;

namespace Axl.Cmdlets.Jobs;

/// <summary>Creates a job spec: from parameters, from an AxlWorkflow piped in, or read from a JSON file (-Path).</summary>
[Cmdlet(VerbsCommon.New, "AxlJobSpec", DefaultParameterSetName = ByFields, HelpUri = AxlHelp.OnlineBase + "New-AxlJobSpec.md")]
[OutputType(typeof(AxlJobSpec))]
public sealed class NewAxlJobSpecCommand : PSCmdlet
{
    private const string ByFields = "Fields";
    private const string ByWorkflow = "Workflow";
    private const string ByFile = "Path";

    [Parameter(Position = 0, ParameterSetName = ByFields)]
    [Parameter(ParameterSetName = ByWorkflow)]
    public string? Name { get; set; }

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByWorkflow)]
    public AxlWorkflow? Workflow { get; set; }

    [Parameter(ParameterSetName = ByFields)] public string? WorkflowPath { get; set; }
    [Parameter(ParameterSetName = ByFields)] [ArgumentCompleter(typeof(WorkflowNameCompleter))] public string? WorkflowName { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ByFile)] public string? Path { get; set; }

    [Parameter(ParameterSetName = ByFields)] [Parameter(ParameterSetName = ByWorkflow)] [ArgumentCompleter(typeof(WorkflowParameterCompleter))] public Hashtable? Parameters { get; set; }
    [Parameter(ParameterSetName = ByFields)] [Parameter(ParameterSetName = ByWorkflow)] [ArgumentCompleter(typeof(WorkflowParameterCompleter))] public Hashtable? Overrides { get; set; }
    // A string, not the Core enum: a value-type field of a Core type would load Axl.Core before the module's resolver is in place.
    [Parameter(ParameterSetName = ByFields)] [Parameter(ParameterSetName = ByWorkflow)] [ValidateSet("Local", "Argo", "Queue", "Kfp")] public string Target { get; set; } = "Local";
    [Parameter(ParameterSetName = ByFields)] [Parameter(ParameterSetName = ByWorkflow)] public string? Cpu { get; set; }
    [Parameter(ParameterSetName = ByFields)] [Parameter(ParameterSetName = ByWorkflow)] public string? Memory { get; set; }
    [Parameter(ParameterSetName = ByFields)] [Parameter(ParameterSetName = ByWorkflow)] [ValidateRange(0, 1024)] public int? Gpu { get; set; }

    protected override void ProcessRecord()
    {
        AxlJobSpec spec;
        if (ParameterSetName == ByFile)
        {
            var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path!);
            if (!File.Exists(file))
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"The job spec file {file} does not exist."), "Axl.JobSpecNotFound", ErrorCategory.ObjectNotFound, Path));
                return;
            }
            try { spec = AxlJobSpec.FromJson(File.ReadAllText(file), file); }
            catch (AxlJobSpecException ex)
            {
                WriteError(JobErrors.InvalidSpec(ex, file));
                return;
            }
        }
        else
        {
            string? path = WorkflowPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(WorkflowPath);
            var wfName = WorkflowName;
            if (Workflow is not null)
            {
                if (Workflow.SourceFile is null)
                {
                    WriteError(new ErrorRecord(new AxlJobSpecException($"Workflow '{Workflow.Name}' was not loaded from a file, so a job (which runs it in another process) cannot find it. Fix: save it in a .axl.ps1 file and load it with Get-AxlWorkflow.", "workflowPath"),
                        "Axl.InvalidJobSpec", ErrorCategory.InvalidArgument, Workflow));
                    return;
                }
                path = Workflow.SourceFile;
                wfName = Workflow.Name;
            }
            spec = new AxlJobSpec
            {
                Name = Name ?? wfName ?? (path is null ? "" : System.IO.Path.GetFileName(path).Replace(".axl.ps1", "", StringComparison.OrdinalIgnoreCase)),
                WorkflowPath = path,
                WorkflowName = wfName,
                Parameters = JobValues.ToMap(Parameters),
                Overrides = JobValues.ToMap(Overrides),
                Target = JobValues.TargetKind(Target),
                Resources = new JobResources { Cpu = Cpu, Memory = Memory, Gpu = Gpu },
            };
        }
        var problems = spec.Validate();
        if (problems.Count > 0)
        {
            WriteError(JobErrors.InvalidSpec(new AxlJobSpecException(string.Join(" ", problems), "workflowPath"), spec));
            return;
        }
        WriteObject(spec);
    }
}

/// <summary>Writes job specs as JSON (stable: fixed field order, sorted parameter names).</summary>
[Cmdlet(VerbsData.ConvertTo, "AxlJobSpecJson", HelpUri = AxlHelp.OnlineBase + "ConvertTo-AxlJobSpecJson.md")]
[OutputType(typeof(string))]
public sealed class ConvertToAxlJobSpecJsonCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public AxlJobSpec[] JobSpec { get; set; } = Array.Empty<AxlJobSpec>();

    [Parameter] public SwitchParameter Compress { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var s in JobSpec) WriteObject(s.ToJson(indented: !Compress));
    }
}

/// <summary>Reads job specs back from JSON text; unknown fields are errors naming the field.</summary>
[Cmdlet(VerbsData.ConvertFrom, "AxlJobSpecJson", HelpUri = AxlHelp.OnlineBase + "ConvertFrom-AxlJobSpecJson.md")]
[OutputType(typeof(AxlJobSpec))]
public sealed class ConvertFromAxlJobSpecJsonCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[] InputObject { get; set; } = Array.Empty<string>();

    private readonly List<string> _lines = new();

    protected override void ProcessRecord() => _lines.AddRange(InputObject);

    protected override void EndProcessing()
    {
        var text = string.Join("\n", _lines).Trim();
        if (text.Length == 0) return;
        // One JSON object, or several (one per pipeline string, as ConvertTo-AxlJobSpecJson -Compress writes them).
        var chunks = _lines.Count > 1 && _lines.All(l => l.TrimStart().StartsWith('{') && l.TrimEnd().EndsWith('}')) ? _lines : new List<string> { text };
        foreach (var chunk in chunks)
        {
            try { WriteObject(AxlJobSpec.FromJson(chunk)); }
            catch (AxlJobSpecException ex) { WriteError(JobErrors.InvalidSpec(ex, chunk)); }
        }
    }
}

internal static class JobErrors
{
    public static ErrorRecord InvalidSpec(AxlJobSpecException ex, object? target) => new(ex, "Axl.InvalidJobSpec", ErrorCategory.InvalidData, target);
}

/// <summary>Hashtables from PowerShell to plain values a spec can serialize (PSObject wrappers removed).</summary>
internal static class JobValues
{
    public static JobTargetKind TargetKind(string name) => Enum.Parse<JobTargetKind>(name, ignoreCase: true);

    public static IDictionary<string, object?> ToMap(IDictionary? table)
    {
        var map = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        if (table is null) return map;
        foreach (DictionaryEntry e in table) map[Convert.ToString(e.Key, System.Globalization.CultureInfo.InvariantCulture)!] = Plain(e.Value);
        return map;
    }

    public static object? Plain(object? v)
    {
        if (v is PSObject p) v = p.BaseObject is PSCustomObject ? p.Properties.ToDictionary(x => x.Name, x => Plain(x.Value)) : p.BaseObject;
        return v switch
        {
            null => null,
            string or bool or int or long or double or float or decimal or short or byte => v,
            IDictionary d => ToMap(d),
            IEnumerable e => e.Cast<object?>().Select(Plain).ToArray(),
            _ => v,
        };
    }
}
