# Sales per region: a workflow in the style PowerShell users write. What the top of the file defines (a class from
# a module, dot-sourced helpers, functions, $script: variables) is visible to every step, in every host; what the
# steps write besides their output (verbose, host text, a warning) reaches you with the step's name.
#   Invoke-AxlLocalRun ./examples/sales/sales.axl.ps1 -Verbose -PassThru
#   ./axl run local examples/sales/sales.axl.ps1 --verbose
using module ./lib/Sales.psm1
. (Join-Path $PSScriptRoot 'lib/format.ps1')

function Get-SalesPath { Join-Path $PSScriptRoot 'sales.csv' }
$script:Threshold = 14

AxlWorkflow sales {
    Parameter MinRegions -Default 2

    Step load { Import-Csv -LiteralPath (Get-SalesPath) }

    Step totals {
        param($load)
        Write-Verbose "grouping $(@($load).Count) rows by region"
        $load | Group-Object region | ForEach-Object {
            [RegionTotal]::new($_.Name, ($_.Group | Measure-Object -Property amount -Sum).Sum)
        } | Sort-Object Total -Descending
    }

    Step report -IoHandler json {
        param($totals, $MinRegions)
        $big = @($totals | Where-Object Total -ge $script:Threshold)
        if ($big.Count -lt $MinRegions) { Write-Warning "only $($big.Count) region(s) reach $script:Threshold" }
        Write-Host "top region: $($big[0].Region) with $(Format-Amount $big[0].Total)"
        [ordered]@{ top = $big[0].Region; total = $big[0].Total; regions = @($totals).Count; big = @($big.Region) }
    }
}
