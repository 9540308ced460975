using System.Diagnostics;
using System.Management.Automation;
using System.Reflection;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Get-Help as users see it, in the real engine with the built module imported.
///
/// How the engine finds the help of a binary module: each cmdlet's HelpFile is "&lt;assembly file name&gt;-Help.xml"
/// (Axl.Cmdlets.dll-Help.xml), searched in the module folder under culture folders: the current UI culture,
/// its parents, the folder itself, then "en-US" and "en" as fallbacks. This test host's UI culture is the
/// invariant culture, so the lookup goes module/ then module/en-US/ and finds the file there; a de-DE or
/// en-GB session falls back to en-US the same way. Nothing in the fixture or in users' sessions changes
/// culture. about_ topics are searched in the folders of loaded modules with the same culture rules, so
/// Get-Help about_Axl works in this hosted engine too.
/// </summary>
[Collection("PowerShell")]
public sealed class HelpTests(PowerShellFixture ps)
{
    private static readonly string[] Keywords = { "AxlWorkflow", "Step", "Parameter", "Graph" };

    /// <summary>What Get-Help -Full and Get-Command say about one exported cmdlet.</summary>
    private sealed record CmdletHelp(string Name, string[] TypeNames, string Synopsis, string Description, string[] ExampleCodes, string[] HelpParameters, string[] RealParameters);

    private List<CmdletHelp> AllHelp()
    {
        var r = ps.Run("""
            # -WhatIf and -Confirm (optional common parameters) are documented like any other parameter.
            $common = [System.Management.Automation.Cmdlet]::CommonParameters
            foreach ($name in (Get-Module Axl).ExportedCmdlets.Keys) {
                $h = Get-Help $name -Full
                [pscustomobject]@{
                    Name           = $name
                    TypeNames      = [string[]]@($h.PSObject.TypeNames)
                    Synopsis       = [string]$h.Synopsis
                    Description    = (@($h.description) | Where-Object { $_ } | ForEach-Object { $_.Text }) -join "`n"
                    ExampleCodes   = [string[]]@(@($h.examples.example) | Where-Object { $_ } | ForEach-Object { [string]$_.code })
                    HelpParameters = [string[]]@(@($h.parameters.parameter) | Where-Object { $_ } | ForEach-Object { [string]$_.name })
                    RealParameters = [string[]]@((Get-Command $name).Parameters.Keys | Where-Object { $_ -notin $common })
                }
            }
            """);
        r.ShouldSucceed();
        var list = r.Output.Select(o => new CmdletHelp(
            (string)o.Properties["Name"].Value,
            (string[])o.Properties["TypeNames"].Value,
            (string)o.Properties["Synopsis"].Value,
            (string)o.Properties["Description"].Value,
            (string[])o.Properties["ExampleCodes"].Value,
            (string[])o.Properties["HelpParameters"].Value,
            (string[])o.Properties["RealParameters"].Value)).OrderBy(h => h.Name, StringComparer.Ordinal).ToList();
        Assert.NotEmpty(list);
        return list;
    }

    [Fact]
    public void Every_exported_cmdlet_has_a_synopsis_a_description_and_examples_from_the_help_file()
    {
        var problems = new List<string>();
        foreach (var h in AllHelp())
        {
            // Without a help file Get-Help makes a stub: a CmdletHelpInfo whose synopsis is the syntax.
            if (!h.TypeNames.Contains("MamlCommandHelpInfo"))
                problems.Add($"{h.Name}: no help from the MAML file (Get-Help gives {h.TypeNames.FirstOrDefault()})");
            var synopsis = h.Synopsis.Trim();
            if (synopsis.Length == 0) problems.Add($"{h.Name}: empty synopsis");
            else if (synopsis.StartsWith(h.Name, StringComparison.OrdinalIgnoreCase) || synopsis.Contains("[-") || synopsis.Contains("<CommonParameters>"))
                problems.Add($"{h.Name}: the synopsis is the auto-generated syntax stub: {synopsis}");
            if (h.Description.Trim().Length == 0) problems.Add($"{h.Name}: empty description");
            if (h.ExampleCodes.Length == 0) problems.Add($"{h.Name}: no example");
            if (h.ExampleCodes.Any(c => c.Trim().Length == 0)) problems.Add($"{h.Name}: an example has no code");
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Help_documents_every_parameter_each_cmdlet_really_has_and_no_other()
    {
        var problems = new List<string>();
        foreach (var h in AllHelp())
        {
            foreach (var p in h.RealParameters.Except(h.HelpParameters, StringComparer.OrdinalIgnoreCase))
                problems.Add($"{h.Name}: -{p} is not in Get-Help");
            foreach (var p in h.HelpParameters.Except(h.RealParameters, StringComparer.OrdinalIgnoreCase))
                problems.Add($"{h.Name}: Get-Help documents -{p}, which the cmdlet does not have");
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Help_shows_what_the_code_declares_about_parameters()
    {
        var r = ps.Run("""
            $p = (Get-Help Get-AxlWorkflow -Full).parameters.parameter | Where-Object name -eq 'Path'
            $p.required; $p.position; $p.pipelineInput; $p.globbing; $p.aliases
            $f = (Get-Help ConvertTo-AxlIr -Full).parameters.parameter | Where-Object name -eq 'Format'
            $f.defaultValue
            @(@((Get-Help ConvertTo-AxlIr -Full).syntax.syntaxItem)[0].parameter | Where-Object name -eq 'Format' | ForEach-Object { $_.parameterValueGroup.parameterValue }) -join ','
            @((Get-Help Get-AxlWorkflow -Full).syntax.syntaxItem).Count
            """);
        r.ShouldSucceed();
        Assert.Equal(new object[] { "true", "0", "True (ByValue, ByPropertyName)", "true", "none", "Json", "Json,Yaml", 2 },
            r.Output.Select(o => o.BaseObject is string s ? s : o.BaseObject).ToArray());
    }

    [Fact]
    public void Keyword_aliases_show_the_help_of_their_cmdlet()
    {
        var r = ps.Run("""
            foreach ($alias in (Get-Module Axl).ExportedAliases.Values) {
                $h = Get-Help $alias.Name
                '{0}={1}|{2}' -f $alias.Name, $h.Name, ($h.Synopsis -eq (Get-Help $alias.Definition).Synopsis)
            }
            """);
        r.ShouldSucceed();
        var lines = r.Objects.Cast<string>().OrderBy(s => s, StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { "AxlSecret=New-AxlSecretReference|True", "AxlWorkflow=New-AxlWorkflow|True", "Graph=Add-AxlGraph|True", "Parameter=Add-AxlParameter|True", "Step=Add-AxlStep|True" }, lines);
    }

    [Fact]
    public void About_Axl_topic_is_found_and_names_every_keyword_and_cmdlet()
    {
        // The hosted engine supports about topics of loaded modules (module folder + culture folders),
        // so this asks Get-Help rather than reading the file.
        var r = ps.Run("""
            $t = Get-Help about_Axl
            @($t).Count
            [string]$t
            (Get-Module Axl).ExportedCmdlets.Keys
            """);
        r.ShouldSucceed();
        Assert.Equal(1, r.Output[0].BaseObject);
        var text = (string)r.Output[1].BaseObject;
        Assert.StartsWith("TOPIC", text.TrimStart());
        Assert.Contains("about_Axl", text);
        foreach (var keyword in Keywords)
            Assert.Matches(@"\b" + keyword + @"\b", text);
        foreach (var cmdlet in r.Output.Skip(2).Select(o => (string)o.BaseObject))
            Assert.Contains(cmdlet, text);
        Assert.Contains("workflow\" is a reserved word", text); // why the keyword is AxlWorkflow
        Assert.Contains("AssemblyLoadContext", text);
        Assert.Contains("axl validate", text);
    }

    [Fact]
    public void Built_module_carries_the_help_files_of_the_source_tree()
    {
        foreach (var file in new[] { "Axl.Cmdlets.dll-Help.xml", "about_Axl.help.txt" })
        {
            var source = Path.Combine(Repo.Root, "module", "en-US", file);
            var built = Path.Combine(Path.GetDirectoryName(Repo.ModuleManifest)!, "en-US", file);
            Assert.True(File.Exists(built), $"{built} is missing: the module layout did not copy module/en-US.");
            Assert.Equal(File.ReadAllText(source), File.ReadAllText(built));
        }
    }

    /// <summary>Runs tools/Axl.HelpGen --check: a cmdlet or parameter without text, or a stale MAML file, fails here.</summary>
    [Fact]
    public void Help_sources_are_in_sync_with_the_code()
    {
        var configuration = typeof(HelpTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dll = Path.Combine(Repo.Root, "tools", "Axl.HelpGen", "bin", configuration, "net10.0", "Axl.HelpGen.dll");
        Assert.True(File.Exists(dll), $"The help generator is not built at {dll}; run `dotnet build axl.sln` first.");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        foreach (var a in new[] { dll, "--check", "--root", Repo.Root }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail("Axl.HelpGen --check did not finish within 120 s"); }
        Assert.True(p.ExitCode == 0,
            $"Help is stale (exit {p.ExitCode}). Fix the pages in docs/cmdlets, then run `dotnet run --project tools/Axl.HelpGen -- --write` and build." +
            Environment.NewLine + stdout.Result + stderr.Result);
    }
}
