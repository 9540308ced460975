using System.Diagnostics;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// Runs tests/schema/validate-argo.mjs (Argo's published models and JSON schema) over YAML files. Needs node;
/// tests using it are skipped, with a message saying so, only where node is not installed.
/// </summary>
public static class ArgoSchema
{
    public static string Folder => Path.Combine(Golden.RepoRoot, "tests", "schema");
    public static string Script => Path.Combine(Folder, "validate-argo.mjs");
    public static string ReferenceSchema => Path.Combine(Folder, "argo-schema.json");

    public static string? Node { get; } = FindNode();

    private static string? FindNode()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var name in OperatingSystem.IsWindows() ? new[] { "node.exe" } : new[] { "node" })
                if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    /// <summary>Validates the files; returns the exit code and what the validator printed.</summary>
    public static (int Exit, string Output) Validate(IEnumerable<string> files)
    {
        Assert.True(Node is not null, "node is not installed");
        Assert.True(Directory.Exists(Path.Combine(Folder, "node_modules", "@kubernetes-models", "argo-workflows")),
            "The schema validator's packages are not installed: run `npm ci --prefix tests/schema` (tests/run does it when node_modules is missing or the lock file changed).");
        var psi = new ProcessStartInfo(Node!) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Folder };
        psi.ArgumentList.Add(Script);
        psi.ArgumentList.Add("--schema");
        psi.ArgumentList.Add(ReferenceSchema);
        foreach (var f in files) psi.ArgumentList.Add(f);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail("the schema validator did not finish within 120 s"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>A fact that needs node: skipped with a clear message where node is not on PATH.</summary>
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (ArgoSchema.Node is null)
            Skip = "node is not on PATH: the Argo schema validation (tests/schema/validate-argo.mjs) needs Node.js 20 or newer and `npm ci --prefix tests/schema`.";
    }
}
