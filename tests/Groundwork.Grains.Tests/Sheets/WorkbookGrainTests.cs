using Groundwork.Access;
using Groundwork.Sheets;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Sheets;

/// <summary>The workbook grain on the real cluster and storage: edits, recalculation, the feed, storage across activations, structure, CSV, access and limits.</summary>
[Collection(ClusterCollection.Name)]
public sealed class WorkbookGrainTests(ClusterFixture fixture)
{
    private async Task<(IWorkbookGrain Book, TestTenant Tenant, string Key)> NewWorkbookAsync()
    {
        var tenant = await fixture.NewTenantAsync();
        var key = $"{tenant.Id}/workbook/w{Guid.NewGuid():n}";
        var book = fixture.Client.GetWorkbook(key);
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await book.CreateAsync("Budget");
        }

        return (book, tenant, key);
    }

    private static Dictionary<string, string> Shown(RangeData data) => data.Cells.ToDictionary(c => c.Cell, c => c.Value.ToString());

    private static async Task<WorkbookChange> ChangeAsync(IWorkbookGrain book, long version)
    {
        await using var feed = book.WatchAsync(version - 1).GetAsyncEnumerator();
        return (await feed.TakeAsync(1))[0];
    }

    private static async Task<Dictionary<string, string>> ShownAsync(IWorkbookGrain book, string range) => Shown(await book.ReadAsync(range));

    [Fact]
    public async Task An_edit_recalculates_its_dependents_across_sheets_and_answers_and_feeds_every_changed_cell()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await book.AddSheetAsync("Q1 plan");
            var first = await book.EditAsync([
                new("A1", "2"), new("A2", "3"), new("A3", "=SUM(A1:A2)"),
                new("'Q1 plan'!B1", "=Sheet1!A3*10"), new("'Q1 plan'!B2", "=IF(B1>40,\"big\",\"small\")")]);
            Assert.Equal(("50", "big"), ((await ShownAsync(book, "'Q1 plan'!B1:B2"))["'Q1 plan'!B1"], (await ShownAsync(book, "'Q1 plan'!B1:B2"))["'Q1 plan'!B2"]));
            Assert.Equal(5, first.Cells!.Count);

            var edit = await book.EditAsync([new("A1", "0.5")]);
            var changed = edit.Cells!.ToDictionary(c => c.Cell, c => c.Value.ToString());
            Assert.Equal(new Dictionary<string, string> { ["Sheet1!A1"] = "0.5", ["Sheet1!A3"] = "3.5", ["'Q1 plan'!B1"] = "35", ["'Q1 plan'!B2"] = "small" }, changed);

            var feed = await ChangeAsync(book, edit.Result.Version);
            Assert.Equal((WorkbookChangeKind.CellsChanged, edit.Result.Version), (feed.Kind, feed.Sequence));
            Assert.Equal(changed, feed.Cells!.ToDictionary(c => c.Cell, c => c.Value.ToString()));
            Assert.Equal("=SUM(A1:A2)", first.Cells!.Single(c => c.Cell == "Sheet1!A3").Formula);

            // A dependent whose value did not change is not listed (early cutoff).
            var same = await book.EditAsync([new("A2", "=3")]);
            Assert.Equal(["Sheet1!A2"], same.Cells!.Select(c => c.Cell));
        }
    }

    [Fact]
    public async Task A_batch_with_a_malformed_formula_is_refused_with_its_position_and_changes_nothing()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await book.EditAsync([new("A1", "1"), new("B1", "=A1+1")]);
            var before = await book.GetAsync();
            var error = await Assert.ThrowsAsync<InvalidFormulaException>(() => book.EditAsync([new("A1", "5"), new("B2", "=SUM(A1,")]));
            Assert.Equal("=SUM(A1,", error.Formula);
            Assert.True(error.Position > 0);
            Assert.Equal(before.Version, (await book.GetAsync()).Version);
            Assert.Equal(new Dictionary<string, string> { ["Sheet1!A1"] = "1", ["Sheet1!B1"] = "2" }, await ShownAsync(book, "A1:B2"));

            await Assert.ThrowsAsync<InvalidRequestException>(() => book.EditAsync([new("A1", "5"), new("ZZZZ1", "1")]));
            await Assert.ThrowsAsync<InvalidRequestException>(() => book.EditAsync([new("Nope!A1", "5")]));
            await Assert.ThrowsAsync<InvalidRequestException>(() => book.ReadAsync("A1:"));
            Assert.Equal(before.Version, (await book.GetAsync()).Version);
        }
    }

    [Fact]
    public async Task Cells_values_and_structure_survive_a_new_activation_without_recalculating()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await book.AddSheetAsync("Data");
            var edits = new List<CellInput> { new("Data!A1", "=NOW()"), new("B300", "'=not a formula"), new("C2", "TRUE"), new("D1", "=1/0") };
            for (var row = 1; row <= 40; row++)
            {
                edits.Add(new($"A{row * 17}", $"{row}"));
                edits.Add(new($"Q{row * 17}", $"=A{row * 17}*2"));
            }

            var edited = await book.EditAsync(edits);
            var before = await book.ReadAsync("Sheet1!A1:Z1000", formulas: true);
            await book.DeleteAsync("5:6");
            var afterDelete = await book.ReadAsync("Sheet1!A1:Z1000", formulas: true);
            var now = await ShownAsync(book, "Data!A1");
            Assert.NotEqual(before.Cells.Select(c => c.Cell), afterDelete.Cells.Select(c => c.Cell));

            await fixture.Cluster.DeactivateAsync(book);
            // The change read back from storage lists the same cells, formulas, texts and errors.
            Assert.Equal(edited.Cells, (await ChangeAsync(book, edited.Result.Version)).Cells);

            // NOW() is volatile: a recalculation at activation would have changed it.
            Assert.Equal(now, await ShownAsync(book, "Data!A1"));
            var reloaded = await book.ReadAsync("Sheet1!A1:Z1000", formulas: true);
            Assert.Equal(afterDelete.Cells, reloaded.Cells);
            Assert.Equal("=not a formula", reloaded.Cells.Single(c => c.Cell == "Sheet1!B298").Value.Text);
            Assert.Equal("#DIV/0!", reloaded.Cells.Single(c => c.Cell == "Sheet1!D1").Value.ToString());
            Assert.Equal(new[] { ("Sheet1", 83), ("Data", 1) }, (await book.GetAsync()).Sheets.Select(s => (s.Name, s.Cells)));

            // A later edit recalculates from the stored graph.
            await book.EditAsync([new("A15", "100")]);
            Assert.Equal("200", (await ShownAsync(book, "Q15"))["Sheet1!Q15"]);
        }
    }

    [Fact]
    public async Task Recalculated_values_stored_apart_from_their_tiles_survive_activations_and_later_edits()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            // A1 in the first tile; its dependents in tiles of other rows (257+) and columns (Q+), and one beside it.
            await book.EditAsync([new("A1", "1"), new("B1", "=A1+1"), new("A300", "=A1*10"), new("Q2", "=A300+B1"), new("R600", "=SUM(A1:A300)"), new("S600", "7")]);
            async Task<Dictionary<string, string>> Values() => Shown(await book.ReadAsync("A1:S601"));

            // Only values change in the tiles of A300, Q2 and R600: a second activation reads them back from their value tiles.
            await book.EditAsync([new("A1", "2")]);
            var recalculated = await Values();
            Assert.Equal(("20", "23", "22"), (recalculated["Sheet1!A300"], recalculated["Sheet1!Q2"], recalculated["Sheet1!R600"]));
            await fixture.Cluster.DeactivateAsync(book);
            Assert.Equal(recalculated, await Values());

            // An input edit in a tile with a value tile rewrites the tile with every value; the stale value tile goes
            // (R600's tile has a value tile of 33, then is rewritten with 55 beside the edit of S601).
            await book.EditAsync([new("A1", "3")]);
            await book.EditAsync([new("A1", "5"), new("S601", "8")]);
            await fixture.Cluster.DeactivateAsync(book);
            var later = await Values();
            Assert.Equal(("50", "56", "55", "8"), (later["Sheet1!A300"], later["Sheet1!Q2"], later["Sheet1!R600"], later["Sheet1!S601"]));

            // A tile emptied of its cells goes, its value tile with it; the formulas reading it see empty cells after a
            // new activation.
            await book.ClearAsync("A300");
            await book.EditAsync([new("A1", "4")]);
            await fixture.Cluster.DeactivateAsync(book);
            var cleared = await Values();
            Assert.False(cleared.ContainsKey("Sheet1!A300"));
            Assert.Equal(("5", "4"), (cleared["Sheet1!Q2"], cleared["Sheet1!R600"]));

            // And the stored graph still recalculates.
            await book.EditAsync([new("A300", "100")]);
            Assert.Equal(("105", "104"), ((await Values())["Sheet1!Q2"], (await Values())["Sheet1!R600"]));
        }
    }

    [Fact]
    public async Task Value_tiles_follow_sheet_moves_structural_edits_and_removals_across_activations()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await book.AddSheetAsync("Data");
            await book.EditAsync([new("Sheet1!A1", "1"), new("Data!A300", "=Sheet1!A1*10"), new("Data!R600", "=Sheet1!A1+A300")]);
            async Task<(string, string)> At(string first, string second)
            {
                var shown = Shown(await book.ReadAsync("Data!A1:S700"));
                return (shown[first], shown[second]);
            }

            // Values alone change on Data: value tiles, named by the sheet's id, so a move keeps them.
            await book.EditAsync([new("Sheet1!A1", "2")]);
            await book.MoveSheetAsync("Data", 0);
            await fixture.Cluster.DeactivateAsync(book);
            Assert.Equal(("20", "22"), await At("Data!A300", "Data!R600"));

            // A row inserted above moves every cell of Data: its tiles are written again and the value tiles go.
            await book.InsertAsync("Data!1:1");
            await book.EditAsync([new("Sheet1!A1", "3")]);
            await book.AddSheetAsync("Extra", position: 0);
            await fixture.Cluster.DeactivateAsync(book);
            Assert.Equal(("30", "33"), await At("Data!A301", "Data!R601"));
            Assert.Equal("=Sheet1!A1+A301", (await book.ReadAsync("Data!R601", formulas: true)).Cells.Single().Formula);

            // A sheet removed takes its tiles and value tiles; one added with its name starts empty.
            await book.RemoveSheetAsync("Data");
            await book.AddSheetAsync("Data");
            await fixture.Cluster.DeactivateAsync(book);
            Assert.Empty((await book.ReadAsync("Data!A1:S700")).Cells);
            Assert.Equal("Extra,Sheet1,Data", string.Join(",", (await book.GetAsync()).Sheets.Select(s => s.Name)));
        }
    }

    [Fact]
    public async Task Rows_and_columns_inserted_and_deleted_shift_references_and_give_ref_errors()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await book.AddSheetAsync("Other");
            await book.EditAsync([new("A1", "1"), new("A2", "2"), new("A3", "3"), new("B1", "=SUM(A1:A3)"), new("B2", "=A3"), new("Other!A1", "=Sheet1!A2*10")]);

            var inserted = await book.InsertAsync("2:3");
            var change = await ChangeAsync(book, inserted.Result.Version);
            Assert.Equal((WorkbookChangeKind.RowsInserted, "Sheet1", 2, 2), (change.Kind, change.Sheet, change.Position, change.Count));
            var read = await book.ReadAsync("Sheet1!A1:B10", formulas: true);
            Assert.Equal("=SUM(A1:A5)", read.Cells.Single(c => c.Cell == "Sheet1!B1").Formula);
            Assert.Equal("=A5", read.Cells.Single(c => c.Cell == "Sheet1!B4").Formula);
            Assert.Equal("=Sheet1!A4*10", (await book.ReadAsync("Other!A1", formulas: true)).Cells[0].Formula);
            Assert.Contains(inserted.Cells!, c => c.Cell == "Other!A1" && c.Formula == "=Sheet1!A4*10");
        }
    }

    [Fact]
    public async Task A_deleted_row_that_a_formula_read_becomes_ref_and_a_column_insert_moves_cells()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await book.EditAsync([new("A1", "4"), new("A2", "5"), new("C1", "=A2*2"), new("C2", "=SUM(A:A)")]);
            await Assert.ThrowsAsync<InvalidRequestException>(() => book.DeleteAsync("A5"));
            var deleted = await book.DeleteAsync("2:2");
            Assert.Equal("#REF!", deleted.Cells!.Single(c => c.Cell == "Sheet1!C1").Value.ToString());
            Assert.Equal("=#REF!*2", (await book.ReadAsync("C1", formulas: true)).Cells[0].Formula);

            await book.InsertAsync("B:C");
            Assert.Equal(new Dictionary<string, string> { ["Sheet1!A1"] = "4", ["Sheet1!E1"] = "#REF!" }, await ShownAsync(book, "A1:Z1"));
            await fixture.Cluster.DeactivateAsync(book);
            Assert.Equal(new Dictionary<string, string> { ["Sheet1!A1"] = "4", ["Sheet1!E1"] = "#REF!" }, await ShownAsync(book, "A1:Z1"));
        }
    }

    [Fact]
    public async Task Sheets_are_added_renamed_moved_and_removed_with_formulas_following()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await book.EditAsync([new("A1", "=Data!B2+1")]);
            Assert.Equal("#REF!", (await ShownAsync(book, "A1"))["Sheet1!A1"]);
            var added = await book.AddSheetAsync("Data", position: 0);
            Assert.Equal("1", added.Cells!.Single().Value.ToString());
            await book.EditAsync([new("Data!B2", "41")]);
            Assert.Equal("42", (await ShownAsync(book, "Sheet1!A1"))["Sheet1!A1"]);
            Assert.Equal(["Data", "Sheet1"], (await book.GetAsync()).Sheets.Select(s => s.Name));

            var renamed = await book.RenameSheetAsync("data", "Q1 plan");
            Assert.Equal("='Q1 plan'!B2+1", renamed.Cells!.Single().Formula);
            await book.MoveSheetAsync("Sheet1", 0);
            Assert.Equal(["Sheet1", "Q1 plan"], (await book.GetAsync()).Sheets.Select(s => s.Name));
            await Assert.ThrowsAsync<InvalidRequestException>(() => book.AddSheetAsync("bad[name]"));
            await Assert.ThrowsAsync<InvalidRequestException>(() => book.AddSheetAsync("SHEET1"));
            await Assert.ThrowsAsync<NotFoundException>(() => book.RenameSheetAsync("Missing", "X"));

            await fixture.Cluster.DeactivateAsync(book);
            Assert.Equal("42", (await ShownAsync(book, "Sheet1!A1"))["Sheet1!A1"]);
            Assert.Equal("41", (await ShownAsync(book, "'Q1 plan'!B2"))["'Q1 plan'!B2"]);

            var removed = await book.RemoveSheetAsync("Q1 plan");
            Assert.Equal("#REF!", removed.Cells!.Single().Value.ToString());
            await Assert.ThrowsAsync<InvalidRequestException>(() => book.RemoveSheetAsync("Sheet1"));
            await book.AddSheetAsync("Q1 plan");
            Assert.Equal("#REF!", (await ShownAsync(book, "A1"))["Sheet1!A1"]);
            await fixture.Cluster.DeactivateAsync(book);
            Assert.Empty((await book.ReadAsync("'Q1 plan'!A1:Z100")).Cells);
            Assert.Equal("=#REF!+1", (await book.ReadAsync("A1", formulas: true)).Cells[0].Formula);
        }
    }

    [Fact]
    public async Task Csv_imports_at_an_anchor_and_exports_values_and_formulas_defused()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await book.ImportCsvAsync("B2", "name,amount\r\n\"Smith, J\",12.5\r\n=1+1,'007\r\n");
            Assert.Equal(new Dictionary<string, string>
            {
                ["Sheet1!B2"] = "name", ["Sheet1!C2"] = "amount", ["Sheet1!B3"] = "Smith, J", ["Sheet1!C3"] = "12.5", ["Sheet1!B4"] = "=1+1", ["Sheet1!C4"] = "007",
            }, await ShownAsync(book, "A1:D9"));
            await book.EditAsync([new("D3", "=C3*2")]);
            Assert.Equal(",,,\n,name,amount,\n,\"Smith, J\",12.5,25\n,'=1+1,007,\n", (await book.ExportCsvAsync("A1:D4")).ReplaceLineEndings("\n"));
            Assert.Equal("name,amount,\n\"Smith, J\",12.5,'=C3*2\n''=1+1,'007,\n", (await book.ExportCsvAsync("B2:D4", formulas: true)).ReplaceLineEndings("\n"));
            Assert.Equal(",,\nname,amount,\n\"Smith, J\",12.5,25\n'=1+1,007,\n", (await book.ExportCsvAsync("B:D")).ReplaceLineEndings("\n"));
            await book.ImportCsvAsync("F1", "=SUM(C3:C3)", formulas: true);
            Assert.Equal("12.5", (await ShownAsync(book, "F1"))["Sheet1!F1"]);
        }
    }

    [Fact]
    public async Task Expected_versions_and_operation_ids_guard_edits()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var first = await book.EditAsync([new("A1", "1")], new MutationOptions(OperationId: "op-1"));
            var replay = await book.EditAsync([new("A1", "1")], new MutationOptions(OperationId: "op-1"));
            Assert.True(replay.Result.Replayed);
            Assert.Equal(first.Result.Version, replay.Result.Version);
            Assert.Null(replay.Cells);
            await Assert.ThrowsAsync<OperationConflictException>(() => book.EditAsync([new("A1", "2")], new MutationOptions(OperationId: "op-1")));
            await Assert.ThrowsAsync<VersionConflictException>(() => book.EditAsync([new("A1", "3")], new MutationOptions(ExpectedVersion: first.Result.Version - 1)));
            await book.EditAsync([new("A1", "4")], new MutationOptions(ExpectedVersion: first.Result.Version));
            Assert.Equal("4", (await ShownAsync(book, "A1"))["Sheet1!A1"]);
        }
    }

    [Fact]
    public async Task Viewers_read_but_do_not_write_and_another_tenant_reaches_nothing()
    {
        var (book, tenant, key) = await NewWorkbookAsync();
        var viewer = await tenant.MemberKeyAsync("vera", TenantRole.Member);
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            await book.EditAsync([new("A1", "7")]);
            await book.SetAccessAsync([], ["vera"], tenantReadable: false);
        }

        using (ClusterFixture.As(viewer))
        {
            Assert.Equal("7", (await ShownAsync(book, "A1"))["Sheet1!A1"]);
            await Assert.ThrowsAsync<AccessDeniedException>(() => book.EditAsync([new("A1", "8")]));
            await Assert.ThrowsAsync<AccessDeniedException>(() => book.InsertAsync("1:1"));
            await Assert.ThrowsAsync<AccessDeniedException>(() => book.SetAccessAsync(["vera"], [], true));
        }

        var stranger = await fixture.NewTenantAsync();
        using (ClusterFixture.As(stranger.OwnerKey))
        {
            Assert.Equal(AccessDenialReason.WrongTenant, (await Assert.ThrowsAsync<AccessDeniedException>(() => book.ReadAsync("A1"))).Reason);
            await Assert.ThrowsAsync<AccessDeniedException>(() => book.EditAsync([new("A1", "9")]));
        }

        using (ClusterFixture.As(tenant.OwnerKey))
        {
            Assert.Equal("7", (await ShownAsync(book, "A1"))["Sheet1!A1"]);
        }

        var entries = await fixture.WaitForDirectoryAsync(tenant.Id, tenant.OwnerKey, e => e.Any(x => x.Key == key));
        Assert.Equal("Budget", entries.Single(e => e.Key == key).Title);
    }

    [Fact]
    public async Task Limits_are_refused_naming_them_and_change_nothing()
    {
        var (book, tenant, _) = await NewWorkbookAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            async Task RefusedAsync(string limit, long maximum, Func<Task> call)
            {
                var version = (await book.GetAsync()).Version;
                var error = await Assert.ThrowsAsync<LimitExceededException>(call);
                Assert.Equal((limit, maximum), (error.Limit, error.Maximum));
                Assert.Equal(version, (await book.GetAsync()).Version);
            }

            static List<CellInput> Column(string column, int count, Func<int, string> input) =>
                [.. Enumerable.Range(1, count).Select(r => new CellInput($"{column}{r}", input(r)))];

            await RefusedAsync("Sheets:MaxBatchCells", 600, () => book.EditAsync(Column("A", 601, r => "1")));
            await book.EditAsync(Column("A", 600, r => $"{r}"));
            await book.EditAsync(Column("B", 600, r => $"=A{r}"));
            await book.EditAsync(Column("C", 600, r => $"=B{r}"));
            await book.EditAsync(Column("D", 600, r => $"=C{r}"));
            await book.EditAsync(Column("E", 599, r => $"{r}"));
            await RefusedAsync("Sheets:MaxCells", 3000, () => book.EditAsync([new("F1", "1"), new("F2", "2")]));
            await RefusedAsync("Sheets:MaxRecalculatedCells", 1000, () => book.EditAsync(Column("A", 400, r => "2")));
            await RefusedAsync("Sheets:MaxReadCells", 700, () => book.ReadAsync("A:B"));
            Assert.Equal(700, (await book.ReadAsync("A1:G140")).Cells.Count);
            await RefusedAsync("Sheets:MaxCsvCells", 2500, () => book.ExportCsvAsync("A1:E600"));
            await RefusedAsync("Sheets:MaxTextLength", 32_767, () => book.EditAsync([new("A1", new string('x', 32_768))]));
            await RefusedAsync("Sheets:MaxFormulaLength", 8_192, () => book.EditAsync([new("A1", "=1+" + new string('1', 8_190))]));
            await RefusedAsync("Sheets:MaxNesting", 64, () => book.EditAsync([new("A1", "=" + new string('(', 65) + "1" + new string(')', 65))]));
            await RefusedAsync("Sheets:MaxArguments", 255, () => book.EditAsync([new("A1", "=SUM(" + string.Join(",", Enumerable.Repeat("1", 256)) + ")")]));
            await RefusedAsync("Sheets:MaxTitleLength", 200, () => book.RenameAsync(new string('t', 201)));
            await book.AddSheetAsync("Two");
            await book.AddSheetAsync("Three");
            await book.AddSheetAsync("Four");
            await RefusedAsync("Sheets:MaxSheets", 4, () => book.AddSheetAsync("Five"));

            // A change with more cells than a change lists names the ranges to read again instead.
            var many = await book.EditAsync(Column("E", 300, r => $"{r + 1}"));
            Assert.Null(many.Cells);
            var change = await ChangeAsync(book, many.Result.Version);
            Assert.Null(change.Cells);
            Assert.Equal(["Sheet1!A1:P256", "Sheet1!A257:P512"], change.Reload);
            Assert.Equal("301", (await ShownAsync(book, "E300"))["Sheet1!E300"]);
        }
    }
}
