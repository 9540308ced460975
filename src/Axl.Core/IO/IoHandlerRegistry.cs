using System.Collections.Concurrent;

namespace Axl.IO;

/// <summary>What the IR needs to know of an IO handler: its name and the file extension of the artifacts it writes.</summary>
public sealed record IoHandlerDescriptor(string Name, string Extension, string Description);

/// <summary>
/// The known IO handlers. Built-in: clixml (default), json, text, bytes, csv, parquet, arrow.
/// Users register their own with <see cref="Register"/>; the runtime pairs each descriptor with an implementation.
/// </summary>
public static class IoHandlerRegistry
{
    private static readonly ConcurrentDictionary<string, IoHandlerDescriptor> Handlers = new(StringComparer.OrdinalIgnoreCase);

    static IoHandlerRegistry()
    {
        foreach (var d in new[]
        {
            new IoHandlerDescriptor("clixml", ".clixml", "PowerShell CLIXML (PSSerializer): any object, type-faithful"),
            new IoHandlerDescriptor("json", ".json", "JSON: objects, arrays, scalars"),
            new IoHandlerDescriptor("text", ".txt", "UTF-8 text"),
            new IoHandlerDescriptor("bytes", ".bin", "raw bytes or a file passed through as is"),
            new IoHandlerDescriptor("csv", ".csv", "CSV of a table of objects"),
            new IoHandlerDescriptor("parquet", ".parquet", "Apache Parquet columnar table"),
            new IoHandlerDescriptor("arrow", ".arrow", "Apache Arrow IPC columnar table"),
        }) Handlers[d.Name] = d;
    }

    public static IReadOnlyCollection<IoHandlerDescriptor> All => Handlers.Values.OrderBy(h => h.Name, StringComparer.Ordinal).ToList();

    public static bool TryGet(string name, out IoHandlerDescriptor descriptor) => Handlers.TryGetValue(name, out descriptor!);

    public static void Register(IoHandlerDescriptor descriptor)
    {
        if (string.IsNullOrWhiteSpace(descriptor.Name)) throw new ArgumentException("An IO handler needs a name.", nameof(descriptor));
        if (!descriptor.Extension.StartsWith('.')) throw new ArgumentException($"The extension of IO handler '{descriptor.Name}' must start with '.', got '{descriptor.Extension}'.", nameof(descriptor));
        Handlers[descriptor.Name] = descriptor;
    }

    public static string KnownNames => string.Join(", ", All.Select(h => h.Name));
}
