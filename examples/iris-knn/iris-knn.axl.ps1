# Iris k-NN: the seed's IrisKNN workflow, in PowerShell, with no third-party packages.
#
#   load_data -> split -> train -> evaluate -> report
#   (evaluate also reads split's test set; report also reads split and train)
#
# Edges are inferred from parameter names: a step parameter named like a step receives that
# step's output; one named like a workflow Parameter receives its value. No Graph block needed.
#
# The step bodies use only the PowerShell language and .NET, so they run in any host of the
# engine (pwsh, the axl command, the runner image) without extra modules, and they are
# deterministic: the shuffle is seeded and k-NN ties are broken by a fixed rule.

AxlWorkflow iris-knn -IoHandler clixml -Description 'k-nearest-neighbours classifier on the Fisher iris data set' {
    Parameter NNeighbors -Default 3 -Type int -Description 'k: how many nearest training rows vote'
    Parameter TestFraction -Default 0.2 -Type double -Description 'share of the rows held out for evaluation'
    Parameter Seed -Default 42 -Type int -Description 'seed of the shuffle that splits train and test'
    Parameter DataPath -Default 'iris.csv' -Type string -Description 'CSV with sepal_length,sepal_width,petal_length,petal_width,species; relative paths are relative to this file'

    # Reads the CSV into objects with numeric features (no Import-Csv: plain .NET, culture-invariant).
    Step load_data {
        param([string] $DataPath)
        # A relative path is relative to this file, so the workflow (and its hash) is the same in any checkout.
        if (-not [System.IO.Path]::IsPathRooted($DataPath)) { $DataPath = [System.IO.Path]::Combine($PSScriptRoot, $DataPath) }
        $inv = [System.Globalization.CultureInfo]::InvariantCulture
        $lines = [System.IO.File]::ReadAllLines($DataPath)
        $header = $lines[0].Split(',')
        $features = $header[0..($header.Length - 2)]
        $rows = [System.Collections.Generic.List[object]]::new()
        for ($i = 1; $i -lt $lines.Length; $i++) {
            $line = $lines[$i].Trim()
            if ($line.Length -eq 0) { continue }
            $cells = $line.Split(',')
            $row = [ordered]@{}
            for ($j = 0; $j -lt $features.Length; $j++) { $row[$features[$j]] = [double]::Parse($cells[$j], $inv) }
            $row['species'] = $cells[$features.Length]
            $rows.Add([pscustomobject]$row)
        }
        , $rows.ToArray()
    }

    # Seeded Fisher-Yates shuffle, then the first TestFraction of the rows is the test set.
    Step split {
        param($load_data, [double] $TestFraction, [int] $Seed)
        $rows = @($load_data)
        $n = $rows.Count
        $order = [int[]](0..($n - 1))
        $rng = [System.Random]::new($Seed)
        for ($i = $n - 1; $i -gt 0; $i--) {
            $j = $rng.Next($i + 1)
            $t = $order[$i]; $order[$i] = $order[$j]; $order[$j] = $t
        }
        $testCount = [int][Math]::Round($n * $TestFraction, [MidpointRounding]::AwayFromZero)
        $names = 'sepal_length', 'sepal_width', 'petal_length', 'petal_width'
        $trainX = [System.Collections.Generic.List[object]]::new(); $trainY = [System.Collections.Generic.List[string]]::new()
        $testX = [System.Collections.Generic.List[object]]::new(); $testY = [System.Collections.Generic.List[string]]::new()
        for ($p = 0; $p -lt $n; $p++) {
            $r = $rows[$order[$p]]
            $x = [double[]]@(foreach ($f in $names) { $r.$f })
            if ($p -lt $testCount) { $testX.Add($x); $testY.Add([string]$r.species) }
            else { $trainX.Add($x); $trainY.Add([string]$r.species) }
        }
        [pscustomobject]@{
            Features = $names
            TrainX   = $trainX.ToArray()
            TrainY   = $trainY.ToArray()
            TestX    = $testX.ToArray()
            TestY    = $testY.ToArray()
        }
    }

    # k-NN is a lazy learner: the "model" is the training set and k.
    Step train -Retries 2 -Cpu 500m -Memory 1Gi {
        param($split, [int] $NNeighbors)
        if ($NNeighbors -lt 1) { throw "NNeighbors must be 1 or more, got $NNeighbors." }
        [pscustomobject]@{
            Kind     = 'knn'
            K        = $NNeighbors
            Features = $split.Features
            TrainX   = $split.TrainX
            TrainY   = $split.TrainY
        }
    }

    # Predicts every test row (Euclidean distance, majority vote of the k nearest) and outputs the accuracy.
    # Ties are broken deterministically: equal distances by training row order, equal votes by the
    # label whose neighbour is nearest.
    Step evaluate -IoHandler json {
        [OutputType([double])]
        param($train, $split)
        $trainX = @($train.TrainX); $trainY = @($train.TrainY)
        $testX = @($split.TestX); $testY = @($split.TestY)
        $k = [Math]::Min([int]$train.K, $trainX.Count)
        $correct = 0
        for ($t = 0; $t -lt $testX.Count; $t++) {
            $q = [double[]]@($testX[$t])
            $dist = [double[]]::new($trainX.Count)
            for ($i = 0; $i -lt $trainX.Count; $i++) {
                $x = [double[]]@($trainX[$i]); $s = 0.0
                for ($f = 0; $f -lt $q.Length; $f++) { $d = $x[$f] - $q[$f]; $s += $d * $d }
                $dist[$i] = [Math]::Sqrt($s)
            }
            # The k nearest, by (distance, row index): k passes of a selection, stable and exact.
            $taken = [bool[]]::new($trainX.Count)
            $votes = [ordered]@{}
            for ($n = 0; $n -lt $k; $n++) {
                $best = -1
                for ($i = 0; $i -lt $dist.Length; $i++) {
                    if (-not $taken[$i] -and ($best -lt 0 -or $dist[$i] -lt $dist[$best])) { $best = $i }
                }
                $taken[$best] = $true
                $label = [string]$trainY[$best]
                if ($votes.Contains($label)) { $votes[$label]++ } else { $votes[$label] = 1 }
            }
            # $votes is ordered by first (nearest) appearance; a strictly greater count is needed to win.
            $predicted = $null; $top = 0
            foreach ($entry in $votes.GetEnumerator()) { if ($entry.Value -gt $top) { $predicted = $entry.Key; $top = $entry.Value } }
            if ($predicted -eq [string]$testY[$t]) { $correct++ }
        }
        if ($testX.Count -eq 0) { throw 'The test set is empty; raise TestFraction.' }
        [double]$correct / $testX.Count
    }

    # A one-line, human-readable summary of the run.
    Step report -IoHandler text {
        param([double] $evaluate, $split, $train)
        $inv = [System.Globalization.CultureInfo]::InvariantCulture
        [string]::Format($inv, 'iris-knn: k={0}, train={1}, test={2}, accuracy={3:0.0000}',
            $train.K, @($split.TrainY).Count, @($split.TestY).Count, $evaluate)
    }
}
