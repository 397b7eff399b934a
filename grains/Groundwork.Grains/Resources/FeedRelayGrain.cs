using System.Runtime.CompilerServices;
using Groundwork.Access;
using Groundwork.Grains.Access;
using Groundwork.Grains.Telemetry;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Groundwork.Grains.Resources;

/// <summary>The feed relays' limits (<c>Groundwork:Relay</c>).</summary>
public sealed class FeedRelayOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Groundwork:Relay";

    /// <summary>Watchers one silo's relay of one resource serves at once; past it, <c>Relay:MaxWatchers</c>.</summary>
    public int MaxWatchers { get; set; } = 10_000;

    /// <summary>
    /// Recent changes a relay keeps for the watchers it serves. A watcher that starts (or falls) further behind is
    /// served by its own follow of the resource, so it still misses nothing.
    /// </summary>
    public int Buffer { get; set; } = 1_000;
}

/// <summary>
/// One silo's relay of one resource's feed (<see cref="IFeedRelay{TChange}"/>): a stateless worker, so a client's call
/// lands on the silo of its gateway, with one activation per silo. It follows the resource with one poll at a time
/// (<see cref="IFeedRelaySource"/>), keeps the last <see cref="FeedRelayOptions.Buffer"/> changes, and answers its
/// watchers from them. The resource decides who reads: the relay tells it which callers it serves, the resource
/// judges them at each watch's start and on every batch, and a refused caller's watches end with that refusal. Keys
/// are verified again as a resource's own watchers' are (<see cref="WatcherCredential"/>). A share
/// (<see cref="IFeedRelay{TChange}.WatchSharedAsync"/>) is one such watch that also carries the verdicts on the watchers
/// admitted to it (<see cref="IFeedRelay{TChange}.AdmitAsync"/>), each judged like a watch of its own. Orleans' removal of idle
/// workers is off: between two polls of its watchers a relay runs no request, and removing it then would end their
/// enumerations; it is collected like any idle activation instead.
/// </summary>
[StatelessWorker(1, removeIdleWorkers: false), Reentrant]
internal sealed class FeedRelayGrain<TChange> : Grain, IFeedRelay<TChange>, IAccessControlled
    where TChange : class, IChange
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    private readonly FeedRelayOptions _options;
    private readonly CredentialVerifier _verifier;
    private readonly WatcherCount _watcherCount;
    private readonly TimeProvider _time;
    private readonly TimeSpan _recheck;
    private readonly ResourceKey? _key;
    private readonly KeyValuePair<string, object?> _blockTag;
    private IFeedRelaySource? _source;

    // The shared follow: changes after _start up to _head, in order; a generation per start. When it fails it stops
    // (_following is false while watchers remain): its watchers go on with follows of their own and the next watcher
    // starts a new one.
    private readonly List<TChange> _buffer = [];
    private Guid _follow = Guid.NewGuid();
    // The readers' changes not yet sent, sent one change at a time and numbered (the resource takes them in order);
    // after a new follow, a refused change or a failed send, all of them go again.
    private readonly List<Reader> _toAdd = [];
    private readonly List<int> _toRemove = [];
    private bool _resendAll = true;
    private int _readersVersion;
    private Task? _syncing;
    private long _start;
    private long _head;
    private int _generation;
    private bool _following;
    private TaskCompletionSource _signal = NewSignal();
    private IGrainTimer? _recheckTimer;

    // The callers served, each with how many watches it has and the resource's last verdict on it.
    private readonly Dictionary<Caller, Reader> _readers = [];
    private readonly Dictionary<Guid, Share> _shares = [];
    private int _nextReader;
    private int _watchers;

    public FeedRelayGrain(IOptions<FeedRelayOptions> options, IOptions<AccessOptions> access, CredentialVerifier verifier, WatcherCount watcherCount, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(access);
        _options = options.Value;
        _verifier = verifier;
        _watcherCount = watcherCount;
        _time = time;
        _recheck = WatcherCredential.RecheckEvery(access.Value);
        var text = this.GetPrimaryKeyString();
        if (ResourceKey.TryParse(text, out var key, out var reason))
        {
            _key = key;
            _blockTag = new("block", ResourceKinds.BlockOf(key.Kind));
        }
        else
        {
            KeyError = new InvalidResourceKeyException(text, reason ?? "not a resource key");
        }
    }

    public string? Tenant => _key?.Tenant;

    public InvalidResourceKeyException? KeyError { get; }

    // Tenant-wide: the filter checks the caller's tenant; the resource itself decides who reads (see the class).
    public AccessList? AccessList => null;

    public AccessRule? Rule => static (_, requirement) => requirement == Requirement.Read
        ? null
        : new AccessDeniedException(AccessDenialReason.UndeclaredMethod, "a feed relay only reads");

    // Made once: resolving a generic grain interface to its grain type goes through reflection on every GetGrain.
    private IFeedRelaySource Source => _source ??= GrainFactory.GetGrain<IFeedResource<TChange>>(_key!.Value.ToString()).AsReference<IFeedRelaySource>();

    public async IAsyncEnumerable<TChange> WatchAsync(long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var delivery in ServeAsync(null, afterSequence, cancellationToken))
        {
            if (delivery.Change is { } change)
            {
                yield return change;
            }
        }
    }

    public IAsyncEnumerable<SharedDelivery<TChange>> WatchSharedAsync(Guid share, long afterSequence, CancellationToken cancellationToken = default) =>
        ServeAsync(share, afterSequence, cancellationToken);

    public async Task AdmitAsync(Guid share, Guid watcher)
    {
        if (!_shares.TryGetValue(share, out var open))
        {
            throw new EnumerationAbortedException($"no share {share} of '{_key}' is open on this silo: open it again.");
        }

        if (open.Members.TryGetValue(watcher, out var admitted))
        {
            if (!SamePrincipal(CallerContext.Current, admitted.Credential.Caller))
            {
                throw new InvalidRequestException("watcher", "is admitted to this share as another caller");
            }

            await admitted.Joining;
            return;
        }

        var (credential, perKey) = NewWatcher();
        var member = new Member(watcher, credential, perKey);
        open.Members[watcher] = member;
        _watchers++;
        member.Joining = JoinMemberAsync(open, member);
        await member.Joining;
    }

    public Task DismissAsync(Guid share, Guid watcher)
    {
        if (_shares.TryGetValue(share, out var open) && open.Members.TryGetValue(watcher, out var member) &&
            SamePrincipal(CallerContext.Current, member.Credential.Caller))
        {
            Remove(open, member);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// A watch (<paramref name="shareId"/> null) or a share's stream: the opener's changes, and for a share its opened
    /// mark and its members' verdicts. Members are judged on every batch, before the changes that follow.
    /// </summary>
    private async IAsyncEnumerable<SharedDelivery<TChange>> ServeAsync(Guid? shareId, long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (credential, counted) = NewWatcher();
        using var perKey = counted;
        Share? share = null;
        if (shareId is { } id)
        {
            if (_shares.ContainsKey(id))
            {
                throw new InvalidRequestException("share", "is open already: each opening takes a new id");
            }

            share = new Share();
            _shares[id] = share;
        }

        _watchers++;
        Reader? reader = null;
        try
        {
            if (!_following)
            {
                StartFollowing(afterSequence);
            }

            reader = credential.Caller is { } caller ? await JoinAsync(caller) : null;
            if (share is not null)
            {
                yield return Opened;
            }

            var generation = _generation;
            var cursor = afterSequence;
            if (cursor > _head)
            {
                // A cursor from a snapshot read a moment ago is often a little ahead of what the relay has heard.
                await CatchUpAsync(cursor, generation, cancellationToken);
            }

            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                reader = await RecheckAsync(credential, reader, static () => true);
                var refused = share is null ? null : await RecheckMembersAsync(share);

                // Nothing awaits from here until the changes are taken, so no batch lands between the verdicts read
                // here and the changes sent after them.
                if (reader?.Refused is { } own)
                {
                    throw GroundworkMetrics.Refused(own);
                }

                if (share is not null && TakeRefused(share, refused) is { } verdicts)
                {
                    yield return new SharedDelivery<TChange>(null, verdicts);
                    continue;
                }

                if (generation != _generation || !_following || cursor < _start || cursor > _head)
                {
                    // Behind what the relay keeps, ahead of what it has heard, or the shared follow failed (it starts
                    // at the first watcher's cursor, which may be past retention or past the version): a follow of this
                    // watcher's own (with a share's members), which the resource checks like any other and answers
                    // with this watcher's error, until it has caught up with the shared follow.
                    await foreach (var delivery in OwnFollowAsync(cursor, reader, share, cancellationToken))
                    {
                        yield return delivery;
                        cursor = delivery.Change?.Sequence ?? cursor;
                    }

                    generation = _generation;
                    continue;
                }

                var signal = _signal.Task;
                var delivered = false;
                foreach (var change in After(cursor))
                {
                    var lag = Math.Max(0, (_time.GetUtcNow() - change.At).TotalMilliseconds);
                    for (var served = 0; served <= (share?.Members.Count ?? 0); served++)
                    {
                        GroundworkMetrics.FeedLag.Record(lag, _blockTag);
                    }

                    yield return new SharedDelivery<TChange>(change, null);
                    cursor = change.Sequence;
                    delivered = true;
                }

                if (!delivered)
                {
                    await signal.WaitAsync(cancellationToken);
                }
            }
        }
        finally
        {
            if (share is not null)
            {
                _shares.Remove(shareId!.Value);
                share.Ended = true;
                foreach (var member in share.Members.Values.ToList())
                {
                    Remove(share, member);
                }
            }

            if (reader is not null)
            {
                Leave(reader);
            }

            LeaveWatch();
        }
    }

    /// <summary>
    /// Verifies a watcher's key again when due (a revoked key is thrown); when its role changed, the resource is asked
    /// about the caller as it is now and that reader replaces <paramref name="reader"/>. <paramref name="served"/> says
    /// whether the watcher is still served after each wait (a share's member may be removed meanwhile: then null, and
    /// nothing is left twice). The resource's verdict on the reader is read by the caller, after its last await.
    /// </summary>
    private async ValueTask<Reader?> RecheckAsync(WatcherCredential credential, Reader? reader, Func<bool> served)
    {
        await credential.CheckAsync(static _ => null);
        if (reader is null || !served() || credential.Caller is not { } verified || verified == reader.Caller)
        {
            return served() ? reader : null;
        }

        var next = await JoinAsync(verified);
        if (!served())
        {
            Leave(next);
            return null;
        }

        Leave(reader);
        return next;
    }

    /// <summary>
    /// Verifies the members' keys again when due (and asks the resource about a member whose role changed); the members
    /// refused on the way leave the share and are returned. A member whose check fails for another reason (the tenant
    /// did not answer) stays and is checked again at the next batch. The resource's verdicts are taken by
    /// <see cref="TakeRefused"/>, after the last await.
    /// </summary>
    private async ValueTask<Dictionary<Guid, AccessDeniedException>?> RecheckMembersAsync(Share share)
    {
        if (share.Members.Count == 0)
        {
            return null;
        }

        Dictionary<Guid, AccessDeniedException>? refused = null;
        foreach (var member in share.Members.Values.ToList())
        {
            if (!member.Joining.IsCompletedSuccessfully || !IsMember(share, member))
            {
                continue;
            }

            try
            {
                if (await RecheckAsync(member.Credential, member.Reader, () => IsMember(share, member)) is var reader && IsMember(share, member))
                {
                    member.Reader = reader;
                }
            }
            catch (AccessDeniedException denied)
            {
                if (IsMember(share, member))
                {
                    (refused ??= [])[member.Id] = denied;
                    Remove(share, member);
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // Checked again at the next batch; the member keeps its place meanwhile.
            }
        }

        return refused;
    }

    /// <summary>Adds the members the resource refused (they leave the share) to <paramref name="refused"/>; null when there are none. Never awaits.</summary>
    private Dictionary<Guid, AccessDeniedException>? TakeRefused(Share share, Dictionary<Guid, AccessDeniedException>? refused)
    {
        List<Member>? leaving = null;
        foreach (var member in share.Members.Values)
        {
            if (member.Reader?.Refused is not null)
            {
                (leaving ??= []).Add(member);
            }
        }

        foreach (var member in leaving ?? [])
        {
            (refused ??= [])[member.Id] = GroundworkMetrics.Refused(member.Reader!.Refused!);
            Remove(share, member);
        }

        return refused;
    }

    private static bool IsMember(Share share, Member member) => share.Members.TryGetValue(member.Id, out var found) && ReferenceEquals(found, member);

    private static bool SamePrincipal(Caller? a, Caller? b) => a is null ? b is null : b is not null && a.Tenant == b.Tenant && a.Principal == b.Principal;

    private async Task JoinMemberAsync(Share share, Member member)
    {
        Reader? reader;
        try
        {
            reader = member.Credential.Caller is { } caller ? await JoinAsync(caller) : null;
        }
        catch
        {
            Remove(share, member);
            throw;
        }

        if (share.Ended || !IsMember(share, member))
        {
            // The share ended, or the watcher was dismissed, while the resource judged it.
            if (reader is not null)
            {
                Leave(reader);
            }

            Remove(share, member);
            throw new EnumerationAbortedException($"the share of '{_key}' ended: open it again.");
        }

        member.Reader = reader;
        share.Changes++;
    }

    private void Remove(Share share, Member member)
    {
        if (IsMember(share, member) && share.Members.Remove(member.Id))
        {
            share.Changes++;
            member.PerKey?.Dispose();
            if (member.Reader is { } reader)
            {
                member.Reader = null;
                Leave(reader);
            }

            LeaveWatch();
        }
    }

    /// <summary>The credential of the call that starts a watch or admits a watcher, counted against its key; past the relay's limit, refused.</summary>
    private (WatcherCredential Credential, IDisposable? PerKey) NewWatcher()
    {
        if (_watchers >= _options.MaxWatchers)
        {
            throw new LimitExceededException("Relay:" + nameof(FeedRelayOptions.MaxWatchers), _options.MaxWatchers, _watchers + 1);
        }

        var credential = new WatcherCredential(_verifier, _time, _recheck);
        return (credential, credential.ApiKey is null ? null : _watcherCount.Enter(credential.ApiKey));
    }

    private void LeaveWatch()
    {
        if (--_watchers == 0)
        {
            StopFollowing();
        }
    }

    /// <summary>Waits up to a second for the relay to hear of <paramref name="cursor"/> (further ahead, the watcher's own follow asks the resource).</summary>
    private async Task CatchUpAsync(long cursor, int generation, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(1);
        while (_head < cursor && generation == _generation && _following)
        {
            var left = deadline - _time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            try
            {
                await _signal.Task.WaitAsync(left, _time, cancellationToken);
            }
            catch (TimeoutException)
            {
                return;
            }
        }
    }

    /// <summary>The buffered changes after <paramref name="cursor"/>, made a list so that the buffer may grow meanwhile.</summary>
    private List<TChange> After(long cursor)
    {
        var low = ChangeList.IndexAfter(_buffer, cursor);
        return _buffer.GetRange(low, _buffer.Count - low);
    }

    private void StartFollowing(long afterSequence)
    {
        _generation++;
        _follow = Guid.NewGuid();
        _resendAll = true;
        _buffer.Clear();
        _start = _head = afterSequence;
        _following = true;
        _ = PumpAsync(_generation);

        // One timer wakes every watcher to verify its key again, instead of a timer per waiting watcher.
        _recheckTimer ??= this.RegisterGrainTimer(() =>
        {
            Pulse();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(_recheck, _recheck) { Interleave = true, KeepAlive = false });
    }

    private void StopFollowing()
    {
        _following = false;
        _recheckTimer?.Dispose();
        _recheckTimer = null;
        _buffer.Clear();
        _ = EndQuietlyAsync(Source, _follow);
    }

    private static async Task EndQuietlyAsync(IFeedRelaySource source, Guid follow)
    {
        RequestContext.Clear();
        try
        {
            await source.EndAsync(follow);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The resource forgets a follow nobody polls within a minute anyway.
        }
    }

    private async Task PumpAsync(int generation)
    {
        // The relay's own calls: the key of the watcher whose call started the pump stays out of them.
        RequestContext.Clear();
        var follow = _follow;
        var backoff = TimeSpan.FromMilliseconds(50);
        bool Stopped() => generation != _generation || !_following;
        while (!Stopped())
        {
            try
            {
                var batch = await Source.NextAsync(follow, _head, _readersVersion);
                if (Stopped())
                {
                    return;
                }

                if (batch.ReadersUnknown)
                {
                    // The resource moved to a new activation: it hears every reader again before it serves them.
                    _resendAll = true;
                    await SyncReadersAsync();
                    continue;
                }

                ApplyVerdicts(batch.Refused);
                foreach (var change in batch.Changes)
                {
                    if (change.Sequence > _head)
                    {
                        _buffer.Add((TChange)change);
                        _head = change.Sequence;
                    }
                }

                if (_buffer.Count > _options.Buffer)
                {
                    var drop = _buffer.Count - _options.Buffer;
                    _start = _buffer[drop - 1].Sequence;
                    _buffer.RemoveRange(0, drop);
                }

                backoff = TimeSpan.FromMilliseconds(50);
                Pulse();
            }
            catch (Exception exception) when (IsTransient(exception) && !Stopped())
            {
                // The resource moved or its silo is going: poll again from the same place.
                await Task.Delay(backoff, _time, CancellationToken.None);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
            catch (Exception) when (!Stopped())
            {
                // Past retention, a resource gone, a key error: every watcher of this follow asks the resource itself.
                _following = false;
                Pulse();
                _ = EndQuietlyAsync(Source, follow);
                return;
            }
            catch (Exception)
            {
                // The follow stopped meanwhile: nobody waits for this poll.
                return;
            }
        }
    }

    /// <summary>
    /// A follow of one watcher's own (and of a share's members), until it has caught up with the shared follow: the
    /// resource judges the watcher and the members on every batch, and a refused member's verdict comes before the
    /// batch's changes.
    /// </summary>
    private async IAsyncEnumerable<SharedDelivery<TChange>> OwnFollowAsync(long cursor, Reader? reader, Share? share, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var follow = Guid.NewGuid();
        var source = Source;
        var version = 0;
        var told = -1;
        void Apply(IReadOnlyDictionary<int, AccessDeniedException> refused)
        {
            foreach (var (id, refusal) in refused)
            {
                if (reader is not null && id == reader.Id)
                {
                    throw GroundworkMetrics.Refused(refusal);
                }

                foreach (var member in share?.Members.Values ?? Enumerable.Empty<Member>())
                {
                    if (member.Reader is { } r && r.Id == id)
                    {
                        r.Refused = refusal;
                    }
                }
            }
        }

        async Task TellAsync()
        {
            // All of them each time (the members change seldom), numbered so the resource serves only what it heard.
            version++;
            told = share?.Changes ?? 0;
            var readers = new Dictionary<int, RelayReader>();
            foreach (var r in (share?.Members.Values.Select(m => m.Reader) ?? []).Prepend(reader))
            {
                if (r is not null)
                {
                    readers.TryAdd(r.Id, new RelayReader(r.Id, r.Caller));
                }
            }

            Apply((await source.SetReadersAsync(follow, version, reset: true, [.. readers.Values], [])).Refused);
        }

        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (told != (share?.Changes ?? 0))
                {
                    await TellAsync();
                }

                var refused = share is null ? null : await RecheckMembersAsync(share);
                RelayBatch batch;
                try
                {
                    batch = await source.NextAsync(follow, cursor, version);
                }
                catch (Exception exception) when (IsTransient(exception))
                {
                    throw new EnumerationAbortedException($"the feed of '{_key}' moved: watch again after sequence {cursor}.");
                }

                if (batch.ReadersUnknown)
                {
                    told = -1;
                    continue;
                }

                Apply(batch.Refused);
                if (share is not null && TakeRefused(share, refused) is { } verdicts)
                {
                    yield return new SharedDelivery<TChange>(null, verdicts);
                }

                foreach (var change in batch.Changes)
                {
                    if (change.Sequence > cursor)
                    {
                        yield return new SharedDelivery<TChange>((TChange)change, null);
                        cursor = change.Sequence;
                    }
                }

                if (!_following)
                {
                    // The shared follow failed earlier (another watcher's cursor): this cursor serves, so follow from it.
                    StartFollowing(cursor);
                }

                if (cursor >= _start && cursor <= _head)
                {
                    // Caught up with the shared follow: the watcher reads it again.
                    yield break;
                }
            }
        }
        finally
        {
            await EndQuietlyAsync(source, follow);
        }
    }

    /// <summary>Serves <paramref name="caller"/>: the resource hears of it first, and its refusal is thrown.</summary>
    private async Task<Reader> JoinAsync(Caller caller)
    {
        if (!_readers.TryGetValue(caller, out var reader))
        {
            reader = new Reader(_nextReader++, caller);
            _readers[caller] = reader;
            _toAdd.Add(reader);
        }

        reader.Watches++;
        try
        {
            // Every reader the relay serves is known to the resource before its watch reads anything.
            await SyncReadersAsync();
        }
        catch
        {
            Leave(reader);
            throw;
        }

        if (reader.Refused is { } refusal)
        {
            Leave(reader);
            throw GroundworkMetrics.Refused(refusal);
        }

        return reader;
    }

    private void Leave(Reader reader)
    {
        if (--reader.Watches == 0)
        {
            // The resource hears of it with the next change of the readers; until then it judges one caller too many.
            _readers.Remove(reader.Caller);
            if (reader.Sent)
            {
                _toRemove.Add(reader.Id);
            }
            else
            {
                _toAdd.Remove(reader);
            }
        }
    }

    /// <summary>Sends the readers' changes, one sending at a time so that the resource takes them in order.</summary>
    private async Task SyncReadersAsync()
    {
        while (_syncing is { } running)
        {
            try
            {
                await running;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // That sending failed for its own callers; this one tries again below.
            }
        }

        if (!_resendAll && _toAdd.Count == 0 && _toRemove.Count == 0)
        {
            return;
        }

        var sending = SendReadersAsync();
        _syncing = sending;
        try
        {
            await sending;
        }
        finally
        {
            if (_syncing == sending)
            {
                _syncing = null;
            }
        }
    }

    private async Task SendReadersAsync()
    {
        while (true)
        {
            var follow = _follow;
            var reset = _resendAll;
            List<Reader> added = reset ? [.. _readers.Values] : [.. _toAdd];
            List<int> removed = reset ? [] : [.. _toRemove];
            _toAdd.Clear();
            _toRemove.Clear();
            _resendAll = false;
            var version = reset ? 1 : _readersVersion + 1;
            RelayReadersAnswer answer;
            try
            {
                answer = await Source.SetReadersAsync(follow, version, reset, [.. added.Select(r => new RelayReader(r.Id, r.Caller))], removed);
            }
            catch
            {
                _resendAll = true;
                throw;
            }

            if (!answer.Accepted || follow != _follow)
            {
                // The resource lost count (it moved), or a new follow began meanwhile: send them all.
                _resendAll = true;
                continue;
            }

            _readersVersion = version;
            foreach (var reader in added)
            {
                reader.Sent = true;
                reader.Refused = answer.Refused.GetValueOrDefault(reader.Id);
            }

            if (answer.Refused.Count > 0)
            {
                Pulse();
            }

            return;
        }
    }

    /// <summary>The resource's verdicts of a batch, on every reader it has heard of.</summary>
    private void ApplyVerdicts(IReadOnlyDictionary<int, AccessDeniedException> refused)
    {
        foreach (var reader in _readers.Values)
        {
            if (reader.Sent)
            {
                reader.Refused = refused.GetValueOrDefault(reader.Id);
            }
        }

        if (refused.Count > 0)
        {
            Pulse();
        }
    }

    private void Pulse()
    {
        var signal = _signal;
        _signal = NewSignal();
        signal.TrySetResult();
    }

    private static bool IsTransient(Exception exception) => exception is
        EnumerationAbortedException or SiloUnavailableException or OrleansMessageRejectionException or TimeoutException or StorageUnavailableException;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static readonly SharedDelivery<TChange> Opened = new(null, null);

    /// <summary>A share's admitted watchers besides its opener.</summary>
    private sealed class Share
    {
        public Dictionary<Guid, Member> Members { get; } = [];

        public bool Ended { get; set; }

        /// <summary>Counts admissions and removals (a follow of the share's own tells the resource again when it moves).</summary>
        public int Changes { get; set; }
    }

    private sealed class Member(Guid id, WatcherCredential credential, IDisposable? perKey)
    {
        public Guid Id { get; } = id;

        public WatcherCredential Credential { get; } = credential;

        public IDisposable? PerKey { get; } = perKey;

        public Task Joining { get; set; } = Task.CompletedTask;

        public Reader? Reader { get; set; }
    }

    private sealed class Reader(int id, Caller caller)
    {
        public int Id { get; } = id;

        public Caller Caller { get; } = caller;

        public int Watches { get; set; }

        public AccessDeniedException? Refused { get; set; }

        /// <summary>Whether the resource has heard of this reader (and judges it on every batch).</summary>
        public bool Sent { get; set; }
    }
}
