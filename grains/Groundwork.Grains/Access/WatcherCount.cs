using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Access;

/// <summary>
/// Open feed watchers per API key on this silo, so one key cannot hold an unbounded number of feeds open
/// (<see cref="AccessOptions.MaxWatchersPerKey"/>). Each resource bounds its own watchers as well.
/// </summary>
public sealed class WatcherCount(IOptions<AccessOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);
    private readonly int _limit = options.Value.MaxWatchersPerKey;

    /// <summary>Counts one more watcher for <paramref name="key"/>; dispose the result when the watch ends.</summary>
    /// <exception cref="LimitExceededException">The key already holds <see cref="AccessOptions.MaxWatchersPerKey"/> watchers.</exception>
    public IDisposable Enter(string key)
    {
        var now = _open.AddOrUpdate(key, 1, static (_, n) => n + 1);
        if (now > _limit)
        {
            Leave(key);
            throw new LimitExceededException("Access:MaxWatchersPerKey", _limit, now);
        }

        return new Exit(this, key);
    }

    private void Leave(string key)
    {
        if (_open.AddOrUpdate(key, 0, static (_, n) => n - 1) <= 0)
        {
            _open.TryRemove(new KeyValuePair<string, int>(key, 0));
        }
    }

    private sealed class Exit(WatcherCount owner, string key) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                owner.Leave(key);
            }
        }
    }
}
