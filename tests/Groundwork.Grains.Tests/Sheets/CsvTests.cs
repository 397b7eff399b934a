using Groundwork.Grains.Sheets;
using Groundwork.Grains.Sheets.Formulas;
using Xunit;

namespace Groundwork.Grains.Tests.Sheets;

/// <summary>CSV import and export: RFC 4180 quoting, typed fields, formulas only when asked, and no CSV injection out.</summary>
public sealed class CsvTests
{
    private const string Csv = "1,2.5,TRUE\r\n\"a,b\",\"say \"\"hi\"\"\",'007\r\n=1+1,,x\r\n";

    [Fact]
    public void Import_types_fields_keeps_quoted_text_and_reads_formulas_only_when_asked()
    {
        var book = new Workbook();
        book.Import(0, 1, 1, Csv);
        Assert.Equal(CellValue.Number(1), book.Value(0, 1, 1));
        Assert.Equal(CellValue.Number(2.5), book.Value(0, 1, 2));
        Assert.Equal(CellValue.True, book.Value(0, 1, 3));
        Assert.Equal(CellValue.Text("a,b"), book.Value(0, 2, 1));
        Assert.Equal(CellValue.Text("say \"hi\""), book.Value(0, 2, 2));
        Assert.Equal(CellValue.Text("007"), book.Value(0, 2, 3));
        Assert.Equal(CellValue.Text("=1+1"), book.Value(0, 3, 1));
        Assert.Null(book.Formula(0, 3, 1));
        Assert.Equal(CellValue.Empty, book.Value(0, 3, 2));

        book.Import(0, 1, 1, Csv, formulas: true);
        Assert.Equal("=1+1", book.Formula(0, 3, 1));
        Assert.Equal(CellValue.Number(2), book.Value(0, 3, 1));
    }

    [Fact]
    public void Export_quotes_what_needs_it_and_defuses_text_a_spreadsheet_would_run()
    {
        var book = new Workbook();
        book.Import(0, 0, 0, Csv);
        book.Apply([new CellEdit(0, 3, 0, "'-cmd|' /C calc'!A0"), new CellEdit(0, 3, 1, "-5"), new CellEdit(0, 3, 2, "'@SUM(1)"), new CellEdit(0, 4, 0, "=A1*2")]);
        var values = book.Export(new Area(0, 0, 0, 4, 2));
        Assert.Equal(
            "1,2.5,TRUE\n\"a,b\",\"say \"\"hi\"\"\",007\n'=1+1,,x\n'-cmd|' /C calc'!A0,-5,'@SUM(1)\n2,,\n",
            values.ReplaceLineEndings("\n"));

        // Formulas go out defused too, and come back as formulas when asked.
        var formulas = book.Export(new Area(0, 4, 0, 4, 0), formulas: true);
        Assert.Equal("'=A1*2\n", formulas.ReplaceLineEndings("\n"));
        var copy = new Workbook();
        copy.Apply([new CellEdit(0, 0, 0, "21")]);
        copy.Import(0, 4, 0, formulas, formulas: true);
        Assert.Equal("=A1*2", copy.Formula(0, 4, 0));
        Assert.Equal(CellValue.Number(42), copy.Value(0, 4, 0));
    }

    [Fact]
    public void Text_that_starts_with_an_equals_sign_survives_a_round_trip_of_formulas_as_text()
    {
        var book = new Workbook();
        book.Apply([new CellEdit(0, 0, 0, "'=abc"), new CellEdit(0, 0, 1, "=1+1")]);
        var csv = book.Export(new Area(0, 0, 0, 0, 1), formulas: true);
        Assert.Equal("''=abc,'=1+1\n", csv.ReplaceLineEndings("\n"));
        var copy = new Workbook();
        copy.Import(0, 0, 0, csv, formulas: true);
        Assert.Equal(CellValue.Text("=abc"), copy.Value(0, 0, 0));
        Assert.Null(copy.Formula(0, 0, 0));
        Assert.Equal("=1+1", copy.Formula(0, 0, 1));
    }

    [Fact]
    public void A_CSV_that_does_not_fit_the_grid_is_refused_and_nothing_changes()
    {
        var book = new Workbook();
        Assert.Throws<InvalidRequestException>(() => book.Import(0, 0, CellRef.MaxColumns - 1, "1,2\n"));
        Assert.Equal(0, book.CellCount);
        Assert.Throws<InvalidFormulaException>(() => book.Import(0, 0, 0, "1,=1+\n", formulas: true));
        Assert.Equal(0, book.CellCount);
    }
}
