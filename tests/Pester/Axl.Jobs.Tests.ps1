#Requires -Version 7.4
# Local jobs (Submit-AxlJob -Target Local) as a PowerShell user meets them, issue #15 points 6 and 11:
#  - a copy of the module folder outside the repository (what ./build.ps1 -Install does) runs local jobs with the axl
#    command it carries (cli/), and says what it looked for when that is missing;
#  - the job's axl process ends with the pwsh that submitted it (killed or exited), unless -Detached;
#  - a failed job's JobStateInfo.Reason holds the step's error; Stop-Job records the run as cancelled with the time it
#    stopped; the fix hints a job shows are PowerShell's (-Resume <id>), and the one it gives works;
#  - what a step writes reaches the job's own Warning, Verbose, Debug, Information and Progress collections as records
#    of that kind (tags kept, the step as the source), while the job runs, and Receive-Job replays each on its stream.
#
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1 -Path tests/Pester/Axl.Jobs.Tests.ps1

BeforeAll {
    $repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $moduleFolder = Join-Path $repo 'artifacts/module/Axl'
    $modulePath = Join-Path $moduleFolder 'Axl.psd1'
    if (-not (Test-Path -LiteralPath $modulePath)) { throw "Axl is not built: expected $modulePath. Run 'dotnet build' at the repository root first." }
    Import-Module $modulePath -Force -ErrorAction Stop

    # A fresh pwsh: this pwsh's own binary (under `dotnet pwsh`, dotnet with pwsh.dll).
    $pwshPath = [Environment]::ProcessPath
    $pwshArgs = @(if ([System.IO.Path]::GetFileNameWithoutExtension($pwshPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })

    function Start-Pwsh([string] $Script, [string] $WorkingDirectory) {
        $file = Join-Path $TestDrive "child-$([guid]::NewGuid().ToString('N').Substring(0, 8)).ps1"
        Set-Content -LiteralPath $file -Value $Script
        $psi = [System.Diagnostics.ProcessStartInfo]::new($pwshPath)
        foreach ($a in $pwshArgs + @('-NoProfile', '-NonInteractive', '-File', $file)) { $psi.ArgumentList.Add($a) }
        $psi.WorkingDirectory = $WorkingDirectory
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        [System.Diagnostics.Process]::Start($psi)
    }

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 60) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { return $false }
            Start-Sleep -Milliseconds 100
        }
        $true
    }

    function Test-Alive([int] $ProcessId) {
        $p = Get-Process -Id $ProcessId -ErrorAction SilentlyContinue
        if (-not $p) { return $false }
        # A zombie is gone as far as anyone is concerned.
        if ($IsLinux -and (Test-Path "/proc/$ProcessId/stat")) { return (Get-Content "/proc/$ProcessId/stat" -Raw) -notmatch '\) [ZX] ' }
        $true
    }

    function New-Flow([string] $Name, [string] $Body) {
        $file = Join-Path $TestDrive "$Name.axl.ps1"
        Set-Content -LiteralPath $file -Value $Body
        $file
    }

    $tiny = New-Flow tiny @'
AxlWorkflow tiny {
    Step one { 20 + 22 }
}
'@
}

Describe 'Local jobs from a copy of the module folder' {
    BeforeAll {
        # Outside the repository, as ./build.ps1 -Install lays it out: <modules>/Axl/<version>/...
        $version = (Import-PowerShellDataFile $modulePath).ModuleVersion
        $modules = Join-Path $TestDrive 'modules'
        $copy = Join-Path $modules "Axl/$version"
        $null = New-Item -ItemType Directory -Path $copy
        Copy-Item -Path (Join-Path $moduleFolder '*') -Destination $copy -Recurse
        $work = Join-Path $TestDrive 'work'
        $null = New-Item -ItemType Directory -Path $work
        Copy-Item -LiteralPath $tiny -Destination $work
    }

    It 'carries the axl command its local jobs start (cli/axl.dll)' {
        Join-Path $moduleFolder 'cli/axl.dll' | Should -Exist
        Join-Path $copy 'cli/axl.dll' | Should -Exist
    }

    It 'imported from PSModulePath in a fresh pwsh, runs a local job with its own axl' {
        $p = Start-Pwsh -WorkingDirectory $work -Script @"
`$env:PSModulePath = '$modules'
Remove-Item Env:AXL_CLI -ErrorAction SilentlyContinue
`$env:PATH = [System.IO.Path]::GetDirectoryName([Environment]::ProcessPath)   # no other axl to find
Import-Module Axl -ErrorAction Stop
'base=' + (Get-Module Axl).ModuleBase
'cli=' + [Axl.Jobs.LocalJobTarget]::FindCli()
`$job = Get-AxlWorkflow ./tiny.axl.ps1 | Submit-AxlJob -Target Local -RunRoot ./runs
`$result = Wait-AxlJob `$job -Timeout 180
'status=' + `$result.Status
'output=' + `$result.GetOutput('one')
"@
        $out = $p.StandardOutput.ReadToEnd()
        $err = $p.StandardError.ReadToEnd()
        $p.WaitForExit()
        $err | Should -BeNullOrEmpty
        $out | Should -Match ([regex]::Escape("base=$copy"))
        $out | Should -Match ([regex]::Escape("cli=$(Join-Path $copy 'cli/axl.dll')"))
        $out | Should -Match 'status=Succeeded'
        $out | Should -Match 'output=42'
    }

    It 'without its cli folder, says what it looked for and how to fix it' {
        $bare = Join-Path $TestDrive 'bare-modules'
        $bareCopy = Join-Path $bare "Axl/$version"
        $null = New-Item -ItemType Directory -Path $bareCopy
        Get-ChildItem -LiteralPath $copy | Where-Object Name -ne 'cli' | Copy-Item -Destination $bareCopy -Recurse
        $p = Start-Pwsh -WorkingDirectory $work -Script @"
`$env:PSModulePath = '$bare'
Remove-Item Env:AXL_CLI -ErrorAction SilentlyContinue
`$env:PATH = [System.IO.Path]::GetDirectoryName([Environment]::ProcessPath)
Import-Module Axl -ErrorAction Stop
Get-AxlWorkflow ./tiny.axl.ps1 | Submit-AxlJob -Target Local -RunRoot ./runs -ErrorVariable e -ErrorAction SilentlyContinue
'id=' + `$e[0].FullyQualifiedErrorId
'message=' + `$e[0].Exception.Message
"@
        $out = $p.StandardOutput.ReadToEnd()
        $p.WaitForExit()
        $out | Should -Match 'id=Axl.JobNotStarted'
        $out | Should -Match ([regex]::Escape((Join-Path $bareCopy 'cli/axl.dll')))
        $out | Should -Match 'AXL_CLI'
        $out | Should -Match 'build.ps1 -Install'
    }
}

Describe 'A local job belongs to the session that submitted it' {
    BeforeAll {
        $slow = New-Flow slow @'
AxlWorkflow slow {
    Step wait {
        [System.IO.File]::WriteAllText((Join-Path $env:AXL_TEST_FLAGS 'started'), 'x')
        while (-not [System.IO.File]::Exists((Join-Path $env:AXL_TEST_FLAGS 'done'))) { Start-Sleep -Milliseconds 100 }
        'finished'
    }
}
'@
        function Start-Owner([string] $Flags, [string] $Extra = '', [string] $Then = 'Start-Sleep -Seconds 600') {
            $null = New-Item -ItemType Directory -Path $Flags -Force
            Start-Pwsh -WorkingDirectory $TestDrive -Script @"
`$env:AXL_TEST_FLAGS = '$Flags'
Import-Module '$modulePath' -ErrorAction Stop
`$job = Get-AxlWorkflow '$slow' | Submit-AxlJob -Target Local -RunRoot '$Flags/runs' $Extra
Set-Content -LiteralPath '$Flags/job' -Value "`$(`$job.ProcessId) `$(`$job.RunId)"
while (-not (Test-Path '$Flags/started')) { Start-Sleep -Milliseconds 100 }
$Then
"@
        }

        function Read-Job([string] $Flags) {
            Wait-Until { Test-Path "$Flags/job" } 60 | Should -BeTrue
            Wait-Until { Test-Path "$Flags/started" } 120 | Should -BeTrue
            $processId, $runId = (Get-Content "$Flags/job" -Raw).Trim() -split ' '
            [pscustomobject]@{ ProcessId = [int]$processId; RunId = $runId; RunFile = "$Flags/runs/slow/$runId/run.json" }
        }
    }

    It 'ends when that pwsh is killed, and the run is recorded as cancelled' -Skip:$IsWindows {
        $flags = Join-Path $TestDrive 'killed'
        $owner = Start-Owner $flags
        try {
            $job = Read-Job $flags
            Test-Alive $job.ProcessId | Should -BeTrue
            $owner.Kill()   # SIGKILL: no PowerShell code of that session runs any more
            Wait-Until { -not (Test-Alive $job.ProcessId) } 60 | Should -BeTrue -Because "axl $($job.ProcessId) must end with its session"
            (Get-Content $job.RunFile -Raw | ConvertFrom-Json).status | Should -Be 'Cancelled'
        }
        finally { if (-not $owner.HasExited) { $owner.Kill($true) } }
    }

    It 'ends when that pwsh exits' {
        $flags = Join-Path $TestDrive 'exited'
        $owner = Start-Owner $flags -Then 'exit 0'
        try {
            $job = Read-Job $flags
            $owner.WaitForExit(60000) | Should -BeTrue
            Wait-Until { -not (Test-Alive $job.ProcessId) } 60 | Should -BeTrue -Because "axl $($job.ProcessId) must end with its session"
        }
        finally { if (-not $owner.HasExited) { $owner.Kill($true) } }
    }

    It 'goes on after the session ends with -Detached, and finishes its run' {
        $flags = Join-Path $TestDrive 'detached'
        $owner = Start-Owner $flags -Extra '-Detached' -Then 'exit 0'
        $job = $null
        try {
            $job = Read-Job $flags
            $owner.WaitForExit(60000) | Should -BeTrue
            Start-Sleep -Seconds 3
            Test-Alive $job.ProcessId | Should -BeTrue -Because 'a detached job outlives its session'
            Set-Content -LiteralPath "$flags/done" -Value 'x'
            Wait-Until { -not (Test-Alive $job.ProcessId) } 60 | Should -BeTrue
            (Get-Content $job.RunFile -Raw | ConvertFrom-Json).status | Should -Be 'Succeeded'
        }
        finally {
            if (-not $owner.HasExited) { $owner.Kill($true) }
            if ($job -and (Test-Alive $job.ProcessId)) { Stop-Process -Id $job.ProcessId -Force }
        }
    }
}

Describe 'Failed and stopped local jobs' {
    BeforeAll {
        $flags = Join-Path $TestDrive 'fail-flags'
        $null = New-Item -ItemType Directory -Path $flags
        $env:AXL_TEST_FLAGS = $flags
        $flaky = New-Flow flaky @'
AxlWorkflow flaky {
    Step check {
        if (-not [System.IO.File]::Exists((Join-Path $env:AXL_TEST_FLAGS 'fixed'))) { throw 'the input is not there yet' }
        'fixed now'
    }
}
'@
        $runs = Join-Path $TestDrive 'fail-runs'
        $failed = Get-AxlWorkflow $flaky | Submit-AxlJob -Target Local -RunRoot $runs
        $null = $failed | Wait-Job -Timeout 180
    }
    AfterAll { Remove-Item Env:AXL_TEST_FLAGS -ErrorAction SilentlyContinue }

    It "holds the step's error in JobStateInfo.Reason" {
        $failed.State | Should -Be 'Failed'
        $failed.JobStateInfo.Reason | Should -Not -BeNullOrEmpty
        $failed.JobStateInfo.Reason.Message | Should -Match "step 'check' failed: the input is not there yet"
        $failed.Error[0].Exception | Should -Be $failed.JobStateInfo.Reason
    }

    It 'gives PowerShell remedies, not the axl command''s flags' {
        $texts = @($failed.JobStateInfo.Reason.Message) + @($failed.Error | ForEach-Object { "$_" }) + @($failed.Information | ForEach-Object { "$($_.MessageData)" })
        ($texts -join "`n") | Should -Not -Match '--resume|--run-root|axl run local'
        $failed.JobStateInfo.Reason.Message | Should -Match "-Resume $($failed.RunId)"
    }

    It 'gives a remedy that resumes the run' {
        $failed.JobStateInfo.Reason.Message -match 'continue it with: (?<command>.+)$' | Should -BeTrue
        $command = $Matches.command.Trim()
        $command | Should -BeLike 'Get-AxlWorkflow *| Invoke-AxlLocalRun -Resume *'
        Set-Content -LiteralPath (Join-Path $flags 'fixed') -Value 'x'
        $run = Invoke-Expression $command
        $run.Status | Should -Be 'Succeeded'
        $run.RunId | Should -Be $failed.RunId
        $run.GetOutput('check') | Should -Be 'fixed now'
    }

    It 'records, on Stop-Job, the run as cancelled with the time it stopped' {
        $stopFlags = Join-Path $TestDrive 'stop-flags'
        $null = New-Item -ItemType Directory -Path $stopFlags
        $flow = New-Flow stopped @"
AxlWorkflow stopped {
    Step wait {
        [System.IO.File]::WriteAllText('$stopFlags/started', 'x')
        Start-Sleep -Seconds 300
    }
}
"@
        $job = Get-AxlWorkflow $flow | Submit-AxlJob -Target Local -RunRoot (Join-Path $TestDrive 'stop-runs')
        try {
            Wait-Until { Test-Path "$stopFlags/started" } 120 | Should -BeTrue
            Start-Sleep -Seconds 3
            $stoppedAt = [DateTimeOffset]::Now
            $job | Stop-Job
            $job.State | Should -Be 'Stopped'
            $run = Get-Content (Join-Path $job.Result.RunDirectory 'run.json') -Raw | ConvertFrom-Json
            $run.status | Should -Be 'Cancelled'
            $run.durationMs | Should -BeGreaterOrEqual 3000
            ([DateTimeOffset]$run.endTime) | Should -BeGreaterOrEqual $stoppedAt.AddSeconds(-1)
            $run.steps[0].status | Should -Be 'Cancelled'
            $run.steps[0].durationMs | Should -BeGreaterOrEqual 3000
            $job.Result.Run.Status | Should -Be 'Cancelled'
            $job.Result.Error | Should -Match "-Resume $($job.RunId)"
        }
        finally { $job | Remove-Job -Force }
    }
}

Describe 'What a local job''s steps write keeps its kind' {
    BeforeAll {
        $gate = Join-Path $TestDrive 'streams-gate'
        $streams = New-Flow streams @"
AxlWorkflow streams {
    Step talk {
        Write-Warning 'mind the gap'
        Write-Verbose 'the details'
        Write-Debug 'the internals'
        Write-Information 'tagged news' -Tags x, y
        Write-Host 'shown on the host'
        Write-Progress -Activity 'Loading' -Status 'half way' -PercentComplete 50
        Write-Progress -Activity 'Loading' -Completed
        while (-not [System.IO.File]::Exists('$gate')) { Start-Sleep -Milliseconds 100 }
        'out'
    }
}
"@
        $job = Get-AxlWorkflow $streams | Submit-AxlJob -Target Local -RunRoot (Join-Path $TestDrive 'stream-runs') -Verbose -Debug 4>$null 5>$null
        # Records arrive while the job runs, not at its end.
        $arrived = Wait-Until { $job.Warning.Count -gt 0 -and $job.Information.Count -gt 0 } 120
        $stateWhenArrived = $job.State
        Set-Content -LiteralPath $gate -Value 'x'
        $null = $job | Wait-Job -Timeout 180
    }
    AfterAll { $job | Remove-Job -Force -ErrorAction SilentlyContinue }

    It 'arrive while the job runs' {
        $arrived | Should -BeTrue
        $stateWhenArrived | Should -Be 'Running'
        $job.State | Should -Be 'Completed'
    }

    It 'are warning, verbose and debug records in the job''s collections' {
        $job.Warning.Count | Should -Be 1
        $job.Warning[0] | Should -BeOfType System.Management.Automation.WarningRecord
        $job.Warning[0].Message | Should -Be '[talk] mind the gap'
        $job.Verbose.Count | Should -Be 1
        $job.Verbose[0] | Should -BeOfType System.Management.Automation.VerboseRecord
        $job.Verbose[0].Message | Should -Be '[talk] the details'
        $job.Debug.Count | Should -Be 1
        $job.Debug[0] | Should -BeOfType System.Management.Automation.DebugRecord
        $job.Debug[0].Message | Should -Be '[talk] the internals'
    }

    It 'are information records with their tags and the step as the source; Write-Host is host information' {
        $tagged = @($job.Information | Where-Object { "$($_.MessageData)" -eq '[talk] tagged news' })
        $tagged.Count | Should -Be 1
        $tagged[0] | Should -BeOfType System.Management.Automation.InformationRecord
        $tagged[0].Tags | Should -Contain 'x'
        $tagged[0].Tags | Should -Contain 'y'
        $tagged[0].Source | Should -Be 'talk'
        $hostInfo = @($job.Information | Where-Object { "$($_.MessageData)" -eq '[talk] shown on the host' })
        $hostInfo.Count | Should -Be 1
        $hostInfo[0].Tags | Should -Contain 'PSHOST'
        $hostInfo[0].MessageData | Should -BeOfType System.Management.Automation.HostInformationMessage
        $hostInfo[0].Source | Should -Be 'talk'
    }

    It 'are progress records in the job''s Progress collection, the step in the activity' {
        $progress = @($job.Progress | Where-Object Activity -eq '[talk] Loading')
        $progress.Count | Should -Be 2
        $progress[0] | Should -BeOfType System.Management.Automation.ProgressRecord
        $progress[0].StatusDescription | Should -Be 'half way'
        $progress[0].PercentComplete | Should -Be 50
        $progress[0].RecordType | Should -Be 'Processing'
        $progress[1].RecordType | Should -Be 'Completed'
        @($job.Information | Where-Object { $_.Tags -contains 'progress' }).Count | Should -Be 0
    }

    It 'are replayed by Receive-Job, each on its stream' {
        $output = Receive-Job $job -Keep -WarningVariable w -InformationVariable i -WarningAction SilentlyContinue -InformationAction SilentlyContinue 6>$null
        $w.Count | Should -Be 1
        $w[0] | Should -BeOfType System.Management.Automation.WarningRecord
        $w[0].Message | Should -Be '[talk] mind the gap'
        $tagged = @($i | Where-Object { "$($_.MessageData)" -eq '[talk] tagged news' })
        $tagged.Count | Should -Be 1
        $tagged[0].Tags | Should -Contain 'x'
        @($i | Where-Object { $_.Tags -contains 'PSHOST' }).Count | Should -Be 1
        $all = Receive-Job $job -Keep -Verbose -Debug *>&1
        @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Be '[talk] the details'
        @($all | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }).Message | Should -Be '[talk] the internals'
        @($all | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }).Message | Should -Be '[talk] mind the gap'
        @($output | Where-Object { $_ -is [Axl.Jobs.JobResult] }).Count | Should -Be 1
    }
}
