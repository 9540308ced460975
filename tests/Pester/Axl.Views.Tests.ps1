#Requires -Version 7.4
# Pester 5 tests of how Axl's objects look (issue 15, points 4 and 10):
#  - every view of module/Axl.Format.ps1xml (table-driven: a view without a sample here fails) renders the same for
#    the live object and for its deserialized copy after a depth-1 PSSerializer round trip (what Start-Job,
#    Receive-Job and remoting hand back), both with Axl's types file (SerializationDepth) and without it (a copy
#    made where the module is not loaded), because views read plain properties that Core computes;
#  - every table view fits 80 columns (Out-String -Width 80) with all its columns; the list views keep the run
#    directory; the Deserialized.* forms select Axl's views;
#  - Get-AxlArtifact without -Step gives one AxlStepArtifact per step (step, value, handler, path, run), shown grouped
#    by run; with -Step the plain values, as before;
#  - Axl.Types.ps1xml keeps the step results of a run and the steps of a workflow as objects through Start-Job;
#  - a multi-line step error keeps the step table of `axl run local` aligned.
# Run from the repository root after `dotnet build` and `dotnet restore tests/Pester/restore`:
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1 -Path tests/Pester/Axl.Views.Tests.ps1

BeforeDiscovery {
    $formatFile = Join-Path $PSScriptRoot '../../module/Axl.Format.ps1xml'
    $script:Views = foreach ($v in ([xml](Get-Content -LiteralPath $formatFile -Raw)).Configuration.ViewDefinitions.View) {
        @{
            Name    = $v.Name
            Control = if ($v.TableControl) { 'Table' } else { 'List' }
            Type    = @($v.ViewSelectedBy.TypeName | Where-Object { $_ -notlike 'Deserialized.*' })[0]
            Labels  = @(if ($v.TableControl) { $v.TableControl.TableHeaders.TableColumnHeader.Label } else { $v.ListControl.ListEntries.ListEntry.ListItems.ListItem.Label })
        }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'NuGetPackages.ps1')
    $script:modulePath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/module/Axl/Axl.psd1'))
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $script:repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $script:formatFile = Join-Path $repo 'module/Axl.Format.ps1xml'
    $script:diamondPath = Join-Path $repo 'examples/diamond/diamond.axl.ps1'
    $script:runRoot = Join-Path $TestDrive 'runs'

    # A workflow whose middle step fails with an error of several lines, and one with a diagnostic.
    $script:flakyPath = Join-Path $TestDrive 'flaky.axl.ps1'
    Set-Content -LiteralPath $flakyPath -Value @'
AxlWorkflow flaky {
    Parameter Limit -Default 3
    Step load { param($Limit) 1..$Limit }
    Step train { param($load) throw "bad input: $($load.Count) rows`nsecond line of the error`n    third, indented" }
    Step report { param($train) 'never' }
}
'@
    $script:brokenPath = Join-Path $TestDrive 'broken.axl.ps1'
    Set-Content -LiteralPath $brokenPath -Value "AxlWorkflow broken {`n    Step only -IoHandler nosuch { 1 }`n}"

    $script:wf = Get-AxlWorkflow -LiteralPath $diamondPath
    $script:run = Invoke-AxlLocalRun -Path $diamondPath -RunRoot $runRoot
    $script:failed = Invoke-AxlLocalRun -Path $flakyPath -RunRoot $runRoot -ErrorAction SilentlyContinue
    $t0 = [DateTimeOffset]'2026-01-02T03:04:05Z'

    $params = [System.Collections.Generic.Dictionary[string, object]]::new()
    $params['LearningRate'] = 0.1
    $outputs = [System.Collections.Generic.Dictionary[string, object]]::new()
    $outputs['evaluate'] = 0.97
    $experiment = [Axl.Jobs.AxlExperiment]::new()
    $experiment.Name = 'lr-sweep'
    $experiment.Directory = Join-Path $runRoot '.experiments/lr-sweep'
    $experiment.RunRoot = $runRoot
    $experiment.CreatedAt = $t0
    $experiment.UpdatedAt = $t0.AddSeconds(30)
    foreach ($i in 1..3) {
        $job = [Axl.Jobs.ExperimentJob]::new()
        $job.Name = "lr-sweep-$i"
        $job.Status = if ($i -eq 3) { 'Failed' } else { 'Succeeded' }
        $job.RunId = "20260102-03040$i-abcdef"
        $job.StartTime = $t0
        $job.EndTime = $t0.AddSeconds(2.5 * $i)
        $job.Error = if ($i -eq 3) { 'step train failed: bad input' }
        $experiment.Jobs.Add($job)
    }

    # One live sample (or a few) per view name of Axl.Format.ps1xml. A new view needs its sample here.
    $script:Samples = @{
        AxlWorkflow         = { $wf }
        AxlStep             = { $wf.Steps }
        AxlDiagnostic       = { Get-AxlWorkflow -LiteralPath $brokenPath | Test-AxlWorkflow }
        AxlParameter        = { $wf.Parameters }
        AxlEdge             = { $wf.Edges }
        AxlRun              = { $run; $failed }
        AxlStepResult       = { $run.Steps; $failed.Steps }
        AxlStepArtifact     = { $run | Get-AxlArtifact }
        KfpDocument         = { $wf | ConvertTo-KfpPipeline }
        DagsterDocument     = { $wf | ConvertTo-DagsterJob }
        ArgoDocument        = { $wf | ConvertTo-ArgoWorkflow }
        ArgoTemplateInfo    = {
            [Axl.Jobs.Argo.ArgoTemplateInfo]@{ Name = 'chain-0123456789-1'; Namespace = 'argo'; Workflow = 'chain'; WorkflowLabel = 'chain'
                WorkflowHash = '0123456789ab'; Part = 1; Superseded = $false; UsedBy = [string[]]@('chain-x7k2p'); Created = $t0 }
        }
        AxlImage            = {
            [Axl.Images.ImageBuildResult]@{ Tag = 'reg.example/diamond:1'; ImageId = 'sha256:' + ('b' * 64); Digest = 'sha256:' + ('a' * 64); Pushed = $true
                Layers = [string[]]@(('sha256:' + ('c' * 64)), ('sha256:' + ('d' * 64))); Workflow = 'diamond'; WorkflowHash = $wf.Hash
                BaseImage = 'localhost/base:1'; Engine = 'Docker Engine 27.1.0' }
        }
        AxlImageContext     = {
            Build-AxlImage -Path $diamondPath -Tag reg.example/diamond:1 -BaseImage localhost/base:1 -ContextPath (Join-Path $TestDrive 'context.tar')
        }
        AxlExperimentReport = {
            [Axl.Jobs.ExperimentReportRow]@{ Experiment = 'lr-sweep'; Job = 'lr-sweep-1'; Parameters = $params; Status = 'Succeeded'
                Duration = [timespan]::FromSeconds(2.5); RunId = '20260102-030401-abcdef'; Outputs = $outputs }
        }
        AxlRunRemoval       = {
            $doomed = Invoke-AxlLocalRun -Path $diamondPath -RunRoot (Join-Path $TestDrive 'doomed')
            Remove-AxlRun -RunId $doomed.RunId -RunRoot (Join-Path $TestDrive 'doomed') -PassThru -Confirm:$false
        }
        AxlJobOption        = { New-AxlJobOption -Argo @{ Namespace = 'team-a'; MaxPollFailures = 5 } -Queue @{ Endpoint = 'localhost:6390' }; New-AxlJobOption }
        AxlExperiment       = { $experiment }
        AxlExperimentJob    = { $experiment.Jobs }
        AxlJobResult        = {
            [Axl.Jobs.JobResult]@{ JobName = 'nightly'; Status = 'Succeeded'; ExitCode = 0; RunId = $run.RunId; Workflow = $run.Workflow
                RunDirectory = $run.Directory; StartTime = $run.StartTime; EndTime = $run.EndTime; Steps = $run.Steps; Run = $run }
        }
    }

    # A depth-1 copy made in this session (Axl.Types.ps1xml applies), and one made in a runspace where the module is
    # not loaded (no SerializationDepth: exactly depth 1), both deserialized here.
    function ConvertTo-Deserialized($InputObject) {
        [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($InputObject, 1))
    }
    function ConvertTo-StrictDeserialized($InputObject) {
        $ps = [powershell]::Create()
        try {
            $xml = $ps.AddScript('param($x) [System.Management.Automation.PSSerializer]::Serialize($x, 1)').AddArgument($InputObject).Invoke()[0]
            [System.Management.Automation.PSSerializer]::Deserialize($xml)
        }
        finally { $ps.Dispose() }
    }
    function Show([object[]] $Objects, [string] $Control, [string] $View) {
        if ($Control -eq 'Table') { $Objects | Format-Table -View $View | Out-String -Width 80 }
        else { $Objects | Format-List -View $View | Out-String -Width 80 }
    }
}

Describe 'Views of Axl objects' {
    It 'has a sample for every view name of Axl.Format.ps1xml' {
        $names = @(([xml](Get-Content -LiteralPath $formatFile -Raw)).Configuration.ViewDefinitions.View.Name | Sort-Object -Unique)
        $names.Count | Should -BeGreaterThan 15
        @($names | Where-Object { -not $Samples.ContainsKey($_) }) | Should -BeNullOrEmpty -Because 'each view is tested with a live sample'
        @($Samples.Keys | Where-Object { $_ -notin $names }) | Should -BeNullOrEmpty -Because 'a sample for a view that does not exist tests nothing'
    }

    It 'selects every view for the Deserialized form of its type too' {
        foreach ($v in ([xml](Get-Content -LiteralPath $formatFile -Raw)).Configuration.ViewDefinitions.View) {
            $types = @($v.ViewSelectedBy.TypeName)
            foreach ($t in $types | Where-Object { $_ -notlike 'Deserialized.*' }) { $types | Should -Contain "Deserialized.$t" -Because "view $($v.Name)" }
        }
    }

    Context '<Name> (<Control>)' -ForEach $Views {
        BeforeAll {
            $script:live = @(& $Samples[$Name])
            $script:shown = Show $live $Control $Name
        }

        It 'has samples of its type' {
            $live.Count | Should -BeGreaterThan 0
            foreach ($o in $live) { $o.pstypenames | Should -Contain $Type }
        }

        It 'shows every column, no line over 80 characters' {
            $lines = $shown -split "`r?`n"
            @($lines | Where-Object { $_.Length -gt 80 }) | Should -BeNullOrEmpty
            if ($Control -eq 'Table') {
                $header = $lines | Where-Object { $_ -match "^\s*$([regex]::Escape($Labels[0]))\b" } | Select-Object -First 1
                $header | Should -Not -BeNullOrEmpty
                foreach ($label in $Labels) { $header | Should -Match "(^|\s)$([regex]::Escape($label))(\s|$)" -Because "the $label column stays at 80 columns" }
            }
            else {
                foreach ($label in $Labels) { $shown | Should -Match "(?m)^$([regex]::Escape($label))\s*:" }
            }
        }

        It 'shows the same after a depth-1 round trip, with and without Axl.Types.ps1xml' {
            $copies = @($live | ForEach-Object { ConvertTo-Deserialized $_ })
            $strict = @($live | ForEach-Object { ConvertTo-StrictDeserialized $_ })
            $copies[0].pstypenames[0] | Should -Be "Deserialized.$Type"
            $strict[0].pstypenames[0] | Should -Be "Deserialized.$Type"
            Show $copies $Control $Name | Should -BeExactly $shown
            Show $strict $Control $Name | Should -BeExactly $shown
            # without -View: the Deserialized form selects this view when it is its type's first of its kind
            $default = if ($Control -eq 'Table') { $strict | Format-Table | Out-String -Width 80 } else { $strict | Format-List | Out-String -Width 80 }
            $liveDefault = if ($Control -eq 'Table') { $live | Format-Table | Out-String -Width 80 } else { $live | Format-List | Out-String -Width 80 }
            $default | Should -BeExactly $liveDefault
        }
    }

    It 'shows what a round trip used to lose: the succeeded count, the Argo size, the steps of a workflow' {
        $copy = ConvertTo-StrictDeserialized $run
        ($copy | Format-Table | Out-String -Width 80) | Should -Match "$($run.RunId)\s+Succeeded\s+4/4 succeeded"
        ($copy | Format-List | Out-String -Width 200) | Should -Match ([regex]::Escape("Directory    : $($run.Directory)"))
        $argo = ConvertTo-StrictDeserialized ($wf | ConvertTo-ArgoWorkflow)
        ($argo | Format-Table | Out-String -Width 80) | Should -Match 'diamond-\s+4\s+\d+(\.\d)? KiB'
        $flow = ConvertTo-StrictDeserialized $wf
        ($flow | Format-List | Out-String -Width 80) | Should -Match 'Steps\s+: start, left, right, join'
        ($flow | Format-List | Out-String -Width 80) | Should -Match 'IoHandler\s+: clixml'
        $failedCopy = ConvertTo-StrictDeserialized $failed
        ($failedCopy | Format-Table | Out-String -Width 80) | Should -Match 'Failed\s+1/3 succeeded'
        ($failedCopy | Format-List | Out-String -Width 80) | Should -Match 'StepStatus\s+: load: Succeeded, train: Failed, report: Skipped'
    }

    It 'shows the first line of a multi-line step error in the step table, the whole error in the list' {
        $table = $failed.Steps | Format-Table | Out-String -Width 80
        $row = ($table -split "`r?`n") | Where-Object { $_ -match '^train\s' }
        @($row).Count | Should -Be 1
        $row | Should -Match 'Failed\s+1\s+\S+s\s+bad input: 3 row'
        $table | Should -Not -Match 'second line'
        ($failed.Steps | Format-List | Out-String -Width 200) | Should -Match 'second line of the error'
    }
}

Describe 'Get-AxlArtifact output shapes' {
    It 'without -Step gives one AxlStepArtifact per succeeded step: step, value, handler, path and run' {
        $artifacts = @($run | Get-AxlArtifact)
        $artifacts.Count | Should -Be 4
        $artifacts | ForEach-Object { $_.GetType().FullName | Should -Be 'Axl.Runtime.AxlStepArtifact' }
        $artifacts.Step | Should -Be @('start', 'left', 'right', 'join')
        $artifacts.Value | Should -Be @(10, 11, 20, 31)
        $artifacts.Handler | Should -Be @('clixml', 'clixml', 'clixml', 'clixml')
        $artifacts[3].Path | Should -Be (Join-Path $run.Directory 'join/output.clixml')
        $artifacts[3].RunId | Should -Be $run.RunId
        $artifacts[3].Workflow | Should -Be 'diamond'
        $artifacts[3].RunDirectory | Should -Be $run.Directory
        # a failed run: the steps that succeeded, each still named
        @($failed | Get-AxlArtifact -ErrorAction SilentlyContinue).Step | Should -Be @('load')
        (@($failed | Get-AxlArtifact)[0].Value) | Should -Be @(1, 2, 3)
    }

    It 'with -Step gives the plain values, as before (and -AsPath the paths)' {
        $run | Get-AxlArtifact -Step join | Should -Be 31
        $run | Get-AxlArtifact -Step left, right | Should -Be @(11, 20)
        $run | Get-AxlArtifact -Step 'l*' | Should -Be 11
        ($failed | Get-AxlArtifact -Step load) | Should -Be @(1, 2, 3)
        $run | Get-AxlArtifact -AsPath | Should -Be @($run.Steps.Name | ForEach-Object { Join-Path $run.Directory "$_/output.clixml" })
    }

    It 'shows the artifacts of two runs apart, grouped by run, one row per step' {
        $second = Invoke-AxlLocalRun -Path $diamondPath -RunRoot $runRoot -Parameters @{ Base = 1 }
        $text = @($run, $second) | Get-AxlArtifact | Format-Table | Out-String -Width 80
        $groups = [regex]::Matches($text, 'Run: (\S+)')
        @($groups | ForEach-Object { $_.Groups[1].Value }) | Should -Be @($run.RunId, $second.RunId)
        $text | Should -Match '(?m)^join\s+clixml\s+\d+\s+31\s*$'
        $text | Should -Match '(?m)^join\s+clixml\s+\d+\s+4\s*$'
    }
}

Describe 'Objects through Start-Job' {
    It 'keeps the step results of a run and the steps of a workflow as objects (Axl.Types.ps1xml), and shows them as here' {
        $job = Start-Job -ScriptBlock {
            param($Module, $Flow, $Root)
            Import-Module $Module
            Get-AxlRun diamond -RunRoot $Root -Last 1
            Get-AxlWorkflow -LiteralPath $Flow
        } -ArgumentList $modulePath, $diamondPath, $runRoot
        $back = @($job | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop)
        $back.Count | Should -Be 2
        $back[0].pstypenames[0] | Should -Be 'Deserialized.Axl.Runtime.AxlRun'
        $back[0].Steps[0].pstypenames[0] | Should -Be 'Deserialized.Axl.Runtime.AxlStepResult'
        $back[0].Steps.Status | Should -Not -Contain 'Failed'
        $back[1].Steps[0].pstypenames[0] | Should -Be 'Deserialized.Axl.Model.AxlStep'
        $back[1].Steps.Name | Should -Be @('start', 'left', 'right', 'join')
        $latest = Get-AxlRun diamond -RunRoot $runRoot -Last 1
        ($back[0] | Format-Table | Out-String -Width 80) | Should -BeExactly ($latest | Format-Table | Out-String -Width 80)
        ($back[1] | Format-List | Out-String -Width 80) | Should -BeExactly ($wf | Format-List | Out-String -Width 80)
    }
}

Describe 'The step table of axl run local' {
    It 'keeps its columns aligned when a step error has several lines' {
        $cli = Join-Path $repo 'artifacts/cli/axl.dll'
        if (-not (Test-Path -LiteralPath $cli)) { Set-ItResult -Skipped -Because "the axl command is not built at $cli" ; return }
        $out = & dotnet $cli run local $flakyPath --run-root (Join-Path $TestDrive 'cli-runs') 2>$null
        $LASTEXITCODE | Should -Be 1
        $lines = @($out)
        $header = [array]::IndexOf($lines, ($lines | Where-Object { $_ -match '^\s+STEP\s+STATUS\s+TRIES\s+TIME\s+OUTPUT$' } | Select-Object -First 1))
        $header | Should -BeGreaterOrEqual 0
        $column = $lines[$header].IndexOf('OUTPUT')
        $lines[$header + 1] | Should -Match '^\s+load\s+succeeded\s'
        $lines[$header + 2] | Should -Match '^\s+train\s+failed\s+1\s+\S+\s+bad input: 3 rows$'
        $lines[$header + 2].IndexOf('bad input') | Should -Be $column
        $lines[$header + 3] | Should -BeExactly ((' ' * $column) + 'second line of the error')
        $lines[$header + 4] | Should -BeExactly ((' ' * $column) + '    third, indented')
        $lines[$header + 5] | Should -Match '^\s+report\s+skipped\s'
    }
}
