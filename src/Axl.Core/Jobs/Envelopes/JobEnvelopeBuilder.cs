using System.Collections;
using System.Text.RegularExpressions;
using Axl.Compilers.Argo;
using Axl.Dsl;
using Axl.Model;

namespace Axl.Jobs.Envelopes;

/// <summary>What <see cref="JobEnvelopeBuilder.FromWorkflow"/> made, and what it had to say about it.</summary>
public sealed class JobEnvelopeBuildResult
{
    public required JobEnvelope Envelope { get; init; }
    /// <summary>Step name per task number (1-based: index 0 is task 1).</summary>
    public required IReadOnlyList<string> StepNames { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
}

/// <summary>
/// Turns a workflow of command steps into a job envelope: one task per step in topological order, arguments with
/// workflow parameter placeholders substituted, -Stdin as input_from_task, -Timeout as timeout_secs (default 300),
/// -Env as an <c>env [--axl-secret=NAME=SOURCE]... NAME=value ... program</c> wrapper (see <see cref="TaskEnvironment"/>: the
/// worker sets the variables in the program's environment, and reads secrets from its own environment, never the
/// envelope). What an envelope cannot express is an error naming the step:
/// script steps, a {step} file placeholder (a task reads an earlier task's output only on standard input), {output},
/// -When conditions, timeouts over 3600 s.
/// </summary>
public static class JobEnvelopeBuilder
{
    public static JobEnvelopeBuildResult FromWorkflow(AxlWorkflow workflow, IDictionary? parameters = null, string? jobId = null)
    {
        var warnings = new List<string>();
        var values = ParameterValues(workflow, parameters);
        IReadOnlyList<AxlStep> order;
        try { order = workflow.TopologicalOrder(); }
        catch (InvalidOperationException ex) { throw new JobEnvelopeException(ex.Message); }
        if (order.Count == 0) throw new JobEnvelopeException($"Workflow '{workflow.Name}' has no steps: a job envelope needs at least one task.");

        var numbers = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var tasks = new List<JobTask>();
        var problems = new List<string>();
        foreach (var step in order)
        {
            var number = tasks.Count + 1;
            numbers[step.Name] = number;
            if (step.Kind != StepKind.Command || string.IsNullOrWhiteSpace(step.Command))
            {
                problems.Add($"step '{step.Name}' is a script step: a job envelope runs only programs. Fix: make it a command step (-Command program -ArgumentList ...), or run the workflow with Invoke-AxlLocalRun or on Argo.");
                continue;
            }
            if (step.When is not null)
                problems.Add($"step '{step.Name}' has a condition (-When '{step.When}'): a job envelope runs every task. Fix: remove -When, or run the workflow locally or on Argo.");
            var args = new List<string>();
            foreach (var arg in step.Arguments)
            {
                var text = WorkflowBuilder.PlaceholderRegex().Replace(arg, m =>
                {
                    if (m.Value == "{{") return "{";
                    if (m.Value == "}}") return "}";
                    var name = m.Groups[1].Value;
                    if (name.Equals(WorkflowBuilder.OutputPlaceholder, StringComparison.OrdinalIgnoreCase))
                    {
                        problems.Add($"step '{step.Name}' uses {{output}} in argument '{arg}': a task's output is its standard output. Fix: let the program write to standard output.");
                        return m.Value;
                    }
                    if (workflow.ContainsStep(name))
                    {
                        problems.Add($"step '{step.Name}' reads the output of step '{name}' through the file placeholder {{{name}}} in argument '{arg}': a task can read an earlier task's output only on standard input. Fix: use -Stdin {name} (and drop the placeholder), if the program reads standard input.");
                        return m.Value;
                    }
                    if (workflow.Parameters.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { Sensitive: true })
                    {
                        problems.Add($"step '{step.Name}' puts the sensitive parameter '{name}' into argument '{arg}': an envelope's arguments are stored in the queue and shown in the worker's log and process list. Fix: give the step the value as a secret (-Env @{{ {name.ToUpperInvariant()} = (AxlSecret -EnvironmentVariable <worker variable>) }}) and let the program read it from its environment.");
                        return m.Value;
                    }
                    if (values.TryGetValue(name, out var v)) return v;
                    problems.Add($"step '{step.Name}' uses {{{name}}}, which is not a workflow parameter with a value. Fix: give it with -Parameters @{{ {name} = ... }}.");
                    return m.Value;
                });
                args.Add(text);
            }
            int? inputFrom = null;
            if (step.Stdin is { } stdin)
            {
                if (numbers.TryGetValue(stdin, out var n) && n < number) inputFrom = n;
                else problems.Add($"step '{step.Name}' reads step '{stdin}' on standard input, which does not run before it.");
            }
            var timeout = step.TimeoutSeconds ?? JobEnvelope.DefaultTimeoutSecs;
            if (timeout > JobEnvelope.MaxTimeoutSecs || timeout < 1)
                problems.Add($"step '{step.Name}' has a timeout of {timeout} s: an envelope task allows 1 to {JobEnvelope.MaxTimeoutSecs} s. Fix: -Timeout {JobEnvelope.MaxTimeoutSecs} or less.");
            if (step.Retries > 0) warnings.Add($"step '{step.Name}': -Retries {step.Retries} is not part of a job envelope (a failed task fails the job); it is dropped.");

            var command = step.Command!;
            foreach (var (name, secret) in step.Secrets.Where(kv => !kv.Value.HasKubernetes && kv.Value.EnvironmentVariable is null))
                problems.Add($"step '{step.Name}' takes environment variable '{name}' from {secret}: a queue worker reads secrets from its own environment only. Fix: add -EnvironmentVariable <worker variable> to the AxlSecret reference.");
            if (step.Env.Count > 0 || step.Secrets.Count > 0)
            {
                // The envelope has no environment field: an env wrapper that the worker runs itself, with the values in
                // the program's environment. Secrets travel by name only (the worker's variable; a Kubernetes-only
                // reference reads the variable of the same name).
                args = TaskEnvironment.WrapperArguments(step.Env,
                    step.Secrets.Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value.EnvironmentVariable ?? kv.Key)), command, args);
                command = TaskEnvironment.EnvCommand;
            }
            tasks.Add(new JobTask { TaskNumber = number, Command = command, Args = args, TimeoutSecs = Math.Clamp(timeout, 1, JobEnvelope.MaxTimeoutSecs), InputFromTask = inputFrom });
        }
        if (problems.Count > 0)
            throw new JobEnvelopeException($"Workflow '{workflow.Name}' cannot be a job envelope: " + string.Join(" ", problems));

        var description = workflow.Options.Description;
        if (description is { Length: > JobEnvelope.MaxDescriptionLength }) description = description[..JobEnvelope.MaxDescriptionLength];
        var planId = Hashing.ContentHash.Hex(workflow.Hash);
        if (planId.Length > JobEnvelope.MaxIdLength) planId = planId[..JobEnvelope.MaxIdLength];
        var envelope = new JobEnvelope
        {
            JobId = jobId ?? Guid.NewGuid().ToString(),
            PlanId = planId,
            PlanDescription = description,
            Tasks = tasks,
        };
        return new JobEnvelopeBuildResult { Envelope = envelope, StepNames = order.Select(s => s.Name).ToList(), Warnings = warnings };
    }

    private static Dictionary<string, string> ParameterValues(AxlWorkflow workflow, IDictionary? given)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in workflow.Parameters.Where(p => p.HasDefault)) values[p.Name] = ArgoCompiler.ParameterText(p.Default);
        if (given is not null)
            foreach (DictionaryEntry kv in given)
            {
                var name = kv.Key?.ToString() ?? "";
                if (!workflow.Parameters.Any(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
                    throw new JobEnvelopeException($"Workflow '{workflow.Name}' has no parameter '{name}' (it has: {string.Join(", ", workflow.Parameters.Select(p => p.Name))}).");
                var v = kv.Value is System.Management.Automation.PSObject pso ? pso.BaseObject : kv.Value;
                values[name] = ArgoCompiler.ParameterText(v);
            }
        return values;
    }
}
