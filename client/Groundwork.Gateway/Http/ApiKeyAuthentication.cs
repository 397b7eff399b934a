using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Groundwork.Gateway.Http;

/// <summary>
/// API keys as <c>Authorization: Bearer gwk_...</c> (or the operator's <c>gwo_...</c>). The gateway checks only the
/// key's form: the silo verifies it on every call, so the gateway holds no secrets and no key list. The key is kept
/// for the call and never logged.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "GroundworkApiKey";

    /// <summary>The claim that holds the key for the call.</summary>
    public const string KeyClaim = "groundwork:key";

    /// <summary>The claim that names the key's rate-limit partition (<c>{tenant}_{keyId}</c>, or <c>operator</c>): never the secret.</summary>
    public const string PartitionClaim = "groundwork:partition";

    /// <summary>The longest key text accepted.</summary>
    public const int MaxKeyLength = 256;

    private const string FailureItem = "groundwork:auth-failure";

    /// <inheritdoc/>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var text = header.Count == 1 ? header[0] : null;
        if (text is null || !text.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Fail(AccessDenialReason.MalformedCredential);
        }

        var key = text[7..].Trim();
        if (Partition(key) is not { } partition)
        {
            return Fail(AccessDenialReason.MalformedCredential);
        }

        var identity = new ClaimsIdentity([new Claim(KeyClaim, key), new Claim(PartitionClaim, partition)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <summary>The rate-limit partition of a well-formed key text; null when it is not one.</summary>
    public static string? Partition(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is < 5 or > MaxKeyLength || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            return null;
        }

        if (key.StartsWith("gwo_", StringComparison.Ordinal))
        {
            return "operator";
        }

        return key.StartsWith("gwk_", StringComparison.Ordinal) && key[4..].Split('_') is [var tenant, var id, _] && TenantId.IsValid(tenant) && id.Length > 0
            ? $"{tenant}_{id}"
            : null;
    }

    private Task<AuthenticateResult> Fail(AccessDenialReason reason)
    {
        Context.Items[FailureItem] = reason;
        return Task.FromResult(AuthenticateResult.Fail(reason.ToString()));
    }

    /// <inheritdoc/>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var reason = Context.Items[FailureItem] as AccessDenialReason? ?? AccessDenialReason.MissingCredential;
        return Problem.Unauthenticated(ProblemMapper.Describe(reason), reason.ToString()).WriteAsync(Context);
    }

    /// <inheritdoc/>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problem.Forbidden(ForbiddenDetail).WriteAsync(Context);

    /// <summary>What a 403 from the authorization policy says.</summary>
    internal const string ForbiddenDetail = "The credential may not call this.";
}
