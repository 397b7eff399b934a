using Groundwork.Grains.Access;
using Orleans.Concurrency;

namespace Groundwork.Grains.Resources;

/// <summary>One caller a silo's feed relay serves, numbered by the relay.</summary>
[GenerateSerializer, Immutable, Alias("gw.relay-reader")]
public sealed record RelayReader([property: Id(0)] int Id, [property: Id(1)] Caller Caller);

/// <summary>
/// What a resource answers a relay's poll with: the durable changes after its cursor (none when the poll waited its
/// full time), and which of the relay's readers may not read the resource any more, decided when the batch was made.
/// <paramref name="ReadersUnknown"/>: the resource does not hold the relay's readers as the relay numbered them (it
/// moved to another activation, or a change of them went missing); the relay sends them all again and polls again.
/// </summary>
[GenerateSerializer, Immutable, Alias("gw.relay-batch")]
public sealed record RelayBatch(
    [property: Id(0)] IReadOnlyList<IChange> Changes,
    [property: Id(1)] IReadOnlyDictionary<int, AccessDeniedException> Refused,
    [property: Id(2)] bool ReadersUnknown = false);

/// <summary>The resource's answer to a change of a relay's readers: whether it took it, and its verdict on the new ones.</summary>
[GenerateSerializer, Immutable, Alias("gw.relay-readers")]
public sealed record RelayReadersAnswer(
    [property: Id(0)] bool Accepted,
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
    /// Changes the readers of <paramref name="follow"/>: the relay sends its changes one at a time, numbered from 1
    /// (<paramref name="reset"/> replaces them all and starts the numbering again). A change that does not follow the
    /// last one taken is refused (<see cref="RelayReadersAnswer.Accepted"/> false): the relay then sends them all.
    /// </summary>
    [AlwaysInterleave, Alias("readers")]
    Task<RelayReadersAnswer> SetReadersAsync(Guid follow, int version, bool reset, IReadOnlyList<RelayReader> added, IReadOnlyList<int> removed);

    /// <summary>
    /// The durable changes after <paramref name="afterSequence"/>, as soon as there are any, or none after a wait of
    /// a few seconds, for a relay whose readers are at <paramref name="readersVersion"/>. Throws what a feed throws:
    /// <see cref="ResyncRequiredException"/> past retention, and <c>EnumerationAbortedException</c> when the resource
    /// deactivates (poll again: it activates elsewhere).
    /// </summary>
    [AlwaysInterleave, Alias("next")]
    Task<RelayBatch> NextAsync(Guid follow, long afterSequence, int readersVersion);

    /// <summary>The relay stopped following: the resource forgets the follow now rather than after a minute.</summary>
    [AlwaysInterleave, Alias("end")]
    Task EndAsync(Guid follow);
}

/// <summary>What a resource core offers its relays (<see cref="IFeedRelaySource"/> calls it).</summary>
internal interface IRelaySource
{
    RelayReadersAnswer SetRelayReaders(Guid follow, int version, bool reset, IReadOnlyList<RelayReader> added, IReadOnlyList<int> removed);

    Task<RelayBatch> NextRelayBatchAsync(Guid follow, long afterSequence, int readersVersion);

    void EndRelay(Guid follow);
}

/// <summary>The extension on a resource's activation: hands the calls to its core.</summary>
internal sealed class FeedRelaySource(IGrainContext context) : IFeedRelaySource
{
    private IRelaySource Core => AccessControlled.Of(context) as IRelaySource
        ?? throw new InvalidOperationException($"{context.GrainId} is not a resource with a feed");

    public Task<RelayReadersAnswer> SetReadersAsync(Guid follow, int version, bool reset, IReadOnlyList<RelayReader> added, IReadOnlyList<int> removed) =>
        Task.FromResult(Core.SetRelayReaders(follow, version, reset, added, removed));

    public Task<RelayBatch> NextAsync(Guid follow, long afterSequence, int readersVersion) => Core.NextRelayBatchAsync(follow, afterSequence, readersVersion);

    public Task EndAsync(Guid follow)
    {
        Core.EndRelay(follow);
        return Task.CompletedTask;
    }
}
