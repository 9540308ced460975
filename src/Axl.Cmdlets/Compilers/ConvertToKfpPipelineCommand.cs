using System.Management.Automation;
using Axl.Cmdlets.Workflows;
using Axl.Compilers;
using Axl.Compilers.Kfp;
using Axl.Delivery;
using Axl.Runtime;

namespace Axl.Cmdlets.Compilers;

/// <summary>Compiles workflows to Kubeflow pipelines (the V2 pipeline spec or a KFP 1.8 package); all decisions are in KfpCompiler.</summary>
[Cmdlet(VerbsData.ConvertTo, "KfpPipeline", DefaultParameterSetName = WorkflowSet, SupportsShouldProcess = true, HelpUri = AxlHelp.OnlineBase + "ConvertTo-KfpPipeline.md")]
[OutputType(typeof(KfpDocument), typeof(string))]
public sealed class ConvertToKfpPipelineCommand : WorkflowInputCmdlet
{
    [Parameter] [ValidateSet("V2", "V1")] public string Format { get; set; } = "V2";
    [Parameter] public string? Image { get; set; }
    [Parameter] public string? ServiceAccount { get; set; }
    [Parameter] public string? CodeRoot { get; set; }
    [Parameter] public CodeArchiveLocation? CodeArchive { get; set; }
    [Parameter] public string? PipelineRoot { get; set; }
    [Parameter] public SwitchParameter EnableCaching { get; set; }
    /// <summary>-WarmEnv's shared volume (V2: kfp-kubernetes CreatePVC; V1: the Argo claim, and a pvc artifact store's).</summary>
    [Parameter] [ValidateSet("ReadWriteOnce", "ReadWriteMany")] public string PvcAccessMode { get; set; } = "ReadWriteOnce";
    [Parameter] public string? PvcStorageClass { get; set; }
    [Parameter] [ValidateRange(1, long.MaxValue)] public long MaxBytes { get; set; } = Axl.Compilers.Argo.ArgoCompileOptions.DefaultMaxBytes;
    /// <summary>Writes the pipeline to this file: .yaml, or a .zip or .tar.gz package. One workflow per file.</summary>
    [Parameter] public string? OutFile { get; set; }
    [Parameter] public SwitchParameter AsYaml { get; set; }

    private int _written;

    protected override void ProcessRecord()
    {
        var options = new KfpCompileOptions
        {
            Format = Enum.Parse<KfpFormat>(Format, ignoreCase: true),
            Image = Image,
            ServiceAccount = ServiceAccount,
            CodeRoot = CodeRoot is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CodeRoot),
            CodeArchive = CodeArchive,
            PipelineRoot = PipelineRoot,
            EnableCaching = EnableCaching.IsPresent,
            PvcAccessMode = PvcAccessMode,
            PvcStorageClass = PvcStorageClass,
            MaxBytes = MaxBytes,
        };
        foreach (var wf in InputWorkflows())
        {
            if (CompilerOutput.Compile(this, wf, w => KfpCompiler.Compile(w, options), d => d.Warnings) is not { } document) continue;
            WriteVerbose($"Compiled workflow '{wf.Name}' ({wf.ShortHash}) to {document}.");
            if (OutFile is not null && !CompilerOutput.Write(this, OutFile, ref _written, wf, path => document.WriteTo(path))) continue;
            WriteObject(AsYaml ? document.ToYaml() : document);
        }
    }
}
