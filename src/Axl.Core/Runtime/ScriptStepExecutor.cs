using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Axl.Runtime;

/// <summary>
/// Runs a script step in a runspace of its own. The workflow file is loaded again by path (the runner import
/// contract), the step found by name and its body invoked with the bound inputs; a workflow defined without a
/// file runs from the step's source text. $ErrorActionPreference is Stop: any error fails the step.
/// </summary>
public static class ScriptStepExecutor
{
    private const string Driver = """
        param($__axlFile, $__axlWorkflow, $__axlStep, $__axlSource, $__axlArgs, $__axlHash)
        $ErrorActionPreference = 'Stop'
        if ($__axlFile) {
            $__axlDef = @(Get-AxlWorkflow -LiteralPath $__axlFile -Name ([System.Management.Automation.WildcardPattern]::Escape($__axlWorkflow)))
            if ($__axlDef.Count -eq 0) { throw [System.InvalidOperationException]::new("workflow '$__axlWorkflow' is no longer defined in $__axlFile") }
            if ($__axlHash -and $__axlDef[0].Hash -ne $__axlHash) {
                throw [System.InvalidOperationException]::new("$__axlFile changed after the run started (hash $($__axlDef[0].ShortHash), expected $($__axlHash.Substring(7, 12))); start a new run or resume it to pick up the change")
            }
            $__axlBody = $__axlDef[0].GetStep($__axlStep).Body
        } else {
            $__axlBody = [scriptblock]::Create($__axlSource)
        }
        & $__axlBody @__axlArgs
        """;

    public static StepAttemptResult Run(StepInvocation inv, CancellationToken ct)
    {
        var step = inv.Step;
        var args = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (var kv in inv.Arguments) args[kv.Key] = kv.Value;

        using var env = EnvironmentScope.Enter(step.Env, ct);
        var runspace = RunspaceFactory.CreateRunspace(AxlEngine.CreateSessionState());
        var ps = PowerShell.Create();
        var detached = false;
        try
        {
            runspace.Open();
            ps.Runspace = runspace;
            var file = inv.Workflow.SourceFile is { } f && File.Exists(f) ? f : null;
            ps.AddScript(Driver).AddArgument(file).AddArgument(inv.Workflow.Name).AddArgument(step.Name).AddArgument(step.Source)
              .AddArgument(args).AddArgument(file is null ? null : inv.Workflow.Hash);
            HookStreams(ps, inv);

            var output = new PSDataCollection<PSObject>();
            var async = ps.BeginInvoke<PSObject, PSObject>(null, output);
            var timeout = step.TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : Timeout.InfiniteTimeSpan;
            var signalled = WaitHandle.WaitAny(new[] { async.AsyncWaitHandle, ct.WaitHandle }, timeout);
            if (signalled != 0)
            {
                // PowerShell stops at the next statement; a long .NET call cannot be interrupted. Wait a little,
                // then leave it to finish in the background: its result is discarded either way.
                var stop = ps.BeginStop(null, null);
                if (!stop.AsyncWaitHandle.WaitOne(inv.KillGrace))
                {
                    detached = true;
                    _ = Task.Run(() =>
                    {
                        try { ps.EndStop(stop); } catch (Exception) { }
                        ps.Dispose();
                        runspace.Dispose();
                    });
                }
                return StepAttemptResult.Fail(signalled == WaitHandle.WaitTimeout
                    ? new StepError($"step '{step.Name}' timed out after {step.TimeoutSeconds} s and was stopped", FailureKind.Timeout, step.Location.File, step.Location.Line)
                    : new StepError($"step '{step.Name}' was cancelled", FailureKind.Cancelled));
            }
            try
            {
                ps.EndInvoke(async);
            }
            catch (RuntimeException ex)
            {
                return StepAttemptResult.Fail(ToError(ex, inv));
            }
            if (ps.HadErrors && ps.Streams.Error.Count > 0)
                return StepAttemptResult.Fail(ToError(ps.Streams.Error[0], inv));
            object? value = output.Count switch
            {
                0 => null,
                1 => output[0],
                _ => output.ToArray(),
            };
            return StepAttemptResult.Ok(value);
        }
        finally
        {
            if (!detached)
            {
                ps.Dispose();
                runspace.Dispose();
            }
        }
    }

    private static void HookStreams(PowerShell ps, StepInvocation inv)
    {
        if (inv.Log is not { } log) return;
        ps.Streams.Information.DataAdded += (s, e) => log("info", ((PSDataCollection<InformationRecord>)s!)[e.Index].ToString());
        ps.Streams.Warning.DataAdded += (s, e) => log("warning", ((PSDataCollection<WarningRecord>)s!)[e.Index].Message);
        ps.Streams.Verbose.DataAdded += (s, e) => log("verbose", ((PSDataCollection<VerboseRecord>)s!)[e.Index].Message);
    }

    private static StepError ToError(RuntimeException ex, StepInvocation inv) =>
        ex.ErrorRecord is { } record ? ToError(record, inv) : new StepError(ex.Message, FailureKind.User, inv.Step.Location.File, inv.Step.Location.Line);

    private static StepError ToError(ErrorRecord record, StepInvocation inv)
    {
        var info = record.InvocationInfo;
        var message = record.Exception?.Message ?? record.ToString();
        var file = string.IsNullOrEmpty(info?.ScriptName) ? inv.Step.Location.File : info!.ScriptName;
        var line = info?.ScriptLineNumber > 0 ? info.ScriptLineNumber : inv.Step.Location.Line;
        // The driver's own lines are not the user's: point at the step instead.
        if (string.IsNullOrEmpty(info?.ScriptName) && inv.Workflow.SourceFile is not null)
            (file, line) = (inv.Step.Location.File, inv.Step.Location.Line);
        var kind = record.Exception is InvalidOperationException && message.Contains("changed after the run started", StringComparison.Ordinal)
            ? FailureKind.Infrastructure : FailureKind.User;
        return new StepError(message, kind, file, line, info?.Line?.TrimEnd('\r', '\n'));
    }
}
