using System.Management.Automation;
using Axl.Dsl;

namespace Axl.Cmdlets.Dsl;

internal static class DslContext
{
    /// <summary>The workflow being defined, or a terminating error naming the keyword used outside AxlWorkflow.</summary>
    public static WorkflowBuilder Require(PSCmdlet cmdlet, string keyword, string name)
    {
        if (DslScope.Current is { } b) return b;
        cmdlet.ThrowTerminatingError(AxlErrors.FromDsl(new AxlDslException("Axl.KeywordOutsideWorkflow",
            $"{keyword} '{name}' is used outside an AxlWorkflow block. Fix: put it inside AxlWorkflow <name> {{ ... }}."), name));
        return null!;
    }
}
