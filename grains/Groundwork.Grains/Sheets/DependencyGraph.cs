using Groundwork.Grains.Sheets.Formulas;

namespace Groundwork.Grains.Sheets;

/// <summary>What a formula reads, as written: a cell or an area, on a sheet named or on its own.</summary>
internal readonly record struct Reference(string? Sheet, int Top, int Left, int Bottom, int Right)
{
    public bool IsCell => Top == Bottom && Left == Right;
}

/// <summary>The references of a formula's tree, found without recursion, and whether it is volatile.</summary>
internal static class References
{
    public static IReadOnlyList<Reference> Of(FormulaNode tree) => Of(tree, out _);

    /// <summary>The references of a formula's tree and, in the same walk, whether it calls a volatile function.</summary>
    public static IReadOnlyList<Reference> Of(FormulaNode tree, out bool isVolatile)
    {
        var found = new List<Reference>();
        var work = new Stack<FormulaNode>();
        isVolatile = false;
        work.Push(tree);
        while (work.Count > 0)
        {
            var node = work.Pop();
            if (node is CallNode called && FormulaFunctions.IsVolatile(called.Name))
            {
                isVolatile = true;
            }

            if (Span(node) is { } reference)
            {
                found.Add(reference);
                continue;
            }

            if (node is RangeNode range)
            {
                // A1:INDEX(B1:B9,n) may span anything between its references: depend on them and on their bounding box.
                var inner = new List<Reference>();
                foreach (var descendant in FormulaTree.Descendants(range))
                {
                    if (Span(descendant) is { } spanned)
                    {
                        inner.Add(spanned);
                    }

                    isVolatile |= descendant is CallNode c && FormulaFunctions.IsVolatile(c.Name);
                }

                found.AddRange(inner);
                foreach (var group in inner.GroupBy(x => x.Sheet?.ToUpperInvariant()))
                {
                    found.Add(new Reference(group.First().Sheet, group.Min(x => x.Top), group.Min(x => x.Left), group.Max(x => x.Bottom), group.Max(x => x.Right)));
                }

                continue;
            }

            if (node is CallNode { Name: "SUMIF" or "AVERAGEIF", Arguments.Count: 3 } call && Span(call.Arguments[0]) is { } criteria && Span(call.Arguments[2]) is { } sum)
            {
                // The sum range reads as many cells as the criteria range has, from its top-left cell.
                found.Add(new Reference(sum.Sheet, sum.Top, sum.Left,
                    Math.Min(CellRef.MaxRows - 1, sum.Top + criteria.Bottom - criteria.Top),
                    Math.Min(CellRef.MaxColumns - 1, sum.Left + criteria.Right - criteria.Left)));
            }

            FormulaTree.PushChildren(node, work);
        }

        return found;
    }

    private static Reference? Span(FormulaNode node) => node switch
    {
        ReferenceNode r => new Reference(r.Sheet, r.Cell.Row, r.Cell.Column, r.Cell.Row, r.Cell.Column),
        AreaNode a => new Reference(a.Sheet, a.From.Row, a.From.Column, a.To.Row, a.To.Column),
        _ => null,
    };
}

/// <summary>
/// Who depends on a cell: formulas that name it, and formulas whose areas hold it. The formulas that name a cell are
/// one list, which the cell holds too when it is filled (<see cref="Workbook.Cell.Dependents"/>), so a recalculation
/// reaches them without a lookup. An area is one entry, indexed where a lookup finds it cheaply: a compact area (at most
/// 64 pieces of one column by 1,024 rows) in each of its pieces; a tall one (whole columns, <c>A1:B100000</c>) in each
/// of its columns; a wide one (whole rows) in each of its bands of rows; anything larger in one list per sheet. So
/// <c>=SUM(A1:A100000)</c> is one entry in 98 pieces, not 100,000 edges, a cell filled later inside an area is found,
/// and a lookup reads at most four short lists (none while no formula reads an area).
/// </summary>
internal sealed class DependencyGraph
{
    private const int BandRows = 1_024;
    private const int MaxPieces = 64;

    // What a cell no formula reads has as dependents: shared, never changed.
    private static readonly List<Workbook.Cell> None = [];

    private readonly Dictionary<long, List<Workbook.Cell>> _points = [];
    private readonly Dictionary<(int Sheet, int Band, int Column), List<(Area Area, Workbook.Cell Dependent)>> _pieces = [];
    private readonly Dictionary<(int Sheet, int Column), List<(Area Area, Workbook.Cell Dependent)>> _columns = [];
    private readonly Dictionary<(int Sheet, int Band), List<(Area Area, Workbook.Cell Dependent)>> _bands = [];
    private readonly Dictionary<int, List<(Area Area, Workbook.Cell Dependent)>> _sheets = [];
    // Area entries held, so that a lookup skips the four indexes while there are none.
    private int _areas;

    public void Add(Workbook.Cell dependent, IReadOnlyList<Reference> references, Workbook book) => Register(dependent, references, book, add: true);

    public void Remove(Workbook.Cell dependent, IReadOnlyList<Reference> references, Workbook book) => Register(dependent, references, book, add: false);

    /// <summary>The formulas that name cell <paramref name="key"/> (the graph's own list: read it, do not change it), or null.</summary>
    public List<Workbook.Cell>? Naming(long key) => _points.GetValueOrDefault(key);

    private void Register(Workbook.Cell dependent, IReadOnlyList<Reference> references, Workbook book, bool add)
    {
        var own = Workbook.Unpack(dependent.Key).Sheet;
        foreach (var reference in references)
        {
            // A reference to a sheet that does not exist reads #REF!: nothing to depend on.
            if ((reference.Sheet is null ? own : book.SheetNamed(reference.Sheet)) is not { } sheet)
            {
                continue;
            }

            var area = new Area(sheet, reference.Top, reference.Left, reference.Bottom, reference.Right);
            if (area.Count == 1)
            {
                var key = Workbook.Key(area.Sheet, area.Top, area.Left);
                if (add)
                {
                    if (!_points.TryGetValue(key, out var list))
                    {
                        list = [];
                        _points[key] = list;
                        book.Named(key, list);
                    }

                    // Once per formula, however often it names the cell (=A1*A1), so lookups need not remove repeats:
                    // a formula's references are registered together, so a repeat is the list's last entry.
                    if (list.Count == 0 || !ReferenceEquals(list[^1], dependent))
                    {
                        list.Add(dependent);
                    }
                }
                else if (_points.TryGetValue(key, out var list) && list.Remove(dependent) && list.Count == 0)
                {
                    _points.Remove(key);
                    book.Named(key, null);
                }

                continue;
            }

            var entry = (area, dependent);
            var (first, last) = (area.Top / BandRows, area.Bottom / BandRows);
            var bands = last - first + 1;
            if ((long)bands * area.Columns <= MaxPieces)
            {
                for (var band = first; band <= last; band++)
                {
                    for (var column = area.Left; column <= area.Right; column++)
                    {
                        Change(_pieces, (area.Sheet, band, column), entry, add);
                    }
                }
            }
            else if (area.Columns <= MaxPieces)
            {
                for (var column = area.Left; column <= area.Right; column++)
                {
                    Change(_columns, (area.Sheet, column), entry, add);
                }
            }
            else if (bands <= MaxPieces)
            {
                for (var band = first; band <= last; band++)
                {
                    Change(_bands, (area.Sheet, band), entry, add);
                }
            }
            else
            {
                Change(_sheets, area.Sheet, entry, add);
            }
        }
    }

    /// <summary>
    /// The formulas that read cell <paramref name="key"/>, each once, given <paramref name="naming"/>, those that name it
    /// (the list is the graph's own when only those do: read it, do not change it).
    /// </summary>
    public List<Workbook.Cell> DependentsOf(long key, List<Workbook.Cell>? naming)
    {
        if (_areas == 0)
        {
            return naming ?? None;
        }

        var (sheet, row, column) = Workbook.Unpack(key);
        var band = row / BandRows;
        List<Workbook.Cell>? result = null;
        HashSet<Workbook.Cell>? seen = null;
        void Scan(List<(Area Area, Workbook.Cell Dependent)>? entries)
        {
            foreach (var (area, dependent) in entries ?? [])
            {
                if (area.Contains(sheet, row, column))
                {
                    // A formula may hold the cell through a name and areas both: each dependent once.
                    result ??= naming is null ? [] : [.. naming];
                    seen ??= [.. result];
                    if (seen.Add(dependent))
                    {
                        result.Add(dependent);
                    }
                }
            }
        }

        Scan(_pieces.GetValueOrDefault((sheet, band, column)));
        Scan(_columns.GetValueOrDefault((sheet, column)));
        Scan(_bands.GetValueOrDefault((sheet, band)));
        Scan(_sheets.GetValueOrDefault(sheet));
        return result ?? naming ?? None;
    }

    private void Change<TKey>(Dictionary<TKey, List<(Area Area, Workbook.Cell Dependent)>> map, TKey key, (Area Area, Workbook.Cell Dependent) entry, bool add)
        where TKey : notnull
    {
        if (add)
        {
            if (!map.TryGetValue(key, out var list))
            {
                list = [];
                map[key] = list;
            }

            list.Add(entry);
            _areas++;
        }
        else if (map.TryGetValue(key, out var list) && list.Remove(entry))
        {
            _areas--;
            if (list.Count == 0)
            {
                map.Remove(key);
            }
        }
    }
}

/// <summary>
/// The filled cells of each sheet by column, each column's rows in a sorted list, for reading an area's cells in row
/// order without visiting empty ones (a list reads faster than a tree; cells filled in row order append).
/// </summary>
internal sealed class SheetIndex
{
    private readonly Dictionary<int, SortedDictionary<int, List<int>>> _sheets = [];

    public void Add(long key)
    {
        var (sheet, row, column) = Workbook.Unpack(key);
        if (!_sheets.TryGetValue(sheet, out var columns))
        {
            columns = [];
            _sheets[sheet] = columns;
        }

        if (!columns.TryGetValue(column, out var rows))
        {
            rows = [];
            columns[column] = rows;
        }

        if (rows.Count == 0 || rows[^1] < row)
        {
            rows.Add(row);
        }
        else if (rows.BinarySearch(row) is var at && at < 0)
        {
            rows.Insert(~at, row);
        }
    }

    public void Remove(long key)
    {
        var (sheet, row, column) = Workbook.Unpack(key);
        if (_sheets.TryGetValue(sheet, out var columns) && columns.TryGetValue(column, out var rows) && rows.BinarySearch(row) is var at && at >= 0)
        {
            rows.RemoveAt(at);
            if (rows.Count == 0)
            {
                columns.Remove(column);
            }
        }
    }

    /// <summary>Filled cells on <paramref name="sheet"/>.</summary>
    public int Count(int sheet) => _sheets.TryGetValue(sheet, out var columns) ? columns.Values.Sum(rows => rows.Count) : 0;

    /// <summary>Appends the keys of the filled cells of <paramref name="area"/> to <paramref name="into"/>, column by column.</summary>
    public void Keys(Area area, List<long> into)
    {
        if (!_sheets.TryGetValue(area.Sheet, out var columns))
        {
            return;
        }

        foreach (var (column, rows) in columns)
        {
            if (column < area.Left)
            {
                continue;
            }

            if (column > area.Right)
            {
                break;
            }

            var at = rows.BinarySearch(area.Top);
            for (var i = at < 0 ? ~at : at; i < rows.Count && rows[i] <= area.Bottom; i++)
            {
                into.Add(Workbook.Key(area.Sheet, rows[i], column));
            }
        }
    }

    /// <summary>The keys of the filled cells of <paramref name="area"/>, row by row.</summary>
    public IEnumerable<long> In(Area area)
    {
        var found = new List<long>();
        Keys(area, found);
        if (area.Columns > 1)
        {
            // Row by row: the key orders by row, then column.
            found.Sort();
        }

        return found;
    }
}
