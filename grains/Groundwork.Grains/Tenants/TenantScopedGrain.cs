using Groundwork.Access;
using Groundwork.Grains.Access;

namespace Groundwork.Grains.Tenants;

/// <summary>
/// A grain keyed by a tenant id that applies to the whole tenant (the tenant itself, its directory): the access
/// filter checks it by tenant role alone, since it has no access list of its own.
/// </summary>
public abstract class TenantScopedGrain : Grain, IAccessControlled
{
    /// <inheritdoc/>
    public string? Tenant => TenantId.IsValid(this.GetPrimaryKeyString()) ? this.GetPrimaryKeyString() : null;

    /// <inheritdoc/>
    public InvalidResourceKeyException? KeyError =>
        TenantId.IsValid(this.GetPrimaryKeyString(), out var reason) ? null : new InvalidResourceKeyException(this.GetPrimaryKeyString(), reason);

    /// <inheritdoc/>
    public AccessList? AccessList => null;
}
