using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Groundwork.Gateway.OpenApi;

/// <summary>
/// The schemas of the contract's types, made by ASP.NET Core's schema generator (with the gateway's JSON rules) and
/// kept once each under <c>components/schemas</c>: every record and enum, at any depth, becomes a reference named by
/// the generator's schema id, so generated clients get one named type per contract type.
/// </summary>
internal sealed class SchemaCatalog(OpenApiDocument document, OpenApiDocumentTransformerContext context)
{
    private const string SchemaId = "x-schema-id";

    /// <summary>The schema of <paramref name="type"/>, with <paramref name="fallback"/> as its default when it has one.</summary>
    public async Task<IOpenApiSchema> ForAsync(Type type, object? fallback, CancellationToken cancellationToken)
    {
        var schema = Referenced(await context.GetOrCreateSchemaAsync(type, null, cancellationToken));
        if (fallback is null)
        {
            return schema;
        }

        var value = System.Text.Json.JsonSerializer.SerializeToNode(fallback, type, Http.GatewayJson.Options);
        if (schema is OpenApiSchema inline)
        {
            inline.Default = value;
            return inline;
        }

        return new OpenApiSchema { AllOf = [schema], Default = value };
    }

    /// <summary>
    /// <paramref name="schema"/> with every named schema in it moved to the components and referenced; a nullable one
    /// becomes <c>oneOf: [null, $ref]</c>.
    /// </summary>
    private IOpenApiSchema Referenced(IOpenApiSchema schema)
    {
        if (schema is not OpenApiSchema inline)
        {
            return schema;
        }

        var id = inline.Metadata?.TryGetValue(SchemaId, out var value) == true ? value as string : null;
        if (string.IsNullOrEmpty(id))
        {
            Walk(inline);
            return inline;
        }

        var nullable = (inline.Type is { } type && type.HasFlag(JsonSchemaType.Null) && type != JsonSchemaType.Null) ||
            inline.Enum?.Any(e => e is null) == true;
        var description = inline.Metadata!.TryGetValue(ContractSchemaDescriptions.PropertyDescription, out var own) ? own as string : null;
        document.Components!.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        if (!document.Components.Schemas.ContainsKey(id))
        {
            if (nullable)
            {
                inline.Type &= ~JsonSchemaType.Null;
                inline.Enum = inline.Enum?.Where(e => e is not null).ToList();
            }

            inline.Metadata.Remove(ContractSchemaDescriptions.PropertyDescription);
            document.Components.Schemas[id] = inline;
            Walk(inline);
        }

        var reference = new OpenApiSchemaReference(id, document);
        reference.Description = description;

        return nullable ? new OpenApiSchema { OneOf = [new OpenApiSchema { Type = JsonSchemaType.Null }, reference] } : reference;
    }

    private void Walk(OpenApiSchema schema)
    {
        if (schema.Properties is { } properties)
        {
            foreach (var name in properties.Keys.ToList())
            {
                properties[name] = Referenced(properties[name]);
            }
        }

        if (schema.Items is not null)
        {
            schema.Items = Referenced(schema.Items);
        }

        if (schema.AdditionalProperties is not null)
        {
            schema.AdditionalProperties = Referenced(schema.AdditionalProperties);
        }

        foreach (var list in new[] { schema.AllOf, schema.OneOf, schema.AnyOf })
        {
            for (var i = 0; list is not null && i < list.Count; i++)
            {
                list[i] = Referenced(list[i]);
            }
        }
    }
}
