using System.Management.Automation;
using Axl.Compilers;
using Axl.Model;
using Axl.Runtime;
using Axl.Validation;

namespace Axl.Cmdlets.Compilers;

/// <summary>What the compile cmdlets share: compiling with errors and warnings written, and -OutFile (one workflow per file, ShouldProcess).</summary>
internal static class CompilerOutput
{
    /// <summary>
    /// Compiles one workflow for a ConvertTo-* cmdlet: an invalid workflow writes one error per diagnostic, a compile
    /// error (options, size) one error with its id; warnings are written as warnings. Null when nothing was compiled.
    /// </summary>
    public static T? Compile<T>(PSCmdlet cmdlet, AxlWorkflow wf, Func<AxlWorkflow, T> compile, Func<T, IEnumerable<AxlDiagnostic>> warnings) where T : class
    {
        T document;
        try
        {
            document = compile(wf);
        }
        catch (AxlInvalidWorkflowException ex)
        {
            foreach (var d in ex.Diagnostics.Where(d => d.IsError)) cmdlet.WriteError(AxlErrors.FromDiagnostic(d, wf));
            return null;
        }
        catch (AxlCompileException ex)
        {
            cmdlet.WriteError(new ErrorRecord(ex, ex.Id, ex.Id is CompileErrorIds.ArgoTooLarge or CompileErrorIds.ArgoTooManyItems ? ErrorCategory.LimitsExceeded : ErrorCategory.InvalidArgument, wf));
            return null;
        }
        foreach (var w in warnings(document)) cmdlet.WriteWarning(w.ToString());
        return document;
    }

    public static bool Write(PSCmdlet cmdlet, string outFile, ref int written, Axl.Model.AxlWorkflow wf, Action<string> write)
    {
        var path = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(outFile);
        if (written > 0)
        {
            cmdlet.WriteError(new ErrorRecord(new InvalidOperationException($"-OutFile {outFile} already holds workflow number {written}; workflow '{wf.Name}' was not written. Fix: compile one workflow per -OutFile (Get-AxlWorkflow file.axl.ps1:Name)."),
                "Axl.OneWorkflowPerFile", ErrorCategory.InvalidOperation, wf));
            return false;
        }
        written++;
        if (!cmdlet.ShouldProcess(path, $"Write the compiled workflow '{wf.Name}'")) return false;
        try
        {
            write(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            cmdlet.WriteError(new ErrorRecord(ex, "Axl.OutFileNotWritten", ErrorCategory.WriteError, path));
            return false;
        }
    }
}
