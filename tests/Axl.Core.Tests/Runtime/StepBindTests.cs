using Axl.Core.Tests.IO;
using Axl.Dsl;
using Axl.IO;
using Axl.Model;
using Axl.Runner;

namespace Axl.Core.Tests.Runtime;

/// <summary>StepRunner.Bind: which input artifacts are hashed again when they are loaded.</summary>
public sealed class StepBindTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private (AxlWorkflow Wf, StepManifest Manifest, string UpDir) Chain()
    {
        var wf = new WorkflowBuilder("bind").AddStep("a", "'aaaa'").AddStep("b", "param($a) $a").Build();
        var upDir = Path.Combine(_dir.Path, "a");
        ArtifactIO.Save(IoHandlerRegistry.Get("clixml"), "aaaa", upDir);
        // Changed in place after it was saved, same size: only a hash finds it.
        var data = Path.Combine(upDir, ArtifactIO.ReadMetadata(upDir)!.File);
        File.WriteAllText(data, File.ReadAllText(data).Replace("aaaa", "bbbb"));
        var manifest = ManifestBuilder.For(wf, wf.GetStep("b")!, new ManifestLayout
        {
            InputDirectory = s => Path.Combine(_dir.Path, s.Name),
            OutputDirectory = s => Path.Combine(_dir.Path, s.Name),
            ParameterValue = _ => null,
            WorkflowFile = "",
        });
        return (wf, manifest, upDir);
    }

    [Fact]
    public void An_input_is_hashed_when_it_is_loaded_unless_the_caller_saved_it_itself_and_hands_in_its_metadata()
    {
        var (wf, manifest, upDir) = Chain();
        var b = wf.GetStep("b")!;
        var ex = Assert.Throws<AxlInputException>(() => StepRunner.Bind(manifest, wf, b));
        Assert.Contains("SHA-256", ex.Message);
        Assert.Contains(upDir, ex.Message);
        var meta = ArtifactIO.ReadMetadata(upDir)!;
        Assert.Throws<AxlInputException>(() => StepRunner.Bind(manifest, wf, b, saved: step => step == "a" ? null : meta));
        // The caller saved a itself (hashed while written) and hands its metadata in: the data is read, not hashed again.
        var bound = StepRunner.Bind(manifest, wf, b, saved: step => step == "a" ? meta : null);
        Assert.Equal("bbbb", bound.Arguments["a"]?.ToString());
        // The size is still checked: a truncated file is refused.
        File.WriteAllText(Path.Combine(upDir, meta.File), "x");
        var truncated = Assert.Throws<AxlInputException>(() => StepRunner.Bind(manifest, wf, b, saved: step => step == "a" ? meta : null));
        Assert.Contains("1 bytes", truncated.Message);
    }
}
