using System.Globalization;
using System.Text;
using Axl.Model;
using Axl.Serialization;
using Axl.Validation;

namespace Axl.Compilers.Argo;

/// <summary>
/// A compiled Argo Workflow or WorkflowTemplate: the object tree (ordered maps, lists and strings) with a summary
/// of what is in it. <see cref="ToYaml"/> gives the manifest to submit (the same bytes for the same IR and
/// options); <see cref="ToJson"/> the same object as JSON, for the Kubernetes API.
/// </summary>
public sealed class ArgoDocument
{
    private readonly string _yaml;

    internal ArgoDocument(AxlWorkflow wf, ArgoCompileOptions options, ArgoMap tree, ArgoStorage storage, CodeDelivery delivery, IReadOnlyList<string> images, int taskCount, IReadOnlyList<AxlDiagnostic> warnings,
        IReadOnlyList<ArgoDocument>? templates = null, ArgoKind? kind = null, string? name = null, string? workflowHash = null)
    {
        Tree = tree;
        var k = kind ?? options.Kind;
        Kind = k.ToString();
        Name = name ?? (k == ArgoKind.Workflow ? wf.KubernetesName + "-" : wf.KubernetesName);
        Templates = templates ?? Array.Empty<ArgoDocument>();
        Namespace = options.Namespace;
        Workflow = wf.Name;
        WorkflowHash = workflowHash ?? CompilerSteps.WorkflowHash(wf, options.CodeRoot ?? options.CodeArchive?.CodeRoot);
        TaskCount = taskCount;
        ArtifactStorage = storage.ToString();
        CodeDelivery = delivery;
        Images = images;
        Warnings = warnings;
        // A split compile's step templates sit in the tree as RenderedMaps: their YAML, written to plan the split, is copied in.
        _yaml = CompilerYaml.Serialize(tree);
        Size = Encoding.UTF8.GetByteCount(_yaml);
    }

    public string ApiVersion => ArgoCompiler.ApiVersion;
    /// <summary>"Workflow" or "WorkflowTemplate".</summary>
    public string Kind { get; }
    /// <summary>metadata.generateName of a Workflow ("iris-knn-"), metadata.name of a WorkflowTemplate.</summary>
    public string Name { get; }
    public string? Namespace { get; }
    /// <summary>The Axl workflow compiled.</summary>
    public string Workflow { get; }
    public string WorkflowHash { get; }
    /// <summary>DAG tasks, one per step (and as many container templates).</summary>
    public int TaskCount { get; }
    /// <summary>"default" (the cluster's artifact repository), "ref:...", "s3://..." or "pvc:&lt;size&gt;".</summary>
    public string ArtifactStorage { get; }
    public CodeDelivery CodeDelivery { get; }
    /// <summary>Every image the pods use, sorted.</summary>
    public IReadOnlyList<string> Images { get; }
    /// <summary>Bytes of the YAML (UTF-8): what the cluster stores, before the run adds its status.</summary>
    public long Size { get; }
    /// <summary>Validation warnings of the workflow (errors refuse the compile).</summary>
    public IReadOnlyList<AxlDiagnostic> Warnings { get; }
    /// <summary>The object as ordered maps, lists and strings.</summary>
    public IReadOnlyDictionary<string, object?> Tree { get; }

    /// <summary>
    /// The WorkflowTemplates a split workflow's parent calls by templateRef, each before any template that calls it
    /// (install them in this order, then create the parent); empty when the workflow fits in this one object.
    /// </summary>
    public IReadOnlyList<ArgoDocument> Templates { get; }

    /// <summary>True when the workflow was split: this object is the parent and <see cref="Templates"/> hold the steps.</summary>
    public bool IsSplit => Templates.Count > 0;

    // Plain text for views: properties, not methods, so a deserialized document (Receive-Job, remoting) shows the same.
    /// <summary>The size as "12.3 KiB".</summary>
    public string SizeText => FormatSize(Size);
    /// <summary>How the document is split: "none (one object)" or how many WorkflowTemplates, their total size and names.</summary>
    public string TemplateSummary => IsSplit
        ? $"{Templates.Count} WorkflowTemplates called by templateRef ({FormatSize(Templates.Sum(t => t.Size) + Size)} in all): {string.Join(", ", Templates.Select(t => t.Name))}"
        : "none (one object)";
    /// <summary>The runner images, comma-separated.</summary>
    public string ImageText => string.Join(", ", Images);

    /// <summary>Every object to send to the cluster, in order: the templates, then this one.</summary>
    public IEnumerable<ArgoDocument> Documents => Templates.Append(this);

    /// <summary>This object alone as YAML (a split workflow's parent without its templates: see <see cref="ToYamlAll"/>).</summary>
    public string ToYaml() => _yaml;

    /// <summary>
    /// The whole compile as YAML: this object alone when it is not split, else a multi-document stream of the
    /// templates and then the parent, each after a "---" line (kubectl create -f, in that order).
    /// </summary>
    public string ToYamlAll()
    {
        if (!IsSplit) return _yaml;
        var w = new StringWriter(new StringBuilder(checked((int)Math.Min(int.MaxValue, Documents.Sum(d => d._yaml.Length + 4L)))), CultureInfo.InvariantCulture);
        WriteYamlAll(w);
        return w.ToString();
    }

    /// <summary>Writes <see cref="ToYamlAll"/>'s text to <paramref name="writer"/> piece by piece (never joined into one string).</summary>
    public void WriteYamlAll(TextWriter writer)
    {
        if (!IsSplit)
        {
            writer.Write(_yaml);
            return;
        }
        foreach (var d in Documents) WriteWithSeparator(writer, d);
    }

    /// <summary>Writes "---" and a line break, then one object's YAML: a document of a multi-document stream.</summary>
    public static void WriteWithSeparator(TextWriter writer, ArgoDocument document)
    {
        writer.Write("---\n");
        writer.Write(document._yaml);
    }

    /// <summary>
    /// Writes <see cref="ToYamlAll"/> to <paramref name="path"/> atomically (a reader sees the old file or the whole
    /// new one, never a part), creating its folder.
    /// </summary>
    public void WriteTo(string path) => Runtime.RunStore.WriteAtomic(Path.GetFullPath(path), WriteYamlAll, durable: false);

    public string ToJson(bool indented = true) => IrDocument.ToJson(Tree, indented);

    public override string ToString() => IsSplit
        ? $"{Kind} {Name} ({TaskCount} task{(TaskCount == 1 ? "" : "s")} in {Templates.Count} WorkflowTemplates, {FormatSize(Size + Templates.Sum(t => t.Size))} in all)"
        : $"{Kind} {Name} ({TaskCount} task{(TaskCount == 1 ? "" : "s")}, {FormatSize(Size)})";

    /// <summary>A size for people: "812 B", "12.4 KiB", "1.3 MiB".</summary>
    public static string FormatSize(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        _ => (bytes / 1024.0 / 1024.0).ToString("0.##", CultureInfo.InvariantCulture) + " MiB",
    };
}
