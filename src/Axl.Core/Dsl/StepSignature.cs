using System.Management.Automation;
using System.Management.Automation.Language;

namespace Axl.Dsl;

/// <summary>One parameter of a step's param block, as the auto-graph sees it.</summary>
public sealed record StepParameterInfo(string Name, string? TypeName, Type? Type, bool HasDefault)
{
    /// <summary>Untyped, [object] and [psobject] parameters never match by type.</summary>
    public bool IsTyped => Type is not null ? Type != typeof(object) && Type != typeof(PSObject) : TypeName is not null && !Signatures.IsObjectName(TypeName);
}

/// <summary>The inputs and declared output type of a step body, read from its AST (never by running it).</summary>
public sealed record StepSignature(IReadOnlyList<StepParameterInfo> Parameters, string? OutputTypeName, Type? OutputType)
{
    public static StepSignature Empty { get; } = new(Array.Empty<StepParameterInfo>(), null, null);

    public static StepSignature FromScriptBlock(ScriptBlock body) => FromAst(body.Ast as ScriptBlockAst);

    public static StepSignature FromText(string text)
    {
        var ast = Parser.ParseInput(text, out _, out var errors);
        if (errors.Length > 0) throw new ParseException(errors);
        return FromAst(ast);
    }

    public static StepSignature FromAst(ScriptBlockAst? ast)
    {
        if (ast?.ParamBlock is null) return Empty;
        var parameters = new List<StepParameterInfo>();
        foreach (var p in ast.ParamBlock.Parameters)
        {
            var typeAst = p.Attributes.OfType<TypeConstraintAst>().FirstOrDefault();
            parameters.Add(new StepParameterInfo(
                p.Name.VariablePath.UserPath,
                typeAst?.TypeName.FullName,
                typeAst is null ? null : Signatures.Resolve(typeAst.TypeName),
                p.DefaultValue is not null));
        }
        string? outName = null;
        Type? outType = null;
        var outAttr = ast.ParamBlock.Attributes.FirstOrDefault(a =>
            a.TypeName.Name.Equals("OutputType", StringComparison.OrdinalIgnoreCase) ||
            a.TypeName.Name.Equals("System.Management.Automation.OutputTypeAttribute", StringComparison.OrdinalIgnoreCase) ||
            a.TypeName.Name.Equals("OutputTypeAttribute", StringComparison.OrdinalIgnoreCase));
        if (outAttr?.PositionalArguments.FirstOrDefault() is { } arg)
        {
            switch (arg)
            {
                case TypeExpressionAst te:
                    outName = te.TypeName.FullName;
                    outType = Signatures.Resolve(te.TypeName);
                    break;
                case StringConstantExpressionAst s:
                    outName = s.Value;
                    outType = Signatures.Resolve(s.Value);
                    break;
            }
        }
        return new StepSignature(parameters, outName, outType);
    }
}

internal static class Signatures
{
    public static bool IsObjectName(string name) =>
        name.Equals("object", StringComparison.OrdinalIgnoreCase) || name.Equals("System.Object", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("psobject", StringComparison.OrdinalIgnoreCase) || name.Equals("System.Management.Automation.PSObject", StringComparison.OrdinalIgnoreCase);

    public static Type? Resolve(ITypeName name)
    {
        try { return name.GetReflectionType(); }
        catch { return null; }
    }

    public static Type? Resolve(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        try { return LanguagePrimitives.ConvertTo<Type>(name.Trim('[', ']')); }
        catch { return null; }
    }

    /// <summary>Can an output of <paramref name="outName"/> feed a parameter of <paramref name="paramName"/>?</summary>
    public static bool Compatible(string? paramName, Type? paramType, string? outName, Type? outType)
    {
        if (paramType is not null && outType is not null) return paramType.IsAssignableFrom(outType);
        if (paramName is null || outName is null) return false;
        return Simplify(paramName).Equals(Simplify(outName), StringComparison.OrdinalIgnoreCase);
    }

    private static string Simplify(string name) => name.Trim('[', ']').Replace("System.", "", StringComparison.OrdinalIgnoreCase);
}
