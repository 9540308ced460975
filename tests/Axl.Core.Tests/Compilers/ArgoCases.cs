using System.Collections;
using Axl.Compilers.Argo;
using Axl.Delivery;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// The workflows behind the Argo golden files, built with the C# WorkflowBuilder. Every file is
/// /flows/&lt;case&gt;.axl.ps1 and the code root is /flows, so the goldens do not depend on the machine.
/// </summary>
public static class ArgoCases
{
    public const string CodeRoot = "/flows";

    public sealed record Case(string Name, AxlWorkflow Workflow, ArgoCompileOptions Options)
    {
        public override string ToString() => Name;
    }

    /// <summary>Every golden case, by file name (tests/golden/argo/&lt;name&gt;.yaml).</summary>
    public static IReadOnlyList<string> Names { get; } = new[]
    {
        "linear", "diamond", "fan-out", "conditional", "path-mode", "command-step", "s3-artifact-store", "pvc", "artifact-code-delivery", "workflow-template", "secrets",
    };

    public static IEnumerable<object[]> All() => Names.Select(n => new object[] { n });

    public static Case Get(string name) => name switch
    {
        "linear" => Linear(),
        "diamond" => Diamond(),
        "fan-out" => FanOut(),
        "conditional" => Conditional(),
        "path-mode" => PathMode(),
        "command-step" => CommandStep(),
        "s3-artifact-store" => S3Store(),
        "pvc" => Pvc(),
        "artifact-code-delivery" => ArtifactCodeDelivery(),
        "workflow-template" => WorkflowTemplate(),
        "secrets" => Secrets(),
        _ => throw new ArgumentException($"no Argo case '{name}'"),
    };

    public static ArgoCompileOptions Options(ArgoCompileOptions? o = null) => (o ?? new ArgoCompileOptions()) with { CodeRoot = CodeRoot };

    private static WorkflowBuilder Builder(string name, WorkflowDefinitionOptions? options = null) =>
        new(name, options, new SourceLocation($"{CodeRoot}/{name}.axl.ps1", 1));

    private static SourceLocation At(string name, int line) => new($"{CodeRoot}/{name}.axl.ps1", line);

    /// <summary>
    /// Secrets: a script step and a command step take variables from Kubernetes secrets (one with a local source too),
    /// beside a plain variable; a sensitive parameter with a default, which compiled output must not hold.
    /// </summary>
    public static Case Secrets()
    {
        const string n = "secrets";
        var wf = Builder(n, new WorkflowDefinitionOptions { Image = "ghcr.io/acme/ml-runner:1.4.2" })
            .AddParameter("Endpoint", "https://api.example.com", null, null, At(n, 2))
            .AddParameter("Token", "default-token-value", null, "an access token", At(n, 3), sensitive: true)
            .AddStep("fetch", "param($Endpoint, $Token) \"$Endpoint $($env:API_KEY.Length)\"",
                new StepOptions { Env = new Hashtable
                {
                    ["API_KEY"] = new SecretReference { KubernetesSecret = "api-credentials", KubernetesKey = "api-key", EnvironmentVariable = "ACME_API_KEY" },
                    ["DB_PASSWORD"] = new SecretReference { KubernetesSecret = "db", KubernetesKey = "password" },
                    ["MODE"] = "fetch",
                } }, At(n, 4))
            .AddStep("upload", (string?)null, new StepOptions
            {
                CommandSpecified = true, Command = "sh", ArgumentList = new[] { "-c", "upload {fetch}" },
                Env = new Hashtable { ["S3_SECRET"] = new SecretReference { KubernetesSecret = "api-credentials", KubernetesKey = "s3.secret" } },
            }, At(n, 8))
            .Build();
        return new Case(n, wf, Options());
    }

    /// <summary>A chain with the step options Argo maps: retries, resources and a GPU, env, timeout, a step image, typed parameters.</summary>
    public static Case Linear()
    {
        const string n = "linear";
        var wf = Builder(n, new WorkflowDefinitionOptions { Image = "ghcr.io/acme/ml-runner:1.4.2", Description = "load, train and evaluate a model" })
            .AddParameter("NNeighbors", 3L, "int", "k of the classifier", At(n, 2))
            .AddParameter("TestFraction", 0.2, null, null, At(n, 3))
            .AddStep("load_data", "[System.IO.File]::ReadAllLines('data.csv')", null, At(n, 4))
            .AddStep("train", "param($load_data, [int] $NNeighbors) @{ K = $NNeighbors; Rows = @($load_data).Count }",
                new StepOptions { Retries = 2, Cpu = "500m", CpuLimit = "2", Memory = "1Gi", MemoryLimit = "2Gi", Gpu = 1, Env = new Hashtable { ["OMP_NUM_THREADS"] = "4", ["AXL_MODE"] = "train" } }, At(n, 5))
            .AddStep("evaluate", "param($train, [double] $TestFraction) 0.93",
                new StepOptions { IoHandler = "json", Timeout = "5m", Image = "ghcr.io/acme/eval:2.0" }, At(n, 8))
            .Build();
        return new(n, wf, Options());
    }

    /// <summary>One source, two branches, one join (examples/diamond).</summary>
    public static Case Diamond()
    {
        const string n = "diamond";
        var wf = Builder(n)
            .AddParameter("Base", 10L, null, null, At(n, 2))
            .AddStep("start", "param($Base) $Base", null, At(n, 3))
            .AddStep("left", "param([int] $start) $start + 1", null, At(n, 4))
            .AddStep("right", "param([int] $start) $start * 2", null, At(n, 5))
            .AddStep("join", "param($left, $right) $left + $right", null, At(n, 6))
            .Build();
        return new(n, wf, Options());
    }

    /// <summary>A source read by three shards, gathered by one step, then an order-only step (-DependsOn).</summary>
    public static Case FanOut()
    {
        const string n = "fan-out";
        var wf = Builder(n)
            .AddStep("source", "1..30", null, At(n, 2))
            .AddStep("shard_a", "param($source) @($source)[0..9]", null, At(n, 3))
            .AddStep("shard_b", "param($source) @($source)[10..19]", null, At(n, 4))
            .AddStep("shard_c", "param($source) @($source)[20..29]", null, At(n, 5))
            .AddStep("gather", "param($shard_a, $shard_b, $shard_c) @($shard_a) + @($shard_b) + @($shard_c)", null, At(n, 6))
            .AddStep("notify", "'gathered'", new StepOptions { DependsOn = new[] { "gather" } }, At(n, 7))
            .Build();
        return new(n, wf, Options());
    }

    /// <summary>
    /// Conditions: a number threshold and a string comparison with a parameter; -not, -or and a parameter on the right;
    /// a step reading a conditional step's output (depends ... .Succeeded) and one only ordered after it (... || .Skipped).
    /// </summary>
    public static Case Conditional()
    {
        const string n = "conditional";
        var wf = Builder(n)
            .AddParameter("Mode", "full", "string", "full or dry-run", At(n, 2))
            .AddParameter("Threshold", 0.9, null, null, At(n, 3))
            .AddStep("train", "'model'", null, At(n, 4))
            .AddStep("evaluate", "param($train) 0.95", new StepOptions { IoHandler = "json" }, At(n, 5))
            .AddStep("publish", "param($evaluate) 'published'", new StepOptions { When = "evaluate -gt 0.9 -and $Mode -eq 'full'" }, At(n, 6))
            .AddStep("report", "param($evaluate) \"accuracy $evaluate\"", new StepOptions { When = "-not ($Mode -eq 'dry-run') -or evaluate -ge $Threshold", DependsOn = new[] { "publish" } }, At(n, 7))
            .AddStep("archive", "param($publish) $publish", null, At(n, 8))
            .Build();
        return new(n, wf, Options());
    }

    /// <summary>Input mode path: the workflow default, and per parameter.</summary>
    public static Case PathMode()
    {
        const string n = "path-mode";
        var wf = Builder(n, new WorkflowDefinitionOptions { InputMode = "path" })
            .AddStep("download", "'a,b' + [Environment]::NewLine + '1,2'", new StepOptions { IoHandler = "text" }, At(n, 2))
            .AddStep("count", "param([string] $download) [System.IO.File]::ReadAllLines($download).Count", null, At(n, 3))
            .AddStep("describe", "param($download, $count) \"$([System.IO.Path]::GetFileName($download)): $count lines\"",
                new StepOptions { InputMode = new Hashtable { ["count"] = "object" } }, At(n, 4))
            .Build();
        return new(n, wf, Options());
    }

    /// <summary>Command steps in the shape of examples/log-errors: argument arrays, placeholders, stdin, env, timeouts.</summary>
    public static Case CommandStep()
    {
        const string n = "command-step";
        var wf = Builder(n, new WorkflowDefinitionOptions { Description = "Extract the error lines of a log and count each kind" })
            .AddParameter("LogFile", "sample.log", "string", "the log file to scan", At(n, 2))
            .AddStep("errors", (string?)null, new StepOptions { CommandSpecified = true, Command = "grep", ArgumentList = new[] { "-i", "error", "{LogFile}" }, Timeout = 60 }, At(n, 3))
            .AddStep("messages", (string?)null, new StepOptions { CommandSpecified = true, Command = "cut", ArgumentList = new[] { "-d", " ", "-f", "3-", "{errors}" }, Timeout = 30 }, At(n, 4))
            .AddStep("sorted", (string?)null, new StepOptions { CommandSpecified = true, Command = "sort", Stdin = "messages", Env = new Hashtable { ["LC_ALL"] = "C" }, Timeout = 30 }, At(n, 5))
            .AddStep("counted", (string?)null, new StepOptions { CommandSpecified = true, Command = "uniq", ArgumentList = new[] { "-c" }, Stdin = "sorted", Env = new Hashtable { ["LC_ALL"] = "C" }, Timeout = 30 }, At(n, 6))
            .AddStep("ranked", (string?)null, new StepOptions { CommandSpecified = true, Command = "sort", ArgumentList = new[] { "-k1,1nr", "-k2" }, Stdin = "counted", Env = new Hashtable { ["LC_ALL"] = "C" }, Timeout = 30 }, At(n, 7))
            .Build();
        return new(n, wf, Options());
    }

    /// <summary>An s3:// store with a prefix: every output artifact gets its bucket, key, endpoint and credentials secret.</summary>
    public static Case S3Store()
    {
        const string n = "s3-artifact-store";
        var wf = Builder(n, new WorkflowDefinitionOptions { ArtifactStore = "s3://axl-artifacts/runs/team-a" })
            .AddStep("extract", "@{ rows = 3 }", null, At(n, 2))
            .AddStep("transform", "param($extract) $extract.rows * 2", new StepOptions { Retries = 1 }, At(n, 3))
            .AddStep("load", "param($transform) \"loaded $transform\"", new StepOptions { IoHandler = "text" }, At(n, 4))
            .Build();
        return new(n, wf, Options(new ArgoCompileOptions
        {
            S3Endpoint = "minio.argo.svc:9000", S3Insecure = true, S3Region = "us-east-1", S3CredentialsSecret = "minio-credentials",
        }));
    }

    /// <summary>A volume store: one claim, mounted at /axl/data in every step; no artifacts.</summary>
    public static Case Pvc()
    {
        const string n = "pvc";
        var wf = Builder(n, new WorkflowDefinitionOptions { ArtifactStore = "pvc:5Gi" })
            .AddParameter("Seed", 7L, "int", null, At(n, 2))
            .AddStep("generate", "param([int] $Seed) $r = [Random]::new($Seed); 1..5 | ForEach-Object { $r.Next(100) }", null, At(n, 3))
            .AddStep("total", "param($generate) (@($generate) | Measure-Object -Sum).Sum", null, At(n, 4))
            .AddStep("check", "param($total) \"total $total\"", new StepOptions { When = "total -gt 0" }, At(n, 5))
            .Build();
        return new(n, wf, Options(new ArgoCompileOptions { PvcAccessMode = "ReadWriteMany", PvcStorageClass = "nfs-client" }));
    }

    public static CodeArchiveLocation CodeArchive => new()
    {
        Bucket = "axl-code",
        Key = "axl/code/3f2a9c0d5e8b7a6f1c4d2e0b9a8f7c6d5e4b3a2f1c0d9e8b7a6f5c4d3e2b1a0f.tar.gz",
        Sha256 = "sha256:3f2a9c0d5e8b7a6f1c4d2e0b9a8f7c6d5e4b3a2f1c0d9e8b7a6f5c4d3e2b1a0f",
        Endpoint = "minio.argo.svc:9000",
        Insecure = true,
        CredentialsSecret = "minio-credentials",
    };

    /// <summary>Code delivery Artifact: every step gets the code archive as input artifact "code" and --workflow-archive.</summary>
    public static Case ArtifactCodeDelivery()
    {
        const string n = "artifact-code-delivery";
        var wf = Builder(n, new WorkflowDefinitionOptions { CodeDelivery = "Artifact", Image = "ghcr.io/axl-workflows/runner:0.1.0" })
            .AddParameter("Greeting", "hello", null, null, At(n, 2))
            .AddStep("compose", "param($Greeting) \"$Greeting, world\"", null, At(n, 3))
            .AddStep("shout", "param($compose) $compose.ToUpperInvariant()", new StepOptions { IoHandler = "text" }, At(n, 4))
            .Build();
        return new(n, wf, Options(new ArgoCompileOptions { CodeArchive = CodeArchive }));
    }

    /// <summary>A WorkflowTemplate in a namespace, with a service account, labels and a referenced artifact repository.</summary>
    public static Case WorkflowTemplate()
    {
        const string n = "workflow-template";
        var wf = Builder(n, new WorkflowDefinitionOptions
            {
                ServiceAccount = "argo-workflow", ArtifactStore = "ref:artifact-repositories/team-a",
                Labels = new Hashtable { ["team"] = "data", ["app.kubernetes.io/part-of"] = "reports" },
            })
            .AddParameter("Day", null, "string", "the day to report on (yyyy-MM-dd)", At(n, 2))
            .AddStep("fetch", "param([string] $Day) \"rows of $Day\"", null, At(n, 3))
            .AddStep("summarize", "param($fetch, $Day) \"${Day}: $fetch\"", new StepOptions { IoHandler = "text" }, At(n, 4))
            .Build();
        return new(n, wf, Options(new ArgoCompileOptions { Kind = ArgoKind.WorkflowTemplate, Namespace = "reports" }));
    }
}
