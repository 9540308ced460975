using Axl.Core.Tests.IO;
using Axl.Runtime;

namespace Axl.Core.Tests.Runtime;

public class StepFoldersTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Only_a_folder_made_new_is_handed_out_as_new_and_once()
    {
        var a = _dir.File("a");
        var old = _dir.File("old"); // a resumed run's folder, with what a killed writer left
        Directory.CreateDirectory(old);
        File.WriteAllText(Path.Combine(old, ".output.clixml.tmp-left"), "half");
        var c = _dir.File("c");
        var folders = StepFolders.MakeAhead(new[] { ("a", a), ("old", old), ("c", c) });
        Assert.True(SpinWait.SpinUntil(() => Directory.Exists(c), TimeSpan.FromSeconds(10)));
        folders.Dispose(); // the thread has made the last one: this waits for it to finish; what it made stays handed out
        Assert.True(Directory.Exists(a));
        Assert.True(Directory.Exists(c));

        Assert.True(folders.Claim("a"));
        Assert.False(folders.Claim("a")); // claimed once
        Assert.False(folders.Claim("old")); // it existed: its step looks at it (and cleans it) itself
        Assert.False(folders.Claim("never-listed"));
        Assert.True(File.Exists(Path.Combine(old, ".output.clixml.tmp-left"))); // not touched here

        Assert.True(folders.Claim("c"));
        Assert.Empty(Directory.GetFiles(a));
    }
}
