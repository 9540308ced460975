using System.Collections;
using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Compilers.Dagster;
using Axl.Compilers.Kfp;
using Axl.Core.Tests.Compilers;
using Axl.Dsl;
using Axl.Jobs.Envelopes;
using Axl.Model;
using Axl.Runtime;
using Axl.Serialization;
using Axl.Validation;

namespace Axl.Core.Tests.Secrets;

/// <summary>
/// Secret references and sensitive parameters: the value of a secret is in no document (IR, Argo, KFP, Dagster,
/// envelope) and in no record (run.json, step.json, log.jsonl), yet the step sees it when it runs; a sensitive
/// parameter is masked everywhere and must be given again to resume.
/// </summary>
public sealed class SecretTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "axl-secret-tests-" + Guid.NewGuid().ToString("N")[..10]);
    /// <summary>A value unique to this test run, so finding it anywhere is a leak, not a coincidence.</summary>
    private readonly string _secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
    private readonly string _variable = "AXL_TEST_SECRET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    public SecretTests() => Environment.SetEnvironmentVariable(_variable, _secret);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_variable, null);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private RunOptions Options(string? resume = null, IDictionary? parameters = null) => new()
    {
        RunRoot = _root, ThrottleLimit = 2, Resume = resume, Parameters = parameters, RetryBackoff = TimeSpan.FromMilliseconds(10), KillGrace = TimeSpan.FromSeconds(1),
    };

    private SecretReference Ref(string? kubernetes = "api-credentials", string? key = "api-key") =>
        new() { KubernetesSecret = kubernetes, KubernetesKey = key, EnvironmentVariable = _variable };

    /// <summary>A script step and a command step that take API_KEY from a secret (and MODE plainly).</summary>
    private AxlWorkflow Workflow(SecretReference? reference = null) => new WorkflowBuilder("secretive", null, T.At(1))
        .AddStep("script", "if ($env:API_KEY -eq [Environment]::GetEnvironmentVariable('" + _variable + "')) { 'saw-it' } else { 'missed' }",
            new StepOptions { Env = new Hashtable { ["API_KEY"] = reference ?? Ref(), ["MODE"] = "plain" } }, T.At(3))
        .AddStep("command", (string?)null, new StepOptions
        {
            CommandSpecified = true, Command = "sh",
            ArgumentList = new[] { "-c", "if [ \"$API_KEY\" = \"$" + _variable + "\" ] && [ \"$MODE\" = plain ]; then echo saw-it; else echo missed; fi; echo \"stderr has $API_KEY\" >&2" },
            Env = new Hashtable { ["API_KEY"] = reference ?? Ref(), ["MODE"] = "plain" },
        }, T.At(7))
        .Build();

    private void AssertNoSecret(string text, string what) =>
        Assert.False(text.Contains(_secret, StringComparison.Ordinal), $"the secret value is in {what}:\n{text}");

    // ---- documents ----------------------------------------------------------------------------------------------

    [Fact]
    public void The_IR_holds_the_reference_and_never_the_value()
    {
        var wf = Workflow();
        T.NoErrors(WorkflowValidator.Validate(wf));
        var step = wf.GetStep("script")!;
        Assert.Equal(new[] { "MODE" }, step.Env.Keys);
        Assert.Equal(new[] { "API_KEY" }, step.Secrets.Keys);
        var json = IrDocument.ToJson(IrDocument.ToTree(wf));
        Assert.Contains("\"kubernetesSecret\": \"api-credentials\"", json);
        Assert.Contains("\"environmentVariable\": \"" + _variable + "\"", json);
        AssertNoSecret(json, "the IR");
    }

    [Fact]
    public void A_secret_changes_the_workflow_hash_but_a_workflow_without_secrets_keeps_its_IR_shape()
    {
        var plain = new WorkflowBuilder("h", null, T.At(1)).AddStep("a", "1").Build();
        Assert.DoesNotContain("\"secrets\"", IrDocument.ToJson(IrDocument.ToTree(plain)));
        Assert.DoesNotContain("\"sensitive\"", IrDocument.ToJson(IrDocument.ToTree(plain)));
        var with = new WorkflowBuilder("h", null, T.At(1)).AddStep("a", "1", new StepOptions { Env = new Hashtable { ["K"] = Ref() } }).Build();
        var other = new WorkflowBuilder("h", null, T.At(1)).AddStep("a", "1", new StepOptions { Env = new Hashtable { ["K"] = Ref("other") } }).Build();
        Assert.NotEqual(plain.Hash, with.Hash);
        Assert.NotEqual(with.Hash, other.Hash);
    }

    [Fact]
    public void A_sensitive_default_is_masked_in_the_IR_and_left_out_of_every_compiled_document()
    {
        var c = ArgoCases.Secrets();
        const string value = "default-token-value";
        Assert.DoesNotContain(value, IrDocument.ToJson(IrDocument.ToTree(c.Workflow)));
        Assert.Contains("\"sensitive\": true", IrDocument.ToJson(IrDocument.ToTree(c.Workflow)));
        var argo = ArgoCompiler.Compile(c.Workflow, c.Options).ToYaml();
        var kfp = KfpCompiler.Compile(c.Workflow, new KfpCompileOptions { CodeRoot = ArgoCases.CodeRoot }).ToYaml();
        var kfpV1 = KfpCompiler.Compile(c.Workflow, new KfpCompileOptions { CodeRoot = ArgoCases.CodeRoot, Format = KfpFormat.V1 }).ToYaml();
        var dagster = DagsterCompiler.Compile(c.Workflow, new DagsterCompileOptions { CodeRoot = ArgoCases.CodeRoot }).Source;
        foreach (var (name, text) in new[] { ("Argo", argo), ("KFP v2", kfp), ("KFP v1", kfpV1), ("Dagster", dagster) })
            Assert.False(text.Contains(value, StringComparison.Ordinal), $"{name} holds the sensitive default:\n{text}");
        // Argo: Token is a required argument (no value); the other parameter keeps its default.
        Assert.Contains("- name: Token\n", argo);
        Assert.Contains("value: https://api.example.com", argo);
        Assert.Contains("\"Token\": dagster.Field(str, is_required=True", dagster);
    }

    [Fact]
    public void Argo_KFP_and_Dagster_read_secrets_at_run_time_never_inline()
    {
        var wf = Workflow();
        var o = new ArgoCompileOptions { CodeRoot = "/flows" };
        var argo = ArgoCompiler.Compile(wf, o).ToYaml();
        Assert.Contains("secretKeyRef:", argo);
        Assert.Contains("name: api-credentials", argo);
        Assert.Contains("key: api-key", argo);
        var kfp = KfpCompiler.Compile(wf, new KfpCompileOptions { CodeRoot = "/flows" });
        var kfpYaml = kfp.ToYaml();
        Assert.Contains("\n---\nplatforms:\n  kubernetes:\n    deploymentSpec:\n      executors:\n        exec-script:\n          secretAsEnv:\n", kfpYaml);
        Assert.Contains("secretName: api-credentials", kfpYaml);
        Assert.Contains("envVar: API_KEY", kfpYaml);
        Assert.NotNull(kfp.PlatformSpec);
        var kfpV1 = KfpCompiler.Compile(wf, new KfpCompileOptions { CodeRoot = "/flows", Format = KfpFormat.V1 }).ToYaml();
        Assert.Contains("secretKeyRef:", kfpV1);
        var dagster = DagsterCompiler.Compile(wf, new DagsterCompileOptions { CodeRoot = "/flows" }).Source;
        Assert.Contains("\"API_KEY\": _secret(\"API_KEY\", \"" + _variable + "\")", dagster);
        Assert.Contains("value = os.environ.get(source)", dagster);
        foreach (var (name, text) in new[] { ("Argo", argo), ("KFP", kfpYaml), ("KFP v1", kfpV1), ("Dagster", dagster) })
            AssertNoSecret(text, name);
    }

    [Fact]
    public void Argo_and_KFP_refuse_a_secret_with_no_Kubernetes_source()
    {
        var wf = new WorkflowBuilder("local-only", null, T.At(1))
            .AddStep("a", "1", new StepOptions { Env = new Hashtable { ["API_KEY"] = new SecretReference { EnvironmentVariable = "X" } } }, T.At(2)).Build();
        var argo = Assert.Throws<AxlCompileException>(() => ArgoCompiler.Compile(wf, new ArgoCompileOptions { CodeRoot = "/flows" }));
        Assert.Equal(CompileErrorIds.NotExpressible, argo.Id);
        Assert.Contains("step 'a' takes environment variable 'API_KEY' from env:X", argo.Message);
        Assert.Contains("-Kubernetes", argo.Message);
        var kfp = Assert.Throws<AxlCompileException>(() => KfpCompiler.Compile(wf, new KfpCompileOptions { CodeRoot = "/flows" }));
        Assert.Contains("Kubeflow Pipelines", kfp.Message);
        // Dagster reads the runner's environment: fine.
        Assert.Contains("_secret(\"API_KEY\", \"X\")", DagsterCompiler.Compile(wf, new DagsterCompileOptions { CodeRoot = "/flows" }).Source);
    }

    public static IEnumerable<object[]> Malformed() => new[]
    {
        new object[] { new SecretReference(), "names no source" },
        new object[] { new SecretReference { KubernetesSecret = "Bad_Name", KubernetesKey = "k" }, "not a valid secret name" },
        new object[] { new SecretReference { KubernetesSecret = "ok" }, "not a valid secret key" },
        new object[] { new SecretReference { KubernetesKey = "k" }, "not a valid secret name" },
        new object[] { new SecretReference { KubernetesSecret = "ok", KubernetesKey = "a/b" }, "not a valid secret key" },
        new object[] { new SecretReference { EnvironmentVariable = "1BAD" }, "not a valid variable name" },
        new object[] { new SecretReference { Vault = "v" }, "no secret" },
        new object[] { new SecretReference { Vault = "v", VaultSecret = " " }, "empty vault secret" },
        new object[] { new SecretReference { EnvironmentVariable = "A", VaultSecret = "b" }, "two local sources" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_reference_is_Axl_InvalidSecret_naming_the_step_and_variable(SecretReference reference, string expected)
    {
        var b = new WorkflowBuilder("bad", null, T.At(1)).AddStep("train", "1", new StepOptions { Env = new Hashtable { ["API_KEY"] = reference } }, T.At(5));
        var d = T.Single(T.Validate(b), DiagnosticIds.InvalidSecret);
        Assert.Equal("train", d.Step);
        Assert.Contains("'API_KEY'", d.Message);
        Assert.Contains(expected, d.Message);
        Assert.Equal(5, d.Line);
    }

    [Fact]
    public void A_wellformed_reference_has_no_diagnostic()
    {
        foreach (var r in new[] { Ref(), new SecretReference { KubernetesSecret = "a.b-c", KubernetesKey = "tls.crt" }, new SecretReference { Vault = "V", VaultSecret = "n" }, new SecretReference { VaultSecret = "n" } })
            T.None(T.Validate(new WorkflowBuilder("ok", null, T.At(1)).AddStep("a", "1", new StepOptions { Env = new Hashtable { ["K"] = r } })), DiagnosticIds.InvalidSecret);
    }

    // ---- local runs ------------------------------------------------------------------------------------------------

    private static string ReadAll(string dir) =>
        string.Join("\n", Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(File.ReadAllText));

    [Fact]
    public void A_local_run_gives_the_steps_the_value_and_keeps_it_out_of_run_json_step_json_and_the_log()
    {
        var wf = new WorkflowBuilder("secretive")
            .AddStep("script", "if ($env:API_KEY -eq [Environment]::GetEnvironmentVariable('" + _variable + "')) { Write-Warning \"key is $env:API_KEY\"; 'saw-it' } else { 'missed' }",
                new StepOptions { Env = new Hashtable { ["API_KEY"] = Ref(), ["MODE"] = "plain" } })
            .AddStep("command", Workflow().GetStep("command")!.Source, new StepOptions
            {
                CommandSpecified = true, Command = "sh",
                ArgumentList = Workflow().GetStep("command")!.Arguments.ToArray(),
                Env = new Hashtable { ["API_KEY"] = Ref(), ["MODE"] = "plain" },
            })
            .Build();
        var events = new List<RunEvent>();
        var run = LocalRunner.Run(wf, Options(), e => { lock (events) events.Add(e); });
        Assert.True(run.Status == RunStatus.Succeeded, string.Join("\n", run.Steps.Select(s => $"{s.Name}: {s.Status} {s.Error}")));
        Assert.Equal("saw-it", run.GetOutput("script")?.ToString());
        Assert.Equal("saw-it", File.ReadAllText(run.GetStep("command")!.OutputPath!).Trim());
        // The step printed the value (a warning, stderr): the log and the events show *** instead.
        var log = File.ReadAllText(Path.Combine(run.Directory, "log.jsonl"));
        Assert.Contains("key is ***", log);
        Assert.Contains("stderr has ***", log);
        AssertNoSecret(ReadAll(run.Directory), "the run directory");
        AssertNoSecret(string.Join("\n", events.Select(e => e.Message + e.Json + e.Record?.Message)), "the run events");
        // The variable is not left behind in the process.
        Assert.Null(Environment.GetEnvironmentVariable("API_KEY"));
    }

    [Fact]
    public void A_missing_local_source_fails_the_step_naming_the_variable()
    {
        var wf = new WorkflowBuilder("missing", null, T.At(1))
            .AddStep("a", "1", new StepOptions { Env = new Hashtable { ["API_KEY"] = new SecretReference { EnvironmentVariable = "AXL_TEST_NOT_SET_" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant() } } }, T.At(2))
            .AddStep("k8s", "1", new StepOptions { Env = new Hashtable { ["TOKEN"] = new SecretReference { KubernetesSecret = "s", KubernetesKey = "k" } } }, T.At(3))
            .Build();
        var run = LocalRunner.Run(wf, Options());
        Assert.Equal(RunStatus.Failed, run.Status);
        var a = run.GetStep("a")!.Error!.Message;
        Assert.Contains("step 'a' takes environment variable 'API_KEY' from the variable 'AXL_TEST_NOT_SET_", a);
        Assert.Contains("which is not set", a);
        Assert.Contains("no local source", run.GetStep("k8s")!.Error!.Message);
    }

    [Fact]
    public void A_vault_secret_is_read_with_Get_Secret_at_run_time_and_a_missing_SecretManagement_module_is_refused_clearly()
    {
        var step = new WorkflowBuilder("vault", null, T.At(1))
            .AddStep("a", "1", new StepOptions { Env = new Hashtable { ["API_KEY"] = new SecretReference { Vault = "TestVault", VaultSecret = "api" } } }).Build().GetStep("a")!;
        var modules = Path.Combine(_root, "modules");
        var old = Environment.GetEnvironmentVariable("PSModulePath");
        try
        {
            // Only an empty module path: the module cannot be found.
            Directory.CreateDirectory(Path.Combine(_root, "empty"));
            Environment.SetEnvironmentVariable("PSModulePath", Path.Combine(_root, "empty"));
            var installed = System.Management.Automation.PowerShell.Create().AddScript("@(Get-Module -ListAvailable Microsoft.PowerShell.SecretManagement).Count").Invoke()[0].BaseObject;
            if (Convert.ToInt32(installed) == 0)
            {
                var missing = Assert.Throws<AxlSecretException>(() => SecretResolver.Resolve(step));
                Assert.Contains("Microsoft.PowerShell.SecretManagement module is not installed", missing.Message);
                Assert.Contains("Install-PSResource", missing.Message);
            }

            // A stand-in SecretManagement module: Get-Secret is called with the vault, the name and -AsPlainText.
            var dir = Path.Combine(modules, "Microsoft.PowerShell.SecretManagement");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "Microsoft.PowerShell.SecretManagement.psm1"), """
                function Get-Secret {
                    param([string] $Name, [string] $Vault, [switch] $AsPlainText)
                    if ($Vault -eq 'TestVault' -and $Name -eq 'api' -and $AsPlainText) { return $env:AXL_TEST_VAULT_VALUE }
                    throw "secret '$Name' not found in vault '$Vault'"
                }
                """);
            Environment.SetEnvironmentVariable("PSModulePath", modules);
            Environment.SetEnvironmentVariable("AXL_TEST_VAULT_VALUE", _secret);
            Assert.Equal(_secret, SecretResolver.Resolve(step)["API_KEY"]);
            var unknown = new WorkflowBuilder("vault", null, T.At(1))
                .AddStep("a", "1", new StepOptions { Env = new Hashtable { ["API_KEY"] = new SecretReference { Vault = "TestVault", VaultSecret = "nope" } } }).Build().GetStep("a")!;
            var e = Assert.Throws<AxlSecretException>(() => SecretResolver.Resolve(unknown));
            Assert.Contains("secret 'nope' of vault 'TestVault', which could not be read", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PSModulePath", old);
            Environment.SetEnvironmentVariable("AXL_TEST_VAULT_VALUE", null);
        }
    }

    [Fact]
    public void The_container_runner_reads_a_local_source_for_a_variable_the_environment_does_not_have()
    {
        var wf = new WorkflowBuilder("runner")
            .AddStep("check", (string?)null, new StepOptions
            {
                CommandSpecified = true, Command = "sh",
                ArgumentList = new[] { "-c", "if [ \"$RUNNER_KEY\" = \"$" + _variable + "\" ]; then echo saw-it; else echo missed; fi" },
                Env = new Hashtable { ["RUNNER_KEY"] = Ref() },
            })
            .Build();
        var step = wf.GetStep("check")!;
        var manifest = Runner.ManifestBuilder.For(wf, step, new Runner.ManifestLayout
        {
            InputDirectory = _ => "", OutputDirectory = _ => Path.Combine(_root, "out"), ParameterValue = _ => null, WorkflowFile = "none.axl.ps1", RunId = "r1",
        });
        var result = Runner.StepRunner.Execute(manifest, wf, CancellationToken.None);
        Assert.True(result.Success, result.Error?.ToString());
        Assert.Equal("saw-it", File.ReadAllText(Path.Combine(_root, "out", "output.txt")).Trim());
        Assert.Null(Environment.GetEnvironmentVariable("RUNNER_KEY"));
    }

    // ---- sensitive parameters ----------------------------------------------------------------------------------

    private static AxlWorkflow SensitiveWorkflow() => new WorkflowBuilder("sens")
        .AddParameter("Token", null, "string", null, T.At(2), sensitive: true)
        .AddParameter("Size", 3L, null, null, T.At(3))
        .AddStep("use", "param($Token, $Size) Write-Output (\"len=\" + $Token.Length); Write-Host \"token $Token\"", null, T.At(4))
        .AddStep("after", "param($use) if ($use -like 'len=*') { throw 'stop here' } else { 1 }", null, T.At(5))
        .Build();

    [Fact]
    public void A_sensitive_parameter_is_masked_in_run_json_and_the_log_and_must_be_given_again_to_resume()
    {
        var wf = SensitiveWorkflow();
        var run = LocalRunner.Run(wf, Options(parameters: new Hashtable { ["Token"] = _secret }));
        Assert.Equal(RunStatus.Failed, run.Status); // 'after' fails on purpose, to resume
        Assert.Equal("len=" + _secret.Length, run.GetOutput("use")?.ToString());
        Assert.Equal(AxlParameter.Masked, run.Parameters["Token"]);
        Assert.Equal(3L, run.Parameters["Size"]);
        var runJson = File.ReadAllText(Path.Combine(run.Directory, RunStore.RunFile));
        Assert.Contains("\"Token\": \"***\"", runJson);
        Assert.Contains("token ***", File.ReadAllText(Path.Combine(run.Directory, "log.jsonl")));
        AssertNoSecret(ReadAll(run.Directory), "the run directory");
        AssertNoSecret(string.Join("\n", Directory.GetFiles(_root, "*", SearchOption.AllDirectories).Select(File.ReadAllText)), "the run root (cache entries)");

        // Resume without it: refused, naming the parameter and the fix.
        var refused = Assert.Throws<AxlParameterException>(() => LocalRunner.Run(wf, Options(resume: run.RunId)));
        Assert.Contains("sensitive parameter 'Token'", refused.Message);
        Assert.Contains($"-Resume {run.RunId} -Parameters @{{ Token = ... }}", refused.Message);

        // Given again: the step that used it is reused (same key: the value's hash), the failed one runs again.
        var again = LocalRunner.Run(wf, Options(resume: run.RunId, parameters: new Hashtable { ["Token"] = _secret }));
        Assert.Equal("resume", again.GetStep("use")!.ReusedFrom);
        // Another value changes the key: the step runs again.
        var other = LocalRunner.Run(wf, Options(resume: run.RunId, parameters: new Hashtable { ["Token"] = "another-value" }));
        Assert.Null(other.GetStep("use")!.ReusedFrom);
        Assert.Equal("len=13", other.GetOutput("use")?.ToString());
        Assert.Equal(AxlParameter.Masked, RunStore.Load(run.Directory).Parameters["Token"]);
    }

    // ---- envelopes ---------------------------------------------------------------------------------------------------

    private AxlWorkflow CommandWorkflow() => new WorkflowBuilder("env-job", null, T.At(1))
        .AddStep("check", (string?)null, new StepOptions
        {
            CommandSpecified = true, Command = "sh",
            ArgumentList = new[] { "-c", "if [ \"$API_KEY\" = \"$" + _variable + "\" ] && [ \"$MODE\" = 'fast mode' ]; then echo saw-it; else echo missed; fi" },
            Env = new Hashtable { ["API_KEY"] = Ref(), ["MODE"] = "fast mode" },
        }, T.At(2))
        .Build();

    [Fact]
    public void An_envelope_carries_the_secret_by_name_and_the_worker_puts_values_in_the_environment_not_the_command_line()
    {
        var envelope = JobEnvelopeBuilder.FromWorkflow(CommandWorkflow()).Envelope;
        var json = envelope.ToJson();
        AssertNoSecret(json, "the envelope");
        var task = envelope.Tasks[0];
        Assert.Equal("env", task.Command);
        Assert.Equal(new[] { "--axl-secret=API_KEY=" + _variable, "MODE=fast mode", "sh", "-c" }, task.Args.Take(4));
        Assert.Empty(JobEnvelopeValidator.Validate(envelope).Where(d => d.IsError));

        var launch = TaskEnvironment.For(task);
        Assert.Equal("sh", launch.Program);
        Assert.Equal(2, launch.Arguments.Count);
        Assert.Equal(_secret, launch.Environment["API_KEY"]);
        Assert.Equal("fast mode", launch.Environment["MODE"]);
        AssertNoSecret(string.Join(" ", launch.Arguments), "the program's command line");
        Assert.DoesNotContain("MODE=", string.Join(" ", launch.Arguments.Prepend(launch.Program)));
        AssertNoSecret(launch.Describe(), "the log line");
        Assert.EndsWith("(env: API_KEY, MODE)", launch.Describe());

        var missing = new JobTask { TaskNumber = 1, Command = "env", Args = new List<string> { "--axl-secret=API_KEY=AXL_NOT_SET_ANYWHERE", "true" } };
        var e = Assert.Throws<TaskEnvironmentException>(() => TaskEnvironment.For(missing, _ => null));
        Assert.Contains("'API_KEY' from the worker's variable 'AXL_NOT_SET_ANYWHERE', which is not set", e.Message);
        // env(1) with its own options is run as it is.
        var plainEnv = new JobTask { TaskNumber = 1, Command = "env", Args = new List<string> { "-i", "A=1", "true" } };
        Assert.Equal("env", TaskEnvironment.For(plainEnv).Program);
    }

    [Fact]
    public void An_envelope_refuses_a_sensitive_parameter_in_arguments_and_a_vault_only_secret()
    {
        var wf = new WorkflowBuilder("bad-env", null, T.At(1))
            .AddParameter("Token", "x", null, null, T.At(2), sensitive: true)
            .AddStep("a", (string?)null, new StepOptions { CommandSpecified = true, Command = "curl", ArgumentList = new[] { "-H", "Authorization: {Token}" } }, T.At(3))
            .AddStep("b", (string?)null, new StepOptions { CommandSpecified = true, Command = "true", Env = new Hashtable { ["K"] = new SecretReference { VaultSecret = "v" } } }, T.At(4))
            .Build();
        var e = Assert.Throws<JobEnvelopeException>(() => JobEnvelopeBuilder.FromWorkflow(wf, new Hashtable { ["Token"] = _secret }));
        Assert.Contains("sensitive parameter 'Token'", e.Message);
        Assert.Contains("a queue worker reads secrets from its own environment only", e.Message);
        AssertNoSecret(e.Message, "the error");
    }
}
