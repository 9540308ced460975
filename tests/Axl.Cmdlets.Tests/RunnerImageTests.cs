using System.Text.RegularExpressions;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// The runner image (runner/Dockerfile, published by .github/workflows/runner-image.yml) carries the version of the
/// code inside it, from the one source the module manifest and the assemblies use: &lt;AxlVersion&gt; in
/// Directory.Build.props. The image itself cannot be built here (its bases come from mcr.microsoft.com and ghcr.io);
/// these tests check the files that make it, and that the version check the Dockerfile runs matches what axl prints.
/// </summary>
[Collection("PowerShell")]
public sealed class RunnerImageTests(PowerShellFixture ps)
{
    private static string Read(string relative) => File.ReadAllText(Path.Combine(Repo.Root, relative));

    private static string PropsVersion => Regex.Match(Read("Directory.Build.props"), "<AxlVersion>([^<]+)</AxlVersion>").Groups[1].Value;

    [Fact]
    public void The_module_manifest_and_the_axl_command_have_the_version_of_Directory_Build_props()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+$", PropsVersion);
        Assert.Equal(PropsVersion, Regex.Match(Read("module/Axl.psd1"), @"ModuleVersion\s*=\s*'([^']+)'").Groups[1].Value);
        var version = CliTests.Axl("--version");
        Assert.Equal(0, version.Exit);
        // The exact line runner/Dockerfile compares with "axl ${AXL_VERSION}".
        Assert.Equal($"axl {PropsVersion}", version.Out.Trim());
    }

    [Fact]
    public void The_release_workflow_reads_the_version_from_Directory_Build_props_and_tags_version_major_minor_and_latest()
    {
        var yaml = Read(".github/workflows/runner-image.yml");
        // Its sed expression, applied here as a regex, finds the version.
        var sed = Regex.Match(yaml, @"sed -n 's:(.*?):\\1:p' Directory\.Build\.props");
        Assert.True(sed.Success, "the workflow no longer reads <AxlVersion> from Directory.Build.props with sed");
        var pattern = sed.Groups[1].Value.Replace(@"\(", "(").Replace(@"\)", ")");
        Assert.Equal(PropsVersion, Regex.Match(Read("Directory.Build.props"), pattern).Groups[1].Value);
        Assert.Contains("\"v${version}\"", yaml); // the release tag must name that version
        Assert.Contains("AXL_VERSION=${{ steps.version.outputs.version }}", yaml);
        Assert.Contains("type=semver,pattern={{version}}", yaml);
        Assert.Contains("type=semver,pattern={{major}}.{{minor}}", yaml);
        Assert.Contains("type=raw,value=latest", yaml);
        Assert.Contains("file: runner/Dockerfile", yaml);
        Assert.Contains("packages: write", yaml);
        // The image the workflow publishes is the default image of compiled workflows and of Build-AxlImage.
        var image = Regex.Match(yaml, @"IMAGE: (\S+)").Groups[1].Value;
        var r = ps.Run("(AxlWorkflow w { Step a { 1 } }).Image");
        r.ShouldSucceed();
        Assert.Equal($"{image}:{PropsVersion}", r.Output[0].BaseObject);
    }

    [Fact]
    public void The_runner_Dockerfile_takes_the_version_as_an_argument_and_checks_it_against_axl()
    {
        var dockerfile = Read("runner/Dockerfile");
        // No default that could drift from Directory.Build.props: the build stops without the argument.
        Assert.DoesNotMatch(@"ARG AXL_VERSION=", dockerfile);
        Assert.Contains("test -n \"${AXL_VERSION}\"", dockerfile);
        Assert.Contains("test \"$(axl --version)\" = \"axl ${AXL_VERSION}\"", dockerfile);
        Assert.Contains("ENV AXL_VERSION=${AXL_VERSION}", dockerfile);
        Assert.Contains("io.axl.version=\"${AXL_VERSION}\"", dockerfile);
        Assert.Contains("powershell:7.4", dockerfile);           // pwsh 7.4 LTS
        Assert.Contains("WORKDIR /axl/workdir", dockerfile);      // where compiled workflows expect the code
        Assert.Contains("ln -s /opt/axl/axl /usr/local/bin/axl", dockerfile); // command: [axl] in compiled templates
        // The module, as `dotnet publish` of the axl command lays it out, in pwsh's module path, checked by importing it.
        Assert.Contains("COPY --from=build /src/artifacts/module/Axl /usr/local/share/powershell/Modules/Axl", dockerfile);
        Assert.Contains("Import-Module Axl -ErrorAction Stop; (Get-Module Axl).Version.ToString()')\" = \"${AXL_VERSION}\"", dockerfile);
    }
}
