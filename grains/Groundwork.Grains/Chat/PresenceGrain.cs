using System.Runtime.CompilerServices;
using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Grains.Access;
using Groundwork.Grains.Tenants;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Chat;

/// <summary>
/// A tenant's presence (<see cref="IPresenceGrain"/>), in memory only: connections by member, each with its last beat
/// and last activity. A status is computed when asked, so a dead connection needs no timer to expire: watchers wake
/// when the next one would.
/// </summary>
public sealed class PresenceGrain(
    IOptions<ChatOptions> options,
    IOptions<AccessOptions> access,
    CredentialVerifier verifier,
    TimeProvider time) : TenantScopedGrain, IPresenceGrain
{
    /// <summary>The most principals one read or watch names.</summary>
    internal const int MaxPrincipals = 10_000;

    private readonly ChatOptions _limits = options.Value;
    private readonly Dictionary<string, Dictionary<string, Connection>> _byMember = new(StringComparer.Ordinal);
    private TaskCompletionSource? _changed;
    private bool _deactivating;

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Counts for the silo's gauge, a few times per heartbeat period (statuses also change by themselves).
        var every = _limits.PresenceHeartbeat / 3;
        this.RegisterGrainTimer(() =>
        {
            var now = time.GetUtcNow();
            var statuses = _byMember.Keys.ToList().Select(p => Status(p, now)).ToList();
            Telemetry.GroundworkMetrics.Presence(this, (statuses.Count(s => s == PresenceStatus.Online), statuses.Count(s => s == PresenceStatus.Away)));
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(TimeSpan.Zero, every > TimeSpan.Zero ? every : TimeSpan.FromSeconds(10)) { Interleave = true });
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<TimeSpan> HeartbeatAsync(string connection, bool active = true)
    {
        ValidateConnection(connection);
        var principal = CallerContext.Principal;
        var now = time.GetUtcNow();
        var before = Status(principal, now);
        if (!_byMember.TryGetValue(principal, out var connections))
        {
            _byMember[principal] = connections = new(StringComparer.Ordinal);
        }

        var lastActive = connections.TryGetValue(connection, out var known) ? known.LastActive : null;
        connections[connection] = new Connection(now, active ? now : lastActive);
        if (connections.Count > _limits.MaxConnectionsPerMember)
        {
            connections.Remove(connections.MinBy(c => c.Value.LastBeat).Key);
        }

        if (Status(principal, now) != before)
        {
            Signal();
        }

        return Task.FromResult(_limits.PresenceHeartbeat);
    }

    /// <inheritdoc/>
    public Task DisconnectAsync(string connection)
    {
        ValidateConnection(connection);
        var principal = CallerContext.Principal;
        var now = time.GetUtcNow();
        var before = Status(principal, now);
        if (_byMember.TryGetValue(principal, out var connections) && connections.Remove(connection) && connections.Count == 0)
        {
            _byMember.Remove(principal);
        }

        if (Status(principal, now) != before)
        {
            Signal();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<MemberPresence>> GetAsync(IReadOnlyList<string> principals)
    {
        ValidatePrincipals(principals);
        var now = time.GetUtcNow();
        return Task.FromResult<IReadOnlyList<MemberPresence>>([.. principals.Select(p => Presence(p, now))]);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<IReadOnlyList<MemberPresence>> WatchAsync(IReadOnlyList<string> principals, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ValidatePrincipals(principals);
        var watched = principals.Distinct(StringComparer.Ordinal).ToList();
        var last = new Dictionary<string, PresenceStatus>(StringComparer.Ordinal);
        var first = true;

        // A watch can stay open for hours: its key is verified again each half credential-cache period, as feeds do,
        // so a revoked key stops seeing who is around.
        var recheck = WatcherCredential.RecheckEvery(access.Value);
        var credential = new WatcherCredential(verifier, time, recheck);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_deactivating)
            {
                throw new EnumerationAbortedException("the presence grain is deactivating: watch again");
            }

            await credential.CheckAsync(MayRead);
            var signal = (_changed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            var now = time.GetUtcNow();
            var changed = new List<MemberPresence>();
            foreach (var principal in watched)
            {
                var presence = Presence(principal, now);
                if (first || !last.TryGetValue(principal, out var was) || was != presence.Status)
                {
                    changed.Add(presence);
                    last[principal] = presence.Status;
                }
            }

            if (first || changed.Count > 0)
            {
                first = false;
                yield return changed;
            }

            // Statuses change by themselves when a connection times out or goes idle: wake then at the latest.
            var wake = NextChange(watched, now) is { } at && at - now < recheck ? at - now : recheck;
            try
            {
                await signal.WaitAsync(TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(1).Ticks, wake.Ticks)), time, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Something is due: look again.
            }
        }
    }

    /// <inheritdoc/>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _deactivating = true;
        _changed?.TrySetResult();
        Telemetry.GroundworkMetrics.Presence(this, null);
        return Task.CompletedTask;
    }

    private AccessDeniedException? MayRead(Caller caller) => AccessPolicy.Check(caller, Requirement.Read, Tenant!, null);

    private void Signal()
    {
        var signal = _changed;
        _changed = null;
        signal?.TrySetResult();
    }

    private MemberPresence Presence(string principal, DateTimeOffset now)
    {
        var status = Status(principal, now);
        var lastActive = _byMember.TryGetValue(principal, out var connections) ? connections.Values.Max(c => c.LastActive) : null;
        return new MemberPresence(principal, status, lastActive);
    }

    private PresenceStatus Status(string principal, DateTimeOffset now)
    {
        if (!_byMember.TryGetValue(principal, out var connections))
        {
            return PresenceStatus.Offline;
        }

        // Connections that stopped beating are dropped here: nothing else needs to look for them.
        foreach (var (id, connection) in connections.ToList())
        {
            if (now - connection.LastBeat >= _limits.PresenceTimeout)
            {
                connections.Remove(id);
            }
        }

        if (connections.Count == 0)
        {
            _byMember.Remove(principal);
            return PresenceStatus.Offline;
        }

        return connections.Values.Any(c => c.LastActive is { } active && now - active < _limits.AwayAfter) ? PresenceStatus.Online : PresenceStatus.Away;
    }

    /// <summary>When the first of <paramref name="principals"/> would change by itself (a timeout, going idle).</summary>
    private DateTimeOffset? NextChange(List<string> principals, DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        foreach (var principal in principals)
        {
            if (!_byMember.TryGetValue(principal, out var connections))
            {
                continue;
            }

            foreach (var connection in connections.Values)
            {
                var candidates = new[] { connection.LastBeat + _limits.PresenceTimeout, (connection.LastActive ?? now) + _limits.AwayAfter };
                foreach (var at in candidates.Where(a => a > now))
                {
                    next = next is null || at < next ? at : next;
                }
            }
        }

        return next;
    }

    private static void ValidateConnection(string connection)
    {
        if (string.IsNullOrEmpty(connection) || connection.Length > 64 || connection.Any(char.IsControl))
        {
            throw new InvalidRequestException(nameof(connection), "must be 1-64 characters without control characters");
        }
    }

    private static void ValidatePrincipals(IReadOnlyList<string> principals)
    {
        InvalidRequestException.ThrowIfNull(principals, nameof(principals));
        if (principals.Count > MaxPrincipals)
        {
            throw new LimitExceededException("Chat:PresencePrincipals", MaxPrincipals, principals.Count);
        }

        foreach (var principal in principals)
        {
            Principal.Validate(principal, nameof(principals));
        }
    }

    /// <summary>One connection: its last beat and when its user was last active.</summary>
    private sealed record Connection(DateTimeOffset LastBeat, DateTimeOffset? LastActive);
}
