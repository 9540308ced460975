using System.Globalization;
using System.Text;
using Axl.Model;

namespace Axl.Compilers.Kfp;

/// <summary>
/// Translates a step condition into the CEL expression of a KFP v2 task's triggerPolicy.condition, with the
/// semantics of the local runtime (<see cref="Runtime.ConditionEvaluator"/>):
/// <list type="bullet">
/// <item>a step output is the task input inputs.parameter_values['pipelinechannel--&lt;task&gt;-value'] (the text
/// the runner writes to the step's value file, a STRING output parameter); a workflow parameter is
/// inputs.parameter_values['pipelinechannel--&lt;Name&gt;'];</item>
/// <item>a comparison with a number (a literal, or a numeric parameter) compares as double(...); with a boolean,
/// as a boolean (the text "true"/"True"/"TRUE" is true); otherwise as strings, case-sensitively;</item>
/// <item>-and -or -not become &amp;&amp; || !; every nested operation is parenthesized.</item>
/// </list>
/// </summary>
public static class KfpConditions
{
    private static readonly Dictionary<string, string> Operators = new(StringComparer.Ordinal)
    {
        ["eq"] = "==", ["ne"] = "!=", ["gt"] = ">", ["ge"] = ">=", ["lt"] = "<", ["le"] = "<=",
    };

    /// <summary>The task input key that carries a condition operand.</summary>
    public static string InputKey(ConditionRef r, AxlWorkflow wf)
    {
        if (!r.IsParameter && wf.GetStep(r.Name) is { } step) return "pipelinechannel--" + step.KubernetesName + "-" + KfpCompiler.ValueParameter;
        return "pipelinechannel--" + Parameter(r, wf)?.Name;
    }

    private static AxlParameter? Parameter(ConditionRef r, AxlWorkflow wf) =>
        wf.Parameters.FirstOrDefault(x => x.Name.Equals(r.Name, StringComparison.OrdinalIgnoreCase));

    private enum Kind { String, Number, Boolean }

    private static Kind KindOf(Condition c, AxlWorkflow wf) => c switch
    {
        ConditionLiteral { Value: bool } => Kind.Boolean,
        ConditionLiteral { Value: string } => Kind.String,
        ConditionLiteral => Kind.Number,
        ConditionRef { IsParameter: true } r when Parameter(r, wf) is { } p => CompilerSteps.KindOf(p) switch
        {
            ParameterKind.Integer or ParameterKind.Number => Kind.Number,
            ParameterKind.Boolean => Kind.Boolean,
            _ => Kind.String,
        },
        _ => Kind.String,
    };

    public static string ToCel(Condition condition, AxlWorkflow wf)
    {
        var sb = new StringBuilder();
        Write(sb, condition, wf);
        return sb.ToString();
    }

    private static string Ref(ConditionRef r, AxlWorkflow wf) => "inputs.parameter_values['" + InputKey(r, wf) + "']";

    private static void Write(StringBuilder sb, Condition c, AxlWorkflow wf)
    {
        switch (c)
        {
            case ConditionNot n:
                sb.Append('!');
                Child(sb, n.Operand, wf);
                break;
            case ConditionBinary { Operator: "and" or "or" } b:
                Child(sb, b.Left, wf);
                sb.Append(b.Operator == "and" ? " && " : " || ");
                Child(sb, b.Right, wf);
                break;
            case ConditionBinary b:
                var kind = KindOf(b.Left, wf) == Kind.Number || KindOf(b.Right, wf) == Kind.Number ? Kind.Number
                    : KindOf(b.Left, wf) == Kind.Boolean || KindOf(b.Right, wf) == Kind.Boolean ? Kind.Boolean : Kind.String;
                if (!Operators.TryGetValue(b.Operator, out var op))
                    throw new AxlCompileException(CompileErrorIds.NotExpressible, $"the condition operator -{b.Operator} has no KFP equivalent.");
                sb.Append(Operand(b.Left, wf, kind)).Append(' ').Append(op).Append(' ').Append(Operand(b.Right, wf, kind));
                break;
            case ConditionLiteral l:
                sb.Append(Truthy(l.Value) ? "true" : "false");
                break;
            case ConditionRef r:
                // A bare reference is true as in the local runtime: a non-empty text that is not "false", a non-zero number.
                var reference = Ref(r, wf);
                sb.Append(KindOf(r, wf) switch
                {
                    Kind.Boolean => reference,
                    Kind.Number => "double(" + reference + ") != 0.0",
                    _ => "(" + reference + " != '' && " + reference + " != 'false' && " + reference + " != 'False')",
                });
                break;
            default:
                throw new AxlCompileException(CompileErrorIds.NotExpressible, $"condition node {c.GetType().Name} has no KFP equivalent.");
        }
    }

    private static void Child(StringBuilder sb, Condition c, AxlWorkflow wf)
    {
        var wrap = c is ConditionBinary;
        if (wrap) sb.Append('(');
        Write(sb, c, wf);
        if (wrap) sb.Append(')');
    }

    private static string Operand(Condition c, AxlWorkflow wf, Kind kind)
    {
        if (c is ConditionRef r)
        {
            var reference = Ref(r, wf);
            var own = KindOf(r, wf);
            return kind switch
            {
                Kind.Number => "double(" + reference + ")",
                Kind.Boolean when own == Kind.Boolean => reference,
                Kind.Boolean => "(" + reference + " in ['true', 'True', 'TRUE'])",
                _ when own == Kind.String => reference,
                _ => "string(" + reference + ")",
            };
        }
        if (c is ConditionLiteral l) return Literal(l.Value, kind);
        throw new AxlCompileException(CompileErrorIds.NotExpressible, $"the condition compares {c}, which is not a value; compare a step output or a parameter with a value.");
    }

    private static string Literal(object value, Kind kind)
    {
        switch (kind)
        {
            case Kind.Number:
                if (value is string s && !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    throw new AxlCompileException(CompileErrorIds.NotExpressible, $"the condition compares a number with the string '{s}', which KFP's CEL cannot compare.", "compare with a number.");
                var d = Convert.ToDouble(value is bool b ? (b ? 1 : 0) : value, CultureInfo.InvariantCulture);
                var text = d.ToString("R", CultureInfo.InvariantCulture);
                return text.Contains('.') || text.Contains('E') ? text : text + ".0";
            case Kind.Boolean:
                return Truthy(value) ? "true" : "false";
            default:
                var str = Convert.ToString(value is bool bb ? (bb ? "True" : "False") : value, CultureInfo.InvariantCulture) ?? "";
                return "'" + str.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
        }
    }

    private static bool Truthy(object value) => value switch
    {
        bool b => b,
        string s => s.Length > 0 && !s.Equals("false", StringComparison.OrdinalIgnoreCase),
        IConvertible n => Convert.ToDouble(n, CultureInfo.InvariantCulture) != 0,
        _ => true,
    };
}
