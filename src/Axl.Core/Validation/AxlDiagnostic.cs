using Axl.Model;

namespace Axl.Validation;

/// <summary>
/// One finding about a workflow: a stable id users can match on (also the ErrorRecord id), the place
/// (file, line, step) and a fix. <see cref="ToString"/> gives the one-line form printed by the CLI.
/// </summary>
public sealed class AxlDiagnostic
{
    public AxlDiagnostic(string id, DiagnosticSeverity severity, string message, string? fix, SourceLocation location, string? workflow, string? step)
    {
        Id = id;
        Severity = severity;
        Message = message;
        Fix = fix;
        Location = location;
        Workflow = workflow;
        Step = step;
    }

    /// <summary>Stable identifier, e.g. "Axl.CycleDetected".</summary>
    public string Id { get; }
    public DiagnosticSeverity Severity { get; }
    public string Message { get; }
    public string? Fix { get; }
    public SourceLocation Location { get; }
    public string? File => Location.File;
    public int Line => Location.Line;
    public string? Workflow { get; }
    public string? Step { get; }

    public bool IsError => Severity == DiagnosticSeverity.Error;

    public override string ToString()
    {
        var where = Location.File is null && Location.Line == 0 ? "" : Location + ": ";
        var what = Step is not null ? $"step '{Step}': " : Workflow is not null ? $"workflow '{Workflow}': " : "";
        var fix = Fix is null ? "" : " Fix: " + Fix;
        return $"{where}{Severity.ToString().ToLowerInvariant()} {Id}: {what}{Message}{fix}";
    }
}

/// <summary>The ids of every rule, in one place so tests, docs and users agree.</summary>
public static class DiagnosticIds
{
    public const string CycleDetected = "Axl.CycleDetected";
    public const string DuplicateStep = "Axl.DuplicateStep";
    public const string InvalidName = "Axl.InvalidName";
    public const string NameCollision = "Axl.NameCollision";
    public const string ReservedName = "Axl.ReservedName";
    public const string UnknownIoHandler = "Axl.UnknownIoHandler";
    public const string InvalidQuantity = "Axl.InvalidQuantity";
    public const string InvalidCondition = "Axl.InvalidCondition";
    public const string ConditionNotUpstream = "Axl.ConditionNotUpstream";
    public const string CommandMissing = "Axl.CommandMissing";
    public const string BodyMissing = "Axl.BodyMissing";
    public const string BodyAndCommand = "Axl.BodyAndCommand";
    public const string AmbiguousInput = "Axl.AmbiguousInput";
    public const string UnboundInput = "Axl.UnboundInput";
    public const string UnknownDependency = "Axl.UnknownDependency";
    public const string UnknownPlaceholder = "Axl.UnknownPlaceholder";
    public const string InvalidInputMode = "Axl.InvalidInputMode";
    public const string InvalidOption = "Axl.InvalidOption";
    public const string EmptyWorkflow = "Axl.EmptyWorkflow";
    public const string DuplicateParameter = "Axl.DuplicateParameter";
    public const string InvalidArtifactStore = "Axl.InvalidArtifactStore";
    public const string GraphCall = "Axl.GraphCall";
    public const string InvalidSecret = "Axl.InvalidSecret";
}
