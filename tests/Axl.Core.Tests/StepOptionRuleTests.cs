using System.Collections;
using Axl.Dsl;
using Axl.IO;
using Axl.Model;
using Axl.Validation;

namespace Axl.Core.Tests;

/// <summary>Rules about step and workflow options: IO handlers, quantities, commands, bodies, input modes, options, artifact stores.</summary>
public class StepOptionRuleTests
{
    [Fact]
    public void UnknownIoHandler_on_a_step()
    {
        var b = T.Builder().AddStep("export", "1", new StepOptions { IoHandler = "yaml" }, T.At(5));
        var d = T.Single(T.Validate(b), DiagnosticIds.UnknownIoHandler);
        Assert.Equal("export", d.Step);
        Assert.Contains("'yaml'", d.Message);
        Assert.Contains("clixml", d.Fix);
        Assert.Contains("json", d.Fix);
        Assert.Equal(5, d.Line);
    }

    [Fact]
    public void UnknownIoHandler_as_the_workflow_default()
    {
        var b = T.Builder(options: new WorkflowDefinitionOptions { IoHandler = "pickle" })
            .AddStep("a", "1", new StepOptions { IoHandler = "json" }, T.At(2));
        var d = T.Single(T.Validate(b), DiagnosticIds.UnknownIoHandler);
        Assert.Null(d.Step);
        Assert.Contains("default IO handler 'pickle'", d.Message);
        Assert.Contains("clixml", d.Fix);
        Assert.Equal(1, d.Line);
    }

    [Fact]
    public void A_registered_io_handler_is_known_and_gives_its_extension()
    {
        IoHandlerRegistry.Register(new IoHandlerDescriptor("feather-test", ".feather", "test handler"));
        var wf = T.Builder().AddStep("a", "1", new StepOptions { IoHandler = "feather-test" }, T.At(2)).Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        Assert.Equal("output.feather", wf.GetStep("a")!.Output.FileName);
        Assert.Throws<ArgumentException>(() => IoHandlerRegistry.Register(new IoHandlerDescriptor("bad-ext", "feather", "no dot")));
    }

    [Theory]
    [InlineData("2 cores", null, "-Cpu '2 cores'")]
    [InlineData(null, "1GB", "-Memory '1GB'")]
    [InlineData(null, "512 Mi", "-Memory '512 Mi'")]
    public void InvalidQuantity_bad_syntax(string? cpu, string? memory, string expected)
    {
        var b = T.Builder().AddStep("train", "1", new StepOptions { Cpu = cpu, Memory = memory }, T.At(4));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidQuantity);
        Assert.Equal("train", d.Step);
        Assert.Contains(expected, d.Message);
        Assert.Contains("not a Kubernetes quantity", d.Message);
        Assert.Equal(4, d.Line);
    }

    [Fact]
    public void InvalidQuantity_1G_is_valid_but_1GB_is_not()
    {
        T.None(T.Validate(T.Builder().AddStep("a", "1", new StepOptions { Memory = "1G", MemoryLimit = "2Gi", Cpu = "500m", CpuLimit = "1" }, T.At(2))), DiagnosticIds.InvalidQuantity);
        T.Single(T.Validate(T.Builder().AddStep("a", "1", new StepOptions { MemoryLimit = "1GB" }, T.At(2))), DiagnosticIds.InvalidQuantity);
    }

    [Theory]
    [InlineData("2", "1500m", null, null, "CPU request 2 is larger than its limit 1500m")]
    [InlineData(null, null, "2Gi", "1G", "memory request 2Gi is larger than its limit 1G")]
    public void InvalidQuantity_request_larger_than_limit(string? cpu, string? cpuLimit, string? mem, string? memLimit, string expected)
    {
        var b = T.Builder().AddStep("train", "1", new StepOptions { Cpu = cpu, CpuLimit = cpuLimit, Memory = mem, MemoryLimit = memLimit }, T.At(4));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidQuantity);
        Assert.Contains(expected, d.Message);
        Assert.Equal("train", d.Step);
    }

    [Fact]
    public void InvalidQuantity_request_equal_to_limit_in_other_units_is_fine()
    {
        var b = T.Builder().AddStep("a", "1", new StepOptions { Cpu = "1000m", CpuLimit = "1", Memory = "1024Mi", MemoryLimit = "1Gi" }, T.At(2));
        T.NoErrors(T.Validate(b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void InvalidQuantity_gpu_must_be_positive(int gpu)
    {
        var b = T.Builder().AddStep("train", "1", new StepOptions { Gpu = gpu }, T.At(4));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidQuantity);
        Assert.Contains("-Gpu", d.Message);
        Assert.Contains($"got {gpu}", d.Message);
    }

    [Fact]
    public void Validation_does_not_throw_on_quantities_too_large_for_decimal()
    {
        var b = T.Builder().AddStep("a", "1", new StepOptions { Cpu = "1e40", CpuLimit = "1", Memory = "100000000000E", MemoryLimit = "1e400" }, T.At(2));
        var ex = Record.Exception(() => T.Validate(b));
        Assert.Null(ex);
    }

    [Fact]
    public void CommandMissing_when_ArgumentList_has_no_Command()
    {
        var b = T.Builder().AddStep("grep", (string?)null, new StepOptions { ArgumentList = new[] { "-i", "error" } }, T.At(6));
        var wf = b.Build();
        Assert.Equal(StepKind.Command, wf.GetStep("grep")!.Kind);
        var d = T.Single(WorkflowValidator.Validate(wf), DiagnosticIds.CommandMissing);
        Assert.Equal("grep", d.Step);
        Assert.Contains("-ArgumentList", d.Message);
        Assert.Contains("no -Command", d.Message);
        Assert.Equal(6, d.Line);
    }

    [Fact]
    public void CommandMissing_when_Command_is_given_empty()
    {
        var b = T.Builder().AddStep("run", (string?)null, new StepOptions { CommandSpecified = true, Command = "" }, T.At(6));
        var d = T.Single(T.Validate(b), DiagnosticIds.CommandMissing);
        Assert.Equal("run", d.Step);
        Assert.Contains("-Command is empty", d.Message);
    }

    [Fact]
    public void BodyMissing_when_a_step_has_neither_body_nor_command()
    {
        var b = T.Builder().AddStep("nothing", (string?)null, null, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.BodyMissing);
        Assert.Equal("nothing", d.Step);
        Assert.Contains("neither a script body nor -Command", d.Message);
        Assert.Equal(3, d.Line);
    }

    [Fact]
    public void An_empty_body_is_not_BodyMissing()
    {
        T.NoErrors(T.Validate(T.Builder().AddStep("noop", "", null, T.At(3))));
    }

    [Fact]
    public void BodyAndCommand_when_both_are_given()
    {
        var b = T.Builder().AddStep("both", "Write-Output 1", new StepOptions { Command = "echo", CommandSpecified = true }, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.BodyAndCommand);
        Assert.Equal("both", d.Step);
        Assert.Contains("both a script body and -Command", d.Message);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("1")]
    [InlineData("object,path")]
    public void InvalidInputMode_bad_string(string mode)
    {
        var b = T.Builder().AddStep("a", "1", null, T.At(2)).AddStep("b", "param($a) $a", new StepOptions { InputMode = mode }, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidInputMode);
        Assert.Equal("b", d.Step);
        Assert.Contains($"input mode '{mode}'", d.Message);
        Assert.Equal(3, d.Line);
    }

    [Fact]
    public void InvalidInputMode_bad_value_in_a_hashtable()
    {
        var b = T.Builder().AddStep("a", "1", null, T.At(2))
            .AddStep("b", "param($a) $a", new StepOptions { InputMode = new Hashtable { ["a"] = "stream" } }, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidInputMode);
        Assert.Contains("'stream'", d.Message);
        Assert.Contains("parameter 'a'", d.Message);
    }

    [Fact]
    public void InvalidInputMode_hashtable_names_an_undeclared_parameter()
    {
        var b = T.Builder().AddStep("a", "1", null, T.At(2))
            .AddStep("b", "param($a) $a", new StepOptions { InputMode = new Hashtable { ["nope"] = "path" } }, T.At(3));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidInputMode);
        Assert.Contains("'nope'", d.Message);
        Assert.Contains("a", d.Fix);
    }

    [Fact]
    public void InvalidInputMode_workflow_default_and_wrong_type()
    {
        var wfDefault = T.Single(T.Validate(T.Builder(options: new WorkflowDefinitionOptions { InputMode = "stream" }).AddStep("a", "1", null, T.At(2))), DiagnosticIds.InvalidInputMode);
        Assert.Contains("default input mode 'stream'", wfDefault.Message);
        Assert.Null(wfDefault.Step);

        var wrongType = T.Single(T.Validate(T.Builder().AddStep("a", "1", new StepOptions { InputMode = 42 }, T.At(2))), DiagnosticIds.InvalidInputMode);
        Assert.Contains("Int32", wrongType.Message);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("5 minutes")]
    public void InvalidOption_bad_timeout(string timeout)
    {
        var b = T.Builder().AddStep("slow", "1", new StepOptions { Timeout = timeout }, T.At(7));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidOption);
        Assert.Equal("slow", d.Step);
        Assert.Contains($"timeout '{timeout}'", d.Message);
        Assert.Equal(7, d.Line);
    }

    [Fact]
    public void InvalidOption_negative_retries()
    {
        var d = T.Single(T.Validate(T.Builder().AddStep("flaky", "1", new StepOptions { Retries = -1 }, T.At(2))), DiagnosticIds.InvalidOption);
        Assert.Equal("flaky", d.Step);
        Assert.Contains("retries", d.Message);
        Assert.Contains("-1", d.Message);
    }

    [Theory]
    [InlineData("1BAD")]
    [InlineData("MY-VAR")]
    [InlineData("")]
    public void InvalidOption_bad_environment_variable_name(string name)
    {
        var d = T.Single(T.Validate(T.Builder().AddStep("a", "1", new StepOptions { Env = new Hashtable { [name] = "x" } }, T.At(2))), DiagnosticIds.InvalidOption);
        Assert.Contains($"environment variable name '{name}'", d.Message);
    }

    [Theory]
    [InlineData("Container")]
    [InlineData("2")]
    public void InvalidOption_bad_code_delivery(string delivery)
    {
        var b = T.Builder(options: new WorkflowDefinitionOptions { CodeDelivery = delivery }).AddStep("a", "1", null, T.At(2));
        var wf = b.Build();
        var d = T.Single(WorkflowValidator.Validate(wf), DiagnosticIds.InvalidOption);
        Assert.Contains($"code delivery '{delivery}'", d.Message);
        Assert.True(Enum.IsDefined(wf.Options.CodeDelivery));
    }

    [Fact]
    public void InvalidOption_lockfile_and_requirements_together()
    {
        var b = T.Builder(options: new WorkflowDefinitionOptions { Lockfile = "uv.lock", Requirements = new[] { "numpy" } }).AddStep("a", "1", null, T.At(2));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidOption);
        Assert.Contains("lockfile", d.Message);
    }

    [Fact]
    public void Valid_options_are_recorded_in_the_IR()
    {
        var wf = T.Builder().AddStep("a", "1", new StepOptions
        {
            Timeout = "1h30m", Retries = 2, Env = new Hashtable { ["B_VAR"] = 2, ["A_VAR"] = "x" }, Gpu = 1, InputMode = "Path",
        }, T.At(2)).Build();
        T.NoErrors(WorkflowValidator.Validate(wf));
        var s = wf.GetStep("a")!;
        Assert.Equal(5400, s.TimeoutSeconds);
        Assert.Equal(2, s.Retries);
        Assert.Equal(new[] { "A_VAR", "B_VAR" }, s.Env.Keys.ToArray());
        Assert.Equal("2", s.Env["B_VAR"]);
        Assert.Equal(InputMode.Path, s.InputMode);
        Assert.Equal("nvidia.com/gpu", s.Resources.GpuResource);
    }

    [Theory]
    [InlineData("ftp://bucket")]
    [InlineData("s3://UPPER")]
    [InlineData("s3://")]
    [InlineData("pvc:")]
    [InlineData("ref:")]
    public void InvalidArtifactStore_not_understood(string store)
    {
        var b = T.Builder(options: new WorkflowDefinitionOptions { ArtifactStore = store }).AddStep("a", "1", null, T.At(2));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidArtifactStore);
        Assert.Contains($"artifact store '{store}' is not understood", d.Message);
        Assert.Null(d.Step);
        Assert.Equal(1, d.Line);
    }

    [Fact]
    public void InvalidArtifactStore_pvc_size_not_a_quantity()
    {
        var b = T.Builder(options: new WorkflowDefinitionOptions { ArtifactStore = "pvc:lots" }).AddStep("a", "1", null, T.At(2));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidArtifactStore);
        Assert.Contains("'pvc:lots'", d.Message);
        Assert.Contains("quantity", d.Message);
    }

    [Theory]
    [InlineData("s3://my-bucket")]
    [InlineData("s3://my-bucket/runs/prefix")]
    [InlineData("pvc")]
    [InlineData("pvc:10Gi")]
    [InlineData("ref:artifact-repositories")]
    [InlineData("ref:artifact-repositories/my-key")]
    public void Valid_artifact_stores(string store)
    {
        var b = T.Builder(options: new WorkflowDefinitionOptions { ArtifactStore = store }).AddStep("a", "1", null, T.At(2));
        T.NoErrors(T.Validate(b));
    }
}
