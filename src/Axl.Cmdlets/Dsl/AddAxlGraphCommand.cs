using System.Management.Automation;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Cmdlets.Dsl;

/// <summary>The Graph keyword: wires steps explicitly. Inside it a step call returns a reference to the step's output.</summary>
[Cmdlet(VerbsCommon.Add, "AxlGraph", HelpUri = AxlHelp.OnlineBase + "Add-AxlGraph.md")]
[Alias("Graph")]
public sealed class AddAxlGraphCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public ScriptBlock Definition { get; set; } = null!;

    protected override void EndProcessing()
    {
        var builder = DslContext.Require(this, "Graph", "Graph");
        var location = new SourceLocation(NewAxlWorkflowCommand.NullIfEmpty(MyInvocation.ScriptName), MyInvocation.ScriptLineNumber);
        try
        {
            builder.SetGraph(Definition, location);
        }
        catch (AxlDslException ex)
        {
            ThrowTerminatingError(AxlErrors.FromDsl(ex, Definition));
        }
    }
}
