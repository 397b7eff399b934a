namespace Groundwork.Grains.Sheets.Formulas;

public static partial class FormulaFunctions
{
    private static void AddDates(Action<string, int, int, Implementation> add)
    {
        add("TODAY", 0, 0, a => Number(Math.Floor(ExcelDates.ToSerial(a.Context.Now))));
        add("NOW", 0, 0, a => Number(ExcelDates.ToSerial(a.Context.Now)));
        add("DATE", 3, 3, a =>
        {
            if (!a.Number(0, out var y, out var e) || !a.Number(1, out var m, out e) || !a.Number(2, out var d, out e))
            {
                return Fail(e);
            }

            var serial = ExcelDates.FromParts(y, m, d);
            return double.IsNaN(serial) ? Error(FormulaError.Num) : Number(serial);
        });
        add("YEAR", 1, 1, a => DatePart(a, 0, (y, _, _) => y));
        add("MONTH", 1, 1, a => DatePart(a, 0, (_, m, _) => m));
        add("DAY", 1, 1, a => DatePart(a, 0, (_, _, d) => d));
        add("WEEKDAY", 1, 2, a =>
        {
            if (!a.Number(0, out var serial, out var e) || !a.Number(1, 1, out var type, out e))
            {
                return Fail(e);
            }

            if (serial < 0 || serial > ExcelDates.MaxSerial)
            {
                return Error(FormulaError.Num);
            }

            // 0 is Sunday: Excel counts serial 1 (1900-01-01) as a Sunday.
            var day = (int)((Math.Floor(serial) + 6) % 7);
            return (int)type switch
            {
                1 or 17 => Number(day + 1),
                2 or 11 => Number((day + 6) % 7 + 1),
                3 => Number((day + 6) % 7),
                >= 12 and <= 16 => Number((day - ((int)type - 10) + 7) % 7 + 1),
                _ => Error(FormulaError.Num),
            };
        });
        add("EDATE", 2, 2, a => MonthsLater(a, endOfMonth: false));
        add("EOMONTH", 2, 2, a => MonthsLater(a, endOfMonth: true));
        add("DAYS", 2, 2, a => a.Number(0, out var end, out var e) && a.Number(1, out var start, out e)
            ? Number(Math.Floor(end) - Math.Floor(start))
            : Fail(e));
    }

    private static Operand DatePart(Arguments a, int index, Func<int, int, int, int> part)
    {
        if (!a.Number(index, out var serial, out var e))
        {
            return Fail(e);
        }

        return ExcelDates.TryParts(serial, out var year, out var month, out var day) ? Number(part(year, month, day)) : Error(FormulaError.Num);
    }

    private static Operand MonthsLater(Arguments a, bool endOfMonth)
    {
        if (!a.Number(0, out var serial, out var e) || !a.Number(1, out var months, out e))
        {
            return Fail(e);
        }

        if (!ExcelDates.TryParts(serial, out var year, out var month, out var day))
        {
            return Error(FormulaError.Num);
        }

        var total = year * 12 + (month - 1) + (int)Math.Truncate(months);
        var (y, m) = (total / 12, total % 12 + 1);
        if (y is < 1900 or > 9999)
        {
            return Error(FormulaError.Num);
        }

        var last = DateTime.DaysInMonth(y, m);
        var result = ExcelDates.FromParts(y, m, endOfMonth ? last : Math.Min(day, last));
        return double.IsNaN(result) ? Error(FormulaError.Num) : Number(result);
    }
}
