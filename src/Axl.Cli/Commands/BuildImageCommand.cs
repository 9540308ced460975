using Axl.Delivery;
using Axl.Images;

namespace Axl.Cli.Commands;

/// <summary>axl build-image -m file.axl.ps1[:Name] --tag T [--push]: Build-AxlImage for the command line (ImageBuilder).</summary>
public sealed class BuildImageCommand : ICliCommand
{
    public string Name => "build-image";
    public string Summary => "bake a workflow into an image: 'axl build-image -m flow.axl.ps1 --tag reg/flow:1'";
    public IReadOnlyCollection<string> Flags { get; } = new[] { "--push", "--include-runner", "--no-cache", "--quiet" };
    public IReadOnlyCollection<string> Options { get; } = new[]
    {
        "-m", "--module", "--tag", "--base-image", "--code-root", "--runner", "--docker-host", "--platform", "--label", "--context-out",
    };
    public string Usage => """
        Usage: axl build-image -m <file.axl.ps1[:Name]> --tag <registry/name:tag> [options]

        Bakes a workflow into a container image, like Build-AxlImage: the workflow code at /axl/workdir (what
        Publish-AxlWorkflowCode would archive), its locked Python dependencies (pyproject.toml + uv.lock with
        `uv sync --frozen`, or a requirements file), the PowerShell modules it pins (Save-Module at build time),
        and optionally the axl command, built through the Docker Engine API (Docker, or Podman's service; the
        host is --docker-host, else DOCKER_HOST). The context is deterministic and the image is labelled with the
        OCI labels, the Axl version and the workflow's name and hash. Prints the image reference (with its
        digest when pushed), then compile with: axl compile --target argo --image <reference> ...

          -m, --module FILE[:Name]   the workflow file (and which workflow, when it defines several)
          --tag REF                  the image reference to build: [registry[:port]/]name[:tag]
          --base-image REF           the image to build on (default: the Axl runner image of this version)
          --code-root DIR            the folder baked into /axl/workdir (default: the workflow file's folder)
          --include-runner           copy this axl build into the image (/opt/axl), for bases without axl
          --runner DIR               copy the axl build in DIR instead (axl.dll and its dependencies)
          --push                     push the tag after the build (credentials: AXL_REGISTRY_USERNAME and
                                     AXL_REGISTRY_PASSWORD, else the docker/podman login files)
          --docker-host URI          the engine (unix:///run/podman/podman.sock, tcp://host:2375)
          --platform OS/ARCH         the target platform (default: the engine's)
          --no-cache                 build every step again
          --label KEY=VALUE          an extra image label (repeatable)
          --context-out FILE         write the build context (a tar with its Dockerfile) to FILE and stop
          --quiet                    print only the reference (no build output on stderr)

        Exit codes: 0 built (and pushed); 1 a workflow that does not load, a bad option, a missing lockfile or
        unpinned module, no engine, a failed build or push; 2 internal error.

        """;

    public int Execute(CliArguments args, TextWriter stdout, TextWriter stderr)
    {
        var reference = args.Option("-m") ?? args.Option("--module") ?? (args.Positional.Count == 1 ? args.Positional[0] : null)
            ?? throw new UsageException("build-image needs the workflow: -m flow.axl.ps1[:Name].");
        var contextOut = args.Option("--context-out");
        var tag = args.Option("--tag") ?? (contextOut is null ? throw new UsageException("build-image needs --tag registry/name:tag.") : "axl-context:latest");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var l in args.Options.TryGetValue("--label", out var list) ? list : new List<string>())
        {
            var eq = l.IndexOf('=');
            if (eq <= 0) throw new UsageException($"--label takes KEY=VALUE, got '{l}'.");
            labels[l[..eq]] = l[(eq + 1)..];
        }
        string? runner = args.Option("--runner") is { } r ? Path.GetFullPath(r)
            : args.Has("--include-runner") ? AppContext.BaseDirectory : null;
        var options = new ImageBuildOptions
        {
            Tag = tag,
            BaseImage = args.Option("--base-image"),
            CodeRoot = args.Option("--code-root") is { } root ? Path.GetFullPath(root) : null,
            RunnerDirectory = runner,
            Labels = labels,
            NoCache = args.Has("--no-cache"),
            Platform = args.Option("--platform"),
            DockerHost = args.Option("--docker-host"),
            Push = args.Has("--push"),
        };

        using var host = new AxlEngineHost();
        var (workflows, errors) = host.LoadWorkflows(reference, runsBodies: false);
        foreach (var e in errors) stderr.WriteLine($"error {e.FullyQualifiedErrorId.Split(',')[0]}: {e.Exception.Message}");
        if (errors.Count > 0) return ExitCodes.UserError;
        if (workflows.Count != 1)
            throw new UsageException(workflows.Count == 0 ? $"{reference} defines no workflow." : $"{reference} defines {workflows.Count} workflows ({string.Join(", ", workflows.Select(w => w.Name))}); name one: -m {reference.Split(':')[0]}:<Name>.");
        var wf = workflows[0];
        var quiet = args.Has("--quiet");
        try
        {
            ImageReference.Validate(tag);
            var context = ImageContext.Create(wf, options);
            foreach (var w in context.Warnings) stderr.WriteLine($"warning: {w}");
            if (contextOut is not null)
            {
                context.Save(contextOut);
                stdout.WriteLine($"{context.Sha256} -> {contextOut} ({context.FileCount} files, {context.Tar.Length} bytes, {context.Dependencies})");
                return ExitCodes.Success;
            }
            if (!quiet) stderr.WriteLine($"axl: context {context.Sha256} ({context.FileCount} files, {context.Tar.Length} bytes, {context.Dependencies}) on {context.BaseImage}");
            var progress = quiet ? null : new Reporter(stderr);
            var result = Task.Run(async () =>
            {
                using var engine = await DockerEngine.ConnectAsync(options.DockerHost).ConfigureAwait(false);
                if (!quiet) stderr.WriteLine($"axl: engine {engine}");
                return await ImageBuilder.BuildAsync(engine, wf, context, options, progress).ConfigureAwait(false);
            }).GetAwaiter().GetResult();
            stdout.WriteLine(result.Reference);
            return ExitCodes.Success;
        }
        catch (AxlImageException ex)
        {
            stderr.WriteLine($"error {ex.Id}: {ex.Message}");
            return ExitCodes.UserError;
        }
        catch (AxlArchiveException ex)
        {
            stderr.WriteLine($"error Axl.CodeArchiveRefused: {ex.Message}");
            return ExitCodes.UserError;
        }
    }

    private sealed class Reporter(TextWriter stderr) : IProgress<ImageBuildEvent>
    {
        public void Report(ImageBuildEvent value)
        {
            lock (stderr) stderr.WriteLine(value.Message);
        }
    }
}
