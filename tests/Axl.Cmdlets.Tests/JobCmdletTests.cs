using System.Diagnostics;
using System.Management.Automation;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>Job specs, Submit-AxlJob -Target Local and the AxlJob with PowerShell's job cmdlets, in the real engine.</summary>
[Collection("PowerShell")]
public sealed class JobCmdletTests(PowerShellFixture ps) : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();
    private static string Diamond => Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");

    private PsResult Run(string script, params (string Name, object Value)[] vars) =>
        ps.Run(script, vars.Append((Name: "root", Value: (object)Path.Combine(_dir.Path, "runs"))).Append(("diamond", Diamond)).ToDictionary(v => v.Name, v => v.Value));

    [Fact]
    public void A_spec_round_trips_through_json_and_a_file()
    {
        var file = Path.Combine(_dir.Path, "spec.json");
        var r = Run("""
            $spec = New-AxlJobSpec lr-0.1 -WorkflowPath $diamond -WorkflowName diamond -Parameters @{ Base = 3; Tags = 'a','b'; Opts = @{ x = 1.5; y = $true } } -Overrides @{ Base = 4 } -Cpu 500m -Memory 1Gi -Gpu 1
            $json = $spec | ConvertTo-AxlJobSpecJson
            $back = $json | ConvertFrom-AxlJobSpecJson
            $back.Equals($spec)
            ($back | ConvertTo-AxlJobSpecJson) -ceq $json
            [System.IO.File]::WriteAllText($file, $json)
            (New-AxlJobSpec -Path $file).Equals($spec)
            $back.EffectiveParameters()['Base']
            $back.Resources.Memory
            $json
            """, ("file", file));
        r.ShouldSucceed();
        Assert.Equal(new[] { "True", "True", "True", "4", "1Gi" }, r.Objects.Take(5).Select(o => Convert.ToString(o, System.Globalization.CultureInfo.InvariantCulture)));
        var json = (string)r.Objects.Last();
        Assert.Contains("\"workflowPath\": ", json);
        Assert.Contains("\"target\": \"Local\"", json);
        Assert.True(json.IndexOf("\"name\"", StringComparison.Ordinal) < json.IndexOf("\"workflowPath\"", StringComparison.Ordinal), "fixed field order");
    }

    [Fact]
    public void Unknown_fields_and_specs_without_a_workflow_are_clear_errors()
    {
        var r = Run("""'{ "name": "x", "workflowPath": "a.axl.ps1", "paramters": {} }' | ConvertFrom-AxlJobSpecJson""");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("Axl.InvalidJobSpec", e.FullyQualifiedErrorId);
        Assert.Contains("unknown field 'paramters'", e.Exception.Message);

        var nested = Run("""'{ "name": "x", "workflowPath": "a.axl.ps1", "resources": { "gpus": 2 } }' | ConvertFrom-AxlJobSpecJson""");
        Assert.Contains("unknown field 'resources.gpus'", Assert.Single(nested.Errors).Exception.Message);

        var none = Run("New-AxlJobSpec lonely -Parameters @{ a = 1 }");
        Assert.Empty(none.Output);
        Assert.Contains("names no workflow", Assert.Single(none.Errors).Exception.Message);

        var submit = Run("""'{ "name": "x" }' | ConvertFrom-AxlJobSpecJson | Submit-AxlJob -RunRoot $root""");
        Assert.Contains("names no workflow", Assert.Single(submit.Errors).Exception.Message);
    }

    [Fact]
    public void A_local_job_is_a_powershell_job_with_logs_steps_and_output()
    {
        var r = Run("""
            $job = Get-AxlWorkflow $diamond | Submit-AxlJob -RunRoot $root -Overrides @{ Base = 5 }
            $job -is [System.Management.Automation.Job]
            (Get-Job -Id $job.Id).Name
            (Get-AxlJob diam*).Id -contains $job.Id
            $null = Wait-Job $job -Timeout 120
            $job.State.ToString()
            $result = $job | Wait-AxlJob -Timeout 30
            $result.Status.ToString()
            $result.ExitCode
            ($result.Steps | ForEach-Object { "$($_.Name)=$($_.Status)" }) -join ','
            $result.GetOutput('join')
            [System.IO.File]::Exists($result.Artifacts['join'])
            $received = Receive-Job $job -InformationVariable logs -InformationAction SilentlyContinue
            $received.GetType().Name
            @($logs | Where-Object { $_.Tags -contains 'axl-log' }).Count -gt 4
            @($logs.MessageData | Where-Object Step -eq 'join')[0].Step
            $result.Duration -gt [TimeSpan]::Zero
            Remove-Job $job
            @(Get-Job | Where-Object Id -eq $job.Id).Count
            """);
        r.ShouldSucceed();
        var o = r.Objects.ToList();
        Assert.Equal(true, o[0]);
        Assert.Equal("diamond", o[1]);
        Assert.Equal(true, o[2]);
        Assert.Equal("Completed", o[3]);
        Assert.Equal("Succeeded", o[4]);
        Assert.Equal(0, Convert.ToInt32(o[5]));
        Assert.Equal("start=Succeeded,left=Succeeded,right=Succeeded,join=Succeeded", o[6]);
        Assert.Equal(16, Convert.ToInt32(o[7]));
        Assert.Equal(true, o[8]);
        Assert.Equal("JobResult", o[9]);
        Assert.Equal(true, o[10]);
        Assert.Equal("join", o[11]);
        Assert.Equal(true, o[12]);
        Assert.Equal(0, Convert.ToInt32(o[13]));
    }

    [Fact]
    public void Stop_job_kills_the_process_tree_and_the_job_ends_stopped_once()
    {
        var file = _dir.Write("long.axl.ps1", """
            AxlWorkflow long {
                Step first { 'go' }
                Step spin -Command sleep -ArgumentList '300' -DependsOn first
                Step after { param($spin) 'never' }
            }
            """);
        var submitted = Run("Submit-AxlJob -Workflow (Get-AxlWorkflow $f) -RunRoot $root", ("f", file));
        submitted.ShouldSucceed();
        var job = (Job)submitted.Objects.Single();
        var terminal = 0;
        job.StateChanged += (_, e) => { if (e.JobStateInfo.State is JobState.Completed or JobState.Failed or JobState.Stopped) Interlocked.Increment(ref terminal); };
        var pid = (int)((dynamic)job).ProcessId;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        int[] children = Array.Empty<int>();
        while (DateTime.UtcNow < deadline && job.JobStateInfo.State == JobState.Running)
        {
            children = Descendants(pid);
            if (children.Any(c => Comm(c) == "sleep")) break;
            Thread.Sleep(100);
        }
        Assert.Equal(JobState.Running, job.JobStateInfo.State);
        Assert.Contains(children, c => Comm(c) == "sleep");

        var stop = Run("Stop-Job -Job $j; $j.State.ToString(); ($j | Wait-AxlJob -Timeout 30).Status.ToString()", ("j", job));
        stop.ShouldSucceed();
        Assert.Equal(new object[] { "Stopped", "Cancelled" }, stop.Objects);
        foreach (var p in children.Append(pid)) Assert.False(Alive(p), $"process {p} ({Comm(p)}) is still running");
        Thread.Sleep(300);
        Assert.Equal(1, Volatile.Read(ref terminal));
        Run("Remove-Job -Job $j", ("j", job)).ShouldSucceed();
    }

    [Fact]
    public void A_failing_workflow_ends_failed_with_the_step_error()
    {
        var file = _dir.Write("fails.axl.ps1", "AxlWorkflow fails {\n  Step ok { 1 }\n  Step broken { param($ok) throw \"no data for $ok\" }\n}\n");
        var r = Run("""
            $job = Submit-AxlJob -Workflow (Get-AxlWorkflow $f) -RunRoot $root
            $null = Wait-Job $job -Timeout 120
            $job.State.ToString()
            $res = $job | Wait-AxlJob
            $res.Status.ToString(); $res.ExitCode; $res.Error
            Remove-Job $job
            """, ("f", file));
        r.ShouldSucceed();
        Assert.Equal("Failed", r.Objects.ElementAt(0));
        Assert.Equal("Failed", r.Objects.ElementAt(1));
        Assert.Equal(1, Convert.ToInt32(r.Objects.ElementAt(2)));
        Assert.Contains("step 'broken' failed: no data for 1", (string)r.Objects.ElementAt(3));
    }

    [Fact]
    public void WhatIf_submits_nothing_Argo_needs_a_cluster_and_the_queue_takes_command_steps_only()
    {
        var r = Run("""
            $before = @(Get-Job).Count
            New-AxlJobSpec w -WorkflowPath $diamond -Overrides @{ Base = 2 } | Submit-AxlJob -RunRoot $root -WhatIf
            @(Get-Job).Count - $before
            [System.IO.Directory]::Exists($root)
            """);
        r.ShouldSucceed();
        Assert.Equal(0, Convert.ToInt32(r.Objects.ElementAt(0)));
        Assert.Equal(false, r.Objects.ElementAt(1));
        Assert.Contains("What if: Performing the operation \"Submit to target Local\" on target \"job 'w': workflow ", r.HostText);
        Assert.Contains("with Base=2", r.HostText);

        var argo = Run("New-AxlJobSpec a -WorkflowPath $diamond -Target Argo | Submit-AxlJob -RunRoot $root -KubeConfig ./no-such-kubeconfig");
        var e = Assert.Single(argo.Errors);
        Assert.StartsWith("Axl.ClusterUnavailable", e.FullyQualifiedErrorId);
        Assert.EndsWith("no-such-kubeconfig does not exist. Fix: give -KubeConfig the file kubectl uses (kubectl config view --minify shows it), or set $env:KUBECONFIG.", e.Exception.Message);
        // The queue takes command steps only: diamond's script steps cannot become a job envelope.
        var queue = Assert.Single(Run("Get-AxlWorkflow $diamond | Submit-AxlJob -Target Queue -QueueEndpoint 127.0.0.1:1 -RunRoot $root").Errors);
        Assert.Contains("cannot go to the queue as a job envelope", queue.Exception.Message);
    }

    internal static int[] Descendants(int pid)
    {
        var all = new List<int>();
        var queue = new Queue<int>(new[] { pid });
        while (queue.Count > 0)
        {
            var p = queue.Dequeue();
            var tasks = $"/proc/{p}/task";
            if (!Directory.Exists(tasks)) continue;
            foreach (var t in Directory.GetDirectories(tasks))
            {
                string text;
                try { text = File.ReadAllText(Path.Combine(t, "children")); } catch (IOException) { continue; }
                foreach (var c in text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)) { all.Add(c); queue.Enqueue(c); }
            }
        }
        return all.ToArray();
    }

    internal static string Comm(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); } catch (IOException) { return ""; }
    }

    internal static bool Alive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            if (p.HasExited) return false;
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z'); // a zombie is dead, only not yet reaped
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException) { return false; }
    }
}
