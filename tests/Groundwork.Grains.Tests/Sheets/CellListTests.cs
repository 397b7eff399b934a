using Groundwork.Grains.Storage;
using Groundwork.Sheets;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Xunit;

namespace Groundwork.Grains.Tests.Sheets;

/// <summary>The compact list a workbook sends its cells in: what goes in comes out, over the wire and through storage.</summary>
public sealed class CellListTests
{
    private static readonly string[] Prefixes = ["Sheet1!", "'Q1 plan'!"];

    private static readonly (int Sheet, int Row, int Column, CellData Cell)[] Cells =
    [
        (0, 0, 0, new CellData("Sheet1!A1", new SheetValue(SheetValueKind.Number, -1.5e-300))),
        (0, 2, 25, new CellData("Sheet1!Z3", new SheetValue(SheetValueKind.Boolean, 1), "=TRUE")),
        (1, 9, 26, new CellData("'Q1 plan'!AA10", new SheetValue(SheetValueKind.Text, Text: "Grüße — ✓ \"quoted\""), "=\"Grüße\"&\" — ✓\"")),
        (1, 1_048_575, 16_383, new CellData("'Q1 plan'!XFD1048576", new SheetValue(SheetValueKind.Error, Text: "#N/A"))),
        (0, 127, 701, new CellData("Sheet1!ZZ128", default)),
        (0, 128, 702, new CellData("Sheet1!AAA129", new SheetValue(SheetValueKind.Text, Text: ""), "")),
    ];

    private static CellList Build()
    {
        var builder = new CellList.Builder(Prefixes);
        foreach (var (sheet, row, column, cell) in Cells)
        {
            builder.Add(sheet, row, column, cell.Value, cell.Formula);
        }

        Assert.Equal(Cells.Length, builder.Count);
        return builder.Build();
    }

    [Fact]
    public void Reads_back_every_kind_of_value_address_and_formula()
    {
        var list = Build();
        Assert.Equal(Cells.Length, list.Count);
        Assert.Equal(Cells.Select(c => c.Cell), list);
        Assert.Equal(Cells[3].Cell, list[3]);
    }

    [Fact]
    public void Crosses_the_wire_as_the_same_cells()
    {
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        var edit = new WorkbookEdit(new MutationResult(7, null, Cells.Length), Build());
        var copy = serializer.Deserialize<WorkbookEdit>(serializer.SerializeToArray(edit));
        Assert.IsType<CellList>(copy!.Cells);
        Assert.Equal(Cells.Select(c => c.Cell), copy.Cells!);
    }

    [Fact]
    public void Is_stored_as_the_cells_it_holds()
    {
        var change = new WorkbookChange(3, WorkbookChangeKind.CellsChanged, DateTimeOffset.UnixEpoch, "owner", Cells: Build());
        var json = new JsonStateSerializer().ToUtf8(change);
        var stored = JsonStateSerializer.FromUtf8<WorkbookChange>(json);
        Assert.Equal(Cells.Select(c => c.Cell), stored.Cells!);

        // Written straight from the encoding, the same bytes as the same cells in a plain list.
        Assert.Equal(json, new JsonStateSerializer().ToUtf8(change with { Cells = [.. Cells.Select(c => c.Cell)] }));
    }

    [Fact]
    public void Rows_stored_before_escaping_was_relaxed_and_whole_numbers_were_integers_read_the_same()
    {
        // As the default encoder wrote them: + as \u002B, non-ASCII escaped, whole numbers as doubles.
        var tile = JsonStateSerializer.FromUtf8<Groundwork.Grains.Sheets.SheetTile>("[[3,1,12345.0,\"=A1\\u002B1\"],[4,2,\"Gr\\u00FC\\u00DFe\"]]"u8);
        Assert.Equal((3, "=A1+1", 12345.0), (tile.Cells[0].Place, tile.Cells[0].Formula, tile.Cells[0].Value.AsNumber));
        Assert.Equal("Grüße", tile.Cells[1].Value.AsText);
        var change = JsonStateSerializer.FromUtf8<WorkbookChange>("{\"Sequence\":2,\"Kind\":0,\"At\":\"2026-12-01T00:00:00+00:00\",\"By\":\"o\",\"Cells\":[[\"Sheet1!A1\",1,2.0,\"=1\\u002B1\"]]}"u8);
        Assert.Equal(new CellData("Sheet1!A1", new SheetValue(SheetValueKind.Number, 2), "=1+1"), change.Cells!.Single());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("45658")]
    [InlineData("0.1")]
    [InlineData("1e300")]
    [InlineData("-1.5e-300")]
    [InlineData("9007199254740991")]
    [InlineData("9007199254740992")]
    [InlineData("-9007199254740993")]
    public void Numbers_are_stored_exactly_in_tiles_and_changes(string text)
    {
        var number = double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        var tile = new Groundwork.Grains.Sheets.SheetTile();
        tile.Cells.Add(new Groundwork.Grains.Sheets.TileCell(3, null, Groundwork.Grains.Sheets.Formulas.CellValue.Number(number)));
        var read = JsonStateSerializer.FromUtf8<Groundwork.Grains.Sheets.SheetTile>(new JsonStateSerializer().ToUtf8(tile));
        Assert.Equal(BitConverter.DoubleToInt64Bits(number), BitConverter.DoubleToInt64Bits(read.Cells.Single().Value.AsNumber));

        var change = new WorkbookChange(1, WorkbookChangeKind.CellsChanged, DateTimeOffset.UnixEpoch, "owner", Cells: [new CellData("Sheet1!A1", new SheetValue(SheetValueKind.Number, number))]);
        var stored = JsonStateSerializer.FromUtf8<WorkbookChange>(new JsonStateSerializer().ToUtf8(change));
        Assert.Equal(BitConverter.DoubleToInt64Bits(number), BitConverter.DoubleToInt64Bits(stored.Cells!.Single().Value.Number));
    }

    [Fact]
    public void Empty_is_empty()
    {
        Assert.Same(CellList.Empty, new CellList.Builder(Prefixes).Build());
        Assert.Empty(CellList.Empty);
    }
}
