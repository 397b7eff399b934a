using System.Globalization;

namespace Groundwork.Grains.Sheets.Formulas;

/// <summary>What a cell holds once evaluated.</summary>
public enum CellValueKind : byte
{
    /// <summary>Nothing: 0 in arithmetic, "" in text.</summary>
    Empty,

    /// <summary>A double (dates are 1900 serials).</summary>
    Number,

    /// <summary>Text.</summary>
    Text,

    /// <summary>TRUE or FALSE.</summary>
    Boolean,

    /// <summary>An error value such as <c>#DIV/0!</c>.</summary>
    Error,
}

/// <summary>Excel's error values, and <see cref="Cycle"/>, ours for a cell on a reference cycle.</summary>
public enum FormulaError : byte
{
    /// <summary><c>#NULL!</c></summary>
    Null = 1,

    /// <summary><c>#DIV/0!</c></summary>
    Div0,

    /// <summary><c>#VALUE!</c></summary>
    Value,

    /// <summary><c>#REF!</c></summary>
    Ref,

    /// <summary><c>#NAME?</c></summary>
    Name,

    /// <summary><c>#NUM!</c></summary>
    Num,

    /// <summary><c>#N/A</c></summary>
    NA,

    /// <summary><c>#CYCLE!</c>: the cell is on a reference cycle (Excel warns instead; our documented departure).</summary>
    Cycle,
}

/// <summary>
/// A cell's value: empty, a number, text, a boolean or an error. A small struct; numbers become text as Excel shows
/// them (15 significant digits), text compares without regard to case.
/// </summary>
public readonly struct CellValue : IEquatable<CellValue>
{
    private readonly double _number;
    private readonly string? _text;

    private CellValue(CellValueKind kind, double number, string? text)
    {
        Kind = kind;
        _number = number;
        _text = text;
    }

    /// <summary>The kind of value.</summary>
    public CellValueKind Kind { get; }

    /// <summary>The empty value.</summary>
    public static CellValue Empty => default;

    /// <summary>TRUE.</summary>
    public static CellValue True { get; } = new(CellValueKind.Boolean, 1, null);

    /// <summary>FALSE.</summary>
    public static CellValue False { get; } = new(CellValueKind.Boolean, 0, null);

    /// <summary>A number; NaN and infinities are <c>#NUM!</c>, and -0 is 0.</summary>
    public static CellValue Number(double number) =>
        double.IsFinite(number) ? new(CellValueKind.Number, number == 0 ? 0 : number, null) : Error(FormulaError.Num);

    /// <summary>Text.</summary>
    public static CellValue Text(string text) => new(CellValueKind.Text, 0, text ?? "");

    /// <summary>A boolean.</summary>
    public static CellValue Boolean(bool value) => value ? True : False;

    /// <summary>An error value.</summary>
    public static CellValue Error(FormulaError error) => new(CellValueKind.Error, (double)error, null);

    /// <summary>Whether this is empty.</summary>
    public bool IsEmpty => Kind == CellValueKind.Empty;

    /// <summary>Whether this is an error.</summary>
    public bool IsError => Kind == CellValueKind.Error;

    /// <summary>The number (for <see cref="CellValueKind.Number"/>).</summary>
    public double AsNumber => _number;

    /// <summary>The text (for <see cref="CellValueKind.Text"/>), or "".</summary>
    public string AsText => _text ?? "";

    /// <summary>The boolean (for <see cref="CellValueKind.Boolean"/>).</summary>
    public bool AsBoolean => _number != 0;

    /// <summary>The error (for <see cref="CellValueKind.Error"/>).</summary>
    public FormulaError AsError => (FormulaError)(byte)_number;

    /// <summary>How Excel writes an error value.</summary>
    public static string ErrorText(FormulaError error) => error switch
    {
        FormulaError.Null => "#NULL!",
        FormulaError.Div0 => "#DIV/0!",
        FormulaError.Value => "#VALUE!",
        FormulaError.Ref => "#REF!",
        FormulaError.Name => "#NAME?",
        FormulaError.Num => "#NUM!",
        FormulaError.NA => "#N/A",
        FormulaError.Cycle => "#CYCLE!",
        _ => "#VALUE!",
    };

    /// <summary>The error an error literal names, if it is one.</summary>
    public static bool TryParseError(string text, out FormulaError error)
    {
        foreach (var candidate in Enum.GetValues<FormulaError>())
        {
            if (string.Equals(ErrorText(candidate), text, StringComparison.OrdinalIgnoreCase))
            {
                error = candidate;
                return true;
            }
        }

        error = default;
        return false;
    }

    /// <summary>A number as Excel writes it in text: at most 15 significant digits, scientific from 1E+15 on.</summary>
    public static string NumberText(double number)
    {
        if (number == 0)
        {
            return "0";
        }

        var text = number.ToString("G15", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return text;
        }

        // .NET writes E+15 and E-07 as Excel does; keep two exponent digits at least, as Excel does.
        var mantissa = text[..e];
        var exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return mantissa + "E" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>The value as text, as <c>&amp;</c> and the text functions see it.</summary>
    public override string ToString() => Kind switch
    {
        CellValueKind.Empty => "",
        CellValueKind.Number => NumberText(_number),
        CellValueKind.Text => AsText,
        CellValueKind.Boolean => AsBoolean ? "TRUE" : "FALSE",
        _ => ErrorText(AsError),
    };

    /// <inheritdoc/>
    public bool Equals(CellValue other) =>
        Kind == other.Kind && (Kind == CellValueKind.Text ? string.Equals(_text, other._text, StringComparison.Ordinal) : _number.Equals(other._number));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CellValue other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, _number, _text);

    /// <summary>Equal kinds and contents (text compared exactly).</summary>
    public static bool operator ==(CellValue left, CellValue right) => left.Equals(right);

    /// <summary>Not <see cref="op_Equality"/>.</summary>
    public static bool operator !=(CellValue left, CellValue right) => !left.Equals(right);

    /// <summary>
    /// Text read as a number the way Excel's arithmetic reads it: spaces around, a sign, digits with thousands
    /// separators, a decimal point, an exponent, a trailing percent sign, or an ISO date (yyyy-mm-dd).
    /// </summary>
    public static bool TryParseNumber(string text, out double number)
    {
        var span = text.AsSpan().Trim();
        number = 0;
        if (span.IsEmpty)
        {
            return false;
        }

        var percent = false;
        if (span[^1] == '%')
        {
            percent = true;
            span = span[..^1].TrimEnd();
        }

        if (double.TryParse(span, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent | NumberStyles.AllowThousands,
                CultureInfo.InvariantCulture, out number) && double.IsFinite(number))
        {
            if (percent)
            {
                number /= 100;
            }

            return true;
        }

        if (!percent && span.Length == 10 && span[4] == '-' && span[7] == '-' &&
            int.TryParse(span[..4], NumberStyles.None, CultureInfo.InvariantCulture, out var year) &&
            int.TryParse(span[5..7], NumberStyles.None, CultureInfo.InvariantCulture, out var month) &&
            int.TryParse(span[8..], NumberStyles.None, CultureInfo.InvariantCulture, out var day) &&
            year is >= 1900 and <= 9999 && month is >= 1 and <= 12 && day >= 1 &&
            (day <= DateTime.DaysInMonth(year, month) || (year, month, day) == (1900, 2, 29)))
        {
            // An ISO date in Excel's calendar: from 1900 (its 1900-02-29 included), nothing before.
            number = ExcelDates.FromParts(year, month, day);
            return true;
        }

        return false;
    }
}
