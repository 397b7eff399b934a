using Groundwork.Grains.Access;
using Orleans.Concurrency;

namespace Groundwork.Grains.Resources;

/// <summary>One caller a silo's feed relay serves, numbered by the relay.</summary>
[GenerateSerializer, Immutable, Alias("gw.relay-reader")]
public sealed record RelayReader([property: Id(0)] int Id, [property: Id(1)] Caller Caller);

/// <summary>
/// What a resource answers a relay's poll with: the durable changes after its cursor (none when the poll waited its
/// full time), and which of the relay's readers may not read the resource any more, decided when the batch was made.
/// </summary>
[GenerateSerializer, Immutable, Alias("gw.relay-batch")]
public sealed record RelayBatch(
    [property: Id(0)] IReadOnlyList<IChange> Changes,
    [property: Id(1)] IReadOnlyDictionary<int, AccessDeniedException> Refused);

/// <summary>
/// A resource's side of the feed relays (<see cref="FeedRelayGrain{TChange}"/>): installed on a resource's activation
/// when a relay first calls it. Only silo code reaches it (the access filter refuses clients: it is not part of the
/// contract). A relay identifies its follow by a random id; the resource keeps the follow's readers, checks them on
/// every batch, and forgets a follow nobody polled for a minute.
/// </summary>
[Alias("gw.relay-source")]
public interface IFeedRelaySource : IGrainExtension
{
    /// <summary>
    /// Replaces the readers of <paramref name="follow"/> unless a later <paramref name="version"/> came first; returns
    /// those of the follow's readers that may not read now.
    /// </summary>
    [AlwaysInterleave, Alias("readers")]
    Task<IReadOnlyDictionary<int, AccessDeniedException>> SetReadersAsync(Guid follow, int version, IReadOnlyList<RelayReader> readers);

    /// <summary>
    /// The durable changes after <paramref name="afterSequence"/>, as soon as there are any, or none after a wait of
    /// a few seconds. Throws what a feed throws: <see cref="ResyncRequiredException"/> past retention, and
    /// <c>EnumerationAbortedException</c> when the resource deactivates (poll again: it activates elsewhere).
    /// </summary>
    [AlwaysInterleave, Alias("next")]
    Task<RelayBatch> NextAsync(Guid follow, long afterSequence);

    /// <summary>The relay stopped following: the resource forgets the follow now rather than after a minute.</summary>
    [AlwaysInterleave, Alias("end")]
    Task EndAsync(Guid follow);
}

/// <summary>What a resource core offers its relays (<see cref="IFeedRelaySource"/> calls it).</summary>
internal interface IRelaySource
{
    IReadOnlyDictionary<int, AccessDeniedException> SetRelayReaders(Guid follow, int version, IReadOnlyList<RelayReader> readers);

    Task<RelayBatch> NextRelayBatchAsync(Guid follow, long afterSequence);

    void EndRelay(Guid follow);
}

/// <summary>The extension on a resource's activation: hands the calls to its core.</summary>
internal sealed class FeedRelaySource(IGrainContext context) : IFeedRelaySource
{
    private IRelaySource Core => AccessControlled.Of(context) as IRelaySource
        ?? throw new InvalidOperationException($"{context.GrainId} is not a resource with a feed");

    public Task<IReadOnlyDictionary<int, AccessDeniedException>> SetReadersAsync(Guid follow, int version, IReadOnlyList<RelayReader> readers) =>
        Task.FromResult(Core.SetRelayReaders(follow, version, readers));

    public Task<RelayBatch> NextAsync(Guid follow, long afterSequence) => Core.NextRelayBatchAsync(follow, afterSequence);

    public Task EndAsync(Guid follow)
    {
        Core.EndRelay(follow);
        return Task.CompletedTask;
    }
}
