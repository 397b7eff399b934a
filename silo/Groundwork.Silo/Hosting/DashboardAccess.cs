using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Groundwork.Grains.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Groundwork.Silo.Hosting;

/// <summary>
/// The Orleans dashboard answers only the operator: HTTP Basic authentication (realm <c>Groundwork</c>, any user
/// name, the operator key as password), checked in constant time against the key the silo resolved (configured
/// <c>Groundwork:Access:OperatorKey</c>, or the generated key file). There is no built-in password.
/// </summary>
public static class DashboardAccess
{
    /// <summary>The authentication scheme.</summary>
    public const string Scheme = "GroundworkOperator";

    /// <summary>The authorization policy the dashboard's routes require.</summary>
    public const string Policy = "GroundworkOperator";

    /// <summary>The realm browsers show in their password prompt.</summary>
    public const string Realm = "Groundwork";

    /// <summary>Registers the operator's Basic authentication scheme and the <see cref="Policy"/> policy.</summary>
    public static IServiceCollection AddGroundworkDashboardAccess(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, OperatorBasicAuthenticationHandler>(Scheme, configureOptions: null);
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());
        return services;
    }

    /// <summary>Requires the operator credential on <paramref name="endpoints"/> (the dashboard's route group).</summary>
    public static TBuilder RequireOperator<TBuilder>(this TBuilder endpoints)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.RequireAuthorization(Policy);
    }
}

/// <summary>HTTP Basic with the operator key as password; a missing or wrong credential gets 401 and a Basic challenge.</summary>
public sealed class OperatorBasicAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    OperatorKey operatorKey) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <inheritdoc/>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header) ||
            !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) ||
            string.IsNullOrEmpty(header.Parameter))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return Task.FromResult(AuthenticateResult.Fail("malformed Basic credential"));
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        var user = colon < 0 ? "" : decoded[..colon];
        var password = colon < 0 ? decoded : decoded[(colon + 1)..];

        // OperatorKey.Matches hashes the presented value and compares the hashes in constant time.
        if (!operatorKey.Matches(password))
        {
            return Task.FromResult(AuthenticateResult.Fail("not the operator key"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user.Length > 0 ? user : "operator"), new Claim(ClaimTypes.Role, "operator")], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    /// <inheritdoc/>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"Basic realm=\"{DashboardAccess.Realm}\", charset=\"UTF-8\"";
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => HandleChallengeAsync(properties);
}
