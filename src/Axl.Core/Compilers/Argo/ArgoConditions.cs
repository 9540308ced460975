using System.Globalization;
using System.Text;
using Axl.Model;

namespace Axl.Compilers.Argo;

/// <summary>
/// Translates a step condition (the IR's <see cref="Condition"/> AST) into the govaluate expression of an Argo
/// DAG task's "when". Argo substitutes the {{...}} references as text first, then evaluates:
/// <list type="bullet">
/// <item>a step output becomes {{tasks.&lt;step&gt;.outputs.parameters.value}} (the scalar text the runner writes
/// to the step's value file), a workflow parameter {{workflow.parameters.&lt;Name&gt;}};</item>
/// <item>-eq -ne -gt -ge -lt -le become == != &gt; &gt;= &lt; &lt;=, -and -or -not become &amp;&amp; || !;</item>
/// <item>string literals are single-quoted, and so is a reference compared with a string literal (or another
/// reference by -eq/-ne), so that text after substitution is a string, not a name; numbers and booleans stay bare.</item>
/// </list>
/// Strings compare case-sensitively, as in the local runtime.
/// </summary>
public static class ArgoConditions
{
    private const int Or = 1, And = 2, Not = 3, Comparison = 4, Atom = 5;

    private static readonly Dictionary<string, string> Operators = new(StringComparer.Ordinal)
    {
        ["eq"] = "==", ["ne"] = "!=", ["gt"] = ">", ["ge"] = ">=", ["lt"] = "<", ["le"] = "<=",
    };

    /// <summary>The "when" expression of <paramref name="condition"/> on a step of <paramref name="wf"/>.</summary>
    /// <param name="stepReference">
    /// The reference of a step's value when it is not the task's own output parameter (null for that): in a split
    /// workflow, a step outside the group is read from the group's input parameter.
    /// </param>
    public static string ToWhen(Condition condition, AxlWorkflow wf, Func<AxlStep, string?>? stepReference = null)
    {
        var sb = new StringBuilder();
        Write(sb, condition, wf, quote: false, stepReference);
        return sb.ToString();
    }

    /// <summary>The Argo reference of a condition operand: the step's value parameter, or the workflow parameter.</summary>
    public static string Reference(ConditionRef r, AxlWorkflow wf, Func<AxlStep, string?>? stepReference = null)
    {
        if (!r.IsParameter && wf.GetStep(r.Name) is { } step)
            return stepReference?.Invoke(step) ?? "{{tasks." + step.KubernetesName + ".outputs.parameters." + ArgoCompiler.ValueParameter + "}}";
        var p = wf.Parameters.FirstOrDefault(x => x.Name.Equals(r.Name, StringComparison.OrdinalIgnoreCase));
        return "{{workflow.parameters." + (p?.Name ?? r.Name) + "}}";
    }

    private static int Precedence(Condition c) => c switch
    {
        ConditionBinary { Operator: "or" } => Or,
        ConditionBinary { Operator: "and" } => And,
        ConditionNot => Not,
        ConditionBinary => Comparison,
        _ => Atom,
    };

    private static void Write(StringBuilder sb, Condition c, AxlWorkflow wf, bool quote, Func<AxlStep, string?>? stepReference)
    {
        switch (c)
        {
            case ConditionLiteral l:
                sb.Append(Literal(l.Value));
                break;
            case ConditionRef r:
                var reference = Reference(r, wf, stepReference);
                sb.Append(quote ? "'" + reference + "'" : reference);
                break;
            case ConditionNot n:
                sb.Append('!');
                Child(sb, n.Operand, wf, Atom, quote: false, stepReference);
                break;
            case ConditionBinary { Operator: "and" or "or" } b:
                var own = Precedence(b);
                // A different logical operator below is always parenthesized: no reader has to recall precedence.
                Child(sb, b.Left, wf, b.Left is ConditionBinary { Operator: "and" or "or" } lb && lb.Operator != b.Operator ? Atom : own, false, stepReference);
                sb.Append(b.Operator == "and" ? " && " : " || ");
                Child(sb, b.Right, wf, b.Right is ConditionBinary { Operator: "and" or "or" } rb && rb.Operator != b.Operator ? Atom : own + 1, false, stepReference);
                break;
            case ConditionBinary b:
                var op = Operators.TryGetValue(b.Operator, out var o) ? o
                    : throw new AxlCompileException(CompileErrorIds.NotExpressible, $"condition operator '-{b.Operator}' has no Argo equivalent.", "use -eq -ne -gt -ge -lt -le -and -or -not.");
                var quoteRefs = IsString(b.Left) || IsString(b.Right) || (b.Left is ConditionRef && b.Right is ConditionRef && b.Operator is "eq" or "ne");
                Child(sb, b.Left, wf, Comparison + 1, quoteRefs, stepReference);
                sb.Append(' ').Append(op).Append(' ');
                Child(sb, b.Right, wf, Comparison + 1, quoteRefs, stepReference);
                break;
            default:
                throw new AxlCompileException(CompileErrorIds.NotExpressible, $"condition node {c.GetType().Name} has no Argo equivalent.");
        }
    }

    private static void Child(StringBuilder sb, Condition c, AxlWorkflow wf, int minimum, bool quote, Func<AxlStep, string?>? stepReference)
    {
        var wrap = Precedence(c) < minimum;
        if (wrap) sb.Append('(');
        Write(sb, c, wf, quote, stepReference);
        if (wrap) sb.Append(')');
    }

    private static bool IsString(Condition c) => c is ConditionLiteral { Value: string };

    /// <summary>A literal as govaluate reads it: 'text', true/false, or a plain decimal number (never exponent notation).</summary>
    public static string Literal(object value) => value switch
    {
        string s when s.Contains('\'') => throw new AxlCompileException(CompileErrorIds.NotExpressible,
            $"the condition compares with the string \"{s}\", which holds a single quote; Argo's condition language cannot quote it.",
            "compare with a string without single quotes."),
        string s => "'" + s + "'",
        bool b => b ? "true" : "false",
        double d => Number(d),
        float f => Number(f),
        IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
        _ => "'" + Convert.ToString(value, CultureInfo.InvariantCulture) + "'",
    };

    private static string Number(double d)
    {
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        if (!r.Contains('E')) return r;
        return decimal.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out var m)
            ? m.ToString(CultureInfo.InvariantCulture)
            : throw new AxlCompileException(CompileErrorIds.NotExpressible, $"the number {r} in the condition is out of the range Argo's condition language can write.");
    }
}
