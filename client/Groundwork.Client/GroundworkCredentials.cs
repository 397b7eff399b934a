namespace Groundwork.Client;

/// <summary>
/// The credential of calls made in the current async flow, overriding <see cref="GroundworkClientOptions.ApiKey"/>:
/// for backends that call for several tenants, and for edge keys acting on behalf of their users.
/// </summary>
public static class GroundworkCredentials
{
    private static readonly AsyncLocal<Scope?> CurrentScope = new();

    /// <summary>The key set for the current flow, if any.</summary>
    public static string? CurrentKey => CurrentScope.Value?.ApiKey;

    /// <summary>The end user the current flow acts for, if any.</summary>
    public static string? CurrentOnBehalfOf => CurrentScope.Value?.OnBehalfOf;

    /// <summary>The tenant a tenant key belongs to (its text names it: <c>gwk_{tenant}_...</c>); null for another text.</summary>
    public static string? TenantOf(string? apiKey) =>
        apiKey is not null && apiKey.StartsWith("gwk_", StringComparison.Ordinal) && apiKey[4..].Split('_') is [var tenant, _, _] && TenantId.IsValid(tenant)
            ? tenant
            : null;

    /// <summary>Calls in this flow carry <paramref name="apiKey"/> until the returned scope is disposed.</summary>
    public static IDisposable Use(string apiKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        return Push(new Scope(apiKey, CurrentScope.Value?.OnBehalfOf));
    }

    /// <summary>
    /// Calls in this flow act for the end user <paramref name="principal"/>, whom the caller has authenticated.
    /// The silo accepts this only with an edge-scoped key; the user's own tenant role then applies.
    /// </summary>
    public static IDisposable ActFor(string principal)
    {
        ArgumentException.ThrowIfNullOrEmpty(principal);
        return Push(new Scope(CurrentScope.Value?.ApiKey, principal));
    }

    /// <summary>
    /// Calls in this flow carry exactly <paramref name="apiKey"/> and <paramref name="onBehalfOf"/> (either may be null:
    /// no key means the client's configured one), whatever the flow carried before: for a watch reopened later on
    /// another flow with the credential it started with.
    /// </summary>
    internal static IDisposable UseExactly(string? apiKey, string? onBehalfOf) => Push(new Scope(apiKey, onBehalfOf));

    private static Restore Push(Scope scope)
    {
        var previous = CurrentScope.Value;
        CurrentScope.Value = scope;
        return new Restore(previous);
    }

    private sealed record Scope(string? ApiKey, string? OnBehalfOf);

    private sealed class Restore(Scope? previous) : IDisposable
    {
        public void Dispose() => CurrentScope.Value = previous;
    }
}
