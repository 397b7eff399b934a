using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Groundwork.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Xunit;
using static Groundwork.Gateway.Tests.GatewayFixture;

namespace Groundwork.Gateway.Tests;

/// <summary>
/// A fuzzer driven by the gateway's own OpenAPI document: 5,000 requests in sequences of 50 (so later requests meet
/// the state earlier ones made), each an operation of the document with a random credential, tenant, resource name,
/// headers and a body that is valid by the schema, mutated or garbage. Whatever comes: no 5xx, no exception text, no
/// read of another tenant's data, and the cluster is healthy after.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class FuzzTests(GatewayFixture fixture)
{
    private const int Sequences = 100;
    private const int Steps = 50;

    /// <summary>One request: indexes into the document's operations and the fuzzer's pools, and a seed for its body.</summary>
    public sealed record Step(int Operation, int Credential, int Tenant, int Name, int Body, int Headers, int Seed);

    [Fact]
    public async Task Five_thousand_random_and_malformed_requests_get_no_5xx_and_read_nothing_across_tenants()
    {
        var settings = new Dictionary<string, string?>(GatewaySettings)
        {
            ["Groundwork:Gateway:RequestsPerSecond"] = "1000000",
            ["Groundwork:Gateway:Burst"] = "1000000",
        };
        await using WebApplication app = await StartGatewayAsync(fixture.Cluster, settings);
        var http = app.GetTestClient();
        http.Timeout = TimeSpan.FromSeconds(30);
        var document = JsonNode.Parse(await http.GetStringAsync(new Uri(GatewayHostingExtensions.DocumentPath, UriKind.Relative)))!;
        var operations = Operations(document);

        // Tenant A is the fuzzer's; tenant B holds a secret it must never read.
        var mine = await fixture.Cluster.NewTenantAsync();
        var viewer = await mine.MemberKeyAsync("fuzz-viewer", TenantRole.Viewer);
        var theirs = await fixture.Cluster.NewTenantAsync();
        var secret = "SECRET-" + Guid.NewGuid().ToString("n");
        using (var created = await http.SendAsync(Request(HttpMethod.Post, $"/v1/{theirs.Id}/list/vault/create", theirs.OwnerKey, $$"""{"title":"{{secret}}"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        string?[] credentials = [mine.OwnerKey, viewer, theirs.OwnerKey, null, "gwk_nope_k1_garbage", "Bearer-less", "x.y.z"];
        string[] tenants = [mine.Id, theirs.Id, "T-UPPER", "a", new string('t', 300), "..", "%2e%2e"];
        string[] names = ["vault", "shared", "fuzz", "dm-x", "a b", "%2F", new string('n', 500), "ünï", "0"];
        using (var shared = await http.SendAsync(Request(HttpMethod.Post, $"/v1/{mine.Id}/list/shared/create", mine.OwnerKey, """{"title":"Shared"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, shared.StatusCode);
        }

        var step = Gen.Select(Gen.Int[0, operations.Count - 1], Gen.Int[0, credentials.Length - 1], Gen.Int[0, tenants.Length - 1],
            Gen.Int[0, names.Length - 1], Gen.Int[0, 9], Gen.Int[0, 7], Gen.Int, (o, c, t, n, b, h, s) => new Step(o, c, t, n, b, h, s));
        var sent = 0;
        var statuses = new Dictionary<int, int>();
        await step.Array[Steps].SampleAsync(async sequence =>
        {
            foreach (var s in sequence)
            {
                var operation = operations[s.Operation];
                var tenant = tenants[s.Tenant];
                var request = Build(operation, s, tenant, names[s.Name], credentials[s.Credential], document);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                sent++;
                statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
                var text = response.Content.Headers.ContentType?.MediaType == "text/event-stream" ? "" : await response.Content.ReadAsStringAsync();
                var where = $"{request.Method} {request.RequestUri} as credential {s.Credential}";
                if (operation.Path == GatewayHostingExtensions.TicketsPath && response.IsSuccessStatusCode)
                {
                    Assert.True(s.Credential is 0 or 1 or 2, $"{where}: a ticket for a credential the silo does not know");
                }

                Assert.True((int)response.StatusCode < 500, $"{where}: {(int)response.StatusCode} {text}");
                Assert.False(text.Contains("Exception", StringComparison.Ordinal) || text.Contains("   at ", StringComparison.Ordinal), $"{where}: exception text in {text}");
                if (s.Credential != 2)
                {
                    Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} read tenant B's data: {text}");
                }

                if (s.Credential != 2 && tenant == theirs.Id && operation.Path.Contains("{tenant}", StringComparison.Ordinal) && response.IsSuccessStatusCode)
                {
                    Assert.Fail($"{where} succeeded on tenant B's resources with another credential: {(int)response.StatusCode} {text}");
                }
            }
        }, iter: Sequences, threads: 1);

        Assert.True(sent >= 5_000, $"sent {sent}");
        Assert.True(statuses.Keys.Any(k => k is >= 200 and < 300), "no request succeeded: the fuzzer only met refusals");

        // Healthy after: B's list is as it was, and a legitimate call answers.
        var vault = await (await http.SendAsync(Request(HttpMethod.Get, $"/v1/{theirs.Id}/list/vault/get", theirs.OwnerKey))).JsonAsync();
        Assert.Equal(secret, vault.GetProperty("title").GetString());
        using var whoami = await fixture.Http.SendAsync(Request(HttpMethod.Get, $"/v1/{mine.Id}/tenant/whoami", mine.OwnerKey));
        Assert.Equal(HttpStatusCode.OK, whoami.StatusCode);
    }

    private sealed record Operation(string Method, string Path, JsonArray Parameters, JsonNode? Body);

    private static List<Operation> Operations(JsonNode document) =>
        [.. document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject().Select(verb => new Operation(
            verb.Key.ToUpperInvariant(), path.Key, verb.Value!["parameters"]?.AsArray() ?? [],
            verb.Value!["requestBody"]?["content"]?["application/json"]?["schema"])))];

    private static HttpRequestMessage Build(Operation operation, Step step, string tenant, string name, string? credential, JsonNode document)
    {
        var random = new Random(step.Seed);
        var path = operation.Path.Replace("{tenant}", Uri.EscapeDataString(tenant), StringComparison.Ordinal)
            .Replace("{name}", Uri.EscapeDataString(name), StringComparison.Ordinal);
        var query = new List<string>();
        var request = new HttpRequestMessage(step.Body == 9 ? HttpMethod.Put : new HttpMethod(operation.Method), "");
        foreach (var parameter in operation.Parameters)
        {
            var where = parameter!["in"]!.GetValue<string>();
            var parameterName = parameter["name"]!.GetValue<string>();
            if (where == "query" && random.Next(3) > 0)
            {
                var value = Value(parameter["schema"], document, random, depth: 0);
                query.Add($"{parameterName}={Uri.EscapeDataString(value is JsonValue v && v.TryGetValue<string>(out var text) ? text : value?.ToJsonString() ?? "")}");
            }
            else if (where == "header" && step.Headers > 3)
            {
                request.Headers.TryAddWithoutValidation(parameterName, step.Headers switch
                {
                    4 => $"\"{random.Next(-2, 50)}\"",
                    5 => Garbage(random, 40),
                    6 => new string('k', 200),
                    _ => $"op-{random.Next(5)}",
                });
            }
        }

        if (step.Headers == 1)
        {
            query.Add("unknown=" + random.Next());
        }

        request.RequestUri = new Uri(path + (query.Count > 0 ? "?" + string.Join('&', query) : ""), UriKind.Relative);
        if (credential is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", credential.StartsWith("gw", StringComparison.Ordinal) || credential.Contains('.', StringComparison.Ordinal) ? "Bearer " + credential : credential);
        }

        if (step.Headers == 2)
        {
            request.Headers.TryAddWithoutValidation(CallHeaders.ApiKey, credential ?? "gwk_x");
            request.Headers.TryAddWithoutValidation(CallHeaders.OnBehalfOf, "owner");
        }

        if (operation.Method == "POST" || step.Body == 9)
        {
            var body = step.Body switch
            {
                0 or 1 or 2 or 3 => Value(operation.Body, document, random, depth: 0)?.ToJsonString() ?? "{}",
                4 => Mutate(Value(operation.Body, document, random, depth: 0), random),
                5 => Garbage(random, 200),
                6 => "{\"a\":" + new string('[', 100) + new string(']', 100) + "}",
                7 => "",
                _ => "[1,2,3]",
            };
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(step.Body == 8 ? "text/plain" : "application/json");
        }

        return request;
    }

    /// <summary>A value that the schema allows (mostly): objects with their properties, arrays, strings, numbers.</summary>
    private static JsonNode? Value(JsonNode? schema, JsonNode document, Random random, int depth)
    {
        if (schema is null || depth > 6)
        {
            return null;
        }

        if (schema["$ref"]?.GetValue<string>() is { } reference)
        {
            return Value(document["components"]!["schemas"]![reference.Split('/')[^1]], document, random, depth + 1);
        }

        foreach (var choice in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (schema[choice] is JsonArray options && options.Count > 0)
            {
                return Value(options[random.Next(options.Count)], document, random, depth + 1);
            }
        }

        if (schema["enum"] is JsonArray values && values.Count > 0)
        {
            return values[random.Next(values.Count)]?.DeepClone();
        }

        var type = schema["type"] switch
        {
            JsonArray types => types[random.Next(types.Count)]!.GetValue<string>(),
            JsonValue single => single.GetValue<string>(),
            _ => "object",
        };
        switch (type)
        {
            case "null":
                return null;
            case "boolean":
                return random.Next(2) == 0;
            case "integer":
                return random.Next(6) switch { 0 => -1, 1 => long.MaxValue, 2 => 0, _ => random.Next(0, 60) };
            case "number":
                return random.NextDouble() * 1000;
            case "array":
                var array = new JsonArray();
                for (var i = random.Next(4); i > 0; i--)
                {
                    array.Add(Value(schema["items"], document, random, depth + 1));
                }

                return array;
            case "string":
                return schema["format"]?.GetValue<string>() switch
                {
                    "date" => random.Next(3) == 0 ? "2026-13-45" : "2026-12-03",
                    "date-time" => "2026-12-03T10:00:00Z",
                    _ => random.Next(5) switch { 0 => "", 1 => Garbage(random, 30), 2 => new string('s', random.Next(400, 12_000)), _ => "fuzz" + random.Next(10) },
                };
            default:
                var result = new JsonObject();
                foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
                {
                    if (random.Next(5) > 0)
                    {
                        result[name] = Value(property, document, random, depth + 1);
                    }
                }

                return result;
        }
    }

    private static string Mutate(JsonNode? value, Random random)
    {
        var text = value?.ToJsonString() ?? "null";
        return random.Next(4) switch
        {
            0 => text[..random.Next(text.Length + 1)],
            1 => text.Replace("\"", "", StringComparison.Ordinal),
            2 => text.Length > 1 ? text.Insert(1, "\"extra\":true,") : text,
            _ => text.Replace(":", ":1e999,\"x\":", StringComparison.Ordinal),
        };
    }

    private static string Garbage(Random random, int length)
    {
        var chars = new char[random.Next(1, length)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)random.Next(1, 0x3000);
        }

        return new string(chars).Replace('\r', 'r').Replace('\n', 'n');
    }
}
