#Requires -Version 7.4
# Pester 5 tests that run the examples with the local runtime (Invoke-AxlLocalRun), as a user would.
# Run from the repository root after `dotnet build`:  Invoke-Pester tests/Pester

BeforeDiscovery {
    # log-errors needs GNU-style grep, cut, sort and uniq (Windows' own sort.exe is not one).
    $haveCoreutils = -not $IsWindows -and
        @('grep', 'cut', 'sort', 'uniq' | Where-Object { Get-Command $_ -CommandType Application -ErrorAction SilentlyContinue }).Count -eq 4
}

BeforeAll {
    $modulePath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/module/Axl/Axl.psd1'))
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $examplesRoot = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../examples'))
}

Describe 'iris-knn' {
    BeforeAll {
        $workflow = Get-AxlWorkflow -LiteralPath (Join-Path $examplesRoot 'iris-knn/iris-knn.axl.ps1') -ErrorAction Stop
        $runRoot = Join-Path $TestDrive 'runs'
    }

    It 'has the steps and edges of the seed example' {
        ($workflow.TopologicalOrder().Name -join ', ') | Should -Be 'load_data, split, train, evaluate, report'
        ($workflow.GetStep('split').Upstream -join ', ') | Should -Be 'load_data'
        ($workflow.GetStep('train').Upstream -join ', ') | Should -Be 'split'
        (@($workflow.GetStep('evaluate').Upstream | Sort-Object) -join ', ') | Should -Be 'split, train'
        $workflow.GetStep('evaluate').IoHandler | Should -Be 'json'
        $workflow.GetStep('train').Retries | Should -Be 2
        $workflow.GetStep('train').Resources.CpuRequest | Should -Be '500m'
        $workflow.GetStep('train').Resources.MemoryRequest | Should -Be '1Gi'
    }

    It 'has the parameters NNeighbors=3, TestFraction=0.2, Seed=42 and DataPath relative to the script' {
        $p = @{}; foreach ($x in $workflow.Parameters) { $p[$x.Name] = $x.Default }
        $p.NNeighbors | Should -Be 3
        $p.TestFraction | Should -Be 0.2
        $p.Seed | Should -Be 42
        $p.DataPath | Should -Be 'iris.csv'
        Test-Path -LiteralPath (Join-Path $examplesRoot 'iris-knn' $p.DataPath) | Should -BeTrue
    }

    It 'ships the 150-row iris data set, 50 rows per species' {
        $rows = Import-Csv -LiteralPath (Join-Path $examplesRoot 'iris-knn/iris.csv')
        $rows.Count | Should -Be 150
        @($rows | Group-Object species | Sort-Object Name | ForEach-Object { "$($_.Name)=$($_.Count)" }) -join ', ' |
            Should -Be 'setosa=50, versicolor=50, virginica=50'
    }

    It 'runs locally with an accuracy above 0.9, the same on every run' {
        $first = $workflow | Invoke-AxlLocalRun -RunRoot $runRoot
        $second = $workflow | Invoke-AxlLocalRun -RunRoot $runRoot
        $first.Status | Should -Be 'Succeeded'
        $accuracy = $first | Get-AxlArtifact -Step evaluate
        $accuracy | Should -BeGreaterThan 0.9
        $accuracy | Should -BeLessOrEqual 1.0
        ($second | Get-AxlArtifact -Step evaluate) | Should -Be $accuracy
        ($first | Get-AxlArtifact -Step report) | Should -Match '^iris-knn: k=3, train=120, test=30, accuracy=\d\.\d{4}$'
        Test-Path -LiteralPath (Join-Path $first.Directory 'evaluate/output.json') | Should -BeTrue
    }

    It 'takes parameters given at run time as strings' {
        $run = $workflow | Invoke-AxlLocalRun -RunRoot $runRoot -Parameters @{ NNeighbors = '5'; Seed = '7'; TestFraction = '0.3' }
        ($run | Get-AxlArtifact -Step evaluate) | Should -BeGreaterThan 0.85
        ($run | Get-AxlArtifact -Step report) | Should -Match 'k=5, train=105, test=45'
    }
}

Describe 'log-errors' {
    BeforeAll {
        $workflow = Get-AxlWorkflow -LiteralPath (Join-Path $examplesRoot 'log-errors/log-errors.axl.ps1') -ErrorAction Stop
    }

    It 'is made of command steps chained by placeholders and -Stdin' {
        ($workflow.TopologicalOrder().Name -join ', ') | Should -Be 'errors, messages, sorted, counted, ranked'
        foreach ($step in $workflow.Steps) { "$($step.Kind)" | Should -Be 'Command' }
        ($workflow.GetStep('errors').Arguments -join ' ') | Should -Be '-i error {LogFile}'
        $workflow.GetStep('counted').Stdin | Should -Be 'sorted'
        ($workflow.GetStep('counted').Upstream -join ', ') | Should -Be 'sorted'
    }

    It 'counts each kind of error in the sample log' -Skip:(-not $haveCoreutils) {
        $run = $workflow | Invoke-AxlLocalRun -RunRoot (Join-Path $TestDrive 'runs')
        $run.Status | Should -Be 'Succeeded'
        $ranked = $run | Get-AxlArtifact -Step ranked
        $lines = @($ranked -split '\r?\n' | Where-Object { $_ } | ForEach-Object { $_.Trim() -replace '\s+', ' ' })
        ($lines -join "`n") | Should -Be (@(
                '5 ERROR [auth] invalid token signature'
                '4 ERROR [api] request timeout after 30s: POST /orders'
                '3 ERROR [db] connection refused: postgres:5432'
                '2 ERROR [payments] upstream returned 502: gateway.example.com'
                '2 error [worker] disk full: /var/lib/app/uploads'
                '1 WARN [db] retrying after error: connection refused (attempt 1 of 3)'
            ) -join "`n")
    }
}

Describe 'external-repo' {
    BeforeDiscovery {
        $havePython = [bool](Get-Command python3 -CommandType Application -ErrorAction SilentlyContinue)
    }
    BeforeAll {
        $repo = Join-Path $examplesRoot 'external-repo'
        $workflow = Get-AxlWorkflow -LiteralPath (Join-Path $repo 'station-report.axl.ps1') -ErrorAction Stop
        $runRoot = Join-Path $TestDrive 'runs'
    }

    It 'is a repository of its own: the workflow, its Python helper, data and requirements side by side' {
        $workflow.Name | Should -Be 'station-report'
        foreach ($file in 'README.md', 'station-report.axl.ps1', 'lib/features.py', 'data/readings.csv', 'requirements.txt') {
            Test-Path -LiteralPath (Join-Path $repo $file) | Should -BeTrue -Because "$file belongs to the example"
        }
        # stdlib only: the requirements file pins nothing (comments only).
        @(Get-Content -LiteralPath (Join-Path $repo 'requirements.txt') | Where-Object { $_ -notmatch '^\s*(#|$)' }).Count | Should -Be 0
    }

    It 'fans three steps, two of them Python, into report' {
        ($workflow.GetStep('stats').Kind, $workflow.GetStep('anomalies').Kind, $workflow.GetStep('wet_days').Kind) -join ', ' | Should -Be 'Command, Command, Script'
        $workflow.GetStep('stats').Command | Should -Be 'python3'
        (@($workflow.GetStep('report').Upstream | Sort-Object) -join ', ') | Should -Be 'anomalies, stats, wet_days'
    }

    It 'reports the warmest station, the anomalies and the wet days, the same on every run' -Skip:(-not $havePython) {
        $first = $workflow | Invoke-AxlLocalRun -RunRoot $runRoot
        $second = $workflow | Invoke-AxlLocalRun -RunRoot $runRoot
        $first.Status | Should -Be 'Succeeded'
        $report = $first | Get-AxlArtifact -Step report
        $report.warmest | Should -Be 'cedar'
        $report.ranking -join ', ' | Should -Be 'cedar, alder, birch'
        @($report.anomalies | ForEach-Object { "$($_.station) $($_.day)" }) -join ', ' | Should -Be 'alder 2026-06-05, birch 2026-06-05, cedar 2026-06-01'
        @($report.wet_days | ForEach-Object { "$($_.station)=$($_.wet_days)" }) -join ', ' | Should -Be 'alder=3, birch=4, cedar=1'
        $hashes = @($first.Steps | Sort-Object Name | ForEach-Object OutputHash | Where-Object { $_ })
        $hashes.Count | Should -Be 4
        $hashes -join ',' | Should -Be (@($second.Steps | Sort-Object Name | ForEach-Object OutputHash) -join ',')
    }

    It 'takes the threshold at run time' -Skip:(-not $havePython) {
        $run = $workflow | Invoke-AxlLocalRun -RunRoot $runRoot -Parameters @{ Threshold = '2' }
        @(($run | Get-AxlArtifact -Step report).anomalies.station) -join ', ' | Should -Be 'alder, birch'
    }
}
