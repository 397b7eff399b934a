using Groundwork.Grains.Sheets.Formulas;

namespace Groundwork.Grains.Sheets;

/// <summary>A cell's place: the sheet's index, zero-based row and column.</summary>
public readonly record struct CellAt(int Sheet, int Row, int Column);

/// <summary>A cell as stored: its formula (null for a constant) and the value it shows.</summary>
public readonly record struct StoredCell(int Sheet, int Row, int Column, string? Formula, CellValue Value);

/// <summary>What a structural edit did beside moving cells: the values that changed and the formulas it rewrote (both at the cells' new places).</summary>
public sealed record Reshaped(IReadOnlyList<CellChange> Values, IReadOnlyList<CellAt> Rewritten)
{
    /// <summary>Nothing changed.</summary>
    public static Reshaped None { get; } = new([], []);
}

public sealed partial class Workbook
{
    // The keys of the tile being stored (kept: a large edit stores hundreds of tiles).
    private readonly List<long> _tileKeys = [];

    /// <summary>
    /// A workbook as it was stored: its sheets and cells with the values they showed, the dependency graph built from
    /// the formulas, nothing recalculated. Volatile formulas are recomputed by the next batch, as always.
    /// </summary>
    /// <exception cref="InvalidFormulaException">A stored formula no longer parses.</exception>
    public static Workbook Restore(IReadOnlyList<string> sheets, IEnumerable<StoredCell> cells, WorkbookLimits? limits = null, Func<DateTime>? now = null)
    {
        ArgumentNullException.ThrowIfNull(sheets);
        ArgumentNullException.ThrowIfNull(cells);
        var book = new Workbook(limits, now);
        book._sheets.Clear();
        book._sheets.AddRange(sheets);
        // Stored formulas were accepted once; a structural edit may have lengthened one past the limit since.
        var formulaLimits = book._limits.Formulas with { MaxLength = int.MaxValue };
        // Parsing is most of the work, and each formula parses alone: on every core, then the cells go in in order.
        var all = cells as IReadOnlyList<StoredCell> ?? [.. cells];
        var parsed = new ParsedFormula?[all.Count];
        System.Threading.Tasks.Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, all.Count, 4_096), range =>
        {
            for (var i = range.Item1; i < range.Item2; i++)
            {
                if (all[i].Formula is { } text)
                {
                    parsed[i] = ParsedFormula.Of(text, FormulaParser.Parse(text, formulaLimits));
                }
            }
        });
        for (var i = 0; i < all.Count; i++)
        {
            var stored = all[i];
            book.Put(Key(stored.Sheet, stored.Row, stored.Column), new Cell(stored.Value, parsed[i]));
        }

        return book;
    }

    /// <summary>
    /// Appends the filled cells of the <see cref="SheetTile"/> whose first row and column are <paramref name="top"/> and
    /// <paramref name="left"/> on <paramref name="sheet"/> to <paramref name="into"/>, column by column, as stored; with
    /// <paramref name="formulaValues"/>, only the cells that hold formulas, with their values and without their text.
    /// </summary>
    public void Tile(int sheet, int top, int left, List<TileCell> into, bool formulaValues = false)
    {
        ArgumentNullException.ThrowIfNull(into);
        var keys = _tileKeys;
        keys.Clear();
        _index.Keys(new Area(sheet, top, left, top + SheetTile.Rows - 1, left + SheetTile.Columns - 1), keys);
        into.EnsureCapacity(into.Count + keys.Count);
        foreach (var key in keys)
        {
            var cell = _cells[key];
            if (formulaValues && cell.Formula is null)
            {
                continue;
            }

            var (_, row, column) = Unpack(key);
            into.Add(new TileCell(SheetTile.Place(row, column), formulaValues ? null : cell.Formula?.Text, cell.Value));
        }
    }

    /// <summary>Filled cells on <paramref name="sheet"/>.</summary>
    public int CellsOn(int sheet) => _index.Count(sheet);

    /// <summary>The filled cells of rows <paramref name="top"/>-<paramref name="bottom"/> and columns <paramref name="left"/>-<paramref name="right"/> of a sheet, row by row, with their formulas and values.</summary>
    public IEnumerable<StoredCell> Stored(int sheet, int top, int left, int bottom, int right)
    {
        foreach (var key in _index.In(new Area(sheet, top, left, bottom, right)))
        {
            var cell = _cells[key];
            var (s, row, column) = Unpack(key);
            yield return new StoredCell(s, row, column, cell.Formula?.Text, cell.Value);
        }
    }
}
