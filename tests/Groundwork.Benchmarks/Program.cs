using Groundwork.Benchmarks;

var output = args.Length > 0 ? args[0] : Path.Combine(Bench.RepositoryRoot(), "docs", "benchmarks.md");
if (Environment.GetEnvironmentVariable("GROUNDWORK_BENCH") == "sheets-engine")
{
    // The Sheets engine alone, printed (for tuning it; the workbook grain's figures will go in the page).
    SheetsEngineBench.Run();
    return;
}

if (Environment.GetEnvironmentVariable("GROUNDWORK_BENCH") == "sheets-profile")
{
    // One engine path in a loop, for a profiler: GROUNDWORK_PROFILE=fan (10,000 dependents), chain or restore.
    SheetsEngineBench.Profile(Environment.GetEnvironmentVariable("GROUNDWORK_PROFILE") ?? "fan");
    return;
}

if (Environment.GetEnvironmentVariable("GROUNDWORK_BENCH") == "chat-cluster")
{
    // Only the delivery across the cluster harness's silos, printed (for tuning it; the chat part writes it).
    Console.WriteLine(await ClusterChatBench.RunAsync());
    return;
}

var part = Environment.GetEnvironmentVariable("GROUNDWORK_BENCH");
if (part == "gateway")
{
    // The HTTP gateway against the .NET client, on a silo process of its own; replaces only its section of the page.
    var gateway = await GatewayBench.RunAsync();
    if (gateway.Length == 0)
    {
        return;
    }

    Console.WriteLine(gateway);
    await File.WriteAllTextAsync(output, Bench.ReplaceSection(File.Exists(output) ? await File.ReadAllTextAsync(output) : "", "## Gateway", gateway));
    Console.WriteLine($"written to {output}");
    return;
}

if (part == "sheets" && Environment.GetEnvironmentVariable("GROUNDWORK_PROFILE") is { } profiled)
{
    // One path of the workbook grain in a loop, for a profiler (GROUNDWORK_PROFILE=grain-fan).
    Console.WriteLine(await SheetsBench.RunAsync());
    return;
}

if (part == "sheets")
{
    // The workbook grain's figures, in a cluster of their own; they replace only the Sheets section of the page.
    var sheets = await SheetsBench.RunAsync();
    Console.WriteLine(sheets);
    await File.WriteAllTextAsync(output, Bench.ReplaceSection(File.Exists(output) ? await File.ReadAllTextAsync(output) : "", "## Sheets", sheets));
    Console.WriteLine($"written to {output}");
    return;
}

// The chat delivery across the cluster harness's silos runs first, on its own: a client of the harness in the same
// process as the in-process cluster below never sees the harness's silos active.
var acrossSilos = part is null or "chat" ? await ClusterChatBench.RunAsync() : null;
string report;
await using (var fixture = new BenchFixture())
{
    await fixture.StartAsync();
    report = await Bench.RunAsync(fixture, acrossSilos);
}

if (part is null)
{
    report = report.TrimEnd() + "\n\n" + await SheetsBench.RunAsync() + "\n\n" + await GatewayBench.RunAsync();
}

Console.WriteLine(report);
if (part == "chat" && File.Exists(output))
{
    // The chat part replaces only its own section of the page (the last of its report).
    report = Bench.ReplaceSection(await File.ReadAllTextAsync(output), "## Chat", Bench.SectionOf(report, "## Chat"));
}

if (part == "reads" && File.Exists(output))
{
    // So does the reads part (it used to write the page with its section alone).
    const string heading = "## Reads against bare Orleans";
    report = Bench.ReplaceSection(await File.ReadAllTextAsync(output), heading, Bench.SectionOf(report, heading));
}

await File.WriteAllTextAsync(output, report);
Console.WriteLine($"written to {output}");
