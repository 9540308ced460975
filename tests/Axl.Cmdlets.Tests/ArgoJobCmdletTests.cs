using System.Text.Json.Nodes;
using Axl.TestServices;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Submit-AxlJob -Target Argo in the real engine, against <see cref="FakeKubernetesApi"/>: an in-process HTTP server
/// that implements only the Kubernetes and Argo endpoints Axl calls, shaped as the API references document them (no
/// Kubernetes API server can be installed here). The module's client code is the production code, configured from a
/// kubeconfig file. Also: job envelopes from the pipeline, to an AGQ server (<see cref="FakeAgqServer"/>).
/// </summary>
[Collection("PowerShell")]
public sealed class ArgoJobCmdletTests(PowerShellFixture ps) : IDisposable
{
    private readonly FakeKubernetesApi _api = new();
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        _api.Dispose();
        _dir.Dispose();
    }

    private PsResult Run(string script, params (string Name, object Value)[] vars) =>
        ps.Run(script, vars.Append(("kc", _api.WriteKubeConfig(Path.Combine(_dir.Path, "kubeconfig"))))
                           .Append(("diamond", Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1")))
                           .ToDictionary(v => v.Name, v => v.Value));

    [Fact]
    public void A_workflow_submitted_to_Argo_is_a_PowerShell_job_with_logs_and_a_result()
    {
        var r = Run("""
            $job = Get-AxlWorkflow $diamond | Submit-AxlJob -Target Argo -KubeConfig $kc -Parameters @{ Base = 3 } -PollInterval '00:00:00.05'
            $job.RunId -like 'diamond-*'
            $job.Location
            $null = $job | Wait-Job -Timeout 60
            $job.State.ToString()
            $result = $job | Wait-AxlJob -Timeout 10
            $result.Status.ToString(); $result.Steps.Count; $result.Artifacts.Count
            @(Receive-Job $job 6>&1 | Where-Object { "$_".StartsWith('[join]') }).Count
            $job | Remove-Job
            @(Get-Job | Where-Object { $_.Id -eq $job.Id }).Count
            """);
        r.ShouldSucceed();
        Assert.Equal(new object[] { true, $"{_api.Server} (argo-jobs)", "Completed", "Succeeded", 4, 4, 2, 0 }, r.Objects);
        var created = JsonNode.Parse(_api.Requests.Single(q => q.Method == "POST").Body)!;
        Assert.Equal("3", (string?)created["spec"]!["arguments"]!["parameters"]![0]!["value"]);
        Assert.Equal("diamond.axl.ps1", (string?)created["metadata"]!["annotations"]!["axl.dev/source"]);
    }

    [Fact]
    public void A_compiled_manifest_from_the_pipeline_is_submitted_and_Stop_Job_shuts_it_down()
    {
        _api.HoldTasks.Add("start");
        var r = Run("""
            $job = Get-AxlWorkflow $diamond | ConvertTo-ArgoWorkflow -Image registry.local/axl-runner:0.1.0 | Submit-AxlJob -KubeConfig $kc -Namespace team-a -Name held -PollInterval '00:00:00.05'
            $job.Name
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (@($job.Handle.State.Nodes).Count -lt 2 -and [DateTime]::UtcNow -lt $deadline) { [System.Threading.Thread]::Sleep(20) }
            $job | Stop-Job
            $job.State.ToString()
            $result = $job | Wait-AxlJob -Timeout 10
            $result.Status.ToString()
            ($result.Steps | Where-Object Name -eq 'start').Status.ToString()
            """);
        r.ShouldSucceed();
        Assert.Equal(new object[] { "held", "Stopped", "Cancelled", "Cancelled" }, r.Objects);
        var post = _api.Requests.Single(q => q.Method == "POST");
        Assert.Equal("/apis/argoproj.io/v1alpha1/namespaces/team-a/workflows", post.Path);
        Assert.Contains("registry.local/axl-runner:0.1.0", post.Body);
        Assert.Equal("Stop", (string?)JsonNode.Parse(_api.Requests.Single(q => q.Method == "PATCH").Body)!["spec"]!["shutdown"]);
    }

    [Fact]
    public void Job_options_reach_the_cluster_and_the_polling_and_flat_parameters_override_them()
    {
        // $AxlJobOption gives the cluster and the interval, -Option the failures allowed and a namespace.
        _api.FailNextReads = 100;
        var r = Run("""
            $AxlJobOption = @{ Argo = @{ KubeConfig = $kc; Namespace = 'team-pref'; PollInterval = 0.02 } }
            $job = Get-AxlWorkflow $diamond | Submit-AxlJob -Target Argo -Option @{ Argo = @{ MaxPollFailures = 2; Namespace = 'team-opt' } }
            $result = $job | Wait-AxlJob -Timeout 30
            $result.Status.ToString()
            $result.Error -like 'lost the cluster while following Workflow *'
            """);
        r.ShouldSucceed();
        Assert.Equal(new object[] { "Failed", true }, r.Objects);
        Assert.Equal("/apis/argoproj.io/v1alpha1/namespaces/team-opt/workflows", _api.Requests.Single(q => q.Method == "POST").Path);
        Assert.Equal(2, _api.Requests.Count(q => q.Method == "GET" && q.Path.Contains("/workflows/", StringComparison.Ordinal)));

        // A flat parameter wins over -Option, which wins over $AxlJobOption.
        _api.FailNextReads = 0;
        var flat = Run("""
            $AxlJobOption = New-AxlJobOption -Argo @{ KubeConfig = $kc; PollInterval = 0.02; Namespace = 'team-pref' }
            $job = Get-AxlWorkflow $diamond | Submit-AxlJob -Target Argo -Option @{ Argo = @{ Namespace = 'team-opt'; Shutdown = 'Terminate' } } -Namespace team-flat
            ($job | Wait-AxlJob -Timeout 30).Status.ToString()
            """);
        flat.ShouldSucceed();
        Assert.Equal(new object[] { "Succeeded" }, flat.Objects);
        Assert.Equal("/apis/argoproj.io/v1alpha1/namespaces/team-flat/workflows", _api.Requests.Where(q => q.Method == "POST").Last().Path);
    }

    [Fact]
    public void WhatIf_sends_nothing_and_wrong_targets_or_credentials_are_clear_errors()
    {
        var whatIf = Run("Get-AxlWorkflow $diamond | ConvertTo-ArgoWorkflow | Submit-AxlJob -KubeConfig $kc -WhatIf");
        whatIf.ShouldSucceed();
        Assert.Contains("What if: Performing the operation \"Submit to target Argo\" on target \"job 'diamond': compiled Workflow diamond-", whatIf.HostText);
        Assert.Empty(_api.Requests);

        var local = Run("Get-AxlWorkflow $diamond | ConvertTo-ArgoWorkflow | Submit-AxlJob -Target Local");
        Assert.Contains("Axl.InvalidJobSpec", local.ErrorText);
        Assert.Contains("it can only go to -Target Argo (got -Target Local)", local.ErrorText);

        var badToken = _api.WriteKubeConfig(Path.Combine(_dir.Path, "bad"), token: "expired");
        var refused = Run("Get-AxlWorkflow $diamond | Submit-AxlJob -Target Argo -KubeConfig $bad", ("bad", badToken));
        Assert.Contains("Axl.ClusterRefused", refused.ErrorText);
        Assert.Contains("refused to create the Workflow in namespace argo-jobs: 401", refused.ErrorText);
        Assert.Empty(refused.Objects);

        var param = Run("Get-AxlWorkflow $diamond | Submit-AxlJob -Target Argo -KubeConfig $kc -Parameters @{ Bsae = 1 }");
        Assert.Contains("Axl.InvalidJobSpec", param.ErrorText);
        Assert.Contains("Workflow 'diamond' has no parameter 'Bsae'. Its parameters: Base.", param.ErrorText);
    }

    [Fact]
    public void The_code_archive_and_the_size_limit_reach_the_submitted_Workflow()
    {
        var flow = Path.Combine(_dir.Path, "etl.axl.ps1");
        File.WriteAllText(flow, "AxlWorkflow etl -CodeDelivery Artifact -ArtifactStore s3://artifacts/etl {\n  Step extract { 1 }\n  Step load { param($extract) $extract }\n}");
        var missing = Run("Get-AxlWorkflow $flow | Submit-AxlJob -Target Argo -KubeConfig $kc", ("flow", flow));
        Assert.Contains("Axl.InvalidJobSpec", missing.ErrorText);
        Assert.Contains("-CodeArchive", missing.ErrorText);

        var tooLarge = Run("Get-AxlWorkflow $diamond | Submit-AxlJob -Target Argo -KubeConfig $kc -MaxBytes 1000");
        Assert.Contains("Axl.InvalidJobSpec", tooLarge.ErrorText);
        Assert.Contains("Axl.ArgoTooLarge", tooLarge.ErrorText);
        Assert.Empty(_api.Requests);

        var r = Run("""
            $code = @{ Bucket = 'axl'; Key = 'axl/code/abc.tar.gz'; Sha256 = 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'; Endpoint = 'minio.argo:9000'; Insecure = $true; CredentialsSecret = 'minio-creds' }
            $job = Get-AxlWorkflow $flow | Submit-AxlJob -Target Argo -KubeConfig $kc -CodeArchive $code -PollInterval '00:00:00.05'
            ($job | Wait-AxlJob -Timeout 30).Status.ToString()
            """, ("flow", flow));
        r.ShouldSucceed();
        Assert.Equal(new object[] { "Succeeded" }, r.Objects);
        var post = _api.Requests.Single(q => q.Method == "POST");
        Assert.Contains("axl/code/abc.tar.gz", post.Body);
        Assert.Contains("--workflow-archive", post.Body);
    }

    [Fact]
    public void Envelopes_from_the_pipeline_go_to_an_AGQ_server_with_auth()
    {
        var flow = Path.Combine(_dir.Path, "grep.axl.ps1");
        File.WriteAllText(flow, "AxlWorkflow logs { Step errors -Command grep -ArgumentList '-i','error','app.log'; Step count -Command wc -ArgumentList '-l' -Stdin errors }");
        using var agq = new FakeAgqServer(cmd => cmd[0] == "AUTH" ? "+OK\r\n" : "+OK job_id=srv-42\r\n");
        var r = Run("""
            $s = ConvertTo-AxlJobEnvelope -Path $flow | Submit-AxlJob -Protocol Agq -QueueEndpoint $agq -SessionKey s3cret
            $s.JobId; $s.Tasks; $s.Verb
            """, ("flow", flow), ("agq", agq.Endpoint));
        r.ShouldSucceed();
        Assert.Equal(new object[] { "srv-42", 2, "PLAN.SUBMIT" }, r.Objects);
        Assert.Equal(new[] { "AUTH", "s3cret" }, agq.Received[0]);
        Assert.Equal("PLAN.SUBMIT", agq.Received[1][0]);
        Assert.Contains("\"input_from_task\":1", agq.Received[1][1]);

        using var rejecting = new FakeAgqServer(_ => "-ERR queue is full\r\n");
        var no = Run("ConvertTo-AxlJobEnvelope -Path $flow | Submit-AxlJob -Protocol Agq -QueueEndpoint $agq -AgqVerb JOB.SUBMIT", ("flow", flow), ("agq", rejecting.Endpoint));
        Assert.Contains("Axl.AgqRejected", no.ErrorText);
        Assert.Contains("rejected the job: ERR queue is full", no.ErrorText);
        Assert.Equal("JOB.SUBMIT", rejecting.Received.Single()[0]);

        var withParams = Run("ConvertTo-AxlJobEnvelope -Path $flow | Submit-AxlJob -QueueEndpoint 127.0.0.1:1 -Parameters @{ X = 1 }", ("flow", flow));
        Assert.Contains("has its parameter values in its tasks already", withParams.ErrorText);
    }
}
