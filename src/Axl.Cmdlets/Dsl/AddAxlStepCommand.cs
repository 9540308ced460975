using Axl.Cmdlets.Completion;
using System.Collections;
using System.Management.Automation;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Cmdlets.Dsl;

/// <summary>The Step keyword: adds a step (script block or external command) to the workflow being defined.</summary>
[Cmdlet(VerbsCommon.Add, "AxlStep", HelpUri = AxlHelp.OnlineBase + "Add-AxlStep.md")]
[Alias("Step")]
public sealed class AddAxlStepCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Position = 1)]
    public ScriptBlock? ScriptBlock { get; set; }

    [Parameter] [ArgumentCompleter(typeof(IoHandlerNameCompleter))] public string? IoHandler { get; set; }
    [Parameter] [ValidateInputMode] [ArgumentCompleter(typeof(InputModeCompleter))] public object? InputMode { get; set; }
    [Parameter] public string? Cpu { get; set; }
    [Parameter] public string? CpuLimit { get; set; }
    [Parameter] public string? Memory { get; set; }
    [Parameter] public string? MemoryLimit { get; set; }
    [Parameter] public int? Gpu { get; set; }
    [Parameter] public string? GpuResource { get; set; }
    [Parameter] public int? Retries { get; set; }
    [Parameter] public object? Timeout { get; set; }
    [Parameter] public IDictionary? Env { get; set; }
    [Parameter] public string? When { get; set; }
    [Parameter] public string[]? Packages { get; set; }
    [Parameter] public object[]? Modules { get; set; }
    [Parameter] public string? Image { get; set; }
    [Parameter] public string[]? DependsOn { get; set; }
    [Parameter, AllowEmptyString] public string? Command { get; set; }
    [Parameter, AllowEmptyCollection, AllowEmptyString] public string[]? ArgumentList { get; set; }
    [Parameter] public string? Stdin { get; set; }
    [Parameter] public string? OutputType { get; set; }
    [Parameter] public string? Description { get; set; }

    protected override void EndProcessing()
    {
        var builder = DslContext.Require(this, "Step", Name);
        var options = new StepOptions
        {
            IoHandler = IoHandler, InputMode = InputMode, Cpu = Cpu, CpuLimit = CpuLimit, Memory = Memory, MemoryLimit = MemoryLimit,
            Gpu = Gpu, GpuResource = GpuResource, Retries = Retries, Timeout = Timeout, Env = Env, When = When,
            Packages = Packages, Modules = Modules, Image = Image, DependsOn = DependsOn,
            CommandSpecified = MyInvocation.BoundParameters.ContainsKey(nameof(Command)), Command = Command,
            ArgumentList = ArgumentList, Stdin = Stdin, OutputType = OutputType, Description = Description,
        };
        var location = new SourceLocation(NewAxlWorkflowCommand.NullIfEmpty(MyInvocation.ScriptName), MyInvocation.ScriptLineNumber);
        builder.AddStep(Name, ScriptBlock, options, location);
    }
}
