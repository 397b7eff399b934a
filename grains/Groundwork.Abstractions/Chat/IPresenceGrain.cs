using Groundwork.Access;

namespace Groundwork.Chat;

/// <summary>
/// Who is online in a tenant (one grain per tenant, keyed by its id). Each client connection sends a heartbeat every
/// 30 seconds; a member is online while one of their connections beats and was active in the last 5 minutes, away
/// while they beat but idle, and offline once none has beaten for 100 seconds (a process that dies simply stops).
/// Nothing is stored.
/// </summary>
[Alias("gw.presence"), TenantScoped]
public interface IPresenceGrain : IGrainWithStringKey
{
    /// <summary>
    /// The caller's connection <paramref name="connection"/> (an id the client picks, 1-64 characters) is alive, and
    /// its user was <paramref name="active"/> since the last beat.
    /// </summary>
    /// <returns>When to beat next.</returns>
    [Alias("heartbeat"), Requires(Requirement.Read)]
    Task<TimeSpan> HeartbeatAsync(string connection, bool active = true);

    /// <summary>The caller's connection ends now (a clean exit; a dead one times out).</summary>
    [Alias("disconnect"), Requires(Requirement.Read)]
    Task DisconnectAsync(string connection);

    /// <summary>The presence of <paramref name="principals"/> (up to 10,000), in their order.</summary>
    [Alias("get"), Requires(Requirement.Read), Safe]
    Task<IReadOnlyList<MemberPresence>> GetAsync(IReadOnlyList<string> principals);

    /// <summary>
    /// The presence of <paramref name="principals"/> now, then each time some of them change, the changed ones. Ends
    /// with an <c>EnumerationAbortedException</c> when the grain moves: watch again.
    /// </summary>
    [Alias("watch"), Requires(Requirement.Read), Safe]
    IAsyncEnumerable<IReadOnlyList<MemberPresence>> WatchAsync(IReadOnlyList<string> principals, CancellationToken cancellationToken = default);
}

/// <summary>Whether a member is around.</summary>
public enum PresenceStatus
{
    /// <summary>No live connection.</summary>
    Offline = 0,

    /// <summary>Connected, idle for 5 minutes or more.</summary>
    Away = 1,

    /// <summary>Connected and active.</summary>
    Online = 2,
}

/// <summary>A member's presence.</summary>
/// <param name="Principal">The member.</param>
/// <param name="Status">Online, away or offline.</param>
/// <param name="LastActiveAt">When they were last active, if this silo has seen them since the presence began.</param>
[GenerateSerializer, Immutable, Alias("gw.member-presence")]
public sealed record MemberPresence(
    [property: Id(0)] string Principal,
    [property: Id(1)] PresenceStatus Status,
    [property: Id(2)] DateTimeOffset? LastActiveAt);

/// <summary>Getting presence grains.</summary>
public static class PresenceGrainFactoryExtensions
{
    /// <summary>The presence of tenant <paramref name="tenantId"/>.</summary>
    public static IPresenceGrain GetPresence(this IGrainFactory factory, string tenantId)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return factory.GetGrain<IPresenceGrain>(TenantId.Validate(tenantId));
    }
}
