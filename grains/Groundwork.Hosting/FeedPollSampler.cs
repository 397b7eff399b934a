using OpenTelemetry.Trace;

namespace Groundwork.Hosting;

/// <summary>
/// Leaves the long polls of feeds out of traces, and asks <paramref name="inner"/> about every other span. A feed's
/// enumeration is one Orleans call per batch delivered to each watcher (<c>IAsyncEnumerableGrainExtension/MoveNext</c>)
/// and a relay's poll of its resource (<c>IFeedRelaySource/NextAsync</c>): spans that last until the next change and
/// say nothing, recorded and exported once per delivery (measured: a fifth of the watchers' process's CPU in the chat
/// delivery benchmark went to decoding them). The watch's start is still traced.
/// </summary>
public sealed class FeedPollSampler(Sampler inner) : Sampler
{
    private static readonly string[] Polls = ["IAsyncEnumerableGrainExtension/MoveNext", "IFeedRelaySource/NextAsync"];

    /// <inheritdoc/>
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        var name = samplingParameters.Name;
        foreach (var poll in Polls)
        {
            if (name.Contains(poll, StringComparison.Ordinal))
            {
                return new SamplingResult(SamplingDecision.Drop);
            }
        }

        return inner.ShouldSample(samplingParameters);
    }
}
