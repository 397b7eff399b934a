namespace Groundwork.Grains.Sheets.Formulas;

/// <summary>
/// A criterion of COUNTIF, SUMIFS and the like: a value, or text with an operator in front (<c>"&gt;5"</c>,
/// <c>"&lt;&gt;"</c>, <c>"=apple"</c>) and wildcards (<c>*</c> any run, <c>?</c> one character, <c>~</c> to take the
/// next one as it is), matched against a whole cell without regard to case.
/// </summary>
internal sealed class Criterion
{
    private readonly BinaryOperator _operator;
    private readonly CellValue _value;
    private readonly bool _wildcards;

    private Criterion(BinaryOperator op, CellValue value)
    {
        _operator = op;
        _value = value;
        _wildcards = value.Kind == CellValueKind.Text && value.AsText.AsSpan().IndexOfAny('*', '?', '~') >= 0 &&
                     op is BinaryOperator.Equal or BinaryOperator.NotEqual;
        MatchesEmpty = op switch
        {
            BinaryOperator.Equal => value.Kind == CellValueKind.Text && value.AsText.Length == 0,
            BinaryOperator.NotEqual => !(value.Kind == CellValueKind.Text && value.AsText.Length == 0),
            _ => false,
        };
    }

    /// <summary>Whether an empty cell meets it (then every position of the range is looked at, not only the filled ones).</summary>
    public bool MatchesEmpty { get; }

    public static Criterion Of(CellValue criterion)
    {
        if (criterion.Kind != CellValueKind.Text)
        {
            return new Criterion(BinaryOperator.Equal, criterion);
        }

        var text = criterion.AsText;
        var (op, length) = text switch
        {
            _ when text.StartsWith("<=", StringComparison.Ordinal) => (BinaryOperator.LessOrEqual, 2),
            _ when text.StartsWith(">=", StringComparison.Ordinal) => (BinaryOperator.GreaterOrEqual, 2),
            _ when text.StartsWith("<>", StringComparison.Ordinal) => (BinaryOperator.NotEqual, 2),
            _ when text.StartsWith('<') => (BinaryOperator.Less, 1),
            _ when text.StartsWith('>') => (BinaryOperator.Greater, 1),
            _ when text.StartsWith('=') => (BinaryOperator.Equal, 1),
            _ => (BinaryOperator.Equal, 0),
        };
        var rest = text[length..];
        CellValue value;
        if (CellValue.TryParseNumber(rest, out var number))
        {
            value = CellValue.Number(number);
        }
        else if (bool.TryParse(rest, out var boolean))
        {
            value = CellValue.Boolean(boolean);
        }
        else if (CellValue.TryParseError(rest, out var error))
        {
            value = CellValue.Error(error);
        }
        else
        {
            value = CellValue.Text(rest);
        }

        return new Criterion(op, value);
    }

    public bool Matches(CellValue cell)
    {
        if (_value.Kind == CellValueKind.Text && _value.AsText.Length == 0)
        {
            // "=" (or "") is an empty cell or empty text; "<>" is anything else.
            var blank = cell.IsEmpty || (cell.Kind == CellValueKind.Text && cell.AsText.Length == 0);
            return _operator == BinaryOperator.NotEqual ? !blank : _operator == BinaryOperator.Equal && blank;
        }

        if (cell.IsEmpty)
        {
            return _operator == BinaryOperator.NotEqual;
        }

        // A number criterion also meets text that reads as that number ("1" for 1); otherwise the kinds must agree.
        if (_value.Kind == CellValueKind.Number && cell.Kind == CellValueKind.Text && _operator is BinaryOperator.Equal or BinaryOperator.NotEqual &&
            CellValue.TryParseNumber(cell.AsText, out var asNumber))
        {
            cell = CellValue.Number(asNumber);
        }

        if (cell.Kind != _value.Kind)
        {
            return _operator == BinaryOperator.NotEqual;
        }

        if (_wildcards)
        {
            var like = Like(cell.AsText, _value.AsText);
            return _operator == BinaryOperator.Equal ? like : !like;
        }

        return Arithmetic.Holds(_operator, Arithmetic.Compare(cell, _value));
    }

    /// <summary>Whether <paramref name="text"/> is all of <paramref name="pattern"/>'s wildcard pattern, without regard to case.</summary>
    public static bool Like(string text, string pattern)
    {
        // Greedy matching that goes back only to the last '*': linear in practice, never exponential.
        int t = 0, p = 0, starAt = -1, textAtStar = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length)
            {
                var pc = pattern[p];
                if (pc == '*')
                {
                    starAt = p++;
                    textAtStar = t;
                    continue;
                }

                if (pc == '?')
                {
                    p++;
                    t++;
                    continue;
                }

                var length = 1;
                if (pc == '~' && p + 1 < pattern.Length)
                {
                    pc = pattern[p + 1];
                    length = 2;
                }

                if (char.ToUpperInvariant(pc) == char.ToUpperInvariant(text[t]))
                {
                    p += length;
                    t++;
                    continue;
                }
            }

            if (starAt < 0)
            {
                return false;
            }

            p = starAt + 1;
            t = ++textAtStar;
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
