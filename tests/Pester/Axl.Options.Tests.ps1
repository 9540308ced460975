#Requires -Version 7.4
# Pester 5 tests of the job options (issue 15, point 9: options, not parameter sprawl):
#  - AxlJobOption, with its Argo, Queue and Kfp sections, converts from a hashtable (a cast, -Option, a property, the
#    preference variable) and New-AxlJobOption returns one to edit, as New-PesterConfiguration does;
#  - an unknown section or option is an error that names it and lists the valid ones;
#  - the order of precedence: a bound flat parameter > -Option > $AxlJobOption > the environment > the defaults,
#    for Submit-AxlJob and for Start-AxlExperiment, whose endpoints no longer come only from the environment.
# No cluster or KFP server is needed: a KFP endpoint that is not a URL is refused with the endpoint in the message
# before anything is sent, which shows which layer gave it; Argo submits run under -WhatIf, with -Verbose naming each
# option set and where it came from. (MaxPollFailures reaching the polling is tested against a fake Kubernetes API in
# tests/Axl.Cmdlets.Tests/ArgoJobCmdletTests.cs.)
# Run from the repository root after `dotnet build` and `dotnet restore tests/Pester/restore`:
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1 -Path tests/Pester/Axl.Options.Tests.ps1

BeforeAll {
    $modulePath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/module/Axl/Axl.psd1'))
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $script:diamond = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../examples/diamond/diamond.axl.ps1'))
    $script:wf = Get-AxlWorkflow $diamond

    # Runs a command; returns its output, the errors it wrote and its verbose lines as text.
    function Invoke-Collect([scriptblock] $Command) {
        $ErrorActionPreference = 'Continue'
        $all = @(& $Command 2>&1 4>&1)
        [pscustomobject]@{
            Output  = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] -and $_ -isnot [System.Management.Automation.VerboseRecord] })
            Errors  = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            Verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        }
    }

    # The KFP endpoint a submit used: Kfp refuses an endpoint that is not a URL, naming it, before sending anything.
    function Get-KfpEndpointUsed([scriptblock] $Submit) {
        $r = Invoke-Collect $Submit
        $r.Errors.Count | Should -Be 1 -Because "the submit should fail on its endpoint: $($r.Errors)"
        if ("$($r.Errors[0])" -match "The KFP endpoint '([^']*)' is not an http\(s\) URL") { return $Matches[1] }
        throw "unexpected error: $($r.Errors[0])"
    }
}

Describe 'AxlJobOption: sections from hashtables, as Pester''s configuration' {
    It 'casts from a hashtable of sections, by its full and its short name' {
        $o = [Axl.Jobs.AxlJobOption]@{ Argo = @{ Namespace = 'team-a'; MaxPollFailures = '5'; PollInterval = 3 }; kfp = @{ endpoint = 'http://kfp:8888' } }
        $o.Argo.Namespace | Should -Be 'team-a'
        $o.Argo.MaxPollFailures | Should -Be 5
        $o.Argo.PollInterval | Should -Be ([TimeSpan]::FromSeconds(3))
        $o.Kfp.Endpoint | Should -Be 'http://kfp:8888'
        $o.Queue.Endpoint | Should -BeNullOrEmpty
        "$o" | Should -Be 'Argo: Namespace=team-a, PollInterval=00:00:03, MaxPollFailures=5; Kfp: Endpoint=http://kfp:8888'
        ([AxlJobOption]@{ Queue = @{ Stream = 's' } }).Queue.Stream | Should -Be 's'
    }

    It 'New-AxlJobOption returns empty sections to edit, and a section takes a hashtable' {
        $o = New-AxlJobOption
        $o | Should -BeOfType ([Axl.Jobs.AxlJobOption])
        "$o" | Should -Be '(defaults)'
        $o.Argo.Namespace = 'ml'
        $o.Queue = @{ Endpoint = 'localhost:6379' }
        "$o" | Should -Be 'Argo: Namespace=ml; Queue: Endpoint=localhost:6379'
        $n = New-AxlJobOption $o -Kfp @{ Token = 's3cret' }
        "$n" | Should -Be 'Argo: Namespace=ml; Queue: Endpoint=localhost:6379; Kfp: Token=***'
        $n.Kfp.Token | Should -Be 's3cret'
        $n.Argo | Should -Not -Be $o.Argo   # a copy: editing it leaves $o alone
    }

    It 'shows one line per section (the list view of Axl.Format.ps1xml)' {
        $shown = New-AxlJobOption -Argo @{ Namespace = 'ml'; MaxPollFailures = 10 } | Out-String -Width 120
        $lines = @($shown -split "\r?\n" | Where-Object { $_.Trim() })
        $lines | Should -Be @('Argo  : Namespace=ml, MaxPollFailures=10', 'Queue : (defaults)', 'Kfp   : (defaults)')
    }

    It 'names an unknown option or section and lists the valid ones' {
        { [AxlJobOption]@{ Argo = @{ Namspace = 'x' } } } | Should -Throw "*Argo has no option 'Namspace'. Valid options of Argo: KubeConfig, KubeContext, Namespace, Image, ServiceAccount, CodeArchive, MaxBytes, MaxTemplates, MaxDagTasks, MaxInputParameters, Split, Parallelism, Shutdown, PollInterval, MaxPollFailures.*"
        { [AxlJobOption]@{ Kubernetes = @{} } } | Should -Throw "*AxlJobOption has no section 'Kubernetes'. Valid sections: Argo, Queue, Kfp*"
        { [AxlJobOption]@{ Argo = @{ Split = 'Sometimes' } } } | Should -Throw "*Argo.Split must be one of Auto, None; got 'Sometimes'.*"
        { (New-AxlJobOption).Argo.PollInterval = 5 } | Should -Throw '*at least 1 ms; got 5 tick(s)*'
        $bind = { $wf | Submit-AxlJob -Target Kfp -Option @{ Queue = @{ Redis = 'localhost:6379' } } -WhatIf } | Should -Throw -PassThru
        $bind.Exception.Message | Should -BeLike "Cannot bind parameter 'Option'.*Queue has no option 'Redis'. Valid options of Queue: Endpoint, Protocol, SessionKey, AgqVerb, Stream, Group, KeyPrefix, PollInterval.*"
        { New-AxlJobOption -Kfp @{ Url = 'x' } } | Should -Throw "*Kfp has no option 'Url'. Valid options of Kfp: Endpoint, Token, PollInterval.*"
    }

    It 'a $AxlJobOption that is not job options stops the cmdlet with Axl.InvalidJobOption' {
        $AxlJobOption = @{ Argo = @{ MaxTemplates = 1 } }
        $e = { $wf | Submit-AxlJob -Target Kfp -WhatIf } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'Axl.InvalidJobOption,*'
        $e.Exception.Message | Should -BeLike '$AxlJobOption: Argo.MaxTemplates must be at least 3; got 1.*'
    }
}

Describe 'Order of precedence: flat parameter > -Option > $AxlJobOption > environment > default' {
    BeforeAll { $script:savedEndpoint = $env:AXL_KFP_ENDPOINT }
    AfterAll { $env:AXL_KFP_ENDPOINT = $savedEndpoint }
    BeforeEach { $env:AXL_KFP_ENDPOINT = 'from-env' }

    It 'Submit-AxlJob takes the KFP endpoint from the strongest layer that sets it' {
        Get-KfpEndpointUsed { $wf | Submit-AxlJob -Target Kfp } | Should -Be 'from-env'
        $AxlJobOption = [AxlJobOption]@{ Kfp = @{ Endpoint = 'from-preference' } }
        Get-KfpEndpointUsed { $wf | Submit-AxlJob -Target Kfp } | Should -Be 'from-preference'
        Get-KfpEndpointUsed { $wf | Submit-AxlJob -Target Kfp -Option @{ Kfp = @{ Endpoint = 'from-option' } } } | Should -Be 'from-option'
        Get-KfpEndpointUsed { $wf | Submit-AxlJob -Target Kfp -Option @{ Kfp = @{ Endpoint = 'from-option' } } -Endpoint from-parameter } | Should -Be 'from-parameter'
        Get-KfpEndpointUsed { $wf | Submit-AxlJob -Target Kfp -Endpoint from-parameter } | Should -Be 'from-parameter'
    }

    It 'a hashtable in $AxlJobOption is read as options too' {
        $AxlJobOption = @{ Kfp = @{ Endpoint = 'from-preference-hashtable' } }
        Get-KfpEndpointUsed { $wf | Submit-AxlJob -Target Kfp } | Should -Be 'from-preference-hashtable'
    }

    It 'merges option by option and -Verbose says where each came from' {
        $AxlJobOption = New-AxlJobOption -Argo @{ KubeContext = 'prod'; Namespace = 'pref-ns'; MaxPollFailures = 10 }
        $r = Invoke-Collect { $wf | Submit-AxlJob -Target Argo -Option @{ Argo = @{ Namespace = 'option-ns'; Image = 'registry.local/runner:1' } } -Image registry.local/runner:2 -WhatIf -Verbose }
        $r.Errors | Should -BeNullOrEmpty
        $r.Verbose | Should -Contain 'Job options: Argo.KubeContext=prod ($AxlJobOption), Argo.Namespace=option-ns (-Option), Argo.Image=registry.local/runner:2 (parameter), Argo.MaxPollFailures=10 ($AxlJobOption)'
    }

    It 'the Argo compile options of -Option apply, and a flat parameter overrides them' {
        $refused = Invoke-Collect { $wf | Submit-AxlJob -Target Argo -Option @{ Argo = @{ Split = 'None'; MaxTemplates = 3 } } -WhatIf }
        $refused.Errors.Count | Should -Be 1
        "$($refused.Errors[0])" | Should -BeLike '*Axl.ArgoTooManyItems*over the limit of 3*'
        $split = Invoke-Collect { $wf | Submit-AxlJob -Target Argo -Option @{ Argo = @{ Split = 'None'; MaxTemplates = 3 } } -Split Auto -WhatIf -Verbose }
        $split.Errors | Should -BeNullOrEmpty
        $split.Verbose | Should -Contain 'Job options: Argo.MaxTemplates=3 (-Option), Argo.Split=Auto (parameter)'
    }

    It 'Start-AxlExperiment takes its endpoints from -Option, then $AxlJobOption, then the environment' {
        $root = Join-Path $TestDrive 'runs'
        $spec = $wf | New-AxlJobSpec -Name kfp-job -Target Kfp
        $errorOf = { param($name) (Get-AxlExperiment $name -RunRoot $root).Jobs[0].Error }

        $null = $spec | Start-AxlExperiment env-exp -RunRoot $root -Wait
        & $errorOf env-exp | Should -BeLike "The KFP endpoint 'from-env' is not*"

        $AxlJobOption = @{ Kfp = @{ Endpoint = 'exp-preference' } }
        $null = $spec | Start-AxlExperiment pref-exp -RunRoot $root -Wait
        & $errorOf pref-exp | Should -BeLike "The KFP endpoint 'exp-preference' is not*"

        $null = $spec | Start-AxlExperiment option-exp -RunRoot $root -Option @{ Kfp = @{ Endpoint = 'exp-option' } } -Wait
        & $errorOf option-exp | Should -BeLike "The KFP endpoint 'exp-option' is not*"
    }
}
