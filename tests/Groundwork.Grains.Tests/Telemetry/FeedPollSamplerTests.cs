using System.Diagnostics;
using Groundwork.Hosting;
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
}
