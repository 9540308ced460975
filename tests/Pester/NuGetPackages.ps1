# Where `dotnet restore tests/Pester/restore` put the packages the Pester suite uses (Pester, YamlDotNet 13.1.1):
# NuGet's global packages folder, as `dotnet nuget locals global-packages -l` names it (it follows $NUGET_PACKAGES
# and nuget.config). Dot-sourced by Invoke-AxlPester.ps1 and by the tests that load a package.

function Get-NuGetPackagesRoot {
    $line = @(dotnet nuget locals global-packages -l 2>&1) | Where-Object { "$_" -match '^global-packages: ' } | Select-Object -First 1
    if (-not $line) { throw "'dotnet nuget locals global-packages -l' named no folder (is the .NET SDK on PATH?)" }
    "$line" -replace '^global-packages: ', '' -replace '[\\/]+$', ''
}

# The path of a file inside a restored package (ids are lower case in the folder), with the restore command when missing.
function Get-NuGetPackageFile([string] $Id, [string] $Version, [string] $RelativePath) {
    $path = [System.IO.Path]::Combine((Get-NuGetPackagesRoot), $Id.ToLowerInvariant(), $Version, $RelativePath)
    if (-not (Test-Path -LiteralPath $path)) {
        throw "$Id $Version is not restored ($path is missing). Run 'dotnet restore tests/Pester/restore' at the repository root."
    }
    $path
}
