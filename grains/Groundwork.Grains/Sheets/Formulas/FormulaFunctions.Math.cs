namespace Groundwork.Grains.Sheets.Formulas;

public static partial class FormulaFunctions
{
    private static void AddMath(Action<string, int, int, Implementation> add)
    {
        add("SUM", 1, Many, a =>
        {
            var sum = 0d;
            return Numbers(a, 0, n => sum += n) is { } error ? Fail(error) : Number(sum);
        });
        add("PRODUCT", 1, Many, a =>
        {
            var product = 1d;
            var any = false;
            return Numbers(a, 0, n => (product, any) = (product * n, true)) is { } error ? Fail(error) : Number(any ? product : 0);
        });
        add("SUMPRODUCT", 1, Many, SumProduct);
        add("ROUND", 2, 2, a => Round(a, MidpointRounding.AwayFromZero));
        add("ROUNDUP", 2, 2, a => Round(a, MidpointRounding.AwayFromZero, up: true));
        add("ROUNDDOWN", 2, 2, a => Round(a, MidpointRounding.ToZero));
        add("INT", 1, 1, Math1(x => Number(Math.Floor(x))));
        add("ABS", 1, 1, Math1(x => Number(Math.Abs(x))));
        add("SQRT", 1, 1, Math1(x => x < 0 ? Error(FormulaError.Num) : Number(Math.Sqrt(x))));
        add("MOD", 2, 2, a =>
        {
            if (!a.Number(0, out var n, out var e) || !a.Number(1, out var d, out e))
            {
                return Fail(e);
            }

            return d == 0 ? Error(FormulaError.Div0) : Number(n - d * Math.Floor(n / d));
        });
        add("POWER", 2, 2, a => a.Number(0, out var x, out var e) && a.Number(1, out var y, out e) ? Arithmetic.Power(x, y) : Fail(e));
    }

    private static Operand SumProduct(Arguments a)
    {
        CellValue[,]? first = null;
        var grids = new List<CellValue[,]>();
        for (var i = 0; i < a.Count; i++)
        {
            var values = a.Evaluator.Values(a.Raw(i, arrays: true));
            first ??= values;
            if (values.GetLength(0) != first.GetLength(0) || values.GetLength(1) != first.GetLength(1))
            {
                return Error(FormulaError.Value);
            }

            grids.Add(values);
        }

        var sum = 0d;
        for (var r = 0; r < first!.GetLength(0); r++)
        {
            for (var c = 0; c < first.GetLength(1); c++)
            {
                var product = 1d;
                foreach (var grid in grids)
                {
                    var value = grid[r, c];
                    if (value.IsError)
                    {
                        return value;
                    }

                    // Text, booleans and empty cells count as 0 (multiply a comparison by 1, or use --, to count it).
                    product *= value.Kind == CellValueKind.Number ? value.AsNumber : 0;
                }

                sum += product;
            }
        }

        return Number(sum);
    }

    /// <summary>ROUND, ROUNDUP and ROUNDDOWN, through <c>decimal</c> (15 significant digits, as Excel sees the number).</summary>
    private static Operand Round(Arguments a, MidpointRounding mode, bool up = false)
    {
        if (!a.Number(0, out var x, out var e) || !a.Number(1, out var d, out e))
        {
            return Fail(e);
        }

        var digits = Math.Clamp(Math.Truncate(d), -30, 30);
        if (digits > 15 || Math.Abs(x) >= 1e15 || Math.Abs(x) * Math.Pow(10, digits) >= 1e15)
        {
            // Past 15 significant digits there is nothing to round (and decimal would overflow).
            return Number(x);
        }

        if (digits < -15)
        {
            return Number(0);
        }

        var value = (decimal)x;
        var scale = Pow10((int)Math.Abs(digits));
        var scaled = digits >= 0 ? value * scale : value / scale;
        var rounded = up ? (scaled < 0 ? Math.Floor(scaled) : Math.Ceiling(scaled)) : Math.Round(scaled, 0, mode);
        return Number((double)(digits >= 0 ? rounded / scale : rounded * scale));
    }

    private static decimal Pow10(int exponent)
    {
        var result = 1m;
        for (var i = 0; i < exponent; i++)
        {
            result *= 10;
        }

        return result;
    }

    private static void AddStatistics(Action<string, int, int, Implementation> add)
    {
        add("AVERAGE", 1, Many, a =>
        {
            var (sum, count) = (0d, 0);
            if (Numbers(a, 0, n => (sum, count) = (sum + n, count + 1)) is { } error)
            {
                return Fail(error);
            }

            return count == 0 ? Error(FormulaError.Div0) : Number(sum / count);
        });
        add("COUNT", 1, Many, a =>
        {
            var count = 0;
            Each(a, 0, (value, inRange) =>
            {
                if (value.Kind == CellValueKind.Number || (!inRange && (value.Kind == CellValueKind.Boolean ||
                        (value.Kind == CellValueKind.Text && CellValue.TryParseNumber(value.AsText, out _)))))
                {
                    count++;
                }

                return true;
            });
            return Number(count);
        });
        add("COUNTA", 1, Many, a =>
        {
            var count = 0;
            Each(a, 0, (value, inRange) =>
            {
                if (!value.IsEmpty || !inRange)
                {
                    count++;
                }

                return true;
            });
            return Number(count);
        });
        add("COUNTBLANK", 1, 1, a =>
        {
            var grid = GridOf(a, 0);
            var filled = grid.NonEmpty().Count(c => !(c.Value.Kind == CellValueKind.Text && c.Value.AsText.Length == 0));
            return Number(grid.Count - filled);
        });
        add("MIN", 1, Many, a => Extreme(a, min: true));
        add("MAX", 1, Many, a => Extreme(a, min: false));
        add("MEDIAN", 1, Many, a =>
        {
            var numbers = new List<double>();
            if (Numbers(a, 0, numbers.Add) is { } error)
            {
                return Fail(error);
            }

            if (numbers.Count == 0)
            {
                return Error(FormulaError.Num);
            }

            numbers.Sort();
            var middle = numbers.Count / 2;
            return Number(numbers.Count % 2 == 1 ? numbers[middle] : (numbers[middle - 1] + numbers[middle]) / 2);
        });
        add("LARGE", 2, 2, a => Nth(a, largest: true));
        add("SMALL", 2, 2, a => Nth(a, largest: false));
        add("COUNTIF", 2, 2, a => Ifs(a, null, 0, Reduce.Count));
        add("COUNTIFS", 2, Many, a => a.Count % 2 != 0 ? Error(FormulaError.Value) : Ifs(a, null, 0, Reduce.Count));
        add("SUMIF", 2, 3, a => Ifs(a, a.Has(2) ? 2 : 0, 0, Reduce.Sum, pairs: 1));
        add("SUMIFS", 3, Many, a => a.Count % 2 != 1 ? Error(FormulaError.Value) : Ifs(a, 0, 1, Reduce.Sum));
        add("AVERAGEIF", 2, 3, a => Ifs(a, a.Has(2) ? 2 : 0, 0, Reduce.Average, pairs: 1));
        add("AVERAGEIFS", 3, Many, a => a.Count % 2 != 1 ? Error(FormulaError.Value) : Ifs(a, 0, 1, Reduce.Average));
        add("MINIFS", 3, Many, a => a.Count % 2 != 1 ? Error(FormulaError.Value) : Ifs(a, 0, 1, Reduce.Min));
        add("MAXIFS", 3, Many, a => a.Count % 2 != 1 ? Error(FormulaError.Value) : Ifs(a, 0, 1, Reduce.Max));
    }

    private static Operand Extreme(Arguments a, bool min)
    {
        double? best = null;
        if (Numbers(a, 0, n => best = best is not { } b ? n : min ? Math.Min(b, n) : Math.Max(b, n)) is { } error)
        {
            return Fail(error);
        }

        return Number(best ?? 0);
    }

    private static Operand Nth(Arguments a, bool largest)
    {
        var numbers = new List<double>();
        if (Numbers(a, 0, numbers.Add, end: 1) is { } error)
        {
            return Fail(error);
        }

        if (!a.Number(1, out var k, out var e))
        {
            return Fail(e);
        }

        var n = (int)Math.Ceiling(k);
        if (n < 1 || n > numbers.Count)
        {
            return Error(FormulaError.Num);
        }

        numbers.Sort();
        return Number(largest ? numbers[^n] : numbers[n - 1]);
    }

    private enum Reduce
    {
        Count,
        Sum,
        Average,
        Min,
        Max,
    }

    /// <summary>
    /// The *IF and *IFS functions: pairs of (range, criterion) from <paramref name="pairsStart"/>, all ranges of one
    /// shape, and the cell of the values range (<paramref name="valuesIndex"/>) at each position that meets every
    /// criterion. Positions come from the first range's filled cells, unless its criterion matches empty cells.
    /// </summary>
    private static Operand Ifs(Arguments a, int? valuesIndex, int pairsStart, Reduce reduce, int? pairs = null)
    {
        var count = pairs ?? (a.Count - pairsStart) / 2;
        var ranges = new Grid[count];
        var criteria = new Criterion[count];
        for (var p = 0; p < count; p++)
        {
            ranges[p] = GridOf(a, pairsStart + 2 * p);
            var criterion = a.Scalar(pairsStart + 2 * p + 1);
            criteria[p] = Criterion.Of(criterion.IsEmpty ? CellValue.Number(0) : criterion);
            if (ranges[p].Rows != ranges[0].Rows || ranges[p].Columns != ranges[0].Columns)
            {
                return Error(FormulaError.Value);
            }
        }

        // SUMIF's sum range takes its shape from the criteria range (Excel reads it from its top-left cell); the *IFS
        // functions' values range must have the criteria ranges' shape.
        var values = valuesIndex is { } v ? GridOf(a, v) : default;
        if (pairs is null && valuesIndex is not null && (values.Rows != ranges[0].Rows || values.Columns != ranges[0].Columns))
        {
            return Error(FormulaError.Value);
        }
        IEnumerable<(int Row, int Column)> Positions()
        {
            if (!criteria[0].MatchesEmpty)
            {
                foreach (var (row, column, _) in ranges[0].NonEmpty())
                {
                    yield return (row, column);
                }

                yield break;
            }

            for (var r = 0; r < ranges[0].Rows; r++)
            {
                for (var c = 0; c < ranges[0].Columns; c++)
                {
                    yield return (r, c);
                }
            }
        }

        if (criteria[0].MatchesEmpty && ranges[0].Count > FormulaEvaluator.MaxGridCells)
        {
            return Error(FormulaError.Num);
        }

        var (total, matched) = (0d, 0);
        double? best = null;
        foreach (var (row, column) in Positions())
        {
            var all = true;
            for (var p = 0; p < count && all; p++)
            {
                all = criteria[p].Matches(ranges[p][row, column]);
            }

            if (!all)
            {
                continue;
            }

            if (valuesIndex is null)
            {
                matched++;
                continue;
            }

            var value = values[row, column];
            if (value.IsError)
            {
                return value;
            }

            if (value.Kind != CellValueKind.Number)
            {
                continue;
            }

            total += value.AsNumber;
            matched++;
            best = best is not { } b ? value.AsNumber : reduce == Reduce.Min ? Math.Min(b, value.AsNumber) : Math.Max(b, value.AsNumber);
        }

        return reduce switch
        {
            Reduce.Count => Number(matched),
            Reduce.Sum => Number(total),
            Reduce.Average => matched == 0 ? Error(FormulaError.Div0) : Number(total / matched),
            _ => Number(best ?? 0),
        };
    }
}
