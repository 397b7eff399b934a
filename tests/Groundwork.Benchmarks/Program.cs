using Groundwork.Benchmarks;

var output = args.Length > 0 ? args[0] : Path.Combine(Bench.RepositoryRoot(), "docs", "benchmarks.md");
await using var fixture = new BenchFixture();
await fixture.StartAsync();
var report = await Bench.RunAsync(fixture);
Console.WriteLine(report);
await File.WriteAllTextAsync(output, report);
Console.WriteLine($"written to {output}");
