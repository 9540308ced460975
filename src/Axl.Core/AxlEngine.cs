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
}
