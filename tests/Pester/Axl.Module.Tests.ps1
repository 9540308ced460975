#Requires -Version 7.4
# Pester 5 tests of the Axl module as users see it in pwsh: what it exports, that every example loads
# and validates, and that the validator names the classic mistakes with stable diagnostic ids.
# Run from the repository root after `dotnet build`:  Invoke-Pester tests/Pester

BeforeDiscovery {
    $examplesRoot = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../examples'))
    $exampleCases = @(Get-ChildItem -LiteralPath $examplesRoot -Recurse -Filter *.axl.ps1 | ForEach-Object {
            @{ Example = $_.Name -replace '\.axl\.ps1$', ''; Path = $_.FullName }
        })
}

BeforeAll {
    $modulePath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/module/Axl/Axl.psd1'))
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    $module = Import-Module $modulePath -Force -PassThru -ErrorAction Stop
    $examplesRoot = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../examples'))
}

Describe 'The Axl module' {
    It 'is imported from the built layout' {
        $module.Name | Should -Be 'Axl'
        $module.ModuleBase | Should -Be (Split-Path $modulePath -Parent)
    }

    It 'exports exactly the cmdlets of the manifest' {
        $expected = 'Add-AxlGraph', 'Add-AxlParameter', 'Add-AxlStep', 'Build-AxlImage', 'ConvertFrom-AxlJobSpecJson', 'ConvertTo-ArgoWorkflow', 'ConvertTo-AxlIr', 'ConvertTo-AxlJobEnvelope', 'ConvertTo-AxlJobSpecJson', 'ConvertTo-DagsterJob', 'ConvertTo-KfpPipeline', 'Export-AxlRunReport', 'Get-AxlArgoTemplate', 'Get-AxlArtifact', 'Get-AxlExperiment', 'Get-AxlIoHandler', 'Get-AxlJob', 'Get-AxlRun', 'Get-AxlWorkflow', 'Invoke-AxlLocalRun', 'Invoke-AxlStep', 'New-AxlJobOption', 'New-AxlJobSpec', 'New-AxlSecretReference', 'New-AxlWorkflow', 'Publish-AxlWorkflowCode', 'Register-AxlIoHandler', 'Remove-AxlArgoTemplate', 'Remove-AxlRun', 'Show-AxlWorkflow', 'Start-AxlExperiment', 'Start-AxlWorker', 'Stop-AxlExperiment', 'Submit-AxlJob', 'Test-AxlJobEnvelope', 'Test-AxlWorkflow', 'Wait-AxlJob'
        (@($module.ExportedCmdlets.Keys | Sort-Object) -join ', ') | Should -BeExactly ($expected -join ', ')
    }

    It 'exports no functions and no variables' {
        $module.ExportedFunctions.Count | Should -Be 0
        $module.ExportedVariables.Count | Should -Be 0
    }

    It 'exports the DSL alias <Alias> for <Cmdlet>' -ForEach @(
        @{ Alias = 'AxlWorkflow'; Cmdlet = 'New-AxlWorkflow' }
        @{ Alias = 'Step'; Cmdlet = 'Add-AxlStep' }
        @{ Alias = 'Parameter'; Cmdlet = 'Add-AxlParameter' }
        @{ Alias = 'Graph'; Cmdlet = 'Add-AxlGraph' }
        @{ Alias = 'AxlSecret'; Cmdlet = 'New-AxlSecretReference' }
    ) {
        $module.ExportedAliases.Keys | Should -Contain $Alias
        $module.ExportedAliases[$Alias].ResolvedCommandName | Should -Be $Cmdlet
        (Get-Command $Alias -ErrorAction Stop).ResolvedCommandName | Should -Be $Cmdlet
    }

    It 'exports no alias named Workflow (a reserved word in PowerShell 7)' {
        $module.ExportedAliases.Keys | Should -Not -Contain 'Workflow'
    }

    It 'has examples in Get-Help Get-AxlWorkflow -Full' {
        $help = Get-Help Get-AxlWorkflow -Full
        $examples = @($help.examples.example | Where-Object { $null -ne $_ })
        $examples.Count | Should -BeGreaterThan 0
        (@($examples | ForEach-Object { "$($_.code)" }) -join "`n") | Should -Match 'Get-AxlWorkflow'
    }
}

Describe 'The examples' {
    It 'exist' {
        @(Get-ChildItem -LiteralPath $examplesRoot -Recurse -Filter *.axl.ps1).Count | Should -BeGreaterOrEqual 3
    }

    It 'load as one workflow per example file through the pipeline' {
        $files = @(Get-ChildItem -LiteralPath $examplesRoot -Recurse -Filter *.axl.ps1)
        $workflows = @(Get-ChildItem -LiteralPath $examplesRoot -Recurse -Filter *.axl.ps1 | Get-AxlWorkflow -ErrorAction Stop)
        $workflows.Count | Should -Be $files.Count
        @($workflows | ForEach-Object { $_.GetType().FullName } | Sort-Object -Unique) | Should -Be 'Axl.Model.AxlWorkflow'
        @($workflows.Name | Sort-Object -Unique).Count | Should -Be $files.Count -Because 'every example defines its own workflow name'
        (@($workflows | ForEach-Object { Split-Path $_.SourceFile -Leaf } | Sort-Object) -join ', ') |
            Should -Be (@($files.Name | Sort-Object) -join ', ')
    }

    Context '<Example>' -ForEach $exampleCases {
        BeforeAll {
            $workflow = Get-AxlWorkflow -LiteralPath $Path -ErrorAction Stop
        }

        It 'defines one workflow named like its file' {
            @($workflow).Count | Should -Be 1
            $workflow.Name | Should -Be $Example
        }

        It 'validates clean' {
            $diagnostics = @($workflow | Test-AxlWorkflow)
            ($diagnostics | ForEach-Object { $_.ToString() }) -join "`n" | Should -BeNullOrEmpty
            Test-AxlWorkflow -Path $Path -Quiet | Should -BeTrue
            $workflow | Test-AxlWorkflow -Quiet | Should -BeTrue
        }

        It 'has a topological order that covers every step' {
            $order = @($workflow.TopologicalOrder())
            $order.Count | Should -Be $workflow.StepCount
            $position = @{}
            for ($i = 0; $i -lt $order.Count; $i++) { $position[$order[$i].Name] = $i }
            foreach ($edge in $workflow.Edges) { $position[$edge.From] | Should -BeLessThan $position[$edge.To] }
        }
    }
}

Describe 'Validation diagnostics' {
    BeforeAll {
        # Broken (and one good) workflow scripts, written into the test drive.
        $scripts = @{
            cycle     = @'
AxlWorkflow cyclic {
    Step a { param($b) $b }
    Step b { param($a) $a }
}
'@
            badname   = @'
AxlWorkflow badname {
    Step 'load data!' { 1 }
}
'@
            ambiguous = @'
AxlWorkflow ambiguous {
    Parameter data -Default 1
    Step data { 2 }
    Step use { param($data) $data }
}
'@
            good      = @'
AxlWorkflow good {
    Parameter Base -Default 2
    Step start { param($Base) $Base }
    Step double { param($start) $start * 2 }
}
'@
        }
        $paths = @{}
        foreach ($name in $scripts.Keys) {
            $paths[$name] = Join-Path $TestDrive "$name.axl.ps1"
            Set-Content -LiteralPath $paths[$name] -Value $scripts[$name] -Encoding utf8
        }

        # The diagnostics of one of those scripts (loading them must not fail: problems are diagnostics).
        function Get-TestDiagnostic([string] $Name) {
            @(Get-AxlWorkflow -LiteralPath $paths[$Name] -ErrorAction Stop | Test-AxlWorkflow)
        }
    }

    It 'reports a cycle as Axl.CycleDetected' {
        $diagnostics = Get-TestDiagnostic cycle
        $diagnostics.Id | Should -Contain 'Axl.CycleDetected'
        $cycle = $diagnostics | Where-Object Id -EQ 'Axl.CycleDetected' | Select-Object -First 1
        $cycle.Message | Should -Match 'a -> b -> a|b -> a -> b'
        $cycle.File | Should -BeLike '*cycle.axl.ps1'
        $cycle.Line | Should -BeGreaterThan 0
        $cycle.IsError | Should -BeTrue
    }

    It 'reports a step name that cannot become a DNS-1123 name as Axl.InvalidName' {
        $diagnostics = Get-TestDiagnostic badname
        $diagnostics.Id | Should -Contain 'Axl.InvalidName'
        $bad = $diagnostics | Where-Object Id -EQ 'Axl.InvalidName' | Select-Object -First 1
        $bad.Step | Should -Be 'load data!'
        $bad.Line | Should -Be 2
        $bad.Fix | Should -Not -BeNullOrEmpty
    }

    It 'reports a parameter that names both a step and a workflow parameter as Axl.AmbiguousInput' {
        $diagnostics = Get-TestDiagnostic ambiguous
        $diagnostics.Id | Should -Contain 'Axl.AmbiguousInput'
        $ambiguous = $diagnostics | Where-Object Id -EQ 'Axl.AmbiguousInput' | Select-Object -First 1
        $ambiguous.Step | Should -Be 'use'
        $ambiguous.Message | Should -Match "step 'data'"
        $ambiguous.Message | Should -Match "workflow parameter 'data'"
    }

    It 'says False with -Quiet for <_>.axl.ps1' -ForEach 'cycle', 'badname', 'ambiguous' {
        Test-AxlWorkflow -Path $paths[$_] -Quiet | Should -BeFalse
    }

    It 'reports nothing for a well-formed workflow' {
        Get-TestDiagnostic good | Should -BeNullOrEmpty
        Test-AxlWorkflow -Path $paths['good'] -Quiet | Should -BeTrue
    }
}
