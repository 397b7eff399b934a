using System.Security.Claims;
using Groundwork.Access;
using Groundwork.Client;

namespace Groundwork.Gateway.Http;

/// <summary>
/// What a gateway call carries to the silo for an authenticated request: the key (the caller's API key, or the
/// gateway's edge key for a JWT) and, for a JWT, the subject that key acts for. The silo verifies both.
/// </summary>
/// <param name="Key">The key the call is made with.</param>
/// <param name="OnBehalfOf">The end user an edge key acts for, if any.</param>
internal readonly record struct CallCredential(string Key, string? OnBehalfOf)
{
    /// <summary>The credential of an authenticated request (any of the gateway's schemes).</summary>
    public static CallCredential Of(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var key = user.FindFirst(ApiKeyAuthenticationHandler.KeyClaim)?.Value
            ?? throw new InvalidOperationException("the gateway's routes require an authenticated credential");
        return new CallCredential(key, user.FindFirst(JwtAuthentication.OnBehalfOfClaim)?.Value);
    }

    /// <summary>
    /// Puts the credential on the grain calls of this flow until disposed: through <see cref="GroundworkCredentials"/>
    /// (an Orleans client's credential filter reads it) and the request context (a call made inside the silo carries
    /// it as it is).
    /// </summary>
    public IDisposable Use()
    {
        RequestContext.Set(CallHeaders.ApiKey, Key);
        var key = GroundworkCredentials.Use(Key);
        if (OnBehalfOf is null)
        {
            return key;
        }

        RequestContext.Set(CallHeaders.OnBehalfOf, OnBehalfOf);
        return new Both(key, GroundworkCredentials.ActFor(OnBehalfOf));
    }

    private sealed class Both(IDisposable key, IDisposable acting) : IDisposable
    {
        public void Dispose()
        {
            acting.Dispose();
            key.Dispose();
        }
    }
}
