#Requires -Version 7.4
# Pester 5 tests of run retention (issue 18, point 2): Remove-AxlRun and `axl runs prune` remove runs by id, by age
# (-OlderThan / --older-than) and all but the newest N per workflow (-Keep / --keep), with -WhatIf / --dry-run, and
# never a run in progress: a run held by a running `axl run local` (its lock) is skipped while the others go, and it
# ends normally with its outputs. Interrupted removals are cleaned up; cache entries of removed runs go with them.
# The hash-addressed store (-UseHash / --use-hash): each distinct output is one file in <run root>/store, hard-linked
# from every run that made it; a prune keeps the entries kept and running runs use and frees the rest.
# Run from the repository root after `dotnet build`:
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1 -Path tests/Pester/Axl.Retention.Tests.ps1

BeforeAll {
    $script:repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    Import-Module (Join-Path $repo 'artifacts/module/Axl/Axl.psd1') -Force -ErrorAction Stop
    $script:axlDll = Join-Path $repo 'artifacts/cli/axl.dll'
    $script:dotnet = (Get-Command dotnet -CommandType Application | Select-Object -First 1).Source

    $script:flow = Join-Path $TestDrive 'flow/keep.axl.ps1'
    New-Item -ItemType Directory -Force -Path (Split-Path $flow) | Out-Null
    Set-Content -LiteralPath $flow -Value @'
AxlWorkflow keep {
    Parameter N -Default 1
    Step one { param($N) [int]$N * 2 }
    Step two { param($one) if ($one -lt 0) { throw "negative: $one" }; $one + 1 }
}
'@
    $script:other = Join-Path $TestDrive 'flow/other.axl.ps1'
    Set-Content -LiteralPath $other -Value "AxlWorkflow other {`n    Step only { 'x' }`n}"
    # A step that waits for a file: the run stays in progress (holding its lock) until the test lets it go.
    $script:slow = Join-Path $TestDrive 'flow/slow.axl.ps1'
    Set-Content -LiteralPath $slow -Value @'
AxlWorkflow slow {
    Parameter Gate
    Step wait { param($Gate) $n = 0; while (-not (Test-Path -LiteralPath $Gate) -and $n -lt 1200) { Start-Sleep -Milliseconds 100; $n++ }; 'released' }
}
'@

    function New-Runs([string] $Root, [string] $Path, [int] $Count, [hashtable] $Parameters = @{}) {
        foreach ($i in 1..$Count) { Invoke-AxlLocalRun -Path $Path -RunRoot $Root -Parameters $Parameters -ErrorAction SilentlyContinue }
    }
    # Moves a run's recorded start back in time (what an old run looks like).
    function Set-RunAge([string] $RunDirectory, [timespan] $Age) {
        $file = Join-Path $RunDirectory 'run.json'
        $json = Get-Content -Raw -LiteralPath $file | ConvertFrom-Json -AsHashtable
        $start = [DateTimeOffset]::UtcNow - $Age
        $json.startTime = $start.ToString('o')
        $json.endTime = $start.AddSeconds(1).ToString('o')
        Set-Content -LiteralPath $file -Value ($json | ConvertTo-Json -Depth 20)
    }
    function Invoke-Axl([string[]] $Arguments) {
        $out = & $dotnet $axlDll @Arguments 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Out = @($out | ForEach-Object { "$_" }) }
    }
}

Describe 'Remove-AxlRun' {
    It 'keeps the newest N runs of each workflow and removes the others; -WhatIf removes nothing' {
        $root = Join-Path $TestDrive 'keep-n'
        $runs = @(New-Runs $root $flow 10)
        New-Runs $root $other 2 | Out-Null
        $newest = @(Get-AxlRun keep -RunRoot $root | Select-Object -First 3 -ExpandProperty RunId)

        Remove-AxlRun -Keep 3 -RunRoot $root -WhatIf
        @(Get-AxlRun keep -RunRoot $root).Count | Should -Be 10

        $removed = @(Remove-AxlRun -Keep 3 -RunRoot $root -PassThru -Confirm:$false)
        $removed.Count | Should -Be 7
        $removed | ForEach-Object { $_.Removed | Should -BeTrue; $_.Bytes | Should -BeGreaterThan 0; Test-Path -LiteralPath $_.Directory | Should -BeFalse }
        @(Get-AxlRun keep -RunRoot $root).RunId | Should -Be $newest
        @(Get-AxlRun other -RunRoot $root).Count | Should -Be 2 -Because 'three are kept per workflow'
        $runs.Count | Should -Be 10
    }

    It 'removes only runs older than -OlderThan (text or TimeSpan), and with -Keep only those both older and not among the newest' {
        $root = Join-Path $TestDrive 'age'
        $runs = @(New-Runs $root $flow 5)
        Set-RunAge $runs[0].Directory (New-TimeSpan -Days 40)
        Set-RunAge $runs[1].Directory (New-TimeSpan -Days 35)
        Set-RunAge $runs[2].Directory (New-TimeSpan -Days 2)

        $gone = @(Remove-AxlRun -OlderThan 30d -RunRoot $root -PassThru -Confirm:$false)
        @($gone.RunId | Sort-Object) | Should -Be @($runs[0].RunId, $runs[1].RunId | Sort-Object)
        @(Get-AxlRun keep -RunRoot $root).Count | Should -Be 3

        # The two-day-old run is the oldest left: -OlderThan 1 day with -Keep 3 keeps it (one of the newest 3).
        @(Remove-AxlRun -OlderThan (New-TimeSpan -Days 1) -Keep 3 -RunRoot $root -PassThru -Confirm:$false).Count | Should -Be 0
        @(Remove-AxlRun -OlderThan '1.00:00:00' -Keep 2 -RunRoot $root -PassThru -Confirm:$false).RunId | Should -Be $runs[2].RunId
    }

    It 'removes the runs piped in from Get-AxlRun, by property name' {
        $root = Join-Path $TestDrive 'piped'
        New-Runs $root $flow 2 | Out-Null
        New-Runs $root $flow 2 @{ N = -1 } | Out-Null
        $failed = @(Get-AxlRun keep -RunRoot $root | Where-Object Status -EQ 'Failed')
        $failed.Count | Should -Be 2
        @($failed | Remove-AxlRun -PassThru -Confirm:$false).Count | Should -Be 2
        @(Get-AxlRun keep -RunRoot $root).Status | Should -Be @('Succeeded', 'Succeeded')
    }

    It 'says what is wrong with what it was given' {
        $root = Join-Path $TestDrive 'errors'
        New-Runs $root $flow 1 | Out-Null
        { Remove-AxlRun -RunRoot $root } | Should -Throw -ErrorId 'Axl.RunSelectionMissing,Axl.Cmdlets.Runs.RemoveAxlRunCommand'
        { Remove-AxlRun -OlderThan '30 days' -RunRoot $root } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,Axl.Cmdlets.Runs.RemoveAxlRunCommand'
        Remove-AxlRun -RunId nosuch -RunRoot $root -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'Axl.RunNotFound,Axl.Cmdlets.Runs.RemoveAxlRunCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        @(Get-AxlRun keep -RunRoot $root).Count | Should -Be 1
    }

    It 'drops the cache entries of a removed run, and a later cached run computes again' {
        $root = Join-Path $TestDrive 'cache'
        $first = Invoke-AxlLocalRun -Path $flow -RunRoot $root -Cache
        $second = Invoke-AxlLocalRun -Path $flow -RunRoot $root -Cache
        @($second.Steps.ReusedFrom) | Should -Be @('cache', 'cache')
        Remove-AxlRun -RunId $first.RunId -RunRoot $root -Confirm:$false
        $cacheText = (Get-ChildItem -LiteralPath (Join-Path $root 'keep/.cache') -File -ErrorAction SilentlyContinue | Get-Content -Raw) -join "`n"
        $cacheText | Should -Not -BeLike "*$($first.RunId)*"
        $third = Invoke-AxlLocalRun -Path $flow -RunRoot $root -Cache
        $third.Status | Should -Be 'Succeeded'
        (Get-AxlArtifact -RunId $third.RunId -RunRoot $root -Step two) | Should -Be 3
    }

    It 'finishes a removal that was interrupted (a run folder renamed away but not deleted)' {
        $root = Join-Path $TestDrive 'interrupted'
        New-Runs $root $flow 2 | Out-Null
        $left = Join-Path $root 'keep/.removing-20260101-000000-abcdef-12345678'
        New-Item -ItemType Directory -Force -Path (Join-Path $left 'one') | Out-Null
        Remove-AxlRun -Keep 5 -RunRoot $root -Confirm:$false
        Test-Path -LiteralPath $left | Should -BeFalse
        @(Get-AxlRun keep -RunRoot $root).Count | Should -Be 2
    }
}

Describe 'Retention beside a run in progress' {
    BeforeAll {
        $script:root = Join-Path $TestDrive 'concurrent'
        New-Runs $root $flow 4 | Out-Null
        $open = Join-Path $TestDrive 'open'
        Set-Content -LiteralPath $open -Value 'open'
        New-Runs $root $slow 2 @{ Gate = $open } | Out-Null
        $script:gate = Join-Path $TestDrive 'gate'
        # The run in progress: axl run local in another process, its step waiting for the gate file.
        $script:proc = Start-Process -FilePath $dotnet -ArgumentList @($axlDll, 'run', 'local', $slow, '--run-root', $root, '--param', "Gate=$gate") `
            -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'slow.out') -RedirectStandardError (Join-Path $TestDrive 'slow.err')
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        do {
            Start-Sleep -Milliseconds 200
            $script:running = Get-AxlRun slow -RunRoot $root | Where-Object Status -EQ 'Running' | Select-Object -First 1
        } until ($running -or $proc.HasExited -or [DateTime]::UtcNow -gt $deadline)
    }
    AfterAll {
        if ($gate) { Set-Content -LiteralPath $gate -Value 'go' }
        if ($proc -and -not $proc.HasExited) { $null = $proc.WaitForExit(60000); if (-not $proc.HasExited) { $proc.Kill($true) } }
    }

    It 'has a run in progress to test against' {
        $proc.HasExited | Should -BeFalse -Because (Get-Content -Raw (Join-Path $TestDrive 'slow.err') -ErrorAction SilentlyContinue)
        $running | Should -Not -BeNullOrEmpty
    }

    It 'removes every other run and skips the one in progress with a warning (Remove-AxlRun -Keep 0)' {
        $removed = @(Remove-AxlRun -Keep 0 -RunRoot $root -PassThru -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue)
        $removed.Count | Should -Be 6
        $removed.RunId | Should -Not -Contain $running.RunId
        "$warnings" | Should -BeLike "*Run $($running.RunId) of workflow slow is in progress*not removed*"
        Test-Path -LiteralPath $running.Directory | Should -BeTrue
    }

    It 'refuses the run in progress named by id (Axl.RunInUse), and axl runs prune says "in use"' {
        Remove-AxlRun -RunId $running.RunId -RunRoot $root -ErrorVariable err -ErrorAction SilentlyContinue -Confirm:$false
        $err[0].FullyQualifiedErrorId | Should -Be 'Axl.RunInUse,Axl.Cmdlets.Runs.RemoveAxlRunCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
        $r = Invoke-Axl @('runs', 'prune', '--keep', '0', '--run-root', $root)
        $r.ExitCode | Should -Be 0 -Because ($r.Out -join "`n")
        $r.Out | Should -Contain "in use       slow $($running.RunId)  (in progress (its lock is held))"
        $named = Invoke-Axl @('runs', 'prune', '--run-id', $running.RunId, '--run-root', $root)
        $named.ExitCode | Should -Be 1
        ($named.Out -join "`n") | Should -Match 'Axl\.RunInUse'
        Test-Path -LiteralPath $running.Directory | Should -BeTrue
    }

    It 'lets the run in progress finish with its output' {
        Set-Content -LiteralPath $gate -Value 'go'
        $proc.WaitForExit(120000) | Should -BeTrue
        $proc.ExitCode | Should -Be 0
        $done = Get-AxlRun slow $running.RunId -RunRoot $root
        $done.Status | Should -Be 'Succeeded'
        Get-AxlArtifact -RunId $running.RunId -RunRoot $root -Step wait | Should -Be 'released'
    }
}

Describe 'axl runs prune' {
    It 'prints what it would remove with --dry-run, removes with --keep, and prints JSON with --json' {
        $root = Join-Path $TestDrive 'cli'
        $runs = @(New-Runs $root $flow 4)
        $dry = Invoke-Axl @('runs', 'prune', '--keep', '1', '--run-root', $root, '--dry-run')
        $dry.ExitCode | Should -Be 0
        @($dry.Out | Where-Object { $_ -like 'would remove *' }).Count | Should -Be 3
        $dry.Out[-1] | Should -Be '3 run(s) would be removed, 1 kept (dry run: nothing removed).'
        @(Get-AxlRun keep -RunRoot $root).Count | Should -Be 4

        Set-RunAge $runs[0].Directory (New-TimeSpan -Days 10)
        $json = Invoke-Axl @('runs', 'prune', '--older-than', '1w', '--run-root', $root, '--json')
        $json.ExitCode | Should -Be 0
        $rows = $json.Out -join "`n" | ConvertFrom-Json
        ($rows | Where-Object action -EQ 'removed').runId | Should -Be $runs[0].RunId
        @($rows | Where-Object action -EQ 'kept').Count | Should -Be 3

        $kept = Invoke-Axl @('runs', 'prune', '--keep', '1', '--run-root', $root)
        $kept.ExitCode | Should -Be 0
        $kept.Out[-1] | Should -Match '^2 run\(s\) removed \([0-9,]+ bytes\), 1 kept\.$'
        @(Get-AxlRun keep -RunRoot $root).RunId | Should -Be $runs[-1].RunId
    }

    It 'refuses to prune without a selection, a bad age and an unknown run id, with exit code 1' {
        $root = Join-Path $TestDrive 'cli-errors'
        New-Runs $root $flow 1 | Out-Null
        foreach ($case in @(
                @{ Args = @('runs', 'prune', '--run-root', $root); Text = 'runs prune needs to know which runs' }
                @{ Args = @('runs', 'prune', '--older-than', '30 days', '--run-root', $root); Text = "--older-than '30 days' is not an age" }
                @{ Args = @('runs', 'prune', '--run-id', 'nosuch', '--run-root', $root); Text = "there is no run 'nosuch'" }
                @{ Args = @('runs', 'sweep'); Text = "unknown runs subcommand 'sweep'" })) {
            $r = Invoke-Axl $case.Args
            $r.ExitCode | Should -Be 1 -Because ($case.Args -join ' ')
            ($r.Out -join "`n") | Should -BeLike "*$($case.Text)*"
        }
        @(Get-AxlRun keep -RunRoot $root).Count | Should -Be 1
    }
}

Describe 'The hash-addressed store (-UseHash)' -Skip:$IsWindows {
    BeforeAll {
        function Get-Inode([string] $Path) { (& stat -c '%i' -- $Path).Trim() }
        function Get-StoreEntries([string] $Root) {
            @(Get-ChildItem -LiteralPath (Join-Path $Root 'store') -File -ErrorAction SilentlyContinue | Where-Object Name -Match '^[0-9a-f]{64}$' | ForEach-Object Name | Sort-Object)
        }
        function Get-OutputHashes([string] $Root) {
            @(Get-ChildItem -LiteralPath $Root -Recurse -Filter 'output.meta.json' | Where-Object FullName -NotMatch '[\\/]store[\\/]' |
                ForEach-Object { ((Get-Content -Raw -LiteralPath $_.FullName | ConvertFrom-Json).sha256 -replace '^sha256:', '') } | Sort-Object -Unique)
        }
        $script:hashRoot = Join-Path $TestDrive 'store-root'
        # Ten runs with three distinct parameter values (each step has three distinct outputs); the newest three use one.
        $script:tenRuns = foreach ($i in 1..10) { Invoke-AxlLocalRun -Path $flow -RunRoot $hashRoot -UseHash -Parameters @{ N = $(if ($i -le 7) { ($i % 3) + 1 } else { 1 }) } }
    }

    It 'stores each distinct output once and links every run''s output file to it' {
        $entries = Get-StoreEntries $hashRoot
        $entries.Count | Should -Be 6 -Because 'two steps with three distinct outputs each'
        $entries | Should -Be (Get-OutputHashes $hashRoot)
        foreach ($run in $tenRuns) {
            foreach ($step in $run.Steps) {
                $hex = $step.OutputHash -replace '^sha256:', ''
                Get-Inode $step.OutputPath | Should -Be (Get-Inode (Join-Path $hashRoot "store/$hex")) -Because "$($run.RunId)/$($step.Name) is a link to its store entry"
            }
        }
        (Get-AxlArtifact -RunId $tenRuns[0].RunId -RunRoot $hashRoot -Step two) | Should -Be (((1 % 3) + 1) * 2 + 1)
    }

    It 'keeps what the kept runs use and frees the rest when ten runs are pruned to three' {
        $kept = @(Get-AxlRun keep -RunRoot $hashRoot | Select-Object -First 3)
        $usedByKept = @($kept.Steps.OutputHash -replace '^sha256:', '' | Sort-Object -Unique)
        $usedByKept.Count | Should -BeLessThan 6 -Because 'the test needs entries that only removed runs used'
        Remove-AxlRun -Keep 3 -RunRoot $hashRoot -Confirm:$false -Verbose 4>&1 | Out-String | Should -Match "Removed $(6 - $usedByKept.Count) store entries"
        Get-StoreEntries $hashRoot | Should -Be $usedByKept
        foreach ($run in $kept) {
            foreach ($step in $run.Steps) {
                $value = Get-AxlArtifact -RunId $run.RunId -RunRoot $hashRoot -Step $step.Name
                $value | Should -Not -BeNullOrEmpty -Because 'a kept run reads its outputs (hash verified) after the prune'
            }
        }
    }

    It 'keeps the entries of a run in progress while everything else is pruned, and the run ends with its outputs' {
        $root = Join-Path $TestDrive 'store-concurrent'
        $twoStep = Join-Path $TestDrive 'flow/gated.axl.ps1'
        Set-Content -LiteralPath $twoStep -Value @'
AxlWorkflow gated {
    Parameter Gate
    Step first { 'made before the prune' }
    Step wait { param($first, $Gate) $n = 0; while (-not (Test-Path -LiteralPath $Gate) -and $n -lt 1200) { Start-Sleep -Milliseconds 100; $n++ }; "$first, then released" }
}
'@
        foreach ($i in 1..3) { Invoke-AxlLocalRun -Path $flow -RunRoot $root -UseHash -Parameters @{ N = 10 + $i } | Out-Null }
        $gate = Join-Path $TestDrive 'store-gate'
        $proc = Start-Process -FilePath $dotnet -ArgumentList @($axlDll, 'run', 'local', $twoStep, '--run-root', $root, '--use-hash', '--param', "Gate=$gate") `
            -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'gated.out') -RedirectStandardError (Join-Path $TestDrive 'gated.err')
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            do {
                Start-Sleep -Milliseconds 200
                $running = Get-AxlRun gated -RunRoot $root -ErrorAction SilentlyContinue | Where-Object { $_.Status -eq 'Running' -and ($_.Steps | Where-Object Name -EQ 'first').Status -eq 'Succeeded' } | Select-Object -First 1
            } until ($running -or $proc.HasExited -or [DateTime]::UtcNow -gt $deadline)
            $running | Should -Not -BeNullOrEmpty -Because (Get-Content -Raw (Join-Path $TestDrive 'gated.err') -ErrorAction SilentlyContinue)
            $firstHex = (($running.Steps | Where-Object Name -EQ 'first').OutputHash) -replace '^sha256:', ''

            $r = Invoke-Axl @('runs', 'prune', '--keep', '0', '--run-root', $root)
            $r.ExitCode | Should -Be 0 -Because ($r.Out -join "`n")
            ($r.Out -join "`n") | Should -Match 'store: 6 entries \([0-9,]+ bytes\) no run uses removed, 1 in use\.'
            Get-StoreEntries $root | Should -Be @($firstHex)
        }
        finally {
            Set-Content -LiteralPath $gate -Value 'go'
            $null = $proc.WaitForExit(120000)
        }
        $proc.ExitCode | Should -Be 0
        Get-AxlArtifact -RunId $running.RunId -RunRoot $root -Step wait | Should -Be 'made before the prune, then released'
        Get-AxlArtifact -RunId $running.RunId -RunRoot $root -Step first | Should -Be 'made before the prune'
    }
}
