namespace Groundwork.Grains.Storage;

/// <summary>
/// Orleans wraps what a storage provider throws in its own <see cref="OrleansException"/>; this filter hands the
/// caller our typed <see cref="StorageUnavailableException"/> instead, so a client can tell "storage is down, retry"
/// from a bug.
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
        catch (Exception exception) when (exception is not StorageUnavailableException && StorageUnavailableException.FindIn(exception) is { } unavailable)
        {
            throw unavailable;
        }
    }
}
