using System.Text.Json;
using System.Text.Json.Serialization;
using Groundwork.Grains.Resources;
using Groundwork.Grains.Sheets.Formulas;

namespace Groundwork.Grains.Sheets;

/// <summary>
/// The head of a workbook's stored state, written by every mutation: the kit's fields, the title and the sheets in
/// order. The cells are in tiles (<see cref="SheetTile"/>), and a mutation writes only the tiles it changed.
/// </summary>
public sealed class WorkbookHead : ResourceHead
{
    /// <summary>The workbook's title.</summary>
    public string Title { get; set; } = "";

    /// <summary>The sheets, in order.</summary>
    public List<SheetEntry> Sheets { get; set; } = [];

    /// <summary>The id the next sheet takes.</summary>
    public int NextSheetId { get; set; } = 1;
}

/// <summary>A sheet: an id that never changes (its tiles are named by it) and its name.</summary>
/// <param name="Id">The sheet's id in tile names.</param>
/// <param name="Name">Its name.</param>
public sealed record SheetEntry(int Id, string Name);

/// <summary>
/// The filled cells of one tile of a sheet, <see cref="Rows"/> rows by <see cref="Columns"/> columns (collection
/// <c>tiles</c>, chunk id <c>{sheet id}:{tile row}:{tile column}</c>): each cell's place in the tile, its formula (none
/// for a constant) and the value it shows, so an activation reads values without recalculating. Stored as a compact
/// JSON array of <c>[place, kind, value]</c> or <c>[place, kind, value, formula]</c>. The same shape, formulas left
/// out, holds a value tile (collection <c>values</c>, same chunk id): the values of a tile's formulas written when a
/// recalculation changed them and nothing else of the tile; they win over the tile's own until it is written again.
/// </summary>
[JsonConverter(typeof(SheetTileConverter))]
public sealed class SheetTile
{
    /// <summary>Rows in a tile.</summary>
    public const int Rows = 256;

    /// <summary>Columns in a tile.</summary>
    public const int Columns = 16;

    /// <summary>The cells, column by column (each says its place).</summary>
    public List<TileCell> Cells { get; } = [];

    /// <summary>A cell's place in its tile.</summary>
    public static int Place(int row, int column) => row % Rows * Columns + column % Columns;
}

/// <summary>Which tile: its sheet's id and its row and column among the sheet's tiles (chunk id <c>{sheet}:{row}:{column}</c>).</summary>
public readonly record struct TileKey(int Sheet, int Row, int Column)
{
    /// <summary>The tile that holds a cell of the sheet with id <paramref name="sheetId"/>.</summary>
    public static TileKey Of(int sheetId, int row, int column) => new(sheetId, row / SheetTile.Rows, column / SheetTile.Columns);

    /// <summary>The first row of the tile.</summary>
    public int Top => Row * SheetTile.Rows;

    /// <summary>The first column of the tile.</summary>
    public int Left => Column * SheetTile.Columns;

    /// <summary>Its chunk id.</summary>
    public string Id => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Sheet}:{Row}:{Column}");

    /// <summary>The tile a chunk id names.</summary>
    public static TileKey Parse(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var parts = id.Split(':');
        return new(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>One stored cell: <see cref="Place"/> is its row in the tile times <see cref="SheetTile.Columns"/> plus its column in the tile.</summary>
public readonly record struct TileCell(int Place, string? Formula, CellValue Value);

/// <summary>Writes and reads <see cref="SheetTile"/> as arrays (a tile is rewritten whole when one of its cells changes).</summary>
internal sealed class SheetTileConverter : JsonConverter<SheetTile>
{
    public override SheetTile Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var tile = new SheetTile();
        Expect(reader.TokenType, JsonTokenType.StartArray);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            Expect(reader.TokenType, JsonTokenType.StartArray);
            reader.Read();
            var place = reader.GetInt32();
            reader.Read();
            var kind = (CellValueKind)reader.GetByte();
            reader.Read();
            var value = kind switch
            {
                CellValueKind.Number => CellValue.Number(reader.GetDouble()),
                CellValueKind.Text => CellValue.Text(reader.GetString() ?? ""),
                CellValueKind.Boolean => CellValue.Boolean(reader.GetInt32() != 0),
                CellValueKind.Error => CellValue.Error((FormulaError)reader.GetByte()),
                _ => CellValue.Empty,
            };
            reader.Read();
            string? formula = null;
            if (reader.TokenType == JsonTokenType.String)
            {
                formula = reader.GetString();
                reader.Read();
            }

            Expect(reader.TokenType, JsonTokenType.EndArray);
            tile.Cells.Add(new TileCell(place, formula, value));
        }

        return tile;
    }

    public override void Write(Utf8JsonWriter writer, SheetTile value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var cell in value.Cells)
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(cell.Place);
            writer.WriteNumberValue((byte)cell.Value.Kind);
            switch (cell.Value.Kind)
            {
                case CellValueKind.Number:
                    StoredNumber.Write(writer, cell.Value.AsNumber);
                    break;
                case CellValueKind.Text:
                    writer.WriteStringValue(cell.Value.AsText);
                    break;
                case CellValueKind.Boolean:
                    writer.WriteNumberValue(cell.Value.AsBoolean ? 1 : 0);
                    break;
                case CellValueKind.Error:
                    writer.WriteNumberValue((byte)cell.Value.AsError);
                    break;
                default:
                    writer.WriteNumberValue(0);
                    break;
            }

            if (cell.Formula is { } formula)
            {
                writer.WriteStringValue(formula);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }

    private static void Expect(JsonTokenType actual, JsonTokenType expected)
    {
        if (actual != expected)
        {
            throw new JsonException($"a stored tile: expected {expected}, found {actual}");
        }
    }
}

/// <summary>
/// A cell of a stored workbook change as a compact array, <c>[address, kind, value]</c> or <c>[address, kind, value,
/// formula]</c> (a change may list 20,000 of them; named properties were most of its bytes and of its commit's CPU).
/// </summary>
internal sealed class CellDataConverter : JsonConverter<Groundwork.Sheets.CellData>
{
    public override Groundwork.Sheets.CellData Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("a stored cell: expected an array");
        }

        reader.Read();
        var cell = reader.GetString() ?? "";
        reader.Read();
        var kind = (Groundwork.Sheets.SheetValueKind)reader.GetByte();
        reader.Read();
        var value = reader.TokenType == JsonTokenType.String
            ? new Groundwork.Sheets.SheetValue(kind, Text: reader.GetString())
            : new Groundwork.Sheets.SheetValue(kind, reader.GetDouble());
        reader.Read();
        string? formula = null;
        if (reader.TokenType == JsonTokenType.String)
        {
            formula = reader.GetString();
            reader.Read();
        }

        if (reader.TokenType != JsonTokenType.EndArray)
        {
            throw new JsonException("a stored cell: expected the end of its array");
        }

        return new Groundwork.Sheets.CellData(cell, value, formula);
    }

    public override void Write(Utf8JsonWriter writer, Groundwork.Sheets.CellData value, JsonSerializerOptions options) =>
        Write(writer, value.Cell, value.Value, value.Formula);

    /// <summary>One cell as its array, its address given as characters.</summary>
    public static void Write(Utf8JsonWriter writer, ReadOnlySpan<char> address, Groundwork.Sheets.SheetValue value, string? formula)
    {
        writer.WriteStartArray();
        writer.WriteStringValue(address);
        writer.WriteNumberValue((byte)value.Kind);
        if (value.Kind is Groundwork.Sheets.SheetValueKind.Text or Groundwork.Sheets.SheetValueKind.Error)
        {
            writer.WriteStringValue(value.Text ?? "");
        }
        else
        {
            StoredNumber.Write(writer, value.Number);
        }

        if (formula is not null)
        {
            writer.WriteStringValue(formula);
        }

        writer.WriteEndArray();
    }
}

/// <summary>
/// A list of cells as an array of <see cref="CellDataConverter"/>'s arrays; a <see cref="Groundwork.Sheets.CellList"/>
/// is written straight from its encoding (no string made per address). Read back as a list.
/// </summary>
internal sealed class CellListConverter : JsonConverter<IReadOnlyList<Groundwork.Sheets.CellData>>
{
    private static readonly CellDataConverter Cell = new();

    public override IReadOnlyList<Groundwork.Sheets.CellData> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("stored cells: expected an array");
        }

        var cells = new List<Groundwork.Sheets.CellData>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            cells.Add(Cell.Read(ref reader, typeof(Groundwork.Sheets.CellData), options));
        }

        return cells;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<Groundwork.Sheets.CellData> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        if (value is Groundwork.Sheets.CellList list)
        {
            var cells = list.Read();
            Span<char> address = stackalloc char[list.MaxAddressLength];
            while (cells.Next())
            {
                CellDataConverter.Write(writer, address[..cells.Address(address)], cells.Value, cells.Formula);
            }
        }
        else
        {
            foreach (var cell in value)
            {
                CellDataConverter.Write(writer, cell.Cell, cell.Value, cell.Formula);
            }
        }

        writer.WriteEndArray();
    }
}

/// <summary>A stored number: a whole one written as an integer (several times faster than a double's shortest form, and most cells are counts, ids or dates), any other as a double.</summary>
internal static class StoredNumber
{
    // Whole numbers below 2^53 are exact as longs (-0 is 0, as it always read back).
    private const double MaxExact = 9_007_199_254_740_992;

    public static void Write(Utf8JsonWriter writer, double number)
    {
        if (number == Math.Floor(number) && Math.Abs(number) < MaxExact)
        {
            writer.WriteNumberValue((long)number);
        }
        else
        {
            writer.WriteNumberValue(number);
        }
    }
}
