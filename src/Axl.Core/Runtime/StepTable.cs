using System.Text;

namespace Axl.Runtime;

/// <summary>
/// The step table that `axl run local` prints after a run: one row per step, columns aligned. A note of several lines
/// (a step error with a stack or a command's stderr) keeps the table aligned: its first line in the row, the rest below
/// it, indented to the OUTPUT column.
/// </summary>
public static class StepTable
{
    public static string Format(IReadOnlyList<AxlStepResult> steps, int max = 200, string? runFile = null)
    {
        var sb = new StringBuilder();
        var w = Math.Max(4, steps.Count == 0 ? 0 : steps.Max(s => s.Name.Length));
        sb.AppendLine($"  {"STEP".PadRight(w)}  {"STATUS",-10}  {"TRIES",5}  {"TIME",8}  OUTPUT");
        var indent = new string(' ', 2 + w + 2 + 10 + 2 + 5 + 2 + 8 + 2);
        foreach (var s in steps.Take(max))
        {
            var lines = Lines(Output(s));
            sb.AppendLine($"  {s.Name.PadRight(w)}  {s.Status.ToString().ToLowerInvariant(),-10}  {s.Attempts,5}  {(s.Duration is { } d ? $"{d.TotalSeconds:0.00}s" : "-"),8}  {lines[0]}".TrimEnd());
            foreach (var more in lines.Skip(1)) sb.AppendLine((indent + more).TrimEnd());
        }
        if (steps.Count > max) sb.AppendLine($"  ... {steps.Count - max} more steps{(runFile is null ? "" : $" (see {runFile})")}");
        return sb.ToString();
    }

    private static string Output(AxlStepResult s) => s.Status == StepStatus.Succeeded
        ? $"{Path.GetFileName(s.OutputPath)} ({Size(s.OutputSize ?? 0)}{(s.ReusedFrom is null ? "" : ", reused from " + s.ReusedFrom)})"
        : s.SkipReason ?? s.Error?.Message ?? "";

    private static string[] Lines(string text)
    {
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 1 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines.ToArray();
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KiB",
        _ => $"{bytes / 1024.0 / 1024.0:0.#} MiB",
    };
}
