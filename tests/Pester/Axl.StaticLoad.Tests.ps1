#Requires -Version 7.4
# Pester 5 tests of the loader's static fast path (issue #16), as a user meets it: a file of static Step and Parameter
# commands loads the same with AXL_LOADER=execute, auto (the default) and static; AXL_LOADER=static refuses a block
# that must run (a loop), naming the workflow, file:line and why; the steps of a file read statically still see the
# file's functions and variables when they run. Through `axl`, the same 200-step file is read in pieces (each Step
# line parsed on its own, on every core) and gives what the cmdlets give.
# Run from the repository root after `dotnet build`:
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1 -Path tests/Pester/Axl.StaticLoad.Tests.ps1

BeforeAll {
    $modulePath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/module/Axl/Axl.psd1'))
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $savedMode = $env:AXL_LOADER
    $axlDll = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/cli/axl.dll'))
    $dotnet = (Get-Command dotnet -CommandType Application -ErrorAction Stop)[0].Source

    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add('$script:Offset = 10')
    $lines.Add('function Add-Offset { param($x) $x + $script:Offset }')
    $lines.Add('AxlWorkflow chain -Description ''static chain'' {')
    $lines.Add('    Parameter Start -Default 1 -Type int')
    $lines.Add('    Step s0 -Retries 1 -Timeout ''5m'' { param([int] $Start) Add-Offset $Start }')
    foreach ($i in 1..199) { $lines.Add("    Step s$i -Env @{ LEVEL = $i } { param(`$s$($i - 1)) `$s$($i - 1) + 1 }") }
    $lines.Add('}')
    $staticFile = Join-Path $TestDrive 'chain.axl.ps1'
    Set-Content -LiteralPath $staticFile -Value $lines

    $dynamicFile = Join-Path $TestDrive 'loop.axl.ps1'
    Set-Content -LiteralPath $dynamicFile -Value @(
        'AxlWorkflow loop {'
        '    Step first { 1 }'
        '    foreach ($i in 1..3) { Step "s$i" { param($first) $first } }'
        '}'
    )

    function Get-Ir([string] $mode, [string] $file) {
        $env:AXL_LOADER = $mode
        try { Get-AxlWorkflow -LiteralPath $file -ErrorAction Stop | ConvertTo-AxlIr }
        finally { $env:AXL_LOADER = $savedMode }
    }
}

AfterAll {
    $env:AXL_LOADER = $savedMode
}

Describe 'A static workflow file' {
    It 'gives the same IR (and hash) executed, in auto and in static mode' {
        $executed = Get-Ir execute $staticFile
        $auto = Get-Ir auto $staticFile
        $static = Get-Ir static $staticFile
        $executed | Should -Not -BeNullOrEmpty
        $executed | Should -Match '"name": "s199"'
        $auto | Should -BeExactly $executed
        $static | Should -BeExactly $executed
    }

    It 'runs its steps with the file''s functions and variables when read statically' {
        $env:AXL_LOADER = 'static'
        try {
            $run = Get-AxlWorkflow -LiteralPath $staticFile -ErrorAction Stop | Invoke-AxlLocalRun -RunRoot (Join-Path $TestDrive 'runs') -ErrorAction Stop
        }
        finally { $env:AXL_LOADER = $savedMode }
        $run.Status | Should -Be 'Succeeded'
        $run | Get-AxlArtifact -Step s199 | Should -Be 210
    }
}

Describe 'A block that must run' {
    It 'loads in auto mode, the same as executed' {
        Get-Ir auto $dynamicFile | Should -BeExactly (Get-Ir execute $dynamicFile)
    }

    It 'is refused by AXL_LOADER=static with the workflow, file:line and the dynamic statement' {
        $env:AXL_LOADER = 'static'
        try {
            $err = $null
            $null = Get-AxlWorkflow -LiteralPath $dynamicFile -ErrorAction SilentlyContinue -ErrorVariable err
        }
        finally { $env:AXL_LOADER = $savedMode }
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'Axl.WorkflowNotStatic*'
        "$err" | Should -BeLike "*workflow 'loop' ($dynamicFile`:1): line 3: not a single Step or Parameter command*"
    }
}

Describe 'A large static file through axl' {
    It 'is read in pieces and compiles to the YAML the cmdlet writes' {
        # Outside the workflow's folder, which is its code root (hashed into the YAML).
        $outDir = New-Item -ItemType Directory -Path (Join-Path ([System.IO.Path]::GetTempPath()) "axl-pieces-$([guid]::NewGuid())")
        try {
            $out = Join-Path $outDir 'chain.yaml'
            $trace = Join-Path $outDir 'trace.txt'
            $env:AXL_STARTUP_TRACE = '1'
            try { & $dotnet $axlDll compile --target argo --out $out $staticFile 2>$trace | Out-Null }
            finally { Remove-Item Env:AXL_STARTUP_TRACE }
            $LASTEXITCODE | Should -Be 0
            $yaml = Get-Content -LiteralPath $out -Raw
            $traced = Get-Content -LiteralPath $trace -Raw
        }
        finally { Remove-Item -LiteralPath $outDir -Recurse -Force }
        $traced | Should -Match '\(199 steps from pieces parsed on their own\) without running it'
        $yaml | Should -BeExactly (ConvertTo-ArgoWorkflow -Path $staticFile -AsYaml)
    }

    It 'validates the same read in pieces and parsed whole' {
        $pieces = & $dotnet $axlDll validate --json $staticFile
        $LASTEXITCODE | Should -Be 0
        $env:AXL_FILE_READ = 'whole'
        try { $whole = & $dotnet $axlDll validate --json $staticFile }
        finally { Remove-Item Env:AXL_FILE_READ }
        $LASTEXITCODE | Should -Be 0
        ($pieces -join "`n") | Should -BeExactly ($whole -join "`n")
        ($pieces -join "`n") | Should -Match '"s199"'
    }
}
