using System.Diagnostics;
using System.Text.Json;

namespace Groundwork.Gateway.Http;

/// <summary>
/// An error answer (RFC 9457 <c>application/problem+json</c>): a status, a stable <see cref="Code"/>, a detail for
/// people and the typed fields of the contract's exception. Never an exception's text unless it is one of ours.
/// </summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Code">The stable code, e.g. <c>version-conflict</c>; also the end of <c>type</c>.</param>
/// <param name="Title">A short summary of the code.</param>
/// <param name="Detail">What happened, for people.</param>
public sealed record Problem(int Status, string Code, string Title, string Detail)
{
    /// <summary>The media type.</summary>
    public const string MediaType = "application/problem+json";

    /// <summary>The typed fields (<c>field</c>, <c>currentVersion</c>, ...), written beside the standard members.</summary>
    public IReadOnlyDictionary<string, object?> Fields { get; init; } = new Dictionary<string, object?>();

    /// <summary>When to retry (429 and 503), written as <c>Retry-After</c> in whole seconds.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>A 400 naming the request field that is wrong.</summary>
    public static Problem InvalidRequest(string field, string reason) =>
        new(StatusCodes.Status400BadRequest, "invalid-request", "Invalid request", $"Invalid '{field}': {reason}.")
        {
            Fields = new Dictionary<string, object?> { ["field"] = field, ["reason"] = reason },
        };

    /// <summary>A 401: no credential, or one refused; <paramref name="reason"/> says which (the <c>reason</c> field).</summary>
    public static Problem Unauthenticated(string detail, string reason) =>
        new(StatusCodes.Status401Unauthorized, "unauthenticated", "Unauthenticated", detail)
        {
            Fields = new Dictionary<string, object?> { ["reason"] = reason },
        };

    /// <summary>A 403: the credential is known but may not do this.</summary>
    public static Problem Forbidden(string detail, string? reason = null) =>
        new(StatusCodes.Status403Forbidden, "forbidden", "Forbidden", detail)
        {
            Fields = reason is null ? new Dictionary<string, object?>() : new Dictionary<string, object?> { ["reason"] = reason },
        };

    /// <summary>A 422 for a limit of <c>Groundwork:{limit}</c> with its <paramref name="maximum"/>.</summary>
    public static Problem LimitExceeded(string limit, int maximum, string detail) =>
        new(StatusCodes.Status422UnprocessableEntity, "limit-exceeded", "Limit exceeded", detail)
        {
            Fields = new Dictionary<string, object?> { ["limit"] = limit, ["maximum"] = maximum },
        };

    /// <summary>A 404 for a resource that does not exist or is not the caller's tenant's (the two look the same).</summary>
    public static Problem NotFound(string kind, string id) =>
        new(StatusCodes.Status404NotFound, "not-found", "Not found", $"No {kind} '{id}'.")
        {
            Fields = new Dictionary<string, object?> { ["kind"] = kind, ["id"] = id },
        };

    /// <summary>Writes the problem as the whole answer.</summary>
    public async Task WriteAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        response.StatusCode = Status;
        response.ContentType = MediaType;
        if (RetryAfter is { } retry)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (Status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer realm=\"groundwork\"";
        }

        await JsonSerializer.SerializeAsync(response.Body, ToJson(context), GatewayJson.Options, context.RequestAborted);
    }

    /// <summary>The body: the RFC 9457 members, <c>code</c>, <c>traceId</c> and the typed fields.</summary>
    public Dictionary<string, object?> ToJson(HttpContext? context = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["type"] = $"urn:groundwork:problem:{Code}",
            ["title"] = Title,
            ["status"] = Status,
            ["detail"] = Detail,
            ["code"] = Code,
        };
        if (context is not null)
        {
            body["instance"] = context.Request.Path.Value;
        }

        foreach (var (name, value) in Fields)
        {
            body[name] = value;
        }

        if (Activity.Current?.TraceId.ToString() is { } trace && Activity.Current.Recorded)
        {
            body["traceId"] = trace;
        }

        return body;
    }
}
