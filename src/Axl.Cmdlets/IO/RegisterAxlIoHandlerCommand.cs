using Axl.Cmdlets.Completion;
using System.Management.Automation;
using Axl.IO;

namespace Axl.Cmdlets.IO;

/// <summary>Adds an IO handler: one written in PowerShell (a write and a read script), or an object implementing IAxlIoHandler.</summary>
[Cmdlet(VerbsLifecycle.Register, "AxlIoHandler", DefaultParameterSetName = ScriptSet, HelpUri = AxlHelp.OnlineBase + "Register-AxlIoHandler.md")]
[OutputType(typeof(IoHandlerDescriptor))]
public sealed class RegisterAxlIoHandlerCommand : PSCmdlet
{
    private const string ScriptSet = "Script";
    private const string HandlerSet = "Handler";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ScriptSet)]
    [ValidatePattern("^[A-Za-z][A-Za-z0-9_.-]*$")]
    public string Name { get; set; } = "";

    /// <summary>File extension of the artifacts (".yaml"); a leading dot is added when missing.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string Extension { get; set; } = "";

    /// <summary>param($Value, $Path): writes the value to the file at $Path.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ScriptSet)]
    public ScriptBlock WriteScript { get; set; } = null!;

    /// <summary>param($Path): reads the file at $Path and outputs the object.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ScriptSet)]
    public ScriptBlock ReadScript { get; set; } = null!;

    [Parameter(ParameterSetName = ScriptSet)] public string? Description { get; set; }

    /// <summary>An object implementing Axl.IO.IAxlIoHandler (for example a class compiled with Add-Type).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = HandlerSet)]
    public object Handler { get; set; } = null!;

    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        IAxlIoHandler handler;
        if (ParameterSetName == HandlerSet)
        {
            var candidate = Handler is PSObject p ? p.BaseObject : Handler;
            if (candidate is not IAxlIoHandler h)
            {
                WriteError(new ErrorRecord(new ArgumentException($"{candidate?.GetType().FullName ?? "null"} does not implement Axl.IO.IAxlIoHandler. Fix: implement Name, Extension, Description, Write(object, Stream) and Read(Stream), or use -WriteScript and -ReadScript."),
                    "Axl.InvalidIoHandler", ErrorCategory.InvalidArgument, Handler));
                return;
            }
            handler = h;
        }
        else handler = new ScriptIoHandler(Name, Extension, WriteScript.ToString(), ReadScript.ToString(), Description);
        if (IoHandlerRegistry.BuiltIns().Any(b => b.Name.Equals(handler.Name, StringComparison.OrdinalIgnoreCase)))
            WriteWarning($"IO handler '{handler.Name}' replaces the built-in handler of that name in this process.");
        IoHandlerRegistry.Register(handler);
        WriteVerbose($"Registered IO handler '{handler.Name}' ({handler.Extension}).");
        if (PassThru) WriteObject(IoHandlerDescriptor.From(handler));
    }
}

/// <summary>Lists the IO handlers known in this process: the built-ins and those registered.</summary>
[Cmdlet(VerbsCommon.Get, "AxlIoHandler", HelpUri = AxlHelp.OnlineBase + "Get-AxlIoHandler.md")]
[OutputType(typeof(IoHandlerDescriptor))]
public sealed class GetAxlIoHandlerCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(IoHandlerNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var names = new NameFilter(Name);
        foreach (var d in IoHandlerRegistry.All)
            if (names.IsMatch(d.Name)) WriteObject(d);
        foreach (var name in names.Unmatched)
            WriteError(new ErrorRecord(new ItemNotFoundException($"There is no IO handler '{name}'. Fix: list them with Get-AxlIoHandler; add one with Register-AxlIoHandler."),
                "Axl.IoHandlerNotFound", ErrorCategory.ObjectNotFound, name));
    }
}
