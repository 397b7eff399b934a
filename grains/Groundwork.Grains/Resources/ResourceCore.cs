using System.Globalization;
using System.Runtime.CompilerServices;
using Groundwork.Access;
using Groundwork.Grains.Access;
using Groundwork.Grains.Storage;
using Groundwork.Grains.Telemetry;
using Groundwork.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Groundwork.Grains.Resources;

/// <summary>
/// The resource core a building block's grain is composed with: its key and access list, the mutation pipeline
/// (operation id, version guard, validation, one durable commit, the sequence, the signal to watchers), the change
/// feed, directory registration and metrics. Injected with <see cref="ResourceAttribute"/>.
/// </summary>
/// <typeparam name="THead">The block's head (small; written by every commit).</typeparam>
/// <typeparam name="TChange">The block's change type.</typeparam>
public interface IResource<THead, TChange> : IAccessControlled
    where THead : ResourceHead, new()
    where TChange : class, IChange
{
    /// <summary>The head as it is in memory (ahead of storage only inside a mutation).</summary>
    THead State { get; }

    /// <summary>The grain's key; only valid on calls the access filter let through.</summary>
    ResourceKey Key { get; }

    /// <summary>The block (<c>lists</c>), which names its metrics and limits.</summary>
    string Block { get; }

    /// <summary>Throws <see cref="NotFoundException"/> unless the resource has been created.</summary>
    void EnsureCreated();

    /// <summary>
    /// Runs a mutation: the operation id and the expected version are checked first, then <paramref name="apply"/>
    /// validates and changes the state (throwing a <see cref="GroundworkException"/> before it changes anything), then
    /// the head, the change, the operation record and the chunks that changed are committed at once. The operation
    /// kind is the called method's <c>[Alias]</c>.
    /// </summary>
    Task<MutationResult> MutateAsync(MutationOptions? options, Func<Applied<TChange>> apply);

    /// <summary>
    /// Like <see cref="MutateAsync"/> for a creation: refused with <see cref="AlreadyExistsException"/> if it exists;
    /// the caller becomes the owner. A listed resource first takes a place in its tenant's directory, refused past
    /// <see cref="ResourceOptions.MaxPerTenant"/>; an unlisted one (<paramref name="listed"/> false) is not counted,
    /// not registered and not listed.
    /// </summary>
    Task<MutationResult> CreateAsync(MutationOptions? options, Func<Applied<TChange>> apply, bool listed = true);

    /// <summary>Replaces the editors and viewers (inside an apply): validated against <see cref="ResourceOptions.MaxAccessEntries"/>.</summary>
    void SetAccess(IReadOnlyList<string> editors, IReadOnlyList<string> viewers, bool tenantReadable);

    /// <summary>The directory entry changed (a title): it is refreshed after the commit.</summary>
    void Relist();

    /// <summary>
    /// Decides access to the created resource by <paramref name="rule"/> instead of its access list (the tenant's checks
    /// still come first), for calls and for feed watchers alike. Set once, when the grain is made.
    /// </summary>
    void UseAccessRule(AccessRule rule);

    /// <summary>The feed: retained changes after the cursor, then live ones.</summary>
    IAsyncEnumerable<TChange> WatchAsync(long afterSequence, CancellationToken cancellationToken);

    /// <summary>
    /// Live state that watchers follow but nothing stores or replays (who is typing): each watcher gets
    /// <paramref name="read"/>'s state now, then again after every <see cref="LiveChanged"/> and when the state said
    /// it would change by itself (its expiry). Access is checked as for the feed, and the watch ends likewise.
    /// </summary>
    IAsyncEnumerable<TLive> WatchLiveAsync<TLive>(Func<(TLive State, DateTimeOffset? ChangesAt)> read, CancellationToken cancellationToken);

    /// <summary>The live state changed: its watchers read it again.</summary>
    void LiveChanged();

    /// <summary>The resource's directory entry with <paramref name="title"/>.</summary>
    ResourceSummary Summary(string title);

    /// <summary>The chunk collection <paramref name="collection"/> of this resource.</summary>
    ChunkSet<TChunk> Chunks<TChunk>(string collection) where TChunk : class;

    /// <summary>A limit error named <c>{Block}:{limit}</c>.</summary>
    LimitExceededException Limit(string limit, long max, long actual);

    /// <summary>
    /// Takes a state read from an older storage format (nothing stored in this format yet): the next commit writes it
    /// all, with the chunks loaded by then.
    /// </summary>
    void Import(THead head, IEnumerable<TChange> changes, IEnumerable<OperationRecord> operations);
}

/// <summary>The implementation of <see cref="IResource{THead, TChange}"/>, one per activation.</summary>
internal sealed partial class ResourceCore<THead, TChange> : IResource<THead, TChange>, ILifecycleParticipant<IGrainLifecycle>, ILifecycleObserver
    where THead : ResourceHead, new()
    where TChange : class, IChange
{
    private const string FeedCollection = "feed";
    private const string OperationCollection = "ops";

    // The head's tail goes out as rows once it holds this many bytes (see TailRow): about four mutations' feed
    // entries and operation records. Measured with 64 lists written in parallel, 2 KB wrote the fewest bytes per
    // mutation (4 mutations: 10.5 KB; 1: 15.9 KB; 8: 10.7 KB; 16: 11.9 KB).
    private const int TailBytes = 2_048;

    private readonly IGrainContext _context;
    // What every activation of the kind shares (services, options, names), held once per kind.
    private readonly ResourceServices _shared;
    // The retained feed, read from storage when a watcher comes and dropped when the last one leaves: an idle
    // resource does not hold its recent history. While it is not in memory, the commit trims it by sequence.
    private List<TChange>? _changes;
    private bool _committing;
    // An idle activation holds what its state needs and little more: the operation index, the commit's row list and
    // the signal for watchers are made when first used, and the chunk sets are a short list (a block has one or two).
    private readonly List<OperationRecord> _operations = [];
    private Dictionary<string, OperationRecord>? _operationsById;
    private List<RowChange>? _pending;
    private IChunkSet[] _chunkSets = [];
    private TaskCompletionSource? _changed;
    private TaskCompletionSource? _live;
    private long? _etag;
    private long _durableVersion;
    private bool _imported;
    private bool _deactivating;
    private int _directoryEpoch;
    private bool _registering;
    private ResourceKey? _key;
    private InvalidResourceKeyException? _keyError;
    // Watches of either kind (the limit counts both), and feed watches alone (the retained feed is loaded for them).
    private int _watchers;
    private int _feedWatchers;
    private AccessRule? _rule;

    public ResourceCore(IGrainContext context, ResourceServices shared)
    {
        _context = context;
        _shared = shared;
        Participate(context.ObservableLifecycle);
    }

    public THead State { get; private set; } = new();

    public string Block => _shared.Block;

    public string? Tenant => ParsedKey?.Tenant;

    public InvalidResourceKeyException? KeyError => ParsedKey is null ? _keyError : null;

    public AccessList? AccessList => State.Created ? State.Access : null;

    // The block's rule decides for a created resource; before that, the tenant role does (who may create it).
    public AccessRule? Rule => State.Created ? _rule : null;

    public void UseAccessRule(AccessRule rule) => _rule = rule ?? throw new ArgumentNullException(nameof(rule));

    public ResourceKey Key => ParsedKey ?? throw _keyError!;

    private string Id => _context.GrainId.Key.ToString()!;

    private ResourceKey? ParsedKey
    {
        get
        {
            if (_key is null && _keyError is null)
            {
                var text = Id;
                if (ResourceKey.TryParse(text, out var key, out var reason) && key.Kind == _shared.Kind)
                {
                    _key = key;
                }
                else
                {
                    _keyError = new InvalidResourceKeyException(text, reason ?? $"expected a '{_shared.Kind}' key");
                }
            }

            return _key;
        }
    }

    public void Participate(IGrainLifecycle lifecycle)
    {
        // The core and one small object observe the two stages, rather than four delegates and Orleans' wrappers
        // around them: every activation holds its subscriptions for its whole life.
        lifecycle.Subscribe(LoadStageName, GrainLifecycleStage.SetupState, this);
        lifecycle.Subscribe(WatchStageName, GrainLifecycleStage.Activate, new WatcherStage(this));
    }

    public ChunkSet<TChunk> Chunks<TChunk>(string collection) where TChunk : class
    {
        foreach (var existing in _chunkSets)
        {
            if (existing.Collection == collection)
            {
                return (ChunkSet<TChunk>)existing;
            }
        }

        if (collection is FeedCollection or OperationCollection)
        {
            throw new ArgumentException($"'{collection}' is the kit's own collection", nameof(collection));
        }

        var set = new ChunkSet<TChunk>(collection, _shared.Store, _shared.Kind, _context.GrainId, _shared.Limits.MaxLoadedChunks);
        _chunkSets = [.. _chunkSets, set];
        return set;
    }

    public LimitExceededException Limit(string limit, long max, long actual) => new($"{_shared.LimitPrefix}:{limit}", max, actual);

    public void EnsureCreated()
    {
        if (!State.Created)
        {
            throw new NotFoundException(_shared.Kind, Id);
        }
    }

    public void Import(THead head, IEnumerable<TChange> changes, IEnumerable<OperationRecord> operations)
    {
        ArgumentNullException.ThrowIfNull(head);
        if (_etag is not null)
        {
            throw new InvalidOperationException("Only a resource with nothing stored in the current format can import.");
        }

        State = head;
        _changes = [.. changes];
        _operations.Clear();
        _operationsById = null;
        foreach (var operation in operations)
        {
            Remember(operation);
        }

        _durableVersion = head.Version;
        _imported = true;
    }

    public Task<MutationResult> CreateAsync(MutationOptions? options, Func<Applied<TChange>> apply, bool listed = true) =>
        RunAsync(options, apply, creates: true, listed);

    public Task<MutationResult> MutateAsync(MutationOptions? options, Func<Applied<TChange>> apply) =>
        RunAsync(options, apply, creates: false, listed: true);

    public void SetAccess(IReadOnlyList<string> editors, IReadOnlyList<string> viewers, bool tenantReadable)
    {
        InvalidRequestException.ThrowIfNull(editors, nameof(editors));
        InvalidRequestException.ThrowIfNull(viewers, nameof(viewers));

        var total = editors.Count + viewers.Count;
        if (total > _shared.Limits.MaxAccessEntries)
        {
            throw Limit(nameof(ResourceOptions.MaxAccessEntries), _shared.Limits.MaxAccessEntries, total);
        }

        foreach (var principal in editors.Concat(viewers))
        {
            Principal.Validate(principal, "access list");
        }

        State.Access = State.Access! with
        {
            Editors = [.. editors.Distinct(StringComparer.Ordinal)],
            Viewers = [.. viewers.Distinct(StringComparer.Ordinal)],
            TenantReadable = tenantReadable,
        };
        Relist();
    }

    public void Relist()
    {
        State.Listed = false;
        _directoryEpoch++;
    }

    public ResourceSummary Summary(string title)
    {
        EnsureCreated();
        return new ResourceSummary(new ResourceEntry(Key.ToString(), _shared.Kind, title, State.Access!.Owner, State.CreatedAt), State.Access);
    }

    public async IAsyncEnumerable<TChange> WatchAsync(long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (afterSequence < 0)
        {
            throw new InvalidRequestException(nameof(afterSequence), "a cursor is a sequence: 0 (from the start) or more");
        }

        EnsureCreated();

        var credential = new WatcherCredential(_shared.Verifier, _shared.Time, _shared.RecheckAccessEvery);
        var cursor = afterSequence;

        // Changes already durable when the watch starts are history being replayed; only later ones measure lag.
        var liveAfter = _durableVersion;
        using var slot = EnterWatcher(credential);
        EnterFeed();
        try
        {
            await LoadFeedAsync();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_deactivating)
                {
                    throw new EnumerationAbortedException($"'{Id}' is deactivating: watch again after sequence {cursor}.");
                }

                await credential.CheckAsync(MayRead);
                var pending = Pending(cursor);
                foreach (var change in pending)
                {
                    if (change.Sequence > liveAfter)
                    {
                        GroundworkMetrics.FeedLag.Record(Math.Max(0, (_shared.Time.GetUtcNow() - change.At).TotalMilliseconds), _shared.BlockTag);
                    }

                    yield return change;
                    cursor = change.Sequence;
                }

                if (pending.Count == 0)
                {
                    try
                    {
                        await Changed.Task.WaitAsync(_shared.RecheckAccessEvery, _shared.Time, cancellationToken);
                    }
                    catch (TimeoutException)
                    {
                        // Nothing changed for a while: loop to check the watcher's access again.
                    }
                }
            }
        }
        finally
        {
            LeaveFeed();
        }
    }

    /// <summary>A feed watch or a relay's follow began: the retained feed stays loaded until the last one leaves.</summary>
    private void EnterFeed()
    {
        _feedWatchers++;
        GroundworkMetrics.FeedWatchers.Add(1, _shared.BlockTag);
    }

    /// <summary>A feed watch or a relay's follow ended: the last one out drops the retained feed from memory.</summary>
    private void LeaveFeed()
    {
        _feedWatchers--;
        GroundworkMetrics.FeedWatchers.Add(-1, _shared.BlockTag);
        if (_feedWatchers == 0 && !_imported)
        {
            _changes = null;
        }
    }

    public async IAsyncEnumerable<TLive> WatchLiveAsync<TLive>(Func<(TLive State, DateTimeOffset? ChangesAt)> read, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        EnsureCreated();
        var credential = new WatcherCredential(_shared.Verifier, _shared.Time, _shared.RecheckAccessEvery);
        using var slot = EnterWatcher(credential);
        var due = true;
        DateTimeOffset? changesAt = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_deactivating)
            {
                throw new EnumerationAbortedException($"'{Id}' is deactivating: watch again.");
            }

            await credential.CheckAsync(MayRead);
            var signal = (_live ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            if (due || (changesAt is { } at && _shared.Time.GetUtcNow() >= at))
            {
                (var state, changesAt) = read();
                yield return state;
            }

            var wait = _shared.RecheckAccessEvery;
            if (changesAt is { } next)
            {
                wait = TimeSpan.FromTicks(Math.Clamp((next - _shared.Time.GetUtcNow()).Ticks, TimeSpan.FromMilliseconds(1).Ticks, wait.Ticks));
            }

            try
            {
                await signal.WaitAsync(wait, _shared.Time, cancellationToken);
                due = true;
            }
            catch (TimeoutException)
            {
                // The state's own change is due, or it is time to check the watcher's access again.
                due = false;
            }
        }
    }

    /// <summary>
    /// Counts a watch (a feed or live state) against <see cref="ResourceOptions.MaxWatchers"/> and its key's own limit
    /// on the silo, until the returned slot is disposed.
    /// </summary>
    private WatcherSlot EnterWatcher(WatcherCredential credential)
    {
        if (_watchers >= _shared.Limits.MaxWatchers)
        {
            throw Limit(nameof(ResourceOptions.MaxWatchers), _shared.Limits.MaxWatchers, _watchers + 1);
        }

        var perKey = credential.ApiKey is null ? null : _shared.WatcherCount.Enter(credential.ApiKey);
        _watchers++;
        return new WatcherSlot(this, perKey);
    }

    private sealed class WatcherSlot(ResourceCore<THead, TChange> core, IDisposable? perKey) : IDisposable
    {
        public void Dispose()
        {
            core._watchers--;
            perKey?.Dispose();
        }
    }

    private AccessDeniedException? MayRead(Caller caller) => AccessPolicy.Check(caller, Requirement.Read, Tenant!, State.Access, Rule);

    public void LiveChanged()
    {
        var signal = _live;
        _live = null;
        signal?.TrySetResult();
    }

    /// <summary>The durable changes after <paramref name="cursor"/>, or a resync when there is a gap.</summary>
    private List<TChange> Pending(long cursor)
    {
        var changes = _changes!;
        var start = 0;
        if (_shared.Limits.FeedRetentionAge is { } age)
        {
            // Changes older than the age are not served, though their rows wait for the count to drop them.
            var cutoff = _shared.Time.GetUtcNow() - age;
            while (start < changes.Count && changes[start].At < cutoff)
            {
                start++;
            }
        }

        var oldest = start < changes.Count ? changes[start].Sequence : _durableVersion + 1;
        if (cursor < oldest - 1 || cursor > _durableVersion || cursor < 0)
        {
            throw new ResyncRequiredException(Id, cursor, oldest, _durableVersion);
        }

        // Sequences are consecutive, so the change after the cursor sits at a computable index.
        var pending = new List<TChange>();
        for (var i = start + (int)(cursor + 1 - oldest); i < changes.Count && changes[i].Sequence <= _durableVersion; i++)
        {
            pending.Add(changes[i]);
        }

        return pending;
    }

    private async Task<MutationResult> RunAsync(MutationOptions? options, Func<Applied<TChange>> apply, bool creates, bool listed)
    {
        var kind = CallerContext.Operation ?? (creates ? "create" : "mutate");
        var operationId = options?.OperationId;
        if (operationId is not null && (operationId.Length == 0 || operationId.Length > _shared.Limits.MaxOperationIdLength))
        {
            throw Fail(kind, new InvalidRequestException(nameof(MutationOptions.OperationId), $"must be 1-{_shared.Limits.MaxOperationIdLength} characters"));
        }

        if (operationId is not null && _operationsById is not null && _operationsById.TryGetValue(operationId, out var earlier))
        {
            // A retry must be the same mutation by the same caller; anything else reusing the id is a mistake
            // that would otherwise be silently swallowed.
            var difference = earlier.Kind != kind ? $"another operation ('{earlier.Kind}')"
                : earlier.By != CallerContext.Principal ? "another caller"
                : earlier.Arguments.Length > 0 && earlier.Arguments != OperationFingerprint.Of(CallerContext.Request) ? "other arguments"
                : null;
            if (difference is not null)
            {
                throw Fail(kind, new OperationConflictException(Id, operationId, difference));
            }

            GroundworkMetrics.IdempotentReplays.Add(1, _shared.BlockTag);
            GroundworkMetrics.Operation(Block, kind, "replayed");
            return earlier.Result with { Replayed = true };
        }

        Applied<TChange> applied;
        try
        {
            if (creates && State.Created)
            {
                throw new AlreadyExistsException(_shared.Kind, Id);
            }

            if (!creates)
            {
                EnsureCreated();
            }

            if (options?.ExpectedVersion is { } expected && expected != State.Version)
            {
                throw new VersionConflictException(Id, expected, State.Version);
            }

            if (creates && listed)
            {
                // A place in the directory first: it counts the kind's resources of the tenant, one creation at a time.
                await _context.ActivationServices.GetRequiredService<IGrainFactory>().GetTenantDirectory(Key.Tenant)
                    .ReserveAsync(Key.ToString(), _shared.Limits.MaxPerTenant);
            }

            if (creates)
            {
                State.Access = new AccessList(CallerContext.Principal, [], []);
                State.Unlisted = !listed;
            }

            // Validation happens inside apply before anything changes: a refused mutation leaves the state as it was.
            applied = apply();
        }
        catch (GroundworkException error)
        {
            if (creates && !State.Created)
            {
                State.Access = null;
            }

            throw Fail(kind, error);
        }

        if (applied.Unchanged && operationId is null && !creates)
        {
            GroundworkMetrics.Operation(Block, kind, "ok");
            return new MutationResult(State.Version, applied.Id, 0);
        }

        var now = _shared.Time.GetUtcNow();
        if (creates)
        {
            State.Created = true;
            State.CreatedAt = now;
            Relist();
        }

        // A quiet mutation (no change for the feed) keeps the version; its state and operation record are still committed.
        var quiet = applied.Change is null;
        var version = quiet ? State.Version : State.Version + 1;
        State.Version = version;
        var change = applied.Change?.Invoke(new ChangeStamp(version, now, CallerContext.Principal));
        var result = new MutationResult(version, applied.Id, applied.Count);
        try
        {
            _committing = true;
            Stage(change, operationId is null ? null : new OperationRecord(operationId, now, result, kind, CallerContext.Principal, OperationFingerprint.Of(CallerContext.Request)), now);
            _etag = await _shared.Store.CommitAsync(_shared.Kind, _context.GrainId, _etag, _shared.Serializer.ToUtf8(State), Rows);
            _committing = false;
        }
        catch (Exception exception)
        {
            _committing = false;
            // What is in memory was never stored: drop this activation so the next call starts from storage.
            LogWriteFailed(_shared.Logger, exception, Id, kind);
            GroundworkMetrics.Operation(Block, kind, exception is LimitExceededException ? "limit" : "storage-error");
            _deactivating = true;
            _changed?.TrySetResult();
            _context.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError, "a write that failed"));
            throw;
        }

        // Kept for the next commit, emptied so it holds no payload while the resource is idle.
        _pending?.Clear();
        _imported = false;
        foreach (var set in _chunkSets)
        {
            set.Committed();
        }

        if (!quiet)
        {
            _durableVersion = version;
            var signal = _changed;
            _changed = null;
            signal?.TrySetResult();
        }

        GroundworkMetrics.Operation(Block, kind, "ok");
        ListInDirectoryIfNeeded();
        return result;
    }

    /// <summary>Puts the change, the operation record, their trimming and the changed chunks into the commit.</summary>
    private void Stage(TChange? change, OperationRecord? operation, DateTimeOffset now)
    {
        Rows.Clear();
        if (_imported)
        {
            foreach (var retained in _changes ?? [])
            {
                Rows.Add(new RowChange(FeedCollection, FeedKey(retained.Sequence), _shared.Serializer.ToUtf8(retained)));
            }

            foreach (var record in _operations)
            {
                Rows.Add(new RowChange(OperationCollection, record.Id, _shared.Serializer.ToUtf8(record)));
            }

            foreach (var set in _chunkSets)
            {
                set.MarkAllDirty();
            }
        }

        // A quiet mutation has nothing for the feed.
        if (change is not null)
        {
            Append(FeedCollection, FeedKey(change.Sequence), _shared.Serializer.ToUtf8(change));
            if (_changes is { } changes)
            {
                changes.Add(change);
                if (changes.Count > _shared.Limits.FeedRetention)
                {
                    var drop = changes.Count - _shared.Limits.FeedRetention;
                    for (var i = 0; i < drop; i++)
                    {
                        Drop(FeedCollection, FeedKey(changes[i].Sequence));
                    }

                    changes.RemoveRange(0, drop);
                }
            }
            else if (change.Sequence > _shared.Limits.FeedRetention)
            {
                // Sequences are consecutive, one per version: the one that leaves the window is known without the feed.
                Drop(FeedCollection, FeedKey(change.Sequence - _shared.Limits.FeedRetention));
            }
        }

        if (operation is not null)
        {
            Remember(operation);
            Append(OperationCollection, operation.Id, _shared.Serializer.ToUtf8(operation));
            var drop = OperationLog.ToDrop(_operations, now, _shared.Limits);
            for (var i = 0; i < drop; i++)
            {
                _operationsById!.Remove(_operations[i].Id);
                Drop(OperationCollection, _operations[i].Id);
            }

            _operations.RemoveRange(0, drop);
        }

        if (State.Tail is { } tail && tail.Sum(r => TailRowBytes(r.Key, r.Payload)) >= TailBytes)
        {
            // The tail is full: its rows go to their collections in this commit, next to each other.
            foreach (var row in tail)
            {
                Rows.Add(new RowChange(row.Collection, row.Key, row.Payload));
            }

            State.Tail = null;
        }

        foreach (var set in _chunkSets)
        {
            set.CollectChanges(Rows, _shared.Serializer);
        }
    }

    /// <summary>A new row of the feed or the operation log: into the head's tail (<see cref="TailRow"/>).</summary>
    private void Append(string collection, string key, byte[] payload)
    {
        (State.Tail ??= []).Add(new TailRow(collection, key, payload));
    }

    /// <summary>A row out of retention: taken from the tail if it is still there, else deleted from its collection.</summary>
    private void Drop(string collection, string key)
    {
        if (State.Tail is { } tail &&
            tail.FindIndex(r => r.Key == key && r.Collection == collection) is var at and >= 0)
        {
            tail.RemoveAt(at);
            if (tail.Count == 0)
            {
                State.Tail = null;
            }

            return;
        }

        Rows.Add(new RowChange(collection, key, null));
    }

    // The row's share of the head: its payload, its key and the JSON around them.
    private static int TailRowBytes(string key, byte[] payload) => payload.Length + key.Length + 40;

    private static string FeedKey(long sequence) => sequence.ToString("D19", CultureInfo.InvariantCulture);

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        if (ParsedKey is null)
        {
            // A malformed key: the access filter refuses every call; nothing to read.
            return;
        }

        if (await _shared.Store.ReadHeadAsync(_shared.Kind, _context.GrainId) is not { } head)
        {
            return;
        }

        State = JsonStateSerializer.FromUtf8<THead>(head.Payload);
        _etag = head.ETag;
        _durableVersion = State.Version;
        var operations = _shared.Store.ReadRowsAsync(_shared.Kind, _context.GrainId, OperationCollection);
        // The rows in their collection, then the newer ones still in the head's tail.
        var tail = State.Tail ?? [];
        var records = (await operations).Select(r => r.Payload).Concat(tail.Where(r => r.Collection == OperationCollection).Select(r => r.Payload));
        foreach (var record in records.Select(p => JsonStateSerializer.FromUtf8<OperationRecord>(p)).OrderBy(r => r.At))
        {
            Remember(record);
        }
    }

    /// <summary>
    /// Reads the retained feed for a watcher, unless it is in memory: the rows in their collection, then the newer ones
    /// still in the head's tail. Never beside a commit, which moves rows from the tail into the collection: it waits
    /// for the commit under way, and reads again if one ran while it read.
    /// </summary>
    private async Task LoadFeedAsync()
    {
        while (_changes is null)
        {
            if (_deactivating)
            {
                return;
            }

            if (_committing)
            {
                await Changed.Task;
                continue;
            }

            var etag = _etag;
            var rows = etag is null ? [] : await _shared.Store.ReadRowsAsync(_shared.Kind, _context.GrainId, FeedCollection);
            if (_changes is not null || _committing || _etag != etag)
            {
                continue;
            }

            var tail = (State.Tail ?? []).Where(r => r.Collection == FeedCollection).Select(r => r.Payload);
            _changes = [.. rows.Select(r => r.Payload).Concat(tail).Select(p => JsonStateSerializer.FromUtf8<TChange>(p))];
        }
    }

    /// <summary>Completed by the next commit (or its failure, or deactivation): what watchers wait for.</summary>
    private TaskCompletionSource Changed => _changed ??= NewSignal();

    /// <summary>The rows of the commit under way (the staged changes, then the changed chunks).</summary>
    private List<RowChange> Rows => _pending ??= [];

    private void Remember(OperationRecord operation)
    {
        _operations.Add(operation);
        (_operationsById ??= new(StringComparer.Ordinal))[operation.Id] = operation;
    }

    private Task OnActivatedAsync(CancellationToken cancellationToken)
    {
        // A resource stored before its directory recorded it (the silo stopped in between): record it now.
        ListInDirectoryIfNeeded();
        return Task.CompletedTask;
    }

    private Task OnDeactivatingAsync(CancellationToken cancellationToken)
    {
        // Wake the watchers so they end with EnumerationAbortedException and reopen from their cursors elsewhere.
        _deactivating = true;
        _changed?.TrySetResult();
        _live?.TrySetResult();
        return Task.CompletedTask;
    }

    private void ListInDirectoryIfNeeded()
    {
        if (State.Created && !State.Listed && !State.Unlisted && !_registering && !_deactivating)
        {
            // Not awaited: the mutation is stored and answered now. The directory reads the entry back from this
            // resource after this turn has ended.
            _ = ListInDirectoryAsync();
        }
    }

    /// <summary>
    /// One registration at a time, retried with backoff until it lands; if the entry changed while it was under
    /// way, one more, so the directory ends with the latest entry without a registration per mutation.
    /// </summary>
    private async Task ListInDirectoryAsync()
    {
        var key = Key;
        var grains = _context.ActivationServices.GetRequiredService<IGrainFactory>();
        var backoff = TimeSpan.FromMilliseconds(100);
        _registering = true;
        try
        {
            while (!_deactivating)
            {
                var epoch = _directoryEpoch;
                try
                {
                    await grains.GetTenantDirectory(key.Tenant).RegisterAsync(key.ToString());
                }
                catch (Exception exception) when (exception is not GroundworkException or StorageUnavailableException)
                {
                    LogDirectoryFailed(_shared.Logger, exception, key.ToString(), backoff);
                    await Task.Delay(backoff, _shared.Time);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                    continue;
                }

                if (epoch == _directoryEpoch)
                {
                    State.Listed = true;
                    return;
                }
            }
        }
        catch (Exception exception)
        {
            LogDirectoryFailed(_shared.Logger, exception, key.ToString(), TimeSpan.Zero);
        }
        finally
        {
            _registering = false;
        }
    }

    private GroundworkException Fail(string kind, GroundworkException error)
    {
        GroundworkMetrics.Operation(Block, kind, error switch
        {
            VersionConflictException => "conflict",
            LimitExceededException => "limit",
            NotFoundException => "not-found",
            _ => "invalid",
        });
        return error;
    }

    // The lifecycle subscriptions' names (for Orleans' logs), one pair for all activations.
    private const string LoadStageName = "groundwork.resource";

    private const string WatchStageName = "groundwork.resource.watchers";

    /// <summary>Setup stage: the state is read before the grain activates.</summary>
    Task ILifecycleObserver.OnStart(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    Task ILifecycleObserver.OnStop(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Activate stage: registration once active, and the watchers woken when the grain deactivates.</summary>
    private sealed class WatcherStage(ResourceCore<THead, TChange> core) : ILifecycleObserver
    {
        public Task OnStart(CancellationToken cancellationToken = default) => core.OnActivatedAsync(cancellationToken);

        public Task OnStop(CancellationToken cancellationToken = default) => core.OnDeactivatingAsync(cancellationToken);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key}: storing '{Kind}' failed; the activation restarts from storage")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string key, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key}: recording it in the tenant directory failed; retrying in {Backoff}")]
    private static partial void LogDirectoryFailed(ILogger logger, Exception exception, string key, TimeSpan backoff);
}
