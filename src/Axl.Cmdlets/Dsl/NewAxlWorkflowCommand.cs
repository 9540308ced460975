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
    [Parameter] public SwitchParameter WarmEnv { get; set; }
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
            RequirementsFile = RequirementsFile, Requirements = Requirements, Modules = Modules, WarmEnv = WarmEnv.IsPresent, Description = Description, Labels = Labels,
        }, location);
        if (ReadStatically(builder))
        {
            WriteObject(builder.Build());
            return;
        }
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

    /// <summary>
    /// The loader's fast path (see <see cref="StaticWorkflowReader"/>): in a file being loaded, a block of static Step and
    /// Parameter commands is read from its syntax tree instead of run. False when the block must run (not in a load,
    /// AXL_LOADER=execute, no module to bind the bodies to, or something dynamic in it).
    /// </summary>
    private bool ReadStatically(WorkflowBuilder builder)
    {
        if (WorkflowLoader.CurrentLoad is not { } load) return false;
        if (load.Mode == WorkflowLoaderMode.Execute || string.IsNullOrEmpty(MyInvocation.ScriptName) || Definition.Module is not { } module)
        {
            load.Executed(null);
            return false;
        }
        var why = StaticWorkflowReader.TryRead(Definition, module, builder, Resolve);
        if (why is null)
        {
            load.Static();
            return true;
        }
        var what = $"workflow '{Name}' ({MyInvocation.ScriptName}:{MyInvocation.ScriptLineNumber}): {why}";
        if (load.Mode == WorkflowLoaderMode.Static)
            ThrowTerminatingError(AxlErrors.FromDsl(new AxlDslException("Axl.WorkflowNotStatic",
                $"{what}. AXL_LOADER=static reads only static blocks. Fix: write the block as Step and Parameter commands with literal names and options, or unset AXL_LOADER."), Name));
        load.Executed(what);
        return false;
    }

    /// <summary>What a command name in the block would run: Axl's Step or Parameter cmdlet (through any alias), or something else.</summary>
    private DslKeyword Resolve(string name)
    {
        var command = SessionState.InvokeCommand.GetCommand(name, CommandTypes.All);
        for (var i = 0; command is AliasInfo alias && i < 10; i++) command = alias.ResolvedCommand ?? alias.ReferencedCommand;
        return command is CmdletInfo cmdlet
            ? cmdlet.ImplementingType == typeof(AddAxlStepCommand) ? DslKeyword.Step
            : cmdlet.ImplementingType == typeof(AddAxlParameterCommand) ? DslKeyword.Parameter : DslKeyword.Other
            : DslKeyword.Other;
    }

    private static AxlDslException? FindDslError(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is AxlDslException dsl) return dsl;
        return null;
    }

    internal static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
