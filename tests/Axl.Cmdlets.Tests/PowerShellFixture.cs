using System.Collections;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Text;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>Paths of the repository and of the built module and axl command.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();
    public static string ModuleManifest => Path.Combine(Root, "artifacts", "module", "Axl", "Axl.psd1");
    public static string Examples => Path.Combine(Root, "examples");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "axl.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (axl.sln) above " + AppContext.BaseDirectory);
    }
}

/// <summary>What one script produced, stream by stream.</summary>
public sealed record PsResult(IReadOnlyList<PSObject> Output, IReadOnlyList<ErrorRecord> Errors, IReadOnlyList<string> Warnings, IReadOnlyList<string> Verbose, string HostText, Exception? Terminating, IReadOnlyList<ProgressRecord> Progress, IReadOnlyList<InformationRecord> Information)
{
    public IEnumerable<object> Objects => Output.Select(o => o.BaseObject);
    public string ErrorText => string.Join(Environment.NewLine, Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")) + (Terminating is null ? "" : Environment.NewLine + "terminating: " + Terminating.Message);
    public void ShouldSucceed()
    {
        if (Errors.Count > 0 || Terminating is not null) Assert.Fail("The script failed:" + Environment.NewLine + ErrorText);
    }
}

/// <summary>
/// One runspace with the module imported, shared by a test class collection (opening one costs ~1 s).
/// Each script runs in a fresh child scope. A capturing host lets tests see what Out-Default renders.
/// </summary>
public sealed class PowerShellFixture : IDisposable
{
    private readonly Runspace _runspace;
    private readonly CapturingHost _host = new();

    public PowerShellFixture()
    {
        Assert.True(File.Exists(Repo.ModuleManifest), $"The module is not built at {Repo.ModuleManifest}; run `dotnet build` first.");
        _runspace = RunspaceFactory.CreateRunspace(_host, InitialSessionState.CreateDefault2());
        _runspace.Open();
        var import = Run($"Import-Module '{Repo.ModuleManifest}' -ErrorAction Stop");
        import.ShouldSucceed();
    }

    public PsResult Run(string script, IDictionary? variables = null)
    {
        _host.Clear();
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript("param($__vars) if ($__vars) { foreach ($__k in $__vars.Keys) { $ExecutionContext.SessionState.PSVariable.Set($__k, $__vars[$__k]) } }\n" + script, useLocalScope: true);
        ps.AddArgument(variables);
        Collection<PSObject> output = new();
        Exception? terminating = null;
        try
        {
            output = ps.Invoke();
        }
        catch (RuntimeException ex)
        {
            terminating = ex;
        }
        return new PsResult(output, ps.Streams.Error.ToList(), ps.Streams.Warning.Select(w => w.Message).ToList(),
            ps.Streams.Verbose.Select(v => v.Message).ToList(), _host.Text, terminating, ps.Streams.Progress.ToList(), ps.Streams.Information.ToList());
    }

    /// <summary>Runs the script and pipes its output to Out-Default, returning what the host printed (format views applied).</summary>
    public string Render(string script)
    {
        var r = Run(script + " | Out-Default");
        r.ShouldSucceed();
        return System.Text.RegularExpressions.Regex.Replace(r.HostText, @"\x1b\[[0-9;]*m", ""); // $PSStyle colours

    }

    public void Dispose() => _runspace.Dispose();
}

[CollectionDefinition("PowerShell")]
public sealed class PowerShellCollection : ICollectionFixture<PowerShellFixture> { }

internal sealed class CapturingHost : PSHost
{
    private readonly CapturingUI _ui = new();
    public void Clear() => _ui.Buffer.Clear();
    public string Text => _ui.Buffer.ToString();
    public override string Name => "AxlTestHost";
    public override Version Version => new(1, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public override void SetShouldExit(int exitCode) { }
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
}

internal sealed class CapturingUI : PSHostUserInterface
{
    public StringBuilder Buffer { get; } = new();
    public override PSHostRawUserInterface RawUI { get; } = new CapturingRawUI();
    public override void Write(string value) { lock (Buffer) Buffer.Append(value); }
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);
    public override void WriteLine(string value) => Write(value + "\n");
    public override void WriteErrorLine(string value) => Write("ERROR: " + value + "\n");
    public override void WriteDebugLine(string message) { }
    public override void WriteProgress(long sourceId, ProgressRecord record) { }
    public override void WriteVerboseLine(string message) { }
    public override void WriteWarningLine(string message) => Write("WARNING: " + message + "\n");
    public override string ReadLine() => "";
    public override System.Security.SecureString ReadLineAsSecureString() => new();
    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => new();
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();
    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) => defaultChoice;
}

internal sealed class CapturingRawUI : PSHostRawUserInterface
{
    public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
    public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
    public override Coordinates CursorPosition { get; set; }
    public override Coordinates WindowPosition { get; set; }
    public override int CursorSize { get; set; }
    public override Size BufferSize { get; set; } = new(200, 1000);
    public override Size WindowSize { get; set; } = new(200, 50);
    public override Size MaxWindowSize => new(200, 50);
    public override Size MaxPhysicalWindowSize => new(200, 50);
    public override bool KeyAvailable => false;
    public override string WindowTitle { get; set; } = "";
    public override void FlushInputBuffer() { }
    public override BufferCell[,] GetBufferContents(Rectangle rectangle) => new BufferCell[0, 0];
    public override KeyInfo ReadKey(ReadKeyOptions options) => default;
    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
    public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
}
