#Requires -Version 7.4
# Ctrl+C in Invoke-AxlLocalRun (StopProcessing) cancels the run: the running step is stopped and run.json records
# Cancelled before the pipeline ends, so the run can be resumed.

BeforeAll {
    $repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $modulePath = Join-Path $repo 'artifacts/module/Axl/Axl.psd1'
    if (-not (Test-Path -LiteralPath $modulePath)) { throw "Axl is not built: expected $modulePath. Run 'dotnet build' at the repository root first." }
    Import-Module $modulePath -Force -ErrorAction Stop
}

Describe 'Invoke-AxlLocalRun stopped with Ctrl+C' {
    It 'records the run as cancelled, and -Resume completes it' {
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) "axl-cancel-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $null = New-Item -ItemType Directory -Path $dir
        try {
            $started = Join-Path $dir 'started'
            $done = Join-Path $dir 'done'
            $flow = Join-Path $dir 'stopped.axl.ps1'
            Set-Content -LiteralPath $flow -Value @"
AxlWorkflow stopped {
    Step slow {
        [System.IO.File]::WriteAllText('$started', 'x')
        if (-not [System.IO.File]::Exists('$done')) { Start-Sleep -Seconds 60 }
        'done'
    }
}
"@
            $root = Join-Path $dir 'runs'
            $ps = [PowerShell]::Create()
            $null = $ps.AddScript("Import-Module '$modulePath'; Invoke-AxlLocalRun '$flow' -RunRoot '$root' -RunId r1")
            $async = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (Test-Path -LiteralPath $started) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            Test-Path -LiteralPath $started | Should -BeTrue
            $ps.Stop()   # what Ctrl+C does
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $run = Get-Content -LiteralPath (Join-Path $root 'stopped/r1/run.json') -Raw | ConvertFrom-Json
            $run.status | Should -Be 'Cancelled'
            $run.steps[0].status | Should -Be 'Cancelled'
            $ps.Dispose()

            Set-Content -LiteralPath $done -Value 'x'
            $resumed = Invoke-AxlLocalRun $flow -RunRoot $root -Resume r1
            $resumed.Status | Should -Be 'Succeeded'
        }
        finally { Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue }
    }
}
