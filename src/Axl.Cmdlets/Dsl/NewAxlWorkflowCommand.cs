using Axl.Cmdlets.Completion;
using System.Collections;
using System.Management.Automation;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Cmdlets.Dsl;

/// <summary>The AxlWorkflow keyword: defines a workflow from a block of Parameter, Step and Graph keywords and outputs its IR.</summary>
[Cmdlet(VerbsCommon.New, "AxlWorkflow", HelpUri = AxlHelp.OnlineBase + "New-AxlWorkflow.md")]
[Alias("AxlWorkflow")]
[OutputType(typeof(AxlWorkflow))]
public sealed class NewAxlWorkflowCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    public ScriptBlock Definition { get; set; } = null!;

    [Parameter] public string? Image { get; set; }
    [Parameter] [ArgumentCompleter(typeof(IoHandlerNameCompleter))] public string? IoHandler { get; set; }
    [Parameter] [ValidateSet(nameof(Model.InputMode.Object), nameof(Model.InputMode.Path))] public string? InputMode { get; set; }
    [Parameter] public string? ServiceAccount { get; set; }
    [Parameter] public string? ArtifactStore { get; set; }
    [Parameter] [ValidateSet(nameof(Model.CodeDelivery.Image), nameof(Model.CodeDelivery.Artifact))] public string? CodeDelivery { get; set; }
    [Parameter] public string? Lockfile { get; set; }
    [Parameter] public string? RequirementsFile { get; set; }
    [Parameter] public string[]? Requirements { get; set; }
    [Parameter] public object[]? Modules { get; set; }
    [Parameter] public string? Description { get; set; }
    [Parameter] public Hashtable? Labels { get; set; }

    protected override void EndProcessing()
    {
        if (DslScope.Current is { } outer)
            ThrowTerminatingError(AxlErrors.FromDsl(new AxlDslException("Axl.NestedWorkflow",
                $"AxlWorkflow '{Name}' is defined inside AxlWorkflow '{outer.Name}'; workflows cannot nest. Fix: define it at the top level of the script."), Name));

        var location = new SourceLocation(NullIfEmpty(MyInvocation.ScriptName), MyInvocation.ScriptLineNumber);
        var builder = new WorkflowBuilder(Name, new WorkflowDefinitionOptions
        {
            Image = Image, IoHandler = IoHandler, InputMode = InputMode, ServiceAccount = ServiceAccount,
            ArtifactStore = ArtifactStore, CodeDelivery = CodeDelivery, Lockfile = Lockfile,
            RequirementsFile = RequirementsFile, Requirements = Requirements, Modules = Modules, Description = Description, Labels = Labels,
        }, location);
        using (DslScope.Push(builder))
        {
            try
            {
                // In a workflow file the block runs in the file's own scope (WorkflowLoader gives each file a module), so its
                // functions and variables reach the steps as the file's top level does; typed at a prompt, in a child scope.
                SessionState.InvokeCommand.InvokeScript(useLocalScope: MyInvocation.ScriptName is null or "", Definition, null);
                GraphEvaluator.Evaluate(builder, SessionState);
            }
            catch (RuntimeException ex) when (FindDslError(ex) is { } dsl)
            {
                ThrowTerminatingError(AxlErrors.FromDsl(dsl, Name));
            }
        }
        WriteObject(builder.Build());
    }

    private static AxlDslException? FindDslError(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is AxlDslException dsl) return dsl;
        return null;
    }

    internal static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
