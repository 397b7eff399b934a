using System.Globalization;
using Groundwork.Grains.Sheets.Formulas;

namespace Groundwork.Grains.Sheets;

/// <summary>One cell edit: a constant, a formula (<c>=...</c>), or null/"" to clear. A leading <c>'</c> keeps text.</summary>
/// <param name="Sheet">The sheet's index.</param>
/// <param name="Row">Zero-based row.</param>
/// <param name="Column">Zero-based column.</param>
/// <param name="Input">What is typed into the cell.</param>
public readonly record struct CellEdit(int Sheet, int Row, int Column, string? Input);

/// <summary>A cell whose value changed in a batch.</summary>
public readonly record struct CellChange(int Sheet, int Row, int Column, CellValue Value);

/// <summary>The limits a workbook is held to.</summary>
public sealed record WorkbookLimits
{
    /// <summary>Cells one recalculation may recompute; a batch that would need more is refused and changes nothing.</summary>
    public int MaxRecalculatedCells { get; init; } = 1_000_000;

    /// <summary>Filled cells in the workbook; a batch that would leave more is refused and changes nothing.</summary>
    public int MaxCells { get; init; } = 1_000_000;

    /// <summary>Characters of text in one cell (Excel's).</summary>
    public int MaxTextLength { get; init; } = FormulaFunctions.MaxText;

    /// <summary>The formula language's limits.</summary>
    public FormulaLimits Formulas { get; init; } = FormulaLimits.Default;
}

/// <summary>
/// A workbook's cells, formulas and dependency graph, recalculated incrementally: an edit recomputes only the cells
/// that depend on it, in dependency order, without recursion, stopping where a value did not change. Cells on a
/// reference cycle show <c>#CYCLE!</c> and recover when it is broken. Pure code: the grain stores and serves it.
/// </summary>
public sealed partial class Workbook
{
    private readonly List<string> _sheets = [];
    private readonly Dictionary<long, Cell> _cells = [];
    private SheetIndex _index = new();
    private DependencyGraph _graph = new();
    private readonly HashSet<long> _volatile = [];
    private readonly WorkbookLimits _limits;
    private readonly Func<DateTime> _now;
    // Recalculations so far: each stamps the cells it reaches.
    private int _walks;
    // Cells recalculations reached since the last TakeRecalculated.
    private long _recalculated;
    private Walk? _walk;

    /// <summary>An empty workbook with one sheet, "Sheet1".</summary>
    public Workbook(WorkbookLimits? limits = null, Func<DateTime>? now = null)
    {
        _limits = limits ?? new WorkbookLimits();
        _now = now ?? (() => DateTime.Now);
        _sheets.Add("Sheet1");
    }

    /// <summary>The sheets' names, in order.</summary>
    public IReadOnlyList<string> Sheets => _sheets;

    /// <summary>Cells that hold something.</summary>
    public int CellCount => _cells.Count;

    /// <summary>Adds a sheet at the end; returns its index.</summary>
    public int AddSheet(string name) => AddSheet(name, out _);

    /// <summary>Adds a sheet at the end; returns its index, and in <paramref name="reshaped"/> the cells whose value changed (formulas that named it before it existed now read it).</summary>
    public int AddSheet(string name, out Reshaped reshaped)
    {
        NameFree(name, null);
        _sheets.Add(name);
        reshaped = Reshaped.None;

        // Formulas that named the sheet before it existed read #REF! and depended on nothing: now they read it.
        if (_cells.Values.Any(c => c.Formula?.References.Any(r => string.Equals(r.Sheet, name, StringComparison.OrdinalIgnoreCase)) == true))
        {
            var before = Values();
            Rebuild([.. _cells.Select(c => (c.Key, c.Value))]);
            reshaped = new Reshaped(Diff(before), []);
        }

        return _sheets.Count - 1;
    }

    /// <summary>Cells the recalculations since the last call reached (edited formulas, dependents, volatile cells), for telemetry.</summary>
    public long TakeRecalculated()
    {
        var count = _recalculated;
        _recalculated = 0;
        return count;
    }

    /// <summary>The value a cell shows.</summary>
    public CellValue Value(int sheet, int row, int column) => _cells.TryGetValue(Key(sheet, row, column), out var cell) ? cell.Value : CellValue.Empty;

    /// <summary>The formula of a cell, if it holds one.</summary>
    public string? Formula(int sheet, int row, int column) => _cells.TryGetValue(Key(sheet, row, column), out var cell) ? cell.Formula?.Text : null;

    /// <summary>What would be typed to make a cell as it is: its formula, or its constant (text that reads as something else with a leading <c>'</c>); null when empty.</summary>
    public string? Input(int sheet, int row, int column)
    {
        if (!_cells.TryGetValue(Key(sheet, row, column), out var cell))
        {
            return null;
        }

        if (cell.Formula is { } formula)
        {
            return formula.Text;
        }

        var value = cell.Value;
        return value.Kind switch
        {
            CellValueKind.Number => value.AsNumber.ToString("R", CultureInfo.InvariantCulture),
            CellValueKind.Text => value.AsText.Length > 0 && !value.AsText.StartsWith('=') && Constant(value.AsText) == value ? value.AsText : "'" + value.AsText,
            _ => value.ToString(),
        };
    }

    /// <summary>The cells that hold something.</summary>
    public IEnumerable<(int Sheet, int Row, int Column)> FilledCells() => _cells.Keys.Select(Unpack);

    /// <summary>
    /// Applies <paramref name="edits"/> as one batch (a later edit of the same cell wins), then recalculates what
    /// depends on them and every volatile formula. All or nothing: a malformed formula or a limit refuses the whole
    /// batch and changes nothing.
    /// </summary>
    /// <returns>Every cell whose value changed, edited cells and recomputed dependents alike.</returns>
    /// <exception cref="InvalidFormulaException">A formula does not parse.</exception>
    /// <exception cref="LimitExceededException">Text over the cell limit, or a recalculation past the limit.</exception>
    public IReadOnlyList<CellChange> Apply(IReadOnlyList<CellEdit> edits) => Apply(edits, []);

    /// <inheritdoc cref="Apply(IReadOnlyList{CellEdit})"/>
    /// <param name="edits">The batch.</param>
    /// <param name="changes">Where the changed cells go (a caller's list, kept between batches, spares a large one each time); cleared first.</param>
    public IReadOnlyList<CellChange> Apply(IReadOnlyList<CellEdit> edits, List<CellChange> changes)
    {
        ArgumentNullException.ThrowIfNull(edits);
        ArgumentNullException.ThrowIfNull(changes);
        changes.Clear();

        // Parse everything first: a refusal leaves the workbook as it was.
        var parsed = new Dictionary<long, Cell?>(edits.Count);
        foreach (var edit in edits)
        {
            if ((uint)edit.Sheet >= (uint)_sheets.Count || (uint)edit.Row >= CellRef.MaxRows || (uint)edit.Column >= CellRef.MaxColumns)
            {
                throw new InvalidRequestException("cell", $"sheet {edit.Sheet}, row {edit.Row}, column {edit.Column} is outside the workbook's grid");
            }

            parsed[Key(edit.Sheet, edit.Row, edit.Column)] = Parse(edit.Input);
        }

        // The same dictionary then holds what each edited cell held before (the parsed cells are in the workbook).
        _cells.EnsureCapacity(_cells.Count + parsed.Count);
        foreach (var (key, cell) in parsed)
        {
            parsed[key] = Put(key, cell);
        }

        var previous = parsed;

        try
        {
            if (_cells.Count > _limits.MaxCells)
            {
                throw new LimitExceededException("Sheets:MaxCells", _limits.MaxCells, _cells.Count);
            }

            var seeds = new List<long>(parsed.Count + _volatile.Count);
            seeds.AddRange(parsed.Keys);
            foreach (var key in _volatile)
            {
                if (!parsed.ContainsKey(key))
                {
                    seeds.Add(key);
                }
            }

            Recalculate(seeds, previous, changes);
        }
        catch
        {
            // The limit, or anything else: the workbook is as it was before the batch.
            changes.Clear();
            foreach (var (key, cell) in previous)
            {
                Put(key, cell);
            }

            throw;
        }

        return changes;
    }

    /// <summary>
    /// Inserts or deletes rows or columns of one sheet: its cells move, the references of every formula that reads
    /// that sheet shift as Excel shifts them (an area grows when rows are inserted inside it and shrinks when some of
    /// its rows are deleted; a reference to a deleted cell, or to an area wholly deleted, becomes <c>#REF!</c>), and
    /// the workbook is recalculated.
    /// </summary>
    /// <returns>The cells whose value changed (at their new places) and the cells whose formula was rewritten.</returns>
    /// <exception cref="InvalidRequestException">The rows or columns are outside the grid, or filled cells would be pushed past it.</exception>
    public Reshaped Restructure(StructuralEdit edit)
    {
        var max = edit.Rows ? CellRef.MaxRows : CellRef.MaxColumns;
        if ((uint)edit.Sheet >= (uint)_sheets.Count || edit.Count < 1 || edit.At < 0 || edit.At >= max || (long)edit.At + edit.Count > max)
        {
            throw new InvalidRequestException("edit", $"{(edit.Insert ? "inserting" : "deleting")} {edit.Count} {(edit.Rows ? "rows" : "columns")} at {edit.At} is outside sheet {edit.Sheet}'s grid");
        }

        return Rewrite((w, own) => Shifted(w, own, edit, max), () => { }, key =>
        {
            var (sheet, row, column) = Unpack(key);
            if (sheet != edit.Sheet)
            {
                return key;
            }

            var along = edit.Rows ? row : column;
            if (FormulaRewriter.Shift(along, along, edit, max) is not { } to)
            {
                // Checked before anything changes: Rewrite places every cell first.
                return edit.Insert
                    ? throw new InvalidRequestException("edit", $"filled cells would be pushed past the grid's last {(edit.Rows ? "row" : "column")}")
                    : null;
            }

            return edit.Rows ? Key(sheet, to.Start, column) : Key(sheet, row, to.Start);
        });
    }

    /// <summary>Renames a sheet; the formulas that name it follow.</summary>
    /// <returns>The cells whose formula was rewritten (no value changes: a rename reads the same cells).</returns>
    /// <exception cref="InvalidRequestException">Another sheet has that name, the name is not one a sheet may have, or there is no such sheet.</exception>
    public Reshaped RenameSheet(int sheet, string name)
    {
        CheckSheet(sheet);
        NameFree(name, sheet);
        var old = _sheets[sheet];
        var prefix = FormulaRewriter.SheetPrefix(name);
        return Rewrite((w, _) => w.Sheet is { } named && string.Equals(named, old, StringComparison.OrdinalIgnoreCase) ? FormulaRewriter.Text(prefix, w.From, w.To, w.Kind, w.IsCell) : null,
            () => _sheets[sheet] = name, k => k);
    }

    /// <summary>
    /// Removes a sheet and its cells; every reference to it becomes <c>#REF!</c> (as in Excel, a sheet added later with
    /// the same name does not bring them back). A workbook keeps at least one sheet.
    /// </summary>
    /// <returns>The cells whose value changed (at their new places) and the cells whose formula was rewritten.</returns>
    public Reshaped RemoveSheet(int sheet)
    {
        CheckSheet(sheet);
        if (_sheets.Count == 1)
        {
            throw new InvalidRequestException("sheet", "a workbook keeps at least one sheet");
        }

        var name = _sheets[sheet];
        return Rewrite((w, _) => w.Sheet is { } named && string.Equals(named, name, StringComparison.OrdinalIgnoreCase) ? "#REF!" : null,
            () => _sheets.RemoveAt(sheet), k => Unpack(k).Sheet switch
            {
                var s when s == sheet => null,
                var s when s > sheet => k - (1L << 34),
                _ => k,
            });
    }

    /// <summary>Moves a sheet to <paramref name="position"/> in the order (formulas name sheets, so no value changes).</summary>
    public void MoveSheet(int sheet, int position)
    {
        CheckSheet(sheet);
        CheckSheet(position);
        if (sheet == position)
        {
            return;
        }

        var order = Enumerable.Range(0, _sheets.Count).ToList();
        order.RemoveAt(sheet);
        order.Insert(position, sheet);
        var newIndex = new long[_sheets.Count];
        for (var i = 0; i < order.Count; i++)
        {
            newIndex[order[i]] = i;
        }

        var names = order.Select(i => _sheets[i]).ToList();
        var cells = _cells.Select(c => ((newIndex[Unpack(c.Key).Sheet] << 34) | (c.Key & ((1L << 34) - 1)), c.Value)).ToList();
        _sheets.Clear();
        _sheets.AddRange(names);
        Rebuild(cells, recalculate: false);
    }

    /// <summary>
    /// Rewrites every formula's references by <paramref name="replace"/> (given the reference and the formula's own
    /// sheet), changes the sheets, moves the cells by <paramref name="place"/> (null drops one), rebuilds and
    /// recalculates. Nothing changes until every cell is placed and rewritten, so either may refuse.
    /// </summary>
    private Reshaped Rewrite(Func<FormulaRewriter.Written, int, string?> replace, Action changeSheets, Func<long, long?> place)
    {
        var before = new Dictionary<long, CellValue>(_cells.Count);
        var rewritten = new List<CellAt>();
        var cells = new List<(long Key, Cell Cell)>(_cells.Count);
        foreach (var (key, cell) in _cells)
        {
            if (place(key) is not { } at)
            {
                continue;
            }

            var own = Unpack(key).Sheet;
            var formula = cell.Formula is { } f ? Reparsed(f, FormulaRewriter.Rewrite(f.Text, f.Tree, w => replace(w, own))) : null;
            if (formula is not null && !ReferenceEquals(formula, cell.Formula))
            {
                var (s, r, c) = Unpack(at);
                rewritten.Add(new CellAt(s, r, c));
            }

            before[at] = cell.Value;
            cells.Add((at, new Cell(cell.Value, formula)));
        }

        changeSheets();
        Rebuild(cells);
        return new Reshaped(Diff(before), rewritten);
    }

    /// <summary>Every filled cell's value.</summary>
    private Dictionary<long, CellValue> Values()
    {
        var values = new Dictionary<long, CellValue>(_cells.Count);
        foreach (var (key, cell) in _cells)
        {
            values[key] = cell.Value;
        }

        return values;
    }

    /// <summary>The cells whose value differs from <paramref name="before"/> (a cell missing there was empty).</summary>
    private List<CellChange> Diff(Dictionary<long, CellValue> before)
    {
        var changes = new List<CellChange>();
        foreach (var (key, cell) in _cells)
        {
            if (cell.Value != before.GetValueOrDefault(key))
            {
                var (sheet, row, column) = Unpack(key);
                changes.Add(new CellChange(sheet, row, column, cell.Value));
            }
        }

        return changes;
    }

    private void CheckSheet(int sheet)
    {
        if ((uint)sheet >= (uint)_sheets.Count)
        {
            throw new InvalidRequestException("sheet", $"there is no sheet {sheet}");
        }
    }

    /// <summary>
    /// Refuses a name another sheet (than <paramref name="except"/>) has, without regard to case, and a name Excel
    /// refuses: empty, over 31 characters, holding one of <c>: \ / ? * [ ]</c>, or starting or ending with <c>'</c>.
    /// </summary>
    private void NameFree(string name, int? except)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxSheetNameLength || name.IndexOfAny([':', '\\', '/', '?', '*', '[', ']']) >= 0 || name[0] == '\'' || name[^1] == '\'')
        {
            throw new InvalidRequestException("name", $"a sheet's name is 1-{MaxSheetNameLength} characters, without : \\ / ? * [ ] and not starting or ending with '");
        }

        if (SheetNamed(name) is { } other && other != except)
        {
            throw new InvalidRequestException("name", $"a sheet named '{name}' exists");
        }
    }

    /// <summary>Characters in a sheet's name (Excel's).</summary>
    public const int MaxSheetNameLength = 31;

    /// <summary>The reference a formula on <paramref name="own"/> would write after <paramref name="edit"/>, or null when it does not move.</summary>
    private string? Shifted(FormulaRewriter.Written written, int own, StructuralEdit edit, int max)
    {
        var sheet = written.Sheet is null ? own : SheetNamed(written.Sheet);
        if (sheet != edit.Sheet || (edit.Rows && written.Kind == AreaKind.Columns) || (!edit.Rows && written.Kind == AreaKind.Rows))
        {
            return null;
        }

        var (first, last) = (written.From, written.To);
        var span = edit.Rows ? (first.Row, last.Row) : (first.Column, last.Column);
        if (FormulaRewriter.Shift(span.Item1, span.Item2, edit, max) is not { } moved)
        {
            return written.Prefix + "#REF!";
        }

        if (moved == span)
        {
            return null;
        }

        (first, last) = edit.Rows
            ? (first with { Row = moved.Start }, last with { Row = moved.End })
            : (first with { Column = moved.Start }, last with { Column = moved.End });
        return FormulaRewriter.Text(written.Prefix, first, last, written.Kind, written.IsCell);
    }

    /// <summary>The formula again for its rewritten text (a reference turned into #REF! may lengthen it past the limit: allowed).</summary>
    private ParsedFormula Reparsed(ParsedFormula formula, string text)
    {
        if (string.Equals(text, formula.Text, StringComparison.Ordinal))
        {
            return formula;
        }

        return ParsedFormula.Of(text, FormulaParser.Parse(text, _limits.Formulas with { MaxLength = Math.Max(_limits.Formulas.MaxLength, text.Length) }));
    }

    private void Rebuild(List<(long Key, Cell Cell)> cells, bool recalculate = true)
    {
        _cells.Clear();
        _volatile.Clear();
        _index = new SheetIndex();
        _graph = new DependencyGraph();
        foreach (var (key, cell) in cells)
        {
            Put(key, cell);
        }

        if (recalculate)
        {
            RecalculateAll();
        }
    }

    /// <summary>Recomputes every formula from scratch, in dependency order (what an incremental recalculation must equal).</summary>
    public void RecalculateAll()
    {
        var formulas = _cells.Where(c => c.Value.Formula is not null).Select(c => c.Key).ToList();
        foreach (var key in formulas)
        {
            _cells[key].Value = CellValue.Empty;
        }

        Recalculate(formulas, null, [], all: true);
    }

    private Cell? Parse(string? input)
    {
        if (string.IsNullOrEmpty(input))
        {
            return null;
        }

        if (input.Length > _limits.MaxTextLength)
        {
            throw new LimitExceededException("Sheets:MaxTextLength", _limits.MaxTextLength, input.Length);
        }

        if (input[0] == '=' && input.Length > 1)
        {
            return new Cell(CellValue.Empty, ParsedFormula.Of(input, FormulaParser.Parse(input, _limits.Formulas)));
        }

        return new Cell(Constant(input), null);
    }

    /// <summary>A typed constant: a number, TRUE or FALSE, an error literal, text (a leading <c>'</c> forces text).</summary>
    public static CellValue Constant(string input)
    {
        if (input[0] == '\'')
        {
            return CellValue.Text(input[1..]);
        }

        // As Excel types them (invariant culture): 1e3, 1,000, 50% and 2025-01-01 are numbers (the last a date serial).
        if (CellValue.TryParseNumber(input, out var number))
        {
            return CellValue.Number(number);
        }

        if (bool.TryParse(input, out var boolean))
        {
            return CellValue.Boolean(boolean);
        }

        return CellValue.TryParseError(input, out var error) ? CellValue.Error(error) : CellValue.Text(input);
    }

    /// <summary>Puts <paramref name="cell"/> (a cell no workbook holds: new, or one this workbook let go) at <paramref name="key"/>, or empties it; returns the cell let go.</summary>
    private Cell? Put(long key, Cell? cell)
    {
        if (_cells.Remove(key, out var old))
        {
            _index.Remove(key);
            if (old.Formula is not null)
            {
                _graph.Remove(old, old.Formula.References, this);
                _volatile.Remove(key);
            }
        }

        if (cell is null)
        {
            return old;
        }

        cell.Key = key;
        cell.Dependents = _graph.Naming(key);
        _cells[key] = cell;
        _index.Add(key);
        if (cell.Formula is not null)
        {
            _graph.Add(cell, cell.Formula.References, this);
            if (cell.Formula.IsVolatile)
            {
                _volatile.Add(key);
            }
        }

        return old;
    }

    /// <summary>The graph made or dropped the list of formulas that name <paramref name="key"/>: the cell there holds it.</summary>
    internal void Named(long key, List<Cell>? naming)
    {
        if (_cells.TryGetValue(key, out var cell))
        {
            cell.Dependents = naming;
        }
    }

    /// <summary>The formulas that read <paramref name="cell"/>, each once.</summary>
    private List<Cell> DependentsOf(Cell cell) => _graph.DependentsOf(cell.Key, cell.Dependents);

    /// <summary>
    /// Recomputes the formulas among <paramref name="seeds"/> and everything downstream of the seeds, in dependency
    /// order found by an iterative Tarjan walk (which also finds the cycles), evaluating a cell only when a
    /// precedent's value changed or it is a seed.
    /// </summary>
    private void Recalculate(List<long> seeds, Dictionary<long, Cell?>? before, List<CellChange> changes, bool all = false)
    {
        // A constant (or a cleared cell) that no formula reads needs no walk: it changed or it did not. A large import
        // of plain values is mostly these.
        changes.EnsureCapacity(Math.Min(seeds.Count, 1 << 20));
        var walked = new List<Cell>(seeds.Count);
        foreach (var seed in seeds)
        {
            // A cleared cell is walked as an empty one that the formulas naming it still hang from.
            var cell = _cells.GetValueOrDefault(seed) ?? new Cell(CellValue.Empty, null) { Key = seed, Dependents = _graph.Naming(seed) };
            if (cell.Formula is not null || DependentsOf(cell).Count > 0)
            {
                walked.Add(cell);
                continue;
            }

            var now = cell.Value;
            var old = before is not null && before.TryGetValue(seed, out var was) ? was?.Value ?? CellValue.Empty : now;
            if (now != old)
            {
                var (sheet, row, column) = Unpack(seed);
                changes.Add(new CellChange(sheet, row, column, now));
            }
        }

        // The walk's lists are kept for the next recalculation (up to KeptWalk cells): a large one would otherwise
        // allocate them anew each time, on the large object heap, and bring on full collections of the whole workbook.
        var walk = _walk ??= new Walk(this);
        try
        {
            walk.Run(walked, ++_walks);
            _recalculated += walk.Count;
            if (!all && walk.Count > _limits.MaxRecalculatedCells)
            {
                throw new LimitExceededException("Sheets:MaxRecalculatedCells", _limits.MaxRecalculatedCells, walk.Count);
            }

            Evaluate(walk, walked, before, changes, all);
        }
        finally
        {
            // No cell held between batches; a walk past the bound is let go rather than kept at its size.
            walk.Clear();
            if (walk.Capacity > KeptWalk)
            {
                _walk = null;
            }
        }
    }

    // The most cells a walk's arrays are kept for between batches (a 100,000-long chain's are).
    private const int KeptWalk = 1 << 17;

    /// <summary>Evaluates the walk's cells in order, precedents first, listing those whose value changed.</summary>
    private void Evaluate(Walk walk, List<Cell> walked, Dictionary<long, Cell?>? before, List<CellChange> changes, bool all)
    {
        // Which cells to evaluate: seeds and the dependents of a changed value; an edited seed is compared with what
        // it held before the batch, any other cell with its value before this walk.
        var flagged = walk.Flags();
        foreach (var seed in walked)
        {
            flagged[seed.Node] = before is not null && before.ContainsKey(seed.Key) ? Edited : Flagged;
        }

        changes.EnsureCapacity(changes.Count + walk.Count);

        var context = new Context(this);
        var evaluator = FormulaEvaluator.For(context);
        var members = walk.Members;
        for (var at = members.Count - 1; at >= 0; at--)
        {
            // A cell on a cycle downstream of the edit is #CYCLE! whichever of its members was reached first.
            var node = members[at];
            var cyclic = walk.IsCyclic(node);
            var cell = walk.CellOf(node);
            // A cell that showed #CYCLE! may have left its cycle without any precedent's value changing (the edit broke
            // the cycle elsewhere, and the members still on it show #CYCLE! as before): it is evaluated again.
            if (flagged[node] == 0 && !cyclic && cell.Value != CycleError)
            {
                continue;
            }

            var old = flagged[node] == Edited ? before![cell.Key]?.Value ?? CellValue.Empty : cell.Value;
            if (cell.Formula is { } formula)
            {
                if (cyclic)
                {
                    cell.Value = CycleError;
                }
                else
                {
                    context.At(cell.Key);
                    try
                    {
                        cell.Value = evaluator.Evaluate(formula.Tree);
                    }
                    catch (Exception exception) when (exception is not (OutOfMemoryException or LimitExceededException))
                    {
                        // A function that failed in a way not foreseen: the cell shows #VALUE!, the batch goes on.
                        cell.Value = CellValue.Error(FormulaError.Value);
                    }
                }
            }

            var now = cell.Value;
            if (all || now != old)
            {
                if (!all || now != CellValue.Empty)
                {
                    var (sheet, row, column) = Unpack(cell.Key);
                    changes.Add(new CellChange(sheet, row, column, now));
                }

                foreach (var dependent in walk.EdgesOf(node))
                {
                    flagged[dependent.Node] |= Flagged;
                }
            }
        }

    }

    private const byte Flagged = 1;
    private const byte Edited = 2 | Flagged;

    /// <summary>
    /// Tarjan's strongly connected components over the cells reachable from the seeds along precedent-to-dependent
    /// edges, with an explicit stack (a 100,000-long chain is fine). Nodes are numbered as found, in the cells
    /// themselves (<see cref="Cell.Walk"/>, <see cref="Cell.Node"/>: no lookup per edge); <see cref="Members"/>, read backwards, lists them
    /// precedents first; members of a component of two or more, or of a self-reference, are cyclic.
    /// </summary>
    private sealed class Walk(Workbook book)
    {
        // Each node's cell, its dependents and Tarjan's state, side by side: one array the walk reads in turn.
        private Node[] _nodes = new Node[16];
        private int _count;
        private readonly Stack<int> _stack = new();
        private readonly Stack<(int Node, int Next)> _work = new();
        // The members of the components as found, dependents first: read backwards, precedents come first.
        private readonly List<int> _members = [];
        private byte[] _flags = [];

        private struct Node
        {
            public Cell Cell;
            public List<Cell> Edges;
            public int Low;
            public bool OnStack;
            public bool Cyclic;
        }

        /// <summary>Cells reached.</summary>
        public int Count => _count;

        /// <summary>Cells its arrays hold room for.</summary>
        public int Capacity => _nodes.Length;

        /// <summary>The cell of node <paramref name="node"/>.</summary>
        public Cell CellOf(int node) => _nodes[node].Cell;

        /// <summary>The formulas that read node <paramref name="node"/>'s cell.</summary>
        public List<Cell> EdgesOf(int node) => _nodes[node].Edges;

        /// <summary>Whether node <paramref name="node"/> is on a cycle.</summary>
        public bool IsCyclic(int node) => _nodes[node].Cyclic;

        /// <summary>The nodes, dependents first (read it backwards for precedents first).</summary>
        public List<int> Members => _members;

        /// <summary>A flag per node, all clear.</summary>
        public byte[] Flags()
        {
            if (_flags.Length < _count)
            {
                _flags = new byte[Math.Max(_count, _flags.Length * 2)];
            }
            else
            {
                Array.Clear(_flags, 0, _count);
            }

            return _flags;
        }

        /// <summary>Empty again, its arrays' room kept, no cell held.</summary>
        public void Clear()
        {
            Array.Clear(_nodes, 0, _count);
            _count = 0;
            _members.Clear();
            _stack.Clear();
            _work.Clear();
        }

        public void Run(List<Cell> seeds, int stamp)
        {
            Clear();
            var (stack, work, members) = (_stack, _work, _members);
            int Discover(Cell cell)
            {
                var n = _count;
                if (n == _nodes.Length)
                {
                    Array.Resize(ref _nodes, n * 2);
                }

                cell.Walk = stamp;
                cell.Node = n;
                _nodes[n] = new Node { Cell = cell, Edges = book.DependentsOf(cell), Low = n, OnStack = true };
                _count++;
                stack.Push(n);
                return n;
            }

            foreach (var seed in seeds)
            {
                if (seed.Walk == stamp)
                {
                    continue;
                }

                work.Push((Discover(seed), 0));
                while (work.Count > 0)
                {
                    var (node, next) = work.Pop();
                    var edges = _nodes[node].Edges;
                    var descended = false;
                    for (var i = next; i < edges.Count; i++)
                    {
                        var dependent = edges[i];
                        if (dependent.Walk != stamp)
                        {
                            work.Push((node, i + 1));
                            work.Push((Discover(dependent), 0));
                            descended = true;
                            break;
                        }

                        if (_nodes[dependent.Node].OnStack && dependent.Node < _nodes[node].Low)
                        {
                            _nodes[node].Low = dependent.Node;
                        }
                    }

                    if (descended)
                    {
                        continue;
                    }

                    if (_nodes[node].Low == node)
                    {
                        var start = members.Count;
                        int member;
                        do
                        {
                            member = stack.Pop();
                            _nodes[member].OnStack = false;
                            members.Add(member);
                        }
                        while (member != node);

                        if (members.Count - start > 1 || SelfReading(edges, _nodes[node].Cell))
                        {
                            for (var m = start; m < members.Count; m++)
                            {
                                _nodes[members[m]].Cyclic = true;
                            }
                        }
                    }

                    if (work.Count > 0)
                    {
                        var parent = work.Peek().Node;
                        if (_nodes[node].Low < _nodes[parent].Low)
                        {
                            _nodes[parent].Low = _nodes[node].Low;
                        }
                    }
                }
            }
        }

        private static bool SelfReading(List<Cell> edges, Cell cell)
        {
            foreach (var edge in edges)
            {
                if (ReferenceEquals(edge, cell))
                {
                    return true;
                }
            }

            return false;
        }
    }

    private static readonly CellValue CycleError = CellValue.Error(FormulaError.Cycle);

    internal static long Key(int sheet, int row, int column) => ((long)sheet << 34) | ((long)row << 14) | (long)column;

    internal static (int Sheet, int Row, int Column) Unpack(long key) => ((int)(key >> 34), (int)((key >> 14) & 0xFFFFF), (int)(key & 0x3FFF));

    internal IEnumerable<(int Row, int Column, CellValue Value)> CellsIn(Area area)
    {
        foreach (var key in _index.In(area))
        {
            var (_, row, column) = Unpack(key);
            yield return (row, column, _cells[key].Value);
        }
    }

    internal int? SheetNamed(string name)
    {
        var i = _sheets.FindIndex(s => string.Equals(s, name, StringComparison.OrdinalIgnoreCase));
        return i < 0 ? null : i;
    }

    /// <summary>A filled cell: what it shows, its formula, and the formulas that name it.</summary>
    internal sealed class Cell(CellValue value, ParsedFormula? formula)
    {
        public CellValue Value { get; set; } = value;

        public ParsedFormula? Formula { get; } = formula;

        /// <summary>Where it is (<see cref="Workbook.Key(int, int, int)"/>).</summary>
        public long Key { get; set; }

        /// <summary>The formulas that name this cell: the dependency graph's own list, or null when none does.</summary>
        public List<Cell>? Dependents { get; set; }

        /// <summary>The recalculation that last reached this cell, and its number in that walk.</summary>
        public int Walk { get; set; }

        /// <inheritdoc cref="Walk"/>
        public int Node { get; set; }
    }

    internal sealed record ParsedFormula(string Text, FormulaNode Tree, IReadOnlyList<Reference> References, bool IsVolatile)
    {
        public static ParsedFormula Of(string text, FormulaNode tree) => new(text, tree, global::Groundwork.Grains.Sheets.References.Of(tree, out var isVolatile), isVolatile);
    }

    /// <summary>The workbook as a formula sees it from one cell.</summary>
    private sealed class Context(Workbook book) : IFormulaContext
    {
        private DateTime? _now;

        public int Sheet { get; private set; }

        public int Row { get; private set; }

        public int Column { get; private set; }

        // One clock reading per recalculation, so NOW and TODAY agree across the batch.
        public DateTime Now => _now ??= book._now();

        public void At(long key) => (Sheet, Row, Column) = Unpack(key);

        public int? SheetNamed(string name) => book.SheetNamed(name);

        public CellValue Value(int sheet, int row, int column) => book.Value(sheet, row, column);

        public IEnumerable<(int Row, int Column, CellValue Value)> Cells(Area area) => book.CellsIn(area);
    }
}
