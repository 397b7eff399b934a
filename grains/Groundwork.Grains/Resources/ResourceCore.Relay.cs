using Groundwork.Grains.Access;

namespace Groundwork.Grains.Resources;

/// <summary>The resource's side of the silos' feed relays (<see cref="FeedRelayGrain{TChange}"/>).</summary>
internal sealed partial class ResourceCore<THead, TChange> : IRelaySource
{
    // How long a relay's poll waits for a change before it answers with none (and the readers' verdicts), well inside
    // Orleans' response timeout; and how long a follow nobody polls is kept.
    private static readonly TimeSpan RelayPollWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RelayForgetAfter = TimeSpan.FromMinutes(1);

    private static readonly IReadOnlyDictionary<int, AccessDeniedException> NoRefusals = new Dictionary<int, AccessDeniedException>();

    // The follows of the silos' relays, each with the callers it serves. A follow counts as one feed watcher (the
    // retained feed stays loaded for it) until its relay ends it or stops polling.
    private Dictionary<Guid, RelayFollow>? _follows;

    private sealed class RelayFollow
    {
        public Dictionary<int, Caller> Readers { get; } = [];

        public int Version { get; set; }

        public DateTimeOffset SeenAt { get; set; }
    }

    public RelayReadersAnswer SetRelayReaders(Guid follow, int version, bool reset, IReadOnlyList<RelayReader> added, IReadOnlyList<int> removed)
    {
        ArgumentNullException.ThrowIfNull(added);
        ArgumentNullException.ThrowIfNull(removed);
        EnsureCreated();
        var entry = Follow(follow);
        if (!reset && version != entry.Version + 1)
        {
            return new RelayReadersAnswer(false, NoRefusals);
        }

        if (reset)
        {
            entry.Readers.Clear();
        }

        foreach (var id in removed)
        {
            entry.Readers.Remove(id);
        }

        foreach (var reader in added)
        {
            entry.Readers[reader.Id] = reader.Caller;
        }

        entry.Version = version;
        return new RelayReadersAnswer(true, Judge(added.Select(r => (r.Id, r.Caller))));
    }

    public async Task<RelayBatch> NextRelayBatchAsync(Guid follow, long afterSequence, int readersVersion)
    {
        EnsureCreated();
        var entry = Follow(follow);
        if (entry.Version != readersVersion)
        {
            // This activation does not judge the relay's readers as the relay numbered them: nothing until it does.
            return new RelayBatch([], NoRefusals, ReadersUnknown: true);
        }

        await LoadFeedAsync();
        var deadline = _shared.Time.GetUtcNow() + RelayPollWait;
        while (true)
        {
            if (_deactivating)
            {
                throw new EnumerationAbortedException($"'{Id}' is deactivating: poll again after sequence {afterSequence}.");
            }

            entry.SeenAt = _shared.Time.GetUtcNow();
            var pending = Pending(afterSequence);
            var left = deadline - entry.SeenAt;
            if (pending.Count > 0 || left <= TimeSpan.Zero)
            {
                return new RelayBatch(pending, Judge(entry.Readers.Select(r => (r.Key, r.Value))));
            }

            try
            {
                await Changed.Task.WaitAsync(left, _shared.Time);
            }
            catch (TimeoutException)
            {
                // Answer with no changes: the relay polls again, and hears its readers' verdicts meanwhile.
            }
        }
    }

    public void EndRelay(Guid follow)
    {
        if (_follows is not null && _follows.Remove(follow))
        {
            LeaveFeed();
        }
    }

    private RelayFollow Follow(Guid follow)
    {
        var now = _shared.Time.GetUtcNow();
        _follows ??= [];
        if (!_follows.TryGetValue(follow, out var entry))
        {
            // Forget follows whose relay went away without ending them (its silo stopped).
            foreach (var id in _follows.Where(f => now - f.Value.SeenAt > RelayForgetAfter).Select(f => f.Key).ToList())
            {
                _follows.Remove(id);
                LeaveFeed();
            }

            entry = new RelayFollow();
            _follows[follow] = entry;
            EnterFeed();
        }

        entry.SeenAt = now;
        return entry;
    }

    /// <summary>Which of <paramref name="readers"/> may not read the resource now.</summary>
    private IReadOnlyDictionary<int, AccessDeniedException> Judge(IEnumerable<(int Id, Caller Caller)> readers)
    {
        Dictionary<int, AccessDeniedException>? refused = null;
        foreach (var (id, caller) in readers)
        {
            if (MayRead(caller) is { } refusal)
            {
                (refused ??= [])[id] = refusal;
            }
        }

        return refused ?? NoRefusals;
    }
}
