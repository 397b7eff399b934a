using Groundwork.Access;
using Groundwork.Gateway.Contract;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Groundwork.Gateway.OpenApi;

/// <summary>
/// Writes every <see cref="GatewayOperation"/> into the OpenAPI document: its path and verb, parameters, body,
/// answers and errors, with descriptions from the contract's XML documentation. The gateway's routes are
/// <see cref="RequestDelegate"/>s with no metadata for ASP.NET Core to describe, so the contract model is the one
/// source of both the routes and this document.
/// </summary>
internal sealed class ContractDocument(GatewayContract contract) : IOpenApiDocumentTransformer
{
    /// <summary>The security scheme of API keys.</summary>
    public const string ApiKeyScheme = "apiKey";

    /// <summary>The security scheme of JWTs.</summary>
    public const string JwtScheme = "jwt";

    private const string ProblemSchema = "Problem";
    private static ContractDocs Docs => ContractDocs.Contract;

    /// <inheritdoc/>
    public async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(context);
        document.Info = new OpenApiInfo
        {
            Title = "Groundwork",
            Version = "v1",
            Description = "Every Groundwork building block over HTTP: one route per contract method " +
                "(/v1/{tenant}/{kind}/{name}/{method}), GET for reads with simple parameters, POST with a JSON object of named " +
                "parameters otherwise, feeds as Server-Sent Events. Errors are application/problem+json with a stable `code`. " +
                "Authenticate with `Authorization: Bearer <API key>` or, where the gateway trusts an issuer, `Bearer <JWT>`.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "Groundwork API key (gwk_...)",
            Description = "A Groundwork API key. The silo verifies it on every call; the gateway keeps no key list.",
        };
        document.Components.SecuritySchemes[JwtScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A JWT from the issuer in Groundwork:Gateway:Jwt (when configured): RS256 or ES256, with exp, sub and the tenant claim. " +
                "The gateway calls with its edge key for that tenant on behalf of sub.",
        };
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[ProblemSchema] = Problem();
        document.Components.Responses ??= new Dictionary<string, IOpenApiResponse>();
        foreach (var (status, description) in Errors)
        {
            document.Components.Responses[status] = Error(description);
        }

        document.Paths ??= [];
        document.Tags ??= new HashSet<OpenApiTag>();
        var schemas = new SchemaCatalog(document, context);

        foreach (var operation in contract.Operations)
        {
            if (document.Tags.All(t => t.Name != operation.Segment))
            {
                document.Tags.Add(new OpenApiTag { Name = operation.Segment, Description = Docs.Summary(operation.Interface) });
            }

            var item = new OpenApiPathItem { Operations = [] };
            item.Operations[operation.IsGet ? HttpMethod.Get : HttpMethod.Post] = await DescribeAsync(document, operation, schemas, cancellationToken);
            document.Paths[operation.Route] = item;
        }

        document.Paths[GatewayHostingExtensions.TicketsPath] = await TicketsAsync(document, schemas, cancellationToken);
    }

    private static async Task<OpenApiPathItem> TicketsAsync(OpenApiDocument document, SchemaCatalog schemas, CancellationToken cancellationToken)
    {
        const string tag = "tickets";
        document.Tags!.Add(new OpenApiTag { Name = tag, Description = "Single-use tickets that open one feed from a browser." });
        var issue = new OpenApiOperation
        {
            OperationId = "tickets.issue",
            Summary = "Issues a single-use ticket that opens one feed as the caller.",
            Description = "Browsers cannot send Authorization on EventSource or WebSocket: ask for a ticket with the key or token, " +
                "then open the feed with ?ticket=. A ticket lives Groundwork:Gateway:TicketLifetime (30 s), opens one feed, " +
                "and is redeemed at the gateway that issued it.",
            Tags = new HashSet<OpenApiTagReference> { new(tag, document) },
            Responses = new OpenApiResponses
            {
                ["200"] = new OpenApiResponse
                {
                    Description = "The ticket.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = await schemas.ForAsync(typeof(Http.TicketAnswer), null, cancellationToken) },
                    },
                },
                ["401"] = new OpenApiResponseReference("401", document),
                ["429"] = new OpenApiResponseReference("429", document),
                ["503"] = new OpenApiResponseReference("503", document),
            },
            Security = Credentials(document),
        };
        return new OpenApiPathItem { Operations = new() { [HttpMethod.Post] = issue } };
    }

    private static async Task<OpenApiOperation> DescribeAsync(OpenApiDocument document, GatewayOperation operation, SchemaCatalog schemas, CancellationToken cancellationToken)
    {
        var summary = Docs.Summary(operation.Method);
        var described = new OpenApiOperation
        {
            OperationId = operation.Id,
            Summary = summary,
            Description = Description(operation),
            Tags = new HashSet<OpenApiTagReference> { new(operation.Segment, document) },
            Parameters = [],
            Responses = [],
            Security = Credentials(document),
        };

        described.Parameters.Add(PathParameter("tenant", "The tenant's id."));
        if (operation.Target == TargetKind.Resource)
        {
            described.Parameters.Add(PathParameter("name", $"The {operation.Segment}'s name within the tenant."));
        }

        var named = operation.Parameters.Where(p => p.Source == ParameterSource.Named).ToList();
        if (operation.IsGet)
        {
            foreach (var parameter in named)
            {
                described.Parameters.Add(new OpenApiParameter
                {
                    Name = parameter.Name,
                    In = ParameterLocation.Query,
                    Required = parameter.Required,
                    Description = Docs.Parameter(operation.Method, parameter.Name),
                    Schema = await schemas.ForAsync(parameter.Type, parameter.Default, cancellationToken),
                });
            }
        }
        else
        {
            described.RequestBody = new OpenApiRequestBody
            {
                Required = named.Any(p => p.Required),
                Description = "The method's parameters by name; unknown members are refused.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await BodyAsync(operation, named, schemas, cancellationToken) },
                },
            };
        }

        if (operation.HasOptions)
        {
            described.Parameters.Add(Header("Idempotency-Key", "The operation id: a retry with the same key and body is answered from the first call (with Idempotency-Replayed: true), never applied twice."));
            described.Parameters.Add(Header("If-Match", "The expected version as an ETag (\"7\"): a different current version is a 412 version-conflict."));
        }

        if (operation.IsGet && operation.Shape == ResultShape.Value)
        {
            described.Parameters.Add(Header("If-None-Match", "An ETag from an earlier answer: an unchanged version is a 304 with no body."));
        }

        if (operation.Shape == ResultShape.Stream)
        {
            described.Parameters.Add(new OpenApiParameter
            {
                Name = Http.TicketAuthenticationHandler.QueryName,
                In = ParameterLocation.Query,
                Description = "A single-use ticket from POST /v1/tickets, for browsers (EventSource sends no Authorization header).",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }

        if (operation.CursorIndex >= 0)
        {
            described.Parameters.Add(Header("Last-Event-ID", "Resumes after this sequence (set by EventSource on reconnect); overrides afterSequence."));
        }

        await AnswersAsync(document, described, operation, schemas, cancellationToken);
        return described;
    }

    private static async Task<IOpenApiSchema> BodyAsync(GatewayOperation operation, List<OperationParameter> named, SchemaCatalog schemas, CancellationToken cancellationToken)
    {
        var body = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>(),
            AdditionalPropertiesAllowed = false,
        };
        foreach (var parameter in named)
        {
            var schema = await schemas.ForAsync(parameter.Type, parameter.Default, cancellationToken);
            body.Properties[parameter.Name] = Docs.Parameter(operation.Method, parameter.Name) is { } description
                ? Describe(schema, description)
                : schema;
            if (parameter.Required)
            {
                body.Required ??= new HashSet<string>();
                body.Required.Add(parameter.Name);
            }
        }

        return body;
    }

    private static async Task AnswersAsync(OpenApiDocument document, OpenApiOperation described, GatewayOperation operation, SchemaCatalog schemas, CancellationToken cancellationToken)
    {
        switch (operation.Shape)
        {
            case ResultShape.None:
                described.Responses!["204"] = new OpenApiResponse { Description = "Done." };
                break;
            case ResultShape.Value:
                described.Responses!["200"] = new OpenApiResponse
                {
                    Description = Docs.Returns(operation.Method) ?? "The result.",
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = await schemas.ForAsync(operation.ResultType!, null, cancellationToken) } },
                    Headers = operation.VersionOf is null ? null : new Dictionary<string, IOpenApiHeader>
                    {
                        ["ETag"] = new OpenApiHeader { Description = "The version of the result, when it has one.", Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                        ["Idempotency-Replayed"] = new OpenApiHeader { Description = "true when the answer is the first call's, replayed for a repeated Idempotency-Key.", Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                    },
                };
                if (operation.IsGet)
                {
                    described.Responses["304"] = new OpenApiResponse { Description = "Not modified: the version is the one If-None-Match named." };
                }

                break;
            case ResultShape.Stream:
                var item = await schemas.ForAsync(operation.ResultType!, null, cancellationToken);
                described.Responses!["200"] = new OpenApiResponse
                {
                    Description = "Server-Sent Events: `event: change` with `id:` its sequence and `data:` one JSON item " +
                        "(the schema), comment lines as heartbeats, and a last `event: error` or `event: resync` with a problem as data.",
                    Content = new Dictionary<string, OpenApiMediaType> { ["text/event-stream"] = new() { Schema = item } },
                };
                described.Responses["410"] = Error("The cursor is out of the feed's retention (resync-required): read a snapshot and watch from its sequence.");
                break;
        }

        foreach (var (status, _) in Errors)
        {
            described.Responses!.TryAdd(status, new OpenApiResponseReference(status, document));
        }
    }

    /// <summary>Either credential: an API key or a JWT.</summary>
    private static List<OpenApiSecurityRequirement> Credentials(OpenApiDocument document) =>
    [
        new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, document)] = [] },
        new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(JwtScheme, document)] = [] },
    ];

    private static readonly (string Status, string Description)[] Errors =
    [
        ("400", "invalid-request (names the parameter), invalid-key or invalid-formula."),
        ("401", "unauthenticated: no key, or one that is malformed, unknown or revoked."),
        ("403", "forbidden: the key may not do this."),
        ("404", "not-found, also for another tenant's resource (never confirming that it exists)."),
        ("409", "already-exists, or version-conflict without If-Match."),
        ("412", "version-conflict after If-Match."),
        ("413", "body-too-large: over Groundwork:Gateway:MaxBodyBytes."),
        ("422", "limit-exceeded (a contract limit) or operation-conflict (an Idempotency-Key reused with another body)."),
        ("429", "rate-limited: wait Retry-After seconds."),
        ("500", "internal: never with exception text."),
        ("503", "unavailable or storage-unavailable: retry after Retry-After."),
        ("504", "timeout: the grain call took too long."),
    ];

    private static OpenApiResponse Error(string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { [Http.Problem.MediaType] = new() { Schema = new OpenApiSchemaReference(ProblemSchema) } },
    };

    private static OpenApiSchema Problem() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "An RFC 9457 problem with a stable code; the typed fields of the error (field, reason, currentVersion, limit, ...) beside it.",
        Required = new HashSet<string> { "type", "title", "status", "code" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "urn:groundwork:problem:{code}" },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The stable code (docs/design/gateway.md lists them)." },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String },
        },
    };

    private static OpenApiParameter PathParameter(string name, string description) => new()
    {
        Name = name,
        In = ParameterLocation.Path,
        Required = true,
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    private static OpenApiParameter Header(string name, string description) => new()
    {
        Name = name,
        In = ParameterLocation.Header,
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    private static IOpenApiSchema Describe(IOpenApiSchema schema, string description)
    {
        switch (schema)
        {
            case OpenApiSchema inline:
                inline.Description ??= description;
                return inline;
            case OpenApiSchemaReference reference:
                reference.Description ??= description;
                return reference;
            default:
                return new OpenApiSchema { AllOf = [schema], Description = description };
        }
    }

    private static string Description(GatewayOperation operation)
    {
        var returns = Docs.Returns(operation.Method) is { } text ? "Returns " + Lower(text) + " " : "";
        return $"{returns}Requires: {Requires(operation.Requirement)}.";
    }

    private static string Requires(Requirement requirement) => requirement switch
    {
        Requirement.Read => "read (a tenant viewer and up, or on the resource's access list)",
        Requirement.Write => "write (a tenant member that is an editor, or a tenant admin)",
        Requirement.Admin => "admin (a tenant admin, or the resource's owner)",
        Requirement.Operator => "the operator key",
        _ => requirement.ToString(),
    };

    private static string Lower(string text) => text.Length > 1 && char.IsUpper(text[0]) && !char.IsUpper(text[1]) ? char.ToLowerInvariant(text[0]) + text[1..] : text;
}
