@{
    RootModule           = 'Axl.Cmdlets.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '6f0d3c1e-7a55-4a8e-9a3b-2f1d6a7c9e41'
    Author               = 'Axl contributors'
    CompanyName          = 'Axl'
    Copyright            = '(c) Axl contributors. MIT License.'
    Description          = 'Define data and ML workflows once in PowerShell and run them anywhere: locally, on Argo Workflows, Kubeflow Pipelines, Dagster, or as job envelopes on a queue of workers.'
    PowerShellVersion    = '7.4'
    HelpInfoURI          = 'https://github.com/axl-workflows/axl/releases/latest/download/'
    FormatsToProcess     = @('Axl.Format.ps1xml')
    TypesToProcess       = @('Axl.Types.ps1xml')
    FunctionsToExport    = @()
    CmdletsToExport      = @(
        'New-AxlWorkflow'
        'Add-AxlStep'
        'Add-AxlParameter'
        'Add-AxlGraph'
        'New-AxlSecretReference'
        'Get-AxlWorkflow'
        'Test-AxlWorkflow'
        'ConvertTo-AxlIr'
        'Show-AxlWorkflow'
        'ConvertTo-ArgoWorkflow'
        'ConvertTo-KfpPipeline'
        'ConvertTo-DagsterJob'
        'Invoke-AxlLocalRun'
        'Export-AxlRunReport'
        'Invoke-AxlStep'
        'Get-AxlRun'
        'Remove-AxlRun'
        'Get-AxlArtifact'
        'Register-AxlIoHandler'
        'Get-AxlIoHandler'
        'Publish-AxlWorkflowCode'
        'Build-AxlImage'
        'New-AxlJobSpec'
        'ConvertTo-AxlJobSpecJson'
        'ConvertFrom-AxlJobSpecJson'
        'New-AxlJobOption'
        'Submit-AxlJob'
        'Get-AxlJob'
        'Wait-AxlJob'
        'Get-AxlArgoTemplate'
        'Remove-AxlArgoTemplate'
        'Start-AxlExperiment'
        'Get-AxlExperiment'
        'Stop-AxlExperiment'
        'ConvertTo-AxlJobEnvelope'
        'Test-AxlJobEnvelope'
        'Start-AxlWorker'
    )
    VariablesToExport    = @()
    AliasesToExport      = @('AxlWorkflow', 'Step', 'Parameter', 'Graph', 'AxlSecret')
    PrivateData          = @{
        PSData = @{
            Tags       = @('workflow', 'pipeline', 'argo', 'kubeflow', 'dagster', 'mlops', 'dag')
            ProjectUri = 'https://github.com/axl-workflows/axl'
            LicenseUri = 'https://github.com/axl-workflows/axl/blob/main/LICENSE'
        }
    }
}
