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
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    [switch] $Test,
    [switch] $Install
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

dotnet build axl.sln -c $Configuration -nologo
if ($LASTEXITCODE) { throw "dotnet build failed with exit code $LASTEXITCODE" }
$module = Join-Path $PSScriptRoot 'artifacts/module/Axl'
$manifest = Import-PowerShellDataFile (Join-Path $module 'Axl.psd1')
Write-Host "Module $($manifest.ModuleVersion) laid out in $module"

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
