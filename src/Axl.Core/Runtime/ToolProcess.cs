using System.Diagnostics;

namespace Axl.Runtime;

/// <summary>
/// Runs a tool Axl drives on the user's behalf (python, pip, uv) to its end with its output captured, for the package
/// installs of <see cref="WarmEnvironment"/> and <see cref="StepPackages"/>.
/// </summary>
internal static class ToolProcess
{
    internal sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>
    /// Runs <paramref name="program"/> and waits; a program that cannot start gives exit code 127 and the reason as its
    /// error. <paramref name="isolatePython"/>: the environment of a Python the user has activated (VIRTUAL_ENV,
    /// PYTHONPATH) is not passed on, so the tool works on the interpreter it is given and nothing else.
    /// </summary>
    internal static Result Run(string program, IEnumerable<string> args, bool isolatePython, string? workingDirectory = null, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
        if (isolatePython)
        {
            psi.Environment.Remove("VIRTUAL_ENV");
            psi.Environment.Remove("PYTHONPATH");
        }
        try
        {
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return new Result(p.ExitCode, stdout.Result, stderr);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new Result(127, "", ex.Message);
        }
    }

    /// <summary>The last four non-empty lines of a tool's output, on one line, for an error message.</summary>
    internal static string Tail(string text) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).Where(l => l.Length > 0).TakeLast(4));
}
