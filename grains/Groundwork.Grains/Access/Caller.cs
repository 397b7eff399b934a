using System.Collections.Concurrent;
using System.Reflection;
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
/// <remarks>Serializable only so that a silo's feed relay can ask a resource about the callers it serves.</remarks>
[GenerateSerializer, Immutable, Alias("gw.caller")]
public sealed record Caller(
    [property: Id(0)] string? Tenant,
    [property: Id(1)] string Principal,
    [property: Id(2)] TenantRole? Role,
    [property: Id(3)] bool IsOperator,
    [property: Id(4)] Caller? Holder = null)
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

    private static readonly AsyncLocal<Orleans.Serialization.Invocation.IInvokable?> CurrentRequest = new();

    /// <summary>
    /// The call in progress when it is a mutation (a contract method taking <see cref="MutationOptions"/>), so the
    /// kit can fingerprint its arguments; null otherwise.
    /// </summary>
    internal static Orleans.Serialization.Invocation.IInvokable? Request
    {
        get => CurrentRequest.Value;
        set => CurrentRequest.Value = value;
    }

    /// <summary>The current principal's id, or <c>system</c> when the call carried no credential.</summary>
    public static string Principal => Current?.Principal ?? "system";
}

/// <summary>
/// What the access filter checks a call against: the grain itself (tenant grains), or the one field of the grain that
/// holds an <see cref="IAccessControlled"/> (a building block's resource facet, injected with <c>[Resource]</c>); none
/// for other grains (Orleans' own and the dashboard's).
/// </summary>
internal static class AccessControlled
{
    // Per grain class, the field that holds its facet (or none). Found once: a grain's fields do not change. A
    // component would cost every activation a dictionary of its own.
    private static readonly ConcurrentDictionary<Type, FieldInfo?> FacetField = new();

    public static IAccessControlled? Of(IGrainContext target) => target.GrainInstance switch
    {
        IAccessControlled grain => grain,
        { } instance when FacetField.GetOrAdd(instance.GetType(), FindField) is { } field => (IAccessControlled?)field.GetValue(instance),
        _ => null,
    };

    private static FieldInfo? FindField(Type type)
    {
        var fields = new List<FieldInfo>();
        for (var current = type; current is not null && current != typeof(Grain) && current != typeof(object); current = current.BaseType)
        {
            fields.AddRange(current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Where(f => typeof(IAccessControlled).IsAssignableFrom(f.FieldType)));
        }

        return fields.Count switch
        {
            0 => null,
            1 => fields[0],
            _ => throw new InvalidOperationException(
                $"{type.Name} holds {fields.Count} access-controlled facets ({string.Join(", ", fields.Select(f => f.Name))}); a grain is one resource"),
        };
    }
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

    /// <summary>
    /// The grain's own rule, in place of the access list's or the tenant role's (a chat channel decides by its members
    /// and their roles, an inbox by whose it is); null for those. Asked only for members of the grain's tenant below
    /// admin: the tenant's checks come first, whatever the grain.
    /// </summary>
    AccessRule? Rule => null;
}

/// <summary>
/// A block's access rule for one of its resources: null when <paramref name="caller"/> (of the resource's tenant,
/// below tenant admin) may do <paramref name="requirement"/>; otherwise the refusal.
/// </summary>
public delegate AccessDeniedException? AccessRule(Caller caller, Requirement requirement);
