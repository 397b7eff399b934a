using System.Runtime.CompilerServices;
using Groundwork.Lists;
using Orleans.Runtime.Messaging;

namespace Groundwork.Client;

/// <summary>Following a list's change feed across deactivations, failovers and gateway loss.</summary>
public static class ListFeed
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The changes of list <paramref name="key"/> after <paramref name="afterSequence"/>, then live ones, for as
    /// long as the caller reads. When the list deactivates or moves, or its silo or gateway fails, the watch reopens
    /// from the last sequence delivered: nothing is lost and nothing repeats.
    /// </summary>
    /// <exception cref="ResyncRequiredException">The cursor fell out of retention: read a snapshot and watch again.</exception>
    public static async IAsyncEnumerable<ListChange> WatchListAsync(
        this IGrainFactory grains, string key, long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var list = grains.GetList(key);
        var cursor = afterSequence;

        // Reopen with the credential the watch started with, whatever flow the consumer reads from later.
        var apiKey = GroundworkCredentials.CurrentKey;
        var onBehalfOf = GroundworkCredentials.CurrentOnBehalfOf;
        var backoff = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var enumerator = list.WatchAsync(cursor, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    ListChange change;
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
        ConnectionFailedException or TimeoutException or GatewayTooBusyException;
}
