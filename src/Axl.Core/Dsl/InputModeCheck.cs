using System.Collections;
using System.Management.Automation;
using Axl.Model;

namespace Axl.Dsl;

/// <summary>
/// The one check of an -InputMode value: "Object" or "Path" (any case), or a hashtable whose values are. The Step
/// command runs it when the value is bound (a bad value fails binding, before the workflow is built), and the static
/// reader runs it too, so a block it reads from the syntax tree fails exactly as the executed block would.
/// </summary>
public static class InputModeCheck
{
    /// <summary>The input modes: the names of <see cref="InputMode"/>.</summary>
    public static readonly string[] Modes = { nameof(InputMode.Object), nameof(InputMode.Path) };

    /// <summary>Null when the value is a valid input mode (or none), else the message that says what is wrong and how to fix it.</summary>
    public static string? Check(object? value)
    {
        switch (Base(value))
        {
            case null: return null;
            case string s:
                return IsMode(s) ? null : $"'{s}' is not an input mode. Fix: use -InputMode Object, -InputMode Path, or a hashtable of parameter name to mode such as @{{ data = 'Path' }}.";
            case IDictionary map:
                foreach (DictionaryEntry e in map)
                {
                    if (Base(e.Value) is not string v || !IsMode(v))
                        return $"The input mode '{Base(e.Value)}' given for parameter '{e.Key}' is not one. Fix: use 'Object' or 'Path' as each value of the hashtable.";
                }
                return null;
            case var other:
                return $"An input mode of type {other.GetType().Name} is not understood. Fix: use 'Object', 'Path' or a hashtable of parameter name to mode.";
        }
    }

    private static bool IsMode(string s) => Modes.Any(m => m.Equals(s.Trim(), StringComparison.OrdinalIgnoreCase));

    private static object? Base(object? value) => value is PSObject p ? p.BaseObject : value;
}
