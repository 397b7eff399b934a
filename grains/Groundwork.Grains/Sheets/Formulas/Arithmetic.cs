namespace Groundwork.Grains.Sheets.Formulas;

/// <summary>Excel's operators and coercions on single values.</summary>
public static class Arithmetic
{
    /// <summary>
    /// A value as a number the way arithmetic reads it: empty is 0, TRUE is 1, text that reads as a number is that
    /// number; other text is #VALUE!, and an error stays itself.
    /// </summary>
    public static bool TryNumber(CellValue value, out double number, out CellValue error)
    {
        error = default;
        switch (value.Kind)
        {
            case CellValueKind.Empty:
                number = 0;
                return true;
            case CellValueKind.Number:
                number = value.AsNumber;
                return true;
            case CellValueKind.Boolean:
                number = value.AsBoolean ? 1 : 0;
                return true;
            case CellValueKind.Text when CellValue.TryParseNumber(value.AsText, out number):
                return true;
            case CellValueKind.Error:
                number = 0;
                error = value;
                return false;
            default:
                number = 0;
                error = CellValue.Error(FormulaError.Value);
                return false;
        }
    }

    /// <summary>A value as a boolean: numbers are TRUE unless 0, "TRUE" and "FALSE" read as themselves; other text is #VALUE!.</summary>
    public static bool TryBoolean(CellValue value, out bool result, out CellValue error)
    {
        error = default;
        result = false;
        switch (value.Kind)
        {
            case CellValueKind.Empty:
                return true;
            case CellValueKind.Boolean:
                result = value.AsBoolean;
                return true;
            case CellValueKind.Number:
                result = value.AsNumber != 0;
                return true;
            case CellValueKind.Text when bool.TryParse(value.AsText.Trim(), out result):
                return true;
            case CellValueKind.Error:
                error = value;
                return false;
            default:
                error = CellValue.Error(FormulaError.Value);
                return false;
        }
    }

    /// <summary>Unary minus.</summary>
    public static CellValue Negate(CellValue value) => TryNumber(value, out var n, out var error) ? CellValue.Number(-n) : error;

    /// <summary>Postfix percent.</summary>
    public static CellValue Percent(CellValue value) => TryNumber(value, out var n, out var error) ? CellValue.Number(n / 100) : error;

    /// <summary>A binary operator on two values; the left operand's error wins over the right's.</summary>
    public static CellValue Apply(BinaryOperator op, CellValue left, CellValue right)
    {
        if (left.IsError)
        {
            return left;
        }

        if (op == BinaryOperator.Concatenate)
        {
            if (right.IsError)
            {
                return right;
            }

            var (first, second) = (left.ToString(), right.ToString());
            return first.Length + second.Length > FormulaFunctions.MaxText ? CellValue.Error(FormulaError.Value) : CellValue.Text(first + second);
        }

        if (op >= BinaryOperator.Equal)
        {
            if (right.IsError)
            {
                return right;
            }

            return CellValue.Boolean(Holds(op, Compare(left, right)));
        }

        if (!TryNumber(left, out var a, out var error) || !TryNumber(right, out var b, out error))
        {
            return error;
        }

        switch (op)
        {
            case BinaryOperator.Add:
                return CellValue.Number(a + b);
            case BinaryOperator.Subtract:
                return CellValue.Number(a - b);
            case BinaryOperator.Multiply:
                return CellValue.Number(a * b);
            case BinaryOperator.Divide:
                return b == 0 ? CellValue.Error(FormulaError.Div0) : CellValue.Number(a / b);
            default:
                return Power(a, b);
        }
    }

    /// <summary>Whether comparison <paramref name="op"/> holds for two values <see cref="Compare"/> put in <paramref name="order"/>.</summary>
    public static bool Holds(BinaryOperator op, int order) => op switch
    {
        BinaryOperator.Equal => order == 0,
        BinaryOperator.NotEqual => order != 0,
        BinaryOperator.Less => order < 0,
        BinaryOperator.LessOrEqual => order <= 0,
        BinaryOperator.Greater => order > 0,
        _ => order >= 0,
    };

    /// <summary>Excel's <c>^</c> and POWER: 0^0 and a negative number to a fraction are #NUM!, 0 to a negative power #DIV/0!.</summary>
    public static CellValue Power(double a, double b)
    {
        if (a == 0 && b == 0)
        {
            return CellValue.Error(FormulaError.Num);
        }

        if (a == 0 && b < 0)
        {
            return CellValue.Error(FormulaError.Div0);
        }

        return CellValue.Number(Math.Pow(a, b));
    }

    /// <summary>
    /// Excel's order of two values: numbers before text before booleans; text without regard to case; an empty value
    /// is 0, "" or FALSE, whichever the other side is.
    /// </summary>
    public static int Compare(CellValue left, CellValue right)
    {
        if (left.IsEmpty && right.IsEmpty)
        {
            return 0;
        }

        if (left.IsEmpty)
        {
            left = EmptyAs(right.Kind);
        }
        else if (right.IsEmpty)
        {
            right = EmptyAs(left.Kind);
        }

        if (left.Kind != right.Kind)
        {
            return Rank(left.Kind).CompareTo(Rank(right.Kind));
        }

        return left.Kind switch
        {
            CellValueKind.Number => left.AsNumber.CompareTo(right.AsNumber),
            CellValueKind.Text => Math.Sign(string.Compare(left.AsText, right.AsText, StringComparison.OrdinalIgnoreCase)),
            CellValueKind.Boolean => left.AsBoolean.CompareTo(right.AsBoolean),
            CellValueKind.Error => left.AsError.CompareTo(right.AsError),
            _ => 0,
        };
    }

    private static CellValue EmptyAs(CellValueKind kind) => kind switch
    {
        CellValueKind.Text => CellValue.Text(""),
        CellValueKind.Boolean => CellValue.False,
        _ => CellValue.Number(0),
    };

    private static int Rank(CellValueKind kind) => kind switch
    {
        CellValueKind.Number => 0,
        CellValueKind.Text => 1,
        CellValueKind.Boolean => 2,
        _ => 3,
    };
}
