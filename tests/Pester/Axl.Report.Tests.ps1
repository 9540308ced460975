#Requires -Version 7.4
# Pester 5 tests of the pictures as a person sees them (issue 17, points 1, 2 and 5): the run report of iris-knn and
# of a failed run, and the SVG of a workflow, written by the cmdlets and by `axl`, opened in headless Chromium
# (Debian's `chromium`, installed by `.ci/services.sh tools` when missing and root). Asserts on the DOM Chromium built
# (every step with its status class), on its console (no errors) and on the screenshot: its size and that it is not
# blank and shows the status colours (pixels decoded from the PNG here). No reference screenshots: fonts differ.
# Run from the repository root after `dotnet build`:  Invoke-Pester tests/Pester/Axl.Report.Tests.ps1

BeforeAll {
    $repoRoot = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../..'))
    $modulePath = Join-Path $repoRoot 'artifacts/module/Axl/Axl.psd1'
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $axlDll = Join-Path $repoRoot 'artifacts/module/Axl/cli/axl.dll'
    $examples = Join-Path $repoRoot 'examples'

    # Chromium: installed from the project's own script when missing (as root); the browser asserts are skipped only
    # when it is missing and cannot be installed, and they say so.
    $script:chromium = (Get-Command chromium -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
    if (-not $chromium -and -not $IsWindows) {
        & bash (Join-Path $repoRoot '.ci/services.sh') tools 2>&1 | Write-Host
        $script:chromium = (Get-Command chromium -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
    }
    $script:noChromium = if ($chromium) { $null } else { 'chromium is not installed and could not be installed (not root?): run .ci/services.sh tools as root' }
    $script:mermaidJs = Join-Path $repoRoot 'tests/mermaid/node_modules/mermaid/dist/mermaid.min.js'
    if ($chromium -and -not (Test-Path -LiteralPath $mermaidJs) -and -not $IsWindows) { & bash (Join-Path $repoRoot '.ci/services.sh') tools 2>&1 | Write-Host }
    $script:noMermaid = if (-not $chromium) { $noChromium } elseif (-not (Test-Path -LiteralPath $mermaidJs)) { "Mermaid is not installed ($mermaidJs): run .ci/services.sh tools (npm ci --prefix tests/mermaid)" } else { $null }

    # A PNG's size and pixels: inflate the IDAT stream and undo the row filters (colour types 2 and 6, 8 bits).
    if (-not ('AxlTestPng' -as [type])) {
        Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
public static class AxlTestPng
{
    public sealed class Image { public int Width; public int Height; public int Channels; public byte[] Pixels; }
    public static Image Read(string path)
    {
        var b = File.ReadAllBytes(path);
        if (b.Length < 33 || b[1] != 'P' || b[2] != 'N' || b[3] != 'G') throw new InvalidDataException(path + " is not a PNG");
        int pos = 8, width = 0, height = 0, type = 0;
        var idat = new MemoryStream();
        while (pos + 8 <= b.Length)
        {
            int len = (b[pos] << 24) | (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3];
            string kind = System.Text.Encoding.ASCII.GetString(b, pos + 4, 4);
            if (kind == "IHDR")
            {
                width = (b[pos + 8] << 24) | (b[pos + 9] << 16) | (b[pos + 10] << 8) | b[pos + 11];
                height = (b[pos + 12] << 24) | (b[pos + 13] << 16) | (b[pos + 14] << 8) | b[pos + 15];
                if (b[pos + 16] != 8 || b[pos + 20] != 0) throw new InvalidDataException("only 8-bit non-interlaced PNGs");
                type = b[pos + 17];
            }
            else if (kind == "IDAT") idat.Write(b, pos + 8, len);
            else if (kind == "IEND") break;
            pos += 12 + len;
        }
        int ch = type == 6 ? 4 : type == 2 ? 3 : throw new InvalidDataException("PNG colour type " + type + " not handled");
        int stride = width * ch;
        var raw = new MemoryStream();
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(raw);
        var data = raw.ToArray();
        var px = new byte[stride * height];
        for (int y = 0; y < height; y++)
        {
            int f = data[y * (stride + 1)], src = y * (stride + 1) + 1, dst = y * stride;
            for (int x = 0; x < stride; x++)
            {
                int a = x >= ch ? px[dst + x - ch] : 0, up = y > 0 ? px[dst - stride + x] : 0, c = (x >= ch && y > 0) ? px[dst - stride + x - ch] : 0;
                int v = data[src + x];
                switch (f)
                {
                    case 1: v += a; break;
                    case 2: v += up; break;
                    case 3: v += (a + up) / 2; break;
                    case 4: int p = a + up - c, pa = Math.Abs(p - a), pb = Math.Abs(p - up), pc = Math.Abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? up : c; break;
                }
                px[dst + x] = (byte)v;
            }
        }
        return new Image { Width = width, Height = height, Channels = ch, Pixels = px };
    }
    public static int[] At(Image img, int x, int y)
    {
        int i = (y * img.Width + x) * img.Channels;
        return new[] { (int)img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2] };
    }
    public static int DistinctColours(Image img)
    {
        var seen = new HashSet<int>();
        for (int i = 0; i < img.Pixels.Length; i += img.Channels) seen.Add((img.Pixels[i] << 16) | (img.Pixels[i + 1] << 8) | img.Pixels[i + 2]);
        return seen.Count;
    }
    public static int Count(Image img, int r, int g, int b, int tolerance)
    {
        int n = 0;
        for (int i = 0; i < img.Pixels.Length; i += img.Channels)
            if (Math.Abs(img.Pixels[i] - r) <= tolerance && Math.Abs(img.Pixels[i + 1] - g) <= tolerance && Math.Abs(img.Pixels[i + 2] - b) <= tolerance) n++;
        return n;
    }
}
'@
    }

    # Opens a file in headless Chromium: the DOM it built (--dump-dom), its console and log lines, and a screenshot.
    function Invoke-Chromium([string] $Path, [int] $Width = 1280, [int] $Height = 1600, [string[]] $Extra = @()) {
        $url = [System.Uri]::new($Path, [System.UriKind]::Absolute).AbsoluteUri
        $png = [System.IO.Path]::ChangeExtension($Path, ".$Width$($Extra -join '' -replace '[^a-z]').png")
        $profileDir = Join-Path $TestDrive ("chromium-" + [guid]::NewGuid().ToString('N'))
        $common = @('--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', "--user-data-dir=$profileDir", '--enable-logging=stderr', '--v=0') + $Extra
        $shotLog = & $chromium @common "--window-size=$Width,$Height" "--screenshot=$png" $url 2>&1 | ForEach-Object { "$_" }
        $dom = & $chromium @common '--dump-dom' $url 2>$null
        $domLog = & $chromium @common '--dump-dom' $url 2>&1 1>$null | ForEach-Object { "$_" }
        [pscustomobject]@{
            Dom        = ($dom -join "`n")
            Console    = @(($shotLog + $domLog) | Where-Object { $_ -match 'CONSOLE|Uncaught|Failed to load resource|ERR_' })
            Screenshot = $png
        }
    }

    function Get-StepStatus([string] $Dom, [string] $Element) {
        # data-step / data-status pairs of one kind of element (the DAG's <g>, the table's <tr>, the timeline's lanes).
        $map = @{}
        foreach ($m in [regex]::Matches($Dom, "<$Element class=""(?<class>[^""]*)""[^>]*?data-step=""(?<step>[^""]+)""[^>]*?data-status=""(?<status>[a-z]+)""")) {
            $map[$m.Groups['step'].Value] = [pscustomobject]@{ Status = $m.Groups['status'].Value; Class = $m.Groups['class'].Value }
        }
        $map
    }
}

Describe 'the run report of iris-knn' {
    BeforeAll {
        $runRoot = Join-Path $TestDrive 'runs'
        $run = Invoke-AxlLocalRun -LiteralPath (Join-Path $examples 'iris-knn/iris-knn.axl.ps1') -RunRoot $runRoot -ErrorAction Stop
        $report = $run | Export-AxlRunReport
        if ($chromium) { $seen = Invoke-Chromium $report.FullName -Height 2400 }
    }

    It 'is one HTML file in the run directory, with no script and no external reference' {
        $report | Should -BeOfType System.IO.FileInfo
        $report.FullName | Should -Be (Join-Path $run.Directory 'report.html')
        $html = Get-Content -LiteralPath $report.FullName -Raw
        $html | Should -Not -Match '<script'
        $html | Should -Not -Match '(src|href)\s*='
        $html | Should -Not -Match 'https?://'
        $html | Should -Match 'prefers-color-scheme: dark'
        $html | Should -Match '@media print'
    }

    It 'writes nothing with -WhatIf, and the same report by -RunId, by -RunDirectory and with axl report' {
        $other = Join-Path $TestDrive 'whatif.html'
        Export-AxlRunReport -RunId $run.RunId -RunRoot $runRoot -OutFile $other -WhatIf | Should -BeNullOrEmpty
        Test-Path -LiteralPath $other | Should -BeFalse
        $byId = Export-AxlRunReport -RunId $run.RunId -RunRoot $runRoot -OutFile (Join-Path $TestDrive 'by-id.html')
        $byDir = Export-AxlRunReport -RunDirectory $run.Directory -OutFile (Join-Path $TestDrive 'by-dir.html')
        $cli = & dotnet $axlDll report $run.RunId --run-root $runRoot -o (Join-Path $TestDrive 'cli.html')
        $LASTEXITCODE | Should -Be 0
        $cli | Should -Be (Join-Path $TestDrive 'cli.html')
        foreach ($f in $byId.FullName, $byDir.FullName, $cli) {
            (Get-Content -LiteralPath $f -Raw) -replace 'at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC' | Should -Be ((Get-Content -LiteralPath $report.FullName -Raw) -replace 'at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC')
        }
    }

    It 'takes a deserialized run (Start-Job, remoting) by its RunId, Workflow and RunRoot, and draws the DAG of a run piped to Show-AxlWorkflow' {
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($run))
        $copy.pstypenames[0] | Should -Be 'Deserialized.Axl.Runtime.AxlRun'
        $file = $copy | Export-AxlRunReport -OutFile (Join-Path $TestDrive 'deserialized.html')
        Get-Content -LiteralPath $file.FullName -Raw | Should -Match ([regex]::Escape("data-run-id=""$($run.RunId)"""))
        # The run's WorkflowReference (file:Name) binds -LiteralPath: the DAG of the workflow the run ran.
        $run | Show-AxlWorkflow | Should -Match "(?m)^%% Axl workflow 'iris-knn': 5 steps"
    }

    It 'names an unknown run and the fix (Axl.RunNotFound; axl report exits 1)' {
        Export-AxlRunReport -RunId 'nosuch' -RunRoot $runRoot -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'Axl.RunNotFound,*'
        $err[0].Exception.Message | Should -BeLike "*no run 'nosuch'*Get-AxlRun*-RunRoot*"
        $out = & dotnet $axlDll report nosuch --run-root $runRoot 2>&1
        $LASTEXITCODE | Should -Be 1
        "$out" | Should -BeLike "*no run 'nosuch'*--run-root*"
    }

    It 'opens in Chromium without console errors, every step shown succeeded in the DAG, the timeline and the table' -Skip:([bool]$noChromium) {
        $seen.Console | Should -BeNullOrEmpty
        $steps = @($run.Steps.Name)
        $steps.Count | Should -Be 5
        foreach ($element in 'g', 'tr') {
            $found = Get-StepStatus $seen.Dom $element
            foreach ($s in $steps) {
                $found[$s].Status | Should -Be 'succeeded' -Because "step $s in <$element>"
                $found[$s].Class | Should -Match 'status-succeeded'
            }
        }
        foreach ($s in $steps) { $seen.Dom | Should -Match "class=""lane status-succeeded"" data-step=""$s""" }
        $seen.Dom | Should -Match 'Get-AxlWorkflow .*iris-knn\.axl\.ps1 -Name iris-knn \| Invoke-AxlLocalRun -Resume'
        $seen.Dom | Should -Match '<th>sepal_length</th>'
    }

    It 'looks like a page: a 1280x2400 screenshot, not blank, with the green of succeeded steps' -Skip:([bool]$noChromium) {
        Test-Path -LiteralPath $seen.Screenshot | Should -BeTrue
        $img = [AxlTestPng]::Read($seen.Screenshot)
        $img.Width | Should -Be 1280
        $img.Height | Should -Be 2400
        [AxlTestPng]::DistinctColours($img) | Should -BeGreaterThan 50
        # #d3f9d8, the fill of a succeeded step's box; #2b8a3e, its border and timeline bar.
        [AxlTestPng]::Count($img, 0xd3, 0xf9, 0xd8, 3) | Should -BeGreaterThan 2000
        [AxlTestPng]::Count($img, 0x2b, 0x8a, 0x3e, 6) | Should -BeGreaterThan 500
        # Red only in the legend's 'failed' badge (about 75 pixels): nothing failed.
        [AxlTestPng]::Count($img, 0xc9, 0x2a, 0x2a, 6) | Should -BeLessThan 150 -Because 'nothing failed'
    }
}

Describe 'the run report in dark mode and on paper' {
    BeforeAll {
        $run = Invoke-AxlLocalRun -LiteralPath (Join-Path $examples 'diamond/diamond.axl.ps1') -RunRoot (Join-Path $TestDrive 'dark-runs') -ErrorAction Stop
        $report = $run | Export-AxlRunReport
    }

    It 'follows the browser into dark mode: a dark page, the steps in their dark status colours' -Skip:([bool]$noChromium) {
        $light = [AxlTestPng]::Read((Invoke-Chromium $report.FullName -Width 900 -Height 1400).Screenshot)
        $dark = [AxlTestPng]::Read((Invoke-Chromium $report.FullName -Width 900 -Height 1400 -Extra '--force-dark-mode').Screenshot)
        [AxlTestPng]::At($light, 3, 3) -join ',' | Should -Be '255,255,255'
        [AxlTestPng]::At($dark, 3, 3) -join ',' | Should -Be '26,27,30' -Because 'the dark background is #1a1b1e'
        [AxlTestPng]::DistinctColours($dark) | Should -BeGreaterThan 50
        # The dark fill of a succeeded step (#123d1e) and not the light one (#d3f9d8).
        [AxlTestPng]::Count($dark, 0x12, 0x3d, 0x1e, 3) | Should -BeGreaterThan 1000
        [AxlTestPng]::Count($dark, 0xd3, 0xf9, 0xd8, 3) | Should -BeLessThan 50
    }

    It 'prints to PDF' -Skip:([bool]$noChromium) {
        $pdf = Join-Path $TestDrive 'report.pdf'
        $url = [System.Uri]::new($report.FullName, [System.UriKind]::Absolute).AbsoluteUri
        $null = & $chromium --headless --no-sandbox --disable-gpu "--user-data-dir=$(Join-Path $TestDrive 'chromium-pdf')" "--print-to-pdf=$pdf" --no-pdf-header-footer $url 2>&1
        Test-Path -LiteralPath $pdf | Should -BeTrue
        $bytes = [System.IO.File]::ReadAllBytes($pdf)
        [System.Text.Encoding]::ASCII.GetString($bytes, 0, 5) | Should -Be '%PDF-'
        $bytes.Length | Should -BeGreaterThan 20000
    }
}

Describe 'the run report of a failed run' {
    BeforeAll {
        $flow = Join-Path $TestDrive 'flaky.axl.ps1'
        Set-Content -LiteralPath $flow -Value @'
AxlWorkflow flaky {
    Parameter Rows -Default 3
    Step load { param($Rows) 1..$Rows | ForEach-Object { [pscustomobject]@{ id = $_ } } }
    Step train -Retries 1 { param($load) Write-Warning "training on $(@($load).Count) rows"; throw 'the model diverged at epoch 3' }
    Step publish { param($train) $train }
}
'@
        $runRoot = Join-Path $TestDrive 'failed-runs'
        $run = Invoke-AxlLocalRun -LiteralPath $flow -RunRoot $runRoot -ErrorAction SilentlyContinue
        $report = Get-AxlRun flaky -RunRoot $runRoot | Export-AxlRunReport
        if ($chromium) { $seen = Invoke-Chromium $report.FullName -Height 1800 }
    }

    It 'failed, and the report names the failure, the log tail of both attempts and the resume command' {
        $run.Status | Should -Be 'Failed'
        $html = Get-Content -LiteralPath $report.FullName -Raw
        $html | Should -Match 'the model diverged at epoch 3'
        $html | Should -Match '#1 warning: training on 3 rows'
        $html | Should -Match '#2 warning: training on 3 rows'
        $html | Should -Match ([regex]::Escape("-Resume $($run.RunId)"))
    }

    It 'shows in Chromium the failure, the failed step in red and the one after it skipped' -Skip:([bool]$noChromium) {
        $seen.Console | Should -BeNullOrEmpty
        $dag = Get-StepStatus $seen.Dom 'g'
        $dag['load'].Status | Should -Be 'succeeded'
        $dag['train'].Status | Should -Be 'failed'
        $dag['publish'].Status | Should -Be 'skipped'
        $rows = Get-StepStatus $seen.Dom 'tr'
        ($rows.Keys | Sort-Object) -join ',' | Should -Be 'load,publish,train'
        $rows['train'].Status | Should -Be 'failed'
        $seen.Dom | Should -Match '(?s)<article class="failure status-failed" data-step="train">.*the model diverged at epoch 3'
        $seen.Dom | Should -Match 'data-step="train" data-status="failed" data-attempts="2"'
        $img = [AxlTestPng]::Read($seen.Screenshot)
        ($img.Width, $img.Height) -join 'x' | Should -Be '1280x1800'
        [AxlTestPng]::DistinctColours($img) | Should -BeGreaterThan 50
        # #ffe3e3, the fill of a failed step's box; #c92a2a, its border, badge and the failed attempts' bars.
        [AxlTestPng]::Count($img, 0xff, 0xe3, 0xe3, 3) | Should -BeGreaterThan 1000
        [AxlTestPng]::Count($img, 0xc9, 0x2a, 0x2a, 6) | Should -BeGreaterThan 600
    }
}

Describe 'the Mermaid as Markdown renderers draw it' {
    BeforeAll {
        # Each diagram drawn by Mermaid itself (mermaid.min.js, as GitHub and Azure DevOps use it) in a page of its own.
        function Show-Mermaid([string] $Name, [string] $Diagram) {
            $page = Join-Path $TestDrive "$Name.mermaid.html"
            $code = [System.Net.WebUtility]::HtmlEncode($Diagram)
            $js = [System.Uri]::new($mermaidJs, [System.UriKind]::Absolute).AbsoluteUri
            Set-Content -LiteralPath $page -Value @"
<!DOCTYPE html><html><head><meta charset="utf-8"><title>pending</title></head><body>
<pre class="mermaid">$code</pre>
<script src="$js"></script>
<script>
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
mermaid.run().then(() => { document.title = 'rendered'; }).catch(e => { console.error('mermaid failed: ' + e); document.title = 'failed'; });
</script></body></html>
"@
            Invoke-Chromium $page -Width 1000 -Height 1000 -Extra '--allow-file-access-from-files', '--virtual-time-budget=15000'
        }
        $tricky = Join-Path $TestDrive 'tricky.axl.ps1'
        Set-Content -LiteralPath $tricky -Value @'
AxlWorkflow tricky {
    Parameter Mode -Default 'full "run" #1 <b>&amp; | x'
    Step load { param($Mode) $Mode }
    Step train -When "load -ne 'a|b'" -Retries 1 { param($load) $load }
    Step report -DependsOn train { 'done' }
}
'@
        # 1,000 steps in 10 chains: summarised to 10 "100 steps" nodes.
        $chains = Join-Path $TestDrive 'chains.axl.ps1'
        Set-Content -LiteralPath $chains -Value (@('AxlWorkflow chains {') + @(0..999 | ForEach-Object { if ($_ -lt 10) { "    Step s$_ { 1 }" } else { "    Step s$_ { param(`$s$($_ - 10)) 1 }" } }) + '}')
    }

    It 'draws <Name> as a flowchart with every step' -Skip:([bool]$noMermaid) -ForEach @(
        @{ Name = 'diamond'; File = 'diamond/diamond.axl.ps1'; Steps = 'start', 'left', 'right', 'join' }
        @{ Name = 'iris-knn'; File = 'iris-knn/iris-knn.axl.ps1'; Steps = 'load_data', 'split', 'train', 'evaluate', 'report' }
        @{ Name = 'tricky'; File = $null; Steps = 'load', 'train', 'report' }
        @{ Name = 'summarised'; File = $null; Steps = 's0 … s990', 's9 … s999' }
    ) {
        $path = if ($File) { Join-Path $examples $File } elseif ($Name -eq 'tricky') { $tricky } else { $chains }
        $seen = Show-Mermaid $Name (Show-AxlWorkflow -Path $path)
        $seen.Console | Should -BeNullOrEmpty
        $seen.Dom | Should -Match '<title>rendered</title>'
        $seen.Dom | Should -Match 'aria-roledescription="flowchart-v2"'
        foreach ($s in $Steps) { $seen.Dom | Should -Match "<span class=""nodeLabel""[^>]*>.{0,40}<b>$s</b>" }
        [AxlTestPng]::DistinctColours([AxlTestPng]::Read($seen.Screenshot)) | Should -BeGreaterThan 20
    }

    It 'shows the condition and the parameter of the tricky workflow with their quotes, # and | intact' -Skip:([bool]$noMermaid) {
        $seen = Show-Mermaid 'tricky-text' (Show-AxlWorkflow -Path $tricky)
        $seen.Dom | Should -Match ([regex]::Escape("when load -ne 'a|b'"))
        $seen.Dom | Should -Match ([regex]::Escape('full "run" #1 &lt;b&gt;&amp;amp; | x'))
    }

    It 'the check itself fails on a diagram Mermaid cannot parse' -Skip:([bool]$noMermaid) {
        $seen = Show-Mermaid 'broken' "flowchart TD`n  a[""x""] -->|""y| b"
        $seen.Dom | Should -Not -Match '<title>rendered</title>'
        $seen.Console | Should -Not -BeNullOrEmpty
    }
}

Describe 'the DAG as a picture' {
    BeforeAll {
        $diamond = Join-Path $examples 'diamond/diamond.axl.ps1'
    }

    It 'Show-AxlWorkflow and axl graph write the same Mermaid, DOT and SVG' {
        foreach ($format in 'Mermaid', 'Dot', 'Svg') {
            $text = Show-AxlWorkflow -Path $diamond -Format $format
            $cli = (& dotnet $axlDll graph $diamond --format $format.ToLowerInvariant()) -join "`n"
            $LASTEXITCODE | Should -Be 0
            $cli.TrimEnd() | Should -Be $text.TrimEnd() -Because $format
        }
        $mermaid = Get-AxlWorkflow -Path $diamond | Show-AxlWorkflow
        $mermaid | Should -Match '(?m)^flowchart TD$'
        $mermaid | Should -Match '-->\|"start"\|'
    }

    It 'Show-AxlWorkflow -OutFile writes the file and outputs it; -WhatIf writes nothing' {
        $svg = Join-Path $TestDrive 'diamond.svg'
        Show-AxlWorkflow -Path $diamond -Format Svg -OutFile $svg -WhatIf | Should -BeNullOrEmpty
        Test-Path -LiteralPath $svg | Should -BeFalse
        $file = Show-AxlWorkflow -Path $diamond -Format Svg -OutFile $svg
        $file | Should -BeOfType System.IO.FileInfo
        $file.FullName | Should -Be $svg
        [xml](Get-Content -LiteralPath $svg -Raw) | Should -Not -BeNullOrEmpty
    }

    It 'the SVG opens in Chromium: every step drawn, no console errors, a picture that is not blank' -Skip:([bool]$noChromium) {
        $svg = Join-Path $TestDrive 'diamond-seen.svg'
        $null = Show-AxlWorkflow -Path $diamond -Format Svg -OutFile $svg
        $seen = Invoke-Chromium $svg -Width 500 -Height 500
        $seen.Console | Should -BeNullOrEmpty
        foreach ($s in 'start', 'left', 'right', 'join') { $seen.Dom | Should -Match "data-step=""$s""" }
        $img = [AxlTestPng]::Read($seen.Screenshot)
        ($img.Width, $img.Height) -join 'x' | Should -Be '500x500'
        [AxlTestPng]::DistinctColours($img) | Should -BeGreaterThan 20
        # #f8f9fa, the fill of a step's box (no run: no status colours).
        [AxlTestPng]::Count($img, 0xf8, 0xf9, 0xfa, 1) | Should -BeGreaterThan 3000
    }

    It 'a 1,000-step workflow is summarised: its Mermaid and SVG stay small' {
        $big = Join-Path $TestDrive 'big.axl.ps1'
        $lines = @('AxlWorkflow big {', '    Step s0 { 1 }')
        foreach ($i in 1..999) { $lines += "    Step s$i { param(`$s$([math]::Max(0, $i - 10))) 1 }" }
        $lines += '}'
        Set-Content -LiteralPath $big -Value $lines
        $mermaid = Show-AxlWorkflow -Path $big
        $mermaid | Should -Match 'big.: 1000 steps, summarised'
        $mermaid.Length | Should -BeLessThan 60000
        (Show-AxlWorkflow -Path $big -Format Svg).Length | Should -BeLessThan 400000
    }
}
