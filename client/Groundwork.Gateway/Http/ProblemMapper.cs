
namespace Groundwork.Gateway.Http;

/// <summary>What the gateway answers for each error a call can meet (the table is in docs/design/gateway.md).</summary>
public static class ProblemMapper
{
    /// <summary>The problem for <paramref name="exception"/>, met calling <paramref name="kind"/> <paramref name="id"/>.</summary>
    /// <param name="exception">What the call threw.</param>
    /// <param name="kind">The kind (or tenant grain) called, for a 404 that does not confirm another tenant's resource.</param>
    /// <param name="id">The resource key or tenant id called.</param>
    /// <param name="ifMatch">Whether the request sent <c>If-Match</c> (a version conflict is then 412, not 409).</param>
    /// <returns>The problem; null when the error is not one the gateway knows (answer 500 and log it).</returns>
    public static Problem? From(Exception exception, string kind, string id, bool ifMatch)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (GroundworkException.FindIn(exception) is { } typed)
        {
            return FromTyped(typed, kind, id, ifMatch);
        }

        return exception switch
        {
            TimeoutException => new Problem(StatusCodes.Status504GatewayTimeout, "timeout", "Timed out",
                "The call did not finish in time. A mutation may or may not have applied: retry it with the same Idempotency-Key."),
            SiloUnavailableException or OrleansMessageRejectionException or Orleans.Runtime.Messaging.ConnectionFailedException or
                GatewayTooBusyException or EnumerationAbortedException =>
                new Problem(StatusCodes.Status503ServiceUnavailable, "unavailable", "Unavailable",
                    "The cluster could not take the call just now. Retry; a mutation with the same Idempotency-Key applies at most once.")
                {
                    RetryAfter = TimeSpan.FromSeconds(1),
                },
            _ => null,
        };
    }

    private static Problem FromTyped(GroundworkException exception, string kind, string id, bool ifMatch)
    {
        switch (exception)
        {
            case AccessDeniedException { Reason: AccessDenialReason.WrongTenant }:
                return Problem.NotFound(kind, id);
            case AccessDeniedException denied when denied.Reason is AccessDenialReason.MissingCredential or AccessDenialReason.MalformedCredential or
                AccessDenialReason.UnknownCredential or AccessDenialReason.RevokedCredential:
                return Problem.Unauthenticated(Describe(denied.Reason), denied.Reason.ToString());
            case AccessDeniedException denied:
                return Problem.Forbidden(denied.Message, denied.Reason.ToString());
            case NotFoundException notFound:
                return Problem.NotFound(notFound.Kind, notFound.Id);
            case AlreadyExistsException exists:
                return new Problem(StatusCodes.Status409Conflict, "already-exists", "Already exists", exists.Message)
                {
                    Fields = new Dictionary<string, object?> { ["kind"] = exists.Kind, ["id"] = exists.Id },
                };
            case VersionConflictException conflict:
                return new Problem(ifMatch ? StatusCodes.Status412PreconditionFailed : StatusCodes.Status409Conflict, "version-conflict", "Version conflict", conflict.Message)
                {
                    Fields = new Dictionary<string, object?> { ["expectedVersion"] = conflict.ExpectedVersion, ["currentVersion"] = conflict.CurrentVersion },
                };
            case LimitExceededException limit:
                return new Problem(StatusCodes.Status422UnprocessableEntity, "limit-exceeded", "Limit exceeded", limit.Message)
                {
                    Fields = new Dictionary<string, object?> { ["limit"] = limit.Limit, ["maximum"] = limit.Maximum, ["attempted"] = limit.Attempted },
                };
            case OperationConflictException operation:
                return new Problem(StatusCodes.Status422UnprocessableEntity, "operation-conflict", "Idempotency key reused", operation.Message)
                {
                    Fields = new Dictionary<string, object?> { ["operationId"] = operation.OperationId },
                };
            case InvalidRequestException invalid:
                return Problem.InvalidRequest(invalid.Field, invalid.Reason);
            case InvalidResourceKeyException key:
                return new Problem(StatusCodes.Status400BadRequest, "invalid-key", "Invalid resource key", key.Message)
                {
                    Fields = new Dictionary<string, object?> { ["key"] = key.Key, ["reason"] = key.Reason },
                };
            case InvalidFormulaException formula:
                return new Problem(StatusCodes.Status400BadRequest, "invalid-formula", "Invalid formula", formula.Message)
                {
                    Fields = new Dictionary<string, object?> { ["formula"] = formula.Formula, ["position"] = formula.Position, ["reason"] = formula.Reason },
                };
            case RateLimitedException rate:
                return new Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Rate limited", rate.Message)
                {
                    Fields = new Dictionary<string, object?> { ["limit"] = rate.Limit },
                    RetryAfter = rate.RetryAfter,
                };
            case ResyncRequiredException resync:
                return new Problem(StatusCodes.Status410Gone, "resync-required", "Resync required", resync.Message)
                {
                    Fields = new Dictionary<string, object?> { ["afterSequence"] = resync.AfterSequence, ["oldestRetained"] = resync.OldestRetained, ["currentVersion"] = resync.CurrentVersion },
                };
            case StorageUnavailableException storage:
                return new Problem(StatusCodes.Status503ServiceUnavailable, "storage-unavailable", "Storage unavailable", storage.Message)
                {
                    RetryAfter = TimeSpan.FromSeconds(2),
                };
            case UnexpectedErrorException unexpected:
                return new Problem(StatusCodes.Status500InternalServerError, "internal", "Internal error", unexpected.Message)
                {
                    Fields = new Dictionary<string, object?> { ["incidentId"] = unexpected.IncidentId },
                };
            default:
                return new Problem(StatusCodes.Status500InternalServerError, "internal", "Internal error", "The silo met an error the gateway does not know.");
        }
    }

    /// <summary>The detail of a refused credential; it never repeats the credential.</summary>
    public static string Describe(AccessDenialReason reason) => reason switch
    {
        AccessDenialReason.MissingCredential => "The request carries no API key: send 'Authorization: Bearer <key>'.",
        AccessDenialReason.MalformedCredential => "The API key is not well formed.",
        AccessDenialReason.UnknownCredential => "The API key is not known.",
        AccessDenialReason.RevokedCredential => "The API key has been revoked.",
        _ => reason.ToString(),
    };
}
