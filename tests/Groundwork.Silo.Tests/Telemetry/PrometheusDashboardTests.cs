using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Groundwork.Testing;
using Xunit;
using YamlDotNet.Serialization;

namespace Groundwork.Silo.Tests.Telemetry;

/// <summary>
/// Every panel of every shipped dashboard, evaluated by a real Prometheus that scrapes a live silo with the
/// shipped scrape configuration: each query must parse and return data.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class PrometheusDashboardTests(TelemetrySiloFixture fixture)
{
    private static string Prometheus(string program) => Repository.FindProgram(program, $"/usr/bin/{program}")
        ?? throw new InvalidOperationException($"{program} is not installed: install Debian's 'prometheus' package (apt-get install prometheus; .ci/run does this).");

    [Fact]
    public async Task Promtool_accepts_the_shipped_prometheus_configuration()
    {
        var (exit, output) = await RunAsync(Prometheus("promtool"), ["check", "config", DashboardFiles.PrometheusConfig], TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"promtool check config exited {exit}:\n{output}");
    }

    [Fact]
    public async Task Every_dashboard_panel_returns_live_data_from_prometheus_scraping_a_silo()
    {
        var queries = DashboardFiles.Queries();
        var folder = Path.Combine(Path.GetTempPath(), "groundwork-prometheus", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, ScrapeConfigFor($"127.0.0.1:{fixture.Silo.HttpPort}"));

        var port = SiloProcess.FreePort();
        var info = new ProcessStartInfo(Prometheus("prometheus"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "tsdb")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
        {
            info.ArgumentList.Add(argument);
        }

        var log = new StringBuilder();
        using var prometheus = Process.Start(info)!;
        prometheus.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        prometheus.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

            // Rates need at least two samples in their window: wait for several scrapes, each after some load.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            while (true)
            {
                Assert.False(prometheus.HasExited, $"prometheus exited with {(prometheus.HasExited ? prometheus.ExitCode : 0)}:\n{log}");
                var scrapes = await TryQueryAsync(http, $"count_over_time(up{{job=\"{DashboardFiles.Job}\"}}[5m]) and up{{job=\"{DashboardFiles.Job}\"}} == 1");
                if (scrapes is { Count: > 0 } && double.Parse(scrapes[0], CultureInfo.InvariantCulture) >= 6)
                {
                    break;
                }

                await Task.Delay(500, deadline.Token);
            }

            await fixture.WaitForLoadAsync(2, TimeSpan.FromSeconds(60));
            await WaitForNextScrapeAsync(http, deadline.Token);

            var failures = new List<string>();
            foreach (var query in queries)
            {
                var expr = DashboardFiles.Substitute(query.Expr);
                using var response = await http.GetAsync(new Uri("/api/v1/query?query=" + Uri.EscapeDataString(expr), UriKind.Relative));
                var body = await response.Content.ReadAsStringAsync();
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.GetProperty("status").GetString() != "success")
                {
                    failures.Add($"{query.Dashboard} / {query.Panel}: {expr}\n    {body}");
                }
                else if (json.RootElement.GetProperty("data").GetProperty("result").GetArrayLength() == 0)
                {
                    failures.Add($"{query.Dashboard} / {query.Panel}: {expr}\n    no series");
                }
            }

            Assert.True(failures.Count == 0, $"{failures.Count} of {queries.Count} panel queries failed:\n" + string.Join("\n", failures));
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The shipped configuration with its settings and the silos' job kept, the targets replaced by the live silo,
    /// one-second scrapes, and the collector's job left out (no collector runs here; no panel reads it).
    /// </summary>
    private static string ScrapeConfigFor(string target)
    {
        var shipped = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(File.ReadAllText(DashboardFiles.PrometheusConfig));
        var global = shipped.TryGetValue("global", out var g) && g is Dictionary<object, object> globals ? globals : [];
        global["scrape_interval"] = "1s";
        global["scrape_timeout"] = "1s";
        global["evaluation_interval"] = "1s";
        shipped["global"] = global;
        var jobs = ((List<object>)shipped["scrape_configs"]).Cast<Dictionary<object, object>>().ToList();
        var silos = jobs.SingleOrDefault(j => (string)j["job_name"] == DashboardFiles.Job)
            ?? throw new InvalidOperationException($"prometheus.yml has no '{DashboardFiles.Job}' job");
        silos.Remove("scrape_interval");
        silos.Remove("scrape_timeout");
        silos["static_configs"] = new List<object> { new Dictionary<object, object> { ["targets"] = new List<object> { target } } };
        shipped["scrape_configs"] = new List<object> { silos };
        shipped.Remove("rule_files");
        return new SerializerBuilder().Build().Serialize(shipped);
    }

    private static async Task WaitForNextScrapeAsync(HttpClient http, CancellationToken cancellation)
    {
        var before = await TryQueryAsync(http, $"timestamp(up{{job=\"{DashboardFiles.Job}\"}})");
        while ((await TryQueryAsync(http, $"timestamp(up{{job=\"{DashboardFiles.Job}\"}})")) is { } now && before is { } b && now.SequenceEqual(b))
        {
            await Task.Delay(200, cancellation);
        }
    }

    /// <summary>The values of an instant query's series, or null while Prometheus is not answering yet.</summary>
    private static async Task<List<string>?> TryQueryAsync(HttpClient http, string expr)
    {
        try
        {
            var body = await http.GetStringAsync(new Uri("/api/v1/query?query=" + Uri.EscapeDataString(expr), UriKind.Relative));
            using var json = JsonDocument.Parse(body);
            return [.. json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().Select(r => r.GetProperty("value")[1].GetString()!)];
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await output + await errors);
    }
}
