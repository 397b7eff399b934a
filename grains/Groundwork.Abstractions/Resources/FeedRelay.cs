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
    [Alias("watch"), Requires(Requirement.Read), DotNetOnly("the silo-side relay behind Groundwork.Client's shared watches; HTTP feeds use the resource's watch")]
    IAsyncEnumerable<TChange> WatchAsync(long afterSequence, CancellationToken cancellationToken = default);

    /// <summary>
    /// One stream of the resource's changes for many watchers in one client process (Groundwork.Client shares it
    /// among its watchers of one resource): opened with one watcher's key, which it serves like
    /// <see cref="WatchAsync"/>; other watchers join it with <see cref="AdmitAsync"/> under their own keys. Its first
    /// item (no change, no verdicts) says the share is open; then come the changes after
    /// <paramref name="afterSequence"/> in order, and the ids of admitted watchers the resource no longer lets read,
    /// each with its refusal, before any later change.
    /// </summary>
    /// <param name="share">A fresh id for this opening; the relay of this silo knows the share by it while it runs.</param>
    /// <param name="afterSequence">The cursor: changes after it come.</param>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <exception cref="ResyncRequiredException">The cursor has fallen out of the resource's retention.</exception>
    /// <exception cref="AccessDeniedException">The opener's key may not (or no longer) read the resource; the stream ends.</exception>
    [Alias("watch-shared"), Requires(Requirement.Read), DotNetOnly("the silo-side relay behind Groundwork.Client's shared watches; HTTP feeds use the resource's watch")]
    IAsyncEnumerable<SharedDelivery<TChange>> WatchSharedAsync(Guid share, long afterSequence, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds watcher <paramref name="watcher"/>, with the caller's key, to the open <paramref name="share"/>: the key is
    /// verified and the resource judges the caller now, on every batch after, and whenever the key is verified again.
    /// Admitting a watcher twice is one admission.
    /// </summary>
    /// <exception cref="AccessDeniedException">The caller may not read the resource.</exception>
    /// <exception cref="Orleans.Runtime.EnumerationAbortedException">The share is not open on this silo's relay (it ended or moved): open it again.</exception>
    /// <exception cref="LimitExceededException">The relay or the key serves as many watchers as it may.</exception>
    [Alias("admit"), Requires(Requirement.Read), DotNetOnly("the silo-side relay behind Groundwork.Client's shared watches; HTTP feeds use the resource's watch")]
    Task AdmitAsync(Guid share, Guid watcher);

    /// <summary>Removes watcher <paramref name="watcher"/> from <paramref name="share"/>, with the key of the principal it was admitted as; otherwise nothing.</summary>
    [Alias("dismiss"), Requires(Requirement.Read), DotNetOnly("the silo-side relay behind Groundwork.Client's shared watches; HTTP feeds use the resource's watch")]
    Task DismissAsync(Guid share, Guid watcher);
}

/// <summary>An item of a shared watch (<see cref="IFeedRelay{TChange}.WatchSharedAsync"/>).</summary>
/// <param name="Change">The next change, or null.</param>
/// <param name="Refused">Watchers of the share that may no longer read, with the refusal each one's watch ends with; or null.</param>
[GenerateSerializer, Immutable, Alias("gw.shared-delivery`1")]
public sealed record SharedDelivery<TChange>(
    [property: Id(0)] TChange? Change,
    [property: Id(1)] IReadOnlyDictionary<Guid, AccessDeniedException>? Refused)
    where TChange : IChange
{
    /// <summary>Whether this is the first item: the share is open and the opener was judged.</summary>
    public bool IsOpened => Change is null && Refused is null;
}
