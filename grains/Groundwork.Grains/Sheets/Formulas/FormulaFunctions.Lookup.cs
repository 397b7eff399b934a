namespace Groundwork.Grains.Sheets.Formulas;

public static partial class FormulaFunctions
{
    private static void AddLookup(Action<string, int, int, Implementation> add)
    {
        add("VLOOKUP", 3, 4, a => TableLookup(a, vertical: true));
        add("HLOOKUP", 3, 4, a => TableLookup(a, vertical: false));
        add("MATCH", 2, 3, Match);
        add("XLOOKUP", 3, 6, XLookup);
        add("INDEX", 2, 3, Index);
        add("ROW", 0, 1, a => a.Has(0) ? a.Raw(0).Area is { } area ? Number(area.Top + 1) : Error(FormulaError.Value) : Number(a.Context.Row + 1));
        add("COLUMN", 0, 1, a => a.Has(0) ? a.Raw(0).Area is { } area ? Number(area.Left + 1) : Error(FormulaError.Value) : Number(a.Context.Column + 1));
        add("ROWS", 1, 1, a => Number(GridOf(a, 0).Rows));
        add("COLUMNS", 1, 1, a => Number(GridOf(a, 0).Columns));
    }

    /// <summary>One row or one column of a grid, read by position.</summary>
    private readonly struct Line(Grid grid, bool vertical, int fixedIndex)
    {
        public int Length => vertical ? grid.Rows : grid.Columns;

        public CellValue this[int i] => vertical ? grid[i, fixedIndex] : grid[fixedIndex, i];

        /// <summary>Positions holding something, in order (an area's filled cells only).</summary>
        public IEnumerable<(int Index, CellValue Value)> Filled() => grid.Filled(vertical, fixedIndex);
    }

    private static Operand TableLookup(Arguments a, bool vertical)
    {
        var value = a.Scalar(0);
        if (value.IsError)
        {
            return value;
        }

        var table = GridOf(a, 1);
        if (!a.Number(2, out var index, out var e) || !a.Boolean(3, true, out var approximate, out e))
        {
            return Fail(e);
        }

        var n = (int)Math.Floor(index);
        if (n < 1)
        {
            return Error(FormulaError.Value);
        }

        if (n > (vertical ? table.Columns : table.Rows))
        {
            return Error(FormulaError.Ref);
        }

        var keys = new Line(table, vertical, 0);
        var found = approximate ? Approximate(keys, value, descending: false) : Exact(keys, value, wildcards: true, reverse: false);
        if (found < 0)
        {
            return Error(FormulaError.NA);
        }

        return vertical ? table[found, n - 1] : table[n - 1, found];
    }

    private static Operand Match(Arguments a)
    {
        var value = a.Scalar(0);
        if (value.IsError)
        {
            return value;
        }

        var grid = GridOf(a, 1);
        if (grid.Rows != 1 && grid.Columns != 1)
        {
            return Error(FormulaError.NA);
        }

        if (!a.Number(2, 1, out var type, out var e))
        {
            return Fail(e);
        }

        var line = new Line(grid, grid.Columns == 1, 0);
        var found = type switch
        {
            0 => Exact(line, value, wildcards: true, reverse: false),
            > 0 => Approximate(line, value, descending: false),
            _ => Approximate(line, value, descending: true),
        };
        return found < 0 ? Error(FormulaError.NA) : Number(found + 1);
    }

    private static Operand XLookup(Arguments a)
    {
        var value = a.Scalar(0);
        if (value.IsError)
        {
            return value;
        }

        var keys = GridOf(a, 1);
        var results = GridOf(a, 2);
        if (keys.Rows != 1 && keys.Columns != 1)
        {
            return Error(FormulaError.Value);
        }

        var vertical = keys.Columns == 1 && keys.Rows > 1 || keys.Count == 1;
        if ((vertical ? results.Rows : results.Columns) != (vertical ? keys.Rows : keys.Columns))
        {
            return Error(FormulaError.Value);
        }

        if (!a.Number(4, 0, out var matchMode, out var e) || !a.Number(5, 1, out var searchMode, out e))
        {
            return Fail(e);
        }

        if (matchMode is not (0 or -1 or 1 or 2) || searchMode is not (1 or -1 or 2 or -2))
        {
            return Error(FormulaError.Value);
        }

        var line = new Line(keys, vertical, 0);
        var reverse = searchMode is -1 or -2;
        var found = Exact(line, value, wildcards: matchMode == 2, reverse);
        if (found < 0 && matchMode is -1 or 1)
        {
            // The next smaller (or larger) item: the closest one on that side, whatever the order.
            var best = -1;
            for (var i = 0; i < line.Length; i++)
            {
                var candidate = line[i];
                if (candidate.IsEmpty || candidate.Kind != value.Kind)
                {
                    continue;
                }

                var order = Arithmetic.Compare(candidate, value);
                if ((matchMode == -1 ? order < 0 : order > 0) &&
                    (best < 0 || (matchMode == -1 ? Arithmetic.Compare(candidate, line[best]) > 0 : Arithmetic.Compare(candidate, line[best]) < 0)))
                {
                    best = i;
                }
            }

            found = best;
        }

        if (found < 0)
        {
            return a.Has(3) ? a.Raw(3) : Error(FormulaError.NA);
        }

        return vertical ? results.Slice(found, 0, 1, results.Columns) : results.Slice(0, found, results.Rows, 1);
    }

    /// <summary>The first (or last) position equal to <paramref name="value"/>: text without regard to case, with wildcards when asked.</summary>
    private static int Exact(Line line, CellValue value, bool wildcards, bool reverse)
    {
        var like = wildcards && value.Kind == CellValueKind.Text && value.AsText.AsSpan().IndexOfAny('*', '?', '~') >= 0;
        var found = -1;
        foreach (var (index, candidate) in line.Filled())
        {
            var equal = like
                ? candidate.Kind == CellValueKind.Text && Criterion.Like(candidate.AsText, value.AsText)
                : candidate.Kind == value.Kind && Arithmetic.Compare(candidate, value) == 0;
            if (equal)
            {
                found = index;
                if (!reverse)
                {
                    break;
                }
            }
        }

        return found;
    }

    /// <summary>
    /// Excel's approximate match over sorted data by bisection: the last position not greater than
    /// <paramref name="value"/> (ascending), or not less (descending); cells of another kind are passed over.
    /// </summary>
    private static int Approximate(Line line, CellValue value, bool descending)
    {
        int low = 0, high = line.Length - 1, found = -1;
        while (low <= high)
        {
            var middle = low + (high - low) / 2;
            var probe = middle;

            // Step over empty cells and cells of another kind toward the low end, as Excel's bisection does.
            while (probe >= low && (line[probe].IsEmpty || line[probe].Kind != value.Kind))
            {
                probe--;
            }

            if (probe < low)
            {
                low = middle + 1;
                continue;
            }

            var order = Arithmetic.Compare(line[probe], value);
            if (descending ? order >= 0 : order <= 0)
            {
                found = probe;
                low = middle + 1;
            }
            else
            {
                high = probe - 1;
            }
        }

        return found;
    }

    private static Operand Index(Arguments a)
    {
        var grid = GridOf(a, 0);
        if (!a.Number(1, 0, out var r, out var e) || !a.Number(2, 0, out var c, out e))
        {
            return Fail(e);
        }

        var row = (int)Math.Floor(r);
        var column = (int)Math.Floor(c);
        if (a.Count == 2 && grid.Rows == 1)
        {
            // INDEX(one row, n) counts along the row.
            (row, column) = (1, row);
        }
        else if (a.Count == 2 && grid.Columns == 1)
        {
            column = 1;
        }

        if (row < 0 || column < 0 || row > grid.Rows || column > grid.Columns)
        {
            return Error(FormulaError.Ref);
        }

        // 0 for a row or column means all of them.
        return grid.Slice(row == 0 ? 0 : row - 1, column == 0 ? 0 : column - 1, row == 0 ? grid.Rows : 1, column == 0 ? grid.Columns : 1);
    }
}
