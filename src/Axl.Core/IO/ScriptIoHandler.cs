using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Axl.IO;

/// <summary>
/// An IO handler written in PowerShell: a write script <c>param($Value, $Path)</c> that writes the value to a file,
/// and a read script <c>param($Path)</c> that returns the object. The scripts run from their text in a private
/// runspace (one call at a time), so they see no variables of the session that registered them.
/// </summary>
public sealed class ScriptIoHandler : IAxlIoHandler, IDisposable
{
    private readonly string _write;
    private readonly string _read;
    private readonly object _gate = new();
    private Runspace? _runspace;

    public ScriptIoHandler(string name, string extension, string writeScript, string readScript, string? description = null)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("An IO handler needs a name.", nameof(name));
        if (!extension.StartsWith('.')) extension = "." + extension;
        Name = name;
        Extension = extension;
        Description = description ?? $"PowerShell IO handler '{name}'";
        _write = writeScript;
        _read = readScript;
    }

    public string Name { get; }
    public string Extension { get; }
    public string Description { get; }

    public void Write(object? value, Stream destination)
    {
        var tmp = Path.Combine(Path.GetTempPath(), $"axl-{Name}-{Guid.NewGuid():N}{Extension}");
        try
        {
            Invoke(_write, "write", value, tmp);
            if (!File.Exists(tmp)) throw new InvalidOperationException($"the write script of IO handler '{Name}' wrote nothing to $Path.");
            using var src = File.OpenRead(tmp);
            src.CopyTo(destination);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public object? Read(Stream source)
    {
        var tmp = Path.Combine(Path.GetTempPath(), $"axl-{Name}-{Guid.NewGuid():N}{Extension}");
        try
        {
            using (var dst = File.Create(tmp)) source.CopyTo(dst);
            var output = Invoke(_read, "read", null, tmp, readOnly: true);
            return output.Count switch { 0 => null, 1 => output[0], _ => output.ToArray() };
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    private IList<PSObject> Invoke(string script, string what, object? value, string path, bool readOnly = false)
    {
        lock (_gate)
        {
            if (_runspace is null)
            {
                _runspace = RunspaceFactory.CreateRunspace(AxlEngine.CreateSessionState());
                _runspace.Open();
            }
            using var ps = PowerShell.Create();
            ps.Runspace = _runspace;
            ps.AddScript("$ErrorActionPreference = 'Stop'").AddStatement();
            ps.AddScript(script, useLocalScope: true);
            if (readOnly) ps.AddParameter("Path", path);
            else ps.AddParameter("Value", value).AddParameter("Path", path);
            try
            {
                var result = ps.Invoke();
                if (ps.HadErrors && ps.Streams.Error.Count > 0) throw new InvalidOperationException(ps.Streams.Error[0].ToString());
                return result;
            }
            catch (RuntimeException ex)
            {
                throw new InvalidOperationException($"the {what} script of IO handler '{Name}' failed: {ex.Message}", ex);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate) _runspace?.Dispose();
    }
}
