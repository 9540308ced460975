namespace Axl.Runtime;

/// <summary>
/// Script steps run in-process, where environment variables are shared by every thread. A step with -Env takes a
/// lock on each variable it sets (in name order, so no deadlock), sets it, runs, and puts the old value back;
/// two steps that set the same variable therefore never overlap, while steps that set none run freely.
/// </summary>
internal sealed class EnvironmentScope : IDisposable
{
    private static readonly Dictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);
    private readonly List<(string Name, string? Old, SemaphoreSlim Lock)> _held = new();

    private EnvironmentScope() { }

    public static EnvironmentScope Enter(IReadOnlyDictionary<string, string> env, CancellationToken ct)
    {
        var scope = new EnvironmentScope();
        try
        {
            foreach (var name in env.Keys.OrderBy(k => k, StringComparer.Ordinal))
            {
                SemaphoreSlim gate;
                lock (Locks)
                {
                    if (!Locks.TryGetValue(name, out gate!)) Locks[name] = gate = new SemaphoreSlim(1, 1);
                }
                gate.Wait(ct);
                scope._held.Add((name, Environment.GetEnvironmentVariable(name), gate));
                Environment.SetEnvironmentVariable(name, env[name]);
            }
            return scope;
        }
        catch
        {
            scope.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        for (int i = _held.Count - 1; i >= 0; i--)
        {
            Environment.SetEnvironmentVariable(_held[i].Name, _held[i].Old);
            _held[i].Lock.Release();
        }
        _held.Clear();
    }
}
