using System.Text.RegularExpressions;

namespace Axl.Validation;

/// <summary>Kubernetes resource quantities ("500m", "1.5", "1Gi", "128974848", "129e6").</summary>
public static partial class Quantity
{
    [GeneratedRegex(@"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")]
    private static partial Regex QuantityRegex();

    public static bool IsValid(string? value) => value is not null && QuantityRegex().IsMatch(value);

    /// <summary>The value in base units (cores or bytes), for comparing a request with its limit; null when not a quantity or too large for a decimal.</summary>
    public static decimal? ToDecimal(string value)
    {
        var m = QuantityRegex().Match(value);
        if (!m.Success) return null;
        try { return ToDecimal(m); }
        catch (OverflowException) { return null; } // "1e40", "1e400", "100000000000E": valid syntax, beyond decimal's range
    }

    private static decimal ToDecimal(Match m)
    {
        var number = decimal.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var suffix = m.Groups[3].Value;
        decimal factor = suffix switch
        {
            "" => 1m,
            "n" => 1e-9m, "u" => 1e-6m, "m" => 1e-3m,
            "k" => 1e3m, "M" => 1e6m, "G" => 1e9m, "T" => 1e12m, "P" => 1e15m, "E" => 1e18m,
            "Ki" => 1024m, "Mi" => 1024m * 1024, "Gi" => 1024m * 1024 * 1024, "Ti" => 1024m * 1024 * 1024 * 1024,
            "Pi" => 1024m * 1024 * 1024 * 1024 * 1024, "Ei" => 1024m * 1024 * 1024 * 1024 * 1024 * 1024,
            _ => (decimal)Math.Pow(10, int.Parse(suffix[1..], System.Globalization.CultureInfo.InvariantCulture)),
        };
        return number * factor;
    }
}
