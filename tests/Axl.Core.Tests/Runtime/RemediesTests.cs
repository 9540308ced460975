using Axl.Runtime;
using Xunit;

namespace Axl.Core.Tests.Runtime;

/// <summary>Fix hints name the next command in the host's terms: PowerShell's parameters or the axl command's flags.</summary>
public sealed class RemediesTests
{
    [Fact]
    public void Resume_commands_are_PowerShell_or_CLI_as_the_host_says()
    {
        Assert.Equal("axl run local flows/etl.axl.ps1:etl --resume r1 --run-root /runs",
            Remedies.ResumeCommand(RemedyStyle.Cli, "flows/etl.axl.ps1:etl", "r1", "/runs"));
        Assert.Equal("Get-AxlWorkflow flows/etl.axl.ps1 -Name etl | Invoke-AxlLocalRun -Resume r1 -RunRoot /runs",
            Remedies.ResumeCommand(RemedyStyle.PowerShell, "flows/etl.axl.ps1:etl", "r1", "/runs"));
        Assert.Equal("Invoke-AxlLocalRun 'my flows/etl.axl.ps1' -Resume r1 -RunRoot 'C:\\it''s runs'",
            Remedies.ResumeCommand(RemedyStyle.PowerShell, "my flows/etl.axl.ps1", "r1", "C:\\it's runs"));
        Assert.Equal("-Resume r1", Remedies.ResumeOption(RemedyStyle.PowerShell, "r1"));
        Assert.Equal("--resume", Remedies.ResumeOption(RemedyStyle.Cli, null));
        Assert.Equal("-RunId", Remedies.RunIdOption(RemedyStyle.PowerShell));
        Assert.Contains("-Parameters @{ Token = ... }", Remedies.ResumeWithParameter(RemedyStyle.PowerShell, "r1", "Token"));
        Assert.Contains("--param Token=...", Remedies.ResumeWithParameter(RemedyStyle.Cli, "r1", "Token"));
        Assert.Equal(RemedyStyle.PowerShell, Remedies.Parse("PowerShell"));
        Assert.Equal(RemedyStyle.Cli, Remedies.Parse(Remedies.Name(RemedyStyle.Cli)));
        Assert.Null(Remedies.Parse("bash"));
    }
}
