using Groundwork.Grains.Sheets.Formulas;

namespace Groundwork.Grains.Tests.Sheets;

/// <summary>
/// A workbook of constant cells for formula tests: sheets by name, cells by A1 address, the formula's own cell and a
/// fixed clock. Cells are set with C# values (a double, a string, a bool, a <see cref="FormulaError"/>).
/// </summary>
internal sealed class FormulaWorkbook : IFormulaContext
{
    private readonly List<string> _sheets = ["Sheet1", "Sheet2", "Q1 plan"];
    private readonly Dictionary<(int Sheet, int Row, int Column), CellValue> _cells = [];

    public int Sheet { get; set; }

    public int Row { get; set; } = 9;

    public int Column { get; set; } = 10;

    public DateTime Now { get; set; } = new(2025, 3, 14, 15, 9, 26, DateTimeKind.Unspecified);

    public int? SheetNamed(string name)
    {
        var index = _sheets.FindIndex(s => string.Equals(s, name, StringComparison.OrdinalIgnoreCase));
        return index < 0 ? null : index;
    }

    public CellValue Value(int sheet, int row, int column) => _cells.GetValueOrDefault((sheet, row, column));

    public IEnumerable<(int Row, int Column, CellValue Value)> Cells(Area area) =>
        _cells.Where(c => area.Contains(c.Key.Sheet, c.Key.Row, c.Key.Column))
            .OrderBy(c => c.Key.Row).ThenBy(c => c.Key.Column)
            .Select(c => (c.Key.Row, c.Key.Column, c.Value));

    /// <summary>Sets cell <paramref name="address"/> (<c>B3</c> or <c>Sheet2!B3</c>) to <paramref name="value"/>.</summary>
    public FormulaWorkbook Set(string address, object? value)
    {
        var node = FormulaParser.Parse("=" + address);
        var (sheet, cell) = node switch
        {
            ReferenceNode r => (r.Sheet is null ? 0 : SheetNamed(r.Sheet)!.Value, r.Cell),
            _ => throw new ArgumentException("a single cell", nameof(address)),
        };
        _cells[(sheet, cell.Row, cell.Column)] = ToValue(value);
        return this;
    }

    public static CellValue ToValue(object? value) => value switch
    {
        null => CellValue.Empty,
        double d => CellValue.Number(d),
        int i => CellValue.Number(i),
        string s => CellValue.Text(s),
        bool b => CellValue.Boolean(b),
        FormulaError e => CellValue.Error(e),
        _ => throw new ArgumentException($"no cell value for {value.GetType()}", nameof(value)),
    };

    public CellValue Evaluate(string formula) => FormulaEvaluator.Evaluate(FormulaParser.Parse(formula), this);

    /// <summary>The workbook the formula table reads.</summary>
    public static FormulaWorkbook Standard()
    {
        var book = new FormulaWorkbook();

        // A: mixed values. B: 1..5. C: letters. D: 10..50. F:G a sorted number table; H:I a text table.
        book.Set("A1", 3).Set("A2", true).Set("A3", "2").Set("A5", 10).Set("A6", "apple").Set("A7", "Banana").Set("A8", -2.5);
        for (var i = 1; i <= 5; i++)
        {
            book.Set($"B{i}", i).Set($"C{i}", ((char)('a' + i - 1)).ToString()).Set($"D{i}", 10 * i);
        }

        string[] names = ["one", "two", "three", "four"];
        string[] fruit = ["apple", "banana", "cherry", "date"];
        for (var i = 1; i <= 4; i++)
        {
            book.Set($"F{i}", i * 10).Set($"G{i}", names[i - 1]).Set($"H{i}", fruit[i - 1]).Set($"I{i}", i + 0.5);
        }

        book.Set("J1", FormulaError.NA).Set("J2", FormulaError.Div0).Set("J3", "");
        book.Set("E1", 45658).Set("E2", 60).Set("E3", 61).Set("E4", 45716.75);
        book.Set("Sheet2!A1", 100).Set("Sheet2!B2", "x").Set("'Q1 plan'!A1", 7).Set("'Q1 plan'!A2", 8).Set("'Q1 plan'!B3", 9);
        return book;
    }
}
