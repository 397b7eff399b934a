using System.Threading.RateLimiting;
using Groundwork.Gateway.Contract;
using Groundwork.Gateway.Http;
using Groundwork.Gateway.OpenApi;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Groundwork.Gateway;

/// <summary>Adding the gateway to an ASP.NET Core host that has an Orleans client or silo (an <see cref="IGrainFactory"/>).</summary>
public static class GatewayHostingExtensions
{
    /// <summary>The authorization and rate-limit policy of the gateway's routes.</summary>
    public const string Policy = "GroundworkGateway";

    /// <summary>The authentication scheme of the gateway's routes: API keys, or JWTs when they are configured.</summary>
    public const string CredentialScheme = "Groundwork";

    /// <summary>The WebSocket of the <c>groundwork.v1</c> protocol.</summary>
    public const string WebSocketPath = "/v1/ws";

    /// <summary>Where browser feed tickets are issued.</summary>
    public const string TicketsPath = "/v1/tickets";

    /// <summary>The OpenAPI document's name: it is served at <c>/openapi/v1.json</c>.</summary>
    public const string DocumentName = "v1";

    /// <summary>Where the OpenAPI document is served.</summary>
    public const string DocumentPath = "/openapi/v1.json";

    /// <summary>
    /// Registers the gateway: its options (<c>Groundwork:Gateway</c>, checked at start), API-key and JWT
    /// authentication, a token bucket per key, the contract model and its OpenAPI document.
    /// </summary>
    public static IServiceCollection AddGroundworkGateway(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<HttpGatewayOptions>().Bind(configuration.GetSection(HttpGatewayOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(GatewayContract.Default);
        services.AddSingleton<GatewayEndpoints>();
        services.AddSingleton<TicketStore>();
        services.TryAddSingleton(TimeProvider.System);

        // ASP.NET Core's request log lines carry the query string, where a feed's ticket is: keep them to warnings.
        // The rest of ASP.NET Core logs two Information lines per request (routing): warnings too, unless configured
        // (they cost more CPU than the gateway's own work, measured in docs/benchmarks.md).
        services.AddLogging(logging =>
        {
            logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
            if (configuration["Logging:LogLevel:Microsoft.AspNetCore"] is null)
            {
                logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            }
        });
        services.ConfigureHttpJsonOptions(json => GatewayJson.Configure(json.SerializerOptions));
        services.AddOpenApi(DocumentName, openApi =>
        {
            openApi.OpenApiVersion = Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_1;
            openApi.ShouldInclude = _ => false;
            openApi.AddDocumentTransformer<ContractDocument>();
            openApi.AddSchemaTransformer<ContractSchemaDescriptions>();
        });
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<HttpGatewayOptions>, HttpGatewayOptionsValidator>();
        services.AddAuthentication()
            .AddPolicyScheme(CredentialScheme, "Groundwork API key, JWT or feed ticket", scheme => scheme.ForwardDefaultSelector = SchemeOf)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, configureOptions: null)
            .AddScheme<AuthenticationSchemeOptions, TicketAuthenticationHandler>(TicketAuthenticationHandler.SchemeName, configureOptions: null)
            .AddJwtBearer(JwtAuthentication.SchemeName, _ => { });
        services.AddOptions<JwtBearerOptions>(JwtAuthentication.SchemeName)
            .Configure<IOptions<HttpGatewayOptions>>((jwt, gateway) => JwtAuthentication.Configure(jwt, gateway.Value));
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(CredentialScheme).RequireAuthenticatedUser());
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Policy, context =>
            {
                var gateway = context.RequestServices.GetRequiredService<IOptions<HttpGatewayOptions>>().Value;
                var partition = context.User.FindFirst(ApiKeyAuthenticationHandler.PartitionClaim)?.Value ?? "anonymous";
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => gateway.TokenBucket());
            });
            limiter.OnRejected = (rejected, _) =>
            {
                var retry = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                return new ValueTask(new Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Rate limited",
                    "This key made more requests than Groundwork:Gateway:RequestsPerSecond allows.")
                {
                    Fields = new Dictionary<string, object?> { ["limit"] = "Gateway:RequestsPerSecond" },
                    RetryAfter = retry,
                }.WriteAsync(rejected.HttpContext));
            };
        });
        return services;
    }

    private static string SchemeOf(HttpContext context)
    {
        if (TicketAuthenticationHandler.Carries(context.Request))
        {
            return TicketAuthenticationHandler.SchemeName;
        }

        return JwtAuthentication.LooksLikeJwt(context.Request.Headers.Authorization) &&
            context.RequestServices.GetRequiredService<IOptions<HttpGatewayOptions>>().Value.Jwt.Enabled
                ? JwtAuthentication.SchemeName
                : ApiKeyAuthenticationHandler.SchemeName;
    }

    /// <summary>
    /// Serves every operation of the contract under <c>/v1</c> (routes in docs/design/gateway.md), each behind the key
    /// check and the key's rate limit; any other <c>/v1</c> path is a 404 problem.
    /// </summary>
    public static WebApplication MapGroundworkGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseRateLimiter();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        var contract = app.Services.GetRequiredService<GatewayContract>();
        var endpoints = app.Services.GetRequiredService<GatewayEndpoints>();
        var group = app.MapGroup("").RequireAuthorization(Policy).RequireRateLimiting(Policy);
        foreach (var operation in contract.Operations)
        {
            group.MapMethods(operation.Route, [HttpMethods.Get, HttpMethods.Post], context => endpoints.HandleAsync(context, operation))
                .WithName(operation.Id)
                .WithDisplayName(operation.ToString())
                .WithMetadata(operation);
        }

        group.MapGet(WebSocketPath, (HttpContext context) => WebSocketSession.ServeAsync(
                context, contract, context.RequestServices.GetRequiredService<IGrainFactory>(),
                context.RequestServices.GetRequiredService<IOptions<HttpGatewayOptions>>().Value,
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger<WebSocketSession>()))
            .WithName("websocket").WithMetadata(new TicketAcceptedAttribute());
        group.MapPost(TicketsPath, (HttpContext context) => endpoints.IssueTicketAsync(context)).WithName("tickets.issue");

        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/docs", scalar =>
        {
            scalar.Title = "Groundwork API";
            scalar.OpenApiRoutePattern = DocumentPath;
            scalar.DefaultFonts = false;
        }).AllowAnonymous();
        if (app.Services.GetRequiredService<IOptions<HttpGatewayOptions>>().Value.WebProduct)
        {
            WebProduct.Map(app);
        }

        app.Map("/v1/{**rest}", context => new Problem(StatusCodes.Status404NotFound, "no-route", "No such route",
            "No operation is served at this path: routes are /v1/{tenant}/{kind}/{name}/{method} and /v1/{tenant}/{grain}/{method}.").WriteAsync(context));
        return app;
    }
}
