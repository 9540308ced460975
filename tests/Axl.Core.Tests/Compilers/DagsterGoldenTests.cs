using System.Diagnostics;
using Axl.Compilers.Dagster;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// The Dagster compiler's output, byte for byte (tests/golden/dagster/*.py), its determinism, and that every
/// generated module is valid Python (python3 -m py_compile). Re-record with AXL_UPDATE_GOLDEN=1.
/// </summary>
public sealed class DagsterGoldenTests
{
    /// <summary>The Argo golden workflows that Dagster compiles (the artifact store and code delivery do not apply: artifacts stay on local disk).</summary>
    public static IReadOnlyList<string> Names { get; } = new[] { "linear", "diamond", "fan-out", "conditional", "path-mode", "command-step", "secrets" };

    public static IEnumerable<object[]> All() => Names.Select(n => new object[] { n });

    public static DagsterDocument Compile(string name) =>
        DagsterCompiler.Compile(ArgoCases.Get(name).Workflow, new DagsterCompileOptions { CodeRoot = ArgoCases.CodeRoot });

    [Theory]
    [MemberData(nameof(All))]
    public void Output_matches_the_golden_file(string name) => Golden.Match($"dagster/{name}.py", Compile(name).Source);

    [Theory]
    [MemberData(nameof(All))]
    public void The_same_IR_gives_the_same_bytes(string name)
    {
        Assert.Equal(Compile(name).Source, Compile(name).Source);
        Assert.DoesNotContain(DateTime.UtcNow.ToString("yyyy-MM-dd"), Compile(name).Source);
    }

    [Fact]
    public void Every_case_has_a_golden_file_and_no_golden_file_is_orphaned()
    {
        var files = Directory.GetFiles(Golden.Directory("dagster"), "*.py").Select(f => Path.GetFileNameWithoutExtension(f)).OrderBy(x => x, StringComparer.Ordinal);
        Assert.Equal(Names.OrderBy(x => x, StringComparer.Ordinal), files);
    }

    [PythonFact]
    public void Every_golden_file_and_every_compiled_module_is_valid_Python()
    {
        var dir = Path.Combine(Path.GetTempPath(), "axl-dagster-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        try
        {
            var files = Directory.GetFiles(Golden.Directory("dagster"), "*.py").ToList();
            foreach (var name in Names)
            {
                var file = Path.Combine(dir, name.Replace('-', '_') + ".py");
                Compile(name).WriteTo(file);
                files.Add(file);
            }
            foreach (var file in files)
            {
                var (exit, output) = Python.Run(dir, "-c", "import sys, py_compile; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)", file, Path.Combine(dir, Path.GetFileName(file) + "c"));
                Assert.True(exit == 0, $"{file} does not compile:\n{output}");
            }
            // And a broken module is refused: the check can fail.
            var broken = Path.Combine(dir, "broken.py");
            File.WriteAllText(broken, Compile("diamond").Source.Replace("def _text(value):", "def _text(value)"));
            Assert.NotEqual(0, Python.Run(dir, "-m", "py_compile", broken).Exit);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

/// <summary>python3 on PATH, and a way to run it.</summary>
public static class Python
{
    public static string? Path3 { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "python3")).FirstOrDefault(File.Exists);

    public static (int Exit, string Output) Run(string workDir, params string[] args) => RunWith(workDir, null, args);

    public static (int Exit, string Output) RunWith(string workDir, IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(Path3!) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000)) { p.Kill(true); Assert.Fail("python3 did not finish within 300 s"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>A fact that needs python3: skipped with a clear message where it is not on PATH.</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        if (Python.Path3 is null) Skip = "python3 is not on PATH: the check that generated Dagster modules compile needs it.";
    }
}
