#Requires -Version 7.4
# Pester 5 tests of tab completion as a pwsh user meets it (issue 15, point 1): TabExpansion2 on real command lines
# completes workflow names, run ids (most recent first, the run's status and start time in the tooltip), step names,
# IO handler names (built-in and registered), -InputMode and -CodeDelivery values (a bad one fails parameter
# binding), workflow parameters for -Parameters/-Overrides, job names and ids, and experiment names.
# Run from the repository root after `dotnet build` and `dotnet restore tests/Pester/restore`:
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1 -Path tests/Pester/Axl.Completion.Tests.ps1

BeforeAll {
    $modulePath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/module/Axl/Axl.psd1'))
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    Import-Module $modulePath -Force -ErrorAction Stop

    # What TabExpansion2 offers with the cursor at the end of $Line.
    function Complete([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches)
    }

    # The folder the completions are read in: the default run root (.axl/runs) is under it, and so are the workflow
    # files that complete by name from the current directory.
    $work = Join-Path $TestDrive 'work'
    $null = New-Item -ItemType Directory $work
    $savedRunRoot = $env:AXL_RUN_ROOT
    $env:AXL_RUN_ROOT = $null
    Push-Location $work

    Set-Content -LiteralPath (Join-Path $work 'etl-daily.axl.ps1') -Value @'
AxlWorkflow etl-daily {
    Parameter Count -Default 3
    Parameter Label 'x'
    Step extract { 1 }
    Step load { param($extract, $Count) $extract + $Count }
}
'@
    Set-Content -LiteralPath (Join-Path $work 'train.axl.ps1') -Value "AxlWorkflow train {`n    Step fit { 42 }`n}"
    Set-Content -LiteralPath (Join-Path $work 'broken.axl.ps1') -Value "AxlWorkflow broken {`n    Step boom { throw 'no' }`n}"
    # A workflow with no runs yet, and a file that does not parse: neither may keep completion from working.
    Set-Content -LiteralPath (Join-Path $work 'fresh.axl.ps1') -Value "AxlWorkflow fresh {`n    Step one { 1 }`n}"
    Set-Content -LiteralPath (Join-Path $work 'garbled.axl.ps1') -Value "AxlWorkflow {{{ ( Step"

    # Run ids in the order they were made; the newest is the last.
    $ids = @(
        '20260101-000001-aaaaaa'   # etl-daily
        '20260101-000002-bbbbbb'   # train
        '20260101-000003-cccccc'   # broken (fails)
        '20260101-000004-dddddd'   # etl-daily
    )
    $runs = @(
        Invoke-AxlLocalRun ./etl-daily.axl.ps1 -RunId $ids[0] -ErrorAction Stop
        Invoke-AxlLocalRun ./train.axl.ps1 -RunId $ids[1] -ErrorAction Stop
        Invoke-AxlLocalRun ./broken.axl.ps1 -RunId $ids[2] -ErrorAction SilentlyContinue
        Invoke-AxlLocalRun ./etl-daily.axl.ps1 -RunId $ids[3] -ErrorAction Stop
    )
    # A run root elsewhere, named with -RunRoot.
    $null = Invoke-AxlLocalRun ./fresh.axl.ps1 -RunRoot ./elsewhere -RunId '20260102-000001-eeeeee' -ErrorAction Stop
    # An unreadable run record: completion skips it.
    $junk = Join-Path $work '.axl/runs/etl-daily/20260101-000000-junk00'
    $null = New-Item -ItemType Directory $junk
    Set-Content -LiteralPath (Join-Path $junk 'run.json') -Value '{ not json'
}

AfterAll {
    Pop-Location
    $env:AXL_RUN_ROOT = $savedRunRoot
}

Describe 'Tab completion of workflow names' {
    It 'ran the runs the tests complete' {
        $runs.Status | Should -Be @('Succeeded', 'Succeeded', 'Failed', 'Succeeded')
    }

    It 'Get-AxlRun <tab> offers the workflows with runs, then those defined in the *.axl.ps1 files here' {
        (Complete 'Get-AxlRun ').CompletionText | Should -Be @('broken', 'etl-daily', 'train', 'fresh')
    }

    It 'completes a prefix, by -Workflow and by its alias -Name, keeping the quote the user opened' {
        (Complete 'Get-AxlRun e').CompletionText | Should -Be @('etl-daily')
        (Complete 'Get-AxlRun -Workflow tr').CompletionText | Should -Be @('train')
        (Complete 'Get-AxlRun -Name f').CompletionText | Should -Be @('fresh')
        (Complete "Get-AxlRun 'etl").CompletionText | Should -Be @("'etl-daily'")
    }

    It 'reads the run root given with -RunRoot' {
        $names = (Complete 'Get-AxlRun -RunRoot ./elsewhere ').CompletionText
        $names[0] | Should -Be 'fresh'
        (Complete 'Get-AxlRun -RunRoot ./elsewhere ')[0].ToolTip | Should -BeLike '*has runs under*elsewhere*'
    }

    It 'New-AxlJobSpec -WorkflowName <tab> offers the workflows of the -WorkflowPath file' {
        (Complete 'New-AxlJobSpec -WorkflowPath ./train.axl.ps1 -WorkflowName ').CompletionText | Should -Be @('train')
    }
}

Describe 'Tab completion of run ids' {
    It 'Get-AxlRun -RunId <tab> offers every run id, most recent first, the status and start time in the tooltip' {
        $m = Complete 'Get-AxlRun -RunId '
        $m.CompletionText | Should -Be @($ids[3], $ids[2], $ids[1], $ids[0])
        $m[1].ToolTip | Should -BeLike "broken $($ids[2]): Failed, started ????-??-?? ??:??:??*"
        $m[0].ToolTip | Should -BeLike "etl-daily $($ids[3]): Succeeded, started *"
        $m[0].ToolTip | Should -BeLike "*$($runs[3].StartTime.ToLocalTime().ToString('yyyy-MM-dd HH:mm:ss'))*"
    }

    It 'narrows to the workflow bound before it, and to the typed prefix' {
        (Complete 'Get-AxlRun etl-daily -RunId ').CompletionText | Should -Be @($ids[3], $ids[0])
        (Complete 'Get-AxlRun etl-daily ').CompletionText | Should -Be @($ids[3], $ids[0])
        (Complete 'Get-AxlRun -RunId 20260101-000002').CompletionText | Should -Be @($ids[1])
    }

    It 'Invoke-AxlLocalRun -Resume <tab> offers the runs of the workflow file at hand' {
        (Complete 'Invoke-AxlLocalRun ./etl-daily.axl.ps1 -Resume ').CompletionText | Should -Be @($ids[3], $ids[0])
        $m = Complete 'Invoke-AxlLocalRun -Path ./broken.axl.ps1 -Resume '
        $m.CompletionText | Should -Be @($ids[2])
        $m[0].ToolTip | Should -BeLike '*Failed*'
    }
}

Describe 'Tab completion of step names' {
    BeforeAll { $global:AxlCompletionRun = $runs[1] }
    AfterAll { Remove-Variable -Name AxlCompletionRun -Scope Global -ErrorAction SilentlyContinue }

    It 'Get-AxlArtifact $run -Step <tab> offers the steps of that run, with their status' {
        $m = Complete 'Get-AxlArtifact $AxlCompletionRun -Step '
        $m.CompletionText | Should -Be @('fit')
        $m[0].ToolTip | Should -BeLike '*Succeeded*'
    }

    It 'Get-AxlRun ... | Get-AxlArtifact -Step <tab> offers the steps of the run the pipeline starts from' {
        (Complete 'Get-AxlRun etl-daily | Get-AxlArtifact -Step ').CompletionText | Should -Be @('extract', 'load')
        (Complete "Get-AxlRun -RunId $($ids[1]) | Get-AxlArtifact -Step ").CompletionText | Should -Be @('fit')
        (Complete 'Get-AxlRun etl-daily | Get-AxlArtifact -Step l').CompletionText | Should -Be @('load')
    }
}

Describe 'The step completer with a workflow at hand' {
    # No cmdlet takes -Step beside -Path or -Workflow yet; the completer is ready for one: called here as the engine
    # calls it, with the parameters bound so far.
    It 'offers the steps of the workflow file (-Path) or AxlWorkflow (-Workflow) bound before it' {
        $completer = [Axl.Cmdlets.Completion.StepNameCompleter]::new()
        $ast = [System.Management.Automation.Language.Parser]::ParseInput('X -Step ', [ref] $null, [ref] $null).EndBlock.Statements[0].PipelineElements[0]
        $completer.CompleteArgument('X', 'Step', '', $ast, @{ Path = './etl-daily.axl.ps1' }).CompletionText | Should -Be @('extract', 'load')
        $completer.CompleteArgument('X', 'Step', 'e', $ast, @{ Path = './etl-daily.axl.ps1' }).CompletionText | Should -Be @('extract')
        $completer.CompleteArgument('X', 'Step', '', $ast, @{ Workflow = (Get-AxlWorkflow ./train.axl.ps1) }).CompletionText | Should -Be @('fit')
    }
}

Describe 'Tab completion of IO handler names' {
    It 'offers the built-in handlers wherever a handler is named' {
        $builtIn = @('arrow', 'bytes', 'clixml', 'csv', 'json', 'parquet', 'text')
        @((Complete 'Step s -IoHandler ').CompletionText | Sort-Object) | Should -Be $builtIn
        (Complete 'AxlWorkflow w -IoHandler js').CompletionText | Should -Be @('json')
        @((Complete 'Get-AxlIoHandler c').CompletionText | Sort-Object) | Should -Be @('clixml', 'csv')
        (Complete 'Step s -IoHandler par')[0].ToolTip | Should -BeLike 'parquet (.parquet)*'
    }

    It 'offers a handler registered with Register-AxlIoHandler (in a fresh process: the registry is per process)' {
        $found = Start-Job -ScriptBlock {
            Import-Module $using:modulePath
            Register-AxlIoHandler yamlish .yaml -WriteScript { param($Value, $Path) } -ReadScript { param($Path) }
            (TabExpansion2 -inputScript 'Step s -IoHandler ya' -cursorColumn 20).CompletionMatches.CompletionText
        } | Receive-Job -Wait -AutoRemoveJob
        $found | Should -Be @('yamlish')
    }
}

Describe '-InputMode and -CodeDelivery: completed, and checked when bound' {
    It 'completes the input modes and code delivery modes' {
        (Complete 'Step s -InputMode ').CompletionText | Should -Be @('Object', 'Path')
        (Complete 'AxlWorkflow w -InputMode p').CompletionText | Should -Be @('Path')
        @((Complete 'AxlWorkflow w -CodeDelivery ').CompletionText | Sort-Object) | Should -Be @('Artifact', 'Image')
    }

    It '<Command> fails parameter binding (ParameterArgumentValidationError), not later' -ForEach @(
        @{ Command = "AxlWorkflow w -InputMode stream { Step a { 1 } }"; Cmdlet = 'NewAxlWorkflowCommand' }
        @{ Command = "AxlWorkflow w -CodeDelivery Git { Step a { 1 } }"; Cmdlet = 'NewAxlWorkflowCommand' }
        @{ Command = "Add-AxlStep a -InputMode stream { 1 }"; Cmdlet = 'AddAxlStepCommand' }
        @{ Command = "Add-AxlStep a -InputMode @{ x = 'stream' } { param(`$x) }"; Cmdlet = 'AddAxlStepCommand' }
        @{ Command = "Add-AxlStep a -InputMode 42 { 1 }"; Cmdlet = 'AddAxlStepCommand' }
    ) {
        $thrown = $null
        try { $null = . ([scriptblock]::Create($Command)) } catch { $thrown = $_ }
        $thrown | Should -Not -BeNullOrEmpty
        $thrown.Exception | Should -BeOfType ([System.Management.Automation.ParameterBindingException])
        $thrown.FullyQualifiedErrorId | Should -Be "ParameterArgumentValidationError,Axl.Cmdlets.Dsl.$Cmdlet"
    }

    It 'takes the good values in any case, and a hashtable of modes' {
        $wf = AxlWorkflow ok -InputMode path -CodeDelivery artifact {
            Step a { 1 }
            Step b -InputMode @{ a = 'Object' } { param($a) $a }
            Step c -InputMode PATH { param($a) $a }
        }
        $wf.Name | Should -Be 'ok'
        $wf.Options.CodeDelivery | Should -Be 'Artifact'
    }
}

Describe 'Tab completion of workflow parameters in -Parameters and -Overrides' {
    BeforeAll {
        $global:AxlCompletionWorkflow = Get-AxlWorkflow ./etl-daily.axl.ps1
        $expected = @("@{ Count = 3; Label = 'x' }", '@{ Count = 3 }', "@{ Label = 'x' }")
    }
    AfterAll { Remove-Variable -Name AxlCompletionWorkflow -Scope Global -ErrorAction SilentlyContinue }

    It 'Invoke-AxlLocalRun <file> -Parameters <tab> offers hashtables of the workflow parameters with their defaults' {
        (Complete 'Invoke-AxlLocalRun ./etl-daily.axl.ps1 -Parameters ').CompletionText | Should -Be $expected
        (Complete 'Invoke-AxlLocalRun ./etl-daily.axl.ps1 -Parameters @').CompletionText | Should -Be $expected
    }

    It 'knows the workflow from the pipeline, a workflow object, or the job spec fields' {
        (Complete 'Get-AxlWorkflow ./etl-daily.axl.ps1 | Invoke-AxlLocalRun -Parameters ').CompletionText | Should -Be $expected
        (Complete 'Submit-AxlJob -Workflow $AxlCompletionWorkflow -Overrides ').CompletionText | Should -Be $expected
        (Complete 'New-AxlJobSpec -WorkflowPath ./etl-daily.axl.ps1 -Parameters ').CompletionText | Should -Be $expected
    }

    It 'offers nothing for a workflow without parameters or when none is known' {
        Complete 'Invoke-AxlLocalRun ./train.axl.ps1 -Parameters ' | Should -BeNullOrEmpty
        Complete 'Submit-AxlJob -Parameters ' | Should -BeNullOrEmpty
    }

    It 'a completed hashtable runs' {
        $text = (Complete 'Invoke-AxlLocalRun ./etl-daily.axl.ps1 -Parameters ')[0].CompletionText
        $run = Invoke-AxlLocalRun ./etl-daily.axl.ps1 -Parameters (Invoke-Expression $text) -RunRoot ./scratch -ErrorAction Stop
        $run | Get-AxlArtifact -Step load | Should -Be 4
    }
}

Describe 'Tab completion of job and experiment names' {
    BeforeAll {
        $wf = Get-AxlWorkflow ./train.axl.ps1
        $jobs = @(
            $wf | Submit-AxlJob -Name 'nightly train' -RunRoot ./jobs -ErrorAction Stop
            $wf | Submit-AxlJob -Name 'train-1' -RunRoot ./jobs -ErrorAction Stop
        )
        $null = $jobs | Wait-AxlJob -Timeout 120
        foreach ($n in 'sweep-a', 'sweep-b') {
            $null = $wf | New-AxlJobSpec -Name "job-$n" | Start-AxlExperiment $n -Wait -ErrorAction Stop
        }
    }
    AfterAll { $jobs | Remove-Job -Force -ErrorAction SilentlyContinue }

    It 'Get-AxlJob <tab> offers the Axl jobs of the session by id, quoting a name with a space' {
        (Complete 'Get-AxlJob ').CompletionText | Should -Be @("'nightly train'", 'train-1')
        (Complete 'Get-AxlJob n').CompletionText | Should -Be @("'nightly train'")
        (Complete 'Get-AxlJob t')[0].ToolTip | Should -BeLike "job $($jobs[1].Id) 'train-1': Completed*"
        (Complete 'Get-AxlJob -Id ').CompletionText | Should -Be @([string]$jobs[0].Id, [string]$jobs[1].Id)
        # Stop-Job, Remove-Job and Receive-Job -Name complete them too (PowerShell's own job name completion).
        (Complete 'Stop-Job -Name n').CompletionText | Should -Be @("'nightly train'")
    }

    It 'Get-AxlExperiment and Stop-AxlExperiment complete the experiments under the run root' {
        (Complete 'Get-AxlExperiment ').CompletionText | Should -Be @('sweep-a', 'sweep-b')
        (Complete 'Stop-AxlExperiment sweep-b').CompletionText | Should -Be @('sweep-b')
        (Complete 'Get-AxlExperiment s')[0].ToolTip | Should -BeLike '*sweep-a*Succeeded*'
        Complete 'Get-AxlExperiment -RunRoot ./elsewhere ' | Should -BeNullOrEmpty
    }
}

Describe 'Completion never fails' {
    It 'offers nothing, and throws nothing, where nothing is there to read' {
        { Complete 'Get-AxlRun -RunRoot "\\?\nul:bad" -RunId ' } | Should -Not -Throw
        Complete 'Get-AxlRun -RunRoot ./nosuch -RunId ' | Should -BeNullOrEmpty
        Complete 'Get-AxlArtifact -Step ' | Should -BeNullOrEmpty
        Complete 'Invoke-AxlLocalRun ./nosuch.axl.ps1 -Resume ' | Should -BeNullOrEmpty
        Complete 'Invoke-AxlLocalRun ./garbled.axl.ps1 -Parameters ' | Should -BeNullOrEmpty
    }
}
