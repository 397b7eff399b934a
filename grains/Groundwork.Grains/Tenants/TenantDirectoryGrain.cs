using Groundwork.Access;
using Groundwork.Grains.Access;
using Groundwork.Lists;
using Groundwork.Tenants;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Tenants;

/// <summary>The stored state of a tenant directory.</summary>
[GenerateSerializer, Alias("gw.state.directory")]
public sealed class TenantDirectoryState
{
    [Id(0)] public Dictionary<string, ResourceSummary> Entries { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The resources of one tenant. Entries come from the resources themselves (never from the caller's word), and each
/// caller sees only the resources it may read.
/// </summary>
public sealed class TenantDirectoryGrain(
    [PersistentState(StorageNames.Directory, StorageNames.Provider)] IPersistentState<TenantDirectoryState> state,
    IOptions<TenantOptions> options)
    : TenantScopedGrain, ITenantDirectoryGrain
{
    private readonly int _maxEntries = options.Value.MaxDirectoryEntries;

    /// <inheritdoc/>
    public async Task RegisterAsync(string key)
    {
        var resourceKey = ResourceKey.Parse(key);
        if (resourceKey.Tenant != Tenant)
        {
            throw new InvalidRequestException(nameof(key), $"'{key}' is not a resource of tenant '{Tenant}'");
        }

        IDirectoryResource resource = resourceKey.Kind switch
        {
            ResourceKinds.List => GrainFactory.GetList(resourceKey),
            _ => throw new InvalidRequestException(nameof(key), $"'{resourceKey.Kind}' resources are not listed"),
        };
        var summary = await resource.GetSummaryAsync();
        var entries = state.State.Entries;
        if (entries.TryGetValue(key, out var existing) && SameAs(existing, summary))
        {
            return;
        }

        if (existing is null && entries.Count >= _maxEntries)
        {
            throw new LimitExceededException("Tenants:MaxDirectoryEntries", _maxEntries, entries.Count + 1);
        }

        entries[key] = summary;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
    }

    private static bool SameAs(ResourceSummary a, ResourceSummary b) =>
        a.Entry == b.Entry && a.Access.Owner == b.Access.Owner && a.Access.TenantReadable == b.Access.TenantReadable &&
        a.Access.Editors.SequenceEqual(b.Access.Editors) && a.Access.Viewers.SequenceEqual(b.Access.Viewers);

    /// <inheritdoc/>
    public Task<IReadOnlyList<ResourceEntry>> ListAsync(string? kind = null)
    {
        var caller = CallerContext.Current;
        IReadOnlyList<ResourceEntry> result = state.State.Entries.Values
            .Where(e => kind is null || e.Entry.Kind == kind)
            .Where(e => caller is null || AccessPolicy.Check(caller, Requirement.Read, Tenant!, e.Access) is null)
            .Select(e => e.Entry)
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(result);
    }
}
