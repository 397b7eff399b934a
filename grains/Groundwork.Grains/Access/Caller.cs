using Groundwork.Access;

namespace Groundwork.Grains.Access;

/// <summary>A verified caller: derived by the silo from the call's key, never taken from the caller's word.</summary>
/// <param name="Tenant">The key's tenant; null for the operator.</param>
/// <param name="Principal">Who acts: the key's member, or the end user an edge key acts for.</param>
/// <param name="Role">The principal's current tenant role; null for an end user who is not a member.</param>
/// <param name="IsOperator">Whether this is the operator key.</param>
/// <param name="Holder">
/// For an edge key acting for an end user: the key's own holder. The call may do only what both the end user and
/// the holder may do (see <see cref="AccessPolicy"/>).
/// </param>
public sealed record Caller(string? Tenant, string Principal, TenantRole? Role, bool IsOperator, Caller? Holder = null)
{
    /// <summary>The operator.</summary>
    public static readonly Caller Operator = new(null, "operator", TenantRole.Owner, IsOperator: true);
}

/// <summary>The verified caller of the grain call in progress, set by the access filter for the call's duration.</summary>
public static class CallerContext
{
    private static readonly AsyncLocal<Caller?> CurrentCaller = new();

    /// <summary>The verified caller, or null for calls that need no credential.</summary>
    public static Caller? Current
    {
        get => CurrentCaller.Value;
        internal set => CurrentCaller.Value = value;
    }

    private static readonly AsyncLocal<string?> CurrentOperation = new();

    /// <summary>The called contract method's <c>[Alias]</c> (the operation kind of idempotency and metrics), or null.</summary>
    public static string? Operation
    {
        get => CurrentOperation.Value;
        internal set => CurrentOperation.Value = value;
    }

    /// <summary>The current principal's id, or <c>system</c> when the call carried no credential.</summary>
    public static string Principal => Current?.Principal ?? "system";
}

/// <summary>Implemented by grains whose calls the access filter checks.</summary>
public interface IAccessControlled
{
    /// <summary>The tenant the resource belongs to, taken from the grain key; null when the key is malformed.</summary>
    string? Tenant { get; }

    /// <summary>Why the grain key is malformed, or null.</summary>
    InvalidResourceKeyException? KeyError { get; }

    /// <summary>The resource's access list; null for tenant-wide grains and for resources not created yet.</summary>
    AccessList? AccessList { get; }
}
