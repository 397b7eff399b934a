using Groundwork.Benchmarks;

var output = args.Length > 0 ? args[0] : Path.Combine(Bench.RepositoryRoot(), "docs", "benchmarks.md");
if (Environment.GetEnvironmentVariable("GROUNDWORK_BENCH") == "sheets-engine")
{
    // The Sheets engine alone, printed (for tuning it; the workbook grain's figures will go in the page).
    SheetsEngineBench.Run();
    return;
}

if (Environment.GetEnvironmentVariable("GROUNDWORK_BENCH") == "chat-cluster")
{
    // Only the delivery across the cluster harness's silos, printed (for tuning it; the chat part writes it).
    Console.WriteLine(await ClusterChatBench.RunAsync());
    return;
}

// The chat delivery across the cluster harness's silos runs first, on its own: a client of the harness in the same
// process as the in-process cluster below never sees the harness's silos active.
var part = Environment.GetEnvironmentVariable("GROUNDWORK_BENCH");
var acrossSilos = part is null or "chat" ? await ClusterChatBench.RunAsync() : null;
await using var fixture = new BenchFixture();
await fixture.StartAsync();
var report = await Bench.RunAsync(fixture, acrossSilos);
Console.WriteLine(report);
if (Environment.GetEnvironmentVariable("GROUNDWORK_BENCH") == "chat" && File.Exists(output))
{
    // The chat part replaces only its own section of the page.
    var page = await File.ReadAllTextAsync(output);
    var start = page.IndexOf("## Chat", StringComparison.Ordinal);
    var section = report[report.IndexOf("## Chat", StringComparison.Ordinal)..];
    report = start < 0 ? page.TrimEnd() + "\n\n" + section : page[..start] + section;
}

await File.WriteAllTextAsync(output, report);
Console.WriteLine($"written to {output}");
