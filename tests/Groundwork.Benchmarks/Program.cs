using Groundwork.Benchmarks;

var output = args.Length > 0 ? args[0] : Path.Combine(Bench.RepositoryRoot(), "docs", "benchmarks.md");
await using var fixture = new BenchFixture();
await fixture.StartAsync();
var report = await Bench.RunAsync(fixture);
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
