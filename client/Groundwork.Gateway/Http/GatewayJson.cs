using System.Text.Json;
using System.Text.Json.Serialization;

namespace Groundwork.Gateway.Http;

/// <summary>The JSON of the gateway: camelCase members, numbers as JSON numbers only, enums by name, unknown members refused, nullability respected.</summary>
public static class GatewayJson
{
    /// <summary>The options every request and answer uses.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>
    /// Applies the gateway's rules to <paramref name="options"/> (web defaults assumed): also the host's JSON options,
    /// so the OpenAPI document describes what the gateway writes.
    /// </summary>
    public static void Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.RespectNullableAnnotations = true;
        options.RespectRequiredConstructorParameters = true;
        options.MaxDepth = 32;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        if (!options.Converters.Any(c => c is JsonStringEnumConverter))
        {
            options.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
        }
    }
}
