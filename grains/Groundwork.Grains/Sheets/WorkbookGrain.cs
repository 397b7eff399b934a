using Groundwork.Grains.Resources;
using Groundwork.Grains.Telemetry;
using Groundwork.Grains.Sheets.Formulas;
using Groundwork.Sheets;
using Groundwork.Tenants;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Sheets;

/// <summary>
/// A workbook: sheet logic only. The engine (<see cref="Workbook"/>) holds the cells and recalculates; the kit
/// (<see cref="IResource{THead, TChange}"/>) runs every mutation (idempotency, the version guard, one durable commit,
/// the feed). Cells are stored in tiles of <see cref="SheetTile.Rows"/> by <see cref="SheetTile.Columns"/> with their
/// values, so an activation rebuilds the dependency graph from the formulas without recalculating; a mutation writes
/// the head, the tiles whose cells it changed and, for tiles where only formulas' values changed, value tiles.
/// </summary>
public sealed class WorkbookGrain(
    [Resource] IResource<WorkbookHead, WorkbookChange> workbook,
    IOptions<WorkbookOptions> options,
    TimeProvider time) : Grain, IWorkbookGrain
{
    private const string TileCollection = "tiles";
    private const string ValueCollection = "values";

    private readonly WorkbookOptions _limits = options.Value;
    private Workbook _book = null!;
    private StoredTiles _tiles = null!;
    // The values of a tile's formulas, stored apart when a recalculation changed them and nothing else of the tile.
    private StoredTiles _values = null!;
    // The tiles of the mutation under way whose formulas' values changed (the tiles whose cells changed are the
    // mutation's own set).
    private readonly HashSet<TileKey> _recalculated = [];
    // The cells a batch changed, kept for the next one (a 100,000-cell recalculation would otherwise allocate 4 MB on
    // the large object heap each time) unless it grew past the bound.
    private List<CellChange> _changes = [];
    private const int KeptChanges = 1 << 17;
    // Each sheet's prefix in addresses (Sheet1!, 'Q1 plan'!), in sheet order.
    private List<string> _prefixes = [];

    // The engine's limits and time zone, made once per options (one per silo) rather than per activation.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<WorkbookOptions, EngineSettings> Engines = new();

    private WorkbookHead State => workbook.State;

    /// <inheritdoc/>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tiles = new StoredTiles(workbook.Chunks<SheetTile>(TileCollection));
        _values = new StoredTiles(workbook.Chunks<SheetTile>(ValueCollection));
        if (!State.Created)
        {
            _book = NewBook();
            return;
        }

        // Values recalculated since their tile was written, by tile and place: they win over the tile's own.
        var recalculated = new Dictionary<TileKey, Dictionary<int, CellValue>>();
        foreach (var (key, values) in await _values.ReadAllAsync())
        {
            recalculated[key] = values.Cells.ToDictionary(c => c.Place, c => c.Value);
        }

        var indexOf = SheetIndexById();
        var cells = new List<StoredCell>();
        foreach (var (key, tile) in await _tiles.ReadAllAsync())
        {
            if (!indexOf.TryGetValue(key.Sheet, out var sheet))
            {
                continue;
            }

            var values = recalculated.GetValueOrDefault(key);
            foreach (var cell in tile.Cells)
            {
                var value = cell.Formula is not null && values is not null && values.TryGetValue(cell.Place, out var newer) ? newer : cell.Value;
                cells.Add(new StoredCell(sheet, key.Top + cell.Place / SheetTile.Columns, key.Left + cell.Place % SheetTile.Columns, cell.Formula, value));
            }
        }

        _book = NewBook([.. State.Sheets.Select(s => s.Name)], cells);
        Prefixes();
    }

    /// <inheritdoc/>
    public Task<MutationResult> CreateAsync(string title, MutationOptions? options = null) =>
        workbook.CreateAsync(options, () =>
        {
            ValidateTitle(title);
            State.Title = title;
            State.Sheets = [new SheetEntry(State.NextSheetId++, _book.Sheets[0])];
            Prefixes();
            return new Applied<WorkbookChange>(s => new WorkbookChange(s.Sequence, WorkbookChangeKind.Created, s.At, s.By, Name: title));
        });

    /// <inheritdoc/>
    public Task<MutationResult> RenameAsync(string title, MutationOptions? options = null) =>
        workbook.MutateAsync(options, () =>
        {
            ValidateTitle(title);
            State.Title = title;
            workbook.Relist();
            return new Applied<WorkbookChange>(s => new WorkbookChange(s.Sequence, WorkbookChangeKind.Renamed, s.At, s.By, Name: title));
        });

    /// <inheritdoc/>
    public Task<WorkbookEdit> EditAsync(IReadOnlyList<CellInput> cells, MutationOptions? options = null) =>
        EditCellsAsync(options, () =>
        {
            InvalidRequestException.ThrowIfNull(cells, nameof(cells));
            if (cells.Count > _limits.MaxBatchCells)
            {
                throw workbook.Limit(nameof(WorkbookOptions.MaxBatchCells), _limits.MaxBatchCells, cells.Count);
            }

            var edits = new List<CellEdit>(cells.Count);
            foreach (var cell in cells)
            {
                InvalidRequestException.ThrowIfNull(cell, nameof(cells));
                var at = SheetAddress.Cell(cell.Cell, _book);
                edits.Add(new CellEdit(at.Sheet, at.Row, at.Column, cell.Input));
            }

            return edits;
        });

    /// <inheritdoc/>
    public Task<WorkbookEdit> ClearAsync(string range, MutationOptions? options = null) =>
        EditCellsAsync(options, () =>
        {
            var area = SheetAddress.Range(range, _book).Area;
            var filled = _book.Stored(area.Sheet, area.Top, area.Left, area.Bottom, area.Right).Select(c => new CellEdit(c.Sheet, c.Row, c.Column, null)).ToList();
            if (filled.Count > _limits.MaxBatchCells)
            {
                throw workbook.Limit(nameof(WorkbookOptions.MaxBatchCells), _limits.MaxBatchCells, filled.Count);
            }

            return filled;
        });

    /// <inheritdoc/>
    public Task<WorkbookEdit> ImportCsvAsync(string anchor, string csv, bool formulas = false, MutationOptions? options = null) =>
        EditCellsAsync(options, () =>
        {
            var at = SheetAddress.Cell(anchor, _book, nameof(anchor));
            InvalidRequestException.ThrowIfNull(csv, nameof(csv));
            if (csv.Length > _limits.MaxCsvLength)
            {
                throw workbook.Limit(nameof(WorkbookOptions.MaxCsvLength), _limits.MaxCsvLength, csv.Length);
            }

            return WorkbookCsv.Edits(at.Sheet, at.Row, at.Column, csv, formulas, _limits.MaxCsvCells);
        });

    /// <inheritdoc/>
    public Task<RangeData> ReadAsync(string range, bool formulas = false)
    {
        workbook.EnsureCreated();
        var area = SheetAddress.Range(range, _book).Area;
        var cells = new CellList.Builder(_prefixes);
        foreach (var cell in _book.Stored(area.Sheet, area.Top, area.Left, area.Bottom, area.Right))
        {
            if (cells.Count == _limits.MaxReadCells)
            {
                throw workbook.Limit(nameof(WorkbookOptions.MaxReadCells), _limits.MaxReadCells, _book.Stored(area.Sheet, area.Top, area.Left, area.Bottom, area.Right).Count());
            }

            cells.Add(cell.Sheet, cell.Row, cell.Column, Wire(cell.Value), formulas ? cell.Formula : null);
        }

        return Task.FromResult(new RangeData(SheetAddress.Format(_prefixes[area.Sheet], area), State.Version, cells.Build()));
    }

    /// <inheritdoc/>
    public Task<string> ExportCsvAsync(string range, bool formulas = false)
    {
        workbook.EnsureCreated();
        var area = SheetAddress.Range(range, _book).Area;
        // Whole rows or columns end at the last filled cell: the grid's empty rest is not written.
        int bottom = -1, right = -1;
        foreach (var cell in _book.Stored(area.Sheet, area.Top, area.Left, area.Bottom, area.Right))
        {
            (bottom, right) = (Math.Max(bottom, cell.Row), Math.Max(right, cell.Column));
        }

        if (bottom < 0)
        {
            return Task.FromResult("");
        }

        var clipped = area with { Bottom = bottom, Right = right };
        if (clipped.Count > _limits.MaxCsvCells)
        {
            throw workbook.Limit(nameof(WorkbookOptions.MaxCsvCells), _limits.MaxCsvCells, clipped.Count);
        }

        return Task.FromResult(_book.Export(clipped, formulas));
    }

    /// <inheritdoc/>
    public Task<WorkbookEdit> InsertAsync(string rowsOrColumns, MutationOptions? options = null) => RestructureAsync(rowsOrColumns, insert: true, options);

    /// <inheritdoc/>
    public Task<WorkbookEdit> DeleteAsync(string rowsOrColumns, MutationOptions? options = null) => RestructureAsync(rowsOrColumns, insert: false, options);

    /// <inheritdoc/>
    public Task<WorkbookEdit> AddSheetAsync(string name, int? position = null, MutationOptions? options = null) =>
        ChangeAsync(options, dirty =>
        {
            if (_book.Sheets.Count >= _limits.MaxSheets)
            {
                throw workbook.Limit(nameof(WorkbookOptions.MaxSheets), _limits.MaxSheets, _book.Sheets.Count + 1);
            }

            if (position is < 0 || position > _book.Sheets.Count)
            {
                throw new InvalidRequestException(nameof(position), $"must be 0 to {_book.Sheets.Count}");
            }

            var index = _book.AddSheet(name, out var reshaped);
            var entry = new SheetEntry(State.NextSheetId++, name);
            State.Sheets.Add(entry);
            Prefixes();
            var cells = Listed(dirty, reshaped);
            if (position is { } at && at != index)
            {
                _book.MoveSheet(index, at);
                State.Sheets.RemoveAt(index);
                State.Sheets.Insert(at, entry);
                Prefixes();
            }

            var place = position ?? index;
            return (cells, s => new WorkbookChange(s.Sequence, WorkbookChangeKind.SheetAdded, s.At, s.By, Sheet: name, Position: place));
        });

    /// <inheritdoc/>
    public Task<WorkbookEdit> RenameSheetAsync(string sheet, string name, MutationOptions? options = null) =>
        ChangeAsync(options, dirty =>
        {
            var index = SheetIndex(sheet);
            var old = State.Sheets[index];
            var reshaped = _book.RenameSheet(index, name);
            State.Sheets[index] = old with { Name = name };
            Prefixes();
            return (Listed(dirty, reshaped), s => new WorkbookChange(s.Sequence, WorkbookChangeKind.SheetRenamed, s.At, s.By, Sheet: old.Name, Name: name));
        });

    /// <inheritdoc/>
    public Task<WorkbookEdit> MoveSheetAsync(string sheet, int position, MutationOptions? options = null) =>
        ChangeAsync(options, dirty =>
        {
            var index = SheetIndex(sheet);
            if (position < 0 || position >= _book.Sheets.Count)
            {
                throw new InvalidRequestException(nameof(position), $"must be 0 to {_book.Sheets.Count - 1}");
            }

            _book.MoveSheet(index, position);
            var entry = State.Sheets[index];
            State.Sheets.RemoveAt(index);
            State.Sheets.Insert(position, entry);
            Prefixes();
            return (CellList.Empty, s => new WorkbookChange(s.Sequence, WorkbookChangeKind.SheetMoved, s.At, s.By, Sheet: entry.Name, Position: position));
        });

    /// <inheritdoc/>
    public Task<WorkbookEdit> RemoveSheetAsync(string sheet, MutationOptions? options = null) =>
        ChangeAsync(options, dirty =>
        {
            var index = SheetIndex(sheet);
            var entry = State.Sheets[index];
            var reshaped = _book.RemoveSheet(index);
            State.Sheets.RemoveAt(index);
            Prefixes();
            _tiles.RemoveSheet(entry.Id);
            _values.RemoveSheet(entry.Id);

            return (Listed(dirty, reshaped), s => new WorkbookChange(s.Sequence, WorkbookChangeKind.SheetRemoved, s.At, s.By, Sheet: entry.Name));
        });

    /// <inheritdoc/>
    public Task<MutationResult> SetAccessAsync(IReadOnlyList<string> editors, IReadOnlyList<string> viewers, bool tenantReadable, MutationOptions? options = null) =>
        workbook.MutateAsync(options, () =>
        {
            workbook.SetAccess(editors, viewers, tenantReadable);
            return new Applied<WorkbookChange>(s => new WorkbookChange(s.Sequence, WorkbookChangeKind.AccessChanged, s.At, s.By));
        });

    /// <inheritdoc/>
    public Task<WorkbookSnapshot> GetAsync()
    {
        workbook.EnsureCreated();
        var sheets = new SheetInfo[_book.Sheets.Count];
        for (var i = 0; i < sheets.Length; i++)
        {
            sheets[i] = new SheetInfo(_book.Sheets[i], _book.CellsOn(i));
        }

        return Task.FromResult(new WorkbookSnapshot(this.GetPrimaryKeyString(), State.Title, State.Version, sheets, State.Access!));
    }

    /// <inheritdoc/>
    public Task<ResourceSummary> GetSummaryAsync() => Task.FromResult(workbook.Summary(State.Title));

    /// <inheritdoc/>
    public IAsyncEnumerable<WorkbookChange> WatchAsync(long afterSequence, CancellationToken cancellationToken = default) =>
        workbook.WatchAsync(afterSequence, cancellationToken);

    /// <summary>Applies the edits <paramref name="edits"/> makes as one batch: the change lists the edited cells and every value that changed.</summary>
    private Task<WorkbookEdit> EditCellsAsync(MutationOptions? options, Func<List<CellEdit>> edits) =>
        ChangeAsync(options, dirty =>
        {
            var batch = edits();
            var changes = _book.Apply(batch, _changes);
            // Edited cells are listed even when their value stayed (a formula that gives what the constant was).
            return (Listed(dirty, batch, static e => new CellAt(e.Sheet, e.Row, e.Column), changes, formulasOfValues: false),
                s => new WorkbookChange(s.Sequence, WorkbookChangeKind.CellsChanged, s.At, s.By));
        });

    private Task<WorkbookEdit> RestructureAsync(string rowsOrColumns, bool insert, MutationOptions? options) =>
        ChangeAsync(options, dirty =>
        {
            var range = SheetAddress.Range(rowsOrColumns, _book, nameof(rowsOrColumns));
            if (range.Kind is not (AreaKind.Rows or AreaKind.Columns))
            {
                throw new InvalidRequestException(nameof(rowsOrColumns), "name whole rows (3:5) or whole columns (C:D)");
            }

            var rows = range.Kind == AreaKind.Rows;
            var (at, last) = rows ? (range.Area.Top, range.Area.Bottom) : (range.Area.Left, range.Area.Right);
            var sheetId = State.Sheets[range.Sheet].Id;
            var reshaped = _book.Restructure(new StructuralEdit(range.Sheet, rows, insert, at, last - at + 1));

            // Every tile of the sheet from the edit on is rewritten (its cells moved), the stored ones and the ones now filled.
            var firstTile = at / (rows ? SheetTile.Rows : SheetTile.Columns);
            dirty.UnionWith(_tiles.Keys.Where(key => key.Sheet == sheetId && (rows ? key.Row : key.Column) >= firstTile));
            var from = rows ? (firstTile * SheetTile.Rows, 0) : (0, firstTile * SheetTile.Columns);
            foreach (var cell in _book.Stored(range.Sheet, from.Item1, from.Item2, CellRef.MaxRows - 1, CellRef.MaxColumns - 1))
            {
                Mark(dirty, new CellAt(cell.Sheet, cell.Row, cell.Column));
            }

            var kind = (rows, insert) switch
            {
                (true, true) => WorkbookChangeKind.RowsInserted,
                (true, false) => WorkbookChangeKind.RowsDeleted,
                (false, true) => WorkbookChangeKind.ColumnsInserted,
                _ => WorkbookChangeKind.ColumnsDeleted,
            };
            var name = State.Sheets[range.Sheet].Name;
            return (Listed(dirty, reshaped), s => new WorkbookChange(s.Sequence, kind, s.At, s.By, Sheet: name, Position: at + 1, Count: last - at + 1));
        });

    /// <summary>
    /// Runs a mutation of the cells or sheets: <paramref name="apply"/> changes the workbook and names the tiles it
    /// touched and the cells to list (<see cref="Listed{T}(HashSet{TileKey}, IReadOnlyList{T}, Func{T, CellAt}, IReadOnlyList{CellChange}, bool)"/>); the tiles are rebuilt from the workbook, the change
    /// gets the cells (or the ranges to read again), and the caller gets them too.
    /// </summary>
    private async Task<WorkbookEdit> ChangeAsync(MutationOptions? options, Func<HashSet<TileKey>, (CellList? Cells, Func<ChangeStamp, WorkbookChange> Change)> apply)
    {
        CellList? cells = null;
        var result = await workbook.MutateAsync(options, () =>
        {
            var dirty = new HashSet<TileKey>();
            _recalculated.Clear();
            _book.TakeRecalculated();
            var (listed, change) = apply(dirty);
            GroundworkMetrics.SheetsRecalculated.Record(_book.TakeRecalculated());
            _recalculated.ExceptWith(dirty);
            var reload = listed is null ? Reload(dirty.Concat(_recalculated)) : null;
            var tiles = dirty.Count + _recalculated.Count;
            Flush(dirty);
            _changes.Clear();
            if (_changes.Capacity > KeptChanges)
            {
                _changes = [];
            }

            cells = listed;
            return new Applied<WorkbookChange>(s => change(s) with { Cells = listed, Reload = reload }, Count: listed?.Count ?? tiles);
        });

        return new WorkbookEdit(result, result.Replayed ? null : cells);
    }

    /// <summary>What a structural edit lists: the cells it rewrote and the cells whose value changed, all with their formulas.</summary>
    private CellList? Listed(HashSet<TileKey> dirty, Reshaped reshaped) => Listed(dirty, reshaped.Rewritten, static at => at, reshaped.Values, formulasOfValues: true);

    /// <summary>
    /// Marks the tiles of <paramref name="set"/> (cells edited or rewritten) and of <paramref name="values"/> (cells whose
    /// value changed), and lists them for the change: the first with their formulas, the others with theirs when
    /// <paramref name="formulasOfValues"/>. Null when they are more than a change lists (<c>Sheets:MaxChangeCells</c>).
    /// </summary>
    private CellList? Listed<T>(HashSet<TileKey> dirty, IReadOnlyList<T> set, Func<T, CellAt> place, IReadOnlyList<CellChange> values, bool formulasOfValues)
    {
        var marker = new TileMarker(dirty, State.Sheets);
        foreach (var item in set)
        {
            var at = place(item);
            marker.Mark(at.Sheet, at.Row, at.Column);
        }

        // A value that changed alone (a formula recalculated) marks its tile's values, not the tile.
        var recalculated = new TileMarker(_recalculated, State.Sheets);
        foreach (var change in values)
        {
            recalculated.Mark(change.Sheet, change.Row, change.Column);
        }

        // A large import lists nothing: its cells alone are more than a change lists (a batch that names one cell
        // many times over counts each time: its change says what to read again instead).
        if (values.Count > _limits.MaxChangeCells || set.Count > _limits.MaxChangeCells)
        {
            return null;
        }

        var listed = new Dictionary<CellAt, bool>(set.Count + values.Count);
        foreach (var item in set)
        {
            listed[place(item)] = true;
        }

        foreach (var change in values)
        {
            listed.TryAdd(new CellAt(change.Sheet, change.Row, change.Column), formulasOfValues);
        }

        if (listed.Count > _limits.MaxChangeCells)
        {
            return null;
        }

        var cells = new CellList.Builder(_prefixes);
        foreach (var (at, withFormula) in listed)
        {
            cells.Add(at.Sheet, at.Row, at.Column, Wire(_book.Value(at.Sheet, at.Row, at.Column)), withFormula ? _book.Formula(at.Sheet, at.Row, at.Column) : null);
        }

        return cells.Build();
    }

    private void Mark(HashSet<TileKey> dirty, CellAt at) => dirty.Add(TileKey.Of(State.Sheets[at.Sheet].Id, at.Row, at.Column));

    /// <summary>Marks the tiles of cells, the set not asked again for a run of cells in one tile (a change's cells mostly are).</summary>
    private struct TileMarker(HashSet<TileKey> dirty, List<SheetEntry> sheets)
    {
        private TileKey _last = new(-1, -1, -1);

        public void Mark(int sheet, int row, int column)
        {
            var key = TileKey.Of(sheets[sheet].Id, row, column);
            if (key != _last)
            {
                dirty.Add(key);
                _last = key;
            }
        }
    }

    /// <summary>
    /// Rebuilds the dirty tiles from the workbook (put when they hold cells, removed when they no longer do; a tile
    /// written holds every value, so its value tile goes), then the value tiles of the tiles whose formulas' values
    /// alone changed: a recalculation writes values, not every formula's text again.
    /// </summary>
    private void Flush(HashSet<TileKey> dirty)
    {
        var indexOf = SheetIndexById();
        SheetTile Rebuilt(TileKey key, bool formulaValues)
        {
            var tile = new SheetTile();
            if (indexOf.TryGetValue(key.Sheet, out var sheet))
            {
                _book.Tile(sheet, key.Top, key.Left, tile.Cells, formulaValues);
            }

            return tile;
        }

        foreach (var key in dirty)
        {
            _tiles.Write(key, Rebuilt(key, formulaValues: false));
            _values.Remove(key);
        }

        foreach (var key in _recalculated)
        {
            _values.Write(key, Rebuilt(key, formulaValues: true));
        }
    }

    /// <summary>The ranges of the dirty tiles, for a change with too many cells to list.</summary>
    private List<string> Reload(IEnumerable<TileKey> dirty)
    {
        var indexOf = SheetIndexById();
        return [.. dirty.Where(t => indexOf.ContainsKey(t.Sheet)).OrderBy(t => (t.Sheet, t.Row, t.Column)).Select(t => SheetAddress.Format(_prefixes[indexOf[t.Sheet]],
            new Area(0, t.Top, t.Left, Math.Min(CellRef.MaxRows, t.Top + SheetTile.Rows) - 1, Math.Min(CellRef.MaxColumns, t.Left + SheetTile.Columns) - 1)))];
    }

    /// <summary>Each sheet's place in the order, by its id.</summary>
    private Dictionary<int, int> SheetIndexById()
    {
        var indexOf = new Dictionary<int, int>(State.Sheets.Count);
        for (var i = 0; i < State.Sheets.Count; i++)
        {
            indexOf[State.Sheets[i].Id] = i;
        }

        return indexOf;
    }

    private static SheetValue Wire(CellValue value) => value.Kind switch
    {
        CellValueKind.Number => new SheetValue(SheetValueKind.Number, value.AsNumber),
        CellValueKind.Text => new SheetValue(SheetValueKind.Text, Text: value.AsText),
        CellValueKind.Boolean => new SheetValue(SheetValueKind.Boolean, value.AsBoolean ? 1 : 0),
        CellValueKind.Error => new SheetValue(SheetValueKind.Error, Text: CellValue.ErrorText(value.AsError)),
        _ => default,
    };

    private int SheetIndex(string sheet)
    {
        InvalidRequestException.ThrowIfNull(sheet, nameof(sheet));
        return _book.SheetNamed(sheet) ?? throw new NotFoundException("sheet", sheet);
    }

    private void Prefixes() => _prefixes = [.. _book.Sheets.Select(FormulaRewriter.SheetPrefix)];

    private void ValidateTitle(string title)
    {
        if (string.IsNullOrWhiteSpace(title))
        {
            throw new InvalidRequestException(nameof(title), "must not be empty");
        }

        if (title.Length > _limits.MaxTitleLength)
        {
            throw workbook.Limit(nameof(WorkbookOptions.MaxTitleLength), _limits.MaxTitleLength, title.Length);
        }
    }

    /// <summary>A new engine held to the options' limits, its NOW and TODAY in their time zone.</summary>
    private Workbook NewBook(IReadOnlyList<string>? sheets = null, IEnumerable<StoredCell>? cells = null)
    {
        var (limits, zone) = Engines.GetValue(_limits, static o => new EngineSettings(new WorkbookLimits
        {
            MaxCells = o.MaxCells,
            MaxRecalculatedCells = o.MaxRecalculatedCells,
            MaxTextLength = o.MaxTextLength,
            Formulas = new FormulaLimits { MaxLength = o.MaxFormulaLength, MaxNesting = o.MaxNesting, MaxArguments = o.MaxArguments },
        }, TimeZoneInfo.FindSystemTimeZoneById(o.TimeZone)));
        DateTime Now() => TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime;
        return sheets is null ? new Workbook(limits, Now) : Workbook.Restore(sheets, cells ?? [], limits, Now);
    }

    private sealed record EngineSettings(WorkbookLimits Limits, TimeZoneInfo Zone);

    /// <summary>One collection of tiles as stored: its chunk set and the tiles it holds now.</summary>
    private sealed class StoredTiles(ChunkSet<SheetTile> chunks)
    {
        /// <summary>The tiles stored now, so that a tile left empty is deleted and a removed sheet's tiles go with it.</summary>
        public HashSet<TileKey> Keys { get; } = [];

        /// <summary>Every stored tile, each now known as stored.</summary>
        public async Task<List<(TileKey Key, SheetTile Tile)>> ReadAllAsync()
        {
            var all = new List<(TileKey Key, SheetTile Tile)>();
            foreach (var (id, tile) in await chunks.ReadAllAsync())
            {
                var key = TileKey.Parse(id);
                Keys.Add(key);
                all.Add((key, tile));
            }

            return all;
        }

        /// <summary>Writes <paramref name="tile"/> at <paramref name="key"/>, or deletes the tile there when it holds no cell.</summary>
        public void Write(TileKey key, SheetTile tile)
        {
            if (tile.Cells.Count == 0)
            {
                Remove(key);
                return;
            }

            chunks.Put(key.Id, tile);
            Keys.Add(key);
        }

        /// <summary>Deletes the tile at <paramref name="key"/>, if one is stored.</summary>
        public void Remove(TileKey key)
        {
            if (Keys.Remove(key))
            {
                chunks.Remove(key.Id);
            }
        }

        /// <summary>Deletes every tile of the sheet with id <paramref name="sheetId"/>.</summary>
        public void RemoveSheet(int sheetId)
        {
            foreach (var key in Keys.Where(k => k.Sheet == sheetId).ToList())
            {
                Remove(key);
            }
        }
    }
}
