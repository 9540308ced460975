using Axl.IO;

namespace Axl.Runtime;

/// <summary>
/// Group commit of a local run's step records. A finished step's artifact is written (temp file, hashed while written,
/// renamed into place) but not synced, so the steps after it start from it at once; its record (step.json, the cache
/// journal line, the store link) is handed here with the files it vouches for. A thread of its own takes every record
/// waiting, makes all their files durable together (<see cref="DurableFiles.Sync"/>: one syncfs on Linux), then writes
/// the records in the order they were handed in: a step's record never precedes the record of a step that finished
/// before it (its upstream steps), and never precedes its artifact's bytes on disk. A crash before the commit loses only
/// records: those steps are not recorded as done (their step.json still says running) and run again on resume.
/// </summary>
internal sealed class StepCommitter : IDisposable
{
    private readonly Queue<Entry> _queue = new();
    private readonly object _gate = new();
    private readonly Action<string, Exception> _onFailure;
    private readonly Action<IReadOnlyList<string>> _sync;
    private readonly Thread _thread;
    private readonly RunTrace? _trace;
    private bool _closing;
    private int _inFlight;
    private Exception? _bug;

    /// <summary>A record to write: <see cref="Record"/> returns false when it chose not to write it (the step is then not recorded).</summary>
    private sealed record Entry(string Step, IReadOnlyList<string> Files, Func<bool> Record, bool Provisional = false);

    /// <param name="onFailure">Called (on the committer's thread) with the step's name when its files cannot be made durable
    /// or its record cannot be written: that record is not written.</param>
    /// <param name="sync">Makes files durable (<see cref="DurableFiles.Sync"/>).</param>
    public StepCommitter(Action<string, Exception> onFailure, Action<IReadOnlyList<string>>? sync = null, RunTrace? trace = null)
    {
        _onFailure = onFailure;
        _sync = sync ?? DurableFiles.Sync;
        _trace = trace;
        _thread = new Thread(Loop) { IsBackground = true, Name = "axl step committer" };
        _thread.Start();
    }

    /// <summary>Queues <paramref name="record"/>, to run once <paramref name="files"/> (none: at once, in order) are durable.</summary>
    public void Commit(string step, IReadOnlyList<string> files, Action record) => Commit(step, files, () => { record(); return true; });

    /// <summary>As <see cref="Commit(string, IReadOnlyList{string}, Action)"/>; <paramref name="record"/> returns false when it did not write the record.</summary>
    public void Commit(string step, IReadOnlyList<string> files, Func<bool> record) => Enqueue(new Entry(step, files, record));

    private void Enqueue(Entry entry)
    {
        lock (_gate)
        {
            if (_closing) throw new InvalidOperationException("the step committer is closed");
            _queue.Enqueue(entry);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Queues a provisional record of <paramref name="step"/> (a step's "running" state): written in its place in the order
    /// like any other, unless a later record of the same step in the same batch is written, which says all it says (then
    /// only that one is written: one step.json write for a short step instead of two). When that later record is not
    /// written (its files could not be made durable, or it chose not to), the provisional one is written after all.
    /// </summary>
    public void CommitProvisional(string step, Action record) =>
        Enqueue(new Entry(step, Array.Empty<string>(), () => { record(); return true; }, Provisional: true));

    /// <summary>Waits until every record handed in so far is written (or has failed).</summary>
    public void Flush()
    {
        lock (_gate)
            while (_queue.Count > 0 || _inFlight > 0) Monitor.Wait(_gate);
        if (_bug is { } bug) throw new InvalidOperationException($"writing a step record failed: {bug.Message}", bug);
    }

    private void Loop()
    {
        var batch = new List<Entry>();
        var files = new List<string>();
        var held = new Dictionary<string, Entry>(StringComparer.OrdinalIgnoreCase); // provisional records held back for a later one of their step
        while (true)
        {
            lock (_gate)
            {
                while (_queue.Count == 0 && !_closing) Monitor.Wait(_gate);
                if (_queue.Count == 0) return; // closing, all written
                while (_queue.TryDequeue(out var e)) batch.Add(e);
                _inFlight = batch.Count;
            }
            var t = RunTrace.Now();
            foreach (var e in batch) files.AddRange(e.Files);
            Exception? syncFailure = null;
            try { _sync(files); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { syncFailure = ex; }
            t = _trace?.Add("committer: sync (batched)", t) ?? t;
            for (var i = 0; i < batch.Count; i++)
            {
                var e = batch[i];
                if (e.Provisional && Superseded(batch, i)) { held[e.Step] = e; continue; }
                // When the batch's sync failed, the records whose own files sync now are still written.
                if (syncFailure is not null && e.Files.Count > 0)
                {
                    try { _sync(e.Files); }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        _onFailure(e.Step, ex);
                        WriteHeld(held, e.Step);
                        continue;
                    }
                }
                var written = false;
                try { written = e.Record(); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { _onFailure(e.Step, ex); }
                catch (Exception ex) { _bug ??= ex; } // a bug: rethrown by Flush, and the thread goes on (no one waits forever)
                if (!written) WriteHeld(held, e.Step);
            }
            held.Clear();
            _trace?.Add("committer: records", t);
            batch.Clear();
            files.Clear();
            lock (_gate)
            {
                _inFlight = 0;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>The provisional record held back for <paramref name="step"/>'s later record, which was not written: written now.</summary>
    private void WriteHeld(Dictionary<string, Entry> held, string step)
    {
        if (!held.Remove(step, out var provisional)) return;
        try { provisional.Record(); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { _onFailure(step, ex); }
        catch (Exception ex) { _bug ??= ex; }
    }

    /// <summary>True when a later record of the same step in the batch is not provisional (it is written in place of this one).</summary>
    private static bool Superseded(List<Entry> batch, int i)
    {
        for (var j = i + 1; j < batch.Count; j++)
            if (!batch[j].Provisional && string.Equals(batch[j].Step, batch[i].Step, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>Writes what is queued, then stops the thread.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _closing = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
    }
}
