using System.Management.Automation;
using Axl.Dsl;
using Axl.Validation;

namespace Axl.Cmdlets;

/// <summary>ErrorRecords with stable ids and categories for the exceptions and diagnostics Core produces.</summary>
internal static class AxlErrors
{
    public static ErrorRecord FromLoad(AxlLoadException ex, object? target) => new(
        ex, ex.Id,
        ex.Id switch
        {
            "Axl.WorkflowFileNotFound" => ErrorCategory.ObjectNotFound,
            "Axl.WorkflowNotFound" => ErrorCategory.ObjectNotFound,
            "Axl.WorkflowParseError" => ErrorCategory.ParserError,
            _ => ErrorCategory.InvalidData,
        },
        target);

    public static ErrorRecord FromDiagnostic(AxlDiagnostic d, object? target) =>
        new(new AxlValidationException(d), d.Id, ErrorCategory.InvalidData, target);

    public static ErrorRecord FromDsl(AxlDslException ex, object? target) => new(ex, ex.Id, ErrorCategory.InvalidOperation, target);
}

/// <summary>A validation diagnostic as an exception, for ErrorRecords and terminating errors.</summary>
public sealed class AxlValidationException : Exception
{
    public AxlValidationException(AxlDiagnostic diagnostic) : base(diagnostic.ToString()) => Diagnostic = diagnostic;
    public AxlDiagnostic Diagnostic { get; }
}
