namespace Groundwork.Grains.Sheets.Formulas;

/// <summary>A rectangle of cells on one sheet, zero-based and inclusive.</summary>
public readonly record struct Area(int Sheet, int Top, int Left, int Bottom, int Right)
{
    /// <summary>Rows it spans.</summary>
    public int Rows => Bottom - Top + 1;

    /// <summary>Columns it spans.</summary>
    public int Columns => Right - Left + 1;

    /// <summary>Cells it spans.</summary>
    public long Count => (long)Rows * Columns;

    /// <summary>Whether it holds the cell.</summary>
    public bool Contains(int sheet, int row, int column) => sheet == Sheet && row >= Top && row <= Bottom && column >= Left && column <= Right;
}

/// <summary>What a formula reads: the workbook's cells, its sheets, the clock. The grain, tests and a full recalculation each give one.</summary>
public interface IFormulaContext
{
    /// <summary>The sheet of the cell whose formula is evaluated.</summary>
    int Sheet { get; }

    /// <summary>The row of the cell whose formula is evaluated.</summary>
    int Row { get; }

    /// <summary>The column of the cell whose formula is evaluated.</summary>
    int Column { get; }

    /// <summary>The workbook's local date and time (NOW and TODAY).</summary>
    DateTime Now { get; }

    /// <summary>The sheet named <paramref name="name"/> (case-insensitive), or null when there is none.</summary>
    int? SheetNamed(string name);

    /// <summary>The value of a cell (empty when nothing is there).</summary>
    CellValue Value(int sheet, int row, int column);

    /// <summary>The cells of <paramref name="area"/> that are not empty, row by row, left to right.</summary>
    IEnumerable<(int Row, int Column, CellValue Value)> Cells(Area area);
}

/// <summary>
/// An intermediate result: a value, a reference to an area (kept as a reference until something needs values, so
/// <c>SUM(A:A)</c> reads only the cells that hold something), or an array.
/// </summary>
public readonly struct Operand
{
    private Operand(CellValue value, Area? area, CellValue[,]? array)
    {
        Value = value;
        Area = area;
        Array = array;
    }

    /// <summary>The value, when this is neither an area nor an array.</summary>
    public CellValue Value { get; }

    /// <summary>The area referenced, if this is a reference.</summary>
    public Area? Area { get; }

    /// <summary>The array, if this is one.</summary>
    public CellValue[,]? Array { get; }

    /// <summary>A value.</summary>
    public static implicit operator Operand(CellValue value) => new(value, null, null);

    /// <summary>A reference.</summary>
    public static Operand Of(Area area) => new(CellValue.Empty, area, null);

    /// <summary>An array (1 x 1 is its value).</summary>
    public static Operand Of(CellValue[,] array) => array.GetLength(0) == 1 && array.GetLength(1) == 1 ? array[0, 0] : new Operand(CellValue.Empty, null, array);

    /// <summary>An error value.</summary>
    public static Operand Error(FormulaError error) => CellValue.Error(error);

    /// <summary>Whether this is a single value that is an error.</summary>
    public bool IsError => Area is null && Array is null && Value.IsError;
}

/// <summary>
/// Evaluates a parsed formula against an <see cref="IFormulaContext"/>. In a cell's own place (and in functions' scalar
/// arguments) a multi-cell area takes Excel's implicit intersection with the formula's row or column; in the
/// arguments of functions that take ranges (SUM, SUMPRODUCT, COUNTIF...) operators work element by element, as in an
/// array formula. An array as a cell's result shows its first element (no spilling). Chains of one operator are walked
/// without recursion, and nesting is bounded by the parser, so evaluation cannot overflow the stack.
/// </summary>
public sealed class FormulaEvaluator
{
    private readonly IFormulaContext _context;

    private FormulaEvaluator(IFormulaContext context) => _context = context;

    /// <summary>The context formulas read.</summary>
    public IFormulaContext Context => _context;

    /// <summary>The value of <paramref name="formula"/> as its cell shows it.</summary>
    public static CellValue Evaluate(FormulaNode formula, IFormulaContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new FormulaEvaluator(context).Evaluate(formula);
    }

    /// <summary>An evaluator to use for many formulas of one context (the context says which cell is evaluated).</summary>
    public static FormulaEvaluator For(IFormulaContext context) => new(context ?? throw new ArgumentNullException(nameof(context)));

    /// <summary>The value of <paramref name="formula"/> as its cell shows it.</summary>
    public CellValue Evaluate(FormulaNode formula)
    {
        ArgumentNullException.ThrowIfNull(formula);
        var result = Scalar(Eval(formula, arrays: false));

        // A formula whose result is an empty cell shows 0, as Excel's does.
        return result.IsEmpty ? CellValue.Number(0) : result;
    }

    /// <summary>Evaluates <paramref name="node"/>; with <paramref name="arrays"/>, operators over areas give arrays.</summary>
    public Operand Eval(FormulaNode node, bool arrays)
    {
        switch (node)
        {
            case NumberNode n:
                return CellValue.Number(n.Value);
            case TextNode t:
                return CellValue.Text(t.Value);
            case BooleanNode b:
                return CellValue.Boolean(b.Value);
            case ErrorNode e:
                return CellValue.Error(e.Value);
            case MissingNode:
                return CellValue.Empty;
            case ArrayNode a:
                return Operand.Of(a.Values);
            case NameNode:
                return Operand.Error(FormulaError.Name);
            case ReferenceNode r:
                return SheetOf(r.Sheet) is { } sheet ? Operand.Of(new Area(sheet, r.Cell.Row, r.Cell.Column, r.Cell.Row, r.Cell.Column)) : Operand.Error(FormulaError.Ref);
            case AreaNode a:
                return SheetOf(a.Sheet) is { } areaSheet ? Operand.Of(new Area(areaSheet, a.From.Row, a.From.Column, a.To.Row, a.To.Column)) : Operand.Error(FormulaError.Ref);
            case RangeNode range:
            {
                // A chain A1:B2:C3... along its left spine, in a loop.
                var spine = new Stack<RangeNode>();
                FormulaNode at = range;
                while (at is RangeNode r)
                {
                    spine.Push(r);
                    at = r.Left;
                }

                var area = Eval(at, arrays);
                while (spine.Count > 0)
                {
                    area = RangeOf(area, Eval(spine.Pop().Right, arrays));
                }

                return area;
            }

            case NegateNode negate:
            {
                // A run of signs in a loop: an odd count of minus signs negates, an even one (--) makes a number.
                var minus = 0;
                FormulaNode at = negate;
                while (at is NegateNode n)
                {
                    minus += n.Minus ? 1 : 0;
                    at = n.Operand;
                }

                var operand = Eval(at, arrays);
                if (minus == 0)
                {
                    return operand;
                }

                return minus % 2 == 1
                    ? Map(operand, arrays, static v => Arithmetic.Negate(v))
                    : Map(operand, arrays, static v => Arithmetic.Negate(Arithmetic.Negate(v)));
            }

            case PercentNode percent:
            {
                var times = 0;
                FormulaNode at = percent;
                while (at is PercentNode p)
                {
                    times++;
                    at = p.Operand;
                }

                return Map(Eval(at, arrays), arrays, v =>
                {
                    for (var i = 0; i < times && !v.IsError; i++)
                    {
                        v = Arithmetic.Percent(v);
                    }

                    return v;
                });
            }
            case BinaryNode binary:
                return Binary(binary, arrays);
            case CallNode call:
                return FormulaFunctions.Call(this, call);
            default:
                return Operand.Error(FormulaError.Value);
        }
    }

    private int? SheetOf(string? name) => name is null ? _context.Sheet : _context.SheetNamed(name);

    /// <summary>What <see cref="Scalar(Operand)"/> of <see cref="Eval"/> gives, a cell or a number read without an operand between.</summary>
    private CellValue ScalarOf(FormulaNode node) => node switch
    {
        ReferenceNode r => SheetOf(r.Sheet) is { } sheet ? _context.Value(sheet, r.Cell.Row, r.Cell.Column) : CellValue.Error(FormulaError.Ref),
        NumberNode n => CellValue.Number(n.Value),
        _ => Scalar(Eval(node, arrays: false)),
    };

    /// <summary>A chain of binary operators: its left spine walked in a loop, its right operands evaluated in turn.</summary>
    private Operand Binary(BinaryNode top, bool arrays)
    {
        if (top.Left is not BinaryNode)
        {
            if (!arrays)
            {
                // The most common case of all, =A1+1 in a cell: two values, no operands built.
                var value = ScalarOf(top.Left);
                return value.IsError ? value : Arithmetic.Apply(top.Operator, value, ScalarOf(top.Right));
            }

            // One operator: no spine to walk.
            return Combine(top.Operator, Eval(top.Left, arrays), Eval(top.Right, arrays), arrays);
        }

        var spine = new Stack<BinaryNode>();
        FormulaNode node = top;
        while (node is BinaryNode b)
        {
            spine.Push(b);
            node = b.Left;
        }

        var left = Eval(node, arrays);
        while (spine.Count > 0)
        {
            var b = spine.Pop();
            if (!arrays && left.IsError)
            {
                // The first error wins: the rest of the chain is not needed.
                return left;
            }

            var right = Eval(b.Right, arrays);
            left = Combine(b.Operator, left, right, arrays);
        }

        return left;
    }

    private Operand Combine(BinaryOperator op, Operand left, Operand right, bool arrays)
    {
        if (!arrays || (left.Array is null && right.Array is null && !(left.Area is { Count: > 1 }) && !(right.Area is { Count: > 1 })))
        {
            return Arithmetic.Apply(op, Scalar(left), Scalar(right));
        }

        var a = Values(left);
        var b = Values(right);
        var rows = Math.Max(a.GetLength(0), b.GetLength(0));
        var columns = Math.Max(a.GetLength(1), b.GetLength(1));
        if ((long)rows * columns > MaxGridCells)
        {
            // A column against a row of the whole grid: more than a formula may hold.
            return Operand.Error(FormulaError.Num);
        }

        return Build(rows, columns, (r, c) => Arithmetic.Apply(op, Broadcast(a, r, c), Broadcast(b, r, c)));
    }

    /// <summary>An array of <paramref name="rows"/> by <paramref name="columns"/> made element by element.</summary>
    private static Operand Build(int rows, int columns, Func<int, int, CellValue> element)
    {
        var result = new CellValue[rows, columns];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                result[r, c] = element(r, c);
            }
        }

        return Operand.Of(result);
    }

    /// <summary>Excel's pairing of two arrays: a single row or column stretches, anything else missing is #N/A.</summary>
    private static CellValue Broadcast(CellValue[,] values, int row, int column)
    {
        var r = values.GetLength(0) == 1 ? 0 : row;
        var c = values.GetLength(1) == 1 ? 0 : column;
        return r < values.GetLength(0) && c < values.GetLength(1) ? values[r, c] : CellValue.Error(FormulaError.NA);
    }

    private Operand Map(Operand operand, bool arrays, Func<CellValue, CellValue> map)
    {
        if (!arrays || (operand.Array is null && !(operand.Area is { Count: > 1 })))
        {
            return map(Scalar(operand));
        }

        var values = Values(operand);
        return Build(values.GetLength(0), values.GetLength(1), (r, c) => map(values[r, c]));
    }

    /// <summary>The area spanning two references (<c>A1:INDEX(...)</c>), or #VALUE! when either is not one.</summary>
    private static Operand RangeOf(Operand left, Operand right)
    {
        if (left.IsError)
        {
            return left;
        }

        if (right.IsError)
        {
            return right;
        }

        if (left.Area is not { } a || right.Area is not { } b || a.Sheet != b.Sheet)
        {
            return Operand.Error(FormulaError.Value);
        }

        return Operand.Of(new Area(a.Sheet, Math.Min(a.Top, b.Top), Math.Min(a.Left, b.Left), Math.Max(a.Bottom, b.Bottom), Math.Max(a.Right, b.Right)));
    }

    /// <summary>
    /// One value: a single cell's, Excel's implicit intersection of a multi-cell area with the formula's row (a
    /// one-column area) or column (a one-row area), #VALUE! otherwise; an array's first element.
    /// </summary>
    public CellValue Scalar(Operand operand)
    {
        if (operand.Array is { } array)
        {
            return array[0, 0];
        }

        if (operand.Area is not { } area)
        {
            return operand.Value;
        }

        if (area.Count == 1)
        {
            return _context.Value(area.Sheet, area.Top, area.Left);
        }

        if (area.Columns == 1 && _context.Row >= area.Top && _context.Row <= area.Bottom)
        {
            return _context.Value(area.Sheet, _context.Row, area.Left);
        }

        if (area.Rows == 1 && _context.Column >= area.Left && _context.Column <= area.Right)
        {
            return _context.Value(area.Sheet, area.Top, _context.Column);
        }

        return CellValue.Error(FormulaError.Value);
    }

    /// <summary>Every value of an operand, as a grid (an area read cell by cell: for areas of bounded size only).</summary>
    public CellValue[,] Values(Operand operand)
    {
        if (operand.Array is { } array)
        {
            return array;
        }

        if (operand.Area is not { } area)
        {
            return new[,] { { operand.Value } };
        }

        if (area.Count > MaxGridCells)
        {
            return new[,] { { CellValue.Error(FormulaError.Num) } };
        }

        var values = new CellValue[area.Rows, area.Columns];
        foreach (var (row, column, value) in _context.Cells(area))
        {
            values[row - area.Top, column - area.Left] = value;
        }

        return values;
    }

    /// <summary>The most cells an area may have where it is read as a whole grid (an array operation, a lookup table); past it, #NUM!.</summary>
    public const long MaxGridCells = 10_000_000;
}
