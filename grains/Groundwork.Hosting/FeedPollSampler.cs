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

/// <summary>
/// Runs a feed's long polls (<see cref="FeedPollSampler.IsPoll"/>) with OpenTelemetry's instrumentation suppressed, so
/// that Orleans' tracing filters, registered after this one, create no <c>Activity</c> for them at all: a dropped
/// sampling decision still makes OpenTelemetry create one for a root span or a remote parent, and Orleans tags it and
/// starts and stops it on every delivery to every watcher. Registered before <c>AddActivityPropagation()</c>, on the
/// silo and the client.
/// </summary>
public sealed class FeedPollTraceFilter : IIncomingGrainCallFilter, IOutgoingGrainCallFilter
{
    /// <inheritdoc/>
    public Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return FeedPollSampler.IsPoll(context.Request.GetActivityName()) ? Quietly(context.Invoke) : context.Invoke();
    }

    /// <inheritdoc/>
    public Task Invoke(IOutgoingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return FeedPollSampler.IsPoll(context.Request.GetActivityName()) ? Quietly(context.Invoke) : context.Invoke();
    }

    private static async Task Quietly(Func<Task> invoke)
    {
        using (OpenTelemetry.SuppressInstrumentationScope.Begin())
        {
            await invoke();
        }
    }
}
