using System.Diagnostics.Metrics;
using Groundwork.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using Xunit;

namespace Groundwork.Grains.Tests.Telemetry;

public sealed class TelemetryViewTests
{
    [Fact]
    public async Task The_per_message_size_histograms_of_Orleans_are_switched_off_and_the_dashboards_instruments_stay_on()
    {
        var builder = Host.CreateApplicationBuilder();
        var exported = new List<Metric>();
        var settings = TelemetrySettings.From(new ConfigurationBuilder().Build(), "views-test", pushMetricsByDefault: false);
        builder.AddGroundworkOpenTelemetry(settings, "views-test", metrics: m => m.AddInMemoryExporter(exported));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            // A meter of the same name as Orleans' own: listeners choose instruments by meter and instrument name.
            using var meter = new Meter("Microsoft.Orleans");
            var sentSize = meter.CreateHistogram<int>("orleans-messaging-sent-messages-size", "bytes");
            var receivedSize = meter.CreateHistogram<int>("orleans-messaging-received-messages-size", "bytes");
            var latency = meter.CreateHistogram<double>("orleans-app-requests-latency", "ms");
            var received = meter.CreateCounter<long>("orleans-gateway-received");

            Assert.False(sentSize.Enabled);
            Assert.False(receivedSize.Enabled);
            Assert.True(latency.Enabled);
            Assert.True(received.Enabled);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
