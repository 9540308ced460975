#Requires -Version 7.4
# Every example a user reads is run, so an example that fails is a failing test:
#   - the examples of every cmdlet's help, as Get-Help <cmdlet> -Full gives them from the built module
#     (artifacts/module/Axl: the MAML that tools/Axl.HelpGen makes from docs/cmdlets/*.md);
#   - the ```powershell blocks of README.md, docs/*.md and examples/*/README.md, and the PowerShell blocks of
#     about_Axl (its lines indented by 8 spaces whose first word is a PowerShell command or a $variable).
# Run from the repository root after `dotnet build`:  Invoke-Pester tests/Pester/Axl.HelpExamples.Tests.ps1
#
# How an example runs. Each help example runs in a runspace of its own (a fresh session: nothing of another
# example is left in it) whose location is a scratch folder made for it under $TestDrive, laid out like the
# repository root with the files the examples name (see New-ScratchFolder): examples/ (a copy), .gitignore, and
# a few files of a user's project (flow.axl.ps1, train.axl.ps1, params.yaml, jobs/nightly.json ...). The blocks
# of one document run in order in one session and one folder, as a reader follows them. The module is imported
# from the build (`Import-Module ./artifacts/module/Axl/Axl.psd1` in a document means it too), and the
# repository root is put first on PATH so that `axl` is the repository's axl command. Assertions: no terminating
# error, no error record (unless the example is about an error: then the error it shows), the output renders
# (Out-String), and the outcome the example states (the Check entries of $Examples below).
#
# What the examples name that this machine has as a test service (.ci/services.sh; addresses from the
# AXL_TEST_* environment variables or .ci/.services/services.env), and what the test does about it:
#   - S3 (a MinIO port-forward at http://127.0.0.1:9000 in the docs): the s3rver test service, in a bucket made
#     for this run (the docs' bucket names are replaced by it); the environment's AWS keys and the answer to
#     Get-Credential are s3rver's keys (a user types theirs at the prompt; the test answers it).
#   - Redis (localhost:6379 or 127.0.0.1:6390 in the docs): the redis test service, in an empty database of its
#     own (the streams of other tests are not touched).
# When a service is not running, the examples that need it are skipped with that reason.

BeforeDiscovery {
    $repoRoot = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $modulePath = Join-Path $repoRoot 'artifacts/module/Axl/Axl.psd1'
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    Import-Module $modulePath -Force -ErrorAction Stop

    # Shared setups.
    $sweep = '$wf = Get-AxlWorkflow ./train.axl.ps1; 0.001, 0.01, 0.1 | ForEach-Object { $wf | New-AxlJobSpec -Name "lr-$_" -Overrides @{ LearningRate = $_ } } | Start-AxlExperiment lr-sweep -ThrottleLimit 2'
    $lrJobs = '$wf = Get-AxlWorkflow ./train.axl.ps1; 0.001, 0.01, 0.1 | ForEach-Object { $wf | Submit-AxlJob -Name "lr-$_" -Overrides @{ LearningRate = $_ } } | Out-Null'
    # A failed pod's step to replay: the code archive of examples/iris-knn, and the manifest of its train step as the
    # compiled workflow gives it, with the input and output paths of the pod mapped into this folder.
    $replaySetup = @'
$code = Publish-AxlWorkflowCode ./examples/iris-knn -Bucket $TestBucket -Endpoint $TestS3 -ForcePathStyle -OutFile ./code.tar.gz
$run = Invoke-AxlLocalRun ./examples/iris-knn/iris-knn.axl.ps1
$argo = Get-AxlWorkflow ./examples/iris-knn/iris-knn.axl.ps1 | ConvertTo-ArgoWorkflow -CodeArchive $code
$manifest = (($argo.ToJson() | ConvertFrom-Json).spec.templates | Where-Object name -EQ 'train').container.args[-1] | ConvertFrom-Json
foreach ($in in $manifest.inputs | Where-Object source -EQ 'step') { $in.path = Join-Path $run.Directory $in.from }
$manifest.output.directory = Join-Path $PWD 'work/outputs/train'
foreach ($in in $manifest.inputs | Where-Object source -EQ 'parameter') { Set-Item "env:$($in.env)" (Get-AxlWorkflow ./examples/iris-knn/iris-knn.axl.ps1).Parameters.Where({ $_.Name -eq $in.from }).Default }
$manifest | ConvertTo-Json -Depth 10 | Set-Content ./train.manifest.json
'@
    # Ten jobs on the queue the example's worker reads: two of them fail (grep finds nothing in an empty log).
    $queueSetup = @'
$empty = New-Item ./empty.log -ItemType File
$wf = Get-AxlWorkflow ./examples/log-errors/log-errors.axl.ps1
foreach ($i in 1..10) {
    $log = if ($i -in 4, 7) { $empty.FullName } else { (Resolve-Path ./examples/log-errors/sample.log).Path }
    $id = if ($i -in 4, 7) { 'failing-' + ($i -eq 4 ? 1 : 2) } else { "nightly-$i" }
    $wf | ConvertTo-AxlJobEnvelope -JobId $id -Parameters @{ LogFile = $log } | Submit-AxlJob -QueueEndpoint $TestQueue | Out-Null
}
'@

    # What runs differently from the text, per example ("<cmdlet>/<n>" for the n-th help example, "<document>#<n>"
    # for the n-th PowerShell block of a document):
    #   Skip     the example is not run, for this reason (keep this list short: only what this machine cannot give).
    #   Bug      the example fails because of this product bug (reported, not fixed here): skipped, naming it.
    #   Drop     lines (a regex) not run, with DropReason (and DropWhat, what the test's name calls them): an
    #            external program or system the rest of the example hands its result to.
    #   Replace  ordered text replacements in the example, each with a comment saying why.
    #   Setup    PowerShell run in the example's session first: the state the example assumes ($job, a run ...).
    #   Error    the example is about an error: the error records must match this regex (and there must be some).
    #   Check    the outcome the example states, given $r (Output: the objects, Text: their rendering,
    #            Directory: the scratch folder, Session).
    #   Needs    the test services it needs (S3, Redis).
    #   Timeout  seconds (default 180).
    $Examples = @{
        # ---- The skip table: what this machine cannot give ----------------------------------------------------
        'Build-AxlImage/1'             = @{ Skip = 'pulls the runner base image from ghcr.io and pushes to ghcr.io: no internet registry here (ImageCmdletTests builds and pushes through Podman and the local registry with a base image made locally)' }
        'Build-AxlImage/2'             = @{ Skip = 'pulls mcr.microsoft.com/dotnet/runtime:10.0: no internet registry here (ImageCmdletTests covers -IncludeRunner/-RunnerPath on a local base)' }
        'docs/images.md#1'             = @{ Skip = 'pulls the runner base image from ghcr.io and pushes to ghcr.io: no internet registry here (ImageCmdletTests covers build and push)' }
        'docs/images.md#3'             = @{ Skip = 'Build-AxlImage pulls the runner base image from ghcr.io: no internet registry here (ContainerRunTests builds the image on a base made locally and runs Invoke-AxlLocalRun -Container and axl run local --in-containers against Podman)' }
        'Invoke-AxlLocalRun/6'         = @{ Skip = 'Build-AxlImage pulls the runner base image from ghcr.io: no internet registry here (ContainerRunTests builds the image on a base made locally and runs Invoke-AxlLocalRun -Container against Podman)' }
        'about_Axl#WORKFLOW IMAGES/1' = @{ Skip = 'pulls the runner base image from ghcr.io and pushes to ghcr.io: no internet registry here (ImageCmdletTests covers build and push)' }
        'ConvertTo-KfpPipeline/3'      = @{ Skip = 'needs a Kubeflow Pipelines server (none is installable here; the Kfp target is tested against a fake KFP REST API in the xunit tests)' }
        'docs/kfp-dagster.md#1'        = @{ Skip = 'needs a Kubeflow Pipelines server (none is installable here; the Kfp target is tested against a fake KFP REST API in the xunit tests)' }
        'Submit-AxlJob/4'              = @{ Skip = 'needs a Kubernetes cluster with Argo (none is installable here; the Argo target is tested against a fake Kubernetes API in the xunit tests)' }
        'Submit-AxlJob/5'              = @{ Skip = 'needs a Kubernetes cluster with Argo (none is installable here; split submission is tested against a fake Kubernetes API in the xunit tests: ArgoJobTargetTests, ArgoTemplateCmdletTests)' }
        'Submit-AxlJob/7'              = @{ Skip = 'needs a Kubernetes cluster and an AGQ server (none is installable here; both are tested against fakes in the xunit tests)' }
        'Get-AxlArgoTemplate/1'        = @{ Skip = 'needs a Kubernetes cluster with Argo (none is installable here; tested against a fake Kubernetes API in ArgoTemplateCmdletTests)' }
        'Get-AxlArgoTemplate/2'        = @{ Skip = 'needs a Kubernetes cluster with Argo (none is installable here; tested against a fake Kubernetes API in ArgoTemplateCmdletTests)' }
        'Remove-AxlArgoTemplate/1'     = @{ Skip = 'needs a Kubernetes cluster with Argo (none is installable here; tested against a fake Kubernetes API in ArgoTemplateCmdletTests)' }
        'Remove-AxlArgoTemplate/2'     = @{ Skip = 'needs a Kubernetes cluster with Argo (none is installable here; tested against a fake Kubernetes API in ArgoTemplateCmdletTests)' }
        'docs/argo.md#2'               = @{ Skip = 'needs a Kubernetes cluster with Argo (none is installable here; tested against a fake Kubernetes API in ArgoTemplateCmdletTests)' }
        'Publish-AxlWorkflowCode/3'    = @{ Skip = 'uploads to AWS S3 itself (region eu-west-1, no endpoint): no AWS here; the same upload against the S3 test service is example 1' }
        'Start-AxlWorker/1'            = @{ Skip = 'runs until Ctrl+C (a service loop); example 2 runs the same worker with -MaxJobs against the Redis test service' }

        # ---- Lines handed to an external program or system ---------------------------------------------------
        'ConvertTo-ArgoWorkflow/1'     = @{ Drop = '^argo submit'; DropReason = 'the argo CLI and an Argo server are not here'
            Check = { Get-Content (Join-Path $r.Directory 'iris-knn.argo.yaml') -Raw | Should -Match 'generateName: iris-knn-' } }
        'docs/argo.md#1'               = @{ Drop = '^argo submit'; DropReason = 'the argo CLI and an Argo server are not here'
            Check = { Get-Content (Join-Path $r.Directory 'iris-knn.argo.yaml') -Raw | Should -Match 'kind: Workflow' } }
        'ConvertTo-DagsterJob/1'       = @{ Drop = '^dagster dev'; DropReason = 'Dagster is not installed (no PyPI here)'
            Check = { Get-Content (Join-Path $r.Directory 'dagster_job.py') -Raw | Should -Match 'iris_knn_job' } }
        'ConvertTo-DagsterJob/2'       = @{ Drop = '^python3 \./dagster_job\.py'; DropReason = 'the dagster Python package is not installed (no PyPI here)'
            Check = { Test-Path (Join-Path $r.Directory 'dagster_job.py') | Should -BeTrue } }
        'examples/word-stats/README.md#1' = @{ Drop = 'Build-AxlImage|-Image \$img|\$img\.Labels'; DropWhat = 'the 3 lines of step 3 (Build-AxlImage)'; DropReason = 'Build-AxlImage pulls the runner base image from ghcr.io and pushes to ghcr.io: no internet registry here'
            Needs = 'S3'
            Check = { Get-Content (Join-Path $r.Directory 'word-stats.dev.yaml') -Raw | Should -Match 'workflow-archive' } }
        'README.md#2'                  = @{ Drop = 'build\.ps1 -Install'; DropReason = 'installs the module into the user module path of this machine' }
        'examples/external-repo/README.md#1' = @{ Check = { $r.Output[0] | Should -Be 'cedar'; $r.Output[1] | Should -Be 3 } }
        'examples/external-repo/README.md#2' = @{ Needs = 'S3'
            Check = { $yaml = Get-Content (Join-Path $r.Directory 'station-report.dev.yaml') -Raw; $yaml | Should -Match '--workflow-archive'; $yaml | Should -Match 'workflowFile.{0,8}station-report\.axl\.ps1' } }
        'examples/external-repo/README.md#3' = @{ Skip = 'Build-AxlImage pulls the runner base image from ghcr.io and pushes to ghcr.io: no internet registry here (ExternalRepoTests builds this folder on a local python base and pushes it to the local registry)' }

        # ---- Help examples ------------------------------------------------------------------------------------
        'Add-AxlGraph/1'               = @{ Check = { @($r.Output[0].Edges | ForEach-Object { "$($_.From)->$($_.To)" } | Sort-Object -Unique) -join ',' | Should -Be 'fit->score,read->fit,read->score' } }
        'Add-AxlGraph/2'               = @{ Check = { $r.Output[0].GetStep('bucket').Inputs.Where({ $_.Name -eq 'threshold' }).Constant | Should -Be 1048576 } }
        'Add-AxlParameter/2'           = @{ Check = { $r.Output[-1].Name | Should -Be 'Environment' } }
        'Add-AxlStep/2'                = @{ Check = { @($r.Output[0].Edges | ForEach-Object { "$($_.From)->$($_.To)" } | Sort-Object -Unique) -join ',' | Should -Be 'errors->count,fetch->errors' } }
        'Get-AxlIoHandler/1'           = @{ Check = { @($r.Output.Name | Sort-Object) -join ',' | Should -Be 'arrow,bytes,clixml,csv,json,parquet,text' } }
        'New-AxlWorkflow/3'            = @{ Check = { @($r.Output[0].Steps.Name) -join ',' | Should -Be 'load_data,train_knn,train_tree,train_forest' } }
        'Build-AxlImage/3'             = @{ Check = {
                $r.Output[0] | Should -Match '(?m)^FROM '
                $r.Output[1] | Should -Match '^sha256:[0-9a-f]{64}$'
                Test-Path (Join-Path $r.Directory 'out/context.tar') | Should -BeTrue } }
        'ConvertFrom-AxlJobSpecJson/1' = @{ Check = { $r.Output[0].Name | Should -Be 'nightly' } }
        'ConvertFrom-AxlJobSpecJson/2' = @{ Error = "unknown field 'paramters'"; Check = { $r.Output | Should -BeNullOrEmpty } }
        'ConvertTo-ArgoWorkflow/2'     = @{ Check = { $r.Output[1] | Should -Contain 'ghcr.io/acme/iris:1.0'; $r.Output[2] | Should -Match 'kind: Workflow' } }
        'ConvertTo-ArgoWorkflow/3'     = @{ Check = { Get-Content (Join-Path $r.Directory 'reports.template.yaml') -Raw | Should -Match '(?s)kind: WorkflowTemplate.*bucket: artifacts' } }
        'ConvertTo-ArgoWorkflow/4'     = @{ Needs = 'S3'; Check = { $r.Text | Should -Match 'workflowFile.{0,8}examples/word-stats/word-stats\.axl\.ps1' } }
        'ConvertTo-AxlIr/1'            = @{ Check = { @(Get-ChildItem (Join-Path $r.Directory 'build/ir') -Filter *.json).Count | Should -BeGreaterOrEqual 4 } }
        'ConvertTo-AxlIr/3'            = @{ Check = { $r.Output[-1] | Should -Match '^blake3:[0-9a-f]{64}$'; ($r.Output | Where-Object name -EQ 'split').from | Should -Match '^load_data\b' } }
        'ConvertTo-AxlJobEnvelope/1'   = @{ Check = { (($r.Output[0] | ConvertFrom-Json).tasks.input_from_task | Where-Object { $_ }) -join ',' | Should -Be '1,2,3,4' } }
        'ConvertTo-AxlJobSpecJson/1'   = @{ Check = { (Get-Content (Join-Path $r.Directory 'jobs/nightly.json') -Raw | ConvertFrom-Json).name | Should -Be 'nightly' } }
        'ConvertTo-AxlJobSpecJson/2'   = @{ Check = { @($r.Output).Count | Should -Be 3 } }
        'ConvertTo-KfpPipeline/1'      = @{ Check = { Get-Content (Join-Path $r.Directory 'iris-knn.kfp.yaml') -Raw | Should -Match 'ghcr.io/acme/iris:1.0' } }
        'ConvertTo-KfpPipeline/2'      = @{ Check = { Test-Path (Join-Path $r.Directory 'iris-knn.tar.gz') | Should -BeTrue } }
        'Get-AxlArtifact/1'            = @{ Check = { $r.Output[-1] | Should -BeGreaterThan 0.9 } }
        'Get-AxlArtifact/2'            = @{ Setup = 'Invoke-AxlLocalRun ./examples/log-errors/log-errors.axl.ps1 | Out-Null'
            Check = { $r.Output[0] | Should -Match '5 ERROR \[auth\] invalid token signature' } }
        'Get-AxlArtifact/3'            = @{ Setup = 'Invoke-AxlLocalRun ./examples/diamond/diamond.axl.ps1 | Out-Null'; Check = { $r.Output.Step -join ',' | Should -Be 'start,left,right,join'; $r.Output.Value -join ',' | Should -Be '10,11,20,31' } }
        'Get-AxlArtifact/4'            = @{ Check = { $r.Output.Step -join ',' | Should -Be 'start,left,right,join'; $r.Output.Value -join ',' | Should -Be '10,11,20,31' } }
        'Get-AxlExperiment/1'          = @{ Setup = $sweep + ' -Wait | Out-Null'; Check = { $r.Output[0].Name | Should -Be 'lr-sweep'; @($r.Output).Count | Should -Be 4 } }
        'Get-AxlExperiment/2'          = @{ Setup = $sweep + ' -Wait | Out-Null'; Check = { $r.Output[0].Outputs['evaluate'] | Should -Be 0.99 } }
        'Get-AxlJob/1'                 = @{ Setup = $lrJobs }
        'Get-AxlJob/2'                 = @{ Setup = $lrJobs; Check = { @($r.Output).Count | Should -BeGreaterOrEqual 3 } }
        'Show-AxlWorkflow/1'           = @{ Check = { $r.Output | Should -Match '(?m)^flowchart TD$'; $r.Output | Should -Match '<b>train</b><br/>script · clixml<br/>retries 2'; $r.Output | Should -Match '-->\|"split"\|' } }
        'Show-AxlWorkflow/2'           = @{ Check = { Get-Content (Join-Path $r.Directory 'PIPELINE.md') -Raw | Should -Match '(?s)^# The iris-knn pipeline\s+```mermaid\s+%% Axl workflow .iris-knn.*flowchart TD.*\n```' } }
        'Show-AxlWorkflow/3'           = @{ Check = {
                @($r.Output.Name) -join ',' | Should -Be 'diamond.svg,diamond.dot'
                ([xml](Get-Content (Join-Path $r.Directory 'diamond.svg') -Raw)).svg.g.Count | Should -BeGreaterThan 8
                Get-Content (Join-Path $r.Directory 'diamond.dot') -Raw | Should -Match '^// Axl workflow .diamond.: 4 steps\s+digraph "diamond"' } }
        'Export-AxlRunReport/1'        = @{ Check = {
                $r.Output[-1].Name | Should -Be 'report.html'
                $html = Get-Content $r.Output[-1].FullName -Raw
                foreach ($s in 'load_data', 'split', 'train', 'evaluate', 'report') { $html | Should -Match "<tr class=""step status-succeeded"" data-step=""$s""" } } }
        'Export-AxlRunReport/2'        = @{ Setup = 'Invoke-AxlLocalRun ./examples/iris-knn/iris-knn.axl.ps1 | Out-Null'
            Check = { $r.Output[-1].FullName | Should -Be (Join-Path $r.Directory 'iris-report.html'); Get-Content (Join-Path $r.Directory 'iris-report.html') -Raw | Should -Match '<th>sepal_length</th>' } }
        'Export-AxlRunReport/3'        = @{ Check = {
                $r.Output[0] | Should -Be 'Failed'
                $html = Get-Content (Join-Path $r.Directory 'failed.html') -Raw
                $html | Should -Match '(?s)<article class="failure status-failed" data-step="train">.*the model diverged after 3 rows'
                $html | Should -Match 'data-step="train" data-status="failed" data-attempts="2"'
                $html | Should -Match '<tr class="step status-skipped" data-step="publish"' } }
        'docs/visual.md#1'             = @{ Check = { $r.Output | Should -Match '(?m)^  s0 -->\|"start"\| s1$' } }
        'docs/visual.md#2'             = @{ Check = { $r.Output[-1].Name | Should -Be 'report.html'; Test-Path $r.Output[-1].FullName | Should -BeTrue } }
        'Get-AxlRun/1'                 = @{ Setup = 'Invoke-AxlLocalRun ./examples/iris-knn/iris-knn.axl.ps1 | Out-Null'; Check = { $r.Output[0].Status | Should -Be 'Succeeded' } }
        'Get-AxlRun/2'                 = @{ Setup = 'Invoke-AxlLocalRun ./train.axl.ps1 -RunRoot ./runs -Parameters @{ LearningRate = -1 } -ErrorAction SilentlyContinue | Out-Null'
            Check = { $r.Output | Should -Match '^train \S+ fit: .*LearningRate must be positive' } }
        # Three runs within about a second: newest first even inside one second of run ids.
        'Get-AxlRun/3'                 = @{ Setup = '1..3 | ForEach-Object { Invoke-AxlLocalRun ./examples/diamond/diamond.axl.ps1 -Parameters @{ Base = $_ } } | Out-Null'
            Check = { $r.Output -join ',' | Should -Be '10,7,4' } }
        'Remove-AxlRun/1'              = @{ Check = { $r.Output[-1] | Should -Be 2 } }
        'Remove-AxlRun/3'              = @{ Setup = 'Invoke-AxlLocalRun ./train.axl.ps1 -RunRoot ./runs -Parameters @{ LearningRate = -1 } -ErrorAction SilentlyContinue | Out-Null; Invoke-AxlLocalRun ./train.axl.ps1 -RunRoot ./runs | Out-Null'
            Check = { @($r.Output | Where-Object { $_ -is [Axl.Runtime.RunRemoval] }).Count | Should -Be 1; $r.Output[-1] | Should -Be 'Succeeded' } }
        'Get-AxlIoHandler/2'           = @{ Check = { $r.Output | Should -Be '.parquet' } }
        'Get-AxlWorkflow/1'            = @{ Check = { $r.Output | Should -BeNullOrEmpty } }
        'Get-AxlWorkflow/2'            = @{ Check = { $r.Text | Should -Match 'load_data'; $r.Text | Should -Match 'evaluate' } }
        'Get-AxlWorkflow/3'            = @{ Check = { @(Get-ChildItem (Join-Path $r.Directory 'ir') -Filter 'train-*.yaml').Count | Should -Be 2 } }
        'Get-AxlWorkflow/4'            = @{ Check = { @($r.Output).Count | Should -Be 2 } }
        'Invoke-AxlLocalRun/1'         = @{ Check = { $r.Output[-1] | Should -Be 16 } }
        'Invoke-AxlLocalRun/2'         = @{ Check = { $r.Output | Should -Be 'iris-knn: k=5, train=120, test=30, accuracy=1.0000' } }
        'Invoke-AxlLocalRun/3'         = @{
            # The example stops where the reader fixes the step: the test makes train.axl.ps1 fail first, then fixes it there.
            Setup = '$fixed = Get-Content ./train.axl.ps1 -Raw; $fixed -replace "\[Math\]::Round", "throw ''the evaluation data is missing''; [Math]::Round" | Set-Content ./train.axl.ps1'
            Replace = [ordered]@{ '# \.\.\. fix the failing step in train\.axl\.ps1 \.\.\.' = 'Set-Content ./train.axl.ps1 -Value $fixed -NoNewline' }
            Error = 'evaluate'
            Check = {
                "$($r.Output[0])" | Should -Be 'Failed'
                $r.Output[1] | Should -Match 'the evaluation data is missing'
                $r.Output[-1].Status | Should -Be 'Succeeded'
                $r.Output[-1].Steps.Where({ $_.Name -eq 'fit' }).ReusedFrom | Should -Not -BeNullOrEmpty } }
        'Invoke-AxlLocalRun/4'         = @{ Setup = '$env:RUNNER_TEMP = Join-Path $PWD tmp'   # what a CI runner sets
            Check = { $r.Output | Should -BeNullOrEmpty; (Get-Content (Join-Path $r.Directory 'axl-log.jsonl')).Count | Should -BeGreaterThan 4 } }
        'Invoke-AxlLocalRun/5'         = @{ Check = {
                @($r.Output.Line -match '^axl_run_status\{workflow="diamond",run_id="[^"]+",status="succeeded"\} 1$').Count | Should -Be 1
                @($r.Output.Line -match '^axl_step_duration_seconds\{workflow="diamond",').Count | Should -Be 4
                Test-Path (Join-Path $r.Directory 'textfile/diamond.prom') | Should -BeTrue } }
        'Invoke-AxlStep/1'             = @{ Check = { $r.Text | Should -Match 'Status\s*:\s*Succeeded'; Test-Path (Join-Path $r.Directory 'out/load-data/output.clixml') | Should -BeTrue } }
        'Invoke-AxlStep/2'             = @{ Needs = 'S3'; Setup = $replaySetup
            Check = { $r.Output[-1].Status | Should -Be 'Succeeded'; Test-Path (Join-Path $r.Directory 'work/outputs/train/output.clixml') | Should -BeTrue } }
        'New-AxlJobSpec/1'             = @{ Check = { $r.Output[0].Parameters['Seed'] | Should -Be 7 } }
        'New-AxlJobSpec/2'             = @{ Check = { @($r.Output.Name) -join ',' | Should -Be 'lr-0.001,lr-0.01,lr-0.1' } }
        'New-AxlJobSpec/3'             = @{ Check = { ($r.Output[0] | Wait-AxlJob -Timeout 120).Status | Should -Be 'Succeeded' } }
        'New-AxlJobOption/1'           = @{ Check = { $r.Output[-1] | Should -Be 'ml' } }
        'New-AxlJobOption/3'           = @{ Check = { $r.Output[0] | Should -BeLike 'Queue: Endpoint=*, PollInterval=00:00:00.5000000'; $r.Output[1] | Should -BeLike "*Argo has no option 'Namspace'. Valid options of Argo: KubeConfig, KubeContext, Namespace, *" } }
        'New-AxlWorkflow/1'            = @{ Check = { $r.Output[0].Edges.Count | Should -Be 4 } }
        'New-AxlWorkflow/2'            = @{ Check = { @($r.Output | Where-Object { $_ -is [AxlDiagnostic] }) | Should -BeNullOrEmpty } }
        'Publish-AxlWorkflowCode/1'    = @{ Needs = 'S3'; Check = { $r.Output[-1] | Should -Match '^axl/code/[0-9a-f]{64}\.tar\.gz$' } }
        'Publish-AxlWorkflowCode/2'    = @{ Needs = 'S3' }
        'Register-AxlIoHandler/2'      = @{ Check = { $r.Output[0].Name | Should -Be 'upper' } }
        'Start-AxlExperiment/1'        = @{ Check = { Test-Path (Join-Path $r.Directory '.axl/runs/.experiments/lr-sweep/experiment.json') | Should -BeTrue } }
        'Start-AxlExperiment/2'        = @{ Check = { @($r.Output).Count | Should -Be 3 } }
        'Start-AxlWorker/2'            = @{ Needs = 'Redis'; Setup = $queueSetup; Check = { @($r.Output.JobId) | Should -Be @('failing-1', 'failing-2') } }
        'Stop-AxlExperiment/1'         = @{ Setup = $sweep + ' | Out-Null'; Check = { $r.Output[0].Name | Should -Be 'lr-sweep' } }
        'Stop-AxlExperiment/2'         = @{ Setup = $sweep + ' | Out-Null' }
        'Submit-AxlJob/1'              = @{ Check = { $r.Output[-1] | Should -Be 16 } }
        'Submit-AxlJob/2'              = @{ Setup = '$job = Get-AxlWorkflow ./examples/diamond/diamond.axl.ps1 | Submit-AxlJob' }
        'Submit-AxlJob/3'              = @{ Check = { $r.Output | Should -BeNullOrEmpty } }
        'Test-AxlJobEnvelope/1'        = @{ Check = { $r.Output | Should -Contain 'Invalid task numbering: gap between task 2 and 4' } }
        'Test-AxlJobEnvelope/2'        = @{ Check = { $r.Output | Should -BeNullOrEmpty } }
        'Test-AxlWorkflow/1'           = @{ Check = { $r.Output | Should -BeNullOrEmpty } }
        'Test-AxlWorkflow/2'           = @{ Check = { $r.Output | Should -BeNullOrEmpty } }
        'Test-AxlWorkflow/3'           = @{ Check = { $r.Output[0].Step | Should -BeIn 'a', 'b'; $r.Output[0].Message | Should -Match 'a -> b -> a|b -> a -> b' } }
        'Wait-AxlJob/1'                = @{ Setup = '$job = Get-AxlWorkflow ./examples/diamond/diamond.axl.ps1 | Submit-AxlJob'; Check = { "$($r.Output[0])" | Should -Be 'Succeeded' } }
        'Wait-AxlJob/2'                = @{ Setup = '1, 5 | ForEach-Object { Get-AxlWorkflow ./examples/iris-knn/iris-knn.axl.ps1 | Submit-AxlJob -Name "k$_" -Overrides @{ NNeighbors = $_ } } | Out-Null'
            Check = { $r.Output | Should -HaveCount 2; $r.Output | ForEach-Object { $_ | Should -BeGreaterThan 0.9 } } }

        # ---- Documents ----------------------------------------------------------------------------------------
        'examples/iris-knn/README.md#1' = @{ Check = { $r.Output[0] | Should -BeTrue; @($r.Output[1..5].Name) -join ',' | Should -Be 'load_data,split,train,evaluate,report' } }
        'examples/iris-knn/README.md#2' = @{ Check = { $r.Output -join "`n" | Should -Match 'accuracy=1\.0000(?s).*accuracy=0\.9667' } }
        'examples/iris-knn/README.md#3' = @{ Check = { foreach ($k in 1, 3, 5) { $r.Text | Should -Match "(?m)^k$k\s+Succeeded" } } }
        'examples/log-errors/README.md#1' = @{ Check = { $r.Output[0] | Should -BeTrue } }
        'examples/log-errors/README.md#2' = @{ Check = { $r.Output[-1] | Should -Match '5 ERROR \[auth\] invalid token signature' } }
        'about_Axl#A FULL EXAMPLE/2'  = @{ Check = { $r.Output[-1] | Should -BeGreaterThan 0.8; $r.Output[-1] | Should -BeLessOrEqual 1 } }
        'docs/ci.md#1'                 = @{ Check = { $r.Output[0] | Should -Be 'Failed'; $r.Output[1] | Should -Be 'Axl.StepFailed,Axl.Cmdlets.Runs.InvokeAxlLocalRunCommand' } }
        'docs/ci.md#2'                 = @{ Check = { $r.Output | Should -Be @('the CI job fails here: Axl.StepFailed,Axl.Cmdlets.Runs.InvokeAxlLocalRunCommand') } }
        'docs/ci.md#3'                 = @{ Check = { $r.Output | Should -HaveCount 1; $r.Output[0] | Should -Match '^axl failed: .*axl.* exit code: 1' } }
        'docs/steps.md#1'              = @{ Check = { $r.Output[0] | Should -Be 'north'; $r.Output[1] | Should -Be '[report] only 1 region(s) reach 14' } }
        'examples/sales/README.md#1'   = @{ Check = { $r.Output[0].top | Should -Be 'north'; $r.Output[0].total | Should -Be 17; $r.Output[0].regions | Should -Be 4; $r.Output[1] | Should -Be '[report] only 1 region(s) reach 14' } }
        'README.md#1'                  = @{ Check = { $r.Output[-1] | Should -Be 1; Get-Content (Join-Path $r.Directory 'flow.argo.yaml') -Raw | Should -Match 'kind: Workflow' } }
        'README.md#5'                  = @{ Check = { ($r.Output | Where-Object Job -EQ 'k5').Status | Should -Be 'Succeeded' } }
        'docs/jobs.md#1'               = @{ Check = { $r.Output[-1] | Should -Be 16 } }
        'docs/views.md#1'              = @{ Check = { $r.Output[0] | Should -Be '4/4 succeeded'; "$($r.Output[1])" | Should -Be 'Succeeded' } }
        'docs/views.md#2'              = @{ Check = { @($r.Output[0..3].Step) -join ',' | Should -Be 'start,left,right,join'; $r.Output[-1] | Should -Be 31 } }
        'docs/jobs-queue.md#1'         = @{ Needs = 'Redis'; Check = { $r.Output[-1].Status | Should -Be 'Succeeded'; $r.Output[-1].Output | Should -Match '5 ERROR \[auth\]' } }
        'docs/code-delivery.md#1'      = @{ Needs = 'S3' }
        'docs/code-delivery.md#2'      = @{ Needs = 'S3'; Check = { $r.Output[0].CodeDelivery | Should -Match 'Artifact' } }
        'about_Axl#PICTURES OF WORKFLOWS AND RUNS/1' = @{ Check = { $r.Output[0] | Should -Match '(?m)^flowchart TD$'; $r.Output[-1].Name | Should -Be 'report.html' } }
        'about_Axl#CODE DELIVERY/1'   = @{ Needs = 'S3' }
        'about_Axl#PIPELINE/1'        = @{ Check = { $r.Output[1] | Should -Be 31; $r.Output[4] | Should -Be 31; $r.Output[2].RunId | Should -Not -Be $r.Output[0].RunId
                $r.Output[3].RunId | Should -Be $r.Output[0].RunId; $r.Output[3].Resumes | Should -Be 1 } }
    }

    function ConvertTo-Case([string] $Key, [string] $Name, [string] $Code, [string] $SaveAs) {
        $entry = $Examples[$Key]
        if ($entry -and $entry.Drop) {
            # Said in the test's name: which lines are not run, and why.
            $dropped = if ($entry.DropWhat) { $entry.DropWhat } else { @($Code -split "`n" | Where-Object { $_ -match $entry.Drop } | ForEach-Object { ($_.Trim() -split '\s+')[0..1] -join ' ' }) -join ', ' }
            $Name += " [not run: ${dropped}: $($entry.DropReason)]"
        }
        if ($SaveAs) { $Name += " [saved as $SaveAs]" }
        @{ Key = $Key; Name = $Name; Code = $Code; SaveAs = $SaveAs; Entry = $entry }
    }

    # The help examples, as Get-Help gives them.
    $helpContexts = foreach ($cmdlet in Get-Command -Module Axl -CommandType Cmdlet | Sort-Object Name) {
        $n = 0
        $cases = foreach ($example in @((Get-Help $cmdlet.Name -Full).examples.example)) {
            $n++
            $title = ($example.title -replace '^-+\s*', '' -replace '\s*-+$', '')
            ConvertTo-Case "$($cmdlet.Name)/$n" $title ([string]$example.code) $null
        }
        @{ Cmdlet = $cmdlet.Name; Cases = @($cases) }
    }

    # The ```powershell blocks of the markdown documents.
    $documents = @(
        'README.md'
        Get-ChildItem (Join-Path $repoRoot 'docs') -Filter *.md | ForEach-Object { "docs/$($_.Name)" }
        Get-ChildItem (Join-Path $repoRoot 'examples') -Filter README.md -Recurse | ForEach-Object { [System.IO.Path]::GetRelativePath($repoRoot, $_.FullName) -replace '\\', '/' }
    )
    $docContexts = foreach ($doc in $documents) {
        $lines = Get-Content -LiteralPath (Join-Path $repoRoot $doc)
        $cases = [System.Collections.Generic.List[object]]::new()
        $inBlock = $false; $block = $null; $heading = ''
        foreach ($line in $lines) {
            if (-not $inBlock -and $line -match '^#{1,4}\s+(.+)$') { $heading = $Matches[1] }
            if (-not $inBlock -and $line -match '^```powershell\s*$') { $inBlock = $true; $block = [System.Collections.Generic.List[string]]::new(); continue }
            if ($inBlock -and $line -match '^```\s*$') {
                $inBlock = $false
                $cases.Add((ConvertTo-Case "$doc#$($cases.Count + 1)" $heading ($block -join "`n") $null))
                continue
            }
            if ($inBlock) { $block.Add($line) }
        }
        if ($cases.Count) { @{ Document = $doc; Cases = $cases.ToArray() } }
    }

    # about_Axl: blocks of lines indented by 8 spaces whose first word is a PowerShell command (not a program such
    # as axl) or a variable; "Save this as <file>:" before a block saves it as that file instead of running it.
    $aboutLines = Get-Content -LiteralPath (Join-Path $repoRoot 'module/en-US/about_Axl.help.txt')
    $aboutCases = [System.Collections.Generic.List[object]]::new()
    $i = 0; $heading = ''; $prose = ''; $sectionCount = @{}
    while ($i -lt $aboutLines.Count) {
        $line = $aboutLines[$i]
        if ($line -match '^[A-Z][A-Z ,/()-]+$') { $heading = $line.Trim() }
        if ($line -match '^ {8}\S') {
            $block = [System.Collections.Generic.List[string]]::new()
            while ($i -lt $aboutLines.Count -and ($aboutLines[$i] -match '^ {8}' -or ($aboutLines[$i].Trim() -eq '' -and $i + 1 -lt $aboutLines.Count -and $aboutLines[$i + 1] -match '^ {8}'))) {
                $block.Add(($aboutLines[$i] -replace '^ {8}', '')); $i++
            }
            $first = ($block[0] -split '\s+')[0]
            $command = Get-Command $first -ErrorAction Ignore
            if ($first -match '^[$#]' -or $first -eq 'function' -or ($command -and $command.CommandType -ne 'Application')) {
                $saveAs = if ($prose -match 'Save this as (\S+?)[,:]') { $Matches[1] } else { $null }
                # Keyed by section and place in it, so a block added to another section does not renumber this one.
                $inSection = $sectionCount[$heading] = 1 + [int]$sectionCount[$heading]
                $aboutCases.Add((ConvertTo-Case "about_Axl#$heading/$inSection" $heading ($block -join "`n") $saveAs))
            }
            continue
        }
        if ($line.Trim()) { $prose = $line }
        $i++
    }
    $docContexts = @($docContexts) + @{ Document = 'about_Axl'; Cases = $aboutCases.ToArray() }

    # Every entry of $Examples names an example that exists (a renumbered example must not leave a stale entry).
    $allKeys = @($helpContexts.Cases.Key) + @($docContexts.Cases.Key)
    $staleKeys = @($Examples.Keys | Where-Object { $_ -notin $allKeys } | Sort-Object)
}

BeforeAll {
    $repoRoot = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $modulePath = Join-Path $repoRoot 'artifacts/module/Axl/Axl.psd1'
    Import-Module $modulePath -Force -ErrorAction Stop

    # The test services (.ci/services.sh), from the environment or from the state file of the services.
    $servicesEnv = @{}
    $stateFile = Join-Path $repoRoot '.ci/.services/services.env'
    if (Test-Path -LiteralPath $stateFile) {
        foreach ($line in Get-Content -LiteralPath $stateFile) { if ($line -match '^(\w+)=(.*)$') { $servicesEnv[$Matches[1]] = $Matches[2] } }
    }
    function Get-ServiceValue([string] $Name) { $v = [Environment]::GetEnvironmentVariable($Name); if ($v) { $v } else { $servicesEnv[$Name] } }
    $s3 = Get-ServiceValue AXL_TEST_S3_ENDPOINT
    $redis = Get-ServiceValue AXL_TEST_REDIS
    $redisCleanup = $null
    $services = @{ S3 = $null; Redis = $null }
    if ($s3) {
        try {
            # s3rver takes an unsigned bucket creation; the bucket is this run's own.
            $bucket = 'axl-help-' + [guid]::NewGuid().ToString('N').Substring(0, 10)
            Invoke-WebRequest -Method Put -Uri "$s3/$bucket" -TimeoutSec 10 | Out-Null
            $services.S3 = $s3
        }
        catch { Write-Warning "The S3 test service at $s3 does not answer: $_" }
    }
    if ($redis) {
        # A database of its own: the first empty one from 15 down (redis-cli comes with redis-server), so the
        # examples' default stream axl:jobs is not another test's; emptied again at the end. Without redis-cli,
        # database 15 (and nothing is removed).
        $hostName, $port = $redis -split ':'
        if (Get-Command redis-cli -CommandType Application -ErrorAction Ignore) {
            if ("$(redis-cli -h $hostName -p $port PING 2>&1)" -eq 'PONG') {
                $database = 15..1 | Where-Object { "$(redis-cli -h $hostName -p $port -n $_ DBSIZE)" -eq '0' } | Select-Object -First 1
                if ($database) { $services.Redis = "$redis,defaultDatabase=$database"; $redisCleanup = @('-h', $hostName, '-p', $port, '-n', $database, 'FLUSHDB') }
                else { Write-Warning "The Redis test service at $redis has no empty database (1-15): the examples that need it are skipped." }
            }
            else { Write-Warning "The Redis test service at $redis does not answer." }
        }
        else { $services.Redis = "$redis,defaultDatabase=15" }
    }

    # The text each example runs with: the docs' service addresses become the test services'.
    function Get-ExampleCode([string] $Code, $Entry) {
        $Code = $Code -replace '\./artifacts/module/Axl/Axl\.psd1', $modulePath          # the module as built
        if ($services.S3) {
            $Code = $Code -replace 'http://127\.0\.0\.1:9000', $services.S3                 # a MinIO port-forward in the docs
            $Code = $Code -replace '-Bucket (argo-artifacts|axl)\b', "-Bucket $bucket"    # the docs' buckets: this run's
        }
        if ($services.Redis) {
            $Code = $Code -replace "'?\b(localhost:6379|127\.0\.0\.1:6390)\b'?", "'$($services.Redis)'"  # the docs' Redis: the test database
        }
        if ($Entry -and $Entry.Replace) { foreach ($p in $Entry.Replace.GetEnumerator()) { $Code = $Code -replace $p.Key, $p.Value } }
        if ($Entry -and $Entry.Drop) { $Code = (($Code -split "`n") | Where-Object { $_ -notmatch $Entry.Drop }) -join "`n" }
        $Code
    }

    # Environment: axl is the repository's command, the AWS keys are the S3 test service's, no run root is preset.
    # The examples set variables too (Invoke-AxlStep's AXL_PARAM_*, a CI runner's RUNNER_TEMP): all is put back after.
    $savedEnv = [Environment]::GetEnvironmentVariables()
    $env:PATH = $repoRoot + [System.IO.Path]::PathSeparator + $env:PATH
    $env:AWS_ACCESS_KEY_ID = 'S3RVER'; $env:AWS_SECRET_ACCESS_KEY = 'S3RVER'
    $env:AXL_RUN_ROOT = $null

    # A scratch folder laid out like the repository root, with the files the examples name.
    function New-ScratchFolder([string] $Name) {
        $dir = Join-Path $TestDrive ($Name -replace '[^\w.-]', '_')
        New-Item -ItemType Directory -Path $dir -Force | Out-Null
        Copy-Item -LiteralPath (Join-Path $repoRoot 'examples') -Destination $dir -Recurse
        Copy-Item -LiteralPath (Join-Path $repoRoot '.gitignore') -Destination $dir   # artifacts/ and .axl/ are not code
        $iris = Join-Path $dir 'examples/iris-knn'
        # flow.axl.ps1: the README's flow, the iris k-NN workflow, with its data next to it.
        Copy-Item (Join-Path $iris 'iris-knn.axl.ps1') (Join-Path $dir 'flow.axl.ps1')
        Copy-Item (Join-Path $iris 'iris.csv') $dir
        Set-Content (Join-Path $dir 'params.yaml') "NNeighbors: 5`n"
        # train.axl.ps1: a training workflow with a LearningRate to sweep; its accuracy is best at 0.01.
        Set-Content (Join-Path $dir 'train.axl.ps1') @'
AxlWorkflow train {
    Parameter LearningRate -Default 0.01 -Type double
    Step fit { param([double] $LearningRate) if ($LearningRate -le 0) { throw "LearningRate must be positive, got $LearningRate" }; [pscustomobject]@{ LearningRate = $LearningRate } }
    Step evaluate -IoHandler json { [OutputType([double])] param($fit) [Math]::Round(0.99 - [Math]::Abs([Math]::Log10($fit.LearningRate) + 2) / 10, 2) }
}
'@
        # workflows/: a folder of workflows named train-*, with a CI parameters file that fits them all.
        New-Item -ItemType Directory (Join-Path $dir 'workflows') | Out-Null
        foreach ($size in 'small', 'large') {
            Set-Content (Join-Path $dir "workflows/train-$size.axl.ps1") @"
AxlWorkflow train-$size {
    Parameter Seed -Default 1 -Type int
    Step sample { param([int] `$Seed) Get-Random -SetSeed `$Seed -Maximum 100 }
    Step report -IoHandler text { param(`$sample) "train-${size}: `$sample" }
}
"@
        }
        Set-Content (Join-Path $dir 'ci.params.yaml') "Seed: 7`n"
        # pipelines.axl.ps1: a file that defines two workflows.
        Set-Content (Join-Path $dir 'pipelines.axl.ps1') ((Get-Content (Join-Path $dir 'examples/diamond/diamond.axl.ps1') -Raw) + "`n" + (Get-Content (Join-Path $iris 'iris-knn.axl.ps1') -Raw))
        # exp[2024]/flow.axl.ps1: a folder name with brackets.
        $brackets = New-Item -ItemType Directory -Path (Join-Path $dir 'exp[2024]')
        Copy-Item -LiteralPath (Join-Path $dir 'examples/diamond/diamond.axl.ps1') -Destination (Join-Path $brackets.FullName 'flow.axl.ps1')
        # reports.axl.ps1: a workflow whose artifacts go to an S3 bucket.
        Set-Content (Join-Path $dir 'reports.axl.ps1') @'
AxlWorkflow reports -ArtifactStore s3://artifacts/reports {
    Step build { Get-Date -Format 'yyyy-MM-dd' }
    Step render -IoHandler text { param($build) "report of $build" }
}
'@
        # jobs/nightly.json: the spec New-AxlJobSpec's first example makes, saved as ConvertTo-AxlJobSpecJson shows.
        New-Item -ItemType Directory (Join-Path $dir 'jobs') | Out-Null
        New-AxlJobSpec nightly -WorkflowPath (Join-Path $iris 'iris-knn.axl.ps1') -Parameters @{ Seed = 7 } -Memory 2Gi |
            ConvertTo-AxlJobSpecJson | Set-Content (Join-Path $dir 'jobs/nightly.json')
        # job.json: a job envelope with a gap in its task numbers.
        Set-Content (Join-Path $dir 'job.json') @'
{
  "job_id": "nightly-1",
  "plan_id": "0000000000000000000000000000000000000000000000000000000000000001",
  "tasks": [
    { "task_number": 1, "command": "grep", "args": ["-i", "error", "/var/log/app.log"] },
    { "task_number": 2, "command": "sort", "input_from_task": 1 },
    { "task_number": 4, "command": "uniq", "args": ["-c"], "input_from_task": 2 }
  ]
}
'@
        $dir
    }

    # A session of its own (a runspace) in a folder, with the module imported.
    function New-ExampleSession([string] $Directory) {
        $runspace = [runspacefactory]::CreateRunspace([initialsessionstate]::CreateDefault2())
        $runspace.Open()
        $session = [pscustomobject]@{ Runspace = $runspace; Directory = $Directory }
        $prelude = @"
Set-Location -LiteralPath '$($Directory -replace "'", "''")'
Import-Module '$($modulePath -replace "'", "''")' -ErrorAction Stop
`$TestS3 = '$($services.S3)'; `$TestBucket = '$bucket'; `$TestQueue = '$($services.Redis)'
# The answer to the prompt: the S3 test service's keys.
function global:Get-Credential { [pscredential]::new('S3RVER', (ConvertTo-SecureString 'S3RVER' -AsPlainText -Force)) }
"@
        $r = Invoke-InSession $session $prelude
        if ($r.Terminating -or $r.Errors) { throw "The session did not start: $($r.Terminating) $($r.Errors)" }
        $session
    }

    # Runs a script in the session's global scope (as typed at its prompt); the output, rendered too, and the errors.
    function Invoke-InSession($Session, [string] $Script, [int] $TimeoutSeconds = 180) {
        $ps = [powershell]::Create()
        $ps.Runspace = $Session.Runspace
        [void]$ps.AddScript($Script)
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
        $terminating = $null
        if (-not $async.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($TimeoutSeconds))) {
            $ps.Stop()
            $terminating = "timed out after $TimeoutSeconds s"
        }
        else {
            try { $ps.EndInvoke($async) | Out-Null } catch { $terminating = $_.Exception.InnerException ?? $_.Exception }
        }
        $errors = @($ps.Streams.Error)
        $text = ''
        if ($output.Count -and -not $terminating) {
            $render = [powershell]::Create()
            $render.Runspace = $Session.Runspace
            [void]$render.AddCommand('Out-String').AddParameter('Width', 200)
            try { $text = -join $render.Invoke($output) } catch { $terminating = "rendering the output failed: $($_.Exception.InnerException ?? $_.Exception)" }
            $errors += @($render.Streams.Error)
            $render.Dispose()
        }
        $ps.Dispose()
        [pscustomobject]@{ Output = @($output); Text = $text; Errors = $errors; Terminating = $terminating; Directory = $Session.Directory; Session = $Session }
    }

    function Close-ExampleSession($Session) {
        # Jobs and experiments the example left running stop with it.
        Invoke-InSession $Session 'Get-Job | Remove-Job -Force; Get-AxlExperiment -ErrorAction Ignore | Where-Object Status -EQ Running | Stop-AxlExperiment -ErrorAction Ignore | Out-Null' 60 | Out-Null
        $Session.Runspace.Dispose()
    }

    function Format-Problem($r) {
        @(
            if ($r.Terminating) { "terminating error: $($r.Terminating)" }
            foreach ($e in $r.Errors) { "error: $e$(if ($e.InvocationInfo) { " (line $($e.InvocationInfo.ScriptLineNumber): $($e.InvocationInfo.Line.Trim()))" })" }
        ) -join "`n"
    }

    # Runs one example (or one block of a document) in the session and checks what the table says about it.
    function Invoke-ExampleCase($Session, [string] $Code, $Entry, [string] $SaveAs) {
        if ($Entry -and $Entry.Setup) {
            $setup = Invoke-InSession $Session $Entry.Setup
            if ($setup.Terminating -or $setup.Errors) { throw "The setup of the example failed:`n$(Format-Problem $setup)" }
        }
        $code = Get-ExampleCode $Code $Entry
        if ($SaveAs) {
            # "Save this as <file>:": the block is the file's content.
            Set-Content -LiteralPath (Join-Path $Session.Directory $SaveAs) -Value $code
            return
        }
        $timeout = if ($Entry -and $Entry.Timeout) { $Entry.Timeout } else { 180 }
        $r = Invoke-InSession $Session $code $timeout
        if ($Entry -and $Entry.Error) {
            $r.Terminating | Should -BeNullOrEmpty -Because 'the example shows a non-terminating error'
            $r.Errors | Should -Not -BeNullOrEmpty -Because 'the example is about an error'
            foreach ($e in $r.Errors) { "$e" | Should -Match $Entry.Error }
        }
        else {
            Format-Problem $r | Should -BeNullOrEmpty -Because "the example runs clean:`n$code`n"
        }
        if ($Entry -and $Entry.Check) { & $Entry.Check }
    }

    function Test-Needs($Entry) {
        foreach ($need in @($Entry.Needs)) {
            if ($need -and -not $services[$need]) { return "needs the $need test service (.ci/services.sh start)" }
        }
    }
}

AfterAll {
    # The database the examples used was empty before them: it is left so.
    if ($redisCleanup) { redis-cli @redisCleanup | Out-Null }
    foreach ($name in [Environment]::GetEnvironmentVariables().Keys) { if (-not $savedEnv.Contains($name)) { [Environment]::SetEnvironmentVariable($name, $null) } }
    foreach ($p in $savedEnv.GetEnumerator()) { [Environment]::SetEnvironmentVariable($p.Key, $p.Value) }
}

Describe 'The table of special cases' {
    It 'names only examples that exist' {
        $staleKeys | Should -BeNullOrEmpty
    } -ForEach @(@{ staleKeys = $staleKeys })
}

Describe 'Help examples of <Cmdlet>' -ForEach $helpContexts {
    It 'Example <Key>: <Name>' -ForEach $Cases {
        if ($Entry -and $Entry.Skip) { Set-ItResult -Skipped -Because $Entry.Skip; return }
        if ($Entry -and $Entry.Bug) { Set-ItResult -Skipped -Because "product bug: $($Entry.Bug)"; return }
        if ($Entry -and ($why = Test-Needs $Entry)) { Set-ItResult -Skipped -Because $why; return }
        $session = New-ExampleSession (New-ScratchFolder $Key)
        try { Invoke-ExampleCase $session $Code $Entry $SaveAs }
        finally { Close-ExampleSession $session }
    }
}

Describe 'PowerShell blocks of <Document>' -ForEach $docContexts {
    BeforeAll {
        $docSession = New-ExampleSession (New-ScratchFolder $Document)
    }
    AfterAll {
        Close-ExampleSession $docSession
    }

    It 'Block <Key> (<Name>)' -ForEach $Cases {
        if ($Entry -and $Entry.Skip) { Set-ItResult -Skipped -Because $Entry.Skip; return }
        if ($Entry -and $Entry.Bug) { Set-ItResult -Skipped -Because "product bug: $($Entry.Bug)"; return }
        if ($Entry -and ($why = Test-Needs $Entry)) { Set-ItResult -Skipped -Because $why; return }
        Invoke-ExampleCase $docSession $Code $Entry $SaveAs
    }
}
