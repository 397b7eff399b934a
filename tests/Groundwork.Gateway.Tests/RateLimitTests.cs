using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Xunit;
using static Groundwork.Gateway.Tests.GatewayFixture;

namespace Groundwork.Gateway.Tests;

/// <summary>The token bucket per key: over it a key gets 429 with Retry-After; another key is not held back.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RateLimitTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_key_over_its_rate_gets_429_with_retry_after_and_other_keys_go_on()
    {
        var settings = new Dictionary<string, string?>(GatewaySettings)
        {
            ["Groundwork:Gateway:RequestsPerSecond"] = "1",
            ["Groundwork:Gateway:Burst"] = "3",
        };
        await using WebApplication app = await StartGatewayAsync(fixture.Cluster, settings);
        var http = app.GetTestClient();
        var tenant = await fixture.Cluster.NewTenantAsync();
        var other = await fixture.Cluster.NewTenantAsync();
        var whoami = $"/v1/{tenant.Id}/tenant/whoami";

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage last;
        do
        {
            last = await http.SendAsync(Request(HttpMethod.Get, whoami, tenant.OwnerKey));
            statuses.Add(last.StatusCode);
        }
        while (last.StatusCode == HttpStatusCode.OK && statuses.Count < 10);

        // The burst of 3 passes (a token may come back meanwhile); then the bucket is empty.
        Assert.InRange(statuses.Count(s => s == HttpStatusCode.OK), 3, 4);
        var problem = await last.ProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.Equal("Gateway:RequestsPerSecond", problem.GetProperty("limit").GetString());
        Assert.True(last.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {last.Headers.RetryAfter}");

        // The bucket is the key's, not the gateway's.
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(Request(HttpMethod.Get, $"/v1/{other.Id}/tenant/whoami", other.OwnerKey))).StatusCode);

        // Requests without a valid key are refused before they spend anyone's tokens.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(Request(HttpMethod.Get, whoami, null))).StatusCode);
    }
}
