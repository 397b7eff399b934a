namespace Groundwork.Grains.Storage;

/// <summary>
/// Orleans wraps what a storage provider throws in its own <see cref="OrleansException"/>; this filter hands the
/// caller our typed error instead (<see cref="StorageUnavailableException"/>, or <see cref="LimitExceededException"/>
/// for a state over <c>Groundwork:Storage:MaxStateBytes</c>), so a client can tell "storage is down, retry" and "too
/// big" from a bug.
/// </summary>
public sealed class StorageErrorFilter : IIncomingGrainCallFilter
{
    /// <inheritdoc/>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await context.Invoke();
        }
        catch (Exception exception) when (exception is not GroundworkException && GroundworkException.FindIn(exception) is { } typed)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(typed);
        }
    }
}
