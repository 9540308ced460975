using System.Collections;
using System.Management.Automation;
using Axl.Cmdlets.Completion;
using Axl.Model;

namespace Axl.Cmdlets.Dsl;

/// <summary>
/// Checks an input mode when it is bound: "Object" or "Path" (any case), or a hashtable whose values are; anything
/// else fails parameter binding (ParameterArgumentValidationError), before the workflow is built.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateInputModeAttribute : ValidateArgumentsAttribute
{
    /// <summary>The input modes: the names of Axl.Model.InputMode (a string array: the enum itself is Core's).</summary>
    public static readonly string[] Modes = { nameof(InputMode.Object), nameof(InputMode.Path) };

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        switch (Completions.Base(arguments))
        {
            case null: return;
            case string s:
                if (!IsMode(s)) throw new ValidationMetadataException($"'{s}' is not an input mode. Fix: use -InputMode Object, -InputMode Path, or a hashtable of parameter name to mode such as @{{ data = 'Path' }}.");
                return;
            case IDictionary map:
                foreach (DictionaryEntry e in map)
                {
                    var value = Completions.Base(e.Value) as string;
                    if (value is null || !IsMode(value))
                        throw new ValidationMetadataException($"The input mode '{Completions.Base(e.Value)}' given for parameter '{e.Key}' is not one. Fix: use 'Object' or 'Path' as each value of the hashtable.");
                }
                return;
            default:
                throw new ValidationMetadataException($"An input mode of type {Completions.Base(arguments)!.GetType().Name} is not understood. Fix: use 'Object', 'Path' or a hashtable of parameter name to mode.");
        }
    }

    private static bool IsMode(string s) => Modes.Any(m => m.Equals(s.Trim(), StringComparison.OrdinalIgnoreCase));
}
