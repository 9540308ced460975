using System.Text.RegularExpressions;

namespace Axl.Jobs.Envelopes;

/// <summary>What a worker starts for one task: the program, its arguments, and the variables added to its environment.</summary>
public sealed record TaskLaunch(string Program, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>For logs: the program and its arguments, and the names (never the values) of the variables set.</summary>
    public string Describe() =>
        (Program + " " + string.Join(' ', Arguments)).TrimEnd() + (Environment.Count == 0 ? "" : " (env: " + string.Join(", ", Environment.Keys.OrderBy(k => k, StringComparer.Ordinal)) + ")");
}

/// <summary>A task's environment cannot be set up on this worker (a secret variable missing); the message names it, never a value.</summary>
public sealed class TaskEnvironmentException(string message) : Exception(message);

/// <summary>
/// The job envelope has no environment field, so a step's -Env travels as an <c>env</c> wrapper task:
/// <c>command: env, args: [--axl-secret=API_KEY=WORKER_VAR, MODE=fast, program, arg...]</c>.
/// <c>NAME=value</c> is a plain (non-secret) variable; <c>--axl-secret=NAME=SOURCE</c> names a secret by reference, whose
/// value the worker reads from its own environment variable SOURCE when the task starts (the envelope, the Redis
/// stream and the logs never hold it). The worker runs the program itself with those variables in its environment, so
/// no value is on a command line. An <c>env</c> task with other options (-i, -u ...) runs env(1) as it is; env(1) itself
/// refuses <c>--axl-secret</c>, so an envelope with secrets fails safe on a worker that does not know it.
/// </summary>
public static partial class TaskEnvironment
{
    public const string EnvCommand = "env";
    public const string SecretOption = "--axl-secret=";

    /// <summary>The wrapper arguments for a program with plain variables and secret references (variable name to the worker's source variable).</summary>
    public static List<string> WrapperArguments(IEnumerable<KeyValuePair<string, string>> plain, IEnumerable<KeyValuePair<string, string>> secrets, string program, IEnumerable<string> arguments)
    {
        var args = new List<string>();
        args.AddRange(secrets.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => SecretOption + kv.Key + "=" + kv.Value));
        args.AddRange(plain.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
        args.Add(program);
        args.AddRange(arguments);
        return args;
    }

    /// <summary>
    /// What to start for a task. Throws <see cref="TaskEnvironmentException"/> when a secret's source variable is not
    /// set here. <paramref name="environment"/> reads this worker's variables (the process environment by default).
    /// </summary>
    public static TaskLaunch For(JobTask task, Func<string, string?>? environment = null)
    {
        environment ??= System.Environment.GetEnvironmentVariable;
        var none = new Dictionary<string, string>();
        if (task.Command != EnvCommand) return new TaskLaunch(task.Command, task.Args, none);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        int i = 0;
        for (; i < task.Args.Count; i++)
        {
            var a = task.Args[i];
            if (a.StartsWith(SecretOption, StringComparison.Ordinal))
            {
                var spec = a[SecretOption.Length..];
                var eq = spec.IndexOf('=');
                var name = eq < 0 ? spec : spec[..eq];
                var source = eq < 0 ? spec : spec[(eq + 1)..];
                if (!NameRegex().IsMatch(name) || !NameRegex().IsMatch(source))
                    throw new TaskEnvironmentException($"task {task.TaskNumber}: '{a}' is not a secret reference (--axl-secret=NAME=SOURCE, both variable names).");
                env[name] = environment(source)
                    ?? throw new TaskEnvironmentException($"task {task.TaskNumber} takes environment variable '{name}' from the worker's variable '{source}', which is not set on this worker. Fix: set {source} in the environment of Start-AxlWorker / axl worker (from your secret store).");
            }
            else if (NameValueRegex().IsMatch(a))
            {
                var eq = a.IndexOf('=');
                env[a[..eq]] = a[(eq + 1)..];
            }
            else break;
        }
        if (i >= task.Args.Count || task.Args[i].StartsWith('-'))
        {
            if (env.Count > 0 && task.Args.Take(i).Any(x => x.StartsWith(SecretOption, StringComparison.Ordinal)))
                throw new TaskEnvironmentException($"task {task.TaskNumber} sets secret variables for env but names no program after them.");
            return new TaskLaunch(task.Command, task.Args, none); // env(1) with its own options, or with no program: run it as it is
        }
        return new TaskLaunch(task.Args[i], task.Args.Skip(i + 1).ToList(), env);
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex NameRegex();
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*=", RegexOptions.Singleline)]
    private static partial Regex NameValueRegex();
}
