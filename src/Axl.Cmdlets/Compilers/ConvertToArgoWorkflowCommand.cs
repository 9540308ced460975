using System.Management.Automation;
using Axl.Cmdlets.Workflows;
using Axl.Compilers;
using Axl.Compilers.Argo;
using Axl.Delivery;
using Axl.Runtime;

namespace Axl.Cmdlets.Compilers;

/// <summary>Compiles workflows to Argo Workflows objects (a Workflow or a WorkflowTemplate); all decisions are in ArgoCompiler.</summary>
[Cmdlet(VerbsData.ConvertTo, "ArgoWorkflow", DefaultParameterSetName = WorkflowSet, SupportsShouldProcess = true, HelpUri = AxlHelp.OnlineBase + "ConvertTo-ArgoWorkflow.md")]
[OutputType(typeof(ArgoDocument), typeof(string))]
public sealed class ConvertToArgoWorkflowCommand : WorkflowInputCmdlet
{
    [Parameter] [ValidateSet("Workflow", "WorkflowTemplate")] public string Kind { get; set; } = "Workflow";
    [Parameter] public string? Image { get; set; }
    [Parameter] public string? ServiceAccount { get; set; }
    [Parameter] public string? Namespace { get; set; }
    [Parameter] public string? CodeRoot { get; set; }
    [Parameter] public CodeArchiveLocation? CodeArchive { get; set; }
    [Parameter] public string? S3Endpoint { get; set; }
    [Parameter] public string? S3Region { get; set; }
    [Parameter] public SwitchParameter S3Insecure { get; set; }
    [Parameter] public string? S3CredentialsSecret { get; set; }
    [Parameter] [ValidateSet("ReadWriteOnce", "ReadWriteMany")] public string PvcAccessMode { get; set; } = "ReadWriteOnce";
    [Parameter] public string? PvcStorageClass { get; set; }
    [Parameter] [ValidateRange(1, long.MaxValue)] public long MaxBytes { get; set; } = ArgoCompileOptions.DefaultMaxBytes;
    [Parameter] [ValidateRange(3, int.MaxValue)] public int MaxTemplates { get; set; } = ArgoCompileOptions.DefaultMaxItems;
    [Parameter] [ValidateRange(2, int.MaxValue)] public int MaxDagTasks { get; set; } = ArgoCompileOptions.DefaultMaxItems;
    // A string, not the enum: a field of a Core value type would load Axl.Core before the module's resolver is in place.
    [Parameter] [ValidateSet("Auto", "None")] public string Split { get; set; } = "Auto";
    [Parameter] [ValidateRange(0, int.MaxValue)] public int? Parallelism { get; set; }
    /// <summary>Writes the YAML (every object of a split workflow) to this file, atomically. One workflow per file.</summary>
    [Parameter] public string? OutFile { get; set; }
    [Parameter] public SwitchParameter AsYaml { get; set; }

    private int _written;

    protected override void ProcessRecord()
    {
        var options = new ArgoCompileOptions
        {
            Kind = Enum.Parse<ArgoKind>(Kind, ignoreCase: true),
            Image = Image,
            ServiceAccount = ServiceAccount,
            Namespace = Namespace,
            CodeRoot = CodeRoot is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CodeRoot),
            CodeArchive = CodeArchive,
            S3Endpoint = S3Endpoint,
            S3Region = S3Region,
            S3Insecure = MyInvocation.BoundParameters.ContainsKey(nameof(S3Insecure)) ? S3Insecure.IsPresent : null,
            S3CredentialsSecret = S3CredentialsSecret,
            PvcAccessMode = PvcAccessMode,
            PvcStorageClass = PvcStorageClass,
            MaxBytes = MaxBytes,
            MaxTemplates = MaxTemplates,
            MaxDagTasks = MaxDagTasks,
            Split = Enum.Parse<ArgoSplit>(Split, ignoreCase: true),
            Parallelism = Parallelism,
        };
        foreach (var wf in InputWorkflows())
        {
            if (CompilerOutput.Compile(this, wf, w => ArgoCompiler.Compile(w, options), d => d.Warnings) is not { } document) continue;
            WriteVerbose($"Compiled workflow '{wf.Name}' ({wf.ShortHash}) to {document}.");
            if (OutFile is not null && !CompilerOutput.Write(this, OutFile, ref _written, wf, document.WriteTo)) continue;
            WriteObject(AsYaml ? document.ToYamlAll() : document);
        }
    }
}
