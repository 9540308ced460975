using System.Globalization;
using System.Text.Json;
using Axl.Serialization;

namespace Axl.Runtime;

/// <summary>
/// The run is being run or resumed by another process (or another runner in this one): nothing was touched.
/// The message names the run, the holder's pid, host and start time, and the fix.
/// </summary>
public sealed class AxlRunLockedException(string message, string runDirectory, RunLockHolder? holder) : Exception(message)
{
    public string RunDirectory { get; } = runDirectory;
    public RunLockHolder? Holder { get; } = holder;
}

/// <summary>Who holds a run's lock, as it wrote in &lt;run&gt;/.run.lock.json.</summary>
public sealed record RunLockHolder(int ProcessId, string Host, DateTimeOffset Since);

/// <summary>
/// One run, one writer: an exclusive OS lock on &lt;run&gt;/.run.lock (a FileStream with FileShare.None: flock on
/// Unix, a share lock on Windows) held for as long as a process runs or resumes the run. The OS drops it when the
/// process ends, however it ends, so a crashed run is never locked. The lock file itself is never deleted (deleting
/// it would let two processes lock two different files); .run.lock.json beside it says who holds it, for messages.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string LockFile = ".run.lock";
    public const string HolderFile = ".run.lock.json";

    private readonly FileStream _stream;
    private readonly string _directory;

    private RunLock(FileStream stream, string directory)
    {
        _stream = stream;
        _directory = directory;
    }

    /// <summary>
    /// Takes the run's lock and records this process as its holder, or throws <see cref="AxlRunLockedException"/>
    /// when another holds it. Tries for a moment (a probe of <see cref="IsHeld"/> holds it for microseconds), no longer.
    /// </summary>
    public static RunLock Acquire(string runDirectory, string runId, string workflow)
    {
        var held = TryAcquire(runDirectory, TimeSpan.FromMilliseconds(300));
        if (held is not null) return held;
        var holder = ReadHolder(runDirectory);
        var who = holder is null
            ? "another process"
            : $"process {holder.ProcessId} on {holder.Host} (since {holder.Since.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC)";
        throw new AxlRunLockedException(
            $"run '{runId}' of workflow '{workflow}' is being run by {who}; nothing was done to it. " +
            $"Fix: wait for that run to end (or stop that process), then resume it again. A crashed run holds no lock.",
            runDirectory, holder);
    }

    /// <summary>Takes the lock if it is free (waiting up to <paramref name="wait"/>), else null.</summary>
    public static RunLock? TryAcquire(string runDirectory, TimeSpan wait = default)
    {
        Directory.CreateDirectory(runDirectory);
        var path = Path.Combine(runDirectory, LockFile);
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            try
            {
                var fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                var l = new RunLock(fs, runDirectory);
                l.WriteHolder();
                return l;
            }
            catch (IOException) when (!(DateTime.UtcNow >= deadline))
            {
                Thread.Sleep(25);
            }
            catch (IOException) when (File.Exists(path))
            {
                return null;
            }
        }
    }

    /// <summary>
    /// True when a process holds the run's lock (it is running or resuming the run). A run without a lock file (made
    /// before locks, or never started) is not held.
    /// </summary>
    public static bool IsHeld(string runDirectory)
    {
        var path = Path.Combine(runDirectory, LockFile);
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (FileNotFoundException) { return false; }
        catch (DirectoryNotFoundException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
        catch (IOException) { return true; }
    }

    /// <summary>The holder recorded in .run.lock.json, or null when there is none (yet) or it cannot be read.</summary>
    public static RunLockHolder? ReadHolder(string runDirectory)
    {
        var path = Path.Combine(runDirectory, HolderFile);
        // The holder writes the file just after it takes the lock: give it a moment.
        for (var i = 0; i < 10; i++)
        {
            try
            {
                if (File.Exists(path))
                {
                    using var doc = JsonDocument.Parse(File.ReadAllText(path));
                    var r = doc.RootElement;
                    return new RunLockHolder(r.GetProperty("pid").GetInt32(), r.GetProperty("host").GetString() ?? "?",
                        DateTimeOffset.Parse(r.GetProperty("since").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException) { }
            Thread.Sleep(30);
        }
        return null;
    }

    private void WriteHolder()
    {
        try
        {
            RunStore.WriteAtomic(Path.Combine(_directory, HolderFile), IrDocument.ToJson(new Dictionary<string, object?>
            {
                ["pid"] = Environment.ProcessId,
                ["host"] = Environment.MachineName,
                ["since"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            }), durable: false);
        }
        catch (IOException) { /* only for messages */ }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Releases the lock (the holder record goes first: it would name a process that no longer holds it).</summary>
    public void Dispose()
    {
        try { File.Delete(Path.Combine(_directory, HolderFile)); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        _stream.Dispose();
    }
}
