using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Groundwork.Gateway.Contract;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Xunit;

namespace Groundwork.Gateway.Tests;

/// <summary>
/// The OpenAPI document: it parses as OpenAPI 3.1 with no error, names every served operation once, describes them
/// from the contract's XML docs, and is the golden file <c>client/Groundwork.Gateway/OpenApi/v1.json</c> byte for byte
/// (after a contract change, set <c>GROUNDWORK_ACCEPT_OPENAPI=1</c> to rewrite it, then review the diff).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenApiTests(GatewayFixture fixture)
{
    private static readonly GatewayContract Contract = GatewayContract.Default;

    [Fact]
    public async Task The_document_is_valid_openapi_3_1_with_every_operation()
    {
        var text = await DocumentAsync();
        var read = OpenApiDocument.Parse(text, OpenApiConstants.Json, new OpenApiReaderSettings());
        Assert.NotNull(read.Document);
        Assert.Empty(read.Diagnostic?.Errors ?? []);
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, read.Diagnostic!.SpecificationVersion);

        var document = read.Document!;
        var ids = document.Paths.SelectMany(p => p.Value.Operations!.Values).Select(o => o.OperationId).ToList();
        Assert.Equal(Contract.Operations.Select(o => o.Id).Append("tickets.issue").Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        foreach (var operation in Contract.Operations)
        {
            var item = document.Paths[operation.Route];
            var verb = operation.IsGet ? HttpMethod.Get : HttpMethod.Post;
            Assert.True(item.Operations!.ContainsKey(verb), $"{operation.Id} is not {verb} in the document");
            var described = item.Operations[verb];
            Assert.False(string.IsNullOrWhiteSpace(described.Summary), $"{operation.Id} has no summary: document its contract method");
            Assert.Contains("Requires:", described.Description, StringComparison.Ordinal);
            Assert.Contains("401", described.Responses!.Keys);
            Assert.Equal(operation.Shape == ResultShape.None ? "204" : "200", described.Responses.Keys.Single(k => k.StartsWith('2')));
        }
    }

    [Fact]
    public async Task Parameters_bodies_and_results_carry_the_contract_docs()
    {
        var document = JsonNode.Parse(await DocumentAsync())!;
        var add = document["paths"]!["/v1/{tenant}/list/{name}/add-item"]!["post"]!;
        var body = add["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.False(body["additionalProperties"]!.GetValue<bool>());
        Assert.Contains("item", body["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.DoesNotContain("position", body["required"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("#/components/schemas/NewItem", body["properties"]!["item"]!["$ref"]!.GetValue<string>());
        var direct = document["paths"]!["/v1/{tenant}/channel/{name}/open-direct"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.StartsWith("The other members", direct["properties"]!["members"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);

        // A named type's component keeps its own summary; the property's description goes on the reference.
        var channel = document["components"]!["schemas"]!["ChannelInfo"]!;
        Assert.Equal("The reader's role; null when not a member.", channel["properties"]!["myRole"]!["oneOf"]![1]!["description"]!.GetValue<string>());
        Assert.Equal("null", channel["properties"]!["myRole"]!["oneOf"]![0]!["type"]!.GetValue<string>());
        Assert.DoesNotContain("reader", document["components"]!["schemas"]!["ChannelRole"]!["description"]?.GetValue<string>() ?? "", StringComparison.Ordinal);
        var headers = add["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("Idempotency-Key", headers);
        Assert.Contains("If-Match", headers);

        var get = document["paths"]!["/v1/{tenant}/list/{name}/get"]!["get"]!;
        Assert.Contains("If-None-Match", get["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));
        var snapshot = get["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>();
        var component = document["components"]!["schemas"]![snapshot.Split('/')[^1]]!;
        Assert.False(string.IsNullOrWhiteSpace(component["description"]?.GetValue<string>()), $"{snapshot} has no description");
        Assert.NotNull(document["components"]!["schemas"]!["Problem"]);
        Assert.Equal("bearer", document["components"]!["securitySchemes"]!["apiKey"]!["scheme"]!.GetValue<string>());

        var watch = document["paths"]!.AsObject().Single(p => p.Key.EndsWith("/list/{name}/watch", StringComparison.Ordinal)).Value!["get"]!;
        Assert.NotNull(watch["responses"]!["200"]!["content"]!["text/event-stream"]);
        Assert.Contains("Last-Event-ID", watch["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task The_document_matches_the_golden_file()
    {
        var text = Normalize(await DocumentAsync());
        var golden = Path.Combine(Groundwork.Testing.Repository.Root, "client", "Groundwork.Gateway", "OpenApi", "v1.json");
        if (Environment.GetEnvironmentVariable("GROUNDWORK_ACCEPT_OPENAPI") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(golden)!);
            await File.WriteAllTextAsync(golden, text);
        }

        Assert.True(File.Exists(golden), $"No golden file at {golden}: run the test with GROUNDWORK_ACCEPT_OPENAPI=1 to write it.");
        var expected = await File.ReadAllTextAsync(golden);
        if (expected != text)
        {
            var received = Path.ChangeExtension(golden, ".received.json");
            await File.WriteAllTextAsync(received, text);
            Assert.Fail($"The OpenAPI document differs from {golden}; what the gateway serves is in {received}. " +
                "If the contract changed on purpose, rerun with GROUNDWORK_ACCEPT_OPENAPI=1 and review the diff.");
        }
    }

    [Fact]
    public async Task The_docs_page_and_its_script_are_served_without_a_key_or_a_network()
    {
        using var page = await fixture.Http.GetAsync(new Uri("/docs/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("\"url\":\"openapi/v1.json\"", html, StringComparison.Ordinal); // resolved against the site's root
        var scripts = System.Text.RegularExpressions.Regex.Matches(html, "<script[^>]+src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            Assert.False(script.StartsWith("http", StringComparison.OrdinalIgnoreCase), $"The docs page loads {script} from the network");
            using var js = await fixture.Http.GetAsync(new Uri(new Uri("http://localhost/docs/"), script));
            Assert.Equal(HttpStatusCode.OK, js.StatusCode);
        }
    }

    private async Task<string> DocumentAsync()
    {
        using var response = await fixture.Http.GetAsync(new Uri(GatewayHostingExtensions.DocumentPath, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Indented with \n line ends, so the golden file diffs well.</summary>
    private static string Normalize(string json) => JsonSerializer.Serialize(JsonNode.Parse(json), Indented).ReplaceLineEndings("\n") + "\n";

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
