using System.Management.Automation;
using Axl.Runtime;

namespace Axl.Cmdlets.Runs;

/// <summary>
/// The preferences steps start with, from the cmdlet's own as PowerShell decides them for it (-Verbose, -Debug,
/// -WarningAction, -InformationAction, -ProgressAction when given, else the caller's preference variables). Steps write
/// verbose and debug records when the caller asks for them, and warnings, information and progress unless the caller
/// ignores them (Ignore; for progress also SilentlyContinue, which is often set to make loops faster); the cmdlet's own
/// preferences then decide what of it shows, as for any command, and -WarningVariable and the like still collect it.
/// </summary>
internal static class StepPreferencesOf
{
    public static StepPreferences Get(PSCmdlet cmdlet) => new()
    {
        Verbose = Of(cmdlet, "Verbose", "VerbosePreference", ActionPreference.SilentlyContinue),
        Debug = Of(cmdlet, "Debug", "DebugPreference", ActionPreference.SilentlyContinue),
        Warning = Of(cmdlet, "WarningAction", "WarningPreference", ActionPreference.Continue) == ActionPreference.Ignore ? ActionPreference.Ignore : ActionPreference.Continue,
        Information = Of(cmdlet, "InformationAction", "InformationPreference", ActionPreference.SilentlyContinue) == ActionPreference.Ignore ? ActionPreference.Ignore : ActionPreference.SilentlyContinue,
        Progress = Of(cmdlet, "ProgressAction", "ProgressPreference", ActionPreference.Continue),
    };

    private static ActionPreference Of(PSCmdlet cmdlet, string parameter, string variable, ActionPreference fallback)
    {
        if (cmdlet.MyInvocation.BoundParameters.TryGetValue(parameter, out var bound))
            switch (bound)
            {
                case SwitchParameter s: return s.IsPresent ? ActionPreference.Continue : ActionPreference.SilentlyContinue;
                case ActionPreference a: return a;
            }
        var value = cmdlet.GetVariableValue(variable);
        if (value is PSObject p) value = p.BaseObject;
        return value switch
        {
            ActionPreference a => a,
            string text when Enum.TryParse<ActionPreference>(text, ignoreCase: true, out var parsed) => parsed,
            _ => fallback,
        };
    }
}
