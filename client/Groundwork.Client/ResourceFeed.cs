using System.Runtime.CompilerServices;
using Groundwork.Lists;
using Orleans.Runtime.Messaging;

namespace Groundwork.Client;

/// <summary>Following a resource's change feed across deactivations, failovers, gateway loss and storage outages.</summary>
public static class ResourceFeed
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The changes of <paramref name="resource"/> after <paramref name="afterSequence"/>, then live ones, for as long
    /// as the caller reads. When the resource deactivates or moves, its silo or gateway fails, or its storage is briefly
    /// unavailable, the watch reopens from the last sequence delivered: nothing is lost and nothing repeats.
    /// </summary>
    /// <exception cref="ResyncRequiredException">The cursor fell out of retention: read a snapshot and watch again.</exception>
    public static async IAsyncEnumerable<TChange> WatchAsync<TChange>(
        this IFeedResource<TChange> resource, long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TChange : IChange
    {
        ArgumentNullException.ThrowIfNull(resource);
        var cursor = afterSequence;

        // Reopen with the credential the watch started with, whatever flow the consumer reads from later.
        var apiKey = GroundworkCredentials.CurrentKey;
        var onBehalfOf = GroundworkCredentials.CurrentOnBehalfOf;
        var backoff = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var enumerator = resource.WatchAsync(cursor, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    TChange change;
                    try
                    {
                        bool moved;
                        using (apiKey is null ? null : GroundworkCredentials.Use(apiKey))
                        using (onBehalfOf is null ? null : GroundworkCredentials.ActFor(onBehalfOf))
                        {
                            moved = await enumerator.MoveNextAsync();
                        }

                        if (!moved)
                        {
                            yield break;
                        }

                        change = enumerator.Current;
                    }
                    catch (Exception exception) when (IsTransient(exception) && !cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }

                    backoff = TimeSpan.FromMilliseconds(50);
                    if (change.Sequence <= cursor)
                    {
                        continue;
                    }

                    cursor = change.Sequence;
                    yield return change;
                }
            }
            finally
            {
                await enumerator.DisposeAsync();
            }

            await Task.Delay(backoff, cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    /// <summary>Failures after which reopening the watch from its cursor is the right answer.</summary>
    public static bool IsTransient(Exception exception) => exception is
        EnumerationAbortedException or SiloUnavailableException or OrleansMessageRejectionException or
        ConnectionFailedException or TimeoutException or GatewayTooBusyException or StorageUnavailableException;
}

/// <summary>Following a list's change feed (<see cref="ResourceFeed"/> for lists).</summary>
public static class ListFeed
{
    /// <summary>The changes of list <paramref name="key"/> after <paramref name="afterSequence"/>, then live ones (see <see cref="ResourceFeed.WatchAsync{TChange}"/>).</summary>
    /// <exception cref="ResyncRequiredException">The cursor fell out of retention: read a snapshot and watch again.</exception>
    public static IAsyncEnumerable<ListChange> WatchListAsync(
        this IGrainFactory grains, string key, long afterSequence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        return grains.GetList(key).WatchAsync<ListChange>(afterSequence, cancellationToken);
    }

    /// <summary>Failures after which reopening a watch from its cursor is the right answer (<see cref="ResourceFeed.IsTransient"/>).</summary>
    public static bool IsTransient(Exception exception) => ResourceFeed.IsTransient(exception);
}
