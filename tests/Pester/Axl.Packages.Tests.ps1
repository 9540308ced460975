#Requires -Version 7.4
# Pester 5 tests of step packages installed by the runner (issue 18, point 4): a step's -Modules are saved from a
# folder of .nupkg files (AXL_PSRESOURCE_REPOSITORY) into the package cache and put first on its PSModulePath; a
# python command step's -Packages are installed with pip --no-index --find-links (AXL_PIP_FIND_LINKS) into the cache
# and put on its PYTHONPATH; a second run uses the cache; nothing configured fails the step before it runs, naming
# the step, the package, where it looked and the fix. Run from the repository root after `dotnet build`.

BeforeAll {
    $repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $modulePath = Join-Path $repo 'artifacts/module/Axl/Axl.psd1'
    $axlDll = Join-Path $repo 'artifacts/cli/axl.dll'
    foreach ($built in $modulePath, $axlDll) {
        if (-not (Test-Path -LiteralPath $built)) { throw "Axl is not built: expected $built. Run 'dotnet build' at the repository root first." }
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $dotnet = (Get-Command dotnet -CommandType Application -ErrorAction Stop)[0].Source

    $work = Join-Path ([System.IO.Path]::GetTempPath()) ('axl-pester-packages-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $work | Out-Null
    $saved = @{}
    foreach ($v in 'AXL_PSRESOURCE_REPOSITORY', 'AXL_PIP_FIND_LINKS', 'AXL_PACKAGE_CACHE') { $saved[$v] = [Environment]::GetEnvironmentVariable($v); [Environment]::SetEnvironmentVariable($v, $null) }

    # A tiny module (a function from a manifest), packed as Save-PSResource's repositories hold it.
    $src = Join-Path $work 'src/TinyMod'
    New-Item -ItemType Directory -Path $src | Out-Null
    Set-Content -LiteralPath (Join-Path $src 'TinyMod.psm1') -Value "function Get-TinyGreeting { 'tiny-hello ' + (Split-Path -Leaf `$PSScriptRoot) }"
    New-ModuleManifest -Path (Join-Path $src 'TinyMod.psd1') -RootModule 'TinyMod.psm1' -ModuleVersion '1.0.0' -FunctionsToExport 'Get-TinyGreeting' -Author 'axl' -Description 'test module'
    $nupkgs = Join-Path $work 'nupkgs'
    New-Item -ItemType Directory -Path $nupkgs | Out-Null
    Compress-PSResource -Path $src -DestinationPath $nupkgs
    $script:nupkg = @(Get-ChildItem -LiteralPath $nupkgs -Filter *.nupkg)

    $file = Join-Path $work 'pkgs.axl.ps1'
    Set-Content -LiteralPath $file -Value @'
AxlWorkflow pkgs {
    Step greet -Modules 'TinyMod@1.0.0' { Get-TinyGreeting }
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

Describe 'PowerShell modules (-Modules) at run time' {
    It 'packs the test module into one .nupkg' {
        $nupkg.Count | Should -Be 1
        $nupkg[0].Name | Should -Be 'TinyMod.1.0.0.nupkg'
    }

    It 'installs the module from a folder of .nupkg files into the cache, and the step finds it' {
        $root = Join-Path $work 'runs-a'
        $env:AXL_PSRESOURCE_REPOSITORY = $nupkgs
        try {
            $run = Invoke-AxlLocalRun -Path $file -RunRoot $root -InformationVariable info -ErrorAction Stop
        } finally { $env:AXL_PSRESOURCE_REPOSITORY = $null }
        $run.Status | Should -Be 'Succeeded'
        $run | Get-AxlArtifact -Step greet | Should -Be 'tiny-hello 1.0.0'
        ($info | Out-String) | Should -Match 'module TinyMod@1\.0\.0 installed from .*TinyMod\.1\.0\.0\.nupkg'
        $cached = Join-Path $root '.axl-packages/psmodules/TinyMod/1.0.0/TinyMod/1.0.0'
        Test-Path -LiteralPath (Join-Path $cached 'TinyMod.psd1') | Should -BeTrue
        # The package's own files are not part of the module (as Save-PSResource lays it out).
        Test-Path -LiteralPath (Join-Path $cached 'TinyMod.nuspec') | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $cached '_rels') | Should -BeFalse
        # The module is the step's only: this session does not see it.
        Get-Module TinyMod -ListAvailable | Should -BeNullOrEmpty

        # Second run: from the cache, with no repository at all, nothing installed and the cache entry untouched.
        $stamp = (Get-Item -LiteralPath $cached).LastWriteTimeUtc
        Set-Content -LiteralPath (Join-Path $cached 'marker') -Value 'kept'
        $run2 = Invoke-AxlLocalRun -Path $file -RunRoot $root -InformationVariable info2 -ErrorAction Stop
        $run2.Status | Should -Be 'Succeeded'
        $run2 | Get-AxlArtifact -Step greet | Should -Be 'tiny-hello 1.0.0'
        ($info2 | Out-String) | Should -Not -Match 'installed'
        Get-Content -LiteralPath (Join-Path $cached 'marker') | Should -Be 'kept'
        @(Get-ChildItem -LiteralPath (Join-Path $root '.axl-packages/psmodules/TinyMod') -Force).Name | Should -Be @('1.0.0')
    }

    It 'runs two steps that need the same module at the same time (they share its PSModulePath)' {
        $both = Join-Path $work 'both.axl.ps1'
        $meet = Join-Path $work 'meet'
        New-Item -ItemType Directory -Path $meet | Out-Null
        # Each step says it is there and waits for the other: run one after the other, the first would give up.
        Set-Content -LiteralPath $both -Value @"
AxlWorkflow both -Modules 'TinyMod@1.0.0' {
    Step left { Set-Content '$meet/left' x; for (`$i = 0; `$i -lt 600 -and -not (Test-Path '$meet/right'); `$i++) { Start-Sleep -Milliseconds 100 }; if (-not (Test-Path '$meet/right')) { throw 'right never came' }; Get-TinyGreeting }
    Step right { Set-Content '$meet/right' x; for (`$i = 0; `$i -lt 600 -and -not (Test-Path '$meet/left'); `$i++) { Start-Sleep -Milliseconds 100 }; if (-not (Test-Path '$meet/left')) { throw 'left never came' }; Get-TinyGreeting }
}
"@
        $env:AXL_PSRESOURCE_REPOSITORY = $nupkgs
        try {
            $run = Invoke-AxlLocalRun -Path $both -RunRoot (Join-Path $work 'runs-both') -ThrottleLimit 2 -ErrorAction Stop
        } finally { $env:AXL_PSRESOURCE_REPOSITORY = $null }
        $run.Status | Should -Be 'Succeeded'
        $run | Get-AxlArtifact -Step left | Should -Be 'tiny-hello 1.0.0'
        $run | Get-AxlArtifact -Step right | Should -Be 'tiny-hello 1.0.0'
        # The process's own PSModulePath is back as it was.
        $env:PSModulePath | Should -Not -Match ([regex]::Escape('.axl-packages'))
    }

    It 'installs nothing when the module is importable already (as in a baked image''s /axl/modules)' {
        # Laid out as Build-AxlImage's Save-Module leaves it: <folder on PSModulePath>/TinyMod/1.0.0/.
        $baked = Join-Path $work 'baked-modules'
        New-Item -ItemType Directory -Path (Join-Path $baked 'TinyMod') | Out-Null
        Copy-Item -LiteralPath $src -Destination (Join-Path $baked 'TinyMod/1.0.0') -Recurse
        $root = Join-Path $work 'runs-baked'
        $before = $env:PSModulePath
        $env:PSModulePath = $baked + [System.IO.Path]::PathSeparator + $before
        try {
            $run = Invoke-AxlLocalRun -Path $file -RunRoot $root -InformationVariable info -ErrorAction Stop
        } finally { $env:PSModulePath = $before }
        $run.Status | Should -Be 'Succeeded'
        $run | Get-AxlArtifact -Step greet | Should -Be 'tiny-hello 1.0.0'
        ($info | Out-String) | Should -Not -Match 'installed'
        Test-Path -LiteralPath (Join-Path $root '.axl-packages') | Should -BeFalse
    }

    It 'fails the step before it runs when the module is missing and no repository is configured' {
        $root = Join-Path $work 'runs-b'
        $run = Invoke-AxlLocalRun -Path $file -RunRoot $root -ErrorAction SilentlyContinue -ErrorVariable err
        $run.Status | Should -Be 'Failed'
        $message = $err[0].Exception.Message
        $message | Should -Match "step 'greet' needs module TinyMod@1\.0\.0, which is not installed"
        $message | Should -Match 'PSModulePath'
        $message | Should -Match ([regex]::Escape('.axl-packages'))
        $message | Should -Match 'AXL_PSRESOURCE_REPOSITORY'
        $message | Should -Match 'Build-AxlImage'
        Test-Path -LiteralPath (Join-Path $root '.axl-packages/psmodules/TinyMod/1.0.0') | Should -BeFalse
    }

    It 'names the folder when the repository folder lacks the version asked for' {
        $other = Join-Path $work 'other.axl.ps1'
        Set-Content -LiteralPath $other -Value "AxlWorkflow other { Step greet2 -Modules 'TinyMod@2.0.0' { Get-TinyGreeting } }"
        $env:AXL_PSRESOURCE_REPOSITORY = $nupkgs
        try {
            $run = Invoke-AxlLocalRun -Path $other -RunRoot (Join-Path $work 'runs-c') -ErrorAction SilentlyContinue -ErrorVariable err
        } finally { $env:AXL_PSRESOURCE_REPOSITORY = $null }
        $run.Status | Should -Be 'Failed'
        $err[0].Exception.Message | Should -Match "step 'greet2' needs module TinyMod@2\.0\.0, which is not installed and not in .*nupkgs \(no TinyMod\.2\.0\.0\.nupkg there\)"
    }

    It 'installs the same way under axl run local, and uses the cache the second time' {
        $root = Join-Path $work 'runs-cli'
        $env:AXL_PSRESOURCE_REPOSITORY = $nupkgs
        try {
            $first = Invoke-Axl @('run', 'local', $file, '--run-root', $root)
        } finally { $env:AXL_PSRESOURCE_REPOSITORY = $null }
        $first.ExitCode | Should -Be 0 -Because $first.Output
        $first.Output | Should -Match 'tiny-hello 1\.0\.0'
        Test-Path -LiteralPath (Join-Path $root '.axl-packages/psmodules/TinyMod/1.0.0/TinyMod/1.0.0/TinyMod.psd1') | Should -BeTrue
        $second = Invoke-Axl @('run', 'local', $file, '--run-root', $root)
        $second.ExitCode | Should -Be 0 -Because $second.Output
        $second.Output | Should -Match 'tiny-hello 1\.0\.0'
        $missing = Invoke-Axl @('run', 'local', $file, '--run-root', (Join-Path $work 'runs-cli-empty'))
        $missing.ExitCode | Should -Not -Be 0
        $missing.Output | Should -Match "needs module TinyMod@1\.0\.0"
    }

    It 'installs into AXL_PACKAGE_CACHE under axl step (what a pod runs)' {
        $cache = Join-Path $work 'pod-cache'
        $out = Join-Path $work 'pod/greet'
        $manifest = @{
            schemaVersion = 1; workflow = 'pkgs'; workflowFile = (Split-Path $file -Leaf); workDir = $work; step = 'greet'
            inputs = @(); output = @{ directory = $out; ioHandler = 'clixml' }
        } | ConvertTo-Json -Depth 5 -Compress
        $env:AXL_PSRESOURCE_REPOSITORY = $nupkgs
        $env:AXL_PACKAGE_CACHE = $cache
        try {
            $r = Invoke-Axl @('step', '--manifest-json', $manifest)
        } finally { $env:AXL_PSRESOURCE_REPOSITORY = $null; $env:AXL_PACKAGE_CACHE = $null }
        $r.ExitCode | Should -Be 0 -Because $r.Output
        Import-Clixml -LiteralPath (Join-Path $out 'output.clixml') | Should -Be 'tiny-hello 1.0.0'
        Test-Path -LiteralPath (Join-Path $cache 'psmodules/TinyMod/1.0.0/TinyMod/1.0.0/TinyMod.psd1') | Should -BeTrue
    }

    It 'installs the same way in a local job (Submit-AxlJob -Target Local)' {
        $root = Join-Path $work 'runs-job'
        $env:AXL_PSRESOURCE_REPOSITORY = $nupkgs
        try {
            $job = Get-AxlWorkflow -Path $file | Submit-AxlJob -Target Local -RunRoot $root
        } finally { $env:AXL_PSRESOURCE_REPOSITORY = $null }
        try {
            $null = $job | Wait-Job -Timeout 180
            $job.State | Should -Be 'Completed' -Because "$($job.JobStateInfo.Reason)"
            $result = $job | Receive-Job
            $result | Get-AxlArtifact -Step greet | Should -Be 'tiny-hello 1.0.0'
        } finally { $job | Remove-Job -Force }
        Test-Path -LiteralPath (Join-Path $root '.axl-packages/psmodules/TinyMod/1.0.0/TinyMod/1.0.0/TinyMod.psd1') | Should -BeTrue
    }

    It 'saves the module with Save-PSResource from a registered repository named by AXL_PSRESOURCE_REPOSITORY' {
        # A HOME of its own, so the repository registration is this test's only.
        $home2 = Join-Path $work 'home'
        New-Item -ItemType Directory -Path $home2 | Out-Null
        $names = 'HOME', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'AXL_PSRESOURCE_REPOSITORY'
        $kept = @{}
        foreach ($k in $names) { $kept[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $null) }
        $pwshPath = [Environment]::ProcessPath
        $pwshArgs = @(if ([System.IO.Path]::GetFileNameWithoutExtension($pwshPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        try {
            $env:HOME = $home2
            & $pwshPath @pwshArgs -NoProfile -NonInteractive -Command "Register-PSResourceRepository -Name AxlTiny -Uri '$nupkgs' -Trusted" | Out-Null
            $LASTEXITCODE | Should -Be 0
            $root = Join-Path $work 'runs-named'
            $env:AXL_PSRESOURCE_REPOSITORY = 'AxlTiny'
            $r = Invoke-Axl @('run', 'local', $file, '--run-root', $root)
            $env:AXL_PSRESOURCE_REPOSITORY = 'NoSuchRepository'
            $bad = Invoke-Axl @('run', 'local', $file, '--run-root', (Join-Path $work 'runs-named-bad'))
        } finally {
            foreach ($k in $names) { [Environment]::SetEnvironmentVariable($k, $kept[$k]) }
        }
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.Output | Should -Match "module TinyMod@1\.0\.0 installed from repository 'AxlTiny'"
        $r.Output | Should -Match 'tiny-hello 1\.0\.0'
        Test-Path -LiteralPath (Join-Path $root '.axl-packages/psmodules/TinyMod/1.0.0/TinyMod/1.0.0/TinyMod.psd1') | Should -BeTrue
        $bad.ExitCode | Should -Not -Be 0
        $bad.Output | Should -Match "Save-PSResource from repository 'NoSuchRepository' failed"
    }
}

Describe 'Python packages (-Packages) of python command steps' {
    BeforeAll {
        $python = @(Get-Command python3 -CommandType Application -ErrorAction SilentlyContinue)[0]
        $pip = if ($python) { & $python.Source -m pip --version 2>$null; $LASTEXITCODE -eq 0 } else { $false }
        $script:skipPython = -not $pip
        # A pure-Python wheel written by hand: tinypkg 1.0.0.
        $wheels = Join-Path $work 'wheels'
        New-Item -ItemType Directory -Path $wheels | Out-Null
        $whl = Join-Path $wheels 'tinypkg-1.0.0-py3-none-any.whl'
        Add-Type -AssemblyName System.IO.Compression
        $zip = [System.IO.Compression.ZipFile]::Open($whl, 'Create')
        try {
            $files = [ordered]@{
                'tinypkg/__init__.py' = "def hello():`n    return 'py-hello'`n"
                'tinypkg-1.0.0.dist-info/METADATA' = "Metadata-Version: 2.1`nName: tinypkg`nVersion: 1.0.0`n"
                'tinypkg-1.0.0.dist-info/WHEEL' = "Wheel-Version: 1.0`nGenerator: axl-test`nRoot-Is-Purelib: true`nTag: py3-none-any`n"
                'tinypkg-1.0.0.dist-info/top_level.txt' = "tinypkg`n"
            }
            $files['tinypkg-1.0.0.dist-info/RECORD'] = (($files.Keys | ForEach-Object { "$_,," }) + 'tinypkg-1.0.0.dist-info/RECORD,,') -join "`n"
            foreach ($k in $files.Keys) {
                $w = [System.IO.StreamWriter]::new($zip.CreateEntry($k).Open())
                $w.Write($files[$k]); $w.Dispose()
            }
        } finally { $zip.Dispose() }
        $pyFile = Join-Path $work 'py.axl.ps1'
        Set-Content -LiteralPath $pyFile -Value @'
AxlWorkflow py {
    Step hello -Command python3 -ArgumentList '-c', 'import tinypkg; print(tinypkg.hello())' -Packages 'tinypkg==1.0.0'
}
'@
    }

    It 'installs them with pip from a folder of wheels into the cache and puts them on PYTHONPATH' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with pip is not installed here'; return }
        $root = Join-Path $work 'runs-py'
        $env:AXL_PIP_FIND_LINKS = $wheels
        try {
            $run = Invoke-AxlLocalRun -Path $pyFile -RunRoot $root -InformationVariable info -ErrorAction Stop
        } finally { $env:AXL_PIP_FIND_LINKS = $null }
        $run.Status | Should -Be 'Succeeded'
        ($run | Get-AxlArtifact -Step hello | Out-String).Trim() | Should -Be 'py-hello'
        ($info | Out-String) | Should -Match 'Python packages tinypkg==1\.0\.0 installed from'
        $entries = @(Get-ChildItem -LiteralPath (Join-Path $root '.axl-packages/python') -Directory)
        $entries.Count | Should -Be 1
        Test-Path -LiteralPath (Join-Path $entries[0].FullName 'tinypkg/__init__.py') | Should -BeTrue

        $run2 = Invoke-AxlLocalRun -Path $pyFile -RunRoot $root -InformationVariable info2 -ErrorAction Stop
        $run2.Status | Should -Be 'Succeeded'
        ($run2 | Get-AxlArtifact -Step hello | Out-String).Trim() | Should -Be 'py-hello'
        ($info2 | Out-String) | Should -Not -Match 'installed'
    }

    It 'installs nothing when the interpreter has the packages already (as in a baked image)' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with pip is not installed here'; return }
        $version = (& $python.Source -c 'from importlib import metadata; print(metadata.version("pip"))').Trim()
        $have = Join-Path $work 'have.axl.ps1'
        Set-Content -LiteralPath $have -Value "AxlWorkflow have { Step v -Command python3 -ArgumentList '-c', 'import pip; print(pip.__version__)' -Packages 'pip==$version' }"
        $root = Join-Path $work 'runs-py-have'
        $run = Invoke-AxlLocalRun -Path $have -RunRoot $root -ErrorAction Stop
        $run.Status | Should -Be 'Succeeded'
        ($run | Get-AxlArtifact -Step v | Out-String).Trim() | Should -Be $version
        Test-Path -LiteralPath (Join-Path $root '.axl-packages') | Should -BeFalse
    }

    It 'fails before the step runs when they are missing and no folder is configured' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with pip is not installed here'; return }
        $run = Invoke-AxlLocalRun -Path $pyFile -RunRoot (Join-Path $work 'runs-py-empty') -ErrorAction SilentlyContinue -ErrorVariable err
        $run.Status | Should -Be 'Failed'
        $message = $err[0].Exception.Message
        $message | Should -Match "step 'hello' needs Python packages tinypkg==1\.0\.0, which are not in the package cache"
        $message | Should -Match 'AXL_PIP_FIND_LINKS'
    }

    It 'names pip''s complaint when the folder lacks the package' {
        if ($skipPython) { Set-ItResult -Skipped -Because 'python3 with pip is not installed here'; return }
        $empty = Join-Path $work 'no-wheels'
        New-Item -ItemType Directory -Path $empty | Out-Null
        $env:AXL_PIP_FIND_LINKS = $empty
        try {
            $run = Invoke-AxlLocalRun -Path $pyFile -RunRoot (Join-Path $work 'runs-py-nowheel') -ErrorAction SilentlyContinue -ErrorVariable err
        } finally { $env:AXL_PIP_FIND_LINKS = $null }
        $run.Status | Should -Be 'Failed'
        $err[0].Exception.Message | Should -Match "step 'hello' needs Python packages tinypkg==1\.0\.0, and .* -m pip install --no-index --find-links .*no-wheels.* failed"
    }
}
