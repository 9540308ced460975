using System.Collections.ObjectModel;
using System.Management.Automation;

namespace Axl.Model;

/// <summary>A node of the IR: one step with its options, inputs and output IO metadata.</summary>
public sealed class AxlStep
{
    internal AxlStep() { }

    // The empty maps every step without such options shares (read-only views of maps no one else holds): a 10,000-step
    // workflow would otherwise make 60,000 empty ones.
    internal static readonly IReadOnlyDictionary<string, InputMode> NoInputModes = new ReadOnlyDictionary<string, InputMode>(new Dictionary<string, InputMode>());
    internal static readonly IReadOnlyDictionary<string, string> NoEnv = new ReadOnlyDictionary<string, string>(new SortedDictionary<string, string>(StringComparer.Ordinal));
    internal static readonly IReadOnlyDictionary<string, SecretReference> NoSecrets = new ReadOnlyDictionary<string, SecretReference>(new SortedDictionary<string, SecretReference>(StringComparer.Ordinal));

    public string Name { get; internal set; } = "";
    /// <summary>The DNS-1123 form of the name used by Kubernetes back ends ("load_data" -> "load-data").</summary>
    public string KubernetesName { get; internal set; } = "";
    public StepKind Kind { get; internal set; }
    public string? Description { get; internal set; }

    /// <summary>Script text of the step body (script steps), line endings normalised to LF.</summary>
    public string? Source { get; internal set; }
    /// <summary>The live script block, when the workflow was loaded in this session. Not part of the IR contract.</summary>
    public ScriptBlock? Body => BodySource?.Body;
    /// <summary>The definition the step was built from, whose script block is made only when <see cref="Body"/> is asked for.</summary>
    internal Dsl.StepDefinition? BodySource { get; set; }
    public SourceLocation Location { get; internal set; }

    public string? Command { get; internal set; }
    public IReadOnlyList<string> Arguments { get; internal set; } = Array.Empty<string>();
    /// <summary>For command steps: the upstream step whose output file is piped to standard input.</summary>
    public string? Stdin { get; internal set; }

    public IReadOnlyList<InputBinding> Inputs { get; internal set; } = Array.Empty<InputBinding>();
    public OutputSpec Output { get; internal set; } = new("output", "clixml", ".clixml", null);
    /// <summary>Explicit output type (-OutputType or [OutputType()] in the body), used for type-based wiring.</summary>
    public string? OutputType { get; internal set; }

    public string IoHandler => Output.IoHandler;
    public InputMode InputMode { get; internal set; }
    public IReadOnlyDictionary<string, InputMode> InputModes { get; internal set; } = NoInputModes;

    public ResourceSpec Resources { get; internal set; } = ResourceSpec.Empty;
    public int Retries { get; internal set; }
    /// <summary>Timeout in seconds, null for none.</summary>
    public int? TimeoutSeconds { get; internal set; }
    public IReadOnlyDictionary<string, string> Env { get; internal set; } = NoEnv;
    /// <summary>Environment variables whose values come from secrets at run time (variable name to reference; never a value).</summary>
    public IReadOnlyDictionary<string, SecretReference> Secrets { get; internal set; } = NoSecrets;
    /// <summary>Condition text as written (-When).</summary>
    public string? When { get; internal set; }
    /// <summary>Parsed condition, null when there is none or it did not parse.</summary>
    public Condition? Condition { get; internal set; }
    public IReadOnlyList<string> Packages { get; internal set; } = Array.Empty<string>();
    public IReadOnlyList<string> Modules { get; internal set; } = Array.Empty<string>();
    /// <summary>Image override for this step, null to use the workflow image.</summary>
    public string? Image { get; internal set; }
    public IReadOnlyList<string> DependsOn { get; internal set; } = Array.Empty<string>();

    /// <summary>Names of upstream steps (data and order edges), filled by the builder.</summary>
    public IReadOnlyList<string> Upstream { get; internal set; } = Array.Empty<string>();

    // Plain text for views (a deserialized step shows the same as the live one).
    /// <summary>The upstream step names, comma-separated.</summary>
    public string UpstreamText => string.Join(", ", Upstream);
    /// <summary>The input bindings, semicolon-separated.</summary>
    public string InputText => string.Join("; ", Inputs);
    /// <summary>The command and its arguments of a command step, as one line; empty for a script step.</summary>
    public string CommandLine => Command is null ? "" : string.Join(" ", Arguments.Prepend(Command));
    /// <summary>The environment variables as NAME=value, comma-separated.</summary>
    public string EnvText => string.Join(", ", Env.Select(kv => kv.Key + "=" + kv.Value));

    public override string ToString() => Name;
}
