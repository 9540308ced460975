namespace Axl.Visual;

/// <summary>The colours of step statuses, the same in every picture and the report (fill, stroke).</summary>
public static class StatusColors
{
    public static readonly IReadOnlyDictionary<string, (string Fill, string Stroke)> Light = new Dictionary<string, (string, string)>
    {
        ["succeeded"] = ("#d3f9d8", "#2b8a3e"),
        ["failed"] = ("#ffe3e3", "#c92a2a"),
        ["cancelled"] = ("#fff3bf", "#e67700"),
        ["running"] = ("#d0ebff", "#1971c2"),
        ["skipped"] = ("#f1f3f5", "#868e96"),
        ["pending"] = ("#ffffff", "#adb5bd"),
    };

    public static readonly IReadOnlyDictionary<string, (string Fill, string Stroke)> Dark = new Dictionary<string, (string, string)>
    {
        ["succeeded"] = ("#123d1e", "#51cf66"),
        ["failed"] = ("#4a1414", "#ff6b6b"),
        ["cancelled"] = ("#4a3a05", "#fcc419"),
        ["running"] = ("#0b3050", "#4dabf7"),
        ["skipped"] = ("#2b2f33", "#909296"),
        ["pending"] = ("#1f2226", "#5c5f66"),
    };

    /// <summary>A step without a run, and a parameter.</summary>
    public const string StepFill = "#f8f9fa", StepStroke = "#495057", ParameterFill = "#fff9db", ParameterStroke = "#e8a200";
}
