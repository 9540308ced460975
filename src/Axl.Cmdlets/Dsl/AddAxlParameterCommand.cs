using System.Management.Automation;
using Axl.Model;

namespace Axl.Cmdlets.Dsl;

/// <summary>The Parameter keyword: declares a workflow parameter, given at run time, with an optional default.</summary>
[Cmdlet(VerbsCommon.Add, "AxlParameter", HelpUri = AxlHelp.OnlineBase + "Add-AxlParameter.md")]
[Alias("Parameter")]
public sealed class AddAxlParameterCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Position = 1)]
    public object? Default { get; set; }

    [Parameter] public string? Type { get; set; }
    [Parameter] public string? Description { get; set; }
    /// <summary>Masks the value (***) in run records, logs, summaries and envelopes, keeps it out of compiled output; a resumed run needs it again.</summary>
    [Parameter] public SwitchParameter Sensitive { get; set; }

    protected override void EndProcessing()
    {
        var builder = DslContext.Require(this, "Parameter", Name);
        var location = new SourceLocation(NewAxlWorkflowCommand.NullIfEmpty(MyInvocation.ScriptName), MyInvocation.ScriptLineNumber);
        builder.AddParameter(Name, Default, Type, Description, location, Sensitive.IsPresent);
    }
}
