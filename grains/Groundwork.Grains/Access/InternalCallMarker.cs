namespace Groundwork.Grains.Access;

/// <summary>
/// Marks grain calls made by silo code on its own account (the dashboard, the runtime, grain timers) with the
/// cluster's internal token, so the access filter can tell them from calls that came in through the gateway without
/// a key. Calls that carry a caller's key keep it and get no token; calls to clients (observers) never get one.
/// </summary>
public sealed class InternalCallMarker(OperatorKey operatorKey) : IOutgoingGrainCallFilter
{
    /// <summary>The request-context entry that carries the token.</summary>
    public const string Header = "gw-internal";

    /// <inheritdoc/>
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (RequestContext.Get(Groundwork.Access.CallHeaders.ApiKey) is null && RequestContext.Get(Header) is null &&
            !context.TargetId.IsClient())
        {
            RequestContext.Set(Header, operatorKey.InternalToken);
        }

        await context.Invoke();
    }
}
