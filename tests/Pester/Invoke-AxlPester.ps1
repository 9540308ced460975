#Requires -Version 7.4
# Runs the Pester suite (tests/Pester/*.Tests.ps1) with Pester 5.7.1 restored from NuGet, as tests/run does:
#   dotnet tool restore; dotnet restore tests/Pester/restore; dotnet build axl.sln
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1
# Prints Pester's own report, then one line `Pester: N passed, N failed, N skipped` that tests/run adds to its count.
# Exits 0 only when every test ran and passed (or was skipped by a -Skip of its own). Counted as failed: failed tests,
# a container that did not load, a BeforeAll/AfterAll that failed (once per block, when none of its tests failed
# with it), tests that did not run or were inconclusive; a run that discovered no test at all is a failure too.
[CmdletBinding()]
param(
    # Files or folders of tests; the whole suite by default.
    [string[]] $Path = @($PSScriptRoot),
    # Detailed lists every test; Normal only the failures.
    [ValidateSet('Normal', 'Detailed', 'Diagnostic')] [string] $Verbosity = 'Detailed'
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'NuGetPackages.ps1')

$pesterVersion = '5.7.1'
try {
    $manifest = Get-NuGetPackageFile Pester $pesterVersion 'tools/Pester.psd1'
    $pester = Import-Module $manifest -Force -PassThru
    if ($pester.Version -ne [version] $pesterVersion) { throw "imported Pester $($pester.Version) from $manifest, expected $pesterVersion" }
}
catch {
    Write-Host "Pester could not be imported: $_"
    Write-Host 'Pester: 0 passed, 1 failed, 0 skipped'
    exit 1
}

$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Output.Verbosity = $Verbosity
if ([Console]::IsOutputRedirected) { $config.Output.RenderMode = 'Plaintext' } # no colour codes in logs
Write-Host "Pester $($pester.Version) ($manifest) on pwsh $($PSVersionTable.PSVersion)"
$result = Invoke-Pester -Configuration $config
if ($null -eq $result) {
    # e.g. no *.Tests.ps1 file under $Path: Invoke-Pester wrote its error and returned nothing.
    Write-Host "Pester: no result from Invoke-Pester on $($Path -join ', ')"
    Write-Host 'Pester: 0 passed, 1 failed, 0 skipped'
    exit 1
}

# A block that failed in BeforeAll/AfterAll while none of the tests under it failed (an AfterAll, or a BeforeAll of
# a block whose tests Pester did not mark) counts once; a BeforeAll whose tests all failed is already in FailedCount.
function Test-AnyTestFailed($Block) {
    if (@($Block.Tests | Where-Object Result -EQ 'Failed').Count -gt 0) { return $true }
    foreach ($child in $Block.Blocks) { if (Test-AnyTestFailed $child) { return $true } }
    $false
}
$failedBlocks = @($result.FailedBlocks | Where-Object { -not (Test-AnyTestFailed $_) }).Count
$passed = $result.PassedCount
$skipped = $result.SkippedCount
$failed = $result.FailedCount + $result.FailedContainersCount + $failedBlocks + $result.NotRunCount + $result.InconclusiveCount

foreach ($container in $result.FailedContainers) { Write-Host "Pester: the test file $($container.Item) did not load (see the discovery error above)" }
if ($result.NotRunCount -gt 0) { Write-Host "Pester: $($result.NotRunCount) tests did not run (counted as failed)" }
if ($result.InconclusiveCount -gt 0) { Write-Host "Pester: $($result.InconclusiveCount) tests were inconclusive (counted as failed)" }
if ($result.TotalCount -eq 0) { Write-Host "Pester: no test was discovered in $($Path -join ', ')"; $failed = [Math]::Max($failed, 1) }
if ($result.Result -ne 'Passed' -and $failed -eq 0) { Write-Host "Pester: the run's result is $($result.Result)"; $failed = 1 }

Write-Host "Pester: $passed passed, $failed failed, $skipped skipped"
exit ([int]($failed -gt 0))
