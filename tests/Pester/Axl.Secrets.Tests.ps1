#Requires -Version 7.4
# Pester 5 tests of secrets as users write them: AxlSecret references in -Env and Parameter -Sensitive, with the built
# module (and the axl command for the run summary). The secret value must appear in no document, record or output,
# and the step must still see it. Run from the repository root after `dotnet build`.

BeforeAll {
    $repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $modulePath = Join-Path $repo 'artifacts/module/Axl/Axl.psd1'
    $axlDll = Join-Path $repo 'artifacts/cli/axl.dll'
    foreach ($built in $modulePath, $axlDll) {
        if (-not (Test-Path -LiteralPath $built)) { throw "Axl is not built: expected $built. Run 'dotnet build' at the repository root first." }
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $dotnet = (Get-Command dotnet -CommandType Application -ErrorAction Stop)[0].Source

    $work = Join-Path ([System.IO.Path]::GetTempPath()) ('axl-pester-secrets-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $work | Out-Null
    $secret = 'pester-s3cr3t-' + [guid]::NewGuid().ToString('N')
    $variable = 'AXL_PESTER_SECRET_' + [guid]::NewGuid().ToString('N').Substring(0, 6).ToUpperInvariant()
    [Environment]::SetEnvironmentVariable($variable, $secret)

    $file = Join-Path $work 'secrets.axl.ps1'
    Set-Content -LiteralPath $file -Value @"
AxlWorkflow secrets {
    Parameter Token -Sensitive
    Parameter Size -Default 2
    Step fetch -Env @{ API_KEY = (AxlSecret -Kubernetes api-credentials -Key api-key -EnvironmentVariable $variable); MODE = 'plain' } {
        param(`$Token, `$Size)
        if (`$env:API_KEY -eq [Environment]::GetEnvironmentVariable('$variable') -and `$env:MODE -eq 'plain') { 'saw-it' } else { 'missed' }
        Write-Host "token `$Token"
    }
    Step after { param(`$fetch) if (`$env:AXL_PESTER_FAIL) { throw 'failing on purpose' }; `$fetch }
}
"@
    function Read-Tree([string] $Path) { (Get-ChildItem -LiteralPath $Path -Recurse -File | ForEach-Object { Get-Content -LiteralPath $_.FullName -Raw }) -join "`n" }
}

AfterAll {
    [Environment]::SetEnvironmentVariable($variable, $null)
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'AxlSecret (New-AxlSecretReference)' {
    It 'returns a reference that shows its sources, never a value' {
        $r = AxlSecret -Kubernetes db -Key password -EnvironmentVariable DB_PASSWORD
        $r.GetType().Name | Should -Be 'SecretReference'
        $r.ToString() | Should -Be 'kubernetes:db/password env:DB_PASSWORD'
        (Get-Command AxlSecret).ResolvedCommandName | Should -Be 'New-AxlSecretReference'
    }

    It 'puts references into the IR and secretKeyRef into Argo and KFP, and the value nowhere' {
        $wf = Get-AxlWorkflow -Path $file
        $wf.GetStep('fetch').Secrets.Keys | Should -Be @('API_KEY')
        $wf.GetStep('fetch').Env.Keys | Should -Be @('MODE')
        $ir = $wf | ConvertTo-AxlIr
        $ir | Should -Match '"kubernetesSecret": "api-credentials"'
        $argo = $wf | ConvertTo-ArgoWorkflow -AsYaml
        $argo | Should -Match 'secretKeyRef:'
        $kfp = $wf | ConvertTo-KfpPipeline -AsYaml
        $kfp | Should -Match 'secretAsEnv:'
        $dagster = ($wf | ConvertTo-DagsterJob).Source
        $dagster | Should -Match ([regex]::Escape("_secret(`"API_KEY`", `"$variable`")"))
        foreach ($text in $ir, $argo, $kfp, $dagster) { $text | Should -Not -Match $secret }
    }

    It 'is Axl.InvalidSecret when malformed' {
        $bad = Join-Path $work 'bad.axl.ps1'
        Set-Content -LiteralPath $bad -Value "AxlWorkflow bad { Step a -Env @{ K = (AxlSecret -Kubernetes 'Not_Valid' -Key k) } { 1 } }"
        $d = @(Get-AxlWorkflow -Path $bad | Test-AxlWorkflow | Where-Object Id -eq 'Axl.InvalidSecret')
        $d.Count | Should -Be 1
        $d[0].Message | Should -Match "environment variable 'K'"
        $d[0].Step | Should -Be 'a'
    }
}

Describe 'A local run with secrets and a sensitive parameter' {
    It 'gives the step the secret, masks the sensitive value, and asks for it again on resume' {
        $root = Join-Path $work 'runs'
        $env:AXL_PESTER_FAIL = '1'
        try {
            Get-AxlWorkflow -Path $file | Invoke-AxlLocalRun -RunRoot $root -Parameters @{ Token = $secret } -ErrorAction SilentlyContinue 6>$null | Out-Null
        }
        finally { Remove-Item Env:AXL_PESTER_FAIL }
        $run = Get-AxlRun -RunRoot $root -Last 1
        $run.Status | Should -Be 'Failed'
        $run.GetOutput('fetch') | Should -Be 'saw-it'
        $run.Parameters['Token'] | Should -Be '***'
        $run.Workflow | Should -Be 'secrets'
        Get-Content -LiteralPath (Join-Path $run.Directory 'log.jsonl') -Raw | Should -Match 'token \*\*\*'
        Read-Tree $root | Should -Not -Match $secret

        { Get-AxlWorkflow -Path $file | Invoke-AxlLocalRun -RunRoot $root -Resume $run.RunId -ErrorAction Stop 6>$null } |
            Should -Throw -ExpectedMessage "*sensitive parameter 'Token'*give it again*"
        Get-AxlWorkflow -Path $file | Invoke-AxlLocalRun -RunRoot $root -Resume $run.RunId -Parameters @{ Token = $secret } -ErrorAction Stop 6>$null | Out-Null
        $again = Get-AxlRun -RunRoot $root -Last 1
        $again.Status | Should -Be 'Succeeded'
        $again.GetStep('fetch').ReusedFrom | Should -Be 'resume'
    }

    It 'shows *** in the summary of axl run local' {
        $root = Join-Path $work 'cli-runs'
        $out = & $dotnet $axlDll run local $file --run-root $root --param "Token=$secret" 2>&1
        $LASTEXITCODE | Should -Be 0
        ($out -join "`n") | Should -Match 'Token=\*\*\*'
        ($out -join "`n") | Should -Not -Match $secret
        Read-Tree $root | Should -Not -Match $secret
    }
}

Describe 'A job envelope with a secret' {
    It 'carries the secret by name, with no value on any command line' {
        $cmd = Join-Path $work 'cmd.axl.ps1'
        Set-Content -LiteralPath $cmd -Value "AxlWorkflow cmd { Step check -Command sh -ArgumentList '-c', 'test -n ""`$API_KEY""' -Env @{ API_KEY = (AxlSecret -EnvironmentVariable $variable); MODE = 'fast' } }"
        $json = Get-AxlWorkflow -Path $cmd | ConvertTo-AxlJobEnvelope -AsJson
        $json | Should -Match ([regex]::Escape("--axl-secret=API_KEY=$variable"))
        $json | Should -Not -Match $secret
    }
}
