using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Groundwork.Lists;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests.Attacks;

/// <summary>
/// The silo's HTTP gateway attacked as an outsider would: raw HTTP requests (and raw bytes) against the real silo
/// process, without our SDK. Every refusal has its status and changes nothing; the silo keeps answering.
/// </summary>
[Collection(AttackCollection.Name)]
public sealed class HttpAttackTests(AttackFixture fixture) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = fixture.Silo.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };

    private string BetaList => $"/v1/{fixture.Beta}/list/shared";

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer")]
    [InlineData("Bearer gwk_nope")]
    [InlineData("Bearer gwk_alpha_k1_forgedsecret")]
    [InlineData("Basic b3duZXI6b3duZXI=")]
    [InlineData("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ.")]
    public async Task Without_a_valid_key_every_write_is_401_and_changes_nothing(string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{BetaList}/rename") { Content = Json("""{"title":"Pwned"}""") };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        request.Headers.TryAddWithoutValidation("gw-key", fixture.BetaOwnerKey); // identity headers are not credentials
        request.Headers.TryAddWithoutValidation("gw-obo", "bob");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("unauthenticated", await CodeAsync(response));
        await AssertBetaUnchangedAsync();
    }

    [Fact]
    public async Task Another_tenants_key_sees_404_for_reads_writes_and_feeds()
    {
        foreach (var (method, path, body) in new[]
        {
            (HttpMethod.Get, $"{BetaList}/get", (string?)null),
            (HttpMethod.Post, $"{BetaList}/rename", """{"title":"Pwned"}"""),
            (HttpMethod.Post, $"{BetaList}/add-item", """{"item":{"title":"Pwned"}}"""),
            (HttpMethod.Get, $"{BetaList}/watch?afterSequence=0", null),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.AlphaOwnerKey);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {response.StatusCode}");
        }

        await AssertBetaUnchangedAsync();
    }

    [Theory]
    [InlineData("/v1/{alpha}/list/..%2F..%2Fetc/get")]
    [InlineData("/v1/{alpha}/list/%00/get")]
    [InlineData("/v1/{alpha}/list/%F0%9F%92%A3/get")]
    [InlineData("/v1/{alpha}/list/{long}/get")]
    [InlineData("/v1/..%2F{beta}/list/shared/get")]
    [InlineData("/v1/{alpha}/list/shared%2F..%2F..%2F{beta}%2Flist%2Fshared/get")]
    [InlineData("/v1/{alpha}/nosuchkind/x/get")]
    [InlineData("/v1/{alpha}/list/shared/no-such-method")]
    public async Task Odd_resource_keys_are_refused_with_a_4xx_and_no_exception_text(string template)
    {
        var path = template.Replace("{alpha}", fixture.Alpha, StringComparison.Ordinal)
            .Replace("{beta}", fixture.Beta, StringComparison.Ordinal)
            .Replace("{long}", new string('a', 5000), StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.AlphaOwnerKey);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{path}: {response.StatusCode} {text}");
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        await fixture.AssertSiloAnswersAsync();
    }

    [Fact]
    public async Task Malformed_and_oversized_bodies_are_400_and_413_and_change_nothing()
    {
        var alphaList = $"/v1/{fixture.Alpha}/list/shared";
        foreach (var body in new[] { "{", "[]", "\"title\"", """{"title":1}""", """{"title":"x","title":"y"}""", """{"title":"x","admin":true}""", new string('[', 10_000) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{alphaList}/rename") { Content = Json(body) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.AlphaOwnerKey);
            using var response = await _http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body[..Math.Min(40, body.Length)]}: {response.StatusCode}");
        }

        // Over the 1 MiB default, with a length and chunked without one.
        var big = $$"""{"title":"{{new string('x', 1024 * 1024 + 10)}}"}""";
        foreach (var chunked in new[] { false, true })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{alphaList}/rename")
            {
                Content = chunked ? new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big))) : Json(big),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.TransferEncodingChunked = chunked;
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.AlphaOwnerKey);
            using var response = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        await RawClient.WithKeyAsync(fixture.AlphaOwnerKey, async () =>
            Assert.Equal("Shared", (await fixture.Raw.Client.GetGrain<IListGrain>($"{fixture.Alpha}/list/shared").GetAsync()).Title));
    }

    [Fact]
    public async Task Garbage_bytes_on_the_http_port_and_an_unauthenticated_websocket_do_not_hurt_the_silo()
    {
        foreach (var garbage in new[] { "\0\0\0\0", "GET / HTTP/9.9\r\n\r\n", "POST /v1/x/y/z HTTP/1.1\r\nContent-Length: -1\r\n\r\n", new string('A', 70_000) + "\r\n\r\n" })
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, fixture.Silo.HttpPort);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(garbage));
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                var answer = Encoding.ASCII.GetString(buffer, 0, read);
                // Kestrel's own refusals: a 4xx, or 505 for a version it does not speak; never a 500.
                Assert.True(read == 0 || answer.StartsWith("HTTP/1.1 4", StringComparison.Ordinal) || answer.StartsWith("HTTP/1.1 505", StringComparison.Ordinal), answer);
            }
            catch (IOException)
            {
                // The connection was reset: a refusal too.
            }
        }

        using var upgrade = new HttpRequestMessage(HttpMethod.Get, "/v1/ws");
        upgrade.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        upgrade.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        upgrade.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        upgrade.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", Convert.ToBase64String(new byte[16]));
        upgrade.Headers.TryAddWithoutValidation("Sec-WebSocket-Protocol", "groundwork.v1");
        using var refused = await _http.SendAsync(upgrade);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        await fixture.AssertSiloAnswersAsync();
    }

    private async Task AssertBetaUnchangedAsync()
    {
        var snapshot = await RawClient.WithKeyAsync(fixture.BetaOwnerKey, () => fixture.Raw.Client.GetGrain<IListGrain>($"{fixture.Beta}/list/shared").GetAsync());
        Assert.Equal("Beta's", snapshot.Title);
        Assert.Empty(snapshot.Items);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<string?> CodeAsync(HttpResponseMessage response)
    {
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return problem.RootElement.GetProperty("code").GetString();
    }

    public void Dispose() => _http.Dispose();
}
