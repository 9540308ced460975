namespace Axl.Runtime;

/// <summary>
/// Script steps run in-process, where environment variables are shared by every thread. A step with -Env (or with
/// installed packages: PSModulePath, PYTHONPATH) holds each variable it sets (in name order, so no deadlock), sets it,
/// runs, and puts the old value back when the last holder leaves. Steps that set a variable to the same value hold it
/// together (e.g. every step of a workflow whose -Modules came from the package cache); a step that wants another
/// value waits until they are done, so no step ever sees another's value; steps that set none run freely.
/// </summary>
internal sealed class EnvironmentScope : IDisposable
{
    private sealed class Gate
    {
        public string? Value;
        public string? Old;
        public int Holders;
    }

    private static readonly Dictionary<string, Gate> Gates = new(StringComparer.Ordinal);
    private readonly List<(string Name, Gate Gate)> _held = new();

    private EnvironmentScope() { }

    public static EnvironmentScope Enter(IReadOnlyDictionary<string, string> env, CancellationToken ct)
    {
        var scope = new EnvironmentScope();
        try
        {
            foreach (var name in env.Keys.OrderBy(k => k, StringComparer.Ordinal))
            {
                Gate gate;
                lock (Gates)
                {
                    if (!Gates.TryGetValue(name, out gate!)) Gates[name] = gate = new Gate();
                }
                var value = env[name];
                lock (gate)
                {
                    while (gate.Holders > 0 && !string.Equals(gate.Value, value, StringComparison.Ordinal))
                    {
                        Monitor.Wait(gate, 50);
                        ct.ThrowIfCancellationRequested();
                    }
                    if (gate.Holders == 0)
                    {
                        gate.Old = Environment.GetEnvironmentVariable(name);
                        gate.Value = value;
                        Environment.SetEnvironmentVariable(name, value);
                    }
                    gate.Holders++;
                }
                scope._held.Add((name, gate));
            }
            return scope;
        }
        catch
        {
            scope.Dispose();
            throw;
        }
    }

    /// <summary>The variable's value outside every step's scope: what it was before the steps that hold it set it.</summary>
    public static string? BaseValue(string name)
    {
        Gate? gate;
        lock (Gates) Gates.TryGetValue(name, out gate);
        if (gate is not null)
            lock (gate)
                if (gate.Holders > 0) return gate.Old;
        return Environment.GetEnvironmentVariable(name);
    }

    public void Dispose()
    {
        for (int i = _held.Count - 1; i >= 0; i--)
        {
            var (name, gate) = _held[i];
            lock (gate)
            {
                if (--gate.Holders == 0)
                {
                    Environment.SetEnvironmentVariable(name, gate.Old);
                    gate.Value = gate.Old = null;
                    Monitor.PulseAll(gate);
                }
            }
        }
        _held.Clear();
    }
}
