using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Axl.Cmdlets;

/// <summary>
/// The Axl commands (cmdlets and DSL keyword aliases) and views as an InitialSessionState, for hosts that
/// embed the engine without importing the module: the axl command and the runner.
/// </summary>
public static class AxlSessionState
{
    public static InitialSessionState Create(string? formatFile = null)
    {
        var iss = InitialSessionState.CreateDefault2();
        AddTo(iss, formatFile);
        return iss;
    }

    /// <summary>
    /// Lets Core open step runspaces that know the Axl commands, and makes the Axl types nameable in scripts
    /// ([Axl.Model.AxlWorkflow], [AxlWorkflow], [Axl.Jobs.JobStatus], ...): PowerShell does not search a private
    /// AssemblyLoadContext for type names, so Axl.Core's public types are registered as type accelerators
    /// (<see cref="AxlTypeAccelerators"/>), on behalf of the runspace that imports the module.
    /// </summary>
    /// <param name="registerTypesNow">False: register the accelerators with the first session state made (the axl command,
    /// whose workflow files are often read without a runspace at all: <see cref="Axl.Dsl.StaticWorkflowFile"/>).</param>
    /// <param name="typesByHost">True: the session states made do not register them; the host calls <see cref="RegisterTypes"/>
    /// itself, on a thread of its choosing, before any of its runspaces runs a script (`axl step`: on the command's thread
    /// while the step host's runspace opens on the other, not on the runspace's way to open).</param>
    public static void ConfigureEngine(string? formatFile = null, bool registerTypesNow = true, bool typesByHost = false)
    {
        Axl.AxlEngine.SessionStateFactory = () =>
        {
            if (!typesByHost) AxlTypeAccelerators.Register(null);
            return Create(formatFile);
        };
        if (registerTypesNow) AxlTypeAccelerators.Register(Runspace.DefaultRunspace);
    }

    /// <summary>Registers the Axl type accelerators (once per process): for a host configured with typesByHost.</summary>
    public static void RegisterTypes() => AxlTypeAccelerators.Register(null);

    /// <summary>
    /// The DSL keyword a command name is in a fresh Axl session, where nothing but the Axl cmdlets and their aliases
    /// answers to these names: what <see cref="Axl.Dsl.StaticWorkflowFile"/> resolves a file's commands with.
    /// </summary>
    public static Axl.Dsl.DslKeyword Keyword(string name) => Keywords.Value.TryGetValue(name, out var k) ? k : Axl.Dsl.DslKeyword.Other;

    private static readonly Lazy<Dictionary<string, Axl.Dsl.DslKeyword>> Keywords = new(() =>
    {
        var map = new Dictionary<string, Axl.Dsl.DslKeyword>(StringComparer.OrdinalIgnoreCase);
        void Add(Type type, Axl.Dsl.DslKeyword keyword)
        {
            var (name, aliases) = NamesOf(type)!.Value;
            map[name] = keyword;
            foreach (var alias in aliases) map[alias] = keyword;
        }
        Add(typeof(Dsl.NewAxlWorkflowCommand), Axl.Dsl.DslKeyword.Workflow);
        Add(typeof(Dsl.AddAxlStepCommand), Axl.Dsl.DslKeyword.Step);
        Add(typeof(Dsl.AddAxlParameterCommand), Axl.Dsl.DslKeyword.Parameter);
        return map;
    });

    /// <summary>A cmdlet class's command name (Verb-Noun) and aliases; null for a class that is no cmdlet.</summary>
    private static (string Name, IEnumerable<string> Aliases)? NamesOf(Type type) =>
        Attribute.GetCustomAttribute(type, typeof(CmdletAttribute)) is not CmdletAttribute attr ? null
            : (attr.VerbName + "-" + attr.NounName,
               Attribute.GetCustomAttribute(type, typeof(AliasAttribute)) is AliasAttribute a ? a.AliasNames : Enumerable.Empty<string>());

    public static void AddTo(InitialSessionState iss, string? formatFile = null)
    {
        var assembly = typeof(AxlSessionState).Assembly;
        var helpFile = Path.GetFileName(assembly.Location) + "-Help.xml";
        foreach (var type in assembly.GetTypes())
        {
            if (NamesOf(type) is not var (name, aliases)) continue;
            iss.Commands.Add(new SessionStateCmdletEntry(name, type, helpFile));
            foreach (var alias in aliases) iss.Commands.Add(new SessionStateAliasEntry(alias, name));
        }
        if (formatFile is not null && File.Exists(formatFile))
            iss.Formats.Add(new SessionStateFormatEntry(formatFile));
    }
}
