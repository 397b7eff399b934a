using System.Net;
using System.Text.Json;
using Groundwork.Testing;
using Xunit;
using static Groundwork.Gateway.Tests.GatewayFixture;

namespace Groundwork.Gateway.Tests;

/// <summary>
/// A list's feed as Server-Sent Events: the stored changes after the cursor, then live ones, resumed with
/// Last-Event-ID; heartbeats while idle; a cursor out of reach and a lost key as the protocol says.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class FeedOverHttpTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly HttpClient _http = fixture.Http;

    private async Task<(TestTenant Tenant, string Path)> ListWithOneItemAsync()
    {
        var tenant = await fixture.Cluster.NewTenantAsync();
        var path = $"/v1/{tenant.Id}/list/{Guid.NewGuid():n}";
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(Request(HttpMethod.Post, $"{path}/create", tenant.OwnerKey, """{"title":"Feed"}"""))).StatusCode);
        await AddAsync(tenant, path, "First");
        return (tenant, path);
    }

    private async Task AddAsync(TestTenant tenant, string path, string title)
    {
        using var response = await _http.SendAsync(Request(HttpMethod.Post, $"{path}/add-item", tenant.OwnerKey, $$$"""{"item":{"title":"{{{title}}}"}}"""));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<(HttpResponseMessage Response, SseReader Reader)> OpenAsync(string path, string key, long after, string? lastEventId = null)
    {
        var request = Request(HttpMethod.Get, $"{path}/watch?afterSequence={after}", key);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return (response, new SseReader(await response.Content.ReadAsStreamAsync()));
    }

    [Fact]
    public async Task Stored_changes_then_live_ones_with_their_sequence_as_the_event_id()
    {
        var (tenant, path) = await ListWithOneItemAsync();
        var (response, reader) = await OpenAsync(path, tenant.OwnerKey, after: 0);
        await using var _ = reader;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());

        Assert.Equal("2000", (await reader.NextEventAsync(Wait))?.Retry);
        var created = await reader.NextEventAsync(Wait);
        Assert.Equal(("1", "change"), (created?.Id, created?.Event));
        var first = await reader.NextEventAsync(Wait);
        Assert.Equal("2", first?.Id);
        using (var data = JsonDocument.Parse(first!.Data!))
        {
            Assert.Equal(2, data.RootElement.GetProperty("sequence").GetInt64());
        }

        // Idle: comment lines keep the stream open (every 200 ms here); then a change made meanwhile arrives live.
        var beat = await reader.NextAsync(Wait);
        Assert.Equal("heartbeat", beat?.Comment);
        await AddAsync(tenant, path, "Second");
        var live = await reader.NextEventAsync(Wait);
        Assert.Equal(("3", "change"), (live?.Id, live?.Event));
        Assert.Contains("Second", live!.Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Last_event_id_resumes_after_it_with_no_gap_and_no_repeat()
    {
        var (tenant, path) = await ListWithOneItemAsync();
        await AddAsync(tenant, path, "Second");

        // A browser reconnecting sends the last id it saw; it wins over the URL's cursor.
        var (response, reader) = await OpenAsync(path, tenant.OwnerKey, after: 0, lastEventId: "2");
        await using var _ = reader;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2000", (await reader.NextEventAsync(Wait))?.Retry);
        Assert.Equal("3", (await reader.NextEventAsync(Wait))?.Id);

        var bad = Request(HttpMethod.Get, $"{path}/watch?afterSequence=0", tenant.OwnerKey);
        bad.Headers.TryAddWithoutValidation("Last-Event-ID", "soon");
        Assert.Equal("Last-Event-ID", (await (await _http.SendAsync(bad)).ProblemAsync(HttpStatusCode.BadRequest, "invalid-request")).GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_cursor_past_the_version_is_410_and_a_foreign_key_404_before_the_stream_opens()
    {
        var (tenant, path) = await ListWithOneItemAsync();
        var ahead = await _http.SendAsync(Request(HttpMethod.Get, $"{path}/watch?afterSequence=99", tenant.OwnerKey));
        await ahead.ProblemAsync(HttpStatusCode.Gone, "resync-required");

        var other = await fixture.Cluster.NewTenantAsync();
        await (await _http.SendAsync(Request(HttpMethod.Get, $"{path}/watch?afterSequence=0", other.OwnerKey))).ProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _http.SendAsync(Request(HttpMethod.Get, $"{path}/watch?afterSequence=-1", tenant.OwnerKey))).ProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task A_key_revoked_while_watching_ends_the_stream_with_an_error_event()
    {
        var (tenant, path) = await ListWithOneItemAsync();
        var viewer = await tenant.MemberKeyAsync("watcher", Access.TenantRole.Viewer);
        var (response, reader) = await OpenAsync(path, viewer, after: 2);
        await using var _ = reader;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2000", (await reader.NextEventAsync(Wait))?.Retry);

        var keys = await (await _http.SendAsync(Request(HttpMethod.Get, $"/v1/{tenant.Id}/tenant/keys", tenant.OwnerKey))).JsonAsync();
        var keyId = keys.EnumerateArray().Single(k => k.GetProperty("principal").GetString() == "watcher").GetProperty("keyId").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await _http.SendAsync(Request(HttpMethod.Post, $"/v1/{tenant.Id}/tenant/revoke-key", tenant.OwnerKey, $$"""{"keyId":"{{keyId}}"}"""))).StatusCode);

        // The next change is not delivered to the revoked key: the stream says why and ends.
        SseEvent? next;
        var deadline = DateTime.UtcNow + Wait;
        var added = 0;
        do
        {
            // The watch rechecks its key on a clock (half the credential cache period): pace the changes so the list
            // does not reach its item limit before the recheck comes.
            await Task.Delay(TimeSpan.FromMilliseconds(50));
            await AddAsync(tenant, path, "After revoke");
            next = await reader.NextEventAsync(Wait);
        }
        while (next?.Event == "change" && DateTime.UtcNow < deadline && ++added < 90);

        Assert.Equal("error", next?.Event);
        using var problem = JsonDocument.Parse(next!.Data!);
        Assert.Equal("unauthenticated", problem.RootElement.GetProperty("code").GetString());
        Assert.Null(await reader.NextEventAsync(Wait));
    }
}
