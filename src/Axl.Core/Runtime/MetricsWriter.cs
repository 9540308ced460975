using System.Globalization;
using System.Text;

namespace Axl.Runtime;

/// <summary>
/// A run's metrics in the Prometheus text exposition format (version 0.0.4), for node_exporter's textfile collector:
/// the run's duration, status and step counts, and per step its duration, status, retries and output bytes. The file
/// is written atomically (a temp file in the same folder, then a rename), so the collector never reads half a file;
/// the temp file's name does not end in .prom, so the collector never picks it up either.
/// </summary>
public static class MetricsWriter
{
    /// <summary>The text of the metrics of <paramref name="run"/>: # HELP and # TYPE before every family's samples.</summary>
    public static string Format(AxlRun run) => Format(new[] { run });

    /// <summary>
    /// The text of the metrics of several runs (e.g. every workflow one Invoke-AxlLocalRun ran): each family once, with
    /// the samples of every run; the completion time of a workflow is that of its last run.
    /// </summary>
    public static string Format(IReadOnlyList<AxlRun> runs)
    {
        var sb = new StringBuilder();
        static (string, string)[] RunLabels(AxlRun run) => [("workflow", run.Workflow), ("run_id", run.RunId)];

        Family(sb, "axl_run_duration_seconds", "gauge", "Wall-clock time of the run, in seconds.");
        foreach (var run in runs)
            Sample(sb, "axl_run_duration_seconds", RunLabels(run), Seconds(run.Duration));

        Family(sb, "axl_run_status", "gauge", "Status of the run: 1 for the status it ended with, 0 for the others.");
        foreach (var run in runs)
            foreach (var status in new[] { RunStatus.Succeeded, RunStatus.Failed, RunStatus.Cancelled })
                Sample(sb, "axl_run_status", [.. RunLabels(run), ("status", Lower(status))], run.Status == status ? 1 : 0);

        Family(sb, "axl_run_steps_total", "gauge", "Steps of the run by the status they ended with.");
        foreach (var run in runs)
            foreach (var status in Enum.GetValues<StepStatus>())
                Sample(sb, "axl_run_steps_total", [.. RunLabels(run), ("status", Lower(status))], run.Steps.Count(s => s.Status == status));

        Family(sb, "axl_run_last_completion_timestamp_seconds", "gauge", "When the workflow's last run ended, in seconds since the Unix epoch.");
        foreach (var workflow in runs.GroupBy(r => r.Workflow, StringComparer.Ordinal))
            Sample(sb, "axl_run_last_completion_timestamp_seconds", [("workflow", workflow.Key)],
                workflow.Max(r => r.EndTime ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds() / 1000.0);

        Family(sb, "axl_step_duration_seconds", "gauge", "Wall-clock time of the step (all its attempts), in seconds; 0 for a step that did not run.");
        foreach (var run in runs)
            foreach (var s in run.Steps)
                Sample(sb, "axl_step_duration_seconds", StepLabels(run, s), Seconds(s.Duration));

        Family(sb, "axl_step_status", "gauge", "Status of the step: 1 for the status it ended with, 0 for the others.");
        foreach (var run in runs)
            foreach (var s in run.Steps)
                foreach (var status in Enum.GetValues<StepStatus>())
                    Sample(sb, "axl_step_status", [.. StepLabels(run, s), ("status", Lower(status))], s.Status == status ? 1 : 0);

        Family(sb, "axl_step_retries_total", "counter", "Attempts of the step after its first one.");
        foreach (var run in runs)
            foreach (var s in run.Steps)
                Sample(sb, "axl_step_retries_total", StepLabels(run, s), Math.Max(0, s.Attempts - 1));

        Family(sb, "axl_step_output_bytes", "gauge", "Size of the step's output artifact in bytes; 0 for a step without one.");
        foreach (var run in runs)
            foreach (var s in run.Steps)
                Sample(sb, "axl_step_output_bytes", StepLabels(run, s), s.OutputSize ?? 0);
        return sb.ToString();
    }

    /// <summary>
    /// Writes the metrics of <paramref name="run"/> to <paramref name="path"/> atomically (the folder is made if need be).
    /// Throws <see cref="AxlMetricsException"/> naming the file when it cannot be written.
    /// </summary>
    public static void Write(AxlRun run, string path) => Write(new[] { run }, path);

    /// <summary>Writes the metrics of <paramref name="runs"/> to one file, atomically (see <see cref="Format(IReadOnlyList{AxlRun})"/>).</summary>
    public static void Write(IReadOnlyList<AxlRun> runs, string path)
    {
        try
        {
            RunStore.WriteAtomic(Path.GetFullPath(path), Format(runs));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new AxlMetricsException($"the metrics file '{path}' could not be written: {ex.Message}. Fix: give a path in a folder you can write (node_exporter reads *.prom files in its --collector.textfile.directory).", ex);
        }
    }

    /// <summary>A label value escaped as the format wants it: backslash, double quote and line feed as \\, \" and \n.</summary>
    public static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static (string, string)[] StepLabels(AxlRun run, AxlStepResult s) => [("workflow", run.Workflow), ("run_id", run.RunId), ("step", s.Name)];

    private static void Family(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n')
          .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder sb, string name, IEnumerable<(string Name, string Value)> labels, double value)
    {
        sb.Append(name).Append('{');
        var first = true;
        foreach (var (label, text) in labels)
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append(label).Append("=\"").Append(EscapeLabelValue(text)).Append('"');
        }
        sb.Append("} ").Append(Number(value)).Append('\n');
    }

    private static string Number(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static double Seconds(TimeSpan? d) => d is { } t ? Math.Max(0, t.TotalSeconds) : 0;

    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}

/// <summary>The metrics file could not be written; the message names it and says how to fix it.</summary>
public sealed class AxlMetricsException(string message, Exception inner) : Exception(message, inner);
