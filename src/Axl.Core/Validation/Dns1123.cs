using System.Text;
using System.Text.RegularExpressions;

namespace Axl.Validation;

/// <summary>RFC 1123 label names as Kubernetes and Argo need them: lower case alphanumerics and '-', at most 63 characters.</summary>
public static partial class Dns1123
{
    public const int MaxLength = 63;

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex LabelRegex();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex SubdomainRegex();

    /// <summary>A DNS-1123 subdomain (the names of Kubernetes objects such as secrets): labels joined by '.', at most 253 characters.</summary>
    public static bool IsSubdomain(string name) => name.Length is > 0 and <= 253 && SubdomainRegex().IsMatch(name);

    public static bool IsValid(string name) => name.Length is > 0 and <= MaxLength && LabelRegex().IsMatch(name);

    /// <summary>Lower-cases, turns '_', '.' and spaces into '-', drops other characters, collapses and trims hyphens.</summary>
    public static string Normalize(string name)
    {
        // Already lower-case letters and digits only (most step names): the name itself, nothing to build.
        if (LowerAlphanumericOnly(name)) return name;
        var sb = new StringBuilder(name.Length);
        foreach (var ch in name)
        {
            char c = char.ToLowerInvariant(ch);
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') sb.Append(c);
            else if (c is '-' or '_' or '.' or ' ')
            {
                if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
            }
        }
        while (sb.Length > 0 && sb[^1] == '-') sb.Length--;
        return sb.ToString();
    }

    /// <summary>
    /// Only a-z and 0-9: a loop, not a vectorised search (which runs unoptimised, JIT tier 0, in a fresh process), over
    /// names of a few characters, one per step as a workflow is read.
    /// </summary>
    private static bool LowerAlphanumericOnly(string name)
    {
        foreach (var c in name)
            if (c is not (>= 'a' and <= 'z' or >= '0' and <= '9')) return false;
        return true;
    }
}
