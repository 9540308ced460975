#requires -Version 7.4
<#
.SYNOPSIS
    Builds Axl, runs its tests and lays out the module for PowerShell users.
.DESCRIPTION
    `dotnet build` alone already produces the importable module in artifacts/module/Axl and the axl
    command in artifacts/cli (the module carries it too, in its cli folder, for its local jobs). This script adds the rest of the loop: tests (xunit and Pester),
    and installing the module into your user module path.
.EXAMPLE
    ./build.ps1                 # build; the module is in artifacts/module/Axl
.EXAMPLE
    ./build.ps1 -Test           # build and run every test (tests/run)
.EXAMPLE
    ./build.ps1 -Install        # build and copy the module to your user module path; then: Import-Module Axl
.EXAMPLE
    ./build.ps1 -Package        # the two things users install, in artifacts/package:
                                #   module/Axl.<version>.nupkg  (Install-PSResource Axl / Install-Module Axl; carries the
                                #                                axl host its local jobs start, in its cli folder)
                                #   tool/axl.<version>.nupkg    (dotnet tool install -g axl)
    Try them as from a feed:
        Register-PSResourceRepository -Name AxlLocal -Uri ./artifacts/package/module -Trusted
        Install-PSResource Axl -Repository AxlLocal
        dotnet tool install -g axl --add-source ./artifacts/package/tool
.NOTES
    The version of everything comes from one place: <AxlVersion> in Directory.Build.props (the assemblies, the axl
    command and its tool package); module/Axl.psd1's ModuleVersion must equal it (tests check it; -Package refuses
    otherwise). A release is the tag v<AxlVersion> (.github/workflows/release.yml).
    The packages hold the portable build of the axl host (every OS the engine runs on); the plain build lays out a
    ReadyToRun one for this machine. The package build lays out in <PackagePath>/layout and leaves artifacts/module and
    artifacts/cli as they are.
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [switch] $Test,
    [switch] $Install,
    [switch] $Package,
    [string] $PackagePath = (Join-Path $PSScriptRoot 'artifacts/package')
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

$manifest = Import-PowerShellDataFile (Join-Path $PSScriptRoot 'module/Axl.psd1')
$module = Join-Path $PSScriptRoot 'artifacts/module/Axl'
if (-not $Package -or $Test -or $Install) {
    dotnet build axl.sln -c $Configuration -nologo
    if ($LASTEXITCODE) { throw "dotnet build failed with exit code $LASTEXITCODE" }
    Write-Host "Module $($manifest.ModuleVersion) laid out in $module"
}

if ($Test) {
    $env:CONFIGURATION = $Configuration
    & (Join-Path $PSScriptRoot 'tests/run')
    if ($LASTEXITCODE) { throw "tests failed" }
}

if ($Install) {
    $userModules = ($env:PSModulePath -split [IO.Path]::PathSeparator)[0]
    $target = Join-Path $userModules "Axl/$($manifest.ModuleVersion)"
    if (Test-Path $target) { Remove-Item $target -Recurse -Force }
    New-Item -ItemType Directory -Force -Path $target | Out-Null
    Copy-Item -Path (Join-Path $module '*') -Destination $target -Recurse
    Write-Host "Installed to $target. Import-Module Axl to use it."
}

if ($Package) {
    $version = [regex]::Match((Get-Content -Raw (Join-Path $PSScriptRoot 'Directory.Build.props')), '<AxlVersion>([^<]+)</AxlVersion>').Groups[1].Value
    if ($version -ne $manifest.ModuleVersion) {
        throw "module/Axl.psd1 says ModuleVersion $($manifest.ModuleVersion) but Directory.Build.props says <AxlVersion>$version</AxlVersion>. Set both to the version you release."
    }
    $PackagePath = [System.IO.Path]::GetFullPath($PackagePath, (Get-Location).Path)
    $layout = Join-Path $PackagePath 'layout'
    $moduleFeed = Join-Path $PackagePath 'module'
    $toolFeed = Join-Path $PackagePath 'tool'
    foreach ($dir in $layout, $moduleFeed, $toolFeed) {
        if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force }
        New-Item -ItemType Directory -Force -Path $dir | Out-Null
    }
    # The portable build, laid out away from artifacts/: the module (with the axl host in its cli folder) and the host.
    $layoutProps = @(
        '-p:AxlCliReadyToRun=false'
        "-p:AxlModuleOut=$(Join-Path $layout 'module/Axl')/"
        "-p:AxlCliOut=$(Join-Path $layout 'cli')/"
    )
    Write-Progress -Activity 'Packaging Axl' -Status "building $version (portable)" -PercentComplete 10
    dotnet build axl.sln -c $Configuration -nologo @layoutProps
    if ($LASTEXITCODE) { throw "dotnet build of the package layout failed with exit code $LASTEXITCODE" }

    # The module, as the PowerShell Gallery serves it (Install-PSResource / Install-Module).
    Write-Progress -Activity 'Packaging Axl' -Status 'the module package' -PercentComplete 60
    Compress-PSResource -Path (Join-Path $layout 'module/Axl') -DestinationPath $moduleFeed

    # The axl command as a .NET tool (dotnet tool install -g axl).
    Write-Progress -Activity 'Packaging Axl' -Status 'the .NET tool package' -PercentComplete 80
    dotnet pack src/Axl.Cli/Axl.Cli.csproj -c $Configuration --no-build -nologo @layoutProps -p:AxlPackTool=true -o $toolFeed
    if ($LASTEXITCODE) { throw "dotnet pack of the axl tool failed with exit code $LASTEXITCODE" }
    Write-Progress -Activity 'Packaging Axl' -Completed

    $expected = @((Join-Path $moduleFeed "Axl.$version.nupkg"), (Join-Path $toolFeed "axl.$version.nupkg"))
    foreach ($file in $expected) {
        if (-not (Test-Path -LiteralPath $file)) { throw "Packaging did not produce $file (version $version from module/Axl.psd1)." }
        Get-Item -LiteralPath $file
    }
    Write-Host "Packages of Axl $version in $PackagePath (module/ for Install-PSResource, tool/ for dotnet tool install)"
}
