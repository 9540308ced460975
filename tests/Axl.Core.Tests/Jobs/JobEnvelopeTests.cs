using System.Collections;
using Axl.Dsl;
using Axl.Jobs.Envelopes;
using Axl.Model;
using NJsonSchema;

namespace Axl.Core.Tests.Jobs;

/// <summary>Job envelopes (seed 003): the five client-side rules with the spec's texts, schema limits, JSON, v0.1, the builder.</summary>
public sealed class JobEnvelopeTests
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromJsonAsync(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schema", "agenix-job.schema.json"))).GetAwaiter().GetResult());

    /// <summary>Validates against agenix-job.schema.json (a copy in tests/schema) with NJsonSchema.</summary>
    internal static void SchemaValid(string json)
    {
        var errors = Schema.Value.Validate(json);
        Assert.True(errors.Count == 0, "schema errors: " + string.Join("; ", errors.Select(e => $"{e.Path}: {e.Kind}")) + "\n" + json);
    }

    private static JobEnvelope Env(params JobTask[] tasks) => new() { JobId = "job-1", PlanId = "plan-1", Tasks = tasks.ToList() };
    private static JobTask Task(int n, string command = "sort", int? from = null) => new() { TaskNumber = n, Command = command, InputFromTask = from };

    private static string OneError(JobEnvelope e, string id, int max = 100)
    {
        var errors = JobEnvelopeValidator.Validate(e, max).Where(d => d.IsError).ToList();
        var d = Assert.Single(errors);
        Assert.Equal(id, d.Id);
        return d.Message;
    }

    [Fact]
    public void Rule1_tasks_must_not_be_empty() =>
        Assert.Equal("Invalid job: tasks must contain at least one task", OneError(Env(), JobEnvelopeValidator.EmptyTasks));

    [Fact]
    public void Rule2_gap_in_numbering_uses_the_spec_text() =>
        Assert.Equal("Invalid task numbering: gap between task 2 and 4", OneError(Env(Task(1), Task(2), Task(4)), JobEnvelopeValidator.TaskNumbering));

    [Fact]
    public void Rule2_numbering_starts_at_1_and_has_no_duplicates()
    {
        Assert.Equal("Invalid task numbering: must start at 1, found 2", OneError(Env(Task(2), Task(3)), JobEnvelopeValidator.TaskNumbering));
        Assert.Equal("Invalid task numbering: duplicate task 2", OneError(Env(Task(1), Task(2), Task(2)), JobEnvelopeValidator.TaskNumbering));
    }

    [Fact]
    public void Rule3_task_limit_is_100_and_configurable()
    {
        var many = Env(Enumerable.Range(1, 101).Select(n => Task(n)).ToArray());
        Assert.Equal("Too many tasks: 101 (the limit is 100)", OneError(many, JobEnvelopeValidator.TooManyTasks));
        Assert.Equal("Too many tasks: 3 (the limit is 2)", OneError(Env(Task(1), Task(2), Task(3)), JobEnvelopeValidator.TooManyTasks, max: 2));
    }

    [Fact]
    public void Rule4_input_only_from_an_earlier_task()
    {
        Assert.Equal("Invalid input reference: task 2 reads its own output (input_from_task 2)", OneError(Env(Task(1), Task(2, from: 2)), JobEnvelopeValidator.InvalidInputReference));
        Assert.Equal("Invalid input reference: task 1 reads task 2, which comes later (forward reference)", OneError(Env(Task(1, from: 2), Task(2)), JobEnvelopeValidator.InvalidInputReference));
        Assert.Equal("Invalid input reference: task 2 reads task 7, which does not exist", OneError(Env(Task(1), Task(2, from: 7)), JobEnvelopeValidator.InvalidInputReference));
        Assert.Empty(JobEnvelopeValidator.Validate(Env(Task(1), Task(2, from: 1), Task(3, from: 1))));
    }

    [Fact]
    public void Rule5_command_must_not_be_empty() =>
        Assert.Equal("Invalid command: task 2 has an empty command", OneError(Env(Task(1), Task(2, " ")), JobEnvelopeValidator.EmptyCommand));

    [Fact]
    public void Schema_limits_ids_timeouts_and_args()
    {
        var e = Env(Task(1));
        e.JobId = new string('j', 65);
        Assert.Equal("job_id is 65 characters long (at most 64)", OneError(e, JobEnvelopeValidator.SchemaLimit));
        var t = Env(new JobTask { TaskNumber = 1, Command = "sleep", TimeoutSecs = 3601 });
        Assert.Equal("Invalid timeout: task 1 has timeout_secs 3601 (1 to 3600)", OneError(t, JobEnvelopeValidator.SchemaLimit));
        var a = Env(new JobTask { TaskNumber = 1, Command = "echo", Args = Enumerable.Repeat("x", 101).ToList() });
        Assert.Equal("task 1 has 101 args (at most 100)", OneError(a, JobEnvelopeValidator.SchemaLimit));
    }

    [Fact]
    public void Json_round_trips_in_snake_case_without_extra_properties()
    {
        var e = Env(new JobTask { TaskNumber = 1, Command = "grep", Args = { "-i", "error" }, TimeoutSecs = 60 }, new JobTask { TaskNumber = 2, Command = "sort", InputFromTask = 1 });
        var json = e.ToJson();
        Assert.Contains("\"task_number\": 1", json);
        Assert.Contains("\"input_from_task\": 1", json);
        Assert.Contains("\"args\": []", json);
        SchemaValid(json);
        var back = JobEnvelopeJson.Parse(json, out var warnings);
        Assert.Empty(warnings);
        Assert.Equal(json, back.ToJson());
        var bad = JobEnvelopeJson.Read("""{"job_id":"a","plan_id":"b","tasks":[{"task_number":1,"command":"x","args":[],"env":{}}],"extra":1}""");
        Assert.False(bad.Success);
        Assert.Contains(bad.Errors, m => m.Contains("unknown property 'extra'"));
        Assert.Contains(bad.Errors, m => m.Contains("unknown property 'env'"));
    }

    [Fact]
    public void V01_envelopes_are_read_with_a_deprecation_warning()
    {
        var e = JobEnvelopeJson.Parse("""{"job_id":"a","plan_id":"b","steps":[{"step_number":1,"command":"sort","args":["-r"]},{"step_number":2,"command":"uniq","input_from_step":1}]}""", out var warnings);
        Assert.Equal(JobEnvelopeJson.V01Warning, Assert.Single(warnings));
        Assert.Equal(2, e.Tasks.Count);
        Assert.Equal(1, e.Tasks[1].InputFromTask);
        SchemaValid(e.ToJson());
        var d = JobEnvelopeValidator.ValidateJson("""{"job_id":"a","plan_id":"b","steps":[{"step_number":1,"command":"sort"}]}""");
        Assert.Equal(JobEnvelopeValidator.Deprecated, Assert.Single(d).Id);
    }

    private static WorkflowBuilder Cmd(WorkflowBuilder b, string name, string command, string[]? args = null, string? stdin = null, object? timeout = null, IDictionary? env = null) =>
        b.AddStep(name, (string?)null, new StepOptions { CommandSpecified = true, Command = command, ArgumentList = args, Stdin = stdin, Timeout = timeout, Env = env }, T.At(2));

    [Fact]
    public void Builder_makes_tasks_in_topological_order_with_stdin_piping()
    {
        var b = T.Builder("logs", new WorkflowDefinitionOptions { Description = "count errors" });
        b.AddParameter("LogFile", "app.log");
        Cmd(b, "counted", "uniq", new[] { "-c" }, stdin: "sorted");
        Cmd(b, "errors", "grep", new[] { "-i", "error", "{LogFile}", "{{literal}}" }, timeout: 60);
        Cmd(b, "sorted", "sort", stdin: "errors", env: new Hashtable { ["LC_ALL"] = "C" });
        var wf = b.Build();
        var r = JobEnvelopeBuilder.FromWorkflow(wf, new Hashtable { ["LogFile"] = "/var/log/x.log" });
        var e = r.Envelope;
        Assert.Equal(new[] { "errors", "sorted", "counted" }, r.StepNames);
        Assert.Equal(new[] { "-i", "error", "/var/log/x.log", "{literal}" }, e.Tasks[0].Args);
        Assert.Equal(60, e.Tasks[0].TimeoutSecs);
        Assert.Null(e.Tasks[0].InputFromTask);
        Assert.Equal("env", e.Tasks[1].Command);
        Assert.Equal(new[] { "LC_ALL=C", "sort" }, e.Tasks[1].Args);
        Assert.Equal(1, e.Tasks[1].InputFromTask);
        Assert.Equal(300, e.Tasks[2].TimeoutSecs);
        Assert.Equal(2, e.Tasks[2].InputFromTask);
        Assert.Equal("count errors", e.PlanDescription);
        Assert.Equal(wf.Hash["sha256:".Length..], e.PlanId);
        Assert.True(Guid.TryParse(e.JobId, out _));
        Assert.NotEqual(e.JobId, JobEnvelopeBuilder.FromWorkflow(wf).Envelope.JobId);
        Assert.Empty(JobEnvelopeValidator.Validate(e));
        SchemaValid(e.ToJson());
    }

    [Fact]
    public void Builder_rejects_file_placeholders_and_script_steps_naming_the_step()
    {
        var b = T.Builder();
        Cmd(b, "errors", "grep", new[] { "error", "/x.log" });
        Cmd(b, "messages", "cut", new[] { "-f", "3-", "{errors}" });
        var ex = Assert.Throws<JobEnvelopeException>(() => JobEnvelopeBuilder.FromWorkflow(b.Build()));
        Assert.Contains("step 'messages' reads the output of step 'errors' through the file placeholder {errors}", ex.Message);
        Assert.Contains("-Stdin errors", ex.Message);

        var s = T.Builder();
        s.AddStep("load", "1", null, T.At(3));
        var ex2 = Assert.Throws<JobEnvelopeException>(() => JobEnvelopeBuilder.FromWorkflow(s.Build()));
        Assert.Contains("step 'load' is a script step", ex2.Message);

        var t = T.Builder();
        Cmd(t, "slow", "sleep", new[] { "1" }, timeout: 7200);
        Assert.Contains("timeout of 7200 s", Assert.Throws<JobEnvelopeException>(() => JobEnvelopeBuilder.FromWorkflow(t.Build())).Message);
    }
}
