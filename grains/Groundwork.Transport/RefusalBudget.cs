using System.Collections.Concurrent;
using System.Diagnostics;

namespace Groundwork.Transport;

/// <summary>
/// How many refused calls each client may cause before its connection is slowed: a token bucket per client of
/// <see cref="MessageLimits.RefusalBurst"/> refusals, refilled at <see cref="MessageLimits.RefusalsPerSecond"/>.
/// The access filter reports refusals; <see cref="MessageGuard"/> holds back the next request of a client in debt
/// until a token is due, so one connection that keeps sending refused calls cannot crowd out other tenants' calls.
/// A well-behaved client, refused now and then, never waits.
/// </summary>
public sealed class RefusalBudget
{
    private const int MaxClients = 100_000;
    private readonly ConcurrentDictionary<string, Bucket> _clients = new(StringComparer.Ordinal);
    private readonly double _perSecond;
    private readonly double _burst;

    /// <summary>Creates the budget from <paramref name="limits"/>; zero refusals per second turns it off.</summary>
    public RefusalBudget(MessageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _perSecond = limits.RefusalsPerSecond;
        _burst = Math.Max(1, limits.RefusalBurst);
    }

    /// <summary>Counts one refused call of <paramref name="client"/> (its grain id as text).</summary>
    public void Refused(string client)
    {
        if (_perSecond <= 0)
        {
            return;
        }

        if (_clients.Count >= MaxClients)
        {
            _clients.Clear();
        }

        var bucket = _clients.GetOrAdd(client, static (_, burst) => new Bucket(burst), _burst);
        lock (bucket)
        {
            bucket.Refill(_perSecond, _burst);
            bucket.Tokens -= 1;
        }
    }

    /// <summary>How long the next request of <paramref name="client"/> should wait: zero unless it is in debt.</summary>
    public TimeSpan DelayFor(string client)
    {
        if (_perSecond <= 0 || !_clients.TryGetValue(client, out var bucket))
        {
            return TimeSpan.Zero;
        }

        lock (bucket)
        {
            bucket.Refill(_perSecond, _burst);
            if (bucket.Tokens >= 1 && bucket.Tokens >= _burst)
            {
                _clients.TryRemove(client, out _);
            }

            return bucket.Tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(1, -bucket.Tokens / _perSecond));
        }
    }

    private sealed class Bucket(double tokens)
    {
        private long _at = Stopwatch.GetTimestamp();

        public double Tokens { get; set; } = tokens;

        public void Refill(double perSecond, double burst)
        {
            var now = Stopwatch.GetTimestamp();
            Tokens = Math.Min(burst, Tokens + (Stopwatch.GetElapsedTime(_at, now).TotalSeconds * perSecond));
            _at = now;
        }
    }
}
