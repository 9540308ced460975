using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Reflection;
using Axl.Compilers.Argo;
using Axl.Delivery;

namespace Axl.Jobs;

/// <summary>An option of <see cref="AxlJobOption"/> that does not exist or cannot take the value given; the message names it and the valid ones.</summary>
public sealed class AxlJobOptionException(string message, string? key = null) : ArgumentException(message)
{
    /// <summary>The option at fault, as Section.Name (or the section alone).</summary>
    public string? Key { get; } = key;
}

/// <summary>
/// The per-target settings of Submit-AxlJob and Start-AxlExperiment, in the shape of Pester's configuration object and
/// PSRule's options: one section per target (<see cref="Argo"/>, <see cref="Queue"/>, <see cref="Kfp"/>), built from a
/// hashtable (<c>[Axl.Jobs.AxlJobOption]@{ Argo = @{ Namespace = 'team-a' } }</c>) or by New-AxlJobOption and edited.
/// An option left empty (null) is not set: a later layer, the environment or the default decides it. The layers, from
/// the strongest: a flat parameter bound on the command (-Namespace), -Option, the preference variable
/// <c>$AxlJobOption</c>, the environment ($env:KUBECONFIG, $env:AXL_REDIS, $env:AXL_KFP_ENDPOINT, $env:AXL_KFP_TOKEN),
/// the defaults.
/// </summary>
public sealed class AxlJobOption
{
    /// <summary>The name of the preference variable the job cmdlets read when -Option is not given (as $PSSessionOption for -SessionOption).</summary>
    public const string PreferenceVariable = "AxlJobOption";

    private ArgoJobOption _argo = new();
    private QueueJobOption _queue = new();
    private KfpJobOption _kfp = new();

    public AxlJobOption() { }

    /// <summary>
    /// From a hashtable of sections, each a hashtable of options (or a section object): what a cast
    /// <c>[Axl.Jobs.AxlJobOption]@{ ... }</c> and a parameter of this type given a hashtable call. Keys are
    /// case-insensitive; an unknown section or option is an <see cref="AxlJobOptionException"/> listing the valid ones.
    /// </summary>
    public AxlJobOption(IDictionary options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (DictionaryEntry entry in options)
        {
            var key = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "";
            var value = entry.Value is PSObject pso ? pso.BaseObject : entry.Value;
            switch (key.ToLowerInvariant())
            {
                case "argo": Argo = Section<ArgoJobOption>(value, d => new ArgoJobOption(d)); break;
                case "queue": Queue = Section<QueueJobOption>(value, d => new QueueJobOption(d)); break;
                case "kfp": Kfp = Section<KfpJobOption>(value, d => new KfpJobOption(d)); break;
                default:
                    throw new AxlJobOptionException($"AxlJobOption has no section '{key}'. Valid sections: {string.Join(", ", SectionNames)} (each a hashtable of its options, e.g. @{{ Argo = @{{ Namespace = 'team-a' }} }}).", key);
            }
        }
    }

    /// <summary>The sections, in order.</summary>
    public static IReadOnlyList<string> SectionNames { get; } = new[] { "Argo", "Queue", "Kfp" };

    /// <summary>Submit-AxlJob -Target Argo: the cluster, how the workflow is compiled, how the job follows it.</summary>
    public ArgoJobOption Argo { get => _argo; set => _argo = value ?? new ArgoJobOption(); }
    /// <summary>Submit-AxlJob -Target Queue and job envelopes: the Redis queue (or AGQ server) and its layout.</summary>
    public QueueJobOption Queue { get => _queue; set => _queue = value ?? new QueueJobOption(); }
    /// <summary>Submit-AxlJob -Target Kfp: the Kubeflow Pipelines API.</summary>
    public KfpJobOption Kfp { get => _kfp; set => _kfp = value ?? new KfpJobOption(); }

    private IEnumerable<AxlJobOptionSection> Sections => new AxlJobOptionSection[] { Argo, Queue, Kfp };

    /// <summary>
    /// An option object from what a user put in -Option or $AxlJobOption: the object itself, a hashtable (converted),
    /// or null (none). Anything else is an <see cref="AxlJobOptionException"/>.
    /// </summary>
    public static AxlJobOption? From(object? value) => (value is PSObject pso ? pso.BaseObject : value) switch
    {
        null => null,
        AxlJobOption o => o,
        IDictionary d => new AxlJobOption(d),
        var other => throw new AxlJobOptionException($"a {other.GetType().Name} is not job options. Fix: give an AxlJobOption (New-AxlJobOption) or a hashtable of sections such as @{{ Argo = @{{ Namespace = 'team-a' }} }}."),
    };

    /// <summary>
    /// Merges layers, the weakest first: an option set in a later layer replaces the earlier value, an option a layer
    /// leaves empty keeps it. <paramref name="sources"/>, when given, receives for each option set (Section.Name) the
    /// name of the layer it came from. The layers are not changed.
    /// </summary>
    public static AxlJobOption Merge(IEnumerable<(AxlJobOption? Option, string Source)> layers, IDictionary<string, string>? sources = null)
    {
        var merged = new AxlJobOption();
        foreach (var (option, source) in layers)
        {
            if (option is null) continue;
            foreach (var (target, from) in merged.Sections.Zip(option.Sections))
                target.MergeFrom(from, source, sources);
        }
        return merged;
    }

    /// <summary>A copy (the sections copied too).</summary>
    public AxlJobOption Clone() => Merge(new (AxlJobOption?, string)[] { (this, "") });

    /// <summary>The options set, as Section.Name and value, in section and declaration order.</summary>
    public IEnumerable<KeyValuePair<string, object>> SetOptions() => Sections.SelectMany(s => s.SetOptions().Select(kv => new KeyValuePair<string, object>(s.Section + "." + kv.Key, kv.Value)));

    /// <summary>
    /// <paramref name="options"/> with these settings applied: what a target reads. Options left empty keep what
    /// <paramref name="options"/> has, so the targets fall back to the environment and then their defaults.
    /// <paramref name="resolvePath"/> makes a relative kubeconfig path absolute (the cmdlets: from the current location).
    /// </summary>
    public JobSubmitOptions ApplyTo(JobSubmitOptions options, Func<string, string>? resolvePath = null)
    {
        var a = Argo;
        var argo = options.Argo ?? new Argo.ArgoSubmitOptions();
        var compile = argo.Compile;
        argo = argo with
        {
            KubeConfig = a.KubeConfig is { } kc ? resolvePath?.Invoke(kc) ?? kc : argo.KubeConfig,
            Context = a.KubeContext ?? argo.Context,
            Namespace = a.Namespace ?? argo.Namespace,
            Shutdown = a.Shutdown ?? argo.Shutdown,
            PollInterval = a.PollInterval ?? argo.PollInterval,
            MaxPollFailures = a.MaxPollFailures ?? argo.MaxPollFailures,
            Compile = compile with
            {
                Image = a.Image ?? compile.Image,
                ServiceAccount = a.ServiceAccount ?? compile.ServiceAccount,
                CodeArchive = a.CodeArchive ?? compile.CodeArchive,
                MaxBytes = a.MaxBytes ?? compile.MaxBytes,
                MaxTemplates = a.MaxTemplates ?? compile.MaxTemplates,
                MaxDagTasks = a.MaxDagTasks ?? compile.MaxDagTasks,
                MaxInputParameters = a.MaxInputParameters ?? compile.MaxInputParameters,
                Split = a.Split is { } split ? Enum.Parse<ArgoSplit>(split, ignoreCase: true) : compile.Split,
                Parallelism = a.Parallelism ?? compile.Parallelism,
            },
        };
        var q = Queue;
        var queue = options.QueueOptions;
        if (q.Stream is not null || q.Group is not null || q.KeyPrefix is not null || q.PollInterval is not null)
        {
            var b = queue ?? new Queue.JobQueueOptions();
            queue = new Queue.JobQueueOptions
            {
                Stream = q.Stream ?? b.Stream, Group = q.Group ?? b.Group, KeyPrefix = q.KeyPrefix ?? b.KeyPrefix,
                PollInterval = q.PollInterval ?? b.PollInterval,
                ClaimIdle = b.ClaimIdle, KillGrace = b.KillGrace, MaxCapturedBytes = b.MaxCapturedBytes,
                ResultTtlSeconds = b.ResultTtlSeconds, WorkingDirectory = b.WorkingDirectory,
            };
        }
        return options with
        {
            Argo = argo,
            QueueEndpoint = q.Endpoint ?? options.QueueEndpoint,
            QueueOptions = queue,
            KfpEndpoint = Kfp.Endpoint ?? options.KfpEndpoint,
            KfpToken = Kfp.Token ?? options.KfpToken,
            KfpPollInterval = Kfp.PollInterval ?? options.KfpPollInterval,
        };
    }

    /// <summary>The options set, each with the layer it came from (from <see cref="Merge"/>'s sources): "Argo.Namespace=team-a (-Option), ..."; secrets as ***.</summary>
    public string Describe(IReadOnlyDictionary<string, string> sources) =>
        string.Join(", ", Sections.SelectMany(s => s.Shown().Select(kv => $"{s.Section}.{kv.Key}={kv.Value}" +
            (sources.TryGetValue($"{s.Section}.{kv.Key}", out var from) && from.Length > 0 ? $" ({from})" : ""))));

    public override string ToString()
    {
        var set = Sections.Where(s => s.SetOptions().Any()).Select(s => $"{s.Section}: {s}").ToList();
        return set.Count == 0 ? "(defaults)" : string.Join("; ", set);
    }

    private static T Section<T>(object? value, Func<IDictionary, T> fromDictionary) where T : AxlJobOptionSection, new() => value switch
    {
        null => new T(),
        T section => (T)section.CloneSection(),
        IDictionary d => fromDictionary(d),
        _ => throw new AxlJobOptionException($"{new T().Section} must be a hashtable of its options (valid: {string.Join(", ", new T().OptionNames)}); got a {value.GetType().Name}.", new T().Section),
    };
}

/// <summary>
/// A section of <see cref="AxlJobOption"/>: nullable options (null: not set), settable from a hashtable by name
/// (case-insensitive), each value converted as PowerShell converts it (a time span also from seconds or 'hh:mm:ss').
/// </summary>
public abstract class AxlJobOptionSection
{
    internal abstract string Section { get; }

    /// <summary>The names of the options, in declaration order.</summary>
    internal IReadOnlyList<string> OptionNames => Properties().Select(p => p.Name).ToList();

    private IEnumerable<PropertyInfo> Properties() =>
        GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.CanRead).OrderBy(p => p.MetadataToken);

    /// <summary>Sets the options named by the keys; an unknown key names the valid ones.</summary>
    protected void Set(IDictionary values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var properties = Properties().ToList();
        foreach (DictionaryEntry entry in values)
        {
            var key = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "";
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase))
                ?? throw new AxlJobOptionException($"{Section} has no option '{key}'. Valid options of {Section}: {string.Join(", ", OptionNames)}.", $"{Section}.{key}");
            var value = ConvertValue(property, entry.Value);
            try { property.SetValue(this, value); }
            catch (TargetInvocationException ex) when (ex.InnerException is not null) { throw ex.InnerException; }
        }
    }

    private object? ConvertValue(PropertyInfo property, object? raw)
    {
        var value = raw is PSObject pso ? pso.BaseObject : raw;
        if (value is null) return null;
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (type.IsInstanceOfType(value)) return value;
        if (type == typeof(TimeSpan))
        {
            switch (value)
            {
                case string s when TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var ts): return ts;
                case string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var secs): return TimeSpan.FromSeconds(secs);
                case int or long or double or float or decimal or short or byte: return TimeSpan.FromSeconds(Convert.ToDouble(value, CultureInfo.InvariantCulture));
            }
            throw new AxlJobOptionException($"{Section}.{property.Name}: '{value}' is not a time span. Fix: give a TimeSpan, 'hh:mm:ss' or a number of seconds.", $"{Section}.{property.Name}");
        }
        try { return LanguagePrimitives.ConvertTo(value, type, CultureInfo.InvariantCulture); }
        catch (Exception ex) when (ex is PSInvalidCastException or InvalidCastException or FormatException or ArgumentException)
        {
            throw new AxlJobOptionException($"{Section}.{property.Name}: cannot use '{value}' as {TypeName(type)}: {ex.Message}", $"{Section}.{property.Name}");
        }
    }

    private static string TypeName(Type t) => t == typeof(string) ? "a string" : t == typeof(int) || t == typeof(long) ? "a whole number" : "a " + t.Name;

    internal IEnumerable<KeyValuePair<string, object>> SetOptions() =>
        Properties().Select(p => (p.Name, Value: p.GetValue(this))).Where(x => x.Value is not null).Select(x => new KeyValuePair<string, object>(x.Name, x.Value!));

    internal void MergeFrom(AxlJobOptionSection other, string source, IDictionary<string, string>? sources)
    {
        foreach (var p in Properties())
        {
            if (p.GetValue(other) is not { } v) continue;
            p.SetValue(this, v);
            if (sources is not null) sources[$"{Section}.{p.Name}"] = source;
        }
    }

    internal AxlJobOptionSection CloneSection()
    {
        var copy = (AxlJobOptionSection)Activator.CreateInstance(GetType())!;
        copy.MergeFrom(this, "", null);
        return copy;
    }

    /// <summary>Names whose values are secrets: shown as *** .</summary>
    internal virtual bool IsSecret(string name) => false;

    internal IEnumerable<KeyValuePair<string, string>> Shown() =>
        SetOptions().Select(kv => new KeyValuePair<string, string>(kv.Key, IsSecret(kv.Key) ? "***" : Show(kv.Value)));

    public override string ToString()
    {
        var set = Shown().Select(kv => $"{kv.Key}={kv.Value}").ToList();
        return set.Count == 0 ? "(defaults)" : string.Join(", ", set);
    }

    private static string Show(object v) => v switch
    {
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <summary>The value with the casing of the allowed one it matches, or an error listing them.</summary>
    protected string? OneOf(string? value, string name, params string[] allowed)
    {
        if (value is null) return null;
        return allowed.FirstOrDefault(a => string.Equals(a, value, StringComparison.OrdinalIgnoreCase))
            ?? throw new AxlJobOptionException($"{Section}.{name} must be one of {string.Join(", ", allowed)}; got '{value}'.", $"{Section}.{name}");
    }

    protected T? AtLeast<T>(T? value, T least, string name) where T : struct, IComparable<T>
    {
        if (value is { } v && v.CompareTo(least) < 0)
            throw new AxlJobOptionException($"{Section}.{name} must be at least {least}; got {v}.", $"{Section}.{name}");
        return value;
    }

    protected TimeSpan? Interval(TimeSpan? value, string name)
    {
        // [TimeSpan]5 is 5 ticks in PowerShell: refuse what is surely a mistake rather than poll in a busy loop.
        if (value is { } v && v < TimeSpan.FromMilliseconds(1))
            throw new AxlJobOptionException($"{Section}.{name} must be at least 1 ms; got {v.Ticks} tick(s). Fix: give a TimeSpan such as '00:00:05' or [TimeSpan]::FromSeconds(5) (in a hashtable a number is seconds).", $"{Section}.{name}");
        return value;
    }
}

/// <summary>The Argo section of <see cref="AxlJobOption"/>; each option is also a flat parameter of Submit-AxlJob that overrides it.</summary>
public sealed class ArgoJobOption : AxlJobOptionSection
{
    private string? _split, _shutdown;
    private long? _maxBytes;
    private int? _maxTemplates, _maxDagTasks, _maxInputParameters, _parallelism, _maxPollFailures;
    private TimeSpan? _pollInterval;

    public ArgoJobOption() { }
    public ArgoJobOption(IDictionary values) => Set(values);
    internal override string Section => "Argo";

    /// <summary>The kubeconfig (default $env:KUBECONFIG, ~/.kube/config, else the pod's service account).</summary>
    public string? KubeConfig { get; set; }
    /// <summary>The kubeconfig context (default: its current context).</summary>
    public string? KubeContext { get; set; }
    /// <summary>The namespace (default: the context's, else "default").</summary>
    public string? Namespace { get; set; }
    /// <summary>The runner image of steps without their own -Image.</summary>
    public string? Image { get; set; }
    /// <summary>The pods' service account.</summary>
    public string? ServiceAccount { get; set; }
    /// <summary>Where the code archive is (Publish-AxlWorkflowCode).</summary>
    public CodeArchiveLocation? CodeArchive { get; set; }
    /// <summary>The largest Workflow accepted (default 1 MiB).</summary>
    public long? MaxBytes { get => _maxBytes; set => _maxBytes = AtLeast(value, 1L, nameof(MaxBytes)); }
    /// <summary>The most templates one object may hold (default 200).</summary>
    public int? MaxTemplates { get => _maxTemplates; set => _maxTemplates = AtLeast(value, 3, nameof(MaxTemplates)); }
    /// <summary>The most tasks one DAG may hold (default 200).</summary>
    public int? MaxDagTasks { get => _maxDagTasks; set => _maxDagTasks = AtLeast(value, 2, nameof(MaxDagTasks)); }
    /// <summary>The most input parameters one template may declare (default 500).</summary>
    public int? MaxInputParameters { get => _maxInputParameters; set => _maxInputParameters = AtLeast(value, 1, nameof(MaxInputParameters)); }
    /// <summary>Auto (default): split a workflow over a limit into WorkflowTemplates; None: refuse it.</summary>
    public string? Split { get => _split; set => _split = OneOf(value, nameof(Split), "Auto", "None"); }
    /// <summary>How many pods run at once (0: no limit; a split workflow's default is 100).</summary>
    public int? Parallelism { get => _parallelism; set => _parallelism = AtLeast(value, 0, nameof(Parallelism)); }
    /// <summary>What Stop-Job asks for: Stop (default) or Terminate.</summary>
    public string? Shutdown { get => _shutdown; set => _shutdown = OneOf(value, nameof(Shutdown), "Stop", "Terminate"); }
    /// <summary>How often the workflow's status is read (default 2 s).</summary>
    public TimeSpan? PollInterval { get => _pollInterval; set => _pollInterval = Interval(value, nameof(PollInterval)); }
    /// <summary>Failed status reads in a row before the job is marked failed (default 30).</summary>
    public int? MaxPollFailures { get => _maxPollFailures; set => _maxPollFailures = AtLeast(value, 1, nameof(MaxPollFailures)); }
}

/// <summary>The Queue section of <see cref="AxlJobOption"/>: the Redis queue of Axl's workers, or an AGQ server.</summary>
public sealed class QueueJobOption : AxlJobOptionSection
{
    private string? _protocol, _agqVerb;
    private TimeSpan? _pollInterval;

    public QueueJobOption() { }
    public QueueJobOption(IDictionary values) => Set(values);
    internal override string Section => "Queue";
    internal override bool IsSecret(string name) => name == nameof(SessionKey);

    /// <summary>The Redis server of the queue (host:port), or the AGQ server with Protocol Agq; default $env:AXL_REDIS.</summary>
    public string? Endpoint { get; set; }
    /// <summary>Redis (default: Axl's own workers) or Agq (an AGQ server: job envelopes only).</summary>
    public string? Protocol { get => _protocol; set => _protocol = OneOf(value, nameof(Protocol), "Redis", "Agq"); }
    /// <summary>AGQ: the session key sent with AUTH first.</summary>
    public string? SessionKey { get; set; }
    /// <summary>AGQ: the submit verb, PLAN.SUBMIT (default) or JOB.SUBMIT.</summary>
    public string? AgqVerb { get => _agqVerb; set => _agqVerb = OneOf(value, nameof(AgqVerb), "PLAN.SUBMIT", "JOB.SUBMIT"); }
    /// <summary>The stream jobs are added to (default axl:jobs; the workers' -Stream).</summary>
    public string? Stream { get; set; }
    /// <summary>The workers' consumer group (default axl-workers).</summary>
    public string? Group { get; set; }
    /// <summary>Prefix of the per-job status hash (default axl:job:).</summary>
    public string? KeyPrefix { get; set; }
    /// <summary>How often a queued job's record is read (default 200 ms).</summary>
    public TimeSpan? PollInterval { get => _pollInterval; set => _pollInterval = Interval(value, nameof(PollInterval)); }
}

/// <summary>The Kfp section of <see cref="AxlJobOption"/>: the Kubeflow Pipelines API.</summary>
public sealed class KfpJobOption : AxlJobOptionSection
{
    private TimeSpan? _pollInterval;

    public KfpJobOption() { }
    public KfpJobOption(IDictionary values) => Set(values);
    internal override string Section => "Kfp";
    internal override bool IsSecret(string name) => name == nameof(Token);

    /// <summary>The base URL of the KFP API (http://host:port); default $env:AXL_KFP_ENDPOINT.</summary>
    public string? Endpoint { get; set; }
    /// <summary>The bearer token of a multi-user installation; default $env:AXL_KFP_TOKEN.</summary>
    public string? Token { get; set; }
    /// <summary>How often the run's state is read (default 5 s).</summary>
    public TimeSpan? PollInterval { get => _pollInterval; set => _pollInterval = Interval(value, nameof(PollInterval)); }
}
