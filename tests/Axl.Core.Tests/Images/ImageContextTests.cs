using System.Formats.Tar;
using System.Text;
using System.Text.RegularExpressions;
using Axl.Core.Tests.Compilers;
using Axl.Core.Tests.Delivery;
using Axl.Delivery;
using Axl.Dsl;
using Axl.Images;
using Axl.Model;

namespace Axl.Core.Tests.Images;

/// <summary>The build context of workflow images (no engine needed): determinism, layout, dependencies, labels, the Dockerfile.</summary>
public sealed class ImageContextTests : IDisposable
{
    private readonly TempTree _tree = new("image");
    public void Dispose() => Directory.Delete(_tree.Root, recursive: true);

    private const string FlowText = "AxlWorkflow flow { Step a { 1 } }\n";

    /// <summary>A workflow built from C# whose source location is a real file under the tree (what Build-AxlImage bakes).</summary>
    private static AxlWorkflow Flow(string file, WorkflowDefinitionOptions? options = null, Action<WorkflowBuilder>? steps = null)
    {
        var b = new WorkflowBuilder("flow", options, new SourceLocation(file, 1));
        if (steps is null) b.AddStep("a", "1");
        else steps(b);
        return b.Build();
    }

    private static Dictionary<string, TarEntry> Entries(byte[] tar, Dictionary<string, string>? contents = null)
    {
        var result = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
        using var r = new TarReader(new MemoryStream(tar));
        while (r.GetNextEntry(copyData: true) is { } e)
        {
            result.Add(e.Name, e);
            if (contents is not null && e.DataStream is { } data) contents[e.Name] = new StreamReader(data, Encoding.UTF8).ReadToEnd();
        }
        return result;
    }

    [Fact]
    public void The_same_inputs_give_the_same_bytes_whatever_the_times_and_the_folder()
    {
        var file = _tree.Write("repo/flows/flow.axl.ps1", FlowText, mtime: new DateTime(2021, 5, 1, 0, 0, 0, DateTimeKind.Utc));
        _tree.Write("repo/flows/lib/helper.ps1", "function Get-One { 1 }\n", mtime: new DateTime(2022, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        _tree.Write("repo/flows/run.sh", "#!/bin/sh\necho hi\n", TempTree.Rwx);
        var options = new ImageBuildOptions { Tag = "reg.example/flow:1", BaseImage = "localhost/base:1" };

        var first = ImageContext.Create(Flow(file), options);
        var second = ImageContext.Create(Flow(file), options);
        Assert.Equal(first.Tar, second.Tar);
        Assert.Equal(first.Sha256, second.Sha256);

        // A copy elsewhere, files written in another order with other times: the same bytes.
        using var other = new TempTree("image-copy");
        other.Write("x/flows/run.sh", "#!/bin/sh\necho hi\n", TempTree.Rwx);
        other.Write("x/flows/lib/helper.ps1", "function Get-One { 1 }\n");
        var copy = other.Write("x/flows/flow.axl.ps1", FlowText);
        var third = ImageContext.Create(Flow(copy), options);
        Assert.Equal(first.Sha256, third.Sha256);

        // Any change of content changes it.
        _tree.Write("repo/flows/lib/helper.ps1", "function Get-One { 2 }\n");
        Assert.NotEqual(first.Sha256, ImageContext.Create(Flow(file), options).Sha256);
    }

    [Fact]
    public void The_context_holds_the_code_at_axl_workdir_with_fixed_times_owners_and_modes()
    {
        var file = _tree.Write("flows/flow.axl.ps1", FlowText);
        _tree.Write("flows/run.sh", "#!/bin/sh\n", TempTree.Rwx);
        _tree.Write("flows/.axlignore", "data/\n");
        _tree.Write("flows/data/big.csv", "1,2\n");
        _tree.Write("flows/.git/HEAD", "ref: refs/heads/main\n");
        var context = ImageContext.Create(Flow(file), new ImageBuildOptions { Tag = "flow:1", BaseImage = "localhost/base:1" });
        var contents = new Dictionary<string, string>();
        var entries = Entries(context.Tar, contents);

        Assert.Equal(entries.Keys.OrderBy(k => k, StringComparer.Ordinal), entries.Keys); // sorted
        Assert.Contains("Dockerfile", entries.Keys);
        Assert.Equal(FlowText, contents["axl/code/axl/workdir/flow.axl.ps1"]);
        Assert.Contains("axl/code/axl/workdir/run.sh", entries.Keys);
        Assert.Contains("axl/code/axl/", entries.Keys);               // the directories the COPY creates carry the fixed time
        Assert.Contains("axl/code/axl/workdir/", entries.Keys);
        Assert.DoesNotContain(entries.Keys, k => k.Contains("data/big.csv") || k.Contains(".git/")); // the code archive's ignore rules
        foreach (var e in entries.Values)
        {
            Assert.Equal(CodeArchive.EntryTime, e.ModificationTime);
            Assert.Equal(0, e.Uid);
            Assert.Equal(0, e.Gid);
        }
        Assert.Equal((UnixFileMode)0b111_101_101, entries["axl/code/axl/workdir/run.sh"].Mode);
        Assert.Equal((UnixFileMode)0b110_100_100, entries["axl/code/axl/workdir/flow.axl.ps1"].Mode);
        Assert.Equal("flow.axl.ps1", context.WorkflowFile);

        // The code's hash is the one Publish-AxlWorkflowCode's archive of the same folder has.
        using var sink = new MemoryStream();
        Assert.Equal(CodeArchive.Create(_tree.Path("flows"), sink).Sha256, context.CodeSha256);
        Assert.Equal(context.CodeSha256, context.Labels["io.axl.code.sha256"]);
    }

    [Fact]
    public void A_code_root_above_the_workflow_puts_the_file_in_its_subfolder_and_the_runner_goes_to_opt_axl()
    {
        var file = _tree.Write("repo/flows/flow.axl.ps1", FlowText);
        _tree.Write("runner/axl.dll", "not really a dll");
        _tree.Write("runner/axl.deps.json", "{}");
        _tree.Write("runner/runtimes/win-x64/native/x.dll", "windows only");
        _tree.Write("runner/runtimes/linux-x64/native/x.so", "linux");
        var context = ImageContext.Create(Flow(file), new ImageBuildOptions { Tag = "flow:1", BaseImage = "localhost/base:1", CodeRoot = _tree.Path("repo"), RunnerDirectory = _tree.Path("runner") });
        var entries = Entries(context.Tar);
        Assert.Equal("flows/flow.axl.ps1", context.WorkflowFile);
        Assert.Contains("axl/code/axl/workdir/flows/flow.axl.ps1", entries.Keys);
        Assert.Contains("axl/runner/opt/axl/axl.dll", entries.Keys);
        Assert.Contains("axl/runner/opt/axl/runtimes/linux-x64/native/x.so", entries.Keys);
        Assert.DoesNotContain("axl/runner/opt/axl/runtimes/win-x64/native/x.dll", entries.Keys);
        Assert.Contains("COPY axl/runner/ /", context.Dockerfile);
        Assert.Contains("PATH=\"/opt/axl:${PATH:-", context.Dockerfile);
        Assert.Contains("AXL_WORKFLOW_FILE=\"/axl/workdir/flows/flow.axl.ps1\"", context.Dockerfile);
    }

    [Fact]
    public void Bad_inputs_are_refused_with_what_to_do()
    {
        var file = _tree.Write("repo/flows/flow.axl.ps1", FlowText);
        var noFile = new WorkflowBuilder("inline", null, default).AddStep("a", "1").Build();
        var ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(noFile, new ImageBuildOptions { Tag = "x:1" }));
        Assert.Equal(ImageErrorIds.InvalidContext, ex.Id);
        Assert.Contains("not loaded from a file", ex.Message);

        ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(Flow(file), new ImageBuildOptions { Tag = "x:1", CodeRoot = _tree.Path("elsewhere-" + Guid.NewGuid().ToString("N")[..4]) }));
        Assert.Contains("not a directory", ex.Message);
        Directory.CreateDirectory(_tree.Path("other"));
        ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(Flow(file), new ImageBuildOptions { Tag = "x:1", CodeRoot = _tree.Path("other") }));
        Assert.Contains("is not under the code root", ex.Message);

        _tree.Write("repo/flows/.axlignore", "*.axl.ps1\n");
        ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(Flow(file), new ImageBuildOptions { Tag = "x:1" }));
        Assert.Contains("ignored by the code root's ignore rules", ex.Message);
        File.Delete(_tree.Path("repo/flows/.axlignore"));

        ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(Flow(file), new ImageBuildOptions { Tag = "x:1", RunnerDirectory = _tree.Path("repo") }));
        Assert.Contains("has no axl.dll", ex.Message);

        ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(Flow(file), new ImageBuildOptions { Tag = "x:1", BaseImage = "Not An Image" }));
        Assert.Equal(ImageErrorIds.InvalidTag, ex.Id);
    }

    [Theory]
    [InlineData("ghcr.io/you/train:1.0", true)]
    [InlineData("127.0.0.1:5000/axl-test/diamond:1", true)]
    [InlineData("localhost/base", true)]
    [InlineData("train", true)]
    [InlineData("reg.example/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("Train:1", false)]
    [InlineData("reg/train:", false)]
    [InlineData("reg/train:a b", false)]
    [InlineData("", false)]
    public void Image_references_are_checked(string reference, bool valid)
    {
        if (valid) ImageReference.Validate(reference);
        else Assert.Equal(ImageErrorIds.InvalidTag, Assert.Throws<AxlImageException>(() => ImageReference.Validate(reference)).Id);
    }

    [Fact]
    public void Reference_parts()
    {
        Assert.Equal("1.0", ImageReference.TagOf("127.0.0.1:5000/x/y:1.0"));
        Assert.Null(ImageReference.TagOf("127.0.0.1:5000/x/y"));
        Assert.Equal("127.0.0.1:5000/x/y", ImageReference.RepositoryOf("127.0.0.1:5000/x/y:1.0"));
        Assert.Equal("127.0.0.1:5000", ImageReference.RegistryOf("127.0.0.1:5000/x/y:1.0"));
        Assert.Equal("ghcr.io", ImageReference.RegistryOf("ghcr.io/you/x:1"));
        Assert.Equal("docker.io", ImageReference.RegistryOf("you/x:1"));
    }

    [Fact]
    public void A_uv_lock_beside_the_workflow_is_synced_frozen_at_build_time_and_nothing_installs_at_run_time()
    {
        var file = _tree.Write("flows/flow.axl.ps1", FlowText);
        _tree.Write("flows/pyproject.toml", "[project]\nname = \"flow\"\nversion = \"0.1.0\"\ndependencies = [\"pandas==1.5.3\"]\n");
        _tree.Write("flows/uv.lock", "version = 1\n");
        var context = ImageContext.Create(Flow(file), new ImageBuildOptions { Tag = "flow:1", BaseImage = "localhost/base:1" });
        Assert.Equal(PythonDependencyKind.UvLock, context.Dependencies.Python);
        Assert.Equal("found beside the workflow file", context.Dependencies.PythonSource);
        var contents = new Dictionary<string, string>();
        Entries(context.Tar, contents);
        Assert.Equal("version = 1\n", contents["axl/deps/axl/python/uv.lock"]);
        Assert.Contains("pandas==1.5.3", contents["axl/deps/axl/python/pyproject.toml"]);
        Assert.Contains("uv sync --frozen --no-dev --no-install-project", context.Dockerfile);
        Assert.Contains("UV_PROJECT_ENVIRONMENT=/axl/venv", context.Dockerfile);
        Assert.Contains("UV_OFFLINE=\"1\"", context.Dockerfile);
        Assert.Contains("PIP_NO_INDEX=\"1\"", context.Dockerfile);
        Assert.Equal("uv.lock", context.Labels["io.axl.dependencies"]);
        // The dependency layer comes before the code: changing code reuses the installed environment.
        Assert.True(context.Dockerfile.IndexOf("uv sync", StringComparison.Ordinal) < context.Dockerfile.IndexOf("COPY axl/code/", StringComparison.Ordinal));
    }

    [Fact]
    public void Workflow_options_choose_the_files_and_missing_ones_are_named()
    {
        var file = _tree.Write("flows/flow.axl.ps1", FlowText);
        var ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(Flow(file, new WorkflowDefinitionOptions { Lockfile = "py/uv.lock" }), new ImageBuildOptions { Tag = "x:1" }));
        Assert.Contains("-Lockfile names 'py/uv.lock'", ex.Message);
        Assert.Contains(_tree.Path("flows/py/uv.lock"), ex.Message);

        _tree.Write("flows/py/uv.lock", "version = 1\n");
        ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(Flow(file, new WorkflowDefinitionOptions { Lockfile = "py/uv.lock" }), new ImageBuildOptions { Tag = "x:1" }));
        Assert.Contains("has no pyproject.toml beside it", ex.Message);
        _tree.Write("flows/py/pyproject.toml", "[project]\nname = \"x\"\n");
        Assert.Equal(PythonDependencyKind.UvLock, ImageContext.Create(Flow(file, new WorkflowDefinitionOptions { Lockfile = "py/uv.lock" }), new ImageBuildOptions { Tag = "x:1" }).Dependencies.Python);

        _tree.Write("flows/poetry.lock", "x");
        ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(Flow(file, new WorkflowDefinitionOptions { Lockfile = "poetry.lock" }), new ImageBuildOptions { Tag = "x:1" }));
        Assert.Contains("is not a uv.lock", ex.Message);

        // Hashed requirements: pip checks every file.
        _tree.Write("flows/reqs/prod.txt", "# pinned\nnumpy==1.24.2 \\\n    --hash=sha256:aaaa\n");
        var hashed = ImageContext.Create(Flow(file, new WorkflowDefinitionOptions { RequirementsFile = "reqs/prod.txt" }), new ImageBuildOptions { Tag = "x:1" });
        Assert.True(hashed.Dependencies.RequireHashes);
        Assert.Empty(hashed.Warnings);
        Assert.Contains("--require-hashes -r /axl/python/requirements.txt", hashed.Dockerfile);

        // Inline requirements without pins: built, with a warning that says why it is not reproducible.
        var loose = ImageContext.Create(Flow(file, new WorkflowDefinitionOptions { Requirements = new[] { "scikit-learn", "pandas==1.5.3" } }), new ImageBuildOptions { Tag = "x:1" });
        Assert.Equal(PythonDependencyKind.Requirements, loose.Dependencies.Python);
        Assert.False(loose.Dependencies.RequireHashes);
        Assert.Contains(loose.Warnings, w => w.Contains("scikit-learn") && w.Contains("=="));
        var contents = new Dictionary<string, string>();
        Entries(loose.Tar, contents);
        Assert.Equal("scikit-learn\npandas==1.5.3\n", contents["axl/deps/axl/python/requirements.txt"]);
        Assert.DoesNotContain("--require-hashes", loose.Dockerfile);
    }

    [Fact]
    public void PowerShell_modules_must_be_pinned_and_are_saved_at_build_time()
    {
        var file = _tree.Write("flows/flow.axl.ps1", FlowText);
        var unpinned = Flow(file, null, b => b.AddStep("a", "1", new StepOptions { Modules = new object[] { "PSScriptAnalyzer" } }));
        var ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(unpinned, new ImageBuildOptions { Tag = "x:1" }));
        Assert.Contains("step 'a' needs module 'PSScriptAnalyzer' without a version", ex.Message);

        var clash = Flow(file, new WorkflowDefinitionOptions { Modules = new object[] { "Pester@5.5.0" } }, b => b.AddStep("a", "1", new StepOptions { Modules = new object[] { "Pester@5.6.1" } }));
        ex = Assert.Throws<AxlImageException>(() => ImageContext.Create(clash, new ImageBuildOptions { Tag = "x:1" }));
        Assert.Contains("pinned to 5.5.0 by the workflow and to 5.6.1 by step 'a'", ex.Message);

        var spec = new System.Collections.Hashtable { ["ModuleName"] = "powershell-yaml", ["RequiredVersion"] = "0.4.7" };
        var pinned = Flow(file, new WorkflowDefinitionOptions { Modules = new object[] { spec } }, b =>
        {
            b.AddStep("a", "1", new StepOptions { Modules = new object[] { "Pester@5.6.1" } });
            b.AddStep("b", "2", new StepOptions { Modules = new object[] { "Unrelated" }, Image = "other:1" }); // runs in its own image
        });
        Assert.Equal(new[] { "powershell-yaml@0.4.7" }, pinned.Options.Modules);
        var context = ImageContext.Create(pinned, new ImageBuildOptions { Tag = "x:1" });
        Assert.Equal(new[] { "Pester@5.6.1", "powershell-yaml@0.4.7" }, context.Dependencies.Modules.Select(m => m.ToString()));
        Assert.Contains("Save-Module -Name \"Pester\" -RequiredVersion \"5.6.1\" -Path /axl/modules", context.Dockerfile);
        Assert.Contains("Save-Module -Name \"powershell-yaml\" -RequiredVersion \"0.4.7\"", context.Dockerfile);
        Assert.Matches("RUN pwsh [^\n]* -Command '[^'\n]*'\n", context.Dockerfile); // single-quoted for the shell: $ErrorActionPreference reaches pwsh
        Assert.Contains("PSModulePath=\"/axl/modules:", context.Dockerfile);
        Assert.Equal("Pester@5.6.1,powershell-yaml@0.4.7", context.Labels["io.axl.modules"]);
    }

    [Fact]
    public void Module_requirements_parse_the_DSL_forms_and_refuse_others()
    {
        Assert.True(ModuleRequirement.TryParse("Pester", out var m, out _));
        Assert.Equal(("Pester", (string?)null), (m!.Name, m.Version));
        Assert.True(ModuleRequirement.TryParse("Pester@5.6.1", out m, out _));
        Assert.Equal("5.6.1", m!.Version);
        Assert.True(ModuleRequirement.TryParse(new System.Collections.Hashtable { ["Name"] = "X", ["Version"] = "1.0-beta1" }, out m, out _));
        Assert.Equal("X@1.0-beta1", m!.ToString());
        Assert.False(ModuleRequirement.TryParse("Pester >= 5", out _, out var error));
        Assert.Contains("'Name' or 'Name@Version'", error);
        Assert.False(ModuleRequirement.TryParse(new System.Collections.Hashtable { ["ModuleName"] = "X", ["MaximumVersion"] = "2" }, out _, out error));
        Assert.Contains("MaximumVersion", error);
        Assert.False(ModuleRequirement.TryParse(42, out _, out error));

        // In the DSL: a bad one is a diagnostic on the step.
        var wf = new WorkflowBuilder("w", null, new SourceLocation("/f.axl.ps1", 1)).AddStep("a", "1", new StepOptions { Modules = new object[] { "bad name!" } }).Build();
        var d = Assert.Single(wf.BuildDiagnostics);
        Assert.Equal("a", d.Step);
        Assert.Contains("-Modules", d.Message);
    }

    [Fact]
    public void Workflow_modules_enter_the_IR_only_when_given_so_other_hashes_do_not_change()
    {
        var plain = new WorkflowBuilder("w", null, new SourceLocation("/f.axl.ps1", 1)).AddStep("a", "1").Build();
        Assert.DoesNotContain("\"modules\":[\"", Axl.Serialization.IrDocument.ToJson(Axl.Serialization.IrDocument.ToTree(plain), indented: false).Split("\"steps\"")[0]);
        var with = new WorkflowBuilder("w", new WorkflowDefinitionOptions { Modules = new object[] { "Pester@5.6.1" } }, new SourceLocation("/f.axl.ps1", 1)).AddStep("a", "1").Build();
        Assert.Contains("Pester@5.6.1", Axl.Serialization.IrDocument.ToJson(Axl.Serialization.IrDocument.ToTree(with), indented: false));
        Assert.NotEqual(plain.Hash, with.Hash);
    }

    [Fact]
    public void Labels_name_the_workflow_its_hash_the_Axl_version_and_the_OCI_fields()
    {
        var file = _tree.Write("flows/flow.axl.ps1", FlowText);
        var wf = Flow(file, new WorkflowDefinitionOptions { Description = "Trains \"the\" model\non Mondays" });
        var context = ImageContext.Create(wf, new ImageBuildOptions { Tag = "reg.example:5000/team/flow:2.1", BaseImage = "localhost/base:1", Labels = new Dictionary<string, string> { ["team"] = "ml" } });
        var l = context.Labels;
        Assert.Equal("flow", l["org.opencontainers.image.title"]);
        Assert.Equal("2.1", l["org.opencontainers.image.version"]);
        Assert.Equal("2000-01-01T00:00:00Z", l["org.opencontainers.image.created"]);
        Assert.Equal("localhost/base:1", l["org.opencontainers.image.base.name"]);
        Assert.Equal(AxlInfo.Version, l["io.axl.version"]);
        Assert.Equal("flow", l["io.axl.workflow.name"]);
        Assert.Equal(wf.Hash, l["io.axl.workflow.hash"]);
        Assert.Equal("ml", l["team"]);
        Assert.Contains("LABEL ", context.Dockerfile);
        Assert.Contains("\"org.opencontainers.image.description\"=\"Trains \\\"the\\\" model on Mondays\"", context.Dockerfile);
        Assert.Contains($"\"io.axl.workflow.hash\"=\"{wf.Hash}\"", context.Dockerfile);
        Assert.Contains($"AXL_VERSION=\"{AxlInfo.Version}\"", context.Dockerfile);
    }

    [Fact]
    public void The_git_revision_is_read_from_the_checkout()
    {
        const string sha = "0123456789abcdef0123456789abcdef01234567";
        _tree.Write("repo/.git/HEAD", "ref: refs/heads/main\n");
        _tree.Write("repo/.git/packed-refs", $"# pack-refs with: peeled\n{sha} refs/heads/main\n");
        var file = _tree.Write("repo/flows/flow.axl.ps1", FlowText);
        var context = ImageContext.Create(Flow(file), new ImageBuildOptions { Tag = "x:1", BaseImage = "localhost/base:1" });
        Assert.Equal(sha, context.Labels["org.opencontainers.image.revision"]);
        _tree.Write("repo/.git/refs/heads/main", "fedcba9876543210fedcba9876543210fedcba98\n");
        Assert.Equal("fedcba9876543210fedcba9876543210fedcba98", ImageContext.GitRevision(_tree.Path("repo/flows")));
    }

    [Fact]
    public void The_generated_Dockerfile_matches_its_golden_file()
    {
        var file = _tree.Write("flows/flow.axl.ps1", FlowText);
        _tree.Write("flows/pyproject.toml", "[project]\nname = \"flow\"\n");
        _tree.Write("flows/uv.lock", "version = 1\n");
        _tree.Write("runner/axl.dll", "x");
        var wf = Flow(file, new WorkflowDefinitionOptions { Modules = new object[] { "powershell-yaml@0.4.7" }, Description = "golden" });
        var context = ImageContext.Create(wf, new ImageBuildOptions { Tag = "reg.example/flow:1", BaseImage = "localhost/base:1", RunnerDirectory = _tree.Path("runner") });
        // The version and the hashes vary with the release and the code: placeholders keep the golden file stable.
        var text = context.Dockerfile.Replace(AxlInfo.Version, "<axl-version>");
        text = Regex.Replace(text, "(sha256|blake3):[0-9a-f]{64}", "$1:<hash>");
        Golden.Match("images/uv-modules-runner.Dockerfile", text);
    }
}
