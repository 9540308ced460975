#Requires -Version 7.4
# Pester 5 tests of the pipeline as a PowerShell user chains Axl's cmdlets (issue 15, point 2 and the end of point 10):
# each cmdlet pair a user would write binds the right object, by value or by property name (Workflow, RunId, RunRoot,
# WorkflowReference), and what comes out is the right run, artifact or workflow: $run | Get-AxlRun gives that run,
# Get-AxlRun | Invoke-AxlLocalRun runs the run's workflow (and -ResumeRun resumes it), a job or job result gives its
# own run and artifacts (a job named like another workflow does not bind as that workflow), and so on. The chains
# are a table; a few with side effects (resume, Stop-Job, Remove-Job) have their own tests.
# Run from the repository root after `dotnet build` and `dotnet restore tests/Pester/restore`:
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1 -Path tests/Pester/Axl.Pipeline.Tests.ps1

BeforeAll {
    $modulePath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/module/Axl/Axl.psd1'))
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    Import-Module $modulePath -Force -ErrorAction Stop

    # Runs a command; returns what it output and the errors it wrote (non-terminating errors collected, not thrown).
    function Invoke-Collect([scriptblock] $Command) {
        $ErrorActionPreference = 'Continue'
        $all = @(& $Command 2>&1)
        [pscustomobject]@{
            Output = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
            Errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        }
    }

    $flows = Join-Path $TestDrive 'flows'
    $root = Join-Path $TestDrive 'runs'
    $null = New-Item -ItemType Directory $flows
    # Two workflows in one file (a run of one must not bring the other along), one in another file, and one of
    # command steps (job envelopes take only those).
    $pair = Join-Path $flows 'pair.axl.ps1'
    Set-Content -LiteralPath $pair -Value @'
AxlWorkflow tiny {
    Parameter Suffix -Default 'plain'
    Step start { 'from tiny' }
    Step stop { param($start, $Suffix) "$start $Suffix" }
}
AxlWorkflow twin {
    Step start { 'from twin' }
}
'@
    $other = Join-Path $flows 'other.axl.ps1'
    Set-Content -LiteralPath $other -Value "AxlWorkflow other {`n    Step only { 'from other' }`n}"
    $commands = Join-Path $TestDrive 'commands.axl.ps1'
    Set-Content -LiteralPath $commands -Value "AxlWorkflow commands {`n    Step hello -Command echo -ArgumentList 'hello'`n}"

    # Two runs of tiny with different values (so each artifact tells its run), one of other.
    $tiny1 = Invoke-AxlLocalRun -LiteralPath "${pair}:tiny" -RunRoot $root -RunId '20260101-000001-aaaaaa' -Parameters @{ Suffix = 'one' } -ErrorAction Stop
    $tiny2 = Invoke-AxlLocalRun -LiteralPath "${pair}:tiny" -RunRoot $root -RunId '20260101-000002-bbbbbb' -Parameters @{ Suffix = 'two' } -ErrorAction Stop
    $other1 = Invoke-AxlLocalRun -LiteralPath $other -RunRoot $root -RunId '20260102-000001-cccccc' -ErrorAction Stop
    # A run as Start-Job, Receive-Job and remoting hand it back.
    $tiny1Deserialized = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($tiny1, 1))

    # A local job of tiny named like the workflow 'other' (which has a run): its Name must not bind as a workflow.
    $job = Get-AxlWorkflow -LiteralPath $pair -Name tiny | Submit-AxlJob -Target Local -RunRoot $root -Name other -Parameters @{ Suffix = 'job' } -ErrorAction Stop
    $jobResult = $job | Wait-AxlJob -Timeout 120 -ErrorAction Stop

    # An experiment named like the workflow 'tiny' whose one job runs twin.
    $experiment = Get-AxlWorkflow -LiteralPath $pair -Name twin | New-AxlJobSpec -Name twin-job |
        Start-AxlExperiment tiny -RunRoot $root -Wait -ErrorAction Stop
}

AfterAll {
    Get-AxlJob -ErrorAction SilentlyContinue | Remove-Job -Force -ErrorAction SilentlyContinue
}

Describe 'Cmdlet pairs bind the right object' {
    It 'set up the runs, the job and the experiment the chains read' {
        @($tiny1, $tiny2, $other1).Status | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
        $jobResult.Status | Should -Be 'Succeeded'
        $experiment.Status | Should -Be 'Succeeded'
        $experiment.Jobs[0].RunId | Should -Not -BeNullOrEmpty
    }

    It 'jobs carry their workflow and run: Workflow, WorkflowPath, RunId and RunRoot' {
        $job.Workflow | Should -Be 'tiny'
        $job.WorkflowPath | Should -Be $pair
        $job.RunId | Should -Be $jobResult.RunId
        $job.RunRoot | Should -Be $root
        $jobResult.Workflow | Should -Be 'tiny'
        $jobResult.RunRoot | Should -Be $root
        $tiny1.RunRoot | Should -Be $root
        $tiny1.WorkflowReference | Should -Be "${pair}:tiny"
    }

    # Chain: what the user types. Property: the property of each output compared ('' for the output itself).
    # Expected: evaluated in the test, the values in order.
    It '<Chain>' -ForEach @(
        # runs
        @{ Chain = '$tiny1 | Get-AxlRun'; Property = 'RunId'; Expected = '$tiny1.RunId' }
        @{ Chain = 'Get-AxlRun tiny 20260101-* -RunRoot $root | Get-AxlRun'; Property = 'RunId'; Expected = '$tiny2.RunId, $tiny1.RunId' }
        @{ Chain = '$tiny1Deserialized | Get-AxlRun'; Property = 'RunId'; Expected = '$tiny1.RunId' }
        @{ Chain = 'Get-AxlRun tiny $tiny1.RunId -RunRoot $root | Get-AxlArtifact -Step stop'; Property = ''; Expected = "'from tiny one'" }
        @{ Chain = 'Get-AxlRun -RunRoot $root -RunId $tiny2.RunId | Get-AxlArtifact stop'; Property = ''; Expected = "'from tiny two'" }
        @{ Chain = 'Get-AxlRun other $other1.RunId -RunRoot $root | Get-AxlArtifact'; Property = 'Value'; Expected = "'from other'" }
        @{ Chain = '$tiny1Deserialized | Get-AxlArtifact -Step stop'; Property = ''; Expected = "'from tiny one'" }
        @{ Chain = 'Get-AxlArtifact -RunId $tiny2.RunId -RunRoot $root stop'; Property = ''; Expected = "'from tiny two'" }
        @{ Chain = '$tiny1 | Get-AxlWorkflow'; Property = 'Name'; Expected = "'tiny'" }
        @{ Chain = '$tiny1 | Test-AxlWorkflow -Quiet'; Property = ''; Expected = '$true' }
        @{ Chain = '$other1 | ConvertTo-ArgoWorkflow'; Property = 'Workflow'; Expected = "'other'" }
        @{ Chain = '$tiny1 | Invoke-AxlLocalRun'; Property = 'Workflow'; Expected = "'tiny'" }
        # workflows
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $other | Get-AxlRun -RunRoot $root'; Property = 'RunId'; Expected = '$other1.RunId' }
        @{ Chain = 'Get-ChildItem $flows -Filter *.axl.ps1 | Get-AxlWorkflow'; Property = 'Name'; Expected = "'other', 'tiny', 'twin'" }
        @{ Chain = 'Get-ChildItem $flows -Filter other.axl.ps1 | Test-AxlWorkflow -Quiet'; Property = ''; Expected = '$true' }
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $other | Test-AxlWorkflow -Quiet'; Property = ''; Expected = '$true' }
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $pair -Name twin | Invoke-AxlLocalRun -RunRoot (Join-Path $TestDrive scratch)'; Property = 'Workflow'; Expected = "'twin'" }
        @{ Chain = 'Get-ChildItem $flows -Filter other.axl.ps1 | Invoke-AxlLocalRun -RunRoot (Join-Path $TestDrive scratch)'; Property = 'Workflow'; Expected = "'other'" }
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $other | ConvertTo-ArgoWorkflow'; Property = 'Workflow'; Expected = "'other'" }
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $other | ConvertTo-KfpPipeline'; Property = 'Name'; Expected = "'other'" }
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $other | ConvertTo-DagsterJob'; Property = 'Workflow'; Expected = "'other'" }
        @{ Chain = 'Get-ChildItem $flows -Filter other.axl.ps1 | ConvertTo-AxlIr | ConvertFrom-Json'; Property = 'name'; Expected = "'other'" }
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $other | Build-AxlImage -Tag axl-test/other:1 -ContextPath (Join-Path $TestDrive other-context.tar)'; Property = 'WorkflowFile'; Expected = "'other.axl.ps1'" }
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $commands | ConvertTo-AxlJobEnvelope | Test-AxlJobEnvelope -Quiet'; Property = ''; Expected = '$true' }
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $other | New-AxlJobSpec -Name spec-of-other | Test-AxlWorkflow -Quiet'; Property = ''; Expected = '$true' }
        # jobs
        @{ Chain = '$job | Get-AxlRun'; Property = 'RunId'; Expected = '$jobResult.RunId' }
        @{ Chain = 'Get-AxlJob other | Get-AxlRun'; Property = 'RunId'; Expected = '$jobResult.RunId' }
        @{ Chain = '$job | Wait-AxlJob | Get-AxlRun'; Property = 'RunId'; Expected = '$jobResult.RunId' }
        @{ Chain = 'Receive-Job $job -Keep | Get-AxlRun'; Property = 'RunId'; Expected = '$jobResult.RunId' }
        @{ Chain = 'Get-Job -Name other | Get-AxlRun'; Property = 'RunId'; Expected = '$jobResult.RunId' }
        @{ Chain = '$job | Wait-AxlJob | Get-AxlArtifact -Step stop'; Property = ''; Expected = "'from tiny job'" }
        @{ Chain = 'Get-AxlJob other | Get-AxlArtifact -Step stop'; Property = ''; Expected = "'from tiny job'" }
        @{ Chain = 'Receive-Job $job -Keep | Get-AxlArtifact -Step stop'; Property = ''; Expected = "'from tiny job'" }
        @{ Chain = '$jobResult | Get-AxlArtifact stop'; Property = ''; Expected = "'from tiny job'" }
        @{ Chain = 'Get-AxlJob other | Get-AxlWorkflow'; Property = 'Name'; Expected = "'tiny'" }
        @{ Chain = 'Get-AxlJob other | Wait-Job | Get-AxlRun'; Property = 'RunId'; Expected = '$jobResult.RunId' }
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $pair -Name tiny | Submit-AxlJob -Target Local -RunRoot (Join-Path $TestDrive chain) -Parameters @{ Suffix = ''chained'' } | Wait-Job | Receive-Job | Get-AxlRun | Get-AxlArtifact -Step stop'; Property = ''; Expected = "'from tiny chained'" }
        @{ Chain = 'Get-AxlWorkflow -LiteralPath $other | Submit-AxlJob -Target Local -RunRoot (Join-Path $TestDrive chain) | Wait-AxlJob | Get-AxlRun | Get-AxlArtifact'; Property = 'Value'; Expected = "'from other'" }
        # experiments
        @{ Chain = 'Get-AxlExperiment tiny -RunRoot $root | Get-AxlRun'; Property = 'RunId'; Expected = '$experiment.Jobs[0].RunId' }
        @{ Chain = '(Get-AxlExperiment tiny -RunRoot $root).Jobs | Get-AxlRun'; Property = 'RunId'; Expected = '$experiment.Jobs[0].RunId' }
        @{ Chain = 'Get-AxlExperiment tiny -RunRoot $root -Report | Get-AxlRun'; Property = 'RunId'; Expected = '$experiment.Jobs[0].RunId' }
        @{ Chain = 'Get-AxlExperiment tiny -RunRoot $root -Report | Get-AxlArtifact'; Property = 'Value'; Expected = "'from twin'" }
        @{ Chain = 'Get-AxlExperiment tiny -RunRoot $root | Stop-AxlExperiment -PassThru'; Property = 'Name'; Expected = "'tiny'" }
    ) {
        $r = Invoke-Collect ([scriptblock]::Create($Chain))
        $r.Errors | Should -BeNullOrEmpty
        $values = if ($Property) { @($r.Output | ForEach-Object { $_.$Property }) } else { @($r.Output) }
        $expectedValues = @(& ([scriptblock]::Create($Expected)))
        $expectedValues | Should -Not -BeNullOrEmpty
        $values | Should -Be $expectedValues
    }

    It 'Get-AxlRun | Invoke-AxlLocalRun runs the run''s workflow again as a new run in its run root' {
        $again = @($tiny2 | Invoke-AxlLocalRun)
        $again.Count | Should -Be 1
        $again[0].Workflow | Should -Be 'tiny'
        $again[0].RunId | Should -Not -Be $tiny2.RunId
        $again[0].RunRoot | Should -Be $root
        $again[0].Resumes | Should -Be 0
    }

    It 'Get-AxlWorkflow | Publish-AxlWorkflowCode packs the folder of each workflow piped in' {
        $code = Join-Path $TestDrive 'code'
        $null = New-Item -ItemType Directory $code
        Copy-Item -LiteralPath $other -Destination $code
        $verbose = @(Get-AxlWorkflow -LiteralPath (Join-Path $code 'other.axl.ps1') |
            Publish-AxlWorkflowCode -Bucket nowhere -WhatIf -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $verbose.Message -match [regex]::Escape("Archive of $code") | Should -Not -BeNullOrEmpty
    }

    It 'a job whose run has not started binds no run id: an ObjectNotFound error, not every run of the workflow' {
        $r = Invoke-Collect { [pscustomobject]@{ Workflow = 'tiny'; RunId = $null; RunRoot = $root } | Get-AxlRun }
        $r.Output | Should -BeNullOrEmpty
        $r.Errors.FullyQualifiedErrorId | Should -Be 'Axl.RunNotFound,Axl.Cmdlets.Runs.GetAxlRunCommand'
    }
}

Describe 'Resuming a run piped in' {
    BeforeAll {
        $marker = Join-Path $TestDrive 'fixed'
        $flaky = Join-Path $TestDrive 'flaky.axl.ps1'
        Set-Content -LiteralPath $flaky -Value @"
AxlWorkflow flaky {
    Step first { 'first' }
    Step second { param(`$first) if (-not (Test-Path -LiteralPath '$marker')) { throw 'not fixed yet' }; "`$first, then second" }
}
"@
        $resumeRoot = Join-Path $TestDrive 'resume-runs'
        $failed = Invoke-AxlLocalRun -LiteralPath $flaky -RunRoot $resumeRoot -ErrorAction SilentlyContinue
        # The same workflow failing as a local job, under another run root.
        $jobRoot = Join-Path $TestDrive 'resume-job-runs'
        $failedJob = Get-AxlWorkflow -LiteralPath $flaky | Submit-AxlJob -Target Local -RunRoot $jobRoot -Name flaky-job -ErrorAction Stop |
            Wait-AxlJob -Timeout 120 -ErrorAction Stop
    }

    It 'the first run failed' {
        $failed.Status | Should -Be 'Failed'
    }

    It '-ResumeRun without a run piped in is an error that names the remedy' {
        $r = Invoke-Collect { Invoke-AxlLocalRun -LiteralPath $flaky -RunRoot $resumeRoot -ResumeRun }
        $r.Output | Should -BeNullOrEmpty
        $r.Errors.FullyQualifiedErrorId | Should -Be 'Axl.InvalidParameter,Axl.Cmdlets.Runs.InvokeAxlLocalRunCommand'
        $r.Errors.Exception.Message | Should -Match 'Get-AxlRun'
    }

    It 'Get-AxlRun -Last 1 | Invoke-AxlLocalRun -ResumeRun resumes that run (same id, first step reused)' {
        $null = New-Item -ItemType File $marker
        $resumed = @(Get-AxlRun flaky -RunRoot $resumeRoot -Last 1 | Invoke-AxlLocalRun -ResumeRun -ErrorAction Stop)
        $resumed.Count | Should -Be 1
        $resumed[0].RunId | Should -Be $failed.RunId
        $resumed[0].Status | Should -Be 'Succeeded'
        $resumed[0].Resumes | Should -Be 1
        $resumed[0] | Get-AxlArtifact -Step second | Should -Be 'first, then second'
        @(Get-AxlRun flaky -RunRoot $resumeRoot).Count | Should -Be 1
    }

    It 'a failed job''s result | Invoke-AxlLocalRun -ResumeRun resumes the job''s run in its run root' {
        $failedJob.Status | Should -Be 'Failed'
        $resumed = @($failedJob | Invoke-AxlLocalRun -ResumeRun -ErrorAction Stop)
        $resumed.Count | Should -Be 1
        $resumed[0].RunId | Should -Be $failedJob.RunId
        $resumed[0].RunRoot | Should -Be $jobRoot
        $resumed[0].Status | Should -Be 'Succeeded'
        $resumed[0].Resumes | Should -Be 1
    }
}

Describe 'Job cmdlets on AxlJobs from Get-AxlJob' {
    BeforeAll {
        $sleepy = Join-Path $TestDrive 'sleepy.axl.ps1'
        Set-Content -LiteralPath $sleepy -Value "AxlWorkflow sleepy {`n    Step nap { Start-Sleep -Seconds 120; 'woke' }`n}"
        $sleepRoot = Join-Path $TestDrive 'sleep-runs'
        $sleeper = Get-AxlWorkflow -LiteralPath $sleepy | Submit-AxlJob -Target Local -RunRoot $sleepRoot -Name sleeper -ErrorAction Stop
    }

    It 'Get-AxlJob sleeper | Stop-Job stops it, and Get-AxlJob | Get-AxlRun then reads its cancelled run' {
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Get-AxlRun sleepy -RunRoot $sleepRoot -ErrorAction SilentlyContinue) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        Get-AxlJob sleeper | Stop-Job
        (Get-AxlJob sleeper).JobStateInfo.State | Should -Be 'Stopped'
        $run = Get-AxlJob sleeper | Get-AxlRun
        $run.RunId | Should -Be $sleeper.RunId
        $run.Status | Should -Be 'Cancelled'
    }

    It 'Get-AxlJob sleeper | Remove-Job removes it' {
        Get-AxlJob sleeper | Remove-Job -Force
        Get-AxlJob sleeper -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Get-Job -Name sleeper -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
