using System.Management.Automation;
using Axl.Dsl;

namespace Axl.Cmdlets.Dsl;

/// <summary>
/// Checks an input mode when it is bound (Core's <see cref="InputModeCheck"/>): "Object" or "Path" (any case), or a
/// hashtable whose values are; anything else fails parameter binding (ParameterArgumentValidationError), before the
/// workflow is built.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateInputModeAttribute : ValidateArgumentsAttribute
{
    /// <summary>The input modes (for completion).</summary>
    public static readonly string[] Modes = InputModeCheck.Modes;

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        if (InputModeCheck.Check(arguments) is { } error) throw new ValidationMetadataException(error);
    }
}
