using Groundwork.Access;

namespace Groundwork.Grains.Access;

/// <summary>
/// The one rule of who may do what, shared by every building block. Tenant owners and admins may do everything in
/// their tenant; otherwise a resource's access list decides (editors write, viewers read, the owner administers),
/// and a tenant-readable resource may be read by every member. Tenant-wide grains go by role alone. An edge key acting
/// for an end user may do only what both may do: the end user's rights, never more than the key holder's.
/// </summary>
public static class AccessPolicy
{
    /// <summary>Null when <paramref name="caller"/> may do <paramref name="requirement"/>; otherwise the refusal.</summary>
    /// <param name="caller">The verified caller.</param>
    /// <param name="requirement">What the method needs.</param>
    /// <param name="tenant">The resource's tenant (from its key).</param>
    /// <param name="access">The resource's access list, or null for tenant-wide grains and resources not created yet.</param>
    /// <param name="rule">The grain's own rule in place of the access list's (see <see cref="IAccessControlled.Rule"/>).</param>
    public static AccessDeniedException? Check(Caller caller, Requirement requirement, string tenant, AccessList? access, AccessRule? rule = null)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (CheckOne(caller, requirement, tenant, access, rule) is { } refusal)
        {
            return refusal;
        }

        return caller.Holder is { } holder && CheckOne(holder, requirement, tenant, access, rule) is { } holderRefusal
            ? new AccessDeniedException(holderRefusal.Reason,
                $"the edge key of '{holder.Principal}' acts for '{caller.Principal}', and may not do more than its holder: {holderRefusal.Detail}")
            : null;
    }

    private static AccessDeniedException? CheckOne(Caller caller, Requirement requirement, string tenant, AccessList? access, AccessRule? rule)
    {
        if (caller.IsOperator || requirement == Requirement.None)
        {
            return null;
        }

        if (requirement == Requirement.Operator)
        {
            return new AccessDeniedException(AccessDenialReason.OperatorOnly, "only the operator key may do this");
        }

        if (!string.Equals(caller.Tenant, tenant, StringComparison.Ordinal))
        {
            return new AccessDeniedException(AccessDenialReason.WrongTenant, $"the key belongs to tenant '{caller.Tenant}', the resource to '{tenant}'");
        }

        if (caller.Role >= TenantRole.Admin)
        {
            return null;
        }

        if (rule is not null)
        {
            return rule(caller, requirement);
        }

        if (access is null)
        {
            var needed = requirement switch
            {
                Requirement.Read => TenantRole.Viewer,
                Requirement.Write => TenantRole.Member,
                _ => TenantRole.Admin,
            };
            return caller.Role >= needed
                ? null
                : new AccessDeniedException(AccessDenialReason.InsufficientRole, $"{requirement} needs the {needed} role; '{caller.Principal}' has {caller.Role?.ToString() ?? "none"}");
        }

        var principal = caller.Principal;
        var isOwner = access.Owner == principal;
        var isEditor = isOwner || access.Editors.Contains(principal);
        var canWrite = isEditor && caller.Role >= TenantRole.Member;
        var allowed = requirement switch
        {
            Requirement.Read => isEditor || access.Viewers.Contains(principal) || (access.TenantReadable && caller.Role >= TenantRole.Viewer),
            Requirement.Write => canWrite,
            Requirement.Admin => isOwner && caller.Role >= TenantRole.Member,
            _ => false,
        };
        return allowed
            ? null
            : new AccessDeniedException(AccessDenialReason.NotOnAccessList, $"'{principal}' may not {requirement.ToString().ToLowerInvariant()} this resource");
    }
}
