# Station report: a workflow kept in a repository of its own, the way a team keeps one. It is not part of Axl's
# source: its Python helper (lib/features.py), its data (data/readings.csv) and its requirements.txt sit beside
# it, and the whole folder is what goes to the cluster (a code archive, or an image). See README.md.
#
#   stats ------\
#   anomalies ---> report
#   wet_days ---/
#
# stats and anomalies run python3 on lib/features.py (command steps run in this folder, so the relative paths
# find the files here, locally and at /axl/workdir in a container); wet_days is PowerShell; report joins the three
# and calls the same Python helper to rank the stations.

# A path of this repository: relative to this file's folder (where a pod extracts the code), or absolute.
function Get-RepoPath([string] $Path) { [System.IO.Path]::GetFullPath($Path, $PSScriptRoot) }

AxlWorkflow station-report -Description 'Per-station weather statistics, temperature anomalies and wet days' {
    Parameter Readings -Default 'data/readings.csv' -Type string -Description 'the readings (CSV: station, day, temp_c, rain_mm), relative to this folder or absolute'
    Parameter Threshold -Default 1.5 -Type double -Description 'a reading is an anomaly beyond this many standard deviations from its station''s mean'
    Parameter WetDay -Default 1 -Type double -Description 'the rain (mm) that makes a day wet'

    # Per-station statistics as JSON (the step's standard output is its output).
    Step stats -Command python3 -ArgumentList 'lib/features.py', 'stats', '{Readings}' -Timeout 60

    # The anomalous readings as CSV.
    Step anomalies -Command python3 -ArgumentList 'lib/features.py', 'anomalies', '{Readings}', '{Threshold}' -Timeout 60

    # The wet days of each station, in PowerShell.
    Step wet_days -IoHandler json {
        param([string] $Readings, [double] $WetDay)
        Import-Csv -LiteralPath (Get-RepoPath $Readings) | Where-Object { [double] $_.rain_mm -ge $WetDay } |
            Group-Object station | Sort-Object Name | ForEach-Object {
                [pscustomobject]@{ station = $_.Name; wet_days = $_.Count; days = @($_.Group.day) }
            }
    }

    # The fan-in: one JSON report. The ranking comes from the Python helper, fed the statistics on standard input.
    Step report -IoHandler json {
        param([string] $stats, [string] $anomalies, $wet_days)
        $ranking = @($stats | & python3 (Get-RepoPath 'lib/features.py') rank)
        if ($LASTEXITCODE -ne 0) { throw "lib/features.py rank exited $LASTEXITCODE" }
        [ordered]@{
            warmest   = $ranking[0]
            ranking   = $ranking
            stations  = @(($stats | ConvertFrom-Json).stations)
            anomalies = @($anomalies | ConvertFrom-Csv | ForEach-Object { [ordered]@{ station = $_.station; day = $_.day; temp_c = [double] $_.temp_c; z = [double] $_.z } })
            wet_days  = @($wet_days)
        }
    }
}
