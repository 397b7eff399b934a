using System.Collections.Concurrent;
using Groundwork.Access;
using Groundwork.Grains.Telemetry;
using Groundwork.Tenants;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Access;

/// <summary>
/// Turns the key a call carries into a verified <see cref="Caller"/>, asking the key's tenant grain and
/// remembering the answer for <see cref="AccessOptions.CredentialCacheDuration"/>. Refusals are remembered for as
/// long, so a flood of calls with one bad key asks the tenant once.
/// </summary>
public sealed class CredentialVerifier(IGrainFactory grains, OperatorKey operatorKey, IOptions<AccessOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Key, string? OnBehalfOf), (Caller Caller, DateTimeOffset Expires)> _cache = new();
    private readonly ConcurrentDictionary<(string Key, string? OnBehalfOf), Task<Caller>> _asking = new();
    private readonly ConcurrentDictionary<(string Key, string? OnBehalfOf), (AccessDeniedException Refusal, DateTimeOffset Expires)> _refused = new();
    private readonly AccessOptions _options = options.Value;

    /// <summary>
    /// Verifies <paramref name="key"/>, acting for <paramref name="onBehalfOf"/> if given. With
    /// <paramref name="maxAge"/>, a cached answer counts only if the tenant gave it at most that long ago (long-lived
    /// feeds re-verify this way). Concurrent verifications of one key share one tenant call.
    /// </summary>
    /// <exception cref="AccessDeniedException">The key is missing, malformed, unknown, revoked, or may not act for others.</exception>
    public async ValueTask<Caller> VerifyAsync(string? key, string? onBehalfOf, TimeSpan? maxAge = null)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw new AccessDeniedException(AccessDenialReason.MissingCredential, "the call carries no API key; configure Groundwork:Client:ApiKey");
        }

        if (ApiKeys.IsOperatorKeyForm(key))
        {
            if (!operatorKey.Matches(key))
            {
                throw new AccessDeniedException(AccessDenialReason.UnknownCredential, "the operator key is not this cluster's");
            }

            return onBehalfOf is null
                ? Caller.Operator
                : throw new AccessDeniedException(AccessDenialReason.OnBehalfOfNotAllowed, "the operator key acts only as itself");
        }

        // An entry expires CredentialCacheDuration after the tenant answered; with a maximum age it must be younger.
        var now = time.GetUtcNow();
        var validAfter = now + _options.CredentialCacheDuration - (maxAge ?? _options.CredentialCacheDuration);
        if (_cache.TryGetValue((key, onBehalfOf), out var cached) && cached.Expires > now && cached.Expires > validAfter)
        {
            return cached.Caller;
        }

        if (_refused.TryGetValue((key, onBehalfOf), out var refused) && refused.Expires > now && refused.Expires > validAfter)
        {
            throw new AccessDeniedException(refused.Refusal.Reason, refused.Refusal.Detail);
        }

        // Malformed keys fail at once, without a tenant call or a shared wait.
        if (!ApiKeys.TryParseTenantKey(key, out var tenant, out var keyId, out var secret))
        {
            throw new AccessDeniedException(AccessDenialReason.MalformedCredential, "the API key is not of the form gwk_{tenant}_{id}_{secret}");
        }

        var asking = _asking.GetOrAdd((key, onBehalfOf), k => AskTenantAsync(k.Key, k.OnBehalfOf, tenant, keyId, secret));
        try
        {
            return await asking;
        }
        finally
        {
            _asking.TryRemove(new KeyValuePair<(string, string?), Task<Caller>>((key, onBehalfOf), asking));
        }
    }

    private async Task<Caller> AskTenantAsync(string key, string? onBehalfOf, string tenant, string keyId, string secret)
    {
        if (onBehalfOf is not null && !Principal.IsValid(onBehalfOf))
        {
            throw new InvalidRequestException(CallHeaders.OnBehalfOf, "not a valid principal id");
        }


        GroundworkMetrics.Verifications.Add(1);
        var verdict = await grains.GetGrain<ITenantGrain>(tenant).VerifyKeyAsync(keyId, ApiKeys.Hash(secret), onBehalfOf);
        var now = time.GetUtcNow();
        if (verdict.Refusal is { } refusal)
        {
            _cache.TryRemove((key, onBehalfOf), out _);
            var denied = new AccessDeniedException(refusal, refusal switch
            {
                AccessDenialReason.RevokedCredential => $"key {keyId} of tenant '{tenant}' was revoked",
                AccessDenialReason.OnBehalfOfNotAllowed => $"key {keyId} has no edge scope, so it cannot act for '{onBehalfOf}'",
                _ => $"key {keyId} is not a key of tenant '{tenant}'",
            });
            Remember(_refused, (key, onBehalfOf), (denied, now + _options.CredentialCacheDuration));
            throw denied;
        }

        var holder = verdict.Holder is null ? null : new Caller(tenant, verdict.Holder, verdict.HolderRole, IsOperator: false);
        var caller = new Caller(tenant, verdict.Principal!, verdict.Role, IsOperator: false, holder);
        Remember(_cache, (key, onBehalfOf), (caller, now + _options.CredentialCacheDuration));
        _refused.TryRemove((key, onBehalfOf), out _);
        return caller;
    }

    /// <summary>Caches <paramref name="value"/>, starting over when the cache is full (bounded, no eviction order).</summary>
    private void Remember<TValue>(ConcurrentDictionary<(string Key, string? OnBehalfOf), TValue> cache, (string, string?) key, TValue value)
    {
        if (cache.Count >= _options.CredentialCacheSize)
        {
            cache.Clear();
        }

        cache[key] = value;
    }
}
