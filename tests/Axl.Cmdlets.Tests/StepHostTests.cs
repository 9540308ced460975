using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using Xunit;

namespace Axl.Cmdlets.Tests;

/// <summary>
/// Step code is the user's PowerShell in every host: what the top of a workflow file defines reaches its steps, and what
/// steps write besides their output reaches the user, the same under Invoke-AxlLocalRun, `axl run local`, `axl step` and
/// a local job. (The Pester suite checks the same in real pwsh, with the command lists of each host.)
/// </summary>
[Collection("PowerShell")]
public sealed class StepHostTests(PowerShellFixture ps) : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();
    private string Root => Path.Combine(_dir.Path, "runs");

    /// <summary>A workflow whose steps use everything the file's top level (and its AxlWorkflow block) defines.</summary>
    private string ScopedWorkflow()
    {
        _dir.Write("lib/helpers.ps1", "function Format-Total([double] $x) { '{0:N1}' -f $x }\n");
        _dir.Write("lib/Tools.psm1", "function Get-Double([double] $x) { 2 * $x }\nExport-ModuleMember -Function Get-Double\n");
        _dir.Write("lib/Shapes.psm1", "class Square {\n  [double] $Side\n  Square([double] $s) { $this.Side = $s }\n  [double] Area() { return $this.Side * $this.Side }\n}\n");
        return _dir.Write("flow.axl.ps1", """
            using module ./lib/Shapes.psm1
            . (Join-Path $PSScriptRoot 'lib/helpers.ps1')
            Import-Module (Join-Path $PSScriptRoot 'lib/Tools.psm1')
            function Get-Top { 'top' }
            $script:Factor = 3
            $plain = 'plain'
            $global:AxlLeak = 'leaked'
            Set-Location ([System.IO.Path]::GetTempPath())

            AxlWorkflow scoped {
                function Get-Inner { 'inner' }
                $inBlock = 'block'
                Step all -IoHandler json {
                    [ordered]@{
                        Top = Get-Top; Helper = Format-Total 2; Module = Get-Double 4; Factor = $script:Factor; Plain = $plain
                        Inner = Get-Inner; Block = $inBlock; Class = [Square]::new(3).Area(); Here = (Split-Path -Leaf (Get-Location).Path)
                    }
                }
                Step second -IoHandler text { param($all) "$(Get-Top) $(Get-Inner) $($all.Factor * $script:Factor)" }
            }
            """);
    }

    /// <summary>The output of step 'all': what each top-level definition gave the step.</summary>
    private void AssertScoped(string runDir)
    {
        var o = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "all", "output.json"))).RootElement;
        Assert.Equal("top", o.GetProperty("Top").GetString());       // a function at the top of the file
        Assert.Equal("2.0", o.GetProperty("Helper").GetString());    // a dot-sourced helper
        Assert.Equal(8, o.GetProperty("Module").GetDouble());        // Import-Module at the top
        Assert.Equal(3, o.GetProperty("Factor").GetInt32());         // $script: variable
        Assert.Equal("plain", o.GetProperty("Plain").GetString());   // a plain variable of the file's scope
        Assert.Equal("inner", o.GetProperty("Inner").GetString());   // a function of the AxlWorkflow block
        Assert.Equal("block", o.GetProperty("Block").GetString());   // a variable of the AxlWorkflow block
        Assert.Equal(9, o.GetProperty("Class").GetDouble());         // a class of `using module`
        Assert.Equal(Path.GetFileName(_dir.Path), o.GetProperty("Here").GetString()); // steps run in the file's folder
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void File_scope_code_reaches_every_step_under_Invoke_AxlLocalRun(bool isolate)
    {
        var flow = ScopedWorkflow();
        var r = ps.Run("""
            $run = Invoke-AxlLocalRun -Path $flow -RunRoot $root -IsolateSteps:$isolate
            $run.Status.ToString(); $run.Directory; $run | Get-AxlArtifact -Step second
            """, new Dictionary<string, object> { ["flow"] = flow, ["root"] = Root, ["isolate"] = isolate });
        r.ShouldSucceed();
        Assert.Equal("Succeeded", r.Objects.ElementAt(0));
        AssertScoped((string)r.Objects.ElementAt(1));
        Assert.Equal("top inner 9", r.Objects.ElementAt(2).ToString()!.Trim());
    }

    [Fact]
    public void File_scope_code_reaches_every_step_under_axl_run_local()
    {
        var flow = ScopedWorkflow();
        var (exit, stdout, stderr) = CliTests.Axl("run", "local", flow, "--run-root", Root, "--json");
        Assert.True(exit == 0, stderr);
        var run = JsonDocument.Parse(stdout).RootElement;
        AssertScoped(Path.Combine(Root, "scoped", run.GetProperty("runId").GetString()!));
        Assert.Contains("second = top inner 9", CliTests.Axl("run", "local", flow, "--run-root", Root).Out);
    }

    [Fact]
    public void Loading_a_workflow_leaves_the_callers_location_variables_functions_and_modules_as_they_were()
    {
        var flow = ScopedWorkflow();
        var r = ps.Run("""
            $before = (Get-Location).Path
            $functions = @(Get-ChildItem function:).Count
            $plain = 'mine'
            $wf = Get-AxlWorkflow $flow
            $wf.Name
            (Get-Location).Path -eq $before
            @(Get-ChildItem function:).Count -eq $functions
            $plain
            [bool](Get-Command Get-Top, Get-Double, Format-Total -ErrorAction SilentlyContinue)
            [bool](Get-Variable Factor -ErrorAction SilentlyContinue)
            [bool](Get-Variable AxlLeak -Scope Global -ErrorAction SilentlyContinue)
            """, new Dictionary<string, object> { ["flow"] = flow });
        r.ShouldSucceed();
        Assert.Equal(new object[] { "scoped", true, true, "mine", false, false, false }, r.Objects.ToArray());
    }

    [Fact]
    public void An_AxlWorkflow_block_typed_at_a_prompt_keeps_its_variables_to_itself()
    {
        var r = ps.Run("""
            $null = AxlWorkflow typed { $typedOnly = 1; function Get-TypedOnly { 1 }; Step s { 1 } }
            [bool](Get-Variable typedOnly -ErrorAction SilentlyContinue); [bool](Get-Command Get-TypedOnly -ErrorAction SilentlyContinue)
            """);
        r.ShouldSucceed();
        Assert.Equal(new object[] { false, false }, r.Objects.ToArray());
    }

    private string NoisyWorkflow() => _dir.Write("noisy.axl.ps1", """
        function Get-Helper { 'helped' }
        AxlWorkflow noisy {
            Step talk {
                Write-Warning 'mind the gap'
                Write-Verbose 'counting rows'
                Write-Debug 'internal state'
                Write-Information 'an information record' -Tags audit
                Write-Host 'host text'
                Write-Error 'recoverable' -ErrorAction Continue
                Write-Progress -Activity Crunching -Status 'half' -PercentComplete 50
                Get-Helper
            }
        }
        """);

    [Fact]
    public void Invoke_AxlLocalRun_writes_step_records_on_their_own_streams_named_with_the_step()
    {
        var flow = NoisyWorkflow();
        var r = ps.Run("""
            $run = Invoke-AxlLocalRun -Path $flow -RunRoot $root -Verbose -ErrorVariable stepErrors -ErrorAction SilentlyContinue
            $run.Status.ToString()
            $stepErrors.Count
            "$($stepErrors[0])"
            """, new Dictionary<string, object> { ["flow"] = flow, ["root"] = Root });
        Assert.Null(r.Terminating);
        Assert.Equal("Succeeded", r.Objects.ElementAt(0));
        Assert.Equal(1, r.Objects.ElementAt(1));
        Assert.Equal("[talk] recoverable", r.Objects.ElementAt(2));
        Assert.Contains("[talk] mind the gap", r.Warnings);
        Assert.Contains("[talk] counting rows", r.Verbose);
        var info = r.Information.Where(i => i.Tags.Contains("axl-step")).ToList();
        Assert.Contains(info, i => i.MessageData.ToString() == "[talk] an information record" && i.Tags.Contains("audit") && i.Tags.Contains("talk"));
        Assert.Contains(info, i => i.MessageData is HostInformationMessage h && h.Message == "[talk] host text" && i.Tags.Contains("PSHOST"));
        Assert.Contains(r.Progress, p => p.Activity == "[talk] Crunching" && p.PercentComplete == 50 && p.ParentActivityId > 0);
        Assert.Contains("host text", r.HostText); // Write-Host shows, as in pwsh

        var quiet = ps.Run("Invoke-AxlLocalRun -Path $flow -RunRoot $root -ErrorAction SilentlyContinue | Out-Null",
            new Dictionary<string, object> { ["flow"] = flow, ["root"] = Root });
        Assert.DoesNotContain(quiet.Verbose, v => v.StartsWith("[talk]", StringComparison.Ordinal)); // no -Verbose: the step's Write-Verbose writes nothing
        Assert.Contains("[talk] mind the gap", quiet.Warnings);
    }

    [Fact]
    public void Axl_run_local_prints_step_records_with_the_step_and_logs_them_with_their_level()
    {
        var flow = NoisyWorkflow();
        var (exit, stdout, stderr) = CliTests.Axl("run", "local", flow, "--run-root", Root, "--verbose");
        Assert.True(exit == 0, stderr);
        Assert.Contains("talk = helped", stdout);
        foreach (var line in new[] { "[talk] WARNING: mind the gap", "[talk] VERBOSE: counting rows", "[talk] an information record", "[talk] host text", "[talk] ERROR: recoverable", "[talk] PROGRESS: Crunching: half (50 %)" })
            Assert.Contains(line, stderr);
        Assert.DoesNotContain("internal state", stderr); // no --debug

        var log = File.ReadAllLines(Directory.GetFiles(Root, "log.jsonl", SearchOption.AllDirectories).Single()).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(log, l => l.GetProperty("level").GetString() == "warning" && l.GetProperty("stream").GetString() == "warning" && l.GetProperty("message").GetString() == "mind the gap");
        Assert.Contains(log, l => l.GetProperty("level").GetString() == "verbose" && l.GetProperty("message").GetString() == "counting rows");
        Assert.Contains(log, l => l.GetProperty("level").GetString() == "error" && l.GetProperty("stream").GetString() == "error");

        var json = CliTests.Axl("run", "local", flow, "--run-root", Root, "--log-json", "--debug");
        Assert.True(json.Exit == 0, json.Err);
        var lines = json.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(lines, l => l.GetProperty("level").GetString() == "debug" && l.GetProperty("message").GetString() == "internal state");
        Assert.DoesNotContain(lines, l => l.GetProperty("level").GetString() == "verbose"); // no --verbose

        var quiet = CliTests.Axl("run", "local", flow, "--run-root", Root, "--quiet");
        Assert.Contains("[talk] ERROR: recoverable", quiet.Err);
        Assert.DoesNotContain("WARNING", quiet.Err);
    }

    /// <summary>
    /// A step that reports what its scope holds: the preference variables its host set, an Axl type by its accelerator, and
    /// whether any of the variables the host's loading of the file and setting of preferences used reached it (none may;
    /// the invoker's own parameters, $__axlBody and the like, always could).
    /// </summary>
    private string ScopeProbeWorkflow() => _dir.Write("probe.axl.ps1", """
        AxlWorkflow probe {
            Step look -IoHandler json {
                [ordered]@{
                    ErrorAction = "$ErrorActionPreference"; Verbose = "$VerbosePreference"; Debug = "$DebugPreference"; Warning = "$WarningPreference"
                    Driver = ($null -ne $__axlPreference) -or ($null -ne $__axlDef) -or ($null -ne $__axlFile) -or ($null -ne $__axlHash)
                    Type = [AxlWorkflow].FullName
                    Here = Split-Path -Leaf (Get-Location).Path
                }
            }
        }
        """);

    private void AssertProbe(string outputJson, string verbose)
    {
        var o = JsonDocument.Parse(File.ReadAllText(outputJson)).RootElement;
        Assert.Equal("Stop", o.GetProperty("ErrorAction").GetString());
        Assert.Equal(verbose, o.GetProperty("Verbose").GetString());
        Assert.Equal("SilentlyContinue", o.GetProperty("Debug").GetString());
        Assert.Equal("Continue", o.GetProperty("Warning").GetString());
        Assert.False(o.GetProperty("Driver").GetBoolean());
        Assert.Equal("Axl.Model.AxlWorkflow", o.GetProperty("Type").GetString());
        Assert.Equal(Path.GetFileName(_dir.Path), o.GetProperty("Here").GetString());
    }

    [Fact]
    public void A_steps_scope_holds_its_preferences_and_the_Axl_types_and_none_of_the_hosts_loading_variables_under_axl_step_and_Invoke_AxlLocalRun()
    {
        var flow = ScopeProbeWorkflow();
        var output = Path.Combine(_dir.Path, "out", "look");
        var manifest = JsonSerializer.Serialize(new
        {
            schemaVersion = 1, workflow = "probe", workflowFile = Path.GetFileName(flow), workDir = _dir.Path, step = "look",
            inputs = Array.Empty<object>(), output = new { directory = output, ioHandler = "json" },
        });
        var (exit, stdout, stderr) = CliTests.Axl("step", "--manifest-json", manifest, "--verbose");
        Assert.True(exit == 0, stdout + stderr);
        AssertProbe(Path.Combine(output, "output.json"), "Continue");

        var r = ps.Run("(Invoke-AxlLocalRun -Path $flow -RunRoot $root).Directory", new Dictionary<string, object> { ["flow"] = flow, ["root"] = Root });
        r.ShouldSucceed();
        AssertProbe(Path.Combine((string)r.Objects.Single(), "look", "output.json"), "SilentlyContinue");
    }

    [Fact]
    public void Axl_step_runs_with_the_engines_telemetry_off_unless_told_otherwise()
    {
        var flow = _dir.Write("tele.axl.ps1", "AxlWorkflow tele { Step show -IoHandler json { [string] $env:POWERSHELL_TELEMETRY_OPTOUT } }\n");
        var output = Path.Combine(_dir.Path, "out", "show");
        var manifest = JsonSerializer.Serialize(new
        {
            schemaVersion = 1, workflow = "tele", workflowFile = Path.GetFileName(flow), workDir = _dir.Path, step = "show",
            inputs = Array.Empty<object>(), output = new { directory = output, ioHandler = "json" },
        });
        string Seen(string? value)
        {
            var (exit, stdout, stderr) = CliTests.AxlWith(new Dictionary<string, string?> { [StepCommandTelemetry] = value }, "step", "--manifest-json", manifest);
            Assert.True(exit == 0, stdout + stderr);
            return JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "output.json"))).RootElement.GetString()!;
        }
        Assert.Equal("1", Seen(null));
        Assert.Equal("0", Seen("0"));
    }

    private const string StepCommandTelemetry = "POWERSHELL_TELEMETRY_OPTOUT";

    /// <summary>The IO manifest of the noisy workflow's one step, as a compiled workflow hands it to the runner.</summary>
    private string TalkManifest(string flow) => JsonSerializer.Serialize(new
    {
        schemaVersion = 1, workflow = "noisy", workflowFile = Path.GetFileName(flow), workDir = _dir.Path, step = "talk",
        inputs = Array.Empty<object>(), output = new { directory = Path.Combine(_dir.Path, "out", "talk"), ioHandler = "clixml" },
    });

    [Fact]
    public void Axl_step_logs_step_records_as_JSON_lines_with_their_level()
    {
        var manifest = TalkManifest(NoisyWorkflow());
        var (exit, stdout, stderr) = CliTests.Axl("step", "--manifest-json", manifest, "--verbose");
        Assert.True(exit == 0, stdout + stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        string? Level(string message) => lines.FirstOrDefault(l => l.GetProperty("message").GetString() == message) is { ValueKind: JsonValueKind.Object } l ? l.GetProperty("level").GetString() : null;
        Assert.Equal("warning", Level("mind the gap"));
        Assert.Equal("verbose", Level("counting rows"));
        Assert.Equal("info", Level("host text"));
        Assert.Equal("error", Level("recoverable"));
        Assert.Null(Level("internal state"));
        Assert.Contains(lines, l => l.GetProperty("message").GetString() == "host text" && l.GetProperty("tags")[0].GetString() == "PSHOST");
    }

    [Fact]
    public void Invoke_AxlStep_writes_step_records_on_their_own_streams()
    {
        var manifest = TalkManifest(NoisyWorkflow());
        var r = ps.Run("(Invoke-AxlStep -ManifestJson $m -Verbose -ErrorVariable stepErrors -ErrorAction SilentlyContinue).Status; \"$stepErrors\"",
            new Dictionary<string, object> { ["m"] = manifest });
        Assert.Null(r.Terminating);
        Assert.Equal(new object[] { "Succeeded", "[talk] recoverable" }, r.Objects.ToArray());
        Assert.Contains("[talk] mind the gap", r.Warnings);
        Assert.Contains("[talk] counting rows", r.Verbose);
        Assert.Contains(r.Information, i => i.MessageData is HostInformationMessage { Message: "[talk] host text" });
    }

    [Fact]
    public void A_local_job_hands_step_records_to_Receive_Job_on_their_streams()
    {
        var flow = NoisyWorkflow();
        var r = ps.Run("""
            $job = Get-AxlWorkflow $flow | Submit-AxlJob -Target Local -RunRoot $root -Verbose
            $null = $job | Wait-Job -Timeout 120
            $job.State.ToString()
            $result = $job | Receive-Job -ErrorVariable jobErrors -ErrorAction SilentlyContinue -WarningVariable jobWarnings -InformationVariable jobInfo -Verbose
            $result.Status.ToString()
            "$jobWarnings"
            @($jobErrors | ForEach-Object { "$_" })
            @($jobInfo | Where-Object { $_.Tags -contains 'PSHOST' } | ForEach-Object { "$($_.MessageData)" })
            $job | Remove-Job
            """, new Dictionary<string, object> { ["flow"] = flow, ["root"] = Root });
        Assert.Null(r.Terminating);
        var o = r.Objects.Select(x => x?.ToString()).ToList();
        Assert.Equal("Completed", o[0]);
        Assert.Equal("Succeeded", o[1]);
        Assert.Equal("[talk] mind the gap", o[2]);
        Assert.Contains("[talk] recoverable", o);
        Assert.Contains("[talk] host text", o);
        Assert.Contains("[talk] counting rows", r.Verbose); // -Verbose at submission reached the job's axl
    }

    /// <summary>
    /// A file `axl step` reads without running it (functions, literal assignments, a static block): its step host binds
    /// the step to a module made from that read instead of loading the file again. Each step reports what the file's scope
    /// gave it, so the two ways can be compared output for output.
    /// </summary>
    private string ReadableWorkflow() => _dir.Write("readable.axl.ps1", """
        function Get-Top { "top $(Get-Later)" }
        $script:Factor = 3
        $plain = 'plain'
        function Get-Later { 'later' }
        $table = @{ a = 1 }

        AxlWorkflow readable {
            Step look -IoHandler json {
                $script:Written = 'written'
                $top = Get-Command Get-Top
                [ordered]@{
                    Top = Get-Top; Factor = $script:Factor; Plain = $plain; Table = $table.a; Written = $script:Written
                    Root = $PSScriptRoot; Command = $PSCommandPath; Here = (Get-Location).Path
                    Invocation = "$($MyInvocation.ScriptName):$($MyInvocation.ScriptLineNumber)"
                    TopFile = "$($top.ScriptBlock.File):$($top.ScriptBlock.Ast.Extent.StartLineNumber)"; TopModule = $null -ne $top.Module
                    ScriptScope = @(Get-Variable -Scope Script | ForEach-Object Name | Sort-Object)
                    FileScope = @("$script:__axlPath", "$script:PSScriptRoot", "$script:PSCommandPath")
                    ErrorAction = "$global:ErrorActionPreference"
                }
            }
            Step boom { $null = Get-Top
                throw "bang at $script:Factor" }
        }
        """);

    private string ReadableManifest(string flow, string step) => JsonSerializer.Serialize(new
    {
        schemaVersion = 1, workflow = "readable", workflowFile = Path.GetFileName(flow), workDir = _dir.Path, step,
        inputs = Array.Empty<object>(), output = new { directory = Path.Combine(_dir.Path, "out", step), ioHandler = "json" },
    });

    [Fact]
    public void Axl_step_of_a_file_read_without_running_it_sees_what_a_load_of_the_file_gives()
    {
        var flow = ReadableWorkflow();
        var trace = new Dictionary<string, string?> { ["AXL_STARTUP_TRACE"] = "1" };
        // AXL_LOADER=execute: the file is run by the command and loaded again by Get-AxlWorkflow in the step host.
        var loading = new Dictionary<string, string?>(trace) { ["AXL_LOADER"] = "execute" };
        (string Output, string Error, string Trace) Step(Dictionary<string, string?> env, string step)
        {
            var (exit, stdout, stderr) = CliTests.AxlWith(env, "step", "--manifest-json", ReadableManifest(flow, step));
            var file = Path.Combine(_dir.Path, "out", step, "output.json");
            var output = File.Exists(file) ? File.ReadAllText(file) : "";
            if (File.Exists(file)) File.Delete(file);
            var failed = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
                .Where(l => l.GetProperty("status").GetString() == "Failed").Select(l => $"{exit} {l.GetProperty("error_kind")} {l.GetProperty("message")}").SingleOrDefault() ?? $"{exit}";
            return (output, failed, stderr);
        }

        var read = Step(trace, "look");
        var loaded = Step(loading, "look");
        Assert.Contains("step host: file module made", read.Trace);   // bound to the module made from the read
        Assert.DoesNotContain("step host: file module made", loaded.Trace);
        Assert.Equal("0", read.Error);
        Assert.Equal(loaded.Output, read.Output);
        var o = JsonDocument.Parse(read.Output).RootElement;
        Assert.Equal("top later", o.GetProperty("Top").GetString());
        Assert.Equal(3, o.GetProperty("Factor").GetInt32());
        Assert.Equal("plain", o.GetProperty("Plain").GetString());
        Assert.Equal(1, o.GetProperty("Table").GetInt32());
        Assert.Equal(_dir.Path, o.GetProperty("Root").GetString());
        Assert.Equal(flow, o.GetProperty("Command").GetString());
        Assert.Equal(_dir.Path, o.GetProperty("Here").GetString());
        Assert.Equal($"{flow}:1", o.GetProperty("TopFile").GetString());
        Assert.Contains("Written", o.GetProperty("ScriptScope").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(flow, o.GetProperty("FileScope")[0].GetString());

        var boom = Step(trace, "boom");
        Assert.Equal(Step(loading, "boom").Error, boom.Error);
        Assert.StartsWith("1 ", boom.Error);
        Assert.Contains("bang at 3", boom.Error);
        Assert.Contains($"{flow}:22", boom.Error); // the throw's file and line
    }
}
