#Requires -Version 7.4
# Live progress and the metrics file (issue 17, points 3 and 4): the Write-Progress records of Invoke-AxlLocalRun
# (steps done of total, the running steps, a child record per running step, completed at the end) and of Wait-AxlJob
# (jobs done of total, the running ones); the Prometheus metrics file of Invoke-AxlLocalRun -MetricsFile and of
# `axl run local --metrics-file`, parsed line by line.

BeforeAll {
    $repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $modulePath = Join-Path $repo 'artifacts/module/Axl/Axl.psd1'
    $axlDll = Join-Path $repo 'artifacts/cli/axl.dll'
    if (-not (Test-Path -LiteralPath $modulePath)) { throw "Axl is not built: expected $modulePath. Run 'dotnet build' at the repository root first." }
    Import-Module $modulePath -Force -ErrorAction Stop

    # The Prometheus text exposition format, strictly: # HELP/# TYPE (a known type, once, before the family's samples),
    # comments, and samples name{label="value",...} value [timestamp] with only \\, \" and \n escaped in values; no
    # series twice; the text ends with a line feed. Returns the samples (Name, Labels, Value); throws naming the line.
    function Read-PrometheusText([string] $Text) {
        if (-not $Text.EndsWith("`n")) { throw 'the text does not end with a line feed' }
        $label = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
        $float = '[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN'
        $sampleRe = "^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>(?:$label)(?:,$label)*,?)?\})? (?<value>$float)(?: -?\d+)?$"
        $types = @{}; $help = @{}; $series = @{}; $withSamples = @{}
        $samples = [System.Collections.Generic.List[object]]::new()
        $n = 0
        foreach ($line in $Text.Substring(0, $Text.Length - 1).Split("`n")) {
            $n++
            if ($line -match '^# (?<kind>HELP|TYPE) (?<name>\S+)(?: (?<rest>.*))?$') {
                $kind, $family, $rest = $Matches.kind, $Matches.name, $Matches.rest
                if ($family -notmatch '^[a-zA-Z_:][a-zA-Z0-9_:]*$') { throw "line ${n}: '$family' is not a metric name" }
                if ($withSamples.ContainsKey($family)) { throw "line ${n}: # $kind of $family after its samples" }
                $table = if ($kind -eq 'TYPE') { $types } else { $help }
                if ($table.ContainsKey($family)) { throw "line ${n}: a second # $kind of $family" }
                if ($kind -eq 'TYPE' -and $rest -notin 'counter', 'gauge', 'histogram', 'summary', 'untyped') { throw "line ${n}: bad type '$rest'" }
                $table[$family] = $rest
                continue
            }
            if ($line.StartsWith('#') -or $line.Trim() -eq '') { continue }
            if ($line -notmatch $sampleRe) { throw "line ${n}: not a sample of the format: $line" }
            $name, $labelText, $valueText = $Matches.name, $Matches.labels, $Matches.value
            if (-not $types.ContainsKey($name)) { throw "line ${n}: $name has no # TYPE before its samples" }
            $labels = [ordered]@{}
            foreach ($m in [regex]::Matches([string]$labelText, '(?<k>[a-zA-Z_][a-zA-Z0-9_]*)="(?<v>(?:[^"\\\n]|\\[\\"n])*)"')) {
                $labels[$m.Groups['k'].Value] = [regex]::Replace($m.Groups['v'].Value, '\\([\\"n])', { param($e) if ($e.Groups[1].Value -eq 'n') { "`n" } else { $e.Groups[1].Value } })
            }
            $id = "$name{" + (($labels.Keys | Sort-Object | ForEach-Object { "$_=$($labels[$_])" }) -join ',') + '}'
            if ($series.ContainsKey($id)) { throw "line ${n}: the series $id appears twice" }
            $series[$id] = $true
            $withSamples[$name] = $true
            $value = switch ($valueText) { 'NaN' { [double]::NaN } { $_ -match 'Inf$' } { if ($_ -like '-*') { [double]::NegativeInfinity } else { [double]::PositiveInfinity } } default { [double]::Parse($_, [cultureinfo]::InvariantCulture) } }
            $samples.Add([pscustomobject]@{ Name = $name; Labels = $labels; Value = $value })
        }
        , $samples
    }

    function Get-Sample($Samples, [string] $Name, [hashtable] $Where = @{}) {
        $found = @($Samples | Where-Object { $sample = $_; $sample.Name -eq $Name -and @($Where.Keys | Where-Object { $sample.Labels[$_] -ne $Where[$_] }).Count -eq 0 })
        if ($found.Count -ne 1) { throw "$($found.Count) samples of $Name with $($Where | ConvertTo-Json -Compress)" }
        $found[0]
    }

    $dir = Join-Path $TestDrive 'progress'
    $null = New-Item -ItemType Directory -Path $dir
    $flow = Join-Path $dir 'prog.axl.ps1'
    Set-Content -LiteralPath $flow -Value @'
AxlWorkflow prog {
    Step first { Write-Progress -Activity Crunching -Status half -PercentComplete 50; 'x' * 300 }
    Step slowA { param($first) Start-Sleep -Milliseconds 1500; 'a' }
    Step slowB { param($first) Start-Sleep -Milliseconds 1500; 'b' }
    Step last { param($slowA, $slowB) $slowA + $slowB }
}
'@
    $counter = Join-Path $dir 'counter.txt'
    $flaky = Join-Path $dir 'flaky.axl.ps1'
    Set-Content -LiteralPath $flaky -Value @"
AxlWorkflow flaky {
    Step data { 1..100 }
    Step retried -Retries 2 {
        param(`$data)
        `$n = 1
        if ([System.IO.File]::Exists('$counter')) { `$n = [int][System.IO.File]::ReadAllText('$counter') + 1 }
        [System.IO.File]::WriteAllText('$counter', [string]`$n)
        if (`$n -lt 2) { throw "attempt `$n fails" }
        `$data.Count
    }
    Step broken { param(`$data) throw 'no' }
}
"@
}

Describe 'Invoke-AxlLocalRun progress' {
    It 'shows steps done of total, the running steps with a child record each, and completes every record' {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$modulePath'; Invoke-AxlLocalRun '$flow' -RunRoot '$dir/runs' -ThrottleLimit 4")
            $run = $ps.Invoke()
            $run[0].Status | Should -Be 'Succeeded'
            $records = @($ps.Streams.Progress)
        }
        finally { $ps.Dispose() }

        $parent = @($records | Where-Object Activity -EQ "Axl: running workflow 'prog'")
        $parent.Count | Should -BeGreaterThan 3
        $parent | ForEach-Object { $_.StatusDescription | Should -Match '^\d of 4 steps done' }
        $id = $parent[0].ActivityId
        # While the two slow steps run, the run's record names them (status and current operation).
        $both = @($parent | Where-Object { $_.StatusDescription -match 'running: .*slow' -and $_.CurrentOperation -match 'slowA' -and $_.CurrentOperation -match 'slowB' })
        $both.Count | Should -BeGreaterThan 0
        $both[0].StatusDescription | Should -Match '^1 of 4 steps done; running: slow[AB], slow[AB]$'
        # The run's record ends completed, all done.
        $parent[-1].RecordType | Should -Be 'Completed'
        $parent[-1].StatusDescription | Should -Be '4 of 4 steps done'
        @($parent | Where-Object RecordType -EQ 'Completed').Count | Should -Be 1

        # Every step has child records under the run's, running then completed.
        foreach ($step in 'first', 'slowA', 'slowB', 'last') {
            $child = @($records | Where-Object Activity -EQ "step '$step'")
            $child.Count | Should -BeGreaterThan 1 -Because $step
            $child | ForEach-Object { $_.ParentActivityId | Should -Be $id }
            $child[0].StatusDescription | Should -Match '^running for \d+s$'
            $child[-1].RecordType | Should -Be 'Completed'
            $child[-1].StatusDescription | Should -Be 'succeeded'
            @($child | Select-Object -ExpandProperty ActivityId -Unique).Count | Should -Be 1
        }
        @($records | Where-Object Activity -Like "step '*'" | Select-Object -ExpandProperty ActivityId -Unique).Count | Should -Be 4
        # What a step writes with Write-Progress shows under that step's record.
        $crunching = @($records | Where-Object Activity -EQ '[first] Crunching')
        $crunching.Count | Should -BeGreaterThan 0
        $crunching[0].ParentActivityId | Should -Be (@($records | Where-Object Activity -EQ "step 'first'")[0].ActivityId)
        $crunching[0].StatusDescription | Should -Be 'half'
    }
}

Describe 'Wait-AxlJob progress' {
    It 'shows jobs done of total and the running ones, then completes' {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript(@"
Import-Module '$modulePath'
`$a = Get-AxlWorkflow '$flow' | Submit-AxlJob -Target Local -RunRoot '$dir/job-runs'
`$a, `$a | Wait-AxlJob
"@)
            $results = @($ps.Invoke())
            $ps.Streams.Error | Should -BeNullOrEmpty
            $records = @($ps.Streams.Progress | Where-Object { $_.Activity -eq 'Axl: waiting for jobs' -or $_.Activity -like "job '*'" })
        }
        finally { $ps.Dispose() }
        $results.Count | Should -Be 1   # the same job twice is waited for once
        $results[0].Status | Should -Be 'Succeeded'
        $wait = @($records | Where-Object Activity -EQ 'Axl: waiting for jobs')
        $wait[0].StatusDescription | Should -Be '0 of 1 jobs done; waiting for: prog'
        $wait[0].CurrentOperation | Should -Be 'waiting for: prog'
        $wait[-1].RecordType | Should -Be 'Completed'
        $wait[-1].StatusDescription | Should -Be '1 of 1 jobs done'
        $job = @($records | Where-Object Activity -EQ "job 'prog'")
        $job[0].ParentActivityId | Should -Be $wait[0].ActivityId
        $job[0].StatusDescription | Should -Match '^(pending|running)'
        $job[-1].RecordType | Should -Be 'Completed'
        $job[-1].StatusDescription | Should -Be 'succeeded'
    }
}

Describe 'The metrics file' {
    It 'Invoke-AxlLocalRun -MetricsFile writes the metrics of a failed run with a retried step' {
        Remove-Item -LiteralPath $counter -ErrorAction SilentlyContinue
        $prom = Join-Path $dir 'textfile/flaky.prom'
        $run = Invoke-AxlLocalRun $flaky -RunRoot "$dir/runs" -MetricsFile $prom -RetryBackoff 0:0:0 -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $run.Status | Should -Be 'Failed'
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'Axl.StepFailed*'
        $samples = Read-PrometheusText (Get-Content -LiteralPath $prom -Raw)
        (Get-Sample $samples axl_run_status @{ status = 'failed' }).Value | Should -Be 1
        (Get-Sample $samples axl_run_duration_seconds).Value | Should -BeGreaterThan 0
        (Get-Sample $samples axl_step_retries_total @{ step = 'retried' }).Value | Should -Be 1
        (Get-Sample $samples axl_step_status @{ step = 'broken'; status = 'failed' }).Value | Should -Be 1
        (Get-Sample $samples axl_step_status @{ step = 'retried'; status = 'succeeded' }).Value | Should -Be 1
        foreach ($step in $run.Steps | Where-Object Status -EQ 'Succeeded') {
            (Get-Sample $samples axl_step_output_bytes @{ step = $step.Name }).Value | Should -Be (Get-Item -LiteralPath $step.OutputPath).Length
        }
        (Get-Sample $samples axl_step_output_bytes @{ step = 'broken' }).Value | Should -Be 0
        $samples | ForEach-Object { $_.Labels.workflow | Should -Be 'flaky' }
        @(Get-ChildItem -LiteralPath (Split-Path $prom) -Force).Name | Should -Be 'flaky.prom'   # no temp file left
    }

    It 'a metrics file that cannot be written is an error naming it; the run itself is kept' {
        $blocker = Join-Path $dir 'a-file'
        Set-Content -LiteralPath $blocker -Value x
        $run = Invoke-AxlLocalRun $flow -RunRoot "$dir/runs" -MetricsFile (Join-Path $blocker 'x.prom') -ErrorVariable failed -ErrorAction SilentlyContinue
        $run.Status | Should -Be 'Succeeded'
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'Axl.MetricsNotWritten*'
        $failed[0].Exception.Message | Should -BeLike "*the metrics file '*x.prom' could not be written*Fix:*"
    }

    It 'axl run local --metrics-file writes the same families' {
        $prom = Join-Path $dir 'textfile/prog.prom'
        $out = & dotnet $axlDll run local $flow --run-root "$dir/cli-runs" --metrics-file $prom 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $samples = Read-PrometheusText (Get-Content -LiteralPath $prom -Raw)
        (Get-Sample $samples axl_run_status @{ status = 'succeeded' }).Value | Should -Be 1
        (Get-Sample $samples axl_run_steps_total @{ status = 'succeeded' }).Value | Should -Be 4
        (Get-Sample $samples axl_step_duration_seconds @{ step = 'slowA' }).Value | Should -BeGreaterThan 1
        $runId = (Get-Sample $samples axl_run_duration_seconds).Labels.run_id
        $first = Get-ChildItem -LiteralPath "$dir/cli-runs/prog/$runId/first" -Filter 'output.*' | Where-Object Name -NotLike '*.meta.json'
        (Get-Sample $samples axl_step_output_bytes @{ step = 'first' }).Value | Should -Be $first.Length
        $names = $samples.Name | Select-Object -Unique
        $names | Should -Be @('axl_run_duration_seconds', 'axl_run_status', 'axl_run_steps_total', 'axl_run_last_completion_timestamp_seconds',
            'axl_step_duration_seconds', 'axl_step_status', 'axl_step_retries_total', 'axl_step_output_bytes')
    }

    It 'holds the runs of every workflow one Invoke-AxlLocalRun ran' {
        $tiny = Join-Path $dir 'tiny.axl.ps1'
        Set-Content -LiteralPath $tiny -Value "AxlWorkflow tiny { Step only { 42 } }"
        $prom = Join-Path $dir 'textfile/both.prom'
        $runs = Get-Item -LiteralPath $flow, $tiny | Invoke-AxlLocalRun -RunRoot "$dir/runs" -MetricsFile $prom
        $runs.Count | Should -Be 2
        $samples = Read-PrometheusText (Get-Content -LiteralPath $prom -Raw)
        @((Get-Sample $samples axl_run_duration_seconds @{ workflow = 'prog' }), (Get-Sample $samples axl_run_duration_seconds @{ workflow = 'tiny' })).Labels.run_id |
            Should -Be @($runs.RunId)
        (Get-Sample $samples axl_step_status @{ workflow = 'tiny'; step = 'only'; status = 'succeeded' }).Value | Should -Be 1
    }

    It 'the parser of these tests rejects what the format does not allow' {
        { Read-PrometheusText "axl_x 1" } | Should -Throw '*line feed*'
        { Read-PrometheusText "# TYPE axl_x gauge`naxl_x{a=`"x\t`"} 1`n" } | Should -Throw '*not a sample*'
        { Read-PrometheusText "# TYPE axl_x gauge`naxl_x 1`naxl_x 2`n" } | Should -Throw '*twice*'
        { Read-PrometheusText "axl_x 1`n" } | Should -Throw '*no # TYPE*'
        { Read-PrometheusText "# TYPE axl_x gauge`naxl_x 1`n# HELP axl_x late`n" } | Should -Throw '*after its samples*'
        { Read-PrometheusText "# TYPE axl_x gauge`naxl_x one`n" } | Should -Throw '*not a sample*'
        (Read-PrometheusText "# TYPE axl_x gauge`naxl_x{a=`"q\`"b\\c\nd`"} -1.5e3`n")[0].Labels.a | Should -Be "q`"b\c`nd"
    }
}

Describe 'Progress of other waits and of a stopped run' {
    It 'Start-AxlExperiment -Wait shows jobs done of total and the running ones, then completes' {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript(@"
Import-Module '$modulePath'
`$wf = Get-AxlWorkflow '$flow'
'one', 'two' | ForEach-Object { `$wf | New-AxlJobSpec -Name "sweep-`$_" } | Start-AxlExperiment sweep -RunRoot '$dir/exp-runs' -ThrottleLimit 2 -Wait
"@)
            $state = @($ps.Invoke())
            $ps.Streams.Error | Should -BeNullOrEmpty
            $records = @($ps.Streams.Progress | Where-Object Activity -EQ "Axl: experiment 'sweep'")
        }
        finally { $ps.Dispose() }
        $state[-1].Done | Should -Be 2
        $records.Count | Should -BeGreaterThan 1
        $records | ForEach-Object { $_.StatusDescription | Should -Match '^\d of 2 jobs done' }
        @($records | Where-Object { $_.CurrentOperation -match '^running: sweep-(one|two)' }).Count | Should -BeGreaterThan 0
        $records[-1].RecordType | Should -Be 'Completed'
        $records[-1].StatusDescription | Should -Match '^2 of 2 jobs done'
    }

    It 'a run stopped with Ctrl+C still writes its metrics, as cancelled' {
        $started = Join-Path $dir 'stop.started'
        $stopFlow = Join-Path $dir 'stopme.axl.ps1'
        Set-Content -LiteralPath $stopFlow -Value @"
AxlWorkflow stopme {
    Step slow { [System.IO.File]::WriteAllText('$started', 'x'); Start-Sleep -Seconds 60; 'done' }
}
"@
        $prom = Join-Path $dir 'textfile/stopme.prom'
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$modulePath'; Invoke-AxlLocalRun '$stopFlow' -RunRoot '$dir/runs' -MetricsFile '$prom'")
            $null = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (Test-Path -LiteralPath $started) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            Test-Path -LiteralPath $started | Should -BeTrue
            $ps.Stop()   # what Ctrl+C does
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $ps.Dispose() }
        $samples = Read-PrometheusText (Get-Content -LiteralPath $prom -Raw)
        (Get-Sample $samples axl_run_status @{ status = 'cancelled' }).Value | Should -Be 1
        (Get-Sample $samples axl_step_status @{ step = 'slow'; status = 'cancelled' }).Value | Should -Be 1
    }
}
