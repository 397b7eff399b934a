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

    [Fact]
    public async Task ASP_NET_Cores_per_request_instruments_that_no_dashboard_shows_are_switched_off_and_the_shown_ones_stay_on()
    {
        var builder = Host.CreateApplicationBuilder();
        var exported = new List<Metric>();
        var settings = TelemetrySettings.From(new ConfigurationBuilder().Build(), "views-test", pushMetricsByDefault: false);
        builder.AddGroundworkOpenTelemetry(settings, "views-test", metrics: m => m.AddMeter("Microsoft.AspNetCore.*").AddInMemoryExporter(exported));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            using var routing = new Meter("Microsoft.AspNetCore.Routing");
            using var authentication = new Meter("Microsoft.AspNetCore.Authentication");
            using var authorization = new Meter("Microsoft.AspNetCore.Authorization");
            using var rateLimiting = new Meter("Microsoft.AspNetCore.RateLimiting");
            using var memoryPool = new Meter("Microsoft.AspNetCore.MemoryPool");
            using var hosting = new Meter("Microsoft.AspNetCore.Hosting");
            Assert.False(routing.CreateCounter<long>("aspnetcore.routing.match_attempts").Enabled);
            Assert.False(authentication.CreateHistogram<double>("aspnetcore.authentication.authenticate.duration", "s").Enabled);
            Assert.False(authorization.CreateCounter<long>("aspnetcore.authorization.attempts").Enabled);
            Assert.False(rateLimiting.CreateHistogram<double>("aspnetcore.rate_limiting.request_lease.duration", "s").Enabled);
            Assert.False(rateLimiting.CreateUpDownCounter<long>("aspnetcore.rate_limiting.active_request_leases").Enabled);
            Assert.False(memoryPool.CreateCounter<long>("aspnetcore.memory_pool.rented", "By").Enabled);

            // What the building-blocks dashboard's gateway panels read, and the pool's pooled bytes.
            Assert.True(hosting.CreateHistogram<double>("http.server.request.duration", "s").Enabled);
            Assert.True(hosting.CreateUpDownCounter<long>("http.server.active_requests").Enabled);
            Assert.True(rateLimiting.CreateCounter<long>("aspnetcore.rate_limiting.requests").Enabled);
            Assert.True(memoryPool.CreateUpDownCounter<long>("aspnetcore.memory_pool.pooled", "By").Enabled);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
