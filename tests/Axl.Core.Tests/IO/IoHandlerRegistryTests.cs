using Axl.IO;

namespace Axl.Core.Tests.IO;

public class IoHandlerRegistryTests
{
    private static readonly string[] BuiltInNames = { "arrow", "bytes", "clixml", "csv", "json", "parquet", "text" };

    [Fact]
    public void Built_ins_have_implementations_matching_their_descriptors()
    {
        foreach (var name in BuiltInNames)
        {
            Assert.True(IoHandlerRegistry.TryGet(name, out var descriptor));
            var handler = IoHandlerRegistry.Get(name.ToUpperInvariant());
            Assert.Equal(name, handler.Name);
            Assert.Equal(descriptor.Extension, handler.Extension);
            Assert.True(IoHandlerRegistry.TryGetHandler(name, out var same));
            Assert.Same(handler, same);
        }
        Assert.Equal(".clixml", IoHandlerRegistry.Get("clixml").Extension);
        Assert.Equal(".txt", IoHandlerRegistry.Get("text").Extension);
        Assert.Equal(".bin", IoHandlerRegistry.Get("bytes").Extension);
        foreach (var name in BuiltInNames) Assert.Contains(name, IoHandlerRegistry.KnownNames);
        Assert.Subset(IoHandlerRegistry.All.Select(d => d.Name).ToHashSet(), BuiltInNames.ToHashSet());
    }

    [Fact]
    public void Get_of_an_unknown_name_lists_the_known_ones()
    {
        var ex = Assert.Throws<KeyNotFoundException>(() => IoHandlerRegistry.Get("pickle"));
        Assert.Contains("'pickle'", ex.Message);
        Assert.Contains("clixml", ex.Message);
        Assert.Contains("parquet", ex.Message);
        Assert.False(IoHandlerRegistry.TryGetHandler("pickle", out _));
    }

    [Fact]
    public void A_user_handler_registers_its_descriptor_too()
    {
        IoHandlerRegistry.Register(new ReversedTextHandler());
        Assert.True(IoHandlerRegistry.TryGet("TEST-REVERSED", out var d));
        Assert.Equal(new IoHandlerDescriptor("test-reversed", ".rev", "text, reversed (test handler)"), d);
        Assert.Contains(IoHandlerRegistry.All, x => x.Name == "test-reversed");
        Assert.IsType<ReversedTextHandler>(IoHandlerRegistry.Get("test-reversed"));
    }

    [Fact]
    public void A_descriptor_only_handler_is_known_but_has_no_implementation()
    {
        IoHandlerRegistry.Register(new IoHandlerDescriptor("test-remote-only", ".ro", "implemented in the runner image"));
        Assert.True(IoHandlerRegistry.TryGet("test-remote-only", out _));
        Assert.False(IoHandlerRegistry.TryGetHandler("test-remote-only", out _));
        var ex = Assert.Throws<KeyNotFoundException>(() => IoHandlerRegistry.Get("test-remote-only"));
        Assert.Contains("no implementation", ex.Message);

        // A descriptor with the same extension keeps a registered implementation; another extension drops it.
        IoHandlerRegistry.Register(new SameName(".one"));
        IoHandlerRegistry.Register(new IoHandlerDescriptor("test-same-name", ".one", "redeclared"));
        Assert.IsType<SameName>(IoHandlerRegistry.Get("test-same-name"));
        IoHandlerRegistry.Register(new IoHandlerDescriptor("test-same-name", ".two", "redeclared"));
        Assert.Throws<KeyNotFoundException>(() => IoHandlerRegistry.Get("test-same-name"));
    }

    [Fact]
    public void Bad_handlers_are_refused()
    {
        Assert.Throws<ArgumentException>(() => IoHandlerRegistry.Register(new SameName("json")));
        Assert.Throws<ArgumentException>(() => IoHandlerRegistry.Register(new IoHandlerDescriptor(" ", ".x", "")));
        Assert.Throws<ArgumentException>(() => IoHandlerRegistry.Register(new IoHandlerDescriptor("test-bad", ".a/b", "")));
    }

    private sealed class SameName(string extension) : IAxlIoHandler
    {
        public string Name => "test-same-name";
        public string Extension => extension;
        public string Description => "test";
        public void Write(object? value, Stream destination) { }
        public object? Read(Stream source) => null;
    }
}
