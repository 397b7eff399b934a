namespace Groundwork.Grains.Sheets.Formulas;

/// <summary>
/// The function library: one table of name, argument counts and implementation. An unknown name is <c>#NAME?</c> when
/// evaluated; a known one with too few or too many arguments does not parse. The implementations follow Excel's
/// coercions: the aggregates skip text and booleans inside ranges and arrays and coerce them as literal arguments.
/// </summary>
public static partial class FormulaFunctions
{
    private delegate Operand Implementation(Arguments arguments);

    private sealed record Definition(int Min, int Max, Implementation Invoke);

    private const int Many = 255;

    private static readonly Dictionary<string, Definition> Table = Build();

    /// <summary>The names of the functions there are, in upper case.</summary>
    public static IReadOnlyCollection<string> Names => Table.Keys;

    /// <summary>Whether volatile: recomputed on every batch whatever changed.</summary>
    public static bool IsVolatile(string name) => name is "NOW" or "TODAY";

    /// <summary>How many arguments a known function takes.</summary>
    public static bool TryArity(string name, out int min, out int max)
    {
        if (Table.TryGetValue(name, out var definition))
        {
            (min, max) = (definition.Min, definition.Max);
            return true;
        }

        (min, max) = (0, 0);
        return false;
    }

    internal static Operand Call(FormulaEvaluator evaluator, CallNode call) =>
        Table.TryGetValue(call.Name, out var definition)
            ? definition.Invoke(new Arguments(evaluator, call))
            : Operand.Error(FormulaError.Name);

    private static Dictionary<string, Definition> Build()
    {
        var table = new Dictionary<string, Definition>(StringComparer.Ordinal);
        void Add(string name, int min, int max, Implementation invoke) => table.Add(name, new Definition(min, max, invoke));
        AddMath(Add);
        AddStatistics(Add);
        AddLogic(Add);
        AddLookup(Add);
        AddText(Add);
        AddDates(Add);
        AddInformation(Add);
        return table;
    }

    /// <summary>A call's arguments, evaluated when asked (so IF, IFERROR, CHOOSE and SWITCH evaluate only what they use).</summary>
    private readonly struct Arguments(FormulaEvaluator evaluator, CallNode call)
    {
        public int Count => call.Arguments.Count;

        public FormulaEvaluator Evaluator => evaluator;

        public IFormulaContext Context => evaluator.Context;

        /// <summary>Whether argument <paramref name="index"/> is given (not left out).</summary>
        public bool Has(int index) => index < Count && call.Arguments[index] is not MissingNode;

        /// <summary>Argument <paramref name="index"/> as evaluated: a reference stays a reference.</summary>
        public Operand Raw(int index, bool arrays = false) => index < Count ? evaluator.Eval(call.Arguments[index], arrays) : CellValue.Empty;

        /// <summary>Argument <paramref name="index"/> as one value (a multi-cell area intersects the formula's row or column).</summary>
        public CellValue Scalar(int index) => index < Count ? evaluator.Scalar(evaluator.Eval(call.Arguments[index], false)) : CellValue.Empty;

        public bool Number(int index, out double number, out CellValue error) => Arithmetic.TryNumber(Scalar(index), out number, out error);

        /// <summary>Argument <paramref name="index"/> as a number, or <paramref name="fallback"/> when left out.</summary>
        public bool Number(int index, double fallback, out double number, out CellValue error)
        {
            if (!Has(index))
            {
                (number, error) = (fallback, default);
                return true;
            }

            return Number(index, out number, out error);
        }

        public bool Boolean(int index, bool fallback, out bool value, out CellValue error)
        {
            if (!Has(index))
            {
                (value, error) = (fallback, default);
                return true;
            }

            return Arithmetic.TryBoolean(Scalar(index), out value, out error);
        }

        /// <summary>Argument <paramref name="index"/> as text; false with the error when it is one.</summary>
        public bool Text(int index, out string text, out CellValue error)
        {
            var value = Scalar(index);
            (text, error) = value.IsError ? ("", value) : (value.ToString(), default);
            return !value.IsError;
        }
    }

    /// <summary>A grid to read by position: an area of the workbook or an array.</summary>
    private readonly struct Grid(IFormulaContext context, Operand operand)
    {
        public Area? Area => operand.Area;

        public int Rows => operand.Area?.Rows ?? operand.Array?.GetLength(0) ?? 1;

        public int Columns => operand.Area?.Columns ?? operand.Array?.GetLength(1) ?? 1;

        public long Count => (long)Rows * Columns;

        public CellValue this[int row, int column] => operand.Area is { } area
            ? (area.Top + row < CellRef.MaxRows && area.Left + column < CellRef.MaxColumns ? context.Value(area.Sheet, area.Top + row, area.Left + column) : CellValue.Empty)
            : operand.Array is { } array ? (row < array.GetLength(0) && column < array.GetLength(1) ? array[row, column] : CellValue.Empty)
            : row == 0 && column == 0 ? operand.Value : CellValue.Empty;

        /// <summary>The positions holding something, row by row.</summary>
        public IEnumerable<(int Row, int Column, CellValue Value)> NonEmpty()
        {
            if (operand.Area is { } area)
            {
                foreach (var (row, column, value) in context.Cells(area))
                {
                    yield return (row - area.Top, column - area.Left, value);
                }

                yield break;
            }

            for (var r = 0; r < Rows; r++)
            {
                for (var c = 0; c < Columns; c++)
                {
                    var value = this[r, c];
                    if (!value.IsEmpty)
                    {
                        yield return (r, c, value);
                    }
                }
            }
        }

        /// <summary>The filled positions of one column (<paramref name="vertical"/>) or row, in order.</summary>
        public IEnumerable<(int Index, CellValue Value)> Filled(bool vertical, int fixedIndex) =>
            new Grid(context, vertical ? Slice(0, fixedIndex, Rows, 1) : Slice(fixedIndex, 0, 1, Columns)).NonEmpty()
                .Select(cell => (vertical ? cell.Row : cell.Column, cell.Value));

        /// <summary>A sub-grid: a reference for an area, values for an array.</summary>
        public Operand Slice(int top, int left, int rows, int columns)
        {
            if (operand.Area is { } area)
            {
                return Operand.Of(new Area(area.Sheet, area.Top + top, area.Left + left, area.Top + top + rows - 1, area.Left + left + columns - 1));
            }

            var values = new CellValue[rows, columns];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < columns; c++)
                {
                    values[r, c] = this[top + r, left + c];
                }
            }

            return Operand.Of(values);
        }
    }

    private static Grid GridOf(Arguments arguments, int index) => new(arguments.Context, arguments.Raw(index, arrays: true));

    private static bool IsGrid(Operand operand) => operand.Area is not null || operand.Array is not null;

    /// <summary>
    /// Visits the values of arguments from <paramref name="start"/> on as the aggregates see them: every non-empty cell
    /// of an area and every element of an array (with <c>inRange</c> true), and other arguments as their single value.
    /// The visit returns false to stop.
    /// </summary>
    private static void Each(Arguments arguments, int start, Func<CellValue, bool, bool> visit, int? end = null)
    {
        for (var i = start; i < (end ?? arguments.Count); i++)
        {
            var operand = arguments.Raw(i, arrays: true);
            if (IsGrid(operand))
            {
                foreach (var (_, _, value) in new Grid(arguments.Context, operand).NonEmpty())
                {
                    if (!visit(value, true))
                    {
                        return;
                    }
                }
            }
            else if (!visit(operand.Value, false))
            {
                return;
            }
        }
    }

    /// <summary>
    /// The numbers of the arguments as SUM sees them: in ranges and arrays numbers only; given directly, numbers,
    /// booleans and text that reads as a number (other text is #VALUE!); the first error met is returned.
    /// </summary>
    private static CellValue? Numbers(Arguments arguments, int start, Action<double> add, int? end = null)
    {
        CellValue? error = null;
        Each(arguments, start, (value, inRange) =>
        {
            if (value.IsError)
            {
                error = value;
                return false;
            }

            if (value.Kind == CellValueKind.Number)
            {
                add(value.AsNumber);
            }
            else if (!inRange)
            {
                if (!Arithmetic.TryNumber(value, out var number, out var bad))
                {
                    error = bad;
                    return false;
                }

                add(number);
            }

            return true;
        }, end);
        return error;
    }

    private static Operand Fail(CellValue error) => error;

    private static Operand Error(FormulaError error) => CellValue.Error(error);

    private static Operand Number(double value) => CellValue.Number(value);

    /// <summary>A text result, #VALUE! past Excel's 32,767 characters a cell may hold.</summary>
    private static Operand TextResult(string text) => text.Length > MaxText ? Error(FormulaError.Value) : CellValue.Text(text);

    /// <summary>Characters a cell's text may have (Excel's).</summary>
    public const int MaxText = 32_767;

    private static Implementation Math1(Func<double, Operand> f) => a => a.Number(0, out var x, out var e) ? f(x) : Fail(e);
}
