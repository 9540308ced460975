using System.Runtime.InteropServices;

namespace Axl.IO;

/// <summary>
/// Makes written files durable (their bytes and names on disk, surviving a power loss), one file or many at once.
/// Many files of one file system are synced with one <c>syncfs(2)</c> on Linux (the file system's dirty data and its
/// journal in one call: about the cost of one fsync, whatever the number of files); elsewhere, or when syncfs is
/// missing or fails, each file is fsynced.
/// </summary>
public static class DurableFiles
{
    /// <summary>
    /// Syncs <paramref name="files"/> to disk. All of them must be on one file system (the files of one run directory):
    /// with two or more on Linux, the file system of the first is synced whole. Throws an <see cref="IOException"/>
    /// naming the file when one cannot be synced.
    /// </summary>
    public static void Sync(IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) return;
        if (files.Count > 1 && OperatingSystem.IsLinux() && TrySyncFileSystem(files[0])) return;
        foreach (var f in files) SyncOne(f);
    }

    /// <summary>How many times this process synced a whole file system (for tests and the run trace).</summary>
    public static long FileSystemSyncs => Interlocked.Read(ref _fileSystemSyncs);

    /// <summary>How many single files this process fsynced.</summary>
    public static long FileSyncs => Interlocked.Read(ref _fileSyncs);

    private static long _fileSystemSyncs;
    private static long _fileSyncs;
    private static bool _noSyncFs;

    private static bool TrySyncFileSystem(string anyFile)
    {
        if (Volatile.Read(ref _noSyncFs)) return false;
        try
        {
            using var handle = File.OpenHandle(anyFile, FileMode.Open, FileAccess.Read);
            var ok = SyncFs((int)handle.DangerousGetHandle()) == 0;
            if (ok) Interlocked.Increment(ref _fileSystemSyncs);
            return ok; // -1 (EIO, EBADF...): each file is synced instead, and says which one fails
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref _noSyncFs, true);
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void SyncOne(string path)
    {
        try
        {
            if (OperatingSystem.IsWindows())
            {
                using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
                fs.Flush(flushToDisk: true);
            }
            else
            {
                // fsync needs no write access: a read-only file (a store entry's link) is synced too.
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                if (FSync((int)handle.DangerousGetHandle()) != 0)
                    throw new IOException($"fsync failed (errno {Marshal.GetLastPInvokeError()})");
            }
            Interlocked.Increment(ref _fileSyncs);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"'{path}' could not be synced to disk: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Asks the kernel to start writing the dirty pages of <paramref name="count"/> bytes of a file from
    /// <paramref name="offset"/> to disk now, without waiting (Linux <c>sync_file_range(SYNC_FILE_RANGE_WRITE)</c>): the disk
    /// works while the writer goes on, and the fsync that makes the file durable has less left to wait for. Only a hint:
    /// it makes nothing durable by itself, and does nothing elsewhere or when the call is missing or fails.
    /// </summary>
    public static void StartWriteback(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, long count)
    {
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref _noSyncFileRange) || count <= 0) return;
        try
        {
            if (SyncFileRange((int)file.DangerousGetHandle(), offset, count, SyncFileRangeWrite) == 0) Interlocked.Increment(ref _writebacks);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref _noSyncFileRange, true);
        }
    }

    /// <summary>How many times this process started the writeback of part of a file (<see cref="StartWriteback"/>).</summary>
    public static long WritebackStarts => Interlocked.Read(ref _writebacks);

    private static long _writebacks;
    private static bool _noSyncFileRange;
    private const uint SyncFileRangeWrite = 2;

    [DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static extern int SyncFileRange(int fd, long offset, long nbytes, uint flags);

    [DllImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static extern int SyncFs(int fd);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int FSync(int fd);
}
