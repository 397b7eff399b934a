using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests;

public sealed class OtlpExportTests
{
    [Fact]
    public async Task With_OTEL_EXPORTER_OTLP_ENDPOINT_set_and_OtlpMetrics_on_the_silo_exports_traces_metrics_and_logs_naming_itself()
    {
        var port = SiloProcess.FreePort();
        using var receiver = new HttpListener();
        receiver.Prefixes.Add($"http://127.0.0.1:{port}/");
        receiver.Start();
        var received = new ConcurrentDictionary<string, string>();
        var receiving = Task.Run(async () =>
        {
            while (receiver.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await receiver.GetContextAsync();
                }
                catch (HttpListenerException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                received[context.Request.Url!.AbsolutePath] = Encoding.Latin1.GetString(body.ToArray());
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        await using var silo = SiloProcess.Start(environment: new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["Groundwork__Telemetry__OtlpMetrics"] = "true",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
        });
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = silo.BaseAddress };

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string[] signals = ["/v1/traces", "/v1/metrics", "/v1/logs"];
        while (!signals.All(received.ContainsKey))
        {
            await http.GetAsync(new Uri("/health/ready", UriKind.Relative), deadline.Token);
            await Task.Delay(100, deadline.Token);
        }

        Assert.All(signals, signal => Assert.Contains("groundwork-silo", received[signal], StringComparison.Ordinal));
        Assert.Contains("orleans", received["/v1/metrics"], StringComparison.Ordinal);
        receiver.Stop();
        await receiving;
    }
}
