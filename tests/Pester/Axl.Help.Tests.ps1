#Requires -Version 7.4
# Help as a user reaches it: the manifest names the project, its licence and where updatable help lives; every cmdlet
# has a HelpUri to its page in docs/cmdlets, which `Get-Help -Online` opens; `Update-Help -SourcePath artifacts/help`
# installs the module's help into a copy of the module that has none.
# Child pwsh processes get their own HOME (Update-Help writes the current user's help there) and a PATH whose first
# `xdg-open` records the address it is asked to open instead of starting a browser.

BeforeAll {
    $repo = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $moduleDir = Join-Path $repo 'artifacts/module/Axl'
    $modulePath = Join-Path $moduleDir 'Axl.psd1'
    $helpDir = Join-Path $repo 'artifacts/help'
    foreach ($built in $modulePath, $helpDir) {
        if (-not (Test-Path -LiteralPath $built)) { throw "Axl is not built: expected $built. Run 'dotnet build' at the repository root first." }
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $manifest = Import-PowerShellDataFile -LiteralPath $modulePath
    $psData = $manifest.PrivateData.PSData
    $docsBase = $psData.ProjectUri + '/blob/main/docs/cmdlets/'

    $pwshPath = [Environment]::ProcessPath
    $pwshArgs = @(if ([System.IO.Path]::GetFileNameWithoutExtension($pwshPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })

    # A copy of the module in its own module folder, its help removed; a fake browser; a HOME of its own.
    $sandbox = Join-Path $TestDrive 'sandbox'
    $modules = Join-Path $sandbox 'modules'
    $home2 = Join-Path $sandbox 'home'
    $bin = Join-Path $sandbox 'bin'
    $opened = Join-Path $sandbox 'opened.txt'
    New-Item -ItemType Directory -Force -Path $modules, $home2, $bin | Out-Null
    Copy-Item -LiteralPath $moduleDir -Destination $modules -Recurse
    Remove-Item -Path (Join-Path $modules 'Axl/en-US/*') -Force
    Set-Content -LiteralPath (Join-Path $bin 'xdg-open') -Value "#!/bin/sh`necho `"`$1`" >> '$opened'`n"
    if (-not $IsWindows) { chmod +x (Join-Path $bin 'xdg-open') }

    # Runs script text in a fresh pwsh that finds only the sandboxed module.
    function Invoke-Sandboxed([string] $Script) {
        $saved = @{ HOME = $env:HOME; PSModulePath = $env:PSModulePath; PATH = $env:PATH; XDG_DATA_HOME = $env:XDG_DATA_HOME }
        try {
            $env:HOME = $home2
            $env:PSModulePath = $modules
            $env:PATH = $bin + [System.IO.Path]::PathSeparator + $env:PATH
            Remove-Item Env:XDG_DATA_HOME -ErrorAction SilentlyContinue
            $out = & $pwshPath @pwshArgs -NoProfile -NonInteractive -Command $Script 2>&1
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Out = @($out | ForEach-Object { "$_" }) }
        }
        finally {
            foreach ($k in $saved.Keys) {
                if ($null -eq $saved[$k]) { Remove-Item "Env:$k" -ErrorAction SilentlyContinue } else { Set-Item "Env:$k" $saved[$k] }
            }
        }
    }
}

Describe 'The manifest' {
    It 'names the project, its licence and the updatable help folder' {
        $psData.ProjectUri | Should -Match '^https://'
        $psData.LicenseUri | Should -BeExactly ($psData.ProjectUri + '/blob/main/LICENSE')
        Test-Path -LiteralPath (Join-Path $repo 'LICENSE') | Should -BeTrue
        Get-Content -LiteralPath (Join-Path $repo 'LICENSE') -TotalCount 1 | Should -BeExactly 'MIT License'
        $manifest.HelpInfoURI | Should -Match '^https://.*/$' -Because 'Update-Help appends the HelpInfo file name to it'
        (Get-Module Axl).HelpInfoUri | Should -BeExactly $manifest.HelpInfoURI
        (Get-Module Axl).ProjectUri.AbsoluteUri | Should -BeExactly $psData.ProjectUri
    }
}

Describe 'Online help' {
    It 'every cmdlet has a HelpUri to its own page in docs/cmdlets' {
        $commands = Get-Command -Module Axl -CommandType Cmdlet
        $commands.Count | Should -BeGreaterThan 30
        foreach ($c in $commands) {
            $c.HelpUri | Should -BeExactly ($docsBase + $c.Name + '.md') -Because "$($c.Name)'s [Cmdlet] attribute sets HelpUri"
            Test-Path -LiteralPath (Join-Path $repo "docs/cmdlets/$($c.Name).md") | Should -BeTrue -Because "$($c.Name)'s HelpUri names docs/cmdlets/$($c.Name).md"
        }
    }

    It 'the help lists the online page first among its related links' {
        $links = @((Get-Help Get-AxlRun -Full).relatedLinks.navigationLink)
        $links[0].uri | Should -BeExactly ($docsBase + 'Get-AxlRun.md')
    }

    It 'Get-Help -Online opens the page of the cmdlet' -Skip:$IsWindows {
        Remove-Item -LiteralPath $opened -ErrorAction SilentlyContinue
        $r = Invoke-Sandboxed 'Get-Help Get-AxlRun -Online; Get-Help Submit-AxlJob -Online'
        $r.ExitCode | Should -Be 0 -Because ($r.Out -join "`n")
        Get-Content -LiteralPath $opened | Should -Be @(($docsBase + 'Get-AxlRun.md'), ($docsBase + 'Submit-AxlJob.md'))
    }
}

Describe 'Updatable help' {
    It 'the build writes HelpInfo.xml and the help content zip named after the module GUID' {
        $info = Join-Path $helpDir "Axl_$($manifest.GUID)_HelpInfo.xml"
        $zip = Join-Path $helpDir "Axl_$($manifest.GUID)_en-US_HelpContent.zip"
        Test-Path -LiteralPath $info, $zip | Should -Be @($true, $true)
        [xml] $x = Get-Content -Raw -LiteralPath $info
        $x.HelpInfo.HelpContentURI | Should -BeExactly $manifest.HelpInfoURI
        $x.HelpInfo.SupportedUICultures.UICulture.UICultureName | Should -BeExactly 'en-US'
        [version] $x.HelpInfo.SupportedUICultures.UICulture.UICultureVersion | Should -Be ([version] ($manifest.ModuleVersion + '.0'))
    }

    It 'Update-Help -SourcePath artifacts/help installs the help into a module copy that had none' -Skip:$IsWindows {
        $before = Invoke-Sandboxed '(Get-Help Get-AxlRun).Synopsis'
        ($before.Out -join "`n") | Should -Not -Match 'Lists the local runs' -Because 'the copy has no help yet'

        Remove-Item -LiteralPath $opened -ErrorAction SilentlyContinue
        $r = Invoke-Sandboxed "Update-Help -Module Axl -SourcePath '$helpDir' -UICulture en-US -Force -ErrorAction Stop; (Get-Help Get-AxlRun).Synopsis; (Get-Help about_Axl | Out-String) -match 'AxlWorkflow'; Get-Help Wait-AxlJob -Online"
        $r.ExitCode | Should -Be 0 -Because ($r.Out -join "`n")
        $r.Out[0] | Should -Match '^Lists the local runs'
        $r.Out[1] | Should -Be 'True'
        Get-Content -LiteralPath $opened | Should -Be ($docsBase + 'Wait-AxlJob.md') -Because 'the installed help names the same page'
        Get-ChildItem -Recurse -Force -File -LiteralPath $home2 -Filter 'Axl.Cmdlets.dll-Help.xml' | Should -Not -BeNullOrEmpty
    }
}

Describe 'The Pester README' {
    It 'has a row for every test file in tests/Pester' {
        $readme = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot 'README.md')
        foreach ($file in Get-ChildItem -LiteralPath $PSScriptRoot -Filter '*.Tests.ps1') {
            $readme | Should -Match ('\| `' + [regex]::Escape($file.Name) + '` \|') -Because "tests/Pester/README.md's table says what $($file.Name) checks"
        }
    }
}
