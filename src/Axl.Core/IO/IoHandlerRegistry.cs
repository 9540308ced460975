using System.Collections.Concurrent;

namespace Axl.IO;

/// <summary>What the IR needs to know of an IO handler: its name and the file extension of the artifacts it writes.</summary>
public sealed record IoHandlerDescriptor(string Name, string Extension, string Description)
{
    public static IoHandlerDescriptor From(IAxlIoHandler handler) => new(handler.Name, handler.Extension, handler.Description);
}

/// <summary>
/// The known IO handlers. Built-in: clixml (default), json, text, bytes, csv, parquet, arrow, each with its implementation.
/// Users register their own with <see cref="Register(IAxlIoHandler)"/>. A name can also be declared by descriptor only
/// (<see cref="Register(IoHandlerDescriptor)"/>), for the validator and compilers, when the implementation lives
/// elsewhere (a runner image); <see cref="Get"/> then explains that it has no implementation in this process.
/// Names are case-insensitive; registering a name again replaces it.
/// </summary>
public static class IoHandlerRegistry
{
    private sealed record Entry(IoHandlerDescriptor Descriptor, IAxlIoHandler? Handler);

    private static readonly ConcurrentDictionary<string, Entry> Handlers = new(StringComparer.OrdinalIgnoreCase);

    static IoHandlerRegistry()
    {
        foreach (var h in BuiltIns()) Register(h);
    }

    /// <summary>New instances of the built-in handlers.</summary>
    public static IReadOnlyList<IAxlIoHandler> BuiltIns() => new IAxlIoHandler[]
    {
        new ClixmlIoHandler(), new JsonIoHandler(), new TextIoHandler(), new BytesIoHandler(),
        new CsvIoHandler(), new ParquetIoHandler(), new ArrowIoHandler(),
    };

    public static IReadOnlyCollection<IoHandlerDescriptor> All =>
        Handlers.Values.Select(e => e.Descriptor).OrderBy(h => h.Name, StringComparer.Ordinal).ToList();

    public static bool TryGet(string name, out IoHandlerDescriptor descriptor)
    {
        if (Handlers.TryGetValue(name, out var entry)) { descriptor = entry.Descriptor; return true; }
        descriptor = null!;
        return false;
    }

    /// <summary>The implementation registered under <paramref name="name"/>, if there is one.</summary>
    public static bool TryGetHandler(string name, out IAxlIoHandler handler)
    {
        if (Handlers.TryGetValue(name, out var entry) && entry.Handler is not null) { handler = entry.Handler; return true; }
        handler = null!;
        return false;
    }

    /// <summary>The implementation registered under <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming the known handlers.</summary>
    public static IAxlIoHandler Get(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new KeyNotFoundException($"No IO handler name given. Known IO handlers: {KnownNames}.");
        if (!Handlers.TryGetValue(name, out var entry))
            throw new KeyNotFoundException($"Unknown IO handler '{name}'. Known IO handlers: {KnownNames}. Register your own with IoHandlerRegistry.Register(IAxlIoHandler) before using it.");
        return entry.Handler
            ?? throw new KeyNotFoundException($"IO handler '{entry.Descriptor.Name}' is declared ({entry.Descriptor.Extension}) but has no implementation in this process. Register one with IoHandlerRegistry.Register(IAxlIoHandler). Handlers with an implementation: {string.Join(", ", Handlers.Values.Where(e => e.Handler is not null).Select(e => e.Descriptor.Name).OrderBy(n => n, StringComparer.Ordinal))}.");
    }

    /// <summary>Registers (or replaces) a handler implementation; its descriptor is taken from the handler.</summary>
    public static void Register(IAxlIoHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var descriptor = IoHandlerDescriptor.From(handler);
        Validate(descriptor, nameof(handler));
        Handlers[descriptor.Name] = new Entry(descriptor, handler);
    }

    /// <summary>
    /// Declares a handler by descriptor only. An implementation already registered under the same name and extension is kept;
    /// one with another extension is dropped (it would write files the IR does not expect).
    /// </summary>
    public static void Register(IoHandlerDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        Validate(descriptor, nameof(descriptor));
        Handlers.AddOrUpdate(descriptor.Name,
            _ => new Entry(descriptor, null),
            (_, old) => new Entry(descriptor,
                old.Handler is not null && string.Equals(old.Handler.Extension, descriptor.Extension, StringComparison.OrdinalIgnoreCase) ? old.Handler : null));
    }

    private static void Validate(IoHandlerDescriptor descriptor, string parameter)
    {
        if (string.IsNullOrWhiteSpace(descriptor.Name)) throw new ArgumentException("An IO handler needs a name.", parameter);
        if (descriptor.Extension is null || !descriptor.Extension.StartsWith('.') || descriptor.Extension.Length < 2)
            throw new ArgumentException($"The extension of IO handler '{descriptor.Name}' must start with '.', got '{descriptor.Extension}'.", parameter);
        if (descriptor.Extension.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || descriptor.Extension.Contains('/') || descriptor.Extension.Contains('\\'))
            throw new ArgumentException($"The extension of IO handler '{descriptor.Name}' must be usable in a file name, got '{descriptor.Extension}'.", parameter);
    }

    public static string KnownNames => string.Join(", ", All.Select(h => h.Name));
}
