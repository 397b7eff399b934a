using System.Globalization;
using Groundwork.Grains.Sheets.Formulas;

namespace Groundwork.Grains.Sheets;

/// <summary>A range a caller named: a sheet and an area of it, and whether it names whole rows or columns.</summary>
internal readonly record struct NamedRange(Area Area, AreaKind Kind)
{
    public int Sheet => Area.Sheet;
}

/// <summary>
/// Addresses as callers write them (<c>B3</c>, <c>Sheet2!A1:C9</c>, <c>'Q1 plan'!A:A</c>, <c>3:5</c>): read into places
/// of the workbook (no sheet means the first one), and written back with the sheet always named.
/// </summary>
internal static class SheetAddress
{
    /// <summary>The cell <paramref name="text"/> names.</summary>
    /// <exception cref="InvalidRequestException">It is not a cell's address, or names no sheet of the workbook.</exception>
    public static CellAt Cell(string? text, Workbook book, string parameter = "cell")
    {
        if (string.IsNullOrEmpty(text))
        {
            throw new InvalidRequestException(parameter, "a cell's address is required, e.g. B3 or Sheet2!B3");
        }

        var bang = text.LastIndexOf('!');
        var sheet = bang < 0 ? 0 : SheetOf(Unquote(text.AsSpan(0, bang), text, parameter), book, parameter);
        var rest = text.AsSpan(bang + 1);
        if (rest.Length > 0 && rest[0] == '$')
        {
            rest = rest[1..];
        }

        var letters = 0;
        while (letters < rest.Length && char.IsAsciiLetter(rest[letters]))
        {
            letters++;
        }

        var digits = rest[letters..];
        if (digits.Length > 0 && digits[0] == '$')
        {
            digits = digits[1..];
        }

        if (letters is 0 or > 3 || digits.Length is 0 or > 7 || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var row) ||
            row < 1 || row > CellRef.MaxRows || CellRef.ColumnOf(rest[..letters]) is var column && column < 0)
        {
            throw new InvalidRequestException(parameter, $"'{Echo(text)}' is not a cell on the grid (A1 to XFD1048576), e.g. B3 or Sheet2!B3");
        }

        return new CellAt(sheet, row - 1, column);
    }

    /// <summary>The range <paramref name="text"/> names: a cell, an area, whole columns (<c>A:C</c>) or whole rows (<c>3:5</c>).</summary>
    /// <exception cref="InvalidRequestException">It is not a range, or names no sheet of the workbook.</exception>
    public static NamedRange Range(string? text, Workbook book, string parameter = "range")
    {
        if (string.IsNullOrEmpty(text) || text.Length > 300)
        {
            throw new InvalidRequestException(parameter, "a range is required (at most 300 characters), e.g. A1:C3, Sheet2!B:B or 3:5");
        }

        FormulaNode node;
        try
        {
            node = FormulaParser.Parse("=" + text);
        }
        catch (GroundworkException)
        {
            node = new NameNode(0, text);
        }

        var (sheetName, from, to, kind) = node switch
        {
            ReferenceNode r => (r.Sheet, r.Cell, r.Cell, AreaKind.Cells),
            AreaNode a => (a.Sheet, a.From, a.To, a.Kind),
            _ => throw new InvalidRequestException(parameter, $"'{Echo(text)}' is not a range, e.g. A1:C3, Sheet2!B:B or 3:5"),
        };
        var sheet = sheetName is null ? 0 : SheetOf(sheetName, book, parameter);
        return new NamedRange(new Area(sheet, Math.Min(from.Row, to.Row), Math.Min(from.Column, to.Column), Math.Max(from.Row, to.Row), Math.Max(from.Column, to.Column)), kind);
    }

    /// <summary>A cell's address with its sheet's prefix (<see cref="FormulaRewriter.SheetPrefix"/>), e.g. <c>Sheet1!B3</c>.</summary>
    public static string Format(string prefix, int row, int column) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}{CellRef.ColumnName(column)}{row + 1}");

    /// <summary>An area's address with its sheet's prefix.</summary>
    public static string Format(string prefix, Area area) =>
        area.Top == area.Bottom && area.Left == area.Right ? Format(prefix, area.Top, area.Left)
            : string.Create(CultureInfo.InvariantCulture, $"{prefix}{CellRef.ColumnName(area.Left)}{area.Top + 1}:{CellRef.ColumnName(area.Right)}{area.Bottom + 1}");

    private static int SheetOf(string name, Workbook book, string parameter) =>
        book.SheetNamed(name) ?? throw new InvalidRequestException(parameter, $"the workbook has no sheet named '{Echo(name)}'");

    private static string Unquote(ReadOnlySpan<char> name, string text, string parameter)
    {
        if (name.Length >= 2 && name[0] == '\'' && name[^1] == '\'')
        {
            return name[1..^1].ToString().Replace("''", "'", StringComparison.Ordinal);
        }

        if (name.Length == 0 || name.Contains('\''))
        {
            throw new InvalidRequestException(parameter, $"'{Echo(text)}' does not name a sheet well: quote names with spaces, e.g. 'Q1 plan'!A1");
        }

        return name.ToString();
    }

    private static string Echo(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
