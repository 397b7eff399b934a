using Orleans.Concurrency;
using Groundwork.Access;

namespace Groundwork.Tenants;

/// <summary>The resources of one tenant (its lists and channels). Keyed by the tenant id.</summary>
[Alias("gw.directory"), TenantScoped]
public interface ITenantDirectoryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records the resource at <paramref name="key"/>, or refreshes its entry. The directory reads the entry from the
    /// resource itself (with the caller's credential), so an entry can never say more than the resource does.
    /// Resources call this after they are created, renamed or have their access changed.
    /// </summary>
    /// <remarks>Registrations interleave, so many arriving together are written in one commit.</remarks>
    /// <exception cref="NotFoundException">The resource does not exist.</exception>
    [Alias("register"), Requires(Requirement.Write), AlwaysInterleave, DotNetOnly("resources register themselves")]
    Task RegisterAsync(string key);

    /// <summary>
    /// Holds a place for the resource at <paramref name="key"/> while it is created (for a minute, until it registers),
    /// if the tenant has fewer than <paramref name="maxOfKind"/> resources of its kind, counting places held.
    /// Resources call this before they are created.
    /// </summary>
    /// <exception cref="LimitExceededException">The tenant has as many of the kind as allowed (<c>{Block}:MaxPerTenant</c>), or the directory is full.</exception>
    [Alias("reserve"), Requires(Requirement.Write), DotNetOnly("resources reserve their place themselves")]
    Task ReserveAsync(string key, int maxOfKind);

    /// <summary>The tenant's resources that the caller may read, optionally of one kind, ordered by key.</summary>
    [Alias("list"), Requires(Requirement.Read), Safe]
    Task<IReadOnlyList<ResourceEntry>> ListAsync(string? kind = null);
}

/// <summary>A resource that can describe itself to its tenant's directory.</summary>
[Alias("gw.directory-resource")]
public interface IDirectoryResource : IGrainWithStringKey
{
    /// <summary>The resource's directory entry and its access list.</summary>
    /// <exception cref="NotFoundException">The resource has not been created.</exception>
    [Alias("summary"), Requires(Requirement.Read), Safe]
    Task<ResourceSummary> GetSummaryAsync();
}

/// <summary>What a resource tells its directory: its entry and who may read it.</summary>
[GenerateSerializer, Immutable, Alias("gw.resource-summary")]
public sealed record ResourceSummary(
    [property: Id(0)] ResourceEntry Entry,
    [property: Id(1)] AccessList Access);

/// <summary>One resource in a tenant directory.</summary>
[GenerateSerializer, Immutable, Alias("gw.resource-entry")]
public sealed record ResourceEntry(
    [property: Id(0)] string Key,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Title,
    [property: Id(3)] string CreatedBy,
    [property: Id(4)] DateTimeOffset CreatedAt);
