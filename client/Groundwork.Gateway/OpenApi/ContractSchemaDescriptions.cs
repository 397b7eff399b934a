using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Groundwork.Gateway.OpenApi;

/// <summary>
/// Descriptions of the contract's types and their properties, from its XML documentation. A property of a named type
/// (a record or an enum, which <see cref="SchemaCatalog"/> moves to the components) keeps the type's summary as the
/// schema's description and its own under <see cref="PropertyDescription"/>, for the reference to carry.
/// </summary>
internal sealed class ContractSchemaDescriptions : IOpenApiSchemaTransformer
{
    /// <summary>The metadata key of a property's own description on a named type's schema.</summary>
    public const string PropertyDescription = "x-property-description";

    private static ContractDocs Docs => ContractDocs.Contract;

    /// <inheritdoc/>
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(context);
        var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
        var own = type.Assembly == typeof(ResourceKinds).Assembly ? Docs.Summary(type) : null;
        if (context.JsonPropertyInfo is not { } property)
        {
            schema.Description ??= own;
            if (own is not null && type.IsValueType && context.JsonTypeInfo.Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object)
            {
                RequireConstructorMembers(schema, context.JsonTypeInfo, type);
            }

            return Task.CompletedTask;
        }

        var described = property.DeclaringType.Assembly == typeof(ResourceKinds).Assembly && property.AttributeProvider is System.Reflection.MemberInfo member
            ? Docs.Property(member.DeclaringType ?? property.DeclaringType, member.Name)
            : null;
        if (schema.Metadata?.TryGetValue("x-schema-id", out var id) == true && id is string { Length: > 0 })
        {
            schema.Description = own;
            if (described is not null)
            {
                schema.Metadata[PropertyDescription] = described;
            }
        }
        else
        {
            schema.Description ??= described;
        }

        return Task.CompletedTask;
    }

    // A record struct has a parameterless constructor too, so System.Text.Json requires none of its members: the
    // members its primary constructor takes without a default are required, as a record class's are.
    private static void RequireConstructorMembers(OpenApiSchema schema, System.Text.Json.Serialization.Metadata.JsonTypeInfo info, Type type)
    {
        var constructor = type.GetConstructors().MaxBy(c => c.GetParameters().Length);
        foreach (var parameter in constructor?.GetParameters() ?? [])
        {
            var member = parameter.HasDefaultValue ? null : info.Properties.FirstOrDefault(p => string.Equals(p.Name, parameter.Name, StringComparison.OrdinalIgnoreCase));
            if (member is not null)
            {
                schema.Required ??= new HashSet<string>(StringComparer.Ordinal);
                schema.Required.Add(member.Name);
            }
        }
    }
}
