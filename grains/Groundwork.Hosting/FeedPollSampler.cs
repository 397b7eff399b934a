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

    /// <summary>Whether the span (or Orleans call) named <paramref name="name"/> is a feed's long poll.</summary>
    public static bool IsPoll(string? name)
    {
        if (name is null)
        {
            return false;
        }

        foreach (var poll in Polls)
        {
            if (name.Contains(poll, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc/>
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        IsPoll(samplingParameters.Name) ? new SamplingResult(SamplingDecision.Drop) : inner.ShouldSample(samplingParameters);
}
