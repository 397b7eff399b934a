using System.Diagnostics;
using System.Globalization;
using System.Text;
using Groundwork.Client;
using Groundwork.Grains.Sheets;
using Groundwork.Grains.Sheets.Formulas;
using Groundwork.Sheets;
using Groundwork.Testing;

namespace Groundwork.Benchmarks;

/// <summary>
/// Sheets through the workbook grain (the in-process cluster, SQLite on a real file, the access filter on): each
/// figure is one call as the client sees it, recalculation, tiles, feed change and the durable commit included.
/// Run alone with GROUNDWORK_BENCH=sheets (it rewrites the Sheets section of docs/benchmarks.md).
/// </summary>
internal static class SheetsBench
{
    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads every cell's address and value, as a client showing them would; the cells read.</summary>
    private static int Touch(IReadOnlyList<CellData>? cells)
    {
        var read = 0;
        foreach (var cell in cells ?? [])
        {
            read += cell.Cell.Length > 0 && cell.Value.Kind != SheetValueKind.Empty ? 1 : 0;
        }

        return read;
    }

    public static async Task<string> RunAsync()
    {
        // Default Sheets limits; a client message may carry the 1,000,000-cell CSV (the default body limit is 1 MiB).
        await using var fixture = ClusterFixture.Create(new Dictionary<string, string?>
        {
            ["Groundwork:Messages:MaxBodyBytes"] = N(64 * 1024 * 1024),
        }, 1);
        await fixture.InitializeAsync();
        var tenant = await fixture.NewTenantAsync();
        var rows = new List<string>();
        using (GroundworkCredentials.Use(tenant.OwnerKey))
        {
            IWorkbookGrain NewBook() => fixture.Client.GetWorkbook($"{tenant.Id}/workbook/b{Guid.NewGuid():n}");

            // Warm-up: the JIT of every path measured below.
            var warm = NewBook();
            await warm.CreateAsync("warm-up");
            for (var i = 0; i < 300; i++)
            {
                await warm.EditAsync([new($"A{i % 50 + 1}", N(i)), new($"B{i % 50 + 1}", $"=A{i % 50 + 1}*2")]);
            }

            // An edit with 10,000 dependents: B1:B10000 each read A1 (=$A$1+ROW()).
            var fan = NewBook();
            await fan.CreateAsync("fan-out");
            await fan.EditAsync([new("A1", "1"), .. Enumerable.Range(1, 10_000).Select(r => new CellInput($"B{r}", "=$A$1+ROW()"))]);
            await using (var feed = fan.WatchAsync((await fan.GetAsync()).Version).GetAsyncEnumerator())
            {
                if (Environment.GetEnvironmentVariable("GROUNDWORK_PROFILE") == "grain-fan")
                {
                    // The edit and its feed delivery, as measured below.
                    var profiled = Stopwatch.StartNew();
                    for (var i = 0; i < 150; i++)
                    {
                        Touch((await fan.EditAsync([new("A1", N(i + 100))])).Cells);
                        await feed.MoveNextAsync();
                        Touch(feed.Current.Cells);
                    }

                    return $"grain-fan: {profiled.Elapsed.TotalMilliseconds / 150:F1} ms per edit and delivery";
                }

                Settle();
                var calls = new List<double>();
                var fed = new List<double>();
                for (var i = 0; i < 30; i++)
                {
                    var watch = Stopwatch.StartNew();
                    // Each figure includes reading every cell as a client would (its address and value).
                    var edit = await fan.EditAsync([new("A1", N(i + 2))]);
                    var read = Touch(edit.Cells);
                    calls.Add(watch.Elapsed.TotalMilliseconds);
                    if (read != 10_001)
                    {
                        throw new InvalidOperationException($"expected 10,001 changed cells, got {read}");
                    }

                    await feed.MoveNextAsync();
                    read = Touch(feed.Current.Cells);
                    fed.Add(watch.Elapsed.TotalMilliseconds);
                    if (read != 10_001)
                    {
                        throw new InvalidOperationException($"expected 10,001 cells in the change, got {read}");
                    }
                }

                rows.Add(Bench.Row("edit with 10,000 dependents (each =$A$1+ROW()), answered with the 10,001 changed cells once durable, the client reading each one's address and value (goal under 20 ms)", calls));
                rows.Add(Bench.Row("the same edit, until a watcher of the feed has its change and has read its cells", fed));
            }

            if (Environment.GetEnvironmentVariable("GROUNDWORK_PROFILE") == "grain-csv")
            {
                var profiledCsv = Csv();
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < 5; i++)
                {
                    var target = NewBook();
                    await target.CreateAsync("import");
                    await target.ImportCsvAsync("A1", profiledCsv);
                }

                return $"grain-csv: {watch.Elapsed.TotalMilliseconds / 5:F0} ms per import";
            }

            if (Environment.GetEnvironmentVariable("GROUNDWORK_PROFILE") == "grain-chain")
            {
                var profiled = NewBook();
                await profiled.CreateAsync("chain");
                await profiled.EditAsync([new("A1", "1"), .. Enumerable.Range(2, 99_999).Select(r => new CellInput($"A{r}", $"=A{r - 1}+1"))]);
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < 30; i++)
                {
                    await profiled.EditAsync([new("A1", N(i + 100))]);
                }

                var edits = watch.Elapsed.TotalMilliseconds / 30;
                watch.Restart();
                for (var i = 0; i < 20; i++)
                {
                    await profiled.AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
                    await Task.Delay(100);
                    await profiled.ReadAsync("A1");
                }

                return $"grain-chain: {edits:F1} ms per edit, {(watch.Elapsed.TotalMilliseconds - 2_000) / 20:F1} ms per activation";
            }

            // Running totals: 10,000 dependents that each sum up to 10,000 cells (50 million cell reads per edit).
            var totals = NewBook();
            await totals.CreateAsync("totals");
            await totals.EditAsync([new("A1", "1"), .. Enumerable.Range(1, 10_000).Select(r => new CellInput($"B{r}", $"=SUM($A$1:A{r})+A1"))]);
            Settle();
            rows.Add(Bench.Row("edit with 10,000 running totals depending on it (=SUM($A$1:An)+A1: 50 million cell reads)", await Bench.TimeEachAsync(10, i => totals.EditAsync([new("A1", N(i + 2))]))));

            // A 100,000-long chain: A1 a constant, An =A(n-1)+1.
            var chain = NewBook();
            await chain.CreateAsync("chain");
            await chain.EditAsync([new("A1", "1"), .. Enumerable.Range(2, 99_999).Select(r => new CellInput($"A{r}", $"=A{r - 1}+1"))]);
            Settle();
            rows.Add(Bench.Row("edit at the head of a 100,000-long chain (100,000 cells recalculated; 1 tile and 390 value tiles written; goal under 50 ms)", await Bench.TimeEachAsync(30, i => chain.EditAsync([new("A1", N(i + 2))]))));

            // Edits with no dependents, one at a time and from 16 callers at once.
            var independent = NewBook();
            await independent.CreateAsync("independent");
            rows.Add(Bench.Row("edit of a cell with no dependents, one caller", await Bench.TimeEachAsync(1_000, i => independent.EditAsync([new($"C{i % 500 + 1}", N(i))]))));
            var parallel = Stopwatch.StartNew();
            const int PerCaller = 200;
            await Task.WhenAll(Enumerable.Range(0, 16).Select(async caller =>
            {
                for (var i = 0; i < PerCaller; i++)
                {
                    await independent.EditAsync([new($"D{caller * PerCaller + i + 1}", N(i))]);
                }
            }));
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| edits of cells with no dependents, 16 callers on one workbook | {16 * PerCaller:N0} | **{16 * PerCaller / parallel.Elapsed.TotalSeconds:N0} edits/s** (each its own durable commit; the workbook runs one at a time) | | |"));

            // Activation of 100,000 cells, half of them formulas.
            var large = NewBook();
            await large.CreateAsync("100k");
            await large.EditAsync([.. Enumerable.Range(1, 50_000).Select(r => new CellInput($"A{r}", N(r)))]);
            await large.EditAsync([.. Enumerable.Range(1, 50_000).Select(r => new CellInput($"B{r}", $"=A{r}*2+1"))]);
            Settle();
            var activations = new List<double>();
            for (var i = 0; i < 10; i++)
            {
                activations.Add(await Bench.ActivationAsync(large, () => large.ReadAsync("B50000")));
            }

            rows.Add(Bench.Row("activation of a workbook of 100,000 cells, 50,000 of them formulas: first read after deactivation (goal under 300 ms)", activations));

            // CSV import of 1,000,000 cells: 100,000 records of 10 numbers.
            var text = Csv();
            var imports = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                var target = NewBook();
                await target.CreateAsync("import");
                Settle();
                var watch = Stopwatch.StartNew();
                await target.ImportCsvAsync("A1", text);
                imports.Add(watch.Elapsed.TotalMilliseconds);
            }

            rows.Add(Bench.Row($"CSV import of 1,000,000 cells ({text.Length / 1024.0 / 1024.0:F1} MiB, 100,000 records of 10 numbers) into an empty workbook, durable (goal under 1 s)", imports));
        }

        rows.AddRange(EngineRows());
        return Section(rows);
    }

    /// <summary>
    /// A full, blocking collection before a series, as BenchmarkDotNet makes between iterations: a workbook just built
    /// leaves the collector a large new heap to mark, and the first edits would otherwise measure that.
    /// </summary>
    private static void Settle()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    /// <summary>1,000,000 cells as CSV: 100,000 records of 10 numbers.</summary>
    private static string Csv()
    {
        var csv = new StringBuilder();
        for (var r = 0; r < 100_000; r++)
        {
            for (var c = 0; c < 10; c++)
            {
                csv.Append(c == 0 ? "" : ",").Append(r * 10 + c).Append('.').Append(c);
            }

            csv.Append("\r\n");
        }

        return csv.ToString();
    }

    /// <summary>Parsing and memory, on the engine alone (no grain).</summary>
    private static IEnumerable<string> EngineRows()
    {
        string[] formulas = ["=SUM(A1:A10)*2", "=IF(A1>2,VLOOKUP(B1,Sheet2!A:C,3,FALSE),\"none\")", "=ROUND(AVERAGE(B2:B99)/3,2)&\" units\"", "=SUMIFS(D:D,A:A,\">5\",B:B,\"x*\")"];
        for (var i = 0; i < 50_000; i++)
        {
            FormulaParser.Parse(formulas[i % formulas.Length]);
        }

        const int Parses = 400_000;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Parses; i++)
        {
            FormulaParser.Parse(formulas[i % formulas.Length]);
        }

        yield return string.Create(CultureInfo.InvariantCulture,
            $"| parse, four formulas of 14-52 characters in turn (engine alone) | {Parses:N0} | {watch.Elapsed.TotalMicroseconds / Parses:F2} µs per formula (goal 2 µs) | | |");

        static long Heap()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return GC.GetTotalMemory(forceFullCollection: true);
        }

        const int Cells = 100_000;
        var before = Heap();
        var numbers = new Workbook();
        numbers.Apply([.. Enumerable.Range(0, Cells).Select(r => new CellEdit(0, r, 0, N(r)))]);
        var numeric = (Heap() - before) / (double)Cells;
        GC.KeepAlive(numbers);
        before = Heap();
        var withFormulas = new Workbook();
        withFormulas.Apply([.. Enumerable.Range(0, Cells).Select(r => new CellEdit(0, r, 1, $"=A{r + 1}*2+1"))]);
        var formula = (Heap() - before) / (double)Cells;
        GC.KeepAlive(withFormulas);
        yield return string.Create(CultureInfo.InvariantCulture,
            $"| managed heap per cell in memory, 100,000 cells of a column after a full collection (engine) | {Cells:N0} | **{numeric:F0} bytes per number**, **{formula:F0} bytes per formula** (=An*2+1, each parsed on its own) | | |");
    }

    private static string Section(List<string> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("## Sheets");
        text.AppendLine();
        text.AppendLine("Through the workbook grain: one silo of the in-process test cluster with the access filter and SQLite on a real");
        text.AppendLine("file, the client in the same process; every call carries a tenant owner's key. A figure is one call as the client");
        text.AppendLine("sees it: the recalculation, the tiles it rewrote, the feed's change and the durable commit (fsynced) included.");
        text.AppendLine("Each series starts after a full collection: a workbook just built leaves the collector a large heap to mark,");
        text.AppendLine("which the first edits after it would otherwise measure (a 100,000-long chain's first edits took about twice as long).");
        text.AppendLine("Run alone with `GROUNDWORK_BENCH=sheets dotnet run -c Release --project tests/Groundwork.Benchmarks`.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC on {Bench.Machine()}.");
        text.AppendLine();
        text.AppendLine("| What | Calls | Result | p50 | p99 |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var row in rows)
        {
            text.AppendLine(row);
        }

        return text.ToString();
    }
}
