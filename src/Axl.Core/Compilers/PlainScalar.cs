using System.Globalization;

namespace Axl.Compilers;

/// <summary>
/// A scalar written as is, unquoted, by <see cref="CompilerYaml"/>: a floating-point number that must read back as
/// a float (2.0, 0.2), which a double alone would not guarantee.
/// </summary>
public sealed record PlainScalar(string Text)
{
    /// <summary>The shortest text that reads back as the same double, always with a decimal point or exponent.</summary>
    public static PlainScalar Number(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return new(text.Contains('.') || text.Contains('E') || !double.IsFinite(value) ? text : text + ".0");
    }

    public double ToDouble() => double.Parse(Text, NumberStyles.Float, CultureInfo.InvariantCulture);

    public override string ToString() => Text;
}
