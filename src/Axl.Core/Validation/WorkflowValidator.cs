using System.Text.RegularExpressions;
using Axl.Graph;
using Axl.IO;
using Axl.Model;

namespace Axl.Validation;

/// <summary>
/// Every rule a workflow must pass before it is run or compiled. Returns all findings, in definition order,
/// each with the file, line, step and a fix; never throws on a bad workflow.
/// </summary>
public static partial class WorkflowValidator
{
    private static readonly HashSet<string> ReservedStepNames = new(StringComparer.OrdinalIgnoreCase)
    {
        Dsl.WorkflowBuilder.OutputPlaceholder, Dsl.WorkflowBuilder.ContextParameterName, "main-dag", "main_dag",
    };

    public static IReadOnlyList<AxlDiagnostic> Validate(AxlWorkflow wf)
    {
        var d = new List<AxlDiagnostic>(wf.BuildDiagnostics);
        void Report(string id, string message, string? fix, SourceLocation loc, string? step) =>
            d.Add(new AxlDiagnostic(id, DiagnosticSeverity.Error, message, fix, loc, wf.Name, step));

        CheckWorkflow(wf, Report);
        CheckNames(wf, Report);
        foreach (var s in wf.Steps) CheckStep(wf, s, Report);
        CheckCycle(wf, Report);
        CheckConditions(wf, Report);

        return d.Select((x, i) => (x, i)).OrderBy(t => t.x.Location.Line == 0 ? int.MaxValue : t.x.Location.Line).ThenBy(t => t.i).Select(t => t.x).ToList();
    }

    public static bool IsValid(AxlWorkflow wf) => Validate(wf).All(x => !x.IsError);

    /// <summary>
    /// <see cref="Validate"/>, with what a compile or <c>axl validate</c> asks for next made meanwhile: the definition hash
    /// on another core (the longest: a walk of the whole IR, 0.1 s for 10,000 steps) and then, on this thread, the hash of
    /// the code root (<paramref name="codeRoot"/>, else the workflow file's folder). All of them only read the IR; the
    /// hashes are kept by the workflow (<see cref="AxlWorkflow.DefinitionHash"/>, <see cref="AxlWorkflow.HashFor"/>).
    /// An invalid workflow returns its findings at once, without waiting for the hash. A hash that fails here (a code root
    /// that cannot be read) is not kept, so it fails again, with the same error, where the caller asks for it.
    /// <paramref name="order"/>: also the topological order (kept by the workflow, <see cref="AxlWorkflow.TopologicalOrder"/>),
    /// for a compiler, which walks it next: made on a third thread meanwhile, not after the hash (on this thread it made
    /// this one's share longer than the hash); a workflow with a cycle has none, and its error is in the findings.
    /// It is finished before this returns, so the caller never asks for it while it is being made.
    /// </summary>
    public static IReadOnlyList<AxlDiagnostic> ValidateWhileHashing(AxlWorkflow wf, string? codeRoot = null, bool order = false)
    {
        var definition = Task.Run(() => wf.DefinitionHash);
        var ordered = order ? Task.Run(() => TryOrder(wf)) : Task.CompletedTask;
        var diagnostics = Validate(wf);
        if (!diagnostics.Any(x => x.IsError))
        {
            try
            {
                _ = wf.CodeHashFor(string.IsNullOrEmpty(codeRoot) ? null : codeRoot);
                definition.Wait();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or AggregateException)
            {
                // Made ahead only: the caller's own request reports it in its place, after its own checks.
            }
        }
        ordered.Wait(); // TryOrder throws nothing
        return diagnostics;
    }

    /// <summary>The topological order made and kept, or nothing for a workflow with a cycle (whose finding says so).</summary>
    private static void TryOrder(AxlWorkflow wf)
    {
        try { _ = wf.TopologicalOrder(); }
        catch (InvalidOperationException) { }
    }

    private delegate void Reporter(string id, string message, string? fix, SourceLocation loc, string? step);

    private static void CheckWorkflow(AxlWorkflow wf, Reporter report)
    {
        if (wf.Steps.Count == 0)
            report(DiagnosticIds.EmptyWorkflow, "the workflow has no steps.", "add at least one Step inside the AxlWorkflow block.", wf.Location, null);
        var kname = Dns1123.Normalize(wf.Name);
        if (kname.Length == 0 || kname.Length > Dns1123.MaxLength)
            report(DiagnosticIds.InvalidName, kname.Length == 0
                    ? $"workflow name '{wf.Name}' has no letters or digits, so it cannot become a DNS-1123 name."
                    : $"workflow name '{wf.Name}' is {kname.Length} characters as the DNS-1123 name '{kname}'; Kubernetes allows {Dns1123.MaxLength}.",
                "use a name of letters, digits, '-' and '_', at most 63 characters.", wf.Location, null);
        else if (BadChars(wf.Name) is { Length: > 0 } bad)
            report(DiagnosticIds.InvalidName, $"workflow name '{wf.Name}' has characters that cannot be part of a DNS-1123 name: {bad}.", "use letters, digits, '-', '_' and '.'.", wf.Location, null);

        if (wf.Options.WarmEnv)
            foreach (var s in wf.Steps.Where(s => s.KubernetesName == Runtime.WarmEnvironment.StepName))
                report(DiagnosticIds.ReservedName, $"step name '{s.Name}' is reserved by Axl in a workflow with -WarmEnv (its synthetic first step is '{Runtime.WarmEnvironment.StepName}').", "choose another name.", s.Location, s.Name);

        if (!IoHandlerRegistry.TryGet(wf.Options.DefaultIoHandler, out _))
            report(DiagnosticIds.UnknownIoHandler, $"default IO handler '{wf.Options.DefaultIoHandler}' is not known.", $"use one of: {IoHandlerRegistry.KnownNames}, or register yours first.", wf.Location, null);

        if (wf.Options.ArtifactStore is { } store && !ArtifactStoreRegex().IsMatch(store))
            report(DiagnosticIds.InvalidArtifactStore, $"artifact store '{store}' is not understood.",
                "use 's3://bucket[/prefix]', 'pvc' or 'pvc:<size>' (for example pvc:10Gi), or 'ref:<configmap>[/<key>]' for an Argo artifactRepositoryRef.", wf.Location, null);
        else if (wf.Options.ArtifactStore is { } pvc && pvc.StartsWith("pvc:", StringComparison.Ordinal) && !Quantity.IsValid(pvc[4..]))
            report(DiagnosticIds.InvalidArtifactStore, $"artifact store '{pvc}' has a size that is not a Kubernetes quantity.", "write the size like pvc:10Gi.", wf.Location, null);

        var seenParams = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in wf.Parameters)
        {
            if (!ParameterNameRegex().IsMatch(p.Name))
                report(DiagnosticIds.InvalidName, $"parameter name '{p.Name}' is not valid.", "use letters, digits, '_' and '-', starting with a letter or '_'.", p.Location, null);
            if (p.Type is null) continue;
            Type? type = null;
            try { type = System.Management.Automation.LanguagePrimitives.ConvertTo<Type>(p.Type.Trim('[', ']')); }
            catch (System.Management.Automation.PSInvalidCastException) { }
            if (type is null)
                report(DiagnosticIds.InvalidOption, $"parameter '{p.Name}' declares type '{p.Type}', which is not a known type.", "use a type such as int, long, double, string, bool, or a full .NET type name.", p.Location, null);
            else if (p.Default is not null)
            {
                try { System.Management.Automation.LanguagePrimitives.ConvertTo(p.Default, type, System.Globalization.CultureInfo.InvariantCulture); }
                catch (Exception ex) when (ex is System.Management.Automation.PSInvalidCastException or InvalidCastException or FormatException)
                {
                    report(DiagnosticIds.InvalidOption, $"the default value '{p.Default}' of parameter '{p.Name}' is not a {p.Type}.", $"give a default that converts to {p.Type}, or change -Type.", p.Location, null);
                }
            }
        }
    }

    private static void CheckNames(AxlWorkflow wf, Reporter report)
    {
        var byName = new Dictionary<string, AxlStep>(wf.Steps.Count, StringComparer.OrdinalIgnoreCase);
        var byKubeName = new Dictionary<string, AxlStep>(wf.Steps.Count, StringComparer.Ordinal);
        foreach (var s in wf.Steps)
        {
            if (byName.TryGetValue(s.Name, out var first))
            {
                report(DiagnosticIds.DuplicateStep, $"step '{s.Name}' is defined twice; the first definition is at {first.Location}.", "rename or remove one of the two steps.", s.Location, s.Name);
                continue;
            }
            byName[s.Name] = s;
            if (ReservedStepNames.Contains(s.Name))
            {
                report(DiagnosticIds.ReservedName, $"step name '{s.Name}' is reserved by Axl.", "choose another name.", s.Location, s.Name);
                continue;
            }
            var k = s.KubernetesName;
            if (k.Length == 0)
            {
                report(DiagnosticIds.InvalidName, $"step name '{s.Name}' has no letters or digits, so it cannot become a DNS-1123 name.", "use letters, digits, '_' and '-'.", s.Location, s.Name);
                continue;
            }
            if (k.Length > Dns1123.MaxLength)
            {
                report(DiagnosticIds.InvalidName, $"step name '{s.Name}' is {k.Length} characters as the DNS-1123 name '{k}'; Kubernetes and Argo allow {Dns1123.MaxLength}.", $"shorten it to at most {Dns1123.MaxLength} characters.", s.Location, s.Name);
                continue;
            }
            if (BadChars(s.Name) is { Length: > 0 } bad)
            {
                report(DiagnosticIds.InvalidName, $"step name '{s.Name}' has characters that cannot be part of a DNS-1123 name: {bad}.", "use letters, digits, '_' and '-' (for example load_data).", s.Location, s.Name);
                continue;
            }
            if (byKubeName.TryGetValue(k, out var other))
            {
                report(DiagnosticIds.NameCollision, $"steps '{other.Name}' ({other.Location}) and '{s.Name}' both become '{k}' as DNS-1123 names.", "rename one of them so the names differ by more than case, '_' and '-'.", s.Location, s.Name);
                continue;
            }
            byKubeName[k] = s;
        }
    }

    private static void CheckStep(AxlWorkflow wf, AxlStep s, Reporter report)
    {
        if (s.Kind == StepKind.Command)
        {
            if (string.IsNullOrWhiteSpace(s.Command))
                report(DiagnosticIds.CommandMissing, s.Command is null
                        ? "the step has -ArgumentList or -Stdin but no -Command, so there is nothing to run."
                        : "the step's -Command is empty.",
                    "give the program to run, e.g. -Command grep -ArgumentList '-i','error','{LogFile}'.", s.Location, s.Name);
            if (s.Source is { Length: > 0 } && !string.IsNullOrWhiteSpace(s.Source))
                report(DiagnosticIds.BodyAndCommand, "the step has both a script body and -Command; a step runs one or the other.", "remove the script body, or remove -Command and -ArgumentList.", s.Location, s.Name);
        }
        else if (s.Source is null)
        {
            report(DiagnosticIds.BodyMissing, "the step has neither a script body nor -Command.", "give a script block (Step name { ... }) or -Command with -ArgumentList.", s.Location, s.Name);
        }

        if (!IoHandlerRegistry.TryGet(s.IoHandler, out _))
            report(DiagnosticIds.UnknownIoHandler, $"IO handler '{s.IoHandler}' is not known.", $"use one of: {IoHandlerRegistry.KnownNames}, or register yours with Register-AxlIoHandler before the AxlWorkflow block.", s.Location, s.Name);

        var r = s.Resources;
        CheckQuantity(r.CpuRequest, "-Cpu", "500m or 2", s, report);
        CheckQuantity(r.CpuLimit, "-CpuLimit", "1 or 1500m", s, report);
        CheckQuantity(r.MemoryRequest, "-Memory", "512Mi or 2Gi", s, report);
        CheckQuantity(r.MemoryLimit, "-MemoryLimit", "1Gi", s, report);
        CheckRequestLimit(r.CpuRequest, r.CpuLimit, "CPU", s, report);
        CheckRequestLimit(r.MemoryRequest, r.MemoryLimit, "memory", s, report);
        if (r.Gpu is <= 0)
            report(DiagnosticIds.InvalidQuantity, $"-Gpu must be a positive whole number, got {r.Gpu}.", "use -Gpu 1 or more, or leave it out.", s.Location, s.Name);
    }

    private static void CheckQuantity(string? value, string option, string example, AxlStep s, Reporter report)
    {
        if (value is null || Quantity.IsValid(value)) return;
        report(DiagnosticIds.InvalidQuantity, $"{option} '{value}' is not a Kubernetes quantity.", $"write it like {example} (suffixes m, k, M, G, Ki, Mi, Gi, ...).", s.Location, s.Name);
    }

    private static void CheckRequestLimit(string? request, string? limit, string what, AxlStep s, Reporter report)
    {
        if (request is null || limit is null || !Quantity.IsValid(request) || !Quantity.IsValid(limit)) return;
        if (Quantity.ToDecimal(request) > Quantity.ToDecimal(limit))
            report(DiagnosticIds.InvalidQuantity, $"the {what} request {request} is larger than its limit {limit}; Kubernetes rejects such a pod.", $"raise the limit to at least {request} or lower the request.", s.Location, s.Name);
    }

    private static void CheckCycle(AxlWorkflow wf, Reporter report)
    {
        var cycle = GraphAlgorithms.FindCycle(wf);
        if (cycle is null) return;
        var first = wf.GetStep(cycle[0]);
        report(DiagnosticIds.CycleDetected, $"the steps form a cycle: {string.Join(" -> ", cycle)}.",
            "break the cycle: remove one of these dependencies (a parameter named like a step, -DependsOn or -Stdin).", first?.Location ?? wf.Location, first?.Name);
    }

    private static void CheckConditions(AxlWorkflow wf, Reporter report)
    {
        foreach (var s in wf.Steps)
        {
            if (s.Condition is null) continue;
            var refs = s.Condition.References().Where(r => !r.IsParameter).ToList();
            if (refs.Count == 0) continue;
            // Only the steps the condition reads are looked for upstream (early exit), not every ancestor of every conditional step.
            var read = new HashSet<string>(refs.Select(r => r.Name).Where(n => !n.Equals(s.Name, StringComparison.OrdinalIgnoreCase)), StringComparer.OrdinalIgnoreCase);
            var upstream = GraphAlgorithms.AncestorsAmong(wf, s.Name, read);
            foreach (var r in refs)
            {
                if (r.Name.Equals(s.Name, StringComparison.OrdinalIgnoreCase))
                    report(DiagnosticIds.ConditionNotUpstream, $"condition '{s.When}' reads the step's own output; a condition is decided before the step runs.", "test the output of an upstream step instead.", s.Location, s.Name);
                else if (!upstream.Contains(r.Name))
                    report(DiagnosticIds.ConditionNotUpstream, $"condition '{s.When}' reads step '{r.Name}', which is not upstream of '{s.Name}', so its output may not exist yet.",
                        $"make '{r.Name}' upstream: take ${r.Name} as a parameter or add -DependsOn {r.Name}.", s.Location, s.Name);
            }
        }
    }

    private static string BadChars(string name)
    {
        // Every name is checked (10,000 for 10,000 steps): a loop, no LINQ, for the names that are fine.
        var fine = true;
        foreach (var c in name)
            if (!NameChar(c)) { fine = false; break; }
        if (fine) return "";
        var bad = name.Where(c => !NameChar(c)).Distinct().ToArray();
        return bad.Length == 0 ? "" : string.Join(" ", bad.Select(c => $"'{c}'"));
    }

    private static bool NameChar(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '_' or '.';

    [GeneratedRegex(@"^(s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?|pvc(:.+)?|ref:[a-z0-9]([-a-z0-9.]*[a-z0-9])?(/[A-Za-z0-9_.\-]+)?)$")]
    private static partial Regex ArtifactStoreRegex();
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_-]*$")]
    private static partial Regex ParameterNameRegex();
}
