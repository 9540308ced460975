using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text.Json;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>Start-AxlExperiment, Get-AxlExperiment (from a second runspace), reports and Stop-AxlExperiment.</summary>
[Collection("PowerShell")]
public sealed class ExperimentCmdletTests(PowerShellFixture ps) : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();
    private string Root => Path.Combine(_dir.Path, "runs");
    private static string Diamond => Path.Combine(Repo.Examples, "diamond", "diamond.axl.ps1");

    private PsResult Run(string script, params (string Name, object Value)[] vars) =>
        ps.Run(script, vars.Append((Name: "root", Value: (object)Root)).Append(("diamond", Diamond)).ToDictionary(v => v.Name, v => v.Value));

    /// <summary>Runs a script in a new runspace of its own (another "session"), with the module imported.</summary>
    private Collection<PSObject> Fresh(string script)
    {
        using var rs = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        rs.Open();
        using var p = PowerShell.Create();
        p.Runspace = rs;
        p.AddScript($"Import-Module '{Repo.ModuleManifest}' -ErrorAction Stop\n$root = '{Root}'\n" + script);
        var output = p.Invoke();
        Assert.True(p.Streams.Error.Count == 0, string.Join("\n", p.Streams.Error.Select(e => e.ToString())));
        return output;
    }

    [Fact]
    public void A_sweep_of_three_values_is_kept_on_disk_reattached_and_reported()
    {
        var r = Run("""
            $wf = Get-AxlWorkflow $diamond
            $e = 1..3 | ForEach-Object { $wf | New-AxlJobSpec -Name "base-$_" -Overrides @{ Base = $_ } } |
                Start-AxlExperiment sweep -ThrottleLimit 2 -RunRoot $root -Wait
            $e.Status
            $e.Directory
            """);
        r.ShouldSucceed();
        Assert.Equal("Succeeded", r.Objects.First());
        Assert.Contains(r.Progress, p => p.RecordType == ProgressRecordType.Completed);
        var file = Path.Combine((string)r.Objects.Last(), "experiment.json");
        Assert.Equal(Path.Combine(Root, ".experiments", "sweep", "experiment.json"), file);
        var state = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
        var jobs = state.GetProperty("jobs").EnumerateArray().ToList();
        Assert.Equal(new[] { "base-1", "base-2", "base-3" }, jobs.Select(j => j.GetProperty("name").GetString()));
        Assert.All(jobs, j =>
        {
            Assert.Equal("Succeeded", j.GetProperty("status").GetString());
            Assert.False(string.IsNullOrEmpty(j.GetProperty("runId").GetString()));
            Assert.NotNull(j.GetProperty("startTime").GetString());
            Assert.NotNull(j.GetProperty("endTime").GetString());
            Assert.Equal(JsonValueKind.Object, j.GetProperty("spec").ValueKind);
        });
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!, ".*tmp-*"));

        var attached = Fresh("""
            $e = Get-AxlExperiment sweep -RunRoot $root
            $e.Status
            $e.Jobs.Count
            Get-AxlExperiment sw* -RunRoot $root -Report | ForEach-Object { '{0}|{1}|{2}|{3}' -f $_.Job, $_.ParameterText, $_.Status, $_.OutputText }
            """);
        Assert.Equal("Succeeded", attached[0].BaseObject);
        Assert.Equal(3, attached[1].BaseObject);
        Assert.Equal(new[] { "base-1|Base=1|Succeeded|join=4", "base-2|Base=2|Succeeded|join=7", "base-3|Base=3|Succeeded|join=10" }, attached.Skip(2).Take(3).Select(o => o.BaseObject));
        Assert.Equal(5, attached.Count);
        var table = ps.Render($"Get-AxlExperiment sweep -RunRoot '{Root}' -Report");
        Assert.Matches(@"Job\s+Parameters\s+Status\s+Duration\s+Outputs", table);
        Assert.Matches(@"base-2\s+Base=2\s+Succeeded\s+\d+\.\d\ds\s+join=7", table);

        var again = Run("Start-AxlExperiment sweep -JobSpec (New-AxlJobSpec x -WorkflowPath $diamond) -RunRoot $root");
        Assert.Contains("already exists", Assert.Single(again.Errors).Exception.Message);
    }

    [Fact]
    public void Stop_from_another_session_kills_the_jobs_and_marks_them_cancelled()
    {
        var file = _dir.Write("long.axl.ps1", """
            AxlWorkflow long {
                Parameter Seconds -Default 300
                Step spin -Command sleep -ArgumentList '{Seconds}'
            }
            """);
        var r = Run("""
            $wf = Get-AxlWorkflow $f
            1..3 | ForEach-Object { $wf | New-AxlJobSpec -Name "spin-$_" } | Start-AxlExperiment long-one -ThrottleLimit 2 -RunRoot $root
            """, ("f", file));
        r.ShouldSucceed();
        var stateFile = Path.Combine(Root, ".experiments", "long-one", "experiment.json");
        int[] pids = Array.Empty<int>();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            var jobs = JsonDocument.Parse(File.ReadAllText(stateFile)).RootElement.GetProperty("jobs").EnumerateArray().ToList();
            pids = jobs.Where(j => j.GetProperty("status").GetString() == "Running" && j.GetProperty("processId").ValueKind == JsonValueKind.Number)
                .Select(j => j.GetProperty("processId").GetInt32()).ToArray();
            if (pids.Length == 2 && pids.All(p => JobCmdletTests.Descendants(p).Any(c => JobCmdletTests.Comm(c) == "sleep"))) break;
            Thread.Sleep(100);
        }
        Assert.Equal(2, pids.Length);
        var tree = pids.Concat(pids.SelectMany(JobCmdletTests.Descendants)).ToArray();
        Assert.Equal(2, tree.Count(c => JobCmdletTests.Comm(c) == "sleep"));

        var stopped = Fresh("Stop-AxlExperiment long-one -RunRoot $root -PassThru | ForEach-Object { $_.Status; $_.Jobs | ForEach-Object { '{0}={1}' -f $_.Name, $_.Status } }");
        Assert.Equal(new object[] { "Cancelled", "spin-1=Cancelled", "spin-2=Cancelled", "spin-3=Cancelled" }, stopped.Select(o => o.BaseObject));
        foreach (var pid in tree) Assert.False(JobCmdletTests.Alive(pid), $"process {pid} still runs");
        Thread.Sleep(1000); // the launcher must not start the third job nor overwrite the cancellation
        var after = Fresh("(Get-AxlExperiment long-one -RunRoot $root).Jobs | ForEach-Object { '{0}={1}:{2}' -f $_.Name, $_.Status, [bool]$_.RunId }");
        Assert.Equal(new object[] { "spin-1=Cancelled:True", "spin-2=Cancelled:True", "spin-3=Cancelled:False" }, after.Select(o => o.BaseObject));
    }
}
