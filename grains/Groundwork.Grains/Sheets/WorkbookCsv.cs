using System.Globalization;
using Groundwork.Grains.Sheets.Formulas;
using nietras.SeparatedValues;

namespace Groundwork.Grains.Sheets;

/// <summary>
/// CSV in and out of a workbook (RFC 4180 through Sep, invariant culture). Import types each field as a constant is
/// typed (numbers, TRUE and FALSE, errors, text; a leading <c>'</c> keeps text) and reads formulas only when asked.
/// Export writes values as the sheet shows them, or formulas; any exported text that starts with <c>=</c>, <c>+</c>,
/// <c>-</c>, <c>@</c>, a tab or a carriage return gets a leading <c>'</c>, so a spreadsheet program that opens the file
/// runs nothing (numbers are written as they are: a number cannot be a formula).
/// </summary>
public static class WorkbookCsv
{
    /// <summary>
    /// Puts the CSV's fields into <paramref name="sheet"/> from the anchor cell, one record per row, as one batch: an
    /// empty field clears its cell. With <paramref name="formulas"/>, fields that start with <c>=</c> (or <c>'=</c>, as
    /// <see cref="Export"/> writes them) are formulas; otherwise they are text.
    /// </summary>
    /// <exception cref="InvalidRequestException">The CSV does not fit the grid from the anchor.</exception>
    public static IReadOnlyList<CellChange> Import(this Workbook book, int sheet, int row, int column, string csv, bool formulas = false)
    {
        ArgumentNullException.ThrowIfNull(book);
        return book.Apply(Edits(sheet, row, column, csv, formulas));
    }

    /// <summary>The edits <see cref="Import"/> applies; past <paramref name="maxCells"/> fields, <see cref="LimitExceededException"/> (<c>Sheets:MaxCsvCells</c>).</summary>
    /// <exception cref="InvalidRequestException">The CSV does not fit the grid from the anchor.</exception>
    public static List<CellEdit> Edits(int sheet, int row, int column, string csv, bool formulas = false, int maxCells = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(csv);
        var edits = new List<CellEdit>();
        using (var reader = Sep.Reader(o => o with { Sep = new Sep(','), HasHeader = false, Unescape = true, DisableColCountCheck = true, CultureInfo = CultureInfo.InvariantCulture }).FromText(csv))
        {
            var r = row;
            foreach (var record in reader)
            {
                if (r >= CellRef.MaxRows || column + record.ColCount > CellRef.MaxColumns)
                {
                    throw new InvalidRequestException("csv", $"record {r - row + 1} does not fit the grid from the anchor (row {row + 1}, column {column + 1})");
                }

                if (edits.Count + record.ColCount > maxCells)
                {
                    throw new LimitExceededException("Sheets:MaxCsvCells", maxCells, edits.Count + record.ColCount);
                }

                for (var c = 0; c < record.ColCount; c++)
                {
                    var field = record[c].Span;
                    var input = field.Length == 0 ? null
                        : formulas && (field.StartsWith("'=", StringComparison.Ordinal) || field.StartsWith("''=", StringComparison.Ordinal)) ? field[1..].ToString()
                        : !formulas && field[0] == '=' ? "'" + field.ToString()
                        : field.ToString();
                    edits.Add(new CellEdit(sheet, r, column + c, input));
                }

                r++;
            }
        }

        return edits;
    }

    /// <summary>The cells of <paramref name="area"/> as CSV, one record per row: their values, or their formulas (and constants) with <paramref name="formulas"/>.</summary>
    public static string Export(this Workbook book, Area area, bool formulas = false)
    {
        ArgumentNullException.ThrowIfNull(book);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var writer = Sep.Writer(o => o with { Sep = new Sep(','), WriteHeader = false, Escape = true, DisableColCountCheck = true, CultureInfo = CultureInfo.InvariantCulture }).To(text))
        {
            for (var r = area.Top; r <= area.Bottom; r++)
            {
                using var record = writer.NewRow();
                for (var c = area.Left; c <= area.Right; c++)
                {
                    var value = book.Value(area.Sheet, r, c);
                    var field = formulas ? book.Input(area.Sheet, r, c) ?? "" : value.ToString();
                    if (formulas && book.Formula(area.Sheet, r, c) is null && field.StartsWith("'=", StringComparison.Ordinal))
                    {
                        // Text that starts with '=' is written ''=..., so that the import reads it back as text, not as a formula.
                        field = "'" + field;
                    }

                    var isNumber = value.Kind == CellValueKind.Number && (!formulas || book.Formula(area.Sheet, r, c) is null);
                    record[c - area.Left].Set(isNumber ? field : Defused(field));
                }
            }
        }

        return text.ToString();
    }

    /// <summary>Text that a spreadsheet program would run (OWASP's CSV injection), with a leading <c>'</c>.</summary>
    private static string Defused(string field) => field.Length > 0 && field[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + field : field;
}
