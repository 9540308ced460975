#Requires -Version 7.4
# Step code is the user's PowerShell in every host. The same workflows run under the four hosts a step can have:
# Invoke-AxlLocalRun in this pwsh, `axl run local`, `axl step` (what every Argo, KFP and Dagster pod runs) and a local
# job (Submit-AxlJob -Target Local, a child axl). Each must see every command `pwsh -NoProfile` has, run ordinary
# cmdlets, see what the top of the workflow file defines, and show a step's warning to the user.
# The axl processes run with PSModulePath unset, so they find only the modules they bring themselves.

BeforeDiscovery {
    $hosts = @('Invoke-AxlLocalRun', 'axl run local', 'axl step', 'local job')
}

BeforeAll {
    $repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $modulePath = Join-Path $repo 'artifacts/module/Axl/Axl.psd1'
    $axlDll = Join-Path $repo 'artifacts/cli/axl.dll'
    foreach ($built in $modulePath, $axlDll) {
        if (-not (Test-Path -LiteralPath $built)) { throw "Axl is not built: expected $built. Run 'dotnet build' at the repository root first." }
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $dotnet = (Get-Command dotnet -CommandType Application -ErrorAction Stop)[0].Source

    # Commands that pwsh has and a host may lack, each with the reason. None today: the axl command brings every module
    # pwsh ships (see build/Axl.PowerShellHost.targets).
    $interactiveOnly = @()

    function Invoke-WithoutModulePath([scriptblock] $Script) {
        $saved = $env:PSModulePath
        Remove-Item Env:PSModulePath -ErrorAction SilentlyContinue
        try { & $Script } finally { $env:PSModulePath = $saved }
    }

    # The axl command as a user runs it; stdout and stderr kept apart.
    function Invoke-Axl([string[]] $Arguments) {
        $err = New-TemporaryFile
        try {
            $out = Invoke-WithoutModulePath { & $dotnet $axlDll @Arguments 2>$err.FullName }
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Out = @($out); Err = @(Get-Content -LiteralPath $err.FullName) }
        }
        finally { Remove-Item -LiteralPath $err.FullName -Force }
    }

    # The commands of a fresh `pwsh -NoProfile` (this pwsh's own binary), with its own default module path.
    $pwshPath = [Environment]::ProcessPath
    $pwshArgs = @(if ([System.IO.Path]::GetFileNameWithoutExtension($pwshPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    $pwshCommands = Invoke-WithoutModulePath {
        & $pwshPath @pwshArgs -NoProfile -NonInteractive -Command 'Get-Command | ForEach-Object Name | Sort-Object -Unique'
    }

    # Runs one workflow under a host; returns where each step's output is and what the user saw.
    function Invoke-OnHost([string] $HostName, [string] $Flow, [string] $Name, [string[]] $Steps) {
        $runRoot = Join-Path $TestDrive ("runs-" + ($HostName -replace '\W', '-'))
        switch ($HostName) {
            'Invoke-AxlLocalRun' {
                $run = Invoke-AxlLocalRun -Path $Flow -RunRoot $runRoot -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction Stop
                $run.Status | Should -Be 'Succeeded'
                @{ Dir = $run.Directory; Seen = @($warnings | ForEach-Object { "$_" }) }
            }
            'axl run local' {
                $r = Invoke-Axl @('run', 'local', $Flow, '--run-root', $runRoot, '--json')
                $r.ExitCode | Should -Be 0 -Because ($r.Err -join "`n")
                $run = ($r.Out -join "`n") | ConvertFrom-Json
                @{ Dir = Join-Path $runRoot "$Name/$($run.runId)"; Seen = $r.Err }
            }
            'axl step' {
                # What a pod does: one `axl step` per step, in order, each reading its upstream's artifact folder.
                $dir = Join-Path $runRoot "$Name/by-step"
                $seen = @()
                $previous = $null
                foreach ($step in $Steps) {
                    $inputs = @(if ($previous) { @{ name = $previous; source = 'step'; from = $previous; mode = 'object'; path = (Join-Path $dir $previous) } })
                    $manifest = @{
                        schemaVersion = 1; workflow = $Name; workflowFile = (Split-Path $Flow -Leaf); workDir = (Split-Path $Flow -Parent); step = $step
                        inputs = $inputs; output = @{ directory = (Join-Path $dir $step); ioHandler = (Get-AxlWorkflow $Flow).GetStep($step).IoHandler }
                    } | ConvertTo-Json -Depth 5 -Compress
                    $r = Invoke-Axl @('step', '--manifest-json', $manifest)
                    $r.ExitCode | Should -Be 0 -Because (($r.Out + $r.Err) -join "`n")
                    $seen += $r.Out
                    $previous = $step
                }
                @{ Dir = $dir; Seen = $seen }
            }
            'local job' {
                $job = Invoke-WithoutModulePath { Get-AxlWorkflow $Flow | Submit-AxlJob -Target Local -RunRoot $runRoot }
                try {
                    $null = $job | Wait-Job -Timeout 180
                    $job.State | Should -Be 'Completed'
                    $result = $job | Receive-Job -WarningVariable warnings -WarningAction SilentlyContinue
                    @{ Dir = $result.RunDirectory; Seen = @($warnings | ForEach-Object { "$_" }) }
                }
                finally { $job | Remove-Job -Force }
            }
        }
    }

    function Get-StepText([hashtable] $Ran, [string] $Step) {
        $file = Get-ChildItem -LiteralPath (Join-Path $Ran.Dir $Step) -Filter 'output.*' | Where-Object Name -NotLike '*.meta.json' | Select-Object -First 1
        Get-Content -LiteralPath $file.FullName -Raw
    }

    $flows = Join-Path $TestDrive 'flows'
    $null = New-Item -ItemType Directory -Path $flows
    # Lists the commands a step sees, and uses the script modules pwsh ships (Archive, ThreadJob). `shipped` runs after
    # `list`: in PowerShell 7.6 a module that the engine must analyse "the old way" (PowerShellGet: its manifest has no
    # CmdletsToExport) is skipped by a Get-Command of one runspace while another runspace of the same process analyses
    # it (AnalysisCache.AnalyzeTheOldWay returns null for a module in s_modulesBeingAnalyzed), so a listing that races
    # another step's module autoloading can miss PowerShellGet's commands. That is the engine's, in pwsh too
    # (ForEach-Object -Parallel), not a difference between hosts; this test compares what each host has.
    $commandsFlow = Join-Path $flows 'commands.axl.ps1'
    Set-Content -LiteralPath $commandsFlow -Value @'
AxlWorkflow commands {
    Step list -IoHandler text { (Get-Command | ForEach-Object Name | Sort-Object -Unique) -join "`n" }
    Step shipped -IoHandler text -DependsOn list {
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) "axl-shipped-$([guid]::NewGuid().ToString('N'))"
        $null = New-Item -ItemType Directory -Path $dir
        try {
            Set-Content -LiteralPath (Join-Path $dir 'a.txt') -Value 'alpha'
            Compress-Archive -Path (Join-Path $dir 'a.txt') -DestinationPath (Join-Path $dir 'a.zip')
            Expand-Archive -LiteralPath (Join-Path $dir 'a.zip') -DestinationPath (Join-Path $dir 'x')
            $answer = Start-ThreadJob { 6 * 7 } | Receive-Job -Wait -AutoRemoveJob
            "$(Get-Content -LiteralPath (Join-Path $dir 'x/a.txt')) $answer $($PSVersionTable.PSVersion.Major)"
        }
        finally { Remove-Item -LiteralPath $dir -Recurse -Force }
    }
}
'@

    # A workflow in the style users write: ordinary cmdlets, a helper function at the top of the file, a warning.
    $salesFlow = Join-Path $flows 'sales.axl.ps1'
    Set-Content -LiteralPath (Join-Path $flows 'sales.csv') -Value @'
region,product,amount
north,apples,10
south,pears,5
north,pears,7
east,apples,3
south,apples,8
'@
    Set-Content -LiteralPath $salesFlow -Value @'
function Get-SalesPath { Join-Path $PSScriptRoot 'sales.csv' }
$script:Threshold = 14

AxlWorkflow sales {
    Step load { Import-Csv -LiteralPath (Get-SalesPath) }
    Step totals {
        param($load)
        $load | Group-Object region | ForEach-Object {
            [pscustomobject]@{ Region = $_.Name; Total = ($_.Group | Measure-Object -Property amount -Sum).Sum }
        } | Sort-Object Total -Descending
    }
    Step report -IoHandler text {
        param($totals)
        $big = @($totals | Where-Object Total -ge $script:Threshold)
        if ($big.Count -lt 2) { Write-Warning "only $($big.Count) region(s) reach $script:Threshold" }
        [pscustomobject]@{ Top = $big[0].Region; Total = $big[0].Total; Regions = @($totals).Count; Year = [int](Get-Date -Format yyyy) } | ConvertTo-Json -Compress
    }
}
'@
}

Describe 'pwsh itself' {
    It 'lists the commands of the modules it ships' {
        $pwshCommands | Should -Contain 'Import-Csv'
        $pwshCommands | Should -Contain 'Compress-Archive'
        $pwshCommands | Should -Contain 'Start-ThreadJob'
        @($pwshCommands).Count | Should -BeGreaterThan 250
    }
}

Describe 'A step under <_>' -ForEach $hosts {
    BeforeAll {
        $hostName = $_
        $commands = Invoke-OnHost -HostName $hostName -Flow $commandsFlow -Name commands -Steps list, shipped
        $sales = Invoke-OnHost -HostName $hostName -Flow $salesFlow -Name sales -Steps load, totals, report
    }

    It 'sees every command pwsh -NoProfile has' {
        $seen = (Get-StepText $commands 'list') -split "`n" | Where-Object { $_ }
        $missing = @($pwshCommands | Where-Object { $_ -notin $seen -and $_ -notin $interactiveOnly })
        $missing | Should -BeNullOrEmpty -Because "a step under $hostName must have what pwsh has"
    }

    It 'runs the script modules pwsh ships (Compress-Archive, Expand-Archive, Start-ThreadJob) on PowerShell 7' {
        (Get-StepText $commands 'shipped').Trim() | Should -Be 'alpha 42 7'
    }

    It 'runs a workflow of ordinary cmdlets and a top-level helper with the right answer' {
        $report = (Get-StepText $sales 'report') | ConvertFrom-Json
        $report.Top | Should -Be 'north'
        $report.Total | Should -Be 17
        $report.Regions | Should -Be 3
        $report.Year | Should -Be (Get-Date).Year
    }

    It "shows the step's warning with the step's name" {
        $expected = 'only 1 region(s) reach 14'
        switch ($hostName) {
            'axl run local' { @($sales.Seen -match [regex]::Escape("[report] WARNING: $expected")).Count | Should -Be 1 -Because ($sales.Seen -join "`n") }
            'axl step' {
                $line = $sales.Seen | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object message -EQ $expected
                $line.level | Should -Be 'warning'
                $line.step | Should -Be 'report'
            }
            default { $sales.Seen | Should -Contain "[report] $expected" }
        }
    }
}
