namespace Groundwork.Grains.Sheets.Formulas;

/// <summary>
/// Excel's 1900 date system: serial 1 is 1900-01-01 and serial 60 is 1900-02-29, a day that never was (kept by Excel
/// for Lotus 1-2-3); from serial 61 (1900-03-01) on, serials count real days. The fraction is the time of day.
/// </summary>
public static class ExcelDates
{
    private static readonly DateTime Day0 = new(1899, 12, 31, 0, 0, 0, DateTimeKind.Unspecified);

    /// <summary>The largest serial Excel shows as a date: 9999-12-31.</summary>
    public const double MaxSerial = 2_958_465;

    /// <summary>The serial of <paramref name="date"/> (its time as the fraction).</summary>
    public static double ToSerial(DateTime date)
    {
        var days = (date.Date - Day0).Days;
        if (days >= 60)
        {
            days++;
        }

        return days + date.TimeOfDay.TotalDays;
    }

    /// <summary>The year, month and day of a serial's whole part (serial 0 is Excel's 1900-01-00; 60 is 1900-02-29).</summary>
    public static bool TryParts(double serial, out int year, out int month, out int day)
    {
        year = month = day = 0;
        if (serial < 0 || serial >= MaxSerial + 1)
        {
            return false;
        }

        var whole = (int)Math.Floor(serial);
        switch (whole)
        {
            case 0:
                (year, month, day) = (1900, 1, 0);
                return true;
            case 60:
                (year, month, day) = (1900, 2, 29);
                return true;
        }

        var date = Day0.AddDays(whole < 60 ? whole : whole - 1);
        (year, month, day) = (date.Year, date.Month, date.Day);
        return true;
    }

    /// <summary>The date of a serial's whole part, for serials from 61 on (before that, Excel's calendar is not the real one).</summary>
    public static DateTime ToDate(double serial) => Day0.AddDays(Math.Floor(serial) < 60 ? Math.Floor(serial) : Math.Floor(serial) - 1);

    /// <summary>
    /// DATE(year, month, day) as Excel computes it: years 0-1899 are added to 1900, months and days past their range
    /// roll over (DATE(2025,13,1) is 2026-01-01, DATE(2025,1,0) is 2024-12-31); NaN when out of Excel's range.
    /// </summary>
    public static double FromParts(double year, double month, double day)
    {
        var y = Math.Floor(year);
        if (y is < 0 or > 9999)
        {
            return double.NaN;
        }

        if (y < 1900)
        {
            y += 1900;
        }

        // Whole months from January of the year, then days from the first of that month.
        var months = (y - 1900) * 12 + Math.Floor(month) - 1;
        var yearOf = 1900 + (int)Math.Floor(months / 12);
        var monthOf = (int)(months - Math.Floor(months / 12) * 12) + 1;
        if (yearOf is < 1900 or > 9999)
        {
            return double.NaN;
        }

        var first = ToSerial(new DateTime(yearOf, monthOf, 1, 0, 0, 0, DateTimeKind.Unspecified));
        if (yearOf == 1900 && monthOf <= 2)
        {
            // January and February 1900 count Excel's way, with its 29th of February.
            first = monthOf == 1 ? 1 : 32;
        }

        var serial = first + Math.Floor(day) - 1;
        return serial is < 0 or > MaxSerial ? double.NaN : serial;
    }
}
