using System.Collections.Concurrent;

namespace Axl.Runtime;

/// <summary>
/// Makes a run's step folders ahead of their steps, in the order given, on a thread of its own: a step then starts in
/// a folder that is there already, instead of paying for a new directory (on some file systems the dearest part of a
/// short step) on the scheduler's thread. Only a folder this thread made new is handed out as new (<see cref="Claim"/>);
/// one that existed (a resumed run) is left alone, and its step checks and cleans it as before. A folder made for a step
/// that never runs stays empty (its step's record, when it gets one, goes there as it would).
/// </summary>
internal sealed class StepFolders : IDisposable
{
    /// <summary>Makes nothing ahead: every step makes its own folder.</summary>
    public static readonly StepFolders None = new();

    private readonly ConcurrentDictionary<string, bool> _made = new(StringComparer.OrdinalIgnoreCase);
    private readonly Thread? _thread;
    private volatile bool _stop;

    private StepFolders() { }

    private StepFolders(IReadOnlyList<(string Step, string Directory)> folders)
    {
        _thread = new Thread(() => Make(folders)) { IsBackground = true, Name = "axl step folders" };
        _thread.Start();
    }

    /// <summary>Starts making <paramref name="folders"/> (step name, its folder) that do not exist yet, in this order.</summary>
    public static StepFolders MakeAhead(IReadOnlyList<(string Step, string Directory)> folders) => folders.Count == 0 ? None : new StepFolders(folders);

    private void Make(IReadOnlyList<(string Step, string Directory)> folders)
    {
        foreach (var (step, dir) in folders)
        {
            // A step that has started (claimed, or made its folder itself) is passed: its folder is its own now.
            if (_stop || _made.ContainsKey(step)) continue;
            try
            {
                if (Directory.Exists(dir)) { _made.TryAdd(step, false); continue; }
                Directory.CreateDirectory(dir);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return; } // the steps make their own, and say why not
            _made.TryAdd(step, true);
        }
    }

    /// <summary>
    /// True when <paramref name="step"/>'s folder was made new here (the step need not make or clean it); false when the
    /// step must look for itself (not made yet, or it existed). A step claims its folder once, when it starts: after
    /// that this thread does not touch it.
    /// </summary>
    public bool Claim(string step)
    {
        if (_thread is null) return false;
        // Marks the step started when the folder is not made yet, so a folder made after this is never taken for new.
        return !_made.TryAdd(step, false) && _made.TryRemove(step, out var made) && made;
    }

    /// <summary>Stops making folders and waits for the thread (no folder is made after this returns).</summary>
    public void Dispose()
    {
        _stop = true;
        _thread?.Join();
    }
}
