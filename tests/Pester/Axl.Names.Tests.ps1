#Requires -Version 7.4
# Pester 5 tests of the module as a PowerShell user names things in it (issue 15, points 3, 5 and 8):
#  - names, wildcards and not-found, Get-Job's rules: wildcards select (and may select nothing); a name without
#    wildcards (or an id) that matches nothing writes an ObjectNotFound error with an Axl.* id, and -ErrorAction
#    works on it;
#  - the types help pages and OutputType name ([Axl.Model.AxlWorkflow], [Axl.Jobs.JobStatus]) resolve in scripts
#    although Axl.Core lives in a private load context, and the accelerators go again with Remove-Module;
#  - the private load context takes from Dependencies/ only what the host (.NET's shared framework, pwsh) lacks,
#    next to another module that carries another version of one of Axl's dependencies.
# Run from the repository root after `dotnet build` and `dotnet restore tests/Pester/restore`:
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1 -Path tests/Pester/Axl.Names.Tests.ps1

BeforeAll {
    . (Join-Path $PSScriptRoot 'NuGetPackages.ps1')
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

    # A one-step workflow file named $Name in $Folder.
    function New-TinyWorkflow([string] $Folder, [string] $Name) {
        $path = Join-Path $Folder "$Name.axl.ps1"
        Set-Content -LiteralPath $path -Value "AxlWorkflow $Name {`n    Step start { 'from $Name' }`n    Step stop { param(`$start) `"`$start, stopped`" }`n}"
        $path
    }
}

Describe 'Names, wildcards and not-found, as Get-Job' {
    BeforeAll {
        $flows = Join-Path $TestDrive 'flows'
        $root = Join-Path $TestDrive 'runs'
        $null = New-Item -ItemType Directory $flows
        $paths = @{}
        foreach ($name in 'etl-daily', 'etl-hourly', 'train') { $paths[$name] = New-TinyWorkflow $flows $name }
        $runs = @(
            Invoke-AxlLocalRun -Path $paths['etl-daily'] -RunRoot $root -RunId '20260101-000001-aaaaaa' -ErrorAction Stop
            Invoke-AxlLocalRun -Path $paths['etl-daily'] -RunRoot $root -RunId '20260101-000002-bbbbbb' -ErrorAction Stop
            Invoke-AxlLocalRun -Path $paths['etl-hourly'] -RunRoot $root -RunId '20260102-000001-cccccc' -ErrorAction Stop
            Invoke-AxlLocalRun -Path $paths['train'] -RunRoot $root -RunId '20260103-000001-dddddd' -ErrorAction Stop
        )
        # An empty workflow folder (a run root can hold one): no runs, so its name is not found.
        $null = New-Item -ItemType Directory (Join-Path $root 'empty-flow')
    }

    It 'ran the four runs the tests look up' {
        $runs.Status | Should -Be @('Succeeded', 'Succeeded', 'Succeeded', 'Succeeded')
    }

    It "Get-AxlRun 'etl*' lists the runs of both etl workflows, newest first, and writes no error" {
        $r = Invoke-Collect { Get-AxlRun 'etl*' -RunRoot $root }
        $r.Errors | Should -BeNullOrEmpty
        $r.Output.RunId | Should -Be @('20260102-000001-cccccc', '20260101-000002-bbbbbb', '20260101-000001-aaaaaa')
    }

    It 'Get-AxlRun takes several names, wildcards and any case, each run once' {
        $r = Invoke-Collect { Get-AxlRun 'ETL-DAILY', 'etl-d*', 'tr?in' -RunRoot $root }
        $r.Errors | Should -BeNullOrEmpty
        $r.Output.RunId | Should -Be @('20260103-000001-dddddd', '20260101-000002-bbbbbb', '20260101-000001-aaaaaa')
    }

    It 'Get-AxlRun -RunId takes wildcards' {
        $r = Invoke-Collect { Get-AxlRun -RunId '20260101-*' -RunRoot $root }
        $r.Errors | Should -BeNullOrEmpty
        $r.Output.RunId | Should -Be @('20260101-000002-bbbbbb', '20260101-000001-aaaaaa')
        (Get-AxlRun etl-daily '*aaaaaa' -RunRoot $root).RunId | Should -Be '20260101-000001-aaaaaa'
    }

    It 'a wildcard that matches nothing gives nothing and no error' {
        $r = Invoke-Collect { Get-AxlRun 'nosuch*' -RunRoot $root }
        $r.Output | Should -BeNullOrEmpty
        $r.Errors | Should -BeNullOrEmpty
    }

    It 'Get-AxlRun nosuch writes one ObjectNotFound error, Axl.RunNotFound, naming the workflow' {
        $r = Invoke-Collect { Get-AxlRun nosuch -RunRoot $root }
        $r.Output | Should -BeNullOrEmpty
        $r.Errors | Should -HaveCount 1
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'Axl.RunNotFound,*'
        $r.Errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $r.Errors[0].TargetObject | Should -Be 'nosuch'
        "$($r.Errors[0])" | Should -Match "no run of workflow 'nosuch'.*Fix:"
    }

    It 'a workflow folder without runs is not found either' {
        $r = Invoke-Collect { Get-AxlRun empty-flow -RunRoot $root }
        $r.Errors.FullyQualifiedErrorId | Should -BeLike 'Axl.RunNotFound,*'
    }

    It 'Get-AxlRun with a found name and a missing one outputs the runs found and one error for the other' {
        $r = Invoke-Collect { Get-AxlRun train, nosuch -RunRoot $root }
        $r.Output.RunId | Should -Be '20260103-000001-dddddd'
        $r.Errors | Should -HaveCount 1
        $r.Errors[0].TargetObject | Should -Be 'nosuch'
    }

    It 'a missing run id is one error that names the id and the workflow' {
        $r = Invoke-Collect { Get-AxlRun etl-daily 20991231-000000-zzzzzz -RunRoot $root }
        $r.Output | Should -BeNullOrEmpty
        $r.Errors | Should -HaveCount 1
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'Axl.RunNotFound,*'
        $r.Errors[0].TargetObject | Should -Be '20991231-000000-zzzzzz'
        "$($r.Errors[0])" | Should -Match "no run '20991231-000000-zzzzzz' of workflow 'etl-daily'"
    }

    It 'a run id of another workflow is not found under this one' {
        $r = Invoke-Collect { Get-AxlRun train 20260101-000001-aaaaaa -RunRoot $root }
        $r.Output | Should -BeNullOrEmpty
        $r.Errors.TargetObject | Should -Be '20260101-000001-aaaaaa'
    }

    It 'a run root that does not exist: the literal name is not found, a wildcard is empty' {
        (Invoke-Collect { Get-AxlRun etl-daily -RunRoot (Join-Path $TestDrive 'nowhere') }).Errors | Should -HaveCount 1
        (Invoke-Collect { Get-AxlRun 'etl*' -RunRoot (Join-Path $TestDrive 'nowhere') }).Errors | Should -BeNullOrEmpty
    }

    It '-Last cuts the output, not the lookup: a name found beyond the last N is no error' {
        $r = Invoke-Collect { Get-AxlRun train, etl-daily -Last 1 -RunRoot $root }
        $r.Output.RunId | Should -Be '20260103-000001-dddddd'
        $r.Errors | Should -BeNullOrEmpty
    }

    It "Get-AxlArtifact -Step 'st*' loads the outputs of the matching steps" {
        $run = Get-AxlRun train -RunRoot $root
        $r = Invoke-Collect { $run | Get-AxlArtifact -Step 'st*' }
        $r.Errors | Should -BeNullOrEmpty
        $r.Output | Should -Be @('from train', 'from train, stopped')
        ($run | Get-AxlArtifact -Step 'sto?') | Should -Be 'from train, stopped'
    }

    It 'Get-AxlArtifact: a step wildcard that matches nothing is empty, a missing step name is Axl.StepNotFound' {
        $run = Get-AxlRun train -RunRoot $root
        (Invoke-Collect { $run | Get-AxlArtifact -Step 'nosuch*' }).Errors | Should -BeNullOrEmpty
        $r = Invoke-Collect { $run | Get-AxlArtifact -Step nosuch }
        $r.Errors.FullyQualifiedErrorId | Should -BeLike 'Axl.StepNotFound,*'
        $r.Errors.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'Get-AxlWorkflow -Name takes wildcards and writes Axl.WorkflowNotFound for a name no file defines' {
        $files = Get-ChildItem -LiteralPath $flows -Filter *.axl.ps1
        $r = Invoke-Collect { $files | Get-AxlWorkflow -Name 'etl*', nosuch }
        @($r.Output.Name | Sort-Object) | Should -Be @('etl-daily', 'etl-hourly')
        $r.Errors | Should -HaveCount 1 -Because 'the files come one at a time down the pipeline; the missing name is reported once, at the end'
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'Axl.WorkflowNotFound,*'
        $r.Errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $r.Errors[0].TargetObject | Should -Be 'nosuch'
    }

    It 'Get-AxlIoHandler takes wildcards and writes Axl.IoHandlerNotFound for a missing name' {
        (Get-AxlIoHandler 'js*').Name | Should -Contain 'json'
        (Invoke-Collect { Get-AxlIoHandler 'nosuch*' }).Errors | Should -BeNullOrEmpty
        $r = Invoke-Collect { Get-AxlIoHandler json, nosuch }
        $r.Output.Name | Should -Be 'json'
        $r.Errors.FullyQualifiedErrorId | Should -BeLike 'Axl.IoHandlerNotFound,*'
        $r.Errors.TargetObject | Should -Be 'nosuch'
    }

    It 'Get-AxlExperiment writes Axl.ExperimentNotFound for a missing name, nothing for a wildcard' {
        (Invoke-Collect { Get-AxlExperiment 'nosuch*' -RunRoot $root }).Errors | Should -BeNullOrEmpty
        $r = Invoke-Collect { Get-AxlExperiment nosuch -RunRoot $root }
        $r.Errors.FullyQualifiedErrorId | Should -BeLike 'Axl.ExperimentNotFound,*'
        $r.Errors.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It '<Command>: -ErrorAction SilentlyContinue gives nothing, -ErrorAction Stop throws <Id>' -ForEach @(
        @{ Command = 'Get-AxlRun nosuch'; Id = 'Axl.RunNotFound' }
        @{ Command = 'Get-AxlRun etl-daily 20991231-000000-zzzzzz'; Id = 'Axl.RunNotFound' }
        @{ Command = 'Get-AxlJob -Id 9999'; Id = 'Axl.JobNotFound' }
        @{ Command = 'Get-AxlJob nosuch'; Id = 'Axl.JobNotFound' }
        @{ Command = 'Get-AxlIoHandler nosuch'; Id = 'Axl.IoHandlerNotFound' }
        @{ Command = 'Get-AxlExperiment nosuch'; Id = 'Axl.ExperimentNotFound' }
        @{ Command = 'Get-AxlWorkflow $paths.train -Name nosuch'; Id = 'Axl.WorkflowNotFound' }
        @{ Command = 'Get-AxlRun train | Get-AxlArtifact -Step nosuch'; Id = 'Axl.StepNotFound' }
    ) {
        $PSDefaultParameterValues['*-Axl*:RunRoot'] = $root
        try {
            # The common parameters go on the command itself (the last one of a pipeline).
            $silent = @(. ([scriptblock]::Create("$Command -ErrorAction SilentlyContinue -ErrorVariable silentErrors")))
            $silent | Should -BeNullOrEmpty
            $silentErrors | Should -HaveCount 1 -Because 'SilentlyContinue hides the error but still records it, as with Get-Job'
            $ignored = @(. ([scriptblock]::Create("$Command -ErrorAction Ignore -ErrorVariable ignoredErrors")))
            $ignored | Should -BeNullOrEmpty
            $ignoredErrors | Should -BeNullOrEmpty
            $thrown = $null
            try { . ([scriptblock]::Create("$Command -ErrorAction Stop")) } catch { $thrown = $_ }
            $thrown | Should -Not -BeNullOrEmpty -Because '-ErrorAction Stop makes the not-found error terminating'
            $thrown.FullyQualifiedErrorId | Should -BeLike "$Id,*"
            $thrown.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
        finally { $PSDefaultParameterValues.Remove('*-Axl*:RunRoot') }
    }

    Context 'Get-AxlExperiment and Stop-AxlExperiment' {
        BeforeAll {
            $expRoot = Join-Path $TestDrive 'experiments'
            foreach ($n in 'sweep-a', 'sweep-b', 'other') {
                $null = Get-AxlWorkflow $paths['train'] | New-AxlJobSpec -Name "job-$n" | Start-AxlExperiment $n -RunRoot $expRoot -Wait -ErrorAction Stop
            }
        }

        It "Get-AxlExperiment 'sweep-*' gives the two sweeps" {
            $r = Invoke-Collect { Get-AxlExperiment 'sweep-*' -RunRoot $expRoot }
            $r.Errors | Should -BeNullOrEmpty
            @($r.Output.Name | Sort-Object) | Should -Be @('sweep-a', 'sweep-b')
        }

        It "Stop-AxlExperiment takes wildcards as Stop-Job does: each match once, a pattern that matches none is no error" {
            $r = Invoke-Collect { Stop-AxlExperiment 'sweep-*', 'SWEEP-A' -RunRoot $expRoot -PassThru }
            $r.Errors | Should -BeNullOrEmpty
            @($r.Output.Name | Sort-Object) | Should -Be @('sweep-a', 'sweep-b')
            $none = Invoke-Collect { Stop-AxlExperiment 'nomatch*' -RunRoot $expRoot -PassThru }
            $none.Output | Should -BeNullOrEmpty
            $none.Errors | Should -BeNullOrEmpty
            $missing = Invoke-Collect { Stop-AxlExperiment nosuch -RunRoot $expRoot }
            $missing.Errors.FullyQualifiedErrorId | Should -BeLike 'Axl.ExperimentNotFound,*'
            $missing.Errors.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
    }

    Context 'Get-AxlJob' {
        BeforeAll {
            $jobRoot = Join-Path $TestDrive 'job-runs'
            $jobs = @(
                Get-AxlWorkflow $paths['train'] | Submit-AxlJob -Name 'train-a' -RunRoot $jobRoot -ErrorAction Stop
                Get-AxlWorkflow $paths['train'] | Submit-AxlJob -Name 'train-b' -RunRoot $jobRoot -ErrorAction Stop
                Get-AxlWorkflow $paths['etl-daily'] | Submit-AxlJob -Name 'etl' -RunRoot $jobRoot -ErrorAction Stop
            )
            $results = @($jobs | Wait-AxlJob -Timeout 120)
        }
        AfterAll { $jobs | Remove-Job -Force -ErrorAction SilentlyContinue }

        It 'submitted three jobs that succeeded' {
            $results.Status | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
        }

        It 'Get-AxlJob train* gives the two train jobs, no error' {
            $r = Invoke-Collect { Get-AxlJob 'train*' }
            $r.Errors | Should -BeNullOrEmpty
            $r.Output.Name | Should -Be @('train-a', 'train-b')
        }

        It 'Get-AxlJob with a wildcard that matches nothing: nothing, no error' {
            $r = Invoke-Collect { Get-AxlJob 'nosuch*' }
            $r.Output | Should -BeNullOrEmpty
            $r.Errors | Should -BeNullOrEmpty
        }

        It 'Get-AxlJob train (no wildcard, no job of that name) writes Axl.JobNotFound' {
            $r = Invoke-Collect { Get-AxlJob train, etl }
            $r.Output.Name | Should -Be 'etl'
            $r.Errors | Should -HaveCount 1
            $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'Axl.JobNotFound,*'
            $r.Errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $r.Errors[0].TargetObject | Should -Be 'train'
        }

        It 'Get-AxlJob -Id: found ids are output, a missing one is Axl.JobNotFound naming it' {
            $r = Invoke-Collect { Get-AxlJob -Id $jobs[0].Id, 9999 }
            $r.Output.Name | Should -Be 'train-a'
            $r.Errors | Should -HaveCount 1
            $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'Axl.JobNotFound,*'
            $r.Errors[0].TargetObject | Should -Be 9999
            "$($r.Errors[0])" | Should -Match '9999'
        }

        It 'behaves as Get-Job does for the same lookups' {
            $jobIds = @((Get-Job -Name 'train*').Name)
            (Get-AxlJob 'train*').Name | Should -Be $jobIds
            $getJob = Invoke-Collect { Get-Job -Id 9999 }
            $axl = Invoke-Collect { Get-AxlJob -Id 9999 }
            $axl.Errors.CategoryInfo.Category | Should -Be $getJob.Errors.CategoryInfo.Category
        }
    }
}

Describe 'Types users can name' {
    BeforeDiscovery {
        Import-Module ([System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/module/Axl/Axl.psd1'))) -ErrorAction Stop
        # Every Axl type that Get-Command's OutputType, a parameter or a help page names.
        $named = [System.Collections.Generic.SortedSet[string]]::new()
        foreach ($c in Get-Command -Module Axl -CommandType Cmdlet) {
            foreach ($t in $c.OutputType) { if ($t.Name -like 'Axl.*') { $null = $named.Add($t.Name) } }
            foreach ($p in $c.Parameters.Values) {
                $t = $p.ParameterType
                while ($t.HasElementType) { $t = $t.GetElementType() }
                if ([Nullable]::GetUnderlyingType($t)) { $t = [Nullable]::GetUnderlyingType($t) }
                if ($t.FullName -like 'Axl.*') { $null = $named.Add($t.FullName) }
            }
            $help = Get-Help $c.Name -Full
            foreach ($n in @($help.returnValues.returnValue.type.name) + @($help.inputTypes.inputType.type.name) + @($help.parameters.parameter.type.name)) {
                if ("$n" -match '^(Axl\.[\w.]+)') { $null = $named.Add($Matches[1]) }
            }
        }
        $typeCases = @($named | ForEach-Object { @{ TypeName = $_ } })
    }

    BeforeAll {
        $diamondPath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../examples/diamond/diamond.axl.ps1'))
    }

    It 'found the type names to check (OutputType, parameters, help)' -ForEach @(@{ Names = @($typeCases.TypeName) }) {
        $Names.Count | Should -BeGreaterThan 10
        $Names | Should -Contain 'Axl.Model.AxlWorkflow'
        $Names | Should -Contain 'Axl.Runtime.AxlRun'
    }

    It '[<TypeName>] resolves in a script' -ForEach $typeCases {
        $type = [scriptblock]::Create("[$TypeName]").Invoke()[0]
        $type | Should -BeOfType [type]
        $type.FullName | Should -Be $TypeName
    }

    It 'resolves every public type of Axl.Core by its full name (what Get-Member shows of any Axl object)' {
        $unresolved = @([AxlRun].Assembly.GetExportedTypes() | Where-Object { -not ($_.FullName -as [type]) -or ($_.FullName -as [type]) -ne $_ } | ForEach-Object FullName)
        $unresolved | Should -BeNullOrEmpty
        ((Get-AxlIoHandler json) | Get-Member).TypeName | Select-Object -First 1 | Should -Be 'Axl.IO.IoHandlerDescriptor'
        (Get-AxlIoHandler json) -is [Axl.IO.IoHandlerDescriptor] | Should -BeTrue
    }

    It 'names the objects the cmdlets output: -is [Axl.Model.AxlWorkflow], typed parameters, casts' {
        $wf = Get-AxlWorkflow -LiteralPath $diamondPath
        $wf -is [Axl.Model.AxlWorkflow] | Should -BeTrue
        $wf -is [AxlWorkflow] | Should -BeTrue
        $wf.Steps[0] -is [Axl.Model.AxlStep] | Should -BeTrue
        function Get-StepCount([Axl.Model.AxlWorkflow] $Workflow) { $Workflow.StepCount }
        Get-StepCount $wf | Should -Be 4
        [System.Collections.Generic.List[Axl.Model.AxlWorkflow]]::new().GetType().GenericTypeArguments[0] | Should -Be ([AxlWorkflow])
    }

    It 'names the enums: [Axl.Jobs.JobStatus], [Axl.Runtime.RunStatus], [Axl.Runtime.StepStatus], and by short name' {
        [Axl.Jobs.JobStatus]::Succeeded | Should -Be 'Succeeded'
        [Axl.Jobs.JobStatus] 'failed' | Should -Be ([Axl.Jobs.JobStatus]::Failed)
        [JobStatus]::Running | Should -Be ([Axl.Jobs.JobStatus]::Running)
        [Axl.Runtime.RunStatus]::Succeeded.GetType().IsEnum | Should -BeTrue
        [RunStatus] | Should -Be ([Axl.Runtime.RunStatus])
        [StepStatus] | Should -Be ([Axl.Runtime.StepStatus])
        { [Axl.Jobs.JobStatus] 'NoSuchStatus' } | Should -Throw -ExpectedMessage '*Succeeded*'
    }

    It 'adds the accelerators on import and removes them with Remove-Module, leaving others alone' {
        # A fresh process: PowerShell caches a type name once resolved, so a name this session has used stays.
        $job = Start-Job -ArgumentList $modulePath -ScriptBlock {
            param($modulePath)
            $ErrorActionPreference = 'Stop'
            $accelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')
            # Another module's [JobStatus], there first: Axl must not replace it, nor remove it.
            $accelerators::Add('JobStatus', [System.Management.Automation.JobState])
            $report = [ordered]@{}
            $report.Before = @($accelerators::Get.Keys | Where-Object { $_ -like 'Axl.*' }).Count
            Import-Module $modulePath
            $report.Imported = @($accelerators::Get.Keys | Where-Object { $_ -like 'Axl.*' }).Count
            $report.ShortAfterImport = "$($accelerators::Get['JobStatus'])"
            $report.FullName = "$(Invoke-Expression '[Axl.Model.AxlWorkflow]')"
            Remove-Module Axl
            $report.Removed = @($accelerators::Get.Keys | Where-Object { $_ -like 'Axl.*' -or $_ -eq 'AxlWorkflow' }).Count
            $report.ShortAfterRemove = "$($accelerators::Get['JobStatus'])"
            $report.ResolvesAfterRemove = [bool](Invoke-Expression '"Axl.Runtime.AxlRun" -as [type]')
            Import-Module $modulePath
            $report.Reimported = "$(Invoke-Expression '[Axl.Runtime.StepStatus]::Succeeded')"
            [pscustomobject] $report
        }
        $report = $job | Wait-Job -Timeout 120 | Receive-Job -ErrorVariable jobErrors -ErrorAction SilentlyContinue
        $job | Remove-Job -Force
        $jobErrors | Should -BeNullOrEmpty
        $report.Before | Should -Be 0
        $report.Imported | Should -BeGreaterThan 50 -Because "every public type of Axl.Core gets its full name"
        $report.FullName | Should -Be 'Axl.Model.AxlWorkflow'
        $report.ShortAfterImport | Should -Be 'System.Management.Automation.JobState'
        $report.Removed | Should -Be 0
        $report.ResolvesAfterRemove | Should -BeFalse
        $report.ShortAfterRemove | Should -Be 'System.Management.Automation.JobState'
        $report.Reimported | Should -Be 'Succeeded'
    }

    It 'keeps the accelerators while another runspace still has the module imported' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$modulePath'; '[Axl.Jobs.JobStatus] imported'").Invoke()
            Remove-Module Axl
            $accelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')
            $accelerators::Get.ContainsKey('Axl.Model.AxlWorkflow') | Should -BeTrue -Because 'the other runspace still uses them'
            $null = $ps.Commands.Clear(); $null = $ps.AddScript('Remove-Module Axl').Invoke()
            $accelerators::Get.ContainsKey('Axl.Model.AxlWorkflow') | Should -BeFalse -Because 'the last runspace that imported the module removed it'
        }
        finally {
            $ps.Dispose()
            Import-Module $modulePath -Force
        }
    }
}

Describe 'Dependencies: Axl loads only what the host lacks, next to a module with other versions' {
    BeforeAll {
        $dependencies = Join-Path (Split-Path $modulePath -Parent) 'Dependencies'
        # A tiny module as users have them (powershell-yaml's shape): YamlDotNet 13.1.1 in its own folder, loaded by
        # its manifest into the default context, and a function that uses it.
        $other = Join-Path $TestDrive 'OtherYaml'
        $null = New-Item -ItemType Directory $other
        Copy-Item (Get-NuGetPackageFile YamlDotNet 13.1.1 'lib/netstandard2.0/YamlDotNet.dll') $other
        Set-Content (Join-Path $other 'OtherYaml.psm1') -Value @'
function ConvertTo-OtherYaml($InputObject) { [YamlDotNet.Serialization.SerializerBuilder]::new().Build().Serialize($InputObject) }
function Get-OtherYamlVersion { [YamlDotNet.Serialization.SerializerBuilder].Assembly.GetName().Version.ToString() }
'@
        New-ModuleManifest (Join-Path $other 'OtherYaml.psd1') -RootModule 'OtherYaml.psm1' -RequiredAssemblies 'YamlDotNet.dll' -FunctionsToExport 'ConvertTo-OtherYaml', 'Get-OtherYamlVersion' -ModuleVersion 1.0.0
        $diamondPath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../examples/diamond/diamond.axl.ps1'))

        # Imports both modules in a fresh pwsh process in the given order, uses both, then asks Axl's load context for
        # every assembly Axl.Core and its dependencies refer to (what Axl could ever load) and reports where each
        # assembly of the process lives.
        function Invoke-BothModules([string[]] $Order) {
            $job = Start-Job -ArgumentList $Order, $modulePath, (Join-Path $other 'OtherYaml.psd1'), $diamondPath -ScriptBlock {
                param($order, $modulePath, $otherPath, $diamondPath)
                $ErrorActionPreference = 'Stop'
                foreach ($m in $order) { Import-Module ($m -eq 'Axl' ? $modulePath : $otherPath) }
                $report = [ordered]@{}
                $report.OtherYaml = ConvertTo-OtherYaml @{ answer = 42 }
                $report.OtherVersion = Get-OtherYamlVersion
                $report.AxlYaml = Get-AxlWorkflow -LiteralPath $diamondPath | ConvertTo-AxlIr -Format Yaml | Out-String
                $report.Run = (Invoke-AxlLocalRun -Path $diamondPath -RunRoot (Join-Path ([IO.Path]::GetTempPath()) "axl-names-$PID")).Status.ToString()
                $alc = [System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -EQ 'Axl'
                # Close over every reference, as Axl.Core's code paths would load them.
                $seen = @{}
                $queue = [System.Collections.Generic.Queue[System.Reflection.AssemblyName]]::new()
                $queue.Enqueue([System.Reflection.AssemblyName]::new('Axl.Core'))
                while ($queue.Count) {
                    $name = $queue.Dequeue()
                    if ($seen.ContainsKey($name.Name)) { continue }
                    $seen[$name.Name] = $true
                    try { $a = $alc.LoadFromAssemblyName($name) } catch { continue }
                    foreach ($r in $a.GetReferencedAssemblies()) { $queue.Enqueue($r) }
                }
                $tpa = @{}
                foreach ($p in ([AppContext]::GetData('TRUSTED_PLATFORM_ASSEMBLIES') -split [IO.Path]::PathSeparator)) { $tpa[[IO.Path]::GetFileNameWithoutExtension($p)] = $p }
                $report.InAxl = @($alc.Assemblies | ForEach-Object { $_.GetName().Name } | Sort-Object)
                $report.HostInAxl = @($alc.Assemblies | Where-Object {
                        $tpa.ContainsKey($_.GetName().Name) -and [System.Reflection.AssemblyName]::GetAssemblyName($tpa[$_.GetName().Name]).Version -ge $_.GetName().Version
                    } | ForEach-Object { $_.GetName().Name })
                $report.Pipelines = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'System.IO.Pipelines' } |
                        ForEach-Object { [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name })
                $report.DiagnosticSource = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'System.Diagnostics.DiagnosticSource' } |
                        ForEach-Object { [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name })
                $report.Yaml = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'YamlDotNet' } | ForEach-Object {
                        '{0} in {1}' -f $_.GetName().Version.Major, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name
                    } | Sort-Object)
                $report.SharedPipe = $alc.LoadFromAssemblyName([System.Reflection.AssemblyName]::new('System.IO.Pipelines')) -eq [System.IO.Pipelines.Pipe].Assembly
                [pscustomobject] $report
            }
            $report = $job | Wait-Job -Timeout 300 | Receive-Job -ErrorVariable jobErrors -ErrorAction SilentlyContinue
            $state = $job.State
            $job | Remove-Job -Force
            [pscustomobject]@{ Report = $report; Errors = @($jobErrors); State = $state }
        }
    }

    It 'ships framework assemblies in Dependencies (what makes the test meaningful)' {
        Join-Path $dependencies 'System.IO.Pipelines.dll' | Should -Exist
        Join-Path $dependencies 'System.Diagnostics.DiagnosticSource.dll' | Should -Exist
    }

    It 'imports <First> then <Second>: both work, each with its own YamlDotNet, and Axl takes nothing the host has' -ForEach @(
        @{ First = 'OtherYaml'; Second = 'Axl' }
        @{ First = 'Axl'; Second = 'OtherYaml' }
    ) {
        $r = Invoke-BothModules @($First, $Second)
        ($r.Errors | ForEach-Object { "$_" }) -join "`n" | Should -BeNullOrEmpty
        $r.State | Should -Be 'Completed'
        $report = $r.Report
        $report.OtherYaml.Trim() | Should -Be 'answer: 42'
        $report.OtherVersion | Should -Match '^13\.'
        $report.AxlYaml | Should -Match '(?m)^name: diamond\s*$'
        $report.Run | Should -Be 'Succeeded'
        $report.Yaml | Should -Be @('13 in Default', '18 in Axl')
        $report.InAxl | Should -Contain 'Axl.Core'
        $report.InAxl | Should -Contain 'StackExchange.Redis' -Because 'the closure walk loaded the library that refers to System.IO.Pipelines'
        $report.HostInAxl | Should -BeNullOrEmpty -Because 'an assembly the host provides at the version Axl needs comes from the default context'
        $report.Pipelines | Should -Be @('Default')
        $report.DiagnosticSource | Should -Be @('Default')
        $report.SharedPipe | Should -BeTrue
    }
}
