#Requires -Version 7.4
# A workflow larger than one Argo object, as a user meets it in pwsh and through `axl`: a 300-step chain made with a
# loop compiles to WorkflowTemplates and a parent within Argo v4's 200-item limits, the same bytes from the cmdlet and
# the command; with splitting off it is refused with the limit named.

BeforeAll {
    $repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $modulePath = Join-Path $repo 'artifacts/module/Axl/Axl.psd1'
    $axlDll = Join-Path $repo 'artifacts/cli/axl.dll'
    foreach ($built in $modulePath, $axlDll) {
        if (-not (Test-Path -LiteralPath $built)) { throw "Axl is not built: expected $built. Run 'dotnet build' at the repository root first." }
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $dotnet = (Get-Command dotnet -CommandType Application -ErrorAction Stop)[0].Source

    $flow = Join-Path $TestDrive 'long.axl.ps1'
    Set-Content -LiteralPath $flow -Value @'
AxlWorkflow long {
    Parameter Rate -Default 2
    Step s0 { param($Rate) $Rate }
    foreach ($i in 1..299) {
        $previous = "s$($i - 1)"
        Step "s$i" -ScriptBlock ([scriptblock]::Create("param(`$$previous) `$$previous + 1"))
    }
}
'@
}

Describe 'Splitting a long workflow for Argo' {
    It 'compiles a 300-step chain to WorkflowTemplates within the limits, called by the Workflow' {
        $doc = ConvertTo-ArgoWorkflow -Path $flow
        $doc.IsSplit | Should -BeTrue
        $doc.Kind | Should -Be 'Workflow'
        $doc.TaskCount | Should -Be 300
        $doc.Templates.Count | Should -Be 2
        foreach ($t in $doc.Templates) {
            $t.Kind | Should -Be 'WorkflowTemplate'
            $t.Tree['spec']['templates'].Count | Should -BeLessOrEqual 200
            $t.Tree['spec']['templates'][0]['dag']['tasks'].Count | Should -BeLessOrEqual 200
            $t.Size | Should -BeLessOrEqual 1MB
            $t.Name | Should -Match '^long-[0-9a-f]{10}-[12]$'
        }
        $tasks = $doc.Tree['spec']['templates'][0]['dag']['tasks']
        @($tasks | ForEach-Object { $_['templateRef']['name'] }) | Should -Be @($doc.Templates.Name)
        $tasks[1]['depends'] | Should -Be 'part-1'
        ($doc | Format-List | Out-String) | Should -Match 'Templates\s+: 2 WorkflowTemplates called by templateRef'
    }

    It 'writes the same multi-document YAML from -AsYaml and from axl compile' {
        $yaml = ConvertTo-ArgoWorkflow -Path $flow -AsYaml
        ([regex]::Matches($yaml, '(?m)^kind: WorkflowTemplate$')).Count | Should -Be 2
        ([regex]::Matches($yaml, '(?m)^kind: Workflow$')).Count | Should -Be 1
        $out = Join-Path $TestDrive 'long.yaml'
        & $dotnet $axlDll compile --target argo --out $out $flow | Out-Null
        $LASTEXITCODE | Should -Be 0
        Get-Content -LiteralPath $out -Raw | Should -BeExactly $yaml
    }

    It 'refuses one object over the item limit when splitting is off, naming the limit and the remedy' {
        $doc = ConvertTo-ArgoWorkflow -Path $flow -Split None -ErrorVariable failure -ErrorAction SilentlyContinue
        $doc | Should -BeNullOrEmpty
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'Axl.ArgoTooManyItems,*'
        "$failure" | Should -Match 'over the limit of 200'
        "$failure" | Should -Match '-Split Auto'
        $err = Join-Path $TestDrive 'err.txt'
        & $dotnet $axlDll compile --target argo --split none $flow 2>$err | Out-Null
        $LASTEXITCODE | Should -Be 1
        Get-Content -LiteralPath $err -Raw | Should -Match 'error Axl.ArgoTooManyItems'
        # A cluster with the minimal CRDs: raise the limits and it is one object again.
        (ConvertTo-ArgoWorkflow -Path $flow -Split None -MaxTemplates 400 -MaxDagTasks 400).IsSplit | Should -BeFalse
    }
}

Describe 'ConvertTo-ArgoWorkflow -OutFile' {
    It 'writes every object of a split workflow to the file, and nothing with -WhatIf' {
        $out = Join-Path $TestDrive 'out/long.yaml'
        ConvertTo-ArgoWorkflow -Path $flow -OutFile $out -WhatIf | Should -BeNullOrEmpty
        Test-Path -LiteralPath $out | Should -BeFalse
        $doc = ConvertTo-ArgoWorkflow -Path $flow -OutFile $out
        $doc.IsSplit | Should -BeTrue
        Get-Content -LiteralPath $out -Raw | Should -BeExactly $doc.ToYamlAll()
        @(Get-ChildItem -LiteralPath (Split-Path $out) -Force).Name | Should -Be @('long.yaml')
    }

    It 'refuses a second workflow for the same file' {
        $two = Join-Path $TestDrive 'two.axl.ps1'
        Set-Content -LiteralPath $two -Value "AxlWorkflow one { Step a { 1 } }`nAxlWorkflow two { Step b { 2 } }"
        $out = Join-Path $TestDrive 'two.yaml'
        $docs = ConvertTo-ArgoWorkflow -Path $two -OutFile $out -ErrorVariable failure -ErrorAction SilentlyContinue
        @($docs).Count | Should -Be 1
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'Axl.OneWorkflowPerFile,*'
        Get-Content -LiteralPath $out -Raw | Should -Match 'generateName: one-'
    }
}
