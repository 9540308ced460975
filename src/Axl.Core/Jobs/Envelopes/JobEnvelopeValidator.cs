using Axl.Model;
using Axl.Validation;

namespace Axl.Jobs.Envelopes;

/// <summary>
/// The client-side rules of seed 003 (non-empty tasks, contiguous 1-based numbering, a task limit, input_from_task only
/// backwards, non-empty commands) and the schema's limits (id and text lengths, timeout range, argument limits).
/// Messages follow the spec's error texts ("Invalid task numbering: gap between task 2 and 4").
/// </summary>
public static class JobEnvelopeValidator
{
    public const string EmptyTasks = "Axl.Job.EmptyTasks";
    public const string TaskNumbering = "Axl.Job.TaskNumbering";
    public const string TooManyTasks = "Axl.Job.TooManyTasks";
    public const string InvalidInputReference = "Axl.Job.InvalidInputReference";
    public const string EmptyCommand = "Axl.Job.EmptyCommand";
    public const string SchemaLimit = "Axl.Job.SchemaLimit";
    public const string InvalidStructure = "Axl.Job.InvalidStructure";
    public const string Deprecated = "Axl.Job.Deprecated";

    public static IReadOnlyList<AxlDiagnostic> Validate(JobEnvelope envelope, int maxTasks = 100)
    {
        var d = new List<AxlDiagnostic>();
        void Err(string id, string message, string fix, int? task = null) =>
            d.Add(new AxlDiagnostic(id, DiagnosticSeverity.Error, message, fix, SourceLocation.None, envelope.JobId is { Length: > 0 } j ? j : null, task is null ? null : $"task {task}"));

        // Rule 1: non-empty tasks.
        if (envelope.Tasks.Count == 0)
            Err(EmptyTasks, "Invalid job: tasks must contain at least one task", "add a task (task_number 1, a command and its args).");

        // Rule 2: contiguous numbering from 1.
        var previous = 0;
        var seen = new HashSet<int>();
        foreach (var t in envelope.Tasks)
        {
            var n = t.TaskNumber;
            if (!seen.Add(n))
                Err(TaskNumbering, $"Invalid task numbering: duplicate task {n}", "number the tasks 1, 2, 3, ... in array order, each once.", n);
            else if (previous == 0 && n != 1)
                Err(TaskNumbering, $"Invalid task numbering: must start at 1, found {n}", "number the first task 1 and each next one by one more.", n);
            else if (n < previous)
                Err(TaskNumbering, $"Invalid task numbering: task {n} appears after task {previous}", "list the tasks in task_number order.", n);
            else if (previous != 0 && n > previous + 1)
                Err(TaskNumbering, $"Invalid task numbering: gap between task {previous} and {n}", "number the tasks contiguously (no gaps).", n);
            previous = Math.Max(previous, n);
        }

        // Rule 3: task limit.
        if (envelope.Tasks.Count > maxTasks)
            Err(TooManyTasks, $"Too many tasks: {envelope.Tasks.Count} (the limit is {maxTasks})", $"split the plan into jobs of at most {maxTasks} tasks.");

        // Rule 4: input_from_task only to a task earlier in the array.
        for (var i = 0; i < envelope.Tasks.Count; i++)
        {
            var t = envelope.Tasks[i];
            if (t.InputFromTask is not { } from) continue;
            if (from == t.TaskNumber)
                Err(InvalidInputReference, $"Invalid input reference: task {t.TaskNumber} reads its own output (input_from_task {from})", "point input_from_task at an earlier task, or remove it.", t.TaskNumber);
            else if (envelope.Tasks.Take(i).Any(e => e.TaskNumber == from)) { }
            else if (envelope.Tasks.Skip(i + 1).Any(e => e.TaskNumber == from))
                Err(InvalidInputReference, $"Invalid input reference: task {t.TaskNumber} reads task {from}, which comes later (forward reference)", "a task can read only the output of a task before it.", t.TaskNumber);
            else
                Err(InvalidInputReference, $"Invalid input reference: task {t.TaskNumber} reads task {from}, which does not exist", "point input_from_task at an earlier task's number.", t.TaskNumber);
        }

        // Rule 5: a command.
        foreach (var t in envelope.Tasks.Where(t => string.IsNullOrWhiteSpace(t.Command)))
            Err(EmptyCommand, $"Invalid command: task {t.TaskNumber} has an empty command", "give the tool or program to run in 'command'.", t.TaskNumber);

        // Schema limits.
        CheckId("job_id", envelope.JobId);
        CheckId("plan_id", envelope.PlanId);
        if (envelope.PlanDescription is { Length: > JobEnvelope.MaxDescriptionLength } pd)
            Err(SchemaLimit, $"plan_description is {pd.Length} characters long (at most {JobEnvelope.MaxDescriptionLength})", "shorten the description.");
        foreach (var t in envelope.Tasks)
        {
            if (t.Command.Length > JobEnvelope.MaxCommandLength)
                Err(SchemaLimit, $"task {t.TaskNumber}: command is {t.Command.Length} characters long (at most {JobEnvelope.MaxCommandLength})", "name the program, and pass the rest as args.", t.TaskNumber);
            if (t.Args.Count > JobEnvelope.MaxArgs)
                Err(SchemaLimit, $"task {t.TaskNumber} has {t.Args.Count} args (at most {JobEnvelope.MaxArgs})", "pass long lists through a file or stdin.", t.TaskNumber);
            foreach (var a in t.Args.Where(a => a.Length > JobEnvelope.MaxArgLength))
                Err(SchemaLimit, $"task {t.TaskNumber} has an argument of {a.Length} characters (at most {JobEnvelope.MaxArgLength})", "pass large data through a file or stdin.", t.TaskNumber);
            if (t.TimeoutSecs is { } s && (s < 1 || s > JobEnvelope.MaxTimeoutSecs))
                Err(SchemaLimit, $"Invalid timeout: task {t.TaskNumber} has timeout_secs {s} (1 to {JobEnvelope.MaxTimeoutSecs})", "give a timeout between 1 and 3600 seconds, or leave it out for the default 300.", t.TaskNumber);
            if (t.InputFromTask is < 1)
                Err(SchemaLimit, $"task {t.TaskNumber}: input_from_task {t.InputFromTask} is below 1", "point input_from_task at an earlier task's number.", t.TaskNumber);
        }
        return d;

        void CheckId(string name, string value)
        {
            if (string.IsNullOrEmpty(value)) Err(SchemaLimit, $"{name} is empty", $"give a {name} of 1 to {JobEnvelope.MaxIdLength} characters.");
            else if (value.Length > JobEnvelope.MaxIdLength) Err(SchemaLimit, $"{name} is {value.Length} characters long (at most {JobEnvelope.MaxIdLength})", $"shorten the {name}.");
        }
    }

    /// <summary>Reads JSON and validates it: structural problems become <see cref="InvalidStructure"/> errors, a v0.1 envelope a <see cref="Deprecated"/> warning.</summary>
    public static IReadOnlyList<AxlDiagnostic> ValidateJson(string json, int maxTasks = 100) => Diagnose(JobEnvelopeJson.Read(json), maxTasks);

    /// <summary>As <see cref="ValidateJson(string, int)"/> for bytes (a file's): bytes that are not UTF-8 are an <see cref="InvalidStructure"/> error.</summary>
    public static IReadOnlyList<AxlDiagnostic> ValidateJson(ReadOnlySpan<byte> utf8, int maxTasks = 100) => Diagnose(JobEnvelopeJson.Read(utf8), maxTasks);

    private static IReadOnlyList<AxlDiagnostic> Diagnose(JobEnvelopeReadResult r, int maxTasks)
    {
        var d = new List<AxlDiagnostic>();
        foreach (var w in r.Warnings)
            d.Add(new AxlDiagnostic(Deprecated, DiagnosticSeverity.Warning, w, "rename steps -> tasks, step_number -> task_number, input_from_step -> input_from_task.", SourceLocation.None, r.Envelope?.JobId, null));
        foreach (var e in r.Errors)
            d.Add(new AxlDiagnostic(InvalidStructure, DiagnosticSeverity.Error, "Invalid job envelope: " + e, "make the JSON match the job envelope schema (v0.2).", SourceLocation.None, r.Envelope?.JobId is { Length: > 0 } j ? j : null, null));
        if (r.Envelope is not null) d.AddRange(Validate(r.Envelope, maxTasks));
        return d;
    }

    /// <summary>Throws <see cref="JobEnvelopeException"/> with the first errors when the envelope is not valid.</summary>
    public static void EnsureValid(JobEnvelope envelope, int maxTasks = 100)
    {
        var errors = Validate(envelope, maxTasks).Where(x => x.IsError).ToList();
        if (errors.Count > 0) throw new JobEnvelopeException(string.Join("; ", errors.Select(e => e.Message)));
    }
}
