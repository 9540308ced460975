using System.Collections;
using System.Globalization;
using System.Management.Automation;
using Axl.Model;

namespace Axl.Runtime;

/// <summary>
/// Evaluates a step condition the way the back ends express it (Argo's govaluate): numbers compare as numbers,
/// booleans as booleans, anything else as strings, case-sensitively. A step reference reads that step's output,
/// which must be a single value.
/// </summary>
public static class ConditionEvaluator
{
    public static bool Evaluate(Condition condition, Func<string, object?> stepOutput, IReadOnlyDictionary<string, object?> parameters) =>
        Truthy(Eval(condition, stepOutput, parameters));

    private static object? Eval(Condition c, Func<string, object?> stepOutput, IReadOnlyDictionary<string, object?> parameters) => c switch
    {
        ConditionLiteral l => l.Value,
        ConditionRef { IsParameter: true } r => parameters.TryGetValue(r.Name, out var v) ? v : null,
        ConditionRef r => Scalar(stepOutput(r.Name), r.Name),
        ConditionNot n => !Truthy(Eval(n.Operand, stepOutput, parameters)),
        ConditionBinary { Operator: "and" } b => Truthy(Eval(b.Left, stepOutput, parameters)) && Truthy(Eval(b.Right, stepOutput, parameters)),
        ConditionBinary { Operator: "or" } b => Truthy(Eval(b.Left, stepOutput, parameters)) || Truthy(Eval(b.Right, stepOutput, parameters)),
        ConditionBinary b => Compare(b.Operator, Eval(b.Left, stepOutput, parameters), Eval(b.Right, stepOutput, parameters)),
        _ => throw new InvalidOperationException($"Unknown condition node {c.GetType().Name}."),
    };

    private static object? Scalar(object? value, string step)
    {
        if (value is PSObject p) value = p.BaseObject;
        if (value is string or null) return value;
        if (value is IEnumerable e and not IDictionary)
        {
            var items = e.Cast<object?>().Take(2).ToList();
            if (items.Count == 1) return Scalar(items[0], step);
            throw new InvalidOperationException($"the condition reads step '{step}', whose output is a list of {e.Cast<object?>().Count()} items; a condition needs one value. Fix: make '{step}' output a single number, string or boolean.");
        }
        return value;
    }

    public static bool Compare(string op, object? left, object? right)
    {
        int? cmp = null;
        if (TryNumber(left, out var ln) && TryNumber(right, out var rn)) cmp = ln.CompareTo(rn);
        else if (left is bool lb && TryBool(right, out var rb)) cmp = lb.CompareTo(rb);
        else if (right is bool rb2 && TryBool(left, out var lb2)) cmp = lb2.CompareTo(rb2);
        else if (left is null || right is null) cmp = left is null && right is null ? 0 : null;
        else cmp = string.CompareOrdinal(Text(left), Text(right));
        return op switch
        {
            "eq" => cmp == 0,
            "ne" => cmp != 0,
            "gt" => cmp > 0,
            "ge" => cmp >= 0,
            "lt" => cmp < 0,
            "le" => cmp <= 0,
            _ => throw new InvalidOperationException($"Unknown operator -{op}."),
        };
    }

    private static string Text(object o) => System.Convert.ToString(o is PSObject p ? p.BaseObject : o, CultureInfo.InvariantCulture) ?? "";

    private static bool TryNumber(object? o, out double d)
    {
        if (o is PSObject p) o = p.BaseObject;
        switch (o)
        {
            case byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal:
                d = System.Convert.ToDouble(o, CultureInfo.InvariantCulture); return true;
            case string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out d): return true;
            default: d = 0; return false;
        }
    }

    private static bool TryBool(object? o, out bool b)
    {
        if (o is PSObject p) o = p.BaseObject;
        if (o is bool x) { b = x; return true; }
        if (o is string s && bool.TryParse(s.Trim(), out b)) return true;
        b = false;
        return false;
    }

    private static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        string s => s.Length > 0 && !s.Equals("false", StringComparison.OrdinalIgnoreCase),
        PSObject p => Truthy(p.BaseObject),
        _ when TryNumber(v, out var d) => d != 0,
        _ => true,
    };
}
