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
/// are verified again as a resource's own watchers' are (<see cref="WatcherCredential"/>). Orleans' removal of idle
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

    // The shared follow: changes after _start up to _head, in order; a generation per start, so that watchers of a
    // follow that failed hear its failure and later ones start afresh.
    private readonly List<TChange> _buffer = [];
    private Guid _follow = Guid.NewGuid();
    // The follow that the readers were last sent for, and the number of that sending (the resource keeps the latest).
    private Guid _sentFollow;
    private int _readersVersion;
    private long _start;
    private long _head;
    private int _generation;
    private (int Generation, Exception Error)? _failure;
    private bool _following;
    private TaskCompletionSource _signal = NewSignal();
    private IGrainTimer? _recheckTimer;

    // The callers served, each with how many watches it has and the resource's last verdict on it.
    private readonly Dictionary<Caller, Reader> _readers = [];
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
        if (_watchers >= _options.MaxWatchers)
        {
            throw new LimitExceededException("Relay:" + nameof(FeedRelayOptions.MaxWatchers), _options.MaxWatchers, _watchers + 1);
        }

        var credential = new WatcherCredential(_verifier, _time, _recheck);
        using var perKey = credential.ApiKey is null ? null : _watcherCount.Enter(credential.ApiKey);
        _watchers++;
        Reader? reader = null;
        try
        {
            if (!_following)
            {
                StartFollowing(afterSequence);
            }

            reader = credential.Caller is { } caller ? await JoinAsync(caller) : null;
            var generation = _generation;
            var cursor = afterSequence;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await credential.CheckAsync(_ => reader?.Refused);
                if (reader is not null && credential.Caller is { } verified && verified != reader.Caller)
                {
                    // The key's role changed: ask the resource about the caller as it is now.
                    var previous = reader;
                    reader = await JoinAsync(verified);
                    Leave(previous);
                }

                if (_failure is { } failure && failure.Generation == generation)
                {
                    throw failure.Error;
                }

                if (generation != _generation || cursor < _start || cursor > _head)
                {
                    // Behind what the relay keeps (or ahead of what it has heard): a follow of this watcher's own,
                    // which the resource checks like any other.
                    await foreach (var change in OwnFollowAsync(cursor, reader, cancellationToken))
                    {
                        yield return change;
                    }

                    yield break;
                }

                var signal = _signal.Task;
                var delivered = false;
                foreach (var change in After(cursor))
                {
                    GroundworkMetrics.FeedLag.Record(Math.Max(0, (_time.GetUtcNow() - change.At).TotalMilliseconds), _blockTag);
                    yield return change;
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
            _watchers--;
            if (reader is not null)
            {
                Leave(reader);
            }

            if (_watchers == 0)
            {
                StopFollowing();
            }
        }
    }

    /// <summary>The buffered changes after <paramref name="cursor"/>, made a list so that the buffer may grow meanwhile.</summary>
    private List<TChange> After(long cursor)
    {
        int low = 0, high = _buffer.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_buffer[middle].Sequence <= cursor)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return _buffer.GetRange(low, _buffer.Count - low);
    }

    private void StartFollowing(long afterSequence)
    {
        _generation++;
        _follow = Guid.NewGuid();
        _buffer.Clear();
        _start = _head = afterSequence;
        _failure = null;
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
                var batch = await Source.NextAsync(follow, _head);
                if (Stopped())
                {
                    return;
                }

                Apply(batch.Refused);
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
            catch (Exception exception) when (!Stopped())
            {
                // Past retention, a resource gone, a key error: every watcher of this follow hears it.
                _failure = (generation, exception);
                _following = false;
                Pulse();
                return;
            }
        }
    }

    private async IAsyncEnumerable<TChange> OwnFollowAsync(long cursor, Reader? reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var follow = Guid.NewGuid();
        var source = Source;
        try
        {
            if (reader is not null && (await source.SetReadersAsync(follow, 1, [new RelayReader(reader.Id, reader.Caller)])).TryGetValue(reader.Id, out var refused))
            {
                throw refused;
            }

            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                RelayBatch batch;
                try
                {
                    batch = await source.NextAsync(follow, cursor);
                }
                catch (Exception exception) when (IsTransient(exception))
                {
                    throw new EnumerationAbortedException($"the feed of '{_key}' moved: watch again after sequence {cursor}.");
                }

                if (reader is not null && batch.Refused.TryGetValue(reader.Id, out var refusal))
                {
                    throw GroundworkMetrics.Refused(refusal);
                }

                foreach (var change in batch.Changes)
                {
                    if (change.Sequence > cursor)
                    {
                        yield return (TChange)change;
                        cursor = change.Sequence;
                    }
                }
            }
        }
        finally
        {
            await EndQuietlyAsync(source, follow);
        }
    }

    /// <summary>Serves <paramref name="caller"/>: tells the resource when it is new, and throws the resource's refusal.</summary>
    private async Task<Reader> JoinAsync(Caller caller)
    {
        var known = _readers.TryGetValue(caller, out var found);
        var reader = found ?? new Reader(_nextReader++, caller);
        if (!known)
        {
            _readers[caller] = reader;
        }

        if (!known || _sentFollow != _follow)
        {
            // Every reader the relay serves is known to the resource before its watch reads anything.
            var follow = _follow;
            _sentFollow = follow;
            try
            {
                Apply(await Source.SetReadersAsync(follow, ++_readersVersion, [.. _readers.Values.Select(r => new RelayReader(r.Id, r.Caller))]));
            }
            catch
            {
                if (!known)
                {
                    _readers.Remove(caller);
                }

                _sentFollow = default;
                throw;
            }
        }

        reader.Watches++;
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
            // The resource hears of it with the next newcomer; until then it judges one caller too many.
            _readers.Remove(reader.Caller);
        }
    }

    private void Apply(IReadOnlyDictionary<int, AccessDeniedException> refused)
    {
        foreach (var reader in _readers.Values)
        {
            reader.Refused = refused.TryGetValue(reader.Id, out var refusal) ? refusal : null;
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

    private sealed class Reader(int id, Caller caller)
    {
        public int Id { get; } = id;

        public Caller Caller { get; } = caller;

        public int Watches { get; set; }

        public AccessDeniedException? Refused { get; set; }
    }
}
