namespace Groundwork.Tenants;

/// <summary>Getting tenant grains by tenant id.</summary>
public static class TenantGrainFactoryExtensions
{
    /// <summary>The tenant <paramref name="tenantId"/>.</summary>
    /// <exception cref="InvalidResourceKeyException">The id is malformed: nothing is sent.</exception>
    public static ITenantGrain GetTenant(this IGrainFactory factory, string tenantId)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return factory.GetGrain<ITenantGrain>(TenantId.Validate(tenantId));
    }

    /// <summary>The resource directory of tenant <paramref name="tenantId"/>.</summary>
    /// <exception cref="InvalidResourceKeyException">The id is malformed: nothing is sent.</exception>
    public static ITenantDirectoryGrain GetTenantDirectory(this IGrainFactory factory, string tenantId)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return factory.GetGrain<ITenantDirectoryGrain>(TenantId.Validate(tenantId));
    }
}
