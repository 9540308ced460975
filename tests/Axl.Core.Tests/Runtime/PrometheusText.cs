using System.Globalization;
using System.Text;

namespace Axl.Core.Tests.Runtime;

/// <summary>
/// A strict parser of the Prometheus text exposition format (0.0.4) for tests: every line is a # HELP, a # TYPE, another
/// comment, or a sample (name [{labels}] value [timestamp]); names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
/// [a-zA-Z_][a-zA-Z0-9_]*, label values are quoted with only \\, \" and \n escaped; values are Go floats (NaN, +Inf,
/// -Inf too). A family's TYPE and HELP come at most once and before its samples, a family's samples are together, no
/// series (name and label set) appears twice, and the text ends with a line feed. Throws FormatException naming the line.
/// </summary>
public static class PrometheusText
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
    {
        public string Label(string name) => Labels.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"{Name} has no label '{name}'");
    }

    public sealed record Document(IReadOnlyDictionary<string, string> Types, IReadOnlyDictionary<string, string> Help, IReadOnlyList<Sample> Samples)
    {
        public IEnumerable<Sample> Of(string name) => Samples.Where(s => s.Name == name);

        /// <summary>The one sample of that name whose labels include all of <paramref name="labels"/> (name, value pairs).</summary>
        public Sample Single(string name, params (string Name, string Value)[] labels) =>
            Of(name).Where(s => labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value)).ToList() switch
            {
                [var one] => one,
                var many => throw new InvalidOperationException($"{many.Count} samples of {name} with {string.Join(",", labels.Select(l => $"{l.Name}={l.Value}"))}"),
            };
    }

    private static readonly HashSet<string> Kinds = new() { "counter", "gauge", "histogram", "summary", "untyped" };

    public static Document Parse(string text)
    {
        if (text.Length > 0 && !text.EndsWith('\n')) throw new FormatException("the text does not end with a line feed");
        var types = new Dictionary<string, string>();
        var help = new Dictionary<string, string>();
        var samples = new List<Sample>();
        var series = new HashSet<string>();
        var closed = new HashSet<string>(); // families whose samples are over (another family's came after them)
        string? current = null;
        var lines = text.Split('\n');
        for (int n = 0; n < lines.Length - 1; n++)
        {
            var line = lines[n];
            var where = $"line {n + 1} ('{line}')";
            if (line.Contains('\r')) throw new FormatException($"{where}: a carriage return");
            if (line.Trim().Length == 0) continue;
            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[0] == "#" && parts[1] is "HELP" or "TYPE")
                {
                    var name = parts[2];
                    if (!IsMetricName(name)) throw new FormatException($"{where}: '{name}' is not a metric name");
                    if (samples.Any(s => Family(s.Name, types) == name) || closed.Contains(name))
                        throw new FormatException($"{where}: # {parts[1]} of {name} after its samples");
                    if (parts[1] == "TYPE")
                    {
                        if (parts.Length != 4 || !Kinds.Contains(parts[3])) throw new FormatException($"{where}: the type must be one of {string.Join(", ", Kinds)}");
                        if (!types.TryAdd(name, parts[3])) throw new FormatException($"{where}: a second # TYPE of {name}");
                    }
                    else
                    {
                        var doc = parts.Length == 4 ? parts[3] : "";
                        CheckEscapes(doc, allowQuote: false, where);
                        if (!help.TryAdd(name, doc)) throw new FormatException($"{where}: a second # HELP of {name}");
                    }
                }
                continue; // any other comment
            }
            var sample = ParseSample(line, where);
            var fam = Family(sample.Name, types);
            if (fam != current)
            {
                if (current is not null) closed.Add(current);
                if (closed.Contains(fam)) throw new FormatException($"{where}: the samples of {fam} are not together");
                current = fam;
            }
            var id = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";
            if (!series.Add(id)) throw new FormatException($"{where}: the series {id} appears twice");
            samples.Add(sample);
        }
        return new Document(types, help, samples);
    }

    /// <summary>The family a sample belongs to: its name, or for a histogram's or summary's _bucket/_sum/_count the base name.</summary>
    private static string Family(string name, IReadOnlyDictionary<string, string> types)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
            if (name.EndsWith(suffix, StringComparison.Ordinal) && types.TryGetValue(name[..^suffix.Length], out var t) && t is "histogram" or "summary")
                return name[..^suffix.Length];
        return name;
    }

    private static Sample ParseSample(string line, string where)
    {
        int i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ' && line[i] != '\t') i++;
        var name = line[..i];
        if (!IsMetricName(name)) throw new FormatException($"{where}: '{name}' is not a metric name");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i < line.Length && line[i] == '}') { i++; break; }
                var start = i;
                while (i < line.Length && line[i] != '=') i++;
                var label = line[start..i];
                if (!IsLabelName(label)) throw new FormatException($"{where}: '{label}' is not a label name");
                if (label.StartsWith("__", StringComparison.Ordinal)) throw new FormatException($"{where}: label names starting with __ are reserved");
                i++; // '='
                if (i >= line.Length || line[i] != '"') throw new FormatException($"{where}: the value of label '{label}' is not quoted");
                i++;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length) throw new FormatException($"{where}: the value of label '{label}' has no closing quote");
                    var c = line[i++];
                    if (c == '"') break;
                    if (c == '\\')
                    {
                        if (i >= line.Length) throw new FormatException($"{where}: a backslash at the end of label '{label}'");
                        var e = line[i++];
                        value.Append(e switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException($"{where}: '\\{e}' is not an escape of the format (only \\\\, \\\" and \\n)"),
                        });
                    }
                    else value.Append(c);
                }
                if (!labels.TryAdd(label, value.ToString())) throw new FormatException($"{where}: label '{label}' twice");
                if (i < line.Length && line[i] == ',') { i++; continue; }
                if (i < line.Length && line[i] == '}') { i++; break; }
                throw new FormatException($"{where}: expected ',' or '}}' after label '{label}'");
            }
        }
        var rest = line[i..];
        if (rest.Length == 0 || rest[0] is not (' ' or '\t')) throw new FormatException($"{where}: no blank between the series and its value");
        var fields = rest.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is < 1 or > 2) throw new FormatException($"{where}: expected a value and at most a timestamp after the series");
        var v = ParseFloat(fields[0]) ?? throw new FormatException($"{where}: '{fields[0]}' is not a float value");
        if (fields.Length == 2 && !long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            throw new FormatException($"{where}: '{fields[1]}' is not a timestamp in milliseconds");
        return new Sample(name, labels, v);
    }

    private static double? ParseFloat(string s) => s switch
    {
        "NaN" => double.NaN,
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ when System.Text.RegularExpressions.Regex.IsMatch(s, @"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
            => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
        _ => null,
    };

    private static void CheckEscapes(string text, bool allowQuote, string where)
    {
        for (int i = 0; i < text.Length; i++)
            if (text[i] == '\\')
            {
                if (i + 1 >= text.Length || !(text[i + 1] is '\\' or 'n' || allowQuote && text[i + 1] == '"'))
                    throw new FormatException($"{where}: a bad escape in the docstring");
                i++;
            }
    }

    public static bool IsMetricName(string s) => System.Text.RegularExpressions.Regex.IsMatch(s, "^[a-zA-Z_:][a-zA-Z0-9_:]*$");
    public static bool IsLabelName(string s) => System.Text.RegularExpressions.Regex.IsMatch(s, "^[a-zA-Z_][a-zA-Z0-9_]*$");
}
