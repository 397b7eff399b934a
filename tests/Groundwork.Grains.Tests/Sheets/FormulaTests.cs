using System.Globalization;
using Groundwork.Grains.Sheets.Formulas;
using Xunit;

namespace Groundwork.Grains.Tests.Sheets;

/// <summary>
/// The formula engine against Excel's documented behaviour: the table in Fixtures/formula-cases.tsv (a formula, a tab,
/// the value Excel shows: a number, "text", TRUE or FALSE, or an error) evaluated in <see cref="FormulaWorkbook.Standard"/>
/// from cell K10, and the parser's refusals.
/// </summary>
public sealed class FormulaTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "formula-cases.tsv")))
        {
            if (line.Length > 0)
            {
                var tab = line.IndexOf('\t', StringComparison.Ordinal);
                data.Add(line[..tab], line[(tab + 1)..]);
            }
        }

        return data;
    }

    [Fact]
    public void The_table_has_at_least_200_cases_and_every_function_appears_in_it()
    {
        var formulas = Cases().Select(c => (string)c[0]).ToList();
        Assert.True(formulas.Count >= 200, $"{formulas.Count} cases");
        var missing = FormulaFunctions.Names.Where(name => !formulas.Any(f => f.Contains(name + "(", StringComparison.Ordinal))).ToList();
        Assert.Empty(missing);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_formula_gives_what_Excel_gives(string formula, string expected)
    {
        var actual = FormulaWorkbook.Standard().Evaluate(formula);
        Assert.Equal(Expected(expected), Shown(actual));
    }

    [Fact]
    public void NOW_reads_the_workbooks_clock()
    {
        var book = FormulaWorkbook.Standard();
        var now = book.Evaluate("=NOW()");
        Assert.Equal(45730 + (15 * 3600 + 9 * 60 + 26) / 86400d, now.AsNumber, 9);
    }

    [Fact]
    public void A_range_in_a_cells_own_place_takes_the_value_in_the_formulas_row_or_column()
    {
        var book = FormulaWorkbook.Standard();
        (book.Row, book.Column) = (3, 10);
        Assert.Equal(CellValue.Number(4), book.Evaluate("=B1:B5"));
        Assert.Equal(CellValue.Number(40), book.Evaluate("=D1:D5*1"));
        (book.Row, book.Column) = (20, 1);
        Assert.Equal(CellValue.Number(1), book.Evaluate("=A1:E1"));
        Assert.Equal(CellValue.Error(FormulaError.Value), book.Evaluate("=B1:B5"));
    }

    [Theory]
    [InlineData("1+1", 0, "starts with '='")]
    [InlineData("=", 1, "empty")]
    [InlineData("=1+", 3, "ends where a value should be")]
    [InlineData("=(1+2", 5, "')'")]
    [InlineData("=SUM(1,2", 8, "',' or ')'")]
    [InlineData("=\"abc", 1, "not closed")]
    [InlineData("=1 2", 3, "unexpected '2'")]
    [InlineData("=SUM()", 1, "SUM takes at least 1 argument")]
    [InlineData("=IF(1,2,3,4)", 1, "IF takes 1 to 3 arguments")]
    [InlineData("=NA(1)", 1, "NA takes 0 arguments")]
    [InlineData("=A1:1", 3, "':' joins references only")]
    [InlineData("={1,2;3}", 1, "every row of an array")]
    [InlineData("={1,A1}", 4, "an array holds")]
    [InlineData("=#WHAT?", 1, "an error value")]
    [InlineData("='Q1 plan'", 10, "'!'")]
    [InlineData("=Sheet2!", 8, "a cell or an area after the sheet name")]
    [InlineData("=1+)", 3, "unexpected ')'")]
    [InlineData("=1e999", 1, "out of range")]
    public void A_malformed_formula_is_refused_with_where_and_why(string formula, int position, string reason)
    {
        var refused = Assert.Throws<InvalidFormulaException>(() => FormulaParser.Parse(formula));
        Assert.Equal(position, refused.Position);
        Assert.Contains(reason, refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_limits_are_held_length_nesting_and_arguments()
    {
        static (string Limit, long Maximum, long Attempted) Limit(Action parse)
        {
            var error = Assert.Throws<LimitExceededException>(parse);
            return (error.Limit, error.Maximum, error.Attempted);
        }

        var tooLong = "=" + new string('1', 8_192);
        Assert.Equal(("Sheets:MaxFormulaLength", 8_192L, 8_193L), Limit(() => FormulaParser.Parse(tooLong)));
        Assert.Equal(CellValue.Number(1), FormulaWorkbook.Standard().Evaluate("=1+0" + new string(' ', 8_188)));
        var nested64 = "=" + new string('(', 64) + "1" + new string(')', 64);
        Assert.Equal(CellValue.Number(1), FormulaWorkbook.Standard().Evaluate(nested64));
        var nested65 = "=" + new string('(', 65) + "1" + new string(')', 65);
        Assert.Equal(("Sheets:MaxNesting", 64L, 65L), Limit(() => FormulaParser.Parse(nested65)));
        var calls65 = "=" + string.Concat(Enumerable.Repeat("ABS(", 65)) + "1" + new string(')', 65);
        Assert.Equal("Sheets:MaxNesting", Limit(() => FormulaParser.Parse(calls65)).Limit);
        var arguments = "=SUM(" + string.Join(",", Enumerable.Repeat("1", 256)) + ")";
        Assert.Equal(("Sheets:MaxArguments", 255L, 256L), Limit(() => FormulaParser.Parse(arguments)));
        Assert.Equal(CellValue.Number(255), FormulaWorkbook.Standard().Evaluate("=SUM(" + string.Join(",", Enumerable.Repeat("1", 255)) + ")"));
    }

    [Fact]
    public void The_longest_chains_of_operators_and_signs_evaluate_without_recursion()
    {
        var book = FormulaWorkbook.Standard();
        var sum = "=" + string.Join("+", Enumerable.Repeat("1", 4_096));
        Assert.Equal(CellValue.Number(4_096), book.Evaluate(sum));
        var signs = "=" + new string('-', 8_190) + "1";
        Assert.Equal(CellValue.Number(1), book.Evaluate(signs));
        var concatenated = "=" + string.Join("&", Enumerable.Repeat("\"a\"", 2_000));
        Assert.Equal(2_000, book.Evaluate(concatenated).AsText.Length);
    }

    [Fact]
    public void Nested_IFERRORs_evaluate_each_level_once()
    {
        // Each level used to evaluate its value twice: 40 levels were 2^40 evaluations.
        var formula = "=" + string.Concat(Enumerable.Repeat("IFERROR(", 40)) + "1/0" + string.Concat(Enumerable.Repeat(",7)", 40));
        Assert.Equal(CellValue.Number(7), FormulaWorkbook.Standard().Evaluate(formula));
        Assert.Equal(CellValue.Number(1), FormulaWorkbook.Standard().Evaluate("=" + string.Concat(Enumerable.Repeat("IFNA(", 40)) + "1" + string.Concat(Enumerable.Repeat(",7)", 40))));
    }

    [Fact]
    public void A_sign_after_a_range_colon_does_not_parse_and_a_run_of_colons_does_not_recurse()
    {
        Assert.Throws<InvalidFormulaException>(() => FormulaParser.Parse("=A1:-A1"));
        var run = "=ROWS(A1" + string.Concat(Enumerable.Repeat(":A1", 2_000)) + ")";
        Assert.Equal(CellValue.Number(1), FormulaWorkbook.Standard().Evaluate(run));
    }

    [Fact]
    public void References_parse_to_Excels_grid_and_no_further()
    {
        Assert.Equal(new CellRef(1_048_575, 16_383), ((ReferenceNode)FormulaParser.Parse("=XFD1048576")).Cell);
        Assert.IsType<NameNode>(FormulaParser.Parse("=XFE1"));
        Assert.IsType<NameNode>(FormulaParser.Parse("=A1048577"));
        var area = (AreaNode)FormulaParser.Parse("=$B$2:A1");
        Assert.Equal((new CellRef(0, 0, false, false), new CellRef(1, 1, true, true)), (area.From, area.To));
        Assert.Equal("XFD", CellRef.ColumnName(16_383));
        Assert.Equal("AA", CellRef.ColumnName(26));
        Assert.Equal(701, CellRef.ColumnOf("ZZ"));
    }

    [Theory]
    [InlineData(0.1 + 0.2, "0.3")]
    [InlineData(1e20, "1E+20")]
    [InlineData(-1234.5, "-1234.5")]
    [InlineData(123456789012345678d, "1.23456789012346E+17")]
    [InlineData(0.000123, "0.000123")]
    public void Numbers_become_text_with_15_significant_digits(double number, string text) =>
        Assert.Equal(text, CellValue.Number(number).ToString());

    [Theory]
    [InlineData("apple", "a*", true)]
    [InlineData("apple", "*E", true)]
    [InlineData("apple", "a?ple", true)]
    [InlineData("apple", "a?le", false)]
    [InlineData("a*b", "a~*b", true)]
    [InlineData("axb", "a~*b", false)]
    [InlineData("what?", "what~?", true)]
    [InlineData("", "*", true)]
    [InlineData("abc", "*b*c*", true)]
    public void Wildcards_match_whole_text_without_regard_to_case(string text, string pattern, bool matches) =>
        Assert.Equal(matches, Criterion.Like(text, pattern));

    private static string Expected(string text) => text.StartsWith('"') ? "text:" + text[1..^1] : text switch
    {
        "TRUE" or "FALSE" => "boolean:" + text,
        _ when text.StartsWith('#') => "error:" + text,
        _ => "number:" + double.Parse(text, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture),
    };

    private static string Shown(CellValue value) => value.Kind switch
    {
        CellValueKind.Text => "text:" + value.AsText,
        CellValueKind.Boolean => "boolean:" + value,
        CellValueKind.Error => "error:" + value,
        CellValueKind.Number => "number:" + Math.Round(value.AsNumber, 12).ToString("R", CultureInfo.InvariantCulture),
        _ => "empty",
    };
}
