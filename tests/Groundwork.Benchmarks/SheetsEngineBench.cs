using System.Diagnostics;
using System.Globalization;
using Groundwork.Grains.Sheets;
using Groundwork.Grains.Sheets.Formulas;

namespace Groundwork.Benchmarks;

/// <summary>
/// The Sheets engine on its own (no grain, no storage, no feed): recalculation of an edit with 10,000 dependents, a
/// 100,000-long chain, edits with no dependents, and parsing. For tuning; the Sheets section of docs/benchmarks.md
/// will measure them through the workbook grain. Run with GROUNDWORK_BENCH=sheets-engine.
/// </summary>
internal static class SheetsEngineBench
{
    /// <summary>One path many times over, for a profiler to sample.</summary>
    public static void Profile(string path)
    {
        static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
        var watch = Stopwatch.StartNew();
        switch (path)
        {
            case "chain":
                var chain = new Workbook();
                chain.Apply([new CellEdit(0, 0, 0, "1"), .. Enumerable.Range(1, 99_999).Select(r => new CellEdit(0, r, 0, $"=A{Text(r)}+1"))]);
                watch.Restart();
                for (var i = 0; i < 100; i++)
                {
                    chain.Apply([new CellEdit(0, 0, 0, Text(i + 2))]);
                }

                break;
            case "restore":
                var cells = Enumerable.Range(0, 50_000).SelectMany(r => new[] { new StoredCell(0, r, 0, null, CellValue.Number(r)), new StoredCell(0, r, 1, $"=A{Text(r + 1)}*2+1", CellValue.Number(r * 2 + 1)) }).ToList();
                watch.Restart();
                for (var i = 0; i < 30; i++)
                {
                    Workbook.Restore(["Sheet1"], cells);
                }

                break;
            default:
                var fan = new Workbook();
                fan.Apply([new CellEdit(0, 0, 0, "1"), .. Enumerable.Range(0, 10_000).Select(r => new CellEdit(0, r, 1, "=$A$1+ROW()"))]);
                watch.Restart();
                for (var i = 0; i < 300; i++)
                {
                    fan.Apply([new CellEdit(0, 0, 0, Text(i + 2))]);
                }

                break;
        }

        Console.WriteLine($"{path}: {watch.Elapsed.TotalMilliseconds:F0} ms");
    }

    public static void Run()
    {
        static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
        var book = new Workbook();
        var edits = new List<CellEdit> { new(0, 0, 0, "1") };
        for (var row = 0; row < 10_000; row++)
        {
            edits.Add(new CellEdit(0, row, 1, $"=SUM($A$1:A{Text(row + 1)})+A1"));
        }

        var watch = Stopwatch.StartNew();
        book.Apply(edits);
        Console.WriteLine($"10,000 running totals entered in one batch: {watch.Elapsed.TotalMilliseconds:F1} ms");
        for (var i = 0; i < 5; i++)
        {
            watch.Restart();
            var changes = book.Apply([new CellEdit(0, 0, 0, Text(i + 2))]);
            Console.WriteLine($"edit with {changes.Count - 1:N0} dependents recalculated: {watch.Elapsed.TotalMilliseconds:F1} ms");
        }

        var fan = new Workbook();
        fan.Apply([new CellEdit(0, 0, 0, "1"), .. Enumerable.Range(0, 10_000).Select(r => new CellEdit(0, r, 1, "=$A$1+ROW()"))]);
        for (var i = 0; i < 5; i++)
        {
            watch.Restart();
            var changes = fan.Apply([new CellEdit(0, 0, 0, Text(i + 2))]);
            var applied = watch.Elapsed.TotalMilliseconds;
            var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(changes.Select(c => new Groundwork.Sheets.CellData($"Sheet1!B{c.Row + 1}", new Groundwork.Sheets.SheetValue(Groundwork.Sheets.SheetValueKind.Number, c.Value.AsNumber))).ToList());
            Console.WriteLine($"fan-out edit with {changes.Count - 1:N0} dependents: apply {applied:F1} ms, + CellData JSON ({json.Length:N0} bytes) {watch.Elapsed.TotalMilliseconds - applied:F1} ms");
        }

        var chain = new Workbook();
        var links = new List<CellEdit> { new(0, 0, 0, "1") };
        for (var row = 1; row < 100_000; row++)
        {
            links.Add(new CellEdit(0, row, 0, $"=A{Text(row)}+1"));
        }

        chain.Apply(links);
        for (var i = 0; i < 3; i++)
        {
            watch.Restart();
            chain.Apply([new CellEdit(0, 0, 0, Text(i + 2))]);
            Console.WriteLine($"edit at the head of a 100,000-long chain: {watch.Elapsed.TotalMilliseconds:F1} ms");
        }

        watch.Restart();
        const int Independent = 20_000;
        for (var i = 0; i < Independent; i++)
        {
            chain.Apply([new CellEdit(0, i % 1_000, 5, Text(i))]);
        }

        Console.WriteLine($"edits with no dependents: {Independent / watch.Elapsed.TotalSeconds:N0}/s ({watch.Elapsed.TotalMicroseconds / Independent:F1} us each)");
        var csv = string.Concat(Enumerable.Range(0, 100_000).Select(r => string.Join(",", Enumerable.Range(0, 10).Select(c => Text(r * 10 + c) + "." + Text(c))) + "\r\n"));
        for (var i = 0; i < 2; i++)
        {
            watch.Restart();
            var csvEdits = WorkbookCsv.Edits(0, 0, 0, csv);
            var read = watch.Elapsed.TotalMilliseconds;
            new Workbook().Apply(csvEdits);
            Console.WriteLine($"CSV of 1,000,000 numbers: read {read:F0} ms, applied {watch.Elapsed.TotalMilliseconds - read:F0} ms (engine alone)");
        }

        string[] formulas = ["=SUM(A1:A10)*2", "=IF(A1>2,VLOOKUP(B1,Sheet2!A:C,3,FALSE),\"none\")", "=ROUND(AVERAGE(B2:B99)/3,2)&\" units\"", "=SUMIFS(D:D,A:A,\">5\",B:B,\"x*\")"];
        const int Parses = 200_000;
        watch.Restart();
        for (var i = 0; i < Parses; i++)
        {
            FormulaParser.Parse(formulas[i % formulas.Length]);
        }

        Console.WriteLine($"parse: {watch.Elapsed.TotalMicroseconds / Parses:F2} us per formula");
    }
}
