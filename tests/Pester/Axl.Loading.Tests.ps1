#Requires -Version 7.4
# Pester 5 tests of how the built module loads, as users load it: imported, removed and imported again in one
# session; and imported into a pwsh process where another YamlDotNet than Axl's is already loaded (the dependency
# isolation of the README: Axl's YamlDotNet lives in Axl's own load context, the other one stays in the default one).
# Run from the repository root after `dotnet build` and `dotnet restore tests/Pester/restore` (YamlDotNet 13.1.1):
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1

BeforeAll {
    . (Join-Path $PSScriptRoot 'NuGetPackages.ps1')
    $modulePath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/module/Axl/Axl.psd1'))
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    $diamondPath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../examples/diamond/diamond.axl.ps1'))
}

Describe 'Import-Module, Remove-Module, Import-Module again' {
    BeforeAll {
        Import-Module $modulePath -Force -ErrorAction Stop
        $before = Get-AxlWorkflow -LiteralPath $diamondPath -ErrorAction Stop
        Remove-Module Axl -ErrorAction Stop
        $removed = @(Get-Module Axl)
        $cmdletAfterRemove = Get-Command Get-AxlWorkflow -ErrorAction SilentlyContinue
        $module = Import-Module $modulePath -PassThru -ErrorAction Stop
    }

    It 'removes the module and its cmdlets' {
        $removed.Count | Should -Be 0
        $cmdletAfterRemove | Should -BeNullOrEmpty
    }

    It 'imports the module again from the built layout' {
        $module.Name | Should -Be 'Axl'
        $module.ModuleBase | Should -Be (Split-Path $modulePath -Parent)
        @(Get-Module Axl).Count | Should -Be 1
    }

    It 'loads and validates examples/diamond after the second import' {
        $workflow = Get-AxlWorkflow -LiteralPath $diamondPath -ErrorAction Stop
        $workflow.Name | Should -Be 'diamond'
        $workflow.StepCount | Should -Be $before.StepCount
        $workflow.Hash | Should -Be $before.Hash -Because 'the same file gives the same IR before and after the re-import'
        @($workflow | Test-AxlWorkflow) | Should -BeNullOrEmpty
        Test-AxlWorkflow -Path $diamondPath -Quiet | Should -BeTrue
    }

    It 'still knows its type accelerators ([AxlWorkflow])' {
        (Get-AxlWorkflow -LiteralPath $diamondPath) -is [AxlWorkflow] | Should -BeTrue
    }

    It 'still writes YAML (ConvertTo-AxlIr -Format Yaml)' {
        $yaml = Get-AxlWorkflow -LiteralPath $diamondPath | ConvertTo-AxlIr -Format Yaml
        "$yaml" | Should -Match '(?m)^name: diamond$'
    }
}

Describe 'Axl imported where another YamlDotNet is already loaded' {
    BeforeAll {
        $otherYaml = Get-NuGetPackageFile YamlDotNet 13.1.1 'lib/netstandard2.0/YamlDotNet.dll'
        # A fresh pwsh process (Start-Job starts one): nothing of Axl or of this session's assemblies is loaded there.
        $job = Start-Job -ArgumentList $otherYaml, $modulePath, $diamondPath -ScriptBlock {
            param($otherYaml, $modulePath, $diamondPath)
            $ErrorActionPreference = 'Stop'
            $report = [ordered]@{}
            Add-Type -Path $otherYaml
            $report.VersionBefore = [YamlDotNet.Serialization.SerializerBuilder].Assembly.GetName().Version.ToString()
            Import-Module $modulePath
            $workflow = Get-AxlWorkflow -LiteralPath $diamondPath
            $report.IrYaml = ($workflow | ConvertTo-AxlIr -Format Yaml | Out-String)
            $report.ArgoYaml = ($workflow | ConvertTo-ArgoWorkflow -AsYaml | Out-String)
            $report.VersionAfter = [YamlDotNet.Serialization.SerializerBuilder].Assembly.GetName().Version.ToString()
            $report.OtherYamlWrites = [YamlDotNet.Serialization.SerializerBuilder]::new().Build().Serialize(@{ answer = 42 })
            # Every YamlDotNet in the process, with the load context it lives in.
            $report.Loaded = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'YamlDotNet' } | ForEach-Object {
                    '{0} in {1}' -f $_.GetName().Version, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name
                } | Sort-Object)
            [pscustomobject] $report
        }
        $report = $job | Wait-Job | Receive-Job -ErrorVariable jobErrors -ErrorAction SilentlyContinue
        $jobState = $job.State
        $job | Remove-Job -Force
    }

    It 'runs in its own process without errors' {
        ($jobErrors | ForEach-Object { "$_" }) -join "`n" | Should -BeNullOrEmpty
        $jobState | Should -Be 'Completed'
    }

    It 'loaded YamlDotNet 13 into the default context before Axl' {
        $report.VersionBefore | Should -Match '^13\.'
    }

    It 'writes the IR as YAML (ConvertTo-AxlIr -Format Yaml)' {
        $report.IrYaml | Should -Match '(?m)^name: diamond\s*$'
        $report.IrYaml | Should -Match '(?m)^schemaVersion: 1\s*$'
    }

    It 'writes an Argo workflow as YAML (ConvertTo-ArgoWorkflow -AsYaml)' {
        $report.ArgoYaml | Should -Match '(?m)^apiVersion: argoproj\.io/v1alpha1\s*$'
        $report.ArgoYaml | Should -Match '(?m)^kind: Workflow\s*$'
        $report.ArgoYaml | Should -Match '(?m)^\s+generateName: diamond-\s*$'
    }

    It 'leaves YamlDotNet 13 the one in the default context, and working' {
        $report.VersionAfter | Should -Match '^13\.'
        $report.OtherYamlWrites.Trim() | Should -Be 'answer: 42'
    }

    It "keeps Axl's own YamlDotNet in Axl's load context" {
        $report.Loaded | Should -HaveCount 2
        $report.Loaded | Should -Contain "$($report.VersionBefore) in Default"
        @($report.Loaded | Where-Object { $_ -notmatch ' in Default$' }) | Should -Match '^\d+\.\d+\.\d+\.\d+ in Axl$'
    }
}
