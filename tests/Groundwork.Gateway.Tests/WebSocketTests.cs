using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using Groundwork.Gateway.Contract;
using Groundwork.Gateway.Http;
using Groundwork.Testing;
using Groundwork.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static Groundwork.Gateway.Tests.GatewayFixture;

namespace Groundwork.Gateway.Tests;

/// <summary>
/// The <c>groundwork.v1</c> WebSocket: several feeds and calls over one connection, pings, typed errors that keep the
/// connection, the documented close codes, the origin check, and a slow reader told it lags and resumed without a gap.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class WebSocketTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task One_socket_follows_two_feeds_and_calls_methods()
    {
        var (tenant, first) = await ListAsync();
        var (_, second) = await ListAsync(tenant);
        await using var socket = await ConnectAsync(fixture.Http, tenant.OwnerKey);
        var welcome = (await socket.NextAsync(Wait))!.Value;
        Assert.Equal(("welcome", "groundwork.v1"), (welcome.GetProperty("type").GetString(), welcome.GetProperty("protocol").GetString()));

        await socket.SendAsync(new { type = "subscribe", id = "a", path = $"{first}/watch", args = new { afterSequence = 0 } });
        await socket.SendAsync(new { type = "subscribe", id = "b", path = $"{second}/watch", args = new { afterSequence = 1 } });
        await socket.NextAsync("subscribed", "a", Wait);
        Assert.Equal(1, (await socket.NextAsync("event", "a", Wait)).GetProperty("sequence").GetInt64());

        await socket.SendAsync(new { type = "call", id = "c1", path = $"{second}/add-item", args = new { item = new { title = "Over the socket" } }, idempotencyKey = "op-1" });
        // The change may reach the socket before the call's result: take both in either order.
        JsonElement? result = null, change = null;
        while (result is null || change is null)
        {
            var next = (await socket.NextAsync(Wait))!.Value;
            (result, change) = (next.GetProperty("type").GetString(), next.TryGetProperty("id", out var id) ? id.GetString() : null) switch
            {
                ("result", "c1") => (next, change),
                ("event", "b") => (result, next),
                _ => (result, change),
            };
        }

        Assert.Equal(2, result.Value.GetProperty("version").GetInt64());
        Assert.Equal(2, change.Value.GetProperty("sequence").GetInt64());
        Assert.Equal("Over the socket", change.Value.GetProperty("data").GetProperty("item").GetProperty("title").GetString());

        // The same operation id again is answered from the first call.
        await socket.SendAsync(new { type = "call", id = "c2", path = $"{second}/add-item", args = new { item = new { title = "Over the socket" } }, idempotencyKey = "op-1" });
        Assert.True((await socket.NextAsync("result", "c2", Wait)).GetProperty("replayed").GetBoolean());

        await socket.SendAsync(new { type = "ping", id = "p" });
        await socket.NextAsync("pong", "p", Wait);
        await socket.SendAsync(new { type = "unsubscribe", id = "b" });
        await socket.NextAsync("unsubscribed", "b", Wait);
        await socket.SendAsync(new { type = "call", id = "c3", path = $"{tenant.Id}/tenant/whoami" });
        Assert.Equal("owner", (await socket.NextAsync("result", "c3", Wait)).GetProperty("data").GetProperty("principal").GetString());
    }

    [Fact]
    public async Task Bad_messages_get_typed_errors_and_the_connection_stays()
    {
        var (tenant, list) = await ListAsync();
        var other = await fixture.Cluster.NewTenantAsync();
        await using var socket = await ConnectAsync(fixture.Http, tenant.OwnerKey);
        await socket.NextAsync(Wait); // welcome

        await socket.SendTextAsync("{not json");
        Assert.Equal("invalid-request", Code((await socket.NextAsync(Wait))!.Value));
        await socket.SendAsync(new { type = "subscribe" });
        Assert.Equal("id", (await socket.NextAsync(Wait))!.Value.GetProperty("problem").GetProperty("field").GetString());

        var cases = new (object Message, string Code)[]
        {
            (new { type = "dance", id = "e1" }, "invalid-request"),
            (new { type = "call", id = "e2", path = "nowhere" }, "no-route"),
            (new { type = "call", id = "e3", path = $"{list}/watch" }, "invalid-request"),
            (new { type = "subscribe", id = "e4", path = $"{list}/get" }, "invalid-request"),
            (new { type = "call", id = "e5", path = $"{list}/add-item", args = new { item = new { title = "x" }, extra = 1 } }, "invalid-request"),
            (new { type = "call", id = "e6", path = $"{other.Id}/list/theirs/get" }, "not-found"),
            (new { type = "call", id = "e7", path = $"{tenant.Id}/list/BAD KEY/get" }, "invalid-key"),
            (new { type = "call", id = "e8", path = $"{list}/rename", args = new { title = "t" }, ifMatch = "\"99\"" }, "version-conflict"),
            (new { type = "unsubscribe", id = "e9" }, "invalid-request"),
        };
        foreach (var (message, code) in cases)
        {
            await socket.SendAsync(message);
            var id = JsonSerializer.SerializeToElement(message).GetProperty("id").GetString()!;
            var error = await NextErrorAsync(socket, id);
            Assert.True(code == Code(error), $"{id}: expected {code}, got {error}");
        }

        await socket.SendAsync(new { type = "ping", id = "still-here" });
        await socket.NextAsync("pong", "still-here", Wait);
    }

    [Fact]
    public async Task A_message_over_the_limit_or_a_binary_frame_closes_with_its_code()
    {
        var (tenant, _) = await ListAsync();
        await using WebApplication app = await StartGatewayAsync(fixture.Cluster, new Dictionary<string, string?>(GatewaySettings) { ["Groundwork:Gateway:MaxMessageBytes"] = "2048" });
        await using (var socket = await ConnectAsync(app.GetTestClient(), tenant.OwnerKey, app))
        {
            await socket.SendTextAsync($$"""{"type":"ping","id":"big","pad":"{{new string('x', 4096)}}"}""");
            Assert.Equal((WebSocketCloseStatus)WebSocketSession.CloseTooBig, await socket.ClosedAsync(Wait));
        }

        await using (var socket = await ConnectAsync(app.GetTestClient(), tenant.OwnerKey, app))
        {
            await socket.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            Assert.Equal((WebSocketCloseStatus)WebSocketSession.CloseUnsupported, await socket.ClosedAsync(Wait));
        }
    }

    [Fact]
    public async Task A_revoked_key_gets_an_error_then_the_close_code_4401()
    {
        var (tenant, list) = await ListAsync();
        var member = await tenant.MemberKeyAsync("mo", Access.TenantRole.Admin);
        await using var socket = await ConnectAsync(fixture.Http, member);
        await socket.NextAsync(Wait);
        await socket.SendAsync(new { type = "call", id = "ok", path = $"{list}/get" });
        await socket.NextAsync("result", "ok", Wait);

        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var keys = await fixture.Cluster.Client.GetTenant(tenant.Id).GetKeysAsync();
            await fixture.Cluster.Client.GetTenant(tenant.Id).RevokeKeyAsync(keys.Single(k => k.Principal == "mo").KeyId);
        }

        // The silo caches a verdict for a short while; the refusal comes once it rechecks.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        JsonElement? message = null;
        for (var i = 0; message is null || message.Value.GetProperty("type").GetString() == "result"; i++)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the revoked key was still accepted after 30 s");
            await Task.Delay(TimeSpan.FromMilliseconds(100)); // the verdict's cache has to expire
            await socket.SendAsync(new { type = "call", id = $"after-{i}", path = $"{list}/get" });
            message = await socket.NextAsync(Wait);
        }

        Assert.Equal("unauthenticated", Code(message.Value));
        Assert.Equal((WebSocketCloseStatus)WebSocketSession.CloseUnauthenticated, await socket.ClosedAsync(Wait));
    }

    [Fact]
    public async Task The_upgrade_needs_a_credential_the_subprotocol_and_an_allowed_origin()
    {
        var (tenant, list) = await ListAsync();
        var server = fixture.Http;
        using (var anonymous = await server.GetAsync(new Uri(GatewayHostingExtensions.WebSocketPath, UriKind.Relative)))
        {
            await anonymous.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");
        }

        using (var plain = await server.SendAsync(Request(HttpMethod.Get, GatewayHostingExtensions.WebSocketPath, tenant.OwnerKey)))
        {
            await plain.ProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        }

        var fixtureServer = (TestServer)fixture.GatewayServer;
        await Assert.ThrowsAnyAsync<Exception>(() => Connect(fixtureServer, tenant.OwnerKey, protocol: null, origin: null));
        await Assert.ThrowsAnyAsync<Exception>(() => Connect(fixtureServer, tenant.OwnerKey, protocol: "groundwork.v1", origin: "https://evil.example"));
        using var fromSelf = await Connect(fixtureServer, tenant.OwnerKey, protocol: "groundwork.v1", origin: "http://localhost");
        Assert.Equal(WebSocketState.Open, fromSelf.State);

        // A browser opens it with a ticket, as its feeds.
        using var ticketAnswer = await server.SendAsync(Request(HttpMethod.Post, "/v1/tickets", tenant.OwnerKey));
        var ticket = (await ticketAnswer.JsonAsync()).GetProperty("ticket").GetString();
        var client = fixtureServer.CreateWebSocketClient();
        client.SubProtocols.Add("groundwork.v1");
        await using var browser = new ProtocolSocket(await client.ConnectAsync(new Uri($"ws://localhost{GatewayHostingExtensions.WebSocketPath}?ticket={ticket}"), CancellationToken.None));
        await browser.NextAsync(Wait);
        await browser.SendAsync(new { type = "call", id = "r", path = $"{list}/get" });
        await browser.NextAsync("result", "r", Wait);
    }

    [Fact]
    public async Task A_slow_reader_is_told_it_lags_and_resumes_with_no_gap_and_no_repeat()
    {
        var (tenant, list) = await ListAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var lists = fixture.Cluster.Client.GetGrain<Lists.IListGrain>(list);
            for (var i = 0; i < 40; i++) // within the feed retention of the test settings (50)
            {
                await lists.AddItemAsync(new Lists.NewItem($"Item {i} {new string('n', 200)}"));
            }
        }

        var options = new HttpGatewayOptions { WebSocketOutbox = 4, HeartbeatInterval = TimeSpan.FromSeconds(30) };
        var (server, clientEnd) = ProtocolSocket.Pair(bufferBytes: 2048);
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ApiKeyAuthenticationHandler.KeyClaim, tenant.OwnerKey)], "test"));
        using var stop = new CancellationTokenSource();
        var serving = WebSocketSession.RunAsync(server, GatewayContract.Default, fixture.Cluster.Client, options, NullLogger.Instance, user, stop.Token, CancellationToken.None);
        await using var socket = new ProtocolSocket(clientEnd);
        await socket.NextAsync(Wait);
        await socket.SendAsync(new { type = "subscribe", id = "slow", path = $"{list}/watch", args = new { afterSequence = 0 } });

        // Not reading lets the pipe and the outbox fill; then everything is read.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var sequences = new List<long>();
        var lagged = new List<long>();
        while (sequences.Count == 0 || sequences[^1] < 41)
        {
            var message = await socket.NextAsync(Wait).WaitAsync(Wait).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : throw new InvalidOperationException($"after {string.Join(",", sequences)} lagged {string.Join(",", lagged)}", t.Exception)) ?? throw new InvalidOperationException("closed");
            switch (message.GetProperty("type").GetString())
            {
                case "event":
                    sequences.Add(message.GetProperty("sequence").GetInt64());
                    break;
                case "lagging":
                    var after = message.GetProperty("afterSequence").GetInt64();
                    Assert.Equal(sequences.Count == 0 ? 0 : sequences[^1], after);
                    lagged.Add(after);
                    break;
                case "error" or "end" or "resync":
                    throw new InvalidOperationException($"after {string.Join(",", sequences)}: {message}");
            }
        }

        Assert.Equal(Enumerable.Range(1, 41).Select(i => (long)i), sequences);
        Assert.NotEmpty(lagged);
        await stop.CancelAsync();
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await socket.ClosedAsync(Wait));
        await serving.WaitAsync(Wait);
    }

    private async Task<(TestTenant Tenant, string Path)> ListAsync(TestTenant? tenant = null)
    {
        tenant ??= await fixture.Cluster.NewTenantAsync();
        var path = $"{tenant.Id}/list/{Guid.NewGuid():n}";
        using var created = await fixture.Http.SendAsync(Request(HttpMethod.Post, $"/v1/{path}/create", tenant.OwnerKey, """{"title":"Socket"}"""));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        return (tenant, path);
    }

    private async Task<ProtocolSocket> ConnectAsync(HttpClient http, string key, WebApplication? app = null)
    {
        _ = http;
        var server = app is null ? (TestServer)fixture.GatewayServer : app.GetTestServer();
        return new ProtocolSocket(await Connect(server, key, "groundwork.v1", origin: null));
    }

    private static Task<WebSocket> Connect(TestServer server, string key, string? protocol, string? origin)
    {
        var client = server.CreateWebSocketClient();
        if (protocol is not null)
        {
            client.SubProtocols.Add(protocol);
        }

        client.ConfigureRequest = request =>
        {
            request.Headers.Authorization = $"Bearer {key}";
            if (origin is not null)
            {
                request.Headers.Origin = origin;
            }
        };
        return client.ConnectAsync(new Uri($"ws://localhost{GatewayHostingExtensions.WebSocketPath}"), CancellationToken.None);
    }

    private static async Task<JsonElement> NextErrorAsync(ProtocolSocket socket, string id)
    {
        while (true)
        {
            var message = (await socket.NextAsync(Wait))!.Value;
            if (message.GetProperty("type").GetString() == "error" && message.GetProperty("id").GetString() == id)
            {
                return message;
            }
        }
    }

    private static string? Code(JsonElement error) => error.GetProperty("problem").GetProperty("code").GetString();
}
