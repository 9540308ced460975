using System.Collections;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Axl.Compilers.Argo;
using Axl.Delivery;
using Axl.Model;
using Axl.Serialization;
using Axl.Validation;

namespace Axl.Compilers.Kfp;

/// <summary>How a KFP pipeline is written to a file: the YAML itself, or a .zip or .tar.gz holding it as pipeline.yaml (what the KFP upload accepts).</summary>
public enum KfpPackageKind { Yaml, Zip, TarGz }

/// <summary>
/// A compiled KFP pipeline: the V2 pipeline spec or the V1 Argo Workflow, as an object tree with a summary.
/// <see cref="ToYaml"/> gives the file to upload (the same bytes for the same IR and options);
/// <see cref="ToPackage"/> the same in a .zip or .tar.gz.
/// </summary>
public sealed class KfpDocument
{
    /// <summary>The file name inside a .zip or .tar.gz package.</summary>
    public const string PackageEntry = "pipeline.yaml";

    private readonly string _yaml;

    internal KfpDocument(AxlWorkflow wf, KfpFormat format, ArgoMap tree, string header, IReadOnlyList<string> images, int taskCount, IReadOnlyList<AxlDiagnostic> warnings, ArgoMap? platformSpec = null, string? workflowHash = null)
    {
        PlatformSpec = platformSpec;
        Format = format;
        Tree = tree;
        Name = wf.KubernetesName;
        Workflow = wf.Name;
        WorkflowHash = workflowHash ?? wf.Hash;
        Images = images;
        TaskCount = taskCount;
        Warnings = warnings;
        _yaml = header + CompilerYaml.Serialize(tree) + (platformSpec is null ? "" : "---\n" + CompilerYaml.Serialize(platformSpec));
        Size = Encoding.UTF8.GetByteCount(_yaml);
    }

    /// <summary>V2 (pipeline spec) or V1 (KFP 1.8 Argo package).</summary>
    public KfpFormat Format { get; }
    /// <summary>The pipeline name (pipelineInfo.name; the V1 workflow's generateName without its '-').</summary>
    public string Name { get; }
    public string Workflow { get; }
    public string WorkflowHash { get; }
    /// <summary>Tasks that run a step (one per step; V2's code archive importer is not counted).</summary>
    public int TaskCount { get; }
    public IReadOnlyList<string> Images { get; }
    public long Size { get; }
    /// <summary>The size as "12.3 KiB" (for views: a property, so a deserialized document shows the same).</summary>
    public string SizeText => ArgoDocument.FormatSize(Size);
    /// <summary>The runner images, comma-separated.</summary>
    public string ImageText => string.Join(", ", Images);
    public IReadOnlyList<AxlDiagnostic> Warnings { get; }
    public IReadOnlyDictionary<string, object?> Tree { get; }
    /// <summary>V2: the platform spec (the YAML file's second document: Kubernetes secrets as environment variables), null when there is none.</summary>
    public IReadOnlyDictionary<string, object?>? PlatformSpec { get; }

    public string ToYaml() => _yaml;

    /// <summary>The same object as JSON (the pipeline spec's JSON form).</summary>
    public string ToJson(bool indented = true) => IrDocument.ToJson(Plain(Tree), indented);

    private static object? Plain(object? o) => o switch
    {
        PlainScalar p => p.ToDouble(),
        IDictionary<string, object?> m => m.ToDictionary(kv => kv.Key, kv => Plain(kv.Value)),
        IReadOnlyDictionary<string, object?> m => m.ToDictionary(kv => kv.Key, kv => Plain(kv.Value)),
        string s => s,
        IEnumerable e => e.Cast<object?>().Select(Plain).ToList(),
        _ => o,
    };

    /// <summary>The package kind a file name asks for: .zip, .tar.gz or .tgz, else YAML.</summary>
    public static KfpPackageKind PackageKindOf(string path) =>
        path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? KfpPackageKind.Zip
        : path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) ? KfpPackageKind.TarGz
        : KfpPackageKind.Yaml;

    /// <summary>The bytes of the file: the YAML, or a package holding it as pipeline.yaml with fixed times and owners (the same bytes every time).</summary>
    public byte[] ToPackage(KfpPackageKind kind)
    {
        var yaml = new UTF8Encoding(false).GetBytes(_yaml);
        switch (kind)
        {
            case KfpPackageKind.Zip:
            {
                using var ms = new MemoryStream();
                using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
                {
                    var entry = zip.CreateEntry(PackageEntry, CompressionLevel.Optimal);
                    entry.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
                    using var s = entry.Open();
                    s.Write(yaml);
                }
                return ms.ToArray();
            }
            case KfpPackageKind.TarGz:
            {
                using var tar = new MemoryStream();
                using (var writer = new TarWriter(tar, TarEntryFormat.Gnu, leaveOpen: true))
                {
                    var entry = new GnuTarEntry(TarEntryType.RegularFile, PackageEntry)
                    {
                        ModificationTime = CodeArchive.EntryTime,
                        Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                        Uid = 0, Gid = 0, UserName = "", GroupName = "",
                        DataStream = new MemoryStream(yaml),
                    };
                    writer.WriteEntry(entry);
                }
                return DeterministicGzip.Compress(tar.GetBuffer().AsSpan(0, (int)tar.Length));
            }
            default:
                return yaml;
        }
    }

    /// <summary>Writes the pipeline to <paramref name="path"/>, packaged by its extension (.yaml, .zip, .tar.gz); returns the package kind.</summary>
    public KfpPackageKind WriteTo(string path)
    {
        var kind = PackageKindOf(path);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, ToPackage(kind));
        return kind;
    }

    /// <summary>A size for people: "812 B", "12.4 KiB" (as <see cref="ArgoDocument.FormatSize"/>).</summary>
    public static string FormatSize(long bytes) => ArgoDocument.FormatSize(bytes);

    public override string ToString() => $"KFP {Format} pipeline {Name} ({TaskCount} task{(TaskCount == 1 ? "" : "s")}, {ArgoDocument.FormatSize(Size)})";
}
