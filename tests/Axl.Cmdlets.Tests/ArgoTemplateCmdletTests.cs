using System.Text.Json;
using Axl.TestServices;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// A split workflow submitted with Submit-AxlJob -Target Argo, and its WorkflowTemplates listed and removed with
/// Get-/Remove-AxlArgoTemplate and `axl argo templates`, against <see cref="FakeKubernetesApi"/> (small item limits
/// make a 12-step chain split into 3 WorkflowTemplates).
/// </summary>
[Collection("PowerShell")]
public sealed class ArgoTemplateCmdletTests(PowerShellFixture ps) : IDisposable
{
    private readonly FakeKubernetesApi _api = new();
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        _api.Dispose();
        _dir.Dispose();
    }

    /// <summary>A 12-step chain; <paramref name="last"/> changes the last step's code (another version).</summary>
    private string Flow(string last = "+ 1")
    {
        var path = Path.Combine(_dir.Path, "chain.axl.ps1");
        var steps = string.Join("\n", Enumerable.Range(1, 11).Select(i => $"  Step s{i} {{ param($s{i - 1}) $s{i - 1} {(i == 11 ? last : "+ 1")} }}"));
        File.WriteAllText(path, $"AxlWorkflow chain {{\n  Step s0 {{ 0 }}\n{steps}\n}}\n");
        return path;
    }

    private string KubeConfig => _api.WriteKubeConfig(Path.Combine(_dir.Path, "kubeconfig"));

    private PsResult Run(string script, params (string Name, object Value)[] vars) =>
        ps.Run(script, vars.Append(("kc", KubeConfig)).ToDictionary(v => v.Name, v => v.Value));

    private const string Submit = "Get-AxlWorkflow $flow | Submit-AxlJob -Target Argo -KubeConfig $kc -MaxDagTasks 5 -MaxTemplates 6 -PollInterval '00:00:00.05'";

    [Fact]
    public void WhatIf_names_every_object_a_split_submit_would_create_and_sends_nothing()
    {
        var flow = Flow();
        var r = Run(Submit + " -WhatIf", ("flow", flow));
        r.ShouldSucceed();
        Assert.Matches(@"What if: Performing the operation ""Submit to target Argo"" on target ""job 'chain': workflow .*chain\.axl\.ps1:chain as WorkflowTemplates chain-[0-9a-f]{10}-1, chain-[0-9a-f]{10}-2, chain-[0-9a-f]{10}-3 \(each unless it exists unchanged\), then Workflow chain-<generated>""",
            r.HostText.Replace(Environment.NewLine, ""));
        var manifest = Run("Get-AxlWorkflow $flow | ConvertTo-ArgoWorkflow -MaxDagTasks 5 -MaxTemplates 6 | Submit-AxlJob -KubeConfig $kc -WhatIf", ("flow", flow));
        manifest.ShouldSucceed();
        Assert.Matches(@"as WorkflowTemplates chain-[0-9a-f]{10}-1, chain-[0-9a-f]{10}-2, chain-[0-9a-f]{10}-3 \(each unless it exists unchanged\), then Workflow chain-<generated>", manifest.HostText.Replace(Environment.NewLine, ""));
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public void Superseded_templates_go_from_Get_to_Remove_with_WhatIf_and_one_in_use_is_refused()
    {
        var run = Run(Submit + " -Verbose | Wait-AxlJob -Timeout 60 | ForEach-Object { $_.Status.ToString(); $_.Steps.Count }", ("flow", Flow()));
        run.ShouldSucceed();
        Assert.Equal(new object[] { "Succeeded", 12 }, run.Objects);
        Assert.Equal(3, run.Verbose.Count(v => System.Text.RegularExpressions.Regex.IsMatch(v, @"^WorkflowTemplate chain-[0-9a-f]{10}-\d in namespace argo-jobs: created$")));
        var again = Run(Submit + " -Verbose | Wait-AxlJob -Timeout 60 | ForEach-Object { $_.Status.ToString() }", ("flow", Flow()));
        again.ShouldSucceed();
        Assert.Equal(3, again.Verbose.Count(v => v.EndsWith(": unchanged", StringComparison.Ordinal)));
        _api.HoldTasks.Add("s1");
        var held = Run(Submit + " | ForEach-Object RunId", ("flow", Flow("+ 2")));
        held.ShouldSucceed();
        var heldRun = (string)held.Objects.Single();
        var all = _api.WorkflowTemplateNames();
        Assert.Equal(6, all.Count);

        var list = Run("""
            $all = @(Get-AxlArgoTemplate -KubeConfig $kc -Workflow chain)
            $all.Count
            @($all | Where-Object Superseded).Count
            @($all | Where-Object InUse | ForEach-Object { $_.UsedBy[0] } | Select-Object -Unique)
            @(Get-AxlArgoTemplate -KubeConfig $kc -Workflow 'ch*' -Superseded).Count
            $all | Where-Object InUse | Select-Object -First 1 | Format-Table | Out-String
            $all | Where-Object InUse | Select-Object -First 1 | ForEach-Object { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($_, 1)) } | Format-Table | Out-String
            """);
        list.ShouldSucceed();
        Assert.Equal(new object[] { 6, 3, heldRun, 3 }, list.Objects.Take(4));
        // Without -KubeConfig: the one of $AxlJobOption's Argo section, as for Submit-AxlJob.
        var fromPreference = Run("$AxlJobOption = @{ Argo = @{ KubeConfig = $kc } }; @(Get-AxlArgoTemplate -Workflow chain).Count");
        fromPreference.ShouldSucceed();
        Assert.Equal(new object[] { 6 }, fromPreference.Objects);
        Assert.Equal(list.Objects.ElementAt(list.Objects.Count() - 2), list.Objects.Last()); // the view reads properties only: the same after serialization
        var table = (string)list.Objects.Last();
        Assert.Matches(@"Name\s+Workflow\s+Version\s+Part\s+Superseded\s+UsedBy", table);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(table, @"chain-[0-9a-f]{10}-1\s+chain\s+[0-9a-f]{12}\s+1\s+False\s+chain-"), table);

        var whatIf = Run("Get-AxlArgoTemplate -KubeConfig $kc -Superseded | Remove-AxlArgoTemplate -KubeConfig $kc -WhatIf");
        whatIf.ShouldSucceed();
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(whatIf.HostText, @"What if: Performing the operation ""Remove"" on target ""WorkflowTemplate chain-[0-9a-f]{10}-\d in namespace argo-jobs").Count);
        Assert.DoesNotContain(_api.Requests, r => r.Method == "DELETE");

        // Everything of the workflow: the superseded version goes, the running one's templates are refused.
        var remove = Run("Get-AxlArgoTemplate -KubeConfig $kc -Workflow chain | Remove-AxlArgoTemplate -KubeConfig $kc -Confirm:$false");
        Assert.Equal(3, remove.Errors.Count);
        Assert.All(remove.Errors, e => Assert.Equal("Axl.ArgoTemplateInUse,Axl.Cmdlets.Jobs.RemoveAxlArgoTemplateCommand", e.FullyQualifiedErrorId));
        Assert.Contains($"is used by running Workflow {heldRun}: not removed", remove.ErrorText);
        Assert.Equal(3, _api.Requests.Count(r => r.Method == "DELETE"));
        Assert.Equal(3, _api.WorkflowTemplateNames().Count);

        var byName = Run("Remove-AxlArgoTemplate -KubeConfig $kc -Name $n -Confirm:$false", ("n", _api.WorkflowTemplateNames()[0]));
        Assert.Contains("Axl.ArgoTemplateInUse", byName.ErrorText);
        var none = Run("Get-AxlArgoTemplate -KubeConfig $kc -Workflow nothing-here");
        Assert.Contains("Axl.ArgoTemplateNotFound", none.ErrorText);
    }

    [Fact]
    public void The_axl_command_lists_superseded_templates_and_removes_them_with_a_dry_run_first()
    {
        Run(Submit + " | Wait-AxlJob -Timeout 60", ("flow", Flow())).ShouldSucceed();
        Run(Submit + " | Wait-AxlJob -Timeout 60", ("flow", Flow("+ 2"))).ShouldSucceed();
        var kc = KubeConfig;

        var (exit, stdout, stderr) = CliTests.Axl("argo", "templates", "--kubeconfig", kc, "--superseded", "--json");
        Assert.True(exit == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal(3, doc.RootElement.GetArrayLength());
            Assert.All(doc.RootElement.EnumerateArray(), t => { Assert.True(t.GetProperty("superseded").GetBoolean()); Assert.Equal("chain", t.GetProperty("workflow").GetString()); });
        }

        (exit, stdout, stderr) = CliTests.Axl("argo", "templates", "--kubeconfig", kc, "--superseded", "--remove", "--dry-run");
        Assert.True(exit == 0, stderr);
        Assert.Equal(3, stdout.Split('\n').Count(l => l.Contains("[would remove]", StringComparison.Ordinal)));
        Assert.Contains("0 removed, 3 would be removed (dry run), 0 in use, of 3 listed in namespace argo-jobs", stderr);
        Assert.DoesNotContain(_api.Requests, r => r.Method == "DELETE");

        (exit, _, stderr) = CliTests.Axl("argo", "templates", "--kubeconfig", kc, "--workflow", "chain", "--superseded", "--remove");
        Assert.True(exit == 0, stderr);
        Assert.Contains("3 removed", stderr);
        Assert.Equal(3, _api.WorkflowTemplateNames().Count);

        (exit, stdout, _) = CliTests.Axl("argo", "templates", "--kubeconfig", kc);
        Assert.Equal(0, exit);
        Assert.Equal(3, stdout.Split('\n').Count(l => l.Contains("workflow=chain", StringComparison.Ordinal) && !l.Contains("superseded", StringComparison.Ordinal)));

        (exit, _, stderr) = CliTests.Axl("argo", "templates", "--kubeconfig", kc, "--dry-run");
        Assert.Equal(1, exit);
        Assert.Contains("--dry-run goes with --remove", stderr);
        (exit, _, stderr) = CliTests.Axl("argo", "nonsense", "--kubeconfig", kc);
        Assert.Equal(1, exit);
        Assert.Contains("unknown argo subcommand 'nonsense'", stderr);
    }
}
