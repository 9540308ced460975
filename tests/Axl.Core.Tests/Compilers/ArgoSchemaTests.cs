using Axl.Compilers.Argo;

namespace Axl.Core.Tests.Compilers;

/// <summary>Every golden file, and what the compiler makes now, passes Argo's published schema (models and JSON schema).</summary>
public sealed class ArgoSchemaTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "axl-argo-schema-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [NodeFact]
    public void Every_golden_file_is_a_valid_Argo_document()
    {
        var files = Directory.GetFiles(Golden.Directory("argo"), "*.yaml").OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        var (exit, output) = ArgoSchema.Validate(files);
        Assert.True(exit == 0, "Argo schema validation failed:\n" + output);
        Assert.Contains($"{files.Count} valid, 0 invalid", output);
    }

    [NodeFact]
    public void The_compiler_output_of_every_case_is_a_valid_Argo_document()
    {
        Directory.CreateDirectory(_dir);
        var files = new List<string>();
        foreach (var name in ArgoCases.Names)
        {
            var c = ArgoCases.Get(name);
            var file = Path.Combine(_dir, name + ".yaml");
            File.WriteAllText(file, ArgoCompiler.Compile(c.Workflow, c.Options).ToYaml());
            files.Add(file);
        }
        var (exit, output) = ArgoSchema.Validate(files);
        Assert.True(exit == 0, "Argo schema validation failed:\n" + output);
    }

    [NodeFact]
    public void The_validator_rejects_what_Argo_would_reject()
    {
        Directory.CreateDirectory(_dir);
        var golden = File.ReadAllText(Path.Combine(Golden.Directory("argo"), "linear.yaml"));
        // Integer-or-string fields as integers (the reference schema types them as strings), and a container without its name.
        var numbers = Path.Combine(_dir, "numbers.yaml");
        File.WriteAllText(numbers, golden.Replace("limit: '2'", "limit: 2").Replace("activeDeadlineSeconds: '360'", "activeDeadlineSeconds: 360"));
        var noName = Path.Combine(_dir, "no-name.yaml");
        File.WriteAllText(noName, golden.Replace("        name: main\n", ""));
        var (exit, output) = ArgoSchema.Validate(new[] { numbers, noName });
        Assert.Equal(1, exit);
        Assert.Contains("retryStrategy/limit must be string", output);
        Assert.Contains("activeDeadlineSeconds must be string", output);
        Assert.Contains("must have required property name", output);
        Assert.Contains("0 valid, 2 invalid", output);
    }
}
