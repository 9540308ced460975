using System.IO.Compression;
using Axl.Dsl;
using Axl.Model;
using Axl.Runtime;
using Xunit;

namespace Axl.Core.Tests.Runtime;

/// <summary>Step packages at run time (issue 18, point 4): modules from a folder of .nupkg files into the cache, errors, the runner.</summary>
public sealed class StepPackagesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "axl-packages-tests-" + Guid.NewGuid().ToString("N")[..10]);

    public StepPackagesTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private string Feed => Path.Combine(_root, "feed");
    private string Cache => Path.Combine(_root, "cache");

    /// <summary>A package laid out as Compress-PSResource makes it: the module's files at the top, plus NuGet's own.</summary>
    private string Pack(string name, string fileVersion, string moduleVersion, bool withManifest = true)
    {
        Directory.CreateDirectory(Feed);
        var path = Path.Combine(Feed, $"{name}.{fileVersion}.nupkg");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        void Add(string entry, string text)
        {
            using var w = new StreamWriter(zip.CreateEntry(entry).Open());
            w.Write(text);
        }
        if (withManifest) Add($"{name}.psd1", $"@{{ RootModule = '{name}.psm1'; ModuleVersion = '{moduleVersion}'; FunctionsToExport = 'Get-{name}' }}");
        Add($"{name}.psm1", $"function Get-{name} {{ '{moduleVersion}' }}");
        Add($"{name}.nuspec", "<package/>");
        Add("[Content_Types].xml", "<Types/>");
        Add("_rels/.rels", "<Relationships/>");
        Add("package/services/metadata/core-properties/x.psmdcp", "<coreProperties/>");
        return path;
    }

    private StepPackageOptions Options(string? repository = "feed") =>
        new() { PSResourceRepository = repository is null ? null : Path.Combine(_root, repository), CacheRoot = Cache };

    private static AxlWorkflow Flow(params object[] modules) =>
        new WorkflowBuilder("pk").AddStep("use", "1", new StepOptions { Modules = modules }).Build();

    [Fact]
    public void A_step_without_modules_or_packages_needs_nothing_and_touches_no_cache()
    {
        var wf = new WorkflowBuilder("pk").AddStep("plain", "1").AddStep("cmd", (string?)null, new StepOptions { CommandSpecified = true, Command = "sh", ArgumentList = new[] { "-c", "true" }, Packages = new[] { "x==1" } }).Build();
        foreach (var s in wf.Steps)
            Assert.True(StepPackages.Prepare(wf, s, Options()).IsEmpty, s.Name); // -Packages are for python commands only
        Assert.False(Directory.Exists(Cache));
    }

    [Fact]
    public void A_pinned_module_is_unpacked_from_the_folder_once_and_then_taken_from_the_cache()
    {
        Pack("TinyA", "1.0.0", "1.0.0");
        var wf = Flow("TinyA@1.0.0");
        var log = new List<string>();
        var first = StepPackages.Prepare(wf, wf.Steps[0], Options(), log.Add);
        var entry = Path.Combine(Cache, "psmodules", "TinyA", "1.0.0");
        Assert.Equal(new[] { entry }, first.ModulePaths);
        var module = Path.Combine(entry, "TinyA", "1.0.0");
        Assert.True(File.Exists(Path.Combine(module, "TinyA.psd1")));
        Assert.True(File.Exists(Path.Combine(module, "TinyA.psm1")));
        foreach (var nugetOwn in new[] { "TinyA.nuspec", "[Content_Types].xml" }) Assert.False(File.Exists(Path.Combine(module, nugetOwn)), nugetOwn);
        foreach (var nugetOwn in new[] { "_rels", "package" }) Assert.False(Directory.Exists(Path.Combine(module, nugetOwn)), nugetOwn);
        Assert.Single(log);
        Assert.Contains("module TinyA@1.0.0 installed from", log[0]);
        Assert.Empty(Directory.GetDirectories(Path.Combine(Cache, "psmodules", "TinyA"), ".tmp-*"));

        // Second time: the cache, even with the feed gone; nothing installed.
        Directory.Delete(Feed, recursive: true);
        var second = StepPackages.Prepare(wf, wf.Steps[0], Options(), log.Add);
        Assert.Equal(first.ModulePaths, second.ModulePaths);
        Assert.Single(log);
        Assert.StartsWith(entry + Path.PathSeparator, second.Environment()["PSModulePath"] + Path.PathSeparator);
    }

    [Fact]
    public void An_unpinned_module_takes_the_highest_version_and_versions_match_as_NuGet_normalises_them()
    {
        Pack("TinyB", "1.0.0", "1.0.0");
        Pack("TinyB", "1.2.0", "1.2.0");
        Pack("TinyB", "1.10.0", "1.10.0");
        var wf = Flow("TinyB");
        Assert.Equal(Path.Combine(Cache, "psmodules", "TinyB", "1.10.0"), Assert.Single(StepPackages.Prepare(wf, wf.Steps[0], Options()).ModulePaths));

        Pack("TinyC", "2.0", "2.0"); // asked for as 2.0.0
        var c = Flow(new System.Collections.Hashtable { ["ModuleName"] = "TinyC", ["RequiredVersion"] = "2.0.0" });
        Assert.Equal(Path.Combine(Cache, "psmodules", "TinyC", "2.0.0"), Assert.Single(StepPackages.Prepare(c, c.Steps[0], Options()).ModulePaths));
    }

    [Fact]
    public void The_workflows_modules_count_for_every_step()
    {
        Pack("TinyW", "3.1.0", "3.1.0");
        var wf = new WorkflowBuilder("pk", new WorkflowDefinitionOptions { Modules = new object[] { "TinyW@3.1.0" } }).AddStep("s", "1").Build();
        Assert.Single(StepPackages.Prepare(wf, wf.Steps[0], Options()).ModulePaths);
    }

    [Fact]
    public void Missing_with_no_repository_names_the_step_the_module_where_it_looked_and_the_fixes()
    {
        var wf = Flow("NotThereAnywhere@1.2.3");
        var ex = Assert.Throws<AxlPackageException>(() => StepPackages.Prepare(wf, wf.Steps[0], Options(repository: null)));
        Assert.Contains("step 'use' needs module NotThereAnywhere@1.2.3, which is not installed", ex.Message);
        Assert.Contains("PSModulePath", ex.Message);
        Assert.Contains(Path.Combine(Cache, "psmodules", "NotThereAnywhere"), ex.Message);
        Assert.Contains(StepPackageOptions.RepositoryVariable, ex.Message);
        Assert.Contains("Build-AxlImage", ex.Message);
    }

    [Fact]
    public void A_missing_folder_a_missing_version_a_broken_package_and_one_without_the_module_are_refused_clearly()
    {
        var wf = Flow("TinyD@1.0.0");
        var noFolder = Assert.Throws<AxlPackageException>(() => StepPackages.Prepare(wf, wf.Steps[0], Options("no-such-folder")));
        Assert.Contains("which does not exist", noFolder.Message);

        Pack("TinyD", "0.9.0", "0.9.0");
        var noVersion = Assert.Throws<AxlPackageException>(() => StepPackages.Prepare(wf, wf.Steps[0], Options()));
        Assert.Contains("(no TinyD.1.0.0.nupkg there)", noVersion.Message);

        File.WriteAllText(Path.Combine(Feed, "TinyD.1.0.0.nupkg"), "not a zip");
        var broken = Assert.Throws<AxlPackageException>(() => StepPackages.Prepare(wf, wf.Steps[0], Options()));
        Assert.Contains("is not a valid package", broken.Message);

        File.Delete(Path.Combine(Feed, "TinyD.1.0.0.nupkg"));
        Pack("TinyD", "1.0.0", "1.0.0", withManifest: false);
        File.Delete(Path.Combine(Feed, "TinyD.1.0.0.nupkg"));
        using (var zip = ZipFile.Open(Path.Combine(Feed, "TinyD.1.0.0.nupkg"), ZipArchiveMode.Create)) zip.CreateEntry("readme.txt");
        var empty = Assert.Throws<AxlPackageException>(() => StepPackages.Prepare(wf, wf.Steps[0], Options()));
        Assert.Contains("holds no TinyD.psd1 or TinyD.psm1", empty.Message);
        Assert.False(Directory.Exists(Path.Combine(Cache, "psmodules", "TinyD", "1.0.0")));
    }

    [Theory]
    [InlineData("python", true)]
    [InlineData("python3", true)]
    [InlineData("/usr/bin/python3.11", true)]
    [InlineData("python.exe", true)]
    [InlineData("pythonista", false)]
    [InlineData("sh", false)]
    [InlineData(null, false)]
    public void Python_commands_are_recognised_by_their_file_name(string? command, bool expected) =>
        Assert.Equal(expected, StepPackages.IsPython(command));

    [Fact]
    public void The_local_runner_fails_the_step_before_it_runs_when_a_module_cannot_be_had()
    {
        var marker = Path.Combine(_root, "ran");
        var wf = new WorkflowBuilder("pk").AddStep("use", $"Set-Content -LiteralPath '{marker}' -Value x", new StepOptions { Modules = new object[] { "NotThereAnywhere@1.0.0" } }).Build();
        var run = LocalRunner.Run(wf, new RunOptions { RunRoot = Path.Combine(_root, "runs"), Packages = Options(repository: null) });
        Assert.Equal(RunStatus.Failed, run.Status);
        var step = Assert.Single(run.Steps);
        Assert.Equal(FailureKind.User, step.Error!.Kind);
        Assert.Contains("step 'use' needs module NotThereAnywhere@1.0.0", step.Error.Message);
        Assert.False(File.Exists(marker));
    }
}

/// <summary>In-process script steps share the environment: steps that set a variable to the same value share it, another value waits.</summary>
public sealed class EnvironmentScopeTests
{
    [Fact]
    public void The_same_value_is_shared_another_waits_and_the_old_value_comes_back_after_the_last_holder()
    {
        var name = "AXL_TEST_SCOPE_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(name, "base");
        try
        {
            var a = new Dictionary<string, string> { [name] = "a" };
            var first = EnvironmentScope.Enter(a, CancellationToken.None);
            Assert.Equal("a", Environment.GetEnvironmentVariable(name));
            Assert.Equal("base", EnvironmentScope.BaseValue(name));
            // Another thread with the same value enters at once.
            var second = Task.Run(() => EnvironmentScope.Enter(a, CancellationToken.None));
            Assert.True(second.Wait(TimeSpan.FromSeconds(30)));
            // One with another value waits for both.
            var other = Task.Run(() =>
            {
                using var s = EnvironmentScope.Enter(new Dictionary<string, string> { [name] = "b" }, CancellationToken.None);
                return Environment.GetEnvironmentVariable(name);
            });
            Assert.False(other.Wait(TimeSpan.FromMilliseconds(300)));
            first.Dispose();
            Assert.Equal("a", Environment.GetEnvironmentVariable(name)); // the second still holds it
            Assert.False(other.IsCompleted);
            second.Result.Dispose();
            Assert.True(other.Wait(TimeSpan.FromSeconds(30)));
            Assert.Equal("b", other.Result);
            Assert.Equal("base", Environment.GetEnvironmentVariable(name));

            // A waiter that is cancelled gives up and holds nothing.
            using var held = EnvironmentScope.Enter(a, CancellationToken.None);
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            Assert.ThrowsAny<OperationCanceledException>(() => EnvironmentScope.Enter(new Dictionary<string, string> { [name] = "c" }, cts.Token));
            Assert.Equal("a", Environment.GetEnvironmentVariable(name));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }
}
