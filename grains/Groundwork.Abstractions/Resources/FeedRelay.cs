using Groundwork.Access;

namespace Groundwork;

/// <summary>
/// A resource's feed, served by the silo the caller is connected to: one relay per silo and resource follows the
/// resource once and answers every watcher connected through that silo, so a change reaches many watchers with one
/// message per silo instead of one per watcher. Keyed by the resource's key; what it delivers, its order and its errors
/// are those of <see cref="IFeedResource{TChange}.WatchAsync"/>, and the resource still decides who may read it.
/// Groundwork.Client's <c>WatchFeedAsync</c> watches through it and reconnects.
/// </summary>
/// <typeparam name="TChange">The resource's change type (one building block's).</typeparam>
[Alias("gw.relay`1")]
public interface IFeedRelay<TChange> : IGrainWithStringKey
    where TChange : IChange
{
    /// <summary>
    /// The changes of the resource after <paramref name="afterSequence"/>, then live ones, in order and without gaps,
    /// as <see cref="IFeedResource{TChange}.WatchAsync"/> delivers them.
    /// </summary>
    /// <exception cref="ResyncRequiredException">The cursor has fallen out of the resource's retention.</exception>
    /// <exception cref="AccessDeniedException">The caller may not (or no longer) read the resource; the feed ends.</exception>
    [Alias("watch"), Requires(Requirement.Read)]
    IAsyncEnumerable<TChange> WatchAsync(long afterSequence, CancellationToken cancellationToken = default);
}
