using System.Management.Automation;
using Xunit;

namespace Axl.Cmdlets.Tests;

[Collection("PowerShell")]
public sealed class ModuleTests(PowerShellFixture ps)
{
    [Fact]
    public void Engine_assembly_loads_in_its_own_context_despite_another_YamlDotNet_in_the_default_one()
    {
        // The test host already has YamlDotNet 13.1.1 in the default context (a package reference of this project).
        var older = typeof(YamlDotNet.Serialization.Serializer).Assembly;
        Assert.Equal(13, older.GetName().Version!.Major);

        var r = ps.Run("""
            $wf = Get-AxlWorkflow "$examples/diamond/diamond.axl.ps1"
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($wf.GetType().Assembly).Name
            $wf | ConvertTo-AxlIr -Format Yaml
            """, new Dictionary<string, object> { ["examples"] = Repo.Examples });
        r.ShouldSucceed();
        Assert.Equal("Axl", r.Output[0].BaseObject);
        Assert.Contains("name: diamond", (string)r.Output[1].BaseObject);
        var yamlInDefault = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "YamlDotNet").ToList();
        Assert.Contains(yamlInDefault, a => a.GetName().Version!.Major == 18);
        Assert.Contains(yamlInDefault, a => a.GetName().Version!.Major == 13);
    }

    [Fact]
    public void Manifest_requires_PowerShell_7_4_exports_explicitly_and_matches_the_assembly_versions()
    {
        var r = ps.Run("""
            $m = Get-Module Axl
            $m.Version.ToString()
            [AxlWorkflow].Assembly.GetName().Version.ToString(3)
            $m.ImplementingAssembly.GetName().Version.ToString(3)
            $m.PowerShellVersion.ToString()
            $m.ExportedCmdlets.Count
            $m.ExportedAliases.Keys -join ','
            """);
        r.ShouldSucceed();
        var o = r.Objects.Select(x => x.ToString()).ToList();
        Assert.Equal(o[0], o[1]);
        Assert.Equal(o[0], o[2]);
        Assert.Equal("7.4", o[3]);
        var manifest = File.ReadAllText(Path.Combine(Repo.Root, "module", "Axl.psd1"));
        var listed = System.Text.RegularExpressions.Regex.Matches(manifest, @"'((?:New|Add|Get|Test|ConvertTo|ConvertFrom|Invoke|Register|Publish|Submit|Start|Stop|Wait|Build|Remove|Show|Export)-Axl\w+|ConvertTo-\w+)'").Count;
        Assert.Equal(listed.ToString(), o[4]);
        Assert.Equal("AxlSecret,AxlWorkflow,Graph,Parameter,Step", string.Join(",", o[5].Split(',').OrderBy(x => x, StringComparer.Ordinal)));
    }
}
