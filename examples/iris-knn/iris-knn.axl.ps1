# Iris k-NN: the seed's IrisKNN workflow, in PowerShell, with no third-party packages.
#
#   load_data -> split -> train -> evaluate -> report
#   (evaluate also reads split's test set; report also reads split and train)
#
# Edges are inferred from parameter names: a step parameter named like a step receives that
# step's output; one named like a workflow Parameter receives its value. No Graph block needed.
#
# The steps use ordinary cmdlets (Import-Csv, Join-Path, Select-Object, Sort-Object, Group-Object),
# which every host of the engine has: pwsh, the axl command, the runner image. The functions and the
# variable at the top of this file are visible to every step, wherever the file is loaded. The run is
# deterministic: the shuffle is seeded and k-NN ties are broken by a fixed rule.

# The four measurements of a flower: the features of the classifier (the other column is species).
$script:Features = 'sepal_length', 'sepal_width', 'petal_length', 'petal_width'

# The items in a seeded random order: a Fisher-Yates shuffle over System.Random, the same order on every
# machine and PowerShell version (Get-Random -Shuffle -SetSeed is seeded too, but its order is PowerShell's own).
function Get-ShuffledItem {
    param([object[]] $InputObject, [int] $Seed)
    $items = $InputObject.Clone()
    $random = [System.Random]::new($Seed)
    for ($i = $items.Count - 1; $i -gt 0; $i--) {
        $j = $random.Next($i + 1)
        $items[$i], $items[$j] = $items[$j], $items[$i]
    }
    $items
}

# The Euclidean distance between two flowers.
function Get-FlowerDistance {
    param($A, $B)
    $sum = 0.0
    foreach ($feature in $script:Features) { $d = $A.$feature - $B.$feature; $sum += $d * $d }
    [Math]::Sqrt($sum)
}

# The species the k nearest training flowers vote for. Ties are broken by a fixed rule: equal distances
# by training-row order, equal votes by the species whose voter is nearest.
function Get-KnnPrediction {
    param($Model, $Flower)
    $row = 0
    $nearest = $Model.Train |
        ForEach-Object { [pscustomobject]@{ Row = $row++; Species = $_.species; Distance = Get-FlowerDistance $_ $Flower } } |
        Sort-Object Distance, Row |
        Select-Object -First $Model.K
    $nearest |
        Group-Object Species |
        Sort-Object @{ Expression = 'Count'; Descending = $true }, @{ Expression = { $_.Group[0].Distance } }, @{ Expression = { $_.Group[0].Row } } |
        Select-Object -First 1 -ExpandProperty Name
}

AxlWorkflow iris-knn -IoHandler clixml -Description 'k-nearest-neighbours classifier on the Fisher iris data set' {
    Parameter NNeighbors -Default 3 -Type int -Description 'k: how many nearest training rows vote'
    Parameter TestFraction -Default 0.2 -Type double -Description 'share of the rows held out for evaluation'
    Parameter Seed -Default 42 -Type int -Description 'seed of the shuffle that splits train and test'
    Parameter DataPath -Default 'iris.csv' -Type string -Description 'CSV with sepal_length,sepal_width,petal_length,petal_width,species; relative paths are relative to this file'

    # The flowers of the CSV, with their measurements as numbers ([double] reads "5.1" the same in every culture).
    Step load_data {
        param([string] $DataPath)
        # A relative path is relative to this file, so the workflow (and its hash) is the same in any checkout.
        if (-not (Split-Path $DataPath -IsAbsolute)) { $DataPath = Join-Path $PSScriptRoot $DataPath }
        Import-Csv -LiteralPath $DataPath | ForEach-Object {
            foreach ($feature in $Features) { $_.$feature = [double] $_.$feature }
            $_
        }
    }

    # A seeded shuffle, then the first TestFraction of the rows is the test set, the rest the training set.
    Step split {
        param($load_data, [double] $TestFraction, [int] $Seed)
        $rows = Get-ShuffledItem -InputObject $load_data -Seed $Seed
        $testCount = [int] [Math]::Round($rows.Count * $TestFraction, [MidpointRounding]::AwayFromZero)
        [pscustomobject]@{
            Test  = @($rows | Select-Object -First $testCount)
            Train = @($rows | Select-Object -Skip $testCount)
        }
    }

    # k-NN is a lazy learner: the "model" is the training set and k.
    Step train -Retries 2 -Cpu 500m -Memory 1Gi {
        param($split, [int] $NNeighbors)
        if ($NNeighbors -lt 1) { throw "NNeighbors must be 1 or more, got $NNeighbors." }
        [pscustomobject]@{ Kind = 'knn'; K = $NNeighbors; Train = $split.Train }
    }

    # The share of the test flowers whose species the model predicts (a number between 0 and 1).
    Step evaluate -IoHandler json {
        [OutputType([double])]
        param($train, $split)
        $test = @($split.Test)
        if ($test.Count -eq 0) { throw 'The test set is empty; raise TestFraction.' }
        $correct = @($test | Where-Object { (Get-KnnPrediction -Model $train -Flower $_) -eq $_.species })
        [double] $correct.Count / $test.Count
    }

    # A one-line, human-readable summary of the run.
    Step report -IoHandler text {
        param([double] $evaluate, $split, $train)
        $accuracy = $evaluate.ToString('0.0000', [cultureinfo]::InvariantCulture)   # 1.0000 in every culture
        "iris-knn: k=$($train.K), train=$(@($split.Train).Count), test=$(@($split.Test).Count), accuracy=$accuracy"
    }
}
