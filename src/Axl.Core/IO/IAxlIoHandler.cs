namespace Axl.IO;

/// <summary>
/// Turns a step output into bytes and back. Implement this to add a handler of your own and register it with
/// <see cref="IoHandlerRegistry.Register(IAxlIoHandler)"/>; the runtime and the runner then save and load
/// artifacts through it. Handlers write to and read from streams; the runtime owns files, temp names,
/// atomic renames and metadata (<see cref="ArtifactIO"/>), so a handler never sees a partial file.
/// </summary>
public interface IAxlIoHandler
{
    /// <summary>Name used in the DSL (-IoHandler name), case-insensitive.</summary>
    string Name { get; }
    /// <summary>File extension of the artifacts, with the dot (".json").</summary>
    string Extension { get; }
    string Description { get; }
    /// <summary>Writes <paramref name="value"/> (any object the step returned: null, a scalar, a PSObject, an array, a table of rows).</summary>
    void Write(object? value, Stream destination);
    /// <summary>Reads back what <see cref="Write"/> wrote.</summary>
    object? Read(Stream source);
    /// <summary>
    /// Readies ahead of time what the first <see cref="Write"/> of the process needs (a serializer compiled once, say),
    /// for a caller that has to wait for something else first (the runner waiting for its step host); nothing by default.
    /// </summary>
    void Prepare() { }
}
