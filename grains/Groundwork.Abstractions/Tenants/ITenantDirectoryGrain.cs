using Groundwork.Access;

namespace Groundwork.Tenants;

/// <summary>The resources of one tenant (its lists, and later its channels and sheets). Keyed by the tenant id.</summary>
[Alias("gw.directory")]
public interface ITenantDirectoryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records a resource, or updates its title; called by the resource when it is created or renamed.
    /// Repeating it changes nothing.
    /// </summary>
    [Alias("register"), Requires(Requirement.Write)]
    Task RegisterAsync(ResourceEntry entry);

    /// <summary>The tenant's resources, optionally of one kind, ordered by key.</summary>
    [Alias("list"), Requires(Requirement.Read)]
    Task<IReadOnlyList<ResourceEntry>> ListAsync(string? kind = null);
}

/// <summary>One resource in a tenant directory.</summary>
[GenerateSerializer, Immutable, Alias("gw.resource-entry")]
public sealed record ResourceEntry(
    [property: Id(0)] string Key,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Title,
    [property: Id(3)] string CreatedBy,
    [property: Id(4)] DateTimeOffset CreatedAt);
