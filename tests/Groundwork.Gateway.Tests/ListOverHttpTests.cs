using System.Net;
using Groundwork.Lists;
using Groundwork.Testing;
using Xunit;
using static Groundwork.Gateway.Tests.GatewayFixture;

namespace Groundwork.Gateway.Tests;

/// <summary>A list over HTTP: calls, versions as ETags, idempotency keys, and each refusal changing nothing.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ListOverHttpTests(GatewayFixture fixture)
{
    private readonly HttpClient _http = fixture.Http;

    private async Task<(TestTenant Tenant, string Path)> NewListAsync()
    {
        var tenant = await fixture.Cluster.NewTenantAsync();
        var path = $"/v1/{tenant.Id}/list/{Guid.NewGuid():n}";
        var created = await _http.SendAsync(Request(HttpMethod.Post, $"{path}/create", tenant.OwnerKey, """{"title":"Groceries"}"""));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        return (tenant, path);
    }

    private async Task<long> VersionAsync(string path, string key)
    {
        var response = await _http.SendAsync(Request(HttpMethod.Get, $"{path}/get", key));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("version").GetInt64();
    }

    [Fact]
    public async Task Create_add_and_read_with_versions_as_etags()
    {
        var (tenant, path) = await NewListAsync();
        var added = await _http.SendAsync(Request(HttpMethod.Post, $"{path}/add-item", tenant.OwnerKey,
            """{"item":{"title":"Milk","due":"2026-12-24"},"position":0}"""));
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        var result = await added.JsonAsync();
        Assert.Equal(2, result.GetProperty("version").GetInt64());
        Assert.Equal("\"2\"", added.Headers.ETag?.Tag);

        var read = await _http.SendAsync(Request(HttpMethod.Get, $"{path}/get", tenant.OwnerKey));
        var snapshot = await read.JsonAsync();
        Assert.Equal("Groceries", snapshot.GetProperty("title").GetString());
        var item = snapshot.GetProperty("items")[0];
        Assert.Equal("Milk", item.GetProperty("title").GetString());
        Assert.Equal("2026-12-24", item.GetProperty("due").GetString());
        Assert.Equal(result.GetProperty("id").GetString(), item.GetProperty("id").GetString());
        Assert.Equal("\"2\"", read.Headers.ETag?.Tag);

        // The same version again is 304; a changed list is read again.
        var unchanged = Request(HttpMethod.Get, $"{path}/get", tenant.OwnerKey);
        unchanged.Headers.TryAddWithoutValidation("If-None-Match", "\"2\"");
        Assert.Equal(HttpStatusCode.NotModified, (await _http.SendAsync(unchanged)).StatusCode);
        var stale = Request(HttpMethod.Get, $"{path}/get", tenant.OwnerKey);
        stale.Headers.TryAddWithoutValidation("If-None-Match", "\"1\"");
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(stale)).StatusCode);

        // The grain saw the same thing the HTTP answer said.
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var grainSnapshot = await fixture.Cluster.Client.GetList(path["/v1/".Length..]).GetAsync();
            Assert.Equal(2, grainSnapshot.Version);
        }
    }

    [Fact]
    public async Task If_match_guards_a_mutation_and_a_stale_version_is_412_changing_nothing()
    {
        var (tenant, path) = await NewListAsync();
        var stale = Request(HttpMethod.Post, $"{path}/rename", tenant.OwnerKey, """{"title":"Other"}""");
        stale.Headers.TryAddWithoutValidation("If-Match", "\"7\"");
        var refused = await (await _http.SendAsync(stale)).ProblemAsync(HttpStatusCode.PreconditionFailed, "version-conflict");
        Assert.Equal(1, refused.GetProperty("currentVersion").GetInt64());
        Assert.Equal(1, await VersionAsync(path, tenant.OwnerKey));

        var current = Request(HttpMethod.Post, $"{path}/rename", tenant.OwnerKey, """{"title":"Other"}""");
        current.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(current)).StatusCode);
        Assert.Equal(2, await VersionAsync(path, tenant.OwnerKey));
    }

    [Fact]
    public async Task An_idempotency_key_applies_once_and_the_retry_says_it_replayed()
    {
        var (tenant, path) = await NewListAsync();
        async Task<HttpResponseMessage> AddAsync()
        {
            var request = Request(HttpMethod.Post, $"{path}/add-item", tenant.OwnerKey, """{"item":{"title":"Once"}}""");
            request.Headers.TryAddWithoutValidation("Idempotency-Key", "op-1");
            return await _http.SendAsync(request);
        }

        var first = await AddAsync();
        var retry = await AddAsync();
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.False(first.Headers.Contains("Idempotency-Replayed"));
        Assert.Equal("true", retry.Headers.GetValues("Idempotency-Replayed").Single());
        Assert.Equal((await first.JsonAsync()).GetProperty("id").GetString(), (await retry.JsonAsync()).GetProperty("id").GetString());
        Assert.Equal(2, await VersionAsync(path, tenant.OwnerKey));

        // The same key for another call is refused: it names a different operation.
        var other = Request(HttpMethod.Post, $"{path}/rename", tenant.OwnerKey, """{"title":"X"}""");
        other.Headers.TryAddWithoutValidation("Idempotency-Key", "op-1");
        await (await _http.SendAsync(other)).ProblemAsync(HttpStatusCode.UnprocessableEntity, "operation-conflict");
        Assert.Equal(2, await VersionAsync(path, tenant.OwnerKey));
    }

    [Fact]
    public async Task Bad_parameters_are_400s_that_name_them_and_change_nothing()
    {
        var (tenant, path) = await NewListAsync();
        var cases = new (string Body, string Field)[]
        {
            ("""{"item":{"title":"A"},"colour":"red"}""", "colour"),
            ("""{"position":1}""", "item"),
            ("""{"item":null}""", "item"),
            ("""{"item":{"title":"A","extra":1}}""", "item"),
            ("""{"item":{"title":"A"},"position":"first"}""", "position"),
            ("""{"item":{"title":"A"},"options":{"operationId":"x"}}""", "options"),
            ("""{"item":{"title":"A"},"item":{"title":"B"}}""", "item"),
            ("""[1,2]""", "body"),
            ("""{"item":""", "body"),
            ("""{"item":{"title":""}}""", "title"),
        };
        foreach (var (body, field) in cases)
        {
            var response = await _http.SendAsync(Request(HttpMethod.Post, $"{path}/add-item", tenant.OwnerKey, body));
            var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
            Assert.True(field == problem.GetProperty("field").GetString(), $"{body}: {problem}");
        }

        var query = await _http.SendAsync(Request(HttpMethod.Get, $"{path}/get?verbose=true", tenant.OwnerKey));
        Assert.Equal("verbose", (await query.ProblemAsync(HttpStatusCode.BadRequest, "invalid-request")).GetProperty("field").GetString());
        var header = Request(HttpMethod.Post, $"{path}/rename", tenant.OwnerKey, """{"title":"T"}""");
        header.Headers.TryAddWithoutValidation("If-Match", "soon");
        Assert.Equal("If-Match", (await (await _http.SendAsync(header)).ProblemAsync(HttpStatusCode.BadRequest, "invalid-request")).GetProperty("field").GetString());
        Assert.Equal(1, await VersionAsync(path, tenant.OwnerKey));
    }

    [Fact]
    public async Task Keys_tenants_and_roles_are_refused_with_the_right_status()
    {
        var (tenant, path) = await NewListAsync();
        var other = await fixture.Cluster.NewTenantAsync();
        var viewer = await tenant.MemberKeyAsync("vera", Access.TenantRole.Viewer);

        var none = await _http.SendAsync(Request(HttpMethod.Get, $"{path}/get", null));
        await none.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Contains("Bearer", none.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        await (await _http.SendAsync(Request(HttpMethod.Get, $"{path}/get", "not-a-key"))).ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");
        var forged = $"gwk_{tenant.Id}_abcdef_{new string('x', 43)}";
        await (await _http.SendAsync(Request(HttpMethod.Get, $"{path}/get", forged))).ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");

        // Another tenant's key gets the same 404 as a list that does not exist: it learns nothing.
        var foreign = await (await _http.SendAsync(Request(HttpMethod.Get, $"{path}/get", other.OwnerKey))).ProblemAsync(HttpStatusCode.NotFound, "not-found");
        var missingPath = $"/v1/{other.Id}/list/{path.Split('/')[^1]}";
        var missing = await (await _http.SendAsync(Request(HttpMethod.Get, $"{missingPath}/get", other.OwnerKey))).ProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(missing.EnumerateObject().Select(p => p.Name).Order(), foreign.EnumerateObject().Select(p => p.Name).Order());
        await (await _http.SendAsync(Request(HttpMethod.Post, $"{path}/rename", other.OwnerKey, """{"title":"Mine"}"""))).ProblemAsync(HttpStatusCode.NotFound, "not-found");

        // A viewer reads but may not write.
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(Request(HttpMethod.Get, $"{path}/get", viewer))).StatusCode);
        await (await _http.SendAsync(Request(HttpMethod.Post, $"{path}/rename", viewer, """{"title":"Mine"}"""))).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        // Identity headers of the wire are not a way in.
        var spoof = Request(HttpMethod.Post, $"{path}/rename", viewer, """{"title":"Mine"}""");
        spoof.Headers.TryAddWithoutValidation("gw-key", tenant.OwnerKey);
        spoof.Headers.TryAddWithoutValidation("gw-obo", "owner");
        await (await _http.SendAsync(spoof)).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        // A revoked key stops working (within the credential cache lifetime, 200 ms here).
        var keys = await (await _http.SendAsync(Request(HttpMethod.Get, $"/v1/{tenant.Id}/tenant/keys", tenant.OwnerKey))).JsonAsync();
        var keyId = keys.EnumerateArray().Single(k => k.GetProperty("principal").GetString() == "vera").GetProperty("keyId").GetString();
        var revoke = await _http.SendAsync(Request(HttpMethod.Post, $"/v1/{tenant.Id}/tenant/revoke-key", tenant.OwnerKey, $$"""{"keyId":"{{keyId}}"}"""));
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpResponseMessage afterRevoke;
        while ((afterRevoke = await _http.SendAsync(Request(HttpMethod.Get, $"{path}/get", viewer))).StatusCode == HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal("RevokedCredential", (await afterRevoke.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated")).GetProperty("reason").GetString());
        Assert.Equal(1, await VersionAsync(path, tenant.OwnerKey));
    }

    [Fact]
    public async Task Routes_verbs_keys_and_sizes_are_checked_before_any_call()
    {
        var (tenant, path) = await NewListAsync();
        await (await _http.SendAsync(Request(HttpMethod.Post, $"{path}/get", tenant.OwnerKey))).ProblemAsync(HttpStatusCode.MethodNotAllowed, "method-not-allowed");
        await (await _http.SendAsync(Request(HttpMethod.Get, $"{path}/fly", tenant.OwnerKey))).ProblemAsync(HttpStatusCode.NotFound, "no-route");
        await (await _http.SendAsync(Request(HttpMethod.Get, $"/v1/{tenant.Id}/list/bad%20name!/get", tenant.OwnerKey))).ProblemAsync(HttpStatusCode.BadRequest, "invalid-key");
        await (await _http.SendAsync(Request(HttpMethod.Get, $"/v1/BAD_TENANT/tenant/get", tenant.OwnerKey))).ProblemAsync(HttpStatusCode.BadRequest, "invalid-key");
        await (await _http.SendAsync(Request(HttpMethod.Get, $"/v1/{tenant.Id}/list/{new string('n', 200)}/get", tenant.OwnerKey))).ProblemAsync(HttpStatusCode.BadRequest, "invalid-key");

        var big = "{\"item\":{\"title\":\"A\",\"notes\":\"" + new string('x', 70_000) + "\"}}";
        await (await _http.SendAsync(Request(HttpMethod.Post, $"{path}/add-item", tenant.OwnerKey, big))).ProblemAsync(HttpStatusCode.RequestEntityTooLarge, "body-too-large");
        var text = Request(HttpMethod.Post, $"{path}/rename", tenant.OwnerKey);
        text.Content = new StringContent("""{"title":"T"}""", System.Text.Encoding.UTF8, "text/plain");
        await (await _http.SendAsync(text)).ProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        Assert.Equal(1, await VersionAsync(path, tenant.OwnerKey));
    }

    [Fact]
    public async Task Tenant_and_directory_calls_work_for_their_tenant()
    {
        var (tenant, path) = await NewListAsync();
        var whoami = await (await _http.SendAsync(Request(HttpMethod.Get, $"/v1/{tenant.Id}/tenant/whoami", tenant.OwnerKey))).JsonAsync();
        Assert.Equal("owner", whoami.GetProperty("principal").GetString());
        await fixture.Cluster.WaitForDirectoryAsync(tenant.Id, tenant.OwnerKey, entries => entries.Count == 1);
        var entries = await (await _http.SendAsync(Request(HttpMethod.Get, $"/v1/{tenant.Id}/directory/list?kind=list", tenant.OwnerKey))).JsonAsync();
        Assert.Equal(path["/v1/".Length..], entries[0].GetProperty("key").GetString());
        var member = await _http.SendAsync(Request(HttpMethod.Post, $"/v1/{tenant.Id}/tenant/set-member", tenant.OwnerKey, """{"principal":"max","role":"Member"}"""));
        Assert.Equal(HttpStatusCode.NoContent, member.StatusCode);
        var badRole = await _http.SendAsync(Request(HttpMethod.Post, $"/v1/{tenant.Id}/tenant/set-member", tenant.OwnerKey, """{"principal":"max","role":"Emperor"}"""));
        Assert.Equal("role", (await badRole.ProblemAsync(HttpStatusCode.BadRequest, "invalid-request")).GetProperty("field").GetString());
    }
}
