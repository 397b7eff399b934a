using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Groundwork.Client;

/// <summary>
/// One client's shared watch of one resource (<see cref="IFeedRelay{TChange}.WatchSharedAsync"/>): a single stream
/// from the connected silo's relay carries each change once, and this client's watchers of the resource read it from
/// the last <see cref="BufferSize"/> changes kept here. Each watcher is admitted under its own key before it reads and
/// ends at the relay's verdict on it. A watcher further behind than the share keeps, or slower than the share, reads
/// through a watch of its own until it has caught up. The stream reopens itself from its last change, so a failover
/// is one reopening for the share, not one per watcher. See docs/design/chat.md, "Shared watches".
/// </summary>
internal sealed class FeedShare<TChange> : IDisposable
    where TChange : IChange
{
    /// <summary>Changes a share keeps for its watchers.</summary>
    public const int BufferSize = 1_000;

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan AheadWait = TimeSpan.FromSeconds(1);
    private static readonly ConditionalWeakTable<IGrainFactory, ConcurrentDictionary<string, FeedShare<TChange>>> Registry = new();

    private readonly Lock _gate = new();
    // Resolved once: resolving a generic grain interface reflects on every GetGrain.
    private readonly IFeedRelay<TChange> _relay;
    private readonly string _key;
    private readonly ConcurrentDictionary<string, FeedShare<TChange>> _siblings;
    private readonly CancellationTokenSource _stop = new();

    // Guarded by _gate: the changes after _start up to _head, the watchers in the order they joined, and the current
    // opening of the stream (a new share id each time; _open once the relay said so).
    private readonly List<TChange> _buffer = [];
    private readonly List<Local> _locals = [];
    private long _start;
    private long _head;
    private int _generation;
    private Guid _id;
    private Local? _opener;
    private bool _open;
    private bool _closed;
    private CancellationTokenSource? _stream;
    private TimeSpan _backoff = TimeSpan.FromMilliseconds(50);
    private TaskCompletionSource _signal = NewSignal();

    private FeedShare(IGrainFactory grains, string key, ConcurrentDictionary<string, FeedShare<TChange>> siblings)
    {
        _relay = grains.GetGrain<IFeedRelay<TChange>>(key);
        _key = key;
        _siblings = siblings;
    }

    /// <summary>The changes of <paramref name="key"/> after <paramref name="afterSequence"/>, through this client's share of it.</summary>
    public static async IAsyncEnumerable<TChange> WatchAsync(
        IGrainFactory grains, string key, long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var local = new Local(GroundworkCredentials.CurrentKey, GroundworkCredentials.CurrentOnBehalfOf);
        var shares = Registry.GetValue(grains, static _ => new ConcurrentDictionary<string, FeedShare<TChange>>(StringComparer.Ordinal));
        FeedShare<TChange> share;
        while (!(share = shares.GetOrAdd(key, k => new FeedShare<TChange>(grains, k, shares))).TryJoin(local, afterSequence))
        {
            // It closed as this watcher came: a new one.
            shares.TryRemove(new KeyValuePair<string, FeedShare<TChange>>(key, share));
        }

        await foreach (var change in share.ReadAsync(local, afterSequence, cancellationToken))
        {
            yield return change;
        }
    }

    private bool TryJoin(Local local, long afterSequence)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _locals.Add(local);
            if (_generation == 0 && _locals.Count == 1)
            {
                _start = _head = afterSequence;

                // The pump calls with each opener's own credential, never with what this watcher's flow carries.
                using (ExecutionContext.SuppressFlow())
                {
                    _ = Task.Run(PumpAsync);
                }
            }

            return true;
        }
    }

    private async IAsyncEnumerable<TChange> ReadAsync(Local local, long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var cursor = afterSequence;
        DateTimeOffset? aheadSince = null;
        var backoff = TimeSpan.FromMilliseconds(50);
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Exception? ended;
                Task signal;
                List<TChange>? changes = null;
                (Guid Id, int Generation)? admit = null;
                var own = false;
                var wait = Timeout.InfiniteTimeSpan;
                lock (_gate)
                {
                    ended = local.Ended;
                    signal = _signal.Task;
                    if (local.Fallback)
                    {
                        own = true;
                    }
                    else if (_open && local.AdmittedIn < _generation)
                    {
                        admit = (_id, _generation);
                    }
                    else if (_open)
                    {
                        if (cursor < _start)
                        {
                            // Behind what the share keeps: a watch of its own until it has caught up.
                            own = true;
                        }
                        else if (cursor > _head)
                        {
                            // A cursor from a snapshot read a moment ago is often a little ahead of what the share has heard.
                            aheadSince ??= DateTimeOffset.UtcNow;
                            wait = AheadWait - (DateTimeOffset.UtcNow - aheadSince.Value);
                            own = wait <= TimeSpan.Zero;
                        }
                        else
                        {
                            aheadSince = null;
                            changes = After(cursor);
                        }
                    }
                }

                if (ended is not null)
                {
                    throw ended;
                }

                if (admit is { } admission)
                {
                    if (!await AdmitAsync(local, admission.Id, admission.Generation))
                    {
                        // That opening is gone; the share opens again (or this watcher's next try finds it open).
                        await Task.Delay(backoff, cancellationToken);
                        backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                    }

                    continue;
                }

                if (own)
                {
                    aheadSince = null;

                    // Not counted twice meanwhile: it is admitted again when it comes back.
                    DismissForOwnWatch(local);
                    await foreach (var change in ResourceFeed.FollowAsync(
                        c => _relay.WatchAsync(c, cancellationToken), cursor, local.ApiKey, local.OnBehalfOf, cancellationToken))
                    {
                        yield return change;
                        cursor = change.Sequence;
                        if (CanRead(local, cursor))
                        {
                            break;
                        }
                    }

                    continue;
                }

                if (changes is { Count: > 0 })
                {
                    backoff = TimeSpan.FromMilliseconds(50);
                    foreach (var change in changes)
                    {
                        yield return change;
                        cursor = change.Sequence;
                    }

                    continue;
                }

                try
                {
                    await signal.WaitAsync(wait, cancellationToken);
                }
                catch (TimeoutException)
                {
                    // Ahead for a second: the next round reads through a watch of its own.
                }
            }
        }
        finally
        {
            Leave(local);
        }
    }

    /// <summary>Admits <paramref name="local"/> to opening <paramref name="generation"/>; false when that opening is gone or the silo did not answer.</summary>
    private async Task<bool> AdmitAsync(Local local, Guid id, int generation)
    {
        try
        {
            using (local.Use())
            {
                await _relay.AdmitAsync(id, local.Id);
            }
        }
        catch (Exception exception) when (ResourceFeed.IsTransient(exception))
        {
            return false;
        }

        lock (_gate)
        {
            local.AdmittedIn = Math.Max(local.AdmittedIn, generation);
        }

        return true;
    }

    /// <summary>Whether a watcher reading through a watch of its own can read the share again (once admitted again).</summary>
    private bool CanRead(Local local, long cursor)
    {
        lock (_gate)
        {
            return !local.Fallback && _open && cursor >= _start && cursor <= _head;
        }
    }

    private void DismissForOwnWatch(Local local)
    {
        Guid? id;
        lock (_gate)
        {
            id = TakeAdmissionLocked(local);
        }

        if (id is { } share)
        {
            _ = DismissQuietlyAsync(local, share);
        }
    }

    /// <summary>The open stream's id when <paramref name="local"/> is admitted to it as a member (not its opener), which it no longer is; else null. Under the lock.</summary>
    private Guid? TakeAdmissionLocked(Local local)
    {
        if (local == _opener || local.AdmittedIn != _generation || !_open)
        {
            return null;
        }

        local.AdmittedIn = 0;
        return _id;
    }

    private static void CancelQuietly(CancellationTokenSource? source)
    {
        try
        {
            source?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // What it cancels had ended already.
        }
    }

    private void Leave(Local local)
    {
        Guid? dismiss;
        var last = false;
        CancellationTokenSource? handOver = null;
        lock (_gate)
        {
            _locals.Remove(local);
            dismiss = TakeAdmissionLocked(local);
            if (_locals.Count == 0 && !_closed)
            {
                CloseLocked();
                last = true;
            }
            else if (local == _opener && !_closed)
            {
                // The stream runs on the opener's key: one of the others reopens it, so a key's watch ends with its watcher.
                handOver = _stream;
            }
        }

        CancelQuietly(handOver);
        if (last)
        {
            CancelQuietly(_stop);
        }
        else if (dismiss is { } id)
        {
            _ = DismissQuietlyAsync(local, id);
        }
    }

    private async Task DismissQuietlyAsync(Local local, Guid id)
    {
        try
        {
            using (local.Use())
            {
                await _relay.DismissAsync(id, local.Id);
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The relay forgets the watcher when the share's stream ends, or refuses it when its key no longer serves.
        }
    }

    private void CloseLocked()
    {
        _closed = true;
        _open = false;
        _siblings.TryRemove(new KeyValuePair<string, FeedShare<TChange>>(_key, this));
    }

    /// <summary>Releases the stream's cancellation, once the stream has ended for good.</summary>
    public void Dispose() => _stop.Dispose();

    private async Task PumpAsync()
    {
        try
        {
            await PumpCoreAsync();
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>The stream: opened with the first watcher able to open it, reopened from the last change it brought.</summary>
    private async Task PumpCoreAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Guid id;
            int generation;
            long from;
            Local? opener;
            CancellationTokenSource stream;
            lock (_gate)
            {
                if (_opener is null || _opener.Ended is not null || !_locals.Contains(_opener))
                {
                    _opener = _locals.FirstOrDefault(l => l.Ended is null && !l.Fallback);
                }

                opener = _opener;
                if (opener is null || _closed)
                {
                    // Nobody left to open it (those still here were refused and are leaving).
                    CloseLocked();
                    return;
                }

                _generation++;
                _id = id = Guid.NewGuid();
                _open = false;
                generation = _generation;
                from = _head;
                _stream = stream = CancellationTokenSource.CreateLinkedTokenSource(token);
            }

            Pulse();
            try
            {
                await ReadStreamAsync(opener, id, generation, from, stream.Token);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (stream.IsCancellationRequested)
            {
                // The opener left: another watcher's key opens the share.
            }
            catch (Exception exception) when (ResourceFeed.IsTransient(exception))
            {
                await Task.Delay(_backoff, CancellationToken.None);
                _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
            }
            catch (Exception exception) when (exception is ResyncRequiredException or NotFoundException or InvalidResourceKeyException)
            {
                // The stream's own cursor failed (past retention, a resource gone): the opener hears why, and every other
                // watcher asks the resource through a watch of its own, which answers for its own cursor.
                lock (_gate)
                {
                    opener.Ended = exception;
                    foreach (var local in _locals)
                    {
                        local.Fallback |= local != opener;
                    }

                    CloseLocked();
                }

                Pulse();
                return;
            }
            catch (Exception exception)
            {
                // The opener's key no longer reads, or holds as many watches as it may: it gets the error, and another
                // watcher's key opens the share, after a pause.
                lock (_gate)
                {
                    opener.Ended = exception;
                }

                Pulse();
                await Task.Delay(_backoff, CancellationToken.None);
            }
            finally
            {
                lock (_gate)
                {
                    if (_stream == stream)
                    {
                        _stream = null;
                    }
                }

                stream.Dispose();
            }
        }
    }

    private async Task ReadStreamAsync(Local opener, Guid id, int generation, long from, CancellationToken token)
    {
        IAsyncEnumerator<SharedDelivery<TChange>> stream;
        using (opener.Use())
        {
            stream = _relay.WatchSharedAsync(id, from, token).GetAsyncEnumerator(token);
        }

        try
        {
            while (true)
            {
                using (opener.Use())
                {
                    if (!await stream.MoveNextAsync())
                    {
                        throw new EnumerationAbortedException($"the share of '{_key}' ended: open it again.");
                    }
                }

                var delivery = stream.Current;
                lock (_gate)
                {
                    if (delivery.IsOpened)
                    {
                        _open = true;
                        opener.AdmittedIn = generation;
                        _backoff = TimeSpan.FromMilliseconds(50);
                    }

                    if (delivery.Refused is { } refused)
                    {
                        foreach (var local in _locals)
                        {
                            if (refused.TryGetValue(local.Id, out var refusal))
                            {
                                local.Ended = refusal;
                            }
                        }
                    }

                    if (delivery.Change is { } change && change.Sequence > _head)
                    {
                        _buffer.Add(change);
                        _head = change.Sequence;
                        if (_buffer.Count > BufferSize)
                        {
                            var drop = _buffer.Count - BufferSize;
                            _start = _buffer[drop - 1].Sequence;
                            _buffer.RemoveRange(0, drop);
                        }
                    }
                }

                Pulse();
            }
        }
        finally
        {
            using (opener.Use())
            {
                try
                {
                    await stream.DisposeAsync();
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    // The relay's enumeration is collected when no one polls it.
                }
            }
        }
    }

    /// <summary>The kept changes after <paramref name="cursor"/>, copied (the buffer changes meanwhile). Under the lock.</summary>
    private List<TChange> After(long cursor)
    {
        var low = ChangeList.IndexAfter(_buffer, cursor);
        return _buffer.GetRange(low, _buffer.Count - low);
    }

    private void Pulse() => Interlocked.Exchange(ref _signal, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One watcher of the share, with the credential its watch started with.</summary>
    private sealed class Local(string? apiKey, string? onBehalfOf)
    {
        public Guid Id { get; } = Guid.NewGuid();

        public string? ApiKey { get; } = apiKey;

        public string? OnBehalfOf { get; } = onBehalfOf;

        /// <summary>The last opening it was admitted to (the opener is admitted by opening). Under the lock.</summary>
        public int AdmittedIn { get; set; }

        /// <summary>Why its watch ends (a refusal), or null. Under the lock.</summary>
        public Exception? Ended { get; set; }

        /// <summary>Whether it reads through a watch of its own for good (the share's stream failed). Under the lock.</summary>
        public bool Fallback { get; set; }

        public IDisposable Use() => GroundworkCredentials.UseExactly(ApiKey, OnBehalfOf);
    }
}
