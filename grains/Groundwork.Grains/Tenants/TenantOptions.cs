using System.ComponentModel.DataAnnotations;

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
    [Range(1, int.MaxValue)]
    public int MaxMembers { get; set; } = 100_000;

    /// <summary>API keys of one tenant, revoked ones included. Default 10,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxKeys { get; set; } = 10_000;

    /// <summary>Resources one tenant directory records. Default 100,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxDirectoryEntries { get; set; } = 100_000;

    /// <summary>Characters in a tenant's display name. Default 200.</summary>
    [Range(1, int.MaxValue)]
    public int MaxDisplayNameLength { get; set; } = 200;

    /// <summary>Characters in an API key's description. Default 500.</summary>
    [Range(0, int.MaxValue)]
    public int MaxKeyDescriptionLength { get; set; } = 500;
}
