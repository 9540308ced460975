using System.Management.Automation;
using Axl.Jobs;

namespace Axl.Cmdlets.Jobs;

/// <summary>
/// Job options as New-PesterConfiguration makes Pester's: a new AxlJobOption with its Argo, Queue and Kfp sections,
/// each empty (the defaults) unless given here as hashtables; edit it and give it to -Option, or keep it in
/// $AxlJobOption for every job cmdlet of the session.
/// </summary>
[Cmdlet(VerbsCommon.New, "AxlJobOption", HelpUri = AxlHelp.OnlineBase + "New-AxlJobOption.md")]
[OutputType(typeof(AxlJobOption))]
public sealed class NewAxlJobOptionCommand : PSCmdlet
{
    /// <summary>Options to start from (an AxlJobOption or a hashtable of sections): copied, not changed.</summary>
    [Parameter(Position = 0)] public AxlJobOption? Option { get; set; }
    /// <summary>The Argo section, e.g. @{ Namespace = 'team-a'; MaxPollFailures = 5 }.</summary>
    [Parameter] public ArgoJobOption? Argo { get; set; }
    /// <summary>The Queue section, e.g. @{ Endpoint = 'localhost:6379' }.</summary>
    [Parameter] public QueueJobOption? Queue { get; set; }
    /// <summary>The Kfp section, e.g. @{ Endpoint = 'http://ml-pipeline.kubeflow:8888' }.</summary>
    [Parameter] public KfpJobOption? Kfp { get; set; }

    protected override void EndProcessing()
    {
        var given = new AxlJobOption();
        if (Argo is not null) given.Argo = Argo;
        if (Queue is not null) given.Queue = Queue;
        if (Kfp is not null) given.Kfp = Kfp;
        WriteObject(AxlJobOption.Merge(new (AxlJobOption?, string)[] { (Option, ""), (given, "") }));
    }
}

/// <summary>The options of the job cmdlets in force: bound flat parameters over -Option over $AxlJobOption (the environment and the defaults come after, in the targets).</summary>
internal static class JobOptions
{
    public const string PreferenceSource = "$" + AxlJobOption.PreferenceVariable;

    /// <summary>
    /// Merges $AxlJobOption (a hashtable there is converted), -Option and the flat parameters' layer, says on the
    /// verbose stream which options are set and where from, and returns the merge. A $AxlJobOption that is not job
    /// options is a terminating error (Axl.InvalidJobOption).
    /// </summary>
    public static AxlJobOption Resolve(PSCmdlet cmdlet, AxlJobOption? option, AxlJobOption? flat)
    {
        var raw = cmdlet.SessionState.PSVariable.GetValue(AxlJobOption.PreferenceVariable);
        AxlJobOption? preference;
        try { preference = AxlJobOption.From(raw); }
        catch (AxlJobOptionException ex)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(new AxlJobOptionException($"${AxlJobOption.PreferenceVariable}: {ex.Message}" +
                (ex.Message.Contains("Fix:", StringComparison.Ordinal) ? "" : $" Fix: set it with New-AxlJobOption, or remove it (Remove-Variable {AxlJobOption.PreferenceVariable})."), ex.Key),
                "Axl.InvalidJobOption", ErrorCategory.InvalidArgument, raw));
            throw; // not reached
        }
        var sources = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var merged = AxlJobOption.Merge(new (AxlJobOption?, string)[] { (preference, PreferenceSource), (option, "-Option"), (flat, "parameter") }, sources);
        if (sources.Count > 0) cmdlet.WriteVerbose($"Job options: {merged.Describe(sources)}");
        return merged;
    }

    /// <summary>The submit options with the merged job options applied (a relative kubeconfig path from the current location).</summary>
    public static JobSubmitOptions Apply(PSCmdlet cmdlet, AxlJobOption option, JobSubmitOptions options) =>
        option.ApplyTo(options, path => cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path));
}
