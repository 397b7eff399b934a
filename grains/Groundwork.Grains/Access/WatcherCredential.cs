using Groundwork.Access;
using Groundwork.Grains.Telemetry;

namespace Groundwork.Grains.Access;

/// <summary>
/// The credential of a long watch (a feed, live state, presence), as verified when it started. A watch can stay open
/// for hours, so the caller's right is checked again on every batch (access changes) and the key is verified again
/// every <paramref name="recheck"/> (revocation, role changes) through the silo's shared cache: many watchers with one
/// key make one tenant call per period, not one each. Made in the call that starts the watch.
/// </summary>
internal sealed class WatcherCredential(CredentialVerifier verifier, TimeProvider time, TimeSpan recheck)
{
    private Caller? _caller = CallerContext.Current;

    // The first check comes due at a random point of the first period, not a whole period after the start: watches
    // that start together (a relay's watchers after a failover, a gateway's after a restart) would otherwise verify
    // their keys again all at once, a burst of tenant calls every period when their keys differ.
    private DateTimeOffset _verifiedAt = time.GetUtcNow() - recheck * Random.Shared.NextDouble();

    /// <summary>
    /// How often a watch verifies its key again: twice per credential-cache period, with answers at most half a period
    /// old, so a revoked key ends its watches within one period while many watchers of one key share one tenant call.
    /// </summary>
    public static TimeSpan RecheckEvery(AccessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.CredentialCacheDuration > TimeSpan.Zero ? options.CredentialCacheDuration / 2 : TimeSpan.FromSeconds(1);
    }

    /// <summary>The caller as last verified; null for the silo's own watches.</summary>
    public Caller? Caller => _caller;

    /// <summary>The key the watch was started with, if any.</summary>
    public string? ApiKey { get; } = RequestContext.Get(CallHeaders.ApiKey) as string;

    private string? OnBehalfOf { get; } = RequestContext.Get(CallHeaders.OnBehalfOf) as string;

    /// <summary>Verifies the key again when due, then asks <paramref name="mayRead"/>; a refusal ends the watch.</summary>
    public async ValueTask CheckAsync(Func<Caller, AccessDeniedException?> mayRead)
    {
        if (_caller is null)
        {
            return;
        }

        if (time.GetUtcNow() - _verifiedAt >= recheck)
        {
            try
            {
                _caller = await verifier.VerifyAsync(ApiKey, OnBehalfOf, maxAge: recheck);
            }
            catch (AccessDeniedException denied)
            {
                throw GroundworkMetrics.Refused(denied);
            }

            _verifiedAt = time.GetUtcNow();
        }

        if (mayRead(_caller) is { } refusal)
        {
            throw GroundworkMetrics.Refused(refusal);
        }
    }
}
