#Requires -Version 7.4
# Pester 5 tests of warm environments (AxlWorkflow -WarmEnv; issue 18 point 3, seed M7): a synthetic first step
# 'axl-warm-env' builds the workflow's Python venv (pip --no-index --find-links from a folder of wheels written here,
# offline) and saves the steps' modules once per run; python command steps then run with the venv's python first on
# PATH; a second run is a cache hit; a missing package fails the run before any user step; `axl run local` and
# `axl warm-env` do the same as Invoke-AxlLocalRun. uv is not installed here: the `uv sync --frozen` path is untested.
# Run from the repository root after `dotnet build`.

BeforeAll {
    $repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $modulePath = Join-Path $repo 'artifacts/module/Axl/Axl.psd1'
    $axlDll = Join-Path $repo 'artifacts/cli/axl.dll'
    foreach ($built in $modulePath, $axlDll) {
        if (-not (Test-Path -LiteralPath $built)) { throw "Axl is not built: expected $built. Run 'dotnet build' at the repository root first." }
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $dotnet = (Get-Command dotnet -CommandType Application -ErrorAction Stop)[0].Source

    $work = Join-Path ([System.IO.Path]::GetTempPath()) ('axl-pester-warmenv-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $work | Out-Null
    $saved = @{}
    foreach ($v in 'AXL_PSRESOURCE_REPOSITORY', 'AXL_PIP_FIND_LINKS', 'AXL_PACKAGE_CACHE', 'AXL_WARM_ENV_PYTHON') { $saved[$v] = [Environment]::GetEnvironmentVariable($v); [Environment]::SetEnvironmentVariable($v, $null) }

    $python = @(Get-Command python3 -CommandType Application -ErrorAction SilentlyContinue)[0]
    $venvOk = if ($python) { & $python.Source -c 'import venv, ensurepip' 2>$null; $LASTEXITCODE -eq 0 } else { $false }
    $script:skipPython = -not $venvOk

    # Pure-Python wheels written by hand: tinypkg 1.0.0 (the workflow's requirement) and extrapkg 1.0.0 (a step's -Packages).
    $wheels = Join-Path $work 'wheels'
    New-Item -ItemType Directory -Path $wheels | Out-Null
    Add-Type -AssemblyName System.IO.Compression
    foreach ($name in 'tinypkg', 'extrapkg') {
        $zip = [System.IO.Compression.ZipFile]::Open((Join-Path $wheels "$name-1.0.0-py3-none-any.whl"), 'Create')
        try {
            $files = [ordered]@{
                "$name/__init__.py" = "def hello():`n    return 'py-hello'`n"
                "$name-1.0.0.dist-info/METADATA" = "Metadata-Version: 2.1`nName: $name`nVersion: 1.0.0`n"
                "$name-1.0.0.dist-info/WHEEL" = "Wheel-Version: 1.0`nGenerator: axl-test`nRoot-Is-Purelib: true`nTag: py3-none-any`n"
                "$name-1.0.0.dist-info/top_level.txt" = "$name`n"
            }
            $files["$name-1.0.0.dist-info/RECORD"] = (($files.Keys | ForEach-Object { "$_,," }) + "$name-1.0.0.dist-info/RECORD,,") -join "`n"
            foreach ($k in $files.Keys) {
                $w = [System.IO.StreamWriter]::new($zip.CreateEntry($k).Open())
                $w.Write($files[$k]); $w.Dispose()
            }
        } finally { $zip.Dispose() }
    }

    # Two python command steps that import the package (and say which Python ran them), one PowerShell step.
    $flowDir = Join-Path $work 'flow'
    New-Item -ItemType Directory -Path $flowDir | Out-Null
    Set-Content -LiteralPath (Join-Path $flowDir 'requirements.txt') -Value 'tinypkg==1.0.0'
    $file = Join-Path $flowDir 'warm.axl.ps1'
    Set-Content -LiteralPath $file -Value @'
AxlWorkflow warm -WarmEnv -RequirementsFile requirements.txt {
    Step a -Command python3 -ArgumentList '-c', 'import sys, tinypkg; print(tinypkg.hello() + " " + sys.prefix)'
    Step b -Command python -ArgumentList '-c', 'import tinypkg; print(tinypkg.hello())'
    Step c { $env:VIRTUAL_ENV }
}
'@

    function Invoke-Axl([string[]] $Arguments) {
        $out = & $dotnet $axlDll @Arguments 2>&1 | Out-String
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $out }
    }
}

AfterAll {
    foreach ($v in $saved.Keys) { [Environment]::SetEnvironmentVariable($v, $saved[$v]) }
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'AxlWorkflow -WarmEnv in the IR' {
    It 'is in the IR (and the hash) only when given' {
        $with = Get-AxlWorkflow -Path $file
        $with.Options.WarmEnv | Should -BeTrue
        $ir = $with | ConvertTo-AxlIr | ConvertFrom-Json
        $ir.options.warmEnv | Should -BeTrue
        $ir.steps.name | Should -Not -Contain 'axl-warm-env'
        $plain = Join-Path $flowDir 'plain.axl.ps1'
        Set-Content -LiteralPath $plain -Value ((Get-Content -LiteralPath $file -Raw) -replace ' -WarmEnv', '')
        $without = Get-AxlWorkflow -Path $plain
        $without.Options.WarmEnv | Should -BeFalse
        (($without | ConvertTo-AxlIr | ConvertFrom-Json).options.PSObject.Properties.Name) | Should -Not -Contain 'warmEnv'
        $without.DefinitionHash | Should -Not -Be $with.DefinitionHash
    }

    It 'reserves the step name axl-warm-env' {
        $bad = Join-Path $flowDir 'reserved.axl.ps1'
        Set-Content -LiteralPath $bad -Value "AxlWorkflow reserved -WarmEnv { Step axl-warm-env { 1 } }"
        $r = Invoke-Axl @('validate', $bad, '--json')
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match "step name 'axl-warm-env' is reserved by Axl in a workflow with -WarmEnv"
    }
}

Describe 'Local runs with a warm environment' {
    It 'builds the venv once, before the user''s steps, and the python steps import the package from it' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with venv and ensurepip is not installed here'; return }
        $root = Join-Path $work 'runs-a'
        $env:AXL_PIP_FIND_LINKS = $wheels
        try {
            $run = Invoke-AxlLocalRun -Path $file -RunRoot $root -InformationVariable info -ErrorAction Stop
        } finally { $env:AXL_PIP_FIND_LINKS = $null }
        $run.Status | Should -Be 'Succeeded'
        $run.Steps[0].Name | Should -Be 'axl-warm-env'
        $run.Steps[0].Status | Should -Be 'Succeeded'
        # Before every user step: it ended before the first of them started.
        foreach ($s in $run.Steps | Select-Object -Skip 1) { $s.StartTime | Should -BeGreaterOrEqual $run.Steps[0].EndTime }
        Test-Path -LiteralPath (Join-Path $run.Directory 'axl-warm-env/step.json') | Should -BeTrue
        (Get-AxlRun -RunRoot $root -Workflow warm -RunId $run.RunId).Steps.Name | Should -Contain 'axl-warm-env'

        $venvs = @(Get-ChildItem -LiteralPath (Join-Path $root '.axl-packages/venv') -Directory)
        $venvs.Count | Should -Be 1
        Test-Path -LiteralPath (Join-Path $venvs[0].FullName '.axl-warm-env') | Should -BeTrue
        ($info | Out-String) | Should -Match 'Python environment built into'
        # The steps ran with the venv's python (python3 and python alike), and a script step sees VIRTUAL_ENV.
        ($run | Get-AxlArtifact -Step a | Out-String).Trim() | Should -Be "py-hello $($venvs[0].FullName)"
        ($run | Get-AxlArtifact -Step b | Out-String).Trim() | Should -Be 'py-hello'
        $run | Get-AxlArtifact -Step c | Should -Be $venvs[0].FullName
        # Nothing was installed per step.
        Test-Path -LiteralPath (Join-Path $root '.axl-packages/python') | Should -BeFalse
        # The run's report lists the synthetic step with the others.
        $report = $run | Export-AxlRunReport
        Get-Content -LiteralPath $report.FullName -Raw | Should -Match '<tr class="step status-succeeded" data-step="axl-warm-env"'
    }

    It 'uses the cached venv in a second run (nothing installed, no wheels needed)' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with venv and ensurepip is not installed here'; return }
        $root = Join-Path $work 'runs-a'
        $venv = @(Get-ChildItem -LiteralPath (Join-Path $root '.axl-packages/venv') -Directory)[0].FullName
        Set-Content -LiteralPath (Join-Path $venv 'kept') -Value 'kept'
        $run = Invoke-AxlLocalRun -Path $file -RunRoot $root -InformationVariable info -ErrorAction Stop
        $run.Status | Should -Be 'Succeeded'
        ($info | Out-String) | Should -Match 'cache hit, nothing installed'
        ($info | Out-String) | Should -Not -Match 'built into'
        Get-Content -LiteralPath (Join-Path $venv 'kept') | Should -Be 'kept'
        ($run | Get-AxlArtifact -Step b | Out-String).Trim() | Should -Be 'py-hello'
    }

    It 'fails the run before any user step when a package is missing, naming it, where it looked and the fix' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with venv and ensurepip is not installed here'; return }
        $empty = Join-Path $work 'no-wheels'
        New-Item -ItemType Directory -Path $empty -Force | Out-Null
        $root = Join-Path $work 'runs-missing'
        $env:AXL_PIP_FIND_LINKS = $empty
        try {
            $run = Invoke-AxlLocalRun -Path $file -RunRoot $root -ErrorAction SilentlyContinue -ErrorVariable err
        } finally { $env:AXL_PIP_FIND_LINKS = $null }
        $run.Status | Should -Be 'Failed'
        $warm = $run.Steps | Where-Object Name -EQ 'axl-warm-env'
        $warm.Status | Should -Be 'Failed'
        $warm.Error.Message | Should -Match 'tinypkg'
        $warm.Error.Message | Should -Match ([regex]::Escape($empty))
        $warm.Error.Message | Should -Match 'Fix: put the missing wheels into'
        foreach ($s in 'a', 'b', 'c') {
            ($run.Steps | Where-Object Name -EQ $s).Status | Should -Be 'Skipped'
            ($run.Steps | Where-Object Name -EQ $s).StartTime | Should -BeNullOrEmpty
        }
        ($err | Out-String) | Should -Match 'axl-warm-env'
        # Nothing half-built is left as a cache entry.
        @(Get-ChildItem -LiteralPath (Join-Path $root '.axl-packages/venv') -Directory -ErrorAction SilentlyContinue).Count | Should -Be 0

        # No folder configured at all: says which variable to set.
        $run2 = Invoke-AxlLocalRun -Path $file -RunRoot (Join-Path $work 'runs-unset') -ErrorAction SilentlyContinue
        ($run2.Steps | Where-Object Name -EQ 'axl-warm-env').Error.Message | Should -Match 'AXL_PIP_FIND_LINKS'
    }

    It 'fails the run before any user step when the cache cannot be written, naming the folder' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with venv and ensurepip is not installed here'; return }
        $notADir = Join-Path $work 'a-file'
        Set-Content -LiteralPath $notADir -Value 'x'
        $env:AXL_PIP_FIND_LINKS = $wheels
        $env:AXL_PACKAGE_CACHE = Join-Path $notADir 'cache'
        try {
            $run = Invoke-AxlLocalRun -Path $file -RunRoot (Join-Path $work 'runs-badcache') -ErrorAction SilentlyContinue
        } finally { $env:AXL_PIP_FIND_LINKS = $null; $env:AXL_PACKAGE_CACHE = $null }
        $run.Status | Should -Be 'Failed'
        $warm = $run.Steps | Where-Object Name -EQ 'axl-warm-env'
        $warm.Error.Message | Should -Match ([regex]::Escape((Join-Path $notADir 'cache')))
        $warm.Error.Message | Should -Match 'AXL_PACKAGE_CACHE'
        ($run.Steps | Where-Object Name -EQ 'a').Status | Should -Be 'Skipped'
    }

    It 'is checked again on resume, from the cache' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with venv and ensurepip is not installed here'; return }
        $root = Join-Path $work 'runs-a'
        $last = Get-AxlRun -RunRoot $root -Workflow warm | Select-Object -First 1
        $resumed = Invoke-AxlLocalRun -Path $file -RunRoot $root -Resume $last.RunId -InformationVariable info -ErrorAction Stop
        $resumed.Status | Should -Be 'Succeeded'
        ($resumed.Steps | Where-Object Name -EQ 'axl-warm-env').Status | Should -Be 'Succeeded'
        ($info | Out-String) | Should -Match 'cache hit, nothing installed'
    }

    It 'does the same under axl run local, and axl warm-env builds the same environment' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with venv and ensurepip is not installed here'; return }
        $cache = Join-Path $work 'shared-cache'
        $env:AXL_PACKAGE_CACHE = $cache
        $env:AXL_PIP_FIND_LINKS = $wheels
        try {
            $prepared = Invoke-Axl @('warm-env', $file)
            $cli = Invoke-Axl @('run', 'local', $file, '--run-root', (Join-Path $work 'runs-cli'))
            $env:AXL_PIP_FIND_LINKS = $null
            $module = Invoke-AxlLocalRun -Path $file -RunRoot (Join-Path $work 'runs-cmdlet') -InformationVariable info -ErrorAction Stop
        } finally { $env:AXL_PACKAGE_CACHE = $null; $env:AXL_PIP_FIND_LINKS = $null }
        $prepared.ExitCode | Should -Be 0
        $venv = @(Get-ChildItem -LiteralPath (Join-Path $cache 'venv') -Directory)
        $venv.Count | Should -Be 1
        $prepared.Output | Should -Match ('VIRTUAL_ENV=' + [regex]::Escape($venv[0].FullName))
        $cli.ExitCode | Should -Be 0
        $cli.Output | Should -Match 'axl-warm-env'
        $cliRun = Get-AxlRun -RunRoot (Join-Path $work 'runs-cli') -Workflow warm | Select-Object -First 1
        $cliRun.Steps.Name | Should -Be @('axl-warm-env', 'a', 'b', 'c')
        ($cliRun | Get-AxlArtifact -Step a | Out-String).Trim() | Should -Be "py-hello $($venv[0].FullName)"
        # The cmdlet's run found what axl built: the same key.
        ($info | Out-String) | Should -Match 'cache hit, nothing installed'
        $module | Get-AxlArtifact -Step c | Should -Be $venv[0].FullName

        $missing = Invoke-Axl @('warm-env', $file, '--cache', (Join-Path $work 'other-cache'))
        $missing.ExitCode | Should -Be 1
        $missing.Output | Should -Match 'AXL_PIP_FIND_LINKS'
    }

    It 'runs as a compiled workflow''s pods do: axl warm-env into a cache, then axl step finds it there' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with venv and ensurepip is not installed here'; return }
        $cache = Join-Path $work 'pod-env'
        $env:AXL_PIP_FIND_LINKS = $wheels
        try { $init = Invoke-Axl @('warm-env', $file, '--cache', $cache) } finally { $env:AXL_PIP_FIND_LINKS = $null }
        $init.ExitCode | Should -Be 0 -Because $init.Output
        $venv = @(Get-ChildItem -LiteralPath (Join-Path $cache 'venv') -Directory)[0].FullName
        # The step pod: AXL_PACKAGE_CACHE names the shared volume, no wheel folder at all.
        $out = Join-Path $work 'pod/c'
        $manifest = @{
            schemaVersion = 1; workflow = 'warm'; workflowFile = (Split-Path $file -Leaf); workDir = $flowDir; step = 'c'
            inputs = @(); output = @{ directory = $out; ioHandler = 'clixml' }
        } | ConvertTo-Json -Depth 5 -Compress
        $env:AXL_PACKAGE_CACHE = $cache
        try { $r = Invoke-Axl @('step', '--manifest-json', $manifest) } finally { $env:AXL_PACKAGE_CACHE = $null }
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Import-Clixml -LiteralPath (Join-Path $out 'output.clixml') | Should -Be $venv
        $r.Output | Should -Not -Match 'built into'
    }

    It 'runs as the compiled KFP pipeline''s executors do: the axl-warm-env executor, then a step''s with its AXL_PACKAGE_CACHE' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with venv and ensurepip is not installed here'; return }
        $doc = Get-AxlWorkflow -Path $file | ConvertTo-KfpPipeline -ErrorAction Stop
        $tasks = $doc.Tree['root']['dag']['tasks']
        $tasks.Keys | Should -Contain 'createpvc'
        $tasks['a']['dependentTasks'] | Should -Contain 'axl-warm-env'
        $doc.PlatformSpec['platforms']['kubernetes']['deploymentSpec']['executors']['exec-c']['pvcMount'][0]['mountPath'] | Should -Be '/axl/env'
        $executors = $doc.Tree['deploymentSpec']['executors']
        # The volumes as the pods see them: the image's /axl/workdir is the flow folder, the claim at /axl/env a local folder.
        $cache = Join-Path $work 'kfp-env'
        $mounts = @{ '/axl/workdir' = $flowDir; '/axl/env' = $cache }
        function Resolve-Mount([string] $Text) { foreach ($m in $mounts.Keys) { if ($Text.StartsWith($m)) { return $mounts[$m] + $Text.Substring($m.Length) } }; $Text }
        $warmArgs = @($executors['exec-axl-warm-env']['container']['args'] | ForEach-Object { Resolve-Mount $_ })
        $env:AXL_PIP_FIND_LINKS = $wheels
        try { $init = Invoke-Axl $warmArgs } finally { $env:AXL_PIP_FIND_LINKS = $null }
        $init.ExitCode | Should -Be 0 -Because $init.Output
        $venv = @(Get-ChildItem -LiteralPath (Join-Path $cache 'venv') -Directory)[0].FullName
        # Step c's executor: its placeholders replaced as KFP's launcher does, its env as the container's.
        $c = $executors['exec-c']['container']
        $cacheVar = @($c['env'] | Where-Object { $_['name'] -eq 'AXL_PACKAGE_CACHE' })
        $cacheVar.Count | Should -Be 1
        $out = Join-Path $work 'kfp-pod/c'
        $stepArgs = @($c['args'] | ForEach-Object { $_.Replace("{{`$.outputs.artifacts['output'].path}}", $out.Replace('\', '/')).Replace('{{$.pipeline_job_name}}', 'warm-run-1') }) + @('--workdir', $flowDir)
        $env:AXL_PACKAGE_CACHE = Resolve-Mount $cacheVar[0]['value']
        try { $r = Invoke-Axl $stepArgs } finally { $env:AXL_PACKAGE_CACHE = $null }
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Import-Clixml -LiteralPath (Join-Path $out 'output.clixml') | Should -Be $venv
        $r.Output | Should -Not -Match 'built into'
    }

    It 'installs a step''s own -Packages on top of the venv' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with venv and ensurepip is not installed here'; return }
        $extra = Join-Path $flowDir 'extra.axl.ps1'
        Set-Content -LiteralPath $extra -Value @'
AxlWorkflow extra -WarmEnv -RequirementsFile requirements.txt {
    Step both -Command python3 -ArgumentList '-c', 'import sys, tinypkg, extrapkg; print(extrapkg.hello() + " " + sys.prefix)' -Packages 'extrapkg==1.0.0'
}
'@
        $root = Join-Path $work 'runs-extra'
        $env:AXL_PIP_FIND_LINKS = $wheels
        try {
            $run = Invoke-AxlLocalRun -Path $extra -RunRoot $root -ErrorAction Stop
        } finally { $env:AXL_PIP_FIND_LINKS = $null }
        $run.Status | Should -Be 'Succeeded'
        $venv = @(Get-ChildItem -LiteralPath (Join-Path $root '.axl-packages/venv') -Directory)[0].FullName
        ($run | Get-AxlArtifact -Step both | Out-String).Trim() | Should -Be "py-hello $venv"
        @(Get-ChildItem -LiteralPath (Join-Path $root '.axl-packages/python') -Directory).Count | Should -Be 1
    }

    It 'runs the same in a local job (Submit-AxlJob -Target Local)' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with venv and ensurepip is not installed here'; return }
        $root = Join-Path $work 'runs-a' # its cache holds the venv already
        $job = Get-AxlWorkflow -Path $file | Submit-AxlJob -Target Local -RunRoot $root
        try {
            $null = $job | Wait-Job -Timeout 300
            $job.State | Should -Be 'Completed' -Because "$($job.JobStateInfo.Reason)"
            $result = $job | Receive-Job
            $result.Steps[0].Name | Should -Be 'axl-warm-env'
            ($result | Get-AxlArtifact -Step b | Out-String).Trim() | Should -Be 'py-hello'
        } finally { $job | Remove-Job -Force }
    }

    It 'pre-saves the modules the steps name, which the steps then find in the cache' {
        $src = Join-Path $work 'src/TinyMod'
        New-Item -ItemType Directory -Path $src -Force | Out-Null
        Set-Content -LiteralPath (Join-Path $src 'TinyMod.psm1') -Value "function Get-TinyGreeting { 'tiny-hello' }"
        New-ModuleManifest -Path (Join-Path $src 'TinyMod.psd1') -RootModule 'TinyMod.psm1' -ModuleVersion '1.0.0' -FunctionsToExport 'Get-TinyGreeting' -Author 'axl' -Description 'test module'
        $nupkgs = Join-Path $work 'nupkgs'
        New-Item -ItemType Directory -Path $nupkgs -Force | Out-Null
        Compress-PSResource -Path $src -DestinationPath $nupkgs
        $modFile = Join-Path $work 'mods.axl.ps1'
        Set-Content -LiteralPath $modFile -Value "AxlWorkflow mods -WarmEnv { Step greet -Modules 'TinyMod@1.0.0' { Get-TinyGreeting } }"
        $env:AXL_PSRESOURCE_REPOSITORY = $nupkgs
        try {
            $run = Invoke-AxlLocalRun -Path $modFile -RunRoot (Join-Path $work 'runs-mods') -ErrorAction Stop
        } finally { $env:AXL_PSRESOURCE_REPOSITORY = $null }
        $run.Status | Should -Be 'Succeeded'
        $run | Get-AxlArtifact -Step greet | Should -Be 'tiny-hello'
        $log = Get-Content -LiteralPath (Join-Path $run.Directory 'log.jsonl') | ForEach-Object { $_ | ConvertFrom-Json }
        $installs = @($log | Where-Object { $_.message -match 'module TinyMod@1\.0\.0 installed' })
        $installs.Count | Should -Be 1
        $installs[0].step | Should -Be 'axl-warm-env'
    }
}
