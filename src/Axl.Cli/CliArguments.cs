namespace Axl.Cli;

/// <summary>Positional arguments, flags (--json) and options with a value (--out FILE or --out=FILE).</summary>
public sealed class CliArguments
{
    public List<string> Positional { get; } = new();
    public HashSet<string> Flags { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, List<string>> Options { get; } = new(StringComparer.Ordinal);

    public bool Has(string flag) => Flags.Contains(flag);
    public string? Option(string name) => Options.TryGetValue(name, out var v) ? v[^1] : null;

    /// <summary>An option in seconds (0 or more, fractions allowed), or <paramref name="fallback"/> when it is not given.</summary>
    public TimeSpan Seconds(string name, double fallback)
    {
        var text = Option(name);
        if (text is null) return TimeSpan.FromSeconds(fallback);
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 0
            ? TimeSpan.FromSeconds(n)
            : throw new UsageException($"{name} takes seconds (a number of 0 or more), got '{text}'.");
    }

    public static CliArguments Parse(string[] args, IReadOnlyCollection<string> flags, IReadOnlyCollection<string> options)
    {
        var result = new CliArguments();
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                result.Positional.AddRange(args.Skip(i + 1));
                break;
            }
            if (a.StartsWith("--", StringComparison.Ordinal) || (a.StartsWith('-') && a.Length == 2 && !char.IsDigit(a[1])))
            {
                var eq = a.IndexOf('=');
                var name = eq > 0 ? a[..eq] : a;
                if (flags.Contains(name))
                {
                    if (eq > 0) throw new UsageException($"{name} takes no value.");
                    result.Flags.Add(name);
                }
                else if (options.Contains(name))
                {
                    string value;
                    if (eq > 0) value = a[(eq + 1)..];
                    else if (i + 1 < args.Length) value = args[++i];
                    else throw new UsageException($"{name} needs a value.");
                    (result.Options.TryGetValue(name, out var list) ? list : result.Options[name] = new()).Add(value);
                }
                else throw new UsageException($"unknown option '{name}'. Known: {string.Join(", ", flags.Concat(options).OrderBy(x => x))}.");
            }
            else result.Positional.Add(a);
        }
        return result;
    }
}

public interface ICliCommand
{
    string Name { get; }
    string Summary { get; }
    string Usage { get; }
    IReadOnlyCollection<string> Flags { get; }
    IReadOnlyCollection<string> Options { get; }
    int Execute(CliArguments args, TextWriter stdout, TextWriter stderr);
}
