namespace Axl.Dsl;

/// <summary>
/// The workflow being defined on this thread. The AxlWorkflow keyword pushes a builder, runs its body,
/// and pops it; Step, Parameter and Graph record into the top one. Each runspace runs on its own thread,
/// so parallel loads never share a builder.
/// </summary>
public static class DslScope
{
    [ThreadStatic] private static Stack<WorkflowBuilder>? _stack;

    public static WorkflowBuilder? Current => _stack is { Count: > 0 } s ? s.Peek() : null;

    public static IDisposable Push(WorkflowBuilder builder)
    {
        (_stack ??= new()).Push(builder);
        return new Popper(builder);
    }

    private sealed class Popper(WorkflowBuilder builder) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            if (_stack is { Count: > 0 } s && ReferenceEquals(s.Peek(), builder)) s.Pop();
        }
    }
}

/// <summary>A DSL keyword used where it has no meaning (Step outside AxlWorkflow, a step defined twice in Graph, ...).</summary>
public sealed class AxlDslException : InvalidOperationException
{
    public AxlDslException(string id, string message) : base(message) => Id = id;
    public string Id { get; }
}
