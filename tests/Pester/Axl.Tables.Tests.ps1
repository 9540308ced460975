#Requires -Version 7.4
# Pester 5 tests of the table handlers' typed paths (issue 16, point 4) as a workflow user meets them: a step that returns
# [pscustomobject] rows, one that returns instances of a PowerShell class, one that returns a DataTable, saved as parquet,
# arrow and csv by Invoke-AxlLocalRun; the artifacts read back with the values and types the steps returned, and the
# handlers took the PSCustomObject, typed and DataTable paths (counted by Axl.IO.TableSource in this process). Read rows
# are objects of a generated row class: cmdlets, a downstream clixml step and a job's Receive-Job see their properties.
# Run from the repository root after `dotnet build` and `dotnet restore tests/Pester/restore`:
#   dotnet pwsh -NoProfile -File tests/Pester/Invoke-AxlPester.ps1 -Path tests/Pester/Axl.Tables.Tests.ps1

BeforeAll {
    $modulePath = [System.IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../../artifacts/module/Axl/Axl.psd1'))
    if (-not (Test-Path -LiteralPath $modulePath)) {
        throw "The Axl module is not built: expected $modulePath. Run 'dotnet build' at the repository root first."
    }
    Import-Module $modulePath -Force -ErrorAction Stop
    $tableSource = (Get-AxlIoHandler parquet).GetType().Assembly.GetType('Axl.IO.TableSource', $true)
    $pathType = $tableSource.Assembly.GetType('Axl.IO.TablePath', $true)
    function Get-PathCount([string] $Path) { $tableSource.GetMethod('Count').Invoke($null, @([Enum]::Parse($pathType, $Path))) }

    $file = Join-Path $TestDrive 'tables.axl.ps1'
    Set-Content -LiteralPath $file -Value @'
class Reading {
    [long] $Id
    [double] $Value
    [string] $Name
    [datetime] $At
    Reading([long] $id) {
        $this.Id = $id; $this.Value = $id / 4; $this.Name = "r$id"
        $this.At = [datetime]::SpecifyKind([datetime]'2024-01-01', 'Utc').AddMinutes($id)
    }
}

AxlWorkflow tables {
    Step rows -IoHandler parquet {
        foreach ($i in 1..20000) {
            [pscustomobject]@{ Id = [long]$i; Score = $i * 0.5; Name = if ($i % 10) { "n$i" } else { $null }; Active = $i % 2 -eq 0
                               When = [datetime]::SpecifyKind([datetime]'2024-01-01', 'Utc').AddSeconds($i) }
        }
    }
    Step readings -IoHandler arrow { foreach ($i in 1..5000) { [Reading]::new($i) } }
    Step table -IoHandler csv {
        $t = [System.Data.DataTable]::new()
        [void]$t.Columns.Add('Id', [long]); [void]$t.Columns.Add('Name', [string])
        foreach ($i in 1..300) { [void]$t.Rows.Add($i, "t$i") }
        , $t
    }
    Step head -IoHandler clixml { param($rows) @($rows)[0..2] }
    Step total -IoHandler json {
        param($rows, $readings, $table)
        [ordered]@{
            rows = @($rows).Count; sum = ($rows | Measure-Object Id -Sum).Sum; nulls = @($rows | Where-Object { $null -eq $_.Name }).Count
            readings = @($readings).Count; value = ($readings | Measure-Object Value -Sum).Sum
            table = @($table).Count; last = @($table)[-1].Name
        }
    }
}
'@
}

Describe 'table artifacts through the typed paths' {
    BeforeAll {
        $before = @{}
        foreach ($p in 'PSCustomObjects', 'Typed', 'DataTable', 'Rows') { $before[$p] = Get-PathCount $p }
        $run = Invoke-AxlLocalRun -LiteralPath $file -RunRoot (Join-Path $TestDrive 'runs') -ErrorAction Stop
    }

    It 'saves PSCustomObject rows, class instances and a DataTable through their own paths' {
        (Get-PathCount PSCustomObjects) - $before.PSCustomObjects | Should -BeGreaterOrEqual 1
        (Get-PathCount Typed) - $before.Typed | Should -BeGreaterOrEqual 1
        (Get-PathCount DataTable) - $before.DataTable | Should -BeGreaterOrEqual 1
    }

    It 'reads the parquet rows back with their values and types' {
        $rows = @($run | Get-AxlArtifact -Step rows)
        $rows.Count | Should -Be 20000
        $rows[0].Id | Should -BeOfType [long]
        $rows[0].Score | Should -Be 0.5
        $rows[9].Name | Should -BeNullOrEmpty
        $rows[1].Active | Should -BeTrue
        $rows[0].When | Should -Be ([datetime]::SpecifyKind([datetime]'2024-01-01 00:00:01', 'Utc'))
        $rows[0].When.Kind | Should -Be 'Utc'
        ($rows[0].psobject.Properties.Name -join ',') | Should -Be 'Id,Score,Name,Active,When'
        $rows[0] | Add-Member -NotePropertyName Extra -NotePropertyValue 1 -PassThru | Select-Object -ExpandProperty Extra | Should -Be 1
    }

    It 'reads rows as objects of a generated row class that cmdlets, clixml steps and jobs treat as PSCustomObject rows' {
        $rows = @($run | Get-AxlArtifact -Step rows)
        $rows[0].GetType().FullName | Should -BeLike 'Axl.Rows.Row_*'
        @($rows | Where-Object Score -gt 9999.5).Count | Should -Be 1
        ($rows | Sort-Object Score -Descending | Select-Object -First 1).Id | Should -Be 20000
        ($rows[0] | ConvertTo-Json -Compress) | Should -Be '{"Id":1,"Score":0.5,"Name":"n1","Active":false,"When":"2024-01-01T00:00:01Z"}'
        "$($rows[1])" | Should -Be '@{Id=2; Score=1; Name=n2; Active=True; When=01/01/2024 00:00:02}'
        $head = @($run | Get-AxlArtifact -Step head)
        $head.Count | Should -Be 3
        ($head[2].psobject.Properties.Name -join ',') | Should -Be 'Id,Score,Name,Active,When'
        $head[2].Id | Should -Be 3
        $head[2].When | Should -Be ([datetime]::SpecifyKind([datetime]'2024-01-01 00:00:03', 'Utc'))
        $back = @(Start-Job -ScriptBlock { param($r) $r | ForEach-Object { $_ } } -ArgumentList (, $rows[0..1]) | Receive-Job -Wait -AutoRemoveJob)
        $back.Count | Should -Be 2
        $back[1].Name | Should -Be 'n2'
        ($back[1].psobject.Properties.Name | Where-Object { $_ -notlike 'PS*' -and $_ -ne 'RunspaceId' }) -join ',' | Should -Be 'Id,Score,Name,Active,When'
    }

    It 'hands the tables to the next step, which sees every row' {
        $total = $run | Get-AxlArtifact -Step total
        $total.rows | Should -Be 20000
        $total.sum | Should -Be (20000 * 20001 / 2)
        $total.nulls | Should -Be 2000
        $total.readings | Should -Be 5000
        $total.value | Should -Be ((5000 * 5001 / 2) / 4)
        $total.table | Should -Be 300
        $total.last | Should -Be 't300'
    }
}
