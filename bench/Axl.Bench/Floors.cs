using System.Diagnostics;

namespace Axl.Bench;

/// <summary>
/// The floor of dispatch: the same step bodies run by a plain PowerShell loop in one runspace and one invocation, each
/// value handed to the steps that take it. Optionally every value goes through CLIXML in a file and back (one file per
/// value, read once per consumer: what an artifact costs at the least). The script blocks are compiled before the clock starts.
/// </summary>
public sealed class Floors(BenchRunspace rs)
{
    private const string Compile = """
        param($texts)
        $global:__axlBenchBlocks = [scriptblock[]]@(foreach ($t in $texts) { [scriptblock]::Create($t) })
        """;

    private const string Plain = """
        param($inputs, $names)
        $blocks = $global:__axlBenchBlocks
        $n = $blocks.Count
        $values = [object[]]::new($n)
        for ($i = 0; $i -lt $n; $i++) {
            $a = @{}
            foreach ($j in $inputs[$i]) { $a[$names[$j]] = $values[$j] }
            $values[$i] = & $blocks[$i] @a
        }
        $values[$n - 1]
        """;

    private const string WithClixml = """
        param($inputs, $names, $dir)
        $blocks = $global:__axlBenchBlocks
        $n = $blocks.Count
        $paths = [string[]]::new($n)
        for ($i = 0; $i -lt $n; $i++) {
            $a = @{}
            foreach ($j in $inputs[$i]) {
                $a[$names[$j]] = [System.Management.Automation.PSSerializer]::Deserialize([System.IO.File]::ReadAllText($paths[$j]))
            }
            $v = & $blocks[$i] @a
            $p = [System.IO.Path]::Combine($dir, "$i.clixml")
            [System.IO.File]::WriteAllText($p, [System.Management.Automation.PSSerializer]::Serialize($v, 64))
            $paths[$i] = $p
        }
        [System.Management.Automation.PSSerializer]::Deserialize([System.IO.File]::ReadAllText($paths[$n - 1]))
        """;

    /// <summary>Compiles the workload's bodies into $global:__axlBenchBlocks (outside the clock).</summary>
    public void Prepare(Workload w) => rs.Invoke(Compile, (object)w.Steps.Select(s => s.Body).ToArray());

    public void RunPlain(Workload w, Stopwatch clock)
    {
        var inputs = w.InputIndexes();
        var names = w.Steps.Select(s => s.Name).ToArray();
        clock.Start();
        var result = rs.Invoke(Plain, inputs, names);
        clock.Stop();
        Check(w, result.Single());
    }

    public void RunClixml(Workload w, Stopwatch clock, string workDir)
    {
        var inputs = w.InputIndexes();
        var names = w.Steps.Select(s => s.Name).ToArray();
        var dir = Path.Combine(workDir, "floor-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            clock.Start();
            var result = rs.Invoke(WithClixml, inputs, names, dir);
            clock.Stop();
            Check(w, result.Single());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static void Check(Workload w, object? value)
    {
        var v = Workload.Value(value);
        if (v != w.Expected) throw new InvalidOperationException($"floor of {w.Name} computed {v}, expected {w.Expected}");
    }
}
