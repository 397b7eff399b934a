using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Groundwork.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;
using static Groundwork.Gateway.Tests.GatewayFixture;

namespace Groundwork.Gateway.Tests;

/// <summary>
/// JWT bearer tokens from the configured issuer: the gateway calls with its edge key for the token's tenant on behalf
/// of its subject, whose own role applies; every token the issuer did not make exactly as configured is a 401 that
/// changes nothing.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class JwtTests(GatewayFixture fixture)
{
    private const string Issuer = "https://issuer.groundwork.test";
    private const string Audience = "groundwork-gateway";
    private static readonly RSA IssuerKey = RSA.Create(2048);
    private static readonly RsaSecurityKey Signing = new(IssuerKey);

    [Fact]
    public async Task A_token_from_the_issuer_acts_as_its_subject_with_the_subjects_role()
    {
        var (http, tenant, _) = await StartAsync();
        var whoami = await (await http.SendAsync(Request(HttpMethod.Get, $"/v1/{tenant.Id}/tenant/whoami", Token(tenant.Id, "alice")))).JsonAsync();
        Assert.Equal("alice", whoami.GetProperty("principal").GetString());
        Assert.Equal("Member", whoami.GetProperty("role").GetString());

        var path = $"/v1/{tenant.Id}/list/jwt-{Guid.NewGuid():n}";
        using var created = await http.SendAsync(Request(HttpMethod.Post, $"{path}/create", Token(tenant.Id, "alice"), """{"title":"Alice's"}"""));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var snapshot = await (await http.SendAsync(Request(HttpMethod.Get, $"{path}/get", Token(tenant.Id, "alice")))).JsonAsync();
        Assert.Equal("alice", snapshot.GetProperty("access").GetProperty("owner").GetString());

        // The viewer's token reads but may not write; its refusal changes nothing.
        using var refused = await http.SendAsync(Request(HttpMethod.Post, $"{path}/rename", Token(tenant.Id, "victor"), """{"title":"Victor's"}"""));
        await refused.ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        var after = await (await http.SendAsync(Request(HttpMethod.Get, $"{path}/get", Token(tenant.Id, "victor")))).JsonAsync();
        Assert.Equal("Alice's", after.GetProperty("title").GetString());
    }

    public static TheoryData<string, string> BadTokens => new()
    {
        { "wrong-issuer", "WrongIssuer" },
        { "wrong-audience", "WrongAudience" },
        { "expired", "ExpiredToken" },
        { "not-yet-valid", "TokenNotYetValid" },
        { "other-key", "InvalidSignature" },
        { "hs256-with-the-public-key", "InvalidSignature" },
        { "alg-none", "InvalidSignature" },
        { "no-expiry", "InvalidToken" },
        { "too-long-lived", "InvalidToken" },
        { "no-tenant", "InvalidToken" },
        { "tenant-without-edge-key", "InvalidToken" },
        { "bad-subject", "InvalidToken" },
        { "garbage", "InvalidToken" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_token_not_made_by_the_issuer_as_configured_is_401_and_changes_nothing(string kind, string reason)
    {
        var (http, tenant, path) = await StartAsync();
        var token = kind switch
        {
            "wrong-issuer" => Token(tenant.Id, "alice", issuer: "https://evil.test"),
            "wrong-audience" => Token(tenant.Id, "alice", audience: "someone-else"),
            "expired" => Token(tenant.Id, "alice", notBefore: DateTime.UtcNow.AddHours(-2), expires: DateTime.UtcNow.AddHours(-1)),
            "not-yet-valid" => Token(tenant.Id, "alice", notBefore: DateTime.UtcNow.AddHours(1), expires: DateTime.UtcNow.AddHours(2)),
            "other-key" => Token(tenant.Id, "alice", key: new RsaSecurityKey(RSA.Create(2048))),
            "hs256-with-the-public-key" => HmacWithPublicKey(tenant.Id),
            "alg-none" => Unsigned(tenant.Id),
            "no-expiry" => Token(tenant.Id, "alice", expires: DateTime.MaxValue),
            "too-long-lived" => Token(tenant.Id, "alice", expires: DateTime.UtcNow.AddDays(30)),
            "no-tenant" => Token(null, "alice"),
            "tenant-without-edge-key" => Token("t-noedgekey", "alice"),
            "bad-subject" => Token(tenant.Id, "alice bob"),
            _ => "a.b.c",
        };

        using var response = await http.SendAsync(Request(HttpMethod.Post, $"{path}/rename", token, """{"title":"Changed"}"""));
        var problem = await response.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal(reason, problem.GetProperty("reason").GetString());
        Assert.DoesNotContain(token, problem.GetRawText(), StringComparison.Ordinal);
        var snapshot = await (await http.SendAsync(Request(HttpMethod.Get, $"{path}/get", tenant.OwnerKey))).JsonAsync();
        Assert.Equal("Original", snapshot.GetProperty("title").GetString());
    }

    [Fact]
    public async Task A_token_of_one_tenant_does_not_reach_another_tenants_resources()
    {
        var (http, tenant, _) = await StartAsync();
        var other = await fixture.Cluster.NewTenantAsync();
        var path = $"/v1/{other.Id}/list/secret";
        using (await http.SendAsync(Request(HttpMethod.Post, $"{path}/create", other.OwnerKey, """{"title":"Theirs"}""")))
        {
        }

        using var read = await http.SendAsync(Request(HttpMethod.Get, $"{path}/get", Token(tenant.Id, "alice")));
        await read.ProblemAsync(HttpStatusCode.NotFound, "not-found");
        using var whoami = await http.SendAsync(Request(HttpMethod.Get, $"/v1/{other.Id}/tenant/whoami", Token(tenant.Id, "alice")));
        Assert.NotEqual(HttpStatusCode.OK, whoami.StatusCode);
    }

    [Fact]
    public async Task Identity_headers_sent_by_a_client_are_not_credentials()
    {
        var (http, tenant, path) = await StartAsync();
        var viewer = await tenant.MemberKeyAsync("vera", TenantRole.Viewer);
        var request = Request(HttpMethod.Post, $"{path}/rename", viewer, """{"title":"Forged"}""");
        request.Headers.Add(CallHeaders.OnBehalfOf, "owner");
        request.Headers.Add(CallHeaders.ApiKey, tenant.OwnerKey);
        request.Headers.Add("X-Forwarded-User", "owner");
        using var response = await http.SendAsync(request);
        await response.ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        // A standard (not edge) key configured as a tenant's edge key cannot act for anyone: the silo refuses it.
        var settings = Settings(tenant.Id, viewer);
        await using WebApplication app = await StartGatewayAsync(fixture.Cluster, settings);
        using var acting = await app.GetTestClient().SendAsync(Request(HttpMethod.Get, $"/v1/{tenant.Id}/tenant/whoami", Token(tenant.Id, "owner")));
        var misconfigured = await acting.ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal("OnBehalfOfNotAllowed", misconfigured.GetProperty("reason").GetString());
        var snapshot = await (await http.SendAsync(Request(HttpMethod.Get, $"{path}/get", tenant.OwnerKey))).JsonAsync();
        Assert.Equal("Original", snapshot.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("Groundwork:Gateway:Jwt:Algorithms:0", "HS256", "never HMAC or none")]
    [InlineData("Groundwork:Gateway:Jwt:SigningKeys:0", "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----", "neither an RSA nor an EC public key")]
    [InlineData("Groundwork:Gateway:Jwt:Audience", "", "Audience is required")]
    [InlineData("Groundwork:Gateway:Jwt:EdgeKeys:t-other", "gwk_t-someone_k1_secret", "is not an API key of tenant 't-other'")]
    public async Task Wrong_jwt_settings_stop_the_gateway_at_start_with_a_message_naming_them(string setting, string value, string message)
    {
        var settings = Settings("t-x", "gwk_t-x_k1_secret");
        settings[setting] = value;
        var failure = await Assert.ThrowsAnyAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => StartGatewayAsync(fixture.Cluster, settings));
        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
    }

    private async Task<(HttpClient Http, Testing.TestTenant Tenant, string Path)> StartAsync()
    {
        var tenant = await fixture.Cluster.NewTenantAsync();
        var edge = await tenant.MemberKeyAsync("web-edge", TenantRole.Admin, KeyScope.Edge);
        await tenant.MemberKeyAsync("alice", TenantRole.Member);
        await tenant.MemberKeyAsync("victor", TenantRole.Viewer);
        var app = await StartGatewayAsync(fixture.Cluster, Settings(tenant.Id, edge));
        var http = app.GetTestClient();
        var path = $"/v1/{tenant.Id}/list/jwt-{Guid.NewGuid():n}";
        using (var created = await http.SendAsync(Request(HttpMethod.Post, $"{path}/create", tenant.OwnerKey, """{"title":"Original"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        return (http, tenant, path);
    }

    private static Dictionary<string, string?> Settings(string tenant, string edgeKey) => new(GatewaySettings)
    {
        ["Groundwork:Gateway:Jwt:Issuer"] = Issuer,
        ["Groundwork:Gateway:Jwt:Audience"] = Audience,
        ["Groundwork:Gateway:Jwt:SigningKeys:0"] = IssuerKey.ExportSubjectPublicKeyInfoPem(),
        [$"Groundwork:Gateway:Jwt:EdgeKeys:{tenant}"] = edgeKey,
    };

    private static string Token(
        string? tenant, string subject, string issuer = Issuer, string audience = Audience, SecurityKey? key = null,
        DateTime? notBefore = null, DateTime? expires = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = subject };
        if (tenant is not null)
        {
            claims["tenant"] = tenant;
        }

        var start = notBefore ?? DateTime.UtcNow.AddMinutes(-1);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            NotBefore = start,
            IssuedAt = start,
            Expires = expires == DateTime.MaxValue ? null : expires ?? start.AddMinutes(10), // MaxValue: no exp at all
            SigningCredentials = new SigningCredentials(key ?? Signing, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>The classic algorithm confusion: HS256 keyed with the issuer's public key, which an attacker has.</summary>
    private static string HmacWithPublicKey(string tenant)
    {
        var secret = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(IssuerKey.ExportSubjectPublicKeyInfoPem()));
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity([new Claim("sub", "alice"), new Claim("tenant", tenant)]),
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(secret, SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private static string Unsigned(string tenant)
    {
        static string Part(string json) => Base64UrlEncoder.Encode(json);
        var expires = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        return $"{Part("""{"alg":"none","typ":"JWT"}""")}.{Part($$"""{"iss":"{{Issuer}}","aud":"{{Audience}}","sub":"alice","tenant":"{{tenant}}","exp":{{expires}}}""")}.";
    }
}
