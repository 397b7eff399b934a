using FsCheck;
using FsCheck.Fluent;
using Groundwork.Grains.Sheets;
using Groundwork.Grains.Sheets.Formulas;
using Xunit;

namespace Groundwork.Grains.Tests.Sheets;

/// <summary>Incremental recalculation: only what depends on an edit, in order, without recursion, cycles shown and recovered.</summary>
public sealed class RecalculationTests
{
    private static IReadOnlyList<CellChange> Set(Workbook book, params (string Address, string? Input)[] edits) =>
        book.Apply([.. edits.Select(e => Edit(e.Address, e.Input))]);

    private static CellEdit Edit(string address, string? input)
    {
        var cell = ((ReferenceNode)FormulaParser.Parse("=" + address)).Cell;
        return new CellEdit(0, cell.Row, cell.Column, input);
    }

    private static CellValue At(Workbook book, string address)
    {
        var cell = ((ReferenceNode)FormulaParser.Parse("=" + address)).Cell;
        return book.Value(0, cell.Row, cell.Column);
    }

    private static string Name(CellChange change) => CellRef.ColumnName(change.Column) + (change.Row + 1);

    [Fact]
    public void An_edit_recomputes_its_dependents_in_order_and_reports_every_value_that_changed()
    {
        var book = new Workbook();
        Set(book, ("A1", "1"), ("A2", "=A1*2"), ("A3", "=A2+A1"), ("B1", "=SUM(A1:A3)"), ("C1", "7"));
        Assert.Equal(CellValue.Number(6), At(book, "B1"));
        var changes = Set(book, ("A1", "2"));
        Assert.Equal(["A1", "A2", "A3", "B1"], changes.Select(Name).Order());
        Assert.Equal(CellValue.Number(12), At(book, "B1"));
    }

    [Fact]
    public void A_value_that_does_not_change_stops_the_recalculation_there()
    {
        var book = new Workbook();
        Set(book, ("A1", "5"), ("B1", "=IF(A1>0,1,0)"), ("C1", "=B1*2"));
        Assert.Equal(["A1"], Set(book, ("A1", "6")).Select(Name));
        Assert.Empty(Set(book, ("A1", "6")));
        Assert.Equal(["A1", "B1", "C1"], Set(book, ("A1", "-1")).Select(Name).Order());
    }

    [Fact]
    public void Every_cell_of_a_cycle_shows_CYCLE_and_recovers_when_it_is_broken()
    {
        var book = new Workbook();
        Set(book, ("A1", "=B1+1"), ("C1", "=A1*10"));
        Set(book, ("B1", "=A1+1"));
        Assert.Equal(CellValue.Error(FormulaError.Cycle), At(book, "A1"));
        Assert.Equal(CellValue.Error(FormulaError.Cycle), At(book, "B1"));
        Assert.Equal(CellValue.Error(FormulaError.Cycle), At(book, "C1"));
        Set(book, ("B1", "5"));
        Assert.Equal(CellValue.Number(6), At(book, "A1"));
        Assert.Equal(CellValue.Number(60), At(book, "C1"));
        Set(book, ("D1", "=D1+1"));
        Assert.Equal(CellValue.Error(FormulaError.Cycle), At(book, "D1"));
    }

    [Fact]
    public void A_cell_that_leaves_a_cycle_recovers_even_when_what_it_reads_still_shows_CYCLE()
    {
        // C1 is on the cycle C2 -> B1 -> C1 -> C2 and reads B1, which is also on the cycle B1 <-> B2. Breaking the first
        // at C2 leaves B1 on the second, still #CYCLE! as before, so no precedent of C1 changes value: C1 must still
        // be evaluated again (found by the property test below).
        var book = new Workbook();
        Set(book, ("B1", "=B2+C2"), ("B2", "=B1"), ("C1", "=IFERROR(B1,7)"), ("C2", "=C1"));
        Assert.Equal(CellValue.Error(FormulaError.Cycle), At(book, "C1"));
        Set(book, ("C2", "1"));
        Assert.Equal(CellValue.Number(7), At(book, "C1"));
        Assert.Equal(CellValue.Error(FormulaError.Cycle), At(book, "B1"));
        Assert.Equal(CellValue.Error(FormulaError.Cycle), At(book, "B2"));
    }

    [Fact]
    public void A_chain_of_100000_cells_recalculates_without_recursion()
    {
        var book = new Workbook();
        var edits = new List<CellEdit> { new(0, 0, 0, "1") };
        for (var row = 1; row < 100_000; row++)
        {
            edits.Add(new CellEdit(0, row, 0, $"=A{row}+1"));
        }

        book.Apply(edits);
        Assert.Equal(CellValue.Number(100_000), book.Value(0, 99_999, 0));
        Assert.Equal(100_000, book.Apply([new CellEdit(0, 0, 0, "2")]).Count);
        Assert.Equal(CellValue.Number(100_001), book.Value(0, 99_999, 0));
    }

    [Fact]
    public void A_batch_is_all_or_nothing()
    {
        var book = new Workbook(new WorkbookLimits { MaxRecalculatedCells = 3 });
        Set(book, ("A1", "1"), ("A2", "=A1+1"));
        Assert.Throws<InvalidFormulaException>(() => Set(book, ("A1", "5"), ("B1", "=1+")));
        Assert.Equal(CellValue.Number(1), At(book, "A1"));
        Set(book, ("A3", "=A2+1"));
        var refused = Assert.Throws<LimitExceededException>(() => Set(book, ("A4", "=A3+1"), ("A1", "10")));
        Assert.Equal("Sheets:MaxRecalculatedCells", refused.Limit);
        Assert.Equal(CellValue.Number(1), At(book, "A1"));
        Assert.Equal(CellValue.Empty, At(book, "A4"));
        Assert.Null(book.Formula(0, 3, 0));
        Assert.Equal(CellValue.Number(3), At(book, "A3"));

        // The refused walk left nothing behind: the next batch recalculates as if it never ran.
        Set(book, ("A1", "2"));
        Assert.Equal(CellValue.Number(4), At(book, "A3"));
    }

    [Fact]
    public void Constants_are_typed_as_Excel_types_them()
    {
        Assert.Equal(CellValue.Number(1500), Workbook.Constant("1.5e3"));
        Assert.Equal(CellValue.True, Workbook.Constant("TRUE"));
        Assert.Equal(CellValue.Text("42"), Workbook.Constant("'42"));
        Assert.Equal(CellValue.Error(FormulaError.NA), Workbook.Constant("#N/A"));
        Assert.Equal(CellValue.Text("hello"), Workbook.Constant("hello"));
        Assert.Equal(CellValue.Number(1000), Workbook.Constant("1,000"));
        Assert.Equal(CellValue.Number(0.5), Workbook.Constant("50%"));
        Assert.Equal(CellValue.Number(45658), Workbook.Constant("2025-01-01"));
        Assert.Equal(CellValue.Text("2025-13-01"), Workbook.Constant("2025-13-01"));
    }

    [Fact]
    public void Volatile_formulas_are_recomputed_on_every_batch()
    {
        var clock = new DateTime(2025, 1, 1, 12, 0, 0, DateTimeKind.Unspecified);
        var book = new Workbook(now: () => clock);
        Set(book, ("A1", "=NOW()"), ("B1", "=A1+1"));
        Assert.Equal(CellValue.Number(45658.5), At(book, "A1"));
        clock = clock.AddHours(6);
        Assert.Equal(["A1", "B1"], Set(book, ("Z9", "x")).Select(Name).Where(n => n != "Z9").Order());
        Assert.Equal(CellValue.Number(45658.75), At(book, "A1"));
    }

    [Fact]
    public void A_range_reaches_cells_filled_later_and_a_reference_to_another_sheet_follows_it()
    {
        var book = new Workbook();
        var second = book.AddSheet("Data");
        Set(book, ("A1", "=SUM(B:B)+Data!A1"), ("C1", "=COUNT(B1:B100000)"));
        book.Apply([new CellEdit(second, 0, 0, "100")]);
        Assert.Equal(CellValue.Number(100), At(book, "A1"));
        Set(book, ("B50000", "5"), ("B7", "2"));
        Assert.Equal(CellValue.Number(107), At(book, "A1"));
        Assert.Equal(CellValue.Number(2), At(book, "C1"));
    }

    /// <summary>
    /// After any sequence of batches of edits over a small grid (constants, clears, and formulas that read other cells,
    /// ranges included, so cycles are made and broken) and of rows and columns inserted and deleted, every cell equals
    /// what a recalculation from scratch of what the cells hold gives.
    /// </summary>
    [Fact]
    public void After_any_edits_the_incremental_values_equal_a_recalculation_from_scratch()
    {
        string[] cells = [.. from column in "ABCD" from row in Enumerable.Range(1, 5) select $"{column}{row}"];
        var address = Gen.Elements(cells);
        var formula = Gen.OneOf(
            from a in address from b in address select $"={a}+{b}",
            from a in address from b in address select $"=SUM({a}:{b})",
            from a in address from b in address from c in address select $"=IF({a}>2,{b},{c})",
            from a in address select $"={a}*2-1",
            from a in address from b in address select $"=MAX({a},{b})+COUNT(A1:D5)",
            from a in address select $"=IFERROR(1/{a},\"none\")",
            from a in address from b in address select $"={a}&{b}");
        var input = Gen.Frequency(
            (3, formula),
            (2, Gen.Choose(-3, 9).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            (1, Gen.Constant<string>(null!)),
            (1, Gen.Elements("x", "TRUE", "'3")));
        var edit = from a in address from i in input select (a, i);
        var batch = Gen.ListOf(edit).Where(b => b.Count is > 0 and <= 3).Select(b => new Step([.. b], null));
        var structure = from rows in Gen.Elements(true, false)
                        from insert in Gen.Elements(true, false)
                        from at in Gen.Choose(0, 4)
                        from count in Gen.Choose(1, 2)
                        select new Step([], new StructuralEdit(0, rows, insert, at, count));
        var batches = Gen.ListOf(Gen.Frequency((4, batch), (1, structure))).Where(b => b.Count <= 12);

        Prop.ForAll(batches.ToArbitrary(), script =>
        {
            var book = new Workbook();
            foreach (var (edits, structural) in script)
            {
                if (structural is { } s)
                {
                    book.Restructure(s);
                }
                else
                {
                    book.Apply([.. edits.Select(e => Edit(e.Address, e.Input))]);
                }
            }

            // A workbook typed afresh with what the cells now hold (moved and rewritten by structural edits).
            var fresh = new Workbook();
            var filled = book.FilledCells().ToList();
            fresh.Apply([.. filled.Select(c => new CellEdit(c.Sheet, c.Row, c.Column, book.Input(c.Sheet, c.Row, c.Column)))]);
            fresh.RecalculateAll();
            return filled.Concat(fresh.FilledCells()).All(c => book.Value(c.Sheet, c.Row, c.Column) == fresh.Value(c.Sheet, c.Row, c.Column));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Fact]
    public void Inserted_rows_move_cells_and_shift_references_as_Excel_does()
    {
        var book = new Workbook();
        Set(book, ("A5", "5"), ("A10", "10"), ("B1", "=SUM(A1:A10)"), ("B2", "=A5"), ("B3", "=$A$5*2"), ("B4", "=A11"), ("C1", "=SUM(A:A)"), ("C2", "=SUM(5:5)"));
        book.Restructure(new StructuralEdit(0, Rows: true, Insert: true, At: 4, Count: 2));
        Assert.Equal("=SUM(A1:A12)", book.Formula(0, 0, 1));
        Assert.Equal("=A7", book.Formula(0, 1, 1));
        Assert.Equal("=$A$7*2", book.Formula(0, 2, 1));
        Assert.Equal("=A13", book.Formula(0, 3, 1));
        Assert.Equal("=SUM(A:A)", book.Formula(0, 0, 2));
        Assert.Equal("=SUM(7:7)", book.Formula(0, 1, 2));
        Assert.Equal(CellValue.Number(5), At(book, "A7"));
        Assert.Equal(CellValue.Empty, At(book, "A5"));
        Assert.Equal(CellValue.Number(15), At(book, "B1"));
        Assert.Equal(CellValue.Number(10), At(book, "B3"));

        // Inserting above the area moves all of it; below it, nothing.
        book.Restructure(new StructuralEdit(0, Rows: true, Insert: true, At: 0, Count: 1));
        Assert.Equal("=SUM(A2:A13)", book.Formula(0, 1, 1));
        book.Restructure(new StructuralEdit(0, Rows: true, Insert: true, At: 20, Count: 3));
        Assert.Equal("=SUM(A2:A13)", book.Formula(0, 1, 1));
        Assert.Equal(CellValue.Number(15), book.Value(0, 1, 1));
    }

    [Fact]
    public void Deleted_rows_shrink_areas_and_turn_references_to_deleted_cells_into_REF()
    {
        var book = new Workbook();
        var data = book.AddSheet("Data");
        Set(book, ("A1", "1"), ("A3", "3"), ("A4", "4"), ("A8", "8"), ("B11", "=SUM(A1:A10)"), ("B12", "=A4+1"), ("B13", "=SUM(A3:A4)"), ("B14", "=A8"));
        book.Apply([new CellEdit(data, 0, 0, "=Sheet1!A4*2"), new CellEdit(data, 1, 0, "=A4")]);
        book.Restructure(new StructuralEdit(0, Rows: true, Insert: false, At: 2, Count: 2));
        Assert.Equal("=SUM(A1:A8)", book.Formula(0, 8, 1));
        Assert.Equal(CellValue.Number(9), book.Value(0, 8, 1));
        Assert.Equal("=#REF!+1", book.Formula(0, 9, 1));
        Assert.Equal(CellValue.Error(FormulaError.Ref), book.Value(0, 9, 1));
        Assert.Equal("=SUM(#REF!)", book.Formula(0, 10, 1));
        Assert.Equal("=A6", book.Formula(0, 11, 1));
        Assert.Equal(CellValue.Number(8), book.Value(0, 11, 1));
        Assert.Null(book.Formula(0, 13, 1));
        Assert.Equal("=Sheet1!#REF!*2", book.Formula(data, 0, 0));
        Assert.Equal(CellValue.Error(FormulaError.Ref), book.Value(data, 0, 0));
        Assert.Equal("=A4", book.Formula(data, 1, 0));
    }

    [Fact]
    public void Columns_move_like_rows_and_a_renamed_sheet_is_followed_by_the_formulas_that_name_it()
    {
        var book = new Workbook();
        var data = book.AddSheet("Data");
        Set(book, ("B1", "2"), ("C1", "=B1*2"), ("D1", "=SUM(A1:C1)"), ("E1", "=Data!A1+1"));
        book.Apply([new CellEdit(data, 0, 0, "10")]);
        book.Restructure(new StructuralEdit(0, Rows: false, Insert: true, At: 1, Count: 1));
        Assert.Equal("=C1*2", book.Formula(0, 0, 3));
        Assert.Equal("=SUM(A1:D1)", book.Formula(0, 0, 4));
        Assert.Equal(CellValue.Number(6), book.Value(0, 0, 4));
        book.RenameSheet(data, "Q1 plan");
        Assert.Equal("='Q1 plan'!A1+1", book.Formula(0, 0, 5));
        Assert.Equal(CellValue.Number(11), book.Value(0, 0, 5));
        book.RenameSheet(data, "Plan");
        Assert.Equal("=Plan!A1+1", book.Formula(0, 0, 5));
        Assert.Throws<InvalidRequestException>(() => book.RenameSheet(data, "sheet1"));
    }

    [Fact]
    public void A_SUMIF_sum_range_shorter_than_its_criteria_range_depends_on_what_it_reads()
    {
        var book = new Workbook();
        Set(book, ("A1", "x"), ("A2", "x"), ("A3", "x"), ("B1", "1"), ("B2", "2"), ("B3", "3"), ("C1", "=SUMIF(A1:A3,\"x\",B1)"));
        Assert.Equal(CellValue.Number(6), At(book, "C1"));
        Set(book, ("B2", "20"));
        Assert.Equal(CellValue.Number(24), At(book, "C1"));
    }

    [Fact]
    public void Rewritten_references_keep_the_text_around_them()
    {
        var book = new Workbook();
        for (var row = 1; row <= 10; row++)
        {
            Set(book, ($"A{row}", $"{row}"));
        }

        Set(book, ("C1", "=SUM((A1):A2)"), ("C2", "=SUM(Sheet1!A5:Sheet1!A6)"), ("C3", "=SUM( A3 : A4 )"));
        book.Restructure(new StructuralEdit(0, Rows: true, Insert: true, At: 0, Count: 2));
        Assert.Equal("=SUM((A3):A4)", book.Formula(0, 2, 2));
        Assert.Equal("=SUM(Sheet1!A7:Sheet1!A8)", book.Formula(0, 3, 2));
        Assert.Equal("=SUM( A5 : A6 )", book.Formula(0, 4, 2));
        Assert.Equal(CellValue.Number(3), book.Value(0, 2, 2));
        Assert.Equal(CellValue.Number(11), book.Value(0, 3, 2));
        Assert.Equal(CellValue.Number(7), book.Value(0, 4, 2));
        Assert.Throws<InvalidRequestException>(() => book.Restructure(new StructuralEdit(0, Rows: true, Insert: false, At: 10, Count: int.MaxValue)));
        Assert.Throws<InvalidRequestException>(() => book.Restructure(new StructuralEdit(0, Rows: true, Insert: true, At: 1, Count: int.MaxValue)));
        Assert.Equal(CellValue.Number(11), book.Value(0, 3, 2));
    }

    [Fact]
    public void A_long_run_of_range_colons_is_a_formula_like_any_other()
    {
        var book = new Workbook();
        var run = "=ROWS(A1" + string.Concat(Enumerable.Repeat(":A2", 2_000)) + ")";
        Set(book, ("C1", run), ("A2", "1"));
        Assert.Equal(CellValue.Number(2), At(book, "C1"));
        book.Restructure(new StructuralEdit(0, Rows: true, Insert: true, At: 0, Count: 1));
        Assert.Equal(CellValue.Number(2), book.Value(0, 1, 2));
    }

    [Fact]
    public void A_formula_that_names_a_sheet_before_it_exists_reads_it_once_it_does()
    {
        var book = new Workbook();
        Set(book, ("A1", "=Later!B2*2"));
        Assert.Equal(CellValue.Error(FormulaError.Ref), At(book, "A1"));
        var later = book.AddSheet("Later");
        book.Apply([new CellEdit(later, 1, 1, "21")]);
        Assert.Equal(CellValue.Number(42), At(book, "A1"));
    }

    [Fact]
    public void Rows_that_would_push_filled_cells_off_the_grid_are_refused_and_nothing_moves()
    {
        var book = new Workbook();
        book.Apply([new CellEdit(0, CellRef.MaxRows - 1, 0, "1"), new CellEdit(0, 0, 1, "=A1048576")]);
        Assert.Throws<InvalidRequestException>(() => book.Restructure(new StructuralEdit(0, Rows: true, Insert: true, At: 0, Count: 1)));
        Assert.Equal("=A1048576", book.Formula(0, 0, 1));
        Assert.Equal(CellValue.Number(1), book.Value(0, 0, 1));
        Assert.Throws<InvalidRequestException>(() => book.Restructure(new StructuralEdit(0, Rows: false, Insert: false, At: 16_380, Count: 5)));
    }

    /// <summary>One step of a random script: a batch of cell edits, or a structural edit.</summary>
    public sealed record Step(List<(string Address, string? Input)> Edits, StructuralEdit? Structure)
    {
        public override string ToString() => Structure is { } s ? s.ToString() : string.Join(", ", Edits.Select(e => $"{e.Address}={e.Input ?? "(clear)"}"));
    }
}
