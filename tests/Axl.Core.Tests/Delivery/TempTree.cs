using System.Formats.Tar;
using System.IO.Compression;

namespace Axl.Core.Tests.Delivery;

/// <summary>A scratch directory of files for archive tests; removed at the end.</summary>
internal sealed class TempTree : IDisposable
{
    public const UnixFileMode Rw = (UnixFileMode)0b110_100_100;      // 0644
    public const UnixFileMode Rwx = (UnixFileMode)0b111_101_101;     // 0755

    public TempTree(string? name = null)
    {
        Root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "axl-delivery-" + (name ?? "") + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string Path(string rel) => System.IO.Path.Combine(Root, rel.Replace('/', System.IO.Path.DirectorySeparatorChar));

    public string Write(string rel, string content, UnixFileMode? mode = null, DateTime? mtime = null)
    {
        var file = Path(rel);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.WriteAllText(file, content);
        if (mode is { } m && !OperatingSystem.IsWindows()) File.SetUnixFileMode(file, m);
        if (mtime is { } t) File.SetLastWriteTimeUtc(file, t);
        return file;
    }

    public void Link(string rel, string target)
    {
        var file = Path(rel);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.CreateSymbolicLink(file, target);
    }

    /// <summary>A tar.gz written with the framework's TarWriter, entry by entry as given (for crafted, hostile archives).</summary>
    public string Craft(string name, params TarEntry[] entries)
    {
        var file = Path(name);
        using (var fs = File.Create(file))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
        using (var w = new TarWriter(gz, TarEntryFormat.Gnu))
            foreach (var e in entries) w.WriteEntry(e);
        return file;
    }

    public static GnuTarEntry FileEntry(string name, string content = "x")
    {
        var e = new GnuTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) };
        return e;
    }

    public static GnuTarEntry Entry(TarEntryType type, string name, string? link = null)
    {
        var e = new GnuTarEntry(type, name);
        if (link is not null) e.LinkName = link;
        return e;
    }

    /// <summary>Relative path -> "f:&lt;content&gt;", "d" or "l:&lt;target&gt;", for comparing trees.</summary>
    public static SortedDictionary<string, string> Snapshot(string root)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Visit(DirectoryInfo dir, string rel)
        {
            foreach (var info in dir.EnumerateFileSystemInfos())
            {
                var path = rel.Length == 0 ? info.Name : rel + "/" + info.Name;
                if (info.LinkTarget is { } t) result[path] = "l:" + t;
                else if (info is DirectoryInfo d) { result[path] = "d"; Visit(d, path); }
                else result[path] = "f:" + File.ReadAllText(info.FullName);
            }
        }
        Visit(new DirectoryInfo(root), "");
        return result;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
