using System.Text.Json;
using Groundwork.Client;
using Groundwork.Gateway.Contract;
using Microsoft.Extensions.Options;

namespace Groundwork.Gateway.Http;

/// <summary>Serves one request of one operation: key, target, arguments, the grain call, the answer.</summary>
internal sealed partial class GatewayEndpoints(IGrainFactory grains, IOptions<HttpGatewayOptions> options, TicketStore tickets, ILogger<GatewayEndpoints> logger)
{
    private readonly HttpGatewayOptions _options = options.Value;

    /// <summary>
    /// <c>POST /v1/tickets</c>: a single-use ticket that opens one feed as the caller, once the silo has verified the
    /// caller's credential (so a made-up key cannot fill the ticket store).
    /// </summary>
    public async Task IssueTicketAsync(HttpContext context)
    {
        // (A ticket cannot buy another: the ticket scheme refuses this route.)
        var caller = CallCredential.Of(context.User);
        if (GroundworkCredentials.TenantOf(caller.Key) is not { } tenant)
        {
            await Problem.Forbidden("Tickets are for tenant keys and tokens; the operator key opens its feeds with Authorization.").WriteAsync(context);
            return;
        }

        try
        {
            using var credential = caller.Use();
            await grains.GetGrain<Tenants.ITenantGrain>(tenant).WhoAmIAsync();
        }
        catch (Exception exception) when (ProblemMapper.From(exception, "tenant", tenant, ifMatch: false) is { } refused)
        {
            await refused.WriteAsync(context);
            return;
        }

        switch (tickets.Issue(context.User))
        {
            case ({ } ticket, var expires):
                context.Response.Headers.CacheControl = "no-store";
                await context.Response.WriteAsJsonAsync(
                    new TicketAnswer(ticket, expires, (int)_options.TicketLifetime.TotalSeconds), GatewayJson.Options, context.RequestAborted);
                break;
            case (null, _):
                await new Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Too many tickets",
                    $"This credential holds {_options.MaxTicketsPerKey} unused tickets (Groundwork:Gateway:MaxTicketsPerKey); use or let them expire.")
                {
                    Fields = new Dictionary<string, object?> { ["limit"] = "Gateway:MaxTicketsPerKey" },
                    RetryAfter = _options.TicketLifetime,
                }.WriteAsync(context);
                break;
            default:
                await new Problem(StatusCodes.Status503ServiceUnavailable, "unavailable", "Too many tickets",
                    "This gateway holds Groundwork:Gateway:MaxTickets unused tickets; retry shortly.")
                {
                    RetryAfter = _options.TicketLifetime,
                }.WriteAsync(context);
                break;
        }
    }

    public async Task HandleAsync(HttpContext context, GatewayOperation operation)
    {
        var request = context.Request;
        var tenant = context.GetRouteValue("tenant") as string ?? "";
        var name = context.GetRouteValue("name") as string;
        var id = operation.Target == TargetKind.Resource ? $"{tenant}/{operation.Segment}/{name}" : tenant;
        try
        {
            if (!HttpMethods.Equals(request.Method, operation.IsGet ? HttpMethods.Get : HttpMethods.Post))
            {
                context.Response.Headers.Allow = operation.IsGet ? "GET" : "POST";
                await new Problem(StatusCodes.Status405MethodNotAllowed, "method-not-allowed", "Method not allowed",
                    $"{operation.Id} is served as {(operation.IsGet ? "GET" : "POST")}.").WriteAsync(context);
                return;
            }

            var caller = CallCredential.Of(context.User);
            CheckTarget(operation, tenant, id);
            var arguments = operation.IsGet
                ? ArgumentBinder.FromQuery(operation, request.Query, request.Headers, context.RequestAborted)
                : ArgumentBinder.FromBody(operation, await ReadBodyAsync(context), request.Headers, context.RequestAborted);
            var grain = grains.GetGrain(operation.Interface, id);

            // The silo verifies the key (and, for a JWT, the subject it acts for) on the call.
            using var credential = caller.Use();
            if (operation.Shape == ResultShape.Stream)
            {
                await EventStream.ServeAsync(context, operation, grain, arguments, _options, operation.Segment, id);
                return;
            }

            var task = (Task)operation.Invoke(grain, arguments)!;
            await task;
            await AnswerAsync(context, operation, operation.ReadResult(task));
        }
        catch (BindingException binding)
        {
            await binding.Problem.WriteAsync(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody reads an answer.
        }
        catch (Exception exception) when (!context.Response.HasStarted)
        {
            var problem = ProblemMapper.From(exception, operation.Segment, id, request.Headers.ContainsKey("If-Match"));
            if (problem is null || problem.Status == StatusCodes.Status500InternalServerError)
            {
                LogUnexpected(logger, exception, operation.Id);
            }

            await (problem ?? new Problem(StatusCodes.Status500InternalServerError, "internal", "Internal error",
                "The gateway met an unexpected error; its log has the details.")).WriteAsync(context);
        }
    }

    /// <summary>Refuses a malformed tenant id or resource key (400 invalid-key) before any grain is called.</summary>
    internal static void CheckTarget(GatewayOperation operation, string tenant, string id)
    {
        if (operation.Target == TargetKind.Tenant)
        {
            if (!TenantId.IsValid(tenant, out var reason))
            {
                throw new BindingException(new Problem(StatusCodes.Status400BadRequest, "invalid-key", "Invalid resource key", $"Invalid tenant id: {reason}.")
                {
                    Fields = new Dictionary<string, object?> { ["key"] = ArgumentBinder.Echo(tenant), ["reason"] = reason },
                });
            }

            return;
        }

        if (!ResourceKey.TryParse(id, out _, out var problem))
        {
            throw new BindingException(new Problem(StatusCodes.Status400BadRequest, "invalid-key", "Invalid resource key", $"Invalid resource key '{ArgumentBinder.Echo(id)}': {problem}.")
            {
                Fields = new Dictionary<string, object?> { ["key"] = ArgumentBinder.Echo(id), ["reason"] = problem },
            });
        }
    }

    private async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context)
    {
        var limit = _options.MaxBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        if (context.Request.ContentLength is > 0 && context.Request.ContentType is { } type &&
            !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new BindingException(new Problem(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
                "The body must be application/json."));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw TooLarge(limit);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static BindingException TooLarge(int limit) =>
        new(new Problem(StatusCodes.Status413PayloadTooLarge, "body-too-large", "Body too large", $"The body is over the gateway's limit of {limit} bytes (Groundwork:Gateway:MaxBodyBytes).")
        {
            Fields = new Dictionary<string, object?> { ["limit"] = "Gateway:MaxBodyBytes", ["maximum"] = limit },
        });

    private static async Task AnswerAsync(HttpContext context, GatewayOperation operation, object? result)
    {
        var response = context.Response;
        if (operation.Shape == ResultShape.None)
        {
            response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        if (result is not null && operation.VersionOf(result) is { } version)
        {
            var tag = ETags.Of(version);
            response.Headers.ETag = tag;
            if (operation.IsGet && context.Request.Headers.IfNoneMatch is { Count: > 0 } tags &&
                tags.Any(t => t is not null && t.Split(',').Any(one => one.Trim() is var trimmed && (trimmed == tag || trimmed == "W/" + tag || trimmed == "*"))))
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
        }

        if (result is not null && operation.MutationOf(result) is { Replayed: true })
        {
            response.Headers["Idempotency-Replayed"] = "true";
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(response.Body, result, operation.ResultType!, GatewayJson.Options, context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The gateway met an unexpected error serving {Operation}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string operation);
}
