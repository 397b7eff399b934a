using System.Globalization;
using System.Text;

namespace Groundwork.Grains.Sheets.Formulas;

public static partial class FormulaFunctions
{
    private static void AddText(Action<string, int, int, Implementation> add)
    {
        add("CONCATENATE", 1, Many, a =>
        {
            var text = new StringBuilder();
            for (var i = 0; i < a.Count; i++)
            {
                if (!a.Text(i, out var part, out var e))
                {
                    return Fail(e);
                }

                text.Append(part);
            }

            return TextResult(text.ToString());
        });
        add("CONCAT", 1, Many, a => Join(a, 0, "", ignoreEmpty: true));
        add("TEXTJOIN", 3, Many, a =>
        {
            if (!a.Text(0, out var delimiter, out var e) || !a.Boolean(1, true, out var ignoreEmpty, out e))
            {
                return Fail(e);
            }

            return Join(a, 2, delimiter, ignoreEmpty);
        });
        add("LEFT", 1, 2, a => a.Text(0, out var t, out var e) && a.Number(1, 1, out var n, out e)
            ? n < 0 ? Error(FormulaError.Value) : CellValue.Text(t[..(int)Math.Min(t.Length, Math.Floor(n))])
            : Fail(e));
        add("RIGHT", 1, 2, a => a.Text(0, out var t, out var e) && a.Number(1, 1, out var n, out e)
            ? n < 0 ? Error(FormulaError.Value) : CellValue.Text(t[(t.Length - (int)Math.Min(t.Length, Math.Floor(n)))..])
            : Fail(e));
        add("MID", 3, 3, a =>
        {
            if (!a.Text(0, out var t, out var e) || !a.Number(1, out var start, out e) || !a.Number(2, out var n, out e))
            {
                return Fail(e);
            }

            if (start < 1 || n < 0)
            {
                return Error(FormulaError.Value);
            }

            var from = (int)Math.Min(t.Length, Math.Floor(start) - 1);
            return CellValue.Text(t.Substring(from, (int)Math.Min(t.Length - from, Math.Floor(n))));
        });
        add("LEN", 1, 1, a => a.Text(0, out var t, out var e) ? Number(t.Length) : Fail(e));
        add("UPPER", 1, 1, a => a.Text(0, out var t, out var e) ? CellValue.Text(t.ToUpperInvariant()) : Fail(e));
        add("LOWER", 1, 1, a => a.Text(0, out var t, out var e) ? CellValue.Text(t.ToLowerInvariant()) : Fail(e));
        add("PROPER", 1, 1, a => a.Text(0, out var t, out var e) ? CellValue.Text(Proper(t)) : Fail(e));
        add("TRIM", 1, 1, a => a.Text(0, out var t, out var e)
            ? CellValue.Text(string.Join(' ', t.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            : Fail(e));
        add("SUBSTITUTE", 3, 4, Substitute);
        add("REPLACE", 4, 4, a =>
        {
            if (!a.Text(0, out var t, out var e) || !a.Number(1, out var start, out e) || !a.Number(2, out var n, out e) || !a.Text(3, out var with, out e))
            {
                return Fail(e);
            }

            if (start < 1 || n < 0)
            {
                return Error(FormulaError.Value);
            }

            var from = (int)Math.Min(t.Length, Math.Floor(start) - 1);
            var count = (int)Math.Min(t.Length - from, Math.Floor(n));
            return TextResult(string.Concat(t.AsSpan(0, from), with, t.AsSpan(from + count)));
        });
        add("REPT", 2, 2, a =>
        {
            if (!a.Text(0, out var t, out var e) || !a.Number(1, out var n, out e))
            {
                return Fail(e);
            }

            var times = Math.Floor(n);
            if (times < 0 || times * t.Length > MaxText)
            {
                return Error(FormulaError.Value);
            }

            return CellValue.Text(new StringBuilder(t.Length * (int)times).Insert(0, t, (int)times).ToString());
        });
        add("FIND", 2, 3, a => Find(a, caseSensitive: true));
        add("SEARCH", 2, 3, a => Find(a, caseSensitive: false));
        add("EXACT", 2, 2, a => a.Text(0, out var x, out var e) && a.Text(1, out var y, out e) ? CellValue.Boolean(string.Equals(x, y, StringComparison.Ordinal)) : Fail(e));
        add("VALUE", 1, 1, a =>
        {
            var value = a.Scalar(0);
            return value.Kind switch
            {
                CellValueKind.Error => value,
                CellValueKind.Number => value,
                CellValueKind.Empty => Number(0),
                CellValueKind.Text when CellValue.TryParseNumber(value.AsText, out var n) => Number(n),
                _ => Error(FormulaError.Value),
            };
        });
        add("TEXT", 2, 2, a =>
        {
            var value = a.Scalar(0);
            if (value.IsError)
            {
                return value;
            }

            if (!a.Text(1, out var format, out var e))
            {
                return Fail(e);
            }

            if (!Arithmetic.TryNumber(value, out var number, out _))
            {
                // Text that is not a number comes back as it is.
                return CellValue.Text(value.ToString());
            }

            return NumberFormat.Format(number, format) is { } text ? TextResult(text) : Error(FormulaError.Value);
        });
    }

    private static Operand Join(Arguments a, int start, string delimiter, bool ignoreEmpty)
    {
        var text = new StringBuilder();
        var first = true;
        CellValue? error = null;
        for (var i = start; i < a.Count && error is null; i++)
        {
            var operand = a.Raw(i, arrays: true);
            IEnumerable<CellValue> values;
            if (IsGrid(operand) && !ignoreEmpty)
            {
                var grid = new Grid(a.Context, operand);
                if (grid.Count > FormulaEvaluator.MaxGridCells)
                {
                    return Error(FormulaError.Num);
                }

                values = a.Evaluator.Values(operand).Cast<CellValue>();
            }
            else
            {
                values = IsGrid(operand) ? new Grid(a.Context, operand).NonEmpty().Select(c => c.Value) : [operand.Value];
            }

            foreach (var value in values)
            {
                if (value.IsError)
                {
                    error = value;
                    break;
                }

                var part = value.ToString();
                if (ignoreEmpty && part.Length == 0)
                {
                    continue;
                }

                if (!first)
                {
                    text.Append(delimiter);
                }

                text.Append(part);
                first = false;
                if (text.Length > MaxText)
                {
                    return Error(FormulaError.Value);
                }
            }
        }

        return error is { } e ? e : TextResult(text.ToString());
    }

    private static string Proper(string text)
    {
        var result = new StringBuilder(text.Length);
        var afterLetter = false;
        foreach (var c in text)
        {
            result.Append(afterLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            afterLetter = char.IsLetter(c);
        }

        return result.ToString();
    }

    private static Operand Substitute(Arguments a)
    {
        if (!a.Text(0, out var text, out var e) || !a.Text(1, out var old, out e) || !a.Text(2, out var with, out e))
        {
            return Fail(e);
        }

        if (old.Length == 0)
        {
            return CellValue.Text(text);
        }

        if (!a.Has(3))
        {
            // The result's length is known before it is built: never more than a cell holds.
            var occurrences = 0;
            for (var found = text.IndexOf(old, StringComparison.Ordinal); found >= 0; found = text.IndexOf(old, found + old.Length, StringComparison.Ordinal))
            {
                occurrences++;
            }

            return text.Length + ((long)with.Length - old.Length) * occurrences > MaxText
                ? Error(FormulaError.Value)
                : CellValue.Text(text.Replace(old, with, StringComparison.Ordinal));
        }

        if (!a.Number(3, out var instance, out e))
        {
            return Fail(e);
        }

        if (instance < 1)
        {
            return Error(FormulaError.Value);
        }

        var at = -1;
        for (var n = 0; n < (int)Math.Floor(instance); n++)
        {
            at = text.IndexOf(old, at + 1, StringComparison.Ordinal);
            if (at < 0)
            {
                return CellValue.Text(text);
            }
        }

        return TextResult(string.Concat(text.AsSpan(0, at), with, text.AsSpan(at + old.Length)));
    }

    private static Operand Find(Arguments a, bool caseSensitive)
    {
        if (!a.Text(0, out var find, out var e) || !a.Text(1, out var within, out e) || !a.Number(2, 1, out var start, out e))
        {
            return Fail(e);
        }

        var from = (int)Math.Floor(start) - 1;
        if (from < 0 || from > within.Length)
        {
            return Error(FormulaError.Value);
        }

        if (caseSensitive)
        {
            var at = within.IndexOf(find, from, StringComparison.Ordinal);
            return at < 0 ? Error(FormulaError.Value) : Number(at + 1);
        }

        // SEARCH takes wildcards: the first position from which the pattern matches some prefix of the rest.
        if (find.AsSpan().IndexOfAny('*', '?', '~') < 0)
        {
            var at = within.IndexOf(find, from, StringComparison.OrdinalIgnoreCase);
            return at < 0 ? Error(FormulaError.Value) : Number(at + 1);
        }

        // A match starting at i is the pattern followed by anything: one test per start.
        var prefix = find + "*";
        for (var i = from; i <= within.Length; i++)
        {
            if (Criterion.Like(within[i..], prefix))
            {
                return Number(i + 1);
            }
        }

        return Error(FormulaError.Value);
    }
}

/// <summary>
/// TEXT's format codes, the common part of Excel's: sections for positive, negative and zero numbers; digits
/// (<c>0 # ?</c>), thousands and scaling commas, decimals, percent, exponents and quoted or escaped text, as .NET's
/// custom numeric formats read them (rounding half away from zero, through <c>decimal</c>); and dates and times
/// (<c>yyyy yy mmmm mmm mm m dddd ddd dd d hh h mm ss AM/PM</c>). "General" is the number as Excel shows it.
/// </summary>
internal static class NumberFormat
{
    public static string? Format(double number, string format)
    {
        if (format.Length == 0 || format.Equals("General", StringComparison.OrdinalIgnoreCase) || format == "@")
        {
            return CellValue.NumberText(number);
        }

        var sections = Split(format);
        var section = number switch
        {
            < 0 when sections.Count > 1 => sections[1],
            0 when sections.Count > 2 => sections[2],
            _ => sections[0],
        };
        var value = number < 0 && sections.Count > 1 ? -number : number;
        if (section.Contains('[', StringComparison.Ordinal) || System.Text.RegularExpressions.Regex.IsMatch(section, @"^\s*[A-Za-z]\d*\s*$"))
        {
            // Colours and conditions ([Red], [>100]) are not known here, and a .NET standard format ("F999999999",
            // "C") is not Excel's: #VALUE! rather than something else.
            return null;
        }

        if (IsDate(section))
        {
            return value is < 0 or >= ExcelDates.MaxSerial + 1 ? null : FormatDate(value, section);
        }

        try
        {
            return Math.Abs(value) < 7.9e27
                ? ((decimal)value).ToString(section, CultureInfo.InvariantCulture)
                : value.ToString(section, CultureInfo.InvariantCulture);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static List<string> Split(string format)
    {
        var sections = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == '\\' && i + 1 < format.Length)
            {
                current.Append(c).Append(format[++i]);
                continue;
            }
            else if (c == ';' && !quoted)
            {
                sections.Add(current.ToString());
                current.Clear();
                continue;
            }

            current.Append(c);
        }

        sections.Add(current.ToString());
        return sections;
    }

    private static bool IsDate(string section)
    {
        var quoted = false;
        foreach (var c in section)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && char.ToLowerInvariant(c) is 'y' or 'd' or 'h' or 's' or 'm')
            {
                return true;
            }
        }

        return false;
    }

    private static string FormatDate(double serial, string section)
    {
        ExcelDates.TryParts(serial, out var year, out var month, out var day);
        var seconds = (int)Math.Round((serial - Math.Floor(serial)) * 86_400, MidpointRounding.AwayFromZero);
        var (hour, minute, second) = (seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
        var twelveHour = section.Contains("AM/PM", StringComparison.OrdinalIgnoreCase);
        var weekday = (int)((Math.Floor(serial) + 6) % 7);
        var text = new StringBuilder();
        var lastWasHour = false;
        for (var i = 0; i < section.Length;)
        {
            var c = section[i];
            var run = 1;
            while (i + run < section.Length && char.ToLowerInvariant(section[i + run]) == char.ToLowerInvariant(c))
            {
                run++;
            }

            switch (char.ToLowerInvariant(c))
            {
                case 'y':
                    text.Append(run <= 2 ? (year % 100).ToString("00", CultureInfo.InvariantCulture) : year.ToString("0000", CultureInfo.InvariantCulture));
                    break;
                case 'm' when lastWasHour || NextIsSeconds(section, i + run):
                    text.Append(run >= 2 ? minute.ToString("00", CultureInfo.InvariantCulture) : minute.ToString(CultureInfo.InvariantCulture));
                    lastWasHour = false;
                    break;
                case 'm':
                    text.Append(run switch
                    {
                        1 => month.ToString(CultureInfo.InvariantCulture),
                        2 => month.ToString("00", CultureInfo.InvariantCulture),
                        3 => CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedMonthName(month),
                        _ => CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(month),
                    });
                    break;
                case 'd':
                    text.Append(run switch
                    {
                        1 => day.ToString(CultureInfo.InvariantCulture),
                        2 => day.ToString("00", CultureInfo.InvariantCulture),
                        3 => CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedDayName((DayOfWeek)weekday),
                        _ => CultureInfo.InvariantCulture.DateTimeFormat.GetDayName((DayOfWeek)weekday),
                    });
                    break;
                case 'h':
                    var h = twelveHour ? (hour % 12 == 0 ? 12 : hour % 12) : hour;
                    text.Append(run >= 2 ? h.ToString("00", CultureInfo.InvariantCulture) : h.ToString(CultureInfo.InvariantCulture));
                    lastWasHour = true;
                    i += run;
                    continue;
                case 's':
                    text.Append(run >= 2 ? second.ToString("00", CultureInfo.InvariantCulture) : second.ToString(CultureInfo.InvariantCulture));
                    break;
                case 'a' when string.Compare(section, i, "AM/PM", 0, 5, StringComparison.OrdinalIgnoreCase) == 0:
                    text.Append(hour < 12 ? "AM" : "PM");
                    i += 5;
                    continue;
                case '"':
                    var close = section.IndexOf('"', i + 1);
                    close = close < 0 ? section.Length : close;
                    text.Append(section, i + 1, close - i - 1);
                    i = close + 1;
                    continue;
                case '\\' when i + 1 < section.Length:
                    text.Append(section[i + 1]);
                    i += 2;
                    continue;
                default:
                    text.Append(c, run);
                    break;
            }

            if (char.ToLowerInvariant(c) is not (' ' or ':'))
            {
                lastWasHour = false;
            }

            i += run;
        }

        return text.ToString();
    }

    /// <summary>Whether the next letters after <paramref name="at"/> (past separators) are seconds: <c>mm:ss</c> is minutes.</summary>
    private static bool NextIsSeconds(string section, int at)
    {
        while (at < section.Length && section[at] is ':' or ' ' or '.')
        {
            at++;
        }

        return at < section.Length && char.ToLowerInvariant(section[at]) == 's';
    }
}
