namespace Axl.Compilers;

/// <summary>
/// A workflow that is valid but cannot be compiled for a target as asked (a missing option, a document too large
/// for the cluster). <see cref="Id"/> is stable (the ErrorRecord id); the message says what, <see cref="Fix"/> how.
/// An invalid workflow is refused with <see cref="Runtime.AxlInvalidWorkflowException"/> and the validator's diagnostics instead.
/// </summary>
public sealed class AxlCompileException(string id, string message, string? fix = null, string? workflow = null)
    : Exception(fix is null ? message : $"{message} Fix: {fix}")
{
    public string Id { get; } = id;
    public string? Fix { get; } = fix;
    public string? Workflow { get; } = workflow;
}

/// <summary>The ids of compile errors, in one place for tests, docs and users.</summary>
public static class CompileErrorIds
{
    /// <summary>The compiled document is over the size the cluster can store (etcd's ~1 MiB per object).</summary>
    public const string ArgoTooLarge = "Axl.ArgoTooLarge";
    /// <summary>One object would hold more templates or DAG tasks than Argo's CRDs allow (200 each in v4), and splitting is off.</summary>
    public const string ArgoTooManyItems = "Axl.ArgoTooManyItems";
    /// <summary>Code delivery Artifact without the location of the code archive.</summary>
    public const string CodeArchiveMissing = "Axl.CodeArchiveMissing";
    /// <summary>The workflow has no source file, or it is not under the code root: the runner could not find the step code.</summary>
    public const string WorkflowFileUnknown = "Axl.WorkflowFileUnknown";
    /// <summary>A compile option that is not valid or does not apply to the workflow.</summary>
    public const string InvalidCompileOption = "Axl.InvalidCompileOption";
    /// <summary>Something in the workflow that the target cannot express (a name clash with a generated name, a literal the condition language cannot quote).</summary>
    public const string NotExpressible = "Axl.NotExpressible";
}
