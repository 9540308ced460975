using System.Management.Automation.Runspaces;

namespace Axl;

/// <summary>
/// What Core needs from its host. The module (on import) and the axl command set <see cref="SessionStateFactory"/>
/// so the runspaces Core opens for steps know the Axl commands (the DSL keywords), which live in Axl.Cmdlets.
/// </summary>
public static class AxlEngine
{
    private static Func<InitialSessionState> _factory = InitialSessionState.CreateDefault2;

    public static Func<InitialSessionState> SessionStateFactory
    {
        get => _factory;
        set => _factory = value ?? throw new ArgumentNullException(nameof(value));
    }

    public static InitialSessionState CreateSessionState() => _factory();

    /// <summary>
    /// Where the host's startup trace takes a phase of Core's (the axl command's AXL_STARTUP_TRACE: the step host's
    /// runspace opened, its workflow loaded, the step run, its output saved); null (the default) traces nothing.
    /// </summary>
    public static Action<string>? StartupMark { get; set; }

    internal static void Mark(string phase) => StartupMark?.Invoke(phase);

    private static readonly object FirstOpenGate = new();
    private static volatile bool _opened;

    /// <summary>
    /// Creates a session state with <see cref="SessionStateFactory"/> and opens a runspace of it. The first one of the
    /// process is made alone: the engine's first session state fills static tables of cmdlets and providers, and two
    /// made at once on different threads (a step host opened in the background while the command opens its own) came
    /// out without some of them ("ForEach-Object is not recognized", "Cannot find drive '/'"). Later ones, as a fan-out's
    /// step hosts, open side by side.
    /// </summary>
    public static Runspace OpenRunspace(PSThreadOptions threadOptions = PSThreadOptions.Default)
    {
        if (_opened) return Open(threadOptions);
        lock (FirstOpenGate)
        {
            var runspace = Open(threadOptions);
            _opened = true;
            return runspace;
        }
    }

    private static Runspace Open(PSThreadOptions threadOptions)
    {
        var runspace = RunspaceFactory.CreateRunspace(CreateSessionState());
        runspace.ThreadOptions = threadOptions;
        runspace.Open();
        return runspace;
    }
}
