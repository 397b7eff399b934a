namespace Groundwork.Grains.Tenants;

/// <summary>
/// Limits of tenants (configuration section <c>Groundwork:Tenants</c>). Going past one raises
/// <see cref="LimitExceededException"/> naming it, e.g. <c>Tenants:MaxKeys</c>.
/// </summary>
public sealed class TenantOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Groundwork:Tenants";

    /// <summary>Members of one tenant. Default 100,000.</summary>
    public int MaxMembers { get; set; } = 100_000;

    /// <summary>API keys of one tenant, revoked ones included. Default 10,000.</summary>
    public int MaxKeys { get; set; } = 10_000;

    /// <summary>Resources one tenant directory records. Default 100,000.</summary>
    public int MaxDirectoryEntries { get; set; } = 100_000;
}
