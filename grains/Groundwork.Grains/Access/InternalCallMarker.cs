namespace Groundwork.Grains.Access;

/// <summary>
/// Stamps every grain call that silo code makes (grains, system targets, the runtime, hosted services) with the
/// cluster's internal token, whether or not the call also carries a caller's key: the access filter lets only
/// stamped calls reach Orleans' system targets and extensions. Calls made while serving an outside request
/// (<see cref="CallOrigin.IsExternal"/>, outside any grain) get no token, and calls to clients never carry it.
/// </summary>
public sealed class InternalCallMarker(OperatorKey operatorKey) : IOutgoingGrainCallFilter
{
    /// <summary>The request-context entry that carries the token.</summary>
    public const string Header = "gw-internal";

    /// <inheritdoc/>
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.TargetId.IsClient() && (context.SourceContext is not null || !CallOrigin.IsExternal))
        {
            RequestContext.Set(Header, operatorKey.InternalToken);
        }
        else if (RequestContext.Get(Header) is not null)
        {
            // A call to a client (an observer), or on behalf of an outside request: the token stays in the silo.
            RequestContext.Remove(Header);
        }

        await context.Invoke();
    }
}
