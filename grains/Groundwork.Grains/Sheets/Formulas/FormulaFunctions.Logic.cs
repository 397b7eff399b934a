namespace Groundwork.Grains.Sheets.Formulas;

public static partial class FormulaFunctions
{
    private static void AddLogic(Action<string, int, int, Implementation> add)
    {
        add("IF", 1, 3, a =>
        {
            if (!Arithmetic.TryBoolean(a.Scalar(0), out var condition, out var e))
            {
                return Fail(e);
            }

            // Only the branch taken is evaluated; a branch left out is 0, and no else branch at all is FALSE.
            if (condition)
            {
                return a.Count >= 2 ? Branch(a, 1) : CellValue.True;
            }

            return a.Count >= 3 ? Branch(a, 2) : CellValue.False;
        });
        add("IFS", 2, Many, a =>
        {
            if (a.Count % 2 != 0)
            {
                return Error(FormulaError.Value);
            }

            for (var i = 0; i < a.Count; i += 2)
            {
                if (!Arithmetic.TryBoolean(a.Scalar(i), out var condition, out var e))
                {
                    return Fail(e);
                }

                if (condition)
                {
                    return Branch(a, i + 1);
                }
            }

            return Error(FormulaError.NA);
        });
        add("IFERROR", 2, 2, a =>
        {
            // Evaluated once: nested IFERRORs would otherwise double the work at every level.
            var value = a.Raw(0);
            return a.Evaluator.Scalar(value).IsError ? Branch(a, 1) : value;
        });
        add("IFNA", 2, 2, a =>
        {
            var value = a.Raw(0);
            return a.Evaluator.Scalar(value) is { IsError: true, AsError: FormulaError.NA } ? Branch(a, 1) : value;
        });
        add("AND", 1, Many, a => Logical(a, and: true));
        add("OR", 1, Many, a => Logical(a, and: false));
        add("NOT", 1, 1, a => Arithmetic.TryBoolean(a.Scalar(0), out var value, out var e) ? CellValue.Boolean(!value) : Fail(e));
        add("TRUE", 0, 0, _ => CellValue.True);
        add("FALSE", 0, 0, _ => CellValue.False);
        add("SWITCH", 3, Many, a =>
        {
            var subject = a.Scalar(0);
            if (subject.IsError)
            {
                return subject;
            }

            var pairs = (a.Count - 1) / 2;
            for (var p = 0; p < pairs; p++)
            {
                var candidate = a.Scalar(1 + 2 * p);
                if (candidate.IsError)
                {
                    return candidate;
                }

                if (candidate.Kind == subject.Kind && Arithmetic.Compare(subject, candidate) == 0)
                {
                    return Branch(a, 2 + 2 * p);
                }
            }

            return (a.Count - 1) % 2 == 1 ? Branch(a, a.Count - 1) : Error(FormulaError.NA);
        });
        add("CHOOSE", 2, Many, a =>
        {
            if (!a.Number(0, out var index, out var e))
            {
                return Fail(e);
            }

            var i = (int)Math.Floor(index);
            return i < 1 || i >= a.Count ? Error(FormulaError.Value) : Branch(a, i);
        });
    }

    /// <summary>A branch's value as IF gives it: a reference stays a reference, a branch left out is 0.</summary>
    private static Operand Branch(Arguments a, int index) => a.Has(index) ? a.Raw(index) : CellValue.Number(0);

    private static Operand Logical(Arguments a, bool and)
    {
        bool? result = null;
        CellValue? error = null;
        Each(a, 0, (value, inRange) =>
        {
            bool truth;
            switch (value.Kind)
            {
                case CellValueKind.Error:
                    error = value;
                    return false;
                case CellValueKind.Boolean or CellValueKind.Number:
                    truth = value.Kind == CellValueKind.Boolean ? value.AsBoolean : value.AsNumber != 0;
                    break;
                case CellValueKind.Text when !inRange:
                    if (!Arithmetic.TryBoolean(value, out truth, out var bad))
                    {
                        error = bad;
                        return false;
                    }

                    break;
                default:
                    // Text and empty cells in ranges are skipped.
                    return true;
            }

            result = result is not { } r ? truth : and ? r && truth : r || truth;
            return true;
        });
        return error is { } e ? e : result is { } value ? CellValue.Boolean(value) : Error(FormulaError.Value);
    }

    private static void AddInformation(Action<string, int, int, Implementation> add)
    {
        add("ISBLANK", 1, 1, a => CellValue.Boolean(a.Scalar(0).IsEmpty));
        add("ISNUMBER", 1, 1, a => CellValue.Boolean(a.Scalar(0).Kind == CellValueKind.Number));
        add("ISTEXT", 1, 1, a => CellValue.Boolean(a.Scalar(0).Kind == CellValueKind.Text));
        add("ISLOGICAL", 1, 1, a => CellValue.Boolean(a.Scalar(0).Kind == CellValueKind.Boolean));
        add("ISERROR", 1, 1, a => CellValue.Boolean(a.Scalar(0).IsError));
        add("ISNA", 1, 1, a => CellValue.Boolean(a.Scalar(0) is { IsError: true, AsError: FormulaError.NA }));
        add("NA", 0, 0, _ => Error(FormulaError.NA));
    }
}
