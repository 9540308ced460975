using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace Axl.Model;

/// <summary>
/// A PowerShell module a workflow or step needs: a name and, when pinned, the exact version. Written in the DSL as
/// 'Name', 'Name@1.2.3' or a module specification hashtable (@{ ModuleName = 'Name'; RequiredVersion = '1.2.3' }, Name
/// also accepted); kept in the IR as 'Name' or 'Name@1.2.3'. Image builds need every module pinned (Save-Module
/// -RequiredVersion at build time), so the image holds exactly the versions the workflow names.
/// </summary>
public sealed partial record ModuleRequirement(string Name, string? Version)
{
    public bool IsPinned => Version is not null;

    public override string ToString() => Version is null ? Name : $"{Name}@{Version}";

    /// <summary>Parses one -Modules value; false with a reason (what was given and the accepted forms) when it is not one.</summary>
    public static bool TryParse(object? value, out ModuleRequirement? requirement, out string? error)
    {
        requirement = null;
        error = null;
        value = value is PSObject pso ? pso.BaseObject : value;
        switch (value)
        {
            case string s:
                var m = TextRegex().Match(s.Trim());
                if (!m.Success)
                {
                    error = $"module '{s}' is not 'Name' or 'Name@Version' (a version of digits and dots, optionally with a prerelease suffix such as 1.2.3-beta1)";
                    return false;
                }
                requirement = new ModuleRequirement(m.Groups["name"].Value, m.Groups["version"].Success ? m.Groups["version"].Value : null);
                return true;
            case IDictionary d:
                string? name = null, version = null;
                foreach (DictionaryEntry e in d)
                {
                    var key = Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "";
                    var v = Convert.ToString(e.Value is PSObject p ? p.BaseObject : e.Value, CultureInfo.InvariantCulture);
                    if (key.Equals("ModuleName", StringComparison.OrdinalIgnoreCase) || key.Equals("Name", StringComparison.OrdinalIgnoreCase)) name = v;
                    else if (key.Equals("RequiredVersion", StringComparison.OrdinalIgnoreCase) || key.Equals("Version", StringComparison.OrdinalIgnoreCase)) version = v;
                    else
                    {
                        error = $"module specification key '{key}' is not supported (use ModuleName and RequiredVersion: an image holds one exact version)";
                        return false;
                    }
                }
                if (string.IsNullOrWhiteSpace(name))
                {
                    error = "a module specification hashtable needs ModuleName (or Name)";
                    return false;
                }
                return TryParse(string.IsNullOrWhiteSpace(version) ? name : $"{name.Trim()}@{version.Trim()}", out requirement, out error);
            default:
                error = $"a module is a string ('Name' or 'Name@1.2.3') or a hashtable (@{{ ModuleName = 'Name'; RequiredVersion = '1.2.3' }}), not {(value is null ? "null" : "a " + value.GetType().Name)}";
                return false;
        }
    }

    /// <summary>Parses a value the IR holds ('Name' or 'Name@1.2.3'); throws on anything else.</summary>
    public static ModuleRequirement Parse(string text) =>
        TryParse(text, out var r, out var error) ? r! : throw new FormatException(error);

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)(@(?<version>[0-9]+(\.[0-9]+){1,3}(-[A-Za-z0-9]+)?))?$")]
    private static partial Regex TextRegex();
}
