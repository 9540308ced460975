using System.Globalization;
using System.Text;

namespace Axl.Model;

/// <summary>
/// A step condition (-When), parsed once and expressed the same way by every back end:
/// operands are step outputs (bare step names), workflow parameters ($Name or a bare parameter name)
/// and literals; operators -eq -ne -gt -ge -lt -le, -and -or -not, parentheses.
/// Example: <c>evaluate -gt 0.9 -and $Publish -eq 'yes'</c>.
/// </summary>
public abstract record Condition
{
    /// <summary>The canonical text of the condition.</summary>
    public abstract override string ToString();

    /// <summary>All names referenced (steps and parameters), in order of appearance.</summary>
    public IEnumerable<ConditionRef> References()
    {
        var stack = new Stack<Condition>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            switch (stack.Pop())
            {
                case ConditionRef r: yield return r; break;
                case ConditionNot n: stack.Push(n.Operand); break;
                case ConditionBinary b: stack.Push(b.Right); stack.Push(b.Left); break;
            }
        }
    }
}

/// <summary>A reference to a step output or a workflow parameter. <see cref="IsParameter"/> is set by '$' or by resolution.</summary>
public sealed record ConditionRef(string Name, bool IsParameter) : Condition
{
    public override string ToString() => IsParameter ? "$" + Name : Name;
}

public sealed record ConditionLiteral(object Value) : Condition
{
    public override string ToString() => Value switch
    {
        string s => "'" + s.Replace("'", "''") + "'",
        bool b => b ? "$true" : "$false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "",
    };
}

public sealed record ConditionNot(Condition Operand) : Condition
{
    public override string ToString() => "-not " + Wrap(Operand);
    internal static string Wrap(Condition c) => c is ConditionBinary ? "(" + c + ")" : c.ToString();
}

/// <summary>Binary operator: eq ne gt ge lt le and or.</summary>
public sealed record ConditionBinary(string Operator, Condition Left, Condition Right) : Condition
{
    public override string ToString() => $"{ConditionNot.Wrap(Left)} -{Operator} {ConditionNot.Wrap(Right)}";
}

/// <summary>A condition that does not parse; the message says where and why.</summary>
public sealed class ConditionSyntaxException : FormatException
{
    public ConditionSyntaxException(string message) : base(message) { }
}

/// <summary>Recursive-descent parser of the condition language (conditions are short; depth is bounded by 64).</summary>
public static class ConditionParser
{
    private static readonly HashSet<string> Comparisons = new(StringComparer.OrdinalIgnoreCase) { "eq", "ne", "gt", "ge", "lt", "le" };

    public static Condition Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ConditionSyntaxException("the condition is empty");
        var p = new State(Tokenize(text), text);
        var result = ParseOr(p, 0);
        if (p.Pos < p.Tokens.Count) throw new ConditionSyntaxException($"unexpected '{p.Tokens[p.Pos].Text}' at column {p.Tokens[p.Pos].Column}");
        return result;
    }

    private sealed class State(List<Token> tokens, string text)
    {
        public List<Token> Tokens { get; } = tokens;
        public string Text { get; } = text;
        public int Pos;
        public Token? Peek => Pos < Tokens.Count ? Tokens[Pos] : null;
    }

    private enum TokenType { Operator, Name, Variable, Number, String, LParen, RParen }
    private sealed record Token(TokenType Type, string Text, int Column, object? Value = null);

    private static Condition ParseOr(State s, int depth)
    {
        Guard(depth);
        var left = ParseAnd(s, depth + 1);
        while (IsOp(s.Peek, "or")) { s.Pos++; left = new ConditionBinary("or", left, ParseAnd(s, depth + 1)); }
        return left;
    }

    private static Condition ParseAnd(State s, int depth)
    {
        var left = ParseNot(s, depth + 1);
        while (IsOp(s.Peek, "and")) { s.Pos++; left = new ConditionBinary("and", left, ParseNot(s, depth + 1)); }
        return left;
    }

    private static Condition ParseNot(State s, int depth)
    {
        Guard(depth);
        if (IsOp(s.Peek, "not")) { s.Pos++; return new ConditionNot(ParseNot(s, depth + 1)); }
        var left = ParseOperand(s, depth + 1);
        if (s.Peek is { Type: TokenType.Operator } t && Comparisons.Contains(t.Text))
        {
            s.Pos++;
            var right = ParseOperand(s, depth + 1);
            return new ConditionBinary(t.Text.ToLowerInvariant(), left, right);
        }
        if (s.Peek is { Type: TokenType.Operator } bad && !IsOp(bad, "and") && !IsOp(bad, "or"))
            throw new ConditionSyntaxException($"unknown operator '-{bad.Text}' at column {bad.Column}; use -eq -ne -gt -ge -lt -le -and -or -not");
        return left;
    }

    private static Condition ParseOperand(State s, int depth)
    {
        Guard(depth);
        var t = s.Peek ?? throw new ConditionSyntaxException("the condition ends where a value was expected");
        s.Pos++;
        switch (t.Type)
        {
            case TokenType.LParen:
                var inner = ParseOr(s, depth + 1);
                if (s.Peek is not { Type: TokenType.RParen }) throw new ConditionSyntaxException($"missing ')' for '(' at column {t.Column}");
                s.Pos++;
                return inner;
            case TokenType.Number: return new ConditionLiteral(t.Value!);
            case TokenType.String: return new ConditionLiteral(t.Value!);
            case TokenType.Variable:
                if (t.Text.Equals("true", StringComparison.OrdinalIgnoreCase)) return new ConditionLiteral(true);
                if (t.Text.Equals("false", StringComparison.OrdinalIgnoreCase)) return new ConditionLiteral(false);
                return new ConditionRef(t.Text, true);
            case TokenType.Name:
                if (t.Text.Equals("true", StringComparison.OrdinalIgnoreCase)) return new ConditionLiteral(true);
                if (t.Text.Equals("false", StringComparison.OrdinalIgnoreCase)) return new ConditionLiteral(false);
                return new ConditionRef(t.Text, false);
            default:
                throw new ConditionSyntaxException($"unexpected '{(t.Type == TokenType.Operator ? "-" : "")}{t.Text}' at column {t.Column}; expected a step name, $parameter or literal");
        }
    }

    private static void Guard(int depth)
    {
        if (depth > 64) throw new ConditionSyntaxException("the condition nests too deeply");
    }

    private static bool IsOp(Token? t, string op) => t is { Type: TokenType.Operator } && t.Text.Equals(op, StringComparison.OrdinalIgnoreCase);

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            int col = i + 1;
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '(') { tokens.Add(new Token(TokenType.LParen, "(", col)); i++; continue; }
            if (c == ')') { tokens.Add(new Token(TokenType.RParen, ")", col)); i++; continue; }
            if (c == '\'' || c == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length) throw new ConditionSyntaxException($"unterminated string starting at column {col}");
                    if (text[i] == c)
                    {
                        if (i + 1 < text.Length && text[i + 1] == c) { sb.Append(c); i += 2; continue; }
                        i++;
                        break;
                    }
                    sb.Append(text[i++]);
                }
                tokens.Add(new Token(TokenType.String, sb.ToString(), col, sb.ToString()));
                continue;
            }
            if (c == '-' && i + 1 < text.Length && char.IsLetter(text[i + 1]))
            {
                int start = ++i;
                while (i < text.Length && char.IsLetter(text[i])) i++;
                tokens.Add(new Token(TokenType.Operator, text[start..i].ToLowerInvariant(), col));
                continue;
            }
            if (char.IsDigit(c) || ((c == '-' || c == '.') && i + 1 < text.Length && (char.IsDigit(text[i + 1]) || text[i + 1] == '.')))
            {
                int start = i;
                i++;
                while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.' || text[i] == 'e' || text[i] == 'E' ||
                       ((text[i] == '-' || text[i] == '+') && (text[i - 1] == 'e' || text[i - 1] == 'E')))) i++;
                var s = text[start..i];
                if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l))
                    tokens.Add(new Token(TokenType.Number, s, col, l));
                else if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                    tokens.Add(new Token(TokenType.Number, s, col, d));
                else throw new ConditionSyntaxException($"'{s}' at column {col} is not a number");
                continue;
            }
            if (c == '$')
            {
                int start = ++i;
                while (i < text.Length && IsNameChar(text[i])) i++;
                if (i == start) throw new ConditionSyntaxException($"'$' at column {col} must be followed by a parameter name");
                tokens.Add(new Token(TokenType.Variable, text[start..i], col));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                int start = i;
                while (i < text.Length && (IsNameChar(text[i]) || (text[i] == '-' && i + 1 < text.Length && IsNameChar(text[i + 1])))) i++;
                tokens.Add(new Token(TokenType.Name, text[start..i], col));
                continue;
            }
            throw new ConditionSyntaxException($"unexpected character '{c}' at column {col}");
        }
        return tokens;
    }

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c == '_';

}
