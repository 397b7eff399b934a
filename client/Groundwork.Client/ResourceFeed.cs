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
    /// unavailable, the watch reopens from the last sequence delivered: nothing is lost and nothing repeats. The watch is
    /// the resource's own; <see cref="WatchFeedAsync{TChange}"/> watches through the connected silo's relay instead,
    /// which is what many watchers of one resource should do.
    /// </summary>
    /// <exception cref="ResyncRequiredException">The cursor fell out of retention: read a snapshot and watch again.</exception>
    public static IAsyncEnumerable<TChange> WatchAsync<TChange>(
        this IFeedResource<TChange> resource, long afterSequence, CancellationToken cancellationToken = default)
        where TChange : IChange
    {
        ArgumentNullException.ThrowIfNull(resource);
        return FollowAsync(cursor => resource.WatchAsync(cursor, cancellationToken), afterSequence, cancellationToken);
    }

    private static async IAsyncEnumerable<TChange> FollowAsync<TChange>(
        Func<long, IAsyncEnumerable<TChange>> open, long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken)
        where TChange : IChange
    {
        // Reopen with the credential the watch started with, whatever flow the consumer reads from later.
        await foreach (var change in FollowAsync(open, afterSequence, GroundworkCredentials.CurrentKey, GroundworkCredentials.CurrentOnBehalfOf, cancellationToken))
        {
            yield return change;
        }
    }

    /// <summary>
    /// The changes of the resource <paramref name="key"/> after <paramref name="afterSequence"/>, then live ones, through
    /// the feed relay of the silo this client is connected to (<see cref="IFeedRelay{TChange}"/>): one message per
    /// silo and change reaches the resource's silo, however many watchers there are, and this client's watchers of the
    /// resource share one stream from the relay, so each change reaches this client once; each watcher is still
    /// admitted and judged under its own key. It reopens like <see cref="WatchAsync{TChange}"/>, and the resource
    /// decides who may read it.
    /// </summary>
    /// <exception cref="ResyncRequiredException">The cursor fell out of retention: read a snapshot and watch again.</exception>
    public static IAsyncEnumerable<TChange> WatchFeedAsync<TChange>(
        this IGrainFactory grains, string key, long afterSequence, CancellationToken cancellationToken = default)
        where TChange : IChange
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentException.ThrowIfNullOrEmpty(key);
        return FeedShare<TChange>.WatchAsync(grains, key, afterSequence, cancellationToken);
    }

    /// <summary>Watches opened by <paramref name="open"/> from the cursor, reopened with the given credential.</summary>
    internal static async IAsyncEnumerable<TChange> FollowAsync<TChange>(
        Func<long, IAsyncEnumerable<TChange>> open, long afterSequence, string? apiKey, string? onBehalfOf,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TChange : IChange
    {
        var cursor = afterSequence;
        var backoff = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var enumerator = open(cursor).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    TChange change;
                    try
                    {
                        bool moved;
                        using (GroundworkCredentials.UseExactly(apiKey, onBehalfOf))
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
