using System.Diagnostics;
using System.Diagnostics.Metrics;
using Groundwork.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Xunit;

namespace Groundwork.Grains.Tests.Telemetry;

/// <summary>Feed polls are left out of traces; every other span is the inner sampler's to decide.</summary>
public sealed class FeedPollSamplerTests
{
    [Theory]
    [InlineData("IAsyncEnumerableGrainExtension/MoveNext<T>", SamplingDecision.Drop)]
    [InlineData("IFeedRelaySource/NextAsync", SamplingDecision.Drop)]
    [InlineData("IAsyncEnumerableGrainExtension/StartEnumeration<T>", SamplingDecision.RecordAndSample)]
    [InlineData("IChannelGrain/PostAsync", SamplingDecision.RecordAndSample)]
    public void Only_feed_polls_are_dropped(string name, SamplingDecision expected)
    {
        var sampler = new FeedPollSampler(new AlwaysOnSampler());
        var parameters = new SamplingParameters(default, ActivityTraceId.CreateRandom(), name, ActivityKind.Server);
        Assert.Equal(expected, sampler.ShouldSample(parameters).Decision);
    }

    [Fact]
    public void A_poll_run_quietly_makes_no_span_but_its_measurements_still_count()
    {
        // CallTracingFilter runs polls in a SuppressInstrumentationScope; the feed's lag is recorded inside them.
        using var source = new ActivitySource("poll-test-" + Guid.NewGuid().ToString("n"));
        using var meter = new Meter("poll-test-" + Guid.NewGuid().ToString("n"));
        var metrics = new List<Metric>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(source.Name).SetSampler(new AlwaysOnSampler()).Build();
        using var metering = Sdk.CreateMeterProviderBuilder().AddMeter(meter.Name).AddInMemoryExporter(metrics).Build();
        var lag = meter.CreateHistogram<double>("lag");
        using (SuppressInstrumentationScope.Begin())
        {
            Assert.Null(source.StartActivity("IAsyncEnumerableGrainExtension/MoveNext<T>"));
            lag.Record(5);
        }

        using (var outside = source.StartActivity("IChannelGrain/PostAsync"))
        {
            Assert.NotNull(outside);
        }

        metering.ForceFlush();
        var point = Assert.Single(metrics, m => m.Name == "lag");
        var sum = 0L;
        foreach (ref readonly var p in point.GetMetricPoints())
        {
            sum += p.GetHistogramCount();
        }

        Assert.Equal(1, sum);
    }
}
