using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>ConvertTo-AxlJobEnvelope and Test-AxlJobEnvelope in the real engine, on examples/log-errors.</summary>
[Collection("PowerShell")]
public sealed class JobEnvelopeCmdletTests(PowerShellFixture ps) : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();
    private static string LogErrors => Path.Combine(Repo.Examples, "log-errors", "log-errors.axl.ps1");

    [Fact]
    public void Log_errors_converts_to_a_valid_envelope_of_five_piped_tasks()
    {
        var r = ps.Run("""
            $e = Get-AxlWorkflow $f | ConvertTo-AxlJobEnvelope -Parameters @{ LogFile = '/tmp/app.log' }
            $e.GetType().Name
            $e.Tasks.Command -join ','
            $e.Tasks[0].Args -join ' '
            ($e.Tasks | ForEach-Object { "$($_.InputFromTask)" }) -join ','
            $e.PlanDescription
            $e | Test-AxlJobEnvelope -Quiet
            """, new Dictionary<string, object> { ["f"] = LogErrors });
        r.ShouldSucceed();
        Assert.Equal(new object[] { "JobEnvelope", "grep,cut,env,env,env", "-i error /tmp/app.log", ",1,2,3,4", "Extract the error lines of a log and count each kind", true }, r.Objects);
    }

    [Fact]
    public void AsJson_and_Test_by_path_and_text()
    {
        var json = ps.Run("ConvertTo-AxlJobEnvelope -Path $f -AsJson -JobId job-7", new Dictionary<string, object> { ["f"] = LogErrors });
        json.ShouldSucceed();
        var text = Assert.IsType<string>(Assert.Single(json.Objects));
        Assert.Contains("\"job_id\": \"job-7\"", text);
        var file = _dir.Write("job.json", text);
        var ok = ps.Run("Test-AxlJobEnvelope -Path $p; Test-AxlJobEnvelope $t -Quiet", new Dictionary<string, object> { ["p"] = file, ["t"] = text });
        ok.ShouldSucceed();
        Assert.Equal(new object[] { true }, ok.Objects);

        var gap = """{"job_id":"j","plan_id":"p","tasks":[{"task_number":1,"command":"a","args":[]},{"task_number":2,"command":"b","args":[]},{"task_number":4,"command":"c","args":[]}]}""";
        var bad = ps.Run("Test-AxlJobEnvelope $t | ForEach-Object Message", new Dictionary<string, object> { ["t"] = gap });
        Assert.Equal(new object[] { "Invalid task numbering: gap between task 2 and 4" }, bad.Objects);
    }

    [Fact]
    public void V01_envelope_gives_a_deprecation_warning_and_file_placeholder_an_error()
    {
        var v01 = """{"job_id":"j","plan_id":"p","steps":[{"step_number":1,"command":"sort","args":[]}]}""";
        var r = ps.Run("Test-AxlJobEnvelope $t -Quiet", new Dictionary<string, object> { ["t"] = v01 });
        Assert.Equal(new object[] { true }, r.Objects);
        Assert.Contains(r.Warnings, w => w.Contains("v0.1 field names"));

        var file = _dir.Write("f.axl.ps1", "AxlWorkflow f { Step a -Command echo -ArgumentList x; Step b -Command cat -ArgumentList '{a}' }");
        var err = ps.Run("ConvertTo-AxlJobEnvelope -Path $f", new Dictionary<string, object> { ["f"] = file });
        var e = Assert.Single(err.Errors);
        Assert.StartsWith("Axl.JobEnvelopeUnsupported", e.FullyQualifiedErrorId);
        Assert.Contains("step 'b' reads the output of step 'a' through the file placeholder {a}", e.Exception.Message);
    }
}
