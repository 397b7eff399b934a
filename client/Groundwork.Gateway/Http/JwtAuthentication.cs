using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace Groundwork.Gateway.Http;

/// <summary>
/// JWT bearer tokens from one configured issuer (<c>Groundwork:Gateway:Jwt</c>): the framework's JwtBearer handler
/// checks the signature, issuer, audience, lifetime and algorithm; then the token's tenant claim picks the gateway's
/// edge key for that tenant, and the call goes to the silo with that key on behalf of the token's subject. The silo
/// checks the rest: that the key is an edge key of that tenant, the subject's role in it, the route's tenant.
/// </summary>
internal static class JwtAuthentication
{
    /// <summary>The JwtBearer scheme's name.</summary>
    public const string SchemeName = "GroundworkJwt";

    /// <summary>The claim that names the end user the edge key acts for.</summary>
    public const string OnBehalfOfClaim = "groundwork:on-behalf-of";

    private const string FailureItem = "groundwork:jwt-failure";

    /// <summary>Whether a bearer credential has the form of a JWT (three base64url parts) rather than an API key.</summary>
    public static bool LooksLikeJwt(string? authorization) =>
        authorization is { Length: > 7 } text && text.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) &&
        text.AsSpan(7).Count('.') == 2;

    /// <summary>Configures the JwtBearer scheme from the gateway's options.</summary>
    public static void Configure(JwtBearerOptions jwt, HttpGatewayOptions gateway)
    {
        var options = gateway.Jwt;
        jwt.MapInboundClaims = false;
        jwt.RequireHttpsMetadata = false;
        jwt.SaveToken = false;
        jwt.IncludeErrorDetails = false;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.Audience,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            IssuerSigningKeys = options.SigningKeys.Select(ReadKey).ToList(),
            ValidAlgorithms = options.Algorithms,
            ClockSkew = options.ClockSkew,
            NameClaimType = "sub",
        };
        jwt.Events = new JwtBearerEvents
        {
            OnTokenValidated = context => Validated(context, options),
            OnAuthenticationFailed = context =>
            {
                context.HttpContext.Items[FailureItem] = Reason(context.Exception);
                return Task.CompletedTask;
            },
            OnChallenge = async context =>
            {
                context.HandleResponse();
                var (reason, detail) = context.HttpContext.Items[FailureItem] as (string, string)? ?? ("InvalidToken", "the bearer token was refused");
                await Problem.Unauthenticated(detail + ".", reason).WriteAsync(context.HttpContext);
            },
            OnForbidden = context =>
                Problem.Forbidden(ApiKeyAuthenticationHandler.ForbiddenDetail).WriteAsync(context.HttpContext),
        };
    }

    /// <summary>After the signature and claims checked out: the subject, the tenant and that tenant's edge key.</summary>
    private static Task Validated(TokenValidatedContext context, JwtGatewayOptions options)
    {
        var principal = context.Principal!;
        var subject = principal.FindFirst("sub")?.Value;
        var tenant = principal.FindFirst(options.TenantClaim)?.Value;
        string? failure = null;
        if (subject is null || !Groundwork.Access.Principal.IsValid(subject))
        {
            failure = "the token's sub claim is missing or not a valid principal id";
        }
        else if (tenant is null || !options.EdgeKeys.TryGetValue(tenant, out var edge))
        {
            failure = $"the token's {options.TenantClaim} claim is missing or names a tenant this gateway has no edge key for";
        }
        else if (Lifetime(context.SecurityToken) > options.MaxTokenLifetime)
        {
            failure = $"the token lives longer than Groundwork:Gateway:Jwt:MaxTokenLifetime ({options.MaxTokenLifetime})";
        }
        else
        {
            var identity = new ClaimsIdentity(
            [
                new Claim(ApiKeyAuthenticationHandler.KeyClaim, edge),
                new Claim(OnBehalfOfClaim, subject),
                new Claim(ApiKeyAuthenticationHandler.PartitionClaim, $"jwt:{tenant}:{subject}"),
            ], SchemeName, "sub", null);
            context.Principal = new ClaimsPrincipal(identity);
            return Task.CompletedTask;
        }

        context.HttpContext.Items[FailureItem] = ("InvalidToken", failure);
        context.Fail(failure);
        return Task.CompletedTask;
    }

    private static TimeSpan Lifetime(SecurityToken token) =>
        token.ValidTo == DateTime.MinValue ? TimeSpan.MaxValue
            : token.ValidTo - (token.ValidFrom == DateTime.MinValue ? DateTime.UtcNow : token.ValidFrom);

    /// <summary>Why a token failed, in words that name no part of the token.</summary>
    private static (string Reason, string Detail) Reason(Exception exception) => exception switch
    {
        SecurityTokenExpiredException => ("ExpiredToken", "the bearer token has expired"),
        SecurityTokenNotYetValidException => ("TokenNotYetValid", "the bearer token is not valid yet"),
        SecurityTokenNoExpirationException => ("InvalidToken", "the bearer token has no expiry (exp)"),
        SecurityTokenInvalidIssuerException => ("WrongIssuer", "the bearer token is not from the configured issuer"),
        SecurityTokenInvalidAudienceException => ("WrongAudience", "the bearer token is not for this gateway's audience"),
        SecurityTokenInvalidAlgorithmException => ("WrongAlgorithm", "the bearer token's algorithm is not allowed (Groundwork:Gateway:Jwt:Algorithms)"),
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => ("InvalidSignature", "the bearer token's signature does not verify with the issuer's keys"),
        _ => ("InvalidToken", "the bearer token is malformed or was refused"),
    };

    /// <summary>A public key from PEM text or a PEM file: RSA or EC.</summary>
    public static SecurityKey ReadKey(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var pem = source.Contains("-----BEGIN", StringComparison.Ordinal) ? source : File.ReadAllText(source);
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (ArgumentException)
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
    }
}

/// <summary>JWT bearer tokens the gateway accepts, bound to <c>Groundwork:Gateway:Jwt</c>; off while <see cref="Issuer"/> is unset.</summary>
public sealed class JwtGatewayOptions
{
    /// <summary>The one issuer (<c>iss</c>) accepted; unset turns JWTs off.</summary>
    public string? Issuer { get; set; }

    /// <summary>The audience (<c>aud</c>) tokens must be for.</summary>
    public string? Audience { get; set; }

    /// <summary>The issuer's public keys: PEM text or paths of PEM files (RSA or EC). No key is fetched from the network.</summary>
    public List<string> SigningKeys { get; set; } = [];

    /// <summary>The signing algorithms accepted (default RS256 and ES256); <c>none</c> and HMAC never are.</summary>
    public List<string> Algorithms { get; set; } = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];

    /// <summary>The claim naming the token's tenant (default <c>tenant</c>).</summary>
    public string TenantClaim { get; set; } = "tenant";

    /// <summary>The edge key the gateway calls with, per tenant id (issued with <c>KeyScope.Edge</c> by the tenant's owner).</summary>
    public Dictionary<string, string> EdgeKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Clock skew allowed on <c>exp</c> and <c>nbf</c> (default 30 s).</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest lifetime (<c>exp</c> minus <c>nbf</c>) a token may have (default 24 h).</summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Whether JWTs are on.</summary>
    public bool Enabled => !string.IsNullOrEmpty(Issuer);

    /// <summary>What is wrong with the settings, or null.</summary>
    public string? Problem()
    {
        if (!Enabled)
        {
            return null;
        }

        if (string.IsNullOrEmpty(Audience))
        {
            return "Groundwork:Gateway:Jwt:Audience is required with an Issuer";
        }

        if (SigningKeys.Count == 0)
        {
            return "Groundwork:Gateway:Jwt:SigningKeys needs at least one public key (PEM text or a file path)";
        }

        if (Algorithms.Count == 0 || Algorithms.Any(a => a.StartsWith("HS", StringComparison.OrdinalIgnoreCase) || a.Equals("none", StringComparison.OrdinalIgnoreCase)))
        {
            return "Groundwork:Gateway:Jwt:Algorithms must name asymmetric algorithms (RS*, PS*, ES*), never HMAC or none";
        }

        foreach (var key in SigningKeys)
        {
            try
            {
                _ = JwtAuthentication.ReadKey(key);
            }
            catch (Exception exception) when (exception is IOException or ArgumentException or CryptographicException or UnauthorizedAccessException)
            {
                return $"Groundwork:Gateway:Jwt:SigningKeys has a key that is neither an RSA nor an EC public key in PEM ({exception.GetType().Name})";
            }
        }

        foreach (var (tenant, key) in EdgeKeys)
        {
            if (ApiKeyAuthenticationHandler.Partition(key) is not { } partition || !partition.StartsWith(tenant + "_", StringComparison.Ordinal))
            {
                return $"Groundwork:Gateway:Jwt:EdgeKeys:{tenant} is not an API key of tenant '{tenant}'";
            }
        }

        return null;
    }
}
