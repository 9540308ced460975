#Requires -Version 7.4
# Pester 5 tests that run the examples' steps in this pwsh session, the way a local runtime does:
# topological order, each input bound to the upstream step's output or the workflow parameter's value.
# (These do not need the local runtime; they prove the step logic, not the runtime.)
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

    # Runs every step of $Workflow in topological order and returns a hashtable: step name -> output.
    # Script steps: the body is invoked with its inputs as named arguments. Command steps: the program is
    # started with an argument list (no shell), {step} placeholders become that step's output file,
    # {Parameter} placeholders the parameter's value, -Stdin feeds a step's output file to standard input.
    function Invoke-TestRun($Workflow, [hashtable] $Parameters = @{}, [string] $RunDirectory) {
        $values = @{}
        foreach ($p in $Workflow.Parameters) { $values[$p.Name] = if ($Parameters.ContainsKey($p.Name)) { $Parameters[$p.Name] } else { $p.Default } }
        $outputs = @{}
        $files = @{}
        foreach ($step in $Workflow.TopologicalOrder()) {
            if ("$($step.Kind)" -eq 'Script') {
                $arguments = @{}
                foreach ($in in $step.Inputs) {
                    switch ("$($in.Source)") {
                        'Step' { $arguments[$in.Name] = $outputs[$in.SourceName] }
                        'Parameter' { $arguments[$in.Name] = $values[$in.SourceName] }
                    }
                }
                $result = @(& $step.Body @arguments)
                $outputs[$step.Name] = if ($result.Count -eq 1) { $result[0] } else { $result }
                continue
            }
            $psi = [System.Diagnostics.ProcessStartInfo]::new($step.Command)
            $psi.UseShellExecute = $false
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.RedirectStandardInput = $null -ne $step.Stdin
            foreach ($e in $step.Env.GetEnumerator()) { $psi.Environment[$e.Key] = $e.Value }
            foreach ($arg in $step.Arguments) {
                $psi.ArgumentList.Add([regex]::Replace($arg, '\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_-]*)\}', {
                            param($m)
                            if ($m.Value -eq '{{') { return '{' }
                            if ($m.Value -eq '}}') { return '}' }
                            $n = $m.Groups[1].Value
                            if ($files.ContainsKey($n)) { $files[$n] } else { [string]$values[$n] }
                        }))
            }
            $process = [System.Diagnostics.Process]::Start($psi)
            $stdout = $process.StandardOutput.ReadToEndAsync()
            $stderr = $process.StandardError.ReadToEndAsync()
            if ($step.Stdin) {
                $process.StandardInput.Write([System.IO.File]::ReadAllText($files[$step.Stdin]))
                $process.StandardInput.Close()
            }
            $process.WaitForExit()
            if ($process.ExitCode -ne 0) { throw "step '$($step.Name)': $($step.Command) exited with $($process.ExitCode): $($stderr.Result)" }
            $file = Join-Path $RunDirectory ($step.Name + $step.Output.Extension)
            [System.IO.File]::WriteAllText($file, $stdout.Result)
            $files[$step.Name] = $file
            $outputs[$step.Name] = $stdout.Result
        }
        $outputs
    }
}

Describe 'iris-knn' {
    BeforeAll {
        $workflow = Get-AxlWorkflow -LiteralPath (Join-Path $examplesRoot 'iris-knn/iris-knn.axl.ps1') -ErrorAction Stop
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

    It 'has the parameters NNeighbors=3, TestFraction=0.2, Seed=42 and DataPath next to the script' {
        $p = @{}; foreach ($x in $workflow.Parameters) { $p[$x.Name] = $x.Default }
        $p.NNeighbors | Should -Be 3
        $p.TestFraction | Should -Be 0.2
        $p.Seed | Should -Be 42
        Test-Path -LiteralPath $p.DataPath | Should -BeTrue
        Split-Path $p.DataPath -Leaf | Should -Be 'iris.csv'
    }

    It 'ships the 150-row iris data set, 50 rows per species' {
        $rows = Import-Csv -LiteralPath (Join-Path $examplesRoot 'iris-knn/iris.csv')
        $rows.Count | Should -Be 150
        @($rows | Group-Object species | Sort-Object Name | ForEach-Object { "$($_.Name)=$($_.Count)" }) -join ', ' |
            Should -Be 'setosa=50, versicolor=50, virginica=50'
    }

    It 'classifies the held-out rows with an accuracy above 0.9, the same on every run' {
        $first = Invoke-TestRun $workflow
        $second = Invoke-TestRun $workflow
        $first.evaluate | Should -BeOfType ([double])
        $first.evaluate | Should -BeGreaterThan 0.9
        $first.evaluate | Should -BeLessOrEqual 1.0
        $second.evaluate | Should -Be $first.evaluate
        $first.report | Should -Match '^iris-knn: k=3, train=120, test=30, accuracy=\d\.\d{4}$'
    }

    It 'takes parameters given at run time as strings' {
        $run = Invoke-TestRun $workflow -Parameters @{ NNeighbors = '5'; Seed = '7'; TestFraction = '0.3' }
        $run.evaluate | Should -BeGreaterThan 0.85
        $run.report | Should -Match 'k=5, train=105, test=45'
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
        $run = Invoke-TestRun $workflow -RunDirectory $TestDrive
        $lines = @($run.ranked -split '\r?\n' | Where-Object { $_ } | ForEach-Object { $_.Trim() -replace '\s+', ' ' })
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
