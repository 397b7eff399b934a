using Groundwork.Access;

namespace Groundwork.Sheets;

/// <summary>
/// A workbook: up to 64 sheets of cells on Excel's grid (1,048,576 rows by 16,384 columns), each empty, a number, text,
/// a boolean or a formula, recalculated incrementally. Keyed by a <see cref="ResourceKey"/> of kind <c>workbook</c>
/// (<c>{tenant}/workbook/{name}</c>).
/// </summary>
/// <remarks>
/// <para>
/// Cells and ranges are written A1 style: <c>B3</c>, <c>Sheet2!A1:C10</c>, <c>'Q1 plan'!A:A</c>, <c>3:5</c>. An address
/// without a sheet means the first sheet. Inputs are typed as Excel types them: <c>=</c> starts a formula, <c>1,000</c>,
/// <c>50%</c>, <c>1e3</c> and <c>2025-01-31</c> are numbers, <c>TRUE</c> a boolean, a leading <c>'</c> keeps text.
/// </para>
/// <para>
/// Every mutation takes <see cref="MutationOptions"/> (an expected version applies it only if nothing changed since;
/// a retried operation id returns the first result) and is all or nothing: a malformed formula
/// (<see cref="InvalidFormulaException"/>, with the position and the reason) or a limit
/// (<see cref="LimitExceededException"/> naming it, e.g. <c>Sheets:MaxCells</c>) refuses the whole batch. Cells
/// edited at the same time by two callers: the last one in the workbook's version order wins. Each mutation appends one
/// <see cref="WorkbookChange"/> to the feed listing every cell whose value changed, recalculated dependents included.
/// </para>
/// </remarks>
[Alias("gw.workbook"), ResourceKind("workbook", "sheets")]
public interface IWorkbookGrain : IFeedResource<WorkbookChange>
{
    /// <summary>Creates the workbook with one sheet, <c>Sheet1</c>; the caller becomes its owner.</summary>
    /// <exception cref="AlreadyExistsException">It exists.</exception>
    [Alias("create"), Requires(Requirement.Write)]
    Task<MutationResult> CreateAsync(string title, MutationOptions? options = null);

    /// <summary>Changes the workbook's title (1-200 characters).</summary>
    [Alias("rename"), Requires(Requirement.Write)]
    Task<MutationResult> RenameAsync(string title, MutationOptions? options = null);

    /// <summary>
    /// Sets cells as one batch (a later input for the same cell wins): a constant, a formula, or null or "" to clear.
    /// Recalculates what depends on them and every volatile formula (NOW, TODAY, RAND).
    /// </summary>
    /// <returns>The result and the cells whose value changed (see <see cref="WorkbookEdit"/>).</returns>
    [Alias("edit"), Requires(Requirement.Write)]
    Task<WorkbookEdit> EditAsync(IReadOnlyList<CellInput> cells, MutationOptions? options = null);

    /// <summary>Clears every cell of <paramref name="range"/> (e.g. <c>A1:C3</c>, <c>Sheet2!B:B</c>).</summary>
    [Alias("clear"), Requires(Requirement.Write)]
    Task<WorkbookEdit> ClearAsync(string range, MutationOptions? options = null);

    /// <summary>
    /// The filled cells of <paramref name="range"/>, row by row, with their values, and with their formulas when
    /// <paramref name="formulas"/> is set. Empty cells are left out.
    /// </summary>
    /// <exception cref="LimitExceededException">More filled cells than <c>Sheets:MaxReadCells</c>: read a smaller range.</exception>
    [Alias("read"), Requires(Requirement.Read), Safe]
    Task<RangeData> ReadAsync(string range, bool formulas = false);

    /// <summary>
    /// Inserts rows or columns before the ones named (<c>3:5</c> inserts three rows before row 3, <c>Sheet2!C:D</c> two
    /// columns before column C): cells move, and references shift as Excel shifts them.
    /// </summary>
    [Alias("insert"), Requires(Requirement.Write)]
    Task<WorkbookEdit> InsertAsync(string rowsOrColumns, MutationOptions? options = null);

    /// <summary>
    /// Deletes the rows or columns named (<c>3:5</c>, <c>C:D</c>): cells after them move back, references shift, and a
    /// reference to a deleted cell (or to an area wholly deleted) becomes <c>#REF!</c>.
    /// </summary>
    [Alias("delete"), Requires(Requirement.Write)]
    Task<WorkbookEdit> DeleteAsync(string rowsOrColumns, MutationOptions? options = null);

    /// <summary>
    /// Adds a sheet (a name of 1-31 characters without <c>: \ / ? * [ ]</c>, unique without regard to case) at
    /// <paramref name="position"/> in the order (0 is first; null is last). Formulas that named it before now read it.
    /// </summary>
    [Alias("add-sheet"), Requires(Requirement.Write)]
    Task<WorkbookEdit> AddSheetAsync(string name, int? position = null, MutationOptions? options = null);

    /// <summary>Renames a sheet; formulas that name it follow.</summary>
    [Alias("rename-sheet"), Requires(Requirement.Write)]
    Task<WorkbookEdit> RenameSheetAsync(string sheet, string name, MutationOptions? options = null);

    /// <summary>Moves a sheet to <paramref name="position"/> in the order (0 is first).</summary>
    [Alias("move-sheet"), Requires(Requirement.Write)]
    Task<WorkbookEdit> MoveSheetAsync(string sheet, int position, MutationOptions? options = null);

    /// <summary>Removes a sheet and its cells; references to it become <c>#REF!</c>. The last sheet cannot be removed.</summary>
    [Alias("remove-sheet"), Requires(Requirement.Write)]
    Task<WorkbookEdit> RemoveSheetAsync(string sheet, MutationOptions? options = null);

    /// <summary>
    /// Puts CSV (RFC 4180, invariant culture) into the cells from <paramref name="anchor"/>, one record per row, as one
    /// batch: fields are typed as inputs are, an empty field clears its cell, and a field starting with <c>=</c> is a
    /// formula only with <paramref name="formulas"/> (otherwise text).
    /// </summary>
    [Alias("import-csv"), Requires(Requirement.Write)]
    Task<WorkbookEdit> ImportCsvAsync(string anchor, string csv, bool formulas = false, MutationOptions? options = null);

    /// <summary>
    /// The cells of <paramref name="range"/> (which must not span whole rows or columns past the filled ones) as CSV:
    /// values as shown, or formulas with <paramref name="formulas"/>. Text that a spreadsheet program would run
    /// (starting with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>) is written with a leading <c>'</c>.
    /// </summary>
    [Alias("export-csv"), Requires(Requirement.Read), Safe]
    Task<string> ExportCsvAsync(string range, bool formulas = false);

    /// <summary>Replaces the editors and viewers (the owner stays). For the owner and tenant admins.</summary>
    [Alias("set-access"), Requires(Requirement.Admin)]
    Task<MutationResult> SetAccessAsync(IReadOnlyList<string> editors, IReadOnlyList<string> viewers, bool tenantReadable, MutationOptions? options = null);

    /// <summary>The workbook at its current version: title, sheets and their cell counts, access.</summary>
    /// <exception cref="NotFoundException">The workbook has not been created.</exception>
    [Alias("get"), Requires(Requirement.Read), Safe]
    Task<WorkbookSnapshot> GetAsync();
}

/// <summary>What to put in one cell.</summary>
/// <param name="Cell">The cell, e.g. <c>B3</c> or <c>Sheet2!B3</c>.</param>
/// <param name="Input">A constant, a formula (<c>=...</c>), or null or "" to clear the cell.</param>
[GenerateSerializer, Immutable, Alias("gw.cell-input")]
public sealed record CellInput(
    [property: Id(0)] string Cell,
    [property: Id(1)] string? Input);

/// <summary>What a cell's value is.</summary>
public enum SheetValueKind
{
    /// <summary>Nothing.</summary>
    Empty = 0,

    /// <summary>A number (dates are 1900 serials): <see cref="SheetValue.Number"/>.</summary>
    Number = 1,

    /// <summary>Text: <see cref="SheetValue.Text"/>.</summary>
    Text = 2,

    /// <summary>TRUE or FALSE: <see cref="SheetValue.Number"/> is 1 or 0.</summary>
    Boolean = 3,

    /// <summary>An error such as <c>#DIV/0!</c> or <c>#CYCLE!</c> (a cell on a reference cycle): <see cref="SheetValue.Text"/>.</summary>
    Error = 4,
}

/// <summary>A cell's value.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Number">The number, or 1/0 for a boolean.</param>
/// <param name="Text">The text, or the error's code (<c>#N/A</c>).</param>
[GenerateSerializer, Immutable, Alias("gw.sheet-value")]
public readonly record struct SheetValue(
    [property: Id(0)] SheetValueKind Kind,
    [property: Id(1)] double Number = 0,
    [property: Id(2)] string? Text = null)
{
    /// <summary>The value as the grid shows it: numbers with up to 15 significant digits, TRUE or FALSE, text, the error's code.</summary>
    public override string ToString() => Kind switch
    {
        SheetValueKind.Number => Number.ToString("G15", System.Globalization.CultureInfo.InvariantCulture),
        SheetValueKind.Boolean => Number != 0 ? "TRUE" : "FALSE",
        SheetValueKind.Text or SheetValueKind.Error => Text ?? "",
        _ => "",
    };
}

/// <summary>A filled cell.</summary>
/// <param name="Cell">Its address with its sheet, e.g. <c>Sheet1!B3</c> or <c>'Q1 plan'!A1</c>.</param>
/// <param name="Value">The value it shows.</param>
/// <param name="Formula">Its formula, when asked for (or, in a change, when the batch set or rewrote it).</param>
[GenerateSerializer, Immutable, Alias("gw.cell")]
public readonly record struct CellData(
    [property: Id(0)] string Cell,
    [property: Id(1)] SheetValue Value,
    [property: Id(2)] string? Formula = null);

/// <summary>The filled cells of a range at one version.</summary>
/// <param name="Range">The range read, with its sheet.</param>
/// <param name="Version">The workbook's version.</param>
/// <param name="Cells">Its filled cells, row by row.</param>
[GenerateSerializer, Immutable, Alias("gw.range-data")]
public sealed record RangeData(
    [property: Id(0)] string Range,
    [property: Id(1)] long Version,
    [property: Id(2)] IReadOnlyList<CellData> Cells);

/// <summary>What a mutation of the cells did.</summary>
/// <param name="Result">The version it made (and whether it was a replay).</param>
/// <param name="Cells">
/// Every cell whose value changed, recalculated dependents included (as in the feed's change); null for a replayed
/// operation id, and when more cells changed than a change lists (<see cref="WorkbookChange.Reload"/>): read the ranges
/// or the change instead.
/// </param>
[GenerateSerializer, Immutable, Alias("gw.workbook-edit")]
public sealed record WorkbookEdit(
    [property: Id(0)] MutationResult Result,
    [property: Id(1)] IReadOnlyList<CellData>? Cells);

/// <summary>One sheet of a workbook.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Cells">Its filled cells.</param>
[GenerateSerializer, Immutable, Alias("gw.sheet-info")]
public sealed record SheetInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] int Cells);

/// <summary>A workbook at one version (its cells are read by range).</summary>
[GenerateSerializer, Immutable, Alias("gw.workbook-snapshot")]
public sealed record WorkbookSnapshot(
    [property: Id(0)] string Key,
    [property: Id(1)] string Title,
    [property: Id(2)] long Version,
    [property: Id(3)] IReadOnlyList<SheetInfo> Sheets,
    [property: Id(4)] AccessList Access);

/// <summary>What kind of change a <see cref="WorkbookChange"/> records.</summary>
public enum WorkbookChangeKind
{
    /// <summary>The workbook was created (<see cref="WorkbookChange.Name"/> is its title).</summary>
    Created = 0,

    /// <summary>It was renamed (<see cref="WorkbookChange.Name"/>).</summary>
    Renamed = 1,

    /// <summary>Cells were edited, cleared or imported.</summary>
    CellsChanged = 2,

    /// <summary><see cref="WorkbookChange.Count"/> rows were inserted before row <see cref="WorkbookChange.Position"/> (1-based) of <see cref="WorkbookChange.Sheet"/>.</summary>
    RowsInserted = 3,

    /// <summary><see cref="WorkbookChange.Count"/> rows from row <see cref="WorkbookChange.Position"/> (1-based) were deleted.</summary>
    RowsDeleted = 4,

    /// <summary><see cref="WorkbookChange.Count"/> columns were inserted before column <see cref="WorkbookChange.Position"/> (1 is A).</summary>
    ColumnsInserted = 5,

    /// <summary><see cref="WorkbookChange.Count"/> columns from column <see cref="WorkbookChange.Position"/> (1 is A) were deleted.</summary>
    ColumnsDeleted = 6,

    /// <summary>Sheet <see cref="WorkbookChange.Sheet"/> was added at <see cref="WorkbookChange.Position"/> (0-based).</summary>
    SheetAdded = 7,

    /// <summary>Sheet <see cref="WorkbookChange.Sheet"/> was renamed <see cref="WorkbookChange.Name"/>.</summary>
    SheetRenamed = 8,

    /// <summary>Sheet <see cref="WorkbookChange.Sheet"/> moved to <see cref="WorkbookChange.Position"/> (0-based).</summary>
    SheetMoved = 9,

    /// <summary>Sheet <see cref="WorkbookChange.Sheet"/> and its cells were removed.</summary>
    SheetRemoved = 10,

    /// <summary>The access list changed.</summary>
    AccessChanged = 11,
}

/// <summary>
/// One durable change of a workbook. A watcher applies <see cref="Kind"/> (moving cells for a structural edit) and
/// then <see cref="Cells"/>, or reads the <see cref="Reload"/> ranges again.
/// </summary>
/// <param name="Sequence">The workbook's version after it.</param>
/// <param name="Kind">What happened.</param>
/// <param name="At">When (silo clock).</param>
/// <param name="By">Who.</param>
/// <param name="Cells">
/// Every cell whose value changed (edited cells always, with their formula when they have one; recalculated dependents
/// when their value changed; a cleared cell as empty), at its place after the change.
/// </param>
/// <param name="Reload">
/// Instead of <see cref="Cells"/>, when more than <c>Sheets:MaxChangeCells</c> changed (a large import): the ranges
/// whose cells changed, to read again.
/// </param>
/// <param name="Sheet">The sheet a structural or sheet change is about.</param>
/// <param name="Name">A new name (sheet or title).</param>
/// <param name="Position">Where (see <see cref="WorkbookChangeKind"/>).</param>
/// <param name="Count">How many rows or columns.</param>
[GenerateSerializer, Immutable, Alias("gw.workbook-change")]
public sealed record WorkbookChange(
    [property: Id(0)] long Sequence,
    [property: Id(1)] WorkbookChangeKind Kind,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string By,
    [property: Id(4)] IReadOnlyList<CellData>? Cells = null,
    [property: Id(5)] IReadOnlyList<string>? Reload = null,
    [property: Id(6)] string? Sheet = null,
    [property: Id(7)] string? Name = null,
    [property: Id(8)] int? Position = null,
    [property: Id(9)] int? Count = null) : IChange;

/// <summary>Getting workbook grains by key.</summary>
public static class WorkbookGrainFactoryExtensions
{
    /// <summary>The workbook at <paramref name="key"/>.</summary>
    /// <exception cref="InvalidResourceKeyException">The key is not a workbook's: nothing is sent.</exception>
    public static IWorkbookGrain GetWorkbook(this IGrainFactory factory, ResourceKey key) => factory.GetResource<IWorkbookGrain>(key);

    /// <summary>The workbook at <paramref name="key"/> (<c>{tenant}/workbook/{name}</c>).</summary>
    /// <exception cref="InvalidResourceKeyException">The key is malformed or not a workbook's: nothing is sent.</exception>
    public static IWorkbookGrain GetWorkbook(this IGrainFactory factory, string key) => factory.GetResource<IWorkbookGrain>(key);
}
