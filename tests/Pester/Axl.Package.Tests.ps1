#Requires -Version 7.4
# Pester 5 tests of Axl installed as users install things (issue 18, point 6): `./build.ps1 -Package` makes the module
# package (PowerShell Gallery layout, with the axl host its local jobs start) and the `axl` .NET tool package; each is
# installed from a local folder feed exactly as from a remote one (Register-PSResourceRepository + Install-PSResource;
# dotnet tool install -g --add-source with a NuGet.config of that folder only), in a HOME of its own, used, and removed
# again. The version of both is <AxlVersion> of Directory.Build.props (which module/Axl.psd1's ModuleVersion equals).
# Run from the repository root after `dotnet build`:
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1 -Path tests/Pester/Axl.Package.Tests.ps1

BeforeAll {
    $script:repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $script:version = [regex]::Match((Get-Content -Raw -LiteralPath (Join-Path $repo 'Directory.Build.props')), '<AxlVersion>([^<]+)</AxlVersion>').Groups[1].Value
    $script:diamond = Join-Path $repo 'examples/diamond/diamond.axl.ps1'
    $script:pwshPath = [Environment]::ProcessPath
    $script:pwshArgs = @(if ([System.IO.Path]::GetFileNameWithoutExtension($pwshPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    $script:packages = Join-Path $TestDrive 'packages'
    $configuration = if ($env:CONFIGURATION) { $env:CONFIGURATION } else { 'Debug' }

    # The packages, made by the script a release runs (the configuration the tests built, so it is incremental).
    $script:build = & $pwshPath @pwshArgs -NoProfile -NonInteractive -File (Join-Path $repo 'build.ps1') -Package -Configuration $configuration -PackagePath $packages 2>&1 |
        ForEach-Object { "$_" }
    $script:buildExit = $LASTEXITCODE

    # Runs script text (or a native command) with a HOME, module path and NuGet/dotnet homes of its own.
    function Invoke-Isolated([string] $Name, [scriptblock] $Action) {
        $home2 = Join-Path $TestDrive "home-$Name"
        New-Item -ItemType Directory -Force -Path $home2 | Out-Null
        $names = 'HOME', 'PSModulePath', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'DOTNET_CLI_HOME', 'NUGET_PACKAGES', 'DOTNET_CLI_TELEMETRY_OPTOUT'
        $saved = @{}
        foreach ($k in $names) { $saved[$k] = [Environment]::GetEnvironmentVariable($k) }
        try {
            $env:HOME = $home2
            $env:DOTNET_CLI_HOME = $home2
            $env:NUGET_PACKAGES = Join-Path $home2 '.nuget/packages'
            $env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
            foreach ($k in 'PSModulePath', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME') { [Environment]::SetEnvironmentVariable($k, $null) }
            & $Action $home2
        }
        finally {
            foreach ($k in $names) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
        }
    }
    function Invoke-FreshPwsh([string] $Script) {
        $out = & $pwshPath @pwshArgs -NoProfile -NonInteractive -Command $Script 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Out = @($out | ForEach-Object { "$_" }) }
    }
}

Describe './build.ps1 -Package' {
    It 'makes the module package and the axl tool package, both at the version of Directory.Build.props' {
        $buildExit | Should -Be 0 -Because ($build -join "`n")
        Test-Path -LiteralPath (Join-Path $packages "module/Axl.$version.nupkg") | Should -BeTrue
        Test-Path -LiteralPath (Join-Path $packages "tool/axl.$version.nupkg") | Should -BeTrue
    }

    It 'puts the module with its axl host and help into the module package, and the tool settings into the tool package' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead((Join-Path $packages "module/Axl.$version.nupkg"))
        try { $entries = @($zip.Entries.FullName) } finally { $zip.Dispose() }
        foreach ($e in 'Axl.psd1', 'Axl.Cmdlets.dll', 'Axl.Format.ps1xml', 'Axl.Types.ps1xml', 'en-US/about_Axl.help.txt', 'cli/axl.dll', 'cli/axl.runtimeconfig.json') {
            $entries | Should -Contain $e
        }
        $entries | Where-Object { $_ -like 'Dependencies/*.dll' } | Should -Not -BeNullOrEmpty
        $zip = [System.IO.Compression.ZipFile]::OpenRead((Join-Path $packages "tool/axl.$version.nupkg"))
        try { $entries = @($zip.Entries.FullName) } finally { $zip.Dispose() }
        $entries | Should -Contain 'tools/net10.0/any/DotnetToolSettings.xml'
        $entries | Should -Contain 'tools/net10.0/any/axl.dll'
        $entries | Should -Contain 'tools/net10.0/any/Axl.Format.ps1xml'
    }
}

Describe 'The release workflow' {
    It 'checks the tag against the version, packages with build.ps1 -Package and publishes both packages of that version' {
        $yaml = Get-Content -Raw -LiteralPath (Join-Path $repo '.github/workflows/release.yml')
        $yaml | Should -Match "tags: \['v\*\.\*\.\*'\]"
        $yaml | Should -Match ([regex]::Escape('"${GITHUB_REF_NAME}" != "v${version}"'))
        $yaml | Should -Match 'build\.ps1 -Package -Configuration Release -PackagePath artifacts/package'
        $yaml | Should -Match ([regex]::Escape('Publish-PSResource -NupkgPath artifacts/package/module/Axl.${{ steps.version.outputs.version }}.nupkg -Repository PSGallery'))
        $yaml | Should -Match ([regex]::Escape('dotnet nuget push artifacts/package/tool/axl.${{ steps.version.outputs.version }}.nupkg'))
        # Its sed expression finds the version this suite packaged.
        $sed = [regex]::Match($yaml, "sed -n 's:(.*?):\\1:p' Directory\.Build\.props")
        $sed.Success | Should -BeTrue
        $pattern = $sed.Groups[1].Value.Replace('\(', '(').Replace('\)', ')')
        [regex]::Match((Get-Content -Raw -LiteralPath (Join-Path $repo 'Directory.Build.props')), $pattern).Groups[1].Value | Should -Be $version
    }
}

Describe 'The module installed from a feed' {
    It 'installs with Install-PSResource, imports in a fresh pwsh, runs a workflow and a local job, and uninstalls' {
        $r = Invoke-Isolated module {
            param($home2)
            Invoke-FreshPwsh @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name AxlLocal -Uri '$(Join-Path $packages 'module')' -Trusted
Install-PSResource Axl -Repository AxlLocal -Scope CurrentUser -TrustRepository
`$installed = Get-InstalledPSResource Axl
"installed `$(`$installed.Version) at `$(`$installed.InstalledLocation)"
Import-Module Axl
"base `$((Get-Module Axl).ModuleBase)"
`$run = Invoke-AxlLocalRun -Path '$diamond' -RunRoot '$(Join-Path $home2 'runs')'
"run `$(`$run.Status) `$(Get-AxlArtifact -RunId `$run.RunId -RunRoot '$(Join-Path $home2 'runs')' -Step join)"
`$job = Get-AxlWorkflow -LiteralPath '$diamond' | Submit-AxlJob -Target Local -RunRoot '$(Join-Path $home2 'jobs')'
`$result = `$job | Wait-AxlJob -Timeout 180
"job `$(`$result.Status)"
Remove-Module Axl
Uninstall-PSResource Axl -Scope CurrentUser
"left `$(@(Get-InstalledPSResource Axl -ErrorAction SilentlyContinue).Count)"
"@
        }
        $r.ExitCode | Should -Be 0 -Because ($r.Out -join "`n")
        $moduleRoot = Join-Path $TestDrive 'home-module/.local/share/powershell/Modules'
        $r.Out | Should -Contain "installed $version at $moduleRoot"
        $r.Out | Should -Contain "base $(Join-Path $moduleRoot "Axl/$version")"
        $r.Out | Should -Contain 'run Succeeded 31'
        $r.Out | Should -Contain 'job Succeeded' -Because 'the installed module starts the axl host it carries'
        $r.Out | Should -Contain 'left 0'
        Test-Path -LiteralPath (Join-Path $moduleRoot 'Axl') | Should -BeFalse
    }
}

Describe 'The axl tool installed from a feed' {
    It 'installs with dotnet tool install -g, shows its help and version, runs a workflow, and uninstalls' {
        $r = Invoke-Isolated tool {
            param($home2)
            # A NuGet.config of the folder only: the install cannot come from anywhere else.
            $config = Join-Path $home2 'NuGet.config'
            Set-Content -LiteralPath $config -Value @"
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="axl-local" value="$(Join-Path $packages 'tool')" />
  </packageSources>
</configuration>
"@
            $log = [System.Collections.Generic.List[string]]::new()
            $log.AddRange([string[]]@(dotnet tool install -g axl --version $version --configfile $config 2>&1 | ForEach-Object { "$_" }))
            $installExit = $LASTEXITCODE
            $axl = Join-Path $home2 '.dotnet/tools/axl'
            $help = @(& $axl --help 2>&1 | ForEach-Object { "$_" }); $helpExit = $LASTEXITCODE
            $ver = @(& $axl --version 2>&1 | ForEach-Object { "$_" })
            $run = @(& $axl run local $diamond --run-root (Join-Path $home2 'runs') 2>&1 | ForEach-Object { "$_" }); $runExit = $LASTEXITCODE
            $list = @(dotnet tool list -g 2>&1 | ForEach-Object { "$_" })
            $log.AddRange([string[]]@(dotnet tool uninstall -g axl 2>&1 | ForEach-Object { "$_" }))
            $uninstallExit = $LASTEXITCODE
            [pscustomobject]@{ InstallExit = $installExit; HelpExit = $helpExit; Help = $help; Version = $ver; RunExit = $runExit; Run = $run
                List = $list; UninstallExit = $uninstallExit; Log = $log; Left = Test-Path -LiteralPath $axl }
        }
        $r.InstallExit | Should -Be 0 -Because ($r.Log -join "`n")
        $r.HelpExit | Should -Be 0
        ($r.Help -join "`n") | Should -Match 'Usage: axl <command>'
        $r.Version | Should -Contain "axl $version"
        $r.RunExit | Should -Be 0 -Because ($r.Run -join "`n")
        ($r.Run -join "`n") | Should -Match 'join = 31'
        ($r.List -join "`n") | Should -Match "axl\s+$([regex]::Escape($version))\s+axl"
        $r.UninstallExit | Should -Be 0 -Because ($r.Log -join "`n")
        $r.Left | Should -BeFalse
    }
}
